//! An opened image: what it is, and its merged file index.

use crate::error::ImageError;
use crate::index::FileIndex;
use crate::layer::{self, Expect, LayerSpec};
use crate::options::{ImageOptions, Platform};
use crate::rootfs;
use crate::store::Store;
use forensic_bundle::digest::Digest;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The form an image was given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ImageKind {
    /// A directory with `oci-layout`, `index.json` and `blobs/` (`podman image save --format oci-dir`).
    OciLayout,
    /// The tar of an OCI layout (`podman image save --format oci-archive`).
    OciArchive,
    /// `docker save` / `podman save` (`manifest.json` with config and layer files).
    DockerArchive,
    /// A root filesystem as a directory.
    RootfsDir,
    /// A root filesystem as a tar, plain or gzip/zstd-compressed (`podman export`).
    RootfsTar,
}

impl ImageKind {
    /// The name used in messages and reports (`oci-layout`, `docker-archive`, …).
    pub fn name(self) -> &'static str {
        match self {
            ImageKind::OciLayout => "oci-layout",
            ImageKind::OciArchive => "oci-archive",
            ImageKind::DockerArchive => "docker-archive",
            ImageKind::RootfsDir => "rootfs-dir",
            ImageKind::RootfsTar => "rootfs-tar",
        }
    }
}

/// One layer of an image, as its metadata describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LayerInfo {
    /// SHA-256 of the stored blob, when the metadata gives it (OCI always; docker-archive when
    /// the layer is stored as `blobs/sha256/<hex>`).
    pub digest: Option<Digest>,
    /// SHA-256 of the uncompressed layer tar (the config's `rootfs.diff_ids`).
    pub diff_id: Option<Digest>,
    /// Media type as declared (docker-archive: `application/vnd.docker.image.rootfs.diff.tar`;
    /// root-filesystem tar: `application/x-tar`). The compression actually read is recognised from
    /// the bytes.
    pub media_type: String,
    /// Stored size as declared by the manifest (OCI).
    pub size: Option<u64>,
    /// Where the blob is: its name in the layout or archive, or the input path.
    pub location: String,
}

/// A layer and the digests it must have.
#[derive(Debug, Clone)]
pub(crate) struct LayerPlan {
    pub info: LayerInfo,
    pub blob: Option<Expect>,
    pub diff_id: Option<Expect>,
}

/// What reading an image's metadata found.
#[derive(Debug)]
pub(crate) struct Resolved {
    pub manifest_digest: Option<Digest>,
    pub config_digest: Option<Digest>,
    pub config: serde_json::Value,
    pub layers: Vec<LayerPlan>,
    pub repo_tags: Vec<String>,
    pub platform: Option<Platform>,
}

/// An image opened by [`open_image`](crate::open_image): its metadata is read and checked; its
/// layers are read by [`Image::index`].
#[derive(Debug)]
pub struct Image {
    pub(crate) path: PathBuf,
    pub(crate) kind: ImageKind,
    pub(crate) store: Option<Store>,
    pub(crate) opts: ImageOptions,
    pub(crate) resolved: Resolved,
}

impl Image {
    /// The input path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The form of the input.
    pub fn kind(&self) -> ImageKind {
        self.kind
    }

    /// Digest of the chosen image manifest (OCI forms), checked against the index that lists it.
    pub fn manifest_digest(&self) -> Option<Digest> {
        self.resolved.manifest_digest
    }

    /// Digest of the image config, checked (OCI: against the manifest; docker-archive: against
    /// the config's file name).
    pub fn config_digest(&self) -> Option<Digest> {
        self.resolved.config_digest
    }

    /// The image config (`Null` for a root filesystem).
    pub fn config(&self) -> &serde_json::Value {
        &self.resolved.config
    }

    /// The layers, lowest first.
    pub fn layers(&self) -> Vec<&LayerInfo> {
        self.resolved.layers.iter().map(|l| &l.info).collect()
    }

    /// Names the archive or layout gives the image (docker `RepoTags`, OCI name annotations).
    pub fn repo_tags(&self) -> &[String] {
        &self.resolved.repo_tags
    }

    /// The platform the config declares.
    pub fn platform(&self) -> Option<&Platform> {
        self.resolved.platform.as_ref()
    }

    /// Reads the layers in order, checking each one's digest, and returns the merged file index:
    /// every path of the image's root filesystem, with the SHA-256 of every regular file.
    ///
    /// Layers are streamed: no layer is held in memory and nothing is written to disk. Each call
    /// reads the layers again.
    ///
    /// # Errors
    /// A layer that is missing or does not match its digest or size ([`ImageError::DigestMismatch`]
    /// names it); hostile content ([`ImageError::PathEscape`], [`ImageError::AbsurdSize`],
    /// [`ImageError::LinkOutsideTree`], [`ImageError::Truncated`], …); a limit of
    /// [`ImageOptions`] passed; an I/O error.
    ///
    /// # Security
    /// Entry names are checked paths, never used on the filesystem; symlinks are recorded, never
    /// followed; sizes a tar declares are bounded before anything is read.
    pub fn index(&self) -> Result<FileIndex, ImageError> {
        self.index_capturing(None)
    }

    /// Like [`Image::index`], also returning the content of every regular file whose path `want`
    /// accepts and whose size is at most `max` bytes (account files and persistence points, for
    /// findings), as it is in the final image. A root-filesystem directory gives no contents.
    ///
    /// # Errors
    /// As [`Image::index`].
    pub fn index_with_contents(
        &self,
        want: fn(&str) -> bool,
        max: u64,
    ) -> Result<(FileIndex, BTreeMap<String, Vec<u8>>), ImageError> {
        let state = layer::CaptureState {
            want,
            max,
            by_digest: std::collections::HashMap::new(),
        };
        let capture = std::sync::Arc::new(std::sync::Mutex::new(state));
        let index = self.index_capturing(Some(capture.clone()))?;
        let mut contents = BTreeMap::new();
        if let Ok(c) = capture.lock() {
            for (path, e) in &index {
                if let Some(bytes) = e.sha256.and_then(|d| c.by_digest.get(&d)).filter(|_| want(path)) {
                    contents.insert(path.clone(), bytes.clone());
                }
            }
        }
        Ok((index, contents))
    }

    fn index_capturing(&self, capture: Option<layer::Capture>) -> Result<FileIndex, ImageError> {
        match (self.kind, &self.store) {
            (ImageKind::RootfsDir, _) => rootfs::index_dir(&self.path, &self.opts),
            (ImageKind::RootfsTar, _) => rootfs::index_tar(&self.path, &self.opts, capture),
            (_, Some(store)) => self.index_layers(store, capture),
            (_, None) => Err(ImageError::UnknownFormat {
                path: self.path.clone(),
                why: "no blob store".to_string(),
            }),
        }
    }

    fn index_layers(&self, store: &Store, capture: Option<layer::Capture>) -> Result<FileIndex, ImageError> {
        let mut index = FileIndex::new();
        index.insert("/".to_string(), crate::tree::implicit_dir("/"));
        let mut entries_used = 0u64;
        let n = self.resolved.layers.len();
        for (i, plan) in self.resolved.layers.iter().enumerate() {
            let name = format!("layer {} of {n} ({})", i + 1, store.location(&plan.info.location));
            let Some((blob, size)) = store.open(&plan.info.location)? else {
                return Err(ImageError::MissingBlob {
                    what: format!("layer {} of {n}", i + 1),
                    location: store.location(&plan.info.location),
                });
            };
            if let Some(expected) = plan.info.size.filter(|s| *s != size) {
                return Err(ImageError::SizeMismatch {
                    blob: name,
                    claimed_by: "the manifest".to_string(),
                    expected,
                    actual: size,
                });
            }
            let spec = LayerSpec {
                name,
                blob: plan.blob.clone(),
                diff_id: plan.diff_id.clone(),
                whiteouts: true,
                capture: capture.clone(),
            };
            layer::apply_layer(&mut index, blob, &spec, &self.opts, &mut entries_used)?;
        }
        Ok(index)
    }
}
