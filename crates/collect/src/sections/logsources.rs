//! Sections 7 and 8: the Kubernetes audit log and runtime-security (Falco) alerts, copied whole
//! and byte for byte.

use crate::command::argv;
use crate::ctx::{Ctx, LONG_COMMAND};
use crate::sink::{NewMember, Sink};
use forensic_bundle::manifest::{RawPath, Source};
use std::io;
use std::path::{Path, PathBuf};

/// Where kube-apiserver audit logs usually are.
pub const DEFAULT_AUDIT_LOG: &str = "/var/log/kubernetes/audit/audit.log";

fn copy_host_file(sink: &mut dyn Sink, path: &Path, name: &str) -> io::Result<bool> {
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
                    format!("not collected: no --audit-log given and {DEFAULT_AUDIT_LOG} does not exist on this node"),
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
        let ok = ctx.run_into(
            sink,
            &argv(&["journalctl", "-u", "falco", "--no-pager", "-o", "cat"]),
            "falco-journal.txt",
            LONG_COMMAND,
        )?;
        if !ok {
            sink.gap(
                "Falco alerts".into(),
                "journalctl -u falco gave no alerts (is Falco installed here?)".into(),
            );
        }
    } else {
        sink.gap(
            "Falco alerts".into(),
            "not collected: no --falco-log given and no journalctl on this node".into(),
        );
    }
    Ok(())
}
