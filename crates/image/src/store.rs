//! Where an image's blobs and metadata files are read from: a directory (OCI layout) or the
//! members of an archive, located by one scan of its tar headers and read by seeking, so nothing
//! is extracted and no member is held whole.

use crate::error::ImageError;
use crate::stream::{MeterState, Stop};
use crate::tree;
use forensic_bundle::digest::Digest;
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Take};
use std::path::{Path, PathBuf};

/// Where a regular-file member's data lies in an archive.
#[derive(Debug, Clone, Copy)]
struct Member {
    offset: u64,
    size: u64,
}

/// What one scan of an archive's tar headers found.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    members: HashMap<String, Member>,
    duplicates: HashSet<String>,
    /// Why the scan stopped early (a truncated or malformed tar), if it did.
    pub problem: Option<String>,
}

impl Scan {
    /// Whether a regular file of this name is in the archive.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.members.contains_key(name)
    }
}

/// Reads a tar's headers only (member data is skipped by seeking). Never fails on a malformed
/// tar: that is recorded in [`Scan::problem`], since a root-filesystem tar is read again as a
/// layer and gets its precise error there.
pub(crate) fn scan_archive(path: &Path, max_members: u64) -> Result<Scan, ImageError> {
    let io_err = |source| ImageError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io_err)?;
    let len = file.metadata().map_err(io_err)?.len();
    let state = MeterState::new(u64::MAX);
    let mut reader = HeaderBudget { file, state: &state };
    let mut archive = tar::Archive::new(&mut reader);
    let mut scan = Scan::default();
    let mut entries = match archive.entries_with_seek() {
        Ok(e) => e,
        Err(e) => {
            scan.problem = Some(e.to_string());
            return Ok(scan);
        }
    };
    let mut count = 0u64;
    let mut last = String::new();
    loop {
        state.begin_headers();
        let next = entries.next();
        state.end_headers();
        let entry = match next {
            None => break,
            Some(Ok(e)) => e,
            Some(Err(e)) => {
                scan.problem = Some(match state.stopped() {
                    Some(Stop::ExtensionHeaders) => format!("oversized extension headers after member {last:?}"),
                    _ => format!("unreadable tar header after member {last:?}: {e}"),
                });
                break;
            }
        };
        count += 1;
        if count > max_members {
            scan.problem = Some(format!("more than {max_members} members"));
            break;
        }
        let raw = entry.path_bytes();
        last = tree::escape(&raw);
        let (offset, size) = (entry.raw_file_position(), entry.size());
        if offset.checked_add(size).is_none_or(|end| end > len) {
            scan.problem = Some(format!(
                "member {last:?} declares {size} bytes at offset {offset}, but the archive is {len} bytes"
            ));
            break;
        }
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_contiguous()) {
            continue;
        }
        // Names that climb out with `..` are never looked up; a root-filesystem tar reports them.
        let Ok(name) = tree::checked_path(&raw) else {
            continue;
        };
        let name = name.trim_start_matches('/').to_string();
        if scan.members.insert(name.clone(), Member { offset, size }).is_some() {
            scan.duplicates.insert(name);
        }
    }
    Ok(scan)
}

/// A file reader that bounds how much the tar reader reads while it parses headers.
struct HeaderBudget<'s> {
    file: File,
    state: &'s MeterState,
}

impl Read for HeaderBudget<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        self.state.count(n).map(|()| n)
    }
}

impl Seek for HeaderBudget<'_> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.file.seek(pos)
    }
}

/// A blob being read: the bytes and their stored length.
pub(crate) type Blob = Take<File>;

/// The files of an image, by their names in the OCI layout or archive (`index.json`,
/// `blobs/sha256/<hex>`, `<hex>/layer.tar`).
#[derive(Debug)]
pub(crate) enum Store {
    /// An OCI layout directory.
    Dir(PathBuf),
    /// An archive and where its members lie.
    Archive {
        /// The archive.
        path: PathBuf,
        /// Its members.
        scan: Scan,
    },
}

impl Store {
    /// Where `name` is, for messages.
    pub(crate) fn location(&self, name: &str) -> String {
        match self {
            Store::Dir(root) => root.join(name).display().to_string(),
            Store::Archive { path, .. } => format!("{name} in {}", path.display()),
        }
    }

    /// Opens `name` for reading, with its size; `None` when there is no such regular file.
    ///
    /// # Security
    /// In a directory, symlinks are not followed (the blob must be a regular file); in an
    /// archive, the member's data is read in place and a name that occurs twice is refused.
    pub(crate) fn open(&self, name: &str) -> Result<Option<(Blob, u64)>, ImageError> {
        match self {
            Store::Dir(root) => {
                let path = root.join(name);
                let file = match open_no_follow(&path) {
                    Ok(f) => f,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                    Err(e) if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) => {
                        return Err(ImageError::Io {
                            path,
                            source: io::Error::other(
                                "it is a symlink, and symlinks in an image layout are not followed",
                            ),
                        });
                    }
                    Err(e) => return Err(ImageError::Io { path, source: e }),
                };
                let meta = file.metadata().map_err(|e| ImageError::Io {
                    path: path.clone(),
                    source: e,
                })?;
                if !meta.is_file() {
                    return Ok(None);
                }
                Ok(Some((file.take(meta.len()), meta.len())))
            }
            Store::Archive { path, scan } => {
                let Some(m) = scan.members.get(name) else {
                    return Ok(None);
                };
                if scan.duplicates.contains(name) {
                    return Err(ImageError::BadArchive {
                        path: path.clone(),
                        why: format!("member {name:?} occurs more than once, so which one is meant is ambiguous"),
                    });
                }
                let io_err = |source| ImageError::Io {
                    path: path.clone(),
                    source,
                };
                let mut file = File::open(path).map_err(io_err)?;
                file.seek(SeekFrom::Start(m.offset)).map_err(io_err)?;
                Ok(Some((file.take(m.size), m.size)))
            }
        }
    }

    /// Reads a small metadata file whole (at most `limit` bytes); `None` when absent.
    pub(crate) fn read_small(&self, name: &str, what: &str, limit: u64) -> Result<Option<Vec<u8>>, ImageError> {
        let Some((mut blob, size)) = self.open(name)? else {
            return Ok(None);
        };
        if size > limit {
            return Err(ImageError::MetadataTooLarge {
                what: what.to_string(),
                size,
                limit,
            });
        }
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        blob.read_to_end(&mut bytes).map_err(|e| ImageError::Io {
            path: PathBuf::from(self.location(name)),
            source: e,
        })?;
        Ok(Some(bytes))
    }

    /// Reads a small metadata file that must be there.
    pub(crate) fn read_required(&self, name: &str, what: &str, limit: u64) -> Result<Vec<u8>, ImageError> {
        self.read_small(name, what, limit)?
            .ok_or_else(|| ImageError::MissingBlob {
                what: what.to_string(),
                location: self.location(name),
            })
    }
}

/// Opens a regular file without following a symlink in its last component, and without
/// blocking on a FIFO.
pub(crate) fn open_no_follow(path: &Path) -> io::Result<File> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    Ok(File::from(fd))
}

/// The OCI layout name of a SHA-256 blob.
pub(crate) fn blob_name(d: &Digest) -> String {
    format!("blobs/sha256/{}", d.hex())
}

/// Parses an OCI digest string; only `sha256:` with 64 lowercase hex digits is accepted.
pub(crate) fn parse_digest(s: &str, what: &str) -> Result<Digest, ImageError> {
    let bad = |why: String| ImageError::BadMetadata {
        what: what.to_string(),
        why,
    };
    let (alg, hex) = s
        .split_once(':')
        .ok_or_else(|| bad(format!("digest {s:?} has no algorithm")))?;
    if alg != "sha256" {
        return Err(bad(format!("digest algorithm {alg:?} is not supported (only sha256)")));
    }
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(bad(format!("digest {s:?} is not 64 lowercase hex digits")));
    }
    Digest::from_hex(hex).ok_or_else(|| bad(format!("digest {s:?} is not hex")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_parse_strictly() {
        let hex = "a".repeat(64);
        assert_eq!(parse_digest(&format!("sha256:{hex}"), "x").unwrap().hex(), hex);
        for bad in [
            format!("sha512:{hex}"),
            format!("sha256:{}", "A".repeat(64)),
            "sha256:abc".to_string(),
            hex.clone(),
            format!("sha256:../../{}", "a".repeat(58)),
        ] {
            assert!(
                matches!(parse_digest(&bad, "x"), Err(ImageError::BadMetadata { .. })),
                "{bad}"
            );
        }
    }
}
