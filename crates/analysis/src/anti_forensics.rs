//! `mtime-backdated`: a file the container wrote whose modification time was set back before the
//! container existed (timestomping, `touch -d 2024-01-01 FILE`).
//!
//! The rule (`docs/findings.md`), for a regular file the writable layer holds (added or
//! modified, not a metadata-only copy-up) and its line of the tree index:
//!
//! 1. its modification time is more than [`MIN_GAP_NS`] before the container's creation
//!    (`6-podspec/container.json` `created`), and
//! 2. its status-change time is at or after the creation (the kernel sets it on every change and
//!    it cannot be set back), and
//! 3. no file of the image (in the index, not in the writable layer) has the same SHA-256
//!    **and** the same modification time to the second. A copy that kept its source's times
//!    (`cp -p`, `cp -a`, `install -p`) of a file of the image meets 1 and 2; it is recognised by
//!    its source, which 3 looks for (to the second: busybox `cp -p` keeps microseconds, some
//!    filesystems and archives only seconds). A file the container wrote cannot be such a
//!    source (a backdated file copied with `cp -p` is still raised, both copies); `touch -r
//!    /bin/ls EVIL` copies a time but not the content, and is raised.
//!
//! Files extracted in the container with their archive's times (`tar x`, a package manager) meet
//! the rule too; the message says so.

use crate::error::AnalysisError;
use crate::evidence::Evidence;
use crate::findings::{Finding, FindingId, Grouped, Severity};
use crate::members::{CONTAINER, TREE_INDEX, UPPER_CHANGES};
use crate::time::{NANOS, format_ns, parse_rfc3339, seconds};
use forensic_bundle::verify::OpenReader;
use forensic_evidence::records::EntryType;
use forensic_evidence::records::container::ContainerJson;
use std::collections::{HashMap, HashSet};

/// How far before the container's creation a modification time must lie: clocks and the
/// runtime's record of the creation agree to well under a minute.
pub const MIN_GAP_NS: i64 = 60 * NANOS;

/// Most regular files of the writable layer remembered for the check (a note says when there
/// were more).
const MAX_WRITTEN: usize = 200_000;

/// Most files given a finding each; the rest are grouped.
const MAX_EACH: usize = 100;

/// The regular files the writable layer holds: path → line of `upper-changes.jsonl`.
#[derive(Debug, Default)]
pub(crate) struct Written {
    files: HashMap<Vec<u8>, u64>,
    over: u64,
}

impl Written {
    /// Remembers `path` (line `line` of the change list), within [`MAX_WRITTEN`].
    pub(crate) fn add(&mut self, path: &[u8], line: u64) {
        if self.files.len() < MAX_WRITTEN {
            self.files.insert(path.to_vec(), line);
        } else {
            self.over += 1;
        }
    }

    /// The change-list line of `path`, when the writable layer holds it.
    pub(crate) fn line(&self, path: &[u8]) -> Option<u64> {
        self.files.get(path).copied()
    }
}

/// The container's creation time from [`CONTAINER`], when the bundle records it.
///
/// # Errors
/// The member is unreadable or not a container record.
pub(crate) fn container_created<S: OpenReader + ?Sized>(
    ev: &mut Evidence<'_, S>,
) -> Result<Option<i64>, AnalysisError> {
    let Some(bytes) = ev.read_optional(CONTAINER)? else {
        return Ok(None);
    };
    let record: ContainerJson = forensic_evidence::lines::parse_whole(CONTAINER, &bytes)?;
    Ok(record
        .container()
        .and_then(|c| c.created.as_deref())
        .and_then(parse_rfc3339))
}

/// A file that meets rules 1 and 2.
struct Candidate {
    line: u64,
    upper_line: u64,
    shown: String,
    mtime_ns: i64,
    ctime_ns: i64,
    sha256: Option<String>,
}

/// Raises `mtime-backdated` for the files of `written` (see the module's rule).
///
/// # Errors
/// A member is unreadable, malformed, or does not match the manifest (strict).
pub(crate) fn backdated<S: OpenReader + ?Sized>(
    ev: &mut Evidence<'_, S>,
    written: &Written,
    out: &mut Vec<Finding>,
    not_checked: &mut Vec<String>,
) -> Result<(), AnalysisError> {
    if written.over > 0 {
        not_checked.push(format!(
            "modification times set back: {} files of the writable layer past the first {MAX_WRITTEN} not examined",
            written.over
        ));
    }
    if !ev.has_member(TREE_INDEX) {
        not_checked.push(format!("modification times set back: the bundle has no {TREE_INDEX}"));
        return Ok(());
    }
    let Some(created) = container_created(ev)? else {
        not_checked.push(format!(
            "modification times set back: the container's creation time is not in {CONTAINER}"
        ));
        return Ok(());
    };
    if written.files.is_empty() {
        return Ok(());
    }
    let mut found = Vec::new();
    crate::files::for_each(ev, &crate::files::FileFilter::default(), |n, e| {
        let (Some(m), Some(c)) = (e.mtime_ns, e.ctime_ns) else {
            return Ok(());
        };
        if e.kind != EntryType::File || m >= created.saturating_sub(MIN_GAP_NS) || c < created {
            return Ok(());
        }
        if let Some(upper_line) = written.line(e.path.as_bytes()) {
            found.push(Candidate {
                line: n,
                upper_line,
                shown: e.path.shown(),
                mtime_ns: m,
                ctime_ns: c,
                sha256: e.sha256.clone(),
            });
        }
        Ok(())
    })?;
    if found.is_empty() {
        return Ok(());
    }
    // Rule 3: a copy whose source (same content, same modification time) is in the index.
    let wanted: HashSet<(&str, i64)> = found
        .iter()
        .filter_map(|f| Some((f.sha256.as_deref()?, seconds(f.mtime_ns))))
        .collect();
    let mut sources: HashSet<(String, i64)> = HashSet::new();
    crate::files::for_each(ev, &crate::files::FileFilter::default(), |_, e| {
        if let (Some(sha), Some(m)) = (e.sha256.as_deref(), e.mtime_ns.map(seconds)) {
            if wanted.contains(&(sha, m)) && written.line(e.path.as_bytes()).is_none() {
                sources.insert((sha.to_string(), m));
            }
        }
        Ok(())
    })?;
    let copied = |f: &Candidate| {
        f.sha256
            .as_ref()
            .is_some_and(|sha| sources.contains(&(sha.clone(), seconds(f.mtime_ns))))
    };
    let mut rest = Grouped::default();
    let mut each = 0;
    for f in found.iter().filter(|f| !copied(f)) {
        let at = format!("{TREE_INDEX} line {}", f.line);
        let what = format!(
            "{}: modified {}, status changed {}",
            f.shown,
            format_ns(f.mtime_ns),
            format_ns(f.ctime_ns)
        );
        if each == MAX_EACH {
            rest.add(format!("{at}: {what}"), Some(f.mtime_ns));
            continue;
        }
        each += 1;
        out.push(Finding::new(
            Severity::Medium,
            FindingId::MtimeBackdated,
            format!(
                "{what}, after the container was created ({}): its modification time was set back \
                 (timestomping, touch -d), or it was extracted with an archive's times",
                format_ns(created)
            ),
            vec![at, format!("{UPPER_CHANGES} line {}", f.upper_line)],
        ));
    }
    if rest.count > 0 {
        out.push(Finding::new(
            Severity::Medium,
            FindingId::MtimeBackdated,
            format!(
                "{} more files of the writable layer have a modification time before the container was created",
                rest.count
            ),
            rest.evidence_lines(),
        ));
    }
    Ok(())
}
