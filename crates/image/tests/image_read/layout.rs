//! Hand-made OCI layouts: layer semantics (whiteouts, opaque directories, replacement, hard links,
//! implicit parents), compression, platform selection, and tampering.

use crate::support::*;
use forensic_image::index::Kind;
use forensic_image::{ImageError, ImageKind, ImageOptions, Platform, open_image};
use serde_json::json;

fn lower() -> Vec<u8> {
    Tar::new()
        .dir("a/")
        .file("a/x", b"x1")
        .file("a/y", b"y1")
        .dir("d/")
        .file("d/old", b"old")
        .dir("d/sub/")
        .file("d/sub/deep", b"deep")
        .file("keep", b"k")
        .file("gone", b"g")
        .dir("p/")
        .file("p/q", b"q")
        .file("target", b"shared")
        .finish()
}

fn upper() -> Vec<u8> {
    Tar::new()
        // The opaque marker comes after a sibling of the same layer, which it must not hide.
        .dir("d/")
        .file("d/new", b"new")
        .file("d/.wh..wh..opq", b"")
        // Whiteouts of lower files.
        .file("a/.wh.x", b"")
        .file(".wh.gone", b"")
        // A whiteout does not hide a file of its own layer.
        .file("a/z", b"z2")
        .file("a/.wh.z", b"")
        // A file replaces a lower directory and everything in it.
        .file("p", b"now a file")
        // A file changed.
        .file("keep", b"k2")
        // A hard link to a lower file; one to a file of this layer.
        .hardlink("link-lower", "target")
        .hardlink("./a/link-same", "a/z")
        // Implicit parents.
        .file("i/j/k", b"implicit")
        // AUFS bookkeeping is not a file of the image.
        .file(".wh..wh.plnk/1.2", b"")
        .finish()
}

#[test]
fn layers_apply_with_whiteouts_opaque_dirs_and_links() {
    let t = tempfile::tempdir().unwrap();
    let l = Layout::single(t.path().join("oci"), &[Layer::gzip(lower()), Layer::gzip(upper())]);
    let image = open_image(&l.dir, &ImageOptions::default()).unwrap();
    assert_eq!(image.kind(), ImageKind::OciLayout);
    assert_eq!(image.layers().len(), 2);
    let idx = image.index().unwrap();
    assert_eq!(
        paths(&idx),
        [
            "/",
            "/a",
            "/a/link-same",
            "/a/y",
            "/a/z",
            "/d",
            "/d/new",
            "/i",
            "/i/j",
            "/i/j/k",
            "/keep",
            "/link-lower",
            "/p",
            "/target"
        ]
    );
    assert_eq!(idx["/a/y"], tar_file("/a/y", b"y1"));
    assert_eq!(idx["/keep"], tar_file("/keep", b"k2"));
    assert_eq!(idx["/p"], tar_file("/p", b"now a file"));
    assert_eq!(idx["/d/new"], tar_file("/d/new", b"new"));
    let mut link = tar_file("/link-lower", b"shared");
    link.link_target = Some("/target".into());
    assert_eq!(idx["/link-lower"], link);
    assert_eq!(idx["/a/link-same"].sha256, Some(sha(b"z2")));
    assert_eq!(idx["/a/link-same"].link_target.as_deref(), Some("/a/z"));
    // Implicit parents: 0755, root-owned, no time; the root exists even though no tar names it.
    for p in ["/", "/i", "/i/j"] {
        let e = &idx[p];
        assert_eq!(
            (e.kind, e.mode, e.uid, e.gid, e.mtime_ns),
            (Kind::Dir, 0o755, 0, 0, None),
            "{p}"
        );
    }
    assert_eq!(idx["/a"].mtime_ns, Some(MTIME as i64 * 1_000_000_000));
}

#[test]
fn plain_gzip_and_zstd_layers_read_alike_and_as_an_archive() {
    let t = tempfile::tempdir().unwrap();
    let a = Layout::single(t.path().join("a"), &[Layer::plain(lower()), Layer::zstd(upper())]);
    let b = Layout::single(t.path().join("b"), &[Layer::zstd(lower()), Layer::gzip(upper())]);
    let ia = index_of(&a.dir).unwrap();
    assert_eq!(ia, index_of(&b.dir).unwrap());
    let tar = t.path().join("a.tar");
    a.archive(&tar);
    let image = open_image(&tar, &ImageOptions::default()).unwrap();
    assert_eq!(image.kind(), ImageKind::OciArchive);
    assert_eq!(image.index().unwrap(), ia);
}

#[test]
fn multi_platform_index_selects_by_platform_and_defaults_to_the_host() {
    let t = tempfile::tempdir().unwrap();
    let l = Layout::new(t.path().join("multi"));
    let amd = l.image(
        &[Layer::gzip(Tar::new().file("arch", b"amd64").finish())],
        Some("linux/amd64"),
    );
    let arm = l.image(
        &[Layer::gzip(Tar::new().file("arch", b"arm64").finish())],
        Some("linux/arm64/v8"),
    );
    let attestation = {
        let mut d = l.image(
            &[Layer::gzip(Tar::new().file("sbom", b"{}").finish())],
            Some("unknown/unknown"),
        );
        d["annotations"] = json!({"vnd.docker.reference.type": "attestation-manifest"});
        d
    };
    l.index(vec![amd, arm, attestation]);
    let with = |p: Option<&str>| {
        index_with(
            &l.dir,
            &ImageOptions::with_platform(p.map(|p| Platform::parse(p).unwrap())),
        )
    };
    assert_eq!(file_sha(&with(Some("linux/arm64")).unwrap(), "/arch"), sha(b"arm64"));
    assert_eq!(file_sha(&with(Some("linux/arm64/v8")).unwrap(), "/arch"), sha(b"arm64"));
    assert_eq!(file_sha(&with(Some("linux/amd64")).unwrap(), "/arch"), sha(b"amd64"));
    let image = open_image(
        &l.dir,
        &ImageOptions::with_platform(Some(Platform::parse("linux/arm64").unwrap())),
    )
    .unwrap();
    assert_eq!(image.platform().unwrap().to_string(), "linux/arm64/v8");
    match with(Some("linux/riscv64")) {
        Err(ImageError::PlatformNotFound { wanted, available, .. }) => {
            assert_eq!(wanted, "linux/riscv64");
            assert_eq!(available, "linux/amd64, linux/arm64/v8");
        }
        other => panic!("{other:?}"),
    }
    // No platform given: the host's.
    let host = Platform::host();
    match (host.architecture.as_str(), with(None)) {
        ("amd64", Ok(idx)) => assert_eq!(file_sha(&idx, "/arch"), sha(b"amd64")),
        ("arm64", Ok(idx)) => assert_eq!(file_sha(&idx, "/arch"), sha(b"arm64")),
        (_, Err(ImageError::PlatformNotFound { .. })) => {}
        (arch, other) => panic!("{arch}: {other:?}"),
    }
}

#[test]
fn without_the_host_platform_and_without_a_choice_the_error_lists_what_there_is() {
    let t = tempfile::tempdir().unwrap();
    let l = Layout::new(t.path().join("multi"));
    let a = l.image(
        &[Layer::gzip(Tar::new().file("arch", b"s390x").finish())],
        Some("linux/s390x"),
    );
    let b = l.image(
        &[Layer::gzip(Tar::new().file("arch", b"ppc").finish())],
        Some("linux/ppc64le"),
    );
    l.index(vec![a, b]);
    let err = index_of(&l.dir).unwrap_err();
    match &err {
        ImageError::PlatformNotFound { wanted, available, .. } => {
            assert!(wanted.contains("this host's"), "{wanted}");
            assert_eq!(available, "linux/s390x, linux/ppc64le");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("--platform"), "{err}");
}

#[test]
fn nested_indexes_are_followed() {
    let t = tempfile::tempdir().unwrap();
    let l = Layout::new(t.path().join("nested"));
    let amd = l.image(
        &[Layer::gzip(Tar::new().file("arch", b"amd64").finish())],
        Some("linux/amd64"),
    );
    let arm = l.image(
        &[Layer::gzip(Tar::new().file("arch", b"arm64").finish())],
        Some("linux/arm64"),
    );
    let inner =
        json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [amd, arm]});
    let inner = l.blob(
        "application/vnd.oci.image.index.v1+json",
        &serde_json::to_vec(&inner).unwrap(),
    );
    l.index(vec![inner]);
    let idx = index_with(
        &l.dir,
        &ImageOptions::with_platform(Some(Platform::parse("linux/arm64").unwrap())),
    )
    .unwrap();
    assert_eq!(file_sha(&idx, "/arch"), sha(b"arm64"));
}

#[test]
fn a_single_image_of_another_platform_is_refused_when_a_platform_is_asked_for() {
    let t = tempfile::tempdir().unwrap();
    let l = Layout::single(t.path().join("one"), &[Layer::gzip(lower())]);
    // The config says linux/amd64; the index does not label the manifest.
    assert!(
        index_with(
            &l.dir,
            &ImageOptions::with_platform(Some(Platform::parse("linux/amd64").unwrap()))
        )
        .is_ok()
    );
    let err = index_with(
        &l.dir,
        &ImageOptions::with_platform(Some(Platform::parse("linux/arm64").unwrap())),
    )
    .unwrap_err();
    assert!(
        matches!(&err, ImageError::PlatformNotFound { available, .. } if available == "linux/amd64"),
        "{err:?}"
    );
}

#[test]
fn a_tampered_layer_is_named_by_its_digest_error() {
    let t = tempfile::tempdir().unwrap();
    let big: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
    let layer = Layer::gzip(Tar::new().file("big", &big).finish());
    let d = sha(&layer.stored);
    let l = Layout::single(t.path().join("oci"), &[layer]);
    assert!(index_of(&l.dir).is_ok());
    let path = l.blob_path(&d);
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x20;
    std::fs::write(&path, &bytes).unwrap();
    let err = index_of(&l.dir).unwrap_err();
    match &err {
        ImageError::DigestMismatch {
            blob,
            claimed_by,
            expected,
            actual,
        } => {
            assert!(blob.contains(&format!("blobs/sha256/{d}")), "{blob}");
            assert!(blob.starts_with("layer 1 of 1"), "{blob}");
            assert_eq!(claimed_by, "the manifest");
            assert_eq!(*expected, d);
            assert_eq!(*actual, sha(&bytes));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn tampered_metadata_and_missing_or_resized_blobs_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let layer = Layer::gzip(lower());
    let ld = sha(&layer.stored);
    let l = Layout::single(t.path().join("oci"), &[layer]);
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(l.dir.join("index.json")).unwrap()).unwrap();
    let manifest_hex = index["manifests"][0]["digest"].as_str().unwrap()["sha256:".len()..].to_string();
    let manifest_path = l.dir.join("blobs/sha256").join(&manifest_hex);
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    let config_hex = manifest["config"]["digest"].as_str().unwrap()["sha256:".len()..].to_string();

    // A config with one byte changed (same size).
    let config_path = l.dir.join("blobs/sha256").join(&config_hex);
    let good_config = std::fs::read(&config_path).unwrap();
    let bad_config = String::from_utf8(good_config.clone())
        .unwrap()
        .replace("amd64", "amd65");
    std::fs::write(&config_path, bad_config).unwrap();
    match open_image(&l.dir, &ImageOptions::default()).unwrap_err() {
        ImageError::DigestMismatch { blob, claimed_by, .. } => {
            assert_eq!(blob, format!("config sha256:{config_hex}"));
            assert_eq!(claimed_by, format!("manifest sha256:{manifest_hex}"));
        }
        other => panic!("{other:?}"),
    }
    std::fs::write(&config_path, &good_config).unwrap();

    // A layer blob longer than its descriptor says.
    let layer_path = l.blob_path(&ld);
    let good_layer = std::fs::read(&layer_path).unwrap();
    let mut longer = good_layer.clone();
    longer.push(0);
    std::fs::write(&layer_path, &longer).unwrap();
    assert!(matches!(
        index_of(&l.dir).unwrap_err(),
        ImageError::SizeMismatch { expected, actual, .. } if expected + 1 == actual
    ));

    // A missing layer.
    std::fs::remove_file(&layer_path).unwrap();
    match index_of(&l.dir).unwrap_err() {
        ImageError::MissingBlob { what, location } => {
            assert_eq!(what, "layer 1 of 1");
            assert!(location.ends_with(&format!("blobs/sha256/{ld}")), "{location}");
        }
        other => panic!("{other:?}"),
    }

    // A symlinked blob is not followed.
    std::fs::write(t.path().join("elsewhere"), &good_layer).unwrap();
    std::os::unix::fs::symlink(t.path().join("elsewhere"), &layer_path).unwrap();
    assert!(matches!(
        index_of(&l.dir).unwrap_err(),
        ImageError::Io { .. } | ImageError::MissingBlob { .. }
    ));
}

#[test]
fn unsupported_digests_and_inconsistent_configs_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let l = Layout::new(t.path().join("oci"));
    let mut m = l.image(&[Layer::gzip(lower())], None);
    m["digest"] = json!(format!("sha512:{}", "a".repeat(128)));
    l.index(vec![m]);
    let err = open_image(&l.dir, &ImageOptions::default()).unwrap_err();
    assert!(
        matches!(&err, ImageError::BadMetadata { why, .. } if why.contains("sha512")),
        "{err:?}"
    );

    // diff_ids that do not match the layer count.
    let l = Layout::new(t.path().join("oci2"));
    let layer = l.blob("application/vnd.oci.image.layer.v1.tar+gzip", &gzip(&lower()));
    let config = l.blob(
        "application/vnd.oci.image.config.v1+json",
        br#"{"os":"linux","architecture":"amd64","rootfs":{"type":"layers","diff_ids":[]}}"#,
    );
    let manifest = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": config, "layers": [layer]});
    let m = l.blob(
        "application/vnd.oci.image.manifest.v1+json",
        &serde_json::to_vec(&manifest).unwrap(),
    );
    l.index(vec![m]);
    let err = open_image(&l.dir, &ImageOptions::default()).unwrap_err();
    assert!(
        matches!(&err, ImageError::BadMetadata { why, .. } if why.contains("diff_ids lists 0 layers")),
        "{err:?}"
    );
}

/// A docker-archive made by hand: config named by its digest, layers checked against diff_ids.
fn docker_archive(dir: &std::path::Path, name: &str, stored: &[u8], diff_id_of: &[u8]) -> std::path::PathBuf {
    let config = serde_json::to_vec(&json!({
        "os": "linux", "architecture": "amd64",
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{}", sha(diff_id_of))]}
    }))
    .unwrap();
    let config_name = format!("{}.json", sha(&config));
    let manifest = serde_json::to_vec(
        &json!([{"Config": config_name, "RepoTags": ["example/app:1"], "Layers": ["abc/layer.tar"]}]),
    )
    .unwrap();
    let mut outer = Tar::new();
    outer
        .file("manifest.json", &manifest)
        .file(&config_name, &config)
        .dir("abc/")
        .file("abc/layer.tar", stored);
    write(dir, name, &outer.finish())
}

#[test]
fn docker_archives_check_layers_against_diff_ids() {
    let t = tempfile::tempdir().unwrap();
    let tar = lower();
    let good = docker_archive(t.path(), "good.tar", &tar, &tar);
    let image = open_image(&good, &ImageOptions::default()).unwrap();
    assert_eq!(image.kind(), ImageKind::DockerArchive);
    assert_eq!(image.repo_tags(), ["example/app:1"]);
    assert_eq!(image.layers()[0].diff_id, Some(sha(&tar)));
    let expected = index_of(&Layout::single(t.path().join("oci"), &[Layer::gzip(tar.clone())]).dir).unwrap();
    assert_eq!(image.index().unwrap(), expected);

    // Compressed layer: its uncompressed tar is checked.
    let gz = docker_archive(t.path(), "gz.tar", &gzip(&tar), &tar);
    assert_eq!(index_of(&gz).unwrap(), expected);

    // A layer that is not the one the config names.
    let other = Tar::new().file("x", b"other").finish();
    let bad = docker_archive(t.path(), "bad.tar", &other, &tar);
    match index_of(&bad).unwrap_err() {
        ImageError::DigestMismatch { blob, claimed_by, .. } => {
            assert!(blob.contains("abc/layer.tar"), "{blob}");
            assert_eq!(claimed_by, "config rootfs.diff_ids[0]");
        }
        other => panic!("{other:?}"),
    }
    let bad_gz = docker_archive(t.path(), "bad-gz.tar", &gzip(&other), &tar);
    assert!(matches!(
        index_of(&bad_gz).unwrap_err(),
        ImageError::DigestMismatch { .. }
    ));
}

#[test]
fn a_config_whose_diff_id_is_not_the_layer_tar_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let real = lower();
    let claimed = Tar::new().file("other", b"x").finish();
    let layer = Layer {
        stored: gzip(&real),
        tar: claimed.clone(),
        media_type: "application/vnd.oci.image.layer.v1.tar+gzip",
    };
    let l = Layout::single(t.path().join("oci"), &[layer]);
    match index_of(&l.dir).unwrap_err() {
        ImageError::DigestMismatch {
            blob,
            claimed_by,
            expected,
            actual,
        } => {
            assert!(blob.starts_with("layer 1 of 1"), "{blob}");
            assert_eq!(claimed_by, "config rootfs.diff_ids[0]");
            assert_eq!((expected, actual), (sha(&claimed), sha(&real)));
        }
        other => panic!("{other:?}"),
    }
}
