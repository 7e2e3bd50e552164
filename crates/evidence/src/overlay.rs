//! overlayfs's merge rules: how the layers of a container's root (the writable upper directory
//! and the image's lower directories, top first) make the merged view the container sees. The one
//! owner of these rules: `forensic diff --image-from-bundle` merges a bundle's
//! `9-image/layers/N.jsonl` with them, and `forensic collect --offline-root` computes
//! `5-filesystem/tree-index.jsonl` from the layer directories on a node's disk with them.
//!
//! In a layer directory (upper or lower):
//!
//! - a **whiteout** deletes the path and everything below it in the layers beneath: a character
//!   device 0:0, a regular file with the xattr `trusted.overlay.whiteout` or
//!   `user.overlay.whiteout` (Linux 6.7+), or an aufs-style `.wh.NAME` entry;
//! - an **opaque directory** hides everything below it in the layers beneath: xattr
//!   `trusted.overlay.opaque` or `user.overlay.opaque` = `y`, or an aufs-style `.wh..wh..opq`
//!   entry inside it;
//! - any other entry replaces the same path beneath; a non-directory also hides what was below
//!   a directory of that name.
//!
//! Paths are index paths: absolute, `/`-separated, no trailing slash, `/` for the root.
//!
//! ```
//! use forensic_bundle::manifest::FileKind;
//! use forensic_evidence::overlay::{LayerEntry, apply_layer};
//! use std::collections::BTreeMap;
//!
//! struct E(&'static str, FileKind, Option<(u64, u64)>);
//! impl LayerEntry for E {
//!     fn index_path(&self) -> &str { self.0 }
//!     fn file_kind(&self) -> Option<FileKind> { Some(self.1) }
//!     fn device(&self) -> Option<(u64, u64)> { self.2 }
//!     fn xattr(&self, _: &str) -> Option<&[u8]> { None }
//! }
//! let mut merged = BTreeMap::new();
//! // Bottom layer first.
//! apply_layer(&mut merged, [E("/etc", FileKind::Dir, None), E("/etc/motd", FileKind::File, None)], |e| e.0);
//! apply_layer(&mut merged, [E("/etc/motd", FileKind::Char, Some((0, 0)))], |e| e.0);
//! assert_eq!(merged.keys().collect::<Vec<_>>(), ["/etc"]);
//! ```

use forensic_bundle::manifest::FileKind;
use std::collections::BTreeMap;
use std::ops::Bound;

/// The aufs whiteout prefix (`.wh.NAME` deletes `NAME`).
pub const AUFS_WHITEOUT: &str = ".wh.";
/// The aufs opaque-directory marker (inside the directory it makes opaque).
pub const AUFS_OPAQUE: &str = ".wh..wh..opq";
/// The xattrs that make a regular file a whiteout.
pub const WHITEOUT_XATTRS: [&str; 2] = ["trusted.overlay.whiteout", "user.overlay.whiteout"];
/// The xattrs that make a directory opaque (with the value `y`).
pub const OPAQUE_XATTRS: [&str; 2] = ["trusted.overlay.opaque", "user.overlay.opaque"];
/// The prefix of overlayfs's own xattrs in a layer directory; the merged view does not show them.
pub const OVERLAY_XATTR_PREFIX: &str = "trusted.overlay.";

/// What the rules need to know of one entry of a layer.
pub trait LayerEntry {
    /// The entry's index path.
    fn index_path(&self) -> &str;
    /// Its file type (`None`: not examined, or not a file type; such an entry is kept as is).
    fn file_kind(&self) -> Option<FileKind>;
    /// The device `(major, minor)` of a device node.
    fn device(&self) -> Option<(u64, u64)>;
    /// The value of the extended attribute `name`, when recorded.
    fn xattr(&self, name: &str) -> Option<&[u8]>;
}

/// What one entry of a layer does to the layers beneath it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Deletes this path and everything below it.
    Whiteout(String),
    /// Hides everything below this directory.
    Opaque(String),
}

/// The effect of `e` on the layers beneath it, and whether `e` is itself an entry of the merged
/// view (whiteouts and aufs markers are not).
pub fn effect<E: LayerEntry + ?Sized>(e: &E) -> (Option<Effect>, bool) {
    let path = e.index_path();
    let name = base_name(path);
    let parent = parent(path).unwrap_or("/");
    if name == AUFS_OPAQUE {
        return (Some(Effect::Opaque(parent.to_string())), false);
    }
    if let Some(hidden) = name.strip_prefix(AUFS_WHITEOUT) {
        if hidden.starts_with(AUFS_WHITEOUT) {
            // Other aufs bookkeeping (.wh..wh.plnk): not part of the filesystem.
            return (None, false);
        }
        return (Some(Effect::Whiteout(join(parent, hidden))), false);
    }
    let kind = e.file_kind();
    let whiteout = match kind {
        Some(FileKind::Char) => e.device() == Some((0, 0)),
        Some(FileKind::File) => WHITEOUT_XATTRS.iter().any(|n| e.xattr(n).is_some()),
        _ => false,
    };
    if whiteout {
        return (Some(Effect::Whiteout(path.to_string())), false);
    }
    let opaque = kind == Some(FileKind::Dir) && OPAQUE_XATTRS.iter().any(|n| e.xattr(n) == Some(b"y"));
    if opaque {
        return (Some(Effect::Opaque(path.to_string())), true);
    }
    (None, true)
}

/// Applies one layer (its entries in any order) on top of `merged`, the layers beneath already
/// applied (apply the bottom layer first). Each entry that is part of the merged view is stored
/// as `into(entry)` under its index path.
pub fn apply_layer<E: LayerEntry, V>(
    merged: &mut BTreeMap<String, V>,
    layer: impl IntoIterator<Item = E>,
    mut into: impl FnMut(E) -> V,
) {
    let mut keep = Vec::new();
    // First what this layer hides beneath it, then its own entries: a layer never hides itself.
    for e in layer {
        let (effect, is_entry) = effect(&e);
        match effect {
            Some(Effect::Whiteout(p)) => remove_tree(merged, &p),
            Some(Effect::Opaque(p)) => remove_below(merged, &p),
            None => {}
        }
        if is_entry {
            if e.file_kind() != Some(FileKind::Dir) {
                remove_below(merged, e.index_path());
            }
            keep.push(e);
        }
    }
    for e in keep {
        let path = e.index_path().to_string();
        merged.insert(path, into(e));
    }
}

/// The parent of an index path (`None` for `/`).
pub fn parent(path: &str) -> Option<&str> {
    if path == "/" {
        return None;
    }
    match path.rfind('/') {
        Some(0) => Some("/"),
        Some(i) => path.get(..i),
        None => None,
    }
}

/// The last component of an index path.
pub fn base_name(path: &str) -> &str {
    path.rfind('/').and_then(|i| path.get(i + 1..)).unwrap_or(path)
}

/// `dir` + `/` + `name` for an index path `dir`.
pub fn join(dir: &str, name: &str) -> String {
    if dir == "/" {
        format!("/{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// Removes everything below `path` (not `path` itself) from a path-keyed map.
pub fn remove_below<V>(map: &mut BTreeMap<String, V>, path: &str) {
    let prefix = if path == "/" {
        "/".to_string()
    } else {
        format!("{path}/")
    };
    let doomed: Vec<String> = map
        .range::<str, _>((Bound::Excluded(prefix.as_str()), Bound::Unbounded))
        .map(|(k, _)| k)
        .take_while(|k| k.starts_with(&prefix))
        .cloned()
        .collect();
    for k in doomed {
        map.remove(&k);
    }
}

/// Removes `path` and everything below it.
pub fn remove_tree<V>(map: &mut BTreeMap<String, V>, path: &str) {
    remove_below(map, path);
    map.remove(path);
}

#[cfg(test)]
mod tests {
    use super::*;

    struct E {
        path: &'static str,
        kind: FileKind,
        rdev: Option<(u64, u64)>,
        xattrs: Vec<(&'static str, &'static [u8])>,
    }

    impl LayerEntry for E {
        fn index_path(&self) -> &str {
            self.path
        }
        fn file_kind(&self) -> Option<FileKind> {
            Some(self.kind)
        }
        fn device(&self) -> Option<(u64, u64)> {
            self.rdev
        }
        fn xattr(&self, name: &str) -> Option<&[u8]> {
            self.xattrs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
        }
    }

    fn e(path: &'static str, kind: FileKind) -> E {
        E {
            path,
            kind,
            rdev: (kind == FileKind::Char).then_some((0, 0)),
            xattrs: Vec::new(),
        }
    }

    fn merge_top_first(layers: Vec<Vec<E>>) -> Vec<&'static str> {
        let mut merged = BTreeMap::new();
        for layer in layers.into_iter().rev() {
            apply_layer(&mut merged, layer, |e| e.path);
        }
        merged.into_values().collect()
    }

    #[test]
    fn whiteouts_opaque_dirs_and_replacements_follow_overlayfs() {
        let bottom = vec![
            e("/", FileKind::Dir),
            e("/a", FileKind::Dir),
            e("/a/x", FileKind::File),
            e("/a/y", FileKind::File),
            e("/b", FileKind::Dir),
            e("/b/old", FileKind::File),
            e("/c", FileKind::Dir),
            e("/c/deep", FileKind::File),
            e("/d", FileKind::Dir),
            e("/d/z", FileKind::File),
            e("/e", FileKind::Dir),
            e("/e/1", FileKind::File),
            e("/f", FileKind::File),
            e("/g", FileKind::Dir),
            e("/g/h", FileKind::File),
        ];
        let mut opaque = e("/b", FileKind::Dir);
        opaque.xattrs.push(("trusted.overlay.opaque", b"y"));
        let mut not_opaque = e("/g", FileKind::Dir);
        not_opaque.xattrs.push(("trusted.overlay.opaque", b"n"));
        let mut xattr_whiteout = e("/f", FileKind::File);
        xattr_whiteout.xattrs.push(("user.overlay.whiteout", b""));
        let mut null_dev = e("/a/null", FileKind::Char);
        null_dev.rdev = Some((1, 3));
        let top = vec![
            e("/", FileKind::Dir),
            e("/a", FileKind::Dir),
            e("/a/x", FileKind::Char),
            null_dev,
            opaque,
            e("/b/new", FileKind::File),
            e("/c", FileKind::File),
            e("/d", FileKind::Dir),
            e("/d/.wh.z", FileKind::File),
            e("/e", FileKind::Dir),
            e("/e/.wh..wh..opq", FileKind::File),
            e("/e/.wh..wh.plnk", FileKind::Dir),
            xattr_whiteout,
            not_opaque,
        ];
        assert_eq!(
            merge_top_first(vec![top, bottom]),
            [
                "/", "/a", "/a/null", "/a/y", "/b", "/b/new", "/c", "/d", "/e", "/g", "/g/h"
            ]
        );
    }

    #[test]
    fn path_helpers() {
        assert_eq!(parent("/"), None);
        assert_eq!(parent("/a"), Some("/"));
        assert_eq!(parent("/a/b"), Some("/a"));
        assert_eq!(base_name("/a/b"), "b");
        assert_eq!(join("/", "a"), "/a");
        assert_eq!(join("/a", "b"), "/a/b");
        let mut m: BTreeMap<String, ()> = ["/a", "/a/b", "/a-b", "/a/b/c", "/ab"]
            .into_iter()
            .map(|p| (p.to_string(), ()))
            .collect();
        remove_tree(&mut m, "/a");
        assert_eq!(m.keys().collect::<Vec<_>>(), ["/a-b", "/ab"]);
    }
}
