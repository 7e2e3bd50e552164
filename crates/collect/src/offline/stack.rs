//! A path of the merged view looked up in the layers themselves, top first, as overlayfs would
//! resolve it: which layer's file a copy of the merged view must be read from.

use crate::rootfs::{RootError, RootFs, sys};
use forensic_bundle::manifest::FileKind;
use forensic_evidence::overlay::{self, Effect, LayerEntry};
use rustix::fd::AsFd;

/// One entry of one layer, as [`overlay::effect`] judges it.
struct Entry {
    path: String,
    kind: Option<FileKind>,
    rdev: u64,
    xattrs: Vec<(String, Vec<u8>)>,
}

impl LayerEntry for Entry {
    fn index_path(&self) -> &str {
        &self.path
    }

    fn file_kind(&self) -> Option<FileKind> {
        self.kind
    }

    fn device(&self) -> Option<(u64, u64)> {
        (self.kind == Some(FileKind::Char)).then(|| {
            let d = rustix::fs::Dev::from(self.rdev);
            (u64::from(rustix::fs::major(d)), u64::from(rustix::fs::minor(d)))
        })
    }

    fn xattr(&self, name: &str) -> Option<&[u8]> {
        self.xattrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
    }
}

/// The entry at `rel` in `layer` (`None`: absent), with the extended attributes of a directory
/// (an opaque marker) or a regular file (a whiteout marker).
fn entry(layer: &RootFs, rel: &[u8]) -> Result<Option<Entry>, RootError> {
    let Some(st) = layer.lstat(rel)? else {
        return Ok(None);
    };
    let kind = st.kind();
    let xattrs = match kind {
        Some(FileKind::Dir) => {
            let fd = layer.open_dir(rel)?;
            sys::fd_xattrs(fd.as_fd()).unwrap_or_default()
        }
        Some(FileKind::File) => match layer.open_file(rel)? {
            Some((f, _)) => sys::fd_xattrs(f.as_fd()).unwrap_or_default(),
            None => Vec::new(),
        },
        _ => Vec::new(),
    };
    Ok(Some(Entry {
        path: format!("/{}", String::from_utf8_lossy(rel)),
        kind,
        rdev: st.rdev,
        xattrs: xattrs.into_iter().map(|x| (x.0, x.1)).collect(),
    }))
}

/// Whether `dir` of `layer` holds the aufs marker `name` (`.wh.NAME` or `.wh..wh..opq`).
fn aufs_marker(layer: &RootFs, dir: &[u8], name: &[u8]) -> Result<bool, RootError> {
    let mut rel = dir.to_vec();
    if !rel.is_empty() {
        rel.push(b'/');
    }
    rel.extend_from_slice(name);
    Ok(layer.lstat(&rel)?.is_some())
}

/// The layer of `layers` (top first) whose entry is the merged view's `rel` (a path relative to
/// the root, no `.` or `..`), or `None` when the merged view has no such path: a whiteout, an
/// opaque directory or a non-directory above it hides the layers beneath. Links are never
/// followed: every layer is walked with [`RootFs`]'s descriptor-relative lookups.
///
/// # Errors
/// A layer could not be read ([`RootError`]).
pub(crate) fn find<'l>(layers: &[&'l RootFs], rel: &[u8]) -> Result<Option<&'l RootFs>, RootError> {
    let comps: Vec<&[u8]> = rel.split(|&b| b == b'/').filter(|c| !c.is_empty()).collect();
    if comps.is_empty() {
        return Ok(None);
    }
    for layer in layers {
        let mut hides_below = false;
        let mut prefix: Vec<u8> = Vec::new();
        let mut found = false;
        for (i, comp) in comps.iter().enumerate() {
            let parent = prefix.clone();
            if !prefix.is_empty() {
                prefix.push(b'/');
            }
            prefix.extend_from_slice(comp);
            let mut wh = overlay::AUFS_WHITEOUT.as_bytes().to_vec();
            wh.extend_from_slice(comp);
            if aufs_marker(layer, &parent, &wh)? {
                return Ok(None);
            }
            if aufs_marker(layer, &parent, overlay::AUFS_OPAQUE.as_bytes())? {
                hides_below = true;
            }
            let Some(e) = entry(layer, &prefix)? else {
                break;
            };
            let (effect, _) = overlay::effect(&e);
            match effect {
                Some(Effect::Whiteout(_)) => return Ok(None),
                Some(Effect::Opaque(_)) if i + 1 < comps.len() => hides_below = true,
                _ => {}
            }
            if i + 1 == comps.len() {
                found = true;
            } else if e.kind != Some(FileKind::Dir) {
                // A file, link or device where a directory is needed hides the path beneath.
                return Ok(None);
            }
        }
        if found {
            return Ok(Some(layer));
        }
        if hides_below {
            return Ok(None);
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use std::fs;

    fn mkdirs(root: &std::path::Path, dirs: &[&str]) {
        for d in dirs {
            fs::create_dir_all(root.join(d)).unwrap();
        }
    }

    fn whiteout(path: &std::path::Path) {
        rustix::fs::mknodat(
            rustix::fs::CWD,
            path,
            rustix::fs::FileType::CharacterDevice,
            rustix::fs::Mode::empty(),
            0,
        )
        .unwrap();
    }

    #[test]
    fn the_top_most_layer_holding_a_path_wins_and_whiteouts_opaque_dirs_and_files_hide_beneath() {
        let t = tempfile::tempdir().unwrap();
        let (up, mid, low) = (t.path().join("up"), t.path().join("mid"), t.path().join("low"));
        mkdirs(&up, &["etc", "opt", "var"]);
        mkdirs(&mid, &["etc", "opt/app", "var/lib"]);
        mkdirs(&low, &["etc", "opt/app", "var/lib/x", "srv"]);
        fs::write(low.join("etc/shadow"), b"low").unwrap();
        fs::write(mid.join("etc/shadow"), b"mid").unwrap();
        fs::write(low.join("etc/passwd"), b"low").unwrap();
        fs::write(low.join("etc/motd"), b"low").unwrap();
        whiteout(&up.join("etc/motd"));
        fs::write(low.join("opt/app/bin"), b"low").unwrap();
        // opaque /opt in the top layer: nothing of the layers beneath shows under it.
        rustix::fs::setxattr(
            up.join("opt"),
            "trusted.overlay.opaque",
            b"y",
            rustix::fs::XattrFlags::empty(),
        )
        .unwrap();
        fs::write(low.join("var/lib/x/f"), b"low").unwrap();
        // a file where a directory was: /var/lib of the middle layer hides the lower /var/lib/x/f.
        fs::remove_dir(mid.join("var/lib")).unwrap();
        fs::write(mid.join("var/lib"), b"file").unwrap();
        fs::write(low.join("srv/.wh.gone"), b"").unwrap();
        fs::write(mid.join("srv-placeholder"), b"").unwrap();
        mkdirs(&mid, &["srv"]);
        fs::write(mid.join("srv/.wh.gone"), b"").unwrap();
        fs::write(low.join("srv/gone"), b"low").unwrap();
        std::os::unix::fs::symlink("/etc/shadow", up.join("etc/link")).unwrap();
        let (u, m, l) = (
            RootFs::open(&up).unwrap(),
            RootFs::open(&mid).unwrap(),
            RootFs::open(&low).unwrap(),
        );
        let layers = [&u, &m, &l];
        let which = |rel: &str| find(&layers, rel.as_bytes()).unwrap().map(|r| r.label().to_string());
        assert_eq!(which("etc/shadow"), Some(m.label().to_string()));
        assert_eq!(which("etc/passwd"), Some(l.label().to_string()));
        assert_eq!(which("etc/link"), Some(u.label().to_string()));
        assert_eq!(which("etc/motd"), None);
        assert_eq!(which("opt/app/bin"), None);
        assert_eq!(which("var/lib/x/f"), None);
        assert_eq!(which("srv/gone"), None);
        assert_eq!(which("etc/absent"), None);
    }
}
