//! Kubernetes audit events (section 7), read line by line: the few fields a timeline and the
//! checklist's questions need (`requestReceivedTimestamp`/`stageTimestamp`, `verb`, `objectRef`,
//! `user.username`, `sourceIPs`, `responseStatus.code`, `stage`).
//!
//! This is a minimal reader of the one-event-per-line form kube-apiserver writes
//! (`audit.k8s.io/v1` `Event`s); lines that are not such an event (another format, a wrapper
//! from a cloud provider's log pipeline, a broken line) are counted and skipped.

use crate::error::AnalysisError;
use crate::evidence::Evidence;
use crate::time::{format_ns, parse_rfc3339};
use forensic_bundle::verify::OpenReader;
use serde::{Deserialize, Serialize};

/// One audit event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    /// `requestReceivedTimestamp`, else `stageTimestamp`, nanoseconds since the epoch.
    pub time_ns: Option<i64>,
    /// The same in SPEC §5 form.
    pub time: Option<String>,
    /// `RequestReceived`, `ResponseStarted`, `ResponseComplete`, `Panic`.
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
    /// Where it is: `MEMBER line N`.
    pub evidence: String,
}

impl AuditEvent {
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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEvent {
    #[serde(default)]
    kind: Option<String>,
    verb: String,
    #[serde(default)]
    stage: Option<String>,
    #[serde(default)]
    request_received_timestamp: Option<String>,
    #[serde(default)]
    stage_timestamp: Option<String>,
    #[serde(default)]
    user: Option<RawUser>,
    #[serde(default, rename = "sourceIPs")]
    source_ips: Option<Vec<String>>,
    #[serde(default)]
    object_ref: Option<RawObjectRef>,
    #[serde(default)]
    response_status: Option<RawStatus>,
    #[serde(default, rename = "requestURI")]
    request_uri: Option<String>,
}

#[derive(Deserialize)]
struct RawUser {
    #[serde(default)]
    username: Option<String>,
}

#[derive(Deserialize)]
struct RawObjectRef {
    #[serde(default)]
    resource: Option<String>,
    #[serde(default)]
    subresource: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct RawStatus {
    #[serde(default)]
    code: Option<i64>,
}

/// Parses one line; `None` when it is not an audit event.
pub fn parse_line(line: &[u8], evidence: String) -> Option<AuditEvent> {
    let raw: RawEvent = serde_json::from_slice(line).ok()?;
    if raw.kind.as_deref().is_some_and(|k| k != "Event") {
        return None;
    }
    let time_ns = raw
        .request_received_timestamp
        .as_deref()
        .and_then(parse_rfc3339)
        .or_else(|| raw.stage_timestamp.as_deref().and_then(parse_rfc3339));
    let obj = raw.object_ref;
    Some(AuditEvent {
        time_ns,
        time: time_ns.map(format_ns),
        stage: raw.stage,
        verb: raw.verb,
        user: raw.user.and_then(|u| u.username),
        source_ip: raw.source_ips.and_then(|ips| ips.into_iter().next()),
        resource: obj.as_ref().and_then(|o| o.resource.clone()),
        subresource: obj.as_ref().and_then(|o| o.subresource.clone()),
        namespace: obj.as_ref().and_then(|o| o.namespace.clone()),
        name: obj.as_ref().and_then(|o| o.name.clone()),
        code: raw.response_status.and_then(|s| s.code),
        request_uri: raw.request_uri,
        evidence,
    })
}

/// What reading the audit logs found besides events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuditCounts {
    /// Audit logs read.
    pub members: Vec<String>,
    /// Events read.
    pub events: u64,
    /// Lines that are not audit events.
    pub other_lines: u64,
}

/// Streams every event of the bundle's audit logs (section 7) through `f`.
///
/// # Errors
/// A log is unreadable, has a line over the limit, `f` failed, or it does not match the manifest
/// (strict).
pub fn for_each<S: OpenReader + ?Sized>(
    ev: &mut Evidence<'_, S>,
    mut f: impl FnMut(&AuditEvent) -> Result<(), AnalysisError>,
) -> Result<AuditCounts, AnalysisError> {
    let mut counts = AuditCounts {
        members: crate::members::audit_logs(ev.names()),
        ..AuditCounts::default()
    };
    for member in counts.members.clone() {
        ev.lines(&member, |n, line| {
            match parse_line(line, format!("{member} line {n}")) {
                Some(e) => {
                    counts.events += 1;
                    f(&e)
                }
                None => {
                    counts.other_lines += 1;
                    Ok(())
                }
            }
        })?;
    }
    Ok(counts)
}
