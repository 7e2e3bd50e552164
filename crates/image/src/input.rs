//! Recognising what an image input is and opening it.

use crate::docker;
use crate::error::ImageError;
use crate::image::{Image, ImageKind, LayerInfo, LayerPlan, Resolved};
use crate::oci;
use crate::options::ImageOptions;
use crate::store::{self, Store};
use crate::stream::{self, Compression};
use std::fs::{self, File};
use std::io::Read;
use std::path::Path;

/// Opens an image or root filesystem, recognising its form:
///
/// | input | form |
/// |---|---|
/// | directory with an `oci-layout` file | [`ImageKind::OciLayout`] |
/// | other directory | [`ImageKind::RootfsDir`] |
/// | tar with a top-level `oci-layout` member | [`ImageKind::OciArchive`] |
/// | tar with a top-level `manifest.json` that is a JSON array | [`ImageKind::DockerArchive`] |
/// | other tar, or a gzip- or zstd-compressed file | [`ImageKind::RootfsTar`] |
///
/// Image metadata (index, manifest, config) is read and checked against its digests here; the
/// layers are read by [`Image::index`]. An archive's tar headers are scanned once to locate its
/// members; nothing is extracted.
///
/// ```no_run
/// use forensic_image::{open_image, ImageOptions, Platform};
/// # fn main() -> Result<(), forensic_image::ImageError> {
/// let opts = ImageOptions::with_platform(Some(Platform::parse("linux/amd64")?));
/// let image = open_image(std::path::Path::new("app.oci.tar"), &opts)?;
/// let index = image.index()?;
/// println!("{} layers, {} paths", image.layers().len(), index.len());
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`ImageError::UnknownFormat`] for a file that is neither a tar nor gzip/zstd;
/// [`ImageError::UnsupportedCompression`] for xz, bzip2 and lz4; [`ImageError::PlatformNotFound`]
/// when the index has no image of the platform; metadata that is missing, malformed or does not
/// match its digest; I/O errors.
pub fn open_image(path: &Path, opts: &ImageOptions) -> Result<Image, ImageError> {
    let io_err = |source| ImageError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = fs::metadata(path).map_err(io_err)?;
    let image = |kind, store: Option<Store>, resolved| Image {
        path: path.to_path_buf(),
        kind,
        store,
        opts: opts.clone(),
        resolved,
    };
    if meta.is_dir() {
        if fs::symlink_metadata(path.join("oci-layout")).is_ok_and(|m| m.is_file()) {
            let store = Store::Dir(path.to_path_buf());
            let resolved = oci::resolve(&store, opts)?;
            return Ok(image(ImageKind::OciLayout, Some(store), resolved));
        }
        return Ok(image(ImageKind::RootfsDir, None, rootfs_resolved(Vec::new())));
    }
    if !meta.is_file() {
        return Err(ImageError::UnknownFormat {
            path: path.to_path_buf(),
            why: "it is neither a regular file nor a directory".to_string(),
        });
    }
    let mut head = Vec::with_capacity(512);
    File::open(path)
        .map_err(io_err)?
        .take(512)
        .read_to_end(&mut head)
        .map_err(io_err)?;
    let compression = stream::sniff(&head).map_err(|c| ImageError::UnsupportedCompression {
        what: path.display().to_string(),
        compression: c,
    })?;
    let rootfs_tar = |media_type: &str| {
        let layer = LayerPlan {
            info: LayerInfo {
                digest: None,
                diff_id: None,
                media_type: media_type.to_string(),
                size: Some(meta.len()),
                location: path.display().to_string(),
            },
            blob: None,
            diff_id: None,
        };
        image(ImageKind::RootfsTar, None, rootfs_resolved(vec![layer]))
    };
    match compression {
        Compression::Gzip => return Ok(rootfs_tar("application/x-tar+gzip")),
        Compression::Zstd => return Ok(rootfs_tar("application/x-tar+zstd")),
        Compression::None => {}
    }
    if !looks_like_tar(&head) {
        return Err(ImageError::UnknownFormat {
            path: path.to_path_buf(),
            why: if head.is_empty() {
                "the file is empty".to_string()
            } else {
                "it is not a tar archive (no valid tar header at its start) and not gzip or zstd".to_string()
            },
        });
    }
    let scan = store::scan_archive(path, opts.max_entries)?;
    let (has_layout, has_manifest) = (scan.has("oci-layout"), scan.has("manifest.json"));
    let problem = scan.problem.clone();
    let store = Store::Archive {
        path: path.to_path_buf(),
        scan,
    };
    let kind = if has_layout {
        ImageKind::OciArchive
    } else if has_manifest
        && docker::looks_like_docker_manifest(&store.read_required(
            "manifest.json",
            "manifest.json",
            opts.max_metadata_size,
        )?)
    {
        ImageKind::DockerArchive
    } else {
        // A tar that is not an image archive is a root filesystem; reading it as one reports
        // precisely what is wrong with it, if anything is.
        return Ok(rootfs_tar("application/x-tar"));
    };
    if let Some(why) = problem {
        return Err(ImageError::BadArchive {
            path: path.to_path_buf(),
            why,
        });
    }
    let resolved = match kind {
        ImageKind::DockerArchive => docker::resolve(&store, opts)?,
        _ => oci::resolve(&store, opts)?,
    };
    Ok(image(kind, Some(store), resolved))
}

fn rootfs_resolved(layers: Vec<LayerPlan>) -> Resolved {
    Resolved {
        manifest_digest: None,
        config_digest: None,
        config: serde_json::Value::Null,
        layers,
        repo_tags: Vec::new(),
        platform: None,
    }
}

/// Whether `head` starts with a tar header: a block of zeros (an empty archive) or a header whose
/// checksum is right.
fn looks_like_tar(head: &[u8]) -> bool {
    let Some(block) = head.get(..512) else {
        return false;
    };
    if block.iter().all(|b| *b == 0) {
        return true;
    }
    let Some(field) = block.get(148..156) else {
        return false;
    };
    let digits: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|b| *b == b' ')
        .take_while(|b| b.is_ascii_digit())
        .collect();
    let Some(stored) = std::str::from_utf8(&digits)
        .ok()
        .and_then(|s| u32::from_str_radix(s, 8).ok())
    else {
        return false;
    };
    let sum: u32 = block
        .iter()
        .enumerate()
        .map(|(i, b)| if (148..156).contains(&i) { 32 } else { u32::from(*b) })
        .sum();
    sum == stored
}
