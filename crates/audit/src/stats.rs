//! What was read: line, record and event counts, and every record skipped with its reason.

use crate::event::Event;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// Why a record was skipped. Skipping is never fatal; every skip is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SkipReason {
    /// Not JSON at all (a text log line, binary data, ...).
    InvalidJson,
    /// JSON that stops in the middle of a value: a line cut short (a log rotated mid-write).
    TruncatedJson,
    /// A record longer than [`crate::ScanLimits::max_record`].
    TooLong,
    /// A JSON value that is not an object (a string, a number, ...).
    NotAnObject,
    /// A GKE Cloud Audit Logging record (`protoPayload`): not a Kubernetes audit `Event`.
    GkeCloudAudit,
    /// A JSON object that is not an audit event (no `auditID` or `verb`, another `kind`, or the
    /// `apiVersion` of something else).
    NotAnEvent,
    /// An `audit.k8s.io` event of a version this reader does not know (it reads v1, v1beta1,
    /// v1alpha1).
    UnsupportedApiVersion,
    /// A JSON object whose fields do not have the types of an audit event (`"user": "bob"`).
    InvalidFields,
    /// Wrappers, lists and arrays nested too deep.
    TooDeep,
    /// The rest of an input could not be decompressed (a damaged or cut-short `.gz`).
    Unreadable,
}

impl SkipReason {
    /// The reason's id, e.g. `truncated-json`.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::InvalidJson => "invalid-json",
            SkipReason::TruncatedJson => "truncated-json",
            SkipReason::TooLong => "too-long",
            SkipReason::NotAnObject => "not-an-object",
            SkipReason::GkeCloudAudit => "gke-cloud-audit",
            SkipReason::NotAnEvent => "not-an-event",
            SkipReason::UnsupportedApiVersion => "unsupported-api-version",
            SkipReason::InvalidFields => "invalid-fields",
            SkipReason::TooDeep => "too-deep",
            SkipReason::Unreadable => "unreadable",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One skipped record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Index of the input in [`crate::AuditReport::inputs`].
    pub input: usize,
    /// 1-based line where the record starts.
    pub line: u64,
    /// Byte offset where the record starts (in the decompressed stream for `.gz`).
    pub offset: u64,
    /// Why it was skipped.
    pub reason: SkipReason,
    /// What exactly, e.g. `expected value at line 1 column 1`.
    pub detail: String,
}

/// Counts over everything read, for every query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Bytes read (after decompression).
    pub bytes: u64,
    /// Lines read.
    pub lines: u64,
    /// Records: non-blank lines (JSON lines) or top-level values (a JSON document).
    pub records: u64,
    /// Blank lines.
    pub blank: u64,
    /// Audit events found (every stage of every request counts).
    pub events: u64,
    /// Events by `apiVersion`; `(none)` for events without one.
    pub api_versions: BTreeMap<String, u64>,
    /// Events by `stage`; `(none)` for events without one.
    pub stages: BTreeMap<String, u64>,
    /// Events found inside a wrapper, by wrapper (`properties.log`, `properties.log (JSON
    /// string)`, `log`, `log (JSON string)`).
    pub wrapped: BTreeMap<String, u64>,
    /// Events the query matched, before stages of one request were merged.
    pub matched: u64,
    /// Matched events merged into another stage of the same request (or an identical copy).
    pub merged: u64,
    /// Matched requests not kept because [`crate::ScanLimits::max_results`] were already kept.
    pub results_dropped: u64,
    /// Records (or parts of records) skipped.
    pub skipped: u64,
    /// Skips by reason.
    pub skipped_by_reason: BTreeMap<SkipReason, u64>,
    /// The first [`crate::ScanLimits::max_skipped_kept`] skips, in the order met.
    pub skipped_records: Vec<Skipped>,
}

/// Adds one to `map[key]`, allocating the key only the first time.
fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    match map.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key.to_string(), 1);
        }
    }
}

impl Stats {
    /// Counts an event.
    pub(crate) fn event(&mut self, e: &Event<'_>) {
        self.events += 1;
        bump(&mut self.api_versions, e.api_version().unwrap_or("(none)"));
        bump(&mut self.stages, e.stage().unwrap_or("(none)"));
        if let Some(w) = e.wrapper() {
            bump(&mut self.wrapped, w);
        }
    }

    /// Counts a skip, keeping its details while fewer than `keep` are kept.
    pub(crate) fn skip(&mut self, s: Skipped, keep: usize) {
        self.skipped += 1;
        *self.skipped_by_reason.entry(s.reason).or_insert(0) += 1;
        if self.skipped_records.len() < keep {
            self.skipped_records.push(s);
        }
    }
}
