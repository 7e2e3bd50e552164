//! `forensic diff --image-from-bundle` against a real dockerd (docs/dev/runtimes.md §4): the test
//! starts its own containerd and dockerd through [`crate::runtimes::docker`] (own roots and unix
//! sockets, no network), loads the two-layer test image of [`crate::runtimes::image`], runs
//! containers with `--network none`, plants the §4 steps, collects with `forensic collect
//! --runtime docker`, and compares the change list with `docker diff` (`GET
//! /containers/ID/changes`, sorted: docker's order is random) and with the lines §4 measured.
//! Everything started here is stopped and removed when the harness's guard drops.

use crate::attack::{Victim, collect_with_watchdog};
use crate::diff::{diff_json, lines};
use crate::runtimes::Leftovers;
use crate::runtimes::docker::{Docker, DockerContainer};
use crate::runtimes::image;
use crate::util::*;
use serde_json::Value;
use std::path::Path;

/// The image the test loads.
const IMAGE: &str = "localhost/forensic-dockerdiff:1";

/// A fresh container of the test image (its main process sleeps), with `script` run in it as
/// the attacker; its id.
fn victim(docker: &Docker, name: &str, script: &str) -> String {
    let id = docker.run(name, IMAGE);
    if !script.is_empty() {
        DockerContainer { docker, id: id.clone() }.sh(script);
    }
    id
}

/// `forensic collect --container ID --runtime docker` into `bundle`.
fn collect(docker: &Docker, id: &str, bundle: &Path, key: &Path) {
    let o = collect_with_watchdog(
        &[
            "--container",
            id,
            "--runtime",
            "docker",
            "-o",
            s(bundle),
            "--key",
            s(key),
            "--quiet",
        ],
        &[("DOCKER_HOST", docker.host.as_str())],
    );
    assert_eq!(code(&o), 0, "collect: {}{}", stdout(&o), stderr(&o));
}

/// What `forensic diff BUNDLE --image-from-bundle [EXTRA] --json` lists, its exit code and JSON.
fn forensic_diff(bundle: &Path, extra: &[&str]) -> (Vec<String>, i32, Value) {
    let mut args = vec!["--image-from-bundle"];
    args.extend_from_slice(extra);
    let (exit, v) = diff_json(bundle, &args);
    (lines(&v), exit, v)
}

fn strs(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// §4's commands, with the test image's `/usr/bin/report` for its `/usr/bin/app`, and busybox
/// touched to a fixed time: the image's files have whole-second times (the tar headers of
/// [`image::build`]), and docker's `sameFsTime` calls a touch within the image's own second no
/// change (a timing flake otherwise).
const ATTACK: &str = "echo evil > /tmp/miner; echo 'x:x:0:0::/:/bin/sh' >> /etc/passwd; rm /etc/motd; \
     mkdir -p /var/new/deep; echo 1 > /var/new/deep/f; rm /usr/bin/report; touch -d @1800000000 /bin/busybox";

/// §4's table: each step on top of the previous ones, in a fresh container, with what
/// `docker diff` printed there.
const TABLE: [(&str, &[&str]); 4] = [
    ("touch /etc", &[]),
    ("chmod 644 /etc/group", &[]),
    (
        "rm -rf /usr/bin && mkdir /usr/bin && chmod 755 /usr/bin && touch -d @1700000000 /usr/bin",
        &["C /usr", "C /usr/bin", "D /usr/bin/report"],
    ),
    (
        "chmod 700 /var",
        &["C /usr", "C /usr/bin", "D /usr/bin/report", "C /var"],
    ),
];

/// The same bytes count, the time put back: what `docker diff` cannot see.
const STEALTH: &str = "cp -p /usr/bin/report /tmp/.ref && printf '#!/bin/sh\\necho rep0rt\\n' > /usr/bin/report \
     && touch -r /tmp/.ref /usr/bin/report && rm /tmp/.ref";

#[test]
fn diff_image_from_bundle_lists_what_docker_diff_lists() {
    let work = tempfile::tempdir().unwrap();
    let archive = image::build(work.path(), &[IMAGE], &[]);
    let d = Docker::start();
    d.load(&archive.path);
    let (key, _) = keygen(work.path(), "k");

    // §4's attack: the 14 lines docker printed, `C /bin` and `C /etc` included.
    let id = victim(&d, "attack", ATTACK);
    let expected = strs(&[
        "C /tmp",
        "A /tmp/miner",
        "C /usr",
        "C /usr/bin",
        "D /usr/bin/report",
        "C /var",
        "A /var/new",
        "A /var/new/deep",
        "A /var/new/deep/f",
        "C /etc",
        "C /etc/passwd",
        "D /etc/motd",
        "C /bin",
        "C /bin/busybox",
    ]);
    assert_eq!(d.changes(&id), expected, "docker diff itself");
    let bundle = work.path().join("attack.zip");
    collect(&d, &id, &bundle, &key);
    let (ours, exit, v) = forensic_diff(&bundle, &[]);
    assert_eq!(ours, expected, "forensic diff --image-from-bundle vs docker diff");
    assert_eq!((exit, v["rules"].as_str()), (3, Some("docker")));
    // The image as a file (`docker save`: a docker-archive, no -init layer) gives the same list.
    let saved = work.path().join("image.tar");
    d.cli(&["save", "-o", s(&saved), IMAGE]);
    let (exit, v) = diff_json(&bundle, &["--image", s(&saved)]);
    assert_eq!((lines(&v), exit), (expected.clone(), 3), "--image docker-archive");

    // §4's table, step by step.
    let mut script = String::new();
    for (n, (step, docker_printed)) in TABLE.iter().enumerate() {
        if !script.is_empty() {
            script.push_str(" && ");
        }
        script.push_str(step);
        let name = format!("row{n}");
        let id = victim(&d, &name, &script);
        let expected = strs(docker_printed);
        assert_eq!(d.changes(&id), expected, "docker diff after {script:?}");
        let bundle = work.path().join(format!("{name}.zip"));
        collect(&d, &id, &bundle, &key);
        let (ours, exit, _) = forensic_diff(&bundle, &[]);
        assert_eq!(ours, expected, "forensic diff after {script:?}");
        assert_eq!(
            exit,
            if expected.is_empty() { 0 } else { 3 },
            "exit code after {script:?}"
        );
    }

    // A change docker cannot see: not listed, but a finding (and exit code 3).
    let id = victim(&d, "stealth", STEALTH);
    assert_eq!(d.changes(&id), Vec::<String>::new(), "docker diff cannot see it");
    let bundle = work.path().join("stealth.zip");
    collect(&d, &id, &bundle, &key);
    let (ours, exit, v) = forensic_diff(&bundle, &[]);
    assert_eq!((ours, exit), (Vec::<String>::new(), 3));
    let kinds: Vec<(&str, &str)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["kind"].as_str().unwrap(), f["path"].as_str().unwrap()))
        .collect();
    assert!(
        kinds.contains(&("content-changed-metadata-kept", "/usr/bin/report")),
        "{kinds:?}"
    );
    // --all also lists the runtime's paths: docker's bind-mounted files differ from the init
    // layer's empty ones (and make /etc a parent).
    let (ours, _, v) = forensic_diff(&bundle, &["--all"]);
    assert_eq!(
        ours,
        strs(&[
            "C /etc",
            "C /etc/hostname",
            "C /etc/hosts",
            "C /etc/resolv.conf",
            "C /usr",
            "C /usr/bin",
            "C /usr/bin/report",
        ]),
        "--all"
    );
    let report = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"] == "/usr/bin/report")
        .unwrap();
    assert_eq!(report["reasons"], serde_json::json!(["content"]));
    let left = Leftovers::of_docker(&d);
    drop(d);
    left.assert_none();
}
