//! Section 4: the container's logs, byte for byte, with the exact command lines (or API calls)
//! recorded: the runtime's logs, the runtime's log file, the kubelet's log directory of the
//! container (current, rotated and compressed files and the previous instance's), and kubectl's
//! view when kubectl is there.

use crate::command::argv;
use crate::ctx::{Ctx, LONG_COMMAND};
use crate::sink::{NewMember, Sink};
use crate::target::Runtime;
use forensic_bundle::manifest::{RawPath, Source};
use forensic_runtime::CallLog;
use std::io::{self, Seek};
use std::path::{Path, PathBuf};

pub(crate) mod kubelet;

pub use kubelet::KUBELET_LOG_ROOT;

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
    match rt.logs_argv(&id) {
        Some(a) => {
            ctx.run_into(sink, &a, "container.log", LONG_COMMAND)?;
        }
        None if rt == Runtime::Docker => docker_logs(ctx, sink, &id)?,
        // containerd keeps no log of its own: a CRI container's output is the log file below.
        None => {}
    }
    let kubelet_dir = kubelet_dir(ctx);
    // The runtime's own log file, copied byte for byte (it is a host file, not the container's),
    // unless the kubelet's directory holding it is copied whole below.
    let in_kubelet_dir = |p: &str| matches!(&kubelet_dir, Some((_, d)) if Path::new(p).parent() == Some(d.as_path()));
    let log_path = ctx
        .target
        .record
        .as_ref()
        .and_then(|r| r.log_path.clone())
        .filter(|p| !p.is_empty() && !in_kubelet_dir(p));
    if let Some(path) = log_path {
        copy_log_file(sink, &path)?;
    }
    if let Some((container, dir)) = kubelet_dir {
        kubelet::copy_dir(sink, &dir, &container, ctx.opts.max_file_size)?;
    }
    if let Some((pod, ns)) = ctx.target.pod.clone() {
        if ctx.target.pod_containers.is_some() {
            sink.gap(
                "kubectl logs".into(),
                "the pod was resolved from containerd's CRI labels: kubectl could not get it (6-podspec/commands.jsonl)"
                    .into(),
            );
        } else if ctx.runner.available("kubectl") {
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

/// The container's name and the kubelet's log directory of it,
/// `/var/log/pods/NAMESPACE_POD_UID/CONTAINER`, when all four are known.
fn kubelet_dir(ctx: &Ctx<'_>) -> Option<(String, PathBuf)> {
    let (pod, ns) = ctx.target.pod.clone()?;
    let uid = ctx.target.pod_uid.clone()?;
    let container = ctx.target.record.as_ref()?.name.clone()?;
    let dir = kubelet::container_dir(Path::new(KUBELET_LOG_ROOT), &ns, &pod, &uid, &container)?;
    Some((container, dir))
}

fn copy_log_file(sink: &mut dyn Sink, path: &str) -> io::Result<()> {
    match std::fs::File::open(path) {
        Ok(f) => store_log_file(sink, path, f)?,
        Err(e) => sink.gap(
            path.to_string(),
            format!("the runtime's log file could not be opened: {e}"),
        ),
    }
    Ok(())
}

/// Stores the runtime's log file `path`, open as `f`, byte for byte as `log-file/NAME` with its
/// metadata.
///
/// # Errors
/// Only when the bundle cannot be written.
pub(crate) fn store_log_file(sink: &mut dyn Sink, path: &str, mut f: std::fs::File) -> io::Result<()> {
    let base = Path::new(path)
        .file_name()
        .map(|b| b.as_encoded_bytes().to_vec())
        .unwrap_or_default();
    let name = format!("log-file/{}", forensic_bundle::name::escape_segment(&base));
    let mut m = NewMember::new(name, Source::path(RawPath::Text(path.to_string())));
    m.meta = f
        .metadata()
        .ok()
        .and_then(|md| forensic_disk::meta::from_metadata(&md, None, None).ok());
    sink.member(m, &mut f)?;
    Ok(())
}

/// `GET /containers/{id}/logs` (stdout and stderr, timestamps), streamed through a temporary
/// file into `container.log`, at most `--max-file-size`.
fn docker_logs(ctx: &mut Ctx<'_>, sink: &mut dyn Sink, id: &str) -> io::Result<()> {
    let host = match ctx.target.apis.docker.clone() {
        Some(Ok(h)) => h,
        Some(Err(e)) => {
            sink.gap("container logs".into(), e);
            return Ok(());
        }
        None => match forensic_runtime::docker::Host::from_env() {
            Ok(h) => h,
            Err(e) => {
                sink.gap("container logs".into(), e.to_string());
                return Ok(());
            }
        },
    };
    let clock = ctx.clock;
    let now = || clock.now();
    let mut log = CallLog::new(&now);
    // The log is evidence: spooled enciphered, never in clear on this node's disk.
    let mut tmp = forensic_crypt::Scratch::create_in(&std::env::temp_dir())?;
    let result = host.logs(&mut log, id, &mut tmp, ctx.opts.max_file_size);
    ctx.api_calls.extend(log.take());
    match result {
        Ok((bytes, truncated)) => {
            tmp.seek(io::SeekFrom::Start(0))?;
            let mut m = NewMember::new(
                "container.log",
                Source::Derived {
                    derived: format!(
                        "Docker Engine API at {}: GET /containers/{id}/logs?stdout=1&stderr=1&timestamps=1, the \
                         stream's payload byte for byte",
                        host.socket.display()
                    ),
                },
            );
            m.size_hint = Some(bytes);
            sink.member(m, &mut tmp)?;
            if truncated {
                sink.gap(
                    "container logs".into(),
                    format!("only the first {bytes} bytes were kept (--max-file-size)"),
                );
            }
        }
        Err(e) => sink.gap("container logs".into(), e.to_string()),
    }
    Ok(())
}
