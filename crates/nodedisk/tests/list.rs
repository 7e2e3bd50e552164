//! `NodeRoot::list` over a node root staged from real runtime state (tests/data/README.md, the
//! bolt crate's containerd databases), then with one thing broken at a time: the broken
//! record is a problem naming its file, and every other container still lists.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use forensic_nodedisk::{LayerRole, Listing, MetadataFile, NodeRoot, OfflineContainer, OfflineRuntime, Problem};
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
const BOLT_DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../bolt/tests/data");

const CTD_META: &str = "/var/lib/containerd/io.containerd.metadata.v1.bolt/meta.db";
const CTD_SNAPS: &str = "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/metadata.db";
const CTD_FS: &str = "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots";

const VICTIM: &str = "98829d54b38d56ed125e72758a9813b079f743b6d4584c17e4a7008d665272f6";
const DONE1: &str = "13b2a6f49707ecb030fe6341ceefd9b32f165b2b6fc42a82e1ffdc8b714c0b3c";
const V_MOUNT: &str = "e9c41383fb6a8a47bccd9744db255f2622b71af25fc8d78be9139f3a7379f87d";
const D_MOUNT: &str = "9e3c636d7dd36de9f09e95d312539f68be6dc22f751caed1532fac15c9cc179c";
const L2_CACHE: &str = "f0aba16489d61e872b514fe1c20e85367c6ef770da0660e34c606e7b241fdaf9";
const L1_CACHE: &str = "5fa665e264994a6854e57e2873739fb6280cd6f95dbc9e0ef298a7bd33b2ed37";
const L1_CHAIN: &str = "1720c2061600d672d2b6a25f9e54dbbe3b1ce2cd011775e9616119df801a8283";
const L2_CHAIN: &str = "37fe15a5352795ecc3784b77882f3c0df92705d709a93bc7017328bb7ea09e56";

const PVICTIM: &str = "1af8a0b36c4c244748b182f1279f34217832ba12a8bc2eb9499e4425aa6a1dc9";
const PDONE: &str = "45914257b246d9c2c654e3c702c518e41c85d50fb4e7234a6803b69ff51240ac";
const P_LAYER: &str = "8f15cab72e02fc1282ed9dc185d6da903ca0e3baa2715141bec4e68786658abe";
const PD_LAYER: &str = "848411e6afecd6bfe3fa3f4eeae09d17ca4e79144256e3e09bbb70d935dfbd15";
const P_BASE: &str = "abae23b0838e33280d50aa90db705e50eac36eb77e0b7b1ef6828e34e56d840f";
const P_IMAGE: &str = "a135999cd034f6982bf3a61557ebdcaa3c589fb243b1ebf397875294829b778b";

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// A node root: the three runtimes' state, their layer directories (each writable layer with a
/// 5-byte `tmp/miner` and a link to `/etc/shadow`), and the node's own `/etc/shadow`.
struct Node {
    dir: tempfile::TempDir,
}

impl Node {
    fn stage() -> Node {
        let dir = tempfile::tempdir().unwrap();
        let n = Node { dir };
        n.write("/etc/shadow", b"root:$6$node:19000:0:99999:7:::\n");
        std::fs::create_dir_all(n.p(CTD_META).parent().unwrap()).unwrap();
        std::fs::copy(format!("{BOLT_DATA}/containerd-meta.db"), n.p(CTD_META)).unwrap();
        std::fs::create_dir_all(n.p(CTD_SNAPS).parent().unwrap()).unwrap();
        std::fs::copy(format!("{BOLT_DATA}/containerd-snapshots.db"), n.p(CTD_SNAPS)).unwrap();
        n.layer(&format!("{CTD_FS}/3/fs"), true);
        n.layer(&format!("{CTD_FS}/2/fs"), false);
        n.layer(&format!("{CTD_FS}/1/fs"), false);
        copy_tree(&Path::new(DATA).join("docker"), &n.p("/var/lib/docker"));
        n.layer(&format!("/var/lib/docker/overlay2/{V_MOUNT}/diff"), true);
        for id in [format!("{V_MOUNT}-init"), L2_CACHE.into(), L1_CACHE.into()] {
            n.layer(&format!("/var/lib/docker/overlay2/{id}/diff"), false);
        }
        // done1's writable and init layers are left out: a layer directory missing.
        copy_tree(&Path::new(DATA).join("podman"), &n.p("/var/lib/containers/storage"));
        n.layer(&format!("/var/lib/containers/storage/overlay/{P_LAYER}/diff"), true);
        n.layer(&format!("/var/lib/containers/storage/overlay/{PD_LAYER}/diff"), false);
        n.layer(&format!("/var/lib/containers/storage/overlay/{P_BASE}/diff"), false);
        n
    }

    fn p(&self, node_path: &str) -> PathBuf {
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
            self.write(&format!("{dir}/tmp/miner"), b"evil\n");
            symlink("/etc/shadow", self.p(&format!("{dir}/tmp/shadowlink"))).unwrap();
        }
    }

    fn list(&self) -> Listing {
        NodeRoot::open(self.dir.path()).unwrap().list()
    }
}

fn find<'a>(l: &'a Listing, id: &str) -> &'a OfflineContainer {
    l.containers
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("{id} not listed: {l:#?}"))
}

fn ids(l: &Listing) -> Vec<&str> {
    l.containers.iter().map(|c| c.id.as_str()).collect()
}

fn read(path: &str, size: u64, sha256: &str) -> MetadataFile {
    MetadataFile {
        path: path.into(),
        size,
        sha256: sha256.into(),
    }
}

fn problem(runtime: &'static str, file: &str, container: Option<&str>, error: &str) -> Problem {
    Problem {
        runtime,
        file: file.into(),
        container: container.map(str::to_string),
        error: error.into(),
    }
}

const ALL: [&str; 5] = ["bolt-victim-19487", DONE1, VICTIM, PVICTIM, PDONE];

#[test]
fn every_runtime_lists_from_the_disk() {
    let node = Node::stage();
    let l = node.list();
    assert_eq!(ids(&l), ALL);

    // containerd (ctr-made, CRI labels): no status checkpoint, so the state is unknown.
    let c = find(&l, "bolt-victim-19487");
    assert_eq!(
        c.runtime,
        OfflineRuntime::Containerd {
            namespace: "k8s.io".into()
        }
    );
    assert_eq!(c.name.as_deref(), Some("app"));
    assert_eq!(c.image_ref.as_deref(), Some("localhost/forensic-bolt:1"));
    assert_eq!(
        c.image_digest.as_deref(),
        Some("sha256:7bbb186c2b63109eccdc879f79cf0a97917960f3e2f574bc5c6ac1eb79f303ab")
    );
    let pod = c.pod.as_ref().unwrap();
    assert_eq!(
        (pod.name.as_str(), pod.namespace.as_str(), pod.uid.as_deref()),
        ("web-1", "shop", Some("bolt-uid-1"))
    );
    assert_eq!(
        c.kubelet_log_dir.as_deref(),
        Some("/var/log/pods/shop_web-1_bolt-uid-1/app")
    );
    assert_eq!((c.state.status.as_str(), c.state.source.as_str()), ("unknown", ""));
    assert_eq!(c.upper.as_deref(), Some(&*format!("{CTD_FS}/3/fs")));
    let lowers: Vec<&str> = c.lowers.iter().map(|l| l.dir.as_str()).collect();
    assert_eq!(lowers, [format!("{CTD_FS}/2/fs"), format!("{CTD_FS}/1/fs")]);
    assert_eq!(c.writable_size, Some(5));
    assert_eq!(c.spec.len(), 1);
    assert_eq!(c.spec[0].member, "oci-spec.json");
    assert_eq!(
        c.spec[0].from,
        "meta.db v1/k8s.io/containers/bolt-victim-19487/spec (the value of its protobuf Any)"
    );
    assert!(c.spec[0].bytes.starts_with(br#"{"ociVersion":"1.0.2-dev""#));
    assert_eq!(
        c.metadata_read[..2],
        [
            read(
                CTD_META,
                131072,
                "4e2675b4066fa83904af6adf70f8d7ddbe4ccf497952f2eb1aa61f142419f346"
            ),
            read(
                CTD_SNAPS,
                65536,
                "646cacd381a6371039cf9c52334f083b73a095e61b9a5525240b6bc5da6a413a"
            ),
        ]
    );
    // The fixture keeps no content store: the manifest blob is missing, and said so.
    let blob = "/var/lib/containerd/io.containerd.content.v1.content/blobs/sha256/7bbb186c2b63109eccdc879f79cf0a97917960f3e2f574bc5c6ac1eb79f303ab";
    assert_eq!(c.problems, [format!("{blob}: not found")]);

    // Docker, captured while `victim` ran.
    let v = find(&l, VICTIM);
    assert_eq!(v.runtime, OfflineRuntime::Docker);
    assert_eq!(v.name.as_deref(), Some("victim"));
    assert_eq!(v.image_ref.as_deref(), Some("localhost/nodedisk-bb:2"));
    assert_eq!(
        v.image_id.as_deref(),
        Some("sha256:3544cc92fc07451969c39a2bdfdb63b9297937442d30391daf4c48adf1878f71")
    );
    assert_eq!(v.image_digest, None, "a built image has no registry digest");
    let pod = v.pod.as_ref().unwrap();
    assert_eq!(
        (pod.name.as_str(), pod.namespace.as_str(), pod.uid.as_deref()),
        ("web-d", "shop", Some("dk-uid-1"))
    );
    assert_eq!(
        v.kubelet_log_dir.as_deref(),
        Some("/var/log/pods/shop_web-d_dk-uid-1/app")
    );
    assert_eq!(v.created.as_deref(), Some("2026-12-02T13:17:37.996021765Z"));
    assert_eq!(v.state.status, "running");
    assert_eq!(v.state.pid, Some(5340));
    assert_eq!(v.state.exit_code, None);
    assert_eq!(v.state.started.as_deref(), Some("2026-12-02T13:17:39.187437463Z"));
    assert_eq!(v.state.finished, None);
    assert_eq!(
        v.state.source,
        format!("/var/lib/docker/containers/{VICTIM}/config.v2.json")
    );
    assert_eq!(
        v.upper.as_deref(),
        Some(&*format!("/var/lib/docker/overlay2/{V_MOUNT}/diff"))
    );
    let lowers: Vec<(&str, Option<&str>, LayerRole)> = v
        .lowers
        .iter()
        .map(|l| (l.dir.as_str(), l.diff_id.as_deref(), l.role))
        .collect();
    assert_eq!(
        lowers,
        [
            (
                &*format!("/var/lib/docker/overlay2/{V_MOUNT}-init/diff"),
                None,
                LayerRole::Init
            ),
            (
                &*format!("/var/lib/docker/overlay2/{L2_CACHE}/diff"),
                Some("sha256:b5e266b88d5d831c407d3d6c71866b0430fa2b653b34d1b486427cb5fe1066b6"),
                LayerRole::Image
            ),
            (
                &*format!("/var/lib/docker/overlay2/{L1_CACHE}/diff"),
                Some(&*format!("sha256:{L1_CHAIN}")),
                LayerRole::Image
            ),
        ]
    );
    assert_eq!(v.writable_size, Some(5));
    // LogPath names the daemon's data root of the day; the copy has it at the standard place.
    assert_eq!(
        v.logs,
        [format!("/var/lib/docker/containers/{VICTIM}/{VICTIM}-json.log")]
    );
    let members: Vec<&str> = v.spec.iter().map(|s| s.member.as_str()).collect();
    assert_eq!(members, ["config.v2.json", "hostconfig.json"]);
    assert_eq!(v.image.len(), 1);
    assert_eq!(v.image[0].member, "config.json");
    assert_eq!(
        v.image[0].from,
        "/var/lib/docker/image/overlay2/imagedb/content/sha256/3544cc92fc07451969c39a2bdfdb63b9297937442d30391daf4c48adf1878f71"
    );
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    let read_paths: Vec<&str> = v.metadata_read.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        read_paths,
        [
            "/var/lib/docker/image/overlay2/repositories.json".to_string(),
            format!("/var/lib/docker/containers/{VICTIM}/config.v2.json"),
            format!("/var/lib/docker/containers/{VICTIM}/hostconfig.json"),
            format!("/var/lib/docker/image/overlay2/layerdb/mounts/{VICTIM}/mount-id"),
            format!("/var/lib/docker/image/overlay2/layerdb/mounts/{VICTIM}/init-id"),
            format!("/var/lib/docker/image/overlay2/layerdb/mounts/{VICTIM}/parent"),
            format!("/var/lib/docker/image/overlay2/layerdb/sha256/{L2_CHAIN}/cache-id"),
            format!("/var/lib/docker/image/overlay2/layerdb/sha256/{L2_CHAIN}/diff"),
            format!("/var/lib/docker/image/overlay2/layerdb/sha256/{L2_CHAIN}/parent"),
            format!("/var/lib/docker/image/overlay2/layerdb/sha256/{L1_CHAIN}/cache-id"),
            format!("/var/lib/docker/image/overlay2/layerdb/sha256/{L1_CHAIN}/diff"),
            "/var/lib/docker/image/overlay2/imagedb/content/sha256/3544cc92fc07451969c39a2bdfdb63b9297937442d30391daf4c48adf1878f71".to_string(),
        ]
    );
    // The image config's SHA-256 is its name (checked by the scan, shown here).
    assert_eq!(
        v.metadata_read[11].sha256,
        "3544cc92fc07451969c39a2bdfdb63b9297937442d30391daf4c48adf1878f71"
    );

    let d = find(&l, DONE1);
    assert_eq!(
        (d.state.status.as_str(), d.state.exit_code, d.state.pid),
        ("exited", Some(3), None)
    );
    assert_eq!(d.state.finished.as_deref(), Some("2026-12-02T13:17:41.335731952Z"));
    assert_eq!(d.pod, None);
    assert_eq!(d.logs, [format!("/var/lib/docker/containers/{DONE1}/{DONE1}-json.log")]);
    assert_eq!(d.writable_size, None);
    assert_eq!(
        d.problems,
        [
            format!("/var/lib/docker/overlay2/{D_MOUNT}/diff: not found"),
            format!("/var/lib/docker/overlay2/{D_MOUNT}-init/diff: not found"),
        ]
    );

    // podman.
    let p = find(&l, PVICTIM);
    assert_eq!(p.runtime, OfflineRuntime::Podman);
    assert_eq!(p.name.as_deref(), Some("pvictim"));
    assert_eq!(p.image_ref.as_deref(), Some("localhost/nodedisk-pm:1"));
    assert_eq!(p.image_id.as_deref(), Some(&*format!("sha256:{P_IMAGE}")));
    assert_eq!(
        p.image_digest.as_deref(),
        Some("sha256:6200d3b49339b6955abf4bcfa43ee2fa12ae240c4dfbe61c1e47f42d9037ffb5")
    );
    let pod = p.pod.as_ref().unwrap();
    assert_eq!(
        (pod.name.as_str(), pod.namespace.as_str(), pod.uid.as_deref()),
        ("web-p", "shop", Some("pm-uid-1"))
    );
    assert_eq!(p.created.as_deref(), Some("2026-12-02T13:19:08.781277934Z"));
    assert_eq!(p.state.status, "running");
    assert!(p.state.pid.is_some_and(|pid| pid > 0));
    assert_eq!(
        p.state.source,
        format!("/var/lib/containers/storage/libpod/bolt_state.db ctr/{PVICTIM}/state")
    );
    assert_eq!(
        p.upper.as_deref(),
        Some(&*format!("/var/lib/containers/storage/overlay/{P_LAYER}/diff"))
    );
    let lowers: Vec<(&str, Option<&str>)> = p
        .lowers
        .iter()
        .map(|l| (l.dir.as_str(), l.diff_id.as_deref()))
        .collect();
    assert_eq!(
        lowers,
        [(
            &*format!("/var/lib/containers/storage/overlay/{P_BASE}/diff"),
            Some(&*format!("sha256:{P_BASE}"))
        )]
    );
    assert_eq!(p.writable_size, Some(5));
    assert_eq!(
        p.logs,
        [format!(
            "/var/lib/containers/storage/overlay-containers/{PVICTIM}/userdata/ctr.log"
        )]
    );
    let members: Vec<&str> = p.spec.iter().map(|s| s.member.as_str()).collect();
    assert_eq!(members, ["libpod-config.json", "libpod-state.json"]);
    let members: Vec<&str> = p.image.iter().map(|s| s.member.as_str()).collect();
    assert_eq!(members, ["manifest.json", "config.json"]);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_eq!(
        p.metadata_read[0],
        read(
            "/var/lib/containers/storage/overlay-containers/containers.json",
            std::fs::metadata(node.p("/var/lib/containers/storage/overlay-containers/containers.json"))
                .unwrap()
                .len(),
            "297a25a090c580929230da81d3f4a884d4b26052dcc868b1693a673044c45187"
        )
    );
    let pd = find(&l, PDONE);
    assert_eq!((pd.state.status.as_str(), pd.state.exit_code), ("exited", Some(4)));
    assert_eq!(pd.pod, None, "pdone is in no pod and has no pod labels");
    assert_eq!(pd.writable_size, Some(0));

    // Problems of the listing: the containers' own, each naming its file.
    assert_eq!(
        l.problems,
        [
            problem(
                "containerd",
                blob,
                Some("bolt-victim-19487"),
                &format!("{blob}: not found")
            ),
            problem(
                "docker",
                &format!("/var/lib/docker/overlay2/{D_MOUNT}/diff"),
                Some(DONE1),
                &format!("/var/lib/docker/overlay2/{D_MOUNT}/diff: not found")
            ),
            problem(
                "docker",
                &format!("/var/lib/docker/overlay2/{D_MOUNT}-init/diff"),
                Some(DONE1),
                &format!("/var/lib/docker/overlay2/{D_MOUNT}-init/diff: not found")
            ),
        ]
    );
    // The table names each container once, with its pod and state.
    let table = forensic_nodedisk::table(&l);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 6);
    assert!(lines[0].starts_with("ID "), "{table}");
    let victim_line = lines.iter().find(|l| l.starts_with(&VICTIM[..12])).unwrap();
    let cols: Vec<&str> = victim_line.split_whitespace().collect();
    assert_eq!(
        cols,
        [
            &VICTIM[..12],
            "victim",
            "docker",
            "-",
            "shop/web-d",
            "running",
            "2026-12-02T13:17:37.996021765Z",
            "localhost/nodedisk-bb:2",
            "5"
        ]
    );
}

#[test]
fn a_truncated_meta_db_is_a_problem_and_the_others_still_list() {
    let node = Node::stage();
    let meta = std::fs::read(node.p(CTD_META)).unwrap();
    std::fs::write(node.p(CTD_META), &meta[..8192]).unwrap();
    let l = node.list();
    assert_eq!(ids(&l), [DONE1, VICTIM, PVICTIM, PDONE]);
    assert_eq!(l.problems[0].runtime, "containerd");
    assert_eq!(l.problems[0].file, CTD_META);
    assert_eq!(l.problems[0].container, None);
    assert!(
        l.problems[0].error.starts_with(&format!("{CTD_META}: truncated: ")),
        "{}",
        l.problems[0].error
    );
}

#[test]
fn garbage_json_names_the_file_and_the_others_still_list() {
    let node = Node::stage();
    let cfg = format!("/var/lib/docker/containers/{VICTIM}/config.v2.json");
    node.write(&cfg, b"{\"ID\": garbage");
    node.write("/var/lib/containers/storage/overlay-layers/layers.json", b"[{\"id\": 1");
    let l = node.list();
    assert_eq!(ids(&l), ["bolt-victim-19487", DONE1, PVICTIM, PDONE]);
    let p = l.problems.iter().find(|p| p.file == cfg).unwrap();
    assert_eq!(p.container.as_deref(), Some(VICTIM));
    assert!(p.error.starts_with(&format!("{cfg}: malformed JSON: ")), "{}", p.error);
    // Without layers.json the podman containers list, with their layer chain as a problem.
    let layers = "/var/lib/containers/storage/overlay-layers/layers.json";
    let p = l
        .problems
        .iter()
        .find(|p| p.file == layers && p.container.is_none())
        .unwrap();
    assert!(
        p.error.starts_with(&format!("{layers}: malformed JSON: ")),
        "{}",
        p.error
    );
    let pv = find(&l, PVICTIM);
    assert_eq!(pv.lowers, []);
    assert_eq!(pv.problems, [format!("{layers}: no layer {P_LAYER}")]);
}

#[test]
fn cyclic_and_overlong_layer_chains_are_refused() {
    let node = Node::stage();
    // Docker: the bottom layer's parent is the top one.
    node.write(
        &format!("/var/lib/docker/image/overlay2/layerdb/sha256/{L1_CHAIN}/parent"),
        format!("sha256:{L2_CHAIN}").as_bytes(),
    );
    // podman: 200 layers, each the parent of the one before.
    let mut layers = vec![serde_json::json!({"id": P_LAYER, "parent": format!("{:064x}", 1)})];
    for i in 1..200u32 {
        layers.push(serde_json::json!({"id": format!("{i:064x}"), "parent": format!("{:064x}", i + 1)}));
    }
    node.write(
        "/var/lib/containers/storage/overlay-layers/layers.json",
        serde_json::to_string(&layers).unwrap().as_bytes(),
    );
    let l = node.list();
    assert_eq!(ids(&l), ALL);
    let mounts = format!("/var/lib/docker/image/overlay2/layerdb/mounts/{VICTIM}/parent");
    assert_eq!(
        find(&l, VICTIM).problems,
        [format!(
            "{mounts}: the layer chain from sha256:{L2_CHAIN} loops: sha256:{L2_CHAIN} comes twice"
        )]
    );
    assert_eq!(
        find(&l, VICTIM).upper.as_deref(),
        Some(&*format!("/var/lib/docker/overlay2/{V_MOUNT}/diff"))
    );
    assert_eq!(
        find(&l, PVICTIM).problems,
        [format!(
            "/var/lib/containers/storage/overlay-layers/layers.json: the layer chain from {:064x} is longer than 128 layers",
            1
        )]
    );
}

#[test]
fn hostile_ids_never_become_paths() {
    let node = Node::stage();
    node.write(
        &format!("/var/lib/docker/image/overlay2/layerdb/mounts/{VICTIM}/mount-id"),
        b"../../../../etc",
    );
    std::fs::create_dir_all(node.p("/var/lib/docker/containers/..evil")).unwrap();
    // A config that is a link to the node's /etc/shadow is not read through the link.
    let cfg = node.p(&format!("/var/lib/docker/containers/{DONE1}/config.v2.json"));
    std::fs::remove_file(&cfg).unwrap();
    symlink("/etc/shadow", &cfg).unwrap();
    let l = node.list();
    assert_eq!(ids(&l), ["bolt-victim-19487", VICTIM, PVICTIM, PDONE]);
    let mount = format!("/var/lib/docker/image/overlay2/layerdb/mounts/{VICTIM}/mount-id");
    assert_eq!(
        find(&l, VICTIM).problems,
        [format!("{mount}: \"../../../../etc\" is not 64 hex digits")]
    );
    assert_eq!(find(&l, VICTIM).upper, None);
    let evil = l
        .problems
        .iter()
        .find(|p| p.container.as_deref() == Some("..evil"))
        .unwrap();
    assert_eq!(
        evil.error,
        "/var/lib/docker/containers/..evil: not a container directory: the name is not 64 hex digits"
    );
    let link = l
        .problems
        .iter()
        .find(|p| p.container.as_deref() == Some(DONE1))
        .unwrap();
    assert_eq!(
        link.error,
        format!("/var/lib/docker/containers/{DONE1}/config.v2.json: not a regular file")
    );
}

#[test]
fn node_symlinks_resolve_inside_the_root() {
    // /var/lib/docker -> /data/docker, as on nodes with a separate data disk.
    let node = Node::stage();
    std::fs::create_dir_all(node.p("/data")).unwrap();
    std::fs::rename(node.p("/var/lib/docker"), node.p("/data/docker")).unwrap();
    symlink("/data/docker", node.p("/var/lib/docker")).unwrap();
    let l = node.list();
    assert_eq!(ids(&l), ALL);
    assert_eq!(find(&l, VICTIM).writable_size, Some(5));
}

#[test]
fn an_empty_root_lists_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let l = NodeRoot::open(dir.path()).unwrap().list();
    assert!(l.containers.is_empty() && l.problems.is_empty(), "{l:?}");
}

/// Every entry under `dir`: path, type and mode, owner, size, mtime, atime, ctime (ns), link
/// target and SHA-256 of regular files (read with `O_NOATIME`, so the listing itself changes
/// nothing).
fn snapshot(dir: &Path) -> Vec<String> {
    use rustix::fs::{Mode, OFlags};
    use sha2::Digest;
    use std::io::Read;
    use std::os::unix::fs::MetadataExt;
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(p) = pending.pop() {
        let md = std::fs::symlink_metadata(&p).unwrap();
        let mut line = format!(
            "{} {:o} {}:{} {} m{}.{} a{}.{} c{}.{}",
            p.strip_prefix(dir).unwrap().display(),
            md.mode(),
            md.uid(),
            md.gid(),
            md.size(),
            md.mtime(),
            md.mtime_nsec(),
            md.atime(),
            md.atime_nsec(),
            md.ctime(),
            md.ctime_nsec()
        );
        if md.is_file() {
            let fd = rustix::fs::open(&p, OFlags::RDONLY | OFlags::NOATIME, Mode::empty()).unwrap();
            let mut bytes = Vec::new();
            std::fs::File::from(fd).read_to_end(&mut bytes).unwrap();
            line.push_str(&format!(" {}", hex::encode(sha2::Sha256::digest(&bytes))));
        } else if md.is_symlink() {
            line.push_str(&format!(" -> {}", std::fs::read_link(&p).unwrap().display()));
        } else if md.is_dir() {
            let fd = rustix::fs::open(&p, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOATIME, Mode::empty()).unwrap();
            for e in rustix::fs::Dir::new(fd).unwrap() {
                let e = e.unwrap();
                let name = e.file_name().to_str().unwrap().to_string();
                if name != "." && name != ".." {
                    pending.push(p.join(name));
                }
            }
        }
        out.push(line);
    }
    out.sort();
    out
}

/// Nothing under the root changes, access times included (the root is on a read-write
/// `relatime` filesystem, where a plain read of a freshly written file moves its atime).
#[test]
fn listing_changes_nothing_under_the_root_not_even_atimes() {
    let node = Node::stage();
    // The files are freshly written: a plain read would move their atime (relatime), and so
    // would listing a directory without O_NOATIME. Let a clock tick pass so a change shows.
    std::thread::sleep(std::time::Duration::from_millis(20));
    // `readlink` always touches a link's atime (relatime: once), even the snapshot's own: a
    // first snapshot takes that touch, so the next two compare only what `list` did.
    snapshot(node.dir.path());
    let before = snapshot(node.dir.path());
    let l = node.list();
    assert_eq!(l.containers.len(), 5);
    let after = snapshot(node.dir.path());
    let changed: Vec<(&String, &String)> = before.iter().zip(&after).filter(|(b, a)| b != a).collect();
    assert_eq!(before.len(), after.len());
    assert!(changed.is_empty(), "changed under the root: {changed:#?}");
    // The check can fail: an ordinary read of one of the files does move its atime here.
    let probe = node.p(&format!("/var/lib/docker/containers/{VICTIM}/hostconfig.json"));
    std::fs::read(&probe).unwrap();
    assert_ne!(
        snapshot(node.dir.path()),
        after,
        "a plain read did not change atime: the test proves nothing here"
    );
}

/// A containerd content-store blob whose bytes are not its digest is kept, and said to be
/// changed; the manifest's config digest is still followed.
#[test]
fn a_changed_content_blob_is_named() {
    let node = Node::stage();
    let blobs = "/var/lib/containerd/io.containerd.content.v1.content/blobs/sha256";
    let manifest = format!("{blobs}/7bbb186c2b63109eccdc879f79cf0a97917960f3e2f574bc5c6ac1eb79f303ab");
    let config = "sha256:3b9270b73dfe3e0f00594ef762b94cd78a34beb4d6f169a41d1557ede71215b2";
    node.write(
        &manifest,
        format!(r#"{{"schemaVersion":2,"config":{{"digest":"{config}"}},"layers":[]}}"#).as_bytes(),
    );
    let l = node.list();
    let c = find(&l, "bolt-victim-19487");
    assert_eq!(c.image_id.as_deref(), Some(config));
    assert_eq!(c.image.len(), 1);
    assert_eq!(
        (c.image[0].member.as_str(), c.image[0].from.as_str()),
        ("manifest.json", manifest.as_str())
    );
    assert_eq!(
        c.problems,
        [
            format!("{manifest}: its SHA-256 is not its name: the blob was changed"),
            format!("{blobs}/3b9270b73dfe3e0f00594ef762b94cd78a34beb4d6f169a41d1557ede71215b2: not found"),
        ]
    );
}

/// Without the snapshotter's database the containerd container still lists, its layers unknown.
#[test]
fn a_missing_snapshot_db_is_one_problem() {
    let node = Node::stage();
    std::fs::remove_file(node.p(CTD_SNAPS)).unwrap();
    let l = node.list();
    assert_eq!(ids(&l), ALL);
    let c = find(&l, "bolt-victim-19487");
    assert_eq!((c.upper.as_ref(), c.lowers.len()), (None, 0));
    assert_eq!(
        c.problems[0],
        format!("{CTD_SNAPS}: cannot be read (see the listing's problems), so the layers are unknown")
    );
    assert_eq!(
        l.problems[0],
        problem("containerd", CTD_SNAPS, None, &format!("{CTD_SNAPS}: not found"))
    );
}
