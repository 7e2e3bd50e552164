//! A verified bundle as one self-contained HTML case report (`forensic report`, docs/report.md):
//! for the people who receive a bundle and do not use the command line — an incident lead, a
//! lawyer, an auditor, a court.
//!
//! The report says what was collected, from what, by whom, whether it is intact, who held it
//! since, and what was found: the case header; the verification verdict with every check; the
//! custody chain drawn as a sequence of holders with each signature's status, key fingerprint
//! and trusted time; the sections with member counts, sizes and collection times; the findings by
//! severity, each with its evidence members and their SHA-256; the process tree; the sockets with
//! their owners; the changes against the image (when a diff is given); a chart of activity over
//! time and the timeline beneath it; the gaps.
//!
//! Nothing is derived here: every part is what the owning library computes for the command-line
//! views (`forensic_bundle::verify`, `forensic_analysis`'s summary, findings, processes, network
//! and timeline, `forensic_image`'s diff). This crate only lays them out.
//!
//! # Guarantees
//! - **One file, offline.** The page has no script, no external style sheet, font or image, and
//!   no attribute that names a URL: links are fragments (`#findings`) of the page itself. It
//!   opens from a USB stick years later and makes no request.
//! - **Hostile text stays text.** Every string from the bundle goes through the one escaping
//!   ([`html::Text`]; [`html::css_string`] in the print header): a `<script>` in a path, a note
//!   or a command line is shown, never run.
//! - **A bundle that did not verify says so first**: in the first heading, in a banner, and in
//!   the header of every printed page (with the bundle id and manifest digest, which every page
//!   carries in any case).
//! - **Bounded.** Indexes are streamed, never held: the timeline is read event by event (only the
//!   first `rows` kept, the chart's histogram is at most 60 buckets), and every long table is
//!   capped at `rows` lines with a line saying how many more there are.
//! - **Deterministic.** No clock is read: the same bundle and options give the same bytes.
//! - **No colour-only meaning.** Verdicts, severities and signature states are words; colour
//!   only repeats them.
//!
//! ```no_run
//! use forensic_analysis::evidence::{Check, Evidence, Limits};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let bytes = std::fs::read("case42.zip")?;
//! let report = forensic_bundle::verify::verify(&bytes[..], &Default::default())?;
//! assert!(report.verified());
//! let mut ev = Evidence::open(&bytes[..], report.manifest.as_ref(), Check::Strict, Limits::default())?;
//! let opts = forensic_report::Options::new("case42.zip", "forensic 0.1.0");
//! let mut html = Vec::new();
//! let written = forensic_report::write_report(&mut ev, &report, None, &opts, &mut html)?;
//! println!("{} findings", written.findings.critical + written.findings.high);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod activity;
pub mod chart;
mod custody;
mod diff;
pub mod html;
mod page;
mod style;
mod timeline;

use forensic_analysis::AnalysisError;
use forensic_analysis::evidence::Evidence;
use forensic_analysis::findings::SeverityCounts;
use forensic_analysis::processes::ProcessView;
use forensic_analysis::summary::SummaryView;
use forensic_analysis::suspicious::Analysis;
use forensic_analysis::target::Target;
use forensic_bundle::manifest::Member;
use forensic_bundle::verify::{OpenReader, Report};
use forensic_image::report::DiffReport;
use serde::Serialize;
use std::collections::HashMap;
use std::io::{self, Write};

/// Rows a long table shows by default.
pub const DEFAULT_ROWS: usize = 500;

/// What could not be done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// A member could not be read, is malformed, or does not match the manifest (strict).
    #[error("{0}")]
    Analysis(#[from] AnalysisError),
    /// Writing the report failed.
    #[error("writing the report: {0}")]
    Write(#[source] io::Error),
}

/// How to write the report.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    /// The bundle's path as given (shown, escaped).
    pub bundle: &'a str,
    /// The tool and version that writes the report (`forensic 0.1.0`).
    pub tool: &'a str,
    /// Whether a trust list was given to verification (else signers' trust is "not checked").
    pub trust_given: bool,
    /// Whether TSA certificates were given to verification (else tokens are "not judged").
    pub tsa_trust_given: bool,
    /// Lines a long table shows (the timeline, processes, sockets, the diff's changes).
    pub rows: usize,
}

impl<'a> Options<'a> {
    /// Options for `bundle`, written by `tool`: no trust lists, [`DEFAULT_ROWS`].
    pub fn new(bundle: &'a str, tool: &'a str) -> Options<'a> {
        Options {
            bundle,
            tool,
            trust_given: false,
            tsa_trust_given: false,
            rows: DEFAULT_ROWS,
        }
    }
}

/// The diff's counts, in [`Written`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffCounts {
    /// `A` lines.
    pub added: usize,
    /// `C` lines.
    pub changed: usize,
    /// `D` lines.
    pub deleted: usize,
    /// The diff's findings per severity.
    pub findings: SeverityCounts,
}

/// What a report holds (the `--json` summary of `forensic report`, docs/report.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Written {
    /// Whether the bundle verified.
    pub verified: bool,
    /// Verification failures (0 when verified).
    pub failures: usize,
    /// Sections of the manifest.
    pub sections: usize,
    /// Members of the manifest.
    pub members: usize,
    /// Custody entries.
    pub custody_entries: usize,
    /// The evidence's findings per severity.
    pub findings: SeverityCounts,
    /// Processes in the tree (`None`: the bundle has no process list).
    pub processes: Option<usize>,
    /// Inet and unix sockets (`None`: no network section).
    pub sockets: Option<usize>,
    /// The diff's counts, when a diff was given.
    pub diff: Option<DiffCounts>,
    /// Timeline events in all.
    pub events: u64,
    /// Of them in the table.
    pub events_shown: usize,
    /// What the timeline left out, and why.
    pub notes: Vec<String>,
    /// Members that did not check as they were read (a forced report), and other reader warnings.
    pub warnings: Vec<String>,
}

/// Everything the page shows, computed before it is written.
struct Model<'a> {
    report: &'a Report,
    opts: &'a Options<'a>,
    summary: SummaryView,
    analysis: Analysis,
    processes: Option<ProcessView>,
    timeline: timeline::Timeline,
    diff: Option<&'a DiffReport>,
    members: HashMap<&'a str, &'a Member>,
    warnings: Vec<String>,
}

/// Analyses the bundle behind `ev` (verified as `report` says: the caller opened it through the
/// gate) and writes the report to `out`. `diff`: the result of `forensic diff --image`, shown
/// when given.
///
/// # Errors
/// [`ReportError::Analysis`] when a member cannot be read, is malformed, or does not match the
/// manifest (strict reads); [`ReportError::Write`] when `out` fails. `out` may then hold part of
/// a report: write to a temporary file and rename it only on success.
pub fn write_report<S: OpenReader + ?Sized>(
    ev: &mut Evidence<'_, S>,
    report: &Report,
    diff: Option<&DiffReport>,
    opts: &Options<'_>,
    out: &mut dyn Write,
) -> Result<Written, ReportError> {
    let target = Target::from_manifest(report.manifest.as_ref());
    let analysis = forensic_analysis::suspicious::analyse(ev, &target)?;
    let summary = forensic_analysis::summary::view(report, &analysis);
    let processes = analysis
        .processes
        .present
        .then(|| forensic_analysis::processes::view(&analysis.processes, |m| ev.has_member(m)));
    let timeline = timeline::collect(ev, report, opts.rows)?;
    let members: HashMap<&str, &Member> = report
        .manifest
        .as_ref()
        .map(|m| m.members.iter().map(|x| (x.name.as_str(), x)).collect())
        .unwrap_or_default();
    let model = Model {
        report,
        opts,
        summary,
        analysis,
        processes,
        timeline,
        diff,
        members,
        warnings: ev.warnings().to_vec(),
    };
    write_page(&model, out).map_err(ReportError::Write)?;
    Ok(model.written())
}

fn write_page(m: &Model<'_>, out: &mut dyn Write) -> io::Result<()> {
    page::head(out, m)?;
    page::case(out, m)?;
    page::verification(out, m)?;
    custody::write(out, &m.report.custody)?;
    page::sections(out, m)?;
    writeln!(
        out,
        "<section id=\"findings\" class=\"major\"><h2>Findings</h2>\n<p class=\"lead\">What the \
container-forensics checklist looks for (<code>forensic show BUNDLE suspicious</code>), most urgent \
first, each with the bundle members that show it and their SHA-256 as sealed in the manifest.</p>"
    )?;
    page::findings(out, &m.analysis.view.findings, &m.members)?;
    writeln!(out, "</section>")?;
    activity::processes(out, m.processes.as_ref(), m.opts.rows)?;
    activity::network(out, m.analysis.network.as_ref(), m.opts.rows)?;
    if let Some(d) = m.diff {
        diff::write(out, d, &m.members, m.opts.rows)?;
    }
    timeline::write(out, &m.timeline, m.opts.bundle)?;
    page::foot(out, m)?;
    out.flush()
}

impl Model<'_> {
    fn written(&self) -> Written {
        let r = self.report;
        Written {
            verified: r.verified(),
            failures: r.failures.len(),
            sections: self.summary.sections.len(),
            members: self.summary.counts.members,
            custody_entries: r.custody.len(),
            findings: self.analysis.view.counts,
            processes: self.processes.as_ref().map(|p| p.processes.len()),
            sockets: self.analysis.network.as_ref().map(|n| n.inet.len() + n.unix.len()),
            diff: self.diff.map(|d| DiffCounts {
                added: d.summary.added,
                changed: d.summary.changed,
                deleted: d.summary.deleted,
                findings: d.summary.findings,
            }),
            events: self.timeline.total,
            events_shown: self.timeline.rows.len(),
            notes: self.timeline.notes.clone(),
            warnings: self.warnings.clone(),
        }
    }
}
