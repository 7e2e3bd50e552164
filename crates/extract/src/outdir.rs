//! The output directory, written only through its open descriptor (openat-style): no path is
//! ever resolved from the root of the file system, and no symbolic link is ever followed.

use crate::ExtractError;
use rustix::fs::{AtFlags, Mode, OFlags};
use std::fs::{self, File};
use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

/// An output directory that was new or empty when opened.
#[derive(Debug)]
pub(crate) struct OutDir {
    root: OwnedFd,
    path: PathBuf,
}

const DIR_FLAGS: OFlags = OFlags::DIRECTORY
    .union(OFlags::NOFOLLOW)
    .union(OFlags::RDONLY)
    .union(OFlags::CLOEXEC);

impl OutDir {
    /// Creates `path` (and its parents), or opens it if it is an empty directory.
    ///
    /// # Errors
    /// [`ExtractError::BadOutput`] if `path` is a symbolic link, not a directory, or not empty.
    pub(crate) fn create(path: &Path) -> Result<OutDir, ExtractError> {
        let bad = |reason: &str| ExtractError::BadOutput {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        };
        match fs::symlink_metadata(path) {
            Ok(md) if md.file_type().is_symlink() => {
                return Err(bad("is a symbolic link; give a new or empty directory"));
            }
            Ok(md) if !md.is_dir() => return Err(bad("exists and is not a directory")),
            Ok(_) => {
                let mut entries = fs::read_dir(path).map_err(|e| ExtractError::io(path, e))?;
                if entries.next().is_some() {
                    return Err(bad(
                        "is not empty; extract into a new or empty directory (nothing is ever overwritten)",
                    ));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    fs::create_dir_all(parent).map_err(|e| ExtractError::io(parent, e))?;
                }
                fs::create_dir(path).map_err(|e| ExtractError::io(path, e))?;
            }
            Err(e) => return Err(ExtractError::io(path, e)),
        }
        let root = rustix::fs::open(path, DIR_FLAGS, Mode::empty()).map_err(|e| ExtractError::io(path, e.into()))?;
        Ok(OutDir {
            root,
            path: path.to_path_buf(),
        })
    }

    /// The directory's path, as given.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Creates a new regular file (mode 0644 before the umask) at `segments` below the root,
    /// creating directories (0755) on the way.
    ///
    /// # Errors
    /// `EEXIST` if anything is already there (never overwritten); `ENOTDIR` or `ELOOP` if a path
    /// component is a file or a symbolic link (never followed).
    pub(crate) fn create_file(&self, segments: &[&str]) -> io::Result<File> {
        let Some((file, dirs)) = segments.split_last() else {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "empty path"));
        };
        let mut held: Option<OwnedFd> = None;
        for d in dirs {
            let next = {
                let parent = held.as_ref().unwrap_or(&self.root);
                match rustix::fs::mkdirat(parent, *d, Mode::from_raw_mode(0o755)) {
                    Ok(()) | Err(rustix::io::Errno::EXIST) => {}
                    Err(e) => return Err(e.into()),
                }
                rustix::fs::openat(parent, *d, DIR_FLAGS, Mode::empty())?
            };
            held = Some(next);
        }
        let parent = held.as_ref().unwrap_or(&self.root);
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(parent, *file, flags, Mode::from_raw_mode(0o644))?;
        Ok(File::from(fd))
    }

    /// Removes the file at `segments` (a member whose content turned out unreadable).
    pub(crate) fn remove_file(&self, segments: &[&str]) -> io::Result<()> {
        let Some((file, dirs)) = segments.split_last() else {
            return Ok(());
        };
        let mut held: Option<OwnedFd> = None;
        for d in dirs {
            let parent = held.as_ref().unwrap_or(&self.root);
            let next = rustix::fs::openat(parent, *d, DIR_FLAGS, Mode::empty())?;
            held = Some(next);
        }
        let parent = held.as_ref().unwrap_or(&self.root);
        rustix::fs::unlinkat(parent, *file, AtFlags::empty())?;
        Ok(())
    }

    /// Syncs the directory.
    pub(crate) fn sync(&self) -> io::Result<()> {
        rustix::fs::fsync(&self.root)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn files_are_created_inside_never_over_anything_never_through_a_link() {
        let tmp = tempfile::tempdir().unwrap();
        let out = OutDir::create(&tmp.path().join("out")).unwrap();
        out.create_file(&["a", "b", "c.txt"]).unwrap().write_all(b"x").unwrap();
        assert_eq!(fs::read(tmp.path().join("out/a/b/c.txt")).unwrap(), b"x");
        let again = out.create_file(&["a", "b", "c.txt"]).unwrap_err();
        assert_eq!(again.kind(), io::ErrorKind::AlreadyExists);
        // A symlink planted inside (by someone else) is never followed, as a directory or a file.
        std::os::unix::fs::symlink(tmp.path(), tmp.path().join("out/link")).unwrap();
        assert!(out.create_file(&["link", "escaped.txt"]).is_err());
        assert!(out.create_file(&["link"]).is_err());
        assert!(!tmp.path().join("escaped.txt").exists());
        // A file where a directory is needed.
        assert!(out.create_file(&["a", "b", "c.txt", "d"]).is_err());
        let mode = fs::metadata(tmp.path().join("out/a/b/c.txt")).unwrap().permissions();
        assert_eq!(std::os::unix::fs::PermissionsExt::mode(&mode) & 0o7000, 0);
    }

    #[test]
    fn the_output_must_be_new_or_empty_and_not_a_link() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("file"), b"").unwrap();
        assert!(OutDir::create(&tmp.path().join("file")).is_err());
        fs::create_dir(tmp.path().join("full")).unwrap();
        fs::write(tmp.path().join("full/x"), b"").unwrap();
        assert!(OutDir::create(&tmp.path().join("full")).is_err());
        fs::create_dir(tmp.path().join("empty")).unwrap();
        std::os::unix::fs::symlink(tmp.path().join("empty"), tmp.path().join("link")).unwrap();
        assert!(OutDir::create(&tmp.path().join("link")).is_err());
        assert!(OutDir::create(&tmp.path().join("empty")).is_ok());
        assert!(OutDir::create(&tmp.path().join("new/deeper")).is_ok());
    }
}
