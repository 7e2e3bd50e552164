//! System calls on directory file descriptors: `lstat`-like status, safe opens, symlink targets,
//! extended attributes and filesystem types. Every call takes a directory fd and one name (never a
//! path string resolved by the kernel through attacker-controlled components) and never follows a
//! symlink in the last component.

use forensic_bundle::manifest::{FileKind, FileMeta, RawPath, Xattr};
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use rustix::fs::{AtFlags, FileType, Mode, OFlags, StatxFlags};
use rustix::io::Errno;
use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;

/// What `statx(AT_SYMLINK_NOFOLLOW)` says about an entry, in a form independent of the architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lstat {
    /// `st_mode` (type and permission bits).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    /// 512-byte blocks allocated.
    pub blocks: u64,
    pub atime_ns: i64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub ino: u64,
    pub dev: u64,
    pub rdev: u64,
    pub nlink: u64,
}

impl Lstat {
    fn from_statx(s: &rustix::fs::Statx) -> Lstat {
        Lstat {
            mode: u32::from(s.stx_mode),
            uid: s.stx_uid,
            gid: s.stx_gid,
            size: s.stx_size,
            blocks: s.stx_blocks,
            atime_ns: nanos(s.stx_atime.tv_sec, i64::from(s.stx_atime.tv_nsec)),
            mtime_ns: nanos(s.stx_mtime.tv_sec, i64::from(s.stx_mtime.tv_nsec)),
            ctime_ns: nanos(s.stx_ctime.tv_sec, i64::from(s.stx_ctime.tv_nsec)),
            ino: s.stx_ino,
            dev: rustix::fs::makedev(s.stx_dev_major, s.stx_dev_minor),
            rdev: rustix::fs::makedev(s.stx_rdev_major, s.stx_rdev_minor),
            nlink: u64::from(s.stx_nlink),
        }
    }

    /// From `fstatat`, for kernels older than 4.11 without `statx`. The field types of `struct
    /// stat` differ between architectures, hence the casts (all widen or keep the width).
    #[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
    fn from_stat(s: &rustix::fs::Stat) -> Lstat {
        Lstat {
            mode: s.st_mode as u32,
            uid: s.st_uid as u32,
            gid: s.st_gid as u32,
            size: s.st_size as u64,
            blocks: s.st_blocks as u64,
            atime_ns: nanos(s.st_atime as i64, s.st_atime_nsec as i64),
            mtime_ns: nanos(s.st_mtime as i64, s.st_mtime_nsec as i64),
            ctime_ns: nanos(s.st_ctime as i64, s.st_ctime_nsec as i64),
            ino: s.st_ino as u64,
            dev: s.st_dev as u64,
            rdev: s.st_rdev as u64,
            nlink: s.st_nlink as u64,
        }
    }

    /// The file type.
    pub fn file_type(&self) -> FileType {
        FileType::from_raw_mode(self.mode)
    }

    /// The manifest's name for the type (`None` for a type Linux does not have).
    pub fn kind(&self) -> Option<FileKind> {
        Some(match self.file_type() {
            FileType::RegularFile => FileKind::File,
            FileType::Directory => FileKind::Dir,
            FileType::Symlink => FileKind::Symlink,
            FileType::Fifo => FileKind::Fifo,
            FileType::Socket => FileKind::Socket,
            FileType::CharacterDevice => FileKind::Char,
            FileType::BlockDevice => FileKind::Block,
            _ => return None,
        })
    }

    /// A regular file.
    pub fn is_file(&self) -> bool {
        self.file_type() == FileType::RegularFile
    }

    /// A directory.
    pub fn is_dir(&self) -> bool {
        self.file_type() == FileType::Directory
    }

    /// Same device and inode as `other`.
    pub fn same_inode(&self, other: &Lstat) -> bool {
        self.dev == other.dev && self.ino == other.ino
    }

    /// The manifest record (SPEC §6 `file-meta`), the same fields as
    /// [`forensic_disk::meta::from_metadata`] gives for an `fstat`.
    pub fn to_meta(self, symlink_target: Option<RawPath>, xattrs: Option<Vec<Xattr>>) -> Option<FileMeta> {
        Some(FileMeta {
            kind: self.kind()?,
            mode: self.mode & 0o7777,
            uid: self.uid,
            gid: self.gid,
            size: self.size,
            mtime_ns: self.mtime_ns,
            ctime_ns: self.ctime_ns,
            atime_ns: Some(self.atime_ns),
            inode: self.ino,
            dev: self.dev,
            nlink: self.nlink,
            symlink_target,
            xattrs,
        })
    }
}

fn nanos(secs: i64, nsec: i64) -> i64 {
    secs.saturating_mul(1_000_000_000).saturating_add(nsec)
}

/// `statx(dir, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_STATX_DONT_SYNC)`: the entry itself,
/// never what a symlink points to; no automount triggered, no network round trip forced.
pub(crate) fn lstat_at(dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<Lstat> {
    let flags = AtFlags::SYMLINK_NOFOLLOW | AtFlags::NO_AUTOMOUNT | AtFlags::STATX_DONT_SYNC;
    match rustix::fs::statx(dir, OsStr::from_bytes(name), flags, StatxFlags::BASIC_STATS) {
        Ok(s) => Ok(Lstat::from_statx(&s)),
        Err(Errno::NOSYS) => {
            let s = rustix::fs::statat(
                dir,
                OsStr::from_bytes(name),
                AtFlags::SYMLINK_NOFOLLOW | AtFlags::NO_AUTOMOUNT,
            )?;
            Ok(Lstat::from_stat(&s))
        }
        Err(e) => Err(e.into()),
    }
}

/// `fstat` of an open file descriptor.
pub(crate) fn fstat(fd: BorrowedFd<'_>) -> io::Result<Lstat> {
    match rustix::fs::statx(
        fd,
        c"",
        AtFlags::EMPTY_PATH | AtFlags::STATX_DONT_SYNC,
        StatxFlags::BASIC_STATS,
    ) {
        Ok(s) => Ok(Lstat::from_statx(&s)),
        Err(Errno::NOSYS) => Ok(Lstat::from_stat(&rustix::fs::fstat(fd)?)),
        Err(e) => Err(e.into()),
    }
}

/// `openat` with `flags | O_NOATIME`, again without `O_NOATIME` when the kernel refuses it
/// (`EPERM`: neither owner nor `CAP_FOWNER`).
fn open_noatime(dir: BorrowedFd<'_>, name: &OsStr, flags: OFlags) -> io::Result<OwnedFd> {
    match rustix::fs::openat(dir, name, flags | OFlags::NOATIME, Mode::empty()) {
        Err(Errno::PERM) => Ok(rustix::fs::openat(dir, name, flags, Mode::empty())?),
        other => Ok(other?),
    }
}

/// Flags for reading a directory's entries: never through a symlink, never anything but a
/// directory (`O_DIRECTORY` is checked before the file is opened, so no device `open` runs).
pub(crate) const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

/// Flags for reading a file's content: no symlink, no blocking on a FIFO swapped in.
pub(crate) const FILE_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::NOFOLLOW)
    .union(OFlags::NONBLOCK)
    .union(OFlags::CLOEXEC);

/// Opens the directory `name` in `dir` for listing (`O_NOFOLLOW`, `O_NOATIME` where allowed).
pub(crate) fn open_dir_at(dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<OwnedFd> {
    open_noatime(dir, OsStr::from_bytes(name), DIR_FLAGS)
}

/// Why a regular file could not be opened for reading.
#[derive(Debug)]
pub(crate) enum OpenError {
    /// The operating system's error (`ELOOP`: a symlink took its place).
    Io(io::Error),
    /// What was opened is not the regular file that was listed.
    Replaced,
}

/// Opens the regular file `name` in `dir` that `listed` describes: `O_NOFOLLOW | O_NONBLOCK |
/// O_NOATIME`, then `fstat` must show a regular file with the listed device and inode, or the file
/// is closed unread.
///
/// # Security
/// The caller must have seen a regular file at `name` with [`lstat_at`]. Only if it is replaced by
/// something else between that call and this `open` does the open reach a non-regular file: a
/// symlink fails (`ELOOP`), a FIFO does not block (`O_NONBLOCK`) and is closed unread; a device
/// node swapped in at that instant would have its driver's `open` run (not its `read`).
pub(crate) fn open_regular_at(dir: BorrowedFd<'_>, name: &[u8], listed: &Lstat) -> Result<std::fs::File, OpenError> {
    open_inode_at(dir, name, listed.dev, listed.ino).map(|(f, _)| f)
}

/// [`open_regular_at`] given the listed device and inode numbers; also returns the `fstat` of
/// the opened file.
pub(crate) fn open_inode_at(
    dir: BorrowedFd<'_>,
    name: &[u8],
    dev: u64,
    ino: u64,
) -> Result<(std::fs::File, Lstat), OpenError> {
    let fd = open_noatime(dir, OsStr::from_bytes(name), FILE_FLAGS).map_err(OpenError::Io)?;
    let now = fstat(fd.as_fd()).map_err(OpenError::Io)?;
    if !now.is_file() || now.dev != dev || now.ino != ino {
        return Err(OpenError::Replaced);
    }
    Ok((std::fs::File::from(fd), now))
}

/// The target of the symlink `name` in `dir`, as raw bytes (never followed).
pub(crate) fn read_link_at(dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<Vec<u8>> {
    Ok(rustix::fs::readlinkat(dir, OsStr::from_bytes(name), Vec::new())?.into_bytes())
}

/// Largest list of xattr names and largest value Linux allows (`XATTR_LIST_MAX`, `XATTR_SIZE_MAX`).
const XATTR_MAX: usize = 65536;

/// Calls `f` with a 4 KiB buffer, and once more with the largest size if that was too small.
fn with_buffer(mut f: impl FnMut(&mut [u8]) -> Result<usize, Errno>) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 4096];
    let n = match f(&mut buf) {
        Ok(n) => n,
        Err(Errno::RANGE) => {
            buf.resize(XATTR_MAX, 0);
            f(&mut buf).ok()?
        }
        Err(_) => return None,
    };
    buf.truncate(n);
    Some(buf)
}

/// Extended attributes of an open file or directory, in the order listed. `None` when there are
/// none or they cannot be read; names that are not UTF-8 and values that vanish are skipped.
pub(crate) fn fd_xattrs(fd: BorrowedFd<'_>) -> Option<Vec<Xattr>> {
    let names = with_buffer(|b| rustix::fs::flistxattr(fd, b))?;
    collect_xattrs(&names, |name| with_buffer(|b| rustix::fs::fgetxattr(fd, name, b)))
}

/// Extended attributes of the entry `name` of `dir` itself (a symlink, FIFO, device or socket is
/// described, not opened or followed).
///
/// There is no `llistxattrat` in the system call interface this crate can use, so the entry is
/// named `/proc/self/fd/<dir>/<name>`: the kernel resolves the descriptor's magic link to the
/// directory already open (trusted: our own descriptor), and the `l*xattr` calls do not follow
/// `name`, which is one component without `/`. Without `/proc`, `None`.
pub(crate) fn at_xattrs(dir: BorrowedFd<'_>, name: &[u8]) -> Option<Vec<Xattr>> {
    if name.is_empty() || name.contains(&b'/') {
        return None;
    }
    let mut path = format!("/proc/self/fd/{}/", dir.as_raw_fd()).into_bytes();
    path.extend_from_slice(name);
    let path = OsStr::from_bytes(&path);
    let names = with_buffer(|b| rustix::fs::llistxattr(path, b))?;
    collect_xattrs(&names, |n| with_buffer(|b| rustix::fs::lgetxattr(path, n, b)))
}

fn collect_xattrs(names: &[u8], mut get: impl FnMut(&OsStr) -> Option<Vec<u8>>) -> Option<Vec<Xattr>> {
    let found: Vec<Xattr> = names
        .split(|&b| b == 0)
        .filter(|n| !n.is_empty())
        .filter_map(|n| {
            let text = std::str::from_utf8(n).ok()?;
            let value = get(OsStr::from_bytes(n))?;
            Some(Xattr(text.to_string(), value))
        })
        .collect();
    (!found.is_empty()).then_some(found)
}

/// `statfs` magic numbers of pseudo filesystems, whose files are kernel state rather than evidence
/// on disk (and may block, be endless, or have side effects when read).
const PSEUDO_FILESYSTEMS: &[(u64, &str)] = &[
    (0x9fa0, "proc"),
    (0x6265_6572, "sysfs"),
    (0x0027_e0eb, "cgroup"),
    (0x6367_7270, "cgroup2"),
    (0x6462_6720, "debugfs"),
    (0x7472_6163, "tracefs"),
    (0x7363_6673, "securityfs"),
    (0xcafe_4a11, "bpf"),
    (0x1cd1, "devpts"),
    (0x1980_0202, "mqueue"),
    (0x6165_676c, "pstore"),
    (0x6265_6570, "configfs"),
    (0x6573_5543, "fusectl"),
    (0x4249_4e4d, "binfmt_misc"),
    (0xf97c_ff8c, "selinuxfs"),
    (0x4341_5d53, "smackfs"),
    (0xde5e_81e4, "efivarfs"),
    (0x6e73_6673, "nsfs"),
    (0x0187, "autofs"),
    (0x6759_6969, "rpc_pipefs"),
    (0x6e66_7364, "nfsd"),
];

/// `statfs` magic number of FUSE filesystems.
pub(crate) const FUSE_MAGIC: u64 = 0x6573_5546;

/// The filesystem type of an open directory (`fstatfs` `f_type`, as 32 bits).
pub(crate) fn fs_magic(fd: BorrowedFd<'_>) -> io::Result<u64> {
    let st = rustix::fs::fstatfs(fd)?;
    // f_type is a signed word on some architectures; magic numbers are 32-bit values.
    #[allow(clippy::unnecessary_cast)]
    Ok((st.f_type as u64) & 0xffff_ffff)
}

/// The name of a pseudo filesystem, if `magic` is one.
pub(crate) fn pseudo_fs_name(magic: u64) -> Option<&'static str> {
    PSEUDO_FILESYSTEMS.iter().find(|(m, _)| *m == magic).map(|(_, n)| *n)
}

/// An operating system error on one entry, in words for a skip record or gap.
pub(crate) fn reason(e: &io::Error) -> String {
    match e.raw_os_error().map(Errno::from_raw_os_error) {
        Some(Errno::NOENT) => "vanished after it was listed".to_string(),
        Some(Errno::ACCESS | Errno::PERM) => format!("permission denied ({e})"),
        Some(Errno::LOOP) => "a symlink took its place after it was listed; not followed".to_string(),
        Some(Errno::NOTDIR) => "no longer a directory after it was listed".to_string(),
        _ => e.to_string(),
    }
}

/// The errno of an I/O error, if it has one.
pub(crate) fn errno(e: &io::Error) -> Option<Errno> {
    e.raw_os_error().map(Errno::from_raw_os_error)
}

/// Reads the names in the open directory `fd` (without `.` and `..`), at most `cap` of them;
/// returns them and whether more were left unread.
pub(crate) fn read_names(fd: BorrowedFd<'_>, cap: u64) -> io::Result<(crate::rootfs::names::NameList, bool)> {
    let mut list = crate::rootfs::names::NameList::default();
    let mut buf: Vec<std::mem::MaybeUninit<u8>> = Vec::with_capacity(32 * 1024);
    buf.resize(32 * 1024, std::mem::MaybeUninit::uninit());
    let mut dir = rustix::fs::RawDir::new(fd, &mut buf);
    while let Some(entry) = dir.next() {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        if list.len() as u64 >= cap {
            return Ok((list, true));
        }
        list.push(name);
    }
    list.sort();
    Ok((list, false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn dir_fd(p: &std::path::Path) -> OwnedFd {
        rustix::fs::open(p, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()).unwrap()
    }

    #[test]
    fn lstat_matches_std_and_the_seal_crate() -> Result<(), Box<dyn std::error::Error>> {
        let t = tempfile::tempdir()?;
        std::fs::write(t.path().join("f"), b"hello")?;
        std::os::unix::fs::symlink("/etc/shadow", t.path().join("l"))?;
        let d = dir_fd(t.path());
        let st = lstat_at(d.as_fd(), b"f")?;
        let md = std::fs::symlink_metadata(t.path().join("f"))?;
        assert_eq!((st.dev, st.ino, st.size, st.mode), (md.dev(), md.ino(), 5, md.mode()));
        let ours = st.to_meta(None, None).unwrap();
        let seal = forensic_disk::meta::from_metadata(&md, None, None)?;
        assert_eq!(ours, seal);
        // The fstatat fallback gives the same record.
        let old = rustix::fs::statat(d.as_fd(), "f", AtFlags::SYMLINK_NOFOLLOW)?;
        assert_eq!(Lstat::from_stat(&old), st);
        let l = lstat_at(d.as_fd(), b"l")?;
        assert_eq!(l.kind(), Some(FileKind::Symlink));
        assert_eq!(read_link_at(d.as_fd(), b"l")?, b"/etc/shadow");
        Ok(())
    }

    #[test]
    fn opening_refuses_symlinks_and_swapped_files() -> Result<(), Box<dyn std::error::Error>> {
        let t = tempfile::tempdir()?;
        std::fs::write(t.path().join("a"), b"a")?;
        std::fs::write(t.path().join("b"), b"b")?;
        std::os::unix::fs::symlink("a", t.path().join("l"))?;
        let d = dir_fd(t.path());
        let a = lstat_at(d.as_fd(), b"a")?;
        assert!(open_regular_at(d.as_fd(), b"a", &a).is_ok());
        assert!(matches!(open_regular_at(d.as_fd(), b"b", &a), Err(OpenError::Replaced)));
        match open_regular_at(d.as_fd(), b"l", &a) {
            Err(OpenError::Io(e)) => assert_eq!(errno(&e), Some(Errno::LOOP)),
            other => panic!("a symlink was opened: {other:?}"),
        }
        match open_dir_at(d.as_fd(), b"l") {
            Err(e) => assert!(matches!(errno(&e), Some(Errno::LOOP | Errno::NOTDIR)), "{e}"),
            Ok(_) => panic!("a symlink was opened as a directory"),
        }
        Ok(())
    }

    #[test]
    fn names_are_listed_sorted_and_capped() -> Result<(), Box<dyn std::error::Error>> {
        let t = tempfile::tempdir()?;
        for n in ["b", "a", "c", "B"] {
            std::fs::write(t.path().join(n), b"")?;
        }
        let d = dir_fd(t.path());
        let (names, more) = read_names(d.as_fd(), 10)?;
        let got: Vec<&[u8]> = names.iter().collect();
        assert_eq!(got, [&b"B"[..], b"a", b"b", b"c"]);
        assert!(!more);
        let d = dir_fd(t.path());
        let (names, more) = read_names(d.as_fd(), 2)?;
        assert_eq!((names.len(), more), (2, true));
        Ok(())
    }

    #[test]
    fn xattrs_of_entries_are_read_without_following() -> Result<(), Box<dyn std::error::Error>> {
        let t = tempfile::tempdir()?;
        let f = t.path().join("f");
        std::fs::write(&f, b"")?;
        if xattr::set(&f, "user.test", b"v\x00\xff").is_err() {
            eprintln!("skipping: no user xattrs here");
            return Ok(());
        }
        std::os::unix::fs::symlink("f", t.path().join("l"))?;
        let d = dir_fd(t.path());
        let want = vec![Xattr("user.test".into(), b"v\x00\xff".to_vec())];
        assert_eq!(at_xattrs(d.as_fd(), b"f"), Some(want.clone()));
        assert_eq!(at_xattrs(d.as_fd(), b"l"), None, "the symlink's target was read");
        let fd = rustix::fs::open(&f, OFlags::RDONLY, Mode::empty())?;
        assert_eq!(fd_xattrs(fd.as_fd()), Some(want));
        Ok(())
    }

    #[test]
    fn proc_is_a_pseudo_filesystem() -> Result<(), Box<dyn std::error::Error>> {
        let p = dir_fd(std::path::Path::new("/proc"));
        assert_eq!(pseudo_fs_name(fs_magic(p.as_fd())?), Some("proc"));
        let t = tempfile::tempdir()?;
        assert_eq!(pseudo_fs_name(fs_magic(dir_fd(t.path()).as_fd())?), None);
        Ok(())
    }
}
