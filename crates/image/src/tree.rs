//! Entry names and the operations that keep a [`FileIndex`] a tree: checked paths, subtree
//! removal, and synthesized parent directories.

use crate::index::{FileEntry, FileIndex, Kind};

/// Bytes as an index path component: UTF-8 as is, every other byte as `\xNN` (the
/// [`FileEntry::path`] convention).
pub(crate) fn escape(raw: &[u8]) -> String {
    let mut s = String::with_capacity(raw.len());
    for chunk in raw.utf8_chunks() {
        s.push_str(chunk.valid());
        for b in chunk.invalid() {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    s
}

/// Why a stored name cannot be a path in the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameError {
    /// A `..` climbs above the root.
    Escapes,
    /// A NUL byte (possible in PAX records).
    Nul,
}

/// The absolute index path of a stored entry name: leading `/` and `./` dropped, `//` and `.`
/// components collapsed, `..` resolved lexically and refused where it would climb above the root.
/// The root itself is `/`.
pub(crate) fn checked_path(raw: &[u8]) -> Result<String, NameError> {
    if raw.contains(&0) {
        return Err(NameError::Nul);
    }
    let mut parts: Vec<&[u8]> = Vec::new();
    for c in raw.split(|b| *b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                if parts.pop().is_none() {
                    return Err(NameError::Escapes);
                }
            }
            c => parts.push(c),
        }
    }
    if parts.is_empty() {
        return Ok("/".to_string());
    }
    let mut out = String::with_capacity(raw.len() + 1);
    for p in parts {
        out.push('/');
        out.push_str(&escape(p));
    }
    Ok(out)
}

pub(crate) use forensic_evidence::overlay::{base_name, join, parent, remove_below, remove_tree};

/// A directory that no entry describes but that must exist because something lies below it:
/// mode 0755, owner 0:0, no time.
pub(crate) fn implicit_dir(path: &str) -> FileEntry {
    FileEntry {
        path: path.to_string(),
        kind: Kind::Dir,
        mode: 0o755,
        uid: 0,
        gid: 0,
        size: 0,
        mtime_ns: None,
        sha256: None,
        link_target: None,
    }
}

/// The name of a file type in messages.
pub(crate) fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::File => "regular file",
        Kind::Dir => "directory",
        Kind::Symlink => "symlink",
        Kind::Fifo => "named pipe",
        Kind::Socket => "socket",
        Kind::Char => "character device",
        Kind::Block => "block device",
    }
}

/// Makes every ancestor of `path` exist as a directory, synthesizing missing ones. Returns the
/// first ancestor that exists but is not a directory, with its kind.
pub(crate) fn ensure_parents(index: &mut FileIndex, path: &str) -> Result<(), (String, Kind)> {
    let mut missing: Vec<&str> = Vec::new();
    let mut cur = parent(path);
    while let Some(p) = cur {
        match index.get(p) {
            Some(e) if e.kind == Kind::Dir => break,
            Some(e) => return Err((p.to_string(), e.kind)),
            None => missing.push(p),
        }
        cur = parent(p);
    }
    for p in missing {
        index.insert(p.to_string(), implicit_dir(p));
    }
    Ok(())
}

/// Puts `entry` into the tree the way an extractor writes it over what is there: a directory over
/// a directory updates its metadata and keeps its contents; anything else replaces the old entry
/// and, if that was a directory, everything below it.
pub(crate) fn put(index: &mut FileIndex, entry: FileEntry) {
    if entry.kind != Kind::Dir && index.get(&entry.path).is_some_and(|old| old.kind == Kind::Dir) {
        remove_below(index, &entry.path);
    }
    index.insert(entry.path.clone(), entry);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised_and_escapes_refused() {
        assert_eq!(checked_path(b"./a//b/./c").unwrap(), "/a/b/c");
        assert_eq!(checked_path(b"/abs/path").unwrap(), "/abs/path");
        assert_eq!(checked_path(b"./").unwrap(), "/");
        assert_eq!(checked_path(b"a/../b").unwrap(), "/b");
        assert_eq!(checked_path(b"a/b\xff").unwrap(), "/a/b\\xff");
        assert_eq!(checked_path(b"../escape"), Err(NameError::Escapes));
        assert_eq!(checked_path(b"a/../../b"), Err(NameError::Escapes));
        assert_eq!(checked_path(b"a\0b"), Err(NameError::Nul));
    }

    #[test]
    fn parents_and_names() {
        assert_eq!(parent("/a/b"), Some("/a"));
        assert_eq!(parent("/a"), Some("/"));
        assert_eq!(parent("/"), None);
        assert_eq!(base_name("/a/.wh.b"), ".wh.b");
        assert_eq!(join("/", "x"), "/x");
        assert_eq!(join("/a", "x"), "/a/x");
    }

    #[test]
    fn subtree_removal_keeps_siblings_with_common_prefixes() {
        let mut m: std::collections::BTreeMap<String, ()> = ["/", "/a", "/a/b", "/a/b/c", "/a-b", "/a.b", "/ab", "/a0"]
            .into_iter()
            .map(|k| (k.to_string(), ()))
            .collect();
        remove_tree(&mut m, "/a");
        assert_eq!(m.keys().collect::<Vec<_>>(), ["/", "/a-b", "/a.b", "/a0", "/ab"]);
        remove_below(&mut m, "/");
        assert_eq!(m.keys().collect::<Vec<_>>(), ["/"]);
    }

    #[test]
    fn parents_are_synthesized_or_refused() {
        let mut idx = FileIndex::new();
        ensure_parents(&mut idx, "/a/b/c").unwrap();
        assert_eq!(idx.keys().collect::<Vec<_>>(), ["/", "/a", "/a/b"]);
        let mut f = implicit_dir("/a/b");
        f.kind = Kind::Symlink;
        idx.insert("/a/b".into(), f);
        assert_eq!(
            ensure_parents(&mut idx, "/a/b/c"),
            Err(("/a/b".to_string(), Kind::Symlink))
        );
    }
}
