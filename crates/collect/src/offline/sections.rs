//! The nine sections of an offline collection (see [`crate::offline`]).

use crate::counts::Counter;
use crate::ctx::{Ctx, derived};
use crate::offline::merge::{self, LayerIndex};
use crate::offline::stack;
use crate::rootfs::copy::{self, Copier, CopyOptions};
use crate::rootfs::index::{IndexOptions, LayerCheck, write_index_progress};
use crate::rootfs::places::{ATTACKER_PLACES, covers};
use crate::rootfs::tarsplit::{self, LayerSums};
use crate::rootfs::upper::{UpperOptions, collect_upper_in};
use crate::rootfs::{RootError, RootFs};
use crate::sections::filesystem::settle;
use crate::sink::{NewMember, Sink};
use forensic_bundle::manifest::FileKind;
use forensic_bundle::manifest::{RawPath, Source};
use forensic_bundle::section::Section;
use forensic_crypt::Scratch;
use forensic_evidence::members;
use forensic_evidence::records::container::ContainerJson;
use forensic_evidence::records::image::{ImageReference, LowerLayer};
use forensic_evidence::records::offline::{self, OfflineSource};
use forensic_evidence::records::tree::TreeEntry;
use forensic_nodedisk::{NodeRoot, OfflineContainer, StoredFile};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

/// Why sections 1–3 (and the live-only parts of 5) hold nothing.
pub const NODE_OFFLINE: &str = "node offline: no live state";

/// One image layer walked in section 5, for section 9.
#[derive(Debug)]
pub(crate) struct LayerWalk {
    /// The layer directory (node path).
    dir: String,
    /// Its index, spooled; `None` when the directory could not be read (a gap says why).
    index: Option<Scratch>,
    /// The layer, open, with its files that differ from the node's record of the layer.
    root: Option<(RootFs, Vec<Vec<u8>>)>,
}

/// Collects `section` of the offline target.
///
/// # Errors
/// Only when the bundle cannot be written.
pub(crate) fn collect(section: Section, ctx: &mut Ctx<'_>, sink: &mut dyn Sink) -> io::Result<()> {
    let Some((root, c)) = ctx
        .target
        .offline
        .as_ref()
        .map(|o| (o.target.root.clone(), o.target.container.clone()))
    else {
        return Ok(());
    };
    match section {
        Section::Processes => sink.gap("processes".into(), NODE_OFFLINE.into()),
        Section::Network => sink.gap("network".into(), NODE_OFFLINE.into()),
        Section::Memory => sink.gap("memory".into(), NODE_OFFLINE.into()),
        Section::Logs => logs(ctx, sink, &root, &c)?,
        Section::Filesystem => filesystem(ctx, sink, &root, &c)?,
        Section::PodSpec => podspec(ctx, sink, &root, &c)?,
        Section::Audit => audit(ctx, sink, &root)?,
        Section::Alerts => match &ctx.opts.falco_log {
            Some(p) => {
                crate::sections::logsources::copy_host_file(sink, p, "falco.log")?;
            }
            None => sink.gap(
                "falco alerts".into(),
                format!(
                    "{}: node offline: Falco's journal is not read from a disk (give --falco-log FILE)",
                    crate::sections::logsources::NOT_COLLECTED
                ),
            ),
        },
        Section::Image => image(ctx, sink, &c)?,
    }
    Ok(())
}

/// Section 4: the runtime's own log files and the kubelet's log directory of the container
/// (CONTENTS.md §16), read under ROOT.
fn logs(ctx: &mut Ctx<'_>, sink: &mut dyn Sink, root: &NodeRoot, c: &OfflineContainer) -> io::Result<()> {
    sink.gap(
        "container logs".into(),
        "node offline: no runtime to ask for the container's logs; its log files are copied".into(),
    );
    let kubelet_dir = c.kubelet_log_dir.as_deref();
    let in_kubelet_dir = |p: &str| kubelet_dir.is_some_and(|d| Path::new(p).parent() == Some(Path::new(d)));
    for path in c.logs.iter().filter(|p| !in_kubelet_dir(p)) {
        match root.open_file(path) {
            Ok((f, _)) => crate::sections::logs::store_log_file(sink, path, f)?,
            Err(e) => sink.gap(path.clone(), format!("the runtime's log file could not be read: {e}")),
        }
    }
    if let Some(dir) = kubelet_dir {
        let container = Path::new(dir)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match root.open_dir(dir) {
            Ok(fd) => crate::sections::logs::kubelet::copy_open_dir(
                sink,
                &fd,
                Path::new(dir),
                &container,
                ctx.opts.max_file_size,
            )?,
            Err(e) => sink.gap(
                dir.to_string(),
                format!("the kubelet's log directory could not be opened: {e}"),
            ),
        }
    }
    Ok(())
}

/// A layer directory on the node, opened for the collector's own walks.
fn open_layer(root: &NodeRoot, dir: &str) -> Result<RootFs, String> {
    let fd = root.open_dir(dir).map_err(|e| e.to_string())?;
    RootFs::from_fd(fd, dir).map_err(|e| e.to_string())
}

/// containers/storage's record of the layer unpacked in `dir` (`<graph root>/overlay/<id>/diff`
/// → `<graph root>/overlay-layers/<id>.tar-split.gz`), a node path.
fn tarsplit_record(dir: &str) -> Option<String> {
    let layer = dir.strip_suffix("/diff")?;
    let (overlay, id) = layer.rsplit_once('/')?;
    let graph = overlay.strip_suffix("/overlay")?;
    let hex_id = id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit());
    hex_id.then(|| format!("{graph}/overlay-layers/{id}.tar-split.gz"))
}

/// The node's record of the layer in `dir` to check its files against.
fn layer_check(root: &NodeRoot, dir: &str, sink: &mut dyn Sink) -> LayerCheck {
    let Some(record) = tarsplit_record(dir) else {
        return LayerCheck::Unavailable;
    };
    let read = root
        .open_file(&record)
        .map_err(|e| e.to_string())
        .and_then(|(f, _)| LayerSums::read(BufReader::new(f), &tarsplit::Limits::default()).map_err(|e| e.to_string()));
    match read {
        Ok(sums) => LayerCheck::Against(Arc::new(sums)),
        Err(why) => {
            sink.gap(
                record,
                format!(
                    "the layer's record could not be read, its files are not checked (layer_checksum unknown): {why}"
                ),
            );
            LayerCheck::Unavailable
        }
    }
}

/// Walks one layer directory into a spooled index.
fn index_layer(
    ctx: &mut Ctx<'_>,
    layer: &RootFs,
    opts: &IndexOptions,
    sink: &mut dyn Sink,
) -> io::Result<Option<(Scratch, Vec<Vec<u8>>)>> {
    let mut spool = forensic_crypt::Scratch::create_in(&std::env::temp_dir())?;
    let p = ctx.opts.progress.clone();
    let progress = move |entries, files_hashed| {
        if let Some(p) = &p {
            p(crate::collect::Event::Walked { entries, files_hashed });
        }
    };
    let Some(stats) = settle(
        sink,
        layer.label(),
        write_index_progress(layer, &mut spool, opts, &progress),
    )?
    else {
        return Ok(None);
    };
    ctx.count(Counter::EntriesIndexed, stats.entries);
    ctx.count(Counter::FilesHashed, stats.files_hashed);
    for s in stats.skipped_list.iter().take(100) {
        sink.gap(
            format!("index of {}: {}", layer.label(), crate::rootfs::display_path(&s.path)),
            s.reason.clone(),
        );
    }
    spool.seek(SeekFrom::Start(0))?;
    Ok(Some((spool, stats.layer_differs)))
}

/// Section 5: the writable layer, and the merged view computed from the layers' indexes.
fn filesystem(ctx: &mut Ctx<'_>, sink: &mut dyn Sink, root: &NodeRoot, c: &OfflineContainer) -> io::Result<()> {
    sink.gap(
        "mounts".into(),
        format!(
            "{NODE_OFFLINE}: the live container's mounts (/proc, /dev, volumes, the runtime's /etc/hosts binds) are not known; tree-index.jsonl is the overlay root alone"
        ),
    );
    sink.gap(
        "derived lists".into(),
        format!(
            "{NODE_OFFLINE}: derived/… is made from a live root; tree-index.jsonl lists every file of the merged view with its metadata and SHA-256"
        ),
    );
    // The image layers, top first: walked once, for the merged view here and section 9.
    let mut walks = Vec::new();
    for l in &c.lowers {
        let walk = match open_layer(root, &l.dir) {
            Ok(layer) => {
                let check = layer_check(root, &l.dir, sink);
                let opts = IndexOptions {
                    layer: Some(check),
                    ..IndexOptions::default()
                };
                match index_layer(ctx, &layer, &opts, sink)? {
                    Some((index, differs)) => LayerWalk {
                        dir: l.dir.clone(),
                        index: Some(index),
                        root: Some((layer, differs)),
                    },
                    None => LayerWalk {
                        dir: l.dir.clone(),
                        index: None,
                        root: None,
                    },
                }
            }
            Err(why) => {
                sink.gap(l.dir.clone(), format!("layer directory missing or unreadable: {why}"));
                LayerWalk {
                    dir: l.dir.clone(),
                    index: None,
                    root: None,
                }
            }
        };
        walks.push(walk);
    }
    let upper = match &c.upper {
        Some(dir) => match open_layer(root, dir) {
            Ok(u) => Some(u),
            Err(why) => {
                sink.gap(
                    dir.clone(),
                    format!("the writable layer's directory is missing or unreadable: {why}"),
                );
                None
            }
        },
        None => {
            sink.gap(
                "writable (upper) layer".into(),
                "the node's metadata names no writable layer directory for this container".into(),
            );
            None
        }
    };
    if let Some(u) = &upper {
        let opts = IndexOptions::default();
        if let Some((mut up_index, _)) = index_layer(ctx, u, &opts, sink)?
            && let Some(merged) = merged_view(sink, u.label(), &mut up_index, &mut walks)?
        {
            attacker_places(ctx, sink, u, &walks, merged)?;
        }
        let lowers: Vec<RootFs> = c.lowers.iter().filter_map(|l| open_layer(root, &l.dir).ok()).collect();
        let complete = lowers.len() == c.lowers.len() && !lowers.is_empty();
        let opts = UpperOptions {
            copy: CopyOptions {
                max_file_size: Some(ctx.opts.max_file_size),
                ..UpperOptions::default().copy
            },
            ..UpperOptions::default()
        };
        let r = collect_upper_in(u, &lowers, complete, sink, &opts);
        if let Some(stats) = settle(sink, &format!("upper layer {}", u.label()), r)? {
            ctx.count(Counter::UpperAdded, stats.added);
            ctx.count(Counter::UpperModified, stats.modified + stats.added_or_modified);
            ctx.count(Counter::UpperDeleted, stats.deleted);
        }
    }
    if let Some(o) = ctx.target.offline.as_mut() {
        o.layers = walks;
    }
    Ok(())
}

/// Copies the places attackers use ([`ATTACKER_PLACES`]) of the merged view to `root/…`, as live
/// collection copies them from the container's root: each regular file and link of `merged` (the
/// merged view's index) in a place is read from the top-most layer that holds it
/// ([`stack::find`]), never through a link.
fn attacker_places(
    ctx: &mut Ctx<'_>,
    sink: &mut dyn Sink,
    upper: &RootFs,
    walks: &[LayerWalk],
    merged: Scratch,
) -> io::Result<()> {
    let mut layers: Vec<&RootFs> = vec![upper];
    layers.extend(walks.iter().filter_map(|w| w.root.as_ref().map(|(r, _)| r)));
    let base = CopyOptions {
        max_file_size: Some(ctx.opts.max_file_size),
        ..UpperOptions::default().copy
    };
    let opts = CopyOptions {
        max_files: base.max_files.min(sink.room() / 2),
        ..base
    };
    let prefix = copy::normalized("root/");
    let mut copier = Copier::new(sink, &opts);
    for line in BufReader::new(merged).lines() {
        let line = line?;
        let Ok(e) = serde_json::from_str::<TreeEntry<'_>>(&line) else {
            continue;
        };
        let path = e.path.as_bytes();
        if !matches!(e.kind.file_kind(), Some(FileKind::File | FileKind::Symlink)) || !covers(ATTACKER_PLACES, path) {
            continue;
        }
        let rel = path.strip_prefix(b"/").unwrap_or(path);
        let r = stack::find(&layers, rel).and_then(|layer| match layer {
            Some(layer) => copy::copy_one(
                layer,
                rel,
                forensic_evidence::paths::copy_member(&prefix, path, path),
                &mut copier,
            ),
            None => Ok(false),
        });
        match r {
            Ok(_) => {}
            Err(RootError::Output { source, .. }) => return Err(source),
            Err(err) => copier
                .gap(path, format!("not copied from the layers: {err}"))
                .map_err(|e| io::Error::other(e.to_string()))?,
        }
    }
    ctx.count(Counter::FilesCopied, copier.stats.files);
    Ok(())
}

/// Writes `tree-index.jsonl`: the overlay merge of the writable layer's index and the image
/// layers' indexes (rewound afterwards for section 9); returns the merged index, rewound, when
/// it was written.
fn merged_view(
    sink: &mut dyn Sink,
    upper: &str,
    up_index: &mut Scratch,
    walks: &mut [LayerWalk],
) -> io::Result<Option<Scratch>> {
    let missing: Vec<&str> = walks
        .iter()
        .filter(|w| w.index.is_none())
        .map(|w| w.dir.as_str())
        .collect();
    if !missing.is_empty() {
        sink.gap(
            members::TREE_INDEX.into(),
            format!(
                "the merged view is computed without the layer(s) that could not be read: {}",
                missing.join(", ")
            ),
        );
    }
    let mut readers: Vec<(String, BufReader<&mut Scratch>)> =
        vec![("the writable layer's index".into(), BufReader::new(up_index))];
    for (i, w) in walks.iter_mut().enumerate() {
        if let Some(f) = w.index.as_mut() {
            readers.push((format!("the index of layer {i}"), BufReader::new(f)));
        }
    }
    let names: Vec<String> = readers.iter().map(|(n, _)| n.clone()).collect();
    let layers: Vec<LayerIndex<'_>> = readers
        .iter_mut()
        .map(|(name, r)| LayerIndex {
            name: name.clone(),
            lines: r as &mut dyn io::BufRead,
        })
        .collect();
    let mut out = forensic_crypt::Scratch::create_in(&std::env::temp_dir())?;
    let max = crate::rootfs::walk::WalkOptions::default()
        .max_entries
        .saturating_mul(4);
    let result = merge::merge(layers, &mut out, max);
    drop(readers);
    for w in walks.iter_mut() {
        if let Some(f) = w.index.as_mut() {
            f.seek(SeekFrom::Start(0))?;
        }
    }
    match result {
        Ok(_) => {
            let len = out.seek(SeekFrom::End(0))?;
            out.seek(SeekFrom::Start(0))?;
            let mut m = NewMember::new(
                members::local(members::TREE_INDEX),
                Source::Derived {
                    derived: format!(
                        "overlay merge of the writable layer {upper} and {} image layer(s) on the node's disk, top first ({}; no mount, no link followed)",
                        names.len() - 1,
                        names.join(", ")
                    ),
                },
            );
            m.size_hint = Some(len);
            sink.member(m, &mut out)?;
            out.seek(SeekFrom::Start(0))?;
            Ok(Some(out))
        }
        Err(merge::MergeError::Output(e)) => Err(e),
        Err(e) => {
            sink.gap(members::TREE_INDEX.into(), e.to_string());
            Ok(None)
        }
    }
}

/// A stored file's member name: each `/`-separated part escaped as one name segment.
fn stored_name(member: &str) -> String {
    member
        .split('/')
        .map(|s| forensic_bundle::name::escape_segment(s.as_bytes()))
        .collect::<Vec<_>>()
        .join("/")
}

/// Stores the runtime's files byte for byte, each with where it was read.
fn store(sink: &mut dyn Sink, files: &[StoredFile]) -> io::Result<()> {
    for f in files {
        let source = if f.from.starts_with('/') {
            Source::path(RawPath::Text(f.from.clone()))
        } else {
            Source::Derived {
                derived: format!("stored on the node's disk: {}", f.from),
            }
        };
        sink.member(NewMember::new(stored_name(&f.member), source), &mut f.bytes.as_slice())?;
    }
    Ok(())
}

/// The record of `offline-source.json`.
pub fn offline_source(root: &Path, c: &OfflineContainer) -> OfflineSource {
    OfflineSource {
        root: root.display().to_string(),
        opened: offline::OPENED.into(),
        runtime: c.runtime.name().into(),
        namespace: c.runtime.namespace().map(str::to_string),
        container: c.id.clone(),
        last_state: c.state.clone(),
        metadata_read: c.metadata_read.clone(),
        problems: c.problems.clone(),
    }
}

/// Section 6: the spec and metadata as stored, `offline-source.json` and `container.json`.
fn podspec(ctx: &mut Ctx<'_>, sink: &mut dyn Sink, root: &NodeRoot, c: &OfflineContainer) -> io::Result<()> {
    store(sink, &c.spec)?;
    let doc = serde_json::to_vec_pretty(&offline_source(root.path(), c)).map_err(io::Error::other)?;
    derived(
        sink,
        members::local(members::OFFLINE_SOURCE),
        "the node's disk this container was found on, how it was read, and every metadata file read (CONTENTS.md §17)",
        &doc,
    )?;
    if let Some(r) = &ctx.target.record {
        let doc =
            serde_json::to_vec_pretty(&ContainerJson::Container(Box::new(r.clone()))).map_err(io::Error::other)?;
        derived(
            sink,
            members::local(members::CONTAINER),
            "normalized from the runtime's metadata on the node's disk (collected offline)",
            &doc,
        )?;
    }
    for p in &c.problems {
        sink.gap(format!("container {}", c.id), p.clone());
    }
    Ok(())
}

/// Section 7: the audit log given, else the node's at its usual path under ROOT.
fn audit(ctx: &mut Ctx<'_>, sink: &mut dyn Sink, root: &NodeRoot) -> io::Result<()> {
    if let Some(p) = &ctx.opts.audit_log {
        crate::sections::logsources::copy_host_file(sink, p, "audit.log")?;
        return Ok(());
    }
    let path = crate::sections::logsources::DEFAULT_AUDIT_LOG;
    match root.open_file(path) {
        Ok((mut f, md)) => {
            let mut m = NewMember::new("audit.log", Source::path(RawPath::Text(path.into())));
            m.size_hint = Some(md.len());
            m.meta = forensic_disk::meta::from_metadata(&md, None, None).ok();
            sink.member(m, &mut f)?;
        }
        Err(e) => sink.gap(
            path.into(),
            format!(
                "{}: not on the node's disk ({e}); give --audit-log FILE",
                crate::sections::logsources::NOT_COLLECTED
            ),
        ),
    }
    Ok(())
}

/// Section 9: the image reference, the image as stored, and the image layers' indexes.
fn image(ctx: &mut Ctx<'_>, sink: &mut dyn Sink, c: &OfflineContainer) -> io::Result<()> {
    let reference = ImageReference {
        image_ref: c.image_ref.clone(),
        image_id: c.image_id.clone(),
        image_digest: c.image_digest.clone(),
    };
    derived(
        sink,
        members::local(members::IMAGE),
        "image reference, id and digest from the runtime's metadata on the node's disk",
        &serde_json::to_vec_pretty(&reference).map_err(io::Error::other)?,
    )?;
    store(sink, &c.image)?;
    let walks = ctx
        .target
        .offline
        .as_mut()
        .map(|o| std::mem::take(&mut o.layers))
        .unwrap_or_default();
    let mut list = Vec::new();
    for (i, w) in walks.into_iter().enumerate() {
        list.push(LowerLayer {
            layer: i,
            path: w.dir.clone(),
            member: members::layer_index(i),
        });
        if let Some(mut index) = w.index {
            let m = NewMember::new(
                members::layer_index(i),
                Source::Derived {
                    derived: format!("walk of image layer {} on the node's disk", w.dir),
                },
            );
            sink.member(m, &mut index)?;
        }
        if let Some((layer, differs)) = w.root {
            crate::sections::filesystem::copy_layer_differs(ctx, &layer, i, &differs, sink)?;
        }
    }
    if list.is_empty() {
        sink.gap(
            "image layers".into(),
            "the node's metadata names no image layer directories for this container".into(),
        );
    }
    let doc = serde_json::to_vec_pretty(&list).map_err(io::Error::other)?;
    derived(
        sink,
        members::local(members::LAYERS_LIST),
        "image layers of the container on the node's disk, top first",
        &doc,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tar_split_record_of_a_podman_layer() {
        let id = "a".repeat(64);
        assert_eq!(
            tarsplit_record(&format!("/var/lib/containers/storage/overlay/{id}/diff")),
            Some(format!("/var/lib/containers/storage/overlay-layers/{id}.tar-split.gz"))
        );
        assert_eq!(tarsplit_record("/var/lib/docker/overlay2/abc/diff"), None);
        assert_eq!(tarsplit_record(&format!("/x/overlay/{id}/../diff")), None);
    }
}
