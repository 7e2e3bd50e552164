//! Sections 7 and 8: the Kubernetes audit log and runtime-security (Falco) alerts, copied whole
//! and byte for byte.

use crate::command::argv;
use crate::ctx::{Ctx, LONG_COMMAND};
use crate::sink::{NewMember, Sink};
use forensic_bundle::manifest::{RawPath, Source};
use std::io::{self, Seek};
use std::path::{Path, PathBuf};

/// How the gap of a source that is absent begins (CONTENTS.md §7, §8): `show summary` prints the
/// gap instead of a count of 0.
pub const NOT_COLLECTED: &str = "not collected";

/// Why Falco's journal holds nothing.
const FALCO_ABSENT: &str = "`journalctl -u falco` has no entries on this node: Falco is not installed, not run as the falco unit, or has never logged (give --falco-log FILE if it logs to a file)";

/// Whether a journal's output holds no line but journalctl's own `-- No entries --`.
fn journal_is_empty(out: &mut crate::command::CommandOutput) -> io::Result<bool> {
    if out.record.stdout_bytes > 64 {
        return Ok(false);
    }
    let text = out.stdout_text(64)?;
    out.stdout.seek(io::SeekFrom::Start(0))?;
    Ok(text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim() == "-- No entries --"))
}

/// Where kube-apiserver audit logs usually are.
pub const DEFAULT_AUDIT_LOG: &str = "/var/log/kubernetes/audit/audit.log";

pub(crate) fn copy_host_file(sink: &mut dyn Sink, path: &Path, name: &str) -> io::Result<bool> {
    let shown = path.display().to_string();
    match std::fs::File::open(path) {
        Ok(mut f) => {
            let mut m = NewMember::new(name, Source::path(RawPath::Text(shown)));
            let md = f.metadata().ok();
            m.size_hint = md.as_ref().map(|m| m.len());
            m.meta = md.and_then(|md| forensic_disk::meta::from_metadata(&md, None, None).ok());
            sink.member(m, &mut f)?;
            Ok(true)
        }
        Err(e) => {
            sink.gap(shown, format!("could not be opened: {e}"));
            Ok(false)
        }
    }
}

/// Collects section 7.
///
/// # Errors
/// Only when the bundle cannot be written.
pub fn audit(ctx: &mut Ctx<'_>, sink: &mut dyn Sink) -> io::Result<()> {
    match &ctx.opts.audit_log {
        Some(p) => {
            copy_host_file(sink, p, "audit.log")?;
        }
        None => {
            let p = PathBuf::from(DEFAULT_AUDIT_LOG);
            if p.exists() {
                copy_host_file(sink, &p, "audit.log")?;
            } else {
                sink.gap(
                    "Kubernetes audit log".into(),
                    format!(
                        "{NOT_COLLECTED}: no --audit-log given and {DEFAULT_AUDIT_LOG} does not exist on this node"
                    ),
                );
            }
        }
    }
    Ok(())
}

/// Collects section 8.
///
/// # Errors
/// Only when the bundle cannot be written.
pub fn alerts(ctx: &mut Ctx<'_>, sink: &mut dyn Sink) -> io::Result<()> {
    if let Some(p) = &ctx.opts.falco_log {
        copy_host_file(sink, p, "falco.log")?;
        return Ok(());
    }
    if ctx.runner.available("journalctl") {
        let argv = argv(&["journalctl", "-u", "falco", "--no-pager", "-o", "cat", "-q"]);
        let mut out = ctx.runner.run(&argv, LONG_COMMAND)?;
        if let Some(err) = &out.record.error {
            sink.gap(argv.join(" "), err.clone());
            ctx.commands.push(out.record.clone());
            sink.gap(
                "Falco alerts".into(),
                format!("{NOT_COLLECTED}: journalctl could not run"),
            );
            return Ok(());
        }
        if out.record.succeeded() && journal_is_empty(&mut out)? {
            // An empty journal is not "Falco saw nothing": there is no Falco unit here, or it
            // never logged. The command stays on record; no empty member is stored.
            ctx.commands.push(out.record.clone());
            sink.gap("Falco alerts".into(), format!("{NOT_COLLECTED}: {FALCO_ABSENT}"));
            return Ok(());
        }
        if out.record.succeeded() || out.record.stdout_bytes > 0 {
            ctx.command_member(sink, &mut out, "falco-journal.txt")?;
        } else {
            ctx.commands.push(out.record.clone());
        }
        if !out.record.succeeded() {
            let exit = out.record.exit;
            let why = format!("exit status {exit:?}: {}", out.stderr_text(500).trim());
            sink.gap(argv.join(" "), why);
            sink.gap(
                "Falco alerts".into(),
                format!("{NOT_COLLECTED}: journalctl -u falco failed (is Falco installed here?)"),
            );
        }
    } else {
        sink.gap(
            "Falco alerts".into(),
            format!("{NOT_COLLECTED}: no --falco-log given and no journalctl on this node"),
        );
    }
    Ok(())
}
