//! The result of a query: what was read, how it checked, and the matching requests.

use crate::query::{Match, Query};
use crate::scan::Layout;
use crate::stats::{SkipReason, Stats};
use serde::Serialize;

/// The `schema` value of [`AuditReport`]'s JSON form (docs/audit-json.md).
pub const SCHEMA: &str = "forensic-audit/1";

/// What kind of source was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SourceKind {
    /// An audit log file (or a pipe), plain or gzip-compressed.
    File,
    /// Standard input.
    Stdin,
    /// A bundle: its audit section (`7-audit/`).
    Bundle,
}

/// One verification failure of a bundle source (SPEC §12).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureRecord {
    /// The failure class id, e.g. `digest-mismatch`.
    pub class: String,
    /// The member concerned.
    pub member: Option<String>,
    /// The custody entry concerned (0-based).
    pub entry: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// The source as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceRecord {
    /// The path given.
    pub path: String,
    /// What it is.
    pub kind: SourceKind,
    /// For a bundle: whether its structure, manifest, `SHA256SUMS` and custody log verified
    /// (SPEC §11 without hashing every member; the audit members are hashed while read, see
    /// [`InputRecord::intact`]). `null` for a file.
    pub verified: Option<bool>,
    /// What bundle verification found.
    pub verification_failures: Vec<FailureRecord>,
    /// Set by the caller when it ran the query although the bundle did not verify.
    pub forced: bool,
    /// Members the lenient archive reader left out (only for a bundle that did not verify).
    pub archive_problems: Vec<String>,
}

/// Whether an input was compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compression {
    /// Plain text.
    None,
    /// gzip (one or more members, as `logrotate` and `cat a.gz b.gz` make).
    Gzip,
}

/// One audit log read: the file, or one member of the bundle's audit section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputRecord {
    /// The file's path, or the member's name.
    pub name: String,
    /// Compression, detected from the content (the gzip magic), not the name.
    pub compression: Compression,
    /// How records were laid out.
    pub layout: Layout,
    /// Length of the input as stored (before decompression).
    pub bytes: u64,
    /// SHA-256 of the input as stored, computed while it was read.
    pub sha256: String,
    /// For a bundle member: the length the sealed manifest records.
    pub expected_bytes: Option<u64>,
    /// For a bundle member: the SHA-256 the sealed manifest records.
    pub expected_sha256: Option<String>,
    /// For a bundle member: whether what was read is what was sealed. `null` for a file.
    pub intact: Option<bool>,
}

/// Everything a query found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// The query run.
    pub query: Query,
    /// The source.
    pub source: SourceRecord,
    /// The audit logs read, in order; [`Match::input`] and [`crate::Skipped::input`] index it.
    pub inputs: Vec<InputRecord>,
    /// Counts, and the records skipped.
    pub stats: Stats,
    /// The matching requests, in time order.
    pub results: Vec<Match>,
}

impl AuditReport {
    /// False when a bundle member read differs from its sealed manifest entry.
    pub fn intact(&self) -> bool {
        self.inputs.iter().all(|i| i.intact != Some(false))
    }

    /// False when part of an input could not be read (a damaged `.gz`) or results were dropped
    /// at [`crate::ScanLimits::max_results`].
    pub fn complete(&self) -> bool {
        !self.stats.skipped_by_reason.contains_key(&SkipReason::Unreadable) && self.stats.results_dropped == 0
    }
}
