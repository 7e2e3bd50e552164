//! `forensic timeline`: one time-ordered view across a verified bundle's sources.

use crate::cmd_show::{Opened, open_verified};
use crate::{EXIT_FAILED, EXIT_OK, view};
use anyhow::{Context as _, Result};
use forensic_analysis::target::Target;
use forensic_analysis::time::parse_bound;
use forensic_analysis::timeline::{FileScope, Format, TimelineOptions, TimelineSummary, write_timeline};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

/// Output formats.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// `TIME  SOURCE  KIND  DESCRIPTION  [EVIDENCE]`, one event a line.
    Text,
    /// CSV with a header row (time,time_ns,source,kind,description,evidence).
    Csv,
    /// One JSON object a line (docs/show-json.md).
    Jsonl,
    /// The Sleuth Kit body file for `mactime -b` (files with their times; other events as named lines).
    Bodyfile,
}

/// One time-ordered view across the bundle: file times, process starts, Kubernetes audit events,
/// Falco alerts of the container, the collection and the custody log.
#[derive(clap::Args)]
#[command(
    after_help = "The bundle is verified first; one that does not verify is refused unless --force \
(then a warning comes first: on stdout for text, as a # comment in a body file, else on stderr).\n\
--since/--until: RFC 3339 (2024-05-07T18:54:19Z), a date (2024-05-07, UTC), @UNIX_SECONDS, or a duration \
before the collection (30m, 24h, 7d).\n\
Falco alerts are the container's when their 12-digit container.id starts its 64-digit id.\n\
Kubernetes audit logs are read as `forensic audit` reads them (wrapped AKS records included); a request \
logged at several stages is one event, at its most complete stage: the audit events are the results of \
`forensic audit BUNDLE requests`.\n\
File events: by default only of the files the container changed (in its writable layer, or modified or \
changed at or after its creation, 6-podspec/container.json `created`); --all adds every untouched image file. \
Every event that is not a file is always shown.\n\
Process starts are known to ±0.51 s (the boot time is whole seconds, a start whole clock ticks): written to \
hundredths with ±, ordered by the middle of their window; a window that holds the container's creation begins there.\n\
Body file: unknown times (access, birth) are -1, which mactime leaves out; lines with no time after 1970 are not written.\n\
What is left out (alerts of other containers, process starts without the boot time, unchanged files) is noted on stderr.\n\
Exit codes: 0 written; 1 the bundle does not verify (refused: nothing written; or written with --force); \
2 could not run (unreadable input). Formats: docs/show-json.md.\n\
Example: forensic timeline case.zip --format bodyfile > body && mactime -b body -y 2024-05-01"
)]
pub struct Args {
    #[command(flatten)]
    crypt: crate::crypt_args::IdentityArgs,
    /// The bundle.
    bundle: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: FormatArg,
    /// Only events at or after this time.
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Only events at or before this time.
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// Include Falco alerts of other containers and of the host.
    #[arg(long)]
    all_alerts: bool,
    /// File events of every entry of the index, the untouched image files included.
    #[arg(long, conflicts_with = "changed")]
    all: bool,
    /// File events only of files the container changed: those in the writable layer, or
    /// modified or changed at or after the container's creation (the default).
    #[arg(long)]
    changed: bool,
    /// Use a bundle that does not verify.
    #[arg(long)]
    force: bool,
    /// Trusted signer public key (.pub) or a directory of them; repeatable.
    #[arg(long, value_name = "FILE_OR_DIR")]
    trust: Vec<PathBuf>,
    /// Events kept in memory while sorting (more are spilled to temporary files).
    #[arg(long, value_name = "N", default_value_t = 200_000, hide = true)]
    max_in_memory: usize,
    /// Kubernetes audit requests kept while their stages are merged (further requests are left
    /// out, and a note says how many).
    #[arg(long, value_name = "N", default_value_t = TimelineOptions::new(Format::Text).max_audit_requests)]
    max_audit_requests: usize,
}

/// Runs the command.
pub fn run(args: Args) -> Result<u8> {
    let Some(opened) = open_verified(
        &args.bundle,
        args.force,
        &args.trust,
        &args.crypt.identity,
        "make a timeline of",
    )?
    else {
        return Ok(EXIT_FAILED);
    };
    let target = Target::from_manifest(opened.report().manifest.as_ref());
    let bound = |s: &Option<String>| s.as_deref().map(|s| parse_bound(s, target.collected_ns)).transpose();
    let format = match args.format {
        FormatArg::Text => Format::Text,
        FormatArg::Csv => Format::Csv,
        FormatArg::Jsonl => Format::Jsonl,
        FormatArg::Bodyfile => Format::Bodyfile,
    };
    let opts = TimelineOptions {
        format,
        since_ns: bound(&args.since)?,
        until_ns: bound(&args.until)?,
        all_alerts: args.all_alerts,
        files: if args.all { FileScope::All } else { FileScope::Changed },
        max_in_memory: args.max_in_memory,
        max_sort_bytes: TimelineOptions::new(format).max_sort_bytes,
        max_audit_requests: args.max_audit_requests,
    };
    let stdout = std::io::stdout().lock();
    let buffered = BufWriter::with_capacity(256 * 1024, stdout);
    // JSON Lines through the terminal-safe JSON writer; the other formats escape as they write.
    let mut json_out;
    let mut text_out;
    let out: &mut dyn Write = if format == Format::Jsonl {
        json_out = view::JsonOut::new(buffered);
        &mut json_out
    } else {
        text_out = buffered;
        &mut text_out
    };
    if let Some(w) = opened.warning() {
        match format {
            Format::Text => writeln!(out, "{w}")?,
            Format::Bodyfile => writeln!(out, "# {w}")?,
            Format::Csv | Format::Jsonl | Format::Timesketch | Format::TimesketchCsv => {}
        }
    }
    write_events(&opened, &opts, out)?;
    Ok(crate::gate::exit_code(&opened.bundle, EXIT_OK))
}

/// Writes the timeline of an opened bundle to `out` (flushed), then its notes (what was left
/// out) and the reader's warnings on stderr; `timeline` and `export` write their events here.
///
/// # Errors
/// A member cannot be read or is not intact, or `out` cannot be written.
pub fn write_events(opened: &Opened, opts: &TimelineOptions, out: &mut dyn Write) -> Result<TimelineSummary> {
    let mut ev = opened.evidence()?;
    let summary =
        write_timeline(&mut ev, opened.report(), opts, out).with_context(|| format!("reading {}", opened.shown))?;
    out.flush()?;
    let mut err = std::io::stderr().lock();
    for n in &summary.notes {
        writeln!(err, "forensic: note: {}", view::guard(n))?;
    }
    for w in ev.warnings() {
        writeln!(err, "forensic: WARNING: {}", view::guard(w))?;
    }
    Ok(summary)
}
