//! `forensic seal DIR`: package a directory of hand-collected evidence into a sealed bundle.

use crate::abandon::Abandonable;
use crate::member::{Outcome, write_err, write_member};
use crate::plan::{SectionPlan, plan};
use crate::rules::{Placer, Rule};
use crate::walk::{self, display};
use crate::{SealError, target};
use forensic_bundle::digest::Digest;
use forensic_bundle::keys::Signer;
use forensic_bundle::limits::Limits;
use forensic_bundle::manifest::{Case, Collector, Gap, RawPath, Target};
use forensic_bundle::section::Section;
use forensic_bundle::verify::Progress;
use forensic_bundle::writer::{BundleWriter, Header, Seal};
use forensic_bundle::{MANIFEST, zipread};
use forensic_disk::BundleOutput;
use forensic_disk::clock::Clock;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::io::{self, BufWriter, Seek, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Size of the write buffer in front of the output file.
const WRITE_BUF: usize = 1 << 20;

/// What to seal, where, and with what key. Build it with [`SealOptions::new`] or a struct literal.
pub struct SealOptions {
    /// The evidence directory.
    pub dir: PathBuf,
    /// The bundle to create; it must not exist and must not be inside `dir`.
    pub output: PathBuf,
    /// The sealing key (first custody entry): a key file's or a token's.
    pub key: Arc<dyn Signer>,
    /// The sealer's name in the custody entry.
    pub actor: String,
    /// Case metadata.
    pub case: Case,
    /// Target fields that override what the evidence files say.
    pub target: Target,
    /// `--section NAME=GLOB` rules, tried before the built-in table, in this order.
    pub rules: Vec<Rule>,
    /// The command line, recorded in the collector record (raw bytes where not UTF-8).
    pub argv: Vec<OsString>,
    /// Note in the seal entry (the first custody entry).
    pub seal_note: Option<String>,
    /// Called with the number of evidence bytes just copied.
    pub progress: Option<Progress>,
    /// Write the bundle age-encrypted to these recipients (a confidential bundle): the bundle is
    /// never in clear on disk ([`forensic_disk::BundleOutput`]).
    pub encrypt_to: Option<forensic_crypt::Recipients>,
    /// Time-stamping authorities (`--tsa`): a `timestamped` custody entry with their tokens is
    /// appended as the bundle is committed (before it is encrypted, for a confidential bundle).
    pub timestamp: Option<forensic_bundle::custody::SharedStamper>,
}

impl SealOptions {
    /// Options with no case data, target overrides, rules, command line, note or progress.
    pub fn new(dir: impl Into<PathBuf>, output: impl Into<PathBuf>, key: Arc<dyn Signer>, actor: &str) -> SealOptions {
        SealOptions {
            dir: dir.into(),
            output: output.into(),
            key,
            actor: actor.to_string(),
            case: Case::default(),
            target: Target::default(),
            rules: Vec::new(),
            argv: Vec::new(),
            seal_note: None,
            progress: None,
            encrypt_to: None,
            timestamp: None,
        }
    }
}

impl fmt::Debug for SealOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealOptions")
            .field("dir", &self.dir)
            .field("output", &self.output)
            .field("actor", &self.actor)
            .field("case", &self.case)
            .field("target", &self.target)
            .field(
                "rules",
                &self
                    .rules
                    .iter()
                    .map(|r| format!("{}={}", r.section(), r.glob()))
                    .collect::<Vec<_>>(),
            )
            .field("argv", &self.argv)
            .field("seal_note", &self.seal_note)
            .finish_non_exhaustive()
    }
}

/// What [`seal_directory`] wrote.
#[derive(Debug, Clone)]
pub struct SealSummary {
    /// The bundle, now complete and synced.
    pub output: PathBuf,
    /// The manifest's `bundle_id`.
    pub bundle_id: String,
    /// SHA-256 of `manifest.cbor`: what the seal signs, and the last line of `SHA256SUMS`.
    pub manifest_digest: Digest,
    /// The target record written.
    pub target: Target,
    /// Every section opened, in order: `(section, members written, content bytes written)`.
    pub sections: Vec<(Section, u64, u64)>,
    /// Everything that could not be collected, as recorded in the manifest.
    pub gaps: Vec<Gap>,
    /// Members written.
    pub members: u64,
    /// Content bytes written.
    pub bytes: u64,
    /// The `timestamped` entry appended with [`SealOptions::timestamp`].
    pub timestamped: Option<forensic_disk::Appended>,
}

/// Seals the evidence directory `opts.dir` into a new bundle at `opts.output`.
///
/// - The directory is walked recursively without following symlinks. Regular files become
///   members; a symlink becomes an empty member whose metadata records the target (never
///   followed); FIFOs, sockets and devices are never opened and become gaps, as do files that
///   cannot be read (permission denied) or that change between listing and opening.
/// - Each file is placed in a section by `opts.rules`, then the built-in table of [`crate::rules`].
///   Members are written section by section, sorted by path; names are the relative path with
///   each component escaped per SPEC §3; each member's `source` is the original absolute path.
/// - A file is read from one descriptor opened with `O_NOFOLLOW|O_NONBLOCK|O_NOATIME`, checked to
///   be the file that was listed, and streamed up to the size `fstat` reported; a file that had
///   grown by then is marked `truncated`. Growth or shrinking while it was read is recorded as a
///   gap beside the member.
/// - The target record comes from `container-id.txt` and `container-inspect.json` (crictl
///   inspect) when present, overridden by `opts.target`.
///
/// Nothing appears at `opts.output` unless the whole bundle was written and synced.
///
/// # Errors
/// - [`SealError::OutputInsideEvidence`], [`SealError::Disk`] (the output exists),
///   [`SealError::NotADirectory`] before
///   anything is read;
/// - [`SealError::Unplaced`] listing every file no rule places; [`SealError::TooManyMembers`];
/// - [`SealError::Io`], [`SealError::Read`], [`SealError::Write`] naming the file concerned;
/// - [`SealError::LimitExceeded`] when the bundle would break a reader limit of SPEC §10.
///
/// On every error the temporary file is removed and nothing is left at the destination.
pub fn seal_directory(opts: &SealOptions) -> Result<SealSummary, SealError> {
    let clock = Clock::new()?;
    let root = check_paths(&opts.dir, &opts.output)?;
    let out = BundleOutput::create(&opts.output, opts.encrypt_to.clone())?;
    let placer = Placer::new(&opts.rules)?;
    let walked = walk::walk(&root)?;
    let plan = plan(&walked, &placer)?;
    let mut target = target::detect(&walked.found);
    target::overlay(&mut target, &opts.target);
    let header = Header {
        bundle_id: uuid::Uuid::new_v4().to_string(),
        created: clock.now(),
        case: opts.case.clone(),
        collector: collector(&opts.argv),
        target: target.clone(),
    };
    let temp = out.temp_path().to_path_buf();
    let mut summary = SealSummary {
        output: opts.output.clone(),
        bundle_id: header.bundle_id.clone(),
        manifest_digest: Digest::default(),
        target,
        sections: Vec::new(),
        gaps: Vec::new(),
        members: 0,
        bytes: 0,
        timestamped: None,
    };
    let dest = opts.output.as_path();
    let (sink, cut) = Abandonable::new(BufWriter::with_capacity(WRITE_BUF, out.writer()?));
    let mut w = BundleWriter::new(sink, header).map_err(write_err(dest))?;
    // Declared after `w`, so dropped before it on an early return (see `abandon`).
    let _cut = cut;
    write_sections(&mut w, plan, &clock, opts, &mut summary)?;
    let seal = Seal {
        key: &*opts.key,
        actor: opts.actor.clone(),
        time: clock.now(),
        note: opts.seal_note.clone(),
    };
    let buffered = w.finish(&seal).map_err(write_err(dest))?.into_inner();
    buffered
        .into_inner()
        .map_err(|e| SealError::io(&temp, e.into_error()))?;
    summary.manifest_digest = check_written(out.writer()?, &temp)?;
    let (_, timestamped) = out.commit_stamped(opts.timestamp.as_ref(), &*opts.key, &opts.actor, clock.now())?;
    summary.timestamped = timestamped;
    Ok(summary)
}

/// Writes every planned section in order: its known gaps, then its members, each section timed
/// by `clock`. Counts go to `summary`.
fn write_sections<W: Write + Seek>(
    w: &mut BundleWriter<W>,
    plan: BTreeMap<Section, SectionPlan<'_>>,
    clock: &Clock,
    opts: &SealOptions,
    summary: &mut SealSummary,
) -> Result<(), SealError> {
    let dest = opts.output.as_path();
    for (section, items) in plan {
        w.begin_section(section, clock.now()).map_err(write_err(dest))?;
        let (mut members, mut bytes) = (0u64, 0u64);
        let mut gap = |w: &mut BundleWriter<_>, what: String, reason: String| {
            let g = Gap { section, what, reason };
            w.add_gap(g.clone());
            summary.gaps.push(g);
        };
        for g in items.gaps {
            gap(w, g.what, g.reason);
        }
        for m in items.members {
            let what = display(&m.found.abs);
            match write_member(w, &m, clock, opts.progress.as_ref()).map_err(|e| e.at(dest))? {
                Outcome::Written { bytes: n, note } => {
                    members += 1;
                    bytes += n;
                    if let Some(reason) = note {
                        gap(w, what, reason);
                    }
                }
                Outcome::Gap(reason) => gap(w, what, reason),
            }
        }
        w.end_section(clock.now()).map_err(write_err(dest))?;
        summary.members += members;
        summary.bytes += bytes;
        summary.sections.push((section, members, bytes));
    }
    Ok(())
}

/// Checks the evidence directory and that the output is not inside it; returns the canonical
/// evidence directory.
fn check_paths(dir: &Path, output: &Path) -> Result<PathBuf, SealError> {
    let md = std::fs::metadata(dir).map_err(|e| SealError::io(dir, e))?;
    if !md.is_dir() {
        return Err(SealError::NotADirectory(dir.to_path_buf()));
    }
    let root = std::fs::canonicalize(dir).map_err(|e| SealError::io(dir, e))?;
    let name = output.file_name().ok_or_else(|| {
        SealError::io(
            output,
            io::Error::new(io::ErrorKind::InvalidInput, "the output must name a file"),
        )
    })?;
    let parent = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let out_dir = std::fs::canonicalize(parent).map_err(|e| SealError::io(parent, e))?;
    if out_dir.join(name).starts_with(&root) {
        return Err(SealError::OutputInsideEvidence {
            output: output.to_path_buf(),
            dir: dir.to_path_buf(),
        });
    }
    Ok(root)
}

fn collector(argv: &[OsString]) -> Collector {
    let uname = rustix::system::uname();
    let text = |c: &std::ffi::CStr| Some(c.to_string_lossy().into_owned()).filter(|s| !s.is_empty());
    Collector {
        tool: "forensic".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        host: text(uname.nodename()),
        kernel: text(uname.release()),
        argv: (!argv.is_empty()).then(|| argv.iter().map(|a| RawPath::from_bytes(a.as_bytes())).collect()),
    }
}

/// Reads back the finished archive's index (the checks of SPEC §2.1 and the limits of §10) and
/// returns the manifest digest.
fn check_written(file: forensic_disk::OutputFile, temp: &Path) -> Result<Digest, SealError> {
    let limits = Limits::default();
    let back = |reason: String| SealError::ReadBack {
        path: temp.to_path_buf(),
        reason,
    };
    let mut r = file;
    let index = zipread::read_index(&mut r, &limits).map_err(|e| match e {
        zipread::ContainerError::Limit(m) => SealError::LimitExceeded(m),
        other => back(other.to_string()),
    })?;
    for e in &index.entries {
        let max = match e.name.as_str() {
            forensic_bundle::MANIFEST => limits.max_manifest,
            forensic_bundle::SHA256SUMS => limits.max_sums,
            forensic_bundle::CUSTODY => limits.max_custody,
            _ => continue,
        };
        if e.size > max {
            return Err(SealError::LimitExceeded(format!(
                "{} would be {} bytes; verifiers accept at most {max} (SPEC §10): seal fewer files per bundle",
                e.name, e.size
            )));
        }
    }
    let entry = index
        .entries
        .iter()
        .find(|e| e.name == MANIFEST)
        .ok_or_else(|| back("no manifest.cbor".into()))?;
    let bytes = zipread::read_small(&mut r, entry, limits.max_manifest).map_err(|e| back(e.to_string()))?;
    Ok(Digest::of(&bytes))
}
