//! Real images made with podman (as CI installs it: podman, runc, busybox-static): a base layer
//! imported from a rootfs tar, a second layer committed from a container that changed, deleted
//! and replaced files. The image saved as oci-archive, docker-archive and an OCI layout directory
//! must give one and the same index, with the changes applied.

use crate::support::*;
use forensic_image::index::{FileIndex, Kind};
use forensic_image::{ImageError, ImageKind, ImageOptions, open_image};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// podman flags this machine needs for `run` (crun fails here; limits cannot be raised).
const RUN_FLAGS: [&str; 6] = [
    "--runtime",
    "runc",
    "--ulimit",
    "nofile=1000:1000",
    "--ulimit",
    "nproc=1000:1000",
];

fn podman(args: &[&str]) -> Output {
    let o = Command::new("podman")
        .args(args)
        .output()
        .expect("podman is installed (.ci/run installs it)");
    assert!(
        o.status.success(),
        "podman {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// A unique name for this process and call.
fn unique(what: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "forensic-image-test-{what}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Images and containers made by a test, removed when it ends (pass or fail).
#[derive(Default)]
struct Cleanup {
    images: Vec<String>,
    containers: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = Command::new("podman").args(["rm", "-f", "-t", "0", c]).output();
        }
        for i in self.images.iter().rev() {
            let _ = Command::new("podman").args(["rmi", "-f", i]).output();
        }
    }
}

/// The base root filesystem: busybox and a few files, as a tar.
fn base_rootfs(work: &Path) -> PathBuf {
    let root = work.join("rootfs");
    for d in ["bin", "etc", "data/sub", "opq/old", "tmp"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("busybox-static is installed (.ci/run installs it)");
    std::fs::copy(busybox, root.join("bin/busybox")).unwrap();
    for a in ["sh", "rm", "mkdir", "echo", "ln", "touch", "chmod"] {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(a)).unwrap();
    }
    std::fs::write(root.join("etc/motd"), "welcome\n").unwrap();
    std::fs::write(root.join("etc/keep"), "to be deleted\n").unwrap();
    std::fs::write(root.join("data/sub/x"), "x\n").unwrap();
    std::fs::write(root.join("opq/old/f"), "hidden by the opaque dir\n").unwrap();
    std::fs::write(root.join("opq/g"), "also hidden\n").unwrap();
    let tar = work.join("rootfs.tar");
    let o = Command::new("tar")
        .args(["-C", root.to_str().unwrap(), "-cf", tar.to_str().unwrap(), "."])
        .output()
        .unwrap();
    assert!(o.status.success(), "tar: {}", String::from_utf8_lossy(&o.stderr));
    tar
}

/// The changes the container makes (they become the second layer).
const CHANGES: &str = "echo changed > /etc/motd; rm /etc/keep; rm -rf /opq && mkdir /opq && echo new > /opq/new; \
                       ln /etc/motd /etc/motd.hard; mkdir -p /new/deep && echo n > /new/deep/f; \
                       rm -rf /data/sub; ln -s /etc/shadow /data/evil; chmod 4755 /bin/busybox";

struct Saved {
    oci_archive: PathBuf,
    docker_archive: PathBuf,
    oci_dir: PathBuf,
    base_tar: PathBuf,
    name: String,
}

fn build_and_save(work: &Path, cleanup: &mut Cleanup) -> Saved {
    let base_tar = base_rootfs(work);
    let base = format!("localhost/{}:base", unique("img"));
    podman(&["import", base_tar.to_str().unwrap(), &base]);
    cleanup.images.push(base.clone());
    let container = unique("ctr");
    cleanup.containers.push(container.clone());
    let mut args = vec!["run", "--name", container.as_str()];
    args.extend(RUN_FLAGS);
    args.extend([base.as_str(), "/bin/sh", "-c", CHANGES]);
    podman(&args);
    let name = format!("localhost/{}:changed", unique("img"));
    podman(&["commit", "-q", &container, &name]);
    cleanup.images.push(name.clone());
    let out = |f: &str| work.join(f);
    let saved = Saved {
        oci_archive: out("oci.tar"),
        docker_archive: out("docker.tar"),
        oci_dir: out("oci-dir"),
        base_tar,
        name: name.clone(),
    };
    for (format, path) in [
        ("oci-archive", &saved.oci_archive),
        ("docker-archive", &saved.docker_archive),
        ("oci-dir", &saved.oci_dir),
    ] {
        podman(&[
            "image",
            "save",
            "-q",
            "--format",
            format,
            "-o",
            path.to_str().unwrap(),
            &name,
        ]);
    }
    saved
}

fn check_changes(idx: &FileIndex) {
    assert_eq!(file_sha(idx, "/etc/motd"), sha(b"changed\n"));
    assert_eq!(idx["/etc/motd.hard"].sha256, Some(sha(b"changed\n")));
    assert_eq!(idx["/etc/motd.hard"].link_target.as_deref(), Some("/etc/motd"));
    assert!(!idx.contains_key("/etc/keep"), "whiteout");
    assert!(!idx.contains_key("/opq/old") && !idx.contains_key("/opq/old/f") && !idx.contains_key("/opq/g"));
    assert_eq!(file_sha(idx, "/opq/new"), sha(b"new\n"));
    assert!(!idx.contains_key("/data/sub") && !idx.contains_key("/data/sub/x"));
    assert_eq!(file_sha(idx, "/new/deep/f"), sha(b"n\n"));
    assert_eq!(idx["/data/evil"].kind, Kind::Symlink);
    assert_eq!(idx["/data/evil"].link_target.as_deref(), Some("/etc/shadow"));
    assert_eq!(idx["/bin/busybox"].mode, 0o4755);
    assert_eq!(idx["/bin/sh"].link_target.as_deref(), Some("busybox"));
    // Every path's parent is a directory in the index.
    for p in idx.keys().filter(|p| p.as_str() != "/") {
        let parent = match p.rfind('/') {
            Some(0) => "/",
            Some(i) => &p[..i],
            None => panic!("{p}"),
        };
        assert_eq!(idx[parent].kind, Kind::Dir, "parent of {p}");
    }
}

#[test]
fn podman_oci_archive_docker_archive_and_oci_dir_give_identical_indexes() {
    let work = tempfile::tempdir().unwrap();
    let mut cleanup = Cleanup::default();
    let saved = build_and_save(work.path(), &mut cleanup);

    let opts = ImageOptions::default();
    let oci = open_image(&saved.oci_archive, &opts).unwrap();
    let docker = open_image(&saved.docker_archive, &opts).unwrap();
    let dir = open_image(&saved.oci_dir, &opts).unwrap();
    assert_eq!(oci.kind(), ImageKind::OciArchive);
    assert_eq!(docker.kind(), ImageKind::DockerArchive);
    assert_eq!(dir.kind(), ImageKind::OciLayout);
    for image in [&oci, &docker, &dir] {
        assert_eq!(image.layers().len(), 2, "{:?}", image.kind());
        assert_eq!(
            image.repo_tags(),
            std::slice::from_ref(&saved.name),
            "{:?}",
            image.kind()
        );
        assert_eq!(image.platform().map(|p| p.os.as_str()), Some("linux"));
        assert!(image.config().get("rootfs").is_some());
    }
    assert_eq!(oci.manifest_digest(), dir.manifest_digest());
    assert!(oci.manifest_digest().is_some() && docker.manifest_digest().is_none());
    let diff_ids = |i: &forensic_image::Image| i.layers().iter().map(|l| l.diff_id).collect::<Vec<_>>();
    assert_eq!(diff_ids(&oci), diff_ids(&docker));

    let from_oci = oci.index().unwrap();
    let from_docker = docker.index().unwrap();
    let from_dir = dir.index().unwrap();
    assert_eq!(from_oci, from_docker);
    assert_eq!(from_oci, from_dir);
    check_changes(&from_oci);

    // The base layer alone, as the rootfs tar it was imported from: the same files as far as the
    // second layer left them alone.
    let base = index_of(&saved.base_tar).unwrap();
    assert_eq!(base["/data/sub/x"].sha256, Some(sha(b"x\n")));
    assert_eq!(base["/bin/busybox"].sha256, from_oci["/bin/busybox"].sha256);
    assert_eq!(base["/etc/motd"].sha256, Some(sha(b"welcome\n")));
}

#[test]
fn a_tampered_podman_layer_is_named() {
    let work = tempfile::tempdir().unwrap();
    let mut cleanup = Cleanup::default();
    let saved = build_and_save(work.path(), &mut cleanup);

    // OCI layout: flip a byte in the middle of the largest blob (the base layer).
    let blobs = saved.oci_dir.join("blobs/sha256");
    let (largest, _) = std::fs::read_dir(&blobs)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.path(), e.metadata().unwrap().len())
        })
        .max_by_key(|(_, len)| *len)
        .unwrap();
    let mut bytes = std::fs::read(&largest).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(&largest, &bytes).unwrap();
    let hex = largest.file_name().unwrap().to_str().unwrap().to_string();
    match open_image(&saved.oci_dir, &ImageOptions::default())
        .unwrap()
        .index()
        .unwrap_err()
    {
        ImageError::DigestMismatch { blob, claimed_by, .. } => {
            assert!(blob.contains(&format!("blobs/sha256/{hex}")), "{blob}");
            assert_eq!(claimed_by, "the manifest");
        }
        other => panic!("{other:?}"),
    }

    // docker-archive: flip a byte inside the base layer's busybox (layers are stored
    // uncompressed, so the tar still reads; the diff_id catches it).
    let mut bytes = std::fs::read(&saved.docker_archive).unwrap();
    let image = open_image(&saved.docker_archive, &ImageOptions::default()).unwrap();
    let base_layer = image.layers()[0].location.clone();
    let at = bytes.windows(7).position(|w| w == b"BusyBox").unwrap();
    bytes[at] ^= 1;
    let tampered = work.path().join("tampered-docker.tar");
    std::fs::write(&tampered, &bytes).unwrap();
    match open_image(&tampered, &ImageOptions::default())
        .unwrap()
        .index()
        .unwrap_err()
    {
        ImageError::DigestMismatch { blob, claimed_by, .. } => {
            assert!(blob.contains(&base_layer), "{blob}");
            assert_eq!(claimed_by, "config rootfs.diff_ids[0]");
        }
        other => panic!("{other:?}"),
    }
}
