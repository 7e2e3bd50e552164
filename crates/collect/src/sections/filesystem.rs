//! Section 5: the container's filesystem, read from the host through /proc/<pid>/root and the
//! overlay upper directory, without following any link inside it (see [`crate::rootfs`]).
//!
//! Members: `mountinfo` (the target's mount table), `mounts.json` (every mount classified, see
//! [`crate::rootfs::mounts`]), `tree-index.jsonl` (every entry of the root filesystem and of
//! every mount but pseudo filesystems, with metadata and SHA-256; a credential volume's files by
//! hash and metadata only, unless `--include-secrets`), `upper/…` and `upper-changes.jsonl` (the writable layer:
//! added, modified and deleted paths), `root/…` (copies of the places attackers use),
//! `changed/…` (files changed since the container started that the bundle holds nowhere else,
//! see [`crate::sections::changed`]) and `derived/…` (setuid files, executables in temporary directories, recently modified files).

use crate::collect::Event;
use crate::counts::Counter;
use crate::ctx::{Ctx, MAX_PROC_FILE, read_proc_bytes};
use crate::rootfs::copy::{self, CopyOptions};
use crate::rootfs::derived::{DerivedLists, DerivedOptions, collect_derived};
use crate::rootfs::index::{
    IndexOptions, LayerCheck, MountScope, SharedDigests, write_index_observed, write_index_progress,
};
use crate::rootfs::known::{DEFAULT_MAX_KNOWN, KnownDigests};
use crate::rootfs::mounts::{self, MountMap};
use crate::rootfs::places::{ATTACKER_PLACES, copy_places};
use crate::rootfs::tarsplit::{self, LayerSums};
use crate::rootfs::upper::{UpperOptions, collect_upper};
use crate::rootfs::walk::WalkOptions;
use crate::rootfs::{RootError, RootFs};
use crate::sections::changed;
use crate::sink::{NewMember, Sink};
use forensic_bundle::manifest::Source;
use forensic_evidence::members;
use forensic_evidence::records::image::LowerLayer;
use forensic_evidence::records::mounts::MountIndexed;
use std::io::{self, Seek, SeekFrom};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::Arc;

/// A container-side problem is a gap; a failure to write the bundle stops collection (live and
/// offline sections alike).
pub(crate) fn settle<T>(sink: &mut dyn Sink, what: &str, r: Result<T, RootError>) -> io::Result<Option<T>> {
    match r {
        Ok(t) => Ok(Some(t)),
        Err(RootError::Output { source, .. }) => Err(source),
        Err(e) => {
            sink.gap(what.to_string(), e.to_string());
            Ok(None)
        }
    }
}

fn open_root(ctx: &Ctx<'_>, sink: &mut dyn Sink) -> Option<RootFs> {
    let path = ctx.proc.path(ctx.target.pid, "root");
    match RootFs::open(&path) {
        Ok(r) => Some(r),
        Err(e) => {
            sink.gap(
                path.display().to_string(),
                format!("the container's root could not be opened: {e}"),
            );
            None
        }
    }
}

/// Reports a walk's counts as [`Event::Walked`] to the caller's progress display, if any.
fn walk_progress(ctx: &Ctx<'_>) -> impl Fn(u64, u64) + use<> {
    let p = ctx.opts.progress.clone();
    move |entries, files_hashed| {
        if let Some(p) = &p {
            p(Event::Walked { entries, files_hashed });
        }
    }
}

fn copy_options(ctx: &Ctx<'_>) -> CopyOptions {
    CopyOptions {
        max_file_size: Some(ctx.opts.max_file_size),
        ..CopyOptions::default()
    }
}

/// Collects section 5.
///
/// # Errors
/// Only when the bundle cannot be written.
pub fn collect(ctx: &mut Ctx<'_>, sink: &mut dyn Sink) -> io::Result<()> {
    let pid = ctx.target.pid;
    ctx.proc_file(sink, &ctx.proc.path(pid, "mountinfo"), "mountinfo");
    let Some(root) = open_root(ctx, sink) else {
        return Ok(());
    };
    let mounts = mount_plan(ctx, &root, sink)?;
    ctx.digests = shared_digests(ctx, &root);
    ctx.layer_records = LayerRecords::start(ctx);
    // (b) the full-tree index of every mount, spooled to a temporary file (enciphered with a key
    // held only in memory: evidence is never in clear on disk) and stored as one member.
    // (d)'s derived lists are built from the same walk, as it goes.
    let now_ns = i64::try_from(ctx.clock.now_unix_nanos()).unwrap_or(i64::MAX);
    let derived_opts = DerivedOptions::new(now_ns, ctx.opts.since);
    let mut derived = DerivedLists::new(&derived_opts);
    let mut spool = forensic_crypt::Scratch::create_in(&std::env::temp_dir())?;
    let indexed = index_mounts(ctx, &root, &mounts, &mut spool, &mut derived, sink)?;
    // What changed since the container started, by the index's times (copied after (c) and
    // (a), which may hold some of it already).
    let start = changed::start_ns(ctx);
    if indexed && start.is_none() {
        sink.gap(
            "changed files".into(),
            "the container's start time is not known: files changed since it are not copied (those on tmpfs mounts are)".into(),
        );
    }
    let changed = if indexed {
        spool.seek(SeekFrom::Start(0))?;
        changed::select(
            &mut std::io::BufReader::new(&mut spool),
            start.unwrap_or(i64::MAX),
            ctx.opts.include_secrets,
        )?
    } else {
        Vec::new()
    };
    drop(spool);
    let mut rec = changed::Recorder::new(sink);
    // (c) the places attackers use, first: a writable layer flooded with junk must not crowd
    // them out of the bundle's member limit, so each place may take at most half of the room
    // left when they start.
    let places = CopyOptions {
        max_files: copy_options(ctx).max_files.min(rec.room() / 2),
        withheld: mounts.withheld_points(),
        ..copy_options(ctx)
    };
    if let Some(stats) = {
        let r = copy_places(&root, ATTACKER_PLACES, "root/", &mut rec, &places);
        settle(&mut rec, "attacker places", r)?
    } {
        ctx.count(Counter::FilesCopied, stats.files);
    }
    // (a) the overlay upper layer.
    upper_layer(ctx, &mut rec)?;
    // (e) the files changed since the start that the bundle does not hold yet.
    let written = std::mem::take(&mut rec.written);
    changed::copy_changed(ctx, &root, &changed, &written, sink)?;
    // (d) derived lists: from the index's walk, or, when the root could not be indexed, from a
    // walk of their own.
    let r = if indexed {
        derived.write_members(sink)
    } else {
        collect_derived(&root, sink, &derived_opts)
    };
    settle(sink, "derived lists", r)?;
    Ok(())
}

/// A record of the digests the tree index computes, for the lower-layer index (section 9) to
/// reuse: only when the root is an overlay with lower layers. CRC-64s are computed too when the
/// node keeps a record of some layer (what `layer_checksum` checks against).
fn shared_digests(ctx: &Ctx<'_>, root: &RootFs) -> Option<Arc<KnownDigests>> {
    let (_, lowers) = overlay_dirs(ctx)?;
    if lowers.is_empty() {
        return None;
    }
    let dev = crate::rootfs::sys::fstat(root.as_fd()).ok()?.dev;
    let with_crc = lowers.iter().any(|d| tarsplit::locate(d).is_some());
    Some(Arc::new(KnownDigests::new(dev, with_crc, DEFAULT_MAX_KNOWN)))
}

/// Classifies every mount of the container's mountinfo and stores the list as
/// [`members::MOUNTS`]; a mount that cannot be reached from the root is a gap.
fn mount_plan(ctx: &Ctx<'_>, root: &RootFs, sink: &mut dyn Sink) -> io::Result<Arc<MountMap>> {
    let path = ctx.proc.path(ctx.target.pid, "mountinfo");
    let Ok(text) = read_proc_bytes(&path, MAX_PROC_FILE) else {
        sink.gap(
            "mounts".into(),
            format!(
                "{} could not be read: only the root filesystem is indexed",
                path.display()
            ),
        );
        return Ok(Arc::new(MountMap::default()));
    };
    let table = forensic_proc::mountinfo::parse_mountinfo(&text);
    let runtime = ctx
        .target
        .record
        .as_ref()
        .map(|r| r.mounts.as_slice())
        .unwrap_or_default();
    let (records, map) = mounts::plan(&table.rows, runtime, root, ctx.opts.include_secrets);
    for r in records.iter().filter(|r| r.indexed == MountIndexed::Unreachable) {
        sink.gap(
            format!("mount {}", r.mount_point.shown()),
            "not indexed: its mount point is not reachable from the container's root without following a link, or a later mount covers it".into(),
        );
    }
    let doc = serde_json::to_vec_pretty(&records).map_err(io::Error::other)?;
    crate::ctx::derived(
        sink,
        members::local(members::MOUNTS),
        &format!("{} classified, with the runtime's record of each mount", path.display()),
        &doc,
    )?;
    Ok(Arc::new(map))
}

/// Writes the tree index of the root filesystem and then of every other mount that is walked
/// (each line naming its mount) to `spool`, and stores it as [`members::TREE_INDEX`]. Returns
/// whether the index was written.
fn index_mounts(
    ctx: &mut Ctx<'_>,
    root: &RootFs,
    mounts: &Arc<MountMap>,
    spool: &mut forensic_crypt::Scratch,
    derived: &mut DerivedLists,
    sink: &mut dyn Sink,
) -> io::Result<bool> {
    let pid = ctx.target.pid;
    let defaults = IndexOptions::default();
    let mut budget = defaults.walk.max_entries;
    let mut walks: Vec<Vec<u8>> = vec![Vec::new()];
    walks.extend(mounts.walked().into_iter().map(|m| m.point.clone()));
    for base in walks {
        let what = if base.is_empty() {
            "full-tree index".to_string()
        } else {
            format!("index of mount {}", crate::rootfs::display_path(&base))
        };
        if budget == 0 {
            sink.gap(what, "not indexed: the index's entry limit was reached".into());
            continue;
        }
        let opts = IndexOptions {
            walk: WalkOptions {
                max_entries: budget,
                ..defaults.walk.clone()
            },
            mounts: Some(MountScope {
                map: mounts.clone(),
                base: base.clone(),
            }),
            digests: ctx
                .digests
                .clone()
                .filter(|_| base.is_empty())
                .map(SharedDigests::Record),
            ..defaults.clone()
        };
        let Some(stats) = settle(
            sink,
            &what,
            write_index_observed(
                root,
                spool,
                &opts,
                &mut |e| derived.observe_under(&base, e),
                &walk_progress(ctx),
            ),
        )?
        else {
            if base.is_empty() {
                return Ok(false);
            }
            continue;
        };
        budget = budget.saturating_sub(stats.walk.entries);
        ctx.count(Counter::EntriesIndexed, stats.entries);
        ctx.count(Counter::FilesHashed, stats.files_hashed);
        for s in stats.skipped_list.iter().take(100) {
            let full = if base.is_empty() {
                s.path.clone()
            } else {
                crate::rootfs::copy::joined(&base, &s.path)
            };
            sink.gap(
                format!("index: {}", crate::rootfs::display_path(&full)),
                s.reason.clone(),
            );
        }
    }
    let len = spool.seek(SeekFrom::End(0))?;
    spool.seek(SeekFrom::Start(0))?;
    let mut m = NewMember::new(
        members::local(members::TREE_INDEX),
        Source::Derived {
            derived: format!(
                "walk of /proc/{pid}/root and of each of its mounts but pseudo filesystems (no link followed)"
            ),
        },
    );
    m.size_hint = Some(len);
    sink.member(m, spool)?;
    Ok(true)
}

/// The overlay mount of the container's root: from the runtime record, else the mount table;
/// found once per collection.
fn overlay_dirs(ctx: &Ctx<'_>) -> Option<(PathBuf, Vec<PathBuf>)> {
    ctx.overlay.get_or_init(|| find_overlay_dirs(ctx)).clone()
}

fn find_overlay_dirs(ctx: &Ctx<'_>) -> Option<(PathBuf, Vec<PathBuf>)> {
    if let Some(r) = &ctx.target.record
        && let Some(upper) = r.upper_dir.clone().filter(|u| !u.is_empty())
    {
        return Some((PathBuf::from(upper), r.lower_dirs.iter().map(PathBuf::from).collect()));
    }
    let text = read_proc_bytes(&ctx.proc.path(ctx.target.pid, "mountinfo"), MAX_PROC_FILE).ok()?;
    let table = forensic_proc::mountinfo::parse_mountinfo(&text);
    let root = forensic_proc::mountinfo::root_mount(&table.rows)?;
    let ov = forensic_proc::mountinfo::overlay(root)?;
    let path = |b: &forensic_proc::ByteString| PathBuf::from(std::ffi::OsStr::from_bytes(b.as_bytes()));
    Some((path(ov.upperdir.as_ref()?), ov.lowerdirs.iter().map(path).collect()))
}

fn upper_layer(ctx: &mut Ctx<'_>, sink: &mut dyn Sink) -> io::Result<()> {
    let Some((upper, lowers)) = overlay_dirs(ctx) else {
        sink.gap(
            "writable (upper) layer".into(),
            "the container's root is not an overlay mount with an upper directory visible from here".into(),
        );
        return Ok(());
    };
    let lower_refs: Vec<&std::path::Path> = lowers.iter().map(PathBuf::as_path).collect();
    let opts = UpperOptions {
        copy: CopyOptions {
            max_file_size: Some(ctx.opts.max_file_size),
            ..UpperOptions::default().copy
        },
        ..UpperOptions::default()
    };
    if let Some(stats) = {
        let r = collect_upper(&upper, &lower_refs, sink, &opts);
        settle(sink, &format!("upper layer {}", upper.display()), r)?
    } {
        ctx.count(Counter::UpperAdded, stats.added);
        ctx.count(Counter::UpperModified, stats.modified + stats.added_or_modified);
        ctx.count(Counter::UpperDeleted, stats.deleted);
    }
    Ok(())
}

/// Copies single files of the container (paths relative to its root, e.g. `etc/resolv.conf`) into
/// `prefix/…`; a missing file is skipped.
///
/// # Errors
/// Only when the bundle cannot be written.
pub fn copy_container_files(ctx: &mut Ctx<'_>, sink: &mut dyn Sink, files: &[&str], prefix: &str) -> io::Result<()> {
    let Some(root) = open_root(ctx, sink) else {
        return Ok(());
    };
    let opts = copy_options(ctx);
    for f in files {
        let base = f.rsplit('/').next().unwrap_or(f);
        let r = copy::copy_file(&root, f.as_bytes(), &format!("{prefix}/{base}"), sink, &opts);
        settle(sink, f, r)?;
    }
    Ok(())
}

/// The node's records of the lower layers (tar-split, see [`tarsplit`]), read on a thread of
/// their own from the start of section 5: inflating and parsing them is a few hundred
/// milliseconds per large layer that the tree index, waiting on its hashing threads, has room
/// for. Section 9 takes them ([`LayerRecords::take`]).
#[derive(Debug)]
pub struct LayerRecords {
    lowers: Vec<PathBuf>,
    reading: std::thread::JoinHandle<Vec<Option<Result<LayerSums, Unread>>>>,
}

impl LayerRecords {
    /// Starts reading the records of the container's lower layers; `None` when its root is not
    /// an overlay with lower layers.
    fn start(ctx: &Ctx<'_>) -> Option<LayerRecords> {
        let (_, lowers) = overlay_dirs(ctx).filter(|(_, l)| !l.is_empty())?;
        let dirs = lowers.clone();
        let reading = std::thread::Builder::new()
            .name("layer records".into())
            .spawn(move || dirs.iter().map(|d| read_layer_record(d)).collect())
            .ok()?;
        Some(LayerRecords { lowers, reading })
    }

    /// The records read, one per directory of `lowers` (`None`: this node keeps none; `Err`:
    /// it could not be read); `None` if they were started for other directories.
    fn take(self, lowers: &[PathBuf]) -> Option<Vec<Option<Result<LayerSums, Unread>>>> {
        if self.lowers != lowers {
            return None;
        }
        self.reading.join().ok()
    }
}

/// Reads the record of the layer in `dir`: `None` when this node keeps none.
fn read_layer_record(dir: &std::path::Path) -> Option<Result<LayerSums, Unread>> {
    let path = tarsplit::locate(dir)?;
    let read = std::fs::File::open(&path)
        .map_err(|e| e.to_string())
        .and_then(|f| LayerSums::read(io::BufReader::new(f), &tarsplit::Limits::default()).map_err(|e| e.to_string()));
    Some(read.map_err(|why| Unread { path, why }))
}

/// A layer record that could not be read.
#[derive(Debug)]
struct Unread {
    path: PathBuf,
    why: String,
}

/// What the index of a layer checks its files against, given what reading its record gave; a
/// record that could not be read is a gap.
fn layer_check(read: Option<Result<LayerSums, Unread>>, sink: &mut dyn Sink) -> Option<LayerCheck> {
    match read? {
        Ok(sums) => Some(LayerCheck::Against(std::sync::Arc::new(sums))),
        Err(Unread { path, why }) => {
            sink.gap(
                path.display().to_string(),
                format!(
                    "the layer's record could not be read, its files are not checked (layer_checksum unknown): {why}"
                ),
            );
            Some(LayerCheck::Unavailable)
        }
    }
}

/// Copies the files of lower layer `n` that differ from the layer's record to
/// `layer-changed/<n>/…` ([`forensic_evidence::paths::layer_changed_copy`]), within
/// `--max-file-size` and half the bundle's remaining member room.
pub(crate) fn copy_layer_differs(
    ctx: &mut Ctx<'_>,
    root: &RootFs,
    n: usize,
    paths: &[Vec<u8>],
    sink: &mut dyn Sink,
) -> io::Result<()> {
    let opts = copy_options(ctx);
    let max_files = opts.max_files.min(sink.room() / 2);
    let mut copied = 0u64;
    for (i, rel) in paths.iter().enumerate() {
        if copied >= max_files {
            sink.gap(
                format!("lower layer {n}"),
                format!(
                    "{} more files that differ from the layer's record were not copied: the bundle's member limit",
                    paths.len() - i
                ),
            );
            break;
        }
        let name = forensic_evidence::paths::layer_changed_local(n, rel);
        match copy::copy_file(root, rel, &name, sink, &opts) {
            Ok(true) => copied += 1,
            Ok(false) => {}
            Err(crate::rootfs::RootError::Output { source, .. }) => return Err(source),
            Err(e) => sink.gap(
                forensic_evidence::escape(rel),
                format!("not copied from lower layer {n}: {e}"),
            ),
        }
    }
    ctx.count(Counter::ChangedCopied, copied);
    Ok(())
}

/// Indexes the image's lower layers as present on this node (`layers/<n>.jsonl`), with a list of
/// which directory each is (`layers.json`). Each regular file is checked against the node's
/// record of its layer (`layer_checksum`, CONTENTS.md §7), and one that differs is copied to
/// `layer-changed/<n>/…`.
///
/// # Errors
/// Only when the bundle cannot be written.
pub fn index_lower_layers(ctx: &mut Ctx<'_>, sink: &mut dyn Sink) -> io::Result<()> {
    let Some((_, lowers)) = overlay_dirs(ctx) else {
        sink.gap(
            "image layers".into(),
            "the container's root is not an overlay mount: no layers to index".into(),
        );
        return Ok(());
    };
    let mut list = Vec::new();
    let mut unrecorded = Vec::new();
    let mut records = ctx
        .layer_records
        .take()
        .and_then(|r| r.take(&lowers))
        .unwrap_or_else(|| lowers.iter().map(|d| read_layer_record(d)).collect())
        .into_iter();
    for (i, dir) in lowers.iter().enumerate() {
        let record = records.next().flatten();
        list.push(LowerLayer {
            layer: i,
            path: dir.display().to_string(),
            member: members::layer_index(i),
        });
        let root = match RootFs::open(dir) {
            Ok(r) => r,
            Err(e) => {
                sink.gap(dir.display().to_string(), format!("layer not readable: {e}"));
                continue;
            }
        };
        let layer = layer_check(record, sink).unwrap_or_else(|| {
            unrecorded.push(dir.display().to_string());
            LayerCheck::Unavailable
        });
        let opts = IndexOptions {
            layer: Some(layer),
            digests: ctx.digests.clone().map(SharedDigests::Reuse),
            ..IndexOptions::default()
        };
        let mut spool = forensic_crypt::Scratch::create_in(&std::env::temp_dir())?;
        if let Some(stats) = settle(
            sink,
            &dir.display().to_string(),
            write_index_progress(&root, &mut spool, &opts, &walk_progress(ctx)),
        )? {
            spool.seek(SeekFrom::Start(0))?;
            let m = NewMember::new(
                members::layer_index(i),
                Source::Derived {
                    derived: format!("walk of lower layer {}", dir.display()),
                },
            );
            sink.member(m, &mut spool)?;
            copy_layer_differs(ctx, &root, i, &stats.layer_differs, sink)?;
        }
    }
    // The record is only for this section: free it.
    ctx.digests = None;
    if !unrecorded.is_empty() {
        sink.gap(
            "layer checksums".into(),
            format!(
                "layer checksums not available: this node keeps no tar-split record for {} (containers/storage's overlay-layers/ only); their files are not checked against the image (layer_checksum unknown), compare with the image itself (forensic diff --image)",
                unrecorded.join(", ")
            ),
        );
    }
    let doc = serde_json::to_vec_pretty(&list).map_err(io::Error::other)?;
    crate::ctx::derived(
        sink,
        members::local(members::LAYERS_LIST),
        "lower layers of the container's overlay root, top first",
        &doc,
    )?;
    Ok(())
}
