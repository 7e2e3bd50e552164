//! What the per-runtime scans share: recorded reads, problems, layer directory checks, the size
//! of a writable layer, the pod identity and the kubelet's log directory.

use crate::codec::is_component;
use crate::error::NodeError;
use crate::limits::MAX_WALK_ENTRIES;
use crate::model::{Layer, MetadataFile, OfflineContainer, PodIdentity, Problem};
use crate::root::NodeRoot;
use forensic_evidence::records::containerd::CriIdentity;
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

/// One runtime's scan: the root, and the problems found so far.
pub(crate) struct Scan<'a> {
    /// The node's root.
    pub root: &'a NodeRoot,
    /// `"containerd"`, `"docker"` or `"podman"`.
    pub runtime: &'static str,
    /// Problems of the whole runtime and of single containers.
    pub problems: Vec<Problem>,
}

impl<'a> Scan<'a> {
    pub fn new(root: &'a NodeRoot, runtime: &'static str) -> Self {
        Scan {
            root,
            runtime,
            problems: Vec::new(),
        }
    }

    /// Reads `path` (at most `max` bytes) and records it in `reads`.
    pub fn read(&self, path: &str, max: u64, reads: &mut Vec<MetadataFile>) -> Result<Vec<u8>, NodeError> {
        let (bytes, record) = self.root.read_recorded(path, max)?;
        reads.push(record);
        Ok(bytes)
    }

    /// A problem of the whole runtime (a database that cannot be read).
    pub fn fail(&mut self, file: &str, error: &NodeError) {
        self.problems.push(Problem {
            runtime: self.runtime,
            file: file.into(),
            container: None,
            error: error.to_string(),
        });
    }

    /// A container that cannot be listed at all.
    pub fn fail_container(&mut self, file: &str, id: &str, error: &NodeError) {
        self.problems.push(Problem {
            runtime: self.runtime,
            file: file.into(),
            container: Some(id.into()),
            error: error.to_string(),
        });
    }

    /// A problem of one listed container: in its own `problems` and in the listing's.
    pub fn note(&mut self, c: &mut OfflineContainer, file: &str, error: &NodeError) {
        c.problems.push(error.to_string());
        self.fail_container(file, &c.id, error);
    }

    /// Checks the upper and lower directories exist (a missing one is a problem of `c`) and
    /// measures the writable layer.
    pub fn check_layers(&mut self, c: &mut OfflineContainer) {
        if let Some(upper) = c.upper.clone() {
            match writable_size(self.root, &upper) {
                Ok(size) => c.writable_size = Some(size),
                Err(e) => self.note(c, &upper, &e),
            }
        }
        let lowers: Vec<Layer> = c.lowers.clone();
        for layer in lowers {
            if let Err(e) = self.root.open_dir(&layer.dir) {
                self.note(c, &layer.dir, &e);
            }
        }
    }
}

/// The pod of a container from its labels (and, for containerd, its spec's annotations and CRI
/// metadata): [`CriIdentity::from_stored`].
pub(crate) fn pod_identity(
    labels: &BTreeMap<String, String>,
    spec: Option<&serde_json::Value>,
    metadata: Option<&serde_json::Value>,
) -> (Option<PodIdentity>, CriIdentity) {
    let cri = CriIdentity::from_stored(labels, spec, metadata);
    let pod = cri.pod_name.clone().map(|name| PodIdentity {
        name,
        namespace: cri.pod_namespace.clone().unwrap_or_default(),
        uid: cri.pod_uid.clone(),
    });
    (pod, cri)
}

/// `/var/log/pods/<ns>_<pod>_<uid>/<container>` when all four are known and each is usable as a
/// path component.
pub(crate) fn kubelet_log_dir(pod: Option<&PodIdentity>, container: Option<&str>) -> Option<String> {
    let pod = pod?;
    let uid = pod.uid.as_deref()?;
    let container = container?;
    let dir = format!("{}_{}_{uid}", pod.namespace, pod.name);
    (is_component(&dir) && is_component(container) && !pod.namespace.is_empty())
        .then(|| format!("/var/log/pods/{dir}/{container}"))
}

/// The bytes of the regular files under the directory `dir` (lstat sizes; symlinks are never
/// followed, other filesystems are not special-cased), walking at most
/// [`MAX_WALK_ENTRIES`] entries.
///
/// # Errors
/// [`NodeError::NotFound`] / [`NodeError::Io`] when `dir` cannot be opened or read,
/// [`NodeError::TooLarge`] past the entry budget.
pub fn writable_size(root: &NodeRoot, dir: &str) -> Result<u64, NodeError> {
    let top = root.open_dir(dir)?;
    let io = |rel: &[u8], e: Errno| NodeError::Io {
        path: format!("{dir}/{}", String::from_utf8_lossy(rel)),
        source: e.into(),
    };
    let mut pending: Vec<Vec<u8>> = vec![Vec::new()];
    let mut total: u64 = 0;
    let mut entries: u64 = 0;
    while let Some(rel) = pending.pop() {
        let fd = open_beneath(&top, &rel).map_err(|e| io(&rel, e))?;
        for entry in rustix::fs::Dir::read_from(fd.as_fd()).map_err(|e| io(&rel, e))? {
            let entry = entry.map_err(|e| io(&rel, e))?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            entries += 1;
            if entries > MAX_WALK_ENTRIES {
                return Err(NodeError::TooLarge {
                    path: dir.into(),
                    size: entries,
                    max: MAX_WALK_ENTRIES,
                });
            }
            let st = rustix::fs::statat(fd.as_fd(), OsStr::from_bytes(name), AtFlags::SYMLINK_NOFOLLOW)
                .map_err(|e| io(&rel, e))?;
            match FileType::from_raw_mode(st.st_mode) {
                FileType::RegularFile => total = total.saturating_add(u64::try_from(st.st_size).unwrap_or(0)),
                FileType::Directory => {
                    let mut child = rel.clone();
                    if !child.is_empty() {
                        child.push(b'/');
                    }
                    child.extend_from_slice(name);
                    pending.push(child);
                }
                _ => {}
            }
        }
    }
    Ok(total)
}

/// Opens the directory `rel` beneath `top` without following any symlink, `O_NOATIME` where
/// allowed.
fn open_beneath(top: &OwnedFd, rel: &[u8]) -> Result<OwnedFd, Errno> {
    let path = if rel.is_empty() {
        OsStr::new(".")
    } else {
        OsStr::from_bytes(rel)
    };
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
    match rustix::fs::openat2(top.as_fd(), path, flags | OFlags::NOATIME, Mode::empty(), resolve) {
        Err(Errno::PERM) => rustix::fs::openat2(top.as_fd(), path, flags, Mode::empty(), resolve),
        other => other,
    }
}
