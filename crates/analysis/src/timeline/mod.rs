//! `forensic timeline`: one time-ordered view across the bundle's sources.
//!
//! | source | events | from |
//! |---|---|---|
//! | `file` | modification (`m...`) and status change (`..c.`, or `m.c.` when equal) of every entry of the root filesystem | `5-filesystem/tree-index.jsonl` |
//! | `process` | process starts (boot time + `start_time_ticks` at 100 Hz) | `1-processes/processes.json`, `1-processes/boot.txt` |
//! | `container` | the container's creation | `6-podspec/container.json` |
//! | `audit` | Kubernetes audit requests, one per request (request received time; see below) | section 7 |
//! | `falco` | Falco alerts of the container (12- and 64-digit ids matched), or all with `all_alerts` | section 8 |
//! | `collection` | bundle creation, each section's start and finish | `manifest.cbor` |
//! | `custody` | every custody entry (sealed, transferred, received, annotated) | `custody.cbor` |
//!
//! Audit logs are read by `forensic-audit`, the reader of `forensic audit` (JSON lines or
//! documents, `.gz`, AKS and container-runtime wrappers, `EventList`s; records that are not
//! events skipped and counted in a note): see [`crate::audit::requests`]. A request logged at
//! several stages (`RequestReceived`, `ResponseStarted`, `ResponseComplete`) is **one** event,
//! merged as `forensic audit` merges it: the most complete stage is shown (its stage, response
//! code and line in the evidence), at the time the request was received. The timeline's audit
//! events are thus exactly the results of `forensic audit BUNDLE requests`. At most
//! [`TimelineOptions::max_audit_requests`] requests are held (a note counts the rest).
//!
//! Sorted formats go through a bounded external sort: each event is formatted as it is read, and
//! at most [`TimelineOptions::max_in_memory`] lines or [`TimelineOptions::max_sort_bytes`] bytes
//! are held, the rest spilled to temporary files and merged; the body file is written as the
//! sources are read (`mactime` sorts).

mod format;
pub mod timesketch;

pub use format::{Format, body_line, body_name, csv_field, tsk_mode};

use crate::error::AnalysisError;
use crate::evidence::Evidence;
use crate::files::{FileEntry, escape_bytes, perm_string, type_char};
use crate::members::{BOOT, CONTAINER, PROCESSES, TREE_INDEX, UPPER_CHANGES};
use crate::target::Target;
use crate::time::parse_rfc3339;
use forensic_bundle::verify::{OpenReader, Report};
use forensic_disk::spill::{self, Sorter};
use forensic_evidence::records::container::ContainerJson;
use forensic_evidence::records::upper::{Change as UpperChangeKind, UpperChange};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::io::Write;

/// One timeline event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Nanoseconds since the epoch.
    pub time_ns: i64,
    /// `file`, `process`, `container`, `audit`, `falco`, `collection`, `custody`.
    pub source: String,
    /// Per source: MACB flags (`m.c.`) for files, `start`, `created`, the audit verb, the Falco
    /// priority, `started`/`finished` for sections, the custody action.
    pub kind: String,
    /// One line for a person (control characters escaped).
    pub description: String,
    /// The member (and line, PID or entry) it comes from.
    pub evidence: String,
    /// Source-specific fields (docs/show-json.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
    /// How far the true time may be from `time_ns`, either way, when the source does not give it
    /// to the nanosecond (process starts: [`crate::processes::START_UNCERTAINTY_NS`], narrowed
    /// by the container's creation); `None`: exact as recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncertainty_ns: Option<i64>,
}

/// What to write.
#[derive(Debug, Clone)]
pub struct TimelineOptions {
    /// The format.
    pub format: Format,
    /// Only events at or after this (ns since the epoch).
    pub since_ns: Option<i64>,
    /// Only events at or before this.
    pub until_ns: Option<i64>,
    /// Include Falco alerts of other containers and of the host.
    pub all_alerts: bool,
    /// Which files' events: all, or only those changed since the container was created.
    pub files: FileScope,
    /// Events held in memory while sorting; more are spilled to temporary files. Default 200,000.
    pub max_in_memory: usize,
    /// Bytes of formatted events held in memory while sorting (each counted with a small
    /// overhead); more are spilled to temporary files. Default 24 MiB.
    pub max_sort_bytes: usize,
    /// Audit requests held while their stages are merged (about 1 KiB each); more are left out
    /// and counted in a note. Default 50,000, as `forensic audit --max-results`.
    pub max_audit_requests: usize,
}

impl TimelineOptions {
    /// Options for a format, everything included.
    pub fn new(format: Format) -> Self {
        TimelineOptions {
            format,
            since_ns: None,
            until_ns: None,
            all_alerts: false,
            files: FileScope::All,
            max_in_memory: 200_000,
            max_sort_bytes: spill::DEFAULT_MAX_BYTES,
            max_audit_requests: forensic_audit::ScanLimits::default().max_results,
        }
    }
}

/// Which entries of the tree index give file events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileScope {
    /// Every entry (`forensic timeline --all`).
    All,
    /// Entries the container changed (the default of `forensic timeline`): those the writable
    /// layer added, modified or made opaque (`5-filesystem/upper-changes.jsonl`; not a `dir`
    /// that is there only to hold changes), and those whose modification or
    /// status-change time is at or after the container's creation (`6-podspec/container.json`
    /// `created`). Both events of such an entry are kept. Without the creation time every entry
    /// is kept (a note says so).
    Changed,
}

/// Most paths of the writable layer held for [`FileScope::Changed`]; past it the times alone
/// decide (a note says so).
const MAX_WRITTEN_PATHS: usize = 1_000_000;

/// What was written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TimelineSummary {
    /// Events (body file: lines) written.
    pub written: u64,
    /// What was left out and why (boot time unknown, alerts of other containers, …).
    pub notes: Vec<String>,
}

enum Dest<'w> {
    /// A sorted format: each event formatted as it comes, then sorted by time.
    Sorted(Sorter, Format),
    Body(&'w mut dyn Write),
}

/// What [`FileScope::Changed`] keeps: entries the writable layer holds, or changed at or after
/// the container's creation.
struct Changed {
    created_ns: i64,
    /// The writable layer's paths, each as [`path_key`], sorted: 16 bytes a path however long
    /// (16 MiB for [`MAX_WRITTEN_PATHS`]).
    written: Vec<u128>,
}

impl Changed {
    fn keeps(&self, e: &FileEntry, m: i64, c: i64) -> bool {
        m >= self.created_ns || c >= self.created_ns || self.written.binary_search(&path_key(e.path.as_bytes())).is_ok()
    }
}

/// A path's key in [`Changed::written`]: the first 128 bits of its SHA-256 (two paths share one
/// with a chance of about 2^-128 a pair).
fn path_key(path: &[u8]) -> u128 {
    let d = forensic_bundle::digest::Digest::of(path);
    let mut first = [0u8; 16];
    first.copy_from_slice(d.0.get(..16).unwrap_or(&[0; 16]));
    u128::from_be_bytes(first)
}

struct Builder<'w> {
    dest: Dest<'w>,
    since: Option<i64>,
    until: Option<i64>,
    changed: Option<Changed>,
    written: u64,
    /// Entries left out by [`FileScope::Changed`].
    unchanged: u64,
    /// Body-file lines not written: no time after the epoch.
    undated: u64,
}

impl Builder<'_> {
    fn in_range(&self, t: i64) -> bool {
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t <= u)
    }

    fn event(&mut self, e: Event) -> Result<(), AnalysisError> {
        if !self.in_range(e.time_ns) {
            return Ok(());
        }
        match &mut self.dest {
            Dest::Sorted(s, format) => {
                let mut line = Vec::new();
                format::event(*format, &e, &mut line)?;
                s.push(spill::time_key(e.time_ns).to_vec(), line)
                    .map_err(AnalysisError::Spool)?;
            }
            Dest::Body(out) => {
                if format::body_event(&e, *out)? {
                    self.written += 1;
                } else {
                    self.undated += 1;
                }
            }
        }
        Ok(())
    }

    fn file(&mut self, n: u64, e: &FileEntry) -> Result<(), AnalysisError> {
        let (Some(m), Some(c)) = (e.mtime_ns, e.ctime_ns) else {
            return Ok(());
        };
        if !self.in_range(m) && !self.in_range(c) {
            return Ok(());
        }
        if self.changed.as_ref().is_some_and(|ch| !ch.keeps(e, m, c)) {
            self.unchanged += 1;
            return Ok(());
        }
        if let Dest::Body(out) = &mut self.dest {
            match format::body_line(e) {
                Some(line) => {
                    writeln!(out, "{line}")?;
                    self.written += 1;
                }
                None => self.undated += 1,
            }
            return Ok(());
        }
        let mut desc = format!(
            "{}{} {}:{} {} {}",
            type_char(e.kind.as_str()),
            perm_string(e.perm()),
            opt(e.uid),
            opt(e.gid),
            opt(e.size),
            e.path.shown()
        );
        if let Some(t) = &e.symlink_target {
            desc.push_str(&format!(" -> {}", t.shown()));
        }
        let detail = json!({"path": e.path, "type": e.kind, "inode": e.inode, "sha256": e.sha256});
        let evidence = format!("{TREE_INDEX} line {n}");
        let times: Vec<(i64, &str)> = if m == c {
            vec![(m, "m.c.")]
        } else {
            vec![(m, "m..."), (c, "..c.")]
        };
        for (t, flags) in times {
            self.event(Event {
                time_ns: t,
                source: "file".into(),
                kind: flags.into(),
                description: desc.clone(),
                evidence: evidence.clone(),
                detail: Some(detail.clone()),
                uncertainty_ns: None,
            })?;
        }
        Ok(())
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "?".into())
}

fn esc(s: &str) -> String {
    escape_bytes(s.as_bytes())
}

/// Writes the timeline of a verified bundle to `out`.
///
/// # Errors
/// A member is unreadable, malformed, or does not match the manifest (strict); writing `out` or
/// a temporary sort file failed.
pub fn write_timeline<S: OpenReader + ?Sized>(
    ev: &mut Evidence<'_, S>,
    report: &Report,
    opts: &TimelineOptions,
    out: &mut dyn Write,
) -> Result<TimelineSummary, AnalysisError> {
    let target = Target::from_manifest(report.manifest.as_ref());
    let mut notes = Vec::new();
    if opts.format == Format::Bodyfile {
        writeln!(
            out,
            "# forensic timeline: body file (The Sleuth Kit 3.x) for mactime; MD5 not computed (0); \
             atime and crtime not recorded (-1: mactime leaves them out); events that are not files are named [source] kind: description"
        )?;
    } else {
        format::header(opts.format, out)?;
    }
    let dest = match opts.format {
        Format::Bodyfile => Dest::Body(&mut *out),
        f => Dest::Sorted(Sorter::new(opts.max_in_memory, opts.max_sort_bytes), f),
    };
    let mut b = Builder {
        dest,
        since: opts.since_ns,
        until: opts.until_ns,
        changed: None,
        written: 0,
        unchanged: 0,
        undated: 0,
    };
    collection_events(report, &mut b)?;
    let created = container_event(ev, &mut b)?;
    if opts.files == FileScope::Changed {
        b.changed = changed_scope(ev, created, &mut notes)?;
    }
    process_events(ev, created, &mut b, &mut notes)?;
    alert_events(ev, &target, opts.all_alerts, &mut b, &mut notes)?;
    audit_events(ev, &target, opts.max_audit_requests, &mut b, &mut notes)?;
    if ev.has_member(TREE_INDEX) {
        crate::files::for_each(ev, &crate::files::FileFilter::default(), |n, e| b.file(n, e))?;
        notes.push(format!(
            "files: {TREE_INDEX} records modification and change times, not access or birth times"
        ));
        if let Some(ch) = &b.changed {
            notes.push(format!(
                "files: {} of the index left out, unchanged since the container was created ({}): not in the writable layer, modified and changed before (--all shows them)",
                if b.unchanged == 1 { "1 entry".to_string() } else { format!("{} entries", b.unchanged) },
                crate::time::format_ns(ch.created_ns)
            ));
        }
    } else {
        notes.push(format!("files: the bundle has no {TREE_INDEX}"));
    }
    if b.undated > 0 {
        notes.push(format!(
            "bodyfile: {} with no time after 1970-01-01T00:00:00Z not written (mactime cannot show them; --format text does)",
            plural(b.undated, "line")
        ));
    }
    let mut written = b.written;
    if let Dest::Sorted(sorter, _) = b.dest {
        for record in sorter.finish().map_err(AnalysisError::Spool)? {
            out.write_all(&record.map_err(AnalysisError::Spool)?.payload)?;
            written += 1;
        }
    }
    out.flush()?;
    Ok(TimelineSummary { written, notes })
}

fn collection_events(report: &Report, b: &mut Builder<'_>) -> Result<(), AnalysisError> {
    if let Some(m) = &report.manifest {
        let host = m.collector.host.as_deref().unwrap_or("?");
        b.event(Event {
            time_ns: ns(m.created.unix_nanos()),
            source: "collection".into(),
            kind: "created".into(),
            description: esc(&format!(
                "bundle {} created by {} {} on {host}",
                m.bundle_id, m.collector.tool, m.collector.version
            )),
            evidence: "manifest.cbor".into(),
            detail: None,
            uncertainty_ns: None,
        })?;
        for s in &m.sections {
            let members: Vec<_> = m.members.iter().filter(|x| x.section.name() == s.name).collect();
            let bytes: u64 = members.iter().map(|x| x.size).sum();
            b.event(Event {
                time_ns: ns(s.started.unix_nanos()),
                source: "collection".into(),
                kind: "started".into(),
                description: format!("section {} {}: collection started", s.number, esc(&s.name)),
                evidence: "manifest.cbor".into(),
                detail: None,
                uncertainty_ns: None,
            })?;
            b.event(Event {
                time_ns: ns(s.finished.unix_nanos()),
                source: "collection".into(),
                kind: "finished".into(),
                description: format!(
                    "section {} {}: collection finished, {} members, {bytes} bytes",
                    s.number,
                    esc(&s.name),
                    members.len()
                ),
                evidence: "manifest.cbor".into(),
                detail: None,
                uncertainty_ns: None,
            })?;
        }
    }
    for (i, c) in report.custody.iter().enumerate() {
        let p = &c.payload;
        let mut d = format!("#{i} {} by {} (key {})", p.action, p.actor.name, c.signer.short());
        if let Some(r) = &p.recipient {
            d.push_str(&format!(" to key {}", r.hex().get(..16).unwrap_or_default()));
        }
        if let Some(n) = &p.note {
            d.push_str(&format!(": {n}"));
        }
        b.event(Event {
            time_ns: ns(p.time.unix_nanos()),
            source: "custody".into(),
            kind: esc(&p.action),
            description: esc(&d),
            evidence: format!("custody.cbor entry {i}"),
            detail: Some(json!({"entry_sha256": c.digest.hex(), "fingerprint": c.signer.hex(),
                "signature_ok": c.signature_ok})),
            uncertainty_ns: None,
        })?;
    }
    Ok(())
}

fn ns(t: i128) -> i64 {
    i64::try_from(t).unwrap_or(if t < 0 { i64::MIN } else { i64::MAX })
}

/// The container's creation event; returns its time.
fn container_event<S: OpenReader + ?Sized>(
    ev: &mut Evidence<'_, S>,
    b: &mut Builder<'_>,
) -> Result<Option<i64>, AnalysisError> {
    let Some(bytes) = ev.read_optional(CONTAINER)? else {
        return Ok(None);
    };
    let record: ContainerJson = forensic_evidence::lines::parse_whole(CONTAINER, &bytes)?;
    let Some(c) = record.container() else {
        return Ok(None);
    };
    let Some(t) = c.created.as_deref().and_then(parse_rfc3339) else {
        return Ok(None);
    };
    let id = crate::target::short_id(&c.id);
    b.event(Event {
        time_ns: t,
        source: "container".into(),
        kind: "created".into(),
        description: esc(&format!(
            "container {} ({id}) created from {}",
            c.name.as_deref().unwrap_or("?"),
            c.image_ref.as_deref().unwrap_or("?")
        )),
        evidence: format!("{CONTAINER}: created"),
        detail: Some(json!({"container_id": c.id, "name": c.name, "image": c.image_ref})),
        uncertainty_ns: None,
    })?;
    Ok(Some(t))
}

/// The entries [`FileScope::Changed`] keeps; `None` (every entry) without the creation time.
fn changed_scope<S: OpenReader + ?Sized>(
    ev: &mut Evidence<'_, S>,
    created: Option<i64>,
    notes: &mut Vec<String>,
) -> Result<Option<Changed>, AnalysisError> {
    let Some(created_ns) = created else {
        notes.push(format!(
            "files: the container's creation time is not in {CONTAINER}: every entry of the index is shown"
        ));
        return Ok(None);
    };
    let mut written = Vec::new();
    if ev.has_member(UPPER_CHANGES) {
        let mut over = 0u64;
        ev.lines(UPPER_CHANGES, |n, line| {
            let l: UpperChange<'static> =
                serde_json::from_slice(line).map_err(|e| AnalysisError::line(UPPER_CHANGES, n, e.to_string()))?;
            // A `dir` is there only to hold changes (its entries are listed themselves; a
            // directory whose own times changed is kept by its times).
            if !matches!(l.change, UpperChangeKind::Deleted | UpperChangeKind::Dir) {
                if written.len() < MAX_WRITTEN_PATHS {
                    written.push(path_key(l.path.as_bytes()));
                } else {
                    over += 1;
                }
            }
            Ok(())
        })?;
        if over > 0 {
            notes.push(format!(
                "files: {over} paths of the writable layer past the first {MAX_WRITTEN_PATHS} are shown only if their times are at or after the container's creation"
            ));
        }
    } else {
        notes.push(format!(
            "files: the bundle has no {UPPER_CHANGES}: files are shown by their times only"
        ));
    }
    written.sort_unstable();
    written.dedup();
    Ok(Some(Changed { created_ns, written }))
}

/// Process starts, each the middle of the window its start lies in ± half the window
/// ([`crate::processes::START_UNCERTAINTY_NS`]). The container's processes cannot start before
/// the container was created: a window that holds the creation time is narrowed to begin there,
/// so that no start is shown before the creation it may follow.
fn process_events<S: OpenReader + ?Sized>(
    ev: &mut Evidence<'_, S>,
    created: Option<i64>,
    b: &mut Builder<'_>,
    notes: &mut Vec<String>,
) -> Result<(), AnalysisError> {
    let rec = crate::processes::read(ev)?;
    if !rec.present {
        notes.push(format!("processes: the bundle has no {PROCESSES}"));
        return Ok(());
    }
    let Some(boot) = rec.boot_ns else {
        notes.push(format!(
            "processes: boot time unknown (the bundle has no {BOOT}): the start times of {} processes (clock ticks since boot only) are not in the timeline",
            rec.processes.len()
        ));
        return Ok(());
    };
    for p in &rec.processes {
        let Some(t) = p
            .start_time_ticks
            .and_then(|ticks| crate::processes::start_ns(boot, ticks))
        else {
            continue;
        };
        let (t, uncertainty) = narrow(t, crate::processes::START_UNCERTAINTY_NS, created);
        let exe = p.exe.as_deref().unwrap_or("?");
        let deleted = if p.exe_deleted { " (deleted)" } else { "" };
        b.event(Event {
            time_ns: t,
            source: "process".into(),
            kind: "start".into(),
            description: esc(&format!(
                "pid {} (ppid {}, uid {}) {} [exe {exe}{deleted}]",
                p.pid,
                opt(p.ppid),
                opt(p.uid),
                p.cmdline.join(" ")
            )),
            evidence: format!("{PROCESSES}: pid {}", p.pid),
            detail: Some(json!({"pid": p.pid, "ppid": p.ppid, "uid": p.uid, "exe": p.exe,
                "exe_deleted": p.exe_deleted, "exe_sha256": p.exe_sha256,
                "start_time_ticks": p.start_time_ticks})),
            uncertainty_ns: Some(uncertainty),
        })?;
    }
    Ok(())
}

/// The window `t ± u` cut to begin at `not_before` when it holds it: `(middle, half width)`.
fn narrow(t: i64, u: i64, not_before: Option<i64>) -> (i64, i64) {
    match not_before {
        Some(c) if t.saturating_sub(u) < c && c <= t.saturating_add(u) => {
            let end = t.saturating_add(u);
            let half = (end - c) / 2;
            (c + half, half)
        }
        _ => (t, u),
    }
}

fn alert_events<S: OpenReader + ?Sized>(
    ev: &mut Evidence<'_, S>,
    target: &Target,
    all: bool,
    b: &mut Builder<'_>,
    notes: &mut Vec<String>,
) -> Result<(), AnalysisError> {
    let mut undated = 0u64;
    let counts = crate::falco::for_each(ev, target.container_id.as_deref(), |a, mine| {
        if !(mine || all) {
            return Ok(());
        }
        let Some(t) = a.time_ns else {
            undated += 1;
            return Ok(());
        };
        let description = match &a.rule {
            Some(r) => format!("{r}: {}", a.message()),
            None => a.message().to_string(),
        };
        b.event(Event {
            time_ns: t,
            source: "falco".into(),
            kind: esc(&a.priority),
            description: esc(&description),
            evidence: esc(&a.evidence),
            detail: Some(
                json!({"rule": a.rule, "priority": a.priority, "container_id": a.container_id,
                "container_name": a.container_name, "this_container": mine, "output": a.output}),
            ),
            uncertainty_ns: None,
        })
    })?;
    if counts.members.is_empty() {
        notes.push("falco: the bundle has no alert log".into());
    }
    if !all && target.container_id.is_some() && counts.alerts > counts.matched {
        notes.push(format!(
            "falco: {} of {} alerts are about other containers or the host and are left out (--all-alerts includes them)",
            counts.alerts - counts.matched,
            counts.alerts
        ));
    }
    if undated > 0 {
        notes.push(format!(
            "falco: {undated} alerts give only a time of day, not a date, and are not in the timeline"
        ));
    }
    Ok(())
}

fn audit_events<S: OpenReader + ?Sized>(
    ev: &mut Evidence<'_, S>,
    target: &Target,
    max_requests: usize,
    b: &mut Builder<'_>,
    notes: &mut Vec<String>,
) -> Result<(), AnalysisError> {
    let read = crate::audit::requests(ev, max_requests)?;
    let mut undated = 0u64;
    for e in &read.requests {
        let Some(t) = e.time_ns else {
            undated += 1;
            continue;
        };
        b.event(Event {
            time_ns: t,
            source: "audit".into(),
            kind: esc(&e.verb),
            description: esc(&e.describe()),
            evidence: esc(&e.evidence),
            detail: Some(json!({"stage": e.stage, "user": e.user, "source_ip": e.source_ip,
                "resource": e.resource, "subresource": e.subresource, "namespace": e.namespace,
                "name": e.name, "code": e.code,
                "target_pod": target.is_pod(e.namespace.as_deref(), e.name.as_deref())})),
            uncertainty_ns: None,
        })?;
    }
    if read.counts.members.is_empty() {
        notes.push("audit: the bundle has no Kubernetes audit log".into());
    }
    if read.counts.other_lines > 0 {
        let reasons: Vec<String> = read
            .skipped_by_reason
            .iter()
            .map(|(reason, n)| format!("{reason} {n}"))
            .collect();
        notes.push(format!(
            "audit: {} skipped, not audit.k8s.io events and not in the timeline ({}; forensic audit lists them)",
            plural(read.counts.other_lines, "record"),
            reasons.join(", ")
        ));
    }
    if read.merged > 0 {
        notes.push(format!(
            "audit: {} are {}: the stages of a request (and copies of it) are one event, at its most complete stage",
            plural(read.counts.events, "event"),
            plural(read.merged.abs_diff(read.counts.events), "request")
        ));
    }
    if read.dropped > 0 {
        notes.push(format!(
            "audit: {} past the first {max_requests} are not in the timeline (--max-audit-requests raises the limit)",
            plural(read.dropped, "request")
        ));
    }
    if undated > 0 {
        notes.push(format!("audit: {} have no timestamp", plural(undated, "request")));
    }
    Ok(())
}

/// `1 record`, `2 records`.
fn plural(n: u64, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

#[cfg(test)]
mod tests {
    use super::narrow;

    #[test]
    fn a_window_holding_the_creation_begins_there() {
        // A start computed 43 ms before the creation, ± 505 ms: it may follow the creation.
        assert_eq!(narrow(1_000, 505, Some(1_043)), (1_274, 231));
        // A window wholly after, or wholly before, is left as it is.
        assert_eq!(narrow(2_000, 505, Some(1_000)), (2_000, 505));
        assert_eq!(narrow(0, 505, Some(1_000)), (0, 505));
        assert_eq!(narrow(0, 505, None), (0, 505));
    }
}
