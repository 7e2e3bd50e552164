//! `extract`: a bundle's evidence members into a directory, safely.

use crate::outdir::OutDir;
use crate::plan::{Claims, Filter, dest_segments};
use crate::{ExtractError, REPORT_NAME, SUMS_NAME, report};
use forensic_bundle::digest::{Digest, HashingWriter, copy};
use forensic_bundle::limits::Limits;
use forensic_bundle::manifest::Member;
use forensic_bundle::section::Section;
use forensic_bundle::verify::{OpenReader, Report};
use forensic_bundle::zipread::{self, MemberReader, ZipEntry, ZipIndex};
use forensic_bundle::{METADATA_NAMES, manifest::FileKind};
use forensic_disk::BundleFile;
use forensic_disk::gate::Opened;
use std::collections::{HashMap, HashSet};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

/// What to extract, and to where.
#[derive(Debug, Clone)]
pub struct ExtractOptions {
    /// The output directory: created if absent, else it must be an empty directory.
    pub dir: PathBuf,
    /// Only these sections (all when empty).
    pub sections: Vec<Section>,
    /// Only members whose path within their section matches one of these globs (all when empty);
    /// `*` does not cross `/`, `**` does.
    pub paths: Vec<String>,
    /// Reader limits (SPEC §10).
    pub limits: Limits,
}

impl ExtractOptions {
    /// Every member into `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> ExtractOptions {
        ExtractOptions {
            dir: dir.into(),
            sections: Vec::new(),
            paths: Vec::new(),
            limits: Limits::default(),
        }
    }
}

/// What happened to one member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Written to the output directory under its name.
    Extracted {
        /// Bytes written.
        size: u64,
        /// SHA-256 of what was written.
        sha256: Digest,
        /// Whether that is the manifest's digest (`None`: the manifest could not be read).
        matches_manifest: Option<bool>,
    },
    /// Not written, and why.
    Skipped(String),
}

/// One member's outcome, with its manifest record when there is one.
#[derive(Debug, Clone)]
pub struct MemberOutcome {
    /// The member name (also its path below the output directory when extracted).
    pub name: String,
    /// The manifest's record of it.
    pub member: Option<Member>,
    /// What happened.
    pub outcome: Outcome,
    /// What was not restored from the original (link, device, setuid bits), in words.
    pub notes: Vec<String>,
}

/// The result of [`extract()`]: also written to [`REPORT_NAME`] in the output directory.
#[derive(Debug, Clone)]
pub struct ExtractSummary {
    /// The output directory.
    pub dir: PathBuf,
    /// The bundle's verification (SPEC §11), done before anything was written.
    pub report: Report,
    /// Whether extraction was forced although the bundle does not verify.
    pub forced: bool,
    /// Every selected member, and every member left out for a reason (not merely filtered out).
    pub members: Vec<MemberOutcome>,
    /// Problems with the archive that left members out of reach (forced extraction only).
    pub archive_problems: Vec<String>,
}

impl ExtractSummary {
    /// Members written.
    pub fn extracted(&self) -> usize {
        self.members
            .iter()
            .filter(|m| matches!(m.outcome, Outcome::Extracted { .. }))
            .count()
    }

    /// Members skipped (each with its reason).
    pub fn skipped(&self) -> impl Iterator<Item = (&str, &str)> {
        self.members.iter().filter_map(|m| match &m.outcome {
            Outcome::Skipped(why) => Some((m.name.as_str(), why.as_str())),
            Outcome::Extracted { .. } => None,
        })
    }

    /// True when the bundle verified and every selected member was extracted with its sealed
    /// digest: the copy is complete and `sha256sum -c SHA256SUMS` in it passes.
    pub fn complete(&self) -> bool {
        self.report.verified()
            && self.archive_problems.is_empty()
            && self.members.iter().all(|m| {
                matches!(
                    m.outcome,
                    Outcome::Extracted {
                        matches_manifest: Some(true),
                        ..
                    }
                )
            })
    }
}

/// Writes the selected evidence members of a bundle that passed the gate
/// ([`forensic_disk::gate::open`], which refuses one that does not verify unless forced) into
/// `opts.dir`, then `SHA256SUMS` and [`REPORT_NAME`] (which records the verification and whether
/// it was forced).
///
/// # Security
/// See the crate documentation: nothing is written outside `opts.dir`, nothing is overwritten, no
/// link, device node, FIFO, socket, setuid or setgid bit is created. For a forced bundle, an archive that
/// breaks the ZIP profile is read in salvage mode ([`zipread::read_index_salvage`]): members whose
/// entries are unsafe are left out and named in `archive_problems`.
///
/// # Errors
/// [`ExtractError::BadOutput`] when `opts.dir` is not new or empty; I/O errors on the bundle or
/// the output directory. A member that cannot be extracted is not an error: it is skipped and
/// reported in the summary.
pub fn extract(opened: &Opened, opts: &ExtractOptions) -> Result<ExtractSummary, ExtractError> {
    let filter = Filter::new(&opts.sections, &opts.paths)?;
    let path = opened.file().path().to_path_buf();
    let bundle = opened.file();
    let report = opened.report().clone();
    let out = OutDir::create(&opts.dir)?;
    let mut r = bundle.open().map_err(|e| ExtractError::io(&path, e))?;
    let (index, archive_problems) = match zipread::read_index(&mut r, &opts.limits) {
        Ok(index) => (index, Vec::new()),
        Err(_) => match zipread::read_index_salvage(&mut r, &opts.limits) {
            Ok(found) => found,
            Err(e) => (
                ZipIndex {
                    entries: Vec::new(),
                    cd_offset: 0,
                    cd_size: 0,
                },
                vec![format!("the archive cannot be read at all: {e}")],
            ),
        },
    };
    let mut summary = ExtractSummary {
        dir: opts.dir.clone(),
        forced: opened.forced(),
        report,
        members: Vec::new(),
        archive_problems,
    };
    let selected = select(&summary.report, &index, &filter);
    let mut claims = Claims::reserving(&[SUMS_NAME, REPORT_NAME]);
    for (name, entry, member) in selected {
        let notes = member.as_ref().map(notes_for).unwrap_or_default();
        let outcome = match entry {
            Some(e) => write_member(bundle, &out, &mut claims, &name, e, member.as_ref()),
            None => Outcome::Skipped(skip_reason_absent(member.is_some())),
        };
        summary.members.push(MemberOutcome {
            name,
            member,
            outcome,
            notes,
        });
    }
    write_small(&out, SUMS_NAME, report::sha256sums(&summary).as_bytes())?;
    let json = report::report_json(&path, &summary, opts);
    write_small(&out, REPORT_NAME, format!("{json:#}\n").as_bytes())?;
    out.sync().map_err(|e| ExtractError::io(out.path(), e))?;
    Ok(summary)
}

fn skip_reason_absent(listed: bool) -> String {
    if listed {
        "listed in the manifest but not readable in the archive".into()
    } else {
        "not listed in the manifest: not extracted".into()
    }
}

/// (name, archive entry, manifest record) of each member to try, in manifest order, then archive
/// members the manifest does not list (never written: reported). Without a manifest (a forced
/// extraction of a bundle whose manifest cannot be read), every archive member in a section.
fn select<'a>(
    report: &Report,
    index: &'a ZipIndex,
    filter: &Filter,
) -> Vec<(String, Option<&'a ZipEntry>, Option<Member>)> {
    let by_name: HashMap<&str, &ZipEntry> = index.entries.iter().map(|e| (e.name.as_str(), e)).collect();
    let mut out = Vec::new();
    match &report.manifest {
        Some(m) => {
            let listed: HashSet<&str> = m.members.iter().map(|x| x.name.as_str()).collect();
            for member in m.members.iter().filter(|x| filter.selects(&x.name)) {
                out.push((
                    member.name.clone(),
                    by_name.get(member.name.as_str()).copied(),
                    Some(member.clone()),
                ));
            }
            for e in &index.entries {
                let name = e.name.as_str();
                if !listed.contains(name) && !METADATA_NAMES.contains(&name) && filter.selects(name) {
                    out.push((e.name.clone(), None, None));
                }
            }
        }
        None => {
            for e in index.entries.iter().filter(|e| filter.selects(&e.name)) {
                out.push((e.name.clone(), Some(e), None));
            }
        }
    }
    out
}

/// Writes one member, hashing it as it is copied; any problem skips it (leaving no file).
fn write_member(
    bundle: &BundleFile,
    out: &OutDir,
    claims: &mut Claims,
    name: &str,
    entry: &ZipEntry,
    member: Option<&Member>,
) -> Outcome {
    let segments = match dest_segments(name) {
        Ok(s) => s,
        Err(why) => return Outcome::Skipped(why),
    };
    if let Err(why) = claims.claim(name, &segments) {
        return Outcome::Skipped(why);
    }
    if let Some(m) = member.filter(|m| m.size != entry.size) {
        return Outcome::Skipped(format!(
            "the archive declares {} bytes; the manifest says {}",
            entry.size, m.size
        ));
    }
    let file = match out.create_file(&segments) {
        Ok(f) => f,
        Err(e) => return Outcome::Skipped(format!("cannot be created in the output directory: {e}")),
    };
    let copied = bundle
        .open()
        .and_then(|r| MemberReader::new(r, entry))
        .and_then(|mut reader| {
            let mut w = HashingWriter::new(BufWriter::new(file));
            copy(&mut reader, &mut w)?;
            w.flush()?;
            let (_, size, sha256) = w.finish();
            Ok((size, sha256))
        });
    match copied {
        Ok((size, sha256)) => Outcome::Extracted {
            size,
            sha256,
            matches_manifest: member.map(|m| m.size == size && m.sha256 == sha256),
        },
        Err(e) => {
            let removed = match out.remove_file(&segments) {
                Ok(()) => "removed".to_string(),
                Err(re) => format!("could not remove the partial file: {re}"),
            };
            Outcome::Skipped(format!("its content cannot be read: {e} ({removed})"))
        }
    }
}

/// What extraction does not restore for this member, in words for the report.
fn notes_for(m: &Member) -> Vec<String> {
    let mut notes = Vec::new();
    let Some(meta) = &m.meta else {
        return notes;
    };
    match meta.kind {
        FileKind::Symlink => notes.push(format!(
            "the original was a symbolic link{}; written as a regular file holding the member's content, never as a link",
            meta.symlink_target
                .as_ref()
                .map(|t| format!(" to {}", t.display()))
                .unwrap_or_default()
        )),
        FileKind::Char | FileKind::Block | FileKind::Fifo | FileKind::Socket => notes.push(format!(
            "the original was a {} (not a regular file); no such node is created: the member's content is written as a regular file",
            report::kind_name(meta.kind)
        )),
        FileKind::File | FileKind::Dir => {}
    }
    if meta.mode & 0o6000 != 0 {
        notes.push(format!(
            "the original mode {:04o} has the setuid or setgid bit; not restored (written 0644)",
            meta.mode
        ));
    }
    notes
}

/// Creates a small file at the top of the output directory (never over anything).
fn write_small(out: &OutDir, name: &str, bytes: &[u8]) -> Result<(), ExtractError> {
    let path = out.path().join(name);
    let mut f = out.create_file(&[name]).map_err(|e| ExtractError::io(&path, e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| ExtractError::io(&path, e))
}
