//! The questions an examiner asks of an audit log, and the requests that answer them.

use crate::AuditError;
use crate::event::Event;
use crate::exec::{ExecDetail, exec_detail};
use crate::raw::RawRecord;
use crate::rbac::{RBAC_GROUP, RBAC_RESOURCES, RBAC_VERBS, RbacDetail, rbac_detail};
use crate::stats::Stats;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Which question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum QueryKind {
    /// Every request on one pod (`objectRef.resource` `pods`, any subresource), in time order.
    Timeline,
    /// The `create` requests of one pod: who created it.
    Creator,
    /// `exec` and `attach` sessions (the `pods/exec` and `pods/attach` subresources, whether
    /// opened with `create` (POST, SPDY) or `get` (WebSocket)).
    Exec,
    /// Every request on `secrets` (reads: get, list, watch; writes: create, update, patch,
    /// delete, deletecollection).
    Secrets,
    /// create, update, patch, delete and deletecollection of roles, role bindings, cluster roles
    /// and cluster role bindings (`rbac.authorization.k8s.io`).
    Rbac,
    /// Requests made as another user (events with `impersonatedUser`).
    Impersonation,
    /// Every request, whatever it is on (what `forensic timeline` shows of the log).
    Requests,
}

impl QueryKind {
    /// The query's name on the command line and in JSON, e.g. `timeline`.
    pub fn as_str(self) -> &'static str {
        match self {
            QueryKind::Timeline => "timeline",
            QueryKind::Creator => "creator",
            QueryKind::Exec => "exec",
            QueryKind::Secrets => "secrets",
            QueryKind::Rbac => "rbac",
            QueryKind::Impersonation => "impersonation",
            QueryKind::Requests => "requests",
        }
    }
}

/// A query and its filters. Every filter given must hold; filters compare exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Query {
    /// Which question.
    #[serde(rename = "name")]
    pub kind: QueryKind,
    /// The pod's name (`objectRef.name`; for a `create` without one, as on older API servers or
    /// with `generateName`, the `metadata.name` of the logged response or request object).
    /// Required by [`QueryKind::Timeline`] and [`QueryKind::Creator`].
    pub pod: Option<String>,
    /// `objectRef.namespace`; `None` for every namespace.
    pub namespace: Option<String>,
    /// The user who made the request, or the user it was made as (`user.username` or
    /// `impersonatedUser.username`).
    pub user: Option<String>,
}

impl Query {
    /// A query of `kind` with no filters.
    pub fn new(kind: QueryKind) -> Query {
        Query {
            kind,
            pod: None,
            namespace: None,
            user: None,
        }
    }

    /// Checks that the filters the query needs are there and not empty.
    ///
    /// # Errors
    /// [`AuditError::Query`] saying what is missing.
    pub fn validate(&self) -> Result<(), AuditError> {
        let needs_pod = matches!(self.kind, QueryKind::Timeline | QueryKind::Creator);
        if needs_pod && self.pod.is_none() {
            return Err(AuditError::Query(format!(
                "the {} query needs --pod NAME",
                self.kind.as_str()
            )));
        }
        for (what, v) in [
            ("--pod", &self.pod),
            ("--namespace", &self.namespace),
            ("--user", &self.user),
        ] {
            if v.as_deref() == Some("") {
                return Err(AuditError::Query(format!("{what} must not be empty")));
            }
        }
        Ok(())
    }

    /// Whether `r` answers the query; for a pod named only in its logged object, that name.
    fn select(&self, r: &RawRecord<'_>) -> Option<Option<String>> {
        if let Some(ns) = &self.namespace
            && r.namespace() != ns
        {
            return None;
        }
        if let Some(u) = &self.user
            && r.username() != u
            && r.impersonated_username() != Some(u.as_str())
        {
            return None;
        }
        let resource = r.resource();
        match self.kind {
            QueryKind::Timeline => self.select_pod(r),
            QueryKind::Creator => {
                if r.verb() == "create" && r.subresource().is_empty() {
                    self.select_pod(r)
                } else {
                    None
                }
            }
            QueryKind::Exec => {
                let sub = r.subresource();
                if sub == "exec" || sub == "attach" {
                    self.select_pod(r)
                } else {
                    None
                }
            }
            QueryKind::Secrets => (resource == "secrets" && r.api_group().is_empty()).then_some(None),
            QueryKind::Rbac => {
                let group = r.api_group();
                (RBAC_RESOURCES.contains(&resource)
                    && (group == RBAC_GROUP || group.is_empty())
                    && RBAC_VERBS.contains(&r.verb()))
                .then_some(None)
            }
            QueryKind::Impersonation => r.impersonated_user.is_some().then_some(None),
            QueryKind::Requests => Some(None),
        }
    }

    /// A request on a pod, named `self.pod` when that filter is given.
    fn select_pod(&self, r: &RawRecord<'_>) -> Option<Option<String>> {
        if r.resource() != "pods" || r.api_group() != "" {
            return None;
        }
        let name = r.name();
        if !name.is_empty() {
            return match &self.pod {
                Some(p) if p != name => None,
                _ => Some(None),
            };
        }
        if r.verb() != "create" || !r.subresource().is_empty() {
            return self.pod.is_none().then_some(None);
        }
        let from_object = object_name(r);
        match (&self.pod, from_object) {
            (None, found) => Some(found),
            (Some(p), Some(found)) if *p == found => Some(Some(found)),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct Named {
    metadata: Option<Meta>,
}

#[derive(Deserialize)]
struct Meta {
    name: Option<String>,
}

/// `metadata.name` of the response object, else of the request object.
fn object_name(r: &RawRecord<'_>) -> Option<String> {
    [r.response_object, r.request_object]
        .into_iter()
        .flatten()
        .find_map(|o| {
            serde_json::from_str::<Named>(o.get())
                .ok()
                .and_then(|n| n.metadata)
                .and_then(|m| m.name)
                .filter(|n| !n.is_empty())
        })
}

/// A user as the event records it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct User {
    /// `username`; empty when the event has none.
    pub username: String,
    /// `uid`.
    pub uid: Option<String>,
    /// `groups`.
    pub groups: Vec<String>,
}

/// One stage of a request, as found in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageSeen {
    /// `stage` (`RequestReceived`, `ResponseStarted`, `ResponseComplete`, `Panic`), `null` when
    /// the event has none.
    pub stage: Option<String>,
    /// The input it was found in.
    pub input: usize,
    /// Its 1-based line.
    pub line: u64,
}

/// One request that answers the query: the most complete of its stages, with every stage seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Match {
    /// When the request was received, as the log writes it (`requestReceivedTimestamp`, else
    /// `stageTimestamp`, else `timestamp`).
    pub time: Option<String>,
    /// `auditID`.
    pub audit_id: String,
    /// The stage shown: `ResponseComplete` or `Panic` over `ResponseStarted` over
    /// `RequestReceived`.
    pub stage: Option<String>,
    /// Every stage of this request found, in log order (an identical copy counts again).
    pub stages: Vec<StageSeen>,
    /// `verb`.
    pub verb: String,
    /// The authenticated user who made the request.
    pub user: User,
    /// The user the request was made as, when impersonating.
    pub impersonated_user: Option<User>,
    /// `sourceIPs` (the first is the client's, as far as the API server could tell).
    pub source_ips: Vec<String>,
    /// `userAgent`.
    pub user_agent: Option<String>,
    /// `objectRef.resource`.
    pub resource: Option<String>,
    /// `objectRef.subresource`.
    pub subresource: Option<String>,
    /// `objectRef.namespace`.
    pub namespace: Option<String>,
    /// `objectRef.name`, or the name in the logged object (see `name_from`).
    pub name: Option<String>,
    /// `objectRef` or `object` (the name was taken from the logged object's `metadata.name`).
    pub name_from: Option<String>,
    /// `objectRef.apiGroup`.
    pub api_group: Option<String>,
    /// `responseStatus.code`; `null` when the stage has no response status.
    pub code: Option<i64>,
    /// `requestURI`.
    pub request_uri: String,
    /// The event's `apiVersion`; `null` when it has none.
    pub api_version: Option<String>,
    /// The event's `level`.
    pub level: Option<String>,
    /// The wrapper the event was found in (`properties.log`, ...), if any.
    pub wrapper: Option<String>,
    /// The input of the stage shown.
    pub input: usize,
    /// The 1-based line of the stage shown.
    pub line: u64,
    /// For `exec`: the session.
    pub exec: Option<ExecDetail>,
    /// For `rbac`: what was granted, and flags.
    pub rbac: Option<RbacDetail>,
    /// Sort key: nanoseconds since the epoch, when the time parses.
    #[serde(skip)]
    sort_key: Option<i128>,
}

fn opt(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// Nanoseconds since the epoch of an RFC 3339 time.
fn time_key(t: &str) -> Option<i128> {
    let dt = chrono::DateTime::parse_from_rfc3339(t).ok()?;
    Some(i128::from(dt.timestamp()) * 1_000_000_000 + i128::from(dt.timestamp_subsec_nanos()))
}

/// How complete a stage is.
fn rank(stage: Option<&str>) -> u8 {
    match stage {
        Some("ResponseComplete" | "Panic") => 3,
        Some("ResponseStarted") => 2,
        Some("RequestReceived") => 1,
        _ => 0,
    }
}

impl Match {
    fn build(query: &Query, e: &Event<'_>, object_name: Option<String>) -> Match {
        let r = e.raw;
        let (input, line) = (e.input, e.line);
        let time = r.time().map(str::to_string);
        let (name, name_from) = match object_name {
            Some(n) => (Some(n), Some("object".to_string())),
            None => (opt(r.name()), (!r.name().is_empty()).then(|| "objectRef".to_string())),
        };
        Match {
            sort_key: time.as_deref().and_then(time_key),
            time,
            audit_id: r.audit_id.as_deref().unwrap_or("").to_string(),
            stage: r.stage.as_deref().map(str::to_string),
            stages: vec![StageSeen {
                stage: r.stage.as_deref().map(str::to_string),
                input,
                line,
            }],
            verb: r.verb().to_string(),
            user: e.user(),
            impersonated_user: e.impersonated_user(),
            source_ips: r.source_ips.iter().flatten().map(|s| s.to_string()).collect(),
            user_agent: r.user_agent.as_deref().map(str::to_string),
            resource: opt(r.resource()),
            subresource: opt(r.subresource()),
            namespace: opt(r.namespace()),
            name,
            name_from,
            api_group: r
                .object_ref
                .as_ref()
                .and_then(|o| o.api_group.as_deref())
                .map(str::to_string),
            code: r.response_status.as_ref().and_then(|s| s.code),
            request_uri: r.request_uri.as_deref().unwrap_or("").to_string(),
            api_version: r.api_version.as_deref().map(str::to_string),
            level: r.level.as_deref().map(str::to_string),
            wrapper: e.wrapper.map(str::to_string),
            input,
            line,
            exec: (query.kind == QueryKind::Exec).then(|| exec_detail(r)),
            rbac: (query.kind == QueryKind::Rbac).then(|| rbac_detail(r)),
        }
    }

    /// Takes `newer`, another stage of the same request, into account: the more complete stage
    /// is shown, and details only the other stage logged are kept.
    fn merge(&mut self, mut newer: Match) {
        let mut stages = std::mem::take(&mut self.stages);
        stages.append(&mut newer.stages);
        if rank(newer.stage.as_deref()) > rank(self.stage.as_deref()) {
            std::mem::swap(self, &mut newer);
        }
        let other = newer;
        self.stages = stages;
        if let (Some(mine), Some(theirs)) = (&mut self.exec, other.exec)
            && mine.command.is_empty()
            && !theirs.command.is_empty()
        {
            mine.command = theirs.command;
            mine.command_source = theirs.command_source;
        }
        if let (Some(mine), Some(theirs)) = (&mut self.rbac, other.rbac)
            && mine.object.is_none()
            && theirs.object.is_some()
        {
            *mine = theirs;
        }
        if self.name.is_none() {
            self.name = other.name;
            self.name_from = other.name_from;
        }
    }
}

/// Collects the requests that answer a query from the events an [`crate::EventReader`] reads,
/// merging the stages of each request: the one place `forensic audit` and `forensic timeline`
/// turn events into requests.
///
/// Stages are merged by request identity: `auditID`, `verb`, `requestURI`, the request time and
/// the user. (`auditID` alone is not enough: real logs, test fixtures among them, reuse it.) The
/// result shows the most complete stage (`ResponseComplete` or `Panic` over `ResponseStarted`
/// over `RequestReceived`; the first met among equals), keeps details only another stage logged
/// (an exec command, an RBAC object, a name), and lists every stage in [`Match::stages`].
///
/// Memory grows with the results, never with the log: at most `max_results` requests are kept
/// (with the map that finds their earlier stages); a further request is counted in
/// [`Stats::results_dropped`], not kept, while further stages of kept requests are still merged.
///
/// ```
/// use forensic_audit::{Collector, EventReader, Query, QueryKind, ScanLimits};
/// let log = br#"{"auditID":"e1","stage":"RequestReceived","verb":"create","requestURI":"/api/v1/namespaces/shop/pods/web/exec","objectRef":{"resource":"pods","namespace":"shop","name":"web","subresource":"exec"},"requestReceivedTimestamp":"2024-05-07T18:54:19Z"}
/// {"auditID":"e1","stage":"ResponseComplete","verb":"create","requestURI":"/api/v1/namespaces/shop/pods/web/exec","objectRef":{"resource":"pods","namespace":"shop","name":"web","subresource":"exec"},"responseStatus":{"code":101},"requestReceivedTimestamp":"2024-05-07T18:54:19Z"}
/// "#;
/// let limits = ScanLimits::default();
/// let query = Query::new(QueryKind::Requests);
/// let mut collector = Collector::new(&query, limits.max_results)?;
/// let mut reader = EventReader::new(limits);
/// reader.read(&log[..], "audit.log", None, |e| collector.offer(e))?;
/// let (_inputs, mut stats) = reader.finish();
/// let requests = collector.finish(&mut stats);
/// assert_eq!(requests.len(), 1);
/// assert_eq!((requests[0].stage.as_deref(), requests[0].code), (Some("ResponseComplete"), Some(101)));
/// assert_eq!((stats.events, stats.matched, stats.merged), (2, 2, 1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Collector<'q> {
    query: &'q Query,
    max: usize,
    results: Vec<Match>,
    index: HashMap<String, usize>,
    matched: u64,
    merged: u64,
    dropped: u64,
}

impl<'q> Collector<'q> {
    /// A collector for `query` keeping at most `max_results` requests.
    ///
    /// # Errors
    /// [`AuditError::Query`] for a query missing a filter it needs ([`Query::validate`]).
    pub fn new(query: &'q Query, max_results: usize) -> Result<Collector<'q>, AuditError> {
        query.validate()?;
        Ok(Collector {
            query,
            max: max_results,
            results: Vec::new(),
            index: HashMap::new(),
            matched: 0,
            merged: 0,
            dropped: 0,
        })
    }

    /// Offers one event: kept, merged into an earlier stage of its request, counted as dropped,
    /// or (when the query does not match it) ignored.
    pub fn offer(&mut self, e: &Event<'_>) {
        let r = e.raw;
        let Some(object_name) = self.query.select(r) else {
            return;
        };
        self.matched += 1;
        let key = [
            r.audit_id.as_deref().unwrap_or(""),
            r.verb(),
            r.request_uri.as_deref().unwrap_or(""),
            r.request_received_timestamp.as_deref().unwrap_or(""),
            r.username(),
        ]
        .join("\u{0}");
        let m = Match::build(self.query, e, object_name);
        let len = self.results.len();
        match self.index.get(&key).and_then(|&i| self.results.get_mut(i)) {
            Some(earlier) => {
                self.merged += 1;
                earlier.merge(m);
            }
            None if len >= self.max => self.dropped += 1,
            None => {
                self.index.insert(key, len);
                self.results.push(m);
            }
        }
    }

    /// The requests in time order (requests whose time does not parse last), ties in log order;
    /// adds the events matched, merged and dropped to `stats` ([`Stats::matched`],
    /// [`Stats::merged`], [`Stats::results_dropped`]).
    pub fn finish(self, stats: &mut Stats) -> Vec<Match> {
        stats.matched += self.matched;
        stats.merged += self.merged;
        stats.results_dropped += self.dropped;
        let mut results = self.results;
        results.sort_by_key(|m| (m.sort_key.is_none(), m.sort_key, m.input, m.line));
        results
    }
}
