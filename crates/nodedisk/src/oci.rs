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
    /// A manifest's descriptor; in an image config, the container config (no `digest`).
    #[serde(default)]
    config: Option<serde_json::Value>,
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
/// [`NodeError::Json`] or [`NodeError::Record`] naming `file` when it is not such a JSON object.
pub fn image_json(bytes: &[u8], file: &str) -> Result<ImageJson, NodeError> {
    if !bytes.trim_ascii_start().starts_with(b"{") {
        return Err(NodeError::record(file, "not a JSON object"));
    }
    let raw: Raw = serde_json::from_slice(bytes).map_err(|e| NodeError::json(file, e))?;
    Ok(ImageJson {
        config: raw
            .config
            .as_ref()
            .and_then(|c| c.get("digest"))
            .and_then(|d| d.as_str())
            .map(str::to_string),
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
        // An image config's `config` is the container config, with no digest.
        let c = image_json(
            br#"{"config":{"Cmd":["/bin/sh"]},"rootfs":{"diff_ids":["sha256:x","sha256:y"]}}"#,
            "/c",
        )
        .unwrap();
        assert_eq!(
            (c.config, c.diff_ids),
            (None, vec!["sha256:x".to_string(), "sha256:y".into()])
        );
        assert_eq!(
            image_json(b"[1]", "/c").unwrap_err().to_string(),
            "/c: not a JSON object"
        );
        let e = image_json(br#"{"manifests":5}"#, "/c").unwrap_err().to_string();
        assert!(e.starts_with("/c: malformed JSON"), "{e}");
    }
}
