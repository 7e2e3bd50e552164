//! Text output of `forensic show`: one printer per view, for people (`--json` is for machines).
//! Text from the evidence is escaped so that a name cannot forge a line.

use crate::cmd_show::Opened;
use crate::view;
use anyhow::Result;
use forensic_analysis::files::{FileEntry, escape_bytes, perm_string, type_char};
use forensic_analysis::findings::Finding;
use forensic_analysis::network::{InetRow, NetworkView, Owner};
use forensic_analysis::processes::ProcessView;
use forensic_analysis::summary::SummaryView;
use forensic_analysis::suspicious::SuspiciousView;
use forensic_analysis::time::format_ns;
use forensic_evidence::records::EntryType;
use serde_json::Value;
use std::io::Write;

pub fn print_file(out: &mut dyn Write, e: &FileEntry) -> std::io::Result<()> {
    let opt = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_else(|| "?".into());
    let mut line = format!(
        "{}{} {:>5}:{:<5} {:>10} {} {} {}",
        type_char(e.kind.as_str()),
        perm_string(e.perm()),
        opt(e.uid.map(u64::from)),
        opt(e.gid.map(u64::from)),
        opt(e.size),
        e.mtime_ns.map(format_ns).unwrap_or_else(|| format!("{:<30}", "?")),
        e.sha256.as_deref().unwrap_or("-"),
        e.path.shown()
    );
    if let Some(t) = &e.symlink_target {
        line.push_str(&format!(" -> {}", t.shown()));
    }
    if matches!(e.kind, EntryType::MountpointSkipped | EntryType::Skipped) {
        line.push_str(&format!(
            "  ({})",
            view::guard(e.note.as_deref().or(e.error.as_deref()).unwrap_or(e.kind.as_str()))
        ));
    } else if let Some(err) = &e.error {
        line.push_str(&format!("  ({})", view::guard(err)));
    }
    writeln!(out, "{line}")
}

pub fn print_summary(out: &mut dyn Write, v: &SummaryView, opened: &Opened) -> Result<()> {
    // Every string of the manifest is the collector's word, escaped for the terminal.
    let s = |x: &Value, k: &str| x.get(k).and_then(Value::as_str).map(view::esc);
    writeln!(
        out,
        "bundle     {}  created {}",
        view::esc(v.bundle_id.as_deref().unwrap_or("?")),
        view::esc(v.created.as_deref().unwrap_or("?"))
    )?;
    let case: Vec<String> = [
        ("case_id", "case"),
        ("evidence_number", "evidence"),
        ("examiner", "examiner"),
    ]
    .iter()
    .filter_map(|(k, label)| s(&v.case, k).map(|x| format!("{label} {x}")))
    .collect();
    if !case.is_empty() {
        writeln!(out, "case       {}", case.join(" · "))?;
    }
    let t = &v.target;
    let target: Vec<String> = [
        s(t, "runtime").map(|x| format!("runtime {x}")),
        s(t, "container_id").map(|x| format!("container {}", forensic_analysis::target::short_id(&x))),
        s(t, "container_name").map(|x| format!("name {x}")),
        s(t, "pod").map(|x| format!("pod {x}")),
        s(t, "namespace").map(|x| format!("namespace {x}")),
        s(t, "node").map(|x| format!("node {x}")),
        t.get("pid").and_then(Value::as_u64).map(|x| format!("pid {x}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    writeln!(
        out,
        "target     {}",
        if target.is_empty() {
            "?".into()
        } else {
            target.join(" · ")
        }
    )?;
    writeln!(
        out,
        "image      {}{}",
        view::esc(v.image.as_deref().unwrap_or("?")),
        v.image_digest
            .as_deref()
            .map(|d| format!("  {}", view::esc(d)))
            .unwrap_or_default()
    )?;
    let c = &v.collector;
    writeln!(
        out,
        "collector  {} {} on {} (kernel {})",
        s(c, "tool").unwrap_or_default(),
        s(c, "version").unwrap_or_default(),
        s(c, "host").unwrap_or_else(|| "?".into()),
        s(c, "kernel").unwrap_or_else(|| "?".into())
    )?;
    if let Some(c) = &v.container {
        print_launch(out, c)?;
    }
    let cu = &v.custody;
    writeln!(
        out,
        "verified   {}",
        if opened.report().verified() {
            "yes"
        } else {
            "NO (--force)"
        }
    )?;
    writeln!(
        out,
        "custody    {}, head {}; last: {} {} by {}",
        view::count(cu.entries, "entry"),
        cu.head_sha256.as_deref().unwrap_or("?"),
        view::esc(cu.last_action.as_deref().unwrap_or("?")),
        view::esc(cu.last_time.as_deref().unwrap_or("?")),
        view::esc(cu.last_actor.as_deref().unwrap_or("?"))
    )?;
    writeln!(out, "sections (order of volatility):")?;
    for sec in &v.sections {
        writeln!(
            out,
            "  {} {:<11} {:>13} {:>10}   {} → {}",
            sec.number,
            view::esc(&sec.name),
            view::count(sec.members, "member"),
            view::human_bytes(sec.bytes),
            sec.started,
            sec.finished
        )?;
    }
    let n = &v.counts;
    let opt = |x: Option<u64>| x.map(|x| x.to_string()).unwrap_or_else(|| "-".into());
    let optu = |x: Option<usize>| opt(x.map(|x| x as u64));
    writeln!(
        out,
        "counts     {} members, {} gaps; processes {}; sockets {} ({} listening), unix {}; files indexed {}; Falco alerts {}; audit events {}",
        n.members,
        n.gaps,
        optu(n.processes),
        optu(n.sockets),
        optu(n.listening),
        optu(n.unix_sockets),
        opt(n.files_indexed),
        n.alerts.map_or_else(
            || "not collected".to_string(),
            |a| format!("{a} ({} for this container)", opt(n.alerts_for_container))
        ),
        opt(n.audit_events)
    )?;
    let f = &v.findings;
    writeln!(
        out,
        "findings   {} critical, {} high, {} medium, {} low, {} info (forensic show BUNDLE suspicious)",
        f.critical, f.high, f.medium, f.low, f.info
    )?;
    if !v.top_findings.is_empty() {
        writeln!(out, "top findings:")?;
        print_findings(out, &v.top_findings)?;
    }
    for nc in &v.not_checked {
        writeln!(out, "not checked: {}", view::guard(nc))?;
    }
    for nc in &v.not_collected {
        writeln!(out, "{}", forensic_evidence::escape(nc.as_bytes()))?;
    }
    Ok(())
}

/// `command    ARGV` (each argument escaped, quoted when it holds a space or is empty) and what
/// else the runtime says the container runs with.
fn print_launch(out: &mut dyn Write, c: &forensic_analysis::summary::ContainerLaunch) -> Result<()> {
    let arg = |a: &String| {
        let e = forensic_evidence::escape(a.as_bytes());
        if e.is_empty() || e.contains([' ', '\'']) {
            format!("'{}'", e.replace('\'', "'\\''"))
        } else {
            e
        }
    };
    let argv: Vec<String> = c.argv.iter().map(arg).collect();
    writeln!(
        out,
        "command    {}",
        if argv.is_empty() {
            "(not recorded)".into()
        } else {
            argv.join(" ")
        }
    )?;
    let mut more = Vec::new();
    if let Some(u) = &c.user {
        more.push(format!("user {}", forensic_evidence::escape(u.as_bytes())));
    }
    if let Some(w) = &c.working_dir {
        more.push(format!("workdir {}", forensic_evidence::escape(w.as_bytes())));
    }
    if !c.exposed_ports.is_empty() {
        more.push(format!(
            "exposed ports {}",
            forensic_evidence::escape(c.exposed_ports.join(", ").as_bytes())
        ));
    }
    if let Some(s) = &c.started {
        more.push(format!("started {}", forensic_evidence::escape(s.as_bytes())));
    }
    if !more.is_empty() {
        writeln!(out, "runs       {}", more.join(" · "))?;
    }
    Ok(())
}

fn print_findings(out: &mut dyn Write, findings: &[Finding]) -> std::io::Result<()> {
    let mut current = None;
    for f in findings {
        if current != Some(f.severity) {
            current = Some(f.severity);
            writeln!(out, "{}", f.severity.as_str().to_uppercase())?;
        }
        writeln!(out, "  [{}] {}", f.kind, view::guard(&f.message))?;
        for e in &f.evidence {
            writeln!(out, "      evidence: {}", view::guard(e))?;
        }
    }
    Ok(())
}

pub fn print_suspicious(out: &mut dyn Write, v: &SuspiciousView) -> std::io::Result<()> {
    if v.findings.is_empty() {
        writeln!(out, "No findings.")?;
    } else {
        print_findings(out, &v.findings)?;
    }
    let c = &v.counts;
    writeln!(
        out,
        "\n{} critical, {} high, {} medium, {} low, {} info",
        c.critical, c.high, c.medium, c.low, c.info
    )?;
    for n in &v.not_checked {
        writeln!(out, "not checked: {}", view::guard(n))?;
    }
    Ok(())
}

pub fn print_processes(out: &mut dyn Write, v: &ProcessView) -> std::io::Result<()> {
    match &v.boot_time {
        Some(b) => writeln!(
            out,
            "boot time {} (whole seconds); start times from {}: ± half a second (the boot time is known to the second, a start to the clock tick)",
            view::esc(b),
            view::esc(v.evidence)
        )?,
        None => writeln!(
            out,
            "boot time unknown (no {}): start times are clock ticks since boot",
            forensic_analysis::members::BOOT
        )?,
    }
    writeln!(
        out,
        "{:>7} {:>7} {:>6} {:>5}  {:<30}  COMMAND",
        "PID", "PPID", "IN-CTR", "UID", "START"
    )?;
    for p in &v.processes {
        let start = match (&p.start_time, p.start_time_ticks) {
            (Some(t), _) => match (p.start_time_ns, p.start_time_uncertainty_ns) {
                (Some(ns), Some(u)) => {
                    forensic_analysis::time::format_approx(ns, forensic_analysis::processes::START_DIGITS, u)
                }
                _ => t.clone(),
            },
            (None, Some(ticks)) => format!("+{ticks} ticks"),
            (None, None) => "?".into(),
        };
        let indent = "  ".repeat(p.depth.min(32));
        let cmd = if p.cmdline.is_empty() {
            format!("[{}]", p.name.as_deref().unwrap_or("?"))
        } else {
            p.cmdline.join(" ")
        };
        writeln!(
            out,
            "{:>7} {:>7} {:>6} {:>5}  {start:<30}  {indent}{}",
            p.pid,
            p.ppid.map(|x| x.to_string()).unwrap_or_else(|| "?".into()),
            p.container_pid.map(|x| x.to_string()).unwrap_or_else(|| "?".into()),
            p.uid.map(|x| x.to_string()).unwrap_or_else(|| "?".into()),
            escape_bytes(cmd.as_bytes())
        )?;
        let mut detail = format!(
            "{:>63}{indent}  exe {}{} sha256 {}",
            "",
            escape_bytes(p.exe.as_deref().unwrap_or("?").as_bytes()),
            if p.exe_deleted { " (deleted)" } else { "" },
            p.exe_sha256.as_deref().unwrap_or("?")
        );
        if let Some(c) = &p.exe_copy {
            detail.push_str(&format!(" copy {}", view::esc(c)));
        }
        if !p.flags.is_empty() {
            let words: Vec<&str> = p.flags.iter().map(|f| f.as_str()).collect();
            detail.push_str(&format!("  flags: {}", words.join(", ")));
        }
        writeln!(out, "{detail}")?;
    }
    Ok(())
}

/// `addr:port` with port 0 as `*`, as `ss` prints an unconnected peer.
fn ss_addr(address: &str, port: u16, full: &str) -> String {
    if port != 0 {
        return full.to_string();
    }
    if address.contains(':') {
        format!("[{address}]:*")
    } else {
        format!("{address}:*")
    }
}

fn owners(o: &[Owner]) -> String {
    o.iter()
        .map(|o| format!("pid {} fd {} {}", o.pid, o.fd, o.cmdline))
        .collect::<Vec<_>>()
        .join("; ")
}

pub fn print_network(out: &mut dyn Write, v: &NetworkView) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<6} {:<12} {:<40} {:<40} {:>5} {:>9}  PROCESS",
        "PROTO", "STATE", "LOCAL", "REMOTE", "UID", "INODE"
    )?;
    for s in &v.inet {
        print_inet(out, s)?;
    }
    if !v.unix.is_empty() {
        writeln!(out, "\nUnix sockets:")?;
        for u in &v.unix {
            writeln!(
                out,
                "  {:>9} {:<9} {:<9} {}  {}",
                u.inode,
                u.kind,
                if u.listening { "LISTEN" } else { "-" },
                escape_bytes(u.path.as_deref().unwrap_or("-").as_bytes()),
                escape_bytes(owners(&u.owners).as_bytes())
            )?;
        }
    }
    writeln!(out, "\nowners from {}", view::guard(&v.owners_from))?;
    for u in &v.undecoded {
        writeln!(out, "not decoded: {}", view::guard(u))?;
    }
    Ok(())
}

fn print_inet(out: &mut dyn Write, s: &InetRow) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<6} {:<12} {:<40} {:<40} {:>5} {:>9}  {}",
        s.proto,
        s.state,
        ss_addr(&s.local_address, s.local_port, &s.local),
        ss_addr(&s.remote_address, s.remote_port, &s.remote),
        s.uid,
        s.inode,
        escape_bytes(owners(&s.owners).as_bytes())
    )
}
