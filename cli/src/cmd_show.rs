//! `forensic show`: one view of a verified bundle (summary, processes, network, files,
//! suspicious), as text or JSON (docs/show-json.md).

use crate::show_text::{print_file, print_network, print_processes, print_summary, print_suspicious};
use crate::{EXIT_FAILED, EXIT_OK, view};
use anyhow::{Context as _, Result, bail};
use forensic_analysis::evidence::{Evidence, Limits};
use forensic_analysis::files::FileFilter;
use forensic_analysis::target::Target;
use forensic_analysis::time::{format_ns, parse_bound};
use forensic_bundle::verify::Report;
use forensic_disk::BundleFile;
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The JSON schema id of every `show --json` document.
pub const SCHEMA: &str = "forensic-show/1";

/// What to show.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum What {
    /// Target, image, sections with times, counts, custody head and the top findings.
    Summary,
    /// The process tree: pid, ppid, uid, start time, command line, executable and its hash, flags.
    Processes,
    /// Sockets (IPv4 and IPv6, TCP, UDP, raw; Unix) with state, uid and owning process.
    Network,
    /// The filesystem index, filtered with --path, --since, --until, --setuid, --executable.
    Files,
    /// Everything the container-forensics checklist looks for, with the evidence behind each.
    Suspicious,
}

impl What {
    fn name(self) -> &'static str {
        match self {
            What::Summary => "summary",
            What::Processes => "processes",
            What::Network => "network",
            What::Files => "files",
            What::Suspicious => "suspicious",
        }
    }
}

/// Show one view of a bundle's evidence, offline.
#[derive(clap::Args)]
#[command(
    after_help = "The bundle is verified first; one that does not verify is refused unless --force \
(then a warning comes first). Every member read is checked again against the manifest.\n\
--since/--until: RFC 3339 (2024-05-07T18:54:19Z), a date (2024-05-07, UTC), @UNIX_SECONDS, or a duration \
before the collection (30m, 24h, 7d); a file passes when its mtime or ctime is in the range.\n\
Exit codes: 0 shown; 1 the bundle does not verify (refused, or shown with --force); 2 could not run \
(unreadable input). JSON schema: docs/show-json.md."
)]
pub struct Args {
    #[command(flatten)]
    crypt: crate::crypt_args::IdentityArgs,
    /// The bundle.
    bundle: PathBuf,
    /// The view.
    #[arg(value_enum)]
    what: What,
    /// Print JSON (schema forensic-show/1, docs/show-json.md).
    #[arg(long)]
    json: bool,
    /// Show a bundle that does not verify (a warning line comes first).
    #[arg(long)]
    force: bool,
    /// Trusted signer public key (.pub) or a directory of them; repeatable.
    #[arg(long, value_name = "FILE_OR_DIR")]
    trust: Vec<PathBuf>,
    /// files: only paths matching this glob (`*` within a component, `**` across), or a path and
    /// everything below it; repeatable.
    #[arg(long = "path", value_name = "GLOB")]
    paths: Vec<String>,
    /// files: only entries modified or changed at or after this time.
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// files: only entries modified or changed at or before this time.
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// files: only setuid or setgid regular files.
    #[arg(long)]
    setuid: bool,
    /// files: only regular files with an execute bit.
    #[arg(long)]
    executable: bool,
}

/// A bundle through the gate ([`crate::gate`]), with the path as given.
pub struct Opened {
    /// The bundle, verified or forced.
    pub bundle: forensic_disk::gate::Opened,
    /// The path as given.
    pub shown: String,
}

impl Opened {
    /// The verification report.
    pub fn report(&self) -> &Report {
        self.bundle.report()
    }

    /// Whether it did not verify and is used because of --force.
    pub fn forced(&self) -> bool {
        self.bundle.forced()
    }

    /// The checked member reader.
    pub fn evidence(&self) -> Result<Evidence<'_, BundleFile>> {
        Evidence::open(
            self.bundle.file(),
            self.bundle.manifest(),
            self.bundle.check(),
            Limits::default(),
        )
        .with_context(|| format!("reading {}", self.shown))
    }

    /// The warning line printed first when the bundle is used although it did not verify.
    pub fn warning(&self) -> Option<String> {
        crate::gate::warning(&self.bundle, &self.shown)
    }
}

/// Verifies `bundle` through the gate; `None` (after saying why on stderr) when it does not
/// verify and `force` is off. With `force`, the warning line goes to stderr.
pub fn open_verified(
    bundle: &Path,
    force: bool,
    trust: &[PathBuf],
    identity: &[PathBuf],
    doing: &str,
) -> Result<Option<Opened>> {
    let how = crate::gate::Use {
        doing,
        force,
        trust,
        tsa_trust: &[],
        depth: forensic_disk::gate::Depth::Everything,
        identity,
    };
    open_with(bundle, how)
}

/// [`open_verified`] with every option of the gate (`--tsa-trust`, the depth).
pub fn open_with(bundle: &Path, how: crate::gate::Use<'_>) -> Result<Option<Opened>> {
    let shown = view::path(bundle);
    Ok(crate::gate::open(bundle, how)?.map(|bundle| Opened { bundle, shown }))
}

/// Runs the command.
pub fn run(args: Args) -> Result<u8> {
    let filtering =
        !args.paths.is_empty() || args.since.is_some() || args.until.is_some() || args.setuid || args.executable;
    if filtering && args.what != What::Files {
        bail!("--path, --since, --until, --setuid and --executable apply to `show BUNDLE files` only");
    }
    let Some(opened) = open_verified(&args.bundle, args.force, &args.trust, &args.crypt.identity, "show")? else {
        return Ok(EXIT_FAILED);
    };
    let mut stdout = std::io::stdout().lock();
    let mut json_out;
    let mut out: &mut dyn Write = if args.json {
        json_out = view::JsonOut::new(&mut stdout);
        &mut json_out
    } else {
        &mut stdout
    };
    if !args.json
        && let Some(w) = opened.warning()
    {
        writeln!(out, "{w}")?;
    }
    let mut ev = opened.evidence()?;
    let target = Target::from_manifest(opened.report().manifest.as_ref());
    let ctx = || format!("reading {}", opened.shown);
    let body: Value = match args.what {
        What::Files => return show_files(&args, &opened, &mut ev, &target, &mut out),
        What::Summary => {
            let analysis = forensic_analysis::suspicious::analyse(&mut ev, &target).with_context(ctx)?;
            let v = forensic_analysis::summary::view(opened.report(), &analysis);
            if !args.json {
                print_summary(&mut out, &v, &opened)?;
            }
            serde_json::to_value(&v)?
        }
        What::Processes => {
            let rec = forensic_analysis::processes::read(&mut ev).with_context(ctx)?;
            if !rec.present {
                bail!("{} has no {}", opened.shown, forensic_analysis::members::PROCESSES);
            }
            let v = forensic_analysis::processes::view(&rec, |m| ev.has_member(m));
            if !args.json {
                print_processes(&mut out, &v)?;
            }
            serde_json::to_value(&v)?
        }
        What::Network => {
            let rec = forensic_analysis::processes::read(&mut ev).with_context(ctx)?;
            let v = forensic_analysis::network::view(&mut ev, &rec.processes).with_context(ctx)?;
            if !args.json {
                print_network(&mut out, &v)?;
            }
            serde_json::to_value(&v)?
        }
        What::Suspicious => {
            let analysis = forensic_analysis::suspicious::analyse(&mut ev, &target).with_context(ctx)?;
            if !args.json {
                print_suspicious(&mut out, &analysis.view)?;
            }
            serde_json::to_value(&analysis.view)?
        }
    };
    if args.json {
        let mut doc = envelope(args.what, &opened, ev.warnings());
        if let (Value::Object(d), Value::Object(b)) = (&mut doc, body) {
            d.extend(b);
        }
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        for w in ev.warnings() {
            writeln!(out, "WARNING: {}", view::guard(w))?;
        }
    }
    Ok(crate::gate::exit_code(&opened.bundle, EXIT_OK))
}

/// The fields every `show --json` document starts with.
fn envelope(what: What, opened: &Opened, warnings: &[String]) -> Value {
    json!({
        "schema": SCHEMA,
        "view": what.name(),
        "bundle": opened.shown,
        "verified": opened.report().verified(),
        "forced": opened.forced(),
        "verification_failures": opened.report().failures.iter().map(view::failure_json).collect::<Vec<_>>(),
        "warnings": warnings,
    })
}

fn show_files(
    args: &Args,
    opened: &Opened,
    ev: &mut Evidence<'_, BundleFile>,
    target: &Target,
    out: &mut dyn Write,
) -> Result<u8> {
    let mut filter = FileFilter::default();
    filter.setuid = args.setuid;
    filter.executable = args.executable;
    for p in &args.paths {
        filter.add_path(p)?;
    }
    filter.since_ns = args
        .since
        .as_deref()
        .map(|s| parse_bound(s, target.collected_ns))
        .transpose()?;
    filter.until_ns = args
        .until
        .as_deref()
        .map(|s| parse_bound(s, target.collected_ns))
        .transpose()?;
    let mut shown = 0u64;
    if args.json {
        let mut head = envelope(What::Files, opened, &[]);
        // `warnings` comes last, once the stream has been checked against the manifest.
        if let Value::Object(m) = &mut head {
            m.remove("warnings");
        }
        let head = serde_json::to_string_pretty(&head)?;
        // The envelope without its closing brace, then the streamed list.
        let open = head.trim_end().strip_suffix('}').unwrap_or(&head).trim_end();
        write!(
            out,
            "{open},\n  \"filter\": {},\n  \"evidence\": {},\n  \"files\": [",
            json!({"paths": args.paths, "since": filter.since_ns.map(format_ns),
                "until": filter.until_ns.map(format_ns), "setuid": args.setuid, "executable": args.executable}),
            json!(forensic_analysis::members::TREE_INDEX)
        )?;
    }
    let total = forensic_analysis::files::for_each(ev, &filter, |n, e| {
        if args.json {
            let mut v = serde_json::to_value(e).map_err(std::io::Error::other)?;
            if let Value::Object(m) = &mut v {
                m.insert("line".into(), json!(n));
            }
            write!(out, "{}\n    {v}", if shown == 0 { "" } else { "," })?;
        } else {
            print_file(out, e)?;
        }
        shown += 1;
        Ok(())
    })
    .with_context(|| format!("reading {}", opened.shown))?;
    if args.json {
        write!(
            out,
            "\n  ],\n  \"shown\": {shown},\n  \"entries\": {total},\n  \"warnings\": {}\n}}\n",
            serde_json::to_string(ev.warnings())?
        )?;
    } else {
        writeln!(
            out,
            "\n{shown} of {total} entries of {}",
            forensic_analysis::members::TREE_INDEX
        )?;
        for w in ev.warnings() {
            writeln!(out, "WARNING: {}", view::guard(w))?;
        }
    }
    Ok(crate::gate::exit_code(&opened.bundle, EXIT_OK))
}
