//! [`NodeRoot`]: the node's root filesystem, opened once; every node path resolved beneath it.

use crate::error::NodeError;
use crate::model::MetadataFile;
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use std::fs::{File, Metadata};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The node's root filesystem (a mounted snapshot, or a directory holding `var/lib/…`), opened
/// once as a directory descriptor.
///
/// # Security
/// Every node path (`"/var/lib/docker/…"`) is opened with `openat2(RESOLVE_IN_ROOT |
/// RESOLVE_NO_MAGICLINKS)` from the root descriptor: a symlink on the node (`/var/lib/docker ->
/// /data/docker`) is followed **inside** the root, so `"/etc/shadow"` (or a link to it) means
/// `ROOT/etc/shadow`, never the examiner's. Files are opened `O_NOFOLLOW` (a symlink as last
/// component is [`NodeError::NotRegular`]), `O_NONBLOCK` (a FIFO never blocks) and `O_NOATIME`
/// (without it only where the kernel refuses, i.e. neither owner nor `CAP_FOWNER`). Nothing is
/// ever opened for writing. Paths with a `..` component or a NUL byte are refused.
///
/// ```no_run
/// # fn main() -> Result<(), forensic_nodedisk::NodeError> {
/// let root = forensic_nodedisk::NodeRoot::open("/mnt/node".as_ref())?;
/// let repos = root.read("/var/lib/docker/image/overlay2/repositories.json", 64 << 20)?;
/// # let _ = repos; Ok(()) }
/// ```
#[derive(Debug)]
pub struct NodeRoot {
    fd: OwnedFd,
    path: PathBuf,
}

/// Flags for opening a directory to list or to resolve beneath.
const DIR_FLAGS: OFlags = OFlags::RDONLY.union(OFlags::DIRECTORY).union(OFlags::CLOEXEC);
/// Flags for opening a file to read: never its symlink, never blocking.
const FILE_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::NOFOLLOW)
    .union(OFlags::NONBLOCK)
    .union(OFlags::CLOEXEC);

impl NodeRoot {
    /// Opens `path` (the examiner's path to the mounted node root) as the root of every lookup.
    ///
    /// # Errors
    /// [`NodeError::OpenRoot`] when it cannot be opened as a directory.
    pub fn open(path: &Path) -> Result<NodeRoot, NodeError> {
        let fd = rustix::fs::open(path, DIR_FLAGS | OFlags::NOATIME, Mode::empty())
            .or_else(|e| match e {
                Errno::PERM => rustix::fs::open(path, DIR_FLAGS, Mode::empty()),
                e => Err(e),
            })
            .map_err(|e| NodeError::OpenRoot {
                path: path.display().to_string(),
                source: e.into(),
            })?;
        Ok(NodeRoot {
            fd,
            path: path.to_path_buf(),
        })
    }

    /// The examiner's path the root was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the directory at `node_path` (symlinks on the way, including the last component,
    /// are followed inside the root).
    ///
    /// # Errors
    /// [`NodeError::BadPath`], [`NodeError::NotFound`], [`NodeError::Io`] (e.g. `ENOTDIR`).
    pub fn open_dir(&self, node_path: &str) -> Result<OwnedFd, NodeError> {
        self.openat2(node_path, DIR_FLAGS)
    }

    /// Opens the regular file at `node_path` for reading, with its `fstat` metadata.
    ///
    /// # Errors
    /// [`NodeError::NotRegular`] when the last component is a symlink or not a regular file,
    /// [`NodeError::BadPath`], [`NodeError::NotFound`], [`NodeError::Io`].
    pub fn open_file(&self, node_path: &str) -> Result<(File, Metadata), NodeError> {
        let fd = match self.openat2(node_path, FILE_FLAGS) {
            // O_NOFOLLOW on a symlink: ELOOP.
            Err(NodeError::Io { source, .. }) if source.raw_os_error() == Some(Errno::LOOP.raw_os_error()) => {
                return Err(NodeError::NotRegular { path: node_path.into() });
            }
            other => other?,
        };
        let file = File::from(fd);
        let md = file.metadata().map_err(|source| NodeError::Io {
            path: node_path.into(),
            source,
        })?;
        if !md.is_file() {
            return Err(NodeError::NotRegular { path: node_path.into() });
        }
        Ok((file, md))
    }

    /// Reads the whole regular file at `node_path`, at most `max` bytes.
    ///
    /// # Errors
    /// [`NodeError::TooLarge`] when it holds more than `max` bytes; as [`NodeRoot::open_file`].
    pub fn read(&self, node_path: &str, max: u64) -> Result<Vec<u8>, NodeError> {
        let (file, md) = self.open_file(node_path)?;
        if md.len() > max {
            return Err(NodeError::TooLarge {
                path: node_path.into(),
                size: md.len(),
                max,
            });
        }
        let mut bytes = Vec::with_capacity(usize::try_from(md.len()).unwrap_or(0));
        file.take(max.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|source| NodeError::Io {
                path: node_path.into(),
                source,
            })?;
        if bytes.len() as u64 > max {
            return Err(NodeError::TooLarge {
                path: node_path.into(),
                size: bytes.len() as u64,
                max,
            });
        }
        Ok(bytes)
    }

    /// [`NodeRoot::read`], with the record of what was read (path, size, SHA-256).
    ///
    /// # Errors
    /// As [`NodeRoot::read`].
    pub fn read_recorded(&self, node_path: &str, max: u64) -> Result<(Vec<u8>, MetadataFile), NodeError> {
        let bytes = self.read(node_path, max)?;
        let record = MetadataFile::of(node_path, &bytes);
        Ok((bytes, record))
    }

    /// Whether something (anything, a dangling symlink included) exists at `node_path`.
    pub fn exists(&self, node_path: &str) -> bool {
        self.openat2(node_path, OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC)
            .is_ok()
    }

    /// The names in the directory at `node_path`, sorted, at most `max` of them (`.` and `..`
    /// left out; names that are not UTF-8 are left out too: no runtime writes them).
    ///
    /// # Errors
    /// As [`NodeRoot::open_dir`]; [`NodeError::TooLarge`] past `max` entries.
    pub fn list_dir(&self, node_path: &str, max: usize) -> Result<Vec<String>, NodeError> {
        let fd = self.open_dir(node_path)?;
        let io = |source: Errno| NodeError::Io {
            path: node_path.into(),
            source: source.into(),
        };
        let mut names = Vec::new();
        for entry in rustix::fs::Dir::new(fd).map_err(io)? {
            let entry = entry.map_err(io)?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            if names.len() >= max {
                return Err(NodeError::TooLarge {
                    path: node_path.into(),
                    size: names.len() as u64 + 1,
                    max: max as u64,
                });
            }
            if let Ok(s) = std::str::from_utf8(name) {
                names.push(s.to_string());
            }
        }
        names.sort();
        Ok(names)
    }

    /// `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)` of `node_path` with `flags |
    /// O_NOATIME`, again without `O_NOATIME` on `EPERM`.
    fn openat2(&self, node_path: &str, flags: OFlags) -> Result<OwnedFd, NodeError> {
        let rel = relative(node_path)?;
        let resolve = ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS;
        let noatime = if flags.contains(OFlags::PATH) {
            flags
        } else {
            flags | OFlags::NOATIME
        };
        let mut result = Err(Errno::AGAIN);
        for _ in 0..4 {
            result = rustix::fs::openat2(self.fd.as_fd(), rel, noatime, Mode::empty(), resolve);
            if matches!(result, Err(Errno::PERM)) && noatime != flags {
                result = rustix::fs::openat2(self.fd.as_fd(), rel, flags, Mode::empty(), resolve);
            }
            // EAGAIN: a rename raced with the lookup; the kernel asks to retry.
            if !matches!(result, Err(Errno::AGAIN)) {
                break;
            }
        }
        result.map_err(|e| match e {
            Errno::NOENT => NodeError::NotFound { path: node_path.into() },
            e => NodeError::Io {
                path: node_path.into(),
                source: e.into(),
            },
        })
    }
}

/// `node_path` without its leading `/` (`"."` for the root), after checking it is absolute and
/// has no NUL byte and no `..` component.
fn relative(node_path: &str) -> Result<&str, NodeError> {
    let bad = |why| NodeError::BadPath {
        path: node_path.into(),
        why,
    };
    let Some(rel) = node_path.strip_prefix('/') else {
        return Err(bad("not absolute"));
    };
    if node_path.contains('\0') {
        return Err(bad("contains a NUL byte"));
    }
    if rel.split('/').any(|c| c == "..") {
        return Err(bad("has a `..` component"));
    }
    let rel = rel.trim_start_matches('/');
    Ok(if rel.is_empty() { "." } else { rel })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn root_with(files: &[(&str, &str)]) -> (tempfile::TempDir, NodeRoot) {
        let dir = tempfile::tempdir().unwrap();
        for (p, c) in files {
            let path = dir.path().join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, c).unwrap();
        }
        let root = NodeRoot::open(dir.path()).unwrap();
        (dir, root)
    }

    #[test]
    fn absolute_links_resolve_inside_the_root() {
        let (dir, root) = root_with(&[("etc/shadow", "node's shadow\n"), ("data/docker/x", "x")]);
        symlink("/etc/shadow", dir.path().join("link")).unwrap();
        symlink("/data/docker", dir.path().join("docker")).unwrap();
        symlink("../../../../../etc/shadow", dir.path().join("data/up")).unwrap();
        // A directory link on the way is followed inside the root.
        assert_eq!(root.read("/docker/x", 10).unwrap(), b"x");
        // `..` through a link is clamped at the root.
        let fd = root.open_dir("/docker").unwrap();
        drop(fd);
        // A symlink as the last component of a file is refused, never followed.
        assert!(matches!(root.read("/link", 100), Err(NodeError::NotRegular { path }) if path == "/link"));
        assert!(matches!(root.read("/data/up", 100), Err(NodeError::NotRegular { .. })));
        assert_eq!(root.read("/etc/shadow", 100).unwrap(), b"node's shadow\n");
    }

    #[test]
    fn bad_paths_too_large_and_missing_are_named() {
        let (_dir, root) = root_with(&[("a/b", "12345")]);
        let e = root.read("/a/b", 4).unwrap_err();
        assert_eq!(
            e.to_string(),
            "/a/b: 5 bytes, more than the 4 bytes allowed for this file"
        );
        let e = root.read("/a/../a/b", 10).unwrap_err();
        assert_eq!(
            e.to_string(),
            "\"/a/../a/b\": not a usable node path: has a `..` component"
        );
        let e = root.read("a/b", 10).unwrap_err();
        assert!(matches!(
            e,
            NodeError::BadPath {
                why: "not absolute",
                ..
            }
        ));
        assert!(matches!(root.read("/a/c", 10), Err(NodeError::NotFound { path }) if path == "/a/c"));
        assert!(matches!(root.read("/a", 10), Err(NodeError::NotRegular { .. })));
        let (bytes, rec) = root.read_recorded("/a/b", 10).unwrap();
        assert_eq!(bytes, b"12345");
        assert_eq!(rec.size, 5);
        assert_eq!(
            rec.sha256,
            "5994471abb01112afcc18159f6cc74b4f511b99806da59b3caf5a9c173cacfc5"
        );
        assert_eq!(root.list_dir("/", 10).unwrap(), vec!["a".to_string()]);
        assert!(matches!(root.list_dir("/a", 0), Err(NodeError::TooLarge { .. })));
    }

    #[test]
    fn a_missing_root_is_open_root() {
        let e = NodeRoot::open(Path::new("/nonexistent/forensic-nodedisk")).unwrap_err();
        assert!(matches!(e, NodeError::OpenRoot { .. }));
    }
}
