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

/// The compact binary form of a [`FileEntry`] without its path, for entries spilled to disk while
/// sorting (the path is the sort key): kind, mode, uid, gid, size, then a flag byte (1: time,
/// 2: SHA-256, 4: link target) and what it flags. Written and read by this process only.
pub(crate) mod spilled {
    use super::{Digest, FileEntry, Kind};

    const KINDS: [Kind; 7] = [
        Kind::File,
        Kind::Dir,
        Kind::Symlink,
        Kind::Fifo,
        Kind::Socket,
        Kind::Char,
        Kind::Block,
    ];

    /// Appends `e` (all but its path) to `out`.
    pub(crate) fn encode(e: &FileEntry, out: &mut Vec<u8>) {
        let kind = KINDS.iter().position(|k| *k == e.kind).unwrap_or(0) as u8;
        out.push(kind);
        out.extend(e.mode.to_le_bytes());
        out.extend(e.uid.to_le_bytes());
        out.extend(e.gid.to_le_bytes());
        out.extend(e.size.to_le_bytes());
        let flags =
            u8::from(e.mtime_ns.is_some()) | u8::from(e.sha256.is_some()) << 1 | u8::from(e.link_target.is_some()) << 2;
        out.push(flags);
        if let Some(t) = e.mtime_ns {
            out.extend(t.to_le_bytes());
        }
        if let Some(d) = e.sha256 {
            out.extend(d.0);
        }
        if let Some(l) = &e.link_target {
            out.extend(l.as_bytes());
        }
    }

    /// The entry at `path` that [`encode`] wrote as `bytes`; `None` if they are not such.
    pub(crate) fn decode(path: String, bytes: &[u8]) -> Option<FileEntry> {
        let (&kind, rest) = bytes.split_first()?;
        let (mode, rest) = rest.split_first_chunk::<4>()?;
        let (uid, rest) = rest.split_first_chunk::<4>()?;
        let (gid, rest) = rest.split_first_chunk::<4>()?;
        let (size, rest) = rest.split_first_chunk::<8>()?;
        let (&flags, mut rest) = rest.split_first()?;
        let mut mtime_ns = None;
        if flags & 1 != 0 {
            let (t, r) = rest.split_first_chunk::<8>()?;
            mtime_ns = Some(i64::from_le_bytes(*t));
            rest = r;
        }
        let mut sha256 = None;
        if flags & 2 != 0 {
            let (d, r) = rest.split_first_chunk::<32>()?;
            sha256 = Some(Digest(*d));
            rest = r;
        }
        let link_target = if flags & 4 != 0 {
            Some(String::from_utf8(rest.to_vec()).ok()?)
        } else if rest.is_empty() {
            None
        } else {
            return None;
        };
        Some(FileEntry {
            path,
            kind: *KINDS.get(usize::from(kind))?,
            mode: u32::from_le_bytes(*mode),
            uid: u32::from_le_bytes(*uid),
            gid: u32::from_le_bytes(*gid),
            size: u64::from_le_bytes(*size),
            mtime_ns,
            sha256,
            link_target,
        })
    }

    #[cfg(test)]
    mod tests {
        #![allow(clippy::unwrap_used)]
        use super::*;

        #[test]
        fn entries_round_trip() {
            let full = FileEntry {
                path: "/a b/\\xff".into(),
                kind: Kind::Symlink,
                mode: 0o4755,
                uid: u32::MAX,
                gid: 7,
                size: u64::MAX,
                mtime_ns: Some(-1),
                sha256: Some(Digest([9; 32])),
                link_target: Some("../x y".into()),
            };
            let bare = FileEntry {
                path: "/".into(),
                kind: Kind::Block,
                mode: 0,
                uid: 0,
                gid: 0,
                size: 0,
                mtime_ns: None,
                sha256: None,
                link_target: Some(String::new()),
            };
            for e in [full, bare] {
                let mut b = Vec::new();
                encode(&e, &mut b);
                assert_eq!(decode(e.path.clone(), &b), Some(e.clone()));
                assert_ne!(decode(e.path.clone(), b.get(..b.len() - 1).unwrap()).as_ref(), Some(&e));
            }
            assert_eq!(decode("/".into(), &[]), None);
            assert_eq!(
                decode(
                    "/".into(),
                    &[7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
                ),
                None
            );
        }
    }
}
