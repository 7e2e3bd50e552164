//! `podman image inspect`: the image a container was created from.

use serde::{Deserialize, Serialize};

use super::{InspectError, image_id, non_empty, one_object};

const WHAT: &str = "podman image inspect";

/// An image as `podman image inspect` describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageRecord {
    /// The image id (digest of its config), `sha256:<64 hex>`.
    pub id: String,
    /// The manifest digest (`sha256:…`), when known.
    pub digest: Option<String>,
    /// Names the image is tagged with (`localhost/app:latest`).
    pub repo_tags: Vec<String>,
    /// Names by digest (`registry/app@sha256:…`).
    pub repo_digests: Vec<String>,
    /// Creation time as printed (RFC 3339).
    pub created: Option<String>,
    /// CPU architecture (`amd64`, `arm64`).
    pub architecture: Option<String>,
    /// Operating system (`linux`).
    pub os: Option<String>,
    /// The layers' uncompressed digests (`RootFS.Layers`, diff ids), bottom first.
    pub layers: Vec<String>,
    /// The image's `Config` object as printed (entrypoint, env, user, labels, …); `null` when
    /// absent.
    pub config: serde_json::Value,
}

/// Parses `podman image inspect <image>` (a JSON array of one object; a bare object is
/// accepted).
///
/// # Errors
/// [`InspectError::Json`] for invalid JSON or a field of the wrong type,
/// [`InspectError::NotOneObject`] for an array of other than one object,
/// [`InspectError::MissingField`] / [`InspectError::BadId`] when `.Id` is absent or not a 64-hex
/// image id.
pub fn image_from_podman(input: &str) -> Result<ImageRecord, InspectError> {
    let raw: Image = one_object(WHAT, input)?;
    let id = raw.id.ok_or(InspectError::MissingField {
        what: WHAT,
        field: "Id",
    })?;
    Ok(ImageRecord {
        id: image_id(WHAT, "Id", &id)?,
        digest: non_empty(raw.digest),
        repo_tags: raw.repo_tags.unwrap_or_default(),
        repo_digests: raw.repo_digests.unwrap_or_default(),
        created: non_empty(raw.created),
        architecture: non_empty(raw.architecture),
        os: non_empty(raw.os),
        layers: raw.root_fs.and_then(|root| root.layers).unwrap_or_default(),
        config: raw.config.unwrap_or(serde_json::Value::Null),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Image {
    id: Option<String>,
    digest: Option<String>,
    repo_tags: Option<Vec<String>>,
    repo_digests: Option<Vec<String>>,
    created: Option<String>,
    architecture: Option<String>,
    os: Option<String>,
    #[serde(rename = "RootFS")]
    root_fs: Option<RootFs>,
    config: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RootFs {
    layers: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_object_is_kept_and_nulls_are_empty() {
        let input = format!(
            r#"[{{"Id": "sha256:{}", "RepoTags": null, "Config": {{"User": "1000", "Entrypoint": ["/app"]}}}}]"#,
            "c".repeat(64)
        );
        let image = image_from_podman(&input).unwrap();
        assert_eq!(image.id, format!("sha256:{}", "c".repeat(64)));
        assert_eq!(image.repo_tags, Vec::<String>::new());
        assert_eq!(
            image.config,
            serde_json::json!({"User": "1000", "Entrypoint": ["/app"]})
        );
        assert_eq!(image.layers, Vec::<String>::new());
    }

    #[test]
    fn id_is_required() {
        let error = image_from_podman("[{\"RepoTags\": []}]").unwrap_err();
        assert_eq!(error.to_string(), "podman image inspect output has no `Id`");
    }
}
