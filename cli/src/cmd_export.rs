//! `forensic export`: a verified bundle for other forensic tools (docs/export.md): CASE/UCO
//! JSON-LD ([`forensic_analysis::case`]) and the timeline as Timesketch imports it
//! ([`forensic_analysis::timeline::timesketch`]), written atomically.

use crate::cmd_show::{Opened, open_verified};
use crate::{EXIT_FAILED, EXIT_OK, view};
use anyhow::{Context as _, Result, bail};
use forensic_analysis::case::case_document;
use forensic_analysis::timeline::{FileScope, Format, TimelineOptions};
use forensic_disk::AtomicFile;
use serde_json::json;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

/// Export formats.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// CASE/UCO 1.5.0 JSON-LD: the collection, every member with its SHA-256, every custody entry.
    Case,
    /// Timesketch JSON Lines: the timeline's events with message, datetime, timestamp_desc.
    Timesketch,
    /// Timesketch CSV: the same rows, RFC 4180, with a header row.
    Csv,
}

impl FormatArg {
    fn name(self) -> &'static str {
        match self {
            FormatArg::Case => "case",
            FormatArg::Timesketch => "timesketch",
            FormatArg::Csv => "csv",
        }
    }
}

/// Export a verified bundle for other forensic tools: CASE/UCO JSON-LD, or its timeline for
/// Timesketch (JSON Lines or CSV).
#[derive(clap::Args)]
#[command(
    after_help = "The bundle is verified first; one that does not verify is refused (nothing written) \
unless --force (then a warning comes first on stderr, and the CASE document says in the bundle's \
description that it did not verify, with every failure).\n\
OUT is written to a temporary file beside it (.forensic-OUT.partial) and renamed into place only when \
complete and synced; an existing OUT is never overwritten (checked before the bundle is read).\n\
case: CASE 1.5.0 / UCO 1.5.0 JSON-LD, what `case_validate` (PyPI case-utils) checks: the collection as an \
investigative action (tool, performer, times, target container), every member and the manifest as a file \
with its SHA-256, every custody entry as a provenance record with its signature status. The evidence itself, \
findings and the timeline are not in it.\n\
timesketch, csv: exactly the events of `forensic timeline BUNDLE --format jsonl` (by default file events \
only of the files the container changed; --all: every file), one row each, with Timesketch's message, \
datetime (ISO 8601, +00:00) and timestamp_desc; what is left out is noted on stderr.\n\
Exit codes: 0 written; 1 the bundle does not verify (refused: nothing written; or written with --force); \
2 could not run (OUT exists, unreadable input; nothing written). Mapping: docs/export.md.\n\
Example: forensic export case42.zip --format timesketch -o case42.jsonl && timesketch_importer --sketch_id 1 case42.jsonl"
)]
pub struct Args {
    #[command(flatten)]
    crypt: crate::crypt_args::IdentityArgs,
    /// The bundle.
    bundle: PathBuf,
    /// What to write.
    #[arg(long, value_enum)]
    format: FormatArg,
    /// The file to write (must not exist).
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    output: PathBuf,
    /// timesketch, csv: file events of every entry of the index, the untouched image files
    /// included (as `timeline --all`).
    #[arg(long)]
    all: bool,
    /// Export a bundle that does not verify (exit code 1 all the same).
    #[arg(long)]
    force: bool,
    /// Trusted signer public key (.pub) or a directory of them; repeatable.
    #[arg(long, value_name = "FILE_OR_DIR")]
    trust: Vec<PathBuf>,
    /// Print what was written as JSON on stdout (docs/export.md).
    #[arg(long)]
    json: bool,
}

/// What an export wrote.
struct Written {
    /// Graph nodes (case) or events (timesketch, csv).
    count: u64,
    /// `nodes` or `events`.
    unit: &'static str,
    /// What was left out and why (the timeline's notes).
    notes: Vec<String>,
}

/// Runs the command.
pub fn run(args: Args) -> Result<u8> {
    if args.all && args.format == FormatArg::Case {
        bail!("--all applies to --format timesketch and csv only (the CASE export has no file events)");
    }
    // The claim on OUT comes first: an existing OUT is refused before the bundle is read, and
    // dropping the claim (refused, or any error) removes the temporary file.
    let mut out = AtomicFile::create(&args.output)?;
    let Some(opened) = open_verified(&args.bundle, args.force, &args.trust, &args.crypt.identity, "export")? else {
        return Ok(EXIT_FAILED);
    };
    let temp = view::path(out.temp_path());
    let written = {
        let mut w = BufWriter::with_capacity(256 * 1024, out.file_mut());
        let written = match args.format {
            FormatArg::Case => write_case(&opened, &args.bundle.to_string_lossy(), &mut w)?,
            FormatArg::Timesketch => write_timesketch(&opened, Format::Timesketch, args.all, &mut w)?,
            FormatArg::Csv => write_timesketch(&opened, Format::TimesketchCsv, args.all, &mut w)?,
        };
        w.flush().with_context(|| format!("writing {temp}"))?;
        written
    };
    let dest = out.commit()?;
    let mut stdout = std::io::stdout().lock();
    if args.json {
        let v = json!({
            "output": dest.display().to_string(),
            "format": args.format.name(),
            "written": written.count,
            "unit": written.unit,
            "verified": opened.report().verified(),
            "forced": opened.forced(),
            "notes": written.notes,
        });
        writeln!(view::JsonOut::new(&mut stdout), "{v}")?;
    } else {
        writeln!(
            stdout,
            "exported {} to {} ({})",
            view::count(written.count, written.unit.strip_suffix('s').unwrap_or(written.unit)),
            view::path(&dest),
            args.format.name()
        )?;
    }
    Ok(crate::gate::exit_code(&opened.bundle, EXIT_OK))
}

/// The CASE/UCO JSON-LD document, indented, with a final newline. `bundle_file`: the bundle's
/// path as given.
fn write_case(opened: &Opened, bundle_file: &str, out: &mut dyn Write) -> Result<Written> {
    let doc = case_document(opened.report(), bundle_file);
    let nodes = doc
        .get("@graph")
        .and_then(serde_json::Value::as_array)
        .map_or(0, Vec::len);
    serde_json::to_writer_pretty(&mut *out, &doc).context("writing the CASE document")?;
    writeln!(out)?;
    Ok(Written {
        count: nodes as u64,
        unit: "nodes",
        notes: Vec::new(),
    })
}

/// The timeline's events in a Timesketch format, as `forensic timeline` selects them.
fn write_timesketch(opened: &Opened, format: Format, all: bool, out: &mut dyn Write) -> Result<Written> {
    let opts = TimelineOptions {
        files: if all { FileScope::All } else { FileScope::Changed },
        ..TimelineOptions::new(format)
    };
    let summary = crate::cmd_timeline::write_events(opened, &opts, out)?;
    Ok(Written {
        count: summary.written,
        unit: "events",
        notes: summary.notes,
    })
}
