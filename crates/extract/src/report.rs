//! The files `extract` writes beside the members: `SHA256SUMS` and the JSON report.

use crate::extract::{ExtractOptions, ExtractSummary, Outcome};
use forensic_bundle::manifest::FileKind;
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
                "original": m.member.as_ref().map(forensic_bundle::json_view::member),
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
