//! Root filesystems given as they are: a directory (walked without following symlinks) or a tar
//! (read as a single layer on an empty tree).
//!
//! In a root-filesystem tar, `.wh.` names are ordinary files: such a tar is a filesystem (as
//! `podman export` writes it), not a layer, and a file can be named `.wh.x` on a real filesystem.

use crate::error::ImageError;
use crate::index::{FileEntry, FileIndex, Kind};
use crate::layer::{self, LayerSpec};
use crate::options::ImageOptions;
use crate::store::open_no_follow;
use crate::stream::{self, BUF};
use crate::tree;
use forensic_bundle::digest::Digest;
use sha2::{Digest as _, Sha256};
use std::fs::{self, Metadata};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

/// The index of a root-filesystem tar (plain, gzip or zstd).
pub(crate) fn index_tar(
    path: &Path,
    opts: &ImageOptions,
    capture: Option<layer::Capture>,
) -> Result<FileIndex, ImageError> {
    let file = fs::File::open(path).map_err(|e| ImageError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let spec = LayerSpec {
        name: path.display().to_string(),
        blob: None,
        diff_id: None,
        whiteouts: false,
        capture,
    };
    let mut index = FileIndex::new();
    let mut used = 0u64;
    layer::apply_layer(&mut index, file, &spec, opts, &mut used)?;
    Ok(index)
}

/// The index of a root-filesystem directory. Symlinks are recorded, never followed (the root
/// itself may be reached through one); regular files are opened without following symlinks and
/// hashed.
pub(crate) fn index_dir(root: &Path, opts: &ImageOptions) -> Result<FileIndex, ImageError> {
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ImageError::Io { path, source }
    };
    let meta = fs::metadata(root).map_err(io_err(root))?;
    let mut index = FileIndex::new();
    index.insert("/".to_string(), entry("/".to_string(), &meta, Kind::Dir));
    let mut stack = vec![(root.to_path_buf(), "/".to_string())];
    let mut count = 0u64;
    let mut buf = vec![0u8; BUF];
    while let Some((dir, at)) = stack.pop() {
        for item in fs::read_dir(&dir).map_err(io_err(&dir))? {
            let item = item.map_err(io_err(&dir))?;
            let path = item.path();
            count += 1;
            if count > opts.max_entries {
                return Err(ImageError::TooManyEntries {
                    layer: root.display().to_string(),
                    limit: opts.max_entries,
                });
            }
            let child = tree::join(&at, &tree::escape(item.file_name().as_bytes()));
            let meta = fs::symlink_metadata(&path).map_err(io_err(&path))?;
            let ft = meta.file_type();
            let e = if ft.is_file() {
                if meta.len() > opts.max_file_size {
                    return Err(ImageError::AbsurdSize {
                        layer: root.display().to_string(),
                        entry: child,
                        size: meta.len(),
                        limit: opts.max_file_size,
                    });
                }
                let (size, digest) = hash_file(&path, &meta, &mut buf).map_err(io_err(&path))?;
                FileEntry {
                    size,
                    sha256: Some(digest),
                    ..entry(child, &meta, Kind::File)
                }
            } else if ft.is_dir() {
                stack.push((path, child.clone()));
                entry(child, &meta, Kind::Dir)
            } else if ft.is_symlink() {
                let target = fs::read_link(&path).map_err(io_err(&path))?;
                FileEntry {
                    link_target: Some(tree::escape(target.as_os_str().as_bytes())),
                    ..entry(child, &meta, Kind::Symlink)
                }
            } else {
                let kind = if ft.is_fifo() {
                    Kind::Fifo
                } else if ft.is_socket() {
                    Kind::Socket
                } else if ft.is_char_device() {
                    Kind::Char
                } else {
                    Kind::Block
                };
                entry(child, &meta, kind)
            };
            index.insert(e.path.clone(), e);
        }
    }
    Ok(index)
}

/// An entry with the metadata of `meta` and no content.
fn entry(path: String, meta: &Metadata, kind: Kind) -> FileEntry {
    let mtime_ns = meta
        .mtime()
        .checked_mul(1_000_000_000)
        .and_then(|s| s.checked_add(meta.mtime_nsec()));
    FileEntry {
        path,
        kind,
        mode: meta.mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
        size: 0,
        mtime_ns,
        sha256: None,
        link_target: None,
    }
}

/// Hashes the regular file listed as `listed`, refusing one that was replaced in between.
fn hash_file(path: &Path, listed: &Metadata, buf: &mut [u8]) -> io::Result<(u64, Digest)> {
    let mut file = open_no_follow(path)?;
    let opened = file.metadata()?;
    if !opened.is_file() || opened.ino() != listed.ino() || opened.dev() != listed.dev() {
        return Err(io::Error::other("the file was replaced while the directory was read"));
    }
    let mut hasher = Sha256::new();
    let mut len = 0u64;
    loop {
        let n = stream::read_some(&mut file, buf)?;
        if n == 0 {
            break;
        }
        hasher.update(buf.get(..n).unwrap_or_default());
        len += n as u64;
    }
    Ok((len, Digest(hasher.finalize().into())))
}
