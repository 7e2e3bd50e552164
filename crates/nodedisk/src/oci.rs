//! The image records every runtime stores in the OCI/Docker form: manifest, index, config.

use crate::error::NodeError;
use serde::Deserialize;

/// What is needed from an image manifest, an index, or a config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageJson {
    /// A manifest's `config.digest`.
    pub config: Option<String>,
    /// An index's (or manifest list's) `manifests[].digest`, in order.
    pub manifests: Vec<String>,
    /// A config's `rootfs.diff_ids`, bottom first.
    pub diff_ids: Vec<String>,
}

#[derive(Deserialize)]
struct Raw {
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    manifests: Vec<Descriptor>,
    #[serde(default)]
    rootfs: Option<RootFs>,
}

#[derive(Deserialize)]
struct Descriptor {
    digest: String,
}

#[derive(Deserialize)]
struct RootFs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

/// Parses a manifest, index or image config (whichever fields are there).
///
/// # Errors
/// [`NodeError::Json`] naming `file` when it is not such a JSON object.
pub fn image_json(bytes: &[u8], file: &str) -> Result<ImageJson, NodeError> {
    let raw: Raw = serde_json::from_slice(bytes).map_err(|e| NodeError::json(file, e))?;
    Ok(ImageJson {
        config: raw.config.map(|d| d.digest),
        manifests: raw.manifests.into_iter().map(|d| d.digest).collect(),
        diff_ids: raw.rootfs.map(|r| r.diff_ids).unwrap_or_default(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn manifest_index_config() {
        let m = image_json(
            br#"{"schemaVersion":2,"config":{"digest":"sha256:aa","size":1},"layers":[]}"#,
            "/m",
        )
        .unwrap();
        assert_eq!(m.config.as_deref(), Some("sha256:aa"));
        let i = image_json(br#"{"manifests":[{"digest":"sha256:1"},{"digest":"sha256:2"}]}"#, "/i").unwrap();
        assert_eq!(i.manifests, ["sha256:1", "sha256:2"]);
        let c = image_json(
            br#"{"rootfs":{"type":"layers","diff_ids":["sha256:x","sha256:y"]}}"#,
            "/c",
        )
        .unwrap();
        assert_eq!(c.diff_ids, ["sha256:x", "sha256:y"]);
        assert!(
            image_json(b"[1]", "/c")
                .unwrap_err()
                .to_string()
                .starts_with("/c: malformed JSON")
        );
    }
}
