//! Root filesystems as directories and as tars (plain, gzip, zstd).

use crate::support::*;
use forensic_image::index::{FileIndex, Kind};
use forensic_image::{ImageKind, ImageOptions, open_image};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::process::Command;

fn make_tree(root: &std::path::Path) {
    std::fs::create_dir_all(root.join("etc/ssl")).unwrap();
    std::fs::create_dir_all(root.join("usr/bin")).unwrap();
    std::fs::write(root.join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
    std::fs::write(root.join("etc/ssl/cert.pem"), vec![b'c'; 300_000]).unwrap();
    std::fs::write(root.join("usr/bin/tool"), "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(root.join("usr/bin/tool"), std::fs::Permissions::from_mode(0o4755)).unwrap();
    std::fs::write(root.join(OsStr::from_bytes(b"caf\xe9")), "latin-1 name").unwrap();
    symlink("/etc/shadow", root.join("shadow")).unwrap();
    // A symlink to a directory outside: recorded, never walked into.
    symlink("/usr", root.join("hostusr")).unwrap();
    let fifo = root.join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
}

/// Path, type, mode, size, content digest and link target of an entry.
type Shape = (String, Kind, u32, u64, Option<String>, Option<String>);

/// What the tree's forms must agree on (tar times are whole seconds, so times are left out).
fn shape(idx: &FileIndex) -> Vec<Shape> {
    idx.values()
        .map(|e| {
            (
                e.path.clone(),
                e.kind,
                e.mode,
                e.size,
                e.sha256.map(|d| d.hex()),
                e.link_target.clone(),
            )
        })
        .collect()
}

#[test]
fn a_directory_is_walked_without_following_symlinks() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    make_tree(&root);
    let image = open_image(&root, &ImageOptions::default()).unwrap();
    assert_eq!(image.kind(), ImageKind::RootfsDir);
    assert!(image.layers().is_empty());
    let idx = image.index().unwrap();
    assert_eq!(
        paths(&idx),
        [
            "/",
            "/caf\\xe9",
            "/etc",
            "/etc/passwd",
            "/etc/ssl",
            "/etc/ssl/cert.pem",
            "/fifo",
            "/hostusr",
            "/shadow",
            "/usr",
            "/usr/bin",
            "/usr/bin/tool"
        ]
    );
    assert_eq!(file_sha(&idx, "/etc/ssl/cert.pem"), sha(&vec![b'c'; 300_000]));
    assert_eq!(idx["/etc/ssl/cert.pem"].size, 300_000);
    assert_eq!(idx["/usr/bin/tool"].mode, 0o4755);
    assert_eq!(idx["/shadow"].kind, Kind::Symlink);
    assert_eq!(idx["/shadow"].link_target.as_deref(), Some("/etc/shadow"));
    assert_eq!(idx["/hostusr"].kind, Kind::Symlink);
    assert_eq!(idx["/fifo"].kind, Kind::Fifo);
    assert!(idx["/etc/passwd"].mtime_ns.is_some());
}

#[test]
fn a_tar_of_the_directory_gives_the_same_tree_plain_gzip_or_zstd() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    make_tree(&root);
    let from_dir = index_of(&root).unwrap();
    let tar = t.path().join("root.tar");
    let st = Command::new("tar")
        .args(["-C", root.to_str().unwrap(), "-cf", tar.to_str().unwrap(), "."])
        .status()
        .unwrap();
    assert!(st.success());
    let from_tar = index_of(&tar).unwrap();
    // The root directory's mode may differ (tempdir is 0700); compare below it too.
    assert_eq!(shape(&from_tar)[1..], shape(&from_dir)[1..]);
    let bytes = std::fs::read(&tar).unwrap();
    for (name, packed) in [("root.tar.gz", gzip(&bytes)), ("root.tar.zst", zstd(&bytes))] {
        let p = write(t.path(), name, &packed);
        let image = open_image(&p, &ImageOptions::default()).unwrap();
        assert_eq!(image.kind(), ImageKind::RootfsTar, "{name}");
        assert_eq!(image.index().unwrap(), from_tar, "{name}");
    }
}
