//! The collection run: resolve the target, then collect sections 1 to 9 in order into a bundle
//! written atomically, sealed with the responder's key.

use crate::bundle_sink::BundleSink;
use crate::command::Runner;
use crate::ctx::Ctx;
use crate::error::CollectError;
use crate::procs::ProcRoot;
use crate::target::{self, Resolved, TargetSpec};
use forensic_bundle::digest::Digest;
use forensic_bundle::keys::Signer;
use forensic_bundle::manifest::{Case, Collector, Gap, RawPath, Target};
use forensic_bundle::section::Section;
use forensic_bundle::time::Timestamp;
use forensic_bundle::writer::{BundleWriter, Header, Seal};
use forensic_disk::{BundleOutput, Clock};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{self, BufWriter, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What the caller is told as collection goes.
#[derive(Debug, Clone)]
pub enum Event {
    /// A section started.
    SectionStarted(Section),
    /// A section finished with this many members.
    SectionFinished(Section, u64),
    /// Content bytes written.
    Bytes(u64),
    /// The filesystem walk of the current section (the container's root, or an image layer)
    /// so far: entries indexed and regular files hashed, counted from 0 for each walk.
    Walked {
        /// Entries indexed.
        entries: u64,
        /// Regular files hashed.
        files_hashed: u64,
    },
}

/// Options of one collection.
pub struct CollectOptions {
    /// What to collect from.
    pub target: TargetSpec,
    /// The bundle to write (must not exist).
    pub output: PathBuf,
    /// The sealing key: a key file's or a token's.
    pub key: Arc<dyn Signer>,
    /// The sealer's name in the custody log.
    pub actor: String,
    /// Case metadata.
    pub case: Case,
    /// The Kubernetes audit log to copy (default: the usual path when it exists).
    pub audit_log: Option<PathBuf>,
    /// A Falco alert log to copy (default: the falco unit's journal).
    pub falco_log: Option<PathBuf>,
    /// What "recently modified" means.
    pub since: Duration,
    /// Collect process memory.
    pub memory: bool,
    /// Cap on memory bytes collected in all.
    pub max_memory: u64,
    /// Cap on one copied file; larger files are truncated and marked so.
    pub max_file_size: u64,
    /// Copy the contents of credential volumes (Kubernetes Secret and projected volumes, the
    /// service-account token). Without it they are indexed by hash and metadata only.
    pub include_secrets: bool,
    /// This node's name (default: the host name), compared with a pod's node.
    pub node_name: Option<String>,
    /// The command line, recorded in the manifest.
    pub argv: Vec<OsString>,
    /// Where `/proc` is.
    pub proc_root: ProcRoot,
    /// Progress events.
    pub progress: Option<Arc<dyn Fn(Event) + Send + Sync>>,
    /// The runtime APIs to use (default: none, only client programs; the command line gives
    /// containerd's socket and the Docker Engine's).
    pub apis: crate::target::Apis,
    /// Write the bundle age-encrypted to these recipients (a confidential bundle): the bundle is
    /// never in clear on disk ([`forensic_disk::BundleOutput`]).
    pub encrypt_to: Option<forensic_crypt::Recipients>,
    /// Time-stamping authorities (`--tsa`): a `timestamped` custody entry with their tokens is
    /// appended as the bundle is committed (before it is encrypted, for a confidential bundle).
    pub timestamp: Option<forensic_bundle::custody::SharedStamper>,
}

impl CollectOptions {
    /// Options with the defaults: no memory, 256 MiB file cap, 1 GiB memory cap, 24 h "recent".
    pub fn new(target: TargetSpec, output: PathBuf, key: Arc<dyn Signer>, actor: String) -> Self {
        CollectOptions {
            target,
            output,
            key,
            actor,
            case: Case::default(),
            audit_log: None,
            falco_log: None,
            since: Duration::from_secs(24 * 3600),
            memory: false,
            max_memory: 1 << 30,
            max_file_size: 256 << 20,
            include_secrets: false,
            node_name: None,
            argv: Vec::new(),
            proc_root: ProcRoot::default(),
            progress: None,
            apis: crate::target::Apis::none(),
            encrypt_to: None,
            timestamp: None,
        }
    }
}

/// One section's outcome.
#[derive(Debug, Clone)]
pub struct SectionSummary {
    /// The section.
    pub section: Section,
    /// Members written.
    pub members: u64,
    /// Content bytes written.
    pub bytes: u64,
    /// Start.
    pub started: Timestamp,
    /// Finish.
    pub finished: Timestamp,
}

/// What a collection produced.
#[derive(Debug, Clone)]
pub struct CollectSummary {
    /// The bundle written.
    pub output: PathBuf,
    /// Its id.
    pub bundle_id: String,
    /// SHA-256 of its manifest (what the seal signs).
    pub manifest_digest: Digest,
    /// The target record in the manifest.
    pub target: Target,
    /// Per section.
    pub sections: Vec<SectionSummary>,
    /// What could not be collected.
    pub gaps: Vec<Gap>,
    /// Counters (processes, sockets, files indexed, ...).
    pub counts: BTreeMap<crate::counts::Counter, u64>,
    /// The `timestamped` entry appended with [`CollectOptions::timestamp`].
    pub timestamped: Option<forensic_disk::Appended>,
}

fn host_names() -> (String, String) {
    let u = rustix::system::uname();
    (
        u.nodename().to_string_lossy().into_owned(),
        u.release().to_string_lossy().into_owned(),
    )
}

fn manifest_target(r: &Resolved, node: &str) -> Target {
    let rec = r.record.as_ref();
    Target {
        runtime: rec
            .and_then(|x| serde_json::to_value(x.runtime).ok()?.as_str().map(str::to_string))
            .or_else(|| r.runtime.map(|rt| rt.name().to_string())),
        container_id: rec.map(|x| x.id.clone()),
        container_name: rec.and_then(|x| x.name.clone()),
        pod: r.pod.as_ref().map(|p| p.0.clone()),
        namespace: r.pod.as_ref().map(|p| p.1.clone()),
        node: Some(node.to_string()),
        pid: Some(u64::from(r.pid)),
        image_ref: rec.and_then(|x| x.image_ref.clone()),
        image_digest: rec.and_then(|x| x.image_digest.clone()),
    }
}

/// Collects from the target into a new sealed bundle at `opts.output`.
///
/// First, before anything is done: the privileges are checked ([`crate::privileges`]), then the
/// output is claimed (its temporary file is created exclusively beside it: a second run to the
/// same output fails here, not after collecting). Sections are collected in the order of volatility; a section or item that fails is recorded as
/// a gap and collection goes on. Nothing appears at the destination unless the bundle is complete
/// and synced.
///
/// # Errors
/// [`CollectError::Privileges`] when this process may not collect; [`CollectError::Disk`] when
/// the output exists or another run is writing it; [`CollectError`] when the target cannot be
/// resolved or the bundle cannot be written.
pub fn collect(opts: &CollectOptions, runner: &dyn Runner) -> Result<CollectSummary, CollectError> {
    let status = opts.proc_root.0.join("self/status");
    match &opts.target {
        TargetSpec::Offline(_) => crate::privileges::check_offline(&status)?,
        t => crate::privileges::check(&status, !matches!(t, TargetSpec::Pid(_)))?,
    }
    let out = BundleOutput::create(&opts.output, opts.encrypt_to.clone())?;
    let clock = Clock::new()?;
    let (host, kernel) = host_names();
    let node = opts.node_name.clone().unwrap_or_else(|| host.clone());
    let mut resolved = target::resolve_with(&opts.target, &opts.apis, &clock, runner, &opts.proc_root, &node)?;
    let target = match &resolved.offline {
        // The node is gone: its name only when the responder gives it (--node-name).
        Some(_) => crate::offline::manifest_target(&resolved, opts.node_name.as_deref()),
        None => manifest_target(&resolved, &node),
    };
    let offline = resolved.offline.is_some();
    let bundle_id = new_bundle_id().map_err(|source| CollectError::Io {
        what: "making a bundle id".into(),
        source,
    })?;
    let mut collector = Collector::new("forensic", env!("CARGO_PKG_VERSION"));
    collector.host = Some(host);
    collector.kernel = Some(kernel);
    collector.argv = Some(opts.argv.iter().map(|a| RawPath::from_bytes(a.as_bytes())).collect());
    let header = Header {
        bundle_id: bundle_id.clone(),
        created: clock.now(),
        case: opts.case.clone(),
        collector,
        target: target.clone(),
    };
    let path = opts.output.clone();
    let werr = |source| CollectError::Write {
        path: path.clone(),
        source,
    };
    let file = out.writer()?;
    let mut writer = BundleWriter::new(BufWriter::with_capacity(1 << 20, file), header).map_err(werr)?;
    let mut ctx = Ctx {
        opts,
        runner,
        clock: &clock,
        proc: &opts.proc_root,
        target: &mut resolved,
        pids: Vec::new(),
        socket_owners: BTreeMap::new(),
        commands: Vec::new(),
        api_calls: Vec::new(),
        counts: BTreeMap::new(),
        digests: None,
        layer_records: None,
        overlay: Default::default(),
    };
    let resolution = std::mem::take(&mut ctx.target.commands);
    let resolution_calls = std::mem::take(&mut ctx.target.api_calls);
    let progress = opts.progress.clone();
    let bytes_cb = progress.clone().map(|p| move |n: u64| p(Event::Bytes(n)));
    let mut sections = Vec::new();
    for section in Section::ALL {
        if let Some(p) = &progress {
            p(Event::SectionStarted(section));
        }
        let started = clock.now();
        writer.begin_section(section, started.clone()).map_err(werr)?;
        let mut sink = BundleSink::new(
            &mut writer,
            &clock,
            section,
            bytes_cb.as_ref().map(|f| f as &(dyn Fn(u64) + Sync)),
        );
        if section == Section::PodSpec {
            ctx.commands.extend(resolution.iter().cloned());
            ctx.api_calls.extend(resolution_calls.iter().cloned());
        }
        run_section(section, &mut ctx, &mut sink)
            .and_then(|()| ctx.flush_commands(&mut sink))
            .and_then(|()| ctx.flush_api_calls(&mut sink))
            .map_err(|source| CollectError::Io {
                what: format!("writing section {section}"),
                source,
            })?;
        let (members, bytes) = (sink.members, sink.bytes);
        let finished = clock.now();
        writer.end_section(finished.clone()).map_err(werr)?;
        if let Some(p) = &progress {
            p(Event::SectionFinished(section, members));
        }
        sections.push(SectionSummary {
            section,
            members,
            bytes,
            started,
            finished,
        });
    }
    let counts = std::mem::take(&mut ctx.counts);
    drop(ctx);
    let seal = Seal {
        key: &*opts.key,
        actor: opts.actor.clone(),
        time: clock.now(),
        note: Some(if offline {
            "collected offline from a node's disk by forensic collect --offline-root".into()
        } else {
            "collected live by forensic collect".into()
        }),
    };
    let manifest_gaps = writer.gaps().to_vec();
    let (mut buf, manifest_digest) = writer.finish_with_digest(&seal).map_err(werr)?;
    buf.flush().map_err(|source| CollectError::Io {
        what: "writing the bundle".into(),
        source,
    })?;
    drop(buf);
    let (output, timestamped) = out.commit_stamped(opts.timestamp.as_ref(), &*opts.key, &opts.actor, clock.now())?;
    Ok(CollectSummary {
        output,
        timestamped,
        bundle_id,
        manifest_digest,
        target,
        sections,
        gaps: manifest_gaps,
        counts,
    })
}

fn run_section(section: Section, ctx: &mut Ctx<'_>, sink: &mut dyn crate::sink::Sink) -> io::Result<()> {
    use crate::sections::*;
    if ctx.target.offline.is_some() {
        return crate::offline::sections::collect(section, ctx, sink);
    }
    match section {
        Section::Processes => processes::collect(ctx, sink),
        Section::Network => network::collect(ctx, sink),
        Section::Memory => memory::collect(ctx, sink),
        Section::Logs => logs::collect(ctx, sink),
        Section::Filesystem => filesystem::collect(ctx, sink),
        Section::PodSpec => podspec::collect(ctx, sink),
        Section::Audit => logsources::audit(ctx, sink),
        Section::Alerts => logsources::alerts(ctx, sink),
        Section::Image => image::collect(ctx, sink),
    }
}

/// A random UUID v4 in its text form.
fn new_bundle_id() -> io::Result<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| io::Error::other(e.to_string()))?;
    Ok(uuid::Builder::from_random_bytes(b).into_uuid().to_string())
}
