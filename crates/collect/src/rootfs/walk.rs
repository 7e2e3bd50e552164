//! A depth-first walk of a directory tree beneath a [`RootFs`] that never follows a symlink,
//! keeps memory and open descriptors bounded, and reports (rather than fails on) entries it
//! cannot examine.

use crate::rootfs::error::{RootError, display_path};
use crate::rootfs::names::NameList;
use crate::rootfs::root::{RootFs, shown};
use crate::rootfs::sys::{self, Lstat};
use forensic_bundle::manifest::RawPath;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::FileType;

pub use crate::rootfs::entry::{Descent, DirHandle, Entry, Skipped};

/// How to walk.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// Do not enter directories on another filesystem than the start (`find -xdev`); they are
    /// still reported, with [`Descent::OtherFilesystem`].
    pub one_filesystem: bool,
    /// Do not enter directories of pseudo filesystems (proc, sysfs, cgroup, debugfs, …), detected
    /// by their `statfs` magic number, nor FUSE mounts below the start (a FUSE server inside the
    /// container could make every read block forever; a FUSE root such as rootless podman's
    /// fuse-overlayfs is still walked).
    pub skip_pseudo_filesystems: bool,
    /// Directories at this depth (the start is depth 0) are reported but not entered.
    pub max_depth: usize,
    /// Stop after this many entries, and never hold more names than this in memory.
    pub max_entries: u64,
    /// Keep at most this many directory descriptors open (also capped at a quarter of the
    /// `RLIMIT_NOFILE` soft limit); deeper directories are reopened from an open ancestor when
    /// needed, one `O_NOFOLLOW` component at a time, and checked to be the same inode.
    pub max_open_dirs: usize,
    /// Which entries get their extended attributes read.
    pub xattrs: XattrPolicy,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            one_filesystem: false,
            skip_pseudo_filesystems: true,
            max_depth: 4096,
            max_entries: 2_000_000,
            max_open_dirs: 64,
            xattrs: XattrPolicy::All,
        }
    }
}

/// Which entries get their extended attributes read during the walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XattrPolicy {
    /// Every entry.
    All,
    /// Every entry but regular files (whose caller reads them from the opened file, in parallel).
    NotRegularFiles,
    /// None.
    None,
}

/// What the walk reports to its caller, in walk order.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // handed over once, by value: boxing would cost an allocation per entry
pub enum Visit<'a> {
    /// An entry, with the open directory that holds it (`None` for the start).
    Entry(Entry, Option<&'a DirHandle>),
    /// Something skipped.
    Skipped(&'a Skipped),
}

/// Counts of a finished walk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WalkStats {
    /// Entries reported (including the start).
    pub entries: u64,
    /// Directories entered (including the start).
    pub dirs_entered: u64,
    /// Directories reported but not entered (other filesystem, pseudo filesystem, depth limit,
    /// failure).
    pub dirs_not_entered: u64,
    /// Skip records reported.
    pub skipped: u64,
    /// The entry limit stopped the walk.
    pub entry_limit_reached: bool,
    /// Some directory was not entered because of the depth limit.
    pub depth_limit_reached: bool,
    /// Directory descriptors reopened because the open-descriptor budget had closed them.
    pub reopened_dirs: u64,
    /// Most directory descriptors the walk held open at once.
    pub peak_open_dirs: usize,
}

/// The callback of [`walk`]; an error stops the walk and is returned.
pub type Visitor<'a> = dyn FnMut(Visit<'_>) -> Result<(), RootError> + 'a;

/// Walks the directory `start` beneath `root` depth-first, entries of each directory in raw byte
/// order, calling `visit` for the start itself, each entry (before a directory's contents), and
/// each skip.
///
/// # Security
/// Directories are opened relative to their parent's descriptor with `O_NOFOLLOW | O_DIRECTORY |
/// O_NOATIME`, entries are examined with `statx(AT_SYMLINK_NOFOLLOW)`, symlink targets are read
/// with `readlinkat` and recorded, never followed; nothing is opened for reading here. Memory holds
/// one directory listing per depth level (at most `max_entries` names in all); open descriptors
/// are capped (see [`WalkOptions::max_open_dirs`]).
///
/// # Errors
/// The start cannot be opened as a directory, or `visit` returned an error. Problems with single
/// entries are reported as [`Visit::Skipped`] and the walk goes on.
///
/// ```no_run
/// use forensic_collect::rootfs::{RootFs, walk::{walk, Visit, WalkOptions}};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let root = RootFs::open("/proc/4242/root".as_ref())?;
/// let stats = walk(&root, b"tmp", &WalkOptions::default(), &mut |v| {
///     if let Visit::Entry(e, _) = v {
///         println!("/tmp/{} {:?}", String::from_utf8_lossy(&e.path), e.meta.kind);
///     }
///     Ok(())
/// })?;
/// println!("{} entries", stats.entries);
/// # Ok(()) }
/// ```
pub fn walk(root: &RootFs, start: &[u8], opts: &WalkOptions, visit: &mut Visitor<'_>) -> Result<WalkStats, RootError> {
    let fd = root.open_dir(start)?;
    let st = sys::fstat(fd.as_fd()).map_err(|e| RootError::from_io(shown(start), e))?;
    let mut w = Walker {
        opts,
        budget: fd_budget(opts.max_open_dirs),
        start_dev: st.dev,
        path: Vec::new(),
        levels: Vec::new(),
        open: 0,
        held: 0,
        stats: WalkStats::default(),
        visit,
    };
    w.start(fd, &st)?;
    w.run()?;
    Ok(w.stats)
}

/// Directory descriptors a walk may hold: the option, but at most a quarter of the soft
/// `RLIMIT_NOFILE`, and at least 2.
fn fd_budget(wanted: usize) -> usize {
    wanted.min(nofile_share(4)).max(2)
}

/// The soft `RLIMIT_NOFILE` divided by `part` (`usize::MAX` when unlimited).
pub(crate) fn nofile_share(part: u64) -> usize {
    let soft = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
    soft.map_or(usize::MAX, |s| usize::try_from(s / part.max(1)).unwrap_or(usize::MAX))
}

/// One directory being listed.
struct Level {
    /// Its descriptor, or `None` when closed to stay within the budget.
    fd: Option<DirHandle>,
    /// Its identity, checked when it is reopened.
    dev: u64,
    ino: u64,
    /// Its name in its parent.
    name: Vec<u8>,
    /// Length of its path in `Walker::path`.
    path_len: usize,
    names: NameList,
    next: usize,
}

impl Level {
    fn remaining(&self) -> u64 {
        self.names.len().saturating_sub(self.next) as u64
    }
}

struct Walker<'o, 'v, 'a> {
    opts: &'o WalkOptions,
    budget: usize,
    start_dev: u64,
    /// The path of the entry being examined.
    path: Vec<u8>,
    levels: Vec<Level>,
    /// Levels with an open descriptor.
    open: usize,
    /// Names listed but not yet examined, in all levels.
    held: u64,
    stats: WalkStats,
    visit: &'v mut Visitor<'a>,
}

impl Walker<'_, '_, '_> {
    fn start(&mut self, fd: OwnedFd, st: &Lstat) -> Result<(), RootError> {
        let mut descent = Descent::Entered;
        let mut listing = None;
        if let Some(name) = self.excluded_fs(fd.as_fd(), st.dev) {
            descent = Descent::PseudoFilesystem(name);
        } else {
            match sys::read_names(fd.as_fd(), self.opts.max_entries) {
                Ok(l) => listing = Some(l),
                Err(e) => descent = Descent::Failed(sys::reason(&e)),
            }
        }
        let xattrs = match self.opts.xattrs {
            XattrPolicy::None => None,
            _ => sys::fd_xattrs(fd.as_fd()),
        };
        let meta = st.to_meta(None, xattrs).ok_or_else(|| RootError::BadPath {
            path: String::new(),
            why: "the start of the walk has an unknown file type",
        })?;
        let entry = Entry {
            path: Vec::new(),
            meta,
            dev: st.dev,
            rdev: st.rdev,
            blocks: st.blocks,
            depth: 0,
            descent,
        };
        self.stats.entries += 1;
        (self.visit)(Visit::Entry(entry, None))?;
        match listing {
            Some((listing, more)) => {
                self.stats.dirs_entered += 1;
                if more {
                    self.stats.entry_limit_reached = true;
                    let n = listing.len();
                    self.skip(format!("entry limit: only {n} of its entries were listed"))?;
                }
                self.push(DirHandle::new(fd), st, Vec::new(), listing)
            }
            None => {
                self.stats.dirs_not_entered += 1;
                Ok(())
            }
        }
    }

    fn run(&mut self) -> Result<(), RootError> {
        loop {
            let Some(top) = self.levels.last_mut() else {
                return Ok(());
            };
            let Some(name) = top.names.get(top.next).map(<[u8]>::to_vec) else {
                self.pop();
                continue;
            };
            top.next += 1;
            self.held = self.held.saturating_sub(1);
            let path_len = top.path_len;
            if self.stats.entries >= self.opts.max_entries {
                self.stats.entry_limit_reached = true;
                self.path.truncate(path_len);
                let reason = format!(
                    "entry limit of {} reached: the walk stopped here",
                    self.opts.max_entries
                );
                return self.skip(reason);
            }
            let dir = match self.top_fd() {
                Ok(dir) => dir,
                Err(reason) => {
                    self.path.truncate(path_len);
                    self.pop();
                    self.skip(format!("{reason}; the rest of this directory was not listed"))?;
                    continue;
                }
            };
            self.path.truncate(path_len);
            if path_len > 0 {
                self.path.push(b'/');
            }
            self.path.extend_from_slice(&name);
            self.examine(&dir, &name)?;
        }
    }

    /// Examines one entry of `dir` (whose path is in `self.path`), reports it, and pushes its
    /// listing if it is a directory to enter.
    fn examine(&mut self, dir: &DirHandle, name: &[u8]) -> Result<(), RootError> {
        let st = match sys::lstat_at(dir.as_fd(), name) {
            Ok(st) => st,
            Err(e) => return self.skip(sys::reason(&e)),
        };
        let depth = self.levels.len();
        let target = if st.file_type() == FileType::Symlink {
            sys::read_link_at(dir.as_fd(), name)
                .ok()
                .map(|t| RawPath::from_bytes(&t))
        } else {
            None
        };
        let (descent, child) = if st.is_dir() {
            self.descent(dir, name, &st, depth)
        } else {
            (Descent::NotADirectory, None)
        };
        let xattrs = match (self.opts.xattrs, &child) {
            (XattrPolicy::None, _) => None,
            (XattrPolicy::NotRegularFiles, _) if st.is_file() => None,
            (_, Some((fd, _, _))) => sys::fd_xattrs(fd.as_fd()),
            _ => sys::at_xattrs(dir.as_fd(), name),
        };
        let Some(meta) = st.to_meta(target, xattrs) else {
            return self.skip(format!("unknown file type (mode {:o})", st.mode));
        };
        if st.is_dir() {
            if descent == Descent::Entered {
                self.stats.dirs_entered += 1;
            } else {
                self.stats.dirs_not_entered += 1;
            }
        }
        let entry = Entry {
            path: self.path.clone(),
            meta,
            dev: st.dev,
            rdev: st.rdev,
            blocks: st.blocks,
            depth,
            descent,
        };
        self.stats.entries += 1;
        (self.visit)(Visit::Entry(entry, Some(dir)))?;
        if let Some((fd, listing, more)) = child {
            if more {
                self.stats.entry_limit_reached = true;
                let n = listing.len();
                self.skip(format!("entry limit: only {n} of its entries were listed"))?;
            }
            self.push(DirHandle::new(fd), &st, name.to_vec(), listing)?;
        }
        Ok(())
    }

    /// Decides whether to enter the directory `name` and, if so, opens and lists it.
    fn descent(
        &mut self,
        dir: &DirHandle,
        name: &[u8],
        st: &Lstat,
        depth: usize,
    ) -> (Descent, Option<(OwnedFd, NameList, bool)>) {
        if self.opts.one_filesystem && st.dev != self.start_dev {
            return (Descent::OtherFilesystem, None);
        }
        if depth >= self.opts.max_depth {
            self.stats.depth_limit_reached = true;
            return (Descent::DepthLimit, None);
        }
        let fd = match sys::open_dir_at(dir.as_fd(), name) {
            Ok(fd) => fd,
            Err(e) => return (Descent::Failed(sys::reason(&e)), None),
        };
        match sys::fstat(fd.as_fd()) {
            Ok(now) if now.same_inode(st) => {}
            Ok(_) => {
                return (
                    Descent::Failed("replaced by another directory after it was listed".into()),
                    None,
                );
            }
            Err(e) => return (Descent::Failed(sys::reason(&e)), None),
        }
        if let Some(fs) = self.excluded_fs(fd.as_fd(), st.dev) {
            return (Descent::PseudoFilesystem(fs), None);
        }
        let cap = self
            .opts
            .max_entries
            .saturating_sub(self.stats.entries.saturating_add(1))
            .saturating_sub(self.held);
        match sys::read_names(fd.as_fd(), cap) {
            Ok((listing, more)) => (Descent::Entered, Some((fd, listing, more))),
            Err(e) => (Descent::Failed(sys::reason(&e)), None),
        }
    }

    /// The name of the filesystem of `fd` (whose `st_dev` is `dev`) if it is not to be entered:
    /// a pseudo filesystem, or a FUSE mount other than the start's (its server may be the
    /// attacker's and never answer).
    fn excluded_fs(&self, fd: BorrowedFd<'_>, dev: u64) -> Option<&'static str> {
        if !self.opts.skip_pseudo_filesystems {
            return None;
        }
        let magic = sys::fs_magic(fd).ok()?;
        if magic == sys::FUSE_MAGIC && dev != self.start_dev {
            return Some("fuse");
        }
        sys::pseudo_fs_name(magic)
    }

    fn push(&mut self, fd: DirHandle, st: &Lstat, name: Vec<u8>, names: NameList) -> Result<(), RootError> {
        self.held = self.held.saturating_add(names.len() as u64);
        self.levels.push(Level {
            fd: Some(fd),
            dev: st.dev,
            ino: st.ino,
            name,
            path_len: self.path.len(),
            names,
            next: 0,
        });
        self.opened(self.levels.len().saturating_sub(1));
        Ok(())
    }

    fn pop(&mut self) {
        if let Some(level) = self.levels.pop() {
            self.held = self.held.saturating_sub(level.remaining());
            if level.fd.is_some() {
                self.open = self.open.saturating_sub(1);
            }
        }
    }

    /// Closes the shallowest open descriptors (never the start's, never those of level `keep` and
    /// deeper) until at most `budget` are open.
    fn enforce_budget(&mut self, keep: usize) {
        let mut i = 1;
        while self.open > self.budget && i < keep {
            if self.levels.get_mut(i).and_then(|l| l.fd.take()).is_some() {
                self.open -= 1;
            }
            i += 1;
        }
    }

    /// Counts one more open descriptor at level `level`, closing shallower ones over the budget.
    fn opened(&mut self, level: usize) {
        self.open += 1;
        self.enforce_budget(level);
        self.stats.peak_open_dirs = self.stats.peak_open_dirs.max(self.open);
    }

    /// The deepest level's descriptor, reopened from the nearest open ancestor if the budget
    /// closed it. Each reopened directory must be the inode first listed.
    fn top_fd(&mut self) -> Result<DirHandle, String> {
        let top = self.levels.len().saturating_sub(1);
        if let Some(fd) = self.levels.get(top).and_then(|l| l.fd.clone()) {
            return Ok(fd);
        }
        let from = (0..top)
            .rev()
            .find(|&k| self.levels.get(k).is_some_and(|l| l.fd.is_some()))
            .unwrap_or(0);
        let mut parent = self
            .levels
            .get(from)
            .and_then(|l| l.fd.clone())
            .ok_or("the walk lost its start directory")?;
        for k in from + 1..=top {
            let Some(level) = self.levels.get_mut(k) else { break };
            let fd = sys::open_dir_at(parent.as_fd(), &level.name)
                .map_err(|e| format!("could not reopen {}: {}", display_path(&level.name), sys::reason(&e)))?;
            match sys::fstat(fd.as_fd()) {
                Ok(now) if now.dev == level.dev && now.ino == level.ino => {}
                _ => return Err("replaced by another directory while it was being walked".into()),
            }
            let handle = DirHandle::new(fd);
            level.fd = Some(handle.clone());
            parent = handle;
            self.stats.reopened_dirs += 1;
            self.opened(k);
        }
        Ok(parent)
    }

    /// Reports a skip at `self.path`.
    fn skip(&mut self, reason: String) -> Result<(), RootError> {
        self.stats.skipped += 1;
        let s = Skipped {
            path: self.path.clone(),
            reason,
        };
        (self.visit)(Visit::Skipped(&s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use forensic_bundle::manifest::FileKind;
    use rustix::fs::Mode;
    use std::os::unix::ffi::OsStrExt;

    fn collect(root: &RootFs, start: &[u8], opts: &WalkOptions) -> (Vec<Entry>, Vec<Skipped>, WalkStats) {
        let (mut entries, mut skipped) = (Vec::new(), Vec::new());
        let stats = walk(root, start, opts, &mut |v| {
            match v {
                Visit::Entry(e, _) => entries.push(e),
                Visit::Skipped(s) => skipped.push(s.clone()),
            }
            Ok(())
        })
        .unwrap();
        (entries, skipped, stats)
    }

    fn paths(entries: &[Entry]) -> Vec<String> {
        entries.iter().map(|e| display_path(&e.path)).collect()
    }

    #[test]
    fn hostile_entries_are_described_not_followed() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), b"S").unwrap();
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        std::fs::create_dir(r.join("d")).unwrap();
        std::fs::write(r.join("d/f"), b"x").unwrap();
        std::os::unix::fs::symlink(outside.path(), r.join("d/out")).unwrap();
        std::os::unix::fs::symlink("b", r.join("a")).unwrap();
        std::os::unix::fs::symlink("a", r.join("b")).unwrap();
        std::os::unix::fs::symlink("../../..", r.join("up")).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            r.join("p"),
            FileType::Fifo,
            Mode::from_raw_mode(0o644),
            0,
        )
        .unwrap();
        std::fs::write(r.join(std::ffi::OsStr::from_bytes(b"n\nl")), b"").unwrap();
        std::fs::write(r.join(std::ffi::OsStr::from_bytes(b"bad\xff")), b"").unwrap();
        let root = RootFs::open(r).unwrap();
        let (entries, skipped, stats) = collect(&root, b"", &WalkOptions::default());
        assert_eq!(
            paths(&entries),
            ["", "a", "b", "bad\\xff", "d", "d/f", "d/out", "n\\nl", "p", "up"]
        );
        assert!(skipped.is_empty(), "{skipped:?}");
        assert_eq!((stats.entries, stats.dirs_entered), (10, 2));
        let by = |p: &[u8]| entries.iter().find(|e| e.path == p).unwrap();
        assert_eq!(by(b"d/out").meta.kind, FileKind::Symlink);
        assert_eq!(by(b"d/out").descent, Descent::NotADirectory);
        assert_eq!(by(b"up").meta.symlink_target, Some(RawPath::from("../../..")));
        assert_eq!(by(b"p").meta.kind, FileKind::Fifo);
        assert_eq!(by(b"d").descent, Descent::Entered);
        assert_eq!(by(b"d/f").depth, 2);
        assert_eq!(by(b"d/f").name(), b"f");
        assert!(!entries.iter().any(|e| e.path.ends_with(b"secret")));
    }

    #[test]
    fn deep_trees_stay_within_the_descriptor_budget() {
        let t = tempfile::tempdir().unwrap();
        let mut p = t.path().to_path_buf();
        for i in 0..300 {
            p.push("d");
            std::fs::create_dir(&p).unwrap();
            // Siblings after the subdirectory force reopening closed ancestors on the way back up.
            if i % 50 == 0 {
                std::fs::write(p.with_file_name("z"), b"").unwrap();
            }
        }
        let root = RootFs::open(t.path()).unwrap();
        let opts = WalkOptions {
            max_open_dirs: 8,
            ..WalkOptions::default()
        };
        let (entries, skipped, stats) = collect(&root, b"", &opts);
        assert!(skipped.is_empty());
        assert_eq!(entries.len(), 1 + 300 + 6);
        assert!(stats.peak_open_dirs <= 8, "{stats:?}");
        assert!(stats.reopened_dirs > 0);
        let zs = entries.iter().filter(|e| e.name() == b"z").count();
        assert_eq!(zs, 6);
        // A lower depth limit reports the directory at the limit without entering it.
        let opts = WalkOptions {
            max_depth: 10,
            ..WalkOptions::default()
        };
        let (entries, _, stats) = collect(&root, b"", &opts);
        assert!(stats.depth_limit_reached);
        let last = entries.iter().max_by_key(|e| e.depth).unwrap();
        assert_eq!((last.depth, &last.descent), (10, &Descent::DepthLimit));
    }

    #[test]
    fn the_entry_limit_stops_the_walk_without_failing() {
        let t = tempfile::tempdir().unwrap();
        for i in 0..50 {
            std::fs::write(t.path().join(format!("f{i:02}")), b"").unwrap();
        }
        let root = RootFs::open(t.path()).unwrap();
        let opts = WalkOptions {
            max_entries: 10,
            ..WalkOptions::default()
        };
        let (entries, skipped, stats) = collect(&root, b"", &opts);
        assert!(stats.entry_limit_reached);
        assert!(entries.len() <= 10);
        assert!(skipped.iter().any(|s| s.reason.contains("entry limit")));
    }

    #[test]
    fn pseudo_and_other_filesystems_are_not_entered() {
        let host = RootFs::open(std::path::Path::new("/")).unwrap();
        let (entries, _, _) = collect(&host, b"proc", &WalkOptions::default());
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].descent, Descent::PseudoFilesystem("proc"));
        let opts = WalkOptions {
            one_filesystem: true,
            max_depth: 1,
            ..WalkOptions::default()
        };
        let (entries, _, _) = collect(&host, b"", &opts);
        let proc_ = entries.iter().find(|e| e.path == b"proc").unwrap();
        assert_eq!(proc_.descent, Descent::OtherFilesystem);
    }

    #[test]
    fn vanished_entries_are_skipped_with_a_reason() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("a"), b"").unwrap();
        std::fs::write(t.path().join("b"), b"").unwrap();
        let root = RootFs::open(t.path()).unwrap();
        let gone = t.path().join("b");
        let mut skipped = Vec::new();
        walk(&root, b"", &WalkOptions::default(), &mut |v| {
            match v {
                Visit::Entry(e, _) if e.path == b"a" => std::fs::remove_file(&gone).unwrap(),
                Visit::Skipped(s) => skipped.push(s.clone()),
                _ => {}
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(
            skipped,
            [Skipped {
                path: b"b".to_vec(),
                reason: "vanished after it was listed".into()
            }]
        );
    }
}
