//! The custody chain: the holders in sequence (one box per run of entries signed by the same
//! key, an arrow for each hand-over), then every entry with its signature status, key
//! fingerprint, trusted time and time-stamp tokens (SPEC §9, §9.6), as `forensic custody log`
//! reports them ([`forensic_bundle::verify::CustodyRecord`]).

use crate::html::Text;
use crate::page::{Table, count};
use forensic_bundle::verify::CustodyRecord;
use std::io::{self, Write};

/// The signature's status in words.
fn signature(c: &CustodyRecord) -> &'static str {
    if c.signature_ok {
        "signature valid"
    } else {
        "SIGNATURE INVALID"
    }
}

/// The signer's trust in words.
fn trust(c: &CustodyRecord) -> &'static str {
    match c.trusted {
        Some(true) => "key trusted",
        Some(false) => "KEY NOT TRUSTED",
        None => "trust not checked (no --trust)",
    }
}

/// A token's state in words.
fn token_state(verified: Option<bool>) -> &'static str {
    match verified {
        Some(true) => "verified",
        Some(false) => "FAILED",
        None => "not judged (no --tsa-trust)",
    }
}

fn class(ok: bool) -> &'static str {
    if ok { "passed" } else { "failed" }
}

/// The custody section.
pub fn write(out: &mut dyn Write, records: &[CustodyRecord]) -> io::Result<()> {
    writeln!(
        out,
        "<section id=\"custody\"><h2>Custody</h2>\n<p class=\"lead\">{}: who held the bundle, in order. Each \
entry is signed over the one before it; a trusted time comes from an RFC 3161 time-stamp token over the \
entry, when one was verified.</p>",
        count(records.len() as u64, "custody entry", "custody entries")
    )?;
    if records.is_empty() {
        return writeln!(out, "<p>The custody log could not be read.</p></section>");
    }
    chain(out, records)?;
    table(out, records)?;
    tokens(out, records)?;
    writeln!(out, "</section>")
}

/// The holders as boxes in sequence.
fn chain(out: &mut dyn Write, records: &[CustodyRecord]) -> io::Result<()> {
    let mut groups: Vec<Vec<(usize, &CustodyRecord)>> = Vec::new();
    for (i, c) in records.iter().enumerate() {
        match groups.last_mut() {
            Some(g) if g.last().is_some_and(|(_, l)| l.signer == c.signer) => g.push((i, c)),
            _ => groups.push(vec![(i, c)]),
        }
    }
    writeln!(
        out,
        "<div class=\"chain\" role=\"list\" aria-label=\"Holders of the bundle, in order\">"
    )?;
    for (n, g) in groups.iter().enumerate() {
        if let Some(before) = n.checked_sub(1).and_then(|b| groups.get(b)) {
            writeln!(
                out,
                "<div class=\"hand\" aria-hidden=\"true\"><span class=\"arrow\">→</span>{} then {}</div>",
                Text(
                    before
                        .last()
                        .map(|(_, c)| c.payload.action.as_str())
                        .unwrap_or_default()
                ),
                Text(g.first().map(|(_, c)| c.payload.action.as_str()).unwrap_or_default())
            )?;
        }
        let Some((_, first)) = g.first() else { continue };
        let mut names: Vec<&str> = g.iter().map(|(_, c)| c.payload.actor.name.as_str()).collect();
        names.dedup();
        let all_ok = g.iter().all(|(_, c)| c.signature_ok && c.trusted != Some(false));
        writeln!(
            out,
            "<div class=\"holder\" role=\"listitem\"><h3>Holder {}: {}</h3><div class=\"fp\">key {}</div>\
<div class=\"word {}\">{}</div><ol>",
            n + 1,
            Text(&names.join(", ")),
            first.signer.hex(),
            class(all_ok),
            if all_ok {
                "every signature valid"
            } else {
                "A SIGNATURE DOES NOT CHECK"
            }
        )?;
        for (i, c) in g {
            let p = &c.payload;
            write!(
                out,
                "<li value=\"{i}\"><strong>{}</strong> {} — <span class=\"word {}\">{}</span>, {}",
                Text(&p.action),
                Text(p.time.as_str()),
                class(c.signature_ok),
                signature(c),
                trust(c)
            )?;
            if let Some(t) = &c.trusted_time {
                write!(out, "; trusted time {}", Text(t.as_str()))?;
            }
            if let Some(r) = &p.recipient {
                write!(out, "; to key <span class=\"fp\">{}</span>", r.hex())?;
            }
            if let Some(note) = &p.note {
                write!(out, "; note: “{}”", Text(note))?;
            }
            writeln!(out, "</li>")?;
        }
        writeln!(out, "</ol></div>")?;
    }
    writeln!(out, "</div>")
}

/// Every entry with all its fields.
fn table(out: &mut dyn Write, records: &[CustodyRecord]) -> io::Result<()> {
    Table::new(
        "Custody entries",
        &[
            "#",
            "action",
            "signed time (UTC)",
            "actor",
            "key fingerprint (SHA-256)",
            "signature",
            "trust",
            "trusted time (RFC 3161)",
            "entry SHA-256",
        ],
    )
    .open(out)?;
    for (i, c) in records.iter().enumerate() {
        let p = &c.payload;
        writeln!(
            out,
            "<tr><th scope=\"row\">{i}</th><td>{}</td><td class=\"time\">{}</td><td class=\"wrap\">{}</td>\
<td class=\"fp\">{}</td><td><span class=\"word {}\">{}</span></td><td>{}</td><td class=\"time\">{}</td><td class=\"hash\">{}</td></tr>",
            Text(&p.action),
            Text(p.time.as_str()),
            Text(&p.actor.name),
            c.signer.hex(),
            class(c.signature_ok),
            signature(c),
            trust(c),
            c.trusted_time
                .as_ref()
                .map_or_else(|| "none".to_string(), |t| Text(t.as_str()).to_string()),
            c.digest.hex()
        )?;
    }
    Table::close(out)
}

/// The time-stamp tokens, when any entry carries one.
fn tokens(out: &mut dyn Write, records: &[CustodyRecord]) -> io::Result<()> {
    if records.iter().all(|c| c.timestamps.is_empty()) {
        return writeln!(
            out,
            "<p>No entry carries a time-stamp token: the times above are as each signer stated them.</p>"
        );
    }
    Table::new(
        "Time-stamp tokens (each over the entry before the one carrying it)",
        &["entry", "token", "genTime (UTC)", "state", "serial", "imprint"],
    )
    .open(out)?;
    for (i, c) in records.iter().enumerate() {
        for (n, t) in c.timestamps.iter().enumerate() {
            writeln!(
                out,
                "<tr><th scope=\"row\">{i}</th><td>{n}</td><td class=\"time\">{}</td><td><span class=\"word {}\">{}</span></td>\
<td class=\"hash\">{}</td><td class=\"hash\">{}</td></tr>",
                t.gen_time
                    .as_ref()
                    .map_or_else(|| "unreadable".to_string(), |g| Text(g.as_str()).to_string()),
                class(t.verified != Some(false)),
                token_state(t.verified),
                Text(t.serial.as_deref().unwrap_or("")),
                t.imprint.as_ref().map(hex::encode).unwrap_or_default()
            )?;
        }
    }
    Table::close(out)
}
