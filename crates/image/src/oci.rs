//! OCI image layouts (a directory, or the tar of one: `oci-archive`): `index.json` → (nested
//! indexes) → the manifest of the chosen platform → its config and layers, every blob checked
//! against the digest and size its descriptor gives.

use crate::error::ImageError;
use crate::image::{LayerInfo, LayerPlan, Resolved};
use crate::layer::Expect;
use crate::options::{ImageOptions, Platform};
use crate::store::{self, Store};
use forensic_bundle::digest::Digest;
use serde::Deserialize;
use std::collections::BTreeMap;

const INDEX_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];
const MANIFEST_TYPES: [&str; 2] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];
const CONFIG_TYPES: [&str; 2] = [
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
];
/// Media types of filesystem layers. The compression is recognised from the bytes in any case.
pub(crate) const LAYER_TYPES: [&str; 11] = [
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.diff.tar.zstd",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.diff.tar",
    "application/x-tar",
];
/// How deep image indexes may nest.
const MAX_NESTING: usize = 4;
/// Annotations that name the image (`io.containerd.image.name` holds the full reference).
const NAME_ANNOTATIONS: [&str; 2] = ["io.containerd.image.name", "org.opencontainers.image.ref.name"];

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    #[serde(default)]
    media_type: Option<String>,
    digest: String,
    size: u64,
    #[serde(default)]
    platform: Option<PlatformJson>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Deserialize)]
struct PlatformJson {
    architecture: String,
    os: String,
    #[serde(default)]
    variant: Option<String>,
}

impl PlatformJson {
    fn platform(&self) -> Platform {
        Platform::new(&self.os, &self.architecture, self.variant.as_deref())
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IndexJson {
    #[serde(default)]
    media_type: Option<String>,
    manifests: Vec<Descriptor>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ManifestJson {
    #[serde(default)]
    media_type: Option<String>,
    config: Descriptor,
    layers: Vec<Descriptor>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LayoutJson {
    image_layout_version: String,
}

/// A manifest an index lists, with what it says about it.
#[derive(Debug, Clone)]
struct Candidate {
    desc: Descriptor,
    /// The index that lists it (`index.json`, `image index sha256:…`).
    listed_by: String,
    /// Annotations of the descriptors on the way down (the nearest wins).
    annotations: BTreeMap<String, String>,
}

impl Candidate {
    fn platform(&self) -> Option<Platform> {
        self.desc.platform.as_ref().map(PlatformJson::platform)
    }

    fn is_attestation(&self) -> bool {
        self.annotations.get("vnd.docker.reference.type").map(String::as_str) == Some("attestation-manifest")
            || self
                .desc
                .platform
                .as_ref()
                .is_some_and(|p| p.os == "unknown" && p.architecture == "unknown")
    }

    fn describe(&self) -> String {
        match (
            self.platform(),
            NAME_ANNOTATIONS.iter().find_map(|k| self.annotations.get(*k)),
        ) {
            (Some(p), _) => p.to_string(),
            (None, Some(name)) => format!("{name} (no platform given)"),
            (None, None) => format!("{} (no platform given)", self.desc.digest),
        }
    }
}

/// Reads an OCI layout's metadata and picks the image.
pub(crate) fn resolve(store: &Store, opts: &ImageOptions) -> Result<Resolved, ImageError> {
    let limit = opts.max_metadata_size;
    let layout = store.read_required("oci-layout", "oci-layout", limit)?;
    let layout: LayoutJson = parse(&layout, "oci-layout")?;
    if !layout.image_layout_version.starts_with("1.") {
        return Err(ImageError::BadMetadata {
            what: "oci-layout".to_string(),
            why: format!("imageLayoutVersion {:?} is not 1.x", layout.image_layout_version),
        });
    }
    let index_bytes = store.read_required("index.json", "index.json", limit)?;
    let index: IndexJson = parse(&index_bytes, "index.json")?;
    let mut candidates = Vec::new();
    collect(store, &index, "index.json", &BTreeMap::new(), opts, 0, &mut candidates)?;
    let chosen = select(candidates, opts, &store.location("index.json"))?;

    let manifest_digest = store::parse_digest(&chosen.desc.digest, &format!("{} entry", chosen.listed_by))?;
    let what = format!("manifest sha256:{manifest_digest}");
    let bytes = load(store, &chosen.desc, manifest_digest, &what, &chosen.listed_by, limit)?;
    let manifest: ManifestJson = parse(&bytes, &what)?;
    if let Some(t) = manifest.media_type.as_deref().filter(|t| !MANIFEST_TYPES.contains(t)) {
        return Err(ImageError::BadMetadata {
            what,
            why: format!("media type {t:?} is not an image manifest"),
        });
    }

    let config_digest = store::parse_digest(&manifest.config.digest, &format!("{what} config"))?;
    let config_what = format!("config sha256:{config_digest}");
    if let Some(t) = manifest
        .config
        .media_type
        .as_deref()
        .filter(|t| !CONFIG_TYPES.contains(t))
    {
        return Err(ImageError::BadMetadata {
            what: config_what,
            why: format!("media type {t:?} is not a container image config"),
        });
    }
    let config_bytes = load(store, &manifest.config, config_digest, &config_what, &what, limit)?;
    let config: serde_json::Value = parse(&config_bytes, &config_what)?;
    let platform = config_platform(&config);
    if let (Some(want), Some(have)) = (&opts.platform, &platform) {
        if !want.matches(have) {
            return Err(ImageError::PlatformNotFound {
                wanted: want.to_string(),
                what: store.location("index.json"),
                available: have.to_string(),
            });
        }
    }
    let diff_ids = diff_ids(&config, &config_what)?;
    if diff_ids.len() != manifest.layers.len() {
        return Err(ImageError::BadMetadata {
            what: config_what,
            why: format!(
                "rootfs.diff_ids lists {} layers but the manifest has {}",
                diff_ids.len(),
                manifest.layers.len()
            ),
        });
    }
    let layers = manifest
        .layers
        .iter()
        .zip(diff_ids)
        .enumerate()
        .map(|(i, (d, diff_id))| layer_plan(i, d, diff_id, &what))
        .collect::<Result<Vec<_>, _>>()?;
    let repo_tags = NAME_ANNOTATIONS
        .iter()
        .find_map(|k| chosen.annotations.get(*k))
        .map(|n| vec![n.clone()])
        .unwrap_or_default();
    Ok(Resolved {
        manifest_digest: Some(manifest_digest),
        config_digest: Some(config_digest),
        config,
        layers,
        repo_tags,
        platform,
    })
}

fn layer_plan(i: usize, d: &Descriptor, diff_id: Digest, manifest: &str) -> Result<LayerPlan, ImageError> {
    let what = format!("{manifest} layer {}", i + 1);
    let digest = store::parse_digest(&d.digest, &what)?;
    let media_type = d.media_type.clone().unwrap_or_default();
    if !LAYER_TYPES.contains(&media_type.as_str()) {
        return Err(ImageError::BadMetadata {
            what,
            why: format!("media type {media_type:?} is not a filesystem layer this reader knows"),
        });
    }
    Ok(LayerPlan {
        info: LayerInfo {
            digest: Some(digest),
            diff_id: Some(diff_id),
            media_type,
            size: Some(d.size),
            location: store::blob_name(&digest),
        },
        blob: Some(Expect {
            digest,
            claimed_by: "the manifest".to_string(),
        }),
        diff_id: Some(Expect {
            digest: diff_id,
            claimed_by: format!("config rootfs.diff_ids[{i}]"),
        }),
    })
}

/// Gathers the manifests an index lists, descending into nested indexes.
fn collect(
    store: &Store,
    index: &IndexJson,
    listed_by: &str,
    inherited: &BTreeMap<String, String>,
    opts: &ImageOptions,
    depth: usize,
    out: &mut Vec<Candidate>,
) -> Result<(), ImageError> {
    if let Some(t) = index.media_type.as_deref().filter(|t| !INDEX_TYPES.contains(t)) {
        return Err(ImageError::BadMetadata {
            what: listed_by.to_string(),
            why: format!("media type {t:?} is not an image index"),
        });
    }
    for desc in &index.manifests {
        let mut annotations = inherited.clone();
        annotations.extend(desc.annotations.clone().unwrap_or_default());
        let media_type = desc.media_type.as_deref().unwrap_or(MANIFEST_TYPES[0]);
        if INDEX_TYPES.contains(&media_type) {
            if depth >= MAX_NESTING {
                return Err(ImageError::BadMetadata {
                    what: listed_by.to_string(),
                    why: format!("image indexes nest more than {MAX_NESTING} deep"),
                });
            }
            let digest = store::parse_digest(&desc.digest, &format!("{listed_by} entry"))?;
            let what = format!("image index sha256:{digest}");
            let bytes = load(store, desc, digest, &what, listed_by, opts.max_metadata_size)?;
            let nested: IndexJson = parse(&bytes, &what)?;
            collect(store, &nested, &what, &annotations, opts, depth + 1, out)?;
        } else if MANIFEST_TYPES.contains(&media_type) {
            out.push(Candidate {
                desc: desc.clone(),
                listed_by: listed_by.to_string(),
                annotations,
            });
        }
        // Anything else (signatures, SBOMs, artifacts) is not an image of a platform.
    }
    Ok(())
}

/// Picks the manifest: the platform asked for, else the only image, else the host's platform.
fn select(candidates: Vec<Candidate>, opts: &ImageOptions, what: &str) -> Result<Candidate, ImageError> {
    let usable: Vec<Candidate> = candidates.into_iter().filter(|c| !c.is_attestation()).collect();
    let available = || {
        let v: Vec<String> = usable.iter().map(Candidate::describe).collect();
        if v.is_empty() {
            "no image manifests".to_string()
        } else {
            v.join(", ")
        }
    };
    let found = |want: &Platform| {
        usable
            .iter()
            .find(|c| c.platform().is_some_and(|p| want.matches(&p)))
            .cloned()
    };
    let (wanted, chosen) = match &opts.platform {
        Some(want) => {
            let only_unlabelled = match usable.as_slice() {
                [one] if one.desc.platform.is_none() => Some(one.clone()),
                _ => None,
            };
            // A single manifest without a platform label is checked against its config later.
            (want.to_string(), found(want).or(only_unlabelled))
        }
        None => match usable.as_slice() {
            [one] => return Ok(one.clone()),
            _ => {
                let host = Platform::host();
                (format!("{host} (this host's; no platform was given)"), found(&host))
            }
        },
    };
    chosen.ok_or_else(|| ImageError::PlatformNotFound {
        wanted,
        what: what.to_string(),
        available: available(),
    })
}

/// Reads a metadata blob and checks its size and digest against its descriptor.
fn load(
    store: &Store,
    desc: &Descriptor,
    digest: Digest,
    what: &str,
    claimed_by: &str,
    limit: u64,
) -> Result<Vec<u8>, ImageError> {
    let bytes = store.read_required(&store::blob_name(&digest), what, limit)?;
    let actual = bytes.len() as u64;
    if actual != desc.size {
        return Err(ImageError::SizeMismatch {
            blob: what.to_string(),
            claimed_by: claimed_by.to_string(),
            expected: desc.size,
            actual,
        });
    }
    let got = Digest::of(&bytes);
    if got != digest {
        return Err(ImageError::DigestMismatch {
            blob: what.to_string(),
            claimed_by: claimed_by.to_string(),
            expected: digest,
            actual: got,
        });
    }
    Ok(bytes)
}

/// Parses JSON metadata, naming the file on failure.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, ImageError> {
    serde_json::from_slice(bytes).map_err(|source| ImageError::Json {
        what: what.to_string(),
        source,
    })
}

/// The platform an image config declares (`os`, `architecture`, `variant`).
pub(crate) fn config_platform(config: &serde_json::Value) -> Option<Platform> {
    let os = config.get("os")?.as_str()?;
    let arch = config.get("architecture")?.as_str()?;
    let variant = config.get("variant").and_then(|v| v.as_str());
    Some(Platform::new(os, arch, variant))
}

/// `rootfs.diff_ids` of an image config.
pub(crate) fn diff_ids(config: &serde_json::Value, what: &str) -> Result<Vec<Digest>, ImageError> {
    let list = config
        .get("rootfs")
        .and_then(|r| r.get("diff_ids"))
        .and_then(|d| d.as_array())
        .ok_or_else(|| ImageError::BadMetadata {
            what: what.to_string(),
            why: "it has no rootfs.diff_ids list".to_string(),
        })?;
    list.iter()
        .enumerate()
        .map(|(i, v)| {
            let field = format!("{what} rootfs.diff_ids[{i}]");
            let s = v.as_str().ok_or_else(|| ImageError::BadMetadata {
                what: field.clone(),
                why: "not a string".to_string(),
            })?;
            store::parse_digest(s, &field)
        })
        .collect()
}
