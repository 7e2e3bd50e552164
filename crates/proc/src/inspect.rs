//! Container runtime `inspect` output, normalized into one [`ContainerRecord`] whatever runtime
//! printed it, so that a collector can find a container's process, root filesystem layers, logs
//! and security settings the same way on Docker, Podman, containerd and CRI-O nodes.
//!
//! - [`from_crictl`]: `crictl inspect -o json <id>` (containerd or CRI-O behind the CRI).
//! - [`from_podman`]: `podman inspect <container>`.
//! - [`from_docker`]: `docker inspect <container>`.
//! - [`image_from_podman`]: `podman image inspect <image>`.
//!
//! # Normalization
//! - `id` is checked to be 64 hex digits (it is later used to name evidence and find files).
//! - `image_id` always has the `sha256:` prefix (Podman prints it bare).
//! - `state` is lower case, and CRI's `CONTAINER_RUNNING` becomes `running`.
//! - `name` loses Docker's leading `/`.
//! - capability names are upper case with the `CAP_` prefix (`NET_ADMIN` → `CAP_NET_ADMIN`),
//!   except `ALL`.
//! - `pod`, `namespace` and `pod_uid` come from the `io.kubernetes.pod.*` labels when present.
//! - Empty strings and zero pids the runtimes print for "none" become `None`.
//!
//! # Input size
//! These functions parse a `&str` the caller has already read. Inspect output is normally a few
//! kilobytes; callers must bound how much they read from the runtime (a megabyte is generous).

mod crictl;
mod engine;
mod image;

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use crictl::from_crictl;
pub use engine::{from_docker, from_podman};
pub use image::{ImageRecord, image_from_podman};

/// What went wrong reading inspect output.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InspectError {
    /// The text is not JSON, or a field has an unexpected type; the message gives line and
    /// column.
    #[error("{what} output is not the expected JSON: {source}")]
    Json {
        /// Which output (`docker inspect`, …).
        what: &'static str,
        /// The JSON error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// The output is an array holding other than exactly one object (inspect was given several
    /// names, or none matched).
    #[error("{what} output holds {count} objects; expected exactly one")]
    NotOneObject {
        /// Which output.
        what: &'static str,
        /// How many objects the array held.
        count: usize,
    },
    /// A field every such output has is absent.
    #[error("{what} output has no `{field}`")]
    MissingField {
        /// Which output.
        what: &'static str,
        /// The field's JSON path.
        field: &'static str,
    },
    /// An id is not 64 hex digits (with an optional `sha256:` prefix for image ids).
    #[error("{what} output: `{field}` is not a 64-hex-digit id: `{value}`")]
    BadId {
        /// Which output.
        what: &'static str,
        /// The field's JSON path.
        field: &'static str,
        /// The start of the value found.
        value: String,
    },
}

/// The runtime whose output a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    /// Podman.
    Podman,
    /// Docker Engine.
    Docker,
    /// containerd, seen through `crictl`.
    Containerd,
    /// CRI-O, seen through `crictl`.
    #[serde(rename = "cri-o")]
    CriO,
    /// A CRI runtime `crictl` talked to that could not be identified.
    Crictl,
}

impl Runtime {
    /// The name used in serialized records: `"podman"`, `"docker"`, `"containerd"`, `"cri-o"`,
    /// `"crictl"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Podman => "podman",
            Self::Docker => "docker",
            Self::Containerd => "containerd",
            Self::CriO => "cri-o",
            Self::Crictl => "crictl",
        }
    }
}

/// A container as a responder needs to know it, the same fields whatever the runtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerRecord {
    /// The runtime that printed the output.
    pub runtime: Runtime,
    /// The full container id (64 lowercase hex digits).
    pub id: String,
    /// The container name (for Kubernetes, the container's name in the pod spec).
    pub name: Option<String>,
    /// The host pid of the container's first process; `None` when not running.
    pub pid: Option<u32>,
    /// `running`, `exited`, `created`, `paused`, … (lower case).
    pub state: Option<String>,
    /// Creation time as the runtime printed it (RFC 3339).
    pub created: Option<String>,
    /// The image as the user named it (`quay.io/org/app:latest`).
    pub image_ref: Option<String>,
    /// The image id, `sha256:<64 hex>`.
    pub image_id: Option<String>,
    /// The image manifest digest (`sha256:…`) when the runtime shows it.
    pub image_digest: Option<String>,
    /// Container labels.
    pub labels: BTreeMap<String, String>,
    /// Kubernetes pod name (`io.kubernetes.pod.name` label).
    pub pod: Option<String>,
    /// Kubernetes namespace (`io.kubernetes.pod.namespace` label).
    pub namespace: Option<String>,
    /// Kubernetes pod UID (`io.kubernetes.pod.uid` label).
    pub pod_uid: Option<String>,
    /// The container's log file on the host.
    pub log_path: Option<String>,
    /// The overlay's writable layer on the host: the container's changes.
    pub upper_dir: Option<String>,
    /// The overlay's read-only layers on the host, topmost first.
    pub lower_dirs: Vec<String>,
    /// The overlay's merged view on the host (the container's root while it runs).
    pub merged_dir: Option<String>,
    /// Whether the container runs privileged.
    pub privileged: bool,
    /// Capabilities added to the runtime's default set.
    pub cap_add: Vec<String>,
    /// Capabilities dropped from the runtime's default set.
    pub cap_drop: Vec<String>,
    /// The effective capability set, when the output shows it (Podman, CRI's OCI spec).
    pub capabilities: Option<Vec<String>>,
    /// The seccomp profile (`unconfined`, `runtime/default`, `localhost/<file>`, or the value
    /// given with `--security-opt seccomp=`); `None` when the output does not say, which for
    /// Docker and Podman means the runtime's default profile unless privileged.
    pub seccomp_profile: Option<String>,
    /// The AppArmor profile, when set.
    pub apparmor_profile: Option<String>,
    /// The user the process runs as, as configured (`65532`, `1000:1000`, `nobody`).
    pub run_as_user: Option<String>,
    /// Whether the root filesystem is mounted read-only.
    pub read_only_rootfs: bool,
    /// Mounts into the container. For `crictl`, every mount of the OCI spec (including `/proc`,
    /// `/dev` and the runtime's `/etc/hosts`); for Docker and Podman, volumes and bind mounts.
    pub mounts: Vec<ContainerMount>,
    /// The process environment (`KEY=value`); may hold secrets.
    pub env: Vec<String>,
}

/// One mount into a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerMount {
    /// What is mounted: a host path, a volume's directory, or a pseudo-filesystem name.
    pub source: Option<String>,
    /// Where it appears inside the container.
    pub destination: String,
    /// Whether it is writable from inside.
    pub rw: bool,
    /// `bind`, `volume`, `tmpfs`, `proc`, …
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// Parses output that is either one JSON object, or an array holding exactly one.
fn one_object<T: DeserializeOwned>(what: &'static str, input: &str) -> Result<T, InspectError> {
    let json = |source| InspectError::Json { what, source };
    if input.trim_start().starts_with('[') {
        let items: Vec<T> = serde_json::from_str(input).map_err(json)?;
        let count = items.len();
        let mut items = items.into_iter();
        match (items.next(), items.next()) {
            (Some(item), None) => Ok(item),
            _ => Err(InspectError::NotOneObject { what, count }),
        }
    } else {
        serde_json::from_str(input).map_err(json)
    }
}

/// Checks a container id: exactly 64 hex digits, returned in lower case.
fn container_id(what: &'static str, field: &'static str, value: Option<String>) -> Result<String, InspectError> {
    let value = value.ok_or(InspectError::MissingField { what, field })?;
    if value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(value.to_ascii_lowercase())
    } else {
        Err(InspectError::BadId {
            what,
            field,
            value: crate::text::excerpt(&value),
        })
    }
}

/// An image id as `sha256:<64 lowercase hex>`, from either that form or the bare hex.
fn image_id(what: &'static str, field: &'static str, value: &str) -> Result<String, InspectError> {
    let hex = value.strip_prefix("sha256:").unwrap_or(value);
    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(format!("sha256:{}", hex.to_ascii_lowercase()))
    } else {
        Err(InspectError::BadId {
            what,
            field,
            value: crate::text::excerpt(value),
        })
    }
}

/// `None` for absent or empty strings.
fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|text| !text.is_empty())
}

/// `CAP_NET_ADMIN` for `net_admin`, `NET_ADMIN` or `CAP_NET_ADMIN`; `ALL` stays `ALL`.
fn capability(name: &str) -> String {
    let upper = name.trim().to_ascii_uppercase();
    if upper == "ALL" || upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    }
}

fn capabilities(names: Option<Vec<String>>) -> Vec<String> {
    names.unwrap_or_default().iter().map(|name| capability(name)).collect()
}

/// Fills `pod`, `namespace` and `pod_uid` from the Kubernetes labels.
fn kubernetes_labels(labels: &BTreeMap<String, String>) -> (Option<String>, Option<String>, Option<String>) {
    let get = |key: &str| non_empty(labels.get(key).cloned());
    (
        get("io.kubernetes.pod.name"),
        get("io.kubernetes.pod.namespace"),
        get("io.kubernetes.pod.uid"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Thing {
        a: u8,
    }

    #[test]
    fn one_object_accepts_array_of_one_or_bare_object() {
        assert_eq!(one_object::<Thing>("t", " [ {\"a\": 1} ]").unwrap(), Thing { a: 1 });
        assert_eq!(one_object::<Thing>("t", "{\"a\": 2}").unwrap(), Thing { a: 2 });
        let none = one_object::<Thing>("podman inspect", "[]").unwrap_err();
        assert_eq!(
            none.to_string(),
            "podman inspect output holds 0 objects; expected exactly one"
        );
        let two = one_object::<Thing>("t", "[{\"a\":1},{\"a\":2}]").unwrap_err();
        assert!(matches!(two, InspectError::NotOneObject { count: 2, .. }), "{two}");
        let bad = one_object::<Thing>("docker inspect", "[{\"a\": \"x\"}]").unwrap_err();
        assert_eq!(
            bad.to_string(),
            "docker inspect output is not the expected JSON: invalid type: string \"x\", expected u8 at line 1 column 10"
        );
    }

    #[test]
    fn ids_are_checked_and_normalized() {
        let hex = "AB".repeat(32);
        assert_eq!(container_id("t", "Id", Some(hex.clone())).unwrap(), "ab".repeat(32));
        assert!(matches!(
            container_id("t", "Id", None),
            Err(InspectError::MissingField { field: "Id", .. })
        ));
        let short = container_id("t", "Id", Some("../../etc".into())).unwrap_err();
        assert_eq!(
            short.to_string(),
            "t output: `Id` is not a 64-hex-digit id: `../../etc`"
        );
        assert_eq!(
            image_id("t", "Image", &hex).unwrap(),
            format!("sha256:{}", "ab".repeat(32))
        );
        assert_eq!(
            image_id("t", "Image", &format!("sha256:{hex}")).unwrap(),
            format!("sha256:{}", "ab".repeat(32))
        );
        assert!(image_id("t", "Image", "sha256:abc").is_err());
    }

    #[test]
    fn capability_names_are_normalized() {
        assert_eq!(
            capabilities(Some(vec!["NET_ADMIN".into(), "cap_sys_admin".into(), "ALL".into()])),
            ["CAP_NET_ADMIN", "CAP_SYS_ADMIN", "ALL"]
        );
        assert_eq!(capabilities(None), Vec::<String>::new());
    }

    #[test]
    fn runtime_names() {
        assert_eq!(serde_json::to_string(&Runtime::CriO).unwrap(), "\"cri-o\"");
        for runtime in [
            Runtime::Podman,
            Runtime::Docker,
            Runtime::Containerd,
            Runtime::CriO,
            Runtime::Crictl,
        ] {
            assert_eq!(
                serde_json::to_string(&runtime).unwrap(),
                format!("\"{}\"", runtime.as_str())
            );
        }
    }
}
