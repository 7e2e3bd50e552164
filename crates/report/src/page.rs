//! The page: its head (style, title), the case header, the verification verdict with every
//! check, sections and gaps, and the findings; the other parts are [`crate::custody`],
//! [`crate::activity`], [`crate::diff`] and [`crate::timeline`]. Every string from the bundle is
//! written through [`Text`].

use crate::html::Text;
use crate::{Model, style};
use forensic_analysis::findings::{Finding, Severity};
use forensic_analysis::summary::human_bytes;
use forensic_bundle::manifest::Member;
use forensic_bundle::verify::{FailureClass, Report};
use forensic_evidence::findings::evidence_member;
use std::collections::HashMap;
use std::io::{self, Write};

/// A table with a caption and column headers (`<th scope="col">`).
pub struct Table<'a> {
    caption: &'a str,
    columns: &'a [&'a str],
}

impl<'a> Table<'a> {
    /// A table; `caption` and `columns` are this crate's own words (escaped all the same).
    pub fn new(caption: &'a str, columns: &'a [&'a str]) -> Table<'a> {
        Table { caption, columns }
    }

    /// Writes `<table>`, the caption, the header row and `<tbody>`.
    pub fn open(&self, out: &mut dyn Write) -> io::Result<()> {
        write!(out, "<table><caption>{}</caption><thead><tr>", Text(self.caption))?;
        for c in self.columns {
            write!(out, "<th scope=\"col\">{}</th>", Text(c))?;
        }
        writeln!(out, "</tr></thead><tbody>")
    }

    /// Writes `</tbody></table>`.
    pub fn close(out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "</tbody></table>")
    }

    /// The whole table: its head, a row written by `row` for each of the first `cap` items, a
    /// last row saying how many more `what` there are ([`more_row`]), its end.
    pub fn capped<T>(
        &self,
        out: &mut dyn Write,
        items: &[T],
        cap: usize,
        what: &str,
        mut row: impl FnMut(&mut dyn Write, &T) -> io::Result<()>,
    ) -> io::Result<()> {
        self.open(out)?;
        for item in items.iter().take(cap) {
            row(out, item)?;
        }
        more_row(
            out,
            self.columns.len(),
            cap.min(items.len()) as u64,
            items.len() as u64,
            what,
        )?;
        Table::close(out)
    }
}

/// The last row of a capped table: `N more WHAT` when `shown < total`.
pub fn more_row(out: &mut dyn Write, columns: usize, shown: u64, total: u64, what: &str) -> io::Result<()> {
    if shown < total {
        writeln!(
            out,
            "<tr><td colspan=\"{columns}\" class=\"more\">{} more {} (--rows raises the cap)</td></tr>",
            total - shown,
            Text(what)
        )?;
    }
    Ok(())
}

/// `n` and the noun: `1 entry`, `2 entries`.
pub fn count(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// `1 event`, `2 events`.
pub fn plural(n: u64, one: &str) -> String {
    count(n, one, &format!("{one}s"))
}

/// A size as `1.2 MiB (1234567 bytes)`.
fn size(n: u64) -> String {
    if n < 1024 {
        human_bytes(n)
    } else {
        format!("{} ({n} bytes)", human_bytes(n))
    }
}

/// The verdict in words: `VERIFIED` or `DID NOT VERIFY`.
pub fn verdict_word(report: &Report) -> &'static str {
    if report.verified() {
        "VERIFIED"
    } else {
        "DID NOT VERIFY"
    }
}

/// The document's start: doctype, head with the style sheet, the banner of a bundle that did not
/// verify, the title and the table of contents.
pub fn head(out: &mut dyn Write, m: &Model<'_>) -> io::Result<()> {
    let manifest = m.report.manifest.as_ref();
    let bundle_id = manifest.map_or("unknown", |x| x.bundle_id.as_str());
    let digest = m
        .report
        .manifest_digest
        .map(|d| d.hex())
        .unwrap_or_else(|| "unknown".into());
    let case = manifest.and_then(|x| x.case.case_id.as_deref());
    let verified = m.report.verified();
    let running = if verified {
        "forensic report · VERIFIED".to_string()
    } else {
        format!(
            "DID NOT VERIFY ({}) — do not rely on this report",
            plural(m.report.failures.len() as u64, "problem")
        )
    };
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<meta name=\"generator\" content=\"{}\">\n<title>{}Forensic report{}: bundle {}</title>\n<style>{}{}</style>\n</head>\n<body>",
        Text(m.opts.tool),
        if verified { "" } else { "NOT VERIFIED: " },
        case.map(|c| format!(" of case {}", Text(c))).unwrap_or_default(),
        Text(bundle_id),
        style::STYLE,
        style::page_rules(&running, bundle_id, &digest),
    )?;
    writeln!(out, "<header>")?;
    if !verified {
        writeln!(
            out,
            "<p class=\"banner\" role=\"alert\">THIS BUNDLE DID NOT VERIFY ({}): the report was made anyway \
because of --force. Its evidence may have been altered; do not rely on it. The failures are under \
Verification.</p>",
            plural(m.report.failures.len() as u64, "problem")
        )?;
    }
    let class = if verified { "ok" } else { "bad" };
    writeln!(
        out,
        "<h1>Forensic report{}: <span class=\"verdict {class}\">{}</span></h1>\n\
<p class=\"lead\">Bundle <code>{}</code> (id <code>{}</code>), manifest SHA-256 <code class=\"hash\">{}</code>. \
Made by {} from the bundle alone, offline; this file loads nothing from anywhere.</p>",
        case.map(|c| format!(" of case {}", Text(c))).unwrap_or_default(),
        verdict_word(m.report),
        Text(m.opts.bundle),
        Text(bundle_id),
        Text(&digest),
        Text(m.opts.tool),
    )?;
    let mut toc = vec![
        ("case", "Case"),
        ("verification", "Verification"),
        ("custody", "Custody"),
        ("sections", "Sections and gaps"),
        ("findings", "Findings"),
        ("processes", "Processes"),
        ("network", "Network"),
    ];
    if m.diff.is_some() {
        toc.push(("diff", "Changes against the image"));
    }
    toc.push(("timeline", "Timeline"));
    write!(out, "<nav class=\"toc\" aria-label=\"Contents\"><ol>")?;
    for (id, name) in toc {
        write!(out, "<li><a href=\"#{id}\">{name}</a></li>")?;
    }
    writeln!(out, "</ol></nav>\n</header>\n<main>")
}

/// One fact of a `<dl>`, when there is a value.
fn fact(out: &mut dyn Write, name: &str, value: Option<&str>) -> io::Result<()> {
    if let Some(v) = value.filter(|v| !v.is_empty()) {
        writeln!(out, "<dt>{}</dt><dd>{}</dd>", Text(name), Text(v))?;
    }
    Ok(())
}

/// The case header: case record, bundle, collector, target and what the container runs.
pub fn case(out: &mut dyn Write, m: &Model<'_>) -> io::Result<()> {
    writeln!(out, "<section id=\"case\"><h2>Case</h2><dl class=\"facts\">")?;
    let Some(x) = m.report.manifest.as_ref() else {
        return writeln!(out, "</dl><p>The manifest could not be read.</p></section>");
    };
    let c = &x.case;
    fact(out, "case id", c.case_id.as_deref())?;
    fact(out, "evidence number", c.evidence_number.as_deref())?;
    fact(out, "examiner", c.examiner.as_deref())?;
    fact(out, "case notes", c.notes.as_deref())?;
    fact(out, "bundle id", Some(&x.bundle_id))?;
    fact(out, "bundle file", Some(m.opts.bundle))?;
    fact(out, "bundle created", Some(x.created.as_str()))?;
    let digest = m.report.manifest_digest.map(|d| d.hex());
    fact(out, "manifest SHA-256", digest.as_deref())?;
    let head = m.report.custody_head.map(|d| d.hex());
    fact(out, "custody head SHA-256", head.as_deref())?;
    let collector = format!(
        "{} {}{}{}",
        x.collector.tool,
        x.collector.version,
        x.collector
            .host
            .as_deref()
            .map(|h| format!(" on {h}"))
            .unwrap_or_default(),
        x.collector
            .kernel
            .as_deref()
            .map(|k| format!(" (kernel {k})"))
            .unwrap_or_default()
    );
    fact(out, "collector", Some(&collector))?;
    let t = &x.target;
    fact(out, "target runtime", t.runtime.as_deref())?;
    fact(out, "container id", t.container_id.as_deref())?;
    fact(out, "container name", t.container_name.as_deref())?;
    fact(out, "pod", t.pod.as_deref())?;
    fact(out, "namespace", t.namespace.as_deref())?;
    fact(out, "node", t.node.as_deref())?;
    fact(out, "main process (host PID)", t.pid.map(|p| p.to_string()).as_deref())?;
    fact(out, "image", t.image_ref.as_deref())?;
    fact(out, "image digest", t.image_digest.as_deref())?;
    if let Some(l) = &m.summary.container {
        fact(out, "runs", Some(&l.argv.join(" ")))?;
        fact(out, "as user", l.user.as_deref())?;
        fact(out, "working directory", l.working_dir.as_deref())?;
        fact(out, "exposed ports", Some(&l.exposed_ports.join(", ")))?;
        fact(out, "started", l.started.as_deref())?;
    }
    writeln!(out, "</dl></section>")
}

/// Why a class found nothing, when it was not (fully) checked.
fn not_checked(m: &Model<'_>, class: FailureClass) -> Option<&'static str> {
    let r = m.report;
    if r.manifest.is_none() {
        return Some("not reached: verification stopped at an earlier failure");
    }
    let custody_class = FailureClass::ALL
        .iter()
        .skip_while(|c| **c != FailureClass::MalformedCustody)
        .any(|c| *c == class);
    if custody_class && class != FailureClass::MalformedCustody && r.custody.is_empty() {
        return Some("not reached: the custody log could not be read");
    }
    match class {
        FailureClass::UntrustedSigner if !m.opts.trust_given => {
            Some("not checked: no --trust key given, so any key may have signed")
        }
        FailureClass::TruncatedCustody => Some("not checked: no recorded head given (forensic verify --expect-head)"),
        FailureClass::MalformedTimestamp
        | FailureClass::TimestampImprint
        | FailureClass::TimestampSignature
        | FailureClass::UntrustedTimestamp
        | FailureClass::TimestampExpired
        | FailureClass::TimeAfterTimestamp
            if !m.opts.tsa_trust_given =>
        {
            Some("not checked: no --tsa-trust certificates given (tokens shown, not trusted)")
        }
        _ => None,
    }
}

/// The verdict, every failure, and every check of SPEC §11 by the failure class it raises.
pub fn verification(out: &mut dyn Write, m: &Model<'_>) -> io::Result<()> {
    let r = m.report;
    let members = r.manifest.as_ref().map_or(0, |x| x.members.len()) as u64;
    writeln!(out, "<section id=\"verification\"><h2>Verification</h2>")?;
    if r.verified() {
        writeln!(
            out,
            "<p><span class=\"verdict ok\">VERIFIED</span> {} match the manifest ({} hashed); the seal and {} check{}.</p>",
            plural(members, "member"),
            size(r.bytes_checked),
            count(r.custody.len() as u64, "custody entry", "custody entries"),
            if m.opts.trust_given {
                ", every signer trusted"
            } else {
                ""
            }
        )?;
    } else {
        writeln!(
            out,
            "<p><span class=\"verdict bad\">DID NOT VERIFY</span> {} found. The report below was made \
anyway (--force); every member read was checked again, and what did not match is listed under warnings.</p>",
            plural(r.failures.len() as u64, "problem")
        )?;
        Table::new("Failures", &["class", "member", "custody entry", "what is wrong"]).open(out)?;
        for f in &r.failures {
            writeln!(
                out,
                "<tr><th scope=\"row\">{}</th><td class=\"wrap\">{}</td><td>{}</td><td class=\"wrap\">{}</td></tr>",
                Text(f.class.as_str()),
                Text(f.member.as_deref().unwrap_or("")),
                f.entry.map(|e| e.to_string()).unwrap_or_default(),
                Text(&f.message)
            )?;
        }
        Table::close(out)?;
    }
    if !m.warnings.is_empty() {
        writeln!(out, "<h3>Warnings from reading the evidence</h3><ul>")?;
        for w in &m.warnings {
            writeln!(out, "<li>{}</li>", Text(w))?;
        }
        writeln!(out, "</ul>")?;
    }
    Table::new(
        "Every check (SPEC §11), by the failure class it raises (SPEC §12)",
        &["check", "what it catches", "result"],
    )
    .open(out)?;
    for class in FailureClass::ALL {
        let found = r.failures.iter().filter(|f| f.class == class).count() as u64;
        let result = if found > 0 {
            format!(
                "<span class=\"word failed\">FAILED</span>: {} found",
                plural(found, "problem")
            )
        } else if let Some(why) = not_checked(m, class) {
            format!("<span class=\"word skipped\">{}</span>", Text(why))
        } else {
            "<span class=\"word passed\">passed</span>".to_string()
        };
        writeln!(
            out,
            "<tr><th scope=\"row\"><code>{}</code></th><td>{}</td><td>{result}</td></tr>",
            class.as_str(),
            Text(class.meaning())
        )?;
    }
    Table::close(out)?;
    writeln!(out, "</section>")
}

/// Sections with member counts, sizes and times; counts; gaps; what could not be checked.
pub fn sections(out: &mut dyn Write, m: &Model<'_>) -> io::Result<()> {
    let s = &m.summary;
    writeln!(
        out,
        "<section id=\"sections\"><h2>Sections and gaps</h2>\n<p class=\"lead\">{} in {}, collected in the \
order of volatility.</p>",
        plural(s.counts.members as u64, "member"),
        plural(s.sections.len() as u64, "section")
    )?;
    Table::new(
        "Sections",
        &[
            "#",
            "section",
            "members",
            "bytes",
            "collection started (UTC)",
            "finished (UTC)",
        ],
    )
    .open(out)?;
    for l in &s.sections {
        writeln!(
            out,
            "<tr><td class=\"num\">{}</td><th scope=\"row\">{}</th><td class=\"num\">{}</td><td class=\"num\">{}</td>\
<td class=\"time\">{}</td><td class=\"time\">{}</td></tr>",
            l.number,
            Text(&l.name),
            l.members,
            Text(&size(l.bytes)),
            Text(&l.started),
            Text(&l.finished)
        )?;
    }
    Table::close(out)?;
    let c = &s.counts;
    let opt = |v: Option<u64>| v.map_or_else(|| "not in the bundle".to_string(), |n| n.to_string());
    let as_u64 = |v: Option<usize>| v.map(|n| n as u64);
    writeln!(out, "<dl class=\"facts\">")?;
    for (name, value) in [
        ("processes", opt(as_u64(c.processes))),
        ("inet sockets", opt(as_u64(c.sockets))),
        ("of them listening", opt(as_u64(c.listening))),
        ("unix sockets", opt(as_u64(c.unix_sockets))),
        ("files indexed", opt(c.files_indexed)),
        (
            "Falco alerts (of this container)",
            match (c.alerts, c.alerts_for_container) {
                (Some(a), Some(mine)) => format!("{a} ({mine})"),
                _ => "not in the bundle".into(),
            },
        ),
        ("Kubernetes audit events", opt(c.audit_events)),
    ] {
        fact(out, name, Some(&value))?;
    }
    writeln!(out, "</dl>")?;
    let gaps = m
        .report
        .manifest
        .as_ref()
        .map(|x| x.gaps.as_slice())
        .unwrap_or_default();
    writeln!(out, "<h3>Gaps: what was not collected</h3>")?;
    if gaps.is_empty() {
        writeln!(out, "<p>None: the collector recorded no gap.</p>")?;
    } else {
        Table::new("Gaps the collector recorded", &["section", "what", "why"]).open(out)?;
        for g in gaps {
            writeln!(
                out,
                "<tr><th scope=\"row\">{}</th><td class=\"wrap\">{}</td><td class=\"wrap\">{}</td></tr>",
                g.section.name(),
                Text(&g.what),
                Text(&g.reason)
            )?;
        }
        Table::close(out)?;
    }
    if !s.not_checked.is_empty() {
        writeln!(out, "<h3>What the analysis could not check</h3><ul>")?;
        for n in &s.not_checked {
            writeln!(out, "<li>{}</li>", Text(n))?;
        }
        writeln!(out, "</ul>")?;
    }
    writeln!(out, "</section>")
}

/// Findings grouped by severity, most urgent first, each with its evidence members and their
/// SHA-256.
pub fn findings(out: &mut dyn Write, findings: &[Finding], members: &HashMap<&str, &Member>) -> io::Result<()> {
    Table::new("Findings by severity", &["severity", "findings"]).open(out)?;
    for sev in Severity::ALL {
        let n = findings.iter().filter(|f| f.severity == sev).count();
        writeln!(
            out,
            "<tr><th scope=\"row\"><span class=\"sev sev-{0}\">{0}</span></th><td class=\"num\">{n}</td></tr>",
            sev.as_str()
        )?;
    }
    Table::close(out)?;
    for sev in Severity::ALL {
        let of: Vec<&Finding> = findings.iter().filter(|f| f.severity == sev).collect();
        if of.is_empty() {
            continue;
        }
        writeln!(out, "<h3>{} ({})</h3>", capitalised(sev.as_str()), of.len())?;
        for f in of {
            finding(out, f, members)?;
        }
    }
    Ok(())
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn finding(out: &mut dyn Write, f: &Finding, members: &HashMap<&str, &Member>) -> io::Result<()> {
    let sev = f.severity.as_str();
    writeln!(
        out,
        "<article class=\"finding {sev}\"><p><span class=\"sev sev-{sev}\">{sev}</span> <code>{}</code> {}</p>",
        f.kind.as_str(),
        Text(&f.message)
    )?;
    if let Some(p) = &f.path {
        writeln!(out, "<p>Path: <code>{}</code></p>", Text(p))?;
    }
    Table::new("Evidence", &["where it shows", "bundle member", "size", "SHA-256"]).open(out)?;
    for e in &f.evidence {
        let member = evidence_member(e, |name| members.contains_key(name)).and_then(|n| members.get(n));
        match member {
            Some(mm) => writeln!(
                out,
                "<tr><td class=\"wrap\">{}</td><td class=\"wrap\"><code>{}</code></td><td class=\"num\">{}</td><td class=\"hash\">{}</td></tr>",
                Text(e),
                Text(&mm.name),
                mm.size,
                mm.sha256.hex()
            )?,
            None => writeln!(
                out,
                "<tr><td class=\"wrap\">{}</td><td colspan=\"3\" class=\"more\">not a bundle member</td></tr>",
                Text(e)
            )?,
        }
    }
    Table::close(out)?;
    writeln!(out, "</article>")
}

/// The end of the document.
pub fn foot(out: &mut dyn Write, m: &Model<'_>) -> io::Result<()> {
    writeln!(
        out,
        "</main>\n<footer><p>{} — report of <code>{}</code>, bundle {}, manifest SHA-256 <code class=\"hash\">{}</code>. \
Verify the bundle itself with <code>forensic verify</code>; this report is a reading of it, not the evidence.</p></footer>\n</body>\n</html>",
        Text(m.opts.tool),
        Text(m.opts.bundle),
        Text(m.report.manifest.as_ref().map_or("unknown", |x| x.bundle_id.as_str())),
        m.report
            .manifest_digest
            .map(|d| d.hex())
            .unwrap_or_else(|| "unknown".into())
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::FailureClass;

    /// The checks are listed in SPEC §12's words: its table, row for row, is every class with
    /// the meaning [`FailureClass::meaning`] gives.
    #[test]
    fn every_check_is_named_in_the_words_of_spec_section_12() {
        let spec = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../format-spec/SPEC.md")).unwrap();
        let table = spec
            .split("## 12. Failure classes")
            .nth(1)
            .unwrap()
            .split("\n## ")
            .next()
            .unwrap();
        let rows: Vec<&str> = table.lines().filter(|l| l.starts_with("| `")).collect();
        let ours: Vec<String> = FailureClass::ALL
            .iter()
            .map(|c| format!("| `{}` | {} |", c.as_str(), c.meaning()))
            .collect();
        assert_eq!(ours, rows);
    }
}
