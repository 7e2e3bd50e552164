//! The files `extract` writes beside the members: `SHA256SUMS` and the JSON report.

use crate::extract::{ExtractOptions, ExtractSummary, Outcome};
use forensic_bundle::manifest::{FileKind, FileMeta, Member, RawPath, Source};
use serde_json::{Value, json};
use std::path::Path;

/// `sha256sum -c` lines for every extracted member: the manifest's (sealed) digest where there is
/// one, so that the check compares the copy with the seal; else the digest of what was written.
pub(crate) fn sha256sums(s: &ExtractSummary) -> String {
    let mut out = String::new();
    for m in &s.members {
        if let Outcome::Extracted { sha256, .. } = &m.outcome {
            let d = m.member.as_ref().map_or(*sha256, |x| x.sha256);
            out.push_str(&format!("{}  {}\n", d.hex(), m.name));
        }
    }
    out
}

/// The manifest's name of a file type.
pub(crate) fn kind_name(k: FileKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{k:?}"))
}

fn raw_path(p: &RawPath) -> Value {
    match p {
        RawPath::Text(s) => json!(s),
        RawPath::Bytes(b) => json!({ "bytes_hex": hex(b), "display": p.display() }),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn source_json(s: &Source) -> Value {
    match s {
        Source::Path { path } => json!({ "path": raw_path(path) }),
        Source::Command { argv, exit } => {
            json!({ "argv": argv.iter().map(raw_path).collect::<Vec<_>>(), "exit": exit })
        }
        Source::Derived { derived } => json!({ "derived": derived }),
    }
}

fn meta_json(m: &FileMeta) -> Value {
    json!({
        "type": kind_name(m.kind), "mode": format!("{:04o}", m.mode), "uid": m.uid, "gid": m.gid,
        "size": m.size, "mtime_ns": m.mtime_ns, "ctime_ns": m.ctime_ns, "atime_ns": m.atime_ns,
        "inode": m.inode, "dev": m.dev, "nlink": m.nlink,
        "symlink_target": m.symlink_target.as_ref().map(raw_path),
        "xattrs": m.xattrs.as_ref().map(|x| x.iter().map(|a| json!({"name": a.0, "value_hex": hex(&a.1)})).collect::<Vec<_>>()),
    })
}

fn member_json(m: &Member) -> Value {
    json!({
        "section": m.section.name(), "size": m.size, "sha256": m.sha256.hex(), "captured": m.captured.as_str(),
        "source": source_json(&m.source), "truncated": m.truncated.unwrap_or(false),
        "meta": m.meta.as_ref().map(meta_json),
    })
}

/// The report written to `REPORT_NAME`.
pub(crate) fn report_json(bundle: &Path, s: &ExtractSummary, opts: &ExtractOptions) -> Value {
    let r = &s.report;
    let members: Vec<Value> = s
        .members
        .iter()
        .map(|m| {
            let (status, extra) = match &m.outcome {
                Outcome::Extracted {
                    size,
                    sha256,
                    matches_manifest,
                } => (
                    "extracted",
                    json!({ "path": m.name, "written_size": size, "written_sha256": sha256.hex(),
                            "matches_manifest": matches_manifest }),
                ),
                Outcome::Skipped(why) => ("skipped", json!({ "reason": why })),
            };
            json!({
                "name": m.name, "status": status, "result": extra, "notes": m.notes,
                "original": m.member.as_ref().map(member_json),
            })
        })
        .collect();
    json!({
        "format": "forensic-extract-report",
        "version": 1,
        "bundle": bundle.display().to_string(),
        "bundle_id": r.manifest.as_ref().map(|m| m.bundle_id.clone()),
        "manifest_sha256": r.manifest_digest.map(|d| d.hex()),
        "custody_head_sha256": r.custody_head.map(|d| d.hex()),
        "verification": {
            "verified": r.verified(),
            "trust_checked": r.custody.first().is_some_and(|c| c.trusted.is_some()),
            "failures": r.failures.iter().map(|f| json!({
                "class": f.class.as_str(), "member": f.member, "entry": f.entry, "message": f.message,
            })).collect::<Vec<_>>(),
        },
        "forced": s.forced,
        "complete": s.complete(),
        "filters": {
            "sections": opts.sections.iter().map(|x| x.name()).collect::<Vec<_>>(),
            "paths": opts.paths,
        },
        "permissions": "files are written 0644 and directories 0755 (before the umask); owners, modes, times, \
    links and device nodes are not restored: each member's original metadata is under \"original\".",
        "archive_problems": s.archive_problems,
        "extracted": s.extracted(),
        "skipped": s.skipped().count(),
        "members": members,
    })
}
