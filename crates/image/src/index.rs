//! The file index: the common form of an image and of a container filesystem.

use forensic_bundle::digest::Digest;
use serde::Serialize;
use std::collections::BTreeMap;

/// Type of a filesystem entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Regular file.
    File,
    /// Directory.
    Dir,
    /// Symbolic link.
    Symlink,
    /// Named pipe.
    Fifo,
    /// Socket.
    Socket,
    /// Character device.
    Char,
    /// Block device.
    Block,
}

/// One entry of a filesystem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileEntry {
    /// Absolute path, `/`-separated, no trailing slash (`/` itself for the root). Bytes that are
    /// not UTF-8 are kept as `\xNN` escapes.
    pub path: String,
    /// Type.
    pub kind: Kind,
    /// Permission bits (`st_mode & 0o7777`).
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Size in bytes (regular files).
    pub size: u64,
    /// Modification time, nanoseconds since the epoch, when known.
    pub mtime_ns: Option<i64>,
    /// SHA-256 of the content (regular files whose content was read).
    pub sha256: Option<Digest>,
    /// Target of a symlink (or of a hard link in an image layer).
    pub link_target: Option<String>,
}

/// A whole filesystem, by path.
pub type FileIndex = BTreeMap<String, FileEntry>;
