//! `show files`: the filesystem section's listing (`5-filesystem/tree-index.jsonl`), streamed line
//! by line through filters, never held in memory.
//!
//! The index holds every entry of the container's root filesystem and of every other mount but
//! pseudo filesystems (`/dev/shm`, tmpfs mounts, volumes; each such line names its `mount` and
//! `mount_kind`). It records `mtime` and `ctime`, not `atime`.

use crate::error::AnalysisError;
use crate::evidence::Evidence;
use forensic_bundle::verify::OpenReader;
use forensic_evidence::RawBytes;
use forensic_evidence::members::TREE_INDEX;
use forensic_evidence::records::EntryType;
use forensic_evidence::records::tree::TreeEntry;
use globset::GlobMatcher;

/// Raw bytes as the collector writes them ([`forensic_evidence::RawBytes`]).
pub type RawName = RawBytes<'static>;

/// One line of the tree index ([`forensic_evidence::records::tree::TreeEntry`]).
pub type FileEntry = TreeEntry<'static>;

pub use forensic_evidence::escape as escape_bytes;

/// Parses one tree-index line.
///
/// # Errors
/// The line is not a JSON object of the index's form (the message names the problem).
pub fn parse_line(line: &[u8]) -> Result<FileEntry, String> {
    serde_json::from_slice(line).map_err(|e| e.to_string())
}

/// The type letter of `ls -l` for an entry type (`-` for a regular file, `?` for none).
pub fn type_letter(kind: EntryType) -> char {
    type_char(kind.as_str())
}

/// The type letter of `ls -l` for an index type (`-` for a regular file, `?` unknown).
pub fn type_char(kind: &str) -> char {
    match kind {
        "file" => '-',
        "dir" | "mountpoint-skipped" => 'd',
        "symlink" => 'l',
        "fifo" => 'p',
        "socket" => 's',
        "char" => 'c',
        "block" => 'b',
        _ => '?',
    }
}

/// The nine permission characters of `ls -l` (`rwsr-xr-x`, `rwxrwxrwt`).
pub fn perm_string(perm: u32) -> String {
    let bit = |mask: u32, c: char| if perm & mask != 0 { c } else { '-' };
    let special = |x: u32, s: u32, on: char, off: char| match (perm & x != 0, perm & s != 0) {
        (true, true) => on,
        (false, true) => off,
        (true, false) => 'x',
        (false, false) => '-',
    };
    [
        bit(0o400, 'r'),
        bit(0o200, 'w'),
        special(0o100, 0o4000, 's', 'S'),
        bit(0o040, 'r'),
        bit(0o020, 'w'),
        special(0o010, 0o2000, 's', 'S'),
        bit(0o004, 'r'),
        bit(0o002, 'w'),
        special(0o001, 0o1000, 't', 'T'),
    ]
    .iter()
    .collect()
}

/// Which entries `show files` lists. All conditions given must hold.
#[derive(Debug, Clone, Default)]
pub struct FileFilter {
    paths: Vec<(String, Option<GlobMatcher>)>,
    /// Only entries whose mtime or ctime is at or after this (ns since the epoch).
    pub since_ns: Option<i64>,
    /// Only entries whose mtime or ctime is at or before this.
    pub until_ns: Option<i64>,
    /// Only setuid or setgid regular files.
    pub setuid: bool,
    /// Only regular files with an execute bit.
    pub executable: bool,
}

impl FileFilter {
    /// Adds a `--path` pattern: a glob (`*` and `?` stay within one component, `**` crosses
    /// them), or, without glob characters, a path and everything below it.
    ///
    /// # Errors
    /// [`AnalysisError::BadPattern`] for an invalid glob.
    pub fn add_path(&mut self, pattern: &str) -> Result<(), AnalysisError> {
        let is_glob = pattern.contains(['*', '?', '[', '{']);
        let matcher = if is_glob {
            let glob = globset::GlobBuilder::new(pattern)
                .literal_separator(true)
                .build()
                .map_err(|e| AnalysisError::BadPattern {
                    pattern: pattern.into(),
                    why: e.kind().to_string(),
                })?;
            Some(glob.compile_matcher())
        } else {
            None
        };
        let prefix = if pattern.len() > 1 {
            pattern.trim_end_matches('/').to_string()
        } else {
            pattern.to_string()
        };
        self.paths.push((prefix, matcher));
        Ok(())
    }

    /// Whether `e` passes.
    pub fn matches(&self, e: &FileEntry) -> bool {
        if self.setuid && !e.is_setuid() {
            return false;
        }
        if self.executable && !e.is_executable() {
            return false;
        }
        if self.since_ns.is_some() || self.until_ns.is_some() {
            let within = |t: Option<i64>| {
                t.is_some_and(|t| self.since_ns.is_none_or(|s| t >= s) && self.until_ns.is_none_or(|u| t <= u))
            };
            if !within(e.mtime_ns) && !within(e.ctime_ns) {
                return false;
            }
        }
        if self.paths.is_empty() {
            return true;
        }
        let path = e.path.lossy();
        self.paths.iter().any(|(prefix, glob)| match glob {
            Some(g) => g.is_match(path.as_ref()),
            None => {
                prefix == "/"
                    || path == *prefix
                    || path
                        .strip_prefix(prefix.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
            }
        })
    }
}

/// Streams the tree index, calling `f` with each entry that passes `filter` and its line number.
/// Returns how many entries the index holds.
///
/// # Errors
/// The index is missing, unreadable, has a malformed line, `f` failed, or it does not match the
/// manifest (strict; found at the end of the stream, after `f` saw the entries).
pub fn for_each<S: OpenReader + ?Sized>(
    ev: &mut Evidence<'_, S>,
    filter: &FileFilter,
    mut f: impl FnMut(u64, &FileEntry) -> Result<(), AnalysisError>,
) -> Result<u64, AnalysisError> {
    let mut total = 0;
    ev.lines(TREE_INDEX, |n, line| {
        let e = parse_line(line).map_err(|why| AnalysisError::line(TREE_INDEX, n, why))?;
        total += 1;
        if filter.matches(&e) { f(n, &e) } else { Ok(()) }
    })?;
    Ok(total)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn entry(path: &str, kind: &str, mode: &str, mtime: i64) -> FileEntry {
        let kind = serde_json::from_value(serde_json::Value::String(kind.into())).unwrap();
        FileEntry {
            mode: Some(forensic_evidence::records::Mode(u32::from_str_radix(mode, 8).unwrap())),
            uid: Some(0),
            gid: Some(0),
            size: Some(1),
            mtime_ns: Some(mtime),
            ctime_ns: Some(mtime),
            inode: Some(1),
            nlink: Some(1),
            ..FileEntry::bare(RawName::from(path), kind)
        }
    }

    #[test]
    fn filters() {
        let mut f = FileFilter::default();
        f.add_path("/tmp").unwrap();
        assert!(f.matches(&entry("/tmp", "dir", "1777", 0)));
        assert!(f.matches(&entry("/tmp/x/y", "file", "0644", 0)));
        assert!(!f.matches(&entry("/tmpx", "file", "0644", 0)));
        let mut g = FileFilter::default();
        g.add_path("/usr/*/su").unwrap();
        assert!(g.matches(&entry("/usr/bin/su", "file", "4755", 0)));
        assert!(!g.matches(&entry("/usr/a/b/su", "file", "4755", 0)));
        let s = FileFilter {
            setuid: true,
            since_ns: Some(10),
            ..FileFilter::default()
        };
        assert!(s.matches(&entry("/usr/bin/su", "file", "4755", 10)));
        assert!(!s.matches(&entry("/usr/bin/su", "file", "4755", 9)));
        assert!(!s.matches(&entry("/usr/bin/ls", "file", "0755", 10)));
        assert!(FileFilter::default().add_path("[").is_err());
    }

    #[test]
    fn modes_and_names() {
        assert_eq!(perm_string(0o4755), "rwsr-xr-x");
        assert_eq!(perm_string(0o1777), "rwxrwxrwt");
        assert_eq!(perm_string(0o2644), "rw-r-Sr--");
        assert_eq!(escape_bytes(b"/tmp/new\nline\\\xff"), "/tmp/new\\nline\\\\\\xff");
        let raw: RawName = serde_json::from_str(r#"{"bytes_hex":"2f74ff"}"#).unwrap();
        assert_eq!(raw.as_bytes(), b"/t\xff");
        assert_eq!(raw.shown(), "/t\\xff");
    }
}
