//! Resolving what to collect from: a PID, a container (through its runtime's API or inspect
//! command), or a pod (through kubectl, or without it from the CRI labels containerd keeps).

use crate::command::{CommandOutput, CommandRecord, Runner, argv};
use crate::error::CollectError;
use crate::procs::ProcRoot;
use forensic_evidence::records::api::ApiCall;
use forensic_evidence::records::containerd::{ContainerdInspect, PodContainers};
use forensic_proc::inspect::{self, ContainerRecord};
use forensic_runtime::CallLog;
use forensic_runtime::{containerd, cri, docker};
use std::time::Duration;

/// Longest runtime or kubectl JSON output parsed.
const MAX_JSON: u64 = 16 << 20;
/// Time allowed for an inspect or kubectl query.
const QUERY_TIMEOUT: Duration = Duration::from_secs(60);

/// A container runtime: its own API (containerd, Docker Engine) or a client program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// containerd's gRPC API on its socket.
    Containerd,
    /// The Docker Engine API on its socket (`DOCKER_HOST`).
    Docker,
    /// `crictl` (containerd, CRI-O).
    Crictl,
    /// `podman`.
    Podman,
    /// The `docker` program (for an Engine this process cannot reach on a local socket).
    DockerCli,
}

impl Runtime {
    /// Client programs tried, in order, when no runtime is named and no API socket answers.
    pub const DETECT_ORDER: [Runtime; 3] = [Runtime::Crictl, Runtime::Podman, Runtime::DockerCli];

    /// The name given with `--runtime` (`containerd`, `docker`, `crictl`, `podman`,
    /// `docker-cli`).
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Containerd => "containerd",
            Runtime::Docker => "docker",
            Runtime::Crictl => "crictl",
            Runtime::Podman => "podman",
            Runtime::DockerCli => "docker-cli",
        }
    }

    /// The client program (`None` for an API).
    pub fn program(self) -> Option<&'static str> {
        match self {
            Runtime::Podman => Some("podman"),
            Runtime::DockerCli => Some("docker"),
            Runtime::Crictl => Some("crictl"),
            Runtime::Containerd | Runtime::Docker => None,
        }
    }

    /// The runtime named `s` (see [`Runtime::name`]).
    pub fn from_name(s: &str) -> Option<Runtime> {
        [
            Runtime::Containerd,
            Runtime::Docker,
            Runtime::Crictl,
            Runtime::Podman,
            Runtime::DockerCli,
        ]
        .into_iter()
        .find(|r| r.name() == s)
    }

    /// The inspect command line for container `id` (`None` for an API).
    pub fn inspect_argv(self, id: &str) -> Option<Vec<String>> {
        Some(match self {
            Runtime::Podman => argv(&["podman", "inspect", "--type", "container", id]),
            Runtime::DockerCli => argv(&["docker", "inspect", "--type", "container", id]),
            Runtime::Crictl => argv(&["crictl", "inspect", "-o", "json", id]),
            Runtime::Containerd | Runtime::Docker => return None,
        })
    }

    /// The logs command line for container `id` (`None` for an API).
    pub fn logs_argv(self, id: &str) -> Option<Vec<String>> {
        Some(match self {
            Runtime::Podman => argv(&["podman", "logs", "--timestamps", id]),
            Runtime::DockerCli => argv(&["docker", "logs", "--timestamps", id]),
            Runtime::Crictl => argv(&["crictl", "logs", "--timestamps", id]),
            Runtime::Containerd | Runtime::Docker => return None,
        })
    }

    /// The image inspect command line for `image` (`None` for an API).
    pub fn image_inspect_argv(self, image: &str) -> Option<Vec<String>> {
        Some(match self {
            Runtime::Podman => argv(&["podman", "image", "inspect", image]),
            Runtime::DockerCli => argv(&["docker", "image", "inspect", image]),
            Runtime::Crictl => argv(&["crictl", "inspecti", "-o", "json", image]),
            Runtime::Containerd | Runtime::Docker => return None,
        })
    }

    fn parse(self, json: &str) -> Result<ContainerRecord, String> {
        let r = match self {
            Runtime::Podman => inspect::from_podman(json),
            Runtime::Docker | Runtime::DockerCli => inspect::from_docker(json),
            Runtime::Crictl => inspect::from_crictl(json),
            Runtime::Containerd => inspect::from_containerd(json),
        };
        r.map_err(|e| e.to_string())
    }
}

/// The runtime APIs this collection may use. [`Apis::none`] uses none (only client programs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Apis {
    /// containerd's socket and namespace.
    pub containerd: Option<containerd::Endpoint>,
    /// The Docker Engine's socket (`Err`: `DOCKER_HOST` names no local socket, said when asked).
    pub docker: Option<Result<docker::Host, String>>,
}

impl Apis {
    /// No API: only client programs.
    pub fn none() -> Apis {
        Apis::default()
    }

    /// containerd at `endpoint`, and Docker at `DOCKER_HOST` or its default socket.
    pub fn with(endpoint: containerd::Endpoint) -> Apis {
        Apis {
            containerd: Some(endpoint),
            docker: Some(docker::Host::from_env().map_err(|e| e.to_string())),
        }
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
    /// A container found on a node's disk (`--offline-root`): collected from the files alone.
    Offline(crate::offline::OfflineTarget),
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
    /// The runtime's inspect output, verbatim (a client program's).
    pub inspect: Option<CommandOutput>,
    /// The API's inspect answer: containerd's [`ContainerdInspect`] document, or the Docker
    /// Engine's answer as bollard re-serialises it; with the words of its `source`.
    pub api_inspect: Option<(Vec<u8>, String)>,
    /// containerd's inspect document, for the sections that read it (image, logs).
    pub containerd: Option<ContainerdInspect>,
    /// The API the target was found through, for the sections' further calls.
    pub apis: Apis,
    /// A pod's containers resolved from the CRI identity (no kubectl).
    pub pod_containers: Option<PodContainers>,
    /// containerd's document of the previous instance of the container, when there is one.
    pub previous: Option<ContainerdInspect>,
    /// Every API call made to resolve the target, failed ones included.
    pub api_calls: Vec<ApiCall>,
    /// `kubectl get pod -o json`, verbatim, for a pod target.
    pub pod_json: Option<CommandOutput>,
    /// Pod name and namespace, when known.
    pub pod: Option<(String, String)>,
    /// The pod's UID, when known (names the kubelet's log directory).
    pub pod_uid: Option<String>,
    /// Every command run to resolve the target, failed attempts included.
    pub commands: Vec<CommandRecord>,
    /// A container on a node's disk: the offline sections collect it.
    pub offline: Option<Box<crate::offline::Offline>>,
}

impl Resolved {
    pub(crate) fn empty(pid: u32) -> Resolved {
        Resolved {
            pid,
            runtime: None,
            record: None,
            inspect: None,
            api_inspect: None,
            containerd: None,
            apis: Apis::none(),
            pod_containers: None,
            previous: None,
            api_calls: Vec::new(),
            pod_json: None,
            pod: None,
            pod_uid: None,
            commands: Vec::new(),
            offline: None,
        }
    }
}

/// Resolves `spec` on this node (`this_node` is compared with a pod's node) with client programs
/// only ([`Apis::none`]); see [`resolve_with`].
///
/// # Errors
/// As [`resolve_with`].
pub fn resolve(
    spec: &TargetSpec,
    runner: &dyn Runner,
    proc: &ProcRoot,
    this_node: &str,
) -> Result<Resolved, CollectError> {
    let clock = forensic_disk::Clock::new()?;
    resolve_with(spec, &Apis::none(), &clock, runner, proc, this_node)
}

/// Resolves `spec` on this node through the runtime APIs in `apis` (tried first, when their
/// socket answers) and the client programs; API calls are stamped with `clock`.
///
/// A pod is resolved with kubectl when it is installed and reaches a cluster; otherwise from the
/// CRI identity of containerd's containers (every container of the pod, sandboxes excluded; the
/// running instance with the highest attempt; its previous instance).
///
/// # Errors
/// [`CollectError`] when the target does not exist, is not running, is on another node, or no
/// runtime knows it.
pub fn resolve_with(
    spec: &TargetSpec,
    apis: &Apis,
    clock: &forensic_disk::Clock,
    runner: &dyn Runner,
    proc: &ProcRoot,
    this_node: &str,
) -> Result<Resolved, CollectError> {
    let now = || clock.now();
    let mut r = Resolver {
        apis,
        runner,
        proc,
        log: CallLog::new(&now),
        commands: Vec::new(),
    };
    let result = match spec {
        TargetSpec::Pid(pid) => {
            if !proc.exists(*pid) {
                return Err(CollectError::Target(format!(
                    "no process {pid} (looked in {})",
                    proc.0.display()
                )));
            }
            Ok(Resolved::empty(*pid))
        }
        TargetSpec::Container { id, runtime } => r.container(id, *runtime),
        TargetSpec::Pod {
            name,
            namespace,
            container,
            runtime,
        } => r.pod(name, namespace, container.as_deref(), *runtime, this_node),
        TargetSpec::Offline(t) => Ok(crate::offline::resolve(t)),
    };
    let mut resolved = result?;
    resolved.commands = std::mem::take(&mut r.commands);
    resolved.api_calls = r.log.take();
    resolved.apis = apis.clone();
    Ok(resolved)
}

/// A container found by one runtime.
struct Found {
    record: ContainerRecord,
    inspect: Option<CommandOutput>,
    api_inspect: Option<(Vec<u8>, String)>,
    containerd: Option<ContainerdInspect>,
}

struct Resolver<'a, 'c> {
    apis: &'a Apis,
    runner: &'a dyn Runner,
    proc: &'a ProcRoot,
    log: CallLog<'c>,
    commands: Vec<CommandRecord>,
}

impl Resolver<'_, '_> {
    fn endpoint(&self) -> containerd::Endpoint {
        self.apis.containerd.clone().unwrap_or_default()
    }

    fn docker_host(&self) -> Result<docker::Host, String> {
        match &self.apis.docker {
            Some(h) => h.clone(),
            None => docker::Host::from_env().map_err(|e| e.to_string()),
        }
    }

    /// Whether containerd's socket (in `apis`) answers.
    fn containerd_answers(&mut self) -> bool {
        match &self.apis.containerd {
            Some(ep) if ep.socket.exists() => ep.version(&mut self.log).is_ok(),
            _ => false,
        }
    }

    /// Whether the Docker Engine's socket (in `apis`) answers.
    fn docker_answers(&mut self) -> bool {
        match &self.apis.docker {
            Some(Ok(h)) => h.ping(&mut self.log).is_ok(),
            _ => false,
        }
    }

    /// The runtimes to try when none is named: an answering API socket first, then the client
    /// programs installed.
    fn detect(&mut self) -> Result<Vec<Runtime>, CollectError> {
        let mut found = Vec::new();
        if self.containerd_answers() {
            found.push(Runtime::Containerd);
        }
        if self.docker_answers() {
            found.push(Runtime::Docker);
        }
        found.extend(
            Runtime::DETECT_ORDER
                .into_iter()
                .filter(|r| r.program().is_some_and(|p| self.runner.available(p))),
        );
        if found.is_empty() {
            let mut looked = Vec::new();
            if let Some(ep) = &self.apis.containerd {
                looked.push(format!("containerd at {}", ep.socket.display()));
            }
            match &self.apis.docker {
                Some(Ok(h)) => looked.push(format!("the Docker Engine at {}", h.socket.display())),
                Some(Err(e)) => looked.push(format!("the Docker Engine ({e})")),
                None => {}
            }
            looked.extend(
                Runtime::DETECT_ORDER
                    .iter()
                    .filter_map(|r| r.program())
                    .map(str::to_string),
            );
            return Err(CollectError::NoRuntime(looked.join(", ")));
        }
        Ok(found)
    }

    /// Asks `rt` about container `id`.
    fn inspect(&mut self, rt: Runtime, id: &str) -> Result<Result<Found, String>, CollectError> {
        match rt {
            Runtime::Containerd => {
                let ep = self.endpoint();
                let doc = match ep.inspect(&mut self.log, id) {
                    Ok(d) => d,
                    Err(e) => return Ok(Err(e.to_string())),
                };
                let bytes = serde_json::to_vec_pretty(&doc).map_err(|e| CollectError::Target(e.to_string()))?;
                let text = String::from_utf8_lossy(&bytes);
                Ok(rt
                    .parse(&text)
                    .map(|record| Found {
                        record,
                        inspect: None,
                        api_inspect: Some((
                            bytes.clone(),
                            format!(
                                "containerd API at {} (namespace {}): Containers.Get, Tasks.Get, Snapshots.Mounts and \
                                 Images.Get of container {id} (CONTENTS.md §14)",
                                ep.socket.display(),
                                ep.namespace
                            ),
                        )),
                        containerd: Some(doc),
                    })
                    .map_err(|e| format!("containerd API at {}: answer not understood: {e}", ep.socket.display())))
            }
            Runtime::Docker => {
                let host = match self.docker_host() {
                    Ok(h) => h,
                    Err(e) => return Ok(Err(e)),
                };
                let bytes = match host.inspect_container(&mut self.log, id) {
                    Ok(b) => b,
                    Err(e) => return Ok(Err(e.to_string())),
                };
                let text = String::from_utf8_lossy(&bytes).into_owned();
                Ok(rt
                    .parse(&text)
                    .map(|record| Found {
                        record,
                        inspect: None,
                        api_inspect: Some((
                            bytes,
                            format!(
                                "Docker Engine API at {}: GET /containers/{id}/json, as bollard's model re-serialises it \
                                 (CONTENTS.md §14)",
                                host.socket.display()
                            ),
                        )),
                        containerd: None,
                    })
                    .map_err(|e| format!("Docker Engine API at {}: answer not understood: {e}", host.socket.display())))
            }
            Runtime::Crictl | Runtime::Podman | Runtime::DockerCli => {
                let argv = rt.inspect_argv(id).unwrap_or_default();
                let mut out = self
                    .runner
                    .run(&argv, QUERY_TIMEOUT)
                    .map_err(|source| CollectError::Io {
                        what: "running the runtime's inspect".into(),
                        source,
                    })?;
                self.commands.push(out.record.clone());
                let line = out.record.argv.join(" ");
                if !out.record.succeeded() {
                    let why = out
                        .record
                        .error
                        .clone()
                        .unwrap_or_else(|| out.stderr_text(2000).trim().to_string());
                    return Ok(Err(format!("{line}: {why}")));
                }
                let json = match out.stdout_text(MAX_JSON) {
                    Ok(j) => j,
                    Err(e) => return Ok(Err(format!("{line}: {e}"))),
                };
                Ok(match rt.parse(&json) {
                    Ok(record) => Ok(Found {
                        record,
                        inspect: Some(out),
                        api_inspect: None,
                        containerd: None,
                    }),
                    Err(e) => Err(format!("{line}: output not understood: {e}")),
                })
            }
        }
    }

    fn container(&mut self, id: &str, runtime: Option<Runtime>) -> Result<Resolved, CollectError> {
        let candidates = match runtime {
            Some(r) => vec![r],
            None => self.detect()?,
        };
        let mut tried = Vec::new();
        for rt in candidates {
            let found = match self.inspect(rt, id)? {
                Ok(f) => f,
                Err(why) => {
                    tried.push(why);
                    continue;
                }
            };
            let record = found.record;
            let pid = match record.pid {
                Some(p) if p > 0 => p,
                _ => {
                    return Err(CollectError::Target(format!(
                        "container {id} ({}) is not running (no PID): nothing live to collect",
                        rt.name()
                    )));
                }
            };
            if !self.proc.exists(pid) {
                return Err(CollectError::Target(format!(
                    "{} says container {id} has PID {pid}, but there is no such process here: is this its node, \
                     and does this process see the host PID namespace?",
                    rt.name()
                )));
            }
            let mut resolved = Resolved::empty(pid);
            resolved.runtime = Some(rt);
            resolved.pod = record.pod.clone().zip(record.namespace.clone());
            resolved.pod_uid = record.pod_uid.clone();
            resolved.record = Some(record);
            resolved.inspect = found.inspect;
            resolved.api_inspect = found.api_inspect;
            resolved.containerd = found.containerd;
            return Ok(resolved);
        }
        Err(CollectError::Target(format!(
            "no runtime knows container {id:?}:\n  {}",
            tried.join("\n  ")
        )))
    }

    fn pod(
        &mut self,
        name: &str,
        namespace: &str,
        container: Option<&str>,
        runtime: Option<Runtime>,
        this_node: &str,
    ) -> Result<Resolved, CollectError> {
        let kubectl_failed = if self.runner.available("kubectl") {
            match self.pod_by_kubectl(name, namespace, container, runtime, this_node)? {
                Ok(resolved) => return Ok(resolved),
                Err(why) => why,
            }
        } else {
            "kubectl is not installed here".to_string()
        };
        let use_containerd = match runtime {
            Some(Runtime::Containerd) => true,
            Some(_) => false,
            None => self.apis.containerd.is_some(),
        };
        if !use_containerd {
            return Err(CollectError::Target(format!(
                "kubectl could not get pod {namespace}/{name}: {kubectl_failed}; without kubectl a pod is resolved \
                 from containerd's CRI labels (--runtime containerd, --containerd-socket)"
            )));
        }
        self.pod_by_cri(name, namespace, container)
            .map_err(|e| CollectError::Target(format!("{e} (kubectl: {kubectl_failed})")))
    }

    /// The pod through kubectl: `Ok(Err(why))` when kubectl cannot get it (no cluster reached).
    fn pod_by_kubectl(
        &mut self,
        name: &str,
        namespace: &str,
        container: Option<&str>,
        runtime: Option<Runtime>,
        this_node: &str,
    ) -> Result<Result<Resolved, String>, CollectError> {
        let mut out = self
            .runner
            .run(
                &argv(&["kubectl", "get", "pod", name, "-n", namespace, "-o", "json"]),
                QUERY_TIMEOUT,
            )
            .map_err(|source| CollectError::Io {
                what: "running kubectl".into(),
                source,
            })?;
        self.commands.push(out.record.clone());
        if !out.record.succeeded() {
            return Ok(Err(out
                .record
                .error
                .clone()
                .unwrap_or_else(|| out.stderr_text(2000).trim().to_string())));
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
        let (cname, cid) = pick_container(&pod, container)
            .map_err(|e| CollectError::Target(format!("pod {namespace}/{name}: {e}")))?;
        let (scheme, id) = cid.split_once("://").unwrap_or(("", cid.as_str()));
        let rt = match runtime {
            Some(r) => Some(r),
            None => match scheme {
                "docker" if self.docker_answers() => Some(Runtime::Docker),
                "docker" => Some(Runtime::DockerCli),
                "containerd" if self.containerd_answers() => Some(Runtime::Containerd),
                "containerd" | "cri-o" => Some(Runtime::Crictl),
                _ => None,
            },
        };
        let mut resolved = self
            .container(id, rt)
            .map_err(|e| CollectError::Target(format!("pod {namespace}/{name} container {cname}: {e}")))?;
        resolved.pod_uid = resolved.pod_uid.clone().or_else(|| {
            pod.pointer("/metadata/uid")
                .and_then(|v| v.as_str())
                .map(str::to_string)
        });
        resolved.pod_json = Some(out);
        resolved.pod = Some((name.to_string(), namespace.to_string()));
        Ok(Ok(resolved))
    }

    /// The pod from containerd's containers' CRI identity.
    fn pod_by_cri(&mut self, name: &str, namespace: &str, container: Option<&str>) -> Result<Resolved, String> {
        let ep = self.endpoint();
        let candidates = ep.candidates(&mut self.log).map_err(|e| e.to_string())?;
        let pod = cri::resolve_pod(&candidates, name, namespace, container).map_err(|e| e.to_string())?;
        let mut resolved = self
            .container(&pod.chosen, Some(Runtime::Containerd))
            .map_err(|e| format!("pod {namespace}/{name}: {e}"))?;
        if let Some(prev) = &pod.previous {
            resolved.previous = ep.inspect(&mut self.log, prev).ok();
        }
        resolved.pod = Some((name.to_string(), namespace.to_string()));
        resolved.pod_uid = resolved.pod_uid.clone().or_else(|| pod.pod_uid.clone());
        resolved.pod_containers = Some(pod);
        Ok(resolved)
    }
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
    fn without_kubectl_or_a_cluster_a_pod_needs_containerd() {
        let spec = TargetSpec::Pod {
            name: "web".into(),
            namespace: "shop".into(),
            container: None,
            runtime: None,
        };
        let e = resolve(&spec, &FakeRunner::default(), &ProcRoot::default(), "node-1").unwrap_err();
        assert_eq!(
            e.to_string(),
            "kubectl could not get pod shop/web: kubectl is not installed here; without kubectl a pod is resolved \
             from containerd's CRI labels (--runtime containerd, --containerd-socket)"
        );
        // kubectl is there but reaches no cluster; containerd's socket does not answer either.
        let mut r = FakeRunner::default();
        let refused =
            b"The connection to the server localhost:8080 was refused - did you specify the right host or port?\n";
        r.answer(
            &["kubectl", "get", "pod", "web", "-n", "shop", "-o", "json"],
            1,
            b"",
            refused,
        );
        let apis = Apis {
            containerd: Some(forensic_runtime::containerd::Endpoint {
                socket: "/nonexistent/containerd.sock".into(),
                namespace: "k8s.io".into(),
            }),
            docker: None,
        };
        let clock = forensic_disk::Clock::new().unwrap();
        let e = resolve_with(&spec, &apis, &clock, &r, &ProcRoot::default(), "node-1").unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("containerd API at /nonexistent/containerd.sock: cannot connect: "),
            "{text}"
        );
        assert!(
            text.ends_with(
                "(kubectl: The connection to the server localhost:8080 was refused - did you specify the right host or port?)"
            ),
            "{text}"
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
