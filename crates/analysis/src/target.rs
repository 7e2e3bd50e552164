//! What the bundle was collected from, as the analysis needs it.

use forensic_bundle::manifest::Manifest;
use serde::Serialize;

/// Characters of a container id in text output; `--json` always gives the full id.
pub const SHORT_ID_LEN: usize = 12;

/// A container id as text output writes it: its first [`SHORT_ID_LEN`] characters, as `podman
/// ps`, `docker ps` and `forensic collect`/`verify` write it. `--json` gives the whole id.
///
/// ```
/// let id = "0123456789abcdef".repeat(4);
/// assert_eq!(forensic_analysis::target::short_id(&id), "0123456789ab");
/// ```
pub fn short_id(id: &str) -> String {
    id.chars().take(SHORT_ID_LEN).collect()
}

/// The collection target.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Target {
    /// The container's full id (64 hex digits), when collected through a runtime.
    pub container_id: Option<String>,
    /// The container's name.
    pub container_name: Option<String>,
    /// The Kubernetes pod.
    pub pod: Option<String>,
    /// The pod's namespace.
    pub namespace: Option<String>,
    /// When the bundle was created (nanoseconds since the epoch): the reference for relative
    /// times such as `--since 24h`.
    pub collected_ns: i64,
}

impl Target {
    /// From the manifest (an empty target, collected "now" = 0, without one).
    pub fn from_manifest(m: Option<&Manifest>) -> Target {
        let Some(m) = m else {
            return Target::default();
        };
        let created = m.created.unix_nanos();
        Target {
            container_id: m.target.container_id.clone().filter(|s| !s.is_empty()),
            container_name: m.target.container_name.clone(),
            pod: m.target.pod.clone(),
            namespace: m.target.namespace.clone(),
            collected_ns: i64::try_from(created).unwrap_or(if created < 0 { i64::MIN } else { i64::MAX }),
        }
    }

    /// Whether an API object is the target pod.
    pub fn is_pod(&self, namespace: Option<&str>, name: Option<&str>) -> bool {
        match (&self.pod, name) {
            (Some(p), Some(n)) if p == n => self.namespace.as_deref().is_none_or(|ns| namespace == Some(ns)),
            _ => false,
        }
    }
}
