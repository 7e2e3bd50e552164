//! Rendering reports and manifests for people (tables) and machines (`--json`).

use forensic_bundle::manifest::{FileMeta, Manifest, Member, RawPath, Source};
use forensic_bundle::verify::{CustodyRecord, Failure, Report};
use serde_json::{Value, json};
use std::io::{self, Write};

/// `n` and the noun, plural unless `n` is 1: `1 problem`, `3 problems`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Human byte count: `512 B`, `12.3 KiB`, `1.0 GiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = UNITS[0];
    for u in UNITS.iter().skip(1) {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

fn raw_path(p: &RawPath) -> Value {
    match p {
        RawPath::Text(s) => json!(s),
        RawPath::Bytes(b) => json!({ "bytes_hex": hex::encode(b), "display": p.display() }),
    }
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
        "type": m.kind, "mode": format!("{:04o}", m.mode), "uid": m.uid, "gid": m.gid, "size": m.size,
        "mtime_ns": m.mtime_ns, "ctime_ns": m.ctime_ns, "atime_ns": m.atime_ns, "inode": m.inode, "dev": m.dev,
        "nlink": m.nlink, "symlink_target": m.symlink_target.as_ref().map(raw_path),
        "xattrs": m.xattrs.as_ref().map(|x| x.iter().map(|a| json!({"name": a.0, "value_hex": hex::encode(&a.1)})).collect::<Vec<_>>()),
    })
}

/// JSON for one member.
pub fn member_json(m: &Member) -> Value {
    json!({
        "name": m.name, "section": m.section.name(), "size": m.size, "sha256": m.sha256.hex(),
        "captured": m.captured.as_str(), "source": source_json(&m.source), "source_text": m.source.describe(),
        "truncated": m.truncated.unwrap_or(false), "meta": m.meta.as_ref().map(meta_json),
    })
}

/// JSON for one failure.
pub fn failure_json(f: &Failure) -> Value {
    json!({ "class": f.class.as_str(), "member": f.member, "entry": f.entry, "message": f.message })
}

/// JSON for one custody record.
pub fn custody_json(seq: usize, c: &CustodyRecord) -> Value {
    let p = &c.payload;
    json!({
        "seq": seq, "action": p.action, "time": p.time.as_str(), "actor": p.actor.name,
        "fingerprint": c.signer.hex(), "signature_ok": c.signature_ok, "trusted": c.trusted,
        "recipient": p.recipient.map(|r| r.hex()), "note": p.note, "entry_sha256": c.digest.hex(),
        "manifest_sha256": p.manifest_sha256.hex(),
    })
}

/// Per-section member count and bytes.
pub fn section_stats(m: &Manifest) -> Vec<Value> {
    m.sections
        .iter()
        .map(|s| {
            let members: Vec<&Member> = m.members.iter().filter(|x| x.section.name() == s.name).collect();
            json!({
                "number": s.number, "name": s.name, "started": s.started.as_str(), "finished": s.finished.as_str(),
                "members": members.len(), "bytes": members.iter().map(|x| x.size).sum::<u64>(),
            })
        })
        .collect()
}

/// The `verify --json` document.
pub fn report_json(bundle: &str, r: &Report) -> Value {
    let m = r.manifest.as_ref();
    json!({
        "bundle": bundle,
        "verified": r.verified(),
        "failures": r.failures.iter().map(failure_json).collect::<Vec<_>>(),
        "bundle_id": m.map(|m| m.bundle_id.clone()),
        "created": m.map(|m| m.created.as_str().to_string()),
        "manifest_sha256": r.manifest_digest.map(|d| d.hex()),
        "custody_head_sha256": r.custody_head.map(|d| d.hex()),
        "case": m.map(|m| serde_json::to_value(&m.case).unwrap_or(Value::Null)),
        "target": m.map(|m| serde_json::to_value(&m.target).unwrap_or(Value::Null)),
        "collector": m.map(|m| json!({"tool": m.collector.tool, "version": m.collector.version,
            "host": m.collector.host, "kernel": m.collector.kernel})),
        "sections": m.map(section_stats),
        "members": m.map(|m| m.members.len()),
        "bytes": m.map(|m| m.members.iter().map(|x| x.size).sum::<u64>()),
        "bytes_checked": r.bytes_checked,
        "gaps": m.map(|m| m.gaps.iter().map(|g| json!({"section": g.section.name(), "what": g.what, "reason": g.reason})).collect::<Vec<_>>()),
        "custody": r.custody.iter().enumerate().map(|(i, c)| custody_json(i, c)).collect::<Vec<_>>(),
    })
}

/// The short time of day of a SPEC §5 time, to milliseconds.
fn short_time(t: &str) -> &str {
    t.get(11..23).unwrap_or(t)
}

/// Human summary of the bundle's header and sections.
pub fn print_header(out: &mut impl Write, m: &Manifest) -> io::Result<()> {
    writeln!(out, "  bundle    {}  created {}", m.bundle_id, m.created)?;
    let c = &m.case;
    let case: Vec<String> = [
        c.case_id.as_ref().map(|v| format!("case {v}")),
        c.evidence_number.as_ref().map(|v| format!("evidence {v}")),
        c.examiner.as_ref().map(|v| format!("examiner {v}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !case.is_empty() {
        writeln!(out, "  case      {}", case.join(" · "))?;
    }
    if let Some(n) = &c.notes {
        writeln!(out, "  notes     {n}")?;
    }
    let t = &m.target;
    let target: Vec<String> = [
        t.runtime.as_ref().map(|v| format!("runtime {v}")),
        t.container_id
            .as_ref()
            .map(|v| format!("container {}", v.chars().take(12).collect::<String>())),
        t.container_name.as_ref().map(|v| format!("name {v}")),
        t.pod.as_ref().map(|v| format!("pod {v}")),
        t.namespace.as_ref().map(|v| format!("namespace {v}")),
        t.pid.map(|v| format!("pid {v}")),
        t.image_ref.as_ref().map(|v| format!("image {v}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !target.is_empty() {
        writeln!(out, "  target    {}", target.join(" · "))?;
    }
    let host = m.collector.host.as_deref().unwrap_or("?");
    writeln!(
        out,
        "  collector {} {} on {host}",
        m.collector.tool, m.collector.version
    )?;
    writeln!(out, "  sections (order of volatility):")?;
    for s in &m.sections {
        let members: Vec<&Member> = m.members.iter().filter(|x| x.section.name() == s.name).collect();
        let bytes: u64 = members.iter().map(|x| x.size).sum();
        writeln!(
            out,
            "    {} {:<11} {:>5} members {:>10}   {} → {}",
            s.number,
            s.name,
            members.len(),
            human_bytes(bytes),
            short_time(s.started.as_str()),
            short_time(s.finished.as_str())
        )?;
    }
    for g in &m.gaps {
        writeln!(out, "    not collected ({}): {} — {}", g.section, g.what, g.reason)?;
    }
    Ok(())
}

/// Human lines for the custody log.
pub fn print_custody(out: &mut impl Write, records: &[CustodyRecord]) -> io::Result<()> {
    for (i, c) in records.iter().enumerate() {
        let p = &c.payload;
        let trust = match c.trusted {
            Some(true) => "trusted",
            Some(false) => "NOT TRUSTED",
            None => "trust not checked",
        };
        let sig = if c.signature_ok {
            "signature ok"
        } else {
            "BAD SIGNATURE"
        };
        writeln!(
            out,
            "    #{i} {:<12} {}  {}  key {}  {sig}, {trust}",
            p.action,
            p.time,
            p.actor.name,
            c.signer.short()
        )?;
        if let Some(r) = &p.recipient {
            writeln!(out, "       to key {}", r.hex().get(..16).unwrap_or_default())?;
        }
        if let Some(n) = &p.note {
            writeln!(out, "       note: {n}")?;
        }
    }
    Ok(())
}

/// Human list of failures.
pub fn print_failures(out: &mut impl Write, failures: &[Failure]) -> io::Result<()> {
    for f in failures {
        writeln!(out, "  {f}")?;
    }
    Ok(())
}

/// The custody log as a table: who, action, when, key fingerprint (short), signature, trusted.
pub fn print_custody_table(out: &mut impl Write, records: &[CustodyRecord]) -> io::Result<()> {
    let width = records
        .iter()
        .map(|c| c.payload.actor.name.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(5, 24);
    writeln!(
        out,
        "  {:>3}  {:<12} {:<30}  {:<width$}  {:<16}  {:<9}  TRUSTED",
        "#", "ACTION", "TIME", "ACTOR", "KEY", "SIGNATURE"
    )?;
    for (i, c) in records.iter().enumerate() {
        let p = &c.payload;
        let trust = match c.trusted {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "-",
        };
        let sig = if c.signature_ok { "ok" } else { "BAD" };
        let actor: String = p.actor.name.chars().take(width).collect();
        writeln!(
            out,
            "  {i:>3}  {:<12} {:<30}  {actor:<width$}  {:<16}  {sig:<9}  {trust}",
            p.action,
            p.time.as_str(),
            c.signer.short()
        )?;
        if let Some(r) = &p.recipient {
            writeln!(out, "  {:>3}  to key {}", "", r.hex())?;
        }
        if let Some(n) = &p.note {
            writeln!(out, "  {:>3}  note: {n}", "")?;
        }
    }
    Ok(())
}
