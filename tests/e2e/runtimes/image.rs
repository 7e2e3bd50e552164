//! The test image as a docker-archive (`docker save`'s format), built here without a registry or
//! a daemon: `manifest.json`, the config (its `rootfs.diff_ids` are the SHA-256 of each layer
//! tar) and two layers, so that the containers run on a real lower-layer chain:
//! 1. `/bin`: busybox-static and its applet links;
//! 2. everything else of [`crate::rootfs::write`] (accounts, `/etc/motd`, `/usr/bin/report`, …).
//!
//! `ctr images import`, `docker load` and `forensic diff --image` all read it.

use serde_json::json;
use std::path::{Path, PathBuf};

/// The image's command: the main process sleeps; the attack runs through the runtime's exec.
pub const COMMAND: [&str; 2] = ["/bin/sleep", "2147483647"];

/// A built docker-archive.
pub struct Archive {
    /// The archive file.
    pub path: PathBuf,
}

/// One layer: a tar of `entries` (paths relative to `root`, directories recursively), symlinks
/// stored as links, owners and modes as on disk.
fn layer(root: &Path, entries: &[String]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    b.follow_symlinks(false);
    for e in entries {
        let p = root.join(e);
        if std::fs::symlink_metadata(&p).unwrap().is_dir() {
            b.append_dir_all(e, &p).unwrap();
        } else {
            b.append_path_with_name(&p, e).unwrap();
        }
    }
    b.into_inner().unwrap()
}

/// SHA-256 of `bytes`, hex.
fn sha256(bytes: &[u8]) -> String {
    forensic_bundle::digest::Digest::of(bytes).hex()
}

/// Builds the archive in `work/image.tar` with `tags` (the first is the image's name; more tags
/// name the same image, e.g. the CRI's sandbox image). `extra` files go into the second layer.
pub fn build(work: &Path, tags: &[&str], extra: &[(&str, &[u8])]) -> Archive {
    let root = work.join("image-root");
    crate::rootfs::write(&root, extra);
    let mut rest: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "bin")
        .collect();
    rest.sort();
    let layers = [layer(&root, &["bin".to_string()]), layer(&root, &rest)];
    let diff_ids: Vec<String> = layers.iter().map(|l| format!("sha256:{}", sha256(l))).collect();
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Cmd": COMMAND,
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "WorkingDir": "/",
        },
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [
            {"created_by": "forensic e2e: busybox-static and its applets"},
            {"created_by": "forensic e2e: accounts and files"},
        ],
    }))
    .unwrap();
    let config_name = format!("{}.json", sha256(&config));
    let layer_names: Vec<String> = layers.iter().map(|l| format!("{}/layer.tar", sha256(l))).collect();
    let manifest = serde_json::to_vec(&json!([{
        "Config": config_name,
        "RepoTags": tags,
        "Layers": layer_names,
    }]))
    .unwrap();

    let path = work.join("image.tar");
    let mut b = tar::Builder::new(std::fs::File::create(&path).unwrap());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, name, data).unwrap();
    };
    for (name, data) in layer_names.iter().zip(&layers) {
        add(name, data);
    }
    add(&config_name, &config);
    add("manifest.json", &manifest);
    b.into_inner().unwrap().sync_all().unwrap();
    Archive { path }
}
