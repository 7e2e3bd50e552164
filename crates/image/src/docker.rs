//! docker-archive (`docker save`, `podman save`): `manifest.json` lists each image's config file
//! and layer files. The config is checked against the digest in its name, and each layer against
//! the config's `rootfs.diff_ids` (the digest of the uncompressed layer tar).

use crate::error::ImageError;
use crate::image::{LayerInfo, LayerPlan, Resolved};
use crate::layer::Expect;
use crate::oci::{config_platform, diff_ids, parse};
use crate::options::{ImageOptions, Platform};
use crate::store::{self, Store};
use crate::tree;
use forensic_bundle::digest::Digest;
use serde::Deserialize;

/// One image of `manifest.json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// Whether `manifest.json` has the docker-archive form (a JSON array), without judging its entries.
pub(crate) fn looks_like_docker_manifest(bytes: &[u8]) -> bool {
    matches!(
        serde_json::from_slice::<serde_json::Value>(bytes),
        Ok(serde_json::Value::Array(_))
    )
}

/// Reads `manifest.json` and the chosen image's config.
pub(crate) fn resolve(store: &Store, opts: &ImageOptions) -> Result<Resolved, ImageError> {
    let limit = opts.max_metadata_size;
    let bytes = store.read_required("manifest.json", "manifest.json", limit)?;
    let entries: Vec<Entry> = parse(&bytes, "manifest.json")?;
    let mut loaded = Vec::with_capacity(entries.len());
    for (i, e) in entries.into_iter().enumerate() {
        let (digest, config) = load_config(store, &e, i, limit)?;
        loaded.push((e, digest, config));
    }
    let wanted = opts.platform.clone();
    let pick = |want: &Platform| {
        loaded
            .iter()
            .position(|(_, _, c)| config_platform(c).is_some_and(|p| want.matches(&p)))
    };
    let index = match (&wanted, loaded.len()) {
        (_, 0) => {
            return Err(ImageError::BadMetadata {
                what: "manifest.json".to_string(),
                why: "it lists no images".to_string(),
            });
        }
        (None, 1) => Some(0),
        (Some(want), _) => pick(want),
        (None, _) => pick(&Platform::host()),
    };
    let Some(index) = index else {
        let available: Vec<String> = loaded
            .iter()
            .map(|(e, _, c)| {
                let p = config_platform(c).map_or_else(|| "(no platform)".to_string(), |p| p.to_string());
                match e.repo_tags.as_deref().unwrap_or_default() {
                    [] => p,
                    tags => format!("{p} {}", tags.join(" ")),
                }
            })
            .collect();
        return Err(ImageError::PlatformNotFound {
            wanted: wanted.map_or_else(
                || format!("{} (this host's; no platform was given)", Platform::host()),
                |p| p.to_string(),
            ),
            what: store.location("manifest.json"),
            available: available.join(", "),
        });
    };
    let Some((entry, config_digest, config)) = loaded.into_iter().nth(index) else {
        return Err(ImageError::BadMetadata {
            what: "manifest.json".to_string(),
            why: "the chosen image vanished".to_string(),
        });
    };
    let config_what = format!("config {}", entry.config);
    let diff_ids = diff_ids(&config, &config_what)?;
    if diff_ids.len() != entry.layers.len() {
        return Err(ImageError::BadMetadata {
            what: config_what,
            why: format!(
                "rootfs.diff_ids lists {} layers but manifest.json lists {}",
                diff_ids.len(),
                entry.layers.len()
            ),
        });
    }
    let layers = entry
        .layers
        .iter()
        .zip(diff_ids)
        .enumerate()
        .map(|(i, (name, diff_id))| {
            let location = member_name(name);
            let blob = digest_in_name(&location).map(|digest| Expect {
                digest,
                claimed_by: "its file name".to_string(),
            });
            LayerPlan {
                info: LayerInfo {
                    digest: blob.as_ref().map(|b| b.digest),
                    diff_id: Some(diff_id),
                    media_type: "application/vnd.docker.image.rootfs.diff.tar".to_string(),
                    size: None,
                    location,
                },
                blob,
                diff_id: Some(Expect {
                    digest: diff_id,
                    claimed_by: format!("config rootfs.diff_ids[{i}]"),
                }),
            }
        })
        .collect();
    Ok(Resolved {
        manifest_digest: None,
        config_digest: Some(config_digest),
        platform: config_platform(&config),
        config,
        layers,
        repo_tags: entry.repo_tags.unwrap_or_default(),
    })
}

/// Reads an image's config and checks it against the digest its name carries.
fn load_config(store: &Store, e: &Entry, i: usize, limit: u64) -> Result<(Digest, serde_json::Value), ImageError> {
    let name = member_name(&e.config);
    let what = format!("config {name} (manifest.json image {})", i + 1);
    let expected = digest_in_name(&name).ok_or_else(|| ImageError::BadMetadata {
        what: what.clone(),
        why: "its name holds no SHA-256 digest (<hex>.json or blobs/sha256/<hex>), so it cannot be checked".to_string(),
    })?;
    let bytes = store.read_required(&name, &what, limit)?;
    let actual = Digest::of(&bytes);
    if actual != expected {
        return Err(ImageError::DigestMismatch {
            blob: what,
            claimed_by: "its file name".to_string(),
            expected,
            actual,
        });
    }
    Ok((expected, parse(&bytes, &what)?))
}

/// A member name as listed in `manifest.json`, in the form the archive scan keys members by.
fn member_name(listed: &str) -> String {
    tree::checked_path(listed.as_bytes())
        .map(|p| p.trim_start_matches('/').to_string())
        .unwrap_or_else(|_| listed.to_string())
}

/// The digest in `<hex>.json` or `blobs/sha256/<hex>`.
fn digest_in_name(name: &str) -> Option<Digest> {
    let hex = name
        .strip_prefix("blobs/sha256/")
        .or_else(|| name.strip_suffix(".json"))?;
    store::parse_digest(&format!("sha256:{hex}"), name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_in_names() {
        let hex = "0123456789abcdef".repeat(4);
        assert_eq!(
            digest_in_name(&format!("{hex}.json")).map(|d| d.hex()),
            Some(hex.clone())
        );
        assert_eq!(
            digest_in_name(&format!("blobs/sha256/{hex}")).map(|d| d.hex()),
            Some(hex.clone())
        );
        assert_eq!(digest_in_name(&format!("{hex}/layer.tar")), None);
        assert_eq!(digest_in_name("config.json"), None);
        assert_eq!(member_name("./abc/layer.tar"), "abc/layer.tar");
    }

    #[test]
    fn docker_manifest_form() {
        assert!(looks_like_docker_manifest(br#"[{"Config":"x.json","Layers":[]}]"#));
        assert!(!looks_like_docker_manifest(br#"{"name":"some app"}"#));
        assert!(!looks_like_docker_manifest(b"not json"));
    }
}
