//! Resolving what to collect from: a PID, a container (through its runtime's inspect), or a pod
//! (through kubectl, then the container runtime on this node).

use crate::command::{CommandOutput, CommandRecord, Runner, argv};
use crate::error::CollectError;
use crate::procs::ProcRoot;
use forensic_proc::inspect::{self, ContainerRecord};
use std::time::Duration;

/// Longest runtime or kubectl JSON output parsed.
const MAX_JSON: u64 = 16 << 20;
/// Time allowed for an inspect or kubectl query.
const QUERY_TIMEOUT: Duration = Duration::from_secs(60);

/// A container runtime client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// `podman`.
    Podman,
    /// `docker`.
    Docker,
    /// `crictl` (containerd, CRI-O).
    Crictl,
}

impl Runtime {
    /// Runtimes tried, in order, when none is named: a Kubernetes node's CRI first.
    pub const DETECT_ORDER: [Runtime; 3] = [Runtime::Crictl, Runtime::Podman, Runtime::Docker];

    /// The client program.
    pub fn program(self) -> &'static str {
        match self {
            Runtime::Podman => "podman",
            Runtime::Docker => "docker",
            Runtime::Crictl => "crictl",
        }
    }

    /// The runtime named `s` (`podman`, `docker`, `crictl`).
    pub fn from_name(s: &str) -> Option<Runtime> {
        [Runtime::Podman, Runtime::Docker, Runtime::Crictl]
            .into_iter()
            .find(|r| r.program() == s)
    }

    /// The inspect command line for container `id`.
    pub fn inspect_argv(self, id: &str) -> Vec<String> {
        match self {
            Runtime::Podman => argv(&["podman", "inspect", "--type", "container", id]),
            Runtime::Docker => argv(&["docker", "inspect", "--type", "container", id]),
            Runtime::Crictl => argv(&["crictl", "inspect", "-o", "json", id]),
        }
    }

    /// The logs command line for container `id`.
    pub fn logs_argv(self, id: &str) -> Vec<String> {
        match self {
            Runtime::Podman => argv(&["podman", "logs", "--timestamps", id]),
            Runtime::Docker => argv(&["docker", "logs", "--timestamps", id]),
            Runtime::Crictl => argv(&["crictl", "logs", "--timestamps", id]),
        }
    }

    /// The image inspect command line for `image`.
    pub fn image_inspect_argv(self, image: &str) -> Vec<String> {
        match self {
            Runtime::Podman => argv(&["podman", "image", "inspect", image]),
            Runtime::Docker => argv(&["docker", "image", "inspect", image]),
            Runtime::Crictl => argv(&["crictl", "inspecti", "-o", "json", image]),
        }
    }

    fn parse(self, json: &str) -> Result<ContainerRecord, String> {
        let r = match self {
            Runtime::Podman => inspect::from_podman(json),
            Runtime::Docker => inspect::from_docker(json),
            Runtime::Crictl => inspect::from_crictl(json),
        };
        r.map_err(|e| e.to_string())
    }
}

/// What to collect from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    /// Any process: its namespaces and root are "the container".
    Pid(u32),
    /// A container by id or name.
    Container {
        /// Id or name.
        id: String,
        /// Runtime, or detect.
        runtime: Option<Runtime>,
    },
    /// A Kubernetes pod (and optionally one of its containers).
    Pod {
        /// Pod name.
        name: String,
        /// Namespace.
        namespace: String,
        /// Container name within the pod.
        container: Option<String>,
        /// Runtime, or derive from the container id's scheme.
        runtime: Option<Runtime>,
    },
}

/// A resolved target.
#[derive(Debug)]
pub struct Resolved {
    /// Host PID of the target's main process.
    pub pid: u32,
    /// The runtime that knew the container.
    pub runtime: Option<Runtime>,
    /// The normalized container record.
    pub record: Option<ContainerRecord>,
    /// The runtime's inspect output, verbatim.
    pub inspect: Option<CommandOutput>,
    /// `kubectl get pod -o json`, verbatim, for a pod target.
    pub pod_json: Option<CommandOutput>,
    /// Pod name and namespace, when known.
    pub pod: Option<(String, String)>,
    /// Every command run to resolve the target, failed attempts included.
    pub commands: Vec<CommandRecord>,
}

/// Resolves `spec` on this node (`this_node` is compared with a pod's node).
///
/// # Errors
/// [`CollectError`] when the target does not exist, is not running, is on another node, or no
/// runtime knows it.
pub fn resolve(
    spec: &TargetSpec,
    runner: &dyn Runner,
    proc: &ProcRoot,
    this_node: &str,
) -> Result<Resolved, CollectError> {
    match spec {
        TargetSpec::Pid(pid) => {
            if !proc.exists(*pid) {
                return Err(CollectError::Target(format!(
                    "no process {pid} (looked in {})",
                    proc.0.display()
                )));
            }
            Ok(Resolved {
                pid: *pid,
                runtime: None,
                record: None,
                inspect: None,
                pod_json: None,
                pod: None,
                commands: Vec::new(),
            })
        }
        TargetSpec::Container { id, runtime } => resolve_container(id, *runtime, runner, proc, Vec::new()),
        TargetSpec::Pod {
            name,
            namespace,
            container,
            runtime,
        } => resolve_pod(name, namespace, container.as_deref(), *runtime, runner, proc, this_node),
    }
}

fn resolve_container(
    id: &str,
    runtime: Option<Runtime>,
    runner: &dyn Runner,
    proc: &ProcRoot,
    mut commands: Vec<CommandRecord>,
) -> Result<Resolved, CollectError> {
    let candidates: Vec<Runtime> = match runtime {
        Some(r) => vec![r],
        None => Runtime::DETECT_ORDER
            .into_iter()
            .filter(|r| runner.available(r.program()))
            .collect(),
    };
    if candidates.is_empty() {
        let names: Vec<&str> = Runtime::DETECT_ORDER.iter().map(|r| r.program()).collect();
        return Err(CollectError::NoRuntime(names.join(", ")));
    }
    let mut tried = Vec::new();
    for rt in candidates {
        let mut out = runner
            .run(&rt.inspect_argv(id), QUERY_TIMEOUT)
            .map_err(|source| CollectError::Io {
                what: "running the runtime's inspect".into(),
                source,
            })?;
        commands.push(out.record.clone());
        if !out.record.succeeded() {
            let why = out
                .record
                .error
                .clone()
                .unwrap_or_else(|| out.stderr_text(2000).trim().to_string());
            tried.push(format!("{}: {why}", out.record.argv.join(" ")));
            continue;
        }
        let json = match out.stdout_text(MAX_JSON) {
            Ok(j) => j,
            Err(e) => {
                tried.push(format!("{}: {e}", out.record.argv.join(" ")));
                continue;
            }
        };
        let record = match rt.parse(&json) {
            Ok(r) => r,
            Err(e) => {
                tried.push(format!("{}: output not understood: {e}", out.record.argv.join(" ")));
                continue;
            }
        };
        let pid = match record.pid {
            Some(p) if p > 0 => p,
            _ => {
                return Err(CollectError::Target(format!(
                    "container {id} ({}) is not running (no PID): nothing live to collect",
                    rt.program()
                )));
            }
        };
        if !proc.exists(pid) {
            return Err(CollectError::Target(format!(
                "{} says container {id} has PID {pid}, but there is no such process here: is this its node, \
                 and does this process see the host PID namespace?",
                rt.program()
            )));
        }
        let pod = record.pod.clone().zip(record.namespace.clone());
        return Ok(Resolved {
            pid,
            runtime: Some(rt),
            record: Some(record),
            inspect: Some(out),
            pod_json: None,
            pod,
            commands,
        });
    }
    Err(CollectError::Target(format!(
        "no runtime knows container {id:?}:\n  {}",
        tried.join("\n  ")
    )))
}

fn resolve_pod(
    name: &str,
    namespace: &str,
    container: Option<&str>,
    runtime: Option<Runtime>,
    runner: &dyn Runner,
    proc: &ProcRoot,
    this_node: &str,
) -> Result<Resolved, CollectError> {
    let mut out = runner
        .run(
            &argv(&["kubectl", "get", "pod", name, "-n", namespace, "-o", "json"]),
            QUERY_TIMEOUT,
        )
        .map_err(|source| CollectError::Io {
            what: "running kubectl".into(),
            source,
        })?;
    let commands = vec![out.record.clone()];
    if !out.record.succeeded() {
        let why = out
            .record
            .error
            .clone()
            .unwrap_or_else(|| out.stderr_text(2000).trim().to_string());
        return Err(CollectError::Target(format!(
            "kubectl could not get pod {namespace}/{name}: {why}"
        )));
    }
    let json = out
        .stdout_text(MAX_JSON)
        .map_err(|e| CollectError::Target(format!("kubectl get pod output: {e}")))?;
    let pod: serde_json::Value = serde_json::from_str(&json)
        .map_err(|e| CollectError::Target(format!("kubectl get pod output is not JSON: {e}")))?;
    let node = pod
        .pointer("/spec/nodeName")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string();
    if !node.eq_ignore_ascii_case(this_node) {
        return Err(CollectError::WrongNode {
            pod: name.into(),
            namespace: namespace.into(),
            pod_node: node,
            this_node: this_node.into(),
        });
    }
    let (cname, cid) =
        pick_container(&pod, container).map_err(|e| CollectError::Target(format!("pod {namespace}/{name}: {e}")))?;
    let (scheme, id) = cid.split_once("://").unwrap_or(("", cid.as_str()));
    let rt = runtime.or(match scheme {
        "docker" => Some(Runtime::Docker),
        "containerd" | "cri-o" => Some(Runtime::Crictl),
        _ => None,
    });
    let mut resolved = resolve_container(id, rt, runner, proc, commands)
        .map_err(|e| CollectError::Target(format!("pod {namespace}/{name} container {cname}: {e}")))?;
    resolved.pod_json = Some(out);
    resolved.pod = Some((name.to_string(), namespace.to_string()));
    Ok(resolved)
}

/// Picks the container (name, id) from a pod's status.
fn pick_container(pod: &serde_json::Value, wanted: Option<&str>) -> Result<(String, String), String> {
    let statuses = pod
        .pointer("/status/containerStatuses")
        .and_then(|v| v.as_array())
        .cloned()
        .unwrap_or_default();
    let running: Vec<(String, String)> = statuses
        .iter()
        .filter_map(|s| {
            Some((
                s.get("name")?.as_str()?.to_string(),
                s.get("containerID")?.as_str()?.to_string(),
            ))
        })
        .collect();
    let names: Vec<&str> = running.iter().map(|(n, _)| n.as_str()).collect();
    match wanted {
        Some(w) => running
            .iter()
            .find(|(n, _)| n == w)
            .cloned()
            .ok_or_else(|| format!("no container {w:?} with an id (containers: {})", names.join(", "))),
        None if running.len() == 1 => running.first().cloned().ok_or_else(|| "no containers".to_string()),
        None if running.is_empty() => Err("no container has started (no container id yet)".to_string()),
        None => Err(format!(
            "several containers ({}): choose one with --container",
            names.join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::FakeRunner;

    const POD_JSON: &str = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"shop"},
      "spec":{"nodeName":"node-1","containers":[{"name":"app"},{"name":"sidecar"}]},
      "status":{"containerStatuses":[
        {"name":"app","containerID":"containerd://b1f06ea5c5d2bd0c4b4c65b28c1f3e3a3ea6e29c9f1c7c4b32bcd7f57cb18129"},
        {"name":"sidecar","containerID":"containerd://aaaa"}]}}"#;

    #[test]
    fn a_pod_on_another_node_is_refused_with_both_names() {
        let mut r = FakeRunner::default();
        r.answer(
            &["kubectl", "get", "pod", "web", "-n", "shop", "-o", "json"],
            0,
            POD_JSON.as_bytes(),
            b"",
        );
        let spec = TargetSpec::Pod {
            name: "web".into(),
            namespace: "shop".into(),
            container: None,
            runtime: None,
        };
        let e = resolve(&spec, &r, &ProcRoot::default(), "node-2").unwrap_err();
        assert_eq!(
            e.to_string(),
            "pod shop/web runs on node \"node-1\", but this is node \"node-2\": run forensic collect on \"node-1\""
        );
    }

    #[test]
    fn a_pod_resolves_through_crictl_with_the_recorded_command_lines() {
        // The crictl output is a real capture (shared/samples); its PID (2092) does not exist here,
        // which the resolver must say rather than collect from an unrelated process.
        let mut r = FakeRunner::default();
        r.answer(
            &["kubectl", "get", "pod", "web", "-n", "shop", "-o", "json"],
            0,
            POD_JSON.as_bytes(),
            b"",
        );
        let id = "b1f06ea5c5d2bd0c4b4c65b28c1f3e3a3ea6e29c9f1c7c4b32bcd7f57cb18129";
        let inspect = forensic_samples::read_to_string("crictl-inspect/bpfman-operator-containerd-kind.json").unwrap();
        r.answer(&["crictl", "inspect", "-o", "json", id], 0, inspect.as_bytes(), b"");
        let spec = TargetSpec::Pod {
            name: "web".into(),
            namespace: "shop".into(),
            container: Some("app".into()),
            runtime: None,
        };
        let fake_proc = tempfile::tempdir().unwrap();
        let e = resolve(&spec, &r, &ProcRoot(fake_proc.path().into()), "node-1").unwrap_err();
        assert!(
            e.to_string()
                .contains("has PID 2092, but there is no such process here"),
            "{e}"
        );
        let asked = r.asked.borrow();
        assert_eq!(
            asked[0],
            argv(&["kubectl", "get", "pod", "web", "-n", "shop", "-o", "json"])
        );
        assert_eq!(asked[1], argv(&["crictl", "inspect", "-o", "json", id]));
        std::fs::create_dir(fake_proc.path().join("2092")).unwrap();
        drop(asked);
        let ok = resolve(&spec, &r, &ProcRoot(fake_proc.path().into()), "NODE-1").unwrap();
        assert_eq!(ok.pid, 2092);
        assert_eq!(ok.runtime, Some(Runtime::Crictl));
        assert_eq!(ok.pod, Some(("web".into(), "shop".into())));
        assert_eq!(ok.commands.len(), 2);
    }

    #[test]
    fn several_containers_need_a_choice() {
        let mut r = FakeRunner::default();
        r.answer(
            &["kubectl", "get", "pod", "web", "-n", "shop", "-o", "json"],
            0,
            POD_JSON.as_bytes(),
            b"",
        );
        let spec = TargetSpec::Pod {
            name: "web".into(),
            namespace: "shop".into(),
            container: None,
            runtime: None,
        };
        let e = resolve(&spec, &r, &ProcRoot::default(), "node-1").unwrap_err();
        assert!(
            e.to_string()
                .contains("several containers (app, sidecar): choose one with --container"),
            "{e}"
        );
    }

    #[test]
    fn no_runtime_installed_is_a_clear_error() {
        let r = FakeRunner::default();
        let spec = TargetSpec::Container {
            id: "abc".into(),
            runtime: None,
        };
        let e = resolve(&spec, &r, &ProcRoot::default(), "n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "no container runtime found (looked for crictl, podman, docker); name one with --runtime, or use --pid"
        );
    }
}
