//! What ran and what talked: the process tree of `show processes`
//! ([`forensic_analysis::processes::ProcessView`]) and the sockets with their owners of `show
//! network` ([`forensic_analysis::network::NetworkView`]), each table capped at `rows` lines.

use crate::html::Text;
use crate::page::{Table, plural};
use forensic_analysis::network::{NetworkView, Owner};
use forensic_analysis::processes::ProcessView;
use std::io::{self, Write};

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "?".into())
}

/// The process tree, parents before children, indented by depth.
pub fn processes(out: &mut dyn Write, v: Option<&ProcessView>, rows: usize) -> io::Result<()> {
    writeln!(out, "<section id=\"processes\" class=\"major\"><h2>Processes</h2>")?;
    let Some(v) = v else {
        return writeln!(out, "<p>The bundle has no process list.</p></section>");
    };
    writeln!(
        out,
        "<p class=\"lead\">{} from <code>{}</code>; host boot time {}. Start times are known to ±0.51 s.</p>",
        plural(v.processes.len() as u64, "process"),
        Text(v.evidence),
        Text(v.boot_time.as_deref().unwrap_or("unknown (start times not shown)"))
    )?;
    let table = Table::new(
        "Process tree (host PIDs; the command is indented under its parent)",
        &[
            "PID",
            "PPID",
            "in container",
            "UID (effective)",
            "started (UTC)",
            "command",
            "executable",
            "executable SHA-256",
            "flags",
        ],
    );
    table.capped(out, &v.processes, rows, "processes", |out, p| {
        let indent = "   ".repeat(p.depth.min(24));
        let branch = if p.depth > 0 { "└─ " } else { "" };
        let cmd = if p.cmdline.is_empty() {
            format!("[{}]", p.name.as_deref().unwrap_or("?"))
        } else {
            p.cmdline.join(" ")
        };
        let exe = match (&p.exe, p.exe_deleted) {
            (Some(e), true) => format!(
                "{} (DELETED{})",
                Text(e),
                p.exe_copy
                    .as_deref()
                    .map(|c| format!("; copy kept as {}", Text(c)))
                    .unwrap_or_default()
            ),
            (Some(e), false) => Text(e).to_string(),
            (None, _) => "?".into(),
        };
        let flags: Vec<&str> = p.flags.iter().map(|f| f.as_str()).collect();
        writeln!(
            out,
            "<tr><th scope=\"row\" class=\"num\">{}</th><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{} ({})</td>\
<td class=\"time\">{}</td><td class=\"tree wrap\">{indent}{branch}{}</td><td class=\"wrap\">{exe}</td><td class=\"hash\">{}</td><td>{}</td></tr>",
            p.pid,
            opt(p.ppid),
            opt(p.container_pid),
            opt(p.uid),
            opt(p.euid),
            Text(p.start_time.as_deref().unwrap_or("?")),
            Text(&cmd),
            Text(p.exe_sha256.as_deref().unwrap_or("")),
            Text(&flags.join(", "))
        )
    })?;
    writeln!(out, "</section>")
}

fn owners(list: &[Owner]) -> String {
    if list.is_empty() {
        return "no owning process found".into();
    }
    list.iter()
        .map(|o| format!("pid {} fd {}: {}", o.pid, o.fd, Text(&o.cmdline)))
        .collect::<Vec<_>>()
        .join("<br>")
}

/// Sockets with their owners.
pub fn network(out: &mut dyn Write, v: Option<&NetworkView>, rows: usize) -> io::Result<()> {
    writeln!(out, "<section id=\"network\"><h2>Network</h2>")?;
    let Some(v) = v else {
        return writeln!(out, "<p>The bundle has no network section.</p></section>");
    };
    writeln!(
        out,
        "<p class=\"lead\">{} and {} of the container's network namespace, decoded from the raw \
<code>/proc/net</code> tables; owners from {}.</p>",
        plural(v.inet.len() as u64, "inet socket"),
        plural(v.unix.len() as u64, "unix socket"),
        Text(&v.owners_from)
    )?;
    let inet = Table::new(
        "Inet sockets (TCP, UDP, raw)",
        &[
            "protocol", "local", "remote", "state", "UID", "inode", "owners", "evidence",
        ],
    );
    inet.capped(out, &v.inet, rows, "inet sockets", |out, s| {
        writeln!(
            out,
            "<tr><th scope=\"row\">{}</th><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{}</td><td class=\"num\">{}</td>\
<td class=\"num\">{}</td><td class=\"wrap\">{}</td><td class=\"wrap\">{}</td></tr>",
            Text(&s.proto),
            Text(&s.local),
            Text(&s.remote),
            Text(&s.state),
            s.uid,
            s.inode,
            owners(&s.owners),
            Text(&s.evidence)
        )
    })?;
    let unix = Table::new(
        "Unix sockets",
        &["inode", "type", "listening", "path", "owners", "evidence"],
    );
    unix.capped(out, &v.unix, rows, "unix sockets", |out, s| {
        writeln!(
            out,
            "<tr><th scope=\"row\" class=\"num\">{}</th><td>{}</td><td>{}</td><td class=\"wrap mono\">{}</td><td class=\"wrap\">{}</td><td class=\"wrap\">{}</td></tr>",
            s.inode,
            Text(&s.kind),
            if s.listening { "listening" } else { "no" },
            Text(s.path.as_deref().unwrap_or("(unbound)")),
            owners(&s.owners),
            Text(&s.evidence)
        )
    })?;
    if !v.undecoded.is_empty() {
        writeln!(out, "<h3>Lines that could not be decoded</h3><ul>")?;
        for u in v.undecoded.iter().take(rows) {
            writeln!(out, "<li>{}</li>", Text(u))?;
        }
        writeln!(out, "</ul>")?;
    }
    writeln!(out, "</section>")
}
