//! Where audit logs are read from: a file, standard input, or a bundle's audit section.

use crate::AuditError;
use crate::query::{Collector, Query};
use crate::report::{AuditReport, FailureRecord, SCHEMA, SourceKind, SourceRecord};
use crate::scan::{EventReader, ScanLimits};
use forensic_bundle::digest::Digest;
use forensic_bundle::keys::Fingerprint;
use forensic_bundle::limits::Limits;
use forensic_bundle::section::Section;
use forensic_bundle::verify::{OpenReader, Report, VerifyOptions};
use forensic_bundle::zipread::{self, MemberReader, ZipEntry};
use forensic_disk::BundleFile;
use forensic_disk::gate::{self, Depth, Gate, GateOptions, Opened};
use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// The first bytes of a ZIP file (a bundle).
const ZIP_MAGIC: [u8; 4] = *b"PK\x03\x04";

/// How to open a bundle source.
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    /// Trusted signer fingerprints; with them, a bundle signed by anyone else does not verify.
    pub trust: Option<HashSet<Fingerprint>>,
    /// Bundle reader limits (SPEC §10).
    pub limits: Limits,
}

/// An audit log source, opened and (for a bundle) verified, ready for [`Source::run`].
///
/// ```no_run
/// use forensic_audit::{Query, QueryKind, ScanLimits, Source, SourceOptions};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let source = Source::open("case-42.zip".as_ref(), &SourceOptions::default())?;
/// if source.verification().is_some_and(|r| !r.verified()) {
///     return Err("the bundle does not verify".into());
/// }
/// let mut query = Query::new(QueryKind::Exec);
/// query.namespace = Some("shop".into());
/// let report = source.run(&query, &ScanLimits::default())?;
/// for m in &report.results {
///     println!("{:?} {} {:?}", m.time, m.user.username, m.exec.as_ref().map(|e| &e.command));
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Source {
    path: PathBuf,
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    File(File),
    Stdin,
    Bundle(Box<BundleSource>),
}

#[derive(Debug)]
struct BundleSource {
    bundle: Opened,
    members: Vec<AuditMember>,
    problems: Vec<String>,
}

#[derive(Debug)]
struct AuditMember {
    entry: ZipEntry,
    expected: Option<(u64, Digest)>,
}

impl Source {
    /// Opens `path`: `-` is standard input; a file starting with a ZIP header is a bundle, which
    /// is verified at once (structure, manifest, `SHA256SUMS`, custody log; member contents are
    /// not hashed here); anything else is an audit log, plain or gzip-compressed (detected from
    /// its first bytes, not its name).
    ///
    /// A bundle that does not verify is still returned (even with no audit member, or none that
    /// can be listed): [`Source::verification`] says so, and the caller decides whether to go on.
    ///
    /// # Errors
    /// [`AuditError::Io`] when the file cannot be opened or read; [`AuditError::Bundle`] when
    /// a bundle that verifies cannot be read; [`AuditError::NoAuditLog`] when a bundle that
    /// verifies has no audit section.
    pub fn open(path: &Path, opts: &SourceOptions) -> Result<Source, AuditError> {
        if path.as_os_str() == "-" {
            return Ok(Source {
                path: path.to_path_buf(),
                inner: Inner::Stdin,
            });
        }
        let io_err = |e| AuditError::io(path, e);
        let mut file = File::open(path).map_err(io_err)?;
        let md = file.metadata().map_err(io_err)?;
        if md.is_dir() {
            return Err(AuditError::io(
                path,
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "is a directory, not an audit log or a bundle",
                ),
            ));
        }
        // Only a regular file is peeked at: a pipe's bytes cannot be read twice.
        if md.is_file() {
            let head = read_head4(&mut file).map_err(io_err)?;
            file.seek(SeekFrom::Start(0)).map_err(io_err)?;
            if head == ZIP_MAGIC {
                let bundle = open_bundle(path, file, opts)?;
                return Ok(Source {
                    path: path.to_path_buf(),
                    inner: Inner::Bundle(Box::new(bundle)),
                });
            }
        }
        Ok(Source {
            path: path.to_path_buf(),
            inner: Inner::File(file),
        })
    }

    /// The audit section of a bundle that passed the gate ([`forensic_disk::gate`]; verified to
    /// [`Depth::Structure`] at least: each audit member is checked against the manifest as it is
    /// read).
    ///
    /// # Errors
    /// [`AuditError::Bundle`] when the verified bundle's archive cannot be listed;
    /// [`AuditError::NoAuditLog`] when a bundle that verifies has no audit section.
    pub fn from_opened(bundle: Opened, limits: &Limits) -> Result<Source, AuditError> {
        let path = bundle.file().path().to_path_buf();
        Ok(Source {
            path,
            inner: Inner::Bundle(Box::new(bundle_source(bundle, limits)?)),
        })
    }

    /// For a bundle, its verification report.
    pub fn verification(&self) -> Option<&Report> {
        match &self.inner {
            Inner::Bundle(b) => Some(b.bundle.report()),
            _ => None,
        }
    }

    /// The audit logs this source holds: the path, or the bundle's audit member names.
    pub fn input_names(&self) -> Vec<String> {
        match &self.inner {
            Inner::Bundle(b) => b.members.iter().map(|m| m.entry.name.clone()).collect(),
            _ => vec![self.path.display().to_string()],
        }
    }

    /// Runs `query` over every audit log of the source, streaming: memory holds one record and
    /// the results, never the log. A bundle member is hashed while it is read and compared with
    /// the sealed manifest ([`InputRecord::intact`]); its ZIP CRC-32 and length are checked too.
    ///
    /// Can be called once for standard input or a pipe (their content is consumed).
    ///
    /// # Errors
    /// [`AuditError::Query`] for a query missing a filter it needs; [`AuditError::Io`] or
    /// [`AuditError::Member`] when reading fails, or a bundle member's stored data is corrupt.
    /// Undecodable gzip data is not an error: it ends that input and is reported as an
    /// `unreadable` skip.
    pub fn run(&self, query: &Query, limits: &ScanLimits) -> Result<AuditReport, AuditError> {
        let mut collector = Collector::new(query, limits.max_results)?;
        let mut reader = EventReader::new(limits.clone());
        let mut offer = |e: &crate::Event<'_>| collector.offer(e);
        let shown = self.path.display().to_string();
        let source = match &self.inner {
            Inner::File(f) => {
                reader
                    .read(f, &shown, None, &mut offer)
                    .map_err(|e| AuditError::io(&self.path, e))?;
                self.record(SourceKind::File)
            }
            Inner::Stdin => {
                reader
                    .read(io::stdin().lock(), "-", None, &mut offer)
                    .map_err(|e| AuditError::io(&self.path, e))?;
                self.record(SourceKind::Stdin)
            }
            Inner::Bundle(b) => {
                for m in &b.members {
                    let member_err = |source| AuditError::Member {
                        path: self.path.clone(),
                        member: m.entry.name.clone(),
                        source,
                    };
                    let raw =
                        MemberReader::new(b.bundle.file().open().map_err(member_err)?, &m.entry).map_err(member_err)?;
                    reader
                        .read(raw, &m.entry.name, m.expected, &mut offer)
                        .map_err(member_err)?;
                }
                self.record(SourceKind::Bundle)
            }
        };
        let (inputs, mut stats) = reader.finish();
        let results = collector.finish(&mut stats);
        Ok(AuditReport {
            schema: SCHEMA,
            query: query.clone(),
            source,
            inputs,
            stats,
            results,
        })
    }

    fn record(&self, kind: SourceKind) -> SourceRecord {
        let (verified, failures, problems) = match &self.inner {
            Inner::Bundle(b) => (
                Some(b.bundle.report().verified()),
                b.bundle
                    .report()
                    .failures
                    .iter()
                    .map(|f| FailureRecord {
                        class: f.class.as_str().to_string(),
                        member: f.member.clone(),
                        entry: f.entry,
                        message: f.message.clone(),
                    })
                    .collect(),
                b.problems.clone(),
            ),
            _ => (None, Vec::new(), Vec::new()),
        };
        SourceRecord {
            path: self.path.display().to_string(),
            kind,
            verified,
            verification_failures: failures,
            forced: false,
            archive_problems: problems,
        }
    }
}

/// Whether `path` is a bundle (a regular file starting with a ZIP header) rather than an audit
/// log; `-` (standard input) and pipes are logs.
///
/// # Errors
/// The file cannot be opened or read.
pub fn is_bundle(path: &Path) -> io::Result<bool> {
    if path.as_os_str() == "-" {
        return Ok(false);
    }
    let mut f = File::open(path)?;
    if !f.metadata()?.is_file() {
        return Ok(false);
    }
    Ok(read_head4(&mut f)? == ZIP_MAGIC)
}

fn read_head4(f: &mut File) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(4);
    f.by_ref().take(4).read_to_end(&mut head)?;
    Ok(head)
}

/// A bundle through the gate, forced, so that the caller sees its verification and decides.
fn open_bundle(path: &Path, file: File, opts: &SourceOptions) -> Result<BundleSource, AuditError> {
    let gate = GateOptions {
        verify: VerifyOptions {
            trust: opts.trust.clone(),
            limits: opts.limits.clone(),
            ..VerifyOptions::default()
        },
        depth: Some(Depth::Structure),
        force: true,
        identities: None,
    };
    match gate::open_file(BundleFile::from_file(file, path)?, gate)? {
        Gate::Open(bundle) => bundle_source(*bundle, &opts.limits),
        Gate::Refused(_) => Err(AuditError::io(path, io::Error::other("refused although forced"))),
    }
}

/// The audit members of a bundle that passed the gate.
fn bundle_source(bundle: Opened, limits: &Limits) -> Result<BundleSource, AuditError> {
    let path = bundle.file().path().to_path_buf();
    let path = path.as_path();
    let file = bundle.file();
    let verdict = bundle.report();
    let mut r = file.open().map_err(|e| AuditError::io(path, e))?;
    let bundle_err = |e: zipread::ContainerError| AuditError::Bundle {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let (index, problems) = if verdict.verified() {
        (zipread::read_index(&mut r, limits).map_err(bundle_err)?, Vec::new())
    } else {
        // The caller refuses a bundle that does not verify (unless forced): an archive that not
        // even a lenient reading can list is then a bundle with no audit member to offer.
        zipread::read_index_salvage(&mut r, limits).unwrap_or_else(|e| {
            (
                zipread::ZipIndex {
                    entries: Vec::new(),
                    cd_offset: 0,
                    cd_size: 0,
                },
                vec![e.to_string()],
            )
        })
    };
    let prefix = Section::Audit.prefix();
    let members: Vec<AuditMember> = match &verdict.manifest {
        Some(m) => m
            .members
            .iter()
            .filter(|m| m.section == Section::Audit)
            .filter_map(|m| {
                let entry = index.entries.iter().find(|e| e.name == m.name)?;
                Some(AuditMember {
                    entry: entry.clone(),
                    expected: Some((m.size, m.sha256)),
                })
            })
            .collect(),
        None => index
            .entries
            .iter()
            .filter(|e| e.name.starts_with(&prefix))
            .map(|e| AuditMember {
                entry: e.clone(),
                expected: None,
            })
            .collect(),
    };
    // A bundle that does not verify is returned all the same: its refusal comes first.
    if members.is_empty() && verdict.verified() {
        let gaps = verdict
            .manifest
            .iter()
            .flat_map(|m| m.gaps.iter())
            .filter(|g| g.section == Section::Audit)
            .map(|g| format!("{}: {}", g.what, g.reason))
            .collect();
        return Err(AuditError::NoAuditLog {
            path: path.to_path_buf(),
            gaps,
        });
    }
    Ok(BundleSource {
        bundle,
        members,
        problems,
    })
}

/// [`crate::run_reader`].
pub(crate) fn run_reader<R: Read>(
    r: R,
    name: &str,
    query: &Query,
    limits: &ScanLimits,
) -> Result<AuditReport, AuditError> {
    let mut collector = Collector::new(query, limits.max_results)?;
    let mut reader = EventReader::new(limits.clone());
    reader
        .read(r, name, None, |e| collector.offer(e))
        .map_err(|e| AuditError::io(name, e))?;
    let (inputs, mut stats) = reader.finish();
    let results = collector.finish(&mut stats);
    Ok(AuditReport {
        schema: SCHEMA,
        query: query.clone(),
        source: SourceRecord {
            path: name.to_string(),
            kind: SourceKind::File,
            verified: None,
            verification_failures: Vec::new(),
            forced: false,
            archive_problems: Vec::new(),
        },
        inputs,
        stats,
        results,
    })
}
