//! Hostile and broken tars, as root-filesystem tars and as image layers: each gets the error that
//! says what is wrong, and nothing is followed or extracted.

use crate::support::*;
use forensic_image::index::Kind;
use forensic_image::{ImageError, ImageKind, ImageOptions, open_image};

fn rootfs(t: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = write(t.path(), name, bytes);
    assert_eq!(
        open_image(&p, &ImageOptions::default()).unwrap().kind(),
        ImageKind::RootfsTar
    );
    p
}

#[test]
fn dot_dot_escapes_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let p = rootfs(
        &t,
        "escape.tar",
        &Tar::new().file("ok", b"1").file("../escape", b"x").finish(),
    );
    match index_of(&p).unwrap_err() {
        ImageError::PathEscape { layer, entry } => {
            assert_eq!(entry, "../escape");
            assert!(layer.ends_with("escape.tar"), "{layer}");
        }
        other => panic!("{other:?}"),
    }
    let p = rootfs(
        &t,
        "deep.tar",
        &Tar::new().file("a/b/../../../etc/passwd", b"x").finish(),
    );
    assert!(
        matches!(index_of(&p).unwrap_err(), ImageError::PathEscape { entry, .. } if entry == "a/b/../../../etc/passwd")
    );
    // A PAX path record overrides the header name, and is checked the same way.
    let p = rootfs(
        &t,
        "pax-escape.tar",
        &Tar::new()
            .pax(&[("path", b"../../pax-escape")])
            .file("innocent", b"x")
            .finish(),
    );
    assert!(matches!(index_of(&p).unwrap_err(), ImageError::PathEscape { entry, .. } if entry == "../../pax-escape"));
}

#[test]
fn absolute_and_dotted_names_stay_inside_the_root() {
    let t = tempfile::tempdir().unwrap();
    let p = rootfs(
        &t,
        "abs.tar",
        &Tar::new()
            .file("/abs/path", b"a")
            .file(".//x//./y", b"b")
            .file("a/../z", b"c")
            .finish(),
    );
    let idx = index_of(&p).unwrap();
    assert_eq!(paths(&idx), ["/", "/abs", "/abs/path", "/x", "/x/y", "/z"]);
    assert_eq!(idx["/abs/path"], tar_file("/abs/path", b"a"));
}

#[test]
fn an_absurd_declared_size_is_refused_before_reading() {
    let t = tempfile::tempdir().unwrap();
    let p = rootfs(
        &t,
        "huge.tar",
        &Tar::new().raw(b"huge", b'0', b"", b"", 1 << 40).finish(),
    );
    match index_of(&p).unwrap_err() {
        ImageError::AbsurdSize { entry, size, limit, .. } => {
            assert_eq!((entry.as_str(), size, limit), ("huge", 1 << 40, 64 << 30));
        }
        other => panic!("{other:?}"),
    }
    // Below the limit but more than the tar holds: a truncation.
    let p = rootfs(
        &t,
        "claims.tar",
        &Tar::new().raw(b"claims", b'0', b"short", b"", 10_000).unfinished(),
    );
    assert!(
        matches!(index_of(&p).unwrap_err(), ImageError::Truncated { why, .. } if why.contains("\"claims\" declares 10000 bytes but the tar ends after 512"))
    );
}

#[test]
fn truncated_tars_are_reported_as_truncated() {
    let t = tempfile::tempdir().unwrap();
    let data = vec![7u8; 10_000];
    let full = Tar::new().file("a", b"first").file("big", &data).finish();
    // Cut inside the data of "big".
    let p = rootfs(&t, "cut.tar", &full[..3000]);
    match index_of(&p).unwrap_err() {
        ImageError::Truncated { why, .. } => assert!(why.contains("\"big\" declares 10000 bytes"), "{why}"),
        other => panic!("{other:?}"),
    }
    // Cut inside a header.
    let p = rootfs(&t, "cut-header.tar", &full[..1024 + 100]);
    assert!(matches!(index_of(&p).unwrap_err(), ImageError::Truncated { .. }));
    // Cut at an entry boundary: no end-of-archive marker.
    let p = rootfs(&t, "no-end.tar", &Tar::new().file("a", b"first").unfinished());
    assert!(matches!(index_of(&p).unwrap_err(), ImageError::Truncated { why, .. } if why.contains("end-of-archive")));
    // The same, gzip-compressed.
    let p = write(t.path(), "cut.tar.gz", &gzip(&full[..3000]));
    assert!(matches!(index_of(&p).unwrap_err(), ImageError::Truncated { .. }));
}

#[test]
fn symlinks_out_of_the_tree_are_recorded_not_followed() {
    let t = tempfile::tempdir().unwrap();
    let p = rootfs(
        &t,
        "links.tar",
        &Tar::new()
            .symlink("shadow", "/etc/shadow")
            .symlink("up", "../../../etc")
            .finish(),
    );
    let idx = index_of(&p).unwrap();
    assert_eq!(idx["/shadow"].kind, Kind::Symlink);
    assert_eq!(idx["/shadow"].link_target.as_deref(), Some("/etc/shadow"));
    assert_eq!(idx["/shadow"].sha256, None);
    assert_eq!(idx["/up"].link_target.as_deref(), Some("../../../etc"));
}

#[test]
fn entries_below_a_symlink_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let p = rootfs(
        &t,
        "through.tar",
        &Tar::new().symlink("etc", "/host/etc").file("etc/passwd", b"x").finish(),
    );
    match index_of(&p).unwrap_err() {
        ImageError::ParentNotDirectory {
            entry, parent, kind, ..
        } => {
            assert_eq!(
                (entry.as_str(), parent.as_str(), kind),
                ("/etc/passwd", "/etc", "symlink")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn hard_links_out_of_the_tree_or_to_nothing_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let p = rootfs(
        &t,
        "hl-out.tar",
        &Tar::new().hardlink("passwd", "../../etc/passwd").finish(),
    );
    match index_of(&p).unwrap_err() {
        ImageError::LinkOutsideTree { entry, target, .. } => {
            assert_eq!((entry.as_str(), target.as_str()), ("passwd", "../../etc/passwd"));
        }
        other => panic!("{other:?}"),
    }
    let p = rootfs(&t, "hl-none.tar", &Tar::new().hardlink("l", "missing").finish());
    assert!(matches!(index_of(&p).unwrap_err(), ImageError::BadLinkTarget { target, .. } if target == "/missing"));
    let p = rootfs(&t, "hl-dir.tar", &Tar::new().dir("d/").hardlink("l", "d").finish());
    assert!(matches!(
        index_of(&p).unwrap_err(),
        ImageError::BadLinkTarget {
            why: "is a directory",
            ..
        }
    ));
    // A hard link to a file before it gets that file's content.
    let p = rootfs(
        &t,
        "hl-ok.tar",
        &Tar::new().file("f", b"data").hardlink("l", "./f").finish(),
    );
    let idx = index_of(&p).unwrap();
    assert_eq!(idx["/l"].sha256, Some(sha(b"data")));
    assert_eq!(idx["/l"].link_target.as_deref(), Some("/f"));
}

#[test]
fn limits_on_entries_decompressed_size_and_extension_headers() {
    let t = tempfile::tempdir().unwrap();
    let p = rootfs(
        &t,
        "many.tar",
        &Tar::new().file("1", b"").file("2", b"").file("3", b"").finish(),
    );
    let opts = ImageOptions {
        max_entries: 2,
        ..ImageOptions::default()
    };
    assert!(matches!(
        index_with(&p, &opts).unwrap_err(),
        ImageError::TooManyEntries { limit: 2, .. }
    ));

    // A small gzip that inflates past the layer limit.
    let bomb = gzip(&Tar::new().file("zeros", &vec![0u8; 4 << 20]).finish());
    assert!(bomb.len() < 64 << 10);
    let p = write(t.path(), "bomb.tar.gz", &bomb);
    let opts = ImageOptions {
        max_layer_size: 1 << 20,
        ..ImageOptions::default()
    };
    assert!(matches!(index_with(&p, &opts).unwrap_err(), ImageError::LayerTooLarge { limit, .. } if limit == 1 << 20));

    // PAX records the reader would have to hold in memory: bounded.
    let huge = vec![b'a'; 2 << 20];
    let p = rootfs(
        &t,
        "pax-huge.tar",
        &Tar::new().pax(&[("comment", &huge)]).file("f", b"").finish(),
    );
    assert!(matches!(index_of(&p).unwrap_err(), ImageError::BadEntry { why, .. } if why.contains("extension headers")));
}

#[test]
fn unsupported_inputs_are_named() {
    let t = tempfile::tempdir().unwrap();
    let p = write(t.path(), "x.tar.xz", b"\xfd7zXZ\x00\x00\x04rest");
    assert!(matches!(
        open_image(&p, &ImageOptions::default()).unwrap_err(),
        ImageError::UnsupportedCompression { compression: "xz", .. }
    ));
    let p = write(t.path(), "notes.txt", &b"just some text, not an archive\n".repeat(40));
    assert!(matches!(
        open_image(&p, &ImageOptions::default()).unwrap_err(),
        ImageError::UnknownFormat { .. }
    ));
    let p = write(t.path(), "empty", b"");
    assert!(
        matches!(open_image(&p, &ImageOptions::default()).unwrap_err(), ImageError::UnknownFormat { why, .. } if why.contains("empty"))
    );
    let p = rootfs(&t, "volume.tar", &Tar::new().raw(b"label", b'V', b"", b"", 0).finish());
    assert!(matches!(
        index_of(&p).unwrap_err(),
        ImageError::UnsupportedEntryType { type_byte: 'V', .. }
    ));
}

#[test]
fn a_hostile_layer_in_an_image_is_named_by_layer() {
    let t = tempfile::tempdir().unwrap();
    let good = Tar::new().file("etc/motd", b"hi").finish();
    let evil = Tar::new().file("../../../root/.ssh/authorized_keys", b"key").finish();
    let l = Layout::single(t.path().join("oci"), &[Layer::gzip(good), Layer::gzip(evil.clone())]);
    match index_of(&l.dir).unwrap_err() {
        ImageError::PathEscape { layer, entry } => {
            assert!(layer.starts_with("layer 2 of 2"), "{layer}");
            assert!(
                layer.contains(&format!("blobs/sha256/{}", sha(&gzip(&evil)))),
                "{layer}"
            );
            assert_eq!(entry, "../../../root/.ssh/authorized_keys");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_hostile_outer_archive_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let l = Layout::single(
        t.path().join("oci"),
        &[Layer::gzip(Tar::new().file("f", b"x").finish())],
    );
    let tar = t.path().join("oci.tar");
    l.archive(&tar);
    let bytes = std::fs::read(&tar).unwrap();
    // Cut the archive short: refused as a malformed image archive, not read as a root filesystem.
    let cut = write(t.path(), "cut-oci.tar", &bytes[..bytes.len() - 1024 - 600]);
    assert!(matches!(
        open_image(&cut, &ImageOptions::default()).unwrap_err(),
        ImageError::BadArchive { .. }
    ));
    // A member that claims more bytes than the archive has.
    let mut claims = Tar::new();
    claims
        .file("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)
        .raw(b"index.json", b'0', b"{}", b"", 100_000);
    let p = write(t.path(), "claims-oci.tar", &claims.unfinished());
    match open_image(&p, &ImageOptions::default()).unwrap_err() {
        ImageError::BadArchive { why, .. } => {
            assert!(
                why.contains("\"index.json\" declares 100000 bytes at offset 1536"),
                "{why}"
            )
        }
        other => panic!("{other:?}"),
    }
    // The same member twice is ambiguous.
    let mut dup = Tar::new();
    dup.file("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)
        .file("index.json", br#"{"schemaVersion":2,"manifests":[]}"#)
        .file("index.json", br#"{"schemaVersion":2,"manifests":[]}"#);
    let p = write(t.path(), "dup.tar", &dup.finish());
    assert!(
        matches!(open_image(&p, &ImageOptions::default()).unwrap_err(), ImageError::BadArchive { why, .. } if why.contains("more than once"))
    );
}

#[test]
fn pax_times_long_names_and_owners_are_read() {
    let t = tempfile::tempdir().unwrap();
    let long = format!("{}/file", "d".repeat(150));
    let p = rootfs(
        &t,
        "pax.tar",
        &Tar::new()
            .pax(&[
                ("mtime", b"1700000000.123456789"),
                ("uid", b"100000"),
                ("path", long.as_bytes()),
            ])
            .file("short", b"content")
            .finish(),
    );
    let idx = index_of(&p).unwrap();
    let e = &idx[&format!("/{long}")];
    assert_eq!(e.mtime_ns, Some(1_700_000_000_123_456_789));
    assert_eq!(e.uid, 100_000);
    assert_eq!(e.sha256, Some(sha(b"content")));
    // Names that are not UTF-8 are kept as \xNN.
    let p = rootfs(&t, "bytes.tar", &Tar::new().raw(b"caf\xe9", b'0', b"", b"", 0).finish());
    assert!(index_of(&p).unwrap().contains_key("/caf\\xe9"));
}

#[test]
fn whiteout_names_in_a_rootfs_tar_are_ordinary_files() {
    let t = tempfile::tempdir().unwrap();
    let p = rootfs(
        &t,
        "wh.tar",
        &Tar::new()
            .file("a", b"1")
            .file(".wh.a", b"")
            .file("d/.wh..wh..opq", b"")
            .finish(),
    );
    assert_eq!(
        paths(&index_of(&p).unwrap()),
        ["/", "/.wh.a", "/a", "/d", "/d/.wh..wh..opq"]
    );
}

#[test]
fn bad_whiteouts_in_a_layer_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let l = Layout::single(
        t.path().join("oci"),
        &[Layer::gzip(Tar::new().file("d/.wh.", b"").finish())],
    );
    assert!(matches!(index_of(&l.dir).unwrap_err(), ImageError::BadEntry { why, .. } if why.contains("whiteout")));
}
