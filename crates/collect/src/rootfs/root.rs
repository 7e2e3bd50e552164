//! [`RootFs`]: the container's root directory, held open, and path lookups beneath it that never
//! follow a symlink.

use crate::rootfs::error::{RootError, display_path};
use crate::rootfs::sys::{self, Lstat, OpenError};
use forensic_bundle::manifest::{FileMeta, RawPath};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use std::ffi::OsStr;
use std::fs::{File, Metadata};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// The root directory of a container (typically `/proc/<pid>/root`) or of an overlay layer, open.
///
/// Every lookup is relative to this descriptor, one path given as raw bytes (`b"etc/passwd"`; a
/// leading `/` is ignored, `..` is refused). No symlink inside is ever followed: lookups use
/// `openat2` with `RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS`, or, on kernels
/// without `openat2` (before 5.6, or where seccomp refuses it), a walk of one `O_NOFOLLOW` open per
/// component. `RESOLVE_NO_XDEV` is deliberately not used: `/dev/shm` and `/run` are usually
/// separate mounts and must be reachable.
///
/// ```no_run
/// use forensic_collect::rootfs::RootFs;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let root = RootFs::open("/proc/4242/root".as_ref())?;
/// if let Some((mut file, md)) = root.open_file(b"/etc/passwd")? {
///     println!("{} bytes", md.len());
///     std::io::copy(&mut file, &mut std::io::sink())?;
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct RootFs {
    fd: OwnedFd,
    label: String,
    try_openat2: AtomicBool,
}

/// What `open_parent` yields: the parent directory (`O_PATH`) and the last component.
pub(crate) struct Parent<'a> {
    pub dir: OwnedFd,
    pub leaf: &'a [u8],
}

impl RootFs {
    /// Opens `path` (a trusted host path such as `/proc/<pid>/root`; the magic link is followed on
    /// purpose) as the root of all later lookups.
    ///
    /// # Errors
    /// [`RootError::OpenRoot`] if it cannot be opened as a directory.
    pub fn open(path: &Path) -> Result<RootFs, RootError> {
        let label = display_path(path.as_os_str().as_bytes());
        let fd = rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| RootError::OpenRoot {
            path: label.clone(),
            source: e.into(),
        })?;
        Ok(RootFs {
            fd,
            label,
            try_openat2: AtomicBool::new(true),
        })
    }

    /// Uses an already open directory descriptor as the root; `label` names it in messages.
    ///
    /// # Errors
    /// [`RootError::OpenRoot`] if `fd` is not a directory.
    pub fn from_fd(fd: OwnedFd, label: &str) -> Result<RootFs, RootError> {
        let st = sys::fstat(fd.as_fd()).map_err(|e| RootError::OpenRoot {
            path: label.into(),
            source: e,
        })?;
        if !st.is_dir() {
            return Err(RootError::OpenRoot {
                path: label.into(),
                source: std::io::Error::from_raw_os_error(Errno::NOTDIR.raw_os_error()),
            });
        }
        Ok(RootFs {
            fd,
            label: label.into(),
            try_openat2: AtomicBool::new(true),
        })
    }

    /// The host path (or label) this root was opened from.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The root directory's descriptor.
    pub fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Opens the regular file at `rel` for reading and returns it with its `fstat` metadata.
    ///
    /// `Ok(None)` when `rel` exists but is not a regular file (a symlink, directory, FIFO, socket or
    /// device): those are never opened for reading. The file is opened with `O_NOFOLLOW |
    /// O_NONBLOCK | O_NOATIME` (without `O_NOATIME` where the kernel refuses it) and must still be
    /// the inode that `lstat` saw a moment before.
    ///
    /// # Errors
    /// [`RootError::NotFound`] if it does not exist, [`RootError::Symlink`] if a directory on the
    /// way is a symlink, [`RootError::Replaced`] if it changed between `lstat` and `open`,
    /// [`RootError::Io`] otherwise.
    pub fn open_file(&self, rel: &[u8]) -> Result<Option<(File, Metadata)>, RootError> {
        let p = self.open_parent(rel)?;
        if p.leaf.is_empty() {
            return Ok(None);
        }
        let st = sys::lstat_at(p.dir.as_fd(), p.leaf).map_err(|e| RootError::from_io(shown(rel), e))?;
        if !st.is_file() {
            return Ok(None);
        }
        let file = match sys::open_regular_at(p.dir.as_fd(), p.leaf, &st) {
            Ok(f) => f,
            Err(OpenError::Replaced) => return Err(RootError::Replaced { path: shown(rel) }),
            Err(OpenError::Io(e)) if sys::errno(&e) == Some(Errno::LOOP) => {
                return Err(RootError::Replaced { path: shown(rel) });
            }
            Err(OpenError::Io(e)) => return Err(RootError::from_io(shown(rel), e)),
        };
        let md = file.metadata().map_err(|e| RootError::from_io(shown(rel), e))?;
        Ok(Some((file, md)))
    }

    /// The metadata of `rel` itself (`lstat`: a symlink is described with its target, never
    /// followed), with extended attributes. `Ok(None)` if it does not exist.
    ///
    /// # Errors
    /// [`RootError::Symlink`] if a directory on the way is a symlink, [`RootError::Io`] otherwise.
    pub fn meta(&self, rel: &[u8]) -> Result<Option<FileMeta>, RootError> {
        let p = match self.open_parent(rel) {
            Err(RootError::NotFound { .. }) => return Ok(None),
            other => other?,
        };
        if p.leaf.is_empty() {
            let st = sys::fstat(self.fd.as_fd()).map_err(|e| RootError::from_io(shown(rel), e))?;
            return Ok(st.to_meta(None, sys::fd_xattrs(self.fd.as_fd())));
        }
        let st = match sys::lstat_at(p.dir.as_fd(), p.leaf) {
            Err(e) if sys::errno(&e) == Some(Errno::NOENT) => return Ok(None),
            other => other.map_err(|e| RootError::from_io(shown(rel), e))?,
        };
        let target = if st.file_type() == rustix::fs::FileType::Symlink {
            sys::read_link_at(p.dir.as_fd(), p.leaf)
                .ok()
                .map(|t| RawPath::from_bytes(&t))
        } else {
            None
        };
        Ok(st.to_meta(target, sys::at_xattrs(p.dir.as_fd(), p.leaf)))
    }

    /// `lstat` of `rel`; `Ok(None)` if it (or a directory on the way) does not exist.
    pub(crate) fn lstat(&self, rel: &[u8]) -> Result<Option<Lstat>, RootError> {
        let p = match self.open_parent(rel) {
            Err(RootError::NotFound { .. }) => return Ok(None),
            other => other?,
        };
        if p.leaf.is_empty() {
            return sys::fstat(self.fd.as_fd())
                .map(Some)
                .map_err(|e| RootError::from_io(shown(rel), e));
        }
        match sys::lstat_at(p.dir.as_fd(), p.leaf) {
            Ok(st) => Ok(Some(st)),
            Err(e) if sys::errno(&e) == Some(Errno::NOENT) => Ok(None),
            Err(e) => Err(RootError::from_io(shown(rel), e)),
        }
    }

    /// Opens the directory `rel` for listing (`O_NOFOLLOW`, `O_NOATIME` where allowed).
    pub(crate) fn open_dir(&self, rel: &[u8]) -> Result<OwnedFd, RootError> {
        let p = self.open_parent(rel)?;
        let leaf: &[u8] = if p.leaf.is_empty() { b"." } else { p.leaf };
        sys::open_dir_at(p.dir.as_fd(), leaf).map_err(|e| {
            // O_DIRECTORY|O_NOFOLLOW on a symlink fails with ELOOP or ENOTDIR, depending on the kernel.
            let link = sys::lstat_at(p.dir.as_fd(), leaf).is_ok_and(|s| s.file_type() == rustix::fs::FileType::Symlink);
            if link {
                RootError::Symlink { path: shown(rel) }
            } else {
                RootError::from_io(shown(rel), e)
            }
        })
    }

    /// Opens the directory holding the last component of `rel` (`O_PATH`), without following any
    /// symlink. For the root itself, `leaf` is empty and `dir` is the root.
    pub(crate) fn open_parent<'a>(&self, rel: &'a [u8]) -> Result<Parent<'a>, RootError> {
        let comps = components(rel)?;
        let (leaf, dirs) = match comps.split_last() {
            Some((leaf, dirs)) => (*leaf, dirs),
            None => (&b""[..], &[][..]),
        };
        let dir = self.resolve_dir(dirs).map_err(|e| RootError::from_io(shown(rel), e))?;
        Ok(Parent { dir, leaf })
    }

    /// Opens the directory `comps` beneath the root as `O_PATH`, refusing symlinks anywhere.
    fn resolve_dir(&self, comps: &[&[u8]]) -> std::io::Result<OwnedFd> {
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        if self.try_openat2.load(Ordering::Relaxed) {
            let path = if comps.is_empty() {
                b".".to_vec()
            } else {
                comps.join(&b'/')
            };
            let resolve = ResolveFlags::IN_ROOT | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
            for _ in 0..4 {
                match rustix::fs::openat2(self.fd.as_fd(), OsStr::from_bytes(&path), flags, Mode::empty(), resolve) {
                    Ok(fd) => return Ok(fd),
                    // A rename raced with the lookup; the kernel asks to retry.
                    Err(Errno::AGAIN) => continue,
                    // No openat2 (before Linux 5.6) or a seccomp filter refusing it.
                    Err(Errno::NOSYS | Errno::PERM | Errno::INVAL | Errno::TOOBIG) => {
                        self.try_openat2.store(false, Ordering::Relaxed);
                        break;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        self.resolve_dir_by_components(comps)
    }

    /// The fallback of [`RootFs::resolve_dir`]: one `openat(O_PATH | O_DIRECTORY | O_NOFOLLOW)`
    /// per component, each relative to the previous directory.
    fn resolve_dir_by_components(&self, comps: &[&[u8]]) -> std::io::Result<OwnedFd> {
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let mut cur = rustix::fs::openat(self.fd.as_fd(), ".", flags, Mode::empty())?;
        for comp in comps {
            cur = match rustix::fs::openat(cur.as_fd(), OsStr::from_bytes(comp), flags, Mode::empty()) {
                Ok(fd) => fd,
                Err(Errno::NOTDIR)
                    if sys::lstat_at(cur.as_fd(), comp)
                        .is_ok_and(|s| s.file_type() == rustix::fs::FileType::Symlink) =>
                {
                    return Err(Errno::LOOP.into());
                }
                Err(e) => return Err(e.into()),
            };
        }
        Ok(cur)
    }

    /// Forces the component-by-component fallback (tests of kernels without `openat2`).
    #[cfg(test)]
    pub(crate) fn without_openat2(self) -> RootFs {
        self.try_openat2.store(false, Ordering::Relaxed);
        self
    }
}

/// Splits `rel` into components: empty and `.` components dropped, `..` and NUL refused.
pub(crate) fn components(rel: &[u8]) -> Result<Vec<&[u8]>, RootError> {
    if rel.contains(&0) {
        return Err(RootError::BadPath {
            path: display_path(rel),
            why: "contains a NUL byte",
        });
    }
    let mut out = Vec::new();
    for c in rel.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                return Err(RootError::BadPath {
                    path: display_path(rel),
                    why: "contains '..'; paths are taken relative to the container root without it",
                });
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// `rel` as an absolute container path for messages.
pub(crate) fn shown(rel: &[u8]) -> String {
    let trimmed = rel.strip_prefix(b"/").unwrap_or(rel);
    format!("/{}", display_path(trimmed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    struct Tree {
        _outside: tempfile::TempDir,
        root: tempfile::TempDir,
        secret: std::path::PathBuf,
    }

    fn tree() -> Tree {
        let outside = tempfile::tempdir().unwrap();
        let secret = outside.path().join("shadow");
        std::fs::write(&secret, b"SECRET-BYTES").unwrap();
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir_all(r.join("etc")).unwrap();
        std::fs::write(r.join("etc/passwd"), b"root:x:0:0\n").unwrap();
        std::os::unix::fs::symlink(&secret, r.join("etc/shadow-link")).unwrap();
        std::os::unix::fs::symlink(outside.path(), r.join("escape")).unwrap();
        std::os::unix::fs::symlink("../../../..", r.join("up")).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            r.join("fifo"),
            rustix::fs::FileType::Fifo,
            Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        Tree {
            _outside: outside,
            root,
            secret,
        }
    }

    fn both(t: &Tree) -> [RootFs; 2] {
        [
            RootFs::open(t.root.path()).unwrap(),
            RootFs::open(t.root.path()).unwrap().without_openat2(),
        ]
    }

    #[test]
    fn regular_files_open_and_nothing_else_does() {
        let t = tree();
        for root in both(&t) {
            let (mut f, md) = root.open_file(b"/etc/passwd").unwrap().unwrap();
            let mut s = String::new();
            f.read_to_string(&mut s).unwrap();
            assert_eq!((s.as_str(), md.len()), ("root:x:0:0\n", 11));
            assert!(root.open_file(b"etc/shadow-link").unwrap().is_none());
            assert!(root.open_file(b"fifo").unwrap().is_none(), "a FIFO is not opened");
            assert!(root.open_file(b"etc").unwrap().is_none());
            assert!(root.open_file(b"").unwrap().is_none());
            assert!(root.open_file(b"etc/nothing").unwrap_err().is_not_found());
            assert!(matches!(
                root.open_file(b"escape/shadow"),
                Err(RootError::Symlink { .. })
            ));
            assert!(matches!(
                root.open_file(b"up/etc/passwd"),
                Err(RootError::Symlink { .. })
            ));
            assert!(matches!(
                root.open_file(b"../etc/passwd"),
                Err(RootError::BadPath { .. })
            ));
            assert!(matches!(root.open_file(b"etc/passwd/x"), Err(RootError::Io { .. })));
        }
        assert_eq!(std::fs::read(&t.secret).unwrap(), b"SECRET-BYTES");
    }

    #[test]
    fn meta_describes_symlinks_without_following() {
        let t = tree();
        for root in both(&t) {
            let m = root.meta(b"etc/shadow-link").unwrap().unwrap();
            assert_eq!(m.kind, forensic_bundle::manifest::FileKind::Symlink);
            assert_eq!(
                m.symlink_target,
                Some(RawPath::from_bytes(t.secret.as_os_str().as_bytes()))
            );
            assert_eq!(root.meta(b"nothing/here").unwrap(), None);
            assert_eq!(
                root.meta(b"/").unwrap().unwrap().kind,
                forensic_bundle::manifest::FileKind::Dir
            );
            assert_eq!(
                root.lstat(b"fifo").unwrap().unwrap().kind(),
                Some(forensic_bundle::manifest::FileKind::Fifo)
            );
            assert!(matches!(root.open_dir(b"escape"), Err(RootError::Symlink { .. })));
            assert!(root.open_dir(b"etc").is_ok());
        }
    }

    #[test]
    fn components_refuse_dotdot_and_nul() {
        assert_eq!(components(b"/a//./b/").unwrap(), [&b"a"[..], b"b"]);
        assert!(components(b"a/../b").is_err());
        assert!(components(b"a\0b").is_err());
        assert_eq!(shown(b"/tmp/a\nb"), "/tmp/a\\nb");
        assert_eq!(shown(b"tmp"), "/tmp");
    }
}
