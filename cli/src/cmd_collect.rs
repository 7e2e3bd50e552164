//! `forensic collect`.

use crate::case_args::{CaseArgs, parse_duration, parse_size};
use crate::{EXIT_OK, keyfiles, view};
use anyhow::{Result, bail};
use forensic_collect::collect::{CollectOptions, Event, collect};
use forensic_collect::command::SystemRunner;
use forensic_collect::target::{Apis, Runtime, TargetSpec};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

/// Collect evidence from a running container, from the host side, in the order of volatility
/// (processes, network, memory, logs, filesystem, pod spec, audit log, alerts, image), into one
/// sealed bundle.
#[derive(clap::Args)]
#[command(
    after_help = "Run on the node, as root (uid 0 with CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH and CAP_FOWNER; \
--pid needs only the capabilities): otherwise it refuses at once, writing nothing. Never execs into the container, never writes inside it, \
starts no process in its namespaces, and reads with O_NOATIME; symlinks inside the container are recorded, \
never followed; FIFOs, sockets and devices are never opened.\n\
The bundle is written to a temporary file beside OUTPUT and renamed into place only when complete and \
synced: a killed run leaves nothing at OUTPUT, and the next run removes its temporary file \
(.forensic-*.partial). Something that cannot be collected is recorded in the bundle as a gap, and collection goes on.\n\
A second run to the same OUTPUT while one is writing it fails at once. \
A log source that is absent (no Falco journal, no audit log) is a gap, never an empty log.\n\
The Docker Engine is reached on DOCKER_HOST (unix:///path) or /var/run/docker.sock; every call to containerd's or \
Docker's API is recorded in the section's api-calls.jsonl.\n\
Exit codes: 0 collected and sealed; 2 could not collect (nothing written)."
)]
pub struct Args {
    /// Collect from this process (any process: its namespaces and root are the "container").
    #[arg(long, value_name = "PID", conflicts_with_all = ["pod"])]
    pid: Option<u32>,
    /// Collect from this container (id or name); with --pod, the container within the pod.
    #[arg(long, value_name = "ID|NAME")]
    container: Option<String>,
    /// Container runtime to ask: containerd and docker through their own API on their socket,
    /// crictl, podman and docker-cli through the client program (default: the first that
    /// answers of containerd's socket, the Docker Engine's socket, crictl, podman, docker).
    #[arg(long, value_parser = ["containerd", "docker", "crictl", "podman", "docker-cli"])]
    runtime: Option<String>,
    /// containerd's API socket.
    #[arg(long, value_name = "PATH", default_value = forensic_runtime::containerd::DEFAULT_SOCKET)]
    containerd_socket: PathBuf,
    /// The containerd namespace to look in (Kubernetes' CRI uses k8s.io).
    #[arg(long, value_name = "NS", default_value = forensic_runtime::containerd::DEFAULT_NAMESPACE)]
    containerd_namespace: String,
    /// Collect from this Kubernetes pod (resolved with kubectl when it reaches a cluster, else from
    /// containerd's CRI labels; must run on this node).
    #[arg(long, value_name = "NAME")]
    pod: Option<String>,
    /// The pod's namespace.
    #[arg(short = 'n', long, value_name = "NAMESPACE", default_value = "default")]
    namespace: String,
    /// The bundle to write (must not exist).
    #[arg(short = 'o', long = "output", value_name = "BUNDLE")]
    output: PathBuf,
    /// Private key that seals the bundle.
    #[arg(long, value_name = "KEY")]
    key: PathBuf,
    #[command(flatten)]
    case: CaseArgs,
    #[command(flatten)]
    tsa: crate::tsa::TsaArgs,
    /// Kubernetes audit log to copy (default: /var/log/kubernetes/audit/audit.log when it exists).
    #[arg(long, value_name = "PATH")]
    audit_log: Option<PathBuf>,
    /// Falco alert log to copy (default: `journalctl -u falco`).
    #[arg(long, value_name = "PATH")]
    falco_log: Option<PathBuf>,
    /// What "recently modified" means for the derived file list.
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = parse_duration)]
    since: std::time::Duration,
    /// Also collect process memory (readable regions from /proc/<pid>/mem).
    #[arg(long)]
    memory: bool,
    /// Cap on the memory collected in all.
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size)]
    max_memory: u64,
    /// Cap on one copied file; larger files are truncated and marked so.
    #[arg(long, value_name = "SIZE", default_value = "256M", value_parser = parse_size)]
    max_file_size: u64,
    /// Also copy the contents of credential volumes (Kubernetes Secret and projected volumes,
    /// the service-account token). Without it they are indexed by hash and metadata only, their
    /// index lines marked `withheld`, since a bundle travels.
    #[arg(long)]
    include_secrets: bool,
    /// This node's name as Kubernetes knows it (default: the host name).
    #[arg(long, value_name = "NAME")]
    node_name: Option<String>,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Print nothing on success (no progress, no summary); with --json, only the JSON.
    #[arg(short, long)]
    quiet: bool,
}

fn target(args: &Args) -> Result<TargetSpec> {
    let runtime = args.runtime.as_deref().and_then(Runtime::from_name);
    Ok(match (&args.pid, &args.pod, &args.container) {
        (Some(pid), None, None) => TargetSpec::Pid(*pid),
        (None, Some(pod), c) => TargetSpec::Pod {
            name: pod.clone(),
            namespace: args.namespace.clone(),
            container: c.clone(),
            runtime,
        },
        (None, None, Some(c)) => TargetSpec::Container { id: c.clone(), runtime },
        (None, None, None) => bail!("name a target: --pid PID, --container ID|NAME, or --pod NAME -n NAMESPACE"),
        _ => bail!("--pid cannot be combined with --container or --pod"),
    })
}

/// Runs the command.
pub fn run(args: Args) -> Result<u8> {
    let target = target(&args)?;
    // Before the key is read: a non-root run should hear that it needs root, not that it
    // cannot read root's key. `collect` checks again.
    forensic_collect::privileges::check(
        std::path::Path::new("/proc/self/status"),
        !matches!(target, TargetSpec::Pid(_)),
    )?;
    let key = keyfiles::load_signing_key(&args.key)?;
    let mut opts = CollectOptions::new(target, args.output.clone(), key.clone(), args.case.actor());
    opts.case = args.case.case();
    opts.audit_log = args.audit_log.clone();
    opts.falco_log = args.falco_log.clone();
    opts.since = args.since;
    opts.memory = args.memory;
    opts.max_memory = args.max_memory;
    opts.max_file_size = args.max_file_size;
    opts.include_secrets = args.include_secrets;
    opts.node_name = args.node_name.clone();
    opts.apis = Apis::with(forensic_runtime::containerd::Endpoint {
        socket: args.containerd_socket.clone(),
        namespace: args.containerd_namespace.clone(),
    });
    opts.argv = std::env::args_os().collect();
    let bar = (!args.quiet && !args.json && std::io::stderr().is_terminal()).then(|| {
        let pb = ProgressBar::new_spinner();
        // Counts, not a rate: the walk of a large tree writes nothing to the bundle until it
        // ends, and a byte rate would decay toward zero and look stalled.
        if let Ok(style) = ProgressStyle::with_template("{spinner} {prefix} {msg}  {bytes} written") {
            pb.set_style(style);
        }
        pb.enable_steady_tick(std::time::Duration::from_millis(200));
        pb
    });
    if let Some(pb) = bar.clone() {
        opts.progress = Some(Arc::new(move |e: Event| match e {
            Event::SectionStarted(s) => {
                pb.set_prefix(format!("{} {}", s.number(), s.name()));
                pb.set_message("");
            }
            Event::Walked { entries, files_hashed } => {
                pb.set_message(format!("{entries} entries walked, {files_hashed} files hashed"));
            }
            Event::Bytes(n) => pb.inc(n),
            _ => {}
        }));
    }
    let clock = forensic_disk::Clock::new()?;
    let runner = SystemRunner::new(&clock);
    let summary = collect(&opts, &runner)?;
    if !args.tsa.urls.is_empty() {
        crate::tsa::append_timestamped(&args.output, &key, args.case.actor(), &args.tsa)?;
    }
    if let Some(pb) = &bar {
        pb.finish_and_clear();
    }
    let mut out = std::io::stdout().lock();
    if args.quiet && !args.json {
        // --quiet: the exit code says it all; `forensic verify` or `show summary` say the rest.
        return Ok(EXIT_OK);
    }
    if args.json {
        let v = serde_json::json!({
            "bundle": summary.output.display().to_string(),
            "bundle_id": summary.bundle_id,
            "manifest_sha256": summary.manifest_digest.hex(),
            "target": summary.target,
            "sections": summary.sections.iter().map(|s| serde_json::json!({
                "number": s.section.number(), "name": s.section.name(), "members": s.members, "bytes": s.bytes,
                "started": s.started.as_str(), "finished": s.finished.as_str()})).collect::<Vec<_>>(),
            "gaps": summary.gaps.iter().map(|g| serde_json::json!({"section": g.section.name(), "what": g.what, "reason": g.reason})).collect::<Vec<_>>(),
            "counts": summary.counts.iter().map(|(k, v)| (k.key(), *v)).collect::<std::collections::BTreeMap<_, _>>(),
        });
        writeln!(view::JsonOut::new(&mut out), "{v}")?;
    } else {
        writeln!(out, "collected {}", view::path(&summary.output))?;
        let t = &summary.target;
        writeln!(
            out,
            "  target   pid {} {} {}",
            t.pid.unwrap_or(0),
            t.runtime.as_deref().unwrap_or("(no runtime)"),
            t.container_id
                .as_deref()
                .map(|c| c.chars().take(12).collect::<String>())
                .unwrap_or_default()
        )?;
        for s in &summary.sections {
            writeln!(
                out,
                "  {} {:<11} {:>6} members {:>10}   {} → {}",
                s.section.number(),
                s.section.name(),
                s.members,
                view::human_bytes(s.bytes),
                s.started.as_str().get(11..23).unwrap_or_default(),
                s.finished.as_str().get(11..23).unwrap_or_default()
            )?;
        }
        for (k, v) in &summary.counts {
            writeln!(out, "  {}: {v}", k.label())?;
        }
        writeln!(
            out,
            "  {} not collected (see `forensic verify` or the manifest's gaps)",
            view::count(summary.gaps.len(), "item")
        )?;
        writeln!(out, "  manifest sha256 {}", summary.manifest_digest.hex())?;
        writeln!(out, "next: forensic verify {}", view::path(&summary.output))?;
    }
    Ok(EXIT_OK)
}
