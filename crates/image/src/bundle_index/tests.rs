use super::*;
use forensic_bundle::keys::signing_key_from_seed;
use forensic_bundle::manifest::{Collector, Source};
use forensic_bundle::section::Section;
use forensic_bundle::time::Timestamp;
use forensic_bundle::verify::{VerifyOptions, verify};
use forensic_bundle::writer::{BundleWriter, Header, MemberSpec, Seal};
use std::io::Cursor;

type Members<'a> = Vec<(Section, &'a str, Vec<u8>)>;

fn bundle(members: &Members<'_>) -> Vec<u8> {
    let t = Timestamp::parse("2026-11-29T07:00:00.000000000Z").unwrap();
    let header = Header::new("b", t.clone(), Collector::new("test", "1"));
    let mut w = BundleWriter::new(Cursor::new(Vec::new()), header).unwrap();
    let mut open: Option<Section> = None;
    for (section, name, content) in members {
        if open != Some(*section) {
            if open.is_some() {
                w.end_section(t.clone()).unwrap();
            }
            w.begin_section(*section, t.clone()).unwrap();
            open = Some(*section);
        }
        let spec = MemberSpec::new(name, Source::Derived { derived: "test".into() }, t.clone());
        w.add_member(spec, &content[..]).unwrap();
    }
    w.end_section(t.clone()).unwrap();
    let key = signing_key_from_seed(&[9; 32]);
    w.finish(&Seal {
        key: &key,
        actor: "t".into(),
        time: t,
        note: None,
    })
    .unwrap()
    .into_inner()
}

fn line(path: &str, kind: &str, mode: &str, extra: &str) -> String {
    format!(r#"{{"path":"{path}","type":"{kind}","mode":"{mode}","uid":0,"gid":0,"size":0,"mtime_ns":5{extra}}}"#)
}

fn file_line(path: &str, content: &str) -> String {
    line(
        path,
        "file",
        "0644",
        &format!(r#","sha256":"{}""#, Digest::of(content.as_bytes())),
    )
}

const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\nbackdoor:x:0:0::/root:/bin/sh\n";

fn members() -> Members<'static> {
    let tree = [
        line("/", "dir", "0755", ""),
        line("/etc", "dir", "0755", ""),
        file_line("/etc/passwd", PASSWD),
        file_line("/etc/group", "root:x:0:\n"),
        line(
            "/proc",
            "mountpoint-skipped",
            "0555",
            r#","note":"proc filesystem: not entered""#,
        ),
        r#"{"path":"/secret","type":"skipped","error":"permission denied"}"#.to_string(),
        String::new(),
    ]
    .join("\n");
    let upper = [
        r#"{"path":"/etc","change":"dir","type":"dir"}"#,
        r#"{"path":"/etc/passwd","change":"modified","type":"file","member":"5-filesystem/upper/etc/passwd"}"#,
        r#"{"path":"/etc/motd","change":"deleted","type":"whiteout"}"#,
        r#"{"path":"/opt","change":"opaque-dir","type":"dir"}"#,
    ]
    .join("\n");
    let top = [
        line("/", "dir", "0755", ""),
        line("/etc", "dir", "0755", ""),
        line("/etc/motd", "char", "0000", r#","rdev":"0:0""#),
        file_line("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"),
    ]
    .join("\n");
    let bottom = [
        line("/", "dir", "0700", ""),
        line("/etc", "dir", "0755", ""),
        file_line("/etc/motd", "hi\n"),
        file_line("/etc/passwd", "old\n"),
        line("/usr", "dir", "0755", ""),
    ]
    .join("\n");
    let layers = r#"[{"layer":0,"path":"/l/top","member":"layers/0.jsonl"},{"layer":1,"path":"/l/bottom","member":"layers/1.jsonl"}]"#;
    vec![
        (Section::Filesystem, "tree-index.jsonl", tree.into_bytes()),
        (Section::Filesystem, "upper-changes.jsonl", upper.into_bytes()),
        (Section::Filesystem, "upper/etc/passwd", PASSWD.as_bytes().to_vec()),
        (Section::Filesystem, "root/etc/passwd", b"stale copy\n".to_vec()),
        (Section::Filesystem, "root/etc/group", b"root:x:0:\n".to_vec()),
        (Section::Image, "layers.json", layers.as_bytes().to_vec()),
        (Section::Image, "layers/0.jsonl", top.into_bytes()),
        (Section::Image, "layers/1.jsonl", bottom.into_bytes()),
    ]
}

fn manifest_of(bytes: &[u8]) -> Manifest {
    let report = verify(bytes, &VerifyOptions::default()).unwrap();
    assert!(report.verified(), "{:?}", report.failures);
    report.manifest.unwrap()
}

#[test]
fn the_container_view_comes_from_the_tree_index_and_the_writable_layer() {
    let bytes = bundle(&members());
    let manifest = manifest_of(&bytes);
    let mut b = BundleEvidence::open(&bytes[..], Some(&manifest), Check::Strict, ReadLimits::default()).unwrap();
    let fs = b.container().unwrap();
    assert_eq!(
        fs.files.keys().map(String::as_str).collect::<Vec<_>>(),
        ["/", "/etc", "/etc/group", "/etc/passwd", "/proc"]
    );
    assert_eq!(
        fs.unexplored
            .iter()
            .map(|(p, w)| (p.as_str(), w.as_str()))
            .collect::<Vec<_>>(),
        [
            ("/proc", "proc filesystem: not entered"),
            ("/secret", "permission denied")
        ]
    );
    let w = fs.writable.clone().unwrap();
    assert_eq!(
        w.entries.iter().map(String::as_str).collect::<Vec<_>>(),
        ["/", "/etc", "/etc/passwd", "/opt"]
    );
    assert_eq!(w.deleted.iter().map(String::as_str).collect::<Vec<_>>(), ["/etc/motd"]);
    assert_eq!(w.opaque.iter().map(String::as_str).collect::<Vec<_>>(), ["/opt"]);
    // The writable layer's copy matches the index; the stale copy under root/ is not used.
    let wanted = [
        "/etc/passwd".to_string(),
        "/etc/group".to_string(),
        "/missing".to_string(),
    ];
    let loaded = b.container_contents(&fs, &wanted).unwrap();
    assert_eq!(loaded.contents["/etc/passwd"], PASSWD.as_bytes());
    assert_eq!(loaded.members["/etc/passwd"], "5-filesystem/upper/etc/passwd");
    assert_eq!(loaded.members["/etc/group"], "5-filesystem/root/etc/group");
    assert_eq!(loaded.contents.len(), 2);
    assert!(b.warnings().is_empty());
}

#[test]
fn the_image_from_the_bundle_merges_the_lower_layers() {
    let bytes = bundle(&members());
    let manifest = manifest_of(&bytes);
    let mut b = BundleEvidence::open(&bytes[..], Some(&manifest), Check::Strict, ReadLimits::default()).unwrap();
    let image = b.image_from_layers().unwrap();
    assert_eq!(
        image.keys().map(String::as_str).collect::<Vec<_>>(),
        ["/", "/etc", "/etc/passwd", "/usr"]
    );
    assert_eq!(image["/"].mode, 0o755, "the top layer's root wins");
    assert_eq!(
        image["/etc/passwd"].sha256,
        Some(Digest::of(b"root:x:0:0:root:/root:/bin/sh\n"))
    );
}

/// The sorted readers (spilled at every entry here) give what the in-memory ones give, in path
/// order, and the diff over them is the in-memory diff.
#[test]
fn the_sorted_readers_and_diff_agree_with_the_in_memory_ones() {
    let bytes = bundle(&members());
    let manifest = manifest_of(&bytes);
    let open = || BundleEvidence::open(&bytes[..], Some(&manifest), Check::Strict, ReadLimits::default()).unwrap();
    let (mut a, mut b) = (open(), open());
    let fs = a.container().unwrap();
    let image = a.image_from_layers().unwrap();
    let sorted = b.container_sorted(1).unwrap();
    assert_eq!(sorted.unexplored, fs.unexplored);
    assert_eq!(sorted.writable, fs.writable);
    let entries: Vec<FileEntry> = sorted.entries.collect::<Result<_, _>>().unwrap();
    assert_eq!(entries, fs.files.values().cloned().collect::<Vec<_>>());
    let merged: Vec<FileEntry> = b
        .image_from_layers_sorted(1)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(merged, image.values().cloned().collect::<Vec<_>>());
    assert_eq!(b.layer_mismatches(), a.layer_mismatches());
    let around = crate::diff::Around {
        unexplored: &fs.unexplored,
        writable: fs.writable.as_ref(),
    };
    for opts in [
        crate::diff::DiffOptions::default(),
        crate::diff::DiffOptions::docker(true),
    ] {
        let expected = crate::diff::diff(&image, &fs, &opts);
        let (got, kept) = crate::diff::diff_sorted(
            b.image_from_layers_sorted(1).unwrap(),
            b.container_sorted(1).unwrap().entries,
            &around,
            &opts,
        )
        .unwrap();
        assert_eq!(got, expected);
        assert!(!got.changes.is_empty());
        assert_eq!(kept.image_entries, image.len() as u64);
        for c in &got.changes {
            assert_eq!(kept.image.get(&c.path), image.get(&c.path), "{}", c.path);
            assert_eq!(kept.container.get(&c.path), fs.files.get(&c.path), "{}", c.path);
        }
    }
}

#[test]
fn members_are_checked_against_the_manifest_as_they_are_read() {
    let good = bundle(&members());
    let manifest = manifest_of(&good);
    // The same bundle with the tree index changed after verification.
    let mut changed = members();
    if let Some(m) = changed.get_mut(0) {
        m.2.extend_from_slice(line("/evil", "file", "0755", "").as_bytes());
    }
    let bad = bundle(&changed);
    let mut b = BundleEvidence::open(&bad[..], Some(&manifest), Check::Strict, ReadLimits::default()).unwrap();
    let err = b.container().unwrap_err();
    assert!(
        matches!(&err, BundleIndexError::Checked(CheckedError::DigestMismatch { member, .. }) if member == TREE_INDEX),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("member 5-filesystem/tree-index.jsonl does not match the manifest")
    );
    // Lenient: used, with a warning.
    let mut b = BundleEvidence::open(&bad[..], Some(&manifest), Check::Lenient, ReadLimits::default()).unwrap();
    let fs = b.container().unwrap();
    assert!(fs.files.contains_key("/evil"));
    assert_eq!(b.warnings().len(), 1);
    assert!(
        b.warnings()[0].ends_with("; used anyway (--force)"),
        "{:?}",
        b.warnings()
    );
    // Without a manifest: strict refuses, lenient warns.
    assert!(matches!(
        BundleEvidence::open(&bad[..], None, Check::Strict, ReadLimits::default()),
        Err(BundleIndexError::Checked(CheckedError::NoManifest))
    ));
    let b = BundleEvidence::open(&bad[..], None, Check::Lenient, ReadLimits::default()).unwrap();
    assert_eq!(b.warnings().len(), 1);
}

#[test]
fn missing_members_bad_lines_and_limits_are_errors() {
    let only_tree = vec![(Section::Filesystem, "tree-index.jsonl", b"{\"path\":\"/\"}\n".to_vec())];
    let bytes = bundle(&only_tree);
    let manifest = manifest_of(&bytes);
    let mut b = BundleEvidence::open(&bytes[..], Some(&manifest), Check::Strict, ReadLimits::default()).unwrap();
    let err = b.container().unwrap_err().to_string();
    assert!(
        err.starts_with("5-filesystem/tree-index.jsonl line 1: not an index line"),
        "{err}"
    );
    assert_eq!(
        b.image_from_layers().unwrap_err().to_string(),
        "the bundle has no member 9-image/layers.json: the list of the image's layers"
    );
    let bytes = bundle(&members());
    let manifest = manifest_of(&bytes);
    let limits = ReadLimits {
        max_entries: 3,
        ..ReadLimits::default()
    };
    let mut b = BundleEvidence::open(&bytes[..], Some(&manifest), Check::Strict, limits).unwrap();
    assert_eq!(
        b.container().unwrap_err().to_string(),
        "5-filesystem/tree-index.jsonl: more than 3 entries"
    );
    let limits = ReadLimits {
        max_line: 40,
        ..ReadLimits::default()
    };
    let mut b = BundleEvidence::open(&bytes[..], Some(&manifest), Check::Strict, limits).unwrap();
    assert_eq!(
        b.container().unwrap_err().to_string(),
        "5-filesystem/tree-index.jsonl line 1 is longer than 40 bytes"
    );
}

#[test]
fn root_copies_are_named_like_the_collector_names_them() {
    assert_eq!(
        root_member("/etc/passwd").as_deref(),
        Some("5-filesystem/root/etc/passwd")
    );
    assert_eq!(
        root_member("/home/a b/.ssh/authorized_keys").as_deref(),
        Some("5-filesystem/root/home/a b/.ssh/authorized_keys")
    );
    assert_eq!(
        root_member("/tmp/100%").as_deref(),
        Some("5-filesystem/root/tmp/100%25")
    );
    assert_eq!(root_member("/tmp/\\xff"), None);
    assert_eq!(root_member("/"), None);
}

/// The runtime's record chooses the diff's rules; the writable layer's empty entries are what a
/// CRI runtime's mount points look like (`runtime_paths`).
#[test]
fn the_container_record_and_the_empty_entries_of_the_writable_layer() {
    let upper = [
        r#"{"path":"/etc","change":"dir","type":"dir"}"#,
        r#"{"path":"/etc/hosts","change":"added","type":"file","size":0,"mode":"0755","sha256":null}"#,
        r#"{"path":"/etc/passwd","change":"modified","type":"file","size":9,"mode":"0644","sha256":null}"#,
        r#"{"path":"/dev","change":"added","type":"dir","mode":"0755"}"#,
        r#"{"path":"/run","change":"dir","type":"dir"}"#,
        r#"{"path":"/run/gone","change":"deleted","type":"whiteout"}"#,
        r#"{"path":"/etc-x","change":"added","type":"dir"}"#,
        r#"{"path":"/etc-x/f","change":"added","type":"file","size":1}"#,
    ]
    .join("\n");
    let record = br#"{"runtime":"docker","id":"0123","name":"victim","pid":7,"state":"running","created":null,
        "image_ref":null,"image_id":null,"image_digest":null,"labels":{},"pod":null,"namespace":null,
        "pod_uid":null,"log_path":null,"upper_dir":"/u","lower_dirs":["/l-init","/l"],"merged_dir":null,
        "privileged":false,"cap_add":[],"cap_drop":[],"capabilities":null,"seccomp_profile":null,
        "apparmor_profile":null,"run_as_user":null,"read_only_rootfs":false,
        "mounts":[{"source":null,"destination":"/data","rw":true,"type":"volume"}],"env":[]}"#;
    let mut m = members();
    m[1] = (Section::Filesystem, "upper-changes.jsonl", upper.into_bytes());
    m.insert(5, (Section::PodSpec, "container.json", record.to_vec()));
    let bytes = bundle(&m);
    let manifest = manifest_of(&bytes);
    let mut b = BundleEvidence::open(&bytes[..], Some(&manifest), Check::Strict, ReadLimits::default()).unwrap();
    let w = b.container().unwrap().writable.unwrap();
    assert_eq!(
        w.empty.iter().map(String::as_str).collect::<Vec<_>>(),
        ["/dev", "/etc/hosts"]
    );
    assert_eq!(
        w.dirs.iter().map(String::as_str).collect::<Vec<_>>(),
        ["/dev", "/etc", "/etc-x", "/run"]
    );
    let r = b.container_record().unwrap().unwrap();
    assert_eq!(
        (r.runtime.as_str(), r.mounts[0].destination.as_str()),
        ("docker", "/data")
    );
    // A bare process (--pid) has no record; a bundle without the member neither.
    let pid = br#"{"runtime":null,"pid":7,"note":"given by --pid"}"#;
    let mut m = members();
    m.insert(5, (Section::PodSpec, "container.json", pid.to_vec()));
    let bytes = bundle(&m);
    let manifest = manifest_of(&bytes);
    let mut b = BundleEvidence::open(&bytes[..], Some(&manifest), Check::Strict, ReadLimits::default()).unwrap();
    assert_eq!(b.container_record().unwrap(), None);
    let bytes = bundle(&members());
    let manifest = manifest_of(&bytes);
    let mut b = BundleEvidence::open(&bytes[..], Some(&manifest), Check::Strict, ReadLimits::default()).unwrap();
    assert_eq!(b.container_record().unwrap(), None);
}

#[test]
fn a_bad_container_record_is_an_error_naming_the_member() {
    for (bad, why) in [
        (
            &br#"{"runtime":"rkt","id":"x"}"#[..],
            "not a container record: unknown variant `rkt`",
        ),
        (&b"\xff\xfe"[..], "not a container record: expected value"),
        (&br#"[1,2]"#[..], "not a container record"),
    ] {
        let mut m = members();
        m.insert(5, (Section::PodSpec, "container.json", bad.to_vec()));
        let bytes = bundle(&m);
        let manifest = manifest_of(&bytes);
        let mut b = BundleEvidence::open(&bytes[..], Some(&manifest), Check::Strict, ReadLimits::default()).unwrap();
        let err = b.container_record().unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("6-podspec/container.json line 1: {why}")),
            "{err}"
        );
    }
    let mut m = members();
    m.insert(5, (Section::PodSpec, "container.json", vec![b' '; 100]));
    let bytes = bundle(&m);
    let manifest = manifest_of(&bytes);
    let limits = ReadLimits {
        max_list: 10,
        ..ReadLimits::default()
    };
    let mut b = BundleEvidence::open(&bytes[..], Some(&manifest), Check::Strict, limits).unwrap();
    assert!(b.container_record().is_err(), "larger than the limit");
}
