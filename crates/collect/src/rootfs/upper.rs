//! The overlay upper (writable) layer of a container: every file the container wrote, and a
//! change list (`docker diff` with reasons) derived from it.
//!
//! The upper directory is a host path from the mount table, but its content is the attacker's, so
//! it is read with the same rules as the container root. Overlayfs records in the upper layer:
//!
//! - a **whiteout** (a character device 0:0, or since Linux 6.7 a regular file with the xattr
//!   `trusted.overlay.whiteout`): the path was deleted in the container;
//! - an **opaque directory** (xattr `trusted.overlay.opaque` or `user.overlay.opaque` = `y`): the
//!   directory was removed and recreated, hiding everything below it in the lower layers;
//! - aufs-style markers (`.wh.NAME` deletes `NAME`, `.wh..wh..opq` makes its directory opaque),
//!   which some snapshotters still produce.
//!
//! Whether a file was *added* or *modified* needs the lower layers: pass their host paths and the
//! same relative path is looked up in each (top first, stopping at a whiteout).

use crate::rootfs::copy::{self, Copier, CopyOptions, CopyStats};
use crate::rootfs::error::{RootError, display_path};
use crate::rootfs::json;
use crate::rootfs::root::RootFs;
use crate::rootfs::walk::{self, Descent, DirHandle, Entry, Visit, WalkOptions};
use crate::sink::{NewMember, Sink};
use forensic_bundle::manifest::{FileKind, FileMeta, RawPath, Source};
use forensic_evidence::RawBytes;
use forensic_evidence::records::upper::{Change, UpperChange};
use forensic_evidence::records::{EntryType, Mode};
use std::io::{Seek, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// How to collect the upper layer.
#[derive(Debug, Clone)]
pub struct UpperOptions {
    /// Limits and walk; by default staying on the upper directory's filesystem.
    pub copy: CopyOptions,
    /// Prefix of the copied files' member names.
    pub files_prefix: String,
    /// Name of the change list member.
    pub changes_member: String,
}

impl Default for UpperOptions {
    fn default() -> Self {
        UpperOptions {
            copy: CopyOptions {
                walk: WalkOptions {
                    one_filesystem: true,
                    ..WalkOptions::default()
                },
                ..CopyOptions::default()
            },
            files_prefix: "upper/".into(),
            changes_member: "upper-changes.jsonl".into(),
        }
    }
}

/// What collecting the upper layer found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpperStats {
    /// What was copied.
    pub copy: CopyStats,
    /// Paths not in any lower layer (or below an opaque directory).
    pub added: u64,
    /// Paths also in a lower layer.
    pub modified: u64,
    /// Paths in the upper layer when no lower layers were given.
    pub added_or_modified: u64,
    /// Whiteouts: paths deleted in the container.
    pub deleted: u64,
    /// Opaque directories.
    pub opaque_dirs: u64,
    /// Lines in the change list.
    pub lines: u64,
}

/// Collects the upper layer at the host path `upper`: copies every regular file and symlink as
/// `files_prefix` + its path (with [`Source::Path`] the host path it was read from, and its
/// metadata), then writes the change list member, one JSON line per entry:
///
/// ```text
/// {"path":"/etc/passwd","change":"modified","type":"file","size":1043,"mode":"0644","sha256":"…","member":"upper/etc/passwd"}
/// ```
///
/// `change` is `added`, `modified`, `added-or-modified` (no lower layers given), `deleted`
/// (`type` `whiteout`), `opaque-dir` or `dir`. `sha256` is that of the stored member (of the first
/// `max_file_size` bytes when `truncated` is true). Regular files whose data stays in a lower
/// layer (overlay `metacopy`) say `"metacopy": true`; renamed directories carry `redirect`.
///
/// # Errors
/// [`RootError::OpenRoot`] if `upper` cannot be opened, or a sink failure. A lower layer that
/// cannot be opened is a gap, and the change list then says `added-or-modified`.
pub fn collect_upper(
    upper: &Path,
    lowers: &[&Path],
    sink: &mut dyn Sink,
    opts: &UpperOptions,
) -> Result<UpperStats, RootError> {
    let root = RootFs::open(upper)?;
    let mut lower_roots = Vec::new();
    let mut lowers_complete = !lowers.is_empty();
    for l in lowers {
        match RootFs::open(l) {
            Ok(r) => lower_roots.push(r),
            Err(e) => {
                lowers_complete = false;
                sink.gap(
                    display_path(l.as_os_str().as_bytes()),
                    format!("lower layer not read: {e}"),
                );
            }
        }
    }
    collect_upper_in(&root, &lower_roots, lowers_complete, sink, opts)
}

/// [`collect_upper`] on layers already open: the upper directory `root` (its label names it in
/// the members' sources and the change list's description) and the lower directories `lowers`,
/// top first; `lowers_complete` is false when some lower layer could not be opened (the change
/// list then says `added-or-modified` where no open lower layer holds the path).
///
/// # Errors
/// A sink failure, or the upper directory cannot be walked.
pub fn collect_upper_in(
    root: &RootFs,
    lower_roots: &[RootFs],
    lowers_complete: bool,
    sink: &mut dyn Sink,
    opts: &UpperOptions,
) -> Result<UpperStats, RootError> {
    // Enciphered with a key held only in memory: evidence is never in clear on disk.
    let mut spool =
        forensic_crypt::Scratch::create_in(&std::env::temp_dir()).map_err(|e| RootError::output("a spool", e))?;
    let mut stats = UpperStats::default();
    let prefix = copy::normalized(&opts.files_prefix);
    let host_base = root.label().as_bytes().to_vec();
    {
        let mut c = Copier::new(sink, &opts.copy);
        let mut ctx = Ctx {
            copier: &mut c,
            lowers: lower_roots,
            lowers_complete,
            prefix: &prefix,
            host_base: &host_base,
            opaque_depths: Vec::new(),
            out: Vec::with_capacity(64 * 1024),
            stats: &mut stats,
        };
        let result = walk::walk(root, b"", &opts.copy.walk, &mut |v| {
            match v {
                Visit::Entry(e, Some(dir)) => ctx.entry(dir, &e)?,
                Visit::Entry(..) => {}
                Visit::Skipped(s) => {
                    let path = json::absolute(&s.path);
                    ctx.copier.gap(&copy::joined(&host_base, &s.path), s.reason.clone())?;
                    json::push_line(
                        &mut ctx.out,
                        &UpperChange::unreadable(RawBytes::borrowed(&path), s.reason.clone()),
                    );
                    ctx.stats.lines += 1;
                }
            }
            if ctx.out.len() >= 60 * 1024 {
                spool
                    .write_all(&ctx.out)
                    .map_err(|e| RootError::output("the upper change list spool", e))?;
                ctx.out.clear();
            }
            Ok(())
        });
        spool
            .write_all(&ctx.out)
            .map_err(|e| RootError::output("the upper change list spool", e))?;
        result?;
        let copied = c.stats;
        stats.copy = copied;
    }
    spool
        .rewind()
        .map_err(|e| RootError::output("the upper change list spool", e))?;
    let derived = format!(
        "overlay upper layer {} compared with {} lower layer(s)",
        display_path(&host_base),
        lower_roots.len()
    );
    let m = NewMember::new(opts.changes_member.clone(), Source::Derived { derived });
    sink.member(m, &mut spool)
        .map_err(|e| RootError::output(opts.changes_member.clone(), e))?;
    Ok(stats)
}

/// The state of one upper-layer walk.
struct Ctx<'c, 's, 'x> {
    copier: &'c mut Copier<'s>,
    lowers: &'x [RootFs],
    lowers_complete: bool,
    prefix: &'x str,
    host_base: &'x [u8],
    /// Depths of the opaque directories enclosing the current entry.
    opaque_depths: Vec<usize>,
    out: Vec<u8>,
    stats: &'x mut UpperStats,
}

/// The aufs whiteout prefix.
const WH: &[u8] = b".wh.";
/// The aufs opaque-directory marker.
const WH_OPAQUE: &[u8] = b".wh..wh..opq";

impl Ctx<'_, '_, '_> {
    fn entry(&mut self, dir: &DirHandle, e: &Entry) -> Result<(), RootError> {
        while self.opaque_depths.last().is_some_and(|&d| d >= e.depth) {
            self.opaque_depths.pop();
        }
        let path = json::absolute(&e.path);
        let name = e.name();
        if let Some(hidden) = name.strip_prefix(WH) {
            return self.aufs_marker(e, &path, hidden);
        }
        if is_whiteout(e) {
            self.stats.deleted += 1;
            return self.line(&path, Change::Deleted, EntryType::Whiteout, &e.meta, None, None);
        }
        match e.meta.kind {
            FileKind::Dir => self.dir(e, &path),
            _ => {
                let change = self.change_of(&e.path);
                let host = copy::joined(self.host_base, &e.path);
                let member = forensic_evidence::paths::copy_member(self.prefix, &e.path, &host);
                let written = self.copier.entry(dir, e, member, RawPath::from_bytes(&host))?;
                let kind = EntryType::from(e.meta.kind);
                self.line(&path, change, kind, &e.meta, written.as_ref(), None)
            }
        }
    }

    fn dir(&mut self, e: &Entry, path: &[u8]) -> Result<(), RootError> {
        let opaque = [b"trusted.overlay.opaque".as_slice(), b"user.overlay.opaque"]
            .iter()
            .any(|n| xattr(&e.meta, n) == Some(b"y"));
        match &e.descent {
            Descent::Entered | Descent::NotADirectory => {}
            Descent::OtherFilesystem => self.copier.gap(
                &copy::joined(self.host_base, &e.path),
                "another filesystem: not walked".into(),
            )?,
            Descent::PseudoFilesystem(fs) => self.copier.gap(
                &copy::joined(self.host_base, &e.path),
                format!("{fs} filesystem: not walked"),
            )?,
            Descent::DepthLimit => self
                .copier
                .gap(&copy::joined(self.host_base, &e.path), "depth limit: not walked".into())?,
            Descent::Failed(why) => self
                .copier
                .gap(&copy::joined(self.host_base, &e.path), format!("not walked: {why}"))?,
        }
        if opaque {
            self.opaque_depths.push(e.depth);
            self.stats.opaque_dirs += 1;
            self.line(path, Change::OpaqueDir, EntryType::Dir, &e.meta, None, None)
        } else {
            self.line(path, Change::Dir, EntryType::Dir, &e.meta, None, None)
        }
    }

    /// `.wh.NAME` (NAME deleted) or `.wh..wh..opq` (the directory is opaque).
    fn aufs_marker(&mut self, e: &Entry, path: &[u8], hidden: &[u8]) -> Result<(), RootError> {
        let parent = path.rsplit_once_slash();
        if e.name() == WH_OPAQUE {
            self.opaque_depths.push(e.depth.saturating_sub(1));
            self.stats.opaque_dirs += 1;
            return self.line(
                if parent.is_empty() { b"/" } else { parent },
                Change::OpaqueDir,
                EntryType::Dir,
                &e.meta,
                None,
                Some(e.name()),
            );
        }
        if hidden.starts_with(WH) {
            // Other aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs): not a change of the container.
            return Ok(());
        }
        self.stats.deleted += 1;
        let deleted = copy::joined(if parent.is_empty() { b"/" } else { parent }, hidden);
        self.line(
            &deleted,
            Change::Deleted,
            EntryType::Whiteout,
            &e.meta,
            None,
            Some(e.name()),
        )
    }

    /// `added`, `modified` or `added-or-modified` for the path `rel` found in the upper layer.
    fn change_of(&mut self, rel: &[u8]) -> Change {
        if !self.opaque_depths.is_empty() {
            self.stats.added += 1;
            return Change::Added;
        }
        if self.lowers.is_empty() {
            self.stats.added_or_modified += 1;
            return Change::AddedOrModified;
        }
        match in_lowers(self.lowers, rel) {
            true => {
                self.stats.modified += 1;
                Change::Modified
            }
            false if self.lowers_complete => {
                self.stats.added += 1;
                Change::Added
            }
            false => {
                self.stats.added_or_modified += 1;
                Change::AddedOrModified
            }
        }
    }

    fn line(
        &mut self,
        path: &[u8],
        change: Change,
        kind: EntryType,
        m: &FileMeta,
        written: Option<&crate::sink::Written>,
        marker: Option<&[u8]>,
    ) -> Result<(), RootError> {
        let metacopy = m.kind == FileKind::File
            && [b"trusted.overlay.metacopy".as_slice(), b"user.overlay.metacopy"]
                .iter()
                .any(|n| xattr(m, n).is_some());
        let redirect = [b"trusted.overlay.redirect".as_slice(), b"user.overlay.redirect"]
            .iter()
            .find_map(|n| xattr(m, n));
        json::push_line(
            &mut self.out,
            &UpperChange {
                path: RawBytes::borrowed(path),
                change,
                kind: Some(kind),
                size: Some(m.size),
                mode: Some(Mode(m.mode)),
                sha256: written.map(|w| w.sha256.hex()),
                member: written.map(|w| w.name.clone()),
                truncated: written.and_then(|w| w.truncated.then_some(true)),
                symlink_target: m.symlink_target.as_ref().map(json::raw_of_path),
                redirect: redirect.map(RawBytes::borrowed),
                metacopy: metacopy.then_some(true),
                marker: marker.map(RawBytes::borrowed),
                error: None,
            },
        );
        self.stats.lines += 1;
        Ok(())
    }
}

/// The value of the extended attribute `name`, if recorded.
fn xattr<'m>(m: &'m FileMeta, name: &[u8]) -> Option<&'m [u8]> {
    m.xattrs
        .as_ref()?
        .iter()
        .find(|x| x.0.as_bytes() == name)
        .map(|x| x.1.as_slice())
}

/// An overlay whiteout: a character device 0:0, or a regular file marked with the whiteout xattr.
fn is_whiteout(e: &Entry) -> bool {
    match e.meta.kind {
        FileKind::Char => e.rdev == 0,
        FileKind::File => [b"trusted.overlay.whiteout".as_slice(), b"user.overlay.whiteout"]
            .iter()
            .any(|n| xattr(&e.meta, n).is_some()),
        _ => false,
    }
}

/// Whether `rel` exists in the lower layers, searched top first: the first layer that has it
/// decides (a whiteout there means it does not exist).
fn in_lowers(lowers: &[RootFs], rel: &[u8]) -> bool {
    for lower in lowers {
        if let Ok(Some(st)) = lower.lstat(rel) {
            let whiteout = st.file_type() == rustix::fs::FileType::CharacterDevice && st.rdev == 0;
            return !whiteout;
        }
    }
    false
}

/// The part of an absolute path before its last `/` (empty for a top-level entry).
trait ParentSlice {
    fn rsplit_once_slash(&self) -> &[u8];
}

impl ParentSlice for [u8] {
    fn rsplit_once_slash(&self) -> &[u8] {
        match self.iter().rposition(|&b| b == b'/') {
            Some(i) => self.get(..i).unwrap_or_default(),
            None => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::MemorySink;
    use serde_json::Value;

    fn set_opaque(p: &Path) -> bool {
        xattr::set(p, "trusted.overlay.opaque", b"y").is_ok() || xattr::set(p, "user.overlay.opaque", b"y").is_ok()
    }

    #[test]
    fn changes_are_classified_against_the_lower_layers() {
        let lower = tempfile::tempdir().unwrap();
        let upper = tempfile::tempdir().unwrap();
        let (l, u) = (lower.path(), upper.path());
        for d in ["etc", "opt/app", "bin"] {
            std::fs::create_dir_all(l.join(d)).unwrap();
        }
        std::fs::write(l.join("etc/passwd"), b"old").unwrap();
        std::fs::write(l.join("opt/app/new"), b"lower").unwrap();
        std::fs::write(l.join("bin/su"), b"su").unwrap();
        for d in ["etc", "opt/app", "tmp", "bin"] {
            std::fs::create_dir_all(u.join(d)).unwrap();
        }
        std::fs::write(u.join("etc/passwd"), b"new").unwrap();
        std::fs::write(u.join("etc/.wh.gone"), b"").unwrap();
        std::fs::write(u.join("tmp/evil"), b"evil").unwrap();
        std::fs::write(u.join("opt/app/new"), b"replaced").unwrap();
        let whiteout = rustix::fs::mknodat(
            rustix::fs::CWD,
            u.join("bin/su"),
            rustix::fs::FileType::CharacterDevice,
            rustix::fs::Mode::from_raw_mode(0),
            0,
        )
        .is_ok();
        let opaque = set_opaque(&u.join("opt/app"));
        let mut sink = MemorySink::default();
        let stats = collect_upper(u, &[l], &mut sink, &UpperOptions::default()).unwrap();
        let text = sink.content("upper-changes.jsonl").unwrap();
        let lines: Vec<Value> = text
            .split(|&b| b == b'\n')
            .filter(|x| !x.is_empty())
            .map(|x| serde_json::from_slice(x).unwrap())
            .collect();
        let change = |p: &str| {
            lines
                .iter()
                .find(|v| v["path"] == p && v["change"] != "dir")
                .map(|v| v["change"].as_str().unwrap().to_string())
        };
        assert_eq!(change("/etc/passwd").as_deref(), Some("modified"));
        assert_eq!(change("/tmp/evil").as_deref(), Some("added"));
        assert_eq!(change("/etc/gone").as_deref(), Some("deleted"));
        if whiteout {
            assert_eq!(change("/bin/su").as_deref(), Some("deleted"));
            assert!(sink.content("upper/bin/su").is_none());
        }
        if opaque {
            assert_eq!(change("/opt/app").as_deref(), Some("opaque-dir"));
            assert_eq!(
                change("/opt/app/new").as_deref(),
                Some("added"),
                "below an opaque directory everything is new"
            );
        }
        let passwd = lines.iter().find(|v| v["path"] == "/etc/passwd").unwrap();
        assert_eq!(passwd["sha256"], forensic_bundle::digest::Digest::of(b"new").hex());
        assert_eq!(passwd["member"], "upper/etc/passwd");
        assert_eq!(sink.content("upper/etc/passwd"), Some(&b"new"[..]));
        assert_eq!(sink.content("upper/tmp/evil"), Some(&b"evil"[..]));
        assert!(sink.content("upper/etc/.wh.gone").is_none(), "markers are not copied");
        let (m, _, _) = sink
            .members
            .iter()
            .find(|(m, _, _)| m.name == "upper/tmp/evil")
            .unwrap();
        assert_eq!(
            m.source,
            Source::path(RawPath::from_bytes(&copy::joined(
                u.as_os_str().as_bytes(),
                b"tmp/evil"
            )))
        );
        assert_eq!(stats.modified, 1);
        // Without lower layers, nothing can be called added or modified.
        let mut sink = MemorySink::default();
        let stats = collect_upper(u, &[], &mut sink, &UpperOptions::default()).unwrap();
        assert_eq!(stats.added + stats.modified, u64::from(opaque));
        assert!(stats.added_or_modified >= 2);
    }

    #[test]
    fn parent_of_a_path() {
        assert_eq!(b"/etc/passwd".rsplit_once_slash(), b"/etc");
        assert_eq!(b"/etc".rsplit_once_slash(), b"");
    }
}
