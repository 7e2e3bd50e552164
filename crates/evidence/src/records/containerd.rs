//! `6-podspec/inspect.json` for a containerd target: what containerd's own API says of the
//! container, its task, its snapshot and its image, as one document (CONTENTS.md §14); and
//! `6-podspec/pod-containers.json`, a pod's containers found from their CRI labels (§15).
//!
//! `forensic-runtime` writes these; `forensic-proc` normalises the inspect document into the
//! container record.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The value of [`ContainerdInspect::api`].
pub const CONTAINERD_API: &str = "containerd-grpc";

/// What containerd's API says of one container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerdInspect {
    /// Always [`CONTAINERD_API`]: tells this document from a CLI's inspect output.
    pub api: String,
    /// containerd's socket.
    pub socket: String,
    /// The containerd namespace (`k8s.io` for Kubernetes).
    pub namespace: String,
    /// `Containers.Get`.
    pub container: ContainerdContainer,
    /// The Kubernetes identity, from the CRI labels, the OCI spec's CRI annotations and the CRI
    /// metadata extension.
    pub cri: CriIdentity,
    /// `Tasks.Get`: `null` when the container has no task (exited, or never started).
    pub task: Option<ContainerdTask>,
    /// `Snapshots.Mounts` of the container's snapshot, as answered.
    pub mounts: Vec<ContainerdMount>,
    /// The overlay directories parsed from [`ContainerdInspect::mounts`] (`null` when the
    /// snapshot is not an overlay mount, or could not be asked).
    pub overlay: Option<OverlayDirs>,
    /// `Images.Get` of the container's image (`null` when unknown or gone).
    pub image: Option<ContainerdImage>,
}

/// The container record (`containerd.services.containers.v1.Container`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerdContainer {
    /// Its id.
    pub id: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// The image name it was created from.
    pub image: String,
    /// The runtime (`io.containerd.runc.v2`).
    pub runtime: Option<String>,
    /// The snapshotter (`overlayfs`).
    pub snapshotter: String,
    /// The snapshot key.
    pub snapshot_key: String,
    /// Created, SPEC §5 time.
    pub created_at: Option<String>,
    /// Updated, SPEC §5 time.
    pub updated_at: Option<String>,
    /// The sandbox id (containerd 2 sandboxes; empty on 1.6).
    pub sandbox: Option<String>,
    /// The `Any` type of the spec.
    pub spec_type_url: Option<String>,
    /// The OCI runtime spec, decoded from its JSON (`null` when absent or not JSON).
    pub spec: Option<serde_json::Value>,
    /// Extensions by name.
    pub extensions: BTreeMap<String, Extension>,
}

/// One container extension (an `Any`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Extension {
    /// Its type URL.
    pub type_url: String,
    /// Its value decoded as JSON, when it is JSON (the CRI metadata is).
    pub json: Option<serde_json::Value>,
    /// Its value as lowercase hex, when it is not JSON.
    pub hex: Option<String>,
}

/// Who a container is in Kubernetes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriIdentity {
    /// `container` or `sandbox` (label `io.cri-containerd.kind`, or annotation
    /// `io.kubernetes.cri.container-type`); `null` for a container the CRI did not make.
    pub kind: Option<String>,
    /// Pod name.
    pub pod_name: Option<String>,
    /// Pod namespace.
    pub pod_namespace: Option<String>,
    /// Pod UID.
    pub pod_uid: Option<String>,
    /// The container's name in the pod spec.
    pub container_name: Option<String>,
    /// The restart attempt (0 for the first instance).
    pub attempt: Option<u32>,
    /// The pod sandbox's container id.
    pub sandbox_id: Option<String>,
    /// The log file the CRI writes the container's output to.
    pub log_path: Option<String>,
}

impl CriIdentity {
    /// The identity from a container's labels, its OCI spec's annotations and its CRI metadata
    /// extension (each may be absent).
    pub fn from_stored(
        labels: &BTreeMap<String, String>,
        spec: Option<&serde_json::Value>,
        metadata: Option<&serde_json::Value>,
    ) -> CriIdentity {
        let label = |k: &str| labels.get(k).filter(|v| !v.is_empty()).cloned();
        let annotation = |k: &str| {
            spec.and_then(|s| s.pointer("/annotations"))
                .and_then(|a| a.get(k))
                .and_then(|v| v.as_str())
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let meta = metadata.and_then(|m| m.get("Metadata")).or(metadata);
        let meta_str = |k: &str| {
            meta.and_then(|m| m.get(k))
                .and_then(|v| v.as_str())
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let log_path = meta_str("LogPath");
        let attempt = meta
            .and_then(|m| m.pointer("/Config/metadata/attempt"))
            .and_then(|v| v.as_u64())
            .and_then(|v| u32::try_from(v).ok())
            .or_else(|| meta_str("Name").as_deref().and_then(attempt_from_name))
            .or_else(|| log_path.as_deref().and_then(attempt_from_log_path));
        Self {
            kind: label(KIND_LABEL).or_else(|| annotation("io.kubernetes.cri.container-type")),
            pod_name: label("io.kubernetes.pod.name").or_else(|| annotation("io.kubernetes.cri.sandbox-name")),
            pod_namespace: label("io.kubernetes.pod.namespace")
                .or_else(|| annotation("io.kubernetes.cri.sandbox-namespace")),
            pod_uid: label("io.kubernetes.pod.uid").or_else(|| annotation("io.kubernetes.cri.sandbox-uid")),
            container_name: label("io.kubernetes.container.name")
                .or_else(|| annotation("io.kubernetes.cri.container-name")),
            attempt,
            sandbox_id: meta_str("SandboxID").or_else(|| annotation("io.kubernetes.cri.sandbox-id")),
            log_path,
        }
    }
}

/// `app_web-0_shop_<uid>_3` → 3 (the CRI's container name ends in the attempt).
fn attempt_from_name(name: &str) -> Option<u32> {
    name.rsplit_once('_')?.1.parse().ok()
}

/// `/var/log/pods/NS_POD_UID/app/3.log` → 3 (kubelet names the log after the attempt).
fn attempt_from_log_path(path: &str) -> Option<u32> {
    let file = path.rsplit('/').next()?;
    file.strip_suffix(".log")?.parse().ok()
}

/// The container extension holding the CRI's metadata (JSON).
pub const CRI_METADATA_EXTENSION: &str = "io.cri-containerd.container.metadata";
/// The label containerd's CRI puts on sandboxes (`sandbox`) and containers (`container`).
pub const KIND_LABEL: &str = "io.cri-containerd.kind";

/// `Tasks.Get`: the container's running (or stopped) process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerdTask {
    /// Host PID (0 when none).
    pub pid: u32,
    /// `created`, `running`, `stopped`, `paused`, `pausing`, `unknown`.
    pub status: String,
    /// Exit status, when stopped.
    pub exit_status: u32,
    /// When it exited, SPEC §5 time.
    pub exited_at: Option<String>,
}

/// One mount of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerdMount {
    /// Mount type (`overlay`, `bind`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Source.
    pub source: String,
    /// Target (empty for the root).
    pub target: String,
    /// Options as answered.
    pub options: Vec<String>,
}

/// An overlay mount's directories.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverlayDirs {
    /// `upperdir` (`null` for a read-only view).
    pub upper_dir: Option<String>,
    /// `workdir`.
    pub work_dir: Option<String>,
    /// `lowerdir`, split on `:`, topmost first.
    pub lower_dirs: Vec<String>,
}

/// `Images.Get`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerdImage {
    /// Its name.
    pub name: String,
    /// What the name points to (a manifest or an index).
    pub target: Descriptor,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Created, SPEC §5 time.
    pub created_at: Option<String>,
}

/// An OCI descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Descriptor {
    /// Media type.
    pub media_type: String,
    /// `sha256:<hex>`.
    pub digest: String,
    /// Size in bytes.
    pub size: i64,
}

/// `6-podspec/pod-containers.json`: the containers of a pod found on this node from their CRI
/// identity, without kubectl (CONTENTS.md §15).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodContainers {
    /// Pod name.
    pub pod: String,
    /// Pod namespace.
    pub namespace: String,
    /// Pod UID, when the containers agree on one.
    pub pod_uid: Option<String>,
    /// Every container instance of the pod (sandboxes excluded), by name then attempt.
    pub containers: Vec<PodContainer>,
    /// The id of the instance collected.
    pub chosen: String,
    /// The id of the previous instance of the chosen container (the exited one with the next
    /// lower attempt), when there is one.
    pub previous: Option<String>,
}

/// One container instance of a pod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodContainer {
    /// Container id.
    pub id: String,
    /// Its name in the pod spec.
    pub name: String,
    /// Restart attempt, when known.
    pub attempt: Option<u32>,
    /// Task status (`running`, `stopped`, …), or `null` when it has no task.
    pub status: Option<String>,
    /// Host PID of its task, when running.
    pub pid: Option<u32>,
    /// Created, SPEC §5 time.
    pub created_at: Option<String>,
}
