//! Section 1: every process in the target's PID namespace, read from /proc on the host.

use crate::counts::Counter;
use crate::ctx::{Ctx, MAX_PROC_FILE, derived, read_proc_bytes, read_proc_text};
use crate::sink::{NewMember, Sink};
use forensic_bundle::manifest::{RawPath, Source};
use forensic_evidence::members;
use forensic_evidence::paths::in_temp_dir;
use forensic_evidence::records::process::{Ids, ProcessFlag, ProcessRecord};
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;

/// Raw /proc files copied for every process.
const PROC_FILES: [&str; 9] = [
    "cmdline",
    "environ",
    "status",
    "stat",
    "maps",
    "cgroup",
    "limits",
    "loginuid",
    "mountinfo",
];
/// Namespaces recorded.
const NAMESPACES: [&str; 8] = ["pid", "net", "mnt", "uts", "ipc", "user", "cgroup", "time"];

/// Collects section 1.
///
/// # Errors
/// Only when the bundle cannot be written; everything about the processes themselves (vanished,
/// unreadable) is recorded as a gap.
pub fn collect(ctx: &mut Ctx<'_>, sink: &mut dyn Sink) -> io::Result<()> {
    let pid = ctx.target.pid;
    ctx.pids = match ctx.proc.same_pid_namespace(pid) {
        Ok(p) if !p.is_empty() => p,
        Ok(_) | Err(_) => {
            sink.gap(
                format!("processes in the PID namespace of {pid}"),
                "the namespace could not be read: only the target process is collected".into(),
            );
            vec![pid]
        }
    };
    let mut rows = Vec::new();
    for p in ctx.pids.clone() {
        if !ctx.proc.exists(p) {
            sink.gap(format!("/proc/{p}"), "the process exited during collection".into());
            continue;
        }
        rows.push(one_process(ctx, sink, p)?);
    }
    ctx.count(Counter::Processes, rows.len() as u64);
    let table = serde_json::to_vec_pretty(&rows).map_err(io::Error::other)?;
    derived(
        sink,
        members::local(members::PROCESSES),
        "decoded from /proc/<pid>/{status,stat,cmdline,exe,cwd,root,maps,fd,ns}",
        &table,
    )?;
    derived(
        sink,
        members::local(members::PROCESS_TREE),
        "process tree from processes.json (ppid links)",
        tree(&rows).as_bytes(),
    )?;
    boot_time(ctx, sink)?;
    Ok(())
}

/// Writes `boot.txt`: the host's boot time, the `btime` line of `/proc/stat` (seconds since the
/// epoch), from which `start_time_ticks` in `processes.json` count (in `USER_HZ` ticks, 100 a
/// second on Linux). Without it a process's start can only be given in ticks.
fn boot_time(ctx: &Ctx<'_>, sink: &mut dyn Sink) -> io::Result<()> {
    let path = ctx.proc.0.join("stat");
    let text = read_proc_text(&path, 1 << 20).unwrap_or_default();
    let btime = text
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .map(str::trim)
        .filter(|v| v.parse::<u64>().is_ok());
    match btime {
        Some(v) => {
            derived(
                sink,
                members::local(members::BOOT),
                "the btime line of /proc/stat: the host's boot time, seconds since the epoch",
                format!("btime {v}\n").as_bytes(),
            )?;
        }
        None => sink.gap(
            path.display().to_string(),
            "no btime line: process start times can only be given in clock ticks since boot".into(),
        ),
    }
    Ok(())
}

fn link(ctx: &Ctx<'_>, pid: u32, rel: &str) -> Option<String> {
    std::fs::read_link(ctx.proc.path(pid, rel))
        .ok()
        .map(|l| String::from_utf8_lossy(l.as_os_str().as_bytes()).into_owned())
}

fn one_process(ctx: &mut Ctx<'_>, sink: &mut dyn Sink, pid: u32) -> io::Result<ProcessRecord> {
    for f in PROC_FILES {
        ctx.proc_file(sink, &ctx.proc.path(pid, f), &format!("{pid}/{f}"));
    }
    // fd table: each descriptor's link target; socket inodes feed the network section.
    let mut fds = String::new();
    let mut fd_list: Vec<u32> = std::fs::read_dir(ctx.proc.path(pid, "fd"))
        .map(|d| d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect())
        .unwrap_or_default();
    fd_list.sort_unstable();
    for fd in &fd_list {
        let target = link(ctx, pid, &format!("fd/{fd}")).unwrap_or_else(|| "?".into());
        if let Some(inode) = target
            .strip_prefix("socket:[")
            .and_then(|s| s.strip_suffix(']'))
            .and_then(|s| s.parse().ok())
        {
            ctx.socket_owners.entry(inode).or_default().push((pid, *fd));
        }
        fds.push_str(&format!("{fd}\t{}\n", target.escape_debug()));
    }
    derived(
        sink,
        &format!("{pid}/fds.txt"),
        &format!("readlink /proc/{pid}/fd/*"),
        fds.as_bytes(),
    )?;
    let mut ns = BTreeMap::new();
    let mut ns_text = String::new();
    for kind in NAMESPACES {
        if let Some(l) = link(ctx, pid, &format!("ns/{kind}")) {
            ns_text.push_str(&format!("{kind}\t{l}\n"));
            ns.insert(kind.to_string(), l);
        }
    }
    derived(
        sink,
        &format!("{pid}/namespaces.txt"),
        &format!("readlink /proc/{pid}/ns/*"),
        ns_text.as_bytes(),
    )?;

    let status = read_proc_text(&ctx.proc.path(pid, "status"), MAX_PROC_FILE).ok();
    let status = status
        .as_deref()
        .and_then(|s| forensic_proc::process::parse_status(s).ok());
    let stat = read_proc_text(&ctx.proc.path(pid, "stat"), 64 << 10).ok();
    let stat = stat.as_deref().and_then(|s| forensic_proc::process::parse_stat(s).ok());
    let cmdline = read_proc_bytes(&ctx.proc.path(pid, "cmdline"), 1 << 20).unwrap_or_default();
    let args: Vec<String> = forensic_proc::process::split_nul(&cmdline)
        .iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let exe = link(ctx, pid, "exe");
    let deleted = exe.as_deref().is_some_and(|e| e.ends_with(" (deleted)"));
    let exe_sha256 = exe_digest(ctx, sink, pid, deleted)?;
    let maps = read_proc_text(&ctx.proc.path(pid, "maps"), MAX_PROC_FILE).unwrap_or_default();
    let mut flags: Vec<ProcessFlag> = Vec::new();
    for region in forensic_proc::process::parse_maps(&maps).rows {
        for f in forensic_proc::process::suspicious(&region) {
            let f = ProcessFlag::from(f);
            if !flags.contains(&f) {
                flags.push(f);
            }
        }
    }
    let exe_path = exe.as_deref().map(|e| e.trim_end_matches(" (deleted)").to_string());
    if exe_path.as_deref().is_some_and(|e| in_temp_dir(e.as_bytes())) {
        flags.push(ProcessFlag::RunsFromTempDir);
    }
    if deleted {
        flags.push(ProcessFlag::DeletedExecutable);
    }
    Ok(ProcessRecord {
        pid,
        ppid: stat.as_ref().map(|s| s.ppid),
        name: status.as_ref().map(|s| s.name.to_string_lossy().into_owned()),
        state: status.as_ref().map(|s| s.state.to_string()),
        uid: status.as_ref().map(|s| Ids::Set(s.uid)),
        gid: status.as_ref().map(|s| Ids::Set(s.gid)),
        ns_pid: status.as_ref().map(|s| s.ns_pid.clone()),
        start_time_ticks: stat.as_ref().map(|s| s.start_time_ticks),
        cmdline: args,
        exe: exe_path,
        exe_deleted: deleted,
        exe_sha256,
        cwd: link(ctx, pid, "cwd"),
        root: link(ctx, pid, "root"),
        fds: fd_list.len() as u64,
        namespaces: ns,
        flags,
    })
}

/// SHA-256 of the running executable, read through /proc/<pid>/exe (which works for a deleted
/// binary); a deleted binary is also copied into the bundle.
fn exe_digest(ctx: &mut Ctx<'_>, sink: &mut dyn Sink, pid: u32, deleted: bool) -> io::Result<Option<String>> {
    let path = ctx.proc.path(pid, "exe");
    let mut file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) => {
            sink.gap(
                path.display().to_string(),
                format!("the executable could not be opened: {e}"),
            );
            return Ok(None);
        }
    };
    if deleted {
        let mut m = NewMember::new(
            format!("{pid}/exe"),
            Source::path(RawPath::Text(path.display().to_string())),
        );
        m.max_len = Some(ctx.opts.max_file_size);
        let w = sink.member(m, &mut file)?;
        ctx.count(Counter::DeletedExecutablesCopied, 1);
        return Ok(Some(w.sha256.hex()));
    }
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => h.update(buf.get(..n).unwrap_or(&[])),
            Err(e) => {
                sink.gap(
                    path.display().to_string(),
                    format!("the executable could not be read: {e}"),
                );
                return Ok(None);
            }
        }
    }
    Ok(Some(hex::encode(h.finalize())))
}

/// An indented process tree, roots first, children by pid.
fn tree(rows: &[ProcessRecord]) -> String {
    let pids: Vec<u32> = rows.iter().map(|r| r.pid).collect();
    let mut out = String::new();
    for r in rows.iter().filter(|r| !r.ppid.is_some_and(|pp| pids.contains(&pp))) {
        walk(rows, r, 0, &mut out);
    }
    out
}

fn walk(rows: &[ProcessRecord], node: &ProcessRecord, depth: usize, out: &mut String) {
    out.push_str(&format!(
        "{}{} {}\n",
        "  ".repeat(depth.min(64)),
        node.pid,
        node.cmdline.join(" ").escape_debug()
    ));
    if depth > 4096 {
        return;
    }
    for child in rows.iter().filter(|r| r.ppid == Some(node.pid) && r.pid != node.pid) {
        walk(rows, child, depth + 1, out);
    }
}
