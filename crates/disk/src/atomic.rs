//! Atomic output: a temporary file beside the destination, renamed into place only when complete
//! and synced, never over an existing file (STYLE habit 9).

use crate::DiskError;
use rustix::fs::{FlockOperation, flock};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use tempfile::{NamedTempFile, TempPath};

/// Prefix of the temporary file's name.
pub const TEMP_PREFIX: &str = ".forensic-";
/// Suffix of the temporary file's name.
pub const TEMP_SUFFIX: &str = ".partial";

/// A file being written that will appear at its destination only by [`AtomicFile::commit`].
///
/// The content goes to a temporary file (`.forensic-NAME.partial`, mode 0600, where `NAME` is the
/// destination's file name, or its SHA-256 when that name is long) in the same directory as the
/// destination. That name is the claim on the destination: it is created exclusively
/// (`O_EXCL`) and locked, so a second writer to the same destination fails at once with
/// [`DiskError::Busy`] instead of doing its work and failing at the rename. [`AtomicFile::commit`] syncs it, moves it to the destination
/// without ever replacing an existing file, and syncs the directory. Dropping an `AtomicFile`
/// without committing removes the temporary file, so nothing is left behind after an error.
///
/// A process killed while writing (SIGKILL, power loss) cannot remove its temporary file, so the
/// writer holds an exclusive `flock` on it, and [`AtomicFile::create`] first removes every
/// temporary file of this kind in the directory whose lock is free — its writer is gone — and
/// that is older than the call (see [`AtomicFile::removed_stale`]).
#[derive(Debug)]
pub struct AtomicFile {
    temp: NamedTempFile,
    dest: PathBuf,
    removed_stale: Vec<PathBuf>,
}

impl AtomicFile {
    /// Starts writing a new file that will become `dest`.
    ///
    /// # Errors
    /// [`DiskError::Exists`] if `dest` already exists (even as a dangling symlink);
    /// [`DiskError::Busy`] if another live writer holds the claim on `dest`;
    /// [`DiskError::Io`] naming the directory if the temporary file cannot be created there.
    pub fn create(dest: &Path) -> Result<AtomicFile, DiskError> {
        if dest.symlink_metadata().is_ok() {
            return Err(DiskError::Exists(dest.to_path_buf()));
        }
        let dir = parent_dir(dest);
        let removed_stale = remove_stale(&dir, SystemTime::now());
        let temp_path = dir.join(temp_name(dest));
        let file = match OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(&temp_path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(DiskError::Busy {
                    dest: dest.to_path_buf(),
                    temp: temp_path,
                });
            }
            Err(e) => return Err(DiskError::io(&dir, e)),
        };
        // From here on, dropping `temp` removes the file.
        let path = match TempPath::try_from_path(&temp_path) {
            Ok(p) => p,
            Err(e) => {
                let _ = fs::remove_file(&temp_path);
                return Err(DiskError::io(&temp_path, e));
            }
        };
        let temp = NamedTempFile::from_parts(file, path);
        if flock(temp.as_file(), FlockOperation::NonBlockingLockExclusive).is_err() {
            // Another process opened the new file and locked it first: it is not ours to remove.
            let _ = temp.into_parts().1.keep();
            return Err(DiskError::Busy {
                dest: dest.to_path_buf(),
                temp: temp_path,
            });
        }
        if dest.symlink_metadata().is_ok() {
            // Another writer committed between the first check and the claim.
            return Err(DiskError::Exists(dest.to_path_buf()));
        }
        Ok(AtomicFile {
            temp,
            dest: dest.to_path_buf(),
            removed_stale,
        })
    }

    /// Temporary files of earlier runs that were killed before finishing, removed by
    /// [`AtomicFile::create`].
    pub fn removed_stale(&self) -> &[PathBuf] {
        &self.removed_stale
    }

    /// The temporary file, for writing and seeking.
    pub fn file_mut(&mut self) -> &mut File {
        self.temp.as_file_mut()
    }

    /// The temporary file, for reading back.
    pub fn file(&self) -> &File {
        self.temp.as_file()
    }

    /// Where the temporary file is.
    pub fn temp_path(&self) -> &Path {
        self.temp.path()
    }

    /// Where the file will appear on commit.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Syncs the content, moves the file to its destination (never replacing an existing file)
    /// and syncs the directory, so that the file survives a crash once this returns.
    ///
    /// # Errors
    /// [`DiskError::Exists`] if a file appeared at the destination meanwhile (it is left
    /// untouched); [`DiskError::Io`] if syncing or renaming fails. On any error the temporary
    /// file is removed.
    pub fn commit(self) -> Result<PathBuf, DiskError> {
        let AtomicFile { temp, dest, .. } = self;
        temp.as_file().sync_all().map_err(|e| DiskError::io(temp.path(), e))?;
        if let Err(e) = temp.persist_noclobber(&dest) {
            // Dropping `e.file` removes the temporary file.
            return Err(match e.error.kind() {
                io::ErrorKind::AlreadyExists => DiskError::Exists(dest),
                _ => DiskError::io(dest, e.error),
            });
        }
        let dir = parent_dir(&dest);
        File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| DiskError::io(dir, e))?;
        Ok(dest)
    }
}

/// Removes the temporary files (`.forensic-*.partial`) in `dir` that no live writer holds and that
/// were last written before `before`, giving their paths. Best effort: what cannot be read or
/// removed is left alone, and nothing that is not a regular file is opened.
fn remove_stale(dir: &Path, before: SystemTime) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)) {
            continue;
        }
        let path = entry.path();
        if is_stale(&path, before) && fs::remove_file(&path).is_ok() {
            removed.push(path);
        }
    }
    removed
}

/// Whether `path` is a regular file whose lock is free (its writer is gone) and whose last write
/// is before `before` (a writer that has just created its file and not yet locked it is younger).
fn is_stale(path: &Path, before: SystemTime) -> bool {
    let Ok(file) = OpenOptions::new()
        .read(true)
        .custom_flags((rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits() as i32)
        .open(path)
    else {
        return false;
    };
    let Ok(held) = file.metadata() else {
        return false;
    };
    if !held.is_file() || held.modified().map_or(true, |m| m >= before) {
        return false;
    }
    if flock(&file, FlockOperation::NonBlockingLockExclusive).is_err() {
        return false;
    }
    // Still the same file at that name (not replaced between open and lock).
    fs::symlink_metadata(path).is_ok_and(|now| (now.dev(), now.ino()) == (held.dev(), held.ino()))
}

/// Longest destination file name used as is in the temporary file's name (255 bytes in all).
const MAX_NAME_IN_TEMP: usize = 255 - TEMP_PREFIX.len() - TEMP_SUFFIX.len();

/// The temporary file's name for `dest`: `.forensic-NAME.partial`, or with the SHA-256 of the
/// name when it is too long to fit.
fn temp_name(dest: &Path) -> std::ffi::OsString {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let name = dest.file_name().map(OsStrExt::as_bytes).unwrap_or(b"output");
    let mut out = TEMP_PREFIX.as_bytes().to_vec();
    if name.len() <= MAX_NAME_IN_TEMP {
        out.extend_from_slice(name);
    } else {
        out.extend_from_slice(forensic_bundle::digest::Digest::of(name).hex().as_bytes());
    }
    out.extend_from_slice(TEMP_SUFFIX.as_bytes());
    std::ffi::OsString::from_vec(out)
}

/// The directory `path` is in (`.` for a bare file name).
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Seek, SeekFrom, Write};

    fn entries(dir: &Path) -> io::Result<Vec<String>> {
        let mut v = Vec::new();
        for e in std::fs::read_dir(dir)? {
            v.push(e?.file_name().to_string_lossy().into_owned());
        }
        v.sort();
        Ok(v)
    }

    #[test]
    fn commit_places_the_complete_file_and_leaves_no_temp() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let dest = dir.path().join("out.zip");
        let mut a = AtomicFile::create(&dest)?;
        let temp = a.temp_path().to_path_buf();
        let name = temp
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        assert!(name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX), "{name}");
        assert_eq!(temp.parent(), Some(dir.path()));
        a.file_mut().write_all(b"hello world")?;
        a.file_mut().seek(SeekFrom::Start(0))?;
        a.file_mut().write_all(b"HELLO")?;
        assert!(!dest.exists(), "nothing at the destination before commit");
        assert_eq!(a.commit()?, dest);
        assert_eq!(std::fs::read(&dest)?, b"HELLO world");
        assert_eq!(entries(dir.path())?, ["out.zip"]);
        Ok(())
    }

    #[test]
    fn drop_without_commit_removes_the_temp_file() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let dest = dir.path().join("out.zip");
        {
            let mut a = AtomicFile::create(&dest)?;
            a.file_mut().write_all(b"half")?;
        }
        assert_eq!(entries(dir.path())?, Vec::<String>::new());
        Ok(())
    }

    #[test]
    fn an_existing_destination_is_refused_and_untouched() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let dest = dir.path().join("out.zip");
        std::fs::write(&dest, b"precious")?;
        let err = AtomicFile::create(&dest).err();
        assert!(matches!(&err, Some(DiskError::Exists(p)) if p == &dest), "{err:?}");
        assert!(err.map(|e| e.to_string()).unwrap_or_default().contains("out.zip"));
        // A file that appears while writing is not replaced either.
        let other = dir.path().join("late.zip");
        let mut a = AtomicFile::create(&other)?;
        a.file_mut().write_all(b"new")?;
        std::fs::write(&other, b"arrived first")?;
        assert!(matches!(a.commit(), Err(DiskError::Exists(_))));
        assert_eq!(std::fs::read(&dest)?, b"precious");
        assert_eq!(std::fs::read(&other)?, b"arrived first");
        assert_eq!(entries(dir.path())?, ["late.zip", "out.zip"]);
        Ok(())
    }

    #[test]
    fn a_second_writer_to_the_same_destination_is_refused_at_once() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let dest = dir.path().join("out.zip");
        let first = AtomicFile::create(&dest)?;
        assert_eq!(first.temp_path(), dir.path().join(".forensic-out.zip.partial"));
        let err = AtomicFile::create(&dest).err();
        assert!(
            matches!(&err, Some(DiskError::Busy { dest: d, temp }) if d == &dest && temp == first.temp_path()),
            "{err:?}"
        );
        let text = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            text.contains("out.zip") && text.contains("another forensic run"),
            "{text}"
        );
        assert_eq!(
            entries(dir.path())?,
            [".forensic-out.zip.partial"],
            "the first's claim is kept"
        );
        // Another destination in the same directory is not affected.
        drop(AtomicFile::create(&dir.path().join("other.zip"))?);
        first.commit()?;
        assert!(matches!(AtomicFile::create(&dest), Err(DiskError::Exists(_))));
        Ok(())
    }

    #[test]
    fn a_killed_writers_claim_does_not_block_the_next_run() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let dest = dir.path().join("out.zip");
        std::fs::write(dir.path().join(".forensic-out.zip.partial"), b"half")?;
        std::thread::sleep(std::time::Duration::from_millis(20));
        let next = AtomicFile::create(&dest)?;
        assert_eq!(next.removed_stale(), [dir.path().join(".forensic-out.zip.partial")]);
        next.commit()?;
        assert_eq!(entries(dir.path())?, ["out.zip"]);
        Ok(())
    }

    #[test]
    fn a_long_destination_name_is_hashed_in_the_claim() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let dest = dir.path().join("x".repeat(250));
        let a = AtomicFile::create(&dest)?;
        let name = a.temp_path().file_name().map(|n| n.len()).unwrap_or_default();
        assert_eq!(name, TEMP_PREFIX.len() + 64 + TEMP_SUFFIX.len());
        assert!(matches!(AtomicFile::create(&dest), Err(DiskError::Busy { .. })));
        Ok(())
    }

    #[test]
    fn a_dangling_symlink_counts_as_existing() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let dest = dir.path().join("link.zip");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dest)?;
        assert!(matches!(AtomicFile::create(&dest), Err(DiskError::Exists(_))));
        Ok(())
    }

    #[test]
    fn a_missing_directory_is_named_in_the_error() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let dest = dir.path().join("no-such-dir").join("out.zip");
        let err = AtomicFile::create(&dest)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("no-such-dir"), "{err}");
        Ok(())
    }

    #[test]
    fn a_killed_writers_temp_file_is_removed_by_the_next_create_and_a_live_ones_is_not()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        // A live writer: its file is locked.
        let mut live = AtomicFile::create(&dir.path().join("live.zip"))?;
        live.file_mut().write_all(b"in progress")?;
        // A killed writer: the same kind of file, no lock held.
        let dead = dir.path().join(".forensic-AbC123.partial");
        std::fs::write(&dead, b"half a bundle")?;
        std::thread::sleep(std::time::Duration::from_millis(20));
        // Neither a directory nor a symlink of that name is touched.
        std::fs::create_dir(dir.path().join(".forensic-dir.partial"))?;
        std::os::unix::fs::symlink(&dead, dir.path().join(".forensic-link.partial"))?;

        let next = AtomicFile::create(&dir.path().join("next.zip"))?;
        assert_eq!(next.removed_stale(), std::slice::from_ref(&dead));
        assert!(!dead.exists());
        assert!(live.temp_path().exists(), "a live writer's file is kept");
        assert!(dir.path().join(".forensic-dir.partial").is_dir());
        live.commit()?;
        drop(next);
        assert_eq!(
            entries(dir.path())?,
            [".forensic-dir.partial", ".forensic-link.partial", "live.zip"]
        );
        Ok(())
    }
}
