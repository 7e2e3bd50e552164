//! `forensic diff` as a library call: a bundle that passed the gate ([`forensic_disk::gate`])
//! compared with its original image, or with the image as it was on the node, into a
//! [`DiffReport`] with findings.

use crate::bundle_index::{
    BundleEvidence, BundleIndexError, LayerMismatch, ReadLimits, SortedContainer, TREE_INDEX, TmpfsFile,
};
use crate::diff::{Around, ContainerFs, DiffOptions, Kept, diff_sorted};
use crate::findings::{Contents, Finding, Side, content_of_interest, content_wanted, findings, unlisted_findings};
use crate::report::{Context, DiffReport, FailureRecord, ImageRecord};
use crate::runtime_paths::RuntimeMade;
use crate::{ImageError, ImageOptions, Platform, open_image};
use forensic_disk::gate::Opened;
use forensic_evidence::findings::FindingId;
use forensic_evidence::records::container::{ContainerRecord, Runtime};
use std::collections::BTreeMap;
use std::path::Path;

/// Largest image file whose content is kept for findings (account files, persistence points).
pub const MAX_CONTENT: u64 = 4 << 20;

/// Index entries held in memory by each of the two sorts (the container's and the image layers'),
/// in bytes; the rest wait in temporary files. The diff's memory is thus flat in the number of
/// files: these two, plus the directories and the changes.
pub const SORT_BYTES: usize = 16 << 20;

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
    let SortedContainer {
        entries,
        unexplored,
        writable,
    } = evidence.container_sorted(SORT_BYTES).map_err(in_bundle)?;
    let record = evidence.container_record().map_err(in_bundle)?;
    let opts = options_for(record.as_ref(), all);
    let around = Around {
        unexplored: &unexplored,
        writable: writable.as_ref(),
    };
    let (d, kept, image_record, image_contents) = match image {
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
            let (d, kept) = diff_sorted(index.values().map(Ok), entries, &around, &opts).map_err(in_bundle)?;
            (d, kept, record, contents)
        }
        ImageSide::FromBundle => {
            let image = evidence.image_from_layers_sorted(SORT_BYTES).map_err(in_bundle)?;
            let (d, kept) = diff_sorted(image, entries, &around, &opts).map_err(in_bundle)?;
            let record = ImageRecord {
                source: "bundle".into(),
                path: None,
                description: "9-image/layers".into(),
                entries: usize::try_from(kept.image_entries).unwrap_or(usize::MAX),
            };
            // The node's layer indexes carry no contents: per-account findings then use the
            // container's copies alone.
            (d, kept, record, Contents::new())
        }
    };
    let Kept { image, container, .. } = kept;
    let container = ContainerFs {
        files: container,
        unexplored,
        writable,
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
    let wanted = content_wanted(d.changes.iter().chain(&d.unlisted));
    let loaded = evidence.container_contents(&container, &wanted).map_err(in_bundle)?;
    // Every changed file's copy is named in its findings' evidence, read or not.
    let mut sources = evidence.copies(
        &container,
        d.changes
            .iter()
            .chain(&d.unlisted)
            .filter(|c| c.kind != crate::diff::ChangeKind::Deleted)
            .map(|c| &c.path),
    );
    sources.extend(loaded.members.clone());
    let no_sources = BTreeMap::new();
    let examined: Vec<crate::diff::Change> = d.changes.iter().chain(&d.unlisted).cloned().collect();
    let image_side = Side {
        index_source: &image_record.description,
        index: &image,
        contents: &image_contents,
        sources: &no_sources,
    };
    let container_side = Side {
        index_source: TREE_INDEX,
        index: &container.files,
        contents: &loaded.contents,
        sources: &sources,
    };
    let mut found: Vec<Finding> = findings(&examined, &image_side, &container_side);
    found.extend(unlisted_findings(&d.unlisted, opts.rules, &image_side, &container_side));
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
        image: image_record,
        all,
        rules: opts.rules,
    };
    Ok(DiffReport::new(ctx, d, found, &image, &container.files))
}

/// The rules and runtime paths of the runtime the container record names: docker's for Docker,
/// the mount points of the OCI spec for a CRI runtime (containerd, CRI-O), podman's otherwise
/// (podman, and a bare process given by `--pid`). The same for `--image` and
/// `--image-from-bundle`: with `--image` the baseline lacks docker's `-init` layer, whose paths
/// are then left out as docker's runtime paths.
pub fn options_for(record: Option<&ContainerRecord>, all: bool) -> DiffOptions {
    let runtime = record.map(|r| r.runtime);
    match runtime {
        Some(Runtime::Docker) => DiffOptions::docker(all),
        Some(Runtime::Containerd | Runtime::CriO | Runtime::Crictl) => DiffOptions {
            all,
            runtime_made: RuntimeMade::with_mount_points(
                record
                    .into_iter()
                    .flat_map(|r| &r.mounts)
                    .map(|m| m.destination.as_str()),
            ),
            ..DiffOptions::default()
        },
        Some(Runtime::Podman) | None => DiffOptions {
            all,
            ..DiffOptions::default()
        },
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::Rules;
    use crate::runtime_paths::Stage;
    use forensic_evidence::records::container::{ContainerJson, ContainerMount};

    fn record(runtime: &str, mounts: &[&str]) -> ContainerRecord {
        let json = format!(
            r#"{{"runtime":"{runtime}","id":"x","name":null,"pid":1,"state":"running","created":null,"image_ref":null,
            "image_id":null,"image_digest":null,"labels":{{}},"pod":null,"namespace":null,"pod_uid":null,
            "log_path":null,"upper_dir":null,"lower_dirs":[],"merged_dir":null,"privileged":false,
            "cap_add":[],"cap_drop":[],"capabilities":null,"seccomp_profile":null,"apparmor_profile":null,
            "run_as_user":null,"read_only_rootfs":false,"mounts":[],"env":[]}}"#
        );
        let ContainerJson::Container(mut r) = serde_json::from_str(&json).unwrap() else {
            panic!("a record")
        };
        r.mounts = mounts
            .iter()
            .map(|d| ContainerMount {
                source: None,
                destination: d.to_string(),
                rw: true,
                kind: Some("bind".into()),
            })
            .collect();
        *r
    }

    #[test]
    fn the_record_chooses_the_rules() {
        let empty = crate::diff::WritableLayer {
            entries: ["/etc/hosts".to_string()].into(),
            empty: ["/etc/hosts".to_string()].into(),
            ..Default::default()
        };
        let docker = options_for(Some(&record("docker", &["/etc/hosts"])), false);
        assert_eq!((docker.rules, docker.all), (Rules::Docker, false));
        assert_eq!(
            docker.runtime_made.stage_of("/.dockerenv", None),
            Some(Stage::BeforeParents)
        );
        for cri in ["containerd", "cri-o", "crictl"] {
            let o = options_for(Some(&record(cri, &["/etc/hosts"])), true);
            assert_eq!((o.rules, o.all), (Rules::Podman, true), "{cri}");
            assert_eq!(
                o.runtime_made.stage_of("/etc/hosts", Some(&empty)),
                Some(Stage::BeforeParents)
            );
            assert_eq!(
                o.runtime_made.stage_of("/run/.containerenv", None),
                None,
                "{cri}: not podman's list"
            );
        }
        for o in [
            options_for(Some(&record("podman", &["/etc/hosts"])), false),
            options_for(None, false),
        ] {
            assert_eq!(o, DiffOptions::default());
        }
    }
}
