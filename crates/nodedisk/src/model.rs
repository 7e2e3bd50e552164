//! The records `list()` produces: one [`OfflineContainer`] per container found on the disk, and
//! [`Problem`]s for what could not be read. Their serde form is the `--list --json` output.

use serde::Serialize;
// The records a bundle keeps (`offline-source.json`) own these; the listing shows the same.
pub use forensic_evidence::records::offline::{LastState, MetadataFile};
use std::collections::BTreeMap;

/// Everything found on a node's disk: the containers of every runtime, and the problems met.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Listing {
    /// The containers, ordered by runtime, then containerd namespace, then id.
    pub containers: Vec<OfflineContainer>,
    /// Runtime databases or containers that could not be read (the others still list).
    pub problems: Vec<Problem>,
}

/// A runtime database, file or container that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// `"containerd"`, `"docker"` or `"podman"`.
    pub runtime: &'static str,
    /// The node path of the file (or directory) concerned.
    pub file: String,
    /// The container concerned, when the problem is one container's.
    pub container: Option<String>,
    /// What is wrong, in words.
    pub error: String,
}

/// Which runtime a container belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "name", rename_all = "lowercase")]
pub enum OfflineRuntime {
    /// containerd (CRI or `ctr`), with its namespace (`k8s.io`, `default`, `moby`, …).
    Containerd {
        /// The containerd namespace.
        namespace: String,
    },
    /// Docker Engine (overlay2).
    Docker,
    /// podman (containers/storage overlay, libpod's BoltDB state).
    Podman,
}

impl OfflineRuntime {
    /// `"containerd"`, `"docker"` or `"podman"`.
    pub fn name(&self) -> &'static str {
        match self {
            OfflineRuntime::Containerd { .. } => "containerd",
            OfflineRuntime::Docker => "docker",
            OfflineRuntime::Podman => "podman",
        }
    }

    /// The containerd namespace, `None` for the other runtimes.
    pub fn namespace(&self) -> Option<&str> {
        match self {
            OfflineRuntime::Containerd { namespace } => Some(namespace),
            _ => None,
        }
    }
}

/// The Kubernetes pod a container belongs to (from CRI labels or annotations), or podman's pod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PodIdentity {
    /// The pod's name.
    pub name: String,
    /// The pod's Kubernetes namespace (empty when only a name is known, as for a podman pod).
    pub namespace: String,
    /// The pod's uid, when recorded.
    pub uid: Option<String>,
}

/// What a lower layer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LayerRole {
    /// A layer of the image.
    Image,
    /// Docker's init layer (`<mount-id>-init`: `/etc/hosts`, `/.dockerenv`, …).
    Init,
}

/// One read-only layer under a container's writable layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Layer {
    /// The node path of the layer's root directory (`…/overlay2/<id>/diff`).
    pub dir: String,
    /// The layer's diff id (`sha256:…`), when recorded.
    pub diff_id: Option<String>,
    /// Image layer or Docker's init layer.
    pub role: LayerRole,
}

/// A metadata file (or database value) kept byte for byte in the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredFile {
    /// The member name under its section, e.g. `config.v2.json`.
    pub member: String,
    /// The bytes as stored.
    #[serde(skip)]
    pub bytes: Vec<u8>,
    /// Where they came from: a node path, or `meta.db v1/k8s.io/containers/<id>/spec`.
    pub from: String,
}

/// One container found on the disk.
#[derive(Debug, Clone, Serialize)]
pub struct OfflineContainer {
    /// The runtime (and containerd namespace).
    pub runtime: OfflineRuntime,
    /// The container id as the runtime stores it.
    pub id: String,
    /// The container's name, when it has one.
    pub name: Option<String>,
    /// The image reference it was created from.
    pub image_ref: Option<String>,
    /// The image's manifest digest, when known.
    pub image_digest: Option<String>,
    /// The image config digest (the image id).
    pub image_id: Option<String>,
    /// The pod, from the CRI labels/annotations (or podman's pod).
    pub pod: Option<PodIdentity>,
    /// The container's labels.
    pub labels: BTreeMap<String, String>,
    /// When it was created, RFC 3339 UTC.
    pub created: Option<String>,
    /// The last state recorded.
    pub state: LastState,
    /// The node path of the writable layer directory.
    pub upper: Option<String>,
    /// The read-only layers, top first: Docker's init layer first, then image layers top → bottom.
    pub lowers: Vec<Layer>,
    /// Bytes of regular files in the writable layer (lstat sizes, links never followed).
    pub writable_size: Option<u64>,
    /// Section 6: the container spec and metadata as stored, byte for byte.
    pub spec: Vec<StoredFile>,
    /// Section 9: the image manifest, config (and index) as stored.
    pub image: Vec<StoredFile>,
    /// Node paths of the runtime's own log files (Docker json-file, podman `ctr.log`).
    pub logs: Vec<String>,
    /// `/var/log/pods/<ns>_<pod>_<uid>/<container>` when the pod identity names one.
    pub kubelet_log_dir: Option<String>,
    /// Every metadata file read to find this container, with its SHA-256.
    pub metadata_read: Vec<MetadataFile>,
    /// Problems that concern only this container (e.g. a layer directory missing).
    pub problems: Vec<String>,
}

impl OfflineContainer {
    /// The first 12 characters of the id (the id itself when shorter).
    pub fn short_id(&self) -> &str {
        self.id.get(..12).unwrap_or(&self.id)
    }

    /// A container with only its runtime and id known; the parsers fill the rest.
    pub fn new(runtime: OfflineRuntime, id: String) -> OfflineContainer {
        OfflineContainer {
            runtime,
            id,
            name: None,
            image_ref: None,
            image_digest: None,
            image_id: None,
            pod: None,
            labels: BTreeMap::new(),
            created: None,
            state: LastState::unknown(),
            upper: None,
            lowers: Vec::new(),
            writable_size: None,
            spec: Vec::new(),
            image: Vec::new(),
            logs: Vec::new(),
            kubelet_log_dir: None,
            metadata_read: Vec::new(),
            problems: Vec::new(),
        }
    }
}
