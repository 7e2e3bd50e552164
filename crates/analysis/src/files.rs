//! `show files`: the filesystem section's listing (`5-filesystem/tree-index.jsonl`), streamed line
//! by line through filters, never held in memory.
//!
//! The index holds every entry of the container's root filesystem (only that filesystem:
//! `/dev/shm`, `/run` and volumes are `mountpoint-skipped` entries, and their files are in the
//! derived lists and copies instead). It records `mtime` and `ctime`, not `atime`.

use crate::error::AnalysisError;
use crate::evidence::Evidence;
use crate::members::TREE_INDEX;
use forensic_bundle::verify::OpenReader;
use globset::GlobMatcher;
use serde::{Deserialize, Serialize};

/// Raw bytes as the collector writes them: a string when UTF-8, else `{"bytes_hex": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RawName {
    /// UTF-8 text.
    Text(String),
    /// Other bytes.
    Bytes {
        /// Lowercase hex.
        bytes_hex: String,
    },
}

impl RawName {
    /// The bytes.
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            RawName::Text(s) => s.as_bytes().to_vec(),
            RawName::Bytes { bytes_hex } => hex::decode(bytes_hex).unwrap_or_default(),
        }
    }

    /// Text for matching: the string, or the bytes as lossy UTF-8.
    pub fn lossy(&self) -> String {
        match self {
            RawName::Text(s) => s.clone(),
            RawName::Bytes { .. } => String::from_utf8_lossy(&self.bytes()).into_owned(),
        }
    }

    /// Text for a person: control characters, `\` and invalid UTF-8 escaped, so that a newline in
    /// a name cannot forge a line.
    pub fn shown(&self) -> String {
        escape_bytes(&self.bytes())
    }
}

/// `bytes` with control characters, `\` and invalid UTF-8 escaped (`\n`, `\x7f`, `\xff`).
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() || c == '\\' {
                out.extend(c.escape_debug());
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// One line of the tree index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Absolute path inside the container.
    pub path: RawName,
    /// `file`, `dir`, `symlink`, `fifo`, `socket`, `char`, `block`, `mountpoint-skipped`, or
    /// `skipped` (not examined; see `error`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Permission bits as four octal digits.
    #[serde(default)]
    pub mode: Option<String>,
    /// Owner.
    #[serde(default)]
    pub uid: Option<u32>,
    /// Group.
    #[serde(default)]
    pub gid: Option<u32>,
    /// Size in bytes.
    #[serde(default)]
    pub size: Option<u64>,
    /// Modification time, nanoseconds since the epoch.
    #[serde(default)]
    pub mtime_ns: Option<i64>,
    /// Status change time, nanoseconds since the epoch.
    #[serde(default)]
    pub ctime_ns: Option<i64>,
    /// Inode number.
    #[serde(default)]
    pub inode: Option<u64>,
    /// Link count.
    #[serde(default)]
    pub nlink: Option<u64>,
    /// Target of a symlink (never followed).
    #[serde(default)]
    pub symlink_target: Option<RawName>,
    /// SHA-256 of a regular file.
    #[serde(default)]
    pub sha256: Option<String>,
    /// Why a directory was not entered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Why an entry could not be examined or hashed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl FileEntry {
    /// Permission bits (with setuid, setgid, sticky).
    pub fn perm(&self) -> u32 {
        self.mode
            .as_deref()
            .and_then(|m| u32::from_str_radix(m, 8).ok())
            .unwrap_or(0)
            & 0o7777
    }

    /// A regular file with the setuid or setgid bit.
    pub fn is_setuid(&self) -> bool {
        self.kind == "file" && self.perm() & 0o6000 != 0
    }

    /// A regular file with any execute bit.
    pub fn is_executable(&self) -> bool {
        self.kind == "file" && self.perm() & 0o111 != 0
    }
}

/// Parses one tree-index line.
///
/// # Errors
/// The line is not a JSON object of the index's form (the message names the problem).
pub fn parse_line(line: &[u8]) -> Result<FileEntry, String> {
    serde_json::from_slice(line).map_err(|e| e.to_string())
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
            Some(g) => g.is_match(&path),
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
        FileEntry {
            path: RawName::Text(path.into()),
            kind: kind.into(),
            mode: Some(mode.into()),
            uid: Some(0),
            gid: Some(0),
            size: Some(1),
            mtime_ns: Some(mtime),
            ctime_ns: Some(mtime),
            inode: Some(1),
            nlink: Some(1),
            symlink_target: None,
            sha256: None,
            note: None,
            error: None,
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
        assert_eq!(raw.bytes(), b"/t\xff");
        assert_eq!(raw.shown(), "/t\\xff");
    }
}
