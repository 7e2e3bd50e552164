//! The report's timeline: exactly the events of `forensic timeline BUNDLE` (by default: file
//! events only of the files the container changed), as [`forensic_analysis::timeline`] writes
//! them in JSON Lines, read back one line at a time: every event is counted in the activity
//! chart, the first `rows` are kept for the table, and nothing else is held.

use crate::chart::{self, Histogram, Series};
use crate::html::Text;
use crate::page::{Table, more_row, plural};
use forensic_analysis::AnalysisError;
use forensic_analysis::evidence::Evidence;
use forensic_analysis::timeline::{Event, FileScope, Format, TimelineOptions, write_timeline};
use forensic_bundle::verify::{OpenReader, Report};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// The chart's rows: the timeline source each counts, its label and its bars' class.
const CHARTED: [(&str, Series<'static>); 4] = [
    (
        "file",
        Series {
            label: "file changes",
            class: "s-file",
        },
    ),
    (
        "process",
        Series {
            label: "process starts",
            class: "s-process",
        },
    ),
    (
        "audit",
        Series {
            label: "audit events",
            class: "s-audit",
        },
    ),
    (
        "falco",
        Series {
            label: "alerts (Falco)",
            class: "s-falco",
        },
    ),
];

/// One line of the timeline's JSON Lines: the event and its time as the timeline writes it (to
/// its precision).
#[derive(Debug, Deserialize)]
pub struct Row {
    /// The time as text (hundredths for a process start).
    pub time: String,
    /// The event.
    #[serde(flatten)]
    pub event: Event,
}

/// What the report shows of the timeline.
#[derive(Debug)]
pub struct Timeline {
    /// The first events, in time order.
    pub rows: Vec<Row>,
    /// Every event.
    pub total: u64,
    /// Events per source.
    pub by_source: BTreeMap<String, u64>,
    /// The charted sources over time.
    pub histogram: Histogram,
    /// What the timeline left out, and why.
    pub notes: Vec<String>,
}

/// Reads the timeline's lines as they are written.
struct Sink {
    partial: Vec<u8>,
    keep: usize,
    t: Timeline,
}

impl Sink {
    fn line(&mut self, line: &[u8]) -> io::Result<()> {
        if line.is_empty() {
            return Ok(());
        }
        let row: Row = serde_json::from_slice(line).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        self.t.total += 1;
        *self.t.by_source.entry(row.event.source.clone()).or_default() += 1;
        if let Some(series) = CHARTED.iter().position(|(s, _)| *s == row.event.source) {
            self.t.histogram.add(series, row.event.time_ns);
        }
        if self.t.rows.len() < self.keep {
            self.t.rows.push(row);
        }
        Ok(())
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.partial.extend_from_slice(buf);
        let mut start = 0;
        while let Some(nl) = memchr::memchr(b'\n', self.partial.get(start..).unwrap_or_default()) {
            let line = self.partial.get(start..start + nl).unwrap_or_default().to_vec();
            self.line(&line)?;
            start += nl + 1;
        }
        self.partial.drain(..start);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Runs the timeline (the files the container changed, every other event) and keeps what the
/// report shows: the first `rows` events, the count per source and the chart's histogram.
///
/// # Errors
/// As [`write_timeline`].
pub fn collect<S: OpenReader + ?Sized>(
    ev: &mut Evidence<'_, S>,
    report: &Report,
    rows: usize,
) -> Result<Timeline, AnalysisError> {
    let opts = TimelineOptions {
        files: FileScope::Changed,
        ..TimelineOptions::new(Format::Jsonl)
    };
    let mut sink = Sink {
        partial: Vec::new(),
        keep: rows,
        t: Timeline {
            rows: Vec::new(),
            total: 0,
            by_source: BTreeMap::new(),
            histogram: Histogram::new(CHARTED.len()),
            notes: Vec::new(),
        },
    };
    let summary = write_timeline(ev, report, &opts, &mut sink)?;
    let rest = std::mem::take(&mut sink.partial);
    sink.line(&rest).map_err(AnalysisError::Output)?;
    let mut t = sink.t;
    t.notes = summary.notes;
    Ok(t)
}

/// The timeline section: the chart, the notes, the table.
pub fn write(out: &mut dyn Write, t: &Timeline, bundle: &str) -> io::Result<()> {
    writeln!(
        out,
        "<section id=\"timeline\" class=\"major\"><h2>Timeline</h2>\n<p class=\"lead\">The events of \
<code>forensic timeline {}</code>: times of the files the container changed, process starts, the \
container's creation, Kubernetes audit requests, Falco alerts of the container, the collection and the \
custody log; {} in all ({}).</p>",
        Text(bundle),
        plural(t.total, "event"),
        t.by_source
            .iter()
            .map(|(s, n)| format!("{} {n}", Text(s)))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    writeln!(out, "<h3>Activity</h3>")?;
    let series: Vec<Series<'_>> = CHARTED.iter().map(|(_, s)| *s).collect();
    // Ticks and tooltips to the millisecond when the buckets are shorter than a second.
    let digits = if t.histogram.width_ns() < 1_000_000_000 { 3 } else { 0 };
    let svg = chart::svg(&t.histogram, &series, &|ns| {
        forensic_analysis::time::format_ns_digits(ns, digits)
    });
    if svg.is_empty() {
        writeln!(
            out,
            "<p>No file change, process start, audit event or alert has a time.</p>"
        )?;
    } else {
        writeln!(out, "{svg}")?;
    }
    if !t.notes.is_empty() {
        writeln!(out, "<h3>Left out</h3><ul>")?;
        for n in &t.notes {
            writeln!(out, "<li>{}</li>", Text(n))?;
        }
        writeln!(out, "</ul>")?;
    }
    writeln!(out, "<h3>Events</h3>")?;
    let caption = format!(
        "The first {} of {}, in time order",
        t.rows.len(),
        plural(t.total, "event")
    );
    Table::new(&caption, &["time (UTC)", "source", "kind", "description", "evidence"]).open(out)?;
    for r in &t.rows {
        let e = &r.event;
        writeln!(
            out,
            "<tr><td class=\"time\">{}</td><td>{}</td><td>{}</td><td class=\"wrap\">{}</td><td class=\"wrap\">{}</td></tr>",
            Text(&r.time),
            Text(&e.source),
            Text(&e.kind),
            Text(&e.description),
            Text(&e.evidence)
        )?;
    }
    more_row(
        out,
        5,
        t.rows.len() as u64,
        t.total,
        &format!("events: forensic timeline {bundle} shows them all"),
    )?;
    Table::close(out)?;
    writeln!(out, "</section>")
}
