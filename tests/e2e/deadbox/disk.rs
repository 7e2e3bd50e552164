//! A node's disk "the way a snapshot would arrive" (docs/dev/deadbox.md §5): an empty ext4 image
//! file, the staged node tree copied into it with `cp -a` (nanosecond times, `trusted.overlay.*`
//! xattrs, whiteouts kept), attached read-only as an examiner attaches a volume snapshot
//! (`losetup -r`, `mount -o ro,noload,nodev,nosuid,noexec`), or read-write for the test that
//! proves the tool itself writes nothing. The guard unmounts and detaches its loop device.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `program ARGS`, which must succeed; its stdout.
pub fn sh(program: &str, args: &[&str]) -> String {
    let o = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        o.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// An ext4 image file and its mount point; unmounted and detached on drop.
pub struct NodeDisk {
    dir: tempfile::TempDir,
    image: PathBuf,
    mnt: PathBuf,
    mounted: RefCell<bool>,
    loop_dev: RefCell<Option<String>>,
}

impl NodeDisk {
    /// A `size_mb` ext4 image holding a copy (`cp -a`) of `stage`.
    pub fn create(stage: &Path, size_mb: u64) -> NodeDisk {
        let dir = tempfile::Builder::new().prefix("fnode").tempdir_in("/tmp").unwrap();
        let image = dir.path().join("node.img");
        let mnt = dir.path().join("mnt");
        std::fs::create_dir(&mnt).unwrap();
        sh("truncate", &["-s", &format!("{size_mb}M"), image.to_str().unwrap()]);
        sh("mkfs.ext4", &["-q", "-F", "-L", "deadbox", image.to_str().unwrap()]);
        let disk = NodeDisk {
            dir,
            image,
            mnt,
            mounted: RefCell::new(false),
            loop_dev: RefCell::new(None),
        };
        disk.mount_rw();
        sh(
            "cp",
            &[
                "-a",
                &format!("{}/.", stage.display()),
                &format!("{}/", disk.mnt.display()),
            ],
        );
        disk.unmount();
        disk
    }

    /// The mount point: `--offline-root`.
    pub fn root(&self) -> &Path {
        &self.mnt
    }

    /// Attaches the image on a read-only loop device and mounts it as the README says.
    pub fn mount_ro(&self) {
        assert!(!*self.mounted.borrow(), "already mounted");
        let dev = sh("losetup", &["-r", "-f", "--show", self.image.to_str().unwrap()])
            .trim()
            .to_string();
        *self.loop_dev.borrow_mut() = Some(dev.clone());
        sh(
            "mount",
            &["-o", "ro,noload,nodev,nosuid,noexec", &dev, self.mnt.to_str().unwrap()],
        );
        *self.mounted.borrow_mut() = true;
        let options = sh("findmnt", &["-n", "-o", "OPTIONS", self.mnt.to_str().unwrap()]);
        assert!(options.split(',').any(|o| o.trim() == "ro"), "{options}");
    }

    /// Mounts the image read-write (loop device released on unmount).
    pub fn mount_rw(&self) {
        assert!(!*self.mounted.borrow(), "already mounted");
        sh(
            "mount",
            &[
                "-o",
                "loop,rw,nodev,nosuid,noexec",
                self.image.to_str().unwrap(),
                self.mnt.to_str().unwrap(),
            ],
        );
        *self.mounted.borrow_mut() = true;
    }

    /// Unmounts and detaches the read-only loop device, if any.
    pub fn unmount(&self) {
        if std::mem::take(&mut *self.mounted.borrow_mut()) {
            sh("umount", &[self.mnt.to_str().unwrap()]);
        }
        if let Some(dev) = self.loop_dev.borrow_mut().take() {
            sh("losetup", &["-d", &dev]);
        }
    }
}

impl Drop for NodeDisk {
    fn drop(&mut self) {
        if *self.mounted.borrow() {
            let o = Command::new("umount").arg(&self.mnt).output();
            if !o.is_ok_and(|o| o.status.success()) {
                let _ = Command::new("umount").arg("-l").arg(&self.mnt).output();
            }
        }
        if let Some(dev) = self.loop_dev.borrow_mut().take() {
            let _ = Command::new("losetup").args(["-d", &dev]).output();
        }
        let _ = &self.dir;
    }
}
