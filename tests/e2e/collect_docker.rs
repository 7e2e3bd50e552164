//! Issue 12, Docker: the podman test's scenario against a dockerd the test started (on its own
//! containerd): `forensic collect --container ID --runtime docker` with `DOCKER_HOST` set; the
//! bundle verifies, every planted item is found, the host secret is nowhere, `diff --image`
//! finds the node-side change, the container is unchanged afterwards (its stat, processes and
//! `docker diff`), and `diff --image-from-bundle` equals `docker diff` line for line.

use crate::attack::{self, Untouched, collect_with_watchdog, read_json};
use crate::diff::{diff_json, lines};
use crate::runtimes::docker::{Docker, DockerContainer};
use crate::runtimes::image;
use crate::util::*;

/// The test image's reference in dockerd.
const IMAGE: &str = "localhost/forensic-e2e-docker:1";

#[test]
fn collect_an_attacked_docker_container_and_diff_equals_docker_diff() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let archive = image::build(w, &[IMAGE], &[("etc/e2e-tag", b"docker\n")]);
    let docker = Docker::start();
    docker.load(&archive.path);
    let id = docker.run(&format!("forensic-e2e-dk{}", std::process::id()), IMAGE);
    let victim = DockerContainer {
        docker: &docker,
        id: id.clone(),
    };
    let planted = attack::plant(&victim, &format!("dk{}", std::process::id()));
    // Where docker's rules differ from podman's (runtimes.md §4): a program's time changed (its
    // parents are `C` too), and a directory replaced by an identical new one (opaque in the
    // upper layer; docker compares a directory by mode and owner only: no line). The program is
    // touched to a fixed time: the image's files have whole-second times, and docker's
    // `sameFsTime` calls a touch within the image file's own second no change.
    docker.cli(&[
        "exec",
        &id,
        "/bin/sh",
        "-c",
        "touch -d @1800000000 /usr/bin/report && rm -r /var/spool/cron/crontabs && mkdir /var/spool/cron/crontabs",
    ]);
    let pid = docker.pid(&id);
    attack::tamper_lower_layer(pid);
    // docker diff reads the layers itself, so it runs before the stat snapshots.
    let docker_diff = docker.changes(&id);
    let untouched = Untouched::take(pid);
    let (key, _) = keygen(w, "responder");

    let bundle = w.join("docker.zip");
    let o = collect_with_watchdog(
        &[
            "--container",
            &id,
            "--runtime",
            "docker",
            "-o",
            s(&bundle),
            "--key",
            s(&key),
        ],
        &[("DOCKER_HOST", docker.host.as_str())],
    );
    assert_eq!(code(&o), 0, "collect: {}{}", stdout(&o), stderr(&o));
    untouched.assert_unchanged();
    assert_eq!(docker.changes(&id), docker_diff, "docker diff changed");

    let x = attack::check_bundle(w, &bundle, &planted, pid);
    let record = read_json(&x.join("6-podspec/container.json"));
    assert_eq!(record["runtime"], "docker", "{record}");
    assert_eq!(record["id"], id.as_str());
    attack::check_diff_image(&bundle, &archive.path);
    let (exit, v) = diff_json(&bundle, &["--image-from-bundle"]);
    assert_eq!(
        (lines(&v), exit),
        (docker_diff, 3),
        "diff --image-from-bundle vs docker diff"
    );
    attack::check_shm_script(&bundle, &x);
    let report = crate::contents::validate_independently(&bundle, &w.join("extracted"));
    assert!(
        report.lines().any(|l| l.starts_with("ok 6-podspec/container.json ")),
        "{report}"
    );
}
