//! `forensic diff` as a library call: a bundle that passed the gate ([`forensic_disk::gate`])
//! compared with its original image, or with the image as it was on the node, into a
//! [`DiffReport`] with findings.

use crate::bundle_index::{BundleEvidence, BundleIndexError, LayerMismatch, ReadLimits, TREE_INDEX, TmpfsFile};
use crate::diff::{DiffOptions, diff};
use crate::findings::{Contents, Finding, Side, content_of_interest, content_wanted, findings};
use crate::report::{Context, DiffReport, FailureRecord, ImageRecord};
use crate::{ImageError, ImageOptions, Platform, open_image};
use forensic_disk::gate::Opened;
use forensic_evidence::findings::FindingId;
use std::collections::BTreeMap;
use std::path::Path;

/// Largest image file whose content is kept for findings (account files, persistence points).
pub const MAX_CONTENT: u64 = 4 << 20;

/// What to compare the bundle with.
#[derive(Debug, Clone, Copy)]
pub enum ImageSide<'a> {
    /// An image file or directory (OCI layout or archive, docker-archive, rootfs dir or tar),
    /// with the platform to pick from a multi-platform image.
    File {
        /// The image.
        path: &'a Path,
        /// `OS/ARCH[/VARIANT]`.
        platform: Option<&'a str>,
    },
    /// The lower-layer indexes the collector stored (`9-image/layers/`): the image as it was on
    /// the node.
    FromBundle,
}

/// Why the diff could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleDiffError {
    /// The bundle's filesystem evidence could not be read.
    #[error("reading {bundle}: {source}")]
    Bundle {
        /// The bundle as named.
        bundle: String,
        /// What went wrong.
        source: Box<BundleIndexError>,
    },
    /// The image could not be read (or the platform is not `OS/ARCH[/VARIANT]`).
    #[error(transparent)]
    Image(#[from] ImageError),
}

/// Compares `bundle` (named `shown` in the report) with `image`. `all` also lists what
/// `podman diff` leaves out.
///
/// # Errors
/// [`BundleDiffError::Bundle`] when a member the diff needs is missing, malformed or does not
/// check against the manifest (a forced bundle's mismatches are warnings in the report instead);
/// [`BundleDiffError::Image`] when the image cannot be read.
pub fn diff_bundle(
    bundle: &Opened,
    shown: &str,
    image: ImageSide<'_>,
    all: bool,
) -> Result<DiffReport, BundleDiffError> {
    let in_bundle = |source| BundleDiffError::Bundle {
        bundle: shown.to_string(),
        source: Box::new(source),
    };
    let mut evidence = BundleEvidence::open(bundle.file(), bundle.manifest(), bundle.check(), ReadLimits::default())
        .map_err(in_bundle)?;
    let container = evidence.container().map_err(in_bundle)?;
    let (image, record, image_contents) = match image {
        ImageSide::File { path, platform } => {
            let platform = platform.map(Platform::parse).transpose()?;
            let img = open_image(path, &ImageOptions::with_platform(platform))?;
            let (index, contents) = img.index_with_contents(content_of_interest, MAX_CONTENT)?;
            let kind = img.kind().name();
            let record = ImageRecord {
                source: kind.to_string(),
                path: Some(path.display().to_string()),
                description: format!("image {kind} {}", path.display()),
                entries: index.len(),
            };
            (index, record, contents)
        }
        ImageSide::FromBundle => {
            let index = evidence.image_from_layers().map_err(in_bundle)?;
            let record = ImageRecord {
                source: "bundle".into(),
                path: None,
                description: "9-image/layers".into(),
                entries: index.len(),
            };
            // The node's layer indexes carry no contents: per-account findings then use the
            // container's copies alone.
            (index, record, Contents::new())
        }
    };
    let mut layer_findings: Vec<Finding> = evidence.layer_mismatches().iter().map(layer_finding).collect();
    layer_findings.extend(
        evidence
            .tmpfs_files()
            .iter()
            .map(|f| tmpfs_finding(f, evidence.copy_of_entry(&f.path, &f.entry))),
    );
    if evidence.tmpfs_files_more() > 0 {
        layer_findings.push(Finding::new(
            crate::findings::Severity::Medium,
            FindingId::FileOnTmpfs,
            format!(
                "{} more regular files on tmpfs mounts (the first {} are listed one by one)",
                evidence.tmpfs_files_more(),
                crate::bundle_index::MAX_TMPFS_FILES
            ),
            vec![TREE_INDEX.to_string()],
        ));
    }
    let d = diff(&image, &container, &DiffOptions { all });
    let wanted = content_wanted(&d.changes);
    let loaded = evidence.container_contents(&container, &wanted).map_err(in_bundle)?;
    // Every changed file's copy is named in its findings' evidence, read or not.
    let mut sources = evidence.copies(
        &container,
        d.changes
            .iter()
            .filter(|c| c.kind != crate::diff::ChangeKind::Deleted)
            .map(|c| &c.path),
    );
    sources.extend(loaded.members.clone());
    let no_sources = BTreeMap::new();
    let mut found: Vec<Finding> = findings(
        &d.changes,
        &Side {
            index_source: &record.description,
            index: &image,
            contents: &image_contents,
            sources: &no_sources,
        },
        &Side {
            index_source: TREE_INDEX,
            index: &container.files,
            contents: &loaded.contents,
            sources: &sources,
        },
    );
    found.extend(layer_findings);
    // As findings() orders its own: most severe first, then path, kind and message.
    found.sort_by(|a, b| (a.severity, &a.path, a.kind, &a.message).cmp(&(b.severity, &b.path, b.kind, &b.message)));
    let report = bundle.report();
    let ctx = Context {
        bundle: shown.to_string(),
        verified: report.verified(),
        forced: bundle.forced(),
        failures: report.failures.iter().map(FailureRecord::from).collect(),
        warnings: evidence.warnings().to_vec(),
        image: record,
        all,
    };
    Ok(DiffReport::new(ctx, d, found, &image, &container.files))
}

/// `file-on-tmpfs`: a regular file on a tmpfs mount, with its index line and its copy as evidence.
fn tmpfs_finding(f: &TmpfsFile, copy: Option<String>) -> Finding {
    let described = format!("{}: {}", f.path, crate::findings::describe(&f.entry));
    let mut evidence = vec![format!("{TREE_INDEX} line {}", f.line)];
    evidence.extend(copy);
    forensic_evidence::findings::file_on_tmpfs(&f.path, &f.mount, f.entry.mode & 0o111 != 0, &described, evidence)
}

/// `layer-checksum-mismatch`: a lower-layer file the collector found different from the node's
/// record of its layer, with the index line and the copy as evidence.
fn layer_finding(m: &LayerMismatch) -> Finding {
    let mut evidence = vec![format!(
        "{} line {}: {}: layer_checksum differs",
        m.index_member, m.line, m.path
    )];
    let kept = match &m.copy {
        Some(copy) => {
            evidence.push(copy.clone());
            format!("its bytes are kept in {copy}")
        }
        None => "the bundle holds no copy of it".to_string(),
    };
    Finding::new(
        crate::findings::Severity::High,
        FindingId::LayerChecksumMismatch,
        format!(
            "{} in lower layer {} differs from the node's record of that layer (size or CRC-64 in its tar-split): the node's copy of the image was changed after it was unpacked; {kept}",
            m.path, m.layer
        ),
        evidence,
    )
    .with_path(&m.path)
}
