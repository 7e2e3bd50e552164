//! The image as it was on the node: the indexes of the overlay lower directories the collector
//! stored (`9-image/layers/N.jsonl`, listed top first in `9-image/layers.json`), merged bottom-up
//! with overlayfs semantics.
//!
//! In a lower directory (as in an upper one):
//!
//! - a **whiteout** deletes the path and everything below it in the layers beneath: a character
//!   device 0:0, a regular file with the xattr `trusted.overlay.whiteout` or
//!   `user.overlay.whiteout` (Linux 6.7+), or an aufs-style `.wh.NAME` entry;
//! - an **opaque directory** hides everything below it in the layers beneath: xattr
//!   `trusted.overlay.opaque` or `user.overlay.opaque` = `y`, or an aufs-style `.wh..wh..opq`
//!   entry inside it;
//! - any other entry replaces the same path beneath; a non-directory also hides what was below
//!   a directory of that name.

use crate::index::{FileIndex, Kind};
use crate::index_line::IndexedEntry;
use crate::tree;

/// The aufs whiteout prefix.
const WH: &str = ".wh.";
/// The aufs opaque-directory marker.
const WH_OPAQUE: &str = ".wh..wh..opq";

/// One entry of `9-image/layers.json` (CONTENTS.md §7).
pub(crate) use forensic_evidence::records::image::LowerLayer as LayerRecord;

/// Parses `layers.json`: the layers top first.
pub(crate) fn parse_layer_list(bytes: &[u8]) -> Result<Vec<LayerRecord>, String> {
    let mut list: Vec<LayerRecord> = serde_json::from_slice(bytes).map_err(|e| format!("not a list of layers: {e}"))?;
    list.sort_by_key(|l| l.layer);
    for (i, l) in list.iter().enumerate() {
        if l.layer != i {
            return Err(format!(
                "layer numbers are not 0, 1, 2, …: found {} at position {i}",
                l.layer
            ));
        }
    }
    Ok(list)
}

/// What one entry of a lower layer does to the layers beneath it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Effect {
    /// Deletes this path and everything below it.
    Whiteout(String),
    /// Makes this directory opaque (it is itself an entry too, unless it is an aufs marker).
    Opaque(String),
}

fn is_set(e: &IndexedEntry, names: [&str; 2]) -> bool {
    names.iter().any(|n| e.xattr(n).is_some())
}

/// The effects of `e` on lower layers, and whether it is itself an entry of the merged view.
fn effects(e: &IndexedEntry) -> (Option<Effect>, bool) {
    let path = &e.entry.path;
    let name = tree::base_name(path);
    let parent = tree::parent(path).unwrap_or("/");
    if name == WH_OPAQUE {
        return (Some(Effect::Opaque(parent.to_string())), false);
    }
    if let Some(hidden) = name.strip_prefix(WH) {
        if hidden.starts_with(WH) {
            // Other aufs bookkeeping (.wh..wh.plnk): not part of the filesystem.
            return (None, false);
        }
        return (Some(Effect::Whiteout(tree::join(parent, hidden))), false);
    }
    let whiteout = match e.entry.kind {
        Kind::Char => e.rdev == Some((0, 0)),
        Kind::File => is_set(e, ["trusted.overlay.whiteout", "user.overlay.whiteout"]),
        _ => false,
    };
    if whiteout {
        return (Some(Effect::Whiteout(path.clone())), false);
    }
    let opaque = e.entry.kind == Kind::Dir
        && ["trusted.overlay.opaque", "user.overlay.opaque"]
            .iter()
            .any(|n| e.xattr(n) == Some(b"y"));
    if opaque {
        return (Some(Effect::Opaque(path.clone())), true);
    }
    (None, true)
}

/// Applies one layer (its entries in any order) on top of `merged`.
pub(crate) fn apply_layer(merged: &mut FileIndex, layer: Vec<IndexedEntry>) {
    let mut keep = Vec::with_capacity(layer.len());
    // First what this layer hides beneath it, then its own entries: a layer never hides itself.
    for e in layer {
        let (effect, is_entry) = effects(&e);
        match effect {
            Some(Effect::Whiteout(p)) => tree::remove_tree(merged, &p),
            Some(Effect::Opaque(p)) => tree::remove_below(merged, &p),
            None => {}
        }
        if is_entry {
            if e.entry.kind != Kind::Dir {
                tree::remove_below(merged, &e.entry.path);
            }
            keep.push(e);
        }
    }
    for e in keep {
        merged.insert(e.entry.path.clone(), e.entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::FileEntry;
    use forensic_bundle::digest::Digest;

    fn e(path: &str, kind: Kind) -> IndexedEntry {
        IndexedEntry {
            entry: FileEntry {
                path: path.into(),
                kind,
                mode: 0o755,
                uid: 0,
                gid: 0,
                size: 0,
                mtime_ns: Some(1),
                sha256: (kind == Kind::File).then(|| Digest::of(path.as_bytes())),
                link_target: None,
            },
            rdev: (kind == Kind::Char).then_some((0, 0)),
            xattrs: Vec::new(),
            unexplored: None,
            layer_checksum: None,
            on_tmpfs: None,
            below_mount: false,
            mount: false,
        }
    }

    fn with_xattr(mut x: IndexedEntry, name: &str, v: &[u8]) -> IndexedEntry {
        x.xattrs.push((name.into(), v.to_vec()));
        x
    }

    /// Merges layers given top first (as `layers.json` lists them).
    fn merge_top_first(layers: Vec<Vec<IndexedEntry>>) -> FileIndex {
        let mut merged = FileIndex::new();
        for layer in layers.into_iter().rev() {
            apply_layer(&mut merged, layer);
        }
        merged
    }

    fn paths(m: &FileIndex) -> Vec<&str> {
        m.keys().map(String::as_str).collect()
    }

    #[test]
    fn whiteouts_opaque_dirs_and_replacements_follow_overlayfs() {
        let bottom = vec![
            e("/", Kind::Dir),
            e("/a", Kind::Dir),
            e("/a/x", Kind::File),
            e("/a/y", Kind::File),
            e("/b", Kind::Dir),
            e("/b/old", Kind::File),
            e("/c", Kind::Dir),
            e("/c/deep", Kind::File),
            e("/d", Kind::Dir),
            e("/d/z", Kind::File),
            e("/e", Kind::Dir),
            e("/e/1", Kind::File),
            e("/f", Kind::File),
        ];
        let top = vec![
            e("/", Kind::Dir),
            e("/a", Kind::Dir),
            e("/a/x", Kind::Char),
            with_xattr(e("/b", Kind::Dir), "trusted.overlay.opaque", b"y"),
            e("/b/new", Kind::File),
            e("/c", Kind::File),
            e("/d", Kind::Dir),
            e("/d/.wh.z", Kind::File),
            e("/e", Kind::Dir),
            e("/e/.wh..wh..opq", Kind::File),
            with_xattr(e("/f", Kind::File), "user.overlay.whiteout", b""),
        ];
        let merged = merge_top_first(vec![top, bottom]);
        assert_eq!(paths(&merged), ["/", "/a", "/a/y", "/b", "/b/new", "/c", "/d", "/e"]);
        assert_eq!(merged["/c"].kind, Kind::File);
    }

    #[test]
    fn a_char_device_that_is_not_0_0_is_an_entry() {
        let mut dev = e("/dev/null", Kind::Char);
        dev.rdev = Some((1, 3));
        let merged = merge_top_first(vec![vec![dev], vec![e("/dev", Kind::Dir)]]);
        assert_eq!(paths(&merged), ["/dev", "/dev/null"]);
    }

    #[test]
    fn the_layer_list_is_checked() {
        let list = parse_layer_list(
            br#"[{"layer":1,"path":"/l/b","member":"layers/1.jsonl"},{"layer":0,"path":"/l/a","member":"layers/0.jsonl"}]"#,
        )
        .unwrap();
        assert_eq!(
            list.iter().map(|l| l.member.as_str()).collect::<Vec<_>>(),
            ["layers/0.jsonl", "layers/1.jsonl"]
        );
        assert_eq!(
            parse_layer_list(br#"[{"layer":1,"path":"/l/b","member":"layers/1.jsonl"}]"#).unwrap_err(),
            "layer numbers are not 0, 1, 2, …: found 1 at position 0"
        );
        assert!(parse_layer_list(b"{}").unwrap_err().starts_with("not a list of layers"));
    }
}
