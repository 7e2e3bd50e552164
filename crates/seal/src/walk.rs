//! Listing the evidence directory: recursive, never following symlinks, in a deterministic order.

use crate::SealError;
use std::fs::Metadata;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// One non-directory entry found under the evidence directory.
#[derive(Debug)]
pub(crate) struct Found {
    /// Path relative to the evidence directory.
    pub rel: PathBuf,
    /// Absolute path (the evidence directory is canonical).
    pub abs: PathBuf,
    /// What `lstat` said when it was listed.
    pub lstat: Metadata,
}

/// Something under the evidence directory that could not be examined.
#[derive(Debug)]
pub(crate) struct Unlisted {
    /// Absolute path.
    pub abs: PathBuf,
    /// Why.
    pub error: io::Error,
}

/// The result of walking the evidence directory.
#[derive(Debug, Default)]
pub(crate) struct Walk {
    /// Every non-directory entry, sorted by relative path (component by component, raw bytes).
    pub found: Vec<Found>,
    /// Directories that could not be listed and entries that could not be `lstat`ed.
    pub unlisted: Vec<Unlisted>,
}

/// Walks `root` (canonical) recursively with `lstat`: directories are entered, symlinks are never
/// followed, everything else is listed.
///
/// # Errors
/// [`SealError::Io`] if `root` itself cannot be listed; problems below it are recorded in
/// [`Walk::unlisted`].
pub(crate) fn walk(root: &Path) -> Result<Walk, SealError> {
    let mut out = Walk::default();
    let top = std::fs::read_dir(root).map_err(|e| SealError::io(root, e))?;
    let mut pending = vec![(PathBuf::new(), top)];
    while let Some((dir_rel, entries)) = pending.pop() {
        let mut names = Vec::new();
        for entry in entries {
            match entry {
                Ok(e) => names.push(e.file_name()),
                Err(error) => out.unlisted.push(Unlisted {
                    abs: root.join(&dir_rel),
                    error,
                }),
            }
        }
        names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        for name in names {
            let rel = dir_rel.join(&name);
            let abs = root.join(&rel);
            match abs.symlink_metadata() {
                Ok(md) if md.is_dir() => match std::fs::read_dir(&abs) {
                    Ok(sub) => pending.push((rel, sub)),
                    Err(error) => out.unlisted.push(Unlisted { abs, error }),
                },
                Ok(lstat) => out.found.push(Found { rel, abs, lstat }),
                Err(error) => out.unlisted.push(Unlisted { abs, error }),
            }
        }
    }
    out.found.sort_by(|a, b| a.rel.cmp(&b.rel));
    out.unlisted.sort_by(|a, b| a.abs.cmp(&b.abs));
    Ok(out)
}

/// A path for messages: the one display escaping ([`forensic_bundle::name::escape_display`]).
pub(crate) fn display(path: &Path) -> String {
    forensic_bundle::name::escape_display(path.as_os_str().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn walks_sorted_without_following_symlinks() -> Result<(), Box<dyn std::error::Error>> {
        let outside = tempfile::tempdir()?;
        std::fs::write(outside.path().join("hidden"), b"x")?;
        let dir = tempfile::tempdir()?;
        let root = std::fs::canonicalize(dir.path())?;
        std::fs::create_dir_all(root.join("b/c"))?;
        for f in ["z", "a", "b/c/d", "b/a", "B", "a-b"] {
            std::fs::write(root.join(f), f)?;
        }
        std::os::unix::fs::symlink(outside.path(), root.join("link-to-dir"))?;
        std::fs::create_dir(root.join("empty"))?;
        let w = walk(&root)?;
        let rels: Vec<String> = w.found.iter().map(|f| display(&f.rel)).collect();
        assert_eq!(rels, ["B", "a", "a-b", "b/a", "b/c/d", "link-to-dir", "z"]);
        assert!(w.found.iter().all(|f| f.abs == root.join(&f.rel)));
        assert!(w.found.iter().any(|f| f.lstat.file_type().is_symlink()));
        assert!(w.unlisted.is_empty());
        Ok(())
    }

    #[test]
    fn display_escapes_controls_and_invalid_bytes() {
        assert_eq!(
            display(Path::new(OsStr::from_bytes(b"a\nb/caf\xc3\xa9\xff"))),
            "a\\nb/caf\u{e9}\\xff"
        );
    }
}
