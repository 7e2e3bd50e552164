//! The text form of `forensic audit`: a heading, an aligned table, flags, and what was read.

use forensic_audit::exec::shell_words;
use forensic_audit::rbac::FlagKind;
use forensic_audit::{AuditReport, Match, QueryKind, SourceKind};
use std::borrow::Cow;
use std::io::Write;

/// Text from the log for the terminal: the one display escaping ([`forensic_evidence::escape`]).
/// Every string shown comes from the log, so from whoever made the request.
fn clean(s: &str) -> Cow<'_, str> {
    if s.chars()
        .any(|c| c == '\\' || forensic_bundle::name::is_unsafe_display(c))
    {
        Cow::Owned(forensic_evidence::escape(s.as_bytes()))
    } else {
        Cow::Borrowed(s)
    }
}

/// Prints a table with aligned columns (the last one is not padded). Rows are made twice, once
/// to measure the columns and once to print, so that no more than one is held.
fn print_table<I: Iterator<Item = Vec<String>>>(
    out: &mut impl Write,
    headers: &[&str],
    rows: impl Fn() -> I,
) -> std::io::Result<()> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows() {
        for (w, cell) in widths.iter_mut().zip(&row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[&str]| -> String {
        let last = cells.len().saturating_sub(1);
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            s.push_str(c);
            if i != last {
                s.push_str(&" ".repeat(w.saturating_sub(c.chars().count()) + 2));
            }
        }
        s.trim_end().to_string()
    };
    writeln!(out, "{}", line(headers))?;
    for row in rows() {
        writeln!(out, "{}", line(&row.iter().map(String::as_str).collect::<Vec<_>>()))?;
    }
    Ok(())
}

fn or_dash(s: Option<&str>) -> String {
    match s {
        Some(s) if !s.is_empty() => clean(s).into_owned(),
        _ => "-".to_string(),
    }
}

fn user(m: &Match) -> String {
    let who = or_dash(Some(&m.user.username));
    match &m.impersonated_user {
        Some(as_user) => format!("{who} (as {})", or_dash(Some(&as_user.username))),
        None => who,
    }
}

fn ips(m: &Match) -> String {
    if m.source_ips.is_empty() {
        "-".to_string()
    } else {
        clean(&m.source_ips.join(",")).into_owned()
    }
}

fn code(m: &Match) -> String {
    m.code.map_or_else(|| "-".to_string(), |c| c.to_string())
}

fn time(m: &Match) -> String {
    or_dash(m.time.as_deref())
}

fn resource(m: &Match) -> String {
    match (&m.resource, &m.subresource) {
        (Some(r), Some(s)) => clean(&format!("{r}/{s}")).into_owned(),
        (Some(r), None) => clean(r).into_owned(),
        _ => "-".to_string(),
    }
}

fn ns_name(m: &Match) -> String {
    match (&m.namespace, &m.name) {
        (Some(ns), Some(n)) => clean(&format!("{ns}/{n}")).into_owned(),
        (None, Some(n)) => clean(n).into_owned(),
        (Some(ns), None) => clean(&format!("{ns}/-")).into_owned(),
        (None, None) => "-".to_string(),
    }
}

fn headers(kind: QueryKind) -> &'static [&'static str] {
    match kind {
        QueryKind::Timeline => &["TIME", "VERB", "RESOURCE", "NAMESPACE", "USER", "SOURCE IP", "CODE"],
        QueryKind::Creator => &["TIME", "POD", "USER", "GROUPS", "SOURCE IP", "CODE"],
        QueryKind::Exec => &[
            "TIME",
            "POD",
            "CONTAINER",
            "USER",
            "SOURCE IP",
            "CODE",
            "SESSION",
            "COMMAND",
        ],
        QueryKind::Secrets => &["TIME", "VERB", "SECRET", "USER", "SOURCE IP", "CODE"],
        QueryKind::Requests => &["TIME", "VERB", "RESOURCE", "OBJECT", "USER", "SOURCE IP", "CODE"],
        QueryKind::Rbac => &[
            "TIME",
            "VERB",
            "KIND",
            "NAME",
            "USER",
            "SOURCE IP",
            "CODE",
            "FLAGS",
            "GRANTS",
        ],
        _ => &[
            "TIME",
            "USER",
            "AS",
            "AS GROUPS",
            "VERB",
            "RESOURCE",
            "OBJECT",
            "SOURCE IP",
            "CODE",
        ],
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "-".to_string()
    } else {
        clean(&items.join(",")).into_owned()
    }
}

/// One result's row for the query's table.
fn cells(kind: QueryKind, m: &Match) -> Vec<String> {
    match kind {
        // A pod's timeline names the pod in its heading; every request names its object.
        QueryKind::Timeline | QueryKind::Requests => vec![
            time(m),
            clean(&m.verb).into_owned(),
            resource(m),
            if kind == QueryKind::Timeline {
                or_dash(m.namespace.as_deref())
            } else {
                ns_name(m)
            },
            user(m),
            ips(m),
            code(m),
        ],
        QueryKind::Creator => vec![time(m), ns_name(m), user(m), list(&m.user.groups), ips(m), code(m)],
        QueryKind::Exec => {
            let e = m.exec.clone().unwrap_or_default();
            let mut session = e.session.clone();
            let flags: String = [(e.stdin, 'i'), (e.tty, 't')]
                .iter()
                .filter(|f| f.0)
                .map(|f| f.1)
                .collect();
            if !flags.is_empty() {
                session.push_str(&format!(" -{flags}"));
            }
            let command = if e.command.is_empty() {
                "-".to_string()
            } else {
                clean(&shell_words(&e.command)).into_owned()
            };
            vec![
                time(m),
                ns_name(m),
                or_dash(e.container.as_deref()),
                user(m),
                ips(m),
                code(m),
                clean(&session).into_owned(),
                command,
            ]
        }
        QueryKind::Secrets => vec![
            time(m),
            clean(&m.verb).into_owned(),
            ns_name(m),
            user(m),
            ips(m),
            code(m),
        ],
        QueryKind::Rbac => {
            let d = m.rbac.clone().unwrap_or_default();
            let mut flags: Vec<&str> = d
                .flags
                .iter()
                .map(|f| match f.flag {
                    FlagKind::ClusterAdmin => "CLUSTER-ADMIN",
                    _ => "WILDCARD",
                })
                .collect();
            flags.dedup();
            let flags = if flags.is_empty() {
                "-".to_string()
            } else {
                flags.join(",")
            };
            vec![
                time(m),
                clean(&m.verb).into_owned(),
                clean(&d.kind).into_owned(),
                ns_name(m),
                user(m),
                ips(m),
                code(m),
                flags,
                grants(&d),
            ]
        }
        _ => {
            let as_user = m.impersonated_user.clone().unwrap_or_default();
            vec![
                time(m),
                or_dash(Some(&m.user.username)),
                or_dash(Some(&as_user.username)),
                list(&as_user.groups),
                clean(&m.verb).into_owned(),
                resource(m),
                ns_name(m),
                ips(m),
                code(m),
            ]
        }
    }
}

/// What a binding or role grants, in one cell.
fn grants(d: &forensic_audit::rbac::RbacDetail) -> String {
    if let Some(rr) = &d.role_ref {
        let subjects: Vec<String> = d
            .subjects
            .iter()
            .map(|s| match &s.namespace {
                Some(ns) => format!("{} {ns}/{}", s.kind, s.name),
                None => format!("{} {}", s.kind, s.name),
            })
            .collect();
        return clean(&format!(
            "{} {} -> {}",
            rr.kind,
            rr.name,
            if subjects.is_empty() {
                "no subjects".to_string()
            } else {
                subjects.join(", ")
            }
        ))
        .into_owned();
    }
    if !d.rules.is_empty() {
        return format!("{} rule{}", d.rules.len(), if d.rules.len() == 1 { "" } else { "s" });
    }
    match d.object.as_deref() {
        Some(o) if o.contains("patch") => "(patch)".to_string(),
        Some(_) => "-".to_string(),
        None => "(object not logged)".to_string(),
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn heading(report: &AuditReport) -> String {
    let q = &report.query;
    let ns = q
        .namespace
        .as_deref()
        .map_or_else(|| "every namespace".to_string(), |n| format!("namespace {}", clean(n)));
    let user = q
        .user
        .as_deref()
        .map(|u| format!(", user {}", clean(u)))
        .unwrap_or_default();
    let pod = q.pod.as_deref().map(|p| clean(p).into_owned()).unwrap_or_default();
    match q.kind {
        QueryKind::Timeline => format!("Timeline of pod {pod} ({ns})"),
        QueryKind::Creator => format!("Creation of pod {pod} ({ns})"),
        QueryKind::Exec if q.pod.is_some() => format!("exec/attach sessions into pod {pod} ({ns}{user})"),
        QueryKind::Exec => format!("exec/attach sessions ({ns}{user})"),
        QueryKind::Secrets => format!("Secret reads and writes ({ns}{user})"),
        QueryKind::Rbac => format!("RBAC changes ({ns}{user})"),
        QueryKind::Requests => format!("Every request ({ns}{user})"),
        _ => format!("Requests made as another user ({ns}{user})"),
    }
}

/// How many skipped records the text output lists.
const SKIPS_SHOWN: usize = 20;

pub(super) fn print_text(out: &mut impl Write, report: &AuditReport) -> std::io::Result<()> {
    if report.source.forced {
        writeln!(
            out,
            "WARNING: this evidence does not check (see below); treat every result as unreliable."
        )?;
    }
    writeln!(out, "{}", heading(report))?;
    let kind = report.query.kind;
    if report.results.is_empty() {
        writeln!(out, "  no matching requests")?;
    } else {
        print_table(out, headers(kind), || {
            report.results.iter().map(move |m| cells(kind, m))
        })?;
    }
    for (m, f) in report
        .results
        .iter()
        .flat_map(|m| m.rbac.iter().flat_map(move |d| d.flags.iter().map(move |f| (m, f))))
    {
        writeln!(
            out,
            "  flagged: {} {} {} by {}: {}",
            time(m),
            clean(&m.verb),
            ns_name(m),
            user(m),
            clean(&f.detail)
        )?;
    }
    writeln!(out)?;
    print_summary(out, report)
}

fn print_summary(out: &mut impl Write, report: &AuditReport) -> std::io::Result<()> {
    let s = &report.stats;
    let src = &report.source;
    let status = match (src.kind, src.verified) {
        (SourceKind::Bundle, Some(true)) => "bundle, verified",
        (SourceKind::Bundle, _) => "bundle, DID NOT VERIFY (forced)",
        (SourceKind::Stdin, _) => "standard input",
        _ => "file",
    };
    writeln!(out, "source   {} ({status})", clean(&src.path))?;
    for f in &src.verification_failures {
        writeln!(out, "         {}: {}", f.class, clean(&f.message))?;
    }
    for i in &report.inputs {
        let check = match i.intact {
            Some(true) => "SHA-256 matches the sealed manifest".to_string(),
            Some(false) => format!(
                "DIFFERS from the sealed manifest ({})",
                i.expected_sha256.as_deref().unwrap_or("?")
            ),
            None => format!("SHA-256 {}", i.sha256),
        };
        let comp = match i.compression {
            forensic_audit::Compression::Gzip => "gzip, ",
            _ => "",
        };
        let layout = match i.layout {
            forensic_audit::Layout::JsonDocument => "JSON document",
            _ => "JSON lines",
        };
        writeln!(
            out,
            "input    {}: {comp}{layout}, {} bytes, {check}",
            clean(&i.name),
            i.bytes
        )?;
    }
    let versions: Vec<String> = s
        .api_versions
        .iter()
        .map(|(v, n)| match v.as_str() {
            "(none)" => format!("without apiVersion {n}"),
            v => format!("{} {n}", clean(v)),
        })
        .collect();
    let mut read = format!(
        "read     {}, {}, {}",
        plural(s.lines, "line", "lines"),
        plural(s.records, "record", "records"),
        plural(s.events, "event", "events")
    );
    if !versions.is_empty() {
        read.push_str(&format!(" ({})", versions.join(", ")));
    }
    if !s.wrapped.is_empty() {
        let w: Vec<String> = s.wrapped.iter().map(|(k, n)| format!("{k} {n}")).collect();
        read.push_str(&format!("; wrapped: {}", w.join(", ")));
    }
    if s.blank > 0 {
        read.push_str(&format!("; {}", plural(s.blank, "blank line", "blank lines")));
    }
    writeln!(out, "{read}")?;
    writeln!(
        out,
        "matched  {} in {} ({} merged into another stage of the same request)",
        plural(report.results.len() as u64, "request", "requests"),
        plural(s.matched, "event", "events"),
        s.merged
    )?;
    if s.results_dropped > 0 {
        writeln!(
            out,
            "         INCOMPLETE: {} more matching requests were not kept (--max-results)",
            s.results_dropped
        )?;
    }
    let by: Vec<String> = s.skipped_by_reason.iter().map(|(r, n)| format!("{r} {n}")).collect();
    if s.skipped == 0 {
        writeln!(out, "skipped  0 records")?;
    } else {
        writeln!(
            out,
            "skipped  {}: {}",
            plural(s.skipped, "record", "records"),
            by.join(", ")
        )?;
    }
    let many_inputs = report.inputs.len() > 1;
    let at = |k: &forensic_audit::Skipped| match report.inputs.get(k.input) {
        Some(i) if many_inputs => format!("{} line {}", clean(&i.name), k.line),
        _ => format!("line {}", k.line),
    };
    if s.skipped as usize <= SKIPS_SHOWN && s.skipped_records.len() as u64 == s.skipped {
        for k in &s.skipped_records {
            writeln!(out, "  {}: {}: {}", at(k), k.reason, clean(&k.detail))?;
        }
    } else {
        // Too many to list: the first of each reason (--json has the first ones in full).
        for reason in s.skipped_by_reason.keys() {
            if let Some(k) = s.skipped_records.iter().find(|k| k.reason == *reason) {
                writeln!(out, "  {reason}, first at {}: {}", at(k), clean(&k.detail))?;
            }
        }
        writeln!(
            out,
            "  (--json lists the first {} skipped records)",
            s.skipped_records.len()
        )?;
    }
    Ok(())
}
