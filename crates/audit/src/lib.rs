//! Questions an examiner asks of a Kubernetes audit log, answered by streaming it: the timeline
//! of a pod, who created it, `exec`/`attach` sessions and their commands, secret reads and
//! writes, RBAC changes (flagging `cluster-admin` bindings and wildcard rules), and impersonation.
//! This replaces the `jq` recipes of the container-forensics checklist, and reads what real logs
//! hold:
//!
//! - `audit.k8s.io/v1`, `v1beta1` and `v1alpha1` events, and events without `apiVersion`;
//! - every stage of a request, merged into one result showing the most complete stage
//!   ([`Match::stages`] lists them all, with their lines);
//! - events without `responseStatus` (the code is then `null`);
//! - events wrapped by managed clusters (AKS diagnostic logs' `properties.log`, as an object or
//!   a JSON string; container-runtime JSON logs' `log`), `EventList`s and JSON arrays;
//! - JSON lines, or a pretty-printed JSON document; plain or gzip (detected from the bytes);
//! - records that are not events (GKE Cloud Audit Logging records, text lines, truncated
//!   lines, ...): skipped and counted with their reason and line ([`Stats`]), never fatal.
//!
//! Memory is bounded: one record at a time (at most [`ScanLimits::max_record`] bytes) plus the
//! results (at most [`ScanLimits::max_results`]); strings are borrowed from the record and request
//! and response objects stay unparsed unless a query matches the event.
//!
//! Every query runs on one reading loop, public for other readers of audit logs (`forensic
//! timeline` is one): an [`EventReader`] visits every [`Event`] of a log (every stage of every
//! request, wrapped ones included) and counts what it skips; a [`Collector`] turns the events
//! into requests, stages merged, for a [`Query`] ([`QueryKind::Requests`] keeps them all).
//!
//! A bundle is verified before anything is read from it ([`Source::open`]), and its audit
//! members are hashed while they are streamed and compared with the sealed manifest
//! ([`InputRecord::intact`]).
//!
//! ```no_run
//! use forensic_audit::{Query, QueryKind, ScanLimits, Source, SourceOptions};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let source = Source::open("audit.log.gz".as_ref(), &SourceOptions::default())?;
//! let mut query = Query::new(QueryKind::Timeline);
//! query.pod = Some("web-7d9f".into());
//! let report = source.run(&query, &ScanLimits::default())?;
//! for m in &report.results {
//!     println!("{:?} {} {:?} {}", m.time, m.verb, m.subresource, m.user.username);
//! }
//! println!("{} records skipped", report.stats.skipped);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod error;
mod event;
pub mod exec;
mod frame;
mod query;
mod raw;
pub mod rbac;
mod report;
mod scan;
mod source;
mod stats;

pub use error::AuditError;
pub use event::Event;
pub use query::{Collector, Match, Query, QueryKind, StageSeen, User};
pub use report::{AuditReport, Compression, FailureRecord, InputRecord, SCHEMA, SourceKind, SourceRecord};
pub use scan::{EventReader, Layout, ScanLimits};
pub use source::{Source, SourceOptions, is_bundle};
pub use stats::{SkipReason, Skipped, Stats};

/// Runs `query` over an audit log already open as a reader (plain or gzip), named `name` in
/// the report. For files and bundles use [`Source`].
///
/// # Errors
/// [`AuditError::Query`] for a query missing a filter it needs; [`AuditError::Io`] when `r`
/// fails.
pub fn run_reader<R: std::io::Read>(
    r: R,
    name: &str,
    query: &Query,
    limits: &ScanLimits,
) -> Result<AuditReport, AuditError> {
    source::run_reader(r, name, query, limits)
}
