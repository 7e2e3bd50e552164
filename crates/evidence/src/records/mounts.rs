//! `5-filesystem/mounts.json`: every mount of the container, from its `mountinfo`, with the
//! kind a responder recognises ([`MountKind`]) and what `collect` did with its files
//! (CONTENTS.md §3). The one owner of mount classification: the collector writes
//! [`MountKind`] on each mount and on each tree-index line of a file that is not on the root
//! filesystem; the analysis reads it back.

use super::container::ContainerMount;
use crate::raw::RawBytes;
use serde::{Deserialize, Serialize};

/// What a mount is, as a responder names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum MountKind {
    /// The container's root filesystem (`/`, usually an overlay).
    Root,
    /// A tmpfs that is no Kubernetes volume: `/dev`, `/dev/shm`, `--tmpfs`, `--mount type=tmpfs`.
    Tmpfs,
    /// A Kubernetes `emptyDir` volume (kubelet's `…/volumes/kubernetes.io~empty-dir/NAME`).
    EmptyDir,
    /// A host directory or file mounted into the container (a Kubernetes `hostPath`, a
    /// `docker run -v /host:/ctr` bind mount).
    HostPath,
    /// A Kubernetes `configMap` volume (`kubernetes.io~configmap`).
    ConfigMap,
    /// A Kubernetes `Secret` volume (`kubernetes.io~secret`): credentials.
    Secret,
    /// A Kubernetes projected volume (`kubernetes.io~projected`), or any mount at the
    /// service-account directory `/var/run/secrets/kubernetes.io/serviceaccount`: a
    /// service-account token, credentials.
    Projected,
    /// A named volume of the runtime (`/var/lib/docker/volumes/…`,
    /// `/var/lib/containers/storage/volumes/…`).
    Volume,
    /// A file the runtime writes for the container: `/etc/hosts`, `/etc/resolv.conf`,
    /// `/etc/hostname`, podman's `/run/.containerenv`, Kubernetes' `/dev/termination-log`.
    RuntimeBind,
    /// A pseudo filesystem (proc, sysfs, devpts, mqueue, cgroup, …) or a mount inside one
    /// (the runtime's masks under `/proc` and `/sys`): kernel state, not walked.
    Pseudo,
    /// Anything else (a block device, a network filesystem).
    Other,
}

impl MountKind {
    /// The name on the wire: `tmpfs`, `empty-dir`, `host-path`, ….
    pub fn as_str(self) -> &'static str {
        match self {
            MountKind::Root => "root",
            MountKind::Tmpfs => "tmpfs",
            MountKind::EmptyDir => "empty-dir",
            MountKind::HostPath => "host-path",
            MountKind::ConfigMap => "config-map",
            MountKind::Secret => "secret",
            MountKind::Projected => "projected",
            MountKind::Volume => "volume",
            MountKind::RuntimeBind => "runtime-bind",
            MountKind::Pseudo => "pseudo",
            MountKind::Other => "other",
        }
    }

    /// Credentials (a Secret or projected volume): indexed by hash and metadata, their contents
    /// copied only when the examiner asks (`collect --include-secrets`), since a bundle travels.
    pub fn is_credential(self) -> bool {
        matches!(self, MountKind::Secret | MountKind::Projected)
    }

    /// Whether a regular file on it is a finding (`file-on-tmpfs`): memory-backed scratch space
    /// that the image does not have and that vanishes with the container.
    pub fn is_scratch_memory(self) -> bool {
        self == MountKind::Tmpfs
    }
}

/// Filesystem types whose files are kernel state, never walked.
pub const PSEUDO_FS_TYPES: &[&str] = &[
    "proc",
    "sysfs",
    "devpts",
    "mqueue",
    "cgroup",
    "cgroup2",
    "securityfs",
    "debugfs",
    "tracefs",
    "bpf",
    "configfs",
    "fusectl",
    "pstore",
    "binfmt_misc",
    "autofs",
    "nsfs",
    "hugetlbfs",
    "selinuxfs",
    "efivarfs",
];

/// Where Kubernetes puts a pod's service-account token, as a container sees it.
pub const SERVICE_ACCOUNT_DIRS: [&str; 2] = [
    "/var/run/secrets/kubernetes.io/serviceaccount",
    "/run/secrets/kubernetes.io/serviceaccount",
];

/// Files the runtimes bind-mount into every container.
const RUNTIME_FILES: [&str; 5] = [
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/hostname",
    "/run/.containerenv",
    "/dev/termination-log",
];

/// What [`classify`] looks at for one mount.
#[derive(Debug, Clone, Copy)]
pub struct MountFacts<'a> {
    /// `fstype` from mountinfo.
    pub fs_type: &'a [u8],
    /// The mount point inside the container.
    pub mount_point: &'a [u8],
    /// `root` from mountinfo: the directory of the source filesystem mounted here.
    pub root: &'a [u8],
    /// The host path the runtime's record names as the source, when it has one.
    pub runtime_source: Option<&'a [u8]>,
    /// The mount sits inside a pseudo filesystem (`/proc/acpi`, `/sys/fs/cgroup`).
    pub under_pseudo: bool,
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The kind of one mount. Kubelet's volume directories are recognised in the runtime's source
/// path or in mountinfo's `root` (a Secret volume is a tmpfs whose root is `/`, so only the
/// runtime's record names it; the service-account directory is recognised by its mount point).
///
/// ```
/// use forensic_evidence::records::mounts::{classify, MountFacts, MountKind};
/// let f = MountFacts { fs_type: b"tmpfs", mount_point: b"/dev/shm", root: b"/", runtime_source: None, under_pseudo: false };
/// assert_eq!(classify(&f), MountKind::Tmpfs);
/// ```
pub fn classify(f: &MountFacts<'_>) -> MountKind {
    let is_pseudo = std::str::from_utf8(f.fs_type).is_ok_and(|t| PSEUDO_FS_TYPES.contains(&t));
    if is_pseudo || f.under_pseudo {
        return MountKind::Pseudo;
    }
    if f.mount_point == b"/" {
        return MountKind::Root;
    }
    let kubelet = [f.runtime_source.unwrap_or_default(), f.root];
    let named = |volume: &str| {
        let needle = format!("/volumes/kubernetes.io~{volume}/");
        kubelet.iter().any(|p| contains(p, needle.as_bytes()))
    };
    let mount_point = trimmed(f.mount_point);
    if named("secret") {
        return MountKind::Secret;
    }
    if named("projected") || SERVICE_ACCOUNT_DIRS.iter().any(|d| mount_point == d.as_bytes()) {
        return MountKind::Projected;
    }
    if named("configmap") {
        return MountKind::ConfigMap;
    }
    if named("empty-dir") {
        return MountKind::EmptyDir;
    }
    if RUNTIME_FILES.iter().any(|p| mount_point == p.as_bytes()) {
        return MountKind::RuntimeBind;
    }
    if f.fs_type == b"tmpfs" {
        return MountKind::Tmpfs;
    }
    let volume_dirs: [&[u8]; 2] = [b"/var/lib/docker/volumes/", b"/var/lib/containers/storage/volumes/"];
    if kubelet.iter().any(|p| volume_dirs.iter().any(|v| p.starts_with(v))) {
        return MountKind::Volume;
    }
    if f.root != b"/" || f.runtime_source.is_some() {
        return MountKind::HostPath;
    }
    MountKind::Other
}

/// `p` without trailing slashes (but `/` itself kept).
fn trimmed(p: &[u8]) -> &[u8] {
    let mut end = p.len();
    while end > 1 && p.get(end - 1) == Some(&b'/') {
        end -= 1;
    }
    p.get(..end).unwrap_or(p)
}

/// What `collect` did with a mount's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum MountIndexed {
    /// Its entries are in the tree index, each line with `mount` naming this mount point.
    Indexed,
    /// A single file (the runtime's `/etc/hosts`): its line is in the tree index.
    File,
    /// Not walked: a pseudo filesystem, or a mount inside one.
    NotWalked,
    /// Not reachable from the container's root without following a link, or covered by a later
    /// mount: a gap says why.
    Unreachable,
}

/// One mount of the container: an element of `5-filesystem/mounts.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountRecord<'a> {
    /// Mount id from mountinfo.
    pub mount_id: u32,
    /// The parent mount's id.
    pub parent_id: u32,
    /// Where it appears inside the container.
    pub mount_point: RawBytes<'a>,
    /// Filesystem type (`tmpfs`, `overlay`, `ext4`, `proc`, …).
    pub fs_type: RawBytes<'a>,
    /// mountinfo's source field (`tmpfs`, `/dev/vda`, `overlay`).
    pub source: RawBytes<'a>,
    /// mountinfo's root: the directory of the source filesystem that is mounted here (for a
    /// bind mount, the host directory relative to its filesystem's root).
    pub root: RawBytes<'a>,
    /// Per-mount options (`rw`, `nosuid`, …).
    pub options: Vec<String>,
    /// Filesystem options (`size=65536k`, `lowerdir=…`).
    pub super_options: Vec<RawBytes<'a>>,
    /// What it is.
    pub kind: MountKind,
    /// A Secret or projected volume ([`MountKind::is_credential`]).
    pub credential: bool,
    /// Whether the files of a credential mount were copied into the bundle
    /// (`collect --include-secrets`); `false` for other mounts too.
    pub contents_copied: bool,
    /// What became of its files.
    pub indexed: MountIndexed,
    /// The runtime's record of this mount (`6-podspec/container.json` `mounts`), when it has one.
    pub runtime: Option<ContainerMount>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(fs: &str, point: &str, root: &str, runtime: Option<&str>) -> MountKind {
        classify(&MountFacts {
            fs_type: fs.as_bytes(),
            mount_point: point.as_bytes(),
            root: root.as_bytes(),
            runtime_source: runtime.map(str::as_bytes),
            under_pseudo: false,
        })
    }

    #[test]
    fn mounts_are_classified_as_a_responder_names_them() {
        let pod = "/var/lib/kubelet/pods/0a1b/volumes";
        assert_eq!(kind("overlay", "/", "/", None), MountKind::Root);
        assert_eq!(kind("tmpfs", "/dev/shm", "/", None), MountKind::Tmpfs);
        assert_eq!(kind("tmpfs", "/scratch", "/", None), MountKind::Tmpfs);
        assert_eq!(kind("proc", "/proc", "/", None), MountKind::Pseudo);
        assert_eq!(kind("devpts", "/dev/pts", "/", None), MountKind::Pseudo);
        assert_eq!(kind("cgroup2", "/sys/fs/cgroup", "/", None), MountKind::Pseudo);
        // kubelet's Secret and projected volumes are tmpfs: only the runtime's source names them.
        let secret = format!("{pod}/kubernetes.io~secret/creds");
        assert_eq!(kind("tmpfs", "/etc/creds", "/", Some(&secret)), MountKind::Secret);
        let token = format!("{pod}/kubernetes.io~projected/kube-api-access-x2");
        assert_eq!(
            kind(
                "tmpfs",
                "/var/run/secrets/kubernetes.io/serviceaccount",
                "/",
                Some(&token)
            ),
            MountKind::Projected
        );
        // …and the service-account directory by its place, whatever is mounted there.
        assert_eq!(
            kind("ext4", "/run/secrets/kubernetes.io/serviceaccount/", "/srv/sa", None),
            MountKind::Projected
        );
        // Disk-backed volumes show the kubelet path in mountinfo's root.
        let empty = format!("{pod}/kubernetes.io~empty-dir/cache");
        assert_eq!(kind("ext4", "/cache", &empty, None), MountKind::EmptyDir);
        let cm = format!("{pod}/kubernetes.io~configmap/conf");
        assert_eq!(kind("ext4", "/etc/app", &cm, None), MountKind::ConfigMap);
        assert_eq!(
            kind("ext4", "/etc/hosts", "/run/x/userdata/hosts", None),
            MountKind::RuntimeBind
        );
        assert_eq!(kind("ext4", "/data", "/srv/data", None), MountKind::HostPath);
        assert_eq!(
            kind("ext4", "/data", "/var/lib/docker/volumes/v1/_data", None),
            MountKind::Volume
        );
        assert_eq!(kind("xfs", "/mnt", "/", None), MountKind::Other);
        // A tmpfs the runtime masks /proc/acpi with is inside a pseudo filesystem.
        let masked = classify(&MountFacts {
            fs_type: b"tmpfs",
            mount_point: b"/proc/acpi",
            root: b"/",
            runtime_source: None,
            under_pseudo: true,
        });
        assert_eq!(masked, MountKind::Pseudo);
        assert!(MountKind::Secret.is_credential() && MountKind::Projected.is_credential());
        assert!(!MountKind::Tmpfs.is_credential() && MountKind::Tmpfs.is_scratch_memory());
        assert!(!MountKind::EmptyDir.is_scratch_memory());
        assert_eq!(
            serde_json::to_string(&MountKind::EmptyDir).ok().as_deref(),
            Some("\"empty-dir\"")
        );
    }
}
