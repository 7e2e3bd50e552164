//! Rendering reports and manifests for people (tables) and machines (`--json`).

use forensic_bundle::manifest::{Manifest, Member};
use forensic_bundle::verify::{CustodyRecord, Failure, Report};
use serde_json::{Value, json};
use std::borrow::Cow;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Text from the evidence (a member name, a custody actor or note, a case field) for the
/// terminal: the one display escaping ([`forensic_evidence::escape`]).
pub fn esc(s: &str) -> String {
    forensic_evidence::escape(s.as_bytes())
}

/// A path (the bundle, an output directory) for the terminal: the one display escaping of its
/// bytes (a bundle received from elsewhere may carry any name).
pub fn path(p: &Path) -> String {
    forensic_evidence::escape(p.as_os_str().as_bytes())
}

/// A message that may hold unescaped evidence (an error's text): escaped with the one display
/// escaping when it holds a character a terminal would act on, else as written, so that a message
/// that already escaped its names (`{:?}`, [`esc`]) is not escaped twice.
pub fn guard(s: &str) -> Cow<'_, str> {
    if s.chars().any(forensic_bundle::name::is_unsafe_display) {
        Cow::Owned(esc(s))
    } else {
        Cow::Borrowed(s)
    }
}

/// JSON text bound for a terminal: every character a terminal could act on
/// ([`forensic_bundle::name::is_unsafe_display`]: DEL, C1 controls such as CSI, bidirectional and
/// zero-width format characters) is written as a `\uXXXX` escape, which every JSON reader decodes
/// to the same character: the data is unchanged, the terminal is safe. For JSON only: outside its
/// strings JSON text is ASCII (and `serde_json` already escapes C0 controls inside them), so each
/// such character is inside a string, where the escape means the same.
pub struct JsonOut<W: Write> {
    inner: W,
    /// The start of a character split across two writes.
    pending: Vec<u8>,
}

impl<W: Write> JsonOut<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        JsonOut {
            inner,
            pending: Vec::new(),
        }
    }

    fn write_text(inner: &mut W, text: &str) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in text.char_indices() {
            if matches!(c, '\n' | '\r' | '\t') || !forensic_bundle::name::is_unsafe_display(c) {
                continue;
            }
            inner.write_all(text.as_bytes().get(start..i).unwrap_or_default())?;
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                write!(inner, "\\u{u:04x}")?;
            }
            start = i + c.len_utf8();
        }
        inner.write_all(text.as_bytes().get(start..).unwrap_or_default())
    }
}

impl<W: Write> Write for JsonOut<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        let whole = match std::str::from_utf8(&self.pending) {
            Ok(text) => text.len(),
            // A character cut at the end: keep it for the next write.
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            // Not UTF-8, so not JSON text: passed on as it is.
            Err(_) => {
                self.inner.write_all(&self.pending)?;
                self.pending.clear();
                return Ok(buf.len());
            }
        };
        let rest = self.pending.split_off(whole);
        let text = String::from_utf8(std::mem::replace(&mut self.pending, rest))
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        Self::write_text(&mut self.inner, &text)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// `n` and the noun, plural unless `n` is 1: `1 problem`, `3 problems`, `2 custody entries`,
/// `0 processes`.
pub fn count<N: std::fmt::Display + PartialEq + From<u8>>(n: N, noun: &str) -> String {
    if n == N::from(1) {
        return format!("1 {noun}");
    }
    let consonant_y = noun
        .strip_suffix('y')
        .is_some_and(|stem| !stem.ends_with(['a', 'e', 'i', 'o', 'u']));
    if consonant_y {
        format!("{n} {}ies", noun.trim_end_matches('y'))
    } else if noun.ends_with(['s', 'x']) || noun.ends_with("ch") || noun.ends_with("sh") {
        format!("{n} {noun}es")
    } else {
        format!("{n} {noun}s")
    }
}

/// Human byte count: `512 B`, `12.3 KiB`, `1.0 GiB` (the one form, [`forensic_analysis::summary::human_bytes`]).
pub use forensic_analysis::summary::human_bytes;

/// JSON for one member (the one view, [`forensic_bundle::json_view::member`]).
pub use forensic_bundle::json_view::member as member_json;

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
        "trusted_time": c.trusted_time.as_ref().map(|t| t.as_str().to_string()),
        "timestamps": c.timestamps.iter().map(|t| json!({
            "token_der_hex": hex::encode(&t.der),
            "imprint_sha256": t.imprint.as_ref().map(hex::encode),
            "gen_time": t.gen_time.as_ref().map(|g| g.as_str().to_string()),
            "serial": t.serial,
            "verified": t.verified,
        })).collect::<Vec<_>>(),
        "deposit": p.deposit.as_ref().map(deposit_json),
        "key_store": p.key_store.as_ref().map(|k| json!({
            "kind": k.kind, "encrypted": k.encrypted, "token": k.token, "model": k.model, "serial": k.serial,
        })),
    })
}

/// An `archived` entry's deposit (SPEC §9.7), as `--json` shows it.
pub fn deposit_json(d: &forensic_bundle::custody::Deposit) -> Value {
    json!({
        "store": d.store, "endpoint": d.endpoint, "bucket": d.bucket, "key": d.key,
        "version_id": d.version_id, "size": d.size, "sha256": d.sha256.hex(),
        "checksum_sha256": d.checksum_sha256, "mode": d.mode, "retain_until": d.retain_until.as_str(),
        "legal_hold": d.legal_hold,
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
    writeln!(
        out,
        "  bundle    {}  created {}",
        esc(&m.bundle_id),
        esc(m.created.as_str())
    )?;
    let c = &m.case;
    let case: Vec<String> = [
        c.case_id.as_deref().map(|v| format!("case {}", esc(v))),
        c.evidence_number.as_deref().map(|v| format!("evidence {}", esc(v))),
        c.examiner.as_deref().map(|v| format!("examiner {}", esc(v))),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !case.is_empty() {
        writeln!(out, "  case      {}", case.join(" · "))?;
    }
    if let Some(n) = &c.notes {
        writeln!(out, "  notes     {}", esc(n))?;
    }
    let t = &m.target;
    let target: Vec<String> = [
        t.runtime.as_deref().map(|v| format!("runtime {}", esc(v))),
        t.container_id
            .as_deref()
            .map(|v| format!("container {}", esc(&v.chars().take(12).collect::<String>()))),
        t.container_name.as_deref().map(|v| format!("name {}", esc(v))),
        t.pod.as_deref().map(|v| format!("pod {}", esc(v))),
        t.namespace.as_deref().map(|v| format!("namespace {}", esc(v))),
        t.pid.map(|v| format!("pid {v}")),
        t.image_ref.as_deref().map(|v| format!("image {}", esc(v))),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !target.is_empty() {
        writeln!(out, "  target    {}", target.join(" · "))?;
    }
    let host = esc(m.collector.host.as_deref().unwrap_or("?"));
    writeln!(
        out,
        "  collector {} {} on {host}",
        esc(&m.collector.tool),
        esc(&m.collector.version)
    )?;
    writeln!(out, "  sections (order of volatility):")?;
    for s in &m.sections {
        let members: Vec<&Member> = m.members.iter().filter(|x| x.section.name() == s.name).collect();
        let bytes: u64 = members.iter().map(|x| x.size).sum();
        writeln!(
            out,
            "    {} {:<11} {:>13} {:>10}   {} → {}",
            s.number,
            esc(&s.name),
            count(members.len(), "member"),
            human_bytes(bytes),
            short_time(s.started.as_str()),
            short_time(s.finished.as_str())
        )?;
    }
    for g in &m.gaps {
        writeln!(
            out,
            "    not collected ({}): {} — {}",
            g.section,
            esc(&g.what),
            esc(&g.reason)
        )?;
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
            esc(&p.action),
            esc(p.time.as_str()),
            esc(&p.actor.name),
            c.signer.short()
        )?;
        if let Some(r) = &p.recipient {
            writeln!(out, "       to key {}", r.hex().get(..16).unwrap_or_default())?;
        }
        if let Some(n) = &p.note {
            writeln!(out, "       note: {}", esc(n))?;
        }
        print_trusted_time(out, "       ", c)?;
    }
    Ok(())
}

/// The entry's trusted time beside its signed time, and the tokens it carries (SPEC §9.6).
fn print_trusted_time(out: &mut impl Write, indent: &str, c: &CustodyRecord) -> io::Result<()> {
    if let Some(t) = &c.trusted_time {
        writeln!(
            out,
            "{indent}trusted time {}  (signed time {})",
            t.as_str(),
            c.payload.time.as_str()
        )?;
    }
    for (n, t) in c.timestamps.iter().enumerate() {
        let state = match t.verified {
            Some(true) => "verified",
            Some(false) => "FAILED",
            None => "not trusted: no --tsa-trust",
        };
        let gen_time = t.gen_time.as_ref().map_or("unreadable", |g| g.as_str());
        writeln!(
            out,
            "{indent}time-stamp token {n} over the entry before: genTime {gen_time}, {state}"
        )?;
    }
    Ok(())
}

/// Human list of failures (a failure's member name is escaped by its `Display`; the message
/// is guarded, [`guard`]).
pub fn print_failures(out: &mut impl Write, failures: &[Failure]) -> io::Result<()> {
    for f in failures {
        writeln!(out, "  {}", guard(&f.to_string()))?;
    }
    Ok(())
}

/// The custody log as a table: who, action, when, key fingerprint (short), signature, trusted.
pub fn print_custody_table(out: &mut impl Write, records: &[CustodyRecord]) -> io::Result<()> {
    let width = records
        .iter()
        .map(|c| esc(&c.payload.actor.name).chars().count())
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
        let actor: String = esc(&p.actor.name).chars().take(width).collect();
        writeln!(
            out,
            "  {i:>3}  {:<12} {:<30}  {actor:<width$}  {:<16}  {sig:<9}  {trust}",
            esc(&p.action),
            esc(p.time.as_str()),
            c.signer.short()
        )?;
        if let Some(r) = &p.recipient {
            writeln!(out, "  {:>3}  to key {}", "", r.hex())?;
        }
        if let Some(n) = &p.note {
            writeln!(out, "  {:>3}  note: {}", "", esc(n))?;
        }
        if let Some(k) = &p.key_store {
            writeln!(out, "  {:>3}  key held in: {}", "", esc(&k.describe()))?;
        }
        print_trusted_time(out, "       ", c)?;
        if let Some(d) = &p.deposit {
            writeln!(
                out,
                "  {:>3}  deposited: s3://{}/{}?versionId={} ({} bytes, sha256 {}), {} until {}{} (as the server confirmed)",
                "",
                esc(&d.bucket),
                esc(&d.key),
                esc(&d.version_id),
                d.size,
                d.sha256.hex(),
                esc(&d.mode),
                d.retain_until,
                if d.legal_hold { ", legal hold" } else { "" }
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_for_a_terminal_escapes_what_a_terminal_acts_on_and_means_the_same() {
        let value = json!({"name": "csi\u{9b}2J bidi\u{202e}txt esc\u{1b}[2J del\u{7f} tag\u{e0041} café\n"});
        let mut out = JsonOut::new(Vec::new());
        // Written in pieces that cut a character in two, as a buffered writer may.
        let text = format!("{value:#}\n");
        let (a, b) = text.as_bytes().split_at(text.find('\u{9b}').unwrap_or(0) + 1);
        out.write_all(a).unwrap();
        out.write_all(b).unwrap();
        let written = String::from_utf8(out.inner).unwrap();
        assert!(
            written.contains(r"csi\u009b2J bidi\u202etxt esc\u001b[2J del\u007f tag\udb40\udc41 café\n"),
            "{written}"
        );
        assert!(
            written.ends_with("}\n") && written.contains("{\n  \"name\""),
            "{written}"
        );
        let back: Value = serde_json::from_str(&written).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn counts_are_plural_unless_one() {
        assert_eq!(count(1, "custody entry"), "1 custody entry");
        assert_eq!(count(2, "custody entry"), "2 custody entries");
        assert_eq!(count(0u64, "problem"), "0 problems");
        assert_eq!(count(3, "process"), "3 processes");
        assert_eq!(count(2, "key"), "2 keys");
    }
}
