//! The manifests: one collection Job per node, and the deny-all NetworkPolicy of `--isolate`.
//!
//! A Job runs its steps in order, each an init container except the last (the pod's one
//! container), so a step runs only when every step before it succeeded:
//!
//! 1. `collect-K` for each target K: `forensic collect --pod P -n NS --container C` (or, for a
//!    target given by its host PID, `forensic collect --pid PID`) into the node directory mounted
//!    at `/evidence`, privileged, with the host's `/run` (runtime sockets), the runtime state
//!    directories and `/var/log` mounted read-only;
//! 2. `verify-K` (to a node directory) or `archive-K` (to S3: `forensic archive put`, which
//!    verifies first) for each target K, unprivileged, without the host paths.
//!
//! With S3 the bundle is first written to a node directory (the spool), so a failed upload
//! leaves the sealed bundle on the node instead of losing it with the pod.

use crate::K8sError;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The label every object made here carries (`app.kubernetes.io/name`).
pub const APP: &str = "forensic-collector";
/// Where the signing key's Secret is mounted in the Job's pod.
pub const KEY_DIR: &str = "/keys";
/// The key of the signing key (PKCS#8 PEM, as `forensic keygen` writes it) in its Secret.
pub const KEY_ITEM: &str = "signing.key";
/// The key of the signing key's passphrase in the same Secret, when the key is encrypted
/// ([`JobSpec::key_passphrase`]): read by the steps with `--passphrase-file`.
pub const KEY_PASSPHRASE_ITEM: &str = "passphrase";
/// Where the output (or spool) directory of the node is mounted in the Job's pod.
pub const EVIDENCE_DIR: &str = "/evidence";

/// One container to collect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The pod's namespace.
    pub namespace: String,
    /// The pod.
    pub pod: String,
    /// The container within it.
    pub container: String,
    /// The host PID of a process of the container, when the responder knows it (from `crictl
    /// inspect`, a runtime-security alert, …): the collect step then runs `forensic collect --pid
    /// PID`, which asks no runtime (for nodes whose runtime the collector image cannot ask, such
    /// as CRI-O or podman; the bundle then has no runtime record, container log or image record).
    /// `None`: the node's runtime resolves the pod's container (containerd's CRI labels).
    pub pid: Option<u32>,
}

/// Where the bundles go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A directory on the node (created if absent).
    NodePath {
        /// The directory.
        dir: String,
    },
    /// An S3 Object Lock bucket, through `forensic archive put`.
    S3 {
        /// `s3://BUCKET/PREFIX` (the bundle's file name is appended).
        to: String,
        /// `--retain-until` of `archive put`.
        retain_until: String,
        /// `--mode` of `archive put` (compliance or governance).
        mode: String,
        /// `--endpoint` of `archive put` (an S3-compatible service), if any.
        endpoint: Option<String>,
        /// AWS_REGION, if given (not a secret).
        region: Option<String>,
        /// The Secret holding `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`; `None`: the
        /// pod's workload identity (for example EKS IRSA on the service account).
        credentials_secret: Option<String>,
        /// The node directory the bundle is written to before the upload.
        spool: String,
    },
}

/// Everything one Job needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSpec {
    /// The Job's name (a DNS label, at most 63 characters).
    pub name: String,
    /// The namespace the Job runs in (holds the Secrets; allows privileged pods).
    pub namespace: String,
    /// The node it is pinned to.
    pub node: String,
    /// The collector image (`packaging/image/build.sh`).
    pub image: String,
    /// The containers to collect, in order.
    pub targets: Vec<Target>,
    /// Where the bundles go.
    pub destination: Destination,
    /// The Secret holding the signing key under [`KEY_ITEM`].
    pub key_secret: String,
    /// The key is encrypted with a passphrase, which the Secret holds under
    /// [`KEY_PASSPHRASE_ITEM`].
    pub key_passphrase: bool,
    /// The service account the pod runs as (its token is not mounted).
    pub service_account: String,
    /// `--case` of every bundle.
    pub case: Option<String>,
    /// The name recorded for the sealer in the custody log.
    pub actor: String,
    /// Host directories of the container runtime's state, mounted read-only at the same path.
    pub runtime_state: Vec<String>,
    /// `activeDeadlineSeconds`.
    pub deadline_seconds: u64,
    /// `ttlSecondsAfterFinished`.
    pub ttl_seconds: u64,
}

/// The name of target `k`'s bundle: `JOB_NS_POD_CONTAINER.zip`.
pub fn bundle_name(job: &str, t: &Target) -> String {
    format!("{job}_{}_{}_{}.zip", t.namespace, t.pod, t.container)
}

/// The step names of target `k`: (`collect-K`, `verify-K` or `archive-K`).
pub fn step_names(k: usize, d: &Destination) -> (String, String) {
    let second = match d {
        Destination::NodePath { .. } => "verify",
        Destination::S3 { .. } => "archive",
    };
    (format!("collect-{k}"), format!("{second}-{k}"))
}

/// Checks a DNS-1123 label (a Job, pod, container or namespace name): 1 to 63 of `a-z 0-9 -`,
/// starting and ending with a letter or digit.
///
/// # Errors
/// [`K8sError::Invalid`] naming the value.
pub fn check_label(what: &str, name: &str) -> Result<(), K8sError> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(K8sError::Invalid {
            what: format!("{what} {:?}", name.chars().take(80).collect::<String>()),
            reason: "not a DNS label (1-63 of a-z, 0-9, '-', starting and ending with a letter or digit)".into(),
        })
    }
}

fn labels(name: &str) -> Value {
    json!({"app.kubernetes.io/name": APP, "app.kubernetes.io/instance": name})
}

/// The collection Job.
///
/// # Errors
/// [`K8sError::Invalid`] when a name is not a DNS label, there is no target, or a host path is
/// not absolute.
pub fn job(spec: &JobSpec) -> Result<Value, K8sError> {
    check_label("Job name", &spec.name)?;
    check_label("namespace", &spec.namespace)?;
    for t in &spec.targets {
        check_label("namespace", &t.namespace)?;
        check_label("container", &t.container)?;
    }
    if spec.targets.is_empty() {
        return Err(K8sError::Invalid {
            what: format!("Job {}", spec.name),
            reason: "no container to collect".into(),
        });
    }
    let dir = match &spec.destination {
        Destination::NodePath { dir } => dir,
        Destination::S3 { spool, .. } => spool,
    };
    for p in spec.runtime_state.iter().chain([dir]) {
        if !p.starts_with('/') {
            return Err(K8sError::Invalid {
                what: format!("host path {p:?}"),
                reason: "not absolute".into(),
            });
        }
    }
    let mut steps = Vec::new();
    for (k, t) in spec.targets.iter().enumerate() {
        steps.push(collect_step(spec, k, t));
    }
    for (k, t) in spec.targets.iter().enumerate() {
        steps.push(deliver_step(spec, k, t));
    }
    let last = steps.pop().unwrap_or(Value::Null);
    let mut volumes = vec![
        json!({"name": "keys", "secret": {"secretName": spec.key_secret, "defaultMode": 0o400, "optional": false}}),
        json!({"name": "evidence", "hostPath": {"path": dir, "type": "DirectoryOrCreate"}}),
        json!({"name": "host-run", "hostPath": {"path": "/run", "type": "Directory"}}),
        json!({"name": "host-log", "hostPath": {"path": "/var/log", "type": "Directory"}}),
    ];
    for (i, p) in spec.runtime_state.iter().enumerate() {
        volumes.push(json!({"name": format!("host-state-{i}"), "hostPath": {"path": p, "type": "Directory"}}));
    }
    Ok(json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": spec.name, "namespace": spec.namespace, "labels": labels(&spec.name)},
        "spec": {
            "backoffLimit": 0,
            "completions": 1,
            "parallelism": 1,
            "activeDeadlineSeconds": spec.deadline_seconds,
            "ttlSecondsAfterFinished": spec.ttl_seconds,
            "template": {
                "metadata": {"labels": labels(&spec.name)},
                "spec": {
                    "nodeName": spec.node,
                    "hostPID": true,
                    "restartPolicy": "Never",
                    "serviceAccountName": spec.service_account,
                    "automountServiceAccountToken": false,
                    "enableServiceLinks": false,
                    "tolerations": [{"operator": "Exists"}],
                    "initContainers": steps,
                    "containers": [last],
                    "volumes": volumes,
                }
            }
        }
    }))
}

fn collect_step(spec: &JobSpec, k: usize, t: &Target) -> Value {
    let out = format!("{EVIDENCE_DIR}/{}", bundle_name(&spec.name, t));
    let mut args: Vec<String> = vec!["collect".into()];
    match t.pid {
        Some(pid) => args.extend(["--pid".into(), pid.to_string()]),
        None => args.extend([
            "--pod".into(),
            t.pod.clone(),
            "-n".into(),
            t.namespace.clone(),
            "--container".into(),
            t.container.clone(),
        ]),
    }
    args.extend(["-o".into(), out]);
    args.extend(key_args(spec));
    args.extend(["--node-name".into(), spec.node.clone()]);
    args.extend(["--actor".into(), spec.actor.clone()]);
    if let Some(c) = &spec.case {
        args.extend(["--case".into(), c.clone()]);
    }
    args.extend(["--json".into(), "--quiet".into()]);
    let mut mounts = vec![
        json!({"name": "keys", "mountPath": KEY_DIR, "readOnly": true}),
        json!({"name": "evidence", "mountPath": EVIDENCE_DIR}),
        json!({"name": "host-run", "mountPath": "/run", "readOnly": true}),
        json!({"name": "host-log", "mountPath": "/var/log", "readOnly": true}),
    ];
    for (i, p) in spec.runtime_state.iter().enumerate() {
        mounts.push(json!({"name": format!("host-state-{i}"), "mountPath": p, "readOnly": true}));
    }
    json!({
        "name": step_names(k, &spec.destination).0,
        "image": spec.image,
        "imagePullPolicy": "IfNotPresent",
        "args": args,
        "securityContext": {"privileged": true},
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": mounts,
    })
}

/// `--key` (and `--passphrase-file`) of a step that signs, from the mounted Secret.
fn key_args(spec: &JobSpec) -> Vec<String> {
    let mut args = vec!["--key".into(), format!("{KEY_DIR}/{KEY_ITEM}")];
    if spec.key_passphrase {
        args.extend(["--passphrase-file".into(), format!("{KEY_DIR}/{KEY_PASSPHRASE_ITEM}")]);
    }
    args
}

fn deliver_step(spec: &JobSpec, k: usize, t: &Target) -> Value {
    let file = bundle_name(&spec.name, t);
    let bundle = format!("{EVIDENCE_DIR}/{file}");
    let name = step_names(k, &spec.destination).1;
    let (args, env, mounts): (Vec<String>, Vec<Value>, Vec<Value>) = match &spec.destination {
        Destination::NodePath { .. } => (
            vec!["verify".into(), bundle, "--json".into()],
            Vec::new(),
            vec![json!({"name": "evidence", "mountPath": EVIDENCE_DIR, "readOnly": true})],
        ),
        Destination::S3 {
            to,
            retain_until,
            mode,
            endpoint,
            region,
            credentials_secret,
            ..
        } => {
            let mut args = vec![
                "archive".to_string(),
                "put".into(),
                bundle,
                format!("{}/{file}", to.trim_end_matches('/')),
                "--retain-until".into(),
                retain_until.clone(),
                "--mode".into(),
                mode.clone(),
            ];
            args.extend(key_args(spec));
            args.extend(["--actor".into(), spec.actor.clone(), "--json".into()]);
            if let Some(e) = endpoint {
                args.extend(["--endpoint".into(), e.clone()]);
            }
            let mut env = Vec::new();
            if let Some(s) = credentials_secret {
                for var in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
                    env.push(json!({"name": var, "valueFrom": {"secretKeyRef": {"name": s, "key": var}}}));
                }
            }
            if let Some(r) = region {
                env.push(json!({"name": "AWS_REGION", "value": r}));
            }
            let mounts = vec![
                json!({"name": "keys", "mountPath": KEY_DIR, "readOnly": true}),
                json!({"name": "evidence", "mountPath": EVIDENCE_DIR}),
            ];
            (args, env, mounts)
        }
    };
    let mut c = json!({
        "name": name,
        "image": spec.image,
        "imagePullPolicy": "IfNotPresent",
        "args": args,
        "securityContext": {"privileged": false, "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true},
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": mounts,
    });
    if !env.is_empty()
        && let Some(o) = c.as_object_mut()
    {
        o.insert("env".into(), Value::Array(env));
    }
    c
}

/// The NetworkPolicy that cuts every connection, in and out, of the pods `selector` matches in
/// `namespace` (a policy with no rule for both directions denies all). It changes nothing in the
/// pods themselves; deleting it restores their network (with a CNI that enforces policies).
///
/// # Errors
/// [`K8sError::Invalid`] when the name is not a DNS label or the selector is empty (which would
/// isolate every pod of the namespace).
pub fn isolation_policy(name: &str, namespace: &str, selector: &BTreeMap<String, String>) -> Result<Value, K8sError> {
    check_label("NetworkPolicy name", name)?;
    check_label("namespace", namespace)?;
    if selector.is_empty() {
        return Err(K8sError::Invalid {
            what: "--isolate".into(),
            reason: "an empty selector would isolate every pod of the namespace".into(),
        });
    }
    Ok(json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace, "labels": labels(name)},
        "spec": {"podSelector": {"matchLabels": selector}, "policyTypes": ["Ingress", "Egress"]}
    }))
}

/// The documents as a YAML stream (`---` before each), each document pretty-printed JSON (JSON is
/// YAML 1.2), which `kubectl create -f` and `kubectl apply -f` read.
pub fn yaml_stream(docs: &[Value]) -> String {
    let mut s = String::new();
    for d in docs {
        s.push_str("---\n");
        s.push_str(&serde_json::to_string_pretty(d).unwrap_or_default());
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests;
