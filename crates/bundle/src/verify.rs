//! The verification algorithm of SPEC §11, reporting the failure classes of §12.

use crate::custody::{self, ChainProblem};
use crate::digest::{COPY_BUF, Digest};
use crate::keys::Fingerprint;
use crate::limits::Limits;
use crate::manifest::{Manifest, ManifestError};
use crate::section::Section;
use crate::zipread::{self, ContainerError, MemberReader, Method, ZipEntry, ZipIndex};
use crate::{CUSTODY, MANIFEST, MARKER, MARKER_FAMILY, METADATA_NAMES, MIMETYPE, SHA256SUMS};
use rayon::prelude::*;
use sha2::{Digest as _, Sha256};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::{self, Cursor, Read, Seek};
use std::sync::Arc;

/// Something a verifier can open for reading, as many times as it likes (one reader per thread).
pub trait OpenReader: Sync {
    /// The reader type.
    type Reader<'a>: Read + Seek + Send
    where
        Self: 'a;
    /// A new independent reader positioned at the start.
    ///
    /// # Errors
    /// If the bundle cannot be opened.
    fn open(&self) -> io::Result<Self::Reader<'_>>;
}

impl OpenReader for [u8] {
    type Reader<'a> = Cursor<&'a [u8]>;
    fn open(&self) -> io::Result<Cursor<&[u8]>> {
        Ok(Cursor::new(self))
    }
}

mod report;
mod timestamps;
pub use report::{CustodyRecord, Failure, FailureClass, Report, TokenRecord};

/// Progress callback: called with the number of content bytes just hashed.
pub type Progress = Arc<dyn Fn(u64) + Send + Sync>;

/// Options for [`verify`].
#[derive(Clone)]
pub struct VerifyOptions {
    /// Trusted signer fingerprints; `None` skips step 10.
    pub trust: Option<HashSet<Fingerprint>>,
    /// Reader limits (SPEC §10).
    pub limits: Limits,
    /// Called as content is hashed.
    pub progress: Option<Progress>,
    /// Run step 7 (hash every member). `false` reads structure, manifest, sums and custody only,
    /// for listing commands; such a report does not say the evidence is intact.
    pub check_contents: bool,
    /// A custody head recorded earlier (SPEC §9.5); `None` skips step 11.
    pub expect_head: Option<Digest>,
    /// Trusted time-stamping certificates (SPEC §9.6); `None` skips step 12: tokens are reported,
    /// not judged.
    pub tsa_trust: Option<Arc<forensic_tsp::TrustList>>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            trust: None,
            limits: Limits::default(),
            progress: None,
            check_contents: true,
            expect_head: None,
            tsa_trust: None,
        }
    }
}

impl fmt::Debug for VerifyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyOptions")
            .field("trust", &self.trust)
            .field("limits", &self.limits)
            .field("check_contents", &self.check_contents)
            .field("expect_head", &self.expect_head)
            .field("tsa_trust", &self.tsa_trust.as_ref().map(|t| t.len()))
            .finish_non_exhaustive()
    }
}

/// Verifies a bundle per SPEC §11.
///
/// Every failure found is in the returned [`Report`]; `Err` means only that the bundle could not be
/// read at all (the underlying reader failed), which is not a verdict.
///
/// # Security
/// All sizes are checked against [`Limits`] before allocation; member content is streamed and
/// never held whole; signatures are checked over the bytes as stored.
///
/// # Errors
/// [`io::Error`] from opening or reading the source.
pub fn verify<S: OpenReader + ?Sized>(src: &S, opts: &VerifyOptions) -> io::Result<Report> {
    let mut report = Report::default();
    let mut r = src.open()?;
    // Step 1: container.
    let index = match zipread::read_index(&mut r, &opts.limits) {
        Ok(i) => i,
        Err(ContainerError::Malformed(m)) => {
            report.fail(FailureClass::MalformedContainer, None, None, m);
            return Ok(report);
        }
        Err(ContainerError::Limit(m)) => {
            report.fail(FailureClass::LimitExceeded, None, None, m);
            return Ok(report);
        }
        Err(ContainerError::Io(e)) => return Err(e),
    };
    let by_name: HashMap<&str, &ZipEntry> = index.entries.iter().map(|e| (e.name.as_str(), e)).collect();
    // Step 2: marker.
    if !check_marker(src, &index, &opts.limits, &mut report)? {
        return Ok(report);
    }
    // Step 3: metadata members.
    let Some([manifest_e, sums_e, custody_e]) = metadata_entries(&by_name, &opts.limits, &mut report) else {
        return Ok(report);
    };
    // Step 4: manifest.
    let manifest_bytes = match zipread::read_small(src.open()?, manifest_e, opts.limits.max_manifest) {
        Ok(b) => b,
        Err(e) => {
            report.fail(FailureClass::CorruptMember, Some(MANIFEST), None, e.to_string());
            return Ok(report);
        }
    };
    let manifest = match Manifest::from_cbor(&manifest_bytes, opts.limits.max_cbor_depth) {
        Ok(m) => m,
        Err(ManifestError::Version(v)) => {
            report.fail(
                FailureClass::UnsupportedVersion,
                Some(MANIFEST),
                None,
                format!("format version {v}; this verifier reads version 1"),
            );
            return Ok(report);
        }
        Err(e) => {
            report.fail(FailureClass::MalformedManifest, Some(MANIFEST), None, e.to_string());
            return Ok(report);
        }
    };
    let manifest_digest = Digest::of(&manifest_bytes);
    drop(manifest_bytes);
    // Steps 5 and 6.
    check_member_set(&manifest, &index, &by_name, &mut report);
    check_order(&manifest, &index, &by_name, &mut report);
    // Step 7.
    if opts.check_contents {
        check_contents(src, &manifest, &by_name, opts, &mut report)?;
    }
    // Step 8.
    match zipread::read_small(src.open()?, sums_e, opts.limits.max_sums) {
        Ok(sums) => {
            if let Err(m) = crate::sums::check(&sums, &manifest, &manifest_digest) {
                report.fail(FailureClass::SumsMismatch, Some(SHA256SUMS), None, m.to_string());
            }
        }
        Err(e) => report.fail(FailureClass::CorruptMember, Some(SHA256SUMS), None, e.to_string()),
    }
    // Steps 9 and 10.
    match zipread::read_small(src.open()?, custody_e, opts.limits.max_custody) {
        Ok(log) => check_custody(&log, &manifest, &manifest_digest, opts, &mut report),
        Err(e) => report.fail(FailureClass::CorruptMember, Some(CUSTODY), None, e.to_string()),
    }
    report.manifest = Some(manifest);
    report.manifest_digest = Some(manifest_digest);
    Ok(report)
}

fn check_marker<S: OpenReader + ?Sized>(
    src: &S,
    index: &ZipIndex,
    limits: &Limits,
    report: &mut Report,
) -> io::Result<bool> {
    let first = match index.entries.first() {
        Some(e) if e.name == MIMETYPE => e,
        Some(e) => {
            report.fail(
                FailureClass::MalformedContainer,
                Some(&e.name),
                None,
                "the first member is not \"mimetype\": not a forensic bundle (SPEC §2.2)",
            );
            return Ok(false);
        }
        None => {
            report.fail(
                FailureClass::MalformedContainer,
                None,
                None,
                "the archive is empty: not a forensic bundle",
            );
            return Ok(false);
        }
    };
    if first.method != Method::Stored || first.size > limits.max_marker {
        report.fail(
            FailureClass::MalformedContainer,
            Some(MIMETYPE),
            None,
            "the marker must be stored and at most 64 bytes (SPEC §2.2)",
        );
        return Ok(false);
    }
    let content = match zipread::read_small(src.open()?, first, limits.max_marker) {
        Ok(c) => c,
        Err(e) => {
            report.fail(FailureClass::CorruptMember, Some(MIMETYPE), None, e.to_string());
            return Ok(false);
        }
    };
    if content == MARKER {
        return Ok(true);
    }
    let shown = String::from_utf8_lossy(&content).escape_debug().to_string();
    if is_other_version(&content) {
        report.fail(
            FailureClass::UnsupportedVersion,
            Some(MIMETYPE),
            None,
            format!("marker {shown:?}: another version of the format; this verifier reads v1"),
        );
    } else {
        report.fail(
            FailureClass::MalformedContainer,
            Some(MIMETYPE),
            None,
            format!("marker {shown:?} is not a forensic bundle marker"),
        );
    }
    Ok(false)
}

/// `application/vnd.forensic-bundle.vN+zip` with N a decimal number other than 1 (SPEC §2.2).
fn is_other_version(content: &[u8]) -> bool {
    let Some(rest) = content.strip_prefix(MARKER_FAMILY).and_then(|r| r.strip_prefix(b"v")) else {
        return false;
    };
    let Some(num) = rest.strip_suffix(b"+zip") else {
        return false;
    };
    !num.is_empty() && num.iter().all(u8::is_ascii_digit) && num != b"1"
}

fn metadata_entries<'a>(
    by_name: &HashMap<&str, &'a ZipEntry>,
    limits: &Limits,
    report: &mut Report,
) -> Option<[&'a ZipEntry; 3]> {
    let mut found = Vec::new();
    for (name, max) in [
        (MANIFEST, limits.max_manifest),
        (SHA256SUMS, limits.max_sums),
        (CUSTODY, limits.max_custody),
    ] {
        match by_name.get(name) {
            None => report.fail(
                FailureClass::MissingMember,
                Some(name),
                None,
                "the bundle has no such member",
            ),
            Some(e) => found.push((*e, max)),
        }
    }
    let [(m, mm), (s, sm), (c, cm)] = <[(&ZipEntry, u64); 3]>::try_from(found).ok()?;
    for (e, max) in [(m, mm), (s, sm), (c, cm)] {
        if e.size > max {
            report.fail(
                FailureClass::LimitExceeded,
                Some(&e.name),
                None,
                format!("declares {} bytes; at most {max} are allowed (SPEC §10)", e.size),
            );
            return None;
        }
    }
    Some([m, s, c])
}

fn check_member_set(manifest: &Manifest, index: &ZipIndex, by_name: &HashMap<&str, &ZipEntry>, report: &mut Report) {
    let listed: HashSet<&str> = manifest.members.iter().map(|m| m.name.as_str()).collect();
    for m in &manifest.members {
        if !by_name.contains_key(m.name.as_str()) {
            report.fail(
                FailureClass::MissingMember,
                Some(&m.name),
                None,
                "listed in the manifest but absent from the archive",
            );
        }
    }
    for e in &index.entries {
        if !listed.contains(e.name.as_str()) && !METADATA_NAMES.contains(&e.name.as_str()) {
            report.fail(
                FailureClass::UnexpectedMember,
                Some(&e.name),
                None,
                "in the archive but not listed in the manifest",
            );
        }
    }
}

fn check_order(manifest: &Manifest, index: &ZipIndex, by_name: &HashMap<&str, &ZipEntry>, report: &mut Report) {
    // Unexpected members are reported as such (step 5); order is judged among the others.
    let listed: HashSet<&str> = manifest.members.iter().map(|m| m.name.as_str()).collect();
    let names: Vec<&str> = index
        .entries
        .iter()
        .map(|e| e.name.as_str())
        .filter(|n| listed.contains(n) || METADATA_NAMES.contains(n))
        .collect();
    if names.len() < 4 || names.get(names.len() - 3..) != Some(&[MANIFEST, SHA256SUMS, CUSTODY][..]) {
        report.fail(
            FailureClass::SectionOrder,
            None,
            None,
            "the archive must end with manifest.cbor, SHA256SUMS, custody.cbor in that order (SPEC §2.3)",
        );
    }
    let in_archive = names.iter().copied().filter(|n| listed.contains(n));
    let in_manifest = manifest
        .members
        .iter()
        .map(|m| m.name.as_str())
        .filter(|n| by_name.contains_key(n));
    if let Some((a, m)) = in_archive.zip(in_manifest).find(|(a, m)| a != m) {
        report.fail(
            FailureClass::SectionOrder,
            Some(a),
            None,
            format!("the archive has this member where the manifest lists {m:?} (SPEC §2.3)"),
        );
    }
    let listed_sections: HashSet<&str> = manifest.sections.iter().map(|s| s.name.as_str()).collect();
    let mut prev: Option<Section> = None;
    for m in &manifest.members {
        if prev.is_some_and(|p| m.section < p) {
            report.fail(
                FailureClass::SectionOrder,
                Some(&m.name),
                None,
                format!("section {} comes after a member of a later section", m.section),
            );
        }
        prev = Some(m.section);
        let prefix = m.section.prefix();
        if !(m.name.starts_with(&prefix) && m.name.len() > prefix.len()) {
            report.fail(
                FailureClass::SectionOrder,
                Some(&m.name),
                None,
                format!("belongs to section {} but does not start with {prefix:?}", m.section),
            );
        }
        if !listed_sections.contains(m.section.name()) {
            report.fail(
                FailureClass::SectionOrder,
                Some(&m.name),
                None,
                format!("section {} is not in the manifest's sections list", m.section),
            );
        }
    }
    let mut last: Option<&crate::manifest::SectionRecord> = None;
    for s in &manifest.sections {
        let known = Section::from_number(s.number).is_some_and(|k| k.name() == s.name);
        let what = format!("section {} {:?}", s.number, s.name);
        if !known {
            report.fail(
                FailureClass::SectionOrder,
                None,
                None,
                format!("{what}: number and name disagree with SPEC §4"),
            );
        } else if last.is_some_and(|l| l.number >= s.number) {
            report.fail(
                FailureClass::SectionOrder,
                None,
                None,
                format!("{what}: sections are not in increasing order"),
            );
        } else if s.finished < s.started {
            report.fail(
                FailureClass::SectionOrder,
                None,
                None,
                format!("{what}: finished ({}) before it started ({})", s.finished, s.started),
            );
        } else if let Some(l) = last.filter(|l| s.started < l.finished) {
            report.fail(
                FailureClass::SectionOrder,
                None,
                None,
                format!(
                    "{what}: started ({}) before section {} finished ({})",
                    s.started, l.name, l.finished
                ),
            );
        }
        last = Some(s);
    }
}

fn check_contents<S: OpenReader + ?Sized>(
    src: &S,
    manifest: &Manifest,
    by_name: &HashMap<&str, &ZipEntry>,
    opts: &VerifyOptions,
    report: &mut Report,
) -> io::Result<()> {
    let work: Vec<(&crate::manifest::Member, &ZipEntry)> = manifest
        .members
        .iter()
        .filter_map(|m| by_name.get(m.name.as_str()).map(|e| (m, *e)))
        .collect();
    let results: Vec<io::Result<Option<Failure>>> = work
        .par_iter()
        .map(|(m, e)| {
            let reader = MemberReader::new(src.open()?, e)?;
            Ok(match hash_stream(reader, opts.progress.as_ref()) {
                Err(err) => Some(Failure {
                    class: FailureClass::CorruptMember,
                    member: Some(m.name.clone()),
                    entry: None,
                    message: err.to_string(),
                }),
                Ok((len, d)) if len != m.size || d != m.sha256 => Some(Failure {
                    class: FailureClass::DigestMismatch,
                    member: Some(m.name.clone()),
                    entry: None,
                    message: format!(
                        "content is {len} bytes with SHA-256 {d}; the manifest says {} bytes with SHA-256 {}",
                        m.size, m.sha256
                    ),
                }),
                Ok(_) => None,
            })
        })
        .collect();
    for (res, (m, _)) in results.into_iter().zip(&work) {
        if let Some(f) = res? {
            report.failures.push(f);
        } else {
            report.bytes_checked += m.size;
        }
    }
    Ok(())
}

fn hash_stream<R: Read>(mut r: R, progress: Option<&Progress>) -> io::Result<(u64, Digest)> {
    let mut buf = vec![0u8; COPY_BUF];
    let mut h = Sha256::new();
    let mut len = 0u64;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        h.update(buf.get(..n).unwrap_or(&[]));
        len += n as u64;
        if let Some(p) = progress {
            p(n as u64);
        }
    }
    Ok((len, Digest(h.finalize().into())))
}

fn check_custody(log: &[u8], manifest: &Manifest, manifest_digest: &Digest, opts: &VerifyOptions, report: &mut Report) {
    let entries = match custody::parse_log(log, &opts.limits) {
        Ok(e) => e,
        Err(custody::CustodyError::Limit(m)) => {
            report.fail(FailureClass::LimitExceeded, Some(CUSTODY), None, m);
            return;
        }
        Err(e) => {
            let entry = match &e {
                custody::CustodyError::Cbor { entry, .. } | custody::CustodyError::Entry { entry, .. } => Some(*entry),
                _ => None,
            };
            report.fail(FailureClass::MalformedCustody, Some(CUSTODY), entry, e.to_string());
            return;
        }
    };
    for (i, e) in entries.iter().enumerate() {
        let sig = e.check_signature();
        if let Err(m) = &sig {
            report.fail(FailureClass::BadSignature, Some(CUSTODY), Some(i), m.to_string());
        }
        let trusted = opts.trust.as_ref().map(|t| t.contains(&e.signer()));
        if trusted == Some(false) {
            report.fail(
                FailureClass::UntrustedSigner,
                Some(CUSTODY),
                Some(i),
                format!(
                    "signed by {} ({}), which is not in the trust list",
                    e.signer(),
                    e.payload.actor.name
                ),
            );
        }
        report.custody.push(CustodyRecord {
            payload: e.payload.clone(),
            signer: e.signer(),
            digest: e.digest(),
            signature_ok: sig.is_ok(),
            trusted,
            timestamps: Vec::new(),
            trusted_time: None,
        });
    }
    let mut intact = report.custody.iter().all(|c| c.signature_ok);
    for (i, problem) in custody::check_chain(&entries, &manifest.bundle_id, manifest_digest) {
        match problem {
            ChainProblem::Broken(m) => {
                intact = false;
                report.fail(FailureClass::BrokenChain, Some(CUSTODY), Some(i), m);
            }
            // The manifest is what fails to match its seal: name it.
            ChainProblem::SealMismatch(m) => report.fail(FailureClass::SealMismatch, Some(MANIFEST), Some(i), m),
        }
    }
    // Step 9d: semantics only of a history every entry signed, unbroken (SPEC §9.4).
    if intact {
        for (i, m) in custody::check_semantics(&entries, &manifest.created) {
            report.fail(FailureClass::CustodySemantics, Some(CUSTODY), Some(i), m);
        }
    }
    // Step 12: time-stamp tokens (SPEC §9.6), judged only against a TSA trust list.
    timestamps::check(&entries, opts.tsa_trust.as_deref(), intact, report);
    // Step 11: the recorded head (SPEC §9.5).
    if let Some(head) = opts.expect_head
        && !report.custody.iter().any(|c| c.digest == head)
    {
        report.fail(
            FailureClass::TruncatedCustody,
            Some(CUSTODY),
            None,
            format!(
                "no custody entry has the recorded head {head}: entries were removed since it was recorded, \
                 or this is another log (SPEC §9.5)"
            ),
        );
    }
    report.custody_head = entries.last().map(custody::Entry::digest);
}
