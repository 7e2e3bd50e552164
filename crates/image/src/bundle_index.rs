//! Reading a bundle for `diff`: the container's filesystem (the full-tree index and the overlay
//! writable layer), the image as it was on the node (the lower-layer indexes), and the content of
//! the files the findings read.
//!
//! Members read:
//!
//! - [`TREE_INDEX`]: every entry of the container's root filesystem (see [`crate::diff`]);
//! - [`UPPER_CHANGES`]: what the writable layer holds (absent when the root was not an overlay);
//! - [`LAYERS_LIST`] and `9-image/layers/N.jsonl`: the indexes of the overlay lower directories,
//!   top first, merged bottom-up with overlayfs semantics (see `lower_layers`);
//! - `5-filesystem/upper/<path>` (every file the container wrote), then
//!   `5-filesystem/changed/<path>` (files changed since the container started, e.g. in the
//!   node's copy of an image layer) and then `5-filesystem/root/<path>` (copies of the places
//!   attackers use) for file contents.
//!
//! # Security
//! Verification (SPEC §11) is the caller's job, before this. Because the file may change after
//! it was verified, every member read here is hashed again while it streams and compared with the
//! manifest: with [`Check::Strict`] a mismatch is an error; with [`Check::Lenient`] (a bundle the
//! examiner chose to use although it did not verify) it is a warning, see
//! [`BundleEvidence::warnings`]. Member names are looked up, never used as file paths. Lines,
//! entries, layers and contents are bounded by [`ReadLimits`].

use crate::diff::{ContainerFs, WritableLayer};
use crate::findings::Contents;
use crate::index::{FileEntry, FileIndex, Kind, spilled};
use crate::index_line::{self, IndexLine};
use crate::lower_layers;
use forensic_bundle::checked::{CheckedError, CheckedMembers};
use forensic_bundle::digest::Digest;
use forensic_bundle::manifest::Manifest;
use forensic_bundle::verify::OpenReader;
use forensic_disk::spill::Sorter;
use forensic_evidence::records::EntryType;
use forensic_evidence::records::container::{ContainerJson, ContainerRecord};
use forensic_evidence::records::tree::LayerChecksum;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, BufRead};

use forensic_evidence::lines::{LineLimits, for_each_line};
pub use forensic_evidence::members::{CONTAINER, LAYERS_LIST, TREE_INDEX, UPPER_CHANGES};

/// Why the bundle's filesystem evidence could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleIndexError {
    /// A member could not be read again, or did not check against the manifest (the ZIP
    /// directory, a member not in the manifest or differing from it, no manifest for a strict
    /// check).
    #[error(transparent)]
    Checked(#[from] CheckedError),
    /// Reading or decompressing a member failed.
    #[error("reading member {member}: {source}")]
    Io {
        /// The member (or `the bundle` for the file itself).
        member: String,
        /// The error.
        source: io::Error,
    },
    /// A member `diff` needs is not in the bundle.
    #[error("the bundle has no member {member}: {why}")]
    Missing {
        /// The member.
        member: String,
        /// What it would have held.
        why: &'static str,
    },
    /// A line of a JSON member is not what the collector writes.
    #[error("{member} line {line}: {why}")]
    Line {
        /// The member.
        member: String,
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        why: String,
    },
    /// A member's contents are not what CONTENTS.md says, or a line reader limit was reached
    /// (the member, line and limit are in it).
    #[error(transparent)]
    Contents(#[from] forensic_evidence::EvidenceError),
    /// Sorting entries on disk (temporary files) failed.
    #[error("sorting {what} in temporary files: {source}")]
    Spool {
        /// What was being sorted.
        what: &'static str,
        /// The error.
        source: io::Error,
    },
    /// A reader limit was reached.
    #[error("{member}: {why}")]
    Limit {
        /// The member.
        member: String,
        /// Which limit.
        why: String,
    },
}

pub use forensic_bundle::checked::Check;

/// Bounds on what is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// Longest JSON line, in bytes. Default 1 MiB.
    pub max_line: usize,
    /// Most entries in an index (the tree index, or all lower layers together). Default 10,000,000.
    pub max_entries: u64,
    /// Most lower layers. Default 500.
    pub max_layers: usize,
    /// Largest file content read for the findings; larger copies are skipped. Default 4 MiB.
    pub max_content: u64,
    /// Largest `layers.json`. Default 1 MiB.
    pub max_list: u64,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_line: 1 << 20,
            max_entries: 10_000_000,
            max_layers: 500,
            max_content: 4 << 20,
            max_list: 1 << 20,
        }
    }
}

/// The members of one bundle, read with checking.
pub struct BundleEvidence<'s, S: OpenReader + ?Sized> {
    members: CheckedMembers<'s, S>,
    limits: ReadLimits,
    /// Path → member of the writable layer's copies, learned from [`UPPER_CHANGES`].
    upper_members: BTreeMap<String, String>,
    /// Lower-layer files that differ from the node's record of their layer, learned by
    /// [`BundleEvidence::image_from_layers`].
    layer_mismatches: Vec<LayerMismatch>,
    /// Regular files on tmpfs mounts, learned by [`BundleEvidence::container`]: the first
    /// [`MAX_TMPFS_FILES`], and how many more.
    tmpfs_files: Vec<TmpfsFile>,
    tmpfs_more: u64,
}

/// Most regular files on tmpfs mounts kept one by one (`file-on-tmpfs` findings); the rest are
/// counted.
pub const MAX_TMPFS_FILES: usize = 100;

/// A regular file on a tmpfs mount: its tree-index line says `"mount_kind": "tmpfs"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TmpfsFile {
    /// The file's path in the container.
    pub path: String,
    /// The mount point of its tmpfs.
    pub mount: String,
    /// Line number in [`TREE_INDEX`].
    pub line: u64,
    /// Its index line.
    pub entry: FileEntry,
}

/// A file of a lower layer whose index line says `"layer_checksum": "differs"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerMismatch {
    /// The layer (0 is the topmost).
    pub layer: usize,
    /// The file's path in the layer.
    pub path: String,
    /// The layer's index member and line number.
    pub index_member: String,
    /// Line number in `index_member`.
    pub line: u64,
    /// The member holding the file's copy (`9-image/layer-changed/N/…`), when the bundle has it.
    pub copy: Option<String>,
}

/// File contents read for the findings, with the member each came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadedContents {
    /// Content by container path.
    pub contents: Contents,
    /// Member name by container path.
    pub members: BTreeMap<String, String>,
}

impl<'s, S: OpenReader + ?Sized> BundleEvidence<'s, S> {
    /// Reads the bundle's ZIP directory. `manifest` is the one verification read; with
    /// [`Check::Strict`] it is required.
    ///
    /// # Errors
    /// [`BundleIndexError::Container`] or [`BundleIndexError::Io`] when the ZIP directory cannot
    /// be read; [`BundleIndexError::NoManifest`] for a strict check without a manifest.
    pub fn open(
        src: &'s S,
        manifest: Option<&Manifest>,
        check: Check,
        limits: ReadLimits,
    ) -> Result<Self, BundleIndexError> {
        Ok(BundleEvidence {
            members: CheckedMembers::open(src, manifest, check)?,
            limits,
            upper_members: BTreeMap::new(),
            layer_mismatches: Vec::new(),
            tmpfs_files: Vec::new(),
            tmpfs_more: 0,
        })
    }

    /// The regular files on tmpfs mounts (filled by [`BundleEvidence::container`]), in index
    /// order.
    pub fn tmpfs_files(&self) -> &[TmpfsFile] {
        &self.tmpfs_files
    }

    /// How many more regular files on tmpfs mounts the index lists past [`MAX_TMPFS_FILES`].
    pub fn tmpfs_files_more(&self) -> u64 {
        self.tmpfs_more
    }

    /// The lower-layer files that differ from the node's record of their layer (filled by
    /// [`BundleEvidence::image_from_layers`]), bottom layer first.
    pub fn layer_mismatches(&self) -> &[LayerMismatch] {
        &self.layer_mismatches
    }

    /// What was used although it did not check (only with [`Check::Lenient`]), in the order met.
    pub fn warnings(&self) -> &[String] {
        self.members.warnings()
    }

    /// Whether the bundle has a member of this name.
    pub fn has_member(&self, name: &str) -> bool {
        self.members.has_member(name)
    }

    /// The SHA-256 the manifest gives for a member.
    pub fn manifest_digest(&self, name: &str) -> Option<Digest> {
        self.members.manifest_digest(name)
    }

    /// Streams member `name` through `f`, then checks what was read against the manifest.
    fn stream<T>(
        &mut self,
        name: &str,
        why: &'static str,
        f: impl FnOnce(&mut dyn BufRead) -> Result<T, BundleIndexError>,
    ) -> Result<T, BundleIndexError> {
        self.need(name, why)?;
        self.members.stream(name, f)
    }

    /// [`BundleIndexError::Missing`], saying `why` the member was wanted, when the bundle lacks it.
    fn need(&self, name: &str, why: &'static str) -> Result<(), BundleIndexError> {
        if self.members.has_member(name) {
            return Ok(());
        }
        Err(BundleIndexError::Missing {
            member: name.to_string(),
            why,
        })
    }

    /// Reads a whole member of at most `max` bytes.
    ///
    /// # Errors
    /// The member is missing, larger than `max`, unreadable, or does not match the manifest.
    pub fn read_member(&mut self, name: &str, max: u64, why: &'static str) -> Result<Vec<u8>, BundleIndexError> {
        self.need(name, why)?;
        self.members.read_whole(name, max)
    }

    /// Calls `f` with each non-blank line of member `name` and its 1-based number, through the
    /// one bounded line reader ([`forensic_evidence::lines::for_each_line`]).
    fn lines(
        &mut self,
        name: &str,
        why: &'static str,
        f: impl FnMut(u64, &[u8]) -> Result<(), BundleIndexError>,
    ) -> Result<(), BundleIndexError> {
        let limits = LineLimits {
            max_line: self.limits.max_line,
            max_lines: self.limits.max_entries.saturating_add(1),
        };
        self.stream(name, why, |r| for_each_line(name, r, limits, f))
    }

    /// The container's filesystem: [`TREE_INDEX`], with [`UPPER_CHANGES`] when the bundle has it.
    ///
    /// # Errors
    /// The tree index is missing or unreadable, a line is malformed, a limit is reached, or a
    /// member does not match the manifest (strict).
    pub fn container(&mut self) -> Result<ContainerFs, BundleIndexError> {
        let mut files = FileIndex::new();
        let (unexplored, writable) = self.read_container(|e| {
            files.insert(e.path.clone(), e);
            Ok(())
        })?;
        Ok(ContainerFs {
            files,
            unexplored,
            writable,
        })
    }

    /// [`BundleEvidence::container`] in bounded memory: the entries sorted by path in temporary
    /// files (at most `max_bytes` held), read back as they are used.
    ///
    /// # Errors
    /// As [`BundleEvidence::container`]; also when a temporary file cannot be written.
    pub fn container_sorted(&mut self, max_bytes: usize) -> Result<SortedContainer, BundleIndexError> {
        let mut sorter = Sorter::new(usize::MAX, max_bytes);
        let (unexplored, writable) = self.read_container(|e| {
            let mut payload = Vec::with_capacity(64);
            spilled::encode(&e, &mut payload);
            sorter
                .push(e.path.into_bytes(), payload)
                .map_err(spool(CONTAINER_ENTRIES))
        })?;
        Ok(SortedContainer {
            entries: SortedEntries {
                sorted: sorter.finish().map_err(spool(CONTAINER_ENTRIES))?.peekable(),
            },
            unexplored,
            writable,
        })
    }

    /// Reads [`TREE_INDEX`], giving each entry of the container's root filesystem to `sink` in
    /// index order, and [`UPPER_CHANGES`]: the unexplored paths and the writable layer.
    fn read_container(
        &mut self,
        mut sink: impl FnMut(FileEntry) -> Result<(), BundleIndexError>,
    ) -> Result<AroundEntries, BundleIndexError> {
        let mut unexplored = BTreeMap::new();
        let max = self.limits.max_entries;
        let mut count = 0u64;
        let mut tmpfs = Vec::new();
        let mut tmpfs_more = 0u64;
        // Mount points met so far (their lines come from the walk of the filesystem above them).
        let mut mounts: BTreeSet<String> = BTreeSet::new();
        self.lines(TREE_INDEX, "the container's full-tree index", |n, line| {
            count += 1;
            if count > max {
                return Err(limit(TREE_INDEX, format!("more than {max} entries")));
            }
            match index_line::parse(line).map_err(|why| line_err(TREE_INDEX, n, why))? {
                IndexLine::Entry(e) => {
                    if let Some(mount) = e.on_tmpfs.clone() {
                        if tmpfs.len() < MAX_TMPFS_FILES {
                            tmpfs.push(TmpfsFile {
                                path: e.entry.path.clone(),
                                mount,
                                line: n,
                                entry: e.entry.clone(),
                            });
                        } else {
                            tmpfs_more += 1;
                        }
                    }
                    let path = &e.entry.path;
                    // Each directory above the path (`/a`, `/a/b` for `/a/b/c`): bounded by its
                    // length, whatever the number of mounts.
                    let below = path
                        .match_indices('/')
                        .skip(1)
                        .any(|(i, _)| path.get(..i).is_some_and(|p| mounts.contains(p)));
                    if e.below_mount || below {
                        // On a tmpfs or a volume: not the image's filesystem.
                        return Ok(());
                    }
                    if e.mount {
                        mounts.insert(path.clone());
                    }
                    if let Some(why) = e.unexplored {
                        unexplored.insert(e.entry.path.clone(), why);
                    }
                    sink(e.entry)?;
                }
                IndexLine::Unexamined { path, why } => {
                    unexplored.insert(path, why);
                }
            }
            Ok(())
        })?;
        self.tmpfs_files = tmpfs;
        self.tmpfs_more = tmpfs_more;
        let writable = if self.has_member(UPPER_CHANGES) {
            Some(self.writable_layer()?)
        } else {
            None
        };
        Ok((unexplored, writable))
    }

    /// The runtime's record of the container ([`CONTAINER`]); `None` when the bundle has no such
    /// member or the target was a bare process (`--pid`).
    ///
    /// # Errors
    /// The member is unreadable, larger than [`ReadLimits::max_list`], not a record, or does not
    /// match the manifest (strict).
    pub fn container_record(&mut self) -> Result<Option<ContainerRecord>, BundleIndexError> {
        if !self.has_member(CONTAINER) {
            return Ok(None);
        }
        let bytes = self.read_member(CONTAINER, self.limits.max_list, "the runtime's record of the container")?;
        let record: ContainerJson = serde_json::from_slice(&bytes)
            .map_err(|e| line_err(CONTAINER, 1, format!("not a container record: {e}")))?;
        Ok(record.container().cloned())
    }

    fn writable_layer(&mut self) -> Result<WritableLayer, BundleIndexError> {
        let mut w = WritableLayer::default();
        w.entries.insert("/".into());
        let mut members = BTreeMap::new();
        let max = self.limits.max_entries;
        let mut count = 0u64;
        self.lines(UPPER_CHANGES, "the writable layer's change list", |n, line| {
            count += 1;
            if count > max {
                return Err(limit(UPPER_CHANGES, format!("more than {max} entries")));
            }
            let l = index_line::parse_upper(line).map_err(|why| line_err(UPPER_CHANGES, n, why))?;
            match l.kind {
                Some(EntryType::Dir) => {
                    w.dirs.insert(l.path.clone());
                }
                Some(EntryType::File) if l.size == Some(0) => {
                    w.empty.insert(l.path.clone());
                }
                _ => {}
            }
            match l.change.as_str() {
                "deleted" => {
                    w.deleted.insert(l.path);
                }
                change => {
                    if change == "opaque-dir" {
                        w.opaque.insert(l.path.clone());
                    }
                    if let Some(m) = l.member {
                        members.insert(l.path.clone(), m);
                    }
                    w.entries.insert(l.path);
                }
            }
            Ok(())
        })?;
        self.upper_members = members;
        w.mark_empty_dirs();
        Ok(w)
    }

    /// The image as it was on the node: the lower-layer indexes of [`LAYERS_LIST`], merged.
    ///
    /// # Errors
    /// The list or a layer's index is missing or unreadable, a line is malformed, a limit is
    /// reached, or a member does not match the manifest (strict).
    pub fn image_from_layers(&mut self) -> Result<FileIndex, BundleIndexError> {
        self.image_from_layers_sorted(usize::MAX)?
            .map(|e| e.map(|e| (e.path.clone(), e)))
            .collect()
    }

    /// [`BundleEvidence::image_from_layers`] in bounded memory: the layers' entries sorted by
    /// path in temporary files (at most `max_bytes` held) and merged as they are read back
    /// ([`lower_layers::SortedLayers`]).
    ///
    /// # Errors
    /// As [`BundleEvidence::image_from_layers`]; also when a temporary file cannot be written.
    pub fn image_from_layers_sorted(&mut self, max_bytes: usize) -> Result<SortedImage, BundleIndexError> {
        let list = self.read_member(LAYERS_LIST, self.limits.max_list, "the list of the image's layers")?;
        let layers = lower_layers::parse_layer_list(&list).map_err(|why| line_err(LAYERS_LIST, 1, why))?;
        if layers.is_empty() {
            return Err(limit(LAYERS_LIST, "lists no layers".into()));
        }
        if layers.len() > self.limits.max_layers {
            return Err(limit(
                LAYERS_LIST,
                format!("{} layers; at most {} are read", layers.len(), self.limits.max_layers),
            ));
        }
        let mut merged = lower_layers::SortedLayers::new(max_bytes);
        let mut count = 0u64;
        let mut unexamined = 0u64;
        let max = self.limits.max_entries;
        let bottom = layers.len().saturating_sub(1);
        for layer in layers.iter().rev() {
            let name = forensic_evidence::members::in_image_section(&layer.member);
            // 0 is the bottom layer for the merge; layers.json numbers them from the top.
            let rank = u32::try_from(bottom.saturating_sub(layer.layer)).unwrap_or(u32::MAX);
            let mut differs: Vec<(u64, String)> = Vec::new();
            self.lines(&name, "an index of one of the image's layers", |n, line| {
                count += 1;
                if count > max {
                    return Err(limit(&name, format!("more than {max} entries in all layers")));
                }
                match index_line::parse(line).map_err(|why| line_err(&name, n, why))? {
                    IndexLine::Entry(e) => {
                        if e.layer_checksum == Some(LayerChecksum::Differs) {
                            differs.push((n, e.entry.path.clone()));
                        }
                        merged.push(rank, e).map_err(spool(IMAGE_ENTRIES))?;
                    }
                    IndexLine::Unexamined { .. } => unexamined += 1,
                }
                Ok(())
            })?;
            for (line, path) in differs {
                let copy = forensic_evidence::paths::layer_changed_copy(layer.layer, path.as_bytes());
                self.layer_mismatches.push(LayerMismatch {
                    layer: layer.layer,
                    copy: self.has_member(&copy).then_some(copy),
                    path,
                    index_member: name.clone(),
                    line,
                });
            }
        }
        if unexamined > 0 {
            self.members.warn(format!(
                "{unexamined} entries of the image's layers could not be examined by the collector: they are not in the image index"
            ));
        }
        Ok(SortedImage {
            merged: merged.finish().map_err(spool(IMAGE_ENTRIES))?,
        })
    }

    /// The member holding the container's copy of the regular file `path` of `container`: the
    /// writable layer's copy, else the copy of a file changed since the container started
    /// (`5-filesystem/changed/`), else the copy under `5-filesystem/root/`. A copy whose
    /// manifest digest matches the indexed file is preferred. `None` when the bundle has none.
    pub fn copy_of(&self, container: &ContainerFs, path: &str) -> Option<String> {
        let entry = container.files.get(path).filter(|e| e.kind == Kind::File)?;
        self.copy_of_entry(path, entry)
    }

    /// The member holding the copy of the regular file `entry` at `path`, as
    /// [`BundleEvidence::copy_of`] chooses it (also for a file on a mount, which is not in
    /// [`ContainerFs::files`]).
    pub fn copy_of_entry(&self, path: &str, entry: &FileEntry) -> Option<String> {
        let candidates: Vec<String> = self
            .upper_members
            .get(path)
            .cloned()
            .into_iter()
            .chain(changed_member(path))
            .chain(root_member(path))
            .filter(|m| self.has_member(m))
            .collect();
        let matching = candidates
            .iter()
            .find(|m| entry.sha256.is_some() && self.manifest_digest(m) == entry.sha256);
        matching.or(candidates.first()).cloned()
    }

    /// The members holding the container's copies of `paths` ([`BundleEvidence::copy_of`]), by
    /// path; paths without a copy are left out. Nothing is read.
    pub fn copies<'p>(
        &self,
        container: &ContainerFs,
        paths: impl IntoIterator<Item = &'p String>,
    ) -> BTreeMap<String, String> {
        paths
            .into_iter()
            .filter_map(|p| Some((p.clone(), self.copy_of(container, p)?)))
            .collect()
    }

    /// Reads the container's copy of each of `paths` (regular files of `container`), chosen by
    /// [`BundleEvidence::copy_of`]. Paths with no copy, or with one larger than
    /// [`ReadLimits::max_content`], are left out.
    ///
    /// # Errors
    /// A copy is unreadable or does not match the manifest (strict).
    pub fn container_contents<'p>(
        &mut self,
        container: &ContainerFs,
        paths: impl IntoIterator<Item = &'p String>,
    ) -> Result<LoadedContents, BundleIndexError> {
        let mut out = LoadedContents::default();
        for path in paths {
            let Some(member) = self.copy_of(container, path) else {
                continue;
            };
            if self
                .members
                .entry(&member)
                .is_some_and(|e| e.size > self.limits.max_content)
            {
                continue;
            }
            let bytes = self.read_member(&member, self.limits.max_content, "a copy of a container file")?;
            out.contents.insert(path.clone(), bytes);
            out.members.insert(path.clone(), member);
        }
        Ok(out)
    }
}

fn line_err(member: &str, line: u64, why: String) -> BundleIndexError {
    BundleIndexError::Line {
        member: member.into(),
        line,
        why,
    }
}

/// What the container side knows besides its entries: the unexplored paths (with the
/// collector's reason) and the writable layer.
type AroundEntries = (BTreeMap<String, String>, Option<WritableLayer>);

/// What the sorts of [`BundleEvidence::container_sorted`] and
/// [`BundleEvidence::image_from_layers_sorted`] sort, for their errors.
const CONTAINER_ENTRIES: &str = "the container's index entries";
const IMAGE_ENTRIES: &str = "the image layers' index entries";

fn spool(what: &'static str) -> impl Fn(io::Error) -> BundleIndexError {
    move |source| BundleIndexError::Spool { what, source }
}

/// The container's filesystem of [`BundleEvidence::container_sorted`]: its entries in path order,
/// read back from temporary files as they are used, and what is known besides them.
pub struct SortedContainer {
    /// The entries, in path order, one a path (the last line of a path, as
    /// [`BundleEvidence::container`] keeps it).
    pub entries: SortedEntries,
    /// Paths whose content is not known, with the collector's reason.
    pub unexplored: BTreeMap<String, String>,
    /// What the overlay writable layer held, when it was collected.
    pub writable: Option<WritableLayer>,
}

/// Entries sorted on disk by path, each path once (the last pushed): each item is an entry or the
/// error of reading them back.
pub struct SortedEntries {
    sorted: std::iter::Peekable<forensic_disk::spill::Sorted>,
}

impl Iterator for SortedEntries {
    type Item = Result<FileEntry, BundleIndexError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut record = match self.sorted.next()? {
            Ok(r) => r,
            Err(e) => return Some(Err(spool(CONTAINER_ENTRIES)(e))),
        };
        // Equal keys come out in the order pushed: the last of them is the one kept.
        while let Some(Ok(next)) = self.sorted.peek() {
            if next.key != record.key {
                break;
            }
            match self.sorted.next() {
                Some(Ok(r)) => record = r,
                _ => break,
            }
        }
        let broken = || {
            spool(CONTAINER_ENTRIES)(io::Error::new(
                io::ErrorKind::InvalidData,
                "an entry read back is not what was written",
            ))
        };
        let Ok(path) = String::from_utf8(record.key.into_vec()) else {
            return Some(Err(broken()));
        };
        Some(spilled::decode(path, &record.payload).ok_or_else(broken))
    }
}

/// The image of [`BundleEvidence::image_from_layers_sorted`]: its entries in path order, merged
/// from the layers as they are read back from temporary files.
pub struct SortedImage {
    merged: lower_layers::MergedLayers,
}

impl Iterator for SortedImage {
    type Item = Result<FileEntry, BundleIndexError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.merged.next().map(|r| r.map_err(spool(IMAGE_ENTRIES)))
    }
}

fn limit(member: &str, why: String) -> BundleIndexError {
    BundleIndexError::Limit {
        member: member.into(),
        why,
    }
}

#[cfg(test)]
mod tests;

/// The member `forensic collect` copies the container file at index path `path` to under
/// `5-filesystem/root/` ([`forensic_evidence::paths::root_copy`]); `None` for the root itself and
/// for a path whose index form escaped bytes that are not UTF-8 (`\xNN`: the original bytes are
/// not known here).
fn root_member(path: &str) -> Option<String> {
    (!path.contains("\\x") && !path.trim_matches('/').is_empty())
        .then(|| forensic_evidence::paths::root_copy(path.as_bytes()))
}

/// The member `forensic collect` copies the container file at index path `path` to when it
/// changed after the container started ([`forensic_evidence::paths::changed_copy`]); `None` as
/// for [`root_member`].
fn changed_member(path: &str) -> Option<String> {
    (!path.contains("\\x") && !path.trim_matches('/').is_empty())
        .then(|| forensic_evidence::paths::changed_copy(path.as_bytes()))
}
