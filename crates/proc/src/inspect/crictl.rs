//! `crictl inspect -o json`: the CRI's container status (`.status`) plus the runtime's own
//! `.info`, which for containerd and CRI-O holds the host pid, the CRI config (with the security
//! context kubelet asked for) and the OCI runtime spec (what was actually run).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{
    ContainerMount, ContainerRecord, InspectError, Runtime, capabilities, container_id, image_id, kubernetes_labels,
    non_empty, one_object,
};

const WHAT: &str = "crictl inspect";

/// Parses `crictl inspect -o json <container>`.
///
/// Where the fields come from:
/// `id` `.status.id`; `name` `.status.metadata.name`; `state` `.status.state`; `created`
/// `.status.createdAt`; `image_ref` `.status.image.image`; `image_id` `.info.config.image.image`
/// (or `.status.imageRef` when that is a bare id); `image_digest` the digest in
/// `.status.imageRef` (`name@sha256:…`); `labels` `.status.labels`; `log_path`
/// `.status.logPath`; `pid` `.info.pid`; `runtime` from `.info.runtimeType` /
/// `.info.snapshotter` (containerd) or `io.kubernetes.cri-o.*` spec annotations (CRI-O);
/// `capabilities`, `env`, `mounts` from `.info.runtimeSpec` (falling back to the CRI config);
/// `privileged`, `cap_add`, `cap_drop`, `seccomp_profile`, `apparmor_profile`, `run_as_user`,
/// `read_only_rootfs` from `.info.config.linux.security_context`.
///
/// CRI security profiles print their type as a number and omit it when it is 0, so a `seccomp`
/// object without `profile_type` means `runtime/default`; 1 is `unconfined` (what Kubernetes uses
/// when a pod names no profile) and 2 is `localhost/<localhost_ref>`.
///
/// The overlay directories are not part of this output (containerd keeps them in its
/// snapshotter), so `upper_dir`, `lower_dirs` and `merged_dir` are empty; read them from the
/// container process's `mountinfo` instead.
///
/// # Errors
/// [`InspectError::Json`] for invalid JSON or a field of the wrong type,
/// [`InspectError::MissingField`] / [`InspectError::BadId`] when `.status.id` is absent or not 64
/// hex digits.
pub fn from_crictl(input: &str) -> Result<ContainerRecord, InspectError> {
    let raw: Output = one_object(WHAT, input)?;
    let status = raw.status.unwrap_or_default();
    let info = raw.info.unwrap_or_default();
    let id = container_id(WHAT, "status.id", status.id.clone())?;
    normalise(WHAT, id, status, info)
}

/// The record from the CRI status and the runtime's info (shared with `from_containerd`, which
/// builds the same two from containerd's own API answer); `id` is already checked.
pub(super) fn normalise(
    what: &'static str,
    id: String,
    status: Status,
    info: Info,
) -> Result<ContainerRecord, InspectError> {
    let spec = info.runtime_spec.unwrap_or_default();
    let process = spec.process.unwrap_or_default();
    let config = info.config.unwrap_or_default();
    let security = config
        .linux
        .and_then(|linux| linux.security_context)
        .unwrap_or_default();
    let labels = status.labels.unwrap_or_default();
    let (pod, namespace, pod_uid) = kubernetes_labels(&labels);
    let runtime = runtime(
        info.runtime_type.as_deref(),
        info.snapshotter.is_some(),
        spec.annotations.as_ref(),
    );
    let image_ref = non_empty(status.image.and_then(|image| image.image));
    let configured_image = non_empty(config.image.and_then(|image| image.image));
    let status_ref = non_empty(status.image_ref);
    let (image_id, image_digest) = image_identity(what, configured_image, status_ref.as_deref())?;
    let (add, drop) = security
        .capabilities
        .map(|caps| (caps.add_capabilities, caps.drop_capabilities))
        .unwrap_or_default();
    let mounts = match spec.mounts {
        Some(mounts) => mounts.into_iter().map(ContainerMount::from).collect(),
        None => status
            .mounts
            .unwrap_or_default()
            .into_iter()
            .map(ContainerMount::from)
            .collect(),
    };
    let env = match process.env {
        Some(env) => env,
        None => config
            .envs
            .unwrap_or_default()
            .into_iter()
            .map(|kv| format!("{}={}", kv.key, kv.value))
            .collect(),
    };
    Ok(ContainerRecord {
        runtime,
        id,
        name: non_empty(status.metadata.and_then(|metadata| metadata.name)),
        pid: info.pid.filter(|&pid| pid > 0),
        state: non_empty(status.state).map(|state| cri_state(&state)),
        created: non_empty(status.created_at),
        image_ref,
        image_id,
        image_digest,
        labels,
        pod,
        namespace,
        pod_uid,
        log_path: non_empty(status.log_path),
        upper_dir: None,
        lower_dirs: Vec::new(),
        merged_dir: None,
        privileged: security.privileged.or(info.privileged).unwrap_or(false),
        cap_add: capabilities(add),
        cap_drop: capabilities(drop),
        capabilities: process.capabilities.map(|caps| capabilities(caps.effective)),
        seccomp_profile: security
            .seccomp
            .map(SecurityProfile::name)
            .or(non_empty(security.seccomp_profile_path)),
        apparmor_profile: security
            .apparmor
            .map(SecurityProfile::name)
            .or(non_empty(security.apparmor_profile))
            .or(non_empty(process.apparmor_profile)),
        run_as_user: run_as_user(security.run_as_user, security.run_as_username, process.user),
        read_only_rootfs: security
            .readonly_rootfs
            .or(spec.root.and_then(|root| root.readonly))
            .unwrap_or(false),
        mounts,
        env,
        started: non_empty(status.started_at)
            .filter(|t| !t.starts_with("0001-01-01") && !t.starts_with("1970-01-01T00:00:00Z")),
        entrypoint: config.command.unwrap_or_default(),
        command: config.args.unwrap_or_default(),
        process_args: process.args.unwrap_or_default(),
        working_dir: non_empty(process.cwd).or(non_empty(config.working_dir)),
        exposed_ports: Vec::new(),
    })
}

/// Which runtime answered `crictl`.
fn runtime(
    runtime_type: Option<&str>,
    has_snapshotter: bool,
    annotations: Option<&BTreeMap<String, String>>,
) -> Runtime {
    let cri_o = annotations.is_some_and(|map| map.keys().any(|key| key.starts_with("io.kubernetes.cri-o.")));
    if runtime_type.is_some_and(|kind| kind.contains("containerd")) || has_snapshotter {
        Runtime::Containerd
    } else if cri_o {
        Runtime::CriO
    } else {
        Runtime::Crictl
    }
}

/// `CONTAINER_RUNNING` → `running`.
fn cri_state(state: &str) -> String {
    state.strip_prefix("CONTAINER_").unwrap_or(state).to_ascii_lowercase()
}

/// The image id and manifest digest from the CRI config's image and `status.imageRef`.
fn image_identity(
    what: &'static str,
    configured: Option<String>,
    status_ref: Option<&str>,
) -> Result<(Option<String>, Option<String>), InspectError> {
    let is_id = |value: &&str| value.starts_with("sha256:") && !value.contains('@');
    let id = match (configured.as_deref().filter(is_id), status_ref.filter(is_id)) {
        (Some(id), _) => Some(image_id(what, "info.config.image.image", id)?),
        (None, Some(id)) => Some(image_id(what, "status.imageRef", id)?),
        (None, None) => None,
    };
    let digest = status_ref
        .and_then(|reference| reference.split_once('@'))
        .map(|(_, digest)| digest.to_owned());
    Ok((id, non_empty(digest)))
}

fn run_as_user(uid: Option<Int64Value>, username: Option<String>, spec_user: Option<User>) -> Option<String> {
    uid.and_then(|uid| uid.value)
        .map(|uid| uid.to_string())
        .or(non_empty(username))
        .or(spec_user.and_then(|user| user.uid).map(|uid| uid.to_string()))
}

impl From<OciMount> for ContainerMount {
    fn from(mount: OciMount) -> Self {
        let options = mount.options.unwrap_or_default();
        Self {
            source: non_empty(mount.source),
            destination: mount.destination.unwrap_or_default(),
            rw: !options.iter().any(|option| option == "ro"),
            kind: non_empty(mount.kind),
        }
    }
}

impl From<CriMount> for ContainerMount {
    fn from(mount: CriMount) -> Self {
        Self {
            source: non_empty(mount.host_path),
            destination: mount.container_path.unwrap_or_default(),
            rw: !mount.readonly.unwrap_or(false),
            kind: Some("bind".to_owned()),
        }
    }
}

#[derive(Deserialize)]
struct Output {
    status: Option<Status>,
    info: Option<Info>,
}

/// CRI `ContainerStatus` (`crictl inspect`'s `.status`).
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Status {
    id: Option<String>,
    metadata: Option<Metadata>,
    state: Option<String>,
    created_at: Option<String>,
    started_at: Option<String>,
    image: Option<ImageSpec>,
    image_ref: Option<String>,
    labels: Option<BTreeMap<String, String>>,
    log_path: Option<String>,
    mounts: Option<Vec<CriMount>>,
}

#[derive(Deserialize)]
struct Metadata {
    name: Option<String>,
}

#[derive(Deserialize)]
struct ImageSpec {
    image: Option<String>,
}

/// A mount in `.status.mounts` (camelCase) or `.info.config.mounts` (snake_case).
#[derive(Deserialize)]
struct CriMount {
    #[serde(alias = "containerPath")]
    container_path: Option<String>,
    #[serde(alias = "hostPath")]
    host_path: Option<String>,
    readonly: Option<bool>,
}

/// The runtime's info (`crictl inspect`'s `.info`).
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Info {
    pid: Option<u32>,
    runtime_type: Option<String>,
    snapshotter: Option<String>,
    privileged: Option<bool>,
    config: Option<CriConfig>,
    runtime_spec: Option<Spec>,
}

#[derive(Default, Deserialize)]
struct CriConfig {
    image: Option<ImageSpec>,
    command: Option<Vec<String>>,
    args: Option<Vec<String>>,
    working_dir: Option<String>,
    envs: Option<Vec<KeyValue>>,
    linux: Option<CriLinux>,
}

#[derive(Deserialize)]
struct KeyValue {
    #[serde(default)]
    key: String,
    #[serde(default)]
    value: String,
}

#[derive(Deserialize)]
struct CriLinux {
    security_context: Option<SecurityContext>,
}

#[derive(Default, Deserialize)]
struct SecurityContext {
    capabilities: Option<CriCapabilities>,
    privileged: Option<bool>,
    run_as_user: Option<Int64Value>,
    run_as_username: Option<String>,
    readonly_rootfs: Option<bool>,
    seccomp: Option<SecurityProfile>,
    apparmor: Option<SecurityProfile>,
    seccomp_profile_path: Option<String>,
    apparmor_profile: Option<String>,
}

#[derive(Deserialize)]
struct CriCapabilities {
    add_capabilities: Option<Vec<String>>,
    drop_capabilities: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct Int64Value {
    value: Option<i64>,
}

/// CRI `SecurityProfile`: `profile_type` 0 RuntimeDefault (omitted when 0), 1 Unconfined,
/// 2 Localhost.
#[derive(Deserialize)]
struct SecurityProfile {
    profile_type: Option<i64>,
    localhost_ref: Option<String>,
}

impl SecurityProfile {
    fn name(self) -> String {
        match self.profile_type.unwrap_or(0) {
            0 => "runtime/default".to_owned(),
            1 => "unconfined".to_owned(),
            2 => format!("localhost/{}", self.localhost_ref.unwrap_or_default()),
            other => format!("unknown profile type {other}"),
        }
    }
}

#[derive(Default, Deserialize)]
struct Spec {
    process: Option<Process>,
    root: Option<Root>,
    mounts: Option<Vec<OciMount>>,
    annotations: Option<BTreeMap<String, String>>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Process {
    user: Option<User>,
    args: Option<Vec<String>>,
    cwd: Option<String>,
    env: Option<Vec<String>>,
    capabilities: Option<OciCapabilities>,
    apparmor_profile: Option<String>,
}

#[derive(Deserialize)]
struct User {
    uid: Option<u32>,
}

#[derive(Deserialize)]
struct OciCapabilities {
    effective: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct Root {
    readonly: Option<bool>,
}

#[derive(Deserialize)]
struct OciMount {
    destination: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    source: Option<String>,
    options: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(status: &str, info: &str) -> String {
        format!(
            r#"{{"status": {{"id": "{}"{status}}}, "info": {{{info}}}}}"#,
            "ab".repeat(32)
        )
    }

    #[test]
    fn cri_o_privileged_with_localhost_profiles() {
        let input = with(
            r#", "state": "CONTAINER_EXITED", "imageRef": "sha256:1111111111111111111111111111111111111111111111111111111111111111",
               "mounts": [{"containerPath": "/data", "hostPath": "/srv/data", "readonly": true}]"#,
            r#""pid": 0, "privileged": true,
               "config": {"envs": [{"key": "A", "value": "1"}], "linux": {"security_context": {
                   "seccomp": {"profile_type": 2, "localhost_ref": "profiles/audit.json"},
                   "apparmor": {}, "run_as_username": "app", "capabilities": {"add_capabilities": ["SYS_PTRACE"]}}}},
               "runtimeSpec": {"annotations": {"io.kubernetes.cri-o.ContainerID": "x"}, "root": {"path": "/r", "readonly": true}}"#,
        );
        let record = from_crictl(&input).unwrap();
        assert_eq!(record.runtime, Runtime::CriO);
        assert_eq!(record.state.as_deref(), Some("exited"));
        assert_eq!(record.pid, None);
        assert!(record.privileged);
        assert!(record.read_only_rootfs);
        assert_eq!(
            record.image_id.as_deref(),
            Some("sha256:1111111111111111111111111111111111111111111111111111111111111111")
        );
        assert_eq!(record.image_digest, None);
        assert_eq!(record.seccomp_profile.as_deref(), Some("localhost/profiles/audit.json"));
        assert_eq!(record.apparmor_profile.as_deref(), Some("runtime/default"));
        assert_eq!(record.run_as_user.as_deref(), Some("app"));
        assert_eq!(record.cap_add, ["CAP_SYS_PTRACE"]);
        assert_eq!(record.capabilities, None);
        assert_eq!(record.env, ["A=1"]);
        assert_eq!(
            record.mounts,
            vec![ContainerMount {
                source: Some("/srv/data".into()),
                destination: "/data".into(),
                rw: false,
                kind: Some("bind".into())
            }]
        );
    }

    #[test]
    fn unknown_runtime_and_missing_sections() {
        let record = from_crictl(&with("", "")).unwrap();
        assert_eq!(record.runtime, Runtime::Crictl);
        assert_eq!(
            (record.seccomp_profile, record.run_as_user, record.image_id),
            (None, None, None)
        );
        let error = from_crictl(r#"{"info": {"pid": 1}}"#).unwrap_err();
        assert_eq!(error.to_string(), "crictl inspect output has no `status.id`");
    }
}
