//! The container's files against its original image, as `forensic diff --image` reports them
//! ([`forensic_image::report::DiffReport`]): counts, the change list (capped at `rows`), what
//! could not be compared, and the diff's findings.

use crate::html::Text;
use crate::page::{self, Table, count, plural};
use forensic_bundle::manifest::Member;
use forensic_image::diff::ChangeKind;
use forensic_image::report::{DiffReport, EntryRecord};
use std::collections::HashMap;
use std::io::{self, Write};

fn change_word(k: ChangeKind) -> &'static str {
    match k {
        ChangeKind::Added => "added",
        ChangeKind::Changed => "changed",
        ChangeKind::Deleted => "deleted",
    }
}

/// One side's entry in a cell: `file 0755 0:0 1234 B sha256 …`.
fn entry(e: Option<&EntryRecord>) -> String {
    let Some(e) = e else {
        return "—".into();
    };
    let kind = serde_json::to_value(e.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let mut s = format!("{} {} {}:{} {} B", Text(&kind), Text(&e.mode), e.uid, e.gid, e.size);
    if let Some(h) = &e.sha256 {
        s.push_str(&format!("<br><span class=\"hash\">{}</span>", Text(h)));
    }
    if let Some(t) = &e.link_target {
        s.push_str(&format!(" → {}", Text(t)));
    }
    s
}

/// The diff section.
pub fn write(out: &mut dyn Write, d: &DiffReport, members: &HashMap<&str, &Member>, rows: usize) -> io::Result<()> {
    let s = &d.summary;
    writeln!(
        out,
        "<section id=\"diff\" class=\"major\"><h2>Changes against the image</h2>\n<p class=\"lead\">Compared with {} \
({}), as <code>{} diff</code> lists them: {} added, {} changed, {} deleted.</p>",
        Text(&d.image.description),
        count(d.image.entries as u64, "image entry", "image entries"),
        d.rules.as_str(),
        s.added,
        s.changed,
        s.deleted
    )?;
    for w in &d.warnings {
        writeln!(out, "<p class=\"more\">Warning: {}</p>", Text(w))?;
    }
    let table = Table::new("Changes, by path", &["change", "path", "why", "image", "container"]);
    table.capped(out, &d.changes, rows, "changes", |out, c| {
        let reasons: Vec<&str> = c.reasons.iter().map(|r| r.as_str()).collect();
        writeln!(
            out,
            "<tr><td><span class=\"word\">{}</span> {}</td><th scope=\"row\" class=\"wrap mono\">{}</th><td>{}</td><td class=\"wrap\">{}</td><td class=\"wrap\">{}</td></tr>",
            c.change.letter(),
            change_word(c.change),
            Text(&c.path),
            Text(&reasons.join(", ")),
            entry(c.image.as_ref()),
            entry(c.container.as_ref())
        )
    })?;
    if !d.not_compared.is_empty() {
        writeln!(out, "<h3>Not compared</h3><ul>")?;
        for n in &d.not_compared {
            writeln!(
                out,
                "<li>{} below <code>{}</code>: {}</li>",
                plural(n.image_entries, "image path"),
                Text(&n.path),
                Text(&n.why)
            )?;
        }
        writeln!(out, "</ul>")?;
    }
    writeln!(out, "<h3>Findings of the diff</h3>")?;
    page::findings(out, &d.findings, members)?;
    writeln!(out, "</section>")
}
