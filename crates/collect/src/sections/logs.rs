//! Section 4: the container's logs, byte for byte, with the exact command lines recorded.

use crate::command::argv;
use crate::ctx::{Ctx, LONG_COMMAND};
use crate::sink::{NewMember, Sink};
use forensic_bundle::manifest::{RawPath, Source};
use std::io;

/// Collects section 4.
///
/// # Errors
/// Only when the bundle cannot be written.
pub fn collect(ctx: &mut Ctx<'_>, sink: &mut dyn Sink) -> io::Result<()> {
    let (Some(rt), Some(id)) = (ctx.target.runtime, ctx.target.record.as_ref().map(|r| r.id.clone())) else {
        sink.gap(
            "container logs".into(),
            "no container runtime knows this target (--pid): no logs to collect".into(),
        );
        return Ok(());
    };
    ctx.run_into(sink, &rt.logs_argv(&id), "container.log", LONG_COMMAND)?;
    // The runtime's own log file, copied byte for byte (it is a host file, not the container's).
    if let Some(path) = ctx
        .target
        .record
        .as_ref()
        .and_then(|r| r.log_path.clone())
        .filter(|p| !p.is_empty())
    {
        match std::fs::File::open(&path) {
            Ok(mut f) => {
                let base = std::path::Path::new(&path)
                    .file_name()
                    .map(|b| b.as_encoded_bytes().to_vec())
                    .unwrap_or_default();
                let name = format!("log-file/{}", forensic_bundle::name::escape_segment(&base));
                let mut m = NewMember::new(name, Source::path(RawPath::Text(path.clone())));
                m.meta = f
                    .metadata()
                    .ok()
                    .and_then(|md| forensic_disk::meta::from_metadata(&md, None, None).ok());
                sink.member(m, &mut f)?;
            }
            Err(e) => sink.gap(path, format!("the runtime's log file could not be opened: {e}")),
        }
    }
    if let Some((pod, ns)) = ctx.target.pod.clone() {
        if ctx.runner.available("kubectl") {
            let container = ctx
                .target
                .record
                .as_ref()
                .and_then(|r| r.name.clone())
                .unwrap_or_default();
            let base = [
                "kubectl",
                "logs",
                pod.as_str(),
                "-n",
                ns.as_str(),
                "-c",
                container.as_str(),
                "--timestamps",
            ];
            ctx.run_into(sink, &argv(&base), "kubectl-logs.txt", LONG_COMMAND)?;
            let mut prev = base.to_vec();
            prev.push("--previous");
            ctx.run_into(sink, &argv(&prev), "kubectl-logs-previous.txt", LONG_COMMAND)?;
        } else {
            sink.gap("kubectl logs".into(), "kubectl is not installed here".into());
        }
    }
    Ok(())
}
