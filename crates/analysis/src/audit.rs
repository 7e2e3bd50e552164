//! Kubernetes audit events (section 7), read by `forensic-audit`'s reader: the one reader of
//! audit logs, so `show`, `timeline` and `forensic audit` see the same events. Everything it reads
//! is read here too: JSON lines or a JSON document, plain or gzip, `audit.k8s.io/v1`, `v1beta1`,
//! events without `apiVersion`, events wrapped by AKS (`properties.log`, as an object or a JSON
//! string) or a container runtime (`log`), `EventList`s; records that are not events (GKE Cloud
//! Audit records, text, truncated lines) are skipped and counted with their reason.
//!
//! Two views:
//! - [`requests`]: every request once, its stages merged exactly as `forensic audit` merges them
//!   (the most complete stage shown), in time order: what the timeline shows;
//! - [`for_each`]: every event, one per stage, in log order: what the checklist's findings group.
//!
//! Each member is re-checked against the manifest while it streams (see [`crate::evidence`]).
//! Limits are `forensic audit`'s ([`ScanLimits`]): records over 16 MiB are skipped and counted;
//! [`requests`] keeps at most `max_requests` requests and counts the rest.

use crate::error::AnalysisError;
use crate::evidence::Evidence;
use crate::time::{format_ns, parse_rfc3339};
use forensic_audit::{Collector, Event, EventReader, Match, Query, QueryKind, ScanLimits, SkipReason, Stats};
use forensic_bundle::verify::OpenReader;
use serde::Serialize;
use std::collections::BTreeMap;

/// One audit event (one stage), or one request (its stages merged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    /// `requestReceivedTimestamp`, else `stageTimestamp`, else `timestamp`, nanoseconds since the
    /// epoch.
    pub time_ns: Option<i64>,
    /// The same in SPEC §5 form.
    pub time: Option<String>,
    /// `RequestReceived`, `ResponseStarted`, `ResponseComplete`, `Panic` (of a request: the
    /// stage shown).
    pub stage: Option<String>,
    /// `get`, `list`, `create`, …
    pub verb: String,
    /// `user.username`.
    pub user: Option<String>,
    /// `sourceIPs[0]`.
    pub source_ip: Option<String>,
    /// `objectRef.resource`.
    pub resource: Option<String>,
    /// `objectRef.subresource` (`exec`, `attach`, `log`, …).
    pub subresource: Option<String>,
    /// `objectRef.namespace`.
    pub namespace: Option<String>,
    /// `objectRef.name`.
    pub name: Option<String>,
    /// `responseStatus.code`.
    pub code: Option<i64>,
    /// `requestURI`.
    pub request_uri: Option<String>,
    /// Where it is: `MEMBER line N` (of a request: the line of the stage shown).
    pub evidence: String,
}

fn owned(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(str::to_string)
}

fn times(t: Option<&str>) -> (Option<i64>, Option<String>) {
    let ns = t.and_then(parse_rfc3339);
    (ns, ns.map(format_ns))
}

impl AuditEvent {
    /// One stage, as read from `member`.
    fn from_event(e: &Event<'_>, member: &str) -> AuditEvent {
        let (time_ns, time) = times(e.time());
        AuditEvent {
            time_ns,
            time,
            stage: owned(e.stage()),
            verb: e.verb().to_string(),
            user: owned(e.username()),
            source_ip: owned(e.source_ips().next()),
            resource: owned(e.resource()),
            subresource: owned(e.subresource()),
            namespace: owned(e.namespace()),
            name: owned(e.name()),
            code: e.code(),
            request_uri: owned(e.request_uri()),
            evidence: format!("{member} line {}", e.line()),
        }
    }

    /// One request, read from `member`.
    fn from_match(m: &Match, member: &str) -> AuditEvent {
        let (time_ns, time) = times(m.time.as_deref());
        AuditEvent {
            time_ns,
            time,
            stage: m.stage.clone(),
            verb: m.verb.clone(),
            user: owned(Some(&m.user.username)),
            source_ip: m.source_ips.first().cloned(),
            resource: m.resource.clone(),
            subresource: m.subresource.clone(),
            namespace: m.namespace.clone(),
            name: m.name.clone(),
            code: m.code,
            request_uri: owned(Some(&m.request_uri)),
            evidence: format!("{member} line {}", m.line),
        }
    }

    /// `resource/subresource` (or `resource`), or the request URI when there is no object.
    pub fn object(&self) -> String {
        match (&self.resource, &self.subresource) {
            (Some(r), Some(s)) => format!("{r}/{s}"),
            (Some(r), None) => r.clone(),
            _ => self.request_uri.clone().unwrap_or_else(|| "-".into()),
        }
    }

    /// One line for a person: `create pods/exec default/web by alice from 10.0.0.5 → 101`.
    pub fn describe(&self) -> String {
        let mut s = format!("{} {}", self.verb, self.object());
        match (&self.namespace, &self.name) {
            (Some(ns), Some(n)) => s.push_str(&format!(" {ns}/{n}")),
            (None, Some(n)) => s.push_str(&format!(" {n}")),
            (Some(ns), None) => s.push_str(&format!(" in {ns}")),
            (None, None) => {}
        }
        s.push_str(&format!(" by {}", self.user.as_deref().unwrap_or("?")));
        if let Some(ip) = &self.source_ip {
            s.push_str(&format!(" from {ip}"));
        }
        if let Some(c) = self.code {
            s.push_str(&format!(" → {c}"));
        }
        if let Some(st) = &self.stage {
            s.push_str(&format!(" ({st})"));
        }
        s
    }
}

/// What reading the audit logs found besides events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuditCounts {
    /// Audit logs read.
    pub members: Vec<String>,
    /// Events read (every stage of every request, wrapped ones included).
    pub events: u64,
    /// Records (lines, or values of a JSON document) that are not audit events: skipped.
    pub other_lines: u64,
}

/// Every request of the bundle's audit logs, stages merged (see [`requests`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditRequests {
    /// The requests, in time order (those whose time does not parse last), ties in log order.
    pub requests: Vec<AuditEvent>,
    /// What was read.
    pub counts: AuditCounts,
    /// Records skipped, by reason (`gke-cloud-audit`, `invalid-json`, …).
    pub skipped_by_reason: BTreeMap<SkipReason, u64>,
    /// Events merged into another stage of their request (or an identical copy).
    pub merged: u64,
    /// Requests past `max_requests`, not kept.
    pub dropped: u64,
}

/// Reads every audit log of the bundle through `forensic-audit`'s [`EventReader`], calling
/// `visit` with each event and the name of its member.
fn read<S: OpenReader + ?Sized>(
    ev: &mut Evidence<'_, S>,
    limits: ScanLimits,
    mut visit: impl FnMut(&Event<'_>, &str),
) -> Result<(Vec<String>, Stats), AnalysisError> {
    let members = crate::members::audit_logs(ev.names());
    let mut reader = EventReader::new(limits);
    for member in &members {
        ev.stream(member, |r| {
            reader
                .read(r, member, None, |e| visit(e, member))
                .map_err(|source| AnalysisError::Io {
                    member: member.clone(),
                    source,
                })
        })?;
    }
    let (_, stats) = reader.finish();
    Ok((members, stats))
}

fn counts(members: Vec<String>, stats: &Stats) -> AuditCounts {
    AuditCounts {
        members,
        events: stats.events,
        other_lines: stats.skipped,
    }
}

/// Reading limits: `forensic audit`'s, skipped records counted but not kept.
fn limits(max_results: usize) -> ScanLimits {
    ScanLimits {
        max_results,
        max_skipped_kept: 0,
        ..ScanLimits::default()
    }
}

/// Streams every event of the bundle's audit logs (section 7) through `f`: every stage of every
/// request, in log order.
///
/// # Errors
/// A log is unreadable, `f` failed (reading then stops calling `f`), or a log does not match the
/// manifest (strict).
pub fn for_each<S: OpenReader + ?Sized>(
    ev: &mut Evidence<'_, S>,
    mut f: impl FnMut(&AuditEvent) -> Result<(), AnalysisError>,
) -> Result<AuditCounts, AnalysisError> {
    let mut failed = None;
    let (members, stats) = read(ev, limits(0), |e, member| {
        if failed.is_none()
            && let Err(err) = f(&AuditEvent::from_event(e, member))
        {
            failed = Some(err);
        }
    })?;
    match failed {
        Some(err) => Err(err),
        None => Ok(counts(members, &stats)),
    }
}

/// Every request of the bundle's audit logs (section 7), each once, its stages merged as
/// `forensic audit` merges them ([`Collector`] with [`QueryKind::Requests`]): shown at its most
/// complete stage (`ResponseComplete` or `Panic` over `ResponseStarted` over `RequestReceived`),
/// at the time the request was received; stages of one request in different members merge too.
/// These are the results of `forensic audit BUNDLE requests`.
///
/// Memory holds one record and the requests: at most `max_requests`, further requests are
/// counted in [`AuditRequests::dropped`].
///
/// # Errors
/// A log is unreadable or does not match the manifest (strict).
pub fn requests<S: OpenReader + ?Sized>(
    ev: &mut Evidence<'_, S>,
    max_requests: usize,
) -> Result<AuditRequests, AnalysisError> {
    let query = Query::new(QueryKind::Requests);
    // The requests query needs no filter: this cannot fail.
    let mut collector =
        Collector::new(&query, max_requests).map_err(|e| AnalysisError::member("7-audit", e.to_string()))?;
    let (members, mut stats) = read(ev, limits(max_requests), |e, _| collector.offer(e))?;
    let matches = collector.finish(&mut stats);
    let requests = matches
        .iter()
        .map(|m| AuditEvent::from_match(m, members.get(m.input).map_or("7-audit", String::as_str)))
        .collect();
    Ok(AuditRequests {
        requests,
        skipped_by_reason: stats.skipped_by_reason.clone(),
        merged: stats.merged,
        dropped: stats.results_dropped,
        counts: counts(members, &stats),
    })
}
