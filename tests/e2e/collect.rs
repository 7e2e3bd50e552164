//! `forensic collect` against a real podman container in which an "attacker" has been busy (the
//! attack and the responder's checks are `attack`'s, shared with the containerd and dockerd
//! tests).

use crate::attack::{self, Planted, Untouched, collect_with_watchdog, jsonl, read_json};
use crate::podman::{Container, Image};
use crate::util::*;
use serde_json::Value;
use std::path::Path;

struct Scene {
    _image: Image,
    container: Container,
    planted: Planted,
}

/// Builds the image, starts the container and plays the attacker.
fn scene(work: &Path, tag: &str) -> Scene {
    let image = Image::build(work, tag);
    let container = Container::start(&image, &format!("forensic-e2e-{tag}"));
    let planted = attack::plant(&container, tag);
    Scene {
        _image: image,
        container,
        planted,
    }
}

/// What a responder checks after collecting from the attacked container: `attack`'s checks, and
/// when collected through podman, podman's inspect output verbatim and the command that made it.
fn check_bundle(work: &Path, bundle: &Path, scene: &Scene, through_runtime: bool) {
    let pid = scene.container.pid();
    let x = attack::check_bundle(work, bundle, &scene.planted, pid);
    attack::check_shm_script(bundle, &x);
    if through_runtime {
        let record = read_json(&x.join("6-podspec/container.json"));
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
    // the same after collection. podman diff reads the layers itself, so it runs before the stat
    // snapshots.
    let diff_before = scene.container.diff();
    let untouched = Untouched::take(pid);

    let bundle = work.path().join("by-container.zip");
    let o = collect_with_watchdog(
        &[
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
        ],
        &[],
    );
    assert_eq!(code(&o), 0, "collect: {}{}", stdout(&o), stderr(&o));
    untouched.assert_unchanged();
    check_bundle(work.path(), &bundle, &scene, true);
    assert_eq!(scene.container.diff(), diff_before, "podman diff changed");

    // The same through --pid (no runtime: the upper layer is found through mountinfo), with memory.
    let by_pid = work.path().join("by-pid.zip");
    let o = collect_with_watchdog(
        &[
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
        ],
        &[],
    );
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
