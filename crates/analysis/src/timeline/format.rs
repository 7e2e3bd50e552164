//! The timeline's output formats: text, CSV, JSON Lines, and the body file `mactime` reads.
//!
//! Body file (The Sleuth Kit 3.x, read by `mactime -b`): one line per file or event,
//! `MD5|name|inode|mode_as_string|UID|GID|size|atime|mtime|ctime|crtime`, times in whole seconds
//! since the epoch. `MD5` is `0` (not computed; the index holds SHA-256). `mode_as_string` is
//! TSK's `t/tPERMS` (`r/rrwxr-xr-x`, `d/drwxr-xr-x`, `l/lrwxrwxrwx`). The index records no access
//! or birth time; how unknown times are written is below. Events that are not files (process starts,
//! alerts, audit events, collection and custody) are lines named `[source] kind: description`
//! with all four times equal, inode 0 and mode `-/----------`. In names, `|`, `%`, control
//! and format characters (bidirectional overrides, zero-width) and bytes that are not UTF-8 are
//! written `%XX`, which `mactime` decodes.
//!
//! Unknown times. TSK writes an unknown time as `0`, but `mactime` (sleuthkit 4.x) prints a `0`
//! as a row dated `Xxx Xxx 00 0000 00:00:00` (`0000-00-00T00:00:00Z` with `-y`). It leaves out
//! every time before its start date, which is `0` without `-y`/a range: so a time the index does
//! not record (`atime`, `crtime`), and a time at or before the epoch (which `mactime` cannot
//! show either), is written `-1`. A line with no time after the epoch is not written at all (the
//! timeline's notes count them; `--format text` shows them).

use super::Event;
use crate::files::{FileEntry, perm_string};
use crate::time::{format_approx, format_ns, format_ns_digits, seconds};
use std::io::{self, Write};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One line per event: `TIME  SOURCE  KIND  DESCRIPTION  [EVIDENCE]`.
    Text,
    /// RFC 4180 CSV with a header row: `time,time_ns,source,kind,description,evidence`.
    Csv,
    /// One JSON object per line (docs/show-json.md).
    Jsonl,
    /// The Sleuth Kit body file, for `mactime` (not sorted: `mactime` sorts).
    Bodyfile,
    /// Timesketch JSON Lines: one object per event with `message`, `datetime`, `timestamp_desc`,
    /// `timestamp` and the event's source, kind, evidence and detail fields (`forensic export
    /// --format timesketch`).
    Timesketch,
    /// Timesketch CSV: a header row, then `message,datetime,timestamp_desc,timestamp,time_ns,
    /// source,kind,evidence,uncertainty_s,detail` (`forensic export --format csv`).
    TimesketchCsv,
}

impl Format {
    /// The format named `text`, `csv`, `jsonl`, `bodyfile`, `timesketch` or `timesketch-csv`.
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "text" => Some(Format::Text),
            "csv" => Some(Format::Csv),
            "jsonl" => Some(Format::Jsonl),
            "bodyfile" | "body" => Some(Format::Bodyfile),
            "timesketch" => Some(Format::Timesketch),
            "timesketch-csv" => Some(Format::TimesketchCsv),
            _ => None,
        }
    }
}

/// Writes the header of a sorted format (CSV's header row).
pub(crate) fn header(format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Csv => out.write_all(b"time,time_ns,source,kind,description,evidence\n"),
        Format::TimesketchCsv => writeln!(out, "{}", super::timesketch::CSV_COLUMNS.join(",")),
        _ => Ok(()),
    }
}

/// Writes one event in a sorted format.
pub(crate) fn event(format: Format, e: &Event, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Text => writeln!(
            out,
            "{}  {:<10} {:<12} {}  [{}]",
            shown_time(e, true),
            e.source,
            e.kind,
            e.description,
            e.evidence
        ),
        Format::Csv => {
            let fields = [
                shown_time(e, true),
                e.time_ns.to_string(),
                e.source.clone(),
                e.kind.clone(),
                e.description.clone(),
                e.evidence.clone(),
            ];
            let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            writeln!(out, "{}", line.join(","))
        }
        Format::Jsonl => {
            #[derive(serde::Serialize)]
            struct Line<'a> {
                time: String,
                #[serde(flatten)]
                event: &'a Event,
            }
            serde_json::to_writer(
                &mut *out,
                &Line {
                    time: shown_time(e, false),
                    event: e,
                },
            )?;
            out.write_all(b"\n")
        }
        Format::Bodyfile => body_event(e, out).map(|_| ()),
        Format::Timesketch => super::timesketch::jsonl(e, out),
        Format::TimesketchCsv => super::timesketch::csv(e, out),
    }
}

/// An event's time as text: to the nanosecond when exact; to hundredths of a second when it has
/// an uncertainty, followed by `±0.51s` when `plus_minus` (text and CSV; JSON Lines carry
/// `uncertainty_ns` instead).
fn shown_time(e: &Event, plus_minus: bool) -> String {
    match e.uncertainty_ns {
        None => format_ns(e.time_ns),
        Some(u) if plus_minus => format_approx(e.time_ns, crate::processes::START_DIGITS, u),
        Some(_) => format_ns_digits(e.time_ns, crate::processes::START_DIGITS),
    }
}

/// A time for the body file: whole seconds, or `-1` when unknown or not after the epoch (see
/// the module's documentation).
fn body_time(ns: Option<i64>) -> i64 {
    ns.map(seconds).filter(|s| *s > 0).unwrap_or(-1)
}

/// One CSV field, quoted when it holds a comma, quote or line break (RFC 4180).
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A body file name: `|`, `%`, what a terminal would act on (control characters, bidirectional
/// and zero-width format characters: [`forensic_bundle::name::is_unsafe_display`]) and invalid
/// UTF-8 as `%XX`.
pub fn body_name(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '|' || c == '%' || forensic_bundle::name::is_unsafe_display(c) {
                let mut b = [0u8; 4];
                for byte in c.encode_utf8(&mut b).bytes() {
                    out.push_str(&format!("%{byte:02X}"));
                }
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// TSK's type letter: `r` regular, `d` directory, `l` link, `p` FIFO, `s` socket, `c`, `b`
/// devices, `-` unknown.
pub fn tsk_type(kind: &str) -> char {
    match kind {
        "file" => 'r',
        "dir" | "mountpoint-skipped" => 'd',
        "symlink" => 'l',
        "fifo" => 'p',
        "socket" => 's',
        "char" => 'c',
        "block" => 'b',
        _ => '-',
    }
}

/// TSK's `mode_as_string`: `r/rrwxr-xr-x`.
pub fn tsk_mode(kind: &str, perm: u32) -> String {
    let t = tsk_type(kind);
    format!("{t}/{t}{}", perm_string(perm))
}

/// The body file line of an index entry; `None` for an entry with no time after the epoch
/// (`skipped` entries have none).
pub fn body_line(e: &FileEntry) -> Option<String> {
    let (mtime, ctime) = (body_time(e.mtime_ns), body_time(e.ctime_ns));
    if mtime < 0 && ctime < 0 {
        return None;
    }
    let mut name = body_name(e.path.as_bytes());
    if let Some(t) = &e.symlink_target {
        name.push_str(" -> ");
        name.push_str(&body_name(t.as_bytes()));
    }
    Some(format!(
        "0|{name}|{}|{}|{}|{}|{}|-1|{mtime}|{ctime}|-1",
        e.inode.unwrap_or(0),
        tsk_mode(e.kind.as_str(), e.perm()),
        e.uid.unwrap_or(0),
        e.gid.unwrap_or(0),
        e.size.unwrap_or(0),
    ))
}

/// The body file line of an event that is not a file; `false` (nothing written) when its time
/// is not after the epoch.
pub(crate) fn body_event(e: &Event, out: &mut dyn Write) -> io::Result<bool> {
    let t = body_time(Some(e.time_ns));
    if t < 0 {
        return Ok(false);
    }
    let name = body_name(format!("[{}] {}: {} ({})", e.source, e.kind, e.description, e.evidence).as_bytes());
    writeln!(out, "0|{name}|0|-/----------|0|0|0|{t}|{t}|{t}|{t}")?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_names_and_modes() {
        assert_eq!(body_name(b"/tmp/a|b%c\nd\xff"), "/tmp/a%7Cb%25c%0Ad%FF");
        assert_eq!(body_name("/tmp/é".as_bytes()), "/tmp/é");
        assert_eq!(body_name("/tmp/\u{9b}2J\u{202e}".as_bytes()), "/tmp/%C2%9B2J%E2%80%AE");
        assert_eq!(tsk_mode("file", 0o4755), "r/rrwsr-xr-x");
        assert_eq!(tsk_mode("dir", 0o1777), "d/drwxrwxrwt");
        assert_eq!(tsk_mode("symlink", 0o777), "l/lrwxrwxrwx");
        assert_eq!(csv_field("a,\"b\""), "\"a,\"\"b\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
    }
}
