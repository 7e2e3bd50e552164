//! `docs/findings.md` lists every finding id the tools can raise ([`FindingId::ALL`]: the only
//! ids a [`Finding`](forensic_evidence::findings::Finding) can carry), each on one row with
//! exactly its severities and the commands that raise it, and lists no id the code does not have.
#![allow(clippy::expect_used)]

use forensic_evidence::findings::{FindingId, Severity};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The words between backticks in a table cell.
fn ticked(cell: &str) -> BTreeSet<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

/// The id rows of the page's tables: id → (severity cell, commands cell).
fn rows(doc: &str) -> Result<BTreeMap<&str, (&str, &str)>, String> {
    let mut out = BTreeMap::new();
    for line in doc.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // `| id | severity | raised by | what |` → ["", id, severity, raised by, what, ""]
        let [_, id, severity, commands, _what, _] = cells.as_slice() else {
            continue;
        };
        let Some(id) = id.strip_prefix('`').and_then(|i| i.strip_suffix('`')) else {
            continue;
        };
        if out.insert(id, (*severity, *commands)).is_some() {
            return Err(format!("docs/findings.md lists {id} twice"));
        }
    }
    Ok(out)
}

/// What is wrong with `doc` as the list of `ids`; empty when nothing is.
fn problems(doc: &str, ids: &[FindingId]) -> Vec<String> {
    let rows = match rows(doc) {
        Ok(r) => r,
        Err(e) => return vec![e],
    };
    let mut out = Vec::new();
    for id in ids {
        let Some((severity, commands)) = rows.get(id.as_str()) else {
            out.push(format!("{id} is not listed in docs/findings.md"));
            continue;
        };
        let want: BTreeSet<&str> = id.severities().iter().map(|s| s.as_str()).collect();
        if ticked(severity) != want {
            out.push(format!(
                "{id}: docs/findings.md says severity {severity}, the code {want:?}"
            ));
        }
        let want: BTreeSet<&str> = id.commands().iter().copied().collect();
        if ticked(commands) != want {
            out.push(format!(
                "{id}: docs/findings.md says raised by {commands}, the code {want:?}"
            ));
        }
    }
    let known: BTreeSet<&str> = ids.iter().map(|i| i.as_str()).collect();
    let severities: BTreeSet<&str> = Severity::ALL.iter().map(|s| s.as_str()).collect();
    for id in rows.keys().filter(|i| !known.contains(*i) && !severities.contains(*i)) {
        out.push(format!("docs/findings.md lists {id}, which the code cannot raise"));
    }
    out
}

fn doc() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/findings.md");
    std::fs::read_to_string(&path).expect("docs/findings.md is readable")
}

#[test]
fn every_finding_id_is_documented_with_its_severities_and_commands() {
    let problems = problems(&doc(), FindingId::ALL);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_severity_word_is_documented() {
    let doc = doc();
    for s in Severity::ALL {
        assert!(
            doc.lines().any(|l| l.starts_with(&format!("| `{s}` | "))),
            "severity {s} is not described in docs/findings.md"
        );
    }
}

#[test]
fn the_check_catches_a_missing_row_a_wrong_severity_and_a_stale_id() {
    let doc = doc();
    let without = |id: &str| -> String {
        doc.lines()
            .filter(|l| !l.starts_with(&format!("| `{id}` |")))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        problems(&without("uid0-user"), FindingId::ALL),
        ["uid0-user is not listed in docs/findings.md"]
    );
    let wrong = doc.replace(
        "| `ld-preload` | `high` | `show` |",
        "| `ld-preload` | `medium` | `show` |",
    );
    assert_eq!(
        problems(&wrong, FindingId::ALL).len(),
        1,
        "{:?}",
        problems(&wrong, FindingId::ALL)
    );
    let stale: Vec<FindingId> = FindingId::ALL
        .iter()
        .copied()
        .filter(|i| *i != FindingId::LdPreload)
        .collect();
    assert_eq!(
        problems(&doc, &stale),
        ["docs/findings.md lists ld-preload, which the code cannot raise"]
    );
}
