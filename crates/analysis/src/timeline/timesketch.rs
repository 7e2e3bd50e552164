//! The timeline as Timesketch imports it (`forensic export --format timesketch|csv`).
//!
//! Timesketch takes JSON Lines or CSV whose rows have at least `message`, `datetime` (ISO 8601)
//! and `timestamp_desc` (what the time means); every other attribute is kept and searchable.
//! Each [`Event`] is one row:
//!
//! | attribute | value |
//! |---|---|
//! | `message` | the event's description (control characters already escaped) |
//! | `datetime` | the event's time, ISO 8601 / RFC 3339 in UTC with the offset written `+00:00`, to the nanosecond (`2024-05-07T18:54:19.341081180+00:00`) |
//! | `timestamp_desc` | [`timestamp_desc`]: `Content Modification Time`, `Process Start Time`, … |
//! | `timestamp` | microseconds since the epoch (rounded down), Timesketch's own sort key |
//! | `time_ns` | nanoseconds since the epoch, exact |
//! | `source`, `kind`, `evidence` | as in `forensic timeline --format jsonl` |
//! | `uncertainty_s` | process starts: how far the true start may be from `datetime`, in seconds |
//! | detail fields | JSON Lines: each field of the event's `detail` (`path`, `pid`, `exe`, `rule`, `user`, …) as an attribute of its own, `detail_`-prefixed if it would hide one above; CSV: the `detail` column, a JSON object |

use super::Event;
use super::format::csv_field;
use crate::time::format_ns;
use serde_json::{Map, Value};
use std::io::{self, Write};

/// The CSV header, in order.
pub const CSV_COLUMNS: [&str; 10] = [
    "message",
    "datetime",
    "timestamp_desc",
    "timestamp",
    "time_ns",
    "source",
    "kind",
    "evidence",
    "uncertainty_s",
    "detail",
];

/// Attributes every row has, which a detail field may not hide: the CSV columns but `detail`.
fn reserved(name: &str) -> bool {
    name != "detail" && CSV_COLUMNS.contains(&name)
}

/// What an event's time means, in the words plaso and Timesketch use.
pub fn timestamp_desc(e: &Event) -> &'static str {
    match (e.source.as_str(), e.kind.as_str()) {
        ("file", "m...") => "Content Modification Time",
        ("file", "..c.") => "Metadata Modification Time",
        ("file", _) => "Content and Metadata Modification Time",
        ("process", _) => "Process Start Time",
        ("container", _) => "Container Creation Time",
        ("audit", _) => "Request Received Time",
        ("falco", _) => "Alert Time",
        ("collection", "created") => "Bundle Creation Time",
        ("collection", "started") => "Collection Start Time",
        ("collection", "finished") => "Collection End Time",
        ("custody", _) => "Custody Entry Time",
        _ => "Event Time",
    }
}

/// `ns` as ISO 8601 with an explicit offset: `2024-05-07T18:54:19.341081180+00:00`.
pub fn datetime(ns: i64) -> String {
    let t = format_ns(ns);
    match t.strip_suffix('Z') {
        Some(base) => format!("{base}+00:00"),
        None => t,
    }
}

/// Microseconds since the epoch, rounded down.
fn micros(ns: i64) -> i64 {
    ns.div_euclid(1_000)
}

/// The uncertainty in seconds, as text (`0.505`).
fn uncertainty_s(e: &Event) -> Option<f64> {
    e.uncertainty_ns.map(|u| u as f64 / 1e9)
}

/// The JSON object of one event (written with its keys in order of name).
pub fn row(e: &Event) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("message".into(), e.description.clone().into());
    m.insert("datetime".into(), datetime(e.time_ns).into());
    m.insert("timestamp_desc".into(), timestamp_desc(e).into());
    m.insert("timestamp".into(), micros(e.time_ns).into());
    m.insert("time_ns".into(), e.time_ns.into());
    m.insert("source".into(), e.source.clone().into());
    m.insert("kind".into(), e.kind.clone().into());
    m.insert("evidence".into(), e.evidence.clone().into());
    if let Some(u) = uncertainty_s(e) {
        m.insert("uncertainty_s".into(), u.into());
    }
    if let Some(Value::Object(detail)) = &e.detail {
        for (k, v) in detail {
            if v.is_null() {
                continue;
            }
            let key = if reserved(k) { format!("detail_{k}") } else { k.clone() };
            m.insert(key, v.clone());
        }
    }
    m
}

/// Writes one event as a JSON line.
pub(crate) fn jsonl(e: &Event, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &row(e))?;
    out.write_all(b"\n")
}

/// Writes one event as a CSV row (RFC 4180 quoting).
pub(crate) fn csv(e: &Event, out: &mut dyn Write) -> io::Result<()> {
    let detail = match &e.detail {
        Some(d) => serde_json::to_string(d)?,
        None => String::new(),
    };
    let fields = [
        e.description.clone(),
        datetime(e.time_ns),
        timestamp_desc(e).to_string(),
        micros(e.time_ns).to_string(),
        e.time_ns.to_string(),
        e.source.clone(),
        e.kind.clone(),
        e.evidence.clone(),
        uncertainty_s(e).map(|u| u.to_string()).unwrap_or_default(),
        detail,
    ];
    let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
    writeln!(out, "{}", line.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(source: &str, kind: &str, detail: Option<Value>) -> Event {
        Event {
            time_ns: -1_500,
            source: source.into(),
            kind: kind.into(),
            description: "a, \"b\"".into(),
            evidence: "x".into(),
            detail,
            uncertainty_ns: Some(505_000_000),
        }
    }

    #[test]
    fn rows_carry_the_three_columns_timesketch_needs() {
        let e = event(
            "file",
            "..c.",
            Some(serde_json::json!({"path": "/a", "source": "y", "n": null})),
        );
        let mut out = Vec::new();
        jsonl(&e, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"datetime\":\"1969-12-31T23:59:59.999998500+00:00\",\"detail_source\":\"y\",\"evidence\":\"x\",\
             \"kind\":\"..c.\",\"message\":\"a, \\\"b\\\"\",\"path\":\"/a\",\"source\":\"file\",\"time_ns\":-1500,\
             \"timestamp\":-2,\"timestamp_desc\":\"Metadata Modification Time\",\"uncertainty_s\":0.505}\n"
        );
        let mut out = Vec::new();
        csv(&event("process", "start", None), &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"a, \"\"b\"\"\",1969-12-31T23:59:59.999998500+00:00,Process Start Time,-2,-1500,process,start,x,0.505,\n"
        );
    }
}
