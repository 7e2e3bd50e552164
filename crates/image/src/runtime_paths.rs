//! The paths a container runtime makes or mounts itself in every container: not the attacker's
//! changes, so `diff` leaves them out unless `--all`. The one owner of these lists, for every
//! runtime.
//!
//! - **Podman** (libpod's `initInodes`): [`PODMAN`]. libpod removes exactly these paths from the
//!   change list *after* containers/storage added their parent directories, so a runtime path
//!   still makes its parent `C`, as `podman diff` prints.
//! - **Docker** (moby's `daemon/initlayer`, v20.10): [`DOCKER`], the paths docker puts into the
//!   container's `-init` layer when the image lacks them (empty files, directories, and
//!   `/etc/mtab -> /proc/mounts`). The init layer is part of `docker diff`'s baseline, so these
//!   paths are never a change and never make a parent `C`; `/etc/hosts`, `/etc/hostname` and
//!   `/etc/resolv.conf` are bind mounts over the init layer's empty files, whose writes never reach
//!   the container's layer (the collector sees the mounted files instead).
//! - **containerd and other CRI runtimes**: no fixed list. runc creates a mount point in the
//!   writable layer for each mount destination of the OCI spec the image lacks (an empty
//!   `/etc/hosts`, `/etc/resolv.conf`; empty `/dev`, `/proc`, `/sys`, `/dev/shm` directories). An
//!   **empty** file or directory of the writable layer at a mount destination of the container
//!   record ([`RuntimeMade::with_mount_points`]) is such a mount point, not a change. Empty, because
//!   runc never writes into one: a non-empty file there was written by someone else. A mount
//!   destination the writable layer does not hold at all is the image's entry with the mount over
//!   it (`/etc/hostname` of an image that has one): what the collector saw there is the mounted
//!   file, not a change either. A directory whose only change is its modification time, and below
//!   which the writable layer holds nothing but such mount points, changed because runc made them
//!   (`/etc`): not a change either.

use crate::diff::WritableLayer;
use std::collections::BTreeSet;

/// libpod's `initInodes`: what `podman diff` leaves out, exactly these paths (not what is below).
pub const PODMAN: [&str; 12] = [
    "/dev",
    "/etc/hostname",
    "/etc/hosts",
    "/etc/mtab",
    "/etc/resolv.conf",
    "/proc",
    "/run",
    "/run/.containerenv",
    "/run/notify",
    "/run/podman-init",
    "/run/secrets",
    "/sys",
];

/// moby's init layer (`daemon/initlayer/setup_unix.go`, v20.10): what docker adds below the
/// container's layer, so that `docker diff` never lists it.
pub const DOCKER: [&str; 10] = [
    "/.dockerenv",
    "/dev/console",
    "/dev/pts",
    "/dev/shm",
    "/etc/hostname",
    "/etc/hosts",
    "/etc/mtab",
    "/etc/resolv.conf",
    "/proc",
    "/sys",
];

/// When a runtime path leaves the change list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Before parent directories are added: the path is no change at all (docker's init layer,
    /// a CRI runtime's mount points).
    BeforeParents,
    /// After: the path's parents stay `C` (libpod filters the finished list).
    AfterParents,
}

/// The paths one runtime makes, for [`crate::diff::DiffOptions`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeMade {
    fixed: &'static [&'static str],
    stage: Stage,
    mount_points: BTreeSet<String>,
}

impl Default for RuntimeMade {
    /// Podman's.
    fn default() -> Self {
        RuntimeMade::podman()
    }
}

impl RuntimeMade {
    /// Podman's ([`PODMAN`], filtered after parents).
    pub fn podman() -> Self {
        RuntimeMade {
            fixed: &PODMAN,
            stage: Stage::AfterParents,
            mount_points: BTreeSet::new(),
        }
    }

    /// Docker's ([`DOCKER`], no change at all).
    pub fn docker() -> Self {
        RuntimeMade {
            fixed: &DOCKER,
            stage: Stage::BeforeParents,
            mount_points: BTreeSet::new(),
        }
    }

    /// A CRI runtime's (containerd, CRI-O): the mount destinations of the container's OCI spec,
    /// where the writable layer holds an empty file or directory.
    pub fn with_mount_points<'a>(destinations: impl IntoIterator<Item = &'a str>) -> Self {
        RuntimeMade {
            fixed: &[],
            stage: Stage::BeforeParents,
            mount_points: destinations
                .into_iter()
                .filter_map(|d| crate::tree::checked_path(d.as_bytes()).ok())
                .collect(),
        }
    }

    /// Whether `path` is one the runtime made, and when it leaves the list. `writable` is the
    /// container's writable layer, needed for mount points (without it, none is recognised).
    pub fn stage_of(&self, path: &str, writable: Option<&WritableLayer>) -> Option<Stage> {
        if self.fixed.contains(&path) {
            return Some(self.stage);
        }
        let mount_point = self.mount_points.contains(path)
            && writable.is_some_and(|w| w.empty.contains(path) || !w.entries.contains(path));
        mount_point.then_some(Stage::BeforeParents)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_points_need_an_empty_entry_of_the_writable_layer() {
        let made = RuntimeMade::with_mount_points(["/etc/hosts", "/dev/shm/", "/data"]);
        let w = WritableLayer {
            entries: ["/", "/etc", "/etc/hosts", "/dev", "/dev/shm", "/data", "/data/x"]
                .map(String::from)
                .into(),
            empty: ["/etc/hosts", "/dev/shm"].map(String::from).into(),
            ..WritableLayer::default()
        };
        assert_eq!(made.stage_of("/etc/hosts", Some(&w)), Some(Stage::BeforeParents));
        assert_eq!(made.stage_of("/dev/shm", Some(&w)), Some(Stage::BeforeParents));
        assert_eq!(made.stage_of("/data", Some(&w)), None, "not empty: written by someone");
        assert_eq!(made.stage_of("/etc/hosts", None), None);
        assert_eq!(made.stage_of("/dev", Some(&w)), None, "not a mount destination");
        let other = RuntimeMade::with_mount_points(["/etc/hostname", "/../x"]);
        assert_eq!(
            other.stage_of("/etc/hostname", Some(&w)),
            Some(Stage::BeforeParents),
            "the image's file under the mount"
        );
        assert_eq!(
            other.stage_of("/x", Some(&w)),
            None,
            "a destination escaping the root is ignored"
        );
        assert_eq!(RuntimeMade::podman().stage_of("/run", None), Some(Stage::AfterParents));
        assert_eq!(
            RuntimeMade::docker().stage_of("/.dockerenv", None),
            Some(Stage::BeforeParents)
        );
        assert_eq!(RuntimeMade::docker().stage_of("/run", None), None);
    }
}
