//! Issue 13, dead-box: a node's disk after the node is gone. For each of containerd (a CRI pod
//! with the kubelet's labels and logs), Docker and podman, a real runtime started by the test
//! runs a container, the attack of the live tests is planted in it (plus a link to the node's
//! `/etc/shadow`), the LIVE bundle is collected as the live tests do, then the container is
//! killed and the runtime stopped, and its state is copied with `cp -a` into an empty ext4 image
//! with a kubelet log layout and a node `/etc/shadow` holding a known secret — a disk "the way a
//! snapshot would arrive" (docs/dev/deadbox.md §5), attached read-only as the README says.
//! Then, with `forensic collect --offline-root ROOT` (README "After the node is gone"):
//! 1. `--list --json` shows every container with its runtime, pod identity, state and image;
//! 2. `--container` makes a bundle that verifies, whose `diff --image ORIGINAL` gives the same
//!    change lines and findings as the live bundle's, and whose writable layer has the live
//!    tree-index entries (hashes, type, mode, owner, size, link target);
//! 3. nothing under ROOT changes: the image mounted read-write, a full listing with atime,
//!    SHA-256 and xattrs before and after `--list` and `collect --all`;
//! 4. the container's link to `/etc/shadow` is a link, and neither the node's secret nor the
//!    examiner's `/etc/shadow` is in any bundle;
//! 5. corrupt metadata (a truncated `meta.db`, a garbage `config.v2.json`, a missing layer
//!    directory) is a named problem or gap for that container; the others still list and collect.
//!
//! The three runtimes run one after the other, each started once; every check then reads the
//! one node image. Each check runs even when an earlier one failed; the test fails naming them.

mod containerd;
mod disk;
mod docker;
mod podman;
mod unchanged;

use crate::attack::{self, Planted, Victim, collect_with_watchdog, jsonl, unzip};
use crate::diff::{diff_json, lines};
use crate::runtimes::containerd::SANDBOX_IMAGE;
use crate::runtimes::image;
use crate::util::*;
use disk::NodeDisk;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The test image's reference in all three runtimes (one docker-archive, [`image::build`]).
pub const IMAGE: &str = "localhost/forensic-deadbox:1";
/// The node's own `/etc/shadow` on the disk image: its bytes must never reach a bundle.
pub const NODE_SHADOW: &str = "root:$6$NODE-SECRET-b41d7e9c-on-the-dead-node$x:19000:0:99999:7:::\n";
/// The secret inside [`NODE_SHADOW`].
pub const NODE_SECRET: &str = "NODE-SECRET-b41d7e9c-on-the-dead-node";
/// The container's link to the node's shadow file.
pub const SHADOW_LINK: &str = "/tmp/shadowlink";

/// What every runtime's scenario gets.
pub struct Setup<'a> {
    /// The test's directory.
    pub work: &'a Path,
    /// The image archive (ORIGINAL).
    pub archive: &'a Path,
    /// The responder's key.
    pub key: &'a Path,
    /// The node's tree being staged.
    pub stage: &'a Path,
}

/// A container a runtime left on the node's disk, and what `--list` must say of it.
pub struct Prepared {
    /// `containerd`, `docker` or `podman`.
    pub runtime: &'static str,
    /// The containerd namespace.
    pub namespace: Option<&'static str>,
    /// The full id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// (name, namespace, uid) of its pod.
    pub pod: Option<(String, String, String)>,
    /// Its last exit code.
    pub exit_code: i64,
    /// The runtime's directory on the node.
    pub node_dir: &'static str,
    /// How many lower layers it has (Docker's init layer included).
    pub lowers: usize,
    /// The live bundle of the attacked container.
    pub live: Option<PathBuf>,
    /// The kubelet's log directory of the container.
    pub kubelet_log_dir: Option<String>,
    /// The host secret of the attack, kept until the end.
    pub _planted: Option<Planted>,
    /// A CRI pod sandbox (its pause container): no name, no recorded state; listed, not
    /// collected by `--pod` or `--all`.
    pub sandbox: bool,
}

/// `--label` flags for the kubelet's pod labels.
pub fn pod_labels(pod: (&str, &str, &str)) -> Vec<String> {
    let (name, namespace, uid) = pod;
    [
        format!("io.kubernetes.pod.name={name}"),
        format!("io.kubernetes.pod.namespace={namespace}"),
        format!("io.kubernetes.pod.uid={uid}"),
    ]
    .into_iter()
    .flat_map(|l| ["--label".to_string(), l])
    .collect()
}

/// The live tests' attack, the node-side change to the image's layer, and a link to `/etc/shadow`.
pub fn attack(victim: &impl Victim, tag: &str) -> Planted {
    let planted = attack::plant(victim, tag);
    victim.sh(&format!("ln -s /etc/shadow {SHADOW_LINK}"));
    attack::tamper_lower_layer(victim.pid());
    planted
}

/// `forensic collect ARGS -o BUNDLE --key KEY --quiet` against the live runtime, which must succeed.
pub fn collect_live(args: &[&str], env: &[(&str, &str)], bundle: &Path, key: &Path) {
    let mut all = args.to_vec();
    all.extend(["-o", s(bundle), "--key", s(key), "--quiet"]);
    let o = collect_with_watchdog(&all, env);
    assert_eq!(code(&o), 0, "live collect {args:?}: {}{}", stdout(&o), stderr(&o));
}

/// Copies `from` with `cp -a` to `node_path` in the staged node tree.
pub fn copy_in(stage: &Path, node_path: &str, from: &Path) {
    let to = stage.join(node_path.trim_start_matches('/'));
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    disk::sh("cp", &["-a", s(from), s(&to)]);
}

/// Makes the runtime's own absolute path `original` a link to `node_path` on the node, so that
/// the absolute paths the runtime recorded resolve there (as `/var/lib/docker -> /data/docker`
/// would on a real node).
pub fn link_in(stage: &Path, original: &Path, node_path: &str) {
    let at = stage.join(original.strip_prefix("/").unwrap());
    std::fs::create_dir_all(at.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(node_path, at).unwrap();
}

/// The node's own files: accounts, a host name, and the shadow file with [`NODE_SECRET`].
fn node_base(stage: &Path) {
    write(stage, "etc/hostname", b"dead-node\n");
    write(stage, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n");
    write(stage, "etc/shadow", NODE_SHADOW.as_bytes());
    std::fs::create_dir_all(stage.join("var/log/pods")).unwrap();
}

/// Runs `check`, recording its panic under `name` instead of unwinding.
fn check(failures: &mut Vec<String>, name: &str, check: impl FnOnce()) {
    let t = Instant::now();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(check));
    eprintln!("deadbox: check {name}: {:?} in {:.1?}", r.is_ok(), t.elapsed());
    if let Err(e) = r {
        let msg = e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        failures.push(format!("{name}: {msg}"));
    }
}

#[test]
fn a_dead_nodes_disk_lists_and_collects_its_containerd_docker_and_podman_containers() {
    let t0 = Instant::now();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let archive = image::build(w, &[IMAGE, SANDBOX_IMAGE], &[("etc/e2e-tag", b"deadbox\n")]);
    let (key, _) = keygen(w, "responder");
    let stage = w.join("stage");
    node_base(&stage);
    let setup = Setup {
        work: w,
        archive: &archive.path,
        key: &key,
        stage: &stage,
    };
    let mut prepared = Vec::new();
    for (runtime, prepare) in [
        ("containerd", containerd::prepare as fn(&Setup) -> Vec<Prepared>),
        ("docker", docker::prepare),
        ("podman", podman::prepare),
    ] {
        let t = Instant::now();
        prepared.extend(prepare(&setup));
        eprintln!(
            "deadbox: {runtime} run, attacked, collected live and stopped in {:.1?}",
            t.elapsed()
        );
    }
    let t = Instant::now();
    let disk = NodeDisk::create(&stage, 512);
    disk.mount_ro();
    eprintln!("deadbox: node image made and mounted read-only in {:.1?}", t.elapsed());
    let root = disk.root().to_path_buf();
    let out = w.join("offline");
    std::fs::create_dir(&out).unwrap();

    let mut failures = Vec::new();
    check(&mut failures, "1 --list", || check_list(&root, &prepared));
    for p in prepared.iter().filter(|p| p.live.is_some()) {
        check(&mut failures, &format!("2 collect {}", p.runtime), || {
            let bundle = check_collect(&root, &out, p, &key);
            check_no_secret(&bundle, p);
            check_same_writable_layer(w, &bundle, p);
            check_same_diff(w, &bundle, p, &archive.path);
        });
    }
    check(&mut failures, "--pod and --container NAME", || {
        check_pod_and_name(&root, &out, &key, &prepared)
    });
    disk.unmount();
    disk.mount_rw();
    check(&mut failures, "3 nothing under ROOT changes", || {
        check_unchanged(&root, &out, &key, &prepared)
    });
    check(&mut failures, "5 corrupt metadata", || {
        let removed = corrupt(&root, &prepared);
        disk.unmount();
        disk.mount_ro();
        check_corrupt(&root, &out, &key, &prepared, &removed);
    });
    disk.unmount();
    eprintln!("deadbox: whole test {:.1?}", t0.elapsed());
    assert!(failures.is_empty(), "failed checks:\n{}", failures.join("\n\n"));
}

/// `forensic collect --offline-root ROOT ARGS`.
fn offline(root: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["--offline-root", s(root)];
    all.extend_from_slice(args);
    collect_with_watchdog(&all, &[])
}

/// `--list --json`, which must exit 0.
fn list(root: &Path) -> Value {
    let o = offline(root, &["--list", "--json"]);
    assert_eq!(code(&o), 0, "--list: {}{}", stdout(&o), stderr(&o));
    json(&o)
}

/// The one listed container with this id.
fn listed<'a>(v: &'a Value, id: &str) -> &'a Value {
    let found: Vec<&Value> = v["containers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == id)
        .collect();
    assert_eq!(found.len(), 1, "{id} listed {} times: {v:#}", found.len());
    found[0]
}

/// The `runtime` of a listed container: `{"name"}`, with the containerd namespace.
fn runtime_json(p: &Prepared) -> Value {
    match p.namespace {
        Some(ns) => json!({"name": p.runtime, "namespace": ns}),
        None => json!({"name": p.runtime}),
    }
}

/// Check 1: every container with its identity, state, image and layers; every metadata file
/// it names was read from ROOT with the SHA-256 it records.
fn check_list(root: &Path, prepared: &[Prepared]) {
    let v = list(root);
    assert_eq!(v["root"], s(root), "{v:#}");
    assert_eq!(v["problems"], json!([]), "a clean node has no problems");
    assert_eq!(v["containers"].as_array().unwrap().len(), prepared.len(), "{v:#}");
    for p in prepared {
        let c = listed(&v, &p.id);
        let what = format!("{} {}: {c:#}", p.runtime, p.name);
        assert_eq!(c["runtime"], runtime_json(p), "{what}");
        if p.sandbox {
            // containerd keeps no task state on disk and the CRI checkpoints no sandbox status
            // (docs/dev/deadbox.md §1.2): unknown, never a guess.
            assert_eq!(c["name"], Value::Null, "{what}");
            assert_eq!(c["labels"]["io.cri-containerd.kind"], "sandbox", "{what}");
            assert_eq!(c["state"]["status"], "unknown", "{what}");
            assert_eq!(c["state"]["exit_code"], Value::Null, "{what}");
            let (name, namespace, uid) = p.pod.clone().unwrap();
            assert_eq!(
                c["pod"],
                json!({"name": name, "namespace": namespace, "uid": uid}),
                "{what}"
            );
            continue;
        }
        assert_eq!(c["name"], p.name.as_str(), "{what}");
        assert_eq!(c["image_ref"], IMAGE, "{what}");
        assert_eq!(c["state"]["status"], "exited", "{what}");
        assert_eq!(c["state"]["exit_code"], p.exit_code, "{what}");
        assert!(
            c["state"]["source"].as_str().is_some_and(|f| f.starts_with('/')),
            "{what}"
        );
        let created = c["created"].as_str().unwrap_or_else(|| panic!("no created: {what}"));
        assert!(
            created.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(created).is_ok(),
            "{what}"
        );
        match &p.pod {
            Some((name, namespace, uid)) => {
                assert_eq!(
                    c["pod"],
                    json!({"name": name, "namespace": namespace, "uid": uid}),
                    "{what}"
                );
                assert_eq!(c["labels"]["io.kubernetes.pod.name"], name.as_str(), "{what}");
                assert_eq!(c["labels"]["io.kubernetes.pod.uid"], uid.as_str(), "{what}");
            }
            None => assert_eq!(c["pod"], Value::Null, "{what}"),
        }
        assert_eq!(c["problems"], json!([]), "{what}");
        let upper = c["upper"].as_str().unwrap_or_else(|| panic!("no upper: {what}"));
        assert!(upper.starts_with(&format!("{}/", p.node_dir)), "{what}");
        assert!(root.join(&upper[1..]).is_dir(), "{what}");
        let lowers = c["lowers"].as_array().unwrap();
        assert_eq!(lowers.len(), p.lowers, "{what}");
        for (n, l) in lowers.iter().enumerate() {
            let role = if p.runtime == "docker" && n == 0 {
                "init"
            } else {
                "image"
            };
            assert_eq!(l["role"], role, "layer {n}: {what}");
            let dir = l["dir"].as_str().unwrap();
            assert!(root.join(&dir[1..]).is_dir(), "{dir}: {what}");
        }
        assert!(!c["spec"].as_array().unwrap().is_empty(), "{what}");
        assert!(!c["image"].as_array().unwrap().is_empty(), "{what}");
        if p.live.is_some() {
            assert!(c["writable_size"].as_u64().is_some_and(|n| n > 0), "{what}");
        }
        if let Some(dir) = &p.kubelet_log_dir {
            assert_eq!(c["kubelet_log_dir"], dir.as_str(), "{what}");
        }
        let reads = c["metadata_read"].as_array().unwrap();
        assert!(!reads.is_empty(), "{what}");
        for r in reads {
            let file = root.join(&r["path"].as_str().unwrap()[1..]);
            assert_eq!(r["sha256"], sha256sum(&file), "{r}");
            assert_eq!(r["size"], std::fs::symlink_metadata(&file).unwrap().len(), "{r}");
        }
        let stored = |k: &str| {
            c[k].as_array()
                .unwrap()
                .iter()
                .map(|f| f["member"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        eprintln!(
            "deadbox: listed {} {} spec {:?} image {:?} logs {}",
            p.runtime,
            p.name,
            stored("spec"),
            stored("image"),
            c["logs"]
        );
    }
}

/// `collect --offline-root ROOT --container ID`: exit 0, a bundle that verifies, sections 1–3
/// gaps naming the dead node, the target the container. Returns the bundle.
fn check_collect(root: &Path, out: &Path, p: &Prepared, key: &Path) -> PathBuf {
    let bundle = out.join(format!("{}-{}.zip", p.runtime, p.name));
    let o = offline(
        root,
        &["--container", &p.id, "-o", s(&bundle), "--key", s(key), "--json"],
    );
    assert_eq!(code(&o), 0, "collect: {}{}", stdout(&o), stderr(&o));
    let report = json(&run(&["verify", s(&bundle), "--json"]));
    assert_eq!(report["verified"], true, "{report:#}");
    for section in ["processes", "network", "memory"] {
        let gap = report["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["section"] == section)
            .unwrap_or_else(|| panic!("no {section} gap: {:#}", report["gaps"]));
        assert!(
            gap["reason"].as_str().unwrap().contains("node offline: no live state"),
            "{gap}"
        );
    }
    let o = run(&["show", s(&bundle), "summary", "--json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(json(&o)["target"]["container_id"], p.id.as_str());

    // CONTENTS.md §17: where the container was found, and every metadata file read for it with
    // the SHA-256 `--list` gave (each checked against ROOT by check 1).
    let x = out.join(format!("extracted-{}", p.runtime));
    let report = crate::contents::validate_independently(&bundle, &x);
    assert!(
        report
            .lines()
            .any(|l| l.starts_with("ok 6-podspec/offline-source.json ")),
        "{report}"
    );
    let source = attack::read_json(&x.join("6-podspec/offline-source.json"));
    assert_eq!(source["root"], s(root), "{source:#}");
    assert_eq!(source["runtime"], p.runtime, "{source:#}");
    assert_eq!(source["container"], p.id.as_str(), "{source:#}");
    assert_eq!(source["last_state"]["exit_code"], p.exit_code, "{source:#}");
    let listing = list(root);
    assert_eq!(
        source["metadata_read"],
        listed(&listing, &p.id)["metadata_read"],
        "{source:#}"
    );
    bundle
}

/// (severity, kind, path) of every finding, sorted.
fn findings(v: &Value) -> Vec<(String, String, String)> {
    let mut f: Vec<(String, String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (s("severity"), s("kind"), s("path"))
        })
        .collect();
    f.sort();
    f
}

/// The fields of a tree-index entry that must be equal live and offline (docs/dev/deadbox.md
/// §5.3: inode, ctime, nlink and device differ by construction).
fn same_fields(e: &Value) -> Value {
    let keys = [
        "path",
        "type",
        "mode",
        "uid",
        "gid",
        "size",
        "mtime_ns",
        "symlink_target",
        "sha256",
        "rdev",
    ];
    Value::Object(keys.iter().map(|k| (k.to_string(), e[*k].clone())).collect())
}

/// Member name → bytes of the members under `prefix`.
fn members_under(bundle: &Path, prefix: &str) -> BTreeMap<String, Vec<u8>> {
    contents(&std::fs::read(bundle).unwrap())
        .into_iter()
        .filter(|(n, _)| n.starts_with(prefix))
        .collect()
}

/// The live container's mount points other than its root, from its unzipped bundle `x`.
fn live_mount_points(x: &Path) -> BTreeSet<String> {
    jsonl(&x.join("5-filesystem/tree-index.jsonl"))
        .into_iter()
        .filter_map(|e| e["mount"].as_str().map(str::to_string))
        .collect()
}

/// Whether `path` is at or under one of `mount_points`.
fn on_mount(mount_points: &BTreeSet<String>, path: &str) -> bool {
    mount_points
        .iter()
        .any(|m| path == m || path.strip_prefix(m.as_str()).is_some_and(|r| r.starts_with('/')))
}

/// Check 2: the writable layer is the live one: `upper-changes.jsonl`, the `upper/` copies byte
/// for byte, and the tree-index entries of every path in it that was not a live mount point.
fn check_same_writable_layer(w: &Path, offline_bundle: &Path, p: &Prepared) {
    let live = p.live.as_ref().unwrap();
    let x_live = w.join(format!("x-live-{}", p.runtime));
    let x_off = w.join(format!("x-offline-{}", p.runtime));
    unzip(live, &x_live);
    unzip(offline_bundle, &x_off);
    let changes = |x: &Path| jsonl(&x.join("5-filesystem/upper-changes.jsonl"));
    let live_changes = changes(&x_live);
    assert_eq!(changes(&x_off), live_changes, "upper-changes.jsonl");
    assert_eq!(
        members_under(offline_bundle, "5-filesystem/upper/"),
        members_under(live, "5-filesystem/upper/"),
        "the writable layer's copies"
    );
    let index = |x: &Path| -> BTreeMap<String, Value> {
        jsonl(&x.join("5-filesystem/tree-index.jsonl"))
            .into_iter()
            .filter(|e| e.get("mount").is_none())
            .map(|e| (e["path"].as_str().unwrap().to_string(), e))
            .collect()
    };
    let (live_index, off_index) = (index(&x_live), index(&x_off));
    let mut compared = 0;
    // A live mount point's line describes what was mounted there (the runtime's bind-mounted
    // /etc/hostname), the offline one the stub under it: those are left out.
    let mount_points = live_mount_points(&x_live);
    for c in live_changes
        .iter()
        .filter(|c| c["change"] != "deleted" && !on_mount(&mount_points, c["path"].as_str().unwrap()))
    {
        let path = c["path"].as_str().unwrap();
        let l = live_index
            .get(path)
            .unwrap_or_else(|| panic!("{path} not in the live index"));
        let o = off_index
            .get(path)
            .unwrap_or_else(|| panic!("{path} not in the offline index"));
        assert_eq!(same_fields(o), same_fields(l), "tree-index entry of {path}");
        compared += 1;
    }
    assert!(compared >= 10, "only {compared} entries of the writable layer compared");
    for path in ["/tmp/dropper.sh", SHADOW_LINK, "/etc/passwd"] {
        assert!(
            live_changes.iter().any(|c| c["path"] == path),
            "{path} is not in the writable layer"
        );
    }
}

/// Check 2: `diff --image ORIGINAL` of the offline bundle gives the live bundle's change lines
/// and findings.
fn check_same_diff(w: &Path, offline_bundle: &Path, p: &Prepared, archive: &Path) {
    let live = p.live.as_ref().unwrap();
    let (live_exit, live_v) = diff_json(live, &["--image", s(archive)]);
    let (exit, v) = diff_json(offline_bundle, &["--image", s(archive)]);
    let x_live = w.join(format!("x-live-diff-{}", p.runtime));
    unzip(live, &x_live);
    // By construction, the live container's other mounts (`/proc`, `/sys`, `/dev`, its
    // `/dev/shm` tmpfs, the runtime's bind-mounted `/etc/hosts`, …) are not on the node's disk,
    // and what lies under them on the disk (the mount-point stubs runc leaves in the writable
    // layer) was hidden live: lines and findings at or under a live mount point are left out,
    // nothing else.
    let mount_points = live_mount_points(&x_live);
    let on_live_mount = |path: &str| on_mount(&mount_points, path);
    let keep_lines = |v: &Value| -> Vec<String> { lines(v).into_iter().filter(|l| !on_live_mount(&l[2..])).collect() };
    let keep_findings = |v: &Value| -> Vec<(String, String, String)> {
        findings(v)
            .into_iter()
            .filter(|(_, _, path)| !on_live_mount(path))
            .collect()
    };
    assert_eq!(keep_lines(&live_v), lines(&live_v), "the live diff lists no mount");
    assert_eq!(
        (exit, keep_lines(&v)),
        (live_exit, lines(&live_v)),
        "diff --image lines"
    );
    assert!(
        keep_findings(&live_v).len() < findings(&live_v).len(),
        "the live bundle's /dev/shm finding: {:?}",
        findings(&live_v)
    );
    assert_eq!(keep_findings(&v), keep_findings(&live_v), "diff --image findings");
}

/// Check 4: the link to `/etc/shadow` is recorded as a link; the node's secret, the examiner's
/// `/etc/shadow` and the attack's host secret are in no member.
fn check_no_secret(bundle: &Path, p: &Prepared) {
    let index = assert_no_secret(bundle);
    let index = String::from_utf8(index.expect("a tree index")).unwrap();
    let link: Value = index
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|e| e["path"] == SHADOW_LINK)
        .unwrap_or_else(|| panic!("{SHADOW_LINK} not indexed ({})", p.runtime));
    assert_eq!(
        (&link["type"], &link["symlink_target"], &link["sha256"]),
        (&json!("symlink"), &json!("/etc/shadow"), &Value::Null),
        "{link}"
    );
}

/// Neither the node's secret, nor the examiner's `/etc/shadow`, nor the attack's host secret is
/// in the bundle's bytes or in any member. Returns the tree index, if any.
fn assert_no_secret(bundle: &Path) -> Option<Vec<u8>> {
    let raw = std::fs::read(bundle).unwrap();
    let examiner = std::fs::read("/etc/shadow").unwrap();
    let has = |hay: &[u8], needle: &[u8]| !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle);
    let mut index = None;
    for (name, content) in
        std::iter::once(("(raw bundle)".to_string(), raw)).chain(contents(&std::fs::read(bundle).unwrap()))
    {
        assert!(!has(&content, NODE_SECRET.as_bytes()), "the node's secret is in {name}");
        assert!(!has(&content, &examiner), "the examiner's /etc/shadow is in {name}");
        assert!(
            !has(&content, attack::SECRET.as_bytes()),
            "the attack's host secret is in {name}"
        );
        if name == "5-filesystem/tree-index.jsonl" {
            index = Some(content);
        }
    }
    index
}

/// The bundle name `--pod` and `--all` give a container: `RUNTIME-NAME-ID12.zip`.
fn bundle_name(p: &Prepared) -> String {
    format!("{}-{}-{}.zip", p.runtime, p.name, &p.id[..12])
}

/// The `.zip` files in `dir`, sorted.
fn zips(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".zip"))
        .collect();
    names.sort();
    names
}

/// `--pod NAME -n NS` into a directory: the pod's one container (its sandbox's pause container
/// left out), named as `--all` names it; `--container NAME` resolves a name.
fn check_pod_and_name(root: &Path, out: &Path, key: &Path, prepared: &[Prepared]) {
    let p = prepared
        .iter()
        .find(|p| p.runtime == "containerd" && !p.sandbox)
        .unwrap();
    let (pod, namespace, _) = p.pod.clone().unwrap();
    let dir = out.join("by-pod");
    let o = offline(
        root,
        &[
            "--pod",
            &pod,
            "-n",
            &namespace,
            "-o",
            s(&dir),
            "--key",
            s(key),
            "--json",
        ],
    );
    assert_eq!(code(&o), 0, "--pod: {}{}", stdout(&o), stderr(&o));
    assert_eq!(zips(&dir), [bundle_name(p)]);
    let bundle = dir.join(bundle_name(p));
    assert_eq!(json(&run(&["verify", s(&bundle), "--json"]))["verified"], true);
    let o = run(&["show", s(&bundle), "summary", "--json"]);
    assert_eq!(json(&o)["target"]["container_id"], p.id.as_str());

    let p = prepared.iter().find(|p| p.name == "dbx-pdone").unwrap();
    let bundle = out.join("by-name.zip");
    let o = offline(root, &["--container", &p.name, "-o", s(&bundle), "--key", s(key)]);
    assert_eq!(code(&o), 0, "--container NAME: {}{}", stdout(&o), stderr(&o));
    let o = run(&["show", s(&bundle), "summary", "--json"]);
    assert_eq!(json(&o)["target"]["container_id"], p.id.as_str());
}

/// Check 3: `--list` and `collect --all` on the image mounted read-write leave every entry of
/// ROOT as it was, atime included.
fn check_unchanged(root: &Path, out: &Path, key: &Path, prepared: &[Prepared]) {
    let before = unchanged::listing(root);
    assert!(before.len() > 100, "{} entries", before.len());
    let again = unchanged::listing(root);
    unchanged::assert_same(&before, &again);
    list(root);
    let all = out.join("all-rw");
    let o = offline(root, &["--all", "-o", s(&all), "--key", s(key), "--json"]);
    assert_eq!(code(&o), 0, "collect --all: {}{}", stdout(&o), stderr(&o));
    let after = unchanged::listing(root);
    unchanged::assert_same(&before, &after);

    let mut expected: Vec<String> = prepared.iter().filter(|p| !p.sandbox).map(bundle_name).collect();
    expected.sort();
    assert_eq!(zips(&all), expected, "one bundle per container, the sandbox left out");
    assert_eq!(
        json(&o).as_array().map(Vec::len),
        Some(expected.len()),
        "{}",
        stdout(&o)
    );
    for name in &expected {
        let bundle = all.join(name);
        assert_eq!(
            json(&run(&["verify", s(&bundle), "--json"]))["verified"],
            true,
            "{name}"
        );
        assert_no_secret(&bundle);
    }
}

/// The `config.v2.json` of Docker's `dbx-badcfg`, garbled.
const GARBAGE: &[u8] = b"{\"ID\": \"not json after all\x00\xff";

/// Corrupts the node (mounted read-write): `meta.db` truncated to 8192 bytes, `dbx-badcfg`'s
/// `config.v2.json` garbage, `dbx-done`'s writable layer directory removed. Returns the node
/// path of the directory removed.
fn corrupt(root: &Path, prepared: &[Prepared]) -> String {
    let meta = root.join("var/lib/containerd/io.containerd.metadata.v1.bolt/meta.db");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&meta)
        .unwrap()
        .set_len(8192)
        .unwrap();
    let id = |name: &str| prepared.iter().find(|p| p.name == name).unwrap().id.clone();
    std::fs::write(
        root.join(format!("var/lib/docker/containers/{}/config.v2.json", id("dbx-badcfg"))),
        GARBAGE,
    )
    .unwrap();
    let mount_id = std::fs::read_to_string(root.join(format!(
        "var/lib/docker/image/overlay2/layerdb/mounts/{}/mount-id",
        id("dbx-done")
    )))
    .unwrap();
    let removed = format!("/var/lib/docker/overlay2/{}", mount_id.trim());
    std::fs::remove_dir_all(root.join(&removed[1..])).unwrap();
    removed
}

/// Check 5: each corruption is a named problem of its container (or runtime); the others list
/// and collect.
fn check_corrupt(root: &Path, out: &Path, key: &Path, prepared: &[Prepared], removed: &str) {
    let v = list(root);
    let id = |name: &str| prepared.iter().find(|p| p.name == name).unwrap().id.clone();
    let problems = v["problems"].as_array().unwrap();
    let meta = "/var/lib/containerd/io.containerd.metadata.v1.bolt/meta.db";
    assert!(
        problems
            .iter()
            .any(|p| p["runtime"] == "containerd" && p["file"] == meta),
        "no problem names {meta}: {problems:#?}"
    );
    let bad = id("dbx-badcfg");
    let config = format!("/var/lib/docker/containers/{bad}/config.v2.json");
    assert!(
        problems
            .iter()
            .any(|p| p["runtime"] == "docker" && p["file"] == config.as_str() && p["container"] == bad.as_str()),
        "no problem names {config}: {problems:#?}"
    );
    let ids: Vec<&str> = v["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&bad.as_str()), "{ids:?}");
    for p in prepared.iter().filter(|p| p.runtime == "containerd") {
        assert!(!ids.contains(&p.id.as_str()), "{ids:?}");
    }
    for name in ["dbx-victim", "dbx-pvictim", "dbx-pdone"] {
        assert_eq!(listed(&v, &id(name))["problems"], json!([]), "{name}");
    }
    let done = listed(&v, &id("dbx-done"));
    assert!(
        done["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().contains("overlay2/")),
        "the missing layer is not named: {done:#}"
    );

    let all = out.join("all-corrupt");
    let o = offline(root, &["--all", "-o", s(&all), "--key", s(key), "--json"]);
    assert!(matches!(code(&o), 0 | 1), "collect --all: {}{}", stdout(&o), stderr(&o));
    for name in ["dbx-victim", "dbx-pvictim", "dbx-pdone"] {
        let p = prepared.iter().find(|p| p.name == name).unwrap();
        let bundle = all.join(bundle_name(p));
        let report = json(&run(&["verify", s(&bundle), "--json"]));
        assert_eq!(report["verified"], true, "{name}: {report:#}");
    }
    // The container without its writable layer: sealed with a gap naming the directory, or
    // reported as failed (exit 1) while the others are sealed.
    let done = prepared.iter().find(|p| p.name == "dbx-done").unwrap();
    let bundle = all.join(bundle_name(done));
    if bundle.exists() {
        assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
        let report = json(&run(&["verify", s(&bundle), "--json"]));
        assert_eq!(report["verified"], true, "{report:#}");
        let gaps = serde_json::to_string(&report["gaps"]).unwrap();
        assert!(gaps.contains(removed), "no gap names {removed}: {gaps}");
    } else {
        assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
        assert!(stderr(&o).contains(&done.id[..12]), "{}", stderr(&o));
    }
    let collected = zips(&all);
    assert!(
        collected
            .iter()
            .all(|n| !n.starts_with("containerd-") && !n.contains(&id("dbx-badcfg")[..12])),
        "{collected:?}"
    );
    eprintln!(
        "deadbox: collect --all on the corrupt node: exit {}, {}",
        code(&o),
        stdout(&o)
    );
}
