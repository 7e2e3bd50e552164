//! What a walk reports: entries described by `lstat`, skip records, and the open directory that
//! holds an entry (through which a regular file is opened safely).

use crate::rootfs::error::RootError;
use crate::rootfs::root::shown;
use crate::rootfs::sys::{self, Lstat, OpenError};
use forensic_bundle::manifest::{FileMeta, RawPath};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::FileType;
use std::fs::File;
use std::sync::Arc;

/// Whether and why a directory was (not) entered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Descent {
    /// The entry is not a directory.
    NotADirectory,
    /// Its entries follow in the walk.
    Entered,
    /// A mount point of another filesystem, not entered (`one_filesystem`).
    OtherFilesystem,
    /// A pseudo filesystem (the name, e.g. `"proc"`), not entered.
    PseudoFilesystem(&'static str),
    /// At the depth limit, not entered.
    DepthLimit,
    /// It could not be opened or listed; why.
    Failed(String),
}

/// One entry found by the walk, described by `lstat` (never followed).
#[derive(Debug, Clone)]
pub struct Entry {
    /// Path relative to the start of the walk, `/`-joined, no leading `/`; empty for the start.
    pub path: Vec<u8>,
    /// Metadata, with the symlink target (read, never followed) and extended attributes (as the
    /// [`crate::rootfs::walk::XattrPolicy`] says).
    pub meta: FileMeta,
    /// Device of the filesystem holding it (`st_dev`).
    pub dev: u64,
    /// Device number a character or block device node stands for (`st_rdev`).
    pub rdev: u64,
    /// 512-byte blocks allocated.
    pub blocks: u64,
    /// Depth below the start (the start is 0).
    pub depth: usize,
    /// For a directory: whether its entries follow.
    pub descent: Descent,
}

impl Entry {
    /// The last component of the path (empty for the start).
    pub fn name(&self) -> &[u8] {
        self.path.rsplit(|&b| b == b'/').next().unwrap_or_default()
    }

    /// Fewer bytes allocated than its size: a sparse file (holes), or compressed or inline data.
    pub fn looks_sparse(&self) -> bool {
        self.blocks.saturating_mul(512) < self.meta.size
    }

    /// The path for messages (escaped, with a leading `/`).
    pub fn shown(&self) -> String {
        shown(&self.path)
    }
}

/// An entry the walk could not examine, or a part of the tree it did not list, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Path relative to the start of the walk.
    pub path: Vec<u8>,
    /// Why, in words.
    pub reason: String,
}

/// An open directory of the walk; cloning shares the descriptor (for worker threads).
#[derive(Debug, Clone)]
pub struct DirHandle(Arc<OwnedFd>);

impl DirHandle {
    pub(crate) fn new(fd: OwnedFd) -> DirHandle {
        DirHandle(Arc::new(fd))
    }

    /// The directory's descriptor.
    pub fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }

    /// The same open directory (not merely an equal one).
    pub fn same(&self, other: &DirHandle) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Opens `entry` (a regular file listed in this directory) for reading: `O_NOFOLLOW |
    /// O_NONBLOCK | O_NOATIME`, and only if it is still the listed inode.
    ///
    /// # Errors
    /// [`RootError::Replaced`] if something else took its place (including a symlink),
    /// [`RootError::NotFound`] if it vanished, [`RootError::Io`] otherwise.
    pub fn open_regular(&self, entry: &Entry) -> Result<File, RootError> {
        self.open_listed(entry).map(|(f, _)| f)
    }

    /// [`DirHandle::open_regular`], with the `fstat` of the opened file.
    pub(crate) fn open_listed(&self, entry: &Entry) -> Result<(File, Lstat), RootError> {
        match sys::open_inode_at(self.as_fd(), entry.name(), entry.dev, entry.meta.inode) {
            Ok(f) => Ok(f),
            Err(OpenError::Replaced) => Err(RootError::Replaced { path: entry.shown() }),
            Err(OpenError::Io(e)) if sys::errno(&e) == Some(rustix::io::Errno::LOOP) => {
                Err(RootError::Replaced { path: entry.shown() })
            }
            Err(OpenError::Io(e)) => Err(RootError::from_io(entry.shown(), e)),
        }
    }
}

/// Describes the one entry `name` of `dir` (no walk): `lstat`, symlink target, extended attributes
/// read without following. `path` is what [`Entry::path`] will say; `descent` is
/// [`Descent::NotADirectory`] even for a directory.
pub(crate) fn describe(dir: BorrowedFd<'_>, name: &[u8], path: Vec<u8>) -> std::io::Result<Entry> {
    let st = sys::lstat_at(dir, name)?;
    let target = if st.file_type() == FileType::Symlink {
        sys::read_link_at(dir, name).ok().map(|t| RawPath::from_bytes(&t))
    } else {
        None
    };
    let meta = st
        .to_meta(target, sys::at_xattrs(dir, name))
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "unknown file type"))?;
    Ok(Entry {
        path,
        meta,
        dev: st.dev,
        rdev: st.rdev,
        blocks: st.blocks,
        depth: 0,
        descent: Descent::NotADirectory,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rootfs::RootFs;
    use crate::rootfs::walk::{Visit, WalkOptions, walk};

    #[test]
    fn describe_reads_one_entry_without_following() {
        let t = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/etc/shadow", t.path().join("l")).unwrap();
        let root = RootFs::open(t.path()).unwrap();
        let e = describe(root.as_fd(), b"l", b"x/l".to_vec()).unwrap();
        assert_eq!(e.meta.symlink_target, Some(RawPath::from("/etc/shadow")));
        assert_eq!((e.name(), e.shown().as_str()), (&b"l"[..], "/x/l"));
        assert!(describe(root.as_fd(), b"none", Vec::new()).is_err());
    }

    #[test]
    fn a_file_swapped_for_a_symlink_is_not_opened() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), b"SECRET").unwrap();
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("f"), b"ok").unwrap();
        let root = RootFs::open(t.path()).unwrap();
        let mut outcome = None;
        walk(&root, b"", &WalkOptions::default(), &mut |v| {
            if let Visit::Entry(e, Some(dir)) = v {
                std::fs::remove_file(t.path().join("f")).unwrap();
                std::os::unix::fs::symlink(outside.path().join("secret"), t.path().join("f")).unwrap();
                outcome = Some(dir.open_regular(&e).map(|_| ()));
            }
            Ok(())
        })
        .unwrap();
        assert!(matches!(outcome, Some(Err(RootError::Replaced { .. }))), "{outcome:?}");
    }
}
