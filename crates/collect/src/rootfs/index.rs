//! The full-tree index: one JSON line per entry of the container's root filesystem, with the
//! SHA-256 of every regular file, hashed in parallel while the walk goes on.
//!
//! Line format (one object per line, in walk order):
//!
//! ```text
//! {"path":"/etc/passwd","type":"file","mode":"0644","uid":0,"gid":0,"size":1024,
//!  "mtime_ns":…,"ctime_ns":…,"inode":…,"nlink":1,"symlink_target":null,"xattrs":null,
//!  "sha256":"…"}
//! ```
//!
//! - `path` (and `symlink_target`, and xattr values) is a string when the bytes are UTF-8,
//!   otherwise `{"bytes_hex": "…"}`.
//! - `type` is a SPEC §6 file type, or `"mountpoint-skipped"` for a directory on another
//!   filesystem (or a pseudo filesystem) that was not entered, or `"skipped"` for an entry that
//!   could not be examined (with `error`).
//! - `sha256` is set for regular files only; it covers the first `size` bytes as `fstat` showed
//!   them when the file was opened. It is `null` with an `error` when the file could not be read.
//! - `rdev` (`"major:minor"`) is added for device nodes, `note` for directories not entered.

use crate::rootfs::error::RootError;
use crate::rootfs::json;
use crate::rootfs::known::{Identity, Known, KnownDigests};
use crate::rootfs::mounts::{MountMap, withheld_reason};
use crate::rootfs::root::RootFs;
use crate::rootfs::sys;
use crate::rootfs::tarsplit::{Checked, Crc64Iso, LayerSums};
use crate::rootfs::walk::{self, Descent, DirHandle, Entry, Skipped, Visit, WalkOptions, WalkStats, XattrPolicy};
use forensic_bundle::manifest::{FileKind, Xattr};
use forensic_evidence::RawBytes;
use forensic_evidence::records::tree::{LayerChecksum, TreeEntry};
use forensic_evidence::records::{EntryType, Mode};
use rustix::fd::AsFd;
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex, mpsc};

/// How to index.
#[derive(Debug, Clone)]
pub struct IndexOptions {
    /// The walk: by default on the root filesystem only, extended attributes of regular files
    /// read from the opened file by the hashing workers.
    pub walk: WalkOptions,
    /// Regular files per batch handed to the hashing workers.
    pub batch_files: usize,
    /// Files larger than this are listed but not hashed (`sha256` null, with an `error`): a sparse
    /// file can claim terabytes. `None`: no limit.
    pub max_hash_size: Option<u64>,
    /// How many skip records [`IndexStats::skipped_list`] keeps (all are counted and written).
    pub max_skipped_kept: usize,
    /// A lower layer's index: check every regular file against the node's record of the layer
    /// (`layer_checksum` on its line; the CRC-64 is computed from the same bytes as the SHA-256).
    pub layer: Option<LayerCheck>,
    /// The container's mounts: each line of an entry not on the root filesystem names its mount
    /// (`mount`, `mount_kind`), credential files are marked `withheld`, and the walk may start
    /// at a mount point ([`MountScope::base`]).
    pub mounts: Option<MountScope>,
    /// Digests shared with another index of the same collection, so that each file is hashed
    /// once (see [`crate::rootfs::known`]).
    pub digests: Option<SharedDigests>,
}

/// How an index shares digests with another index of the same collection.
#[derive(Debug, Clone)]
pub enum SharedDigests {
    /// Remember the digest of every regular file read (the merged tree index).
    Record(Arc<KnownDigests>),
    /// Take a file's digest from the record when its identity is there, instead of reading it
    /// (a lower layer's index).
    Reuse(Arc<KnownDigests>),
}

/// Which mounts the lines belong to, and where this walk starts.
#[derive(Debug, Clone)]
pub struct MountScope {
    /// The container's mounts.
    pub map: Arc<MountMap>,
    /// The walk's start relative to the container's root (a mount point, no leading `/`; empty
    /// for the root). Lines are written with the start's path before the walked path; a walk
    /// that starts below the root writes no line for its start (its parent's walk has one).
    pub base: Vec<u8>,
}

/// How a lower layer's files are checked.
#[derive(Debug, Clone)]
pub enum LayerCheck {
    /// Against this record.
    Against(Arc<LayerSums>),
    /// No record: every regular file is `unknown`.
    Unavailable,
}

impl Default for IndexOptions {
    fn default() -> Self {
        IndexOptions {
            walk: WalkOptions {
                one_filesystem: true,
                xattrs: XattrPolicy::NotRegularFiles,
                ..WalkOptions::default()
            },
            batch_files: 256,
            max_hash_size: Some(4 << 30),
            max_skipped_kept: 1000,
            layer: None,
            mounts: None,
            digests: None,
        }
    }
}

/// What an index run did.
#[derive(Debug, Clone, Default)]
pub struct IndexStats {
    /// Lines written for entries (not counting skip lines).
    pub entries: u64,
    /// Regular files hashed.
    pub files_hashed: u64,
    /// Bytes hashed (including those of files whose digest was reused).
    pub bytes_hashed: u64,
    /// Regular files whose digest was taken from [`SharedDigests::Reuse`] instead of reading them
    /// (counted in `files_hashed` too).
    pub files_reused: u64,
    /// Regular files listed but not hashed (unreadable, replaced, over the size limit).
    pub files_not_hashed: u64,
    /// Directories on other (or pseudo) filesystems that were not entered.
    pub mountpoints_skipped: u64,
    /// Entries that could not be examined or read, and parts of the tree not listed.
    pub skipped: u64,
    /// The first `max_skipped_kept` of them, with the reason.
    pub skipped_list: Vec<Skipped>,
    /// The walk's own counts.
    pub walk: WalkStats,
    /// Lower layers: regular files whose `layer_checksum` is `differs` (paths relative to the
    /// root), in walk order.
    pub layer_differs: Vec<Vec<u8>>,
}

/// Writes the index of the whole container root to `w`, one JSON line per entry (see the module
/// documentation for the format).
///
/// # Security
/// Files are opened relative to their directory's descriptor, `O_NOFOLLOW | O_NONBLOCK |
/// O_NOATIME`, only when `lstat` listed a regular file, and only read if `fstat` shows the same
/// inode.
///
/// # Performance and memory
/// The walk (this thread) hands batches of entries (at most `batch_files` regular files or
/// 8 MiB of them) to one hashing thread per core, which read, hash and format their batch
/// independently; lines are written in walk order all the same. At most 4 batches per hashing
/// thread are out at once: a thread hashing a large file does not stop the others until that
/// many batches wait behind it. Memory is
/// bounded by those batches (each at most `batch_files` files, 16 × that many entries and 32
/// directories) plus a 256 KiB buffer per hashing thread. Descriptors: the walk's (see
/// [`WalkOptions::max_open_dirs`]), the directories the batches keep open (at most 32 each, and
/// at most a quarter of the soft `RLIMIT_NOFILE` together), and one open file per hashing
/// thread.
///
/// # Errors
/// The root cannot be listed, or writing to `w` failed. Unreadable entries are lines with an
/// `error`, not errors.
///
/// ```no_run
/// use forensic_collect::rootfs::{RootFs, index::{IndexOptions, write_index}};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let root = RootFs::open("/proc/4242/root".as_ref())?;
/// let mut out = std::io::BufWriter::new(std::fs::File::create("/tmp/evidence/index.jsonl")?);
/// let stats = write_index(&root, &mut out, &IndexOptions::default())?;
/// println!("{} entries, {} files hashed", stats.entries, stats.files_hashed);
/// # Ok(()) }
/// ```
pub fn write_index(root: &RootFs, w: &mut dyn Write, opts: &IndexOptions) -> Result<IndexStats, RootError> {
    write_index_observed(root, w, opts, &mut |_| Ok(()), &|_, _| {})
}

/// [`write_index`], calling `progress` with the counts so far (entries indexed, files hashed)
/// each time a batch of lines is written: what a progress display shows while the tree is walked
/// (nothing is written to the bundle until the walk ends).
///
/// # Errors
/// As [`write_index`].
pub fn write_index_progress(
    root: &RootFs,
    w: &mut dyn Write,
    opts: &IndexOptions,
    progress: &dyn Fn(u64, u64),
) -> Result<IndexStats, RootError> {
    index_inner(root, w, opts, &mut |_| Ok(()), progress)
}

/// [`write_index_progress`], calling `observe` with every entry as the walk finds it (on the
/// calling thread, in walk order), e.g. [`crate::rootfs::derived::DerivedLists::observe`], so
/// that other lists need no second walk.
///
/// # Errors
/// As [`write_index`], and any error `observe` returns.
pub fn write_index_observed(
    root: &RootFs,
    w: &mut dyn Write,
    opts: &IndexOptions,
    observe: &mut dyn FnMut(&Entry) -> Result<(), RootError>,
    progress: &dyn Fn(u64, u64),
) -> Result<IndexStats, RootError> {
    index_inner(root, w, opts, observe, progress)
}

fn index_inner(
    root: &RootFs,
    w: &mut dyn Write,
    opts: &IndexOptions,
    observe: &mut dyn FnMut(&Entry) -> Result<(), RootError>,
    progress: &dyn Fn(u64, u64),
) -> Result<IndexStats, RootError> {
    let cfg = HashConfig {
        max_hash_size: opts.max_hash_size,
        xattrs_from_file: opts.walk.xattrs == XattrPolicy::NotRegularFiles,
        layer: opts.layer.as_ref(),
        mounts: opts.mounts.as_ref(),
        digests: opts.digests.as_ref(),
    };
    let skip_start = opts.mounts.as_ref().is_some_and(|m| !m.base.is_empty());
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, MAX_WORKERS);
    let in_flight = IN_FLIGHT_PER_WORKER * workers;
    let (tx, rx) = mpsc::sync_channel::<(u64, Vec<Item>)>(in_flight);
    let rx = Mutex::new(rx);
    std::thread::scope(|s| {
        let (done_tx, done_rx) = mpsc::channel::<(u64, Done)>();
        for _ in 0..workers {
            let (rx, done_tx, cfg) = (&rx, done_tx.clone(), &cfg);
            s.spawn(move || {
                while let Some((seq, batch)) = rx.lock().ok().and_then(|r| r.recv().ok()) {
                    if done_tx.send((seq, hash_batch(batch, cfg))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        let mut out = Output {
            w,
            stats: IndexStats::default(),
            keep: opts.max_skipped_kept,
            progress,
            next: 0,
            pending: BTreeMap::new(),
        };
        let mut pipe = Pipe {
            tx,
            done_rx,
            sent: 0,
            in_flight: in_flight as u64,
        };
        // Every batch alive (in flight, and the one being filled) keeps at most this many
        // directories open: together at most a quarter of the descriptor limit.
        let dirs_per_batch = walk::nofile_share(4 * (in_flight as u64 + 1)).clamp(1, 32);
        let mut batch = Batch::new(opts.batch_files.max(1), dirs_per_batch);
        let start = opts.mounts.as_ref().map_or(&b""[..], |m| m.base.as_slice());
        let walked = walk::walk(root, start, &opts.walk, &mut |v| {
            match v {
                Visit::Entry(e, _) if skip_start && e.path.is_empty() => {}
                Visit::Entry(e, dir) => {
                    observe(&e)?;
                    batch.push_entry(e, dir);
                }
                Visit::Skipped(sk) => batch.items.push(Item::Skipped(sk.clone())),
            }
            if batch.full() {
                pipe.send(batch.take(), &mut out)?;
            }
            Ok(())
        })?;
        if !batch.items.is_empty() {
            pipe.send(batch.take(), &mut out)?;
        }
        pipe.finish(&mut out)?;
        out.w.flush().map_err(|e| RootError::output("the index", e))?;
        let mut stats = out.stats;
        stats.walk = walked;
        Ok(stats)
    })
}

/// Most hashing threads.
const MAX_WORKERS: usize = 16;

/// Batches handed out but not yet written, per hashing thread: enough for one thread to go on
/// while another hashes a large file.
const IN_FLIGHT_PER_WORKER: usize = 4;

/// Bytes of regular files in one batch (a batch is also full at `batch_files` files).
const BATCH_BYTES: u64 = 8 << 20;

/// Batches numbered in walk order, to the hashing threads and back.
struct Pipe {
    tx: mpsc::SyncSender<(u64, Vec<Item>)>,
    done_rx: mpsc::Receiver<(u64, Done)>,
    sent: u64,
    in_flight: u64,
}

impl Pipe {
    /// Hands `batch` to the hashing threads, writes what they finished, and waits while too
    /// many batches are out.
    fn send(&mut self, batch: Vec<Item>, out: &mut Output<'_>) -> Result<(), RootError> {
        self.tx.send((self.sent, batch)).map_err(|_| hasher_stopped())?;
        self.sent += 1;
        while let Ok((seq, done)) = self.done_rx.try_recv() {
            out.accept(seq, done)?;
        }
        while self.sent - out.next >= self.in_flight {
            let (seq, done) = self.done_rx.recv().map_err(|_| hasher_stopped())?;
            out.accept(seq, done)?;
        }
        Ok(())
    }

    /// Writes every batch still out.
    fn finish(self, out: &mut Output<'_>) -> Result<(), RootError> {
        drop(self.tx);
        while out.next < self.sent {
            let (seq, done) = self.done_rx.recv().map_err(|_| hasher_stopped())?;
            out.accept(seq, done)?;
        }
        Ok(())
    }
}

fn hasher_stopped() -> RootError {
    RootError::output("the index", std::io::Error::other("the hashing thread stopped"))
}

/// One line to write, in walk order.
#[allow(clippy::large_enum_variant)] // held in a Vec; boxing would add an allocation per entry
enum Item {
    /// An entry; `dir` is its directory when it is a regular file to hash.
    Entry(Entry, Option<DirHandle>),
    Skipped(Skipped),
}

/// The batch being filled by the walk.
struct Batch {
    items: Vec<Item>,
    files: usize,
    bytes: u64,
    dirs: usize,
    last_dir: Option<DirHandle>,
    max_files: usize,
    max_dirs: usize,
}

impl Batch {
    fn new(max_files: usize, max_dirs: usize) -> Batch {
        Batch {
            items: Vec::new(),
            files: 0,
            bytes: 0,
            dirs: 0,
            last_dir: None,
            max_files,
            max_dirs,
        }
    }

    fn push_entry(&mut self, e: Entry, dir: Option<&DirHandle>) {
        let dir = match dir {
            Some(d) if e.meta.kind == FileKind::File => {
                self.files += 1;
                self.bytes = self.bytes.saturating_add(e.meta.size);
                if !self.last_dir.as_ref().is_some_and(|l| l.same(d)) {
                    self.dirs += 1;
                    self.last_dir = Some(d.clone());
                }
                Some(d.clone())
            }
            _ => None,
        };
        self.items.push(Item::Entry(e, dir));
    }

    /// Full: enough files, bytes, entries, or distinct directories held open by the batch.
    fn full(&self) -> bool {
        self.files >= self.max_files
            || self.bytes >= BATCH_BYTES
            || self.items.len() >= 16 * self.max_files
            || self.dirs >= self.max_dirs
    }

    fn take(&mut self) -> Vec<Item> {
        self.files = 0;
        self.bytes = 0;
        self.dirs = 0;
        self.last_dir = None;
        std::mem::take(&mut self.items)
    }
}

#[derive(Debug, Clone, Copy)]
struct HashConfig<'a> {
    max_hash_size: Option<u64>,
    xattrs_from_file: bool,
    layer: Option<&'a LayerCheck>,
    mounts: Option<&'a MountScope>,
    digests: Option<&'a SharedDigests>,
}

/// The lines of one batch and what hashing them found.
#[derive(Default)]
struct Done {
    text: Vec<u8>,
    entries: u64,
    hashed: u64,
    reused: u64,
    bytes: u64,
    not_hashed: u64,
    mountpoints: u64,
    problems: Vec<Skipped>,
    differs: Vec<Vec<u8>>,
}

/// What became of one item.
enum Outcome {
    Listed,
    Mountpoint,
    Hashed(u64),
    Reused(u64),
    NotHashed(Skipped),
    Skipped(Skipped),
}

/// Indexes one batch, in order, on this thread.
fn hash_batch(batch: Vec<Item>, cfg: &HashConfig<'_>) -> Done {
    let mut done = Done {
        text: Vec::with_capacity(batch.len() * 320),
        ..Done::default()
    };
    for item in &batch {
        let outcome = index_item(item, cfg, &mut done.text, &mut done.differs);
        match outcome {
            Outcome::Listed => done.entries += 1,
            Outcome::Mountpoint => {
                done.entries += 1;
                done.mountpoints += 1;
            }
            Outcome::Hashed(n) => {
                done.entries += 1;
                done.hashed += 1;
                done.bytes += n;
            }
            Outcome::Reused(n) => {
                done.entries += 1;
                done.hashed += 1;
                done.reused += 1;
                done.bytes += n;
            }
            Outcome::NotHashed(s) => {
                done.entries += 1;
                done.not_hashed += 1;
                done.problems.push(s);
            }
            Outcome::Skipped(s) => done.problems.push(s),
        }
    }
    done
}

/// Appends the line of `item` to `line` (hashing a regular file first); a lower-layer file that
/// differs from the layer's record is added to `differs`.
fn index_item(item: &Item, cfg: &HashConfig<'_>, line: &mut Vec<u8>, differs: &mut Vec<Vec<u8>>) -> Outcome {
    let (entry, dir) = match item {
        Item::Skipped(s) => {
            let path = json::absolute(&in_container(cfg, &s.path));
            json::push_line(line, &TreeEntry::skipped(RawBytes::borrowed(&path), s.reason.clone()));
            return Outcome::Skipped(s.clone());
        }
        Item::Entry(e, dir) => (e, dir),
    };
    let rel = in_container(cfg, &entry.path);
    let mount = cfg.mounts.and_then(|m| m.map.of(&rel));
    let mut xattrs_read: Option<Vec<Xattr>> = None;
    let mut crc64 = None;
    let (sha256, error, outcome) = match dir {
        Some(dir) => match hash_file(dir, entry, cfg, &mut xattrs_read) {
            Ok(d) => {
                crc64 = d.crc64;
                let outcome = if d.reused {
                    Outcome::Reused(d.size)
                } else {
                    Outcome::Hashed(d.size)
                };
                (Some(d.sha256), None, outcome)
            }
            Err(reason) => {
                let s = Skipped {
                    path: entry.path.clone(),
                    reason: reason.clone(),
                };
                (None, Some(reason), Outcome::NotHashed(s))
            }
        },
        None => (None, None, Outcome::Listed),
    };
    let (kind, note, outcome) = match &entry.descent {
        Descent::OtherFilesystem if mount.is_some_and(|m| m.walked && m.point == rel) => {
            (EntryType::from(entry.meta.kind), None, outcome)
        }
        Descent::OtherFilesystem => (
            EntryType::MountpointSkipped,
            Some("another filesystem: not entered".to_string()),
            Outcome::Mountpoint,
        ),
        Descent::PseudoFilesystem(fs) => (
            EntryType::MountpointSkipped,
            Some(format!("{fs} filesystem: not entered")),
            Outcome::Mountpoint,
        ),
        Descent::DepthLimit => (
            EntryType::from(entry.meta.kind),
            Some("depth limit: not entered".to_string()),
            outcome,
        ),
        Descent::Failed(why) => (
            EntryType::from(entry.meta.kind),
            Some(format!("not entered: {why}")),
            outcome,
        ),
        Descent::NotADirectory | Descent::Entered => (EntryType::from(entry.meta.kind), None, outcome),
    };
    let m = &entry.meta;
    let layer_checksum = match (cfg.layer, m.kind) {
        (Some(check), FileKind::File) => {
            let c = layer_checksum(check, &entry.path, crc64.map(|c| (m.size, c)), m.nlink);
            if c == LayerChecksum::Differs {
                differs.push(entry.path.clone());
            }
            Some(c)
        }
        _ => None,
    };
    let path = json::absolute(&rel);
    let mount_point = mount.map(|m| json::absolute(&m.point));
    let withheld = match (mount, cfg.mounts) {
        (Some(mnt), Some(scope))
            if mnt.kind.is_credential() && !scope.map.include_secrets && entry.meta.kind == FileKind::File =>
        {
            Some(withheld_reason(mnt.kind))
        }
        _ => None,
    };
    let xattrs = xattrs_read.as_deref().or(m.xattrs.as_deref());
    let rdev = matches!(m.kind, FileKind::Char | FileKind::Block).then(|| json::device_of(entry.rdev));
    json::push_line(
        line,
        &TreeEntry {
            path: RawBytes::borrowed(&path),
            kind,
            mode: Some(Mode(m.mode)),
            uid: Some(m.uid),
            gid: Some(m.gid),
            size: Some(m.size),
            mtime_ns: Some(m.mtime_ns),
            ctime_ns: Some(m.ctime_ns),
            inode: Some(m.inode),
            nlink: Some(m.nlink),
            rdev,
            symlink_target: m.symlink_target.as_ref().map(json::raw_of_path),
            xattrs: xattrs.map(json::xattr_pairs),
            sha256,
            note,
            error,
            layer_checksum,
            mount: mount_point.as_deref().map(RawBytes::borrowed),
            mount_kind: mount.map(|m| m.kind),
            withheld,
        },
    );
    outcome
}

/// The path relative to the container's root of `walked` (relative to the walk's start).
fn in_container(cfg: &HashConfig<'_>, walked: &[u8]) -> Vec<u8> {
    match cfg.mounts {
        Some(m) if !m.base.is_empty() => crate::rootfs::copy::joined(&m.base, walked),
        _ => walked.to_vec(),
    }
}

/// A lower-layer file (`path` relative to the layer root) checked against the layer's record:
/// `read` is the size and CRC-64 of what was hashed, `None` when it could not be read.
fn layer_checksum(check: &LayerCheck, path: &[u8], read: Option<(u64, u64)>, nlink: u64) -> LayerChecksum {
    match (check, read) {
        (LayerCheck::Against(sums), Some((size, crc))) => match sums.check(path, size, crc, nlink) {
            Checked::Ok => LayerChecksum::Ok,
            Checked::Differs => LayerChecksum::Differs,
            Checked::Unknown => LayerChecksum::Unknown,
        },
        _ => LayerChecksum::Unknown,
    }
}

thread_local! {
    /// One read buffer per hashing worker.
    static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Size of each worker's read buffer.
const BUFFER_SIZE: usize = 256 * 1024;

/// What was read from one regular file.
struct Digested {
    /// SHA-256, hex.
    sha256: String,
    /// Bytes covered.
    size: u64,
    /// CRC-64/ISO of the same bytes, if computed.
    crc64: Option<u64>,
    /// Taken from [`SharedDigests::Reuse`], not read.
    reused: bool,
}

/// Opens and hashes one regular file (or takes its digests from those already computed for the
/// same inode state); its xattrs too when the walk left them to us.
fn hash_file(
    dir: &DirHandle,
    e: &Entry,
    cfg: &HashConfig<'_>,
    xattrs: &mut Option<Vec<Xattr>>,
) -> Result<Digested, String> {
    let (mut file, opened) = dir.open_listed(e).map_err(|err| err.to_string())?;
    if cfg.xattrs_from_file {
        *xattrs = sys::fd_xattrs(file.as_fd());
    }
    let size = opened.size;
    if let Some(max) = cfg.max_hash_size.filter(|&max| size > max) {
        return Err(format!(
            "{size} bytes: larger than the hashing limit of {max} bytes; not hashed"
        ));
    }
    let id = Identity {
        ino: opened.ino,
        size,
        mtime_ns: opened.mtime_ns,
        ctime_ns: opened.ctime_ns,
    };
    let checked = matches!(cfg.layer, Some(LayerCheck::Against(_)));
    if let Some(SharedDigests::Reuse(known)) = cfg.digests
        && let Some(k) = known.get(&id, checked)
    {
        return Ok(Digested {
            sha256: json::hex(&k.sha256),
            size,
            crc64: k.crc64.filter(|_| checked),
            reused: true,
        });
    }
    let record = match cfg.digests {
        Some(SharedDigests::Record(known)) => Some(known),
        _ => None,
    };
    let d = read_digests(&mut file, size, checked || record.is_some_and(|k| k.with_crc()))?;
    if let Some(known) = record {
        known.record(
            opened.dev,
            id,
            Known {
                sha256: d.0,
                crc64: d.1,
            },
        );
    }
    Ok(Digested {
        sha256: json::hex(&d.0),
        size,
        crc64: d.1,
        reused: false,
    })
}

/// SHA-256 (and, with `with_crc`, CRC-64/ISO, from the same read) of the first `size` bytes of
/// `file`.
fn read_digests(file: &mut std::fs::File, size: u64, with_crc: bool) -> Result<([u8; 32], Option<u64>), String> {
    BUFFER.with(|cell| {
        let mut buf = cell.borrow_mut();
        if buf.len() < BUFFER_SIZE {
            buf.resize(BUFFER_SIZE, 0);
        }
        let mut h = Sha256::new();
        let mut crc = with_crc.then(Crc64Iso::new);
        let mut done: u64 = 0;
        while done < size {
            let want = usize::try_from(size - done).unwrap_or(usize::MAX).min(buf.len());
            let Some(chunk) = buf.get_mut(..want) else { break };
            match file.read(chunk) {
                Ok(0) => break,
                Ok(n) => {
                    let bytes = chunk.get(..n).unwrap_or_default();
                    h.update(bytes);
                    if let Some(c) = crc.as_mut() {
                        c.update(bytes);
                    }
                    done += n as u64;
                }
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Err(err) => return Err(format!("read error after {done} bytes: {err}")),
            }
        }
        if done < size {
            return Err(format!("shrank while being read: {done} of {size} bytes"));
        }
        Ok((h.finalize().into(), crc.map(|c| c.finalize())))
    })
}

/// Writes finished batches and keeps the counts.
struct Output<'w> {
    w: &'w mut dyn Write,
    stats: IndexStats,
    keep: usize,
    progress: &'w dyn Fn(u64, u64),
    /// The number of the next batch to write.
    next: u64,
    /// Batches finished before an earlier one, held until it is written.
    pending: BTreeMap<u64, Done>,
}

impl Output<'_> {
    /// Takes finished batch `seq` and writes every batch now complete in walk order.
    fn accept(&mut self, seq: u64, done: Done) -> Result<(), RootError> {
        self.pending.insert(seq, done);
        while let Some(done) = self.pending.remove(&self.next) {
            self.write(done)?;
            self.next += 1;
        }
        Ok(())
    }

    fn write(&mut self, done: Done) -> Result<(), RootError> {
        self.w
            .write_all(&done.text)
            .map_err(|e| RootError::output("the index", e))?;
        let s = &mut self.stats;
        s.entries += done.entries;
        s.files_hashed += done.hashed;
        s.bytes_hashed += done.bytes;
        s.files_reused += done.reused;
        s.files_not_hashed += done.not_hashed;
        s.mountpoints_skipped += done.mountpoints;
        s.skipped += done.problems.len() as u64;
        let room = self.keep.saturating_sub(s.skipped_list.len());
        s.skipped_list.extend(done.problems.into_iter().take(room));
        s.layer_differs.extend(done.differs);
        (self.progress)(s.entries, s.files_hashed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn lines(root: &RootFs, opts: &IndexOptions) -> (Vec<Value>, IndexStats) {
        let mut out = Vec::new();
        let stats = write_index(root, &mut out, opts).unwrap();
        let v = out
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        (v, stats)
    }

    #[test]
    fn every_entry_gets_a_line_and_files_a_hash() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir(t.path().join("etc")).unwrap();
        std::fs::write(t.path().join("etc/passwd"), b"root:x:0:0\n").unwrap();
        std::os::unix::fs::symlink("/etc/shadow", t.path().join("etc/link")).unwrap();
        for i in 0..600 {
            std::fs::write(t.path().join(format!("etc/f{i:03}")), i.to_string()).unwrap();
        }
        let root = RootFs::open(t.path()).unwrap();
        let opts = IndexOptions {
            batch_files: 7,
            ..IndexOptions::default()
        };
        let (v, stats) = lines(&root, &opts);
        assert_eq!(v.len(), 1 + 1 + 2 + 600);
        assert_eq!((stats.entries, stats.files_hashed, stats.skipped), (604, 601, 0));
        assert_eq!(v[0]["path"], "/");
        assert_eq!(v[0]["type"], "dir");
        assert_eq!(v[1]["path"], "/etc");
        let paths: Vec<&str> = v.iter().map(|l| l["path"].as_str().unwrap()).collect();
        let mut sorted = paths.clone();
        sorted.sort_unstable();
        assert_eq!(paths, sorted, "walk order is kept across batches");
        let passwd = v.iter().find(|l| l["path"] == "/etc/passwd").unwrap();
        assert_eq!(passwd["sha256"], hex::encode(Sha256::digest(b"root:x:0:0\n")));
        assert_eq!(passwd["type"], "file");
        assert_eq!(passwd["size"], 11);
        let link = v.iter().find(|l| l["path"] == "/etc/link").unwrap();
        assert_eq!(
            (&link["type"], &link["symlink_target"], &link["sha256"]),
            (&Value::from("symlink"), &Value::from("/etc/shadow"), &Value::Null)
        );
    }

    #[test]
    fn files_over_the_limit_are_listed_unhashed() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("big"), vec![0u8; 1000]).unwrap();
        let root = RootFs::open(t.path()).unwrap();
        let opts = IndexOptions {
            max_hash_size: Some(999),
            ..IndexOptions::default()
        };
        let (v, stats) = lines(&root, &opts);
        assert_eq!(v[1]["sha256"], Value::Null);
        assert!(v[1]["error"].as_str().unwrap().contains("hashing limit"));
        assert_eq!((stats.files_not_hashed, stats.skipped_list.len()), (1, 1));
    }

    #[test]
    fn a_lower_layer_is_checked_against_its_record_from_the_same_read() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("f"), b"hello\n").unwrap();
        std::fs::write(t.path().join("g"), b"changed").unwrap();
        std::fs::create_dir(t.path().join("d")).unwrap();
        let record = br#"{"type":1,"name":"f","size":6,"payload":"YUw+7uLYEAA="}
{"type":1,"name":"g","size":6,"payload":"YUw+7uLYEAA="}
{"type":1,"name":"d/"}
"#;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(record).unwrap();
        let sums = LayerSums::read(&gz.finish().unwrap()[..], &Default::default()).unwrap();
        let root = RootFs::open(t.path()).unwrap();
        let opts = IndexOptions {
            layer: Some(LayerCheck::Against(Arc::new(sums))),
            ..IndexOptions::default()
        };
        let (v, stats) = lines(&root, &opts);
        let by = |p: &str| v.iter().find(|l| l["path"] == p).unwrap()["layer_checksum"].clone();
        assert_eq!(
            (by("/f"), by("/g"), by("/d")),
            ("ok".into(), "differs".into(), Value::Null)
        );
        assert_eq!(stats.layer_differs, [b"g".to_vec()]);
        let opts = IndexOptions {
            layer: Some(LayerCheck::Unavailable),
            ..IndexOptions::default()
        };
        let (v, stats) = lines(&root, &opts);
        assert_eq!(
            v.iter().find(|l| l["path"] == "/g").unwrap()["layer_checksum"],
            "unknown"
        );
        assert!(stats.layer_differs.is_empty());
        let (v, _) = lines(&root, &IndexOptions::default());
        assert!(
            v.iter().all(|l| l.get("layer_checksum").is_none()),
            "not in a container's index"
        );
    }

    #[test]
    fn a_mount_walk_writes_full_paths_names_its_mount_and_withholds_credentials() {
        use crate::rootfs::mounts::{MapEntry, MountMap};
        use forensic_evidence::records::mounts::MountKind;
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("run/secrets/sa")).unwrap();
        std::fs::write(t.path().join("run/secrets/sa/token"), b"tok").unwrap();
        std::fs::create_dir_all(t.path().join("dev/shm")).unwrap();
        std::fs::write(t.path().join("dev/shm/x.sh"), b"#!/bin/sh\n").unwrap();
        let root = RootFs::open(t.path()).unwrap();
        let entry = |p: &str, kind| MapEntry {
            point: p.as_bytes().to_vec(),
            kind,
            walked: true,
        };
        let map = |include| {
            Arc::new(MountMap::new(
                vec![
                    entry("", MountKind::Root),
                    entry("run/secrets/sa", MountKind::Projected),
                    entry("dev/shm", MountKind::Tmpfs),
                ],
                include,
            ))
        };
        let walk = |base: &str, include| {
            let opts = IndexOptions {
                mounts: Some(MountScope {
                    map: map(include),
                    base: base.as_bytes().to_vec(),
                }),
                ..IndexOptions::default()
            };
            lines(&root, &opts).0
        };
        let v = walk("run/secrets/sa", false);
        assert_eq!(v.len(), 1, "the start is its parent walk's line: {v:?}");
        assert_eq!(v[0]["path"], "/run/secrets/sa/token");
        assert_eq!(v[0]["mount"], "/run/secrets/sa");
        assert_eq!(v[0]["mount_kind"], "projected");
        assert_eq!(v[0]["sha256"], hex::encode(Sha256::digest(b"tok")));
        assert_eq!(
            v[0]["withheld"],
            "credential volume (projected): contents not copied, since a bundle travels; collect --include-secrets copies them"
        );
        assert_eq!(walk("run/secrets/sa", true)[0].get("withheld"), None);
        let v = walk("dev/shm", false);
        let paths: Vec<&str> = v.iter().map(|l| l["path"].as_str().unwrap()).collect();
        assert_eq!(paths, ["/dev/shm/x.sh"]);
        assert_eq!(
            (&v[0]["mount"], &v[0]["mount_kind"]),
            (&Value::from("/dev/shm"), &Value::from("tmpfs"))
        );
        // The root's walk: the mount points are lines of their mount, the rest has none.
        let v = walk("", false);
        let by = |p: &str| v.iter().find(|l| l["path"] == p).unwrap().clone();
        assert_eq!(by("/dev/shm")["mount"], "/dev/shm");
        assert_eq!(by("/dev").get("mount"), None);
        assert_eq!(by("/run/secrets/sa/token")["mount_kind"], "projected");
    }

    #[test]
    fn a_layer_index_reuses_the_digests_of_unchanged_inodes_and_rereads_changed_ones() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("f"), b"hello\n").unwrap();
        std::fs::write(t.path().join("g"), b"same").unwrap();
        let root = RootFs::open(t.path()).unwrap();
        let dev = sys::fstat(root.as_fd()).unwrap().dev;
        let known = Arc::new(KnownDigests::new(dev, true, 100));
        let record = IndexOptions {
            digests: Some(SharedDigests::Record(known.clone())),
            ..IndexOptions::default()
        };
        let (_, stats) = lines(&root, &record);
        assert_eq!((stats.files_hashed, stats.files_reused, known.len()), (2, 0, 2));
        // The node's copy of the layer changes after the tree index read it: same inode, new
        // bytes and ctime. Its digest must be read again, and differ from the layer's record.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(t.path().join("f"), b"HELLO\n").unwrap();
        use base64ct::Encoding;
        let same = base64ct::Base64::encode_string(&Crc64Iso::checksum(b"same").to_be_bytes());
        let record = format!(
            "{{\"type\":1,\"name\":\"f\",\"size\":6,\"payload\":\"YUw+7uLYEAA=\"}}\n\
             {{\"type\":1,\"name\":\"g\",\"size\":4,\"payload\":\"{same}\"}}\n"
        );
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(record.as_bytes()).unwrap();
        let sums = LayerSums::read(&gz.finish().unwrap()[..], &Default::default()).unwrap();
        let reuse = IndexOptions {
            layer: Some(LayerCheck::Against(Arc::new(sums))),
            digests: Some(SharedDigests::Reuse(known)),
            ..IndexOptions::default()
        };
        let (v, stats) = lines(&root, &reuse);
        assert_eq!((stats.files_hashed, stats.files_reused), (2, 1));
        let by = |p: &str| v.iter().find(|l| l["path"] == p).unwrap().clone();
        assert_eq!(by("/f")["sha256"], hex::encode(Sha256::digest(b"HELLO\n")));
        assert_eq!(by("/f")["layer_checksum"], "differs");
        assert_eq!(by("/g")["sha256"], hex::encode(Sha256::digest(b"same")));
        // The reused CRC-64 is that of the bytes the tree index read.
        assert_eq!(by("/g")["layer_checksum"], "ok");
        assert_eq!(stats.layer_differs, [b"f".to_vec()]);
    }

    #[test]
    fn an_observer_sees_every_entry() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("a"), b"").unwrap();
        let root = RootFs::open(t.path()).unwrap();
        let mut seen = Vec::new();
        write_index_observed(
            &root,
            &mut Vec::new(),
            &IndexOptions::default(),
            &mut |e| {
                seen.push(e.path.clone());
                Ok(())
            },
            &|_, _| {},
        )
        .unwrap();
        assert_eq!(seen, [b"".to_vec(), b"a".to_vec()]);
    }
}
