//! The merged view of a container's root computed from its layers' indexes, without a mount:
//! `5-filesystem/tree-index.jsonl` of an offline collection is the overlay merge
//! ([`forensic_evidence::overlay`]) of the writable layer's index and the image layers' indexes
//! (`9-image/layers/N.jsonl`), top first. A pure function over index lines: nothing is walked or
//! hashed twice.
//!
//! Each entry of the merged view is the line of the topmost layer holding its path, with what
//! only a layer directory shows removed: overlayfs's own `trusted.overlay.*` xattrs (the merged
//! view does not show them) and `layer_checksum` (lower-layer indexes only, CONTENTS.md §3).
//! Lines are written depth first, each directory's entries in raw byte order, as a walk of the
//! merged root writes them.

use forensic_bundle::manifest::FileKind;
use forensic_evidence::EvidenceError;
use forensic_evidence::lines::{LineLimits, for_each_line, parse_line};
use forensic_evidence::overlay::{self, LayerEntry, OVERLAY_XATTR_PREFIX};
use forensic_evidence::records::tree::TreeEntry;
use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};

/// Why the layers could not be merged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MergeError {
    /// A layer's index is malformed or over its limits (names the layer and line).
    #[error(transparent)]
    Index(#[from] EvidenceError),
    /// More entries in all than the limit.
    #[error("the layers hold more than {max} entries in all: the merged view is not computed")]
    TooManyEntries {
        /// The limit.
        max: u64,
    },
    /// The merged index could not be written.
    #[error("writing the merged index: {0}")]
    Output(io::Error),
}

/// One layer's index to merge: a name for messages (e.g. `upper`, `layers/0.jsonl`) and its
/// lines.
pub struct LayerIndex<'a> {
    /// Names the layer in errors.
    pub name: String,
    /// Its index lines ([`TreeEntry`]s).
    pub lines: &'a mut dyn BufRead,
}

/// One line of a layer's index, as the overlay rules see it.
struct Line {
    path: String,
    entry: TreeEntry<'static>,
}

impl LayerEntry for Line {
    fn index_path(&self) -> &str {
        &self.path
    }

    fn file_kind(&self) -> Option<FileKind> {
        self.entry.kind.file_kind()
    }

    fn device(&self) -> Option<(u64, u64)> {
        self.entry.rdev.map(|d| (d.major, d.minor))
    }

    fn xattr(&self, name: &str) -> Option<&[u8]> {
        self.entry
            .xattrs
            .as_ref()?
            .iter()
            .find(|x| x.0 == name)
            .map(|x| x.1.as_bytes())
    }
}

/// What the merge produced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MergeStats {
    /// Lines read from all layers.
    pub read: u64,
    /// Lines written (entries of the merged view).
    pub written: u64,
}

/// Merges `layers` (top first: the writable layer, then the image layers top to bottom) into
/// the merged view's index lines on `out`; at most `max_entries` lines are read in all.
///
/// # Errors
/// [`MergeError`] naming the layer and line of a malformed index, or when `out` fails.
pub fn merge(layers: Vec<LayerIndex<'_>>, out: &mut dyn Write, max_entries: u64) -> Result<MergeStats, MergeError> {
    let mut merged: BTreeMap<String, TreeEntry<'static>> = BTreeMap::new();
    let mut stats = MergeStats::default();
    for layer in layers.into_iter().rev() {
        let mut lines = Vec::new();
        for_each_line(&layer.name, layer.lines, LineLimits::default(), |n, l| {
            stats.read += 1;
            if stats.read > max_entries {
                return Err(MergeError::TooManyEntries { max: max_entries });
            }
            let entry: TreeEntry<'static> = parse_line(&layer.name, n, l)?;
            let path = key(entry.path.as_bytes());
            lines.push(Line { path, entry });
            Ok(())
        })?;
        overlay::apply_layer(&mut merged, lines, |l| l.entry);
    }
    let mut entries: Vec<TreeEntry<'static>> = merged.into_values().collect();
    entries.sort_by(|a, b| components(a.path.as_bytes()).cmp(components(b.path.as_bytes())));
    let mut buf = Vec::with_capacity(64 * 1024);
    for mut e in entries {
        e.layer_checksum = None;
        if let Some(x) = &mut e.xattrs {
            x.retain(|p| !p.0.starts_with(OVERLAY_XATTR_PREFIX));
        }
        serde_json::to_writer(&mut buf, &e).map_err(|e| MergeError::Output(io::Error::other(e)))?;
        buf.push(b'\n');
        stats.written += 1;
        if buf.len() >= 60 * 1024 {
            out.write_all(&buf).map_err(MergeError::Output)?;
            buf.clear();
        }
    }
    out.write_all(&buf).map_err(MergeError::Output)?;
    Ok(stats)
}

/// The merge key of raw path bytes: UTF-8 as is but `\\` as `\\x5c`, every other byte as
/// `\\xNN` — one key per path (a name holding the four characters `\\xff` and a name holding the
/// byte 0xff stay two entries: neither can hide the other).
fn key(raw: &[u8]) -> String {
    let mut s = String::with_capacity(raw.len());
    for chunk in raw.utf8_chunks() {
        for ch in chunk.valid().chars() {
            if ch == '\\' {
                s.push_str("\\x5c");
            } else {
                s.push(ch);
            }
        }
        for b in chunk.invalid() {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    s
}

/// A path's components, for depth-first order (`/a/b` before `/a-b`).
fn components(path: &[u8]) -> impl Iterator<Item = &[u8]> {
    path.split(|b| *b == b'/').filter(|c| !c.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::offline::fixture::{self, LOWER1, LOWER2, UPPER};
    use crate::rootfs::RootFs;
    use crate::rootfs::index::{IndexOptions, write_index};

    fn index(n: &fixture::Node, p: &str) -> Vec<u8> {
        let root = RootFs::open(&n.host(p)).unwrap();
        let mut out = Vec::new();
        write_index(&root, &mut out, &IndexOptions::default()).unwrap();
        out
    }

    fn line_of<'a>(index: &'a [u8], path: &str) -> &'a [u8] {
        let needle = format!("{{\"path\":\"{path}\",");
        index
            .split(|b| *b == b'\n')
            .find(|l| l.starts_with(needle.as_bytes()))
            .unwrap_or_else(|| panic!("no line for {path}"))
    }

    #[test]
    fn the_merged_view_applies_whiteouts_and_opaque_dirs_and_keeps_the_top_line() {
        let n = fixture::node();
        let (up, l2, l1) = (index(&n, UPPER), index(&n, LOWER2), index(&n, LOWER1));
        let mut out = Vec::new();
        let (mut r_up, mut r_l2, mut r_l1) = (&up[..], &l2[..], &l1[..]);
        let layers = vec![
            LayerIndex {
                name: "upper".into(),
                lines: &mut r_up,
            },
            LayerIndex {
                name: "layers/0.jsonl".into(),
                lines: &mut r_l2,
            },
            LayerIndex {
                name: "layers/1.jsonl".into(),
                lines: &mut r_l1,
            },
        ];
        let stats = merge(layers, &mut out, 1000).unwrap();
        let lines: Vec<TreeEntry<'_>> = out
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        let shown: Vec<(String, &str)> = lines.iter().map(|e| (e.path.shown(), e.kind.as_str())).collect();
        let expected = [
            ("/", "dir"),
            ("/etc", "dir"),
            ("/etc/motd", "file"),
            ("/etc/passwd", "file"),
            ("/opt", "dir"),
            ("/opt/app", "dir"),
            ("/opt/app/new.txt", "file"),
            ("/tmp", "dir"),
            ("/tmp/evil", "file"),
            ("/tmp/evil-link", "file"),
            ("/tmp/shadow", "symlink"),
            ("/usr", "dir"),
            ("/usr/bin", "dir"),
            ("/usr/bin/sud", "file"),
            ("/usr/bin/tool", "file"),
        ];
        let expected: Vec<(String, &str)> = expected.iter().map(|(p, k)| (p.to_string(), *k)).collect();
        assert_eq!(shown, expected);
        assert_eq!(stats.written, 15);
        // The topmost layer's line, byte for byte: motd from the top image layer, the rest of
        // /etc from the bottom one, the writable layer's files from it.
        let merged = |p: &str| line_of(&out, p).to_vec();
        assert_eq!(merged("/etc/motd"), line_of(&l2, "/etc/motd"));
        assert_eq!(merged("/etc/passwd"), line_of(&l1, "/etc/passwd"));
        assert_eq!(merged("/usr/bin/tool"), line_of(&l1, "/usr/bin/tool"));
        assert_eq!(merged("/tmp/evil"), line_of(&up, "/tmp/evil"));
        assert_eq!(merged("/tmp/shadow"), line_of(&up, "/tmp/shadow"));
        let motd = lines.iter().find(|e| e.path.shown() == "/etc/motd").unwrap();
        assert_eq!(
            motd.sha256.as_deref(),
            Some(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"motd v2\n")).as_str())
        );
        let link = lines.iter().find(|e| e.path.shown() == "/tmp/shadow").unwrap();
        assert_eq!(link.symlink_target.as_ref().unwrap().as_bytes(), b"/etc/shadow");
        let sud = lines.iter().find(|e| e.path.shown() == "/usr/bin/sud").unwrap();
        assert_eq!(sud.perm(), 0o4755);
        let evil = lines.iter().find(|e| e.path.shown() == "/tmp/evil").unwrap();
        assert_eq!(evil.nlink, Some(2));
        // The opaque directory is shown without overlayfs's own xattr.
        let app = line_of(&out, "/opt/app");
        assert!(
            !String::from_utf8_lossy(app).contains("trusted.overlay"),
            "{}",
            String::from_utf8_lossy(app)
        );
        assert!(String::from_utf8_lossy(line_of(&up, "/opt/app")).contains("trusted.overlay.opaque"));
    }

    #[test]
    fn a_name_that_looks_like_an_escape_hides_nothing() {
        use forensic_evidence::RawBytes;
        use forensic_evidence::records::EntryType;
        let line = |p: &[u8], kind| {
            let mut v = serde_json::to_vec(&TreeEntry::bare(RawBytes::borrowed(p), kind)).unwrap();
            v.push(b'\n');
            v
        };
        let mut upper = line(b"/", EntryType::Dir);
        upper.extend(line(b"/tmp", EntryType::Dir));
        upper.extend(line(b"/tmp/\\xff", EntryType::File));
        upper.extend(line(b"/tmp/\xff", EntryType::File));
        let mut r = &upper[..];
        let mut out = Vec::new();
        let stats = merge(
            vec![LayerIndex {
                name: "upper".into(),
                lines: &mut r,
            }],
            &mut out,
            100,
        )
        .unwrap();
        assert_eq!(stats.written, 4);
        assert_eq!(key(b"/a\\xff\xff"), "/a\\x5cxff\\xff");
    }

    #[test]
    fn a_malformed_layer_index_is_named_with_its_line() {
        let good = b"{\"path\":\"/\",\"type\":\"dir\"}\n".to_vec();
        let bad = b"{\"path\":\"/\",\"type\":\"dir\"}\nnot json\n".to_vec();
        let e = merge(
            vec![
                LayerIndex {
                    name: "upper".into(),
                    lines: &mut &good[..],
                },
                LayerIndex {
                    name: "layers/0.jsonl".into(),
                    lines: &mut &bad[..],
                },
            ],
            &mut Vec::new(),
            100,
        )
        .unwrap_err();
        assert!(
            e.to_string().starts_with("layers/0.jsonl line 2: not a valid record"),
            "{e}"
        );
        let e = merge(
            vec![LayerIndex {
                name: "upper".into(),
                lines: &mut &bad[..],
            }],
            &mut Vec::new(),
            1,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "the layers hold more than 1 entries in all: the merged view is not computed"
        );
    }
}
