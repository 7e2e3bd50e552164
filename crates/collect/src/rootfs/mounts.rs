//! Every mount of the container: which to walk into the tree index, and which mount each index
//! line belongs to ([`MountMap`]). The classification itself is
//! [`forensic_evidence::records::mounts::classify`]; this module ties it to the container's
//! mountinfo, the runtime's record and what is reachable from the container's root.

use crate::rootfs::root::RootFs;
use forensic_evidence::RawBytes;
use forensic_evidence::records::container::ContainerMount;
use forensic_evidence::records::mounts::{MountFacts, MountIndexed, MountKind, MountRecord, classify};
use forensic_proc::mountinfo::Mount;

/// One mount as the index sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapEntry {
    /// The mount point relative to the container's root (no leading `/`; empty for the root).
    pub point: Vec<u8>,
    /// Its kind.
    pub kind: MountKind,
    /// Its directory is walked into the tree index (its own walk, after the root's).
    pub walked: bool,
}

/// Which mount a path of the container is on: the mounts that are visible (the topmost at each
/// mount point), longest mount point first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MountMap {
    entries: Vec<MapEntry>,
    /// Credential mounts' contents are copied (`--include-secrets`).
    pub include_secrets: bool,
}

/// Why a credential file's contents are not in the bundle (the `withheld` of its index line).
pub fn withheld_reason(kind: MountKind) -> String {
    format!(
        "credential volume ({}): contents not copied, since a bundle travels; collect --include-secrets copies them",
        kind.as_str()
    )
}

/// Whether `path` is `point` or below it (both relative, no leading `/`).
fn under(path: &[u8], point: &[u8]) -> bool {
    point.is_empty() || path == point || (path.starts_with(point) && path.get(point.len()) == Some(&b'/'))
}

impl MountMap {
    /// A map of `entries` (order does not matter).
    pub fn new(mut entries: Vec<MapEntry>, include_secrets: bool) -> MountMap {
        entries.sort_by(|a, b| b.point.len().cmp(&a.point.len()).then_with(|| a.point.cmp(&b.point)));
        MountMap {
            entries,
            include_secrets,
        }
    }

    /// The mount `rel` (relative to the root) is on, when it is not the root filesystem.
    pub fn of(&self, rel: &[u8]) -> Option<&MapEntry> {
        self.entries
            .iter()
            .find(|e| under(rel, &e.point))
            .filter(|e| e.kind != MountKind::Root)
    }

    /// The credential mount points whose contents are not to be copied (none with
    /// `--include-secrets`).
    pub fn withheld_points(&self) -> Vec<Vec<u8>> {
        if self.include_secrets {
            return Vec::new();
        }
        self.entries
            .iter()
            .filter(|e| e.kind.is_credential())
            .map(|e| e.point.clone())
            .collect()
    }

    /// The mounts to walk after the root, in mount-point order.
    pub fn walked(&self) -> Vec<&MapEntry> {
        let mut v: Vec<&MapEntry> = self
            .entries
            .iter()
            .filter(|e| e.walked && e.kind != MountKind::Root)
            .collect();
        v.sort_by(|a, b| a.point.cmp(&b.point));
        v
    }
}

/// Whether a container path (relative) lies under any of `points`.
pub fn is_under_any(rel: &[u8], points: &[Vec<u8>]) -> bool {
    points.iter().any(|p| !p.is_empty() && under(rel, p))
}

fn relative(point: &[u8]) -> Vec<u8> {
    let t = point.strip_prefix(b"/").unwrap_or(point);
    let mut v = t.to_vec();
    while v.last() == Some(&b'/') {
        v.pop();
    }
    v
}

/// The runtime's record of the mount at `m`: same destination, or its source is mountinfo's root.
fn runtime_of<'r>(m: &Mount, runtime: &'r [ContainerMount]) -> Option<&'r ContainerMount> {
    let point = m.mount_point.as_bytes();
    runtime
        .iter()
        .find(|r| r.destination.as_bytes() == point)
        .or_else(|| {
            runtime
                .iter()
                .find(|r| m.root != "/" && r.source.as_deref().is_some_and(|s| s.as_bytes() == m.root.as_bytes()))
        })
        .or_else(|| {
            // /var/run is usually a symlink to /run: the record says /var/run/…, mountinfo /run/….
            runtime.iter().find(|r| {
                r.destination
                    .strip_prefix("/var")
                    .is_some_and(|d| d.as_bytes() == point)
            })
        })
}

/// Every mount of `rows` (the container's mountinfo, in order), classified, with what will be
/// done with its files, and the map the index uses.
///
/// A mount is walked when its mount point is a directory reachable from `root` without following
/// a link and no later mount sits on the same point; a single file bind-mounted (the runtime's
/// `/etc/hosts`) is indexed where it is; pseudo filesystems and mounts inside them are not walked.
pub fn plan(
    rows: &[Mount],
    runtime: &[ContainerMount],
    root: &RootFs,
    include_secrets: bool,
) -> (Vec<MountRecord<'static>>, MountMap) {
    let pseudo_points: Vec<Vec<u8>> = rows
        .iter()
        .filter(|m| {
            std::str::from_utf8(m.fstype.as_bytes())
                .is_ok_and(|t| forensic_evidence::records::mounts::PSEUDO_FS_TYPES.contains(&t))
        })
        .map(|m| relative(m.mount_point.as_bytes()))
        .collect();
    let mut records = Vec::new();
    let mut map = Vec::new();
    for (i, m) in rows.iter().enumerate() {
        let rel = relative(m.mount_point.as_bytes());
        let rt = runtime_of(m, runtime);
        let kind = classify(&MountFacts {
            fs_type: m.fstype.as_bytes(),
            mount_point: m.mount_point.as_bytes(),
            root: m.root.as_bytes(),
            runtime_source: rt.and_then(|r| r.source.as_deref()).map(str::as_bytes),
            under_pseudo: pseudo_points
                .iter()
                .any(|p| !p.is_empty() && p != &rel && under(&rel, p)),
        });
        let covered = rows
            .get(i + 1..)
            .unwrap_or_default()
            .iter()
            .any(|later| relative(later.mount_point.as_bytes()) == rel);
        // A directory on the same device as its parent (a bind mount within one filesystem)
        // is entered by the parent's walk already: not walked twice.
        let mut own_walk = true;
        let indexed = if kind == MountKind::Pseudo {
            MountIndexed::NotWalked
        } else if covered {
            MountIndexed::Unreachable
        } else if kind == MountKind::Root {
            MountIndexed::Indexed
        } else {
            match root.lstat(&rel) {
                Ok(Some(st)) if st.is_dir() => {
                    let parent = rel.rsplitn(2, |&b| b == b'/').nth(1).unwrap_or_default();
                    own_walk = root.lstat(parent).ok().flatten().is_none_or(|p| p.dev != st.dev);
                    MountIndexed::Indexed
                }
                Ok(Some(st)) if st.is_file() => MountIndexed::File,
                _ => MountIndexed::Unreachable,
            }
        };
        if !covered {
            map.push(MapEntry {
                point: rel,
                kind,
                walked: indexed == MountIndexed::Indexed && own_walk,
            });
        }
        let credential = kind.is_credential();
        records.push(MountRecord {
            mount_id: m.id,
            parent_id: m.parent,
            mount_point: RawBytes::from(m.mount_point.as_bytes().to_vec()),
            fs_type: RawBytes::from(m.fstype.as_bytes().to_vec()),
            source: RawBytes::from(m.source.as_bytes().to_vec()),
            root: RawBytes::from(m.root.as_bytes().to_vec()),
            options: m.options.clone(),
            super_options: m
                .super_options
                .iter()
                .map(|o| RawBytes::from(o.as_bytes().to_vec()))
                .collect(),
            kind,
            credential,
            contents_copied: credential && include_secrets && indexed != MountIndexed::NotWalked,
            indexed,
            runtime: rt.cloned(),
        });
    }
    (records, MountMap::new(map, include_secrets))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(point: &str, kind: MountKind) -> MapEntry {
        MapEntry {
            point: point.as_bytes().to_vec(),
            kind,
            walked: kind != MountKind::Pseudo,
        }
    }

    #[test]
    fn a_path_is_on_the_longest_mount_above_it() {
        let map = MountMap::new(
            vec![
                entry("", MountKind::Root),
                entry("dev", MountKind::Tmpfs),
                entry("dev/shm", MountKind::Tmpfs),
                entry("dev/pts", MountKind::Pseudo),
                entry("etc/hosts", MountKind::RuntimeBind),
                entry("run/secrets/kubernetes.io/serviceaccount", MountKind::Projected),
            ],
            false,
        );
        let kind = |p: &str| {
            map.of(p.as_bytes())
                .map(|e| (String::from_utf8_lossy(&e.point).into_owned(), e.kind))
        };
        assert_eq!(kind("etc/passwd"), None);
        assert_eq!(kind(""), None);
        assert_eq!(kind("dev/shm/x.sh"), Some(("dev/shm".into(), MountKind::Tmpfs)));
        assert_eq!(kind("dev/shmx"), Some(("dev".into(), MountKind::Tmpfs)));
        assert_eq!(kind("dev/null"), Some(("dev".into(), MountKind::Tmpfs)));
        assert_eq!(kind("etc/hosts"), Some(("etc/hosts".into(), MountKind::RuntimeBind)));
        assert_eq!(
            kind("run/secrets/kubernetes.io/serviceaccount/token").map(|k| k.1),
            Some(MountKind::Projected)
        );
        assert_eq!(
            map.withheld_points(),
            [b"run/secrets/kubernetes.io/serviceaccount".to_vec()]
        );
        let walked: Vec<&[u8]> = map.walked().iter().map(|e| e.point.as_slice()).collect();
        assert_eq!(
            walked,
            [
                &b"dev"[..],
                b"dev/shm",
                b"etc/hosts",
                b"run/secrets/kubernetes.io/serviceaccount"
            ]
        );
        assert!(is_under_any(
            b"run/secrets/kubernetes.io/serviceaccount/token",
            &map.withheld_points()
        ));
        assert!(!is_under_any(b"run/x", &map.withheld_points()));
    }

    #[test]
    fn a_podman_mount_table_is_planned() {
        let t = tempfile::tempdir().unwrap();
        for d in [
            "dev/shm",
            "proc",
            "scratch",
            "etc",
            "run/secrets/kubernetes.io/serviceaccount",
        ] {
            std::fs::create_dir_all(t.path().join(d)).unwrap();
        }
        std::fs::write(t.path().join("etc/hosts"), b"").unwrap();
        let text = "80 53 0:41 / / rw - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w\n\
81 80 0:44 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k\n\
83 80 0:47 / /proc rw - proc proc rw\n\
84 80 0:46 / /scratch rw - tmpfs tmpfs rw\n\
88 81 0:40 / /dev/shm rw - tmpfs shm rw,size=64000k\n\
58 83 0:50 / /proc/acpi ro - tmpfs tmpfs ro\n\
92 80 254:0 /run/c/userdata/hosts /etc/hosts rw - ext4 /dev/vda rw\n\
103 80 254:0 /srv/sa /run/secrets/kubernetes.io/serviceaccount ro - ext4 /dev/vda rw\n\
104 80 254:0 /srv/gone /nowhere ro - ext4 /dev/vda rw\n";
        let rows = forensic_proc::mountinfo::parse_mountinfo(text).rows;
        let runtime = [ContainerMount {
            source: Some("/srv/sa".into()),
            destination: "/var/run/secrets/kubernetes.io/serviceaccount".into(),
            rw: false,
            kind: Some("bind".into()),
        }];
        let root = RootFs::open(t.path()).unwrap();
        let (records, map) = plan(&rows, &runtime, &root, false);
        let got: Vec<(String, MountKind, MountIndexed, bool)> = records
            .iter()
            .map(|r| (r.mount_point.shown(), r.kind, r.indexed, r.runtime.is_some()))
            .collect();
        use MountIndexed::*;
        use MountKind::*;
        assert_eq!(
            got,
            [
                ("/".into(), Root, Indexed, false),
                ("/dev".into(), Tmpfs, Indexed, false),
                ("/proc".into(), Pseudo, NotWalked, false),
                ("/scratch".into(), Tmpfs, Indexed, false),
                ("/dev/shm".into(), Tmpfs, Indexed, false),
                ("/proc/acpi".into(), Pseudo, NotWalked, false),
                ("/etc/hosts".into(), RuntimeBind, File, false),
                (
                    "/run/secrets/kubernetes.io/serviceaccount".into(),
                    Projected,
                    Indexed,
                    true
                ),
                ("/nowhere".into(), HostPath, Unreachable, false),
            ]
        );
        assert!(records.iter().all(|r| !r.contents_copied));
        assert!(records[7].credential);
        // Here every mount point is a plain directory of the same filesystem as the root: the
        // root's walk enters them, none is walked again; their lines still name their mount.
        assert!(map.walked().is_empty());
        assert_eq!(map.of(b"scratch/x").map(|e| e.kind), Some(Tmpfs));
        let (records, map) = plan(&rows, &runtime, &root, true);
        assert!(records[7].contents_copied && map.withheld_points().is_empty());
    }
}
