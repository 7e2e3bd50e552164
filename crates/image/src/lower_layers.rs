//! The image as it was on the node: the indexes of the overlay lower directories the collector
//! stored (`9-image/layers/N.jsonl`, listed top first in `9-image/layers.json`), merged bottom-up
//! with overlayfs semantics ([`forensic_evidence::overlay`], the one owner of the rules).

use crate::index::{FileEntry, Kind, spilled};
use crate::index_line::IndexedEntry;
use crate::tree;
use forensic_bundle::manifest::FileKind;
use forensic_disk::spill::{self, Sorter};
use forensic_evidence::overlay::{self, Effect, LayerEntry};
use std::collections::BTreeMap;
use std::io;

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

/// Applies one layer (its entries in any order) on top of `merged`: the oracle the sorted merge
/// is tested against.
#[cfg(test)]
pub(crate) fn apply_layer(merged: &mut crate::index::FileIndex, layer: Vec<IndexedEntry>) {
    overlay::apply_layer(merged, layer, |e| e.entry);
}

/// The layers merged in bounded memory: every entry is spilled to a [`Sorter`] keyed by path and
/// layer, and the merged view comes out in path order ([`SortedLayers::finish`]). Held in memory
/// are only what hides entries of the layers beneath: whiteouts, opaque directories, and the
/// directories that have something below them (for a file of a higher layer that replaces a
/// directory) — their number grows with those, not with the files.
///
/// The result is [`apply_layer`]'s, layer by layer from the bottom: an entry of layer `l` at path
/// `q` is hidden when a layer above `l` has a whiteout of `q` or of a directory above it, makes a
/// directory above `q` opaque, or has an entry other than a directory at a path above `q`; of the
/// entries of `q` not hidden, the highest layer's is the merged view's.
pub(crate) struct SortedLayers {
    sorter: Sorter,
    /// Path → highest layer with a whiteout of it.
    whiteouts: BTreeMap<String, u32>,
    /// Directory → highest layer making it opaque.
    opaque: BTreeMap<String, u32>,
    /// Directory → lowest layer with an entry below it.
    has_below: BTreeMap<String, u32>,
}

impl SortedLayers {
    /// Holding at most `max_bytes` of entries in memory.
    pub(crate) fn new(max_bytes: usize) -> SortedLayers {
        SortedLayers {
            sorter: Sorter::new(usize::MAX, max_bytes),
            whiteouts: BTreeMap::new(),
            opaque: BTreeMap::new(),
            has_below: BTreeMap::new(),
        }
    }

    /// Adds one entry of layer `layer` (0 is the bottom layer), the layers in any order.
    pub(crate) fn push(&mut self, layer: u32, e: IndexedEntry) -> io::Result<()> {
        let (effect, is_entry) = overlay::effect(&e);
        match effect {
            Some(Effect::Whiteout(p)) => raise(&mut self.whiteouts, p, layer),
            Some(Effect::Opaque(p)) => raise(&mut self.opaque, p, layer),
            None => {}
        }
        if !is_entry {
            return Ok(());
        }
        let mut up = tree::parent(&e.entry.path);
        while let Some(dir) = up {
            match self.has_below.get_mut(dir) {
                Some(l) if *l <= layer => break,
                Some(l) => *l = layer,
                None => {
                    self.has_below.insert(dir.to_string(), layer);
                }
            }
            up = tree::parent(dir);
        }
        let mut key = Vec::with_capacity(e.entry.path.len() + 5);
        key.extend(e.entry.path.as_bytes());
        key.push(0);
        key.extend(layer.to_be_bytes());
        let mut payload = Vec::with_capacity(64);
        spilled::encode(&e.entry, &mut payload);
        self.sorter.push(key, payload)
    }

    /// The merged view, in path order.
    pub(crate) fn finish(self) -> io::Result<MergedLayers> {
        Ok(MergedLayers {
            sorted: self.sorter.finish()?.peekable(),
            whiteouts: self.whiteouts,
            opaque: self.opaque,
            has_below: self.has_below,
            replaced_below: BTreeMap::new(),
        })
    }
}

fn raise(map: &mut BTreeMap<String, u32>, path: String, layer: u32) {
    let l = map.entry(path).or_insert(layer);
    *l = (*l).max(layer);
}

/// The merged view of [`SortedLayers`]: each item is an entry, in path order, or the error of
/// reading the spilled entries back.
pub(crate) struct MergedLayers {
    sorted: std::iter::Peekable<spill::Sorted>,
    whiteouts: BTreeMap<String, u32>,
    opaque: BTreeMap<String, u32>,
    has_below: BTreeMap<String, u32>,
    /// Path → highest layer with an entry other than a directory there, for paths that have
    /// something below them in a lower layer (met in path order, before what is below them).
    replaced_below: BTreeMap<String, u32>,
}

impl MergedLayers {
    /// Whether the entry of `layer` at `path` is hidden by a layer above it.
    fn hidden(&self, path: &str, layer: u32) -> bool {
        let above = |map: &BTreeMap<String, u32>, p: &str| map.get(p).is_some_and(|l| *l > layer);
        if above(&self.whiteouts, path) {
            return true;
        }
        let mut up = tree::parent(path);
        while let Some(dir) = up {
            if above(&self.whiteouts, dir) || above(&self.opaque, dir) || above(&self.replaced_below, dir) {
                return true;
            }
            up = tree::parent(dir);
        }
        false
    }

    fn next_entry(&mut self) -> io::Result<Option<FileEntry>> {
        loop {
            let Some(first) = self.sorted.next().transpose()? else {
                return Ok(None);
            };
            let path_of = |key: &[u8]| key.get(..key.len().saturating_sub(5)).map(<[u8]>::to_vec);
            let path = path_of(&first.key).unwrap_or_default();
            let mut group = vec![first];
            while let Some(Ok(next)) = self.sorted.peek() {
                if path_of(&next.key).as_ref() != Some(&path) {
                    break;
                }
                if let Some(Ok(r)) = self.sorted.next() {
                    group.push(r);
                }
            }
            let path = String::from_utf8(path).map_err(|_| broken())?;
            let mut top: Option<FileEntry> = None;
            let mut replaces = None;
            for r in group {
                let layer = r
                    .key
                    .get(r.key.len().saturating_sub(4)..)
                    .and_then(|b| b.try_into().ok());
                let layer = u32::from_be_bytes(layer.ok_or_else(broken)?);
                let e = spilled::decode(path.clone(), &r.payload).ok_or_else(broken)?;
                if e.kind != Kind::Dir && self.has_below.get(&path).is_some_and(|l| *l < layer) {
                    replaces = Some(layer);
                }
                if !self.hidden(&path, layer) {
                    top = Some(e);
                }
            }
            if let Some(layer) = replaces {
                raise(&mut self.replaced_below, path, layer);
            }
            if let Some(e) = top {
                return Ok(Some(e));
            }
        }
    }
}

fn broken() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "a spilled layer entry is not what was written",
    )
}

impl Iterator for MergedLayers {
    type Item = io::Result<FileEntry>;

    fn next(&mut self) -> Option<io::Result<FileEntry>> {
        self.next_entry().transpose()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::index::{FileEntry, FileIndex};
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

    /// The merge of [`SortedLayers`] is [`apply_layer`]'s, on many random stacks of layers
    /// drawing from a small tree (so that whiteouts, opaque directories and files replacing
    /// directories meet), spilled and not.
    #[test]
    fn the_sorted_merge_is_apply_layers() {
        let names = ["/a", "/a/b", "/a/b/c", "/a/b.x", "/a/x", "/b", "/b/c", "/a/b/c/d"];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        for round in 0..2000 {
            let layers = 1 + next(4) as usize;
            let mut stack: Vec<Vec<IndexedEntry>> = Vec::new();
            for _ in 0..layers {
                let mut layer = vec![e("/", Kind::Dir)];
                for _ in 0..next(7) {
                    let path = *names.get(next(names.len() as u64) as usize).unwrap();
                    let (dir, base) = path.rsplit_once('/').unwrap();
                    let dir = if dir.is_empty() { "/" } else { dir };
                    let x = match next(6) {
                        0 => e(path, Kind::File),
                        1 => e(path, Kind::Char),
                        2 => e(&tree::join(dir, &format!(".wh.{base}")), Kind::File),
                        3 => e(&tree::join(path, ".wh..wh..opq"), Kind::File),
                        4 => with_xattr(e(path, Kind::Dir), "trusted.overlay.opaque", b"y"),
                        _ => e(path, Kind::Dir),
                    };
                    layer.push(x);
                }
                stack.push(layer);
            }
            // Top first, as layers.json lists them.
            let expected = merge_top_first(stack.clone());
            let max_bytes = if round % 2 == 0 { usize::MAX } else { 100 };
            let mut sorted = SortedLayers::new(max_bytes);
            let n = stack.len() as u32;
            for (i, layer) in stack.into_iter().enumerate() {
                for x in layer {
                    sorted.push(n - 1 - i as u32, x).unwrap();
                }
            }
            let got: Vec<FileEntry> = sorted.finish().unwrap().collect::<io::Result<_>>().unwrap();
            assert!(
                got.windows(2)
                    .all(|w| w.first().map(|e| &e.path) < w.get(1).map(|e| &e.path))
            );
            let got: FileIndex = got.into_iter().map(|e| (e.path.clone(), e)).collect();
            assert_eq!(got, expected, "round {round}");
        }
    }
}
