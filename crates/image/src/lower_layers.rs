//! The image as it was on the node: the indexes of the overlay lower directories the collector
//! stored (`9-image/layers/N.jsonl`, listed top first in `9-image/layers.json`), merged bottom-up
//! with overlayfs semantics ([`forensic_evidence::overlay`], the one owner of the rules).

use crate::index::{FileIndex, Kind};
use crate::index_line::IndexedEntry;
use forensic_bundle::manifest::FileKind;
use forensic_evidence::overlay::{self, LayerEntry};

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

impl LayerEntry for IndexedEntry {
    fn index_path(&self) -> &str {
        &self.entry.path
    }

    fn file_kind(&self) -> Option<FileKind> {
        Some(match self.entry.kind {
            Kind::File => FileKind::File,
            Kind::Dir => FileKind::Dir,
            Kind::Symlink => FileKind::Symlink,
            Kind::Fifo => FileKind::Fifo,
            Kind::Socket => FileKind::Socket,
            Kind::Char => FileKind::Char,
            Kind::Block => FileKind::Block,
        })
    }

    fn device(&self) -> Option<(u64, u64)> {
        self.rdev
    }

    fn xattr(&self, name: &str) -> Option<&[u8]> {
        IndexedEntry::xattr(self, name)
    }
}

/// Applies one layer (its entries in any order) on top of `merged`.
pub(crate) fn apply_layer(merged: &mut FileIndex, layer: Vec<IndexedEntry>) {
    overlay::apply_layer(merged, layer, |e| e.entry);
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
