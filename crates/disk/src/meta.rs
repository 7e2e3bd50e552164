//! File metadata for the manifest (SPEC §6 `file-meta`), read without following symlinks.

use forensic_bundle::manifest::{FileKind, FileMeta, RawPath, Xattr};
use std::fs::{File, FileType, Metadata};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

/// The metadata of `path` itself, from `lstat`: a symlink is described, never followed. For a
/// symlink the target is recorded as read (`readlink`), as raw bytes when it is not UTF-8.
/// Extended attributes are read with the non-following calls (`llistxattr`, `lgetxattr`).
///
/// # Errors
/// The `lstat` or `readlink` error; unreadable extended attributes are skipped instead.
pub fn file_meta(path: &Path) -> io::Result<FileMeta> {
    let md = path.symlink_metadata()?;
    let target = if md.file_type().is_symlink() {
        Some(RawPath::from_bytes(std::fs::read_link(path)?.as_os_str().as_bytes()))
    } else {
        None
    };
    from_metadata(&md, target, path_xattrs(path))
}

/// Builds a [`FileMeta`] from `lstat` or `fstat` results, with the symlink target and extended
/// attributes read separately (see [`path_xattrs`] and [`file_xattrs`]).
///
/// Times are nanoseconds since the Unix epoch (saturating far outside ±292 years).
///
/// # Errors
/// [`io::ErrorKind::InvalidData`] for a file type this format has no name for (none on Linux).
pub fn from_metadata(
    md: &Metadata,
    symlink_target: Option<RawPath>,
    xattrs: Option<Vec<Xattr>>,
) -> io::Result<FileMeta> {
    let kind =
        kind_of(md.file_type()).ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unknown file type"))?;
    Ok(FileMeta {
        kind,
        mode: md.mode() & 0o7777,
        uid: md.uid(),
        gid: md.gid(),
        size: md.size(),
        mtime_ns: nanos(md.mtime(), md.mtime_nsec()),
        ctime_ns: nanos(md.ctime(), md.ctime_nsec()),
        atime_ns: Some(nanos(md.atime(), md.atime_nsec())),
        inode: md.ino(),
        dev: md.dev(),
        nlink: md.nlink(),
        symlink_target,
        xattrs,
    })
}

/// The manifest's name for a file type.
pub fn kind_of(t: FileType) -> Option<FileKind> {
    Some(if t.is_file() {
        FileKind::File
    } else if t.is_dir() {
        FileKind::Dir
    } else if t.is_symlink() {
        FileKind::Symlink
    } else if t.is_fifo() {
        FileKind::Fifo
    } else if t.is_socket() {
        FileKind::Socket
    } else if t.is_char_device() {
        FileKind::Char
    } else if t.is_block_device() {
        FileKind::Block
    } else {
        return None;
    })
}

/// Extended attributes of `path` itself (not following a symlink), in the order listed.
///
/// `None` when there are none or the filesystem does not support them. Attributes whose name is
/// not UTF-8 or whose value cannot be read (permission, removed meanwhile) are skipped.
pub fn path_xattrs(path: &Path) -> Option<Vec<Xattr>> {
    // `xattr::list`/`get` use llistxattr/lgetxattr; the `_deref` variants would follow symlinks.
    let names = xattr::list(path).ok()?;
    collect(names, |name| xattr::get(path, name))
}

/// Extended attributes of an open file (`flistxattr`, `fgetxattr`): the same rules as
/// [`path_xattrs`], without a second path lookup.
pub fn file_xattrs(file: &File) -> Option<Vec<Xattr>> {
    use xattr::FileExt as _;
    let names = file.list_xattr().ok()?;
    collect(names, |name| file.get_xattr(name))
}

fn collect(
    names: impl Iterator<Item = std::ffi::OsString>,
    mut get: impl FnMut(&std::ffi::OsStr) -> io::Result<Option<Vec<u8>>>,
) -> Option<Vec<Xattr>> {
    let found: Vec<Xattr> = names
        .filter_map(|name| {
            let text = name.to_str()?.to_string();
            let value = get(&name).ok()??;
            Some(Xattr(text, value))
        })
        .collect();
    (!found.is_empty()).then_some(found)
}

fn nanos(secs: i64, nsec: i64) -> i64 {
    secs.saturating_mul(1_000_000_000).saturating_add(nsec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_regular_file_is_described_by_lstat() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let p = dir.path().join("f.txt");
        std::fs::write(&p, b"12345")?;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o4750))?;
        let m = file_meta(&p)?;
        let md = std::fs::symlink_metadata(&p)?;
        assert_eq!(m.kind, FileKind::File);
        assert_eq!(m.mode, 0o4750);
        assert_eq!((m.uid, m.gid), (md.uid(), md.gid()));
        assert_eq!(m.size, 5);
        assert_eq!((m.inode, m.dev, m.nlink), (md.ino(), md.dev(), 1));
        assert_eq!(m.mtime_ns, md.mtime() * 1_000_000_000 + md.mtime_nsec());
        assert_eq!(m.atime_ns, Some(md.atime() * 1_000_000_000 + md.atime_nsec()));
        assert_eq!(m.symlink_target, None);
        // fstat of the open file gives the same record.
        let f = File::open(&p)?;
        assert_eq!(from_metadata(&f.metadata()?, None, file_xattrs(&f))?, m);
        Ok(())
    }

    #[test]
    fn a_symlink_is_recorded_not_followed() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let target = dir.path().join("big-target");
        std::fs::write(&target, vec![b'x'; 1000])?;
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link)?;
        let m = file_meta(&link)?;
        assert_eq!(m.kind, FileKind::Symlink);
        assert_eq!(
            m.symlink_target,
            Some(RawPath::from_bytes(target.as_os_str().as_bytes()))
        );
        assert_eq!(
            m.size,
            target.as_os_str().len() as u64,
            "lstat size is the target's length"
        );
        assert_ne!(m.inode, std::fs::metadata(&target)?.ino());
        // A dangling link and a non-UTF-8 target work too.
        let raw = dir.path().join("raw");
        std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(b"/no/such\xff"), &raw)?;
        assert_eq!(
            file_meta(&raw)?.symlink_target,
            Some(RawPath::Bytes(b"/no/such\xff".to_vec()))
        );
        Ok(())
    }

    #[test]
    fn user_xattrs_are_recorded_where_supported() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let p = dir.path().join("x");
        std::fs::write(&p, b"")?;
        match xattr::set(&p, "user.forensic-test", b"\x00value\xff") {
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::NOTSUP.raw_os_error()) => {
                eprintln!("skipping the xattr assertion: the filesystem does not support user.* xattrs");
                return Ok(());
            }
            other => other?,
        }
        let want = Xattr("user.forensic-test".into(), b"\x00value\xff".to_vec());
        assert!(file_meta(&p)?.xattrs.unwrap_or_default().contains(&want));
        assert!(file_xattrs(&File::open(&p)?).unwrap_or_default().contains(&want));
        Ok(())
    }

    #[test]
    fn special_files_get_their_type() -> Result<(), Box<dyn std::error::Error>> {
        assert_eq!(file_meta(Path::new("/dev/null"))?.kind, FileKind::Char);
        let dir = tempfile::tempdir()?;
        assert_eq!(file_meta(dir.path())?.kind, FileKind::Dir);
        let fifo = dir.path().join("p");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )?;
        assert_eq!(file_meta(&fifo)?.kind, FileKind::Fifo);
        Ok(())
    }
}
