//! `show processes`: the process tree of `1-processes/processes.json`, with start times from the
//! host's boot time (`1-processes/boot.txt`) when the bundle has it.

use crate::error::AnalysisError;
use crate::evidence::Evidence;
use crate::time::{NANOS, format_ns_digits};
use forensic_bundle::verify::OpenReader;
use forensic_evidence::members::{BOOT, PROCESSES};
use forensic_evidence::records::process::{ProcessFlag, ProcessRecord};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Clock ticks a second in `/proc/<pid>/stat` (`USER_HZ`): 100 on every Linux architecture a
/// container runs on (x86, arm, arm64, powerpc, s390x, riscv, mips).
pub const USER_HZ: i64 = 100;

/// One process as `forensic collect` recorded it in `processes.json`. Fields the collector could
/// not read are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(from = "ProcessRecord")]
pub struct RecordedProcess {
    /// Host PID.
    pub pid: u32,
    /// Parent's host PID.
    pub ppid: Option<u32>,
    /// PID inside the container's PID namespace (the last of `NSpid`).
    pub container_pid: Option<u32>,
    /// `Name:` of `status`.
    pub name: Option<String>,
    /// Real uid.
    pub uid: Option<u32>,
    /// Effective uid.
    pub euid: Option<u32>,
    /// Real gid.
    pub gid: Option<u32>,
    /// Clock ticks after boot when the process started.
    pub start_time_ticks: Option<u64>,
    /// Arguments.
    pub cmdline: Vec<String>,
    /// The executable's path (without ` (deleted)`).
    pub exe: Option<String>,
    /// Whether the executable was deleted.
    pub exe_deleted: bool,
    /// SHA-256 of the executable.
    pub exe_sha256: Option<String>,
    /// Working directory.
    pub cwd: Option<String>,
    /// The collector's flags.
    pub flags: Vec<ProcessFlag>,
}

impl From<ProcessRecord> for RecordedProcess {
    fn from(r: ProcessRecord) -> Self {
        RecordedProcess {
            pid: r.pid,
            ppid: r.ppid,
            container_pid: r.container_pid(),
            name: r.name,
            uid: r.uid.as_ref().and_then(|u| u.get(0)),
            euid: r.uid.as_ref().and_then(|u| u.get(1)),
            gid: r.gid.as_ref().and_then(|g| g.get(0)),
            start_time_ticks: r.start_time_ticks,
            cmdline: r.cmdline,
            exe: r.exe,
            exe_deleted: r.exe_deleted,
            exe_sha256: r.exe_sha256,
            cwd: r.cwd,
            flags: r.flags,
        }
    }
}

/// One row of the view, in tree order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcessRow {
    /// Depth in the tree (0 for a process whose parent is not in the container).
    pub depth: usize,
    /// Host PID.
    pub pid: u32,
    /// Parent's host PID.
    pub ppid: Option<u32>,
    /// PID inside the container.
    pub container_pid: Option<u32>,
    /// Real uid.
    pub uid: Option<u32>,
    /// Effective uid.
    pub euid: Option<u32>,
    /// Real gid.
    pub gid: Option<u32>,
    /// Start time (SPEC §5 form, to hundredths of a second: one clock tick), when the boot time
    /// is known; ± [`ProcessRow::start_time_uncertainty_ns`].
    pub start_time: Option<String>,
    /// Start time in nanoseconds since the epoch, when the boot time is known: the middle of the
    /// window the start lies in ([`start_ns`]).
    pub start_time_ns: Option<i64>,
    /// How far the true start may be from `start_time_ns`, either way
    /// ([`START_UNCERTAINTY_NS`], 505,000,000), when the boot time is known.
    pub start_time_uncertainty_ns: Option<i64>,
    /// Clock ticks after boot, as recorded.
    pub start_time_ticks: Option<u64>,
    /// `status` name.
    pub name: Option<String>,
    /// Arguments.
    pub cmdline: Vec<String>,
    /// Executable path.
    pub exe: Option<String>,
    /// Whether the executable had been deleted.
    pub exe_deleted: bool,
    /// SHA-256 of the executable.
    pub exe_sha256: Option<String>,
    /// The bundle member holding the deleted executable's copy, when there is one.
    pub exe_copy: Option<String>,
    /// Flags, as recorded: `rwx-anonymous-map`, `deleted-mapping`, `exec-map-from-temp`,
    /// `runs-from-temp-dir`, `deleted-executable` (CONTENTS.md §1).
    pub flags: Vec<ProcessFlag>,
}

/// The `show processes` view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcessView {
    /// The member read.
    pub evidence: &'static str,
    /// The host's boot time (SPEC §5 form, whole seconds as `btime` gives it), from [`BOOT`];
    /// `None`: unknown.
    pub boot_time: Option<String>,
    /// Processes, parents before children, siblings in order of start, then PID.
    pub processes: Vec<ProcessRow>,
}

/// Parses `processes.json`.
///
/// # Errors
/// [`AnalysisError::Malformed`] when it is not an array of process records.
pub fn parse_processes(bytes: &[u8]) -> Result<Vec<RecordedProcess>, AnalysisError> {
    serde_json::from_slice(bytes).map_err(|e| AnalysisError::member(PROCESSES, e.to_string()))
}

/// Parses `boot.txt` (`btime SECONDS`) into nanoseconds since the epoch.
pub fn parse_boot(bytes: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(bytes).ok()?;
    let secs: i64 = text
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    secs.checked_mul(NANOS)
}

/// How far a start time given by [`start_ns`] may be from the true start, either way.
///
/// `btime` is the boot time in whole seconds (the kernel drops the fraction: the true boot time
/// is up to 1 s later) and `starttime` counts whole clock ticks (the true start is up to one tick
/// later). So the start lies in `[boot + ticks, boot + ticks + 1 s + 1 tick)`: [`start_ns`] is
/// the middle of that window, and this half its width, 0.505 s. Between two processes of one
/// bundle the order is exact to a tick (the same boot time is added to both).
pub const START_UNCERTAINTY_NS: i64 = (NANOS + NANOS / USER_HZ) / 2;

/// Decimals of a second a start time is written to: hundredths, one clock tick at [`USER_HZ`].
pub const START_DIGITS: u32 = 2;

/// Start time of a process: boot time plus ticks at [`USER_HZ`], plus
/// [`START_UNCERTAINTY_NS`]: the middle of the window the start lies in (± that much).
pub fn start_ns(boot_ns: i64, ticks: u64) -> Option<i64> {
    let ticks = i64::try_from(ticks).ok()?;
    let whole = (ticks / USER_HZ).checked_mul(NANOS)?;
    let part = (ticks % USER_HZ) * (NANOS / USER_HZ);
    boot_ns
        .checked_add(whole)?
        .checked_add(part)?
        .checked_add(START_UNCERTAINTY_NS)
}

/// The recorded processes and the boot time, as read from the bundle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Processes of `processes.json`; empty when the bundle has none.
    pub processes: Vec<RecordedProcess>,
    /// Boot time, nanoseconds since the epoch.
    pub boot_ns: Option<i64>,
    /// Whether `processes.json` was in the bundle.
    pub present: bool,
}

/// Reads [`PROCESSES`] and [`BOOT`] when present.
///
/// # Errors
/// A member is unreadable, malformed, or does not match the manifest (strict).
pub fn read<S: OpenReader + ?Sized>(ev: &mut Evidence<'_, S>) -> Result<Recorded, AnalysisError> {
    let Some(bytes) = ev.read_optional(PROCESSES)? else {
        return Ok(Recorded::default());
    };
    let processes = parse_processes(&bytes)?;
    let boot_ns = ev.read_optional(BOOT)?.as_deref().and_then(parse_boot);
    Ok(Recorded {
        processes,
        boot_ns,
        present: true,
    })
}

/// Builds the view: the tree, parents first, siblings in order of start (then PID: PIDs wrap, so
/// the container's init is not always the lowest); a process whose parent is not in the list is
/// a root (e.g. one started by `exec`, whose parent is the runtime's monitor). Cycles (a forged record) cannot loop: each process is shown once.
pub fn view(rec: &Recorded, has_member: impl Fn(&str) -> bool) -> ProcessView {
    let pids: BTreeSet<u32> = rec.processes.iter().map(|p| p.pid).collect();
    let mut children: BTreeMap<Option<u32>, Vec<&RecordedProcess>> = BTreeMap::new();
    for p in &rec.processes {
        let parent = p.ppid.filter(|pp| pids.contains(pp) && *pp != p.pid);
        children.entry(parent).or_default().push(p);
    }
    for list in children.values_mut() {
        list.sort_by_key(|p| (p.start_time_ticks.is_none(), p.start_time_ticks, p.pid));
    }
    let mut rows = Vec::new();
    let mut shown = BTreeSet::new();
    // Iterative depth-first walk from the roots.
    let mut stack: Vec<(&RecordedProcess, usize)> = children
        .get(&None)
        .map(|r| r.iter().rev().map(|p| (*p, 0)).collect())
        .unwrap_or_default();
    while let Some((p, depth)) = stack.pop() {
        if !shown.insert(p.pid) {
            continue;
        }
        rows.push(row(p, depth, rec.boot_ns, &has_member));
        if let Some(kids) = children.get(&Some(p.pid)) {
            stack.extend(kids.iter().rev().map(|k| (*k, depth + 1)));
        }
    }
    // Processes only reachable through a cycle.
    for p in &rec.processes {
        if !shown.contains(&p.pid) {
            shown.insert(p.pid);
            rows.push(row(p, 0, rec.boot_ns, &has_member));
        }
    }
    ProcessView {
        evidence: PROCESSES,
        boot_time: rec.boot_ns.map(|b| format_ns_digits(b, 0)),
        processes: rows,
    }
}

fn row(p: &RecordedProcess, depth: usize, boot_ns: Option<i64>, has_member: &impl Fn(&str) -> bool) -> ProcessRow {
    let start = boot_ns.zip(p.start_time_ticks).and_then(|(b, t)| start_ns(b, t));
    let copy = format!("1-processes/{}/exe", p.pid);
    ProcessRow {
        depth,
        pid: p.pid,
        ppid: p.ppid,
        container_pid: p.container_pid,
        uid: p.uid,
        euid: p.euid,
        gid: p.gid,
        start_time: start.map(|t| format_ns_digits(t, START_DIGITS)),
        start_time_ns: start,
        start_time_uncertainty_ns: start.map(|_| START_UNCERTAINTY_NS),
        start_time_ticks: p.start_time_ticks,
        name: p.name.clone(),
        cmdline: p.cmdline.clone(),
        exe: p.exe.clone(),
        exe_deleted: p.exe_deleted,
        exe_sha256: p.exe_sha256.clone(),
        exe_copy: (p.exe_deleted && has_member(&copy)).then_some(copy),
        flags: p.flags.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc(pid: u32, ppid: u32, ticks: u64) -> RecordedProcess {
        RecordedProcess {
            pid,
            ppid: Some(ppid),
            start_time_ticks: Some(ticks),
            ..RecordedProcess::default()
        }
    }

    #[test]
    fn roots_and_siblings_follow_start_time_when_pids_wrap() {
        // The container's init (32764) started first; PIDs wrapped before `exec` started 365,
        // whose parent (the runtime's monitor, 900) is outside the container.
        let rec = Recorded {
            processes: vec![
                proc(365, 900, 5000),
                proc(32764, 1, 100),
                proc(32766, 32764, 200),
                proc(12, 32764, 300),
            ],
            boot_ns: None,
            present: true,
        };
        let v = view(&rec, |_| false);
        let order: Vec<(u32, usize)> = v.processes.iter().map(|r| (r.pid, r.depth)).collect();
        assert_eq!(order, [(32764, 0), (32766, 1), (12, 1), (365, 0)]);
    }
}
