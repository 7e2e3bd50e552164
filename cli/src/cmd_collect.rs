//! `forensic collect`.

use crate::case_args::{CaseArgs, parse_duration, parse_size};
use crate::{EXIT_OK, keyfiles, view};
use anyhow::{Result, bail};
use forensic_collect::collect::{CollectOptions, CollectSummary, Event, collect};
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
Exit codes: 0 collected and sealed (with --offline-root --pod or --all: every bundle); 1 with --offline-root --pod or --all, some containers could not be collected (each is named on stderr; the others are sealed); 2 could not collect (nothing written; or, with --tsa, written and sealed without its timestamped entry because an authority failed: the message says so)."
)]
pub struct Args {
    #[command(flatten)]
    encrypt: crate::crypt_args::EncryptArgs,
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
    /// The bundle to write (must not exist); with --offline-root and --pod or --all, the directory
    /// that receives one bundle per container, `<runtime>-<name or id12>-<id12>.zip` (created if
    /// absent).
    #[arg(
        short = 'o',
        long = "output",
        value_name = "BUNDLE",
        required_unless_present = "list"
    )]
    output: Option<PathBuf>,
    /// Private key that seals the bundle: a PKCS#8 PEM file (forensic keygen; protected by a passphrase or not) or a key on a PKCS#11 token named by an RFC 7512 URI, pkcs11:token=LABEL;object=NAME?module-path=MODULE.so.
    #[arg(long, value_name = "KEY", required_unless_present = "list")]
    key: Option<forensic_keys::KeySpec>,
    #[command(flatten)]
    unlock: keyfiles::UnlockArgs,
    /// Dead-box mode: ROOT is a node's root filesystem (a disk snapshot mounted read-only, or a
    /// directory holding var/lib/containerd, var/lib/docker, var/lib/containers, var/log). No
    /// runtime API, /proc or kubectl is used; nothing under ROOT is written; every read uses
    /// O_NOATIME; links on the node resolve inside ROOT.
    #[arg(long, value_name = "ROOT", conflicts_with = "pid")]
    pub(crate) offline_root: Option<PathBuf>,
    /// With --offline-root: list every container found on the disk (all runtimes) and exit;
    /// problems reading a runtime's records are printed on stderr (or in the JSON), exit 0.
    #[arg(long, requires = "offline_root")]
    pub(crate) list: bool,
    /// With --offline-root: collect every container found on the disk (pod sandboxes excluded),
    /// one bundle each in the directory -o DIR.
    #[arg(long, requires = "offline_root", conflicts_with_all = ["list", "pod", "container"])]
    all: bool,
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
    /// Print the summary (with --list: the listing) as JSON on stdout.
    #[arg(long)]
    pub(crate) json: bool,
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
    if let Some(root) = &args.offline_root {
        return crate::cmd_collect_offline::run(&args, root);
    }
    let target = target(&args)?;
    // Before the key is read: a non-root run should hear that it needs root, not that it
    // cannot read root's key. `collect` checks again.
    forensic_collect::privileges::check(
        std::path::Path::new("/proc/self/status"),
        !matches!(target, TargetSpec::Pid(_)),
    )?;
    let (Some(output), Some(key)) = (&args.output, &args.key) else {
        bail!("collect needs -o BUNDLE and --key KEY");
    };
    let key = keyfiles::open_signer(key, &args.unlock)?;
    let mut opts = options(&args, target, output.clone(), key.clone())?;
    opts.apis = Apis::with(forensic_runtime::containerd::Endpoint {
        socket: args.containerd_socket.clone(),
        namespace: args.containerd_namespace.clone(),
    });
    let bar = progress(&args, &mut opts);
    let clock = forensic_disk::Clock::new()?;
    let runner = SystemRunner::new(&clock);
    let summary = collect(&opts, &runner)?;
    if let Some(pb) = &bar {
        pb.finish_and_clear();
    }
    let mut out = std::io::stdout().lock();
    if args.quiet && !args.json {
        // --quiet: the exit code says it all; `forensic verify` or `show summary` say the rest.
        return Ok(EXIT_OK);
    }
    if args.json {
        writeln!(view::JsonOut::new(&mut out), "{}", summary_json(&summary))?;
    } else {
        print_summary(&mut out, &summary)?;
    }
    Ok(EXIT_OK)
}

/// The collection options every target shares, from the command line.
fn options(
    args: &Args,
    target: TargetSpec,
    output: PathBuf,
    key: std::sync::Arc<dyn forensic_bundle::keys::Signer>,
) -> Result<CollectOptions> {
    let mut opts = CollectOptions::new(target, output, key, args.case.actor());
    opts.encrypt_to = args.encrypt.recipients()?;
    opts.timestamp = args.tsa.stamper();
    opts.case = args.case.case();
    opts.audit_log = args.audit_log.clone();
    opts.falco_log = args.falco_log.clone();
    opts.since = args.since;
    opts.memory = args.memory;
    opts.max_memory = args.max_memory;
    opts.max_file_size = args.max_file_size;
    opts.include_secrets = args.include_secrets;
    opts.node_name = args.node_name.clone();
    opts.argv = std::env::args_os().collect();
    Ok(opts)
}

/// A progress display on a terminal (not with --quiet or --json), fed by `opts.progress`.
fn progress(args: &Args, opts: &mut CollectOptions) -> Option<ProgressBar> {
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
    bar
}

/// The `--json` summary of one collection.
fn summary_json(summary: &CollectSummary) -> serde_json::Value {
    serde_json::json!({
        "bundle": summary.output.display().to_string(),
        "bundle_id": summary.bundle_id,
        "manifest_sha256": summary.manifest_digest.hex(),
        "custody_head_sha256": summary.timestamped.as_ref().map(|s| s.head.hex()),
        "target": summary.target,
        "sections": summary.sections.iter().map(|s| serde_json::json!({
            "number": s.section.number(), "name": s.section.name(), "members": s.members, "bytes": s.bytes,
            "started": s.started.as_str(), "finished": s.finished.as_str()})).collect::<Vec<_>>(),
        "gaps": summary.gaps.iter().map(|g| serde_json::json!({"section": g.section.name(), "what": g.what, "reason": g.reason})).collect::<Vec<_>>(),
        "counts": summary.counts.iter().map(|(k, v)| (k.key(), *v)).collect::<std::collections::BTreeMap<_, _>>(),
    })
}

/// The text summary of one collection.
fn print_summary(out: &mut dyn Write, summary: &CollectSummary) -> Result<()> {
    writeln!(out, "collected {}", view::path(&summary.output))?;
    let t = &summary.target;
    writeln!(
        out,
        "  target   {} {} {}",
        t.pid.map_or_else(|| "offline".to_string(), |p| format!("pid {p}")),
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
    if let Some(s) = &summary.timestamped {
        writeln!(out, "  time-stamped: custody head {}", s.head)?;
    }
    writeln!(out, "next: forensic verify {}", view::path(&summary.output))?;
    Ok(())
}

/// `collect --offline-root ROOT (--container ID|NAME | --pod NAME -n NS [--container NAME] |
/// --all)`: one sealed bundle per container chosen. Exit 0 when every bundle is sealed, 1 when
/// some failed (each is reported), 2 when none could be.
pub(crate) fn run_offline(args: &Args, node: forensic_nodedisk::NodeRoot) -> Result<u8> {
    use forensic_collect::offline::OfflineTarget;
    use forensic_collect::offline::select::{Selection, bundle_file_name, select};
    let selection = match (&args.pod, &args.container, args.all) {
        (Some(pod), c, false) => Selection::Pod {
            name: pod.clone(),
            namespace: args.namespace.clone(),
            container: c.clone(),
        },
        (None, Some(c), false) => Selection::Container(c.clone()),
        (None, None, true) => Selection::All,
        _ => bail!(
            "with --offline-root, name what to do: --list, --container ID|NAME, --pod NAME -n NAMESPACE, or --all"
        ),
    };
    forensic_collect::privileges::check_offline(std::path::Path::new("/proc/self/status"))?;
    let (Some(output), Some(key)) = (&args.output, &args.key) else {
        bail!("collect needs -o BUNDLE (-o DIR with --pod or --all) and --key KEY");
    };
    let key = keyfiles::open_signer(key, &args.unlock)?;
    let node = Arc::new(node);
    let listing = node.list();
    for p in &listing.problems {
        let who = p
            .container
            .as_deref()
            .map(|c| format!(" container {c}"))
            .unwrap_or_default();
        eprintln!("forensic: {}{who}: {}: {}", p.runtime, p.file, view::guard(&p.error));
    }
    let chosen = select(&listing.containers, &selection).map_err(anyhow::Error::msg)?;
    let clock = forensic_disk::Clock::new()?;
    let runner = SystemRunner::new(&clock);
    let one = |c: &forensic_nodedisk::OfflineContainer, out: PathBuf| {
        let target = TargetSpec::Offline(OfflineTarget::new(node.clone(), c.clone()));
        let mut opts = options(args, target, out, key.clone())?;
        let bar = progress(args, &mut opts);
        let r = collect(&opts, &runner);
        if let Some(pb) = &bar {
            pb.finish_and_clear();
        }
        anyhow::Ok(r?)
    };
    let mut stdout = std::io::stdout().lock();
    if let Selection::Container(_) = selection {
        let Some(c) = chosen.first() else {
            bail!("no container chosen");
        };
        let summary = one(c, output.clone())?;
        if args.json {
            writeln!(view::JsonOut::new(&mut stdout), "{}", summary_json(&summary))?;
        } else if !args.quiet {
            print_summary(&mut stdout, &summary)?;
        }
        return Ok(EXIT_OK);
    }
    std::fs::create_dir_all(output)
        .map_err(|e| anyhow::anyhow!("cannot create the output directory {}: {e}", view::path(output)))?;
    let (mut sealed, mut failed, mut json) = (0usize, 0usize, Vec::new());
    for c in chosen {
        let out = output.join(bundle_file_name(c));
        match one(c, out.clone()) {
            Ok(summary) => {
                sealed += 1;
                if args.json {
                    json.push(summary_json(&summary));
                } else if !args.quiet {
                    print_summary(&mut stdout, &summary)?;
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!(
                    "forensic: {} container {} not collected: {}",
                    c.runtime.name(),
                    c.id,
                    view::guard(&e.to_string())
                );
                if args.json {
                    json.push(serde_json::json!({
                        "bundle": out.display().to_string(), "runtime": c.runtime.name(),
                        "container_id": c.id, "error": e.to_string()}));
                }
            }
        }
    }
    if args.json {
        writeln!(view::JsonOut::new(&mut stdout), "{}", serde_json::Value::Array(json))?;
    }
    Ok(match (sealed, failed) {
        (_, 0) => EXIT_OK,
        (0, _) => crate::EXIT_TROUBLE,
        _ => crate::EXIT_FAILED,
    })
}
