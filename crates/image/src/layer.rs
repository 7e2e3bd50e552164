//! Applying one layer (or a root-filesystem tar) to a [`FileIndex`], as a stream.
//!
//! The stored blob is hashed as it is read; it is decompressed (gzip or zstd, recognised from its
//! first bytes) and its tar entries are read in order. Regular files are hashed; nothing is
//! written to disk and no file is held in memory. A layer's entries, whiteouts and opaque markers
//! are gathered first and applied when the layer has been read, because OCI whiteouts hide only
//! what lower layers hold: an opaque marker that comes after its siblings in the tar still keeps
//! them.

use crate::error::ImageError;
use crate::index::{FileEntry, FileIndex, Kind};
use crate::options::ImageOptions;
use crate::stream::{self, Compression, HashingReader, Meter, MeterState, Stop};
use crate::tree::{self, NameError};
use forensic_bundle::digest::Digest;
use sha2::{Digest as _, Sha256};
use std::io::{self, BufRead, BufReader, Read};

/// The whiteout prefix of OCI (and AUFS) layers.
const WHITEOUT: &str = ".wh.";
/// A directory's opaque marker: lower layers' contents of that directory are hidden.
const OPAQUE: &str = ".wh..wh..opq";
/// Prefix of AUFS bookkeeping names, which are not files of the image.
const AUFS_META: &str = ".wh..wh.";

/// A digest a blob must have, and what says so.
#[derive(Debug, Clone)]
pub(crate) struct Expect {
    /// The digest.
    pub digest: Digest,
    /// The metadata that gives it (`the manifest`, `config rootfs.diff_ids[0]`).
    pub claimed_by: String,
}

/// How to read one layer.
#[derive(Debug, Clone)]
pub(crate) struct LayerSpec {
    /// The layer's name in messages.
    pub name: String,
    /// Digest of the stored (possibly compressed) bytes.
    pub blob: Option<Expect>,
    /// Digest of the uncompressed tar (a `diff_id`): for an uncompressed layer the stored bytes
    /// are the tar; a compressed layer's tar is hashed as it is decompressed.
    pub diff_id: Option<Expect>,
    /// Whether `.wh.` names are whiteouts (image layers) or ordinary files (a root-filesystem tar).
    pub whiteouts: bool,
    /// Keep the content of some small files (account files, persistence points) as they are read.
    pub capture: Option<Capture>,
}

/// Contents kept while reading layers, by digest: the final index says which digest each path
/// ended with, so whiteouts and later layers need no bookkeeping here.
pub(crate) type Capture = std::sync::Arc<std::sync::Mutex<CaptureState>>;

/// What to keep, and what was kept.
#[derive(Debug)]
pub(crate) struct CaptureState {
    /// Which absolute paths to keep.
    pub want: fn(&str) -> bool,
    /// Largest file kept.
    pub max: u64,
    /// Kept contents.
    pub by_digest: std::collections::HashMap<Digest, Vec<u8>>,
}

/// What one layer changes: entries to write, paths to delete, directories to make opaque.
#[derive(Debug, Default)]
struct Changes {
    entries: FileIndex,
    whiteouts: Vec<String>,
    opaques: Vec<String>,
}

/// Reads the layer from `blob` and applies it to `index`. `entries_used` counts tar entries
/// across the image, against `opts.max_entries`.
///
/// Digests are checked over the bytes that were read. When reading fails part-way the rest of the
/// blob is still hashed, so that a blob that was altered is reported as such rather than by the
/// symptom its alteration caused.
pub(crate) fn apply_layer<R: Read>(
    index: &mut FileIndex,
    blob: R,
    spec: &LayerSpec,
    opts: &ImageOptions,
    entries_used: &mut u64,
) -> Result<(), ImageError> {
    let mut raw = HashingReader::new(blob);
    let state = MeterState::new(opts.max_layer_size);
    let mut compression = Compression::None;
    let read = read_layer(&mut raw, &state, index, spec, opts, entries_used, &mut compression);
    let (_, stored) = match raw.drain() {
        Ok(d) => d,
        Err(e) => return Err(read.err().unwrap_or_else(|| layer_io(spec, "", e))),
    };
    check(&spec.name, spec.blob.as_ref(), stored)?;
    if compression == Compression::None {
        check(&spec.name, spec.diff_id.as_ref(), stored)?;
    }
    let (changes, uncompressed) = read?;
    if let Some(d) = uncompressed {
        check(&spec.name, spec.diff_id.as_ref(), d)?;
    }
    apply(index, changes, &spec.name)
}

fn check(blob: &str, expect: Option<&Expect>, actual: Digest) -> Result<(), ImageError> {
    match expect {
        Some(e) if e.digest != actual => Err(ImageError::DigestMismatch {
            blob: blob.to_string(),
            claimed_by: e.claimed_by.clone(),
            expected: e.digest,
            actual,
        }),
        _ => Ok(()),
    }
}

/// Decompresses and reads the tar; gives the changes and, for a compressed layer whose `diff_id`
/// is to be checked, the digest of the uncompressed tar.
fn read_layer<R: Read>(
    raw: &mut HashingReader<R>,
    state: &MeterState,
    lower: &FileIndex,
    spec: &LayerSpec,
    opts: &ImageOptions,
    entries_used: &mut u64,
    compression: &mut Compression,
) -> Result<(Changes, Option<Digest>), ImageError> {
    let mut buffered = BufReader::with_capacity(stream::BUF, raw);
    let head = buffered.fill_buf().map_err(|e| layer_io(spec, "", e))?;
    *compression = stream::sniff(head).map_err(|c| ImageError::UnsupportedCompression {
        what: spec.name.clone(),
        compression: c,
    })?;
    let decoded = stream::decoder(buffered, *compression).map_err(|e| layer_io(spec, "", e))?;
    let hash_uncompressed = spec.diff_id.is_some() && *compression != Compression::None;
    let mut meter = Meter::new(decoded, state, hash_uncompressed);
    let mut reader = EntryReader {
        spec,
        opts,
        lower,
        state,
        entries_used,
        buf: vec![0u8; stream::BUF],
        last: String::new(),
        changes: Changes::default(),
    };
    {
        let mut archive = tar::Archive::new(&mut meter);
        reader.read_all(&mut archive)?;
    }
    let digest = meter.drain().map_err(|e| reader.stream_error(e))?;
    Ok((reader.changes, digest))
}

/// Reads the tar entries of one layer into [`Changes`].
struct EntryReader<'a> {
    spec: &'a LayerSpec,
    opts: &'a ImageOptions,
    lower: &'a FileIndex,
    state: &'a MeterState,
    entries_used: &'a mut u64,
    buf: Vec<u8>,
    /// The last entry read (for messages).
    last: String,
    changes: Changes,
}

impl EntryReader<'_> {
    fn read_all<R: Read>(&mut self, archive: &mut tar::Archive<R>) -> Result<(), ImageError> {
        let mut entries = archive.entries().map_err(|e| self.stream_error(e))?;
        loop {
            self.state.begin_headers();
            let next = entries.next();
            self.state.end_headers();
            match next {
                // The tar reader stops at an end-of-archive block, or at the end of the stream.
                None if self.state.at_eof() => {
                    return Err(ImageError::Truncated {
                        layer: self.spec.name.clone(),
                        why: format!(
                            "the tar ends without its end-of-archive marker (last entry {:?})",
                            self.last
                        ),
                    });
                }
                None => return Ok(()),
                Some(Err(e)) => return Err(self.stream_error(e)),
                Some(Ok(mut entry)) => {
                    self.entry(&mut entry)?;
                }
            }
        }
    }

    /// An error of the tar reader or the stream below it, in the terms of what happened.
    fn stream_error(&self, e: io::Error) -> ImageError {
        let layer = self.spec.name.clone();
        match self.state.stopped() {
            Some(Stop::LayerLimit) => ImageError::LayerTooLarge {
                layer,
                limit: self.opts.max_layer_size,
            },
            Some(Stop::ExtensionHeaders) => ImageError::BadEntry {
                layer,
                entry: format!("(the one after {:?})", self.last),
                why: format!(
                    "its extension headers (PAX records, GNU long names) exceed {} bytes",
                    stream::MAX_EXTENSION_HEADERS
                ),
            },
            None if self.state.at_eof() || e.kind() == io::ErrorKind::UnexpectedEof => ImageError::Truncated {
                layer,
                why: format!("the layer ends early, after entry {:?}: {e}", self.last),
            },
            None => layer_io(self.spec, &self.last, e),
        }
    }

    fn bad(&self, entry: &str, why: impl Into<String>) -> ImageError {
        ImageError::BadEntry {
            layer: self.spec.name.clone(),
            entry: entry.to_string(),
            why: why.into(),
        }
    }

    /// Reads one entry: checks its name and size, hashes a regular file, records it.
    fn entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<(), ImageError> {
        let raw_name = entry.path_bytes().into_owned();
        let shown = tree::escape(&raw_name);
        *self.entries_used += 1;
        if *self.entries_used > self.opts.max_entries {
            return Err(ImageError::TooManyEntries {
                layer: self.spec.name.clone(),
                limit: self.opts.max_entries,
            });
        }
        let declared = entry.size();
        if declared > self.opts.max_file_size {
            return Err(ImageError::AbsurdSize {
                layer: self.spec.name.clone(),
                entry: shown,
                size: declared,
                limit: self.opts.max_file_size,
            });
        }
        let path = tree::checked_path(&raw_name).map_err(|e| match e {
            NameError::Escapes => ImageError::PathEscape {
                layer: self.spec.name.clone(),
                entry: shown.clone(),
            },
            NameError::Nul => self.bad(&shown, "the name contains a NUL byte"),
        })?;
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() {
            self.skip_data(entry, &shown)?;
            self.last = shown;
            return Ok(());
        }
        if self.spec.whiteouts && path != "/.wh..wh..opq" && path.get(1..).is_some_and(|p| p.starts_with(AUFS_META)) {
            // AUFS bookkeeping at the top (.wh..wh.plnk/…, .wh..wh.aufs): not part of the image.
            self.skip_data(entry, &shown)?;
            self.last = shown;
            return Ok(());
        }
        if self.spec.whiteouts && tree::base_name(&path).starts_with(WHITEOUT) {
            self.whiteout(&path, &shown)?;
            self.skip_data(entry, &shown)?;
            self.last = shown;
            return Ok(());
        }
        let record = self.record(entry, path, &shown, declared)?;
        if record.path == "/" && record.kind != Kind::Dir {
            return Err(self.bad(&shown, "the root must be a directory"));
        }
        tree::put(&mut self.changes.entries, record);
        self.last = shown;
        Ok(())
    }

    /// A `.wh.NAME` entry: NAME is deleted from lower layers; `.wh..wh..opq` makes its directory
    /// opaque; other `.wh..wh.` names are AUFS bookkeeping and ignored.
    fn whiteout(&mut self, path: &str, shown: &str) -> Result<(), ImageError> {
        let name = tree::base_name(path);
        let dir = tree::parent(path).unwrap_or("/");
        if name == OPAQUE {
            self.changes.opaques.push(dir.to_string());
        } else if name.starts_with(AUFS_META) {
            // AUFS hard-link bookkeeping (.wh..wh.plnk, .wh..wh.aufs): not part of the image.
        } else {
            let target = name.get(WHITEOUT.len()..).unwrap_or_default();
            if target.is_empty() || target == "." || target == ".." {
                return Err(self.bad(shown, "a whiteout that names no file"));
            }
            self.changes.whiteouts.push(tree::join(dir, target));
        }
        Ok(())
    }

    /// The index entry for a tar entry (reading and hashing a regular file's data).
    fn record<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        path: String,
        shown: &str,
        declared: u64,
    ) -> Result<FileEntry, ImageError> {
        use tar::EntryType as T;
        let header = entry.header();
        let type_byte = header.entry_type();
        let mode = header.mode().map_err(|e| self.bad(shown, format!("mode: {e}")))? & 0o7777;
        let uid = header.uid().map_err(|e| self.bad(shown, format!("uid: {e}")))?;
        let gid = header.gid().map_err(|e| self.bad(shown, format!("gid: {e}")))?;
        let uid = u32::try_from(uid).map_err(|_| self.bad(shown, format!("uid {uid} is out of range")))?;
        let gid = u32::try_from(gid).map_err(|_| self.bad(shown, format!("gid {gid} is out of range")))?;
        let header_mtime = header.mtime().map_err(|e| self.bad(shown, format!("mtime: {e}")))?;
        let link = entry.link_name_bytes().map(|l| l.into_owned());
        let mtime_ns = self.mtime(entry, header_mtime, shown)?;
        let mut e = FileEntry {
            path,
            kind: Kind::File,
            mode,
            uid,
            gid,
            size: 0,
            mtime_ns: Some(mtime_ns),
            sha256: None,
            link_target: None,
        };
        match type_byte {
            T::Regular | T::Continuous | T::GNUSparse => {
                let keep = self
                    .spec
                    .capture
                    .as_ref()
                    .is_some_and(|c| c.lock().is_ok_and(|c| declared <= c.max && (c.want)(&e.path)));
                let mut kept = keep.then(Vec::new);
                let (size, digest) = self.hash_data(entry, shown, declared, kept.as_mut())?;
                if let (Some(bytes), Some(c)) = (kept, self.spec.capture.as_ref())
                    && let Ok(mut c) = c.lock()
                {
                    c.by_digest.insert(digest, bytes);
                }
                e.size = size;
                e.sha256 = Some(digest);
                return Ok(e);
            }
            T::Directory => e.kind = Kind::Dir,
            T::Symlink => {
                let target = link.ok_or_else(|| self.bad(shown, "a symlink without a target"))?;
                e.kind = Kind::Symlink;
                e.link_target = Some(tree::escape(&target));
            }
            T::Link => {
                let target = link.ok_or_else(|| self.bad(shown, "a hard link without a target"))?;
                e = self.hard_link(e.path, shown, &target)?;
            }
            T::Char => e.kind = Kind::Char,
            T::Block => e.kind = Kind::Block,
            T::Fifo => e.kind = Kind::Fifo,
            other => {
                return Err(ImageError::UnsupportedEntryType {
                    layer: self.spec.name.clone(),
                    entry: shown.to_string(),
                    type_byte: char::from(other.as_byte()),
                });
            }
        }
        self.skip_data(entry, shown)?;
        Ok(e)
    }

    /// A hard link is the file it names (same content and metadata), found in this layer or a
    /// lower one; its `link_target` is that file's path.
    fn hard_link(&self, path: String, shown: &str, raw_target: &[u8]) -> Result<FileEntry, ImageError> {
        let target = tree::checked_path(raw_target).map_err(|_| ImageError::LinkOutsideTree {
            layer: self.spec.name.clone(),
            entry: shown.to_string(),
            target: tree::escape(raw_target),
        })?;
        let bad = |why| ImageError::BadLinkTarget {
            layer: self.spec.name.clone(),
            entry: shown.to_string(),
            target: target.clone(),
            why,
        };
        let found = self
            .changes
            .entries
            .get(&target)
            .or_else(|| self.lower.get(&target))
            .ok_or_else(|| bad("is not in this layer (before the link) or a lower one"))?;
        if found.kind == Kind::Dir {
            return Err(bad("is a directory"));
        }
        if target == path {
            return Err(bad("is the link itself"));
        }
        Ok(FileEntry {
            path,
            link_target: Some(target.clone()),
            ..found.clone()
        })
    }

    /// Modification time: the PAX `mtime` record (with its fraction) when there is one, else the
    /// header's whole seconds.
    fn mtime<R: Read>(&self, entry: &mut tar::Entry<'_, R>, header_secs: u64, shown: &str) -> Result<i64, ImageError> {
        let pax = entry
            .pax_extensions()
            .map_err(|e| self.bad(shown, format!("PAX records: {e}")))?;
        if let Some(records) = pax {
            for r in records {
                let r = r.map_err(|e| self.bad(shown, format!("PAX records: {e}")))?;
                if r.key_bytes() == b"mtime" {
                    return parse_pax_time(r.value_bytes())
                        .ok_or_else(|| self.bad(shown, format!("bad PAX mtime {:?}", tree::escape(r.value_bytes()))));
                }
            }
        }
        i64::try_from(header_secs)
            .ok()
            .and_then(|s| s.checked_mul(1_000_000_000))
            .ok_or_else(|| self.bad(shown, format!("mtime {header_secs} is out of range")))
    }

    /// SHA-256 and length of an entry's data; fewer bytes than declared is a truncation.
    fn hash_data<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        shown: &str,
        declared: u64,
        mut keep: Option<&mut Vec<u8>>,
    ) -> Result<(u64, Digest), ImageError> {
        let mut hasher = Sha256::new();
        let mut len = 0u64;
        loop {
            let n = stream::read_some(entry, &mut self.buf).map_err(|e| self.stream_error(e))?;
            if n == 0 {
                break;
            }
            let chunk = self.buf.get(..n).unwrap_or_default();
            hasher.update(chunk);
            if let Some(k) = keep.as_deref_mut() {
                k.extend_from_slice(chunk);
            }
            len += n as u64;
        }
        if len != declared {
            return Err(ImageError::Truncated {
                layer: self.spec.name.clone(),
                why: format!("entry {shown:?} declares {declared} bytes but the tar ends after {len}"),
            });
        }
        Ok((len, Digest(hasher.finalize().into())))
    }

    /// Reads and discards an entry's data (so the tar reader only ever reads headers itself).
    fn skip_data<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>, shown: &str) -> Result<(), ImageError> {
        let declared = entry.size();
        let mut len = 0u64;
        loop {
            let n = stream::read_some(entry, &mut self.buf).map_err(|e| self.stream_error(e))?;
            if n == 0 {
                break;
            }
            len += n as u64;
        }
        if len != declared {
            return Err(ImageError::Truncated {
                layer: self.spec.name.clone(),
                why: format!("entry {shown:?} declares {declared} bytes but the tar ends after {len}"),
            });
        }
        Ok(())
    }
}

fn layer_io(spec: &LayerSpec, after: &str, source: io::Error) -> ImageError {
    ImageError::Layer {
        layer: spec.name.clone(),
        after: after.to_string(),
        source,
    }
}

/// A PAX time (`1700000000.123456789`, `-1.5`) in nanoseconds.
fn parse_pax_time(v: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(v).ok()?;
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: i64 = whole.parse().ok()?;
    let mut ns: i64 = 0;
    for d in frac.bytes().chain(std::iter::repeat(b'0')).take(9) {
        ns = ns * 10 + i64::from(d - b'0');
    }
    let total = secs.checked_mul(1_000_000_000)?.checked_add(ns)?;
    Some(if neg { -total } else { total })
}

/// Applies a layer's changes: its whiteouts and opaque markers delete from what lower layers
/// made, then its entries are written in path order (parents first), each ancestor that no entry
/// describes made as an implicit directory.
fn apply(index: &mut FileIndex, changes: Changes, layer: &str) -> Result<(), ImageError> {
    for path in &changes.whiteouts {
        tree::remove_tree(index, path);
    }
    for dir in &changes.opaques {
        tree::remove_below(index, dir);
    }
    for (path, entry) in changes.entries {
        tree::ensure_parents(index, &path).map_err(|(parent, kind)| ImageError::ParentNotDirectory {
            layer: layer.to_string(),
            entry: path.clone(),
            parent,
            kind: tree::kind_name(kind),
        })?;
        tree::put(index, entry);
    }
    index.entry("/".to_string()).or_insert_with(|| tree::implicit_dir("/"));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_times() {
        assert_eq!(parse_pax_time(b"1700000000.123456789"), Some(1_700_000_000_123_456_789));
        assert_eq!(parse_pax_time(b"1700000000.5"), Some(1_700_000_000_500_000_000));
        assert_eq!(parse_pax_time(b"1700000000"), Some(1_700_000_000_000_000_000));
        assert_eq!(parse_pax_time(b"1.0000000019"), Some(1_000_000_001));
        assert_eq!(parse_pax_time(b"-1.5"), Some(-1_500_000_000));
        assert_eq!(parse_pax_time(b"x"), None);
        assert_eq!(parse_pax_time(b".5"), None);
        assert_eq!(parse_pax_time(b"99999999999999999999"), None);
    }
}
