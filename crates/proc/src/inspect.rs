//! Container runtime `inspect` output, normalized into one [`ContainerRecord`] whatever runtime
//! printed it, so that a collector can find a container's process, root filesystem layers, logs
//! and security settings the same way on Docker, Podman, containerd and CRI-O nodes.
//!
//! - [`from_crictl`]: `crictl inspect -o json <id>` (containerd or CRI-O behind the CRI).
//! - [`from_containerd`]: containerd's own API answer (the document `forensic-runtime` writes).
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

mod containerd;
mod crictl;
mod engine;
mod image;

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;

pub use containerd::from_containerd;
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
    /// A containerd id is not a containerd identifier (`[A-Za-z0-9][A-Za-z0-9_.-]*`, at most 76
    /// characters).
    #[error("{what} output: `{field}` is not a containerd identifier: `{value}`")]
    BadIdentifier {
        /// Which output.
        what: &'static str,
        /// The field's JSON path.
        field: &'static str,
        /// The start of the value found.
        value: String,
    },
}

pub use forensic_evidence::records::container::{ContainerMount, ContainerRecord, Runtime};

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

    #[derive(Debug, serde::Deserialize, PartialEq)]
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
