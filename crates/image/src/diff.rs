//! Comparing a container's filesystem with an image: the change list of `podman diff` or, with
//! [`Rules::Docker`], of `docker diff` (`A path`, `C path`, `D path`), found by content hash as
//! well as metadata.
//!
//! # Rules
//!
//! The container side is the merged view the collector indexed (`5-filesystem/tree-index.jsonl`),
//! optionally with what the overlay writable (upper) layer held ([`WritableLayer`]). These rules
//! reproduce what `podman diff` prints (containers/storage's overlay change walk, then libpod's
//! filter), checked against podman in the end-to-end tests:
//!
//! 1. **A**: the path exists in the container and not in the image. A mount point (a directory
//!    the collector did not enter) that is not in the image is `A` too.
//! 2. **D**: the path exists in the image and not in the container, and its parent exists in the
//!    container as a directory: only the topmost deleted path is listed, not its content.
//! 3. **C**, for a path in both (not a mount point):
//!    - not a directory: the type, content (SHA-256, or size when a hash is missing), permission
//!      bits, owner, symlink target or modification time differ; or the path is in the writable
//!      layer at all (podman lists every copied-up file, even one rewritten with the same bytes
//!      and times: reason `written`);
//!    - a directory: its permission bits or modification time differ (podman ignores a
//!      directory's owner: that reason shows only with [`DiffOptions::all`]);
//!    - times compare like containers/storage's `sameFsTime`: equal, or the same second when
//!      one side has no sub-second part (tar headers keep whole seconds).
//! 4. Every ancestor (except `/`) of an `A` or `D` path that is not itself listed is `C` with
//!    reason `parent`, as podman does for parents whose own metadata did not change.
//! 5. A directory the writable layer marks **opaque** (removed and created again) is `D` when
//!    the image has it, like podman; what is below it is compared as usual and image paths
//!    below it that are gone are not listed.
//! 6. Without [`DiffOptions::all`], like podman: the root directory is not compared and the
//!    paths the runtime makes or mounts itself ([`crate::runtime_paths`]) are not listed.
//!
//! # Docker's rules ([`Rules::Docker`])
//!
//! `docker diff` (moby `pkg/archive/changes.go`, the naive diff of the container's layer against
//! its parent, the `-init` layer) differs from podman, and [`Rules::Docker`] reproduces it:
//!
//! - **C**, for a path in both: the type, permission bits or owner differ; for anything but a
//!   directory (and, as moby's `S_IFDIR` bit test has it, a socket or block device) also the
//!   modification time (moby's `sameFsTime`: equal, or the same second when one side has no
//!   sub-second part) or the size. Docker reads no content and has no `written` rule; a
//!   directory's time is ignored, its owner compared.
//! - **Parents**: every directory (except `/`) with *any* change below it (`A`, `C` or `D`) is
//!   `C` (reason `parent`), where podman lists only the ancestors of `A` and `D`.
//! - **Opaque directories** are compared like any directory; what vanished below them is `D`
//!   path by path (topmost only).
//! - **Runtime paths** are the init layer's ([`crate::runtime_paths::DOCKER`]): they are in the
//!   baseline, so they are no change and make no parent `C`.
//! - **Content changes docker cannot see** (bytes differ by SHA-256, size and modification time
//!   as in the image: the trick moby's own comment names) are not in the change list without
//!   [`DiffOptions::all`], so that the list is `docker diff`'s; they are in [`Diff::unlisted`],
//!   which the caller turns into findings. With `all`, they are listed (reason `content`) with
//!   their parents. A symlink's size is its target's length (what `lstat` shows): a target changed
//!   to one of the same length, with the time put back, is such a change too (reason `link`).
//!
//! Not compared (the file index does not carry them): the device number of device nodes and the
//! `security.capability` attribute, which docker also compares; a `setcap` alone (no time or
//! mode change) is therefore not listed with docker's rules.
//!
//! Beyond podman: content is compared by hash, so a file whose bytes changed but whose size and
//! modification time were put back is `C` (`content`) even if the writable layer was not
//! collected; and the image is the original, not the node's copy of its layers, so a change
//! made to those (which podman cannot see) shows, with reason `lower-layer` when the writable
//! layer is known and does not hold the path.
//!
//! # Unknown, not deleted
//!
//! Paths the collector never indexed are unknown, never `D`: everything below a directory the
//! container index marks as not entered (a mount point of another or a pseudo filesystem,
//! the depth limit, an error), below an entry it could not examine, and below the pseudo
//! filesystem roots `/proc`, `/sys` and `/dev` when the index has no entered directory there.
//! They are counted in [`Diff::not_compared`].

use crate::index::{FileEntry, FileIndex, Kind};
use crate::runtime_paths::{RuntimeMade, Stage};
use crate::tree;
use serde::Serialize;
use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Bound;

#[cfg(test)]
mod rules_tests;
#[cfg(test)]
mod tests;

/// Pseudo filesystem roots: below them, nothing the image holds is visible in a container.
const PSEUDO_ROOTS: [&str; 3] = ["/proc", "/sys", "/dev"];

/// The container's filesystem as collected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerFs {
    /// Every entry of the merged root filesystem that was examined.
    pub files: FileIndex,
    /// Paths whose content is not known, with the collector's reason: directories not entered
    /// (mount points, depth limit, errors) and entries that could not be examined.
    pub unexplored: BTreeMap<String, String>,
    /// What the overlay writable layer held, when it was collected.
    pub writable: Option<WritableLayer>,
}

/// The paths in the container's overlay writable (upper) layer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WritableLayer {
    /// Entries present in the layer (files, links, directories…), copied up or created.
    pub entries: BTreeSet<String>,
    /// Paths the layer deletes (whiteouts).
    pub deleted: BTreeSet<String>,
    /// Directories the layer makes opaque (removed and created again).
    pub opaque: BTreeSet<String>,
    /// Entries that are empty: regular files of size 0, and directories with nothing of the
    /// layer below them (a runtime's mount points are such entries).
    pub empty: BTreeSet<String>,
    /// The directories among [`WritableLayer::entries`].
    pub dirs: BTreeSet<String>,
}

impl WritableLayer {
    /// Adds to [`WritableLayer::empty`] the directories of [`WritableLayer::dirs`] that have
    /// nothing of the layer below them: no entry, no whiteout. Call it once every entry is in.
    pub fn mark_empty_dirs(&mut self) {
        for dir in &self.dirs {
            if below(&self.entries, dir).next().is_none() && below(&self.deleted, dir).next().is_none() {
                self.empty.insert(dir.clone());
            }
        }
    }

    /// Whether the layer holds something below `dir`, all of it directories or paths `made` by
    /// the runtime (at least one), and deletes nothing there: `dir` changed only because the
    /// runtime made its mount points in it.
    fn only_runtime_below(&self, dir: &str, made: impl Fn(&str) -> bool) -> bool {
        let mut any = false;
        for p in below(&self.entries, dir) {
            if made(p) {
                any = true;
            } else if !self.dirs.contains(p) {
                return false;
            }
        }
        any && below(&self.deleted, dir).next().is_none()
    }
}

/// The paths of `set` strictly below the directory `dir`.
fn below<'s>(set: &'s BTreeSet<String>, dir: &str) -> impl Iterator<Item = &'s String> {
    // Below `/a` lies `/a/` up to, not including, `/a0` ('0' follows '/').
    let (from, to) = if dir == "/" {
        ("/".to_string(), "0".to_string())
    } else {
        (format!("{dir}/"), format!("{dir}0"))
    };
    set.range::<str, _>((Bound::Included(from.as_str()), Bound::Excluded(to.as_str())))
        .filter(move |p| p.as_str() != "/")
}

/// Whose change list to reproduce.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Rules {
    /// `podman diff`'s (containers/storage and libpod); also used for CRI runtimes, which have
    /// no diff command of their own.
    #[default]
    Podman,
    /// `docker diff`'s (moby `pkg/archive/changes.go`).
    Docker,
}

impl Rules {
    /// `podman` or `docker`.
    pub fn as_str(self) -> &'static str {
        match self {
            Rules::Podman => "podman",
            Rules::Docker => "docker",
        }
    }
}

/// Options of [`diff`]. Build with struct-update syntax:
/// `DiffOptions { all: true, ..DiffOptions::default() }`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiffOptions {
    /// Also list what the runtime's diff leaves out: the root directory, the paths the runtime
    /// makes ([`DiffOptions::runtime_made`]), directories whose only change is their owner
    /// (podman), and content changes docker cannot see (docker).
    pub all: bool,
    /// Podman's rules (the default) or docker's.
    pub rules: Rules,
    /// The paths the runtime makes or mounts itself.
    pub runtime_made: RuntimeMade,
}

impl DiffOptions {
    /// Docker's rules and runtime paths.
    pub fn docker(all: bool) -> Self {
        DiffOptions {
            all,
            rules: Rules::Docker,
            runtime_made: RuntimeMade::docker(),
        }
    }
}

/// `A`, `C` or `D`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum ChangeKind {
    /// In the container, not in the image.
    #[serde(rename = "A")]
    Added,
    /// In both, different.
    #[serde(rename = "C")]
    Changed,
    /// In the image, not in the container.
    #[serde(rename = "D")]
    Deleted,
}

impl ChangeKind {
    /// The letter `podman diff` prints.
    pub fn letter(self) -> char {
        match self {
            ChangeKind::Added => 'A',
            ChangeKind::Changed => 'C',
            ChangeKind::Deleted => 'D',
        }
    }
}

/// Why a path is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// The type of entry differs (a file became a symlink, …).
    Type,
    /// The content differs (SHA-256, or size).
    Content,
    /// The permission bits differ (including setuid, setgid, sticky).
    Mode,
    /// The owner or group differs.
    Owner,
    /// The symlink target differs.
    Link,
    /// The modification time differs.
    Mtime,
    /// The path is in the container's writable layer (written, copied up or created there).
    Written,
    /// The change is not in the container's writable layer: the node's copy of the image layers
    /// differs from this image.
    LowerLayer,
    /// Listed because something below it was added or deleted.
    Parent,
    /// A directory removed and created again (opaque in the writable layer).
    Replaced,
}

impl Reason {
    /// The stable name used in text and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Type => "type",
            Reason::Content => "content",
            Reason::Mode => "mode",
            Reason::Owner => "owner",
            Reason::Link => "link",
            Reason::Mtime => "mtime",
            Reason::Written => "written",
            Reason::LowerLayer => "lower-layer",
            Reason::Parent => "parent",
            Reason::Replaced => "replaced",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of the change list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// `A`, `C` or `D`.
    pub kind: ChangeKind,
    /// Absolute path.
    pub path: String,
    /// Why, sorted; empty for a plain `A` or `D`.
    pub reasons: Vec<Reason>,
}

impl fmt::Display for Change {
    /// `podman diff` form: `C /etc/passwd`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.letter(), self.path)
    }
}

/// Image paths that were not compared because the container side is unknown there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotCompared {
    /// The container directory (or entry) below which nothing is known.
    pub path: String,
    /// Why (the collector's note).
    pub why: String,
    /// How many image paths lie below it.
    pub image_entries: u64,
}

/// The result of [`diff`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    /// The change list, sorted by path.
    pub changes: Vec<Change>,
    /// Where image paths were not compared, sorted by path.
    pub not_compared: Vec<NotCompared>,
    /// Changes the runtime's own diff cannot show and that are therefore not in
    /// [`Diff::changes`] (only without [`DiffOptions::all`], with docker's rules: a file whose
    /// bytes differ while its size and modification time are the image's), sorted by path.
    pub unlisted: Vec<Change>,
}

/// Compares `container` with `image` (see the module documentation for the rules).
///
/// ```
/// use forensic_image::diff::{diff, ContainerFs, DiffOptions};
/// use forensic_image::index::{FileEntry, FileIndex, Kind};
/// let dir = |p: &str| FileEntry { path: p.into(), kind: Kind::Dir, mode: 0o755, uid: 0, gid: 0,
///     size: 0, mtime_ns: Some(1), sha256: None, link_target: None };
/// let image: FileIndex = [("/etc".to_string(), dir("/etc"))].into();
/// let mut container = ContainerFs { files: image.clone(), ..Default::default() };
/// container.files.insert("/etc/cron.d".into(), dir("/etc/cron.d"));
/// let d = diff(&image, &container, &DiffOptions::default());
/// let lines: Vec<String> = d.changes.iter().map(|c| c.to_string()).collect();
/// assert_eq!(lines, ["C /etc", "A /etc/cron.d"]);
/// ```
pub fn diff(image: &FileIndex, container: &ContainerFs, opts: &DiffOptions) -> Diff {
    let around = Around {
        unexplored: &container.unexplored,
        writable: container.writable.as_ref(),
    };
    let ok = |e| Ok::<_, std::convert::Infallible>(e);
    match diff_sorted(image.values().map(ok), container.files.values().map(ok), &around, opts) {
        Ok((d, _)) => d,
        Err(never) => match never {},
    }
}

/// What the container side of [`diff_sorted`] knows besides its entries.
#[derive(Debug, Clone, Copy)]
pub struct Around<'a> {
    /// Paths whose content is not known, with the collector's reason
    /// ([`ContainerFs::unexplored`]).
    pub unexplored: &'a BTreeMap<String, String>,
    /// What the overlay writable layer held, when it was collected.
    pub writable: Option<&'a WritableLayer>,
}

/// The entries of both sides that a [`diff_sorted`] result refers to: those of every listed,
/// unlisted or deleted path, and every directory (the parents rule 4 lists), by path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kept {
    /// Image entries.
    pub image: FileIndex,
    /// Container entries.
    pub container: FileIndex,
    /// Entries the image side gave in all.
    pub image_entries: u64,
}

/// [`diff`] as a merge join of two streams of entries, each in strictly increasing order of
/// path (bytewise, the order of a [`FileIndex`]), holding in memory only the directories, the
/// changes and their entries ([`Kept`]): the memory of a diff grows with the number of
/// directories and changes, not of files. Entries out of order (not past the last one of their
/// side) are not compared: the caller gives sorted, de-duplicated streams.
///
/// # Errors
/// The first error either stream gives.
pub fn diff_sorted<I, C, A, B, E>(
    image: I,
    container: C,
    around: &Around<'_>,
    opts: &DiffOptions,
) -> Result<(Diff, Kept), E>
where
    I: IntoIterator<Item = Result<A, E>>,
    C: IntoIterator<Item = Result<B, E>>,
    A: Borrow<FileEntry>,
    B: Borrow<FileEntry>,
{
    let mut j = Join {
        around,
        opts,
        changes: BTreeMap::new(),
        not_compared: BTreeMap::new(),
        unlisted: Vec::new(),
        replaced: Vec::new(),
        kept: Kept::default(),
    };
    let mut image = image.into_iter().peekable();
    let mut container = container.into_iter().peekable();
    let (mut last_image, mut last_container): (Option<String>, Option<String>) = (None, None);
    loop {
        if matches!(image.peek(), Some(Err(_))) {
            if let Some(Err(e)) = image.next() {
                return Err(e);
            }
        }
        if matches!(container.peek(), Some(Err(_))) {
            if let Some(Err(e)) = container.next() {
                return Err(e);
            }
        }
        let order = match (image.peek(), container.peek()) {
            (None, None) => break,
            (Some(Ok(i)), Some(Ok(c))) => entry(i).path.cmp(&entry(c).path),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        let i = match order {
            std::cmp::Ordering::Greater => None,
            _ => image.next().and_then(Result::ok),
        };
        let c = match order {
            std::cmp::Ordering::Less => None,
            _ => container.next().and_then(Result::ok),
        };
        let i = i.filter(|i| in_order(&mut last_image, &entry(i).path));
        let c = c.filter(|c| in_order(&mut last_container, &entry(c).path));
        if i.is_some() {
            j.kept.image_entries += 1;
        }
        match (i, c) {
            (i, Some(c)) => j.in_container(i.as_ref().map(entry), entry(&c)),
            (Some(i), None) => j.image_only(entry(&i)),
            (None, None) => {}
        }
    }
    Ok(j.finish())
}

/// The entry a stream item holds.
fn entry<E: Borrow<FileEntry>>(e: &E) -> &FileEntry {
    e.borrow()
}

/// Whether `path` comes after `last` (then it becomes `last`).
fn in_order(last: &mut Option<String>, path: &str) -> bool {
    if last.as_deref().is_some_and(|l| l >= path) {
        return false;
    }
    *last = Some(path.to_string());
    true
}

/// The state of [`diff_sorted`]'s merge join.
struct Join<'a, 'o> {
    around: &'a Around<'a>,
    opts: &'o DiffOptions,
    changes: BTreeMap<String, Change>,
    not_compared: BTreeMap<String, NotCompared>,
    unlisted: Vec<Change>,
    /// Directories replaced (opaque in the writable layer), met so far: they come before the
    /// paths below them.
    replaced: Vec<String>,
    kept: Kept,
}

impl Join<'_, '_> {
    /// A path the container has, with the image's entry if it has one.
    fn in_container(&mut self, i: Option<&FileEntry>, c: &FileEntry) {
        let path = &c.path;
        let writable = self.around.writable;
        let opts = self.opts;
        if c.kind == Kind::Dir {
            self.kept.container.insert(path.clone(), c.clone());
            if let Some(i) = i.filter(|i| i.kind == Kind::Dir) {
                self.kept.image.insert(path.clone(), i.clone());
            }
        }
        if path == "/" && !opts.all {
            return;
        }
        let change = match i {
            None => Some(added(path, writable)),
            Some(_) if self.around.unexplored.contains_key(path) => None,
            Some(i) if opts.rules == Rules::Docker => match compare_docker(i, c, writable) {
                Some((ch, false)) if !opts.all => {
                    self.keep(i, c);
                    self.unlisted.push(ch);
                    None
                }
                other => other.map(|(ch, _)| ch),
            },
            Some(i) => compare(i, c, writable, opts),
        };
        if let Some(ch) = change {
            if ch.reasons.contains(&Reason::Replaced) {
                self.replaced.push(path.clone());
            }
            if let Some(i) = i {
                self.kept.image.insert(path.clone(), i.clone());
            }
            self.kept.container.insert(path.clone(), c.clone());
            self.changes.insert(path.clone(), ch);
        }
    }

    fn keep(&mut self, i: &FileEntry, c: &FileEntry) {
        self.kept.image.insert(i.path.clone(), i.clone());
        self.kept.container.insert(c.path.clone(), c.clone());
    }

    /// A path only the image has: deleted, or not compared where the container is unknown.
    /// Everything of the container this needs (its directories above the path, the replaced
    /// directories) comes before the path and has been met.
    fn image_only(&mut self, i: &FileEntry) {
        let path = &i.path;
        let dirs = &self.kept.container;
        let is_dir = |p: &str| dirs.get(p).is_some_and(|e| e.kind == Kind::Dir);
        if let Some((root, why)) = unknown_below(path, self.around.unexplored, is_dir) {
            let e = self
                .not_compared
                .entry(root.to_string())
                .or_insert_with(|| NotCompared {
                    path: root.to_string(),
                    why: why.to_string(),
                    image_entries: 0,
                });
            e.image_entries += 1;
            return;
        }
        if self.replaced.iter().any(|o| is_below(path, o)) {
            return;
        }
        if tree::parent(path).is_some_and(is_dir) {
            self.kept.image.insert(path.clone(), i.clone());
            self.changes.insert(path.clone(), deleted(path, self.around.writable));
        }
    }

    fn finish(self) -> (Diff, Kept) {
        let Join {
            opts,
            around,
            mut changes,
            not_compared,
            mut unlisted,
            kept,
            ..
        } = self;
        let writable = around.writable;
        if !opts.all {
            let made = |p: &str| opts.runtime_made.stage_of(p, writable) == Some(Stage::BeforeParents);
            changes.retain(|path, c| !made(path) && !touched_by_runtime(c, writable, made));
            unlisted.retain(|c: &Change| opts.runtime_made.stage_of(&c.path, writable).is_none());
        }
        add_parents(&mut changes, opts.rules == Rules::Docker);
        let changes = changes
            .into_values()
            .filter(|c| opts.all || opts.runtime_made.stage_of(&c.path, writable) != Some(Stage::AfterParents))
            .collect();
        let d = Diff {
            changes,
            not_compared: not_compared.into_values().collect(),
            unlisted,
        };
        (d, kept)
    }
}

fn added(path: &str, writable: Option<&WritableLayer>) -> Change {
    let mut reasons = Vec::new();
    if writable.is_some_and(|w| !w.entries.contains(path)) {
        reasons.push(Reason::LowerLayer);
    }
    Change {
        kind: ChangeKind::Added,
        path: path.to_string(),
        reasons,
    }
}

fn deleted(path: &str, writable: Option<&WritableLayer>) -> Change {
    let mut reasons = Vec::new();
    if writable.is_some_and(|w| !w.deleted.contains(path)) {
        reasons.push(Reason::LowerLayer);
    }
    Change {
        kind: ChangeKind::Deleted,
        path: path.to_string(),
        reasons,
    }
}

/// The change of a path in both, if any.
fn compare(i: &FileEntry, c: &FileEntry, writable: Option<&WritableLayer>, opts: &DiffOptions) -> Option<Change> {
    let path = c.path.as_str();
    let in_upper = writable.map(|w| w.entries.contains(path));
    if c.kind == Kind::Dir && i.kind == Kind::Dir {
        if writable.is_some_and(|w| w.opaque.contains(path)) {
            return Some(Change {
                kind: ChangeKind::Deleted,
                path: path.to_string(),
                reasons: vec![Reason::Replaced],
            });
        }
        let mut reasons = Vec::new();
        if i.mode != c.mode {
            reasons.push(Reason::Mode);
        }
        if opts.all && (i.uid, i.gid) != (c.uid, c.gid) {
            reasons.push(Reason::Owner);
        }
        if !same_time(i.mtime_ns, c.mtime_ns) {
            reasons.push(Reason::Mtime);
        }
        if reasons.is_empty() {
            return None;
        }
        if in_upper == Some(false) {
            reasons.push(Reason::LowerLayer);
        }
        return Some(changed(path, reasons));
    }
    let mut reasons = if i.kind != c.kind {
        vec![Reason::Type]
    } else {
        same_kind_reasons(i, c)
    };
    match in_upper {
        Some(true) => reasons.push(Reason::Written),
        Some(false) if !reasons.is_empty() => reasons.push(Reason::LowerLayer),
        _ => {}
    }
    (!reasons.is_empty()).then(|| changed(path, reasons))
}

/// Differences between two non-directory entries of the same type.
fn same_kind_reasons(i: &FileEntry, c: &FileEntry) -> Vec<Reason> {
    let mut reasons = Vec::new();
    if i.kind == Kind::File {
        let content = match (i.sha256, c.sha256) {
            (Some(a), Some(b)) => a != b,
            _ => i.size != c.size,
        };
        if content {
            reasons.push(Reason::Content);
        }
    }
    if i.kind != Kind::Symlink && i.mode != c.mode {
        reasons.push(Reason::Mode);
    }
    if (i.uid, i.gid) != (c.uid, c.gid) {
        reasons.push(Reason::Owner);
    }
    if i.kind == Kind::Symlink && i.link_target != c.link_target {
        reasons.push(Reason::Link);
    }
    if !same_time(i.mtime_ns, c.mtime_ns) {
        reasons.push(Reason::Mtime);
    }
    reasons
}

/// Whether `c` is a directory whose only change is its modification time, and the writable
/// layer holds below it nothing but the runtime's own paths (`made`): runc creating a mount point
/// in `/etc` changes the time of `/etc`.
fn touched_by_runtime(c: &Change, writable: Option<&WritableLayer>, made: impl Fn(&str) -> bool) -> bool {
    c.kind == ChangeKind::Changed
        && c.reasons == [Reason::Mtime]
        && writable.is_some_and(|w| w.dirs.contains(&c.path) && w.only_runtime_below(&c.path, made))
}

/// The change of a path in both under docker's rules (moby's `statDifferent`), if any, and
/// whether `docker diff` shows it: a file whose bytes alone differ (by SHA-256; same size and
/// modification time) is a change docker cannot see, with reason `content`; so is a symlink whose
/// target alone changed, to one of the same length (reason `link`).
fn compare_docker(i: &FileEntry, c: &FileEntry, writable: Option<&WritableLayer>) -> Option<(Change, bool)> {
    let mut reasons = Vec::new();
    if i.kind != c.kind {
        reasons.push(Reason::Type);
    }
    if i.mode != c.mode {
        reasons.push(Reason::Mode);
    }
    if (i.uid, i.gid) != (c.uid, c.gid) {
        reasons.push(Reason::Owner);
    }
    // moby tests `mode & S_IFDIR`, a bit sockets and block devices share with directories.
    let timed = |k: Kind| !matches!(k, Kind::Dir | Kind::Socket | Kind::Block);
    if timed(i.kind) {
        if docker_size(i) != docker_size(c) {
            reasons.push(Reason::Content);
        }
        if !docker_same_time(i.mtime_ns, c.mtime_ns) {
            reasons.push(Reason::Mtime);
        }
    }
    let visible = !reasons.is_empty();
    let hash_differs =
        i.kind == Kind::File && c.kind == Kind::File && matches!((i.sha256, c.sha256), (Some(a), Some(b)) if a != b);
    if hash_differs && !reasons.contains(&Reason::Content) {
        reasons.push(Reason::Content);
    }
    if i.kind == Kind::Symlink && c.kind == Kind::Symlink && i.link_target != c.link_target {
        reasons.push(Reason::Link);
    }
    if reasons.is_empty() {
        return None;
    }
    reasons.sort();
    if writable.is_some_and(|w| !w.entries.contains(&c.path)) {
        reasons.push(Reason::LowerLayer);
    }
    Some((changed(&c.path, reasons), visible))
}

/// The size moby's `lstat` sees: a symlink's is its target's length (image indexes record 0).
fn docker_size(e: &FileEntry) -> u64 {
    match (&e.kind, &e.link_target) {
        (Kind::Symlink, Some(t)) => t.len() as u64,
        _ => e.size,
    }
}

/// moby's `sameFsTime`: equal, or the same second when either side has no sub-second part. An
/// unknown time is never a difference.
pub fn docker_same_time(a: Option<i64>, b: Option<i64>) -> bool {
    let (Some(a), Some(b)) = (a, b) else {
        return true;
    };
    const NS: i64 = 1_000_000_000;
    let (a_s, a_n) = (a.div_euclid(NS), a.rem_euclid(NS));
    let (b_s, b_n) = (b.div_euclid(NS), b.rem_euclid(NS));
    a_s == b_s && (a_n == b_n || a_n == 0 || b_n == 0)
}

fn changed(path: &str, reasons: Vec<Reason>) -> Change {
    Change {
        kind: ChangeKind::Changed,
        path: path.to_string(),
        reasons,
    }
}

/// Rule 4: every ancestor (except `/`) of a listed change is listed too: podman lists the
/// ancestors of an `A` or `D` only (`of_any` false), docker those of any change (`of_any` true).
fn add_parents(changes: &mut BTreeMap<String, Change>, of_any: bool) {
    let mut parents = BTreeSet::new();
    for c in changes.values() {
        if !of_any && c.kind == ChangeKind::Changed {
            continue;
        }
        let mut p = tree::parent(&c.path);
        while let Some(dir) = p.filter(|d| *d != "/") {
            if !parents.insert(dir.to_string()) {
                break;
            }
            p = tree::parent(dir);
        }
    }
    for dir in parents {
        changes
            .entry(dir.clone())
            .or_insert_with(|| changed(&dir, vec![Reason::Parent]));
    }
}

/// Whether two modification times are the same the way containers/storage's `sameFsTime`
/// judges: equal, or the same second (or one second apart, rounded up) when either side has no
/// sub-second part. An unknown time is never a difference.
pub fn same_time(a: Option<i64>, b: Option<i64>) -> bool {
    let (Some(a), Some(b)) = (a, b) else {
        return true;
    };
    if a == b {
        return true;
    }
    const NS: i64 = 1_000_000_000;
    let (a_s, a_n) = (a.div_euclid(NS), a.rem_euclid(NS));
    let (b_s, b_n) = (b.div_euclid(NS), b.rem_euclid(NS));
    if a_n != 0 && b_n != 0 {
        return false;
    }
    a_s == b_s || (b_n == 0 && a_s == b_s - 1) || (a_n == 0 && a_s - 1 == b_s)
}

/// The container path below which `path` is unknown, with the reason: a directory the collector
/// did not enter (or an entry it could not examine), or a pseudo filesystem root it did not
/// index as a directory (`is_dir`).
fn unknown_below<'c>(
    path: &str,
    unexplored: &'c BTreeMap<String, String>,
    is_dir: impl Fn(&str) -> bool,
) -> Option<(&'c str, &'c str)> {
    let mut p = Some(path);
    while let Some(dir) = p {
        if let Some((k, why)) = unexplored.get_key_value(dir) {
            return Some((k.as_str(), why.as_str()));
        }
        p = tree::parent(dir);
    }
    PSEUDO_ROOTS
        .iter()
        .find_map(|root| (is_below(path, root) && !is_dir(root)).then_some((*root, "pseudo filesystem: not indexed")))
}

/// Whether `path` lies strictly below the directory `dir`.
pub(crate) fn is_below(path: &str, dir: &str) -> bool {
    if dir == "/" {
        return path != "/" && path.starts_with('/');
    }
    path.len() > dir.len() && path.starts_with(dir) && path.as_bytes().get(dir.len()) == Some(&b'/')
}
