//! Copying files of the container into the evidence sink: whole directories ([`copy_tree`]) and
//! single files ([`copy_file`]), never following a symlink and never opening anything but a
//! regular file.

use crate::rootfs::error::{RootError, display_path};
use crate::rootfs::mounts::is_under_any;
use crate::rootfs::root::RootFs;
use crate::rootfs::walk::{self, Descent, DirHandle, Entry, Visit, WalkOptions};
use crate::sink::{NewMember, Sink, Written};
use forensic_bundle::manifest::{FileKind, RawPath, Source};
use rustix::fd::AsFd;
use std::io::{self, Read};

/// How to copy.
#[derive(Debug, Clone)]
pub struct CopyOptions {
    /// Keep at most this many bytes of each file; the member is marked truncated past it.
    pub max_file_size: Option<u64>,
    /// Copy at most this many files per call; the rest is one gap.
    pub max_files: u64,
    /// Store at most this many bytes per call (the last file is truncated to fit).
    pub max_total_bytes: u64,
    /// The walk of directories: by default crossing into other filesystems (`/dev/shm` and `/run`
    /// are usually tmpfs mounts) but not into pseudo filesystems (proc, sysfs, cgroup, …).
    pub walk: WalkOptions,
    /// Directories (relative to the root, no leading `/`) whose files are never copied: the
    /// credential volumes without `--include-secrets` (their index lines say `withheld`).
    pub withheld: Vec<Vec<u8>>,
}

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions {
            max_file_size: Some(64 << 20),
            max_files: 100_000,
            max_total_bytes: 4 << 30,
            walk: WalkOptions::default(),
            withheld: Vec::new(),
        }
    }
}

/// What a copy did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyStats {
    /// Regular files stored as members.
    pub files: u64,
    /// Symlinks stored as empty members (their target is in the member's metadata).
    pub symlinks: u64,
    /// Bytes stored.
    pub bytes: u64,
    /// Files stored truncated (larger than `max_file_size` or the remaining byte budget).
    pub truncated: u64,
    /// Files that looked sparse (fewer blocks allocated than their size); copied all the same.
    pub sparse: u64,
    /// Gaps recorded (FIFOs, sockets, devices, unreadable or vanished entries, limits).
    pub gaps: u64,
    /// `max_files` or `max_total_bytes` stopped the copy.
    pub limit_reached: bool,
}

impl CopyStats {
    /// Adds the counts of `other`.
    pub fn add(&mut self, other: &CopyStats) {
        self.files += other.files;
        self.symlinks += other.symlinks;
        self.bytes += other.bytes;
        self.truncated += other.truncated;
        self.sparse += other.sparse;
        self.gaps += other.gaps;
        self.limit_reached |= other.limit_reached;
    }
}

/// Copies every regular file and symlink under the directory `rel_dir` into `sink`, each as the
/// member `prefix` + its path below `rel_dir` (each component escaped with [`escape_segment`]),
/// with its original path inside the container as [`Source::Path`] and its metadata.
///
/// Symlinks become empty members whose metadata records the target. FIFOs, sockets and device
/// nodes become gaps (not opened). Pseudo filesystems are not entered (a gap says so); other
/// mounts (tmpfs at `/dev/shm`, `/run`) are. Sparse files are streamed like any other; the size
/// cap bounds them. A `rel_dir` that does not exist is skipped silently; one that is a symlink,
/// or cannot be read, is a gap.
///
/// # Errors
/// Only when the sink fails to store a member (the bundle cannot be written). Everything that
/// goes wrong on the container's side is a gap.
///
/// ```no_run
/// use forensic_collect::rootfs::{RootFs, copy::{copy_tree, CopyOptions}};
/// use forensic_collect::sink::Sink;
/// # fn example(sink: &mut dyn Sink) -> Result<(), Box<dyn std::error::Error>> {
/// let root = RootFs::open("/proc/4242/root".as_ref())?;
/// let stats = copy_tree(&root, b"tmp", "files/tmp/", sink, &CopyOptions::default())?;
/// println!("{} files, {} gaps", stats.files, stats.gaps);
/// # Ok(()) }
/// ```
pub fn copy_tree(
    root: &RootFs,
    rel_dir: &[u8],
    prefix: &str,
    sink: &mut dyn Sink,
    opts: &CopyOptions,
) -> Result<CopyStats, RootError> {
    let mut c = Copier::new(sink, opts);
    let base = crate::rootfs::json::absolute(rel_dir);
    let prefix = normalized(prefix);
    let walked = walk::walk(root, rel_dir, &opts.walk, &mut |v| match v {
        Visit::Entry(e, _) if is_under_any(&joined(trim_slashes(rel_dir), &e.path), &opts.withheld) => Ok(()),
        Visit::Entry(e, dir) => {
            let original = joined(&base, &e.path);
            match (&e.descent, dir) {
                (Descent::NotADirectory, Some(dir)) => {
                    let name = forensic_evidence::paths::copy_member(&prefix, &e.path, &original);
                    c.entry(dir, &e, name, RawPath::from_bytes(&original)).map(|_| ())
                }
                (Descent::Entered | Descent::NotADirectory, _) => Ok(()),
                (Descent::PseudoFilesystem(fs), _) => c.gap(&original, format!("{fs} filesystem: not copied")),
                (Descent::OtherFilesystem, _) => c.gap(&original, "another filesystem: not copied".into()),
                (Descent::DepthLimit, _) => c.gap(&original, "depth limit: the directory was not entered".into()),
                (Descent::Failed(why), _) => c.gap(&original, format!("directory not read: {why}")),
            }
        }
        Visit::Skipped(s) => c.gap(&joined(&base, &s.path), s.reason.clone()),
    });
    match walked {
        Ok(_) => {}
        Err(RootError::NotFound { .. }) => {}
        Err(e @ (RootError::Symlink { .. } | RootError::Io { .. } | RootError::BadPath { .. })) => {
            c.gap(&base, format!("not copied: {e}"))?;
        }
        Err(e) => return Err(e),
    }
    Ok(c.stats)
}

/// Copies the single file `rel_path` into `sink` as the member `member_name` (a regular file with
/// its content, a symlink as an empty member with its target in the metadata).
///
/// Returns `Ok(false)` without a gap when it does not exist; `Ok(false)` with a gap when it is
/// not a regular file or symlink, when a directory on the way is a symlink (not followed), or when
/// it cannot be read; `Ok(true)` when a member was written.
///
/// # Errors
/// Only when the sink fails to store the member.
pub fn copy_file(
    root: &RootFs,
    rel_path: &[u8],
    member_name: &str,
    sink: &mut dyn Sink,
    opts: &CopyOptions,
) -> Result<bool, RootError> {
    let mut c = Copier::new(sink, opts);
    copy_one(root, rel_path, member_name.to_string(), &mut c)
}

/// [`copy_file`] with a shared [`Copier`] (shared limits and counts).
pub(crate) fn copy_one(root: &RootFs, rel_path: &[u8], name: String, c: &mut Copier<'_>) -> Result<bool, RootError> {
    if is_under_any(trim_slashes(rel_path), &c.opts.withheld) {
        return Ok(false);
    }
    let original = crate::rootfs::json::absolute(rel_path);
    let parent = match root.open_parent(rel_path) {
        Ok(p) => p,
        Err(RootError::NotFound { .. }) => return Ok(false),
        Err(e) => {
            c.gap(&original, format!("not copied: {e}"))?;
            return Ok(false);
        }
    };
    if parent.leaf.is_empty() {
        c.gap(&original, "the container root is a directory, not a file".into())?;
        return Ok(false);
    }
    let entry = match crate::rootfs::entry::describe(parent.dir.as_fd(), parent.leaf, parent.leaf.to_vec()) {
        Ok(e) => e,
        Err(e) if crate::rootfs::sys::errno(&e) == Some(rustix::io::Errno::NOENT) => return Ok(false),
        Err(e) => {
            c.gap(&original, format!("not copied: {}", crate::rootfs::sys::reason(&e)))?;
            return Ok(false);
        }
    };
    if entry.meta.kind == FileKind::Dir {
        c.gap(&original, "a directory where a file was expected: not copied".into())?;
        return Ok(false);
    }
    let dir = DirHandle::new(parent.dir);
    Ok(c.entry(&dir, &entry, name, RawPath::from_bytes(&original))?.is_some())
}

/// Copies entries into a sink under shared limits, counting what it does.
pub(crate) struct Copier<'s> {
    sink: &'s mut dyn Sink,
    opts: &'s CopyOptions,
    pub stats: CopyStats,
}

impl<'s> Copier<'s> {
    pub fn new(sink: &'s mut dyn Sink, opts: &'s CopyOptions) -> Copier<'s> {
        Copier {
            sink,
            opts,
            stats: CopyStats::default(),
        }
    }

    /// Records a gap for the container path `original`.
    pub fn gap(&mut self, original: &[u8], reason: String) -> Result<(), RootError> {
        self.stats.gaps += 1;
        self.sink.gap(display_path(original), reason);
        Ok(())
    }

    /// Stores one non-directory entry of `dir` as the member `name`; `Ok(None)` when it became a
    /// gap instead.
    pub fn entry(
        &mut self,
        dir: &DirHandle,
        e: &Entry,
        name: String,
        source: RawPath,
    ) -> Result<Option<Written>, RootError> {
        let original: Vec<u8> = match &source {
            RawPath::Text(s) => s.as_bytes().to_vec(),
            RawPath::Bytes(b) => b.clone(),
        };
        match e.meta.kind {
            FileKind::File => self.file(dir, e, name, source, &original),
            FileKind::Symlink if self.limit_hit(&original, false)? => Ok(None),
            FileKind::Symlink => {
                let m = NewMember {
                    name: name.clone(),
                    source: Source::path(source),
                    meta: Some(e.meta.clone()),
                    max_len: None,
                    size_hint: Some(0),
                };
                let w = self
                    .sink
                    .member(m, &mut io::empty())
                    .map_err(|err| RootError::output(name, err))?;
                self.stats.symlinks += 1;
                Ok(Some(w))
            }
            FileKind::Dir => Ok(None),
            FileKind::Fifo => self.gap(&original, "named pipe: not opened".into()).map(|_| None),
            FileKind::Socket => self.gap(&original, "socket: not opened".into()).map(|_| None),
            FileKind::Char => {
                let why = format!("character device {}: not opened", crate::rootfs::json::device(e.rdev));
                self.gap(&original, why).map(|_| None)
            }
            FileKind::Block => {
                let why = format!("block device {}: not opened", crate::rootfs::json::device(e.rdev));
                self.gap(&original, why).map(|_| None)
            }
        }
    }

    /// Whether a limit stops the copy before this entry (recording one gap, the first time): the
    /// file count, the byte budget (for a regular file), or the bundle's member limit.
    fn limit_hit(&mut self, original: &[u8], needs_bytes: bool) -> Result<bool, RootError> {
        let room = self.sink.room();
        let no_bytes = needs_bytes && self.stats.bytes >= self.opts.max_total_bytes;
        if self.stats.files + self.stats.symlinks < self.opts.max_files && !no_bytes && room > 0 {
            return Ok(false);
        }
        if !self.stats.limit_reached {
            self.stats.limit_reached = true;
            let why = if room == 0 {
                "the bundle's member limit (SPEC §10) is reached: this and later files were not copied \
                 (the full-tree index lists them with their SHA-256)"
                    .to_string()
            } else {
                format!(
                    "copy limit reached ({} files, {} bytes): this and later files were not copied",
                    self.opts.max_files, self.opts.max_total_bytes
                )
            };
            self.gap(original, why)?;
        }
        Ok(true)
    }

    fn file(
        &mut self,
        dir: &DirHandle,
        e: &Entry,
        name: String,
        source: RawPath,
        original: &[u8],
    ) -> Result<Option<Written>, RootError> {
        if self.limit_hit(original, true)? {
            return Ok(None);
        }
        let remaining = self.opts.max_total_bytes.saturating_sub(self.stats.bytes);
        let (file, opened) = match dir.open_listed(e) {
            Ok(f) => f,
            Err(err) => {
                let why = match err {
                    RootError::NotFound { .. } => "vanished after it was listed".to_string(),
                    RootError::Replaced { .. } => {
                        "replaced after it was listed (by a symlink or another file): not read".to_string()
                    }
                    RootError::Io { source, .. } => crate::rootfs::sys::reason(&source),
                    other => other.to_string(),
                };
                self.gap(original, why)?;
                return Ok(None);
            }
        };
        if e.looks_sparse() {
            self.stats.sparse += 1;
        }
        let mut meta = e.meta.clone();
        if meta.xattrs.is_none() {
            meta.xattrs = crate::rootfs::sys::fd_xattrs(file.as_fd());
        }
        let max_len = Some(self.opts.max_file_size.unwrap_or(u64::MAX).min(remaining));
        let m = NewMember {
            name: name.clone(),
            source: Source::path(source),
            meta: Some(meta),
            max_len,
            size_hint: Some(opened.size),
        };
        let mut reader = Recorded {
            inner: file,
            error: None,
        };
        match self.sink.member(m, &mut reader) {
            Ok(w) => {
                self.stats.files += 1;
                self.stats.bytes += w.size;
                if w.truncated {
                    self.stats.truncated += 1;
                }
                Ok(Some(w))
            }
            Err(err) => match reader.error {
                Some(read) => {
                    self.gap(original, format!("read error: {read}; not stored"))?;
                    Ok(None)
                }
                None => Err(RootError::output(name, err)),
            },
        }
    }
}

/// A reader that keeps its first read error, so that a failure reading evidence can be told
/// apart from a failure writing the bundle.
struct Recorded<R> {
    inner: R,
    error: Option<io::Error>,
}

impl<R: Read> Read for Recorded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Err(e) if e.kind() != io::ErrorKind::Interrupted => {
                let copy = io::Error::new(e.kind(), e.to_string());
                self.error = Some(e);
                Err(copy)
            }
            other => other,
        }
    }
}

/// `prefix` ending in `/` (or empty).
pub(crate) fn normalized(prefix: &str) -> String {
    let p = prefix.trim_matches('/');
    if p.is_empty() { String::new() } else { format!("{p}/") }
}

/// `p` without leading slashes.
fn trim_slashes(p: &[u8]) -> &[u8] {
    let start = p.iter().position(|&b| b != b'/').unwrap_or(p.len());
    p.get(start..).unwrap_or_default()
}

/// `base` + `/` + `rel` (or `base` for an empty `rel`).
pub(crate) fn joined(base: &[u8], rel: &[u8]) -> Vec<u8> {
    let mut p = base.to_vec();
    if !rel.is_empty() {
        if p.last() != Some(&b'/') {
            p.push(b'/');
        }
        p.extend_from_slice(rel);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::MemorySink;

    #[test]
    fn prefixes_and_joins() {
        assert_eq!(normalized("/files/tmp"), "files/tmp/");
        assert_eq!(normalized(""), "");
        assert_eq!(joined(b"/tmp", b"a"), b"/tmp/a");
        assert_eq!(joined(b"/", b"a"), b"/a");
        assert_eq!(joined(b"/tmp", b""), b"/tmp");
    }

    #[test]
    fn files_symlinks_and_specials() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        std::fs::create_dir_all(r.join("tmp/sub")).unwrap();
        std::fs::write(r.join("tmp/sub/x"), b"payload").unwrap();
        std::os::unix::fs::symlink("/etc/shadow", r.join("tmp/l")).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            r.join("tmp/p"),
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let root = RootFs::open(r).unwrap();
        let mut sink = MemorySink::default();
        let stats = copy_tree(&root, b"tmp", "files/tmp", &mut sink, &CopyOptions::default()).unwrap();
        assert_eq!((stats.files, stats.symlinks, stats.gaps), (1, 1, 1));
        assert_eq!(sink.content("files/tmp/sub/x"), Some(&b"payload"[..]));
        let (m, content, _) = sink.members.iter().find(|(m, _, _)| m.name == "files/tmp/l").unwrap();
        assert!(content.is_empty());
        assert_eq!(
            m.meta.as_ref().unwrap().symlink_target,
            Some(RawPath::from("/etc/shadow"))
        );
        assert_eq!(m.source, Source::path(RawPath::from("/tmp/l")));
        assert_eq!(
            sink.gaps,
            [("/tmp/p".to_string(), "named pipe: not opened".to_string())]
        );
        // Missing directories are skipped silently; a symlinked one is a gap.
        assert_eq!(
            copy_tree(&root, b"nothing", "x", &mut sink, &CopyOptions::default()).unwrap(),
            CopyStats::default()
        );
        std::os::unix::fs::symlink("/etc", r.join("etc-link")).unwrap();
        let s = copy_tree(&root, b"etc-link", "x", &mut sink, &CopyOptions::default()).unwrap();
        assert_eq!(s.gaps, 1);
        assert!(sink.gaps.last().unwrap().1.contains("symlink"));
    }

    #[test]
    fn single_files_and_limits() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        std::fs::create_dir_all(r.join("etc")).unwrap();
        std::fs::write(r.join("etc/passwd"), b"root:x:0:0\n").unwrap();
        std::os::unix::fs::symlink("/etc", r.join("root")).unwrap();
        let root = RootFs::open(r).unwrap();
        let mut sink = MemorySink::default();
        let opts = CopyOptions::default();
        assert!(copy_file(&root, b"/etc/passwd", "files/etc/passwd", &mut sink, &opts).unwrap());
        assert!(!copy_file(&root, b"/etc/shadow", "files/etc/shadow", &mut sink, &opts).unwrap());
        assert!(sink.gaps.is_empty(), "a missing file is not a gap");
        assert!(!copy_file(&root, b"/root/.bash_history", "h", &mut sink, &opts).unwrap());
        assert_eq!(sink.gaps.len(), 1, "a path through a symlink is a gap");
        assert!(!copy_file(&root, b"/etc", "e", &mut sink, &opts).unwrap());
        let opts = CopyOptions {
            max_files: 0,
            ..CopyOptions::default()
        };
        let mut sink = MemorySink::default();
        let s = copy_tree(&root, b"etc", "f", &mut sink, &opts).unwrap();
        assert!(s.limit_reached);
        assert!(sink.members.is_empty());
    }

    #[test]
    fn the_bundles_member_limit_stops_copies_of_files_and_symlinks_with_one_gap() {
        let t = tempfile::tempdir().unwrap();
        for i in 0..5 {
            std::fs::write(t.path().join(format!("f{i}")), b"x").unwrap();
            std::os::unix::fs::symlink("f0", t.path().join(format!("l{i}"))).unwrap();
        }
        let root = RootFs::open(t.path()).unwrap();
        let mut sink = MemorySink {
            room: Some(6),
            ..MemorySink::default()
        };
        let s = copy_tree(&root, b"", "f/", &mut sink, &CopyOptions::default()).unwrap();
        assert_eq!(sink.members.len(), 6);
        assert_eq!(s.files + s.symlinks, 6);
        assert!(s.limit_reached);
        assert_eq!(sink.gaps.len(), 1, "{:?}", sink.gaps);
        assert!(sink.gaps[0].1.contains("member limit"), "{:?}", sink.gaps);
    }

    #[test]
    fn a_sink_failure_stops_the_copy() {
        struct Full;
        impl Sink for Full {
            fn member(&mut self, _: NewMember, _: &mut dyn Read) -> io::Result<Written> {
                Err(io::Error::other("disk full"))
            }
            fn gap(&mut self, _: String, _: String) {}
        }
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("f"), b"x").unwrap();
        let root = RootFs::open(t.path()).unwrap();
        let e = copy_tree(&root, b"", "f", &mut Full, &CopyOptions::default()).unwrap_err();
        assert!(matches!(e, RootError::Output { .. }), "{e}");
    }
}
