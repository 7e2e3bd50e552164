//! Test layers built for real under a temporary node root: two image layers and a writable
//! layer with a whiteout (char 0:0), an opaque directory (`trusted.overlay.opaque`), a symlink to
//! `/etc/shadow`, a hard link and a setuid file; and the node's own `/etc/shadow`.

use rustix::fs::{FileType, Mode};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The node's `/etc/shadow` under ROOT: must never be read into a bundle.
pub const NODE_SHADOW: &[u8] = b"root:$6$NODE-SHADOW-SECRET-9d1c:19000:0:99999:7:::\n";
/// Node path of the bottom image layer.
pub const LOWER1: &str = "/var/lib/docker/overlay2/1111/diff";
/// Node path of the top image layer.
pub const LOWER2: &str = "/var/lib/docker/overlay2/2222/diff";
/// Node path of the writable layer.
pub const UPPER: &str = "/var/lib/docker/overlay2/3333/diff";

/// A node root holding the layers.
pub struct Node {
    /// ROOT.
    pub dir: tempfile::TempDir,
}

impl Node {
    /// The host path of node path `p`.
    pub fn host(&self, p: &str) -> PathBuf {
        self.dir.path().join(p.trim_start_matches('/'))
    }
}

fn file(p: &Path, bytes: &[u8], mode: u32) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn dir(p: &Path) {
    std::fs::create_dir_all(p).unwrap();
}

/// Builds the node (run as root: mknod and trusted xattrs).
pub fn node() -> Node {
    let n = Node {
        dir: tempfile::tempdir().unwrap(),
    };
    file(&n.host("/etc/shadow"), NODE_SHADOW, 0o600);
    let l1 = n.host(LOWER1);
    file(&l1.join("etc/passwd"), b"root:x:0:0:root:/root:/bin/sh\n", 0o644);
    file(&l1.join("etc/motd"), b"motd v1\n", 0o644);
    file(&l1.join("opt/app/old.txt"), b"old\n", 0o644);
    file(&l1.join("usr/bin/tool"), b"tool\n", 0o4755);
    file(&l1.join("gone/a"), b"a\n", 0o644);
    dir(&l1.join("tmp"));
    let l2 = n.host(LOWER2);
    file(&l2.join("etc/motd"), b"motd v2\n", 0o644);
    let up = n.host(UPPER);
    dir(&up.join("tmp"));
    rustix::fs::mknodat(
        rustix::fs::CWD,
        up.join("gone"),
        FileType::CharacterDevice,
        Mode::from_raw_mode(0),
        rustix::fs::makedev(0, 0),
    )
    .expect("mknod of a whiteout (run the tests as root)");
    file(&up.join("opt/app/new.txt"), b"new\n", 0o644);
    xattr::set(up.join("opt/app"), "trusted.overlay.opaque", b"y").expect("trusted xattr (run the tests as root)");
    file(&up.join("tmp/evil"), b"#!/bin/sh\necho pwned\n", 0o755);
    std::fs::hard_link(up.join("tmp/evil"), up.join("tmp/evil-link")).unwrap();
    std::os::unix::fs::symlink("/etc/shadow", up.join("tmp/shadow")).unwrap();
    file(&up.join("usr/bin/sud"), b"sud\n", 0o4755);
    n
}
