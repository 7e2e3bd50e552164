//! The machine-readable result of `forensic diff --json` (schema `forensic-diff/1`, documented in
//! `docs/diff-json.md`): one JSON object with the verification verdict, the image compared with,
//! the change list with both sides' entries, the findings, and where nothing could be compared.

use crate::diff::{Change, ChangeKind, Diff, NotCompared, Reason, Rules};
use crate::findings::Finding;
use crate::index::{FileEntry, FileIndex, Kind};
use forensic_bundle::verify::Failure;
pub use forensic_evidence::findings::SeverityCounts;
use serde::Serialize;

/// The schema identifier; changes that remove or retype a field get a new one.
pub const SCHEMA: &str = "forensic-diff/1";

/// The whole report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffReport {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// The bundle as named on the command line.
    pub bundle: String,
    /// Whether the bundle verified (SPEC §11).
    pub verified: bool,
    /// Whether `--force` made the diff run on a bundle that did not verify.
    pub forced: bool,
    /// What verification found (empty when `verified`).
    pub verification_failures: Vec<FailureRecord>,
    /// Evidence used although it did not check (members that no longer match the manifest…).
    pub warnings: Vec<String>,
    /// What the container was compared with.
    pub image: ImageRecord,
    /// Whether `--all` was given.
    pub all: bool,
    /// Whose change list is reproduced: `docker` for a Docker container, else `podman`.
    pub rules: Rules,
    /// Counts.
    pub summary: Summary,
    /// The change list, sorted by path.
    pub changes: Vec<ChangeRecord>,
    /// The findings, critical first.
    pub findings: Vec<Finding>,
    /// Image paths not compared because the container side is unknown there.
    pub not_compared: Vec<NotCompared>,
}

/// One verification failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureRecord {
    /// SPEC §12 class id.
    pub class: &'static str,
    /// The member concerned.
    pub member: Option<String>,
    /// The custody entry concerned.
    pub entry: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl From<&Failure> for FailureRecord {
    fn from(f: &Failure) -> Self {
        FailureRecord {
            class: f.class.as_str(),
            member: f.member.clone(),
            entry: f.entry,
            message: f.message.clone(),
        }
    }
}

/// The image side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageRecord {
    /// `oci-layout`, `oci-archive`, `docker-archive`, `rootfs-dir`, `rootfs-tar`, or `bundle`
    /// (the lower-layer indexes the collector stored).
    pub source: String,
    /// The image file or directory; `null` for `bundle`.
    pub path: Option<String>,
    /// In words, as the evidence strings name it.
    pub description: String,
    /// Entries in the image index.
    pub entries: usize,
}

/// Counts of the report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// `A` lines.
    pub added: usize,
    /// `C` lines.
    pub changed: usize,
    /// `D` lines.
    pub deleted: usize,
    /// Findings by severity.
    pub findings: SeverityCounts,
}

/// One line of the change list with both sides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeRecord {
    /// `A`, `C` or `D`.
    pub change: ChangeKind,
    /// Absolute path.
    pub path: String,
    /// Why (see [`Reason`]).
    pub reasons: Vec<Reason>,
    /// The image's entry (`null` for `A`).
    pub image: Option<EntryRecord>,
    /// The container's entry (`null` for `D`).
    pub container: Option<EntryRecord>,
}

/// An index entry in JSON form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryRecord {
    /// `file`, `dir`, `symlink`, `fifo`, `socket`, `char`, `block`.
    #[serde(rename = "type")]
    pub kind: Kind,
    /// Permission bits, four octal digits.
    pub mode: String,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Size in bytes.
    pub size: u64,
    /// Modification time in nanoseconds since the epoch, when known.
    pub mtime_ns: Option<i64>,
    /// SHA-256, lowercase hex, for regular files whose content was hashed.
    pub sha256: Option<String>,
    /// Symlink target.
    pub link_target: Option<String>,
}

impl From<&FileEntry> for EntryRecord {
    fn from(e: &FileEntry) -> Self {
        EntryRecord {
            kind: e.kind,
            mode: format!("{:04o}", e.mode),
            uid: e.uid,
            gid: e.gid,
            size: e.size,
            mtime_ns: e.mtime_ns,
            sha256: e.sha256.map(|d| d.hex()),
            link_target: e.link_target.clone(),
        }
    }
}

/// The parts of a report that are not the diff itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// The bundle as named on the command line.
    pub bundle: String,
    /// Whether it verified.
    pub verified: bool,
    /// Whether `--force` was given.
    pub forced: bool,
    /// Verification failures.
    pub failures: Vec<FailureRecord>,
    /// Warnings from reading the evidence.
    pub warnings: Vec<String>,
    /// The image side.
    pub image: ImageRecord,
    /// `--all`.
    pub all: bool,
    /// The rules the change list follows.
    pub rules: Rules,
}

impl DiffReport {
    /// Assembles the report.
    pub fn new(ctx: Context, diff: Diff, findings: Vec<Finding>, image: &FileIndex, container: &FileIndex) -> Self {
        let count = |k: ChangeKind| diff.changes.iter().filter(|c| c.kind == k).count();
        let summary = Summary {
            added: count(ChangeKind::Added),
            changed: count(ChangeKind::Changed),
            deleted: count(ChangeKind::Deleted),
            findings: SeverityCounts::of(&findings),
        };
        let changes = diff
            .changes
            .into_iter()
            .map(|Change { kind, path, reasons }| ChangeRecord {
                change: kind,
                image: image.get(&path).map(EntryRecord::from),
                container: container.get(&path).map(EntryRecord::from),
                path,
                reasons,
            })
            .collect();
        DiffReport {
            schema: SCHEMA,
            bundle: ctx.bundle,
            verified: ctx.verified,
            forced: ctx.forced,
            verification_failures: ctx.failures,
            warnings: ctx.warnings,
            image: ctx.image,
            all: ctx.all,
            rules: ctx.rules,
            summary,
            changes,
            findings,
            not_compared: diff.not_compared,
        }
    }

    /// Whether there are differences (`diff`'s exit status 3): a change from the image, a
    /// lower-layer file that differs from the node's record of its layer (no change from the
    /// layer indexes, which hold the changed file), or a content change the runtime's diff
    /// cannot show (not in the change list without `--all`).
    pub fn differs(&self) -> bool {
        use forensic_evidence::findings::FindingId;
        !self.changes.is_empty()
            || self.findings.iter().any(|f| {
                matches!(
                    f.kind,
                    FindingId::LayerChecksumMismatch | FindingId::ContentChangedMetadataKept
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::Severity;
    use forensic_bundle::digest::Digest;
    use forensic_evidence::findings::FindingId;

    #[test]
    fn the_json_form_is_the_documented_one() {
        let file = |content: &[u8]| FileEntry {
            path: "/etc/passwd".into(),
            kind: Kind::File,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: content.len() as u64,
            mtime_ns: Some(7),
            sha256: Some(Digest::of(content)),
            link_target: None,
        };
        let image: FileIndex = [("/etc/passwd".to_string(), file(b"a"))].into();
        let container: FileIndex = [("/etc/passwd".to_string(), file(b"b"))].into();
        let diff = Diff {
            changes: vec![Change {
                kind: ChangeKind::Changed,
                path: "/etc/passwd".into(),
                reasons: vec![Reason::Content, Reason::LowerLayer],
            }],
            not_compared: vec![NotCompared {
                path: "/dev".into(),
                why: "another filesystem: not entered".into(),
                image_entries: 2,
            }],
            unlisted: vec![],
        };
        let finding =
            Finding::new(Severity::High, FindingId::AccountFileChanged, "m", vec!["e".into()]).with_path("/etc/passwd");
        let ctx = Context {
            bundle: "b.zip".into(),
            verified: true,
            forced: false,
            failures: vec![],
            warnings: vec![],
            image: ImageRecord {
                source: "oci-archive".into(),
                path: Some("img.tar".into()),
                description: "image oci-archive img.tar".into(),
                entries: 1,
            },
            all: false,
            rules: Rules::Docker,
        };
        let r = DiffReport::new(ctx, diff, vec![finding], &image, &container);
        assert!(r.differs());
        let v = serde_json::to_value(&r).unwrap();
        let expected = serde_json::json!({
            "schema": "forensic-diff/1", "bundle": "b.zip", "verified": true, "forced": false,
            "verification_failures": [], "warnings": [],
            "image": {"source": "oci-archive", "path": "img.tar", "description": "image oci-archive img.tar", "entries": 1},
            "all": false, "rules": "docker",
            "summary": {"added": 0, "changed": 1, "deleted": 0,
                        "findings": {"critical": 0, "high": 1, "medium": 0, "low": 0, "info": 0}},
            "changes": [{"change": "C", "path": "/etc/passwd", "reasons": ["content", "lower-layer"],
                "image": {"type": "file", "mode": "0644", "uid": 0, "gid": 0, "size": 1, "mtime_ns": 7,
                          "sha256": Digest::of(b"a").hex(), "link_target": null},
                "container": {"type": "file", "mode": "0644", "uid": 0, "gid": 0, "size": 1, "mtime_ns": 7,
                          "sha256": Digest::of(b"b").hex(), "link_target": null}}],
            "findings": [{"severity": "high", "kind": "account-file-changed", "path": "/etc/passwd",
                          "message": "m", "evidence": ["e"]}],
            "not_compared": [{"path": "/dev", "why": "another filesystem: not entered", "image_entries": 2}],
        });
        assert_eq!(v, expected);
    }
}
