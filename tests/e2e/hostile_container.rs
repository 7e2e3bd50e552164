//! `forensic collect` against a container full of traps: a symlink loop, a directory 10,000 levels
//! deep, a million empty files, a file growing while it is read, a process that forks as fast as
//! it can, names of 255 bytes. Collection completes, takes what it can, and records what it could
//! not.

use crate::podman::{Container, Image};
use crate::util::*;
use rustix::fs::{Mode, OFlags};
use serde_json::Value;
use std::io::BufRead;
use std::os::fd::OwnedFd;
use std::path::Path;

/// Opens a directory relative to `at` (no path length limit).
fn open_dir(at: &OwnedFd, name: &str) -> OwnedFd {
    rustix::fs::openat(
        at,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW,
        Mode::empty(),
    )
    .unwrap()
}

/// `/deep/d/d/…/d/bottom.txt`, `levels` directories deep, made one level at a time (the path is
/// far longer than PATH_MAX).
fn make_deep(root: &OwnedFd, levels: usize) {
    rustix::fs::mkdirat(root, "deep", Mode::from_raw_mode(0o755)).unwrap();
    let mut fd = open_dir(root, "deep");
    for _ in 0..levels {
        rustix::fs::mkdirat(&fd, "d", Mode::from_raw_mode(0o755)).unwrap();
        fd = open_dir(&fd, "d");
    }
    let f = rustix::fs::openat(
        &fd,
        "bottom.txt",
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL,
        Mode::from_raw_mode(0o644),
    )
    .unwrap();
    rustix::io::write(&f, b"the bottom\n").unwrap();
}

/// `/many/NNN/NNN`: `dirs` × `per_dir` empty files.
fn make_many(root: &OwnedFd, dirs: usize, per_dir: usize) {
    rustix::fs::mkdirat(root, "many", Mode::from_raw_mode(0o755)).unwrap();
    let many = open_dir(root, "many");
    for d in 0..dirs {
        let name = format!("{d:03}");
        rustix::fs::mkdirat(&many, name.as_str(), Mode::from_raw_mode(0o755)).unwrap();
        let dir = open_dir(&many, &name);
        for f in 0..per_dir {
            rustix::fs::openat(
                &dir,
                format!("{f:03}").as_str(),
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL,
                Mode::from_raw_mode(0o644),
            )
            .unwrap();
        }
    }
}

fn jsonl_lines(path: &Path) -> impl Iterator<Item = Value> {
    std::io::BufReader::new(std::fs::File::open(path).unwrap())
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
}

#[test]
fn collect_from_a_container_full_of_traps_completes_and_records_what_it_could_not_take() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let tag = format!("t{}", std::process::id());
    let image = Image::build(w, &tag);
    let c = Container::start(&image, &format!("forensic-e2e-{tag}"));
    let long = "L".repeat(255);
    let long_dir = "D".repeat(255);
    c.sh(&format!(
        "ln -s loop-b /tmp/loop-a && ln -s loop-a /tmp/loop-b && ln -s . /tmp/self \
         && printf 'long name\\n' > /tmp/{long} \
         && mkdir /tmp/{long_dir} && printf 'inside\\n' > /tmp/{long_dir}/{long}"
    ));
    let root = rustix::fs::open(
        format!("/proc/{}/root", c.pid()).as_str(),
        OFlags::RDONLY | OFlags::DIRECTORY,
        Mode::empty(),
    )
    .unwrap();
    let t0 = std::time::Instant::now();
    make_deep(&root, 10_000);
    make_many(&root, 1000, 1000);
    eprintln!("traps laid in {:?}", t0.elapsed());
    drop(root);
    // The attacker's busy processes: one appends to a log as fast as it can, one forks.
    c.spawn("while :; do echo 0123456789abcdef0123456789abcdef >> /tmp/grow.log; done");
    c.spawn("while :; do /bin/true; done");
    c.wait_for("the log to grow", || {
        std::fs::metadata(format!("/proc/{}/root/tmp/grow.log", c.pid())).is_ok_and(|m| m.len() > 1 << 20)
    });

    let (key, _) = keygen(w, "responder");
    let bundle = w.join("traps.zip");
    c.collect(&bundle, &key, &["--quiet", "--json"]);
    eprintln!("collected in {:?}", t0.elapsed());
    let report = json(&run(&["verify", s(&bundle), "--json"]));
    assert_eq!(report["verified"], true, "{report}");

    // What could not be taken is recorded: the walk stopped at its depth limit, and the
    // flooded writable layer was copied only up to the bundle's member limit (SPEC §10).
    let gaps = serde_json::to_string(&report["gaps"]).unwrap();
    assert!(gaps.contains("depth"), "the depth limit is a recorded gap: {gaps}");
    assert!(
        gaps.contains("member limit"),
        "the member limit is a recorded gap: {gaps}"
    );
    assert!(report["members"].as_u64().unwrap() < 65_536);
    let x = w.join("x");
    let o = run(&["extract", s(&bundle), "-o", s(&x)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    eprintln!("verified and extracted in {:?}", t0.elapsed());

    // Everything else was indexed: a million and more entries, the long names, the loops as
    // links, the top of the deep directory.
    let mut entries = 0u64;
    let mut many = 0u64;
    let mut seen = std::collections::BTreeMap::new();
    let wanted = [
        "/tmp/loop-a".to_string(),
        "/tmp/self".to_string(),
        format!("/tmp/{long}"),
        format!("/tmp/{long_dir}/{long}"),
        "/deep/d/d/d".to_string(),
        "/many/999/999".to_string(),
        "/tmp/grow.log".to_string(),
    ];
    for e in jsonl_lines(&x.join("5-filesystem/tree-index.jsonl")) {
        entries += 1;
        let path = e["path"].as_str().unwrap_or_default();
        if path.starts_with("/many/") && e["type"] == "file" {
            many += 1;
        }
        if wanted.iter().any(|w| w == path) {
            seen.insert(path.to_string(), e);
        }
    }
    assert_eq!(many, 1_000_000, "every one of the million files is indexed");
    assert!(entries > 1_000_000);
    for w in &wanted {
        assert!(seen.contains_key(w), "{w} is indexed");
    }
    assert_eq!(seen["/tmp/loop-a"]["type"], "symlink");
    assert_eq!(seen["/tmp/loop-a"]["symlink_target"], "loop-b");
    assert_eq!(seen["/tmp/self"]["symlink_target"], ".");
    assert_eq!(
        seen[&format!("/tmp/{long_dir}/{long}")]["sha256"],
        forensic_bundle::digest::Digest::of(b"inside\n").hex().as_str()
    );

    // The growing file, copied with the attacker places before the flood: what was copied is a
    // prefix of the file as it is now.
    let copied = std::fs::read(x.join("5-filesystem/root/tmp/grow.log")).unwrap();
    let now = std::fs::read(format!("/proc/{}/root/tmp/grow.log", c.pid())).unwrap();
    assert!(copied.len() >= 1 << 20, "{}", copied.len());
    assert!(now.starts_with(&copied), "the copy is what the file held");

    // The forking loop's shell was recorded with its command line; the short-lived children that
    // vanished mid-read did not stop the collection.
    let procs = json(&run(&["show", s(&bundle), "processes", "--json"]));
    let cmdlines: Vec<String> = procs["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| serde_json::to_string(&p["cmdline"]).unwrap())
        .collect();
    assert!(
        cmdlines.iter().any(|c| c.contains("while :; do /bin/true; done")),
        "{cmdlines:?}"
    );
}
