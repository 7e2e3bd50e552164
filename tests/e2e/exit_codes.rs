//! One meaning per exit code, the same for every command (README, "Exit codes"): 0 intact and
//! done, 1 the evidence does not verify or is not intact (refused, forced, a CRC-32 or SHA-256
//! mismatch), 2 could not run, 3 intact but the result needs attention (`diff`'s differences are
//! in `diff.rs` and `output_safety.rs`). README's command table, its "Exit codes" table and every
//! `--help` say the same.

use crate::util::*;
use forensic_bundle::limits::Limits;
use forensic_bundle::zipread;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;

/// The README, beside the `cli` crate.
fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap()
}

/// Splits `text` at `sep` outside parentheses.
fn split_top(text: &str, sep: char) -> Vec<String> {
    let (mut depth, mut parts, mut cur) = (0i32, Vec::new(), String::new());
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if c == sep && depth == 0 {
            parts.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    parts.push(cur);
    parts
}

/// The codes a list of `CODE meaning` items names: the items that start with a digit.
fn codes_of(items: &[String]) -> BTreeSet<u8> {
    items
        .iter()
        .filter_map(|i| {
            let first = i.trim().trim_start_matches('*');
            let d = first.chars().next()?.to_digit(10)?;
            first
                .chars()
                .nth(1)
                .is_none_or(|c| !c.is_ascii_digit())
                .then_some(d as u8)
        })
        .collect()
}

/// README's command table: command (`verify`, `custody transfer`, …) → the codes of its last
/// column.
fn readme_commands() -> BTreeMap<String, BTreeSet<u8>> {
    let text = readme();
    let table = text.split("## Commands").nth(1).unwrap().split("\n\n").nth(1).unwrap();
    table
        .lines()
        .filter(|l| l.starts_with("| `forensic "))
        .map(|l| {
            let cells = split_top(l.trim_matches('|'), '|');
            let cmd: Vec<&str> = cells[0].trim().trim_matches('`').split_whitespace().skip(1).collect();
            let name = match cmd[0] {
                "custody" | "archive" | "k8s" => format!("{} {}", cmd[0], cmd[1]),
                c => c.to_string(),
            };
            (name, codes_of(&split_top(cells.last().unwrap(), ',')))
        })
        .collect()
}

/// The codes `forensic CMD --help` names after "Exit codes:".
fn help_codes(cmd: &str) -> BTreeSet<u8> {
    let mut args: Vec<&str> = cmd.split(' ').collect();
    args.push("--help");
    let o = run(&args);
    assert_eq!(code(&o), 0);
    let text = stdout(&o).replace('\n', " ");
    let after = text
        .split("Exit codes:")
        .nth(1)
        .unwrap_or_else(|| panic!("forensic {cmd} --help names no exit codes: {text}"));
    codes_of(&split_top(after, ';'))
}

#[test]
fn readme_and_every_help_document_the_same_codes() {
    let commands = readme_commands();
    assert_eq!(commands.len(), 25, "{commands:?}");
    for (cmd, readme_codes) in &commands {
        let help = help_codes(cmd);
        assert_eq!(&help, readme_codes, "{cmd}: --help vs README");
        assert!(help.contains(&0) && help.contains(&2), "{cmd}: {help:?}");
        assert!(help.iter().all(|c| *c <= 3), "{cmd}: {help:?}");
    }
    // Only diff and extract have results that need attention on intact evidence.
    let attention: Vec<&String> = commands
        .iter()
        .filter(|(_, c)| c.contains(&3))
        .map(|(n, _)| n)
        .collect();
    assert_eq!(attention, ["diff", "extract"]);
    // The top-level --help prints README's "Exit codes" table, line for line.
    let top = stdout(&run(&["--help"]));
    let text = readme();
    let table = text.split("### Exit codes").nth(1).unwrap();
    let rows: Vec<(String, String)> = table
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            let code = cells.first()?.parse::<u8>().ok()?;
            Some((code.to_string(), cells.get(1)?.to_string()))
        })
        .collect();
    assert_eq!(rows.len(), 4, "{table}");
    // --help wraps long lines: compare the words.
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let top_text = words(&top);
    for (c, meaning) in &rows {
        assert!(
            top_text.contains(&format!("{c} {}", words(meaning))),
            "code {c}: README says {meaning:?}; --help: {top}"
        );
    }
}

#[test]
fn every_command_exits_with_its_documented_code() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dir = checklist_dir(root);
    write(
        &dir,
        "audit.log",
        &std::fs::read(sample("k8s-audit/falco-exec_pod.json")).unwrap(),
    );
    let (key, _) = keygen(root, "responder");
    let (lab, lab_pub) = keygen(root, "lab");
    let good = root.join("good.zip");
    assert_eq!(code(&seal(&dir, &good, &key, &[])), 0);
    // Does not verify: the last custody signature has one byte changed.
    let bad = root.join("bad.zip");
    bad_signature_copy(&good, &bad);
    // Not intact: one byte of a member changed in place (its CRC-32 and SHA-256 both fail).
    let mut bytes = std::fs::read(&good).unwrap();
    let idx = zipread::read_index(&mut Cursor::new(&bytes[..]), &Limits::default()).unwrap();
    let e = idx
        .entries
        .iter()
        .find(|e| e.name == "6-podspec/pod-spec.yaml")
        .unwrap();
    bytes[e.data_offset as usize] ^= 0x20;
    let crc = root.join("crc.zip");
    std::fs::write(&crc, bytes).unwrap();
    let missing = root.join("missing.zip");
    let full = root.join("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("x"), b"x").unwrap();
    let out = |n: &str| root.join(n).to_str().unwrap().to_string();
    let (g, b, c, nf) = (s(&good), s(&bad), s(&crc), s(&missing));
    let (o1, o2, o3, o4, o5) = (out("o1"), out("o2"), out("o3"), out("o4"), out("o5"));
    let (o6, o7, o8, o9) = (out("o6"), out("o7"), out("o8"), out("o9"));
    let (r1, r2, r3, r4) = (out("r1.html"), out("r2.html"), out("r3.html"), out("r4.html"));
    let cases: Vec<(&str, Vec<&str>, i32)> = vec![
        // Intact, and done.
        ("ok", vec!["verify", g], 0),
        ("ok", vec!["ls", g], 0),
        ("ok", vec!["custody", "log", g], 0),
        ("ok", vec!["cat", g, "6-podspec/pod-spec.yaml"], 0),
        ("ok", vec!["extract", g, "-o", &o1], 0),
        ("ok", vec!["show", g, "summary"], 0),
        ("ok", vec!["timeline", g], 0),
        ("ok", vec!["audit", g, "exec"], 0),
        ("ok", vec!["export", g, "--format", "case", "-o", &o6], 0),
        ("ok", vec!["report", g, "-o", &r1], 0),
        // Does not verify.
        ("not verified", vec!["verify", b], 1),
        ("not verified", vec!["ls", b], 1),
        ("not verified", vec!["custody", "log", b], 1),
        ("not verified", vec!["cat", b, "6-podspec/pod-spec.yaml"], 1),
        ("not verified", vec!["extract", b, "-o", &o2], 1),
        ("not verified", vec!["show", b, "summary"], 1),
        ("not verified", vec!["timeline", b], 1),
        ("not verified", vec!["audit", b, "exec"], 1),
        ("not verified", vec!["diff", b, "--image-from-bundle"], 1),
        (
            "not verified",
            vec!["export", b, "--format", "timesketch", "-o", &o7],
            1,
        ),
        (
            "not verified",
            vec!["custody", "annotate", b, "--key", s(&lab), "--note", "x"],
            1,
        ),
        ("not verified", vec!["report", b, "-o", &r2], 1),
        // A member whose CRC-32 and SHA-256 fail: cat says so with 1, as verify does.
        ("not intact", vec!["verify", c], 1),
        ("not intact", vec!["cat", c, "6-podspec/pod-spec.yaml"], 1),
        // Used anyway with --force: still 1.
        ("forced", vec!["extract", b, "-o", &o3, "--force"], 1),
        ("forced", vec!["show", b, "summary", "--force"], 1),
        ("forced", vec!["show", b, "summary", "--force", "--json"], 1),
        ("forced", vec!["timeline", b, "--force"], 1),
        ("forced", vec!["timeline", b, "--force", "--format", "jsonl"], 1),
        ("forced", vec!["audit", b, "exec", "--force"], 1),
        ("forced", vec!["export", b, "--format", "csv", "-o", &o8, "--force"], 1),
        ("forced", vec!["report", b, "-o", &r3, "--force"], 1),
        // Could not run.
        ("trouble", vec!["verify", nf], 2),
        ("trouble", vec!["ls", nf], 2),
        ("trouble", vec!["custody", "log", nf], 2),
        ("trouble", vec!["cat", nf, "x"], 2),
        ("trouble", vec!["cat", g, "6-podspec/nope"], 2),
        ("trouble", vec!["extract", nf, "-o", &o4], 2),
        ("trouble", vec!["extract", g, "-o", s(&full)], 2),
        ("trouble", vec!["show", nf, "summary"], 2),
        ("trouble", vec!["timeline", nf], 2),
        ("trouble", vec!["audit", nf, "exec"], 2),
        ("trouble", vec!["diff", nf, "--image-from-bundle"], 2),
        ("trouble", vec!["export", nf, "--format", "case", "-o", &o9], 2),
        ("trouble", vec!["export", g, "--format", "case", "-o", &o6], 2),
        ("trouble", vec!["report", nf, "-o", &r4], 2),
        ("trouble", vec!["report", g, "-o", &r1], 2),
        ("trouble", vec!["diff", g, "--image", "localhost/app:1"], 2),
        ("trouble", vec!["keygen", "-o", &o5], 0),
        ("trouble", vec!["keygen", "-o", &o5], 2),
        ("trouble", vec!["seal", s(&dir), "-o", g, "--key", s(&key)], 2),
        (
            "trouble",
            vec!["custody", "transfer", g, "--key", s(&lab), "--to", s(&lab_pub)],
            2,
        ),
        ("trouble", vec!["verify"], 2),
    ];
    for (what, args, want) in &cases {
        let o = run(args);
        assert_eq!(
            code(&o),
            *want,
            "{what}: forensic {args:?}: {}{}",
            stdout(&o),
            stderr(&o)
        );
    }
}

#[test]
fn an_image_name_given_as_image_gets_a_way_forward() {
    let tmp = tempfile::tempdir().unwrap();
    let (bundle, _, _) = sealed_bundle(tmp.path());
    let o = run(&["diff", s(&bundle), "--image", "localhost/app:1"]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    for want in [
        "--image localhost/app:1: no such file or directory",
        "not an image name",
        "podman image save --format oci-archive -o app.tar localhost/app:1",
        "docker save",
        "ctr -n k8s.io images export",
        "--image-from-bundle needs none",
        "file integrity checksum failed",
        "the failure is itself evidence",
    ] {
        assert!(err.contains(want), "{want}: {err}");
    }
    // --help says the same.
    let help = stdout(&run(&["diff", "--help"])).replace('\n', " ");
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    for want in [
        "podman image save --format oci-archive -o app.tar localhost/app:1",
        "file integrity checksum failed",
        "the failure is itself evidence",
        "--image-from-bundle still works",
    ] {
        assert!(help.contains(want), "{want}: {help}");
    }
}
