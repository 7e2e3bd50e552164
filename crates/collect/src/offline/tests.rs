//! One container on a node's disk, built for real under a temporary ROOT (see [`fixture`]),
//! collected offline into a sealed bundle: the bundle verifies, holds the merged view and the
//! writable layer, never the node's `/etc/shadow` nor the examiner's, and nothing under ROOT
//! changed (full `lstat`, atime included, and contents).

use super::fixture::{self, LOWER1, LOWER2, NODE_SHADOW, UPPER};
use super::{OfflineTarget, sections::NODE_OFFLINE};
use crate::collect::{CollectOptions, collect};
use crate::command::FakeRunner;
use crate::target::TargetSpec;
use forensic_bundle::section::Section;
use forensic_evidence::records::offline::OfflineSource;
use forensic_evidence::records::tree::TreeEntry;
use forensic_nodedisk::{
    Layer, LayerRole, MetadataFile, NodeRoot, OfflineContainer, OfflineRuntime, PodIdentity, StoredFile,
};
use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const ID: &str = "0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d";
const CONFIG: &str =
    "/var/lib/docker/containers/0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d/config.v2.json";
const JSON_LOG: &str = "/var/lib/docker/containers/0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d/0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d-json.log";
const KUBELET_DIR: &str = "/var/log/pods/shop_web-1_dbx-uid-1/app";
const CONFIG_BYTES: &[u8] = br#"{"ID":"0c1d","Name":"/web","State":{"Running":true,"Pid":4242}}"#;
const LOG_BYTES: &[u8] = b"{\"log\":\"pwned\\n\",\"stream\":\"stdout\",\"time\":\"2026-12-02T10:00:00Z\"}\n";
const POD_LOG: &[u8] = b"2026-12-02T10:00:00.000000000Z stdout F pwned\n";
const IMAGE_CONFIG: &[u8] = br#"{"architecture":"amd64","rootfs":{"type":"layers"}}"#;

fn write(n: &fixture::Node, p: &str, bytes: &[u8]) {
    let h = n.host(p);
    std::fs::create_dir_all(h.parent().unwrap()).unwrap();
    std::fs::write(h, bytes).unwrap();
}

/// The fixture's layers plus the container's metadata, logs and kubelet directory (with a link
/// to `/etc/shadow` in it), and the container record pointing at them.
fn node_with_container(lowers: &[&str]) -> (fixture::Node, OfflineContainer) {
    let n = fixture::node();
    write(&n, CONFIG, CONFIG_BYTES);
    write(&n, JSON_LOG, LOG_BYTES);
    write(&n, &format!("{KUBELET_DIR}/0.log"), POD_LOG);
    std::os::unix::fs::symlink("/etc/shadow", n.host(KUBELET_DIR).join("1.log")).unwrap();
    let mut c = OfflineContainer::new(OfflineRuntime::Docker, ID.into());
    c.name = Some("web".into());
    c.image_ref = Some("localhost/deadbox-bb:1".into());
    c.image_id = Some(format!("sha256:{}", "ab".repeat(32)));
    c.pod = Some(PodIdentity {
        name: "web-1".into(),
        namespace: "shop".into(),
        uid: Some("dbx-uid-1".into()),
    });
    c.state.status = "running".into();
    c.state.pid = Some(4242);
    c.state.source = CONFIG.into();
    c.upper = Some(UPPER.into());
    c.lowers = lowers
        .iter()
        .map(|d| Layer {
            dir: d.to_string(),
            diff_id: None,
            role: LayerRole::Image,
        })
        .collect();
    c.spec = vec![StoredFile {
        member: "config.v2.json".into(),
        bytes: CONFIG_BYTES.to_vec(),
        from: CONFIG.into(),
    }];
    c.image = vec![StoredFile {
        member: "config.json".into(),
        bytes: IMAGE_CONFIG.to_vec(),
        from: format!(
            "/var/lib/docker/image/overlay2/imagedb/content/sha256/{}",
            "ab".repeat(32)
        ),
    }];
    c.logs = vec![JSON_LOG.into()];
    c.kubelet_log_dir = Some(KUBELET_DIR.into());
    c.metadata_read = vec![MetadataFile::of(CONFIG, CONFIG_BYTES)];
    (n, c)
}

/// Everything `lstat` says of every entry under `dir` (atime, ctime and inode included), its
/// xattr names and a regular file's content hash, read without changing an atime itself
/// (directories and files opened with O_NOATIME). A symlink's atime is left out: the kernel's
/// readlink(2) updates it whatever the caller asks (`touch_atime` in `do_readlinkat`), so no
/// reader of link targets can keep it on a read-write mount; its target is compared by size.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    use rustix::fs::{Mode, OFlags};
    let open = |p: &Path, dir: bool| {
        let flags = OFlags::RDONLY | OFlags::NOATIME | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let flags = if dir { flags | OFlags::DIRECTORY } else { flags };
        rustix::fs::open(p, flags, Mode::empty()).unwrap()
    };
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(p) = todo.pop() {
        let md = std::fs::symlink_metadata(&p).unwrap();
        let mut xattrs: Vec<String> = xattr::list(&p)
            .map(|l| l.map(|n| n.to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        xattrs.sort();
        let atime = if md.file_type().is_symlink() {
            "(symlink)".to_string()
        } else {
            format!("{}.{}", md.atime(), md.atime_nsec())
        };
        let mut line = format!(
            "mode={:o} uid={} gid={} size={} ino={} nlink={} rdev={} atime={atime} mtime={}.{} ctime={}.{} xattrs={xattrs:?}",
            md.mode(),
            md.uid(),
            md.gid(),
            md.size(),
            md.ino(),
            md.nlink(),
            md.rdev(),
            md.mtime(),
            md.mtime_nsec(),
            md.ctime(),
            md.ctime_nsec()
        );
        if md.is_file() {
            let mut b = Vec::new();
            std::fs::File::from(open(&p, false)).read_to_end(&mut b).unwrap();
            line.push_str(&format!(
                " sha256={}",
                hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&b))
            ));
        }
        if md.is_dir() {
            let fd = open(&p, true);
            for e in rustix::fs::Dir::read_from(&fd).unwrap() {
                let e = e.unwrap();
                let name = e.file_name().to_bytes();
                if name != b"." && name != b".." {
                    todo.push(p.join(std::ffi::OsStr::from_bytes(name)));
                }
            }
        }
        out.insert(p, line);
    }
    out
}

fn members(bundle: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(bundle).unwrap()).unwrap();
    let mut out = BTreeMap::new();
    for i in 0..z.len() {
        let mut f = z.by_index(i).unwrap();
        let mut b = Vec::new();
        f.read_to_end(&mut b).unwrap();
        out.insert(f.name().unwrap().to_string(), b);
    }
    out
}

fn options(root: &Arc<NodeRoot>, c: OfflineContainer, out: PathBuf) -> CollectOptions {
    CollectOptions::new(
        TargetSpec::Offline(OfflineTarget::new(root.clone(), c)),
        out,
        std::sync::Arc::new(forensic_bundle::keys::signing_key_from_seed(&[7; 32])),
        "tester".into(),
    )
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_container_on_a_node_disk_is_collected_into_a_verified_bundle_and_root_is_untouched() {
    let (n, c) = node_with_container(&[LOWER2, LOWER1]);
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("b.zip");
    let before = snapshot(n.dir.path());
    let root = Arc::new(NodeRoot::open(n.dir.path()).unwrap());
    let summary = collect(&options(&root, c, out.clone()), &FakeRunner::default()).unwrap();
    let after = snapshot(n.dir.path());
    assert_eq!(before, after, "nothing under ROOT may change, atime included");

    // The bundle verifies.
    let bytes = std::fs::read(&out).unwrap();
    let report = forensic_bundle::verify::verify(&bytes[..], &Default::default()).unwrap();
    assert!(report.verified(), "{:?}", report.classes());

    // The manifest's target: no PID, no node (none given), the container and its pod.
    let t = &summary.target;
    assert_eq!(t.runtime.as_deref(), Some("docker"));
    assert_eq!(t.container_id.as_deref(), Some(ID));
    assert_eq!(t.container_name.as_deref(), Some("web"));
    assert_eq!(
        (t.pod.as_deref(), t.namespace.as_deref()),
        (Some("web-1"), Some("shop"))
    );
    assert_eq!((t.pid, t.node.as_deref()), (None, None));
    assert_eq!(t.image_ref.as_deref(), Some("localhost/deadbox-bb:1"));
    for s in [Section::Processes, Section::Network, Section::Memory] {
        assert!(
            summary.gaps.iter().any(|g| g.section == s && g.reason == NODE_OFFLINE),
            "{s}: {:?}",
            summary.gaps
        );
    }

    let m = members(&out);
    // Section 5: the merged view, exactly.
    let index: Vec<TreeEntry<'_>> = m["5-filesystem/tree-index.jsonl"]
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    let listed: Vec<String> = index
        .iter()
        .map(|e| format!("{} {} {:o}", e.path.shown(), e.kind.as_str(), e.perm()))
        .collect();
    assert_eq!(
        listed,
        [
            "/ dir 755",
            "/etc dir 755",
            "/etc/motd file 644",
            "/etc/passwd file 644",
            "/opt dir 755",
            "/opt/app dir 755",
            "/opt/app/new.txt file 644",
            "/tmp dir 755",
            "/tmp/evil file 755",
            "/tmp/evil-link file 755",
            "/tmp/shadow symlink 777",
            "/usr dir 755",
            "/usr/bin dir 755",
            "/usr/bin/sud file 4755",
            "/usr/bin/tool file 4755",
        ]
    );
    let shadow_link = index.iter().find(|e| e.path.shown() == "/tmp/shadow").unwrap();
    assert_eq!(shadow_link.symlink_target.as_ref().unwrap().as_bytes(), b"/etc/shadow");
    // The writable layer: copies and the change list.
    assert_eq!(m["5-filesystem/upper/tmp/evil"], b"#!/bin/sh\necho pwned\n");
    let changes = String::from_utf8(m["5-filesystem/upper-changes.jsonl"].clone()).unwrap();
    assert!(changes.contains(r#""path":"/gone","change":"deleted""#), "{changes}");
    assert!(
        changes.contains(r#""path":"/opt/app","change":"opaque-dir""#),
        "{changes}"
    );
    assert!(
        changes.contains(r#""path":"/usr/bin/sud","change":"added""#),
        "{changes}"
    );
    // Section 9: the image layers' indexes, top first, and the image as stored.
    let l0 = String::from_utf8(m["9-image/layers/0.jsonl"].clone()).unwrap();
    assert!(
        l0.contains(r#""path":"/etc/motd""#) && !l0.contains("/etc/passwd"),
        "{l0}"
    );
    assert!(m["9-image/layers/1.jsonl"].starts_with(br#"{"path":"/","type":"dir""#));
    assert_eq!(m["9-image/config.json"], IMAGE_CONFIG);
    let layers: serde_json::Value = serde_json::from_slice(&m["9-image/layers.json"]).unwrap();
    assert_eq!(layers[0]["path"], LOWER2);
    assert_eq!(layers[1]["path"], LOWER1);
    // Section 6: the spec byte for byte, and where it came from.
    assert_eq!(m["6-podspec/config.v2.json"], CONFIG_BYTES);
    let src: OfflineSource = serde_json::from_slice(&m["6-podspec/offline-source.json"]).unwrap();
    assert_eq!(src.root, n.dir.path().display().to_string());
    assert_eq!((src.runtime.as_str(), src.container.as_str()), ("docker", ID));
    assert_eq!(src.metadata_read.len(), 1);
    assert_eq!(src.metadata_read[0].path, CONFIG);
    assert_eq!(
        src.metadata_read[0].sha256,
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(CONFIG_BYTES))
    );
    assert_eq!(
        (src.last_state.status.as_str(), src.last_state.pid),
        ("running", Some(4242))
    );
    // Section 4: the runtime's log file and the kubelet's directory; its link is not followed.
    assert_eq!(
        m[&format!("4-logs/log-file/{ID}-json.log")],
        LOG_BYTES,
        "{:?}",
        m.keys().collect::<Vec<_>>()
    );
    assert_eq!(m["4-logs/pods/app/0.log"], POD_LOG);
    assert!(!m.contains_key("4-logs/pods/app/1.log"));
    assert!(
        summary
            .gaps
            .iter()
            .any(|g| g.what == format!("{KUBELET_DIR}/1.log") && g.reason.contains("not followed")),
        "{:?}",
        summary.gaps
    );
    // Neither the node's /etc/shadow nor the examiner's is anywhere in the bundle.
    let host_shadow = std::fs::read("/etc/shadow").unwrap_or_default();
    for (name, content) in &m {
        assert!(!contains(content, b"NODE-SHADOW-SECRET"), "{name}");
        if host_shadow.len() > 16 {
            assert!(!contains(content, &host_shadow), "{name}");
        }
    }
    assert!(!contains(&bytes, NODE_SHADOW));
}

#[test]
fn a_missing_layer_directory_is_a_gap_and_the_merged_view_says_so() {
    let missing = "/var/lib/docker/overlay2/9999/diff";
    let (n, c) = node_with_container(&[missing, LOWER1]);
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("b.zip");
    let root = Arc::new(NodeRoot::open(n.dir.path()).unwrap());
    let summary = collect(&options(&root, c, out.clone()), &FakeRunner::default()).unwrap();
    let gap = |what: &str| summary.gaps.iter().find(|g| g.what == what).map(|g| g.reason.clone());
    let reason = gap(missing).unwrap_or_else(|| panic!("{:?}", summary.gaps));
    assert!(
        reason.starts_with("layer directory missing or unreadable: "),
        "{reason}"
    );
    assert_eq!(
        gap("5-filesystem/tree-index.jsonl").as_deref(),
        Some(format!("the merged view is computed without the layer(s) that could not be read: {missing}").as_str())
    );
    let m = members(&out);
    let index = String::from_utf8(m["5-filesystem/tree-index.jsonl"].clone()).unwrap();
    // Without the top image layer, /etc/motd is the bottom layer's.
    let motd = index.lines().find(|l| l.starts_with(r#"{"path":"/etc/motd""#)).unwrap();
    let v1 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"motd v1\n"));
    assert!(motd.contains(&v1), "{motd}");
    assert!(!m.contains_key("9-image/layers/0.jsonl"));
    assert!(m.contains_key("9-image/layers/1.jsonl"));
}

#[test]
fn a_plain_read_would_change_an_atime_here() {
    // The control of the test above: on this filesystem a read without O_NOATIME changes a fresh
    // file's atime, so an unchanged snapshot means the collector used O_NOATIME.
    let n = fixture::node();
    let p = n.host("/etc/shadow");
    let before = std::fs::metadata(&p).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::read(&p).unwrap();
    let after = std::fs::metadata(&p).unwrap();
    assert_ne!(
        (before.atime(), before.atime_nsec()),
        (after.atime(), after.atime_nsec()),
        "the temporary directory is mounted noatime: the ROOT test proves nothing here"
    );
}
