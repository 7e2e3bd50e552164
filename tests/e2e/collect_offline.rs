//! `forensic collect --offline-root ROOT` (CONTENTS.md §17) through the binary, over a node root
//! staged from real runtime state (`crates/nodedisk/tests/data`: Docker 20.10; `crates/bolt/tests/
//! data`: containerd 1.6's databases): `--container`, `--pod -n` and `--all`, their bundle names
//! and exit codes. The end-to-end tests with live runtimes and ext4 images are `deadbox`'s.

use crate::util::{code, keygen, run, s, stderr, stdout};
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

const NODEDISK_DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../crates/nodedisk/tests/data");
const BOLT_DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../crates/bolt/tests/data");
/// containerd's metadata database, as a node path.
pub const CTD_META: &str = "/var/lib/containerd/io.containerd.metadata.v1.bolt/meta.db";
const CTD_SNAPS: &str = "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/metadata.db";
const CTD_FS: &str = "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots";
/// The containerd container of the databases (pod shop/web-1, container app).
pub const CTD_VICTIM: &str = "bolt-victim-19487";
const D_VICTIM_MOUNT: &str = "e9c41383fb6a8a47bccd9744db255f2622b71af25fc8d78be9139f3a7379f87d";
const D_L2: &str = "f0aba16489d61e872b514fe1c20e85367c6ef770da0660e34c606e7b241fdaf9";
const D_L1: &str = "5fa665e264994a6854e57e2873739fb6280cd6f95dbc9e0ef298a7bd33b2ed37";
/// What each writable layer holds: a dropped file and a link to the node's /etc/shadow.
pub const MINER: &[u8] = b"evil\n";

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// A node's root: containerd's databases and snapshot directories, Docker's state and overlay2
/// directories (one container's writable layer left out), and the node's own /etc/shadow.
pub struct Node {
    /// ROOT.
    pub dir: tempfile::TempDir,
}

impl Node {
    /// Stages the root.
    pub fn stage() -> Node {
        let n = Node {
            dir: tempfile::tempdir().unwrap(),
        };
        n.write("/etc/shadow", b"root:$6$NODE-ONLY-SECRET:19000:0:99999:7:::\n");
        n.write(
            CTD_META,
            &std::fs::read(format!("{BOLT_DATA}/containerd-meta.db")).unwrap(),
        );
        n.write(
            CTD_SNAPS,
            &std::fs::read(format!("{BOLT_DATA}/containerd-snapshots.db")).unwrap(),
        );
        n.layer(&format!("{CTD_FS}/3/fs"), true);
        n.write(&format!("{CTD_FS}/2/fs/etc/motd"), b"layer 2\n");
        n.write(&format!("{CTD_FS}/1/fs/etc/motd"), b"layer 1\n");
        copy_tree(&Path::new(NODEDISK_DATA).join("docker"), &n.p("/var/lib/docker"));
        n.layer(&format!("/var/lib/docker/overlay2/{D_VICTIM_MOUNT}/diff"), true);
        for id in [format!("{D_VICTIM_MOUNT}-init"), D_L2.into(), D_L1.into()] {
            n.layer(&format!("/var/lib/docker/overlay2/{id}/diff"), false);
        }
        n
    }

    /// The examiner's path of node path `node_path`.
    pub fn p(&self, node_path: &str) -> PathBuf {
        self.dir.path().join(node_path.trim_start_matches('/'))
    }

    fn write(&self, node_path: &str, bytes: &[u8]) {
        let p = self.p(node_path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }

    fn layer(&self, dir: &str, planted: bool) {
        std::fs::create_dir_all(self.p(dir)).unwrap();
        if planted {
            self.write(&format!("{dir}/tmp/miner"), MINER);
            symlink("/etc/shadow", self.p(&format!("{dir}/tmp/shadowlink"))).unwrap();
        }
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn pod_and_all_write_one_sealed_bundle_per_container_with_the_documented_exit_codes() {
    let node = Node::stage();
    let t = tempfile::tempdir().unwrap();
    let (key, _) = keygen(t.path(), "k");
    let root = s(node.dir.path());
    let collect = |extra: &[&str]| {
        let mut a = vec!["collect", "--offline-root", root, "--key", s(&key)];
        a.extend_from_slice(extra);
        run(&a)
    };

    // --pod -n: the pod's one container (its sandbox is not a container of the pod).
    let pod_dir = t.path().join("pod");
    let o = collect(&["--pod", "web-1", "-n", "shop", "-o", s(&pod_dir), "--quiet"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(names(&pod_dir), ["containerd-app-bolt-victim-.zip"]);

    // --all --json: one bundle each, a summary array.
    let all = t.path().join("all");
    let o = collect(&["--all", "-o", s(&all), "--json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let expected = [
        "containerd-app-bolt-victim-.zip",
        "docker-done1-13b2a6f49707.zip",
        "docker-victim-98829d54b38d.zip",
    ];
    assert_eq!(names(&all), expected);
    let summary: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let targets: Vec<(&str, &str)> = summary
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["target"]["runtime"].as_str().unwrap(),
                b["target"]["container_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        targets,
        [
            ("containerd", CTD_VICTIM),
            (
                "docker",
                "13b2a6f49707ecb030fe6341ceefd9b32f165b2b6fc42a82e1ffdc8b714c0b3c"
            ),
            (
                "docker",
                "98829d54b38d56ed125e72758a9813b079f743b6d4584c17e4a7008d665272f6"
            ),
        ]
    );
    assert!(
        summary
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["target"].get("pid").is_none())
    );
    for b in expected {
        let o = run(&["verify", s(&all.join(b))]);
        assert_eq!(code(&o), 0, "{b}: {}", stdout(&o));
    }
    // done1's writable and init layers are missing on this disk: gaps, and still sealed.
    let done1 = &summary[1]["gaps"];
    assert!(
        done1.as_array().unwrap().iter().any(|g| g["what"]
            == "/var/lib/docker/overlay2/9e3c636d7dd36de9f09e95d312539f68be6dc22f751caed1532fac15c9cc179c/diff"),
        "{done1}"
    );

    // Again into the same directory: every bundle exists, none is written: exit 2.
    let o = collect(&["--all", "-o", s(&all), "--quiet"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert_eq!(stderr(&o).matches(" not collected: ").count(), 3, "{}", stderr(&o));
    // One of them removed: that one is collected, the others fail: exit 1.
    std::fs::remove_file(all.join(expected[1])).unwrap();
    let o = collect(&["--all", "-o", s(&all), "--quiet"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert_eq!(names(&all), expected);

    // --container by a unique id prefix into a file; an unknown one is exit 2, naming it.
    let one = t.path().join("one.zip");
    let o = collect(&["--container", "98829d", "-o", s(&one), "--quiet"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = collect(&["--container", "nosuch", "-o", s(&t.path().join("x.zip"))]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("no container \"nosuch\" on this disk (by id, name or id prefix; --list shows them)"),
        "{}",
        stderr(&o)
    );
    assert!(!t.path().join("x.zip").exists());
}
