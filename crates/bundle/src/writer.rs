//! Streaming bundle writer (SPEC §2–§9).
//!
//! Members are hashed while they are copied into the archive; nothing is held in memory but the
//! manifest records. The writer writes to any `Write + Seek`; atomic placement on disk (temporary
//! file, sync, rename) is the caller's job (see the `forensic-seal` crate).

use crate::custody::{self, NewEntry};
use crate::digest::{Digest, HashingWriter, copy};
use crate::limits::Limits;
use crate::manifest::{Case, Collector, FileMeta, Gap, Manifest, Member, SectionRecord, Source, Target};
use crate::name;
use crate::section::Section;
use crate::time::Timestamp;
use crate::{CUSTODY, FORMAT_VERSION, MANIFEST, MARKER, MIMETYPE, SHA256SUMS};
use std::collections::HashSet;
use std::io::{self, Read, Seek, Write};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// Why writing a bundle failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// Writing or reading evidence failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The ZIP layer failed.
    #[error("ZIP: {0}")]
    Zip(#[from] zip::result::ZipError),
    /// A member name breaks SPEC §3.
    #[error("member name {name:?}: {source}")]
    Name {
        /// The full name.
        name: String,
        /// The rule it breaks.
        source: name::NameError,
    },
    /// The same member name twice.
    #[error("member {0:?} would be written twice")]
    Duplicate(String),
    /// Sections out of order, or a member outside a section.
    #[error("{0}")]
    Order(String),
    /// Encoding the manifest or custody entry failed.
    #[error("{0}")]
    Encode(String),
    /// One more member would break a limit of SPEC §10 that every verifier enforces.
    #[error(transparent)]
    Limit(#[from] LimitReached),
}

mod budget;

use budget::Budget;
#[cfg(test)]
use budget::METADATA_MEMBERS;
pub use budget::{BundleLimit, LimitReached};

/// What the manifest says about the bundle as a whole.
#[derive(Debug, Clone)]
pub struct Header {
    /// Unique id.
    pub bundle_id: String,
    /// Creation time; also the DOS time of every ZIP entry.
    pub created: Timestamp,
    /// Case metadata.
    pub case: Case,
    /// Collector record.
    pub collector: Collector,
    /// Target record.
    pub target: Target,
}

impl Header {
    /// A header with empty case and target.
    pub fn new(bundle_id: &str, created: Timestamp, collector: Collector) -> Header {
        Header {
            bundle_id: bundle_id.to_string(),
            created,
            case: Case::default(),
            collector,
            target: Target::default(),
        }
    }
}

/// How to store a member's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Method 0: fastest to verify; for incompressible data.
    Stored,
    /// Method 8.
    Deflate,
}

/// Bytes from the start of a member's content that [`Compression::for_sample`] looks at.
pub const COMPRESSION_SAMPLE: usize = 64 * 1024;

impl Compression {
    /// The method for content that starts with `sample` (its first [`COMPRESSION_SAMPLE`] bytes,
    /// or all of it): deflate when a fast deflate shrinks the sample below 90 %, stored otherwise
    /// (incompressible data, and empty content).
    pub fn for_sample(sample: &[u8]) -> Compression {
        if sample.is_empty() {
            return Compression::Stored;
        }
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        match enc.write_all(sample).and_then(|()| enc.finish()) {
            Ok(packed) if packed.len().saturating_mul(10) < sample.len().saturating_mul(9) => Compression::Deflate,
            _ => Compression::Stored,
        }
    }
}

/// One member to write.
#[derive(Debug, Clone)]
pub struct MemberSpec {
    /// Name relative to the section prefix, e.g. `pod-spec.yaml` or `tmp/x`; each segment must
    /// already be valid (see [`name::escape_segment`]).
    pub name: String,
    /// Where the content comes from.
    pub source: Source,
    /// When it was read.
    pub captured: Timestamp,
    /// Metadata of the original.
    pub meta: Option<FileMeta>,
    /// The original was larger than the content.
    pub truncated: bool,
    /// Storage method.
    pub compression: Compression,
    /// Expected length if known; content of 4 GiB or more needs Zip64 fields, which are
    /// written when this is `None` or large.
    pub size_hint: Option<u64>,
    /// Copy at most this many bytes; if the source has more, the member is marked truncated
    /// (the writer reads one byte past the limit to find out).
    pub max_len: Option<u64>,
}

impl MemberSpec {
    /// A deflated member with no metadata.
    pub fn new(name: &str, source: Source, captured: Timestamp) -> MemberSpec {
        MemberSpec {
            name: name.to_string(),
            source,
            captured,
            meta: None,
            truncated: false,
            compression: Compression::Deflate,
            size_hint: None,
            max_len: None,
        }
    }
}

/// The seal: the first custody entry.
#[derive(Debug, Clone)]
pub struct Seal<'a> {
    /// The sealing key.
    pub key: &'a dyn crate::keys::Signer,
    /// The sealer's name.
    pub actor: String,
    /// Seal time.
    pub time: Timestamp,
    /// Note in the seal entry.
    pub note: Option<String>,
}

/// Writes a bundle: marker, then members section by section, then manifest, sums and seal.
pub struct BundleWriter<W: Write + Seek> {
    zip: ZipWriter<W>,
    header: Header,
    dos_time: zip::DateTime,
    sections: Vec<SectionRecord>,
    open: Option<(Section, Timestamp)>,
    members: Vec<Member>,
    names: HashSet<String>,
    gaps: Vec<Gap>,
    budget: Budget,
}

impl<W: Write + Seek> BundleWriter<W> {
    /// Starts a bundle and writes the `mimetype` marker.
    ///
    /// # Errors
    /// [`WriteError`] if writing fails.
    pub fn new(out: W, header: Header) -> Result<Self, WriteError> {
        let (y, mo, d, h, mi, s) = header.created.fields();
        // DOS dates start in 1980; earlier creation times are written as 1980-01-01.
        let dos_time = zip::DateTime::from_date_and_time(y.max(1980), mo, d, h, mi, s).unwrap_or_default();
        let mut zip = ZipWriter::new(out);
        let opts = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Stored)
            .last_modified_time(dos_time)
            .unix_permissions(0o644);
        zip.start_file(MIMETYPE, opts)?;
        zip.write_all(MARKER)?;
        Ok(BundleWriter {
            zip,
            header,
            dos_time,
            sections: Vec::new(),
            open: None,
            members: Vec::new(),
            names: HashSet::new(),
            gaps: Vec::new(),
            budget: Budget::default(),
        })
    }

    /// Opens `section`. Sections must be opened in increasing order, one at a time.
    ///
    /// # Errors
    /// [`WriteError::Order`] when out of order.
    pub fn begin_section(&mut self, section: Section, started: Timestamp) -> Result<(), WriteError> {
        if let Some((open, _)) = &self.open {
            return Err(WriteError::Order(format!("section {open} is still open")));
        }
        if let Some(last) = self.sections.last() {
            if last.number >= u64::from(section.number()) {
                return Err(WriteError::Order(format!(
                    "section {section} after section {}",
                    last.name
                )));
            }
            if started < last.finished {
                return Err(WriteError::Order(format!(
                    "section {section} starts before section {} finished",
                    last.name
                )));
            }
        }
        self.open = Some((section, started));
        Ok(())
    }

    /// Streams `content` into the open section as a new member, hashing it as it goes.
    ///
    /// # Errors
    /// [`WriteError`] for a bad or duplicate name, no open section, or I/O failure.
    pub fn add_member<R: Read>(&mut self, spec: MemberSpec, mut content: R) -> Result<&Member, WriteError> {
        let (section, _) = self
            .open
            .clone()
            .ok_or_else(|| WriteError::Order("no section is open".into()))?;
        let full = format!("{}{}", section.prefix(), spec.name);
        name::validate(&full).map_err(|source| WriteError::Name {
            name: full.clone(),
            source,
        })?;
        let provisional = Member {
            name: full.clone(),
            section,
            size: u64::MAX,
            sha256: Digest::of(b""),
            captured: spec.captured.clone(),
            source: spec.source.clone(),
            meta: spec.meta.clone(),
            truncated: Some(true),
        };
        let record_len = self.budget.check(&provisional).map_err(WriteError::Limit)?;
        if !self.names.insert(full.clone()) {
            return Err(WriteError::Duplicate(full));
        }
        let method = match spec.compression {
            Compression::Stored => CompressionMethod::Stored,
            Compression::Deflate => CompressionMethod::Deflated,
        };
        let expected = match (spec.size_hint, spec.max_len) {
            (Some(s), Some(m)) => Some(s.min(m)),
            (Some(s), None) => Some(s),
            (None, m) => m,
        };
        let large = expected.is_none_or(|s| s >= 0xF000_0000);
        let opts = SimpleFileOptions::default()
            .compression_method(method)
            .compression_level(level(method))
            .last_modified_time(self.dos_time)
            .unix_permissions(0o644)
            .large_file(large);
        self.zip.start_file(full.as_str(), opts)?;
        let mut hw = HashingWriter::new(&mut self.zip);
        let more = match spec.max_len {
            Some(max) => {
                copy(&mut (&mut content).take(max), &mut hw)?;
                read_one(&mut content)?
            }
            None => {
                copy(&mut content, &mut hw)?;
                false
            }
        };
        let (_, size, sha256) = hw.finish();
        self.members.push(Member {
            name: full,
            section,
            size,
            sha256,
            captured: spec.captured,
            source: spec.source,
            meta: spec.meta,
            truncated: (spec.truncated || more).then_some(true),
        });
        let last = self
            .members
            .last()
            .ok_or_else(|| WriteError::Order("member list is empty".into()))?;
        self.budget.add_member(&last.name, record_len);
        Ok(last)
    }

    /// Closes the open section.
    ///
    /// # Errors
    /// [`WriteError::Order`] if none is open or `finished` is before its start.
    pub fn end_section(&mut self, finished: Timestamp) -> Result<(), WriteError> {
        let (section, started) = self
            .open
            .take()
            .ok_or_else(|| WriteError::Order("no section is open".into()))?;
        if finished < started {
            return Err(WriteError::Order(format!(
                "section {section} finishes before it starts"
            )));
        }
        self.sections.push(SectionRecord {
            number: u64::from(section.number()),
            name: section.name().into(),
            started,
            finished,
        });
        Ok(())
    }

    /// Records something that could not be collected.
    ///
    /// Gaps beyond the manifest's share for them are counted instead, and recorded as one
    /// summary gap per section when the bundle is finished.
    pub fn add_gap(&mut self, gap: Gap) {
        if self.budget.admit_gap(&gap) {
            self.gaps.push(gap);
        }
    }

    /// How many more evidence members bulk copies may add before the bundle would break one of
    /// SPEC §10's limits (member count, manifest and `SHA256SUMS` size), keeping a reserve for
    /// what is written after them. [`BundleWriter::add_member`] itself refuses only at the limit.
    pub fn room(&self) -> u64 {
        self.budget.room()
    }

    /// Members written so far.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// Gaps recorded so far.
    pub fn gaps(&self) -> &[Gap] {
        &self.gaps
    }

    /// Writes `manifest.cbor`, `SHA256SUMS` and `custody.cbor` with the seal entry, and finishes the
    /// archive. Returns the inner writer (not yet synced: the caller syncs before renaming).
    ///
    /// # Errors
    /// [`WriteError`] if a section is still open, or on I/O or encoding failure.
    pub fn finish(self, seal: &Seal<'_>) -> Result<W, WriteError> {
        self.finish_with_digest(seal).map(|(w, _)| w)
    }

    /// Like [`BundleWriter::finish`], also returning the manifest digest (what the seal signs).
    ///
    /// # Errors
    /// As [`BundleWriter::finish`].
    pub fn finish_with_digest(mut self, seal: &Seal<'_>) -> Result<(W, Digest), WriteError> {
        if let Some((open, _)) = &self.open {
            return Err(WriteError::Order(format!("section {open} is still open")));
        }
        let manifest = Manifest {
            format: "forensic-bundle".into(),
            version: FORMAT_VERSION,
            bundle_id: self.header.bundle_id.clone(),
            created: self.header.created.clone(),
            case: self.header.case.clone(),
            collector: self.header.collector.clone(),
            target: self.header.target.clone(),
            sections: std::mem::take(&mut self.sections),
            members: std::mem::take(&mut self.members),
            gaps: {
                let mut gaps = std::mem::take(&mut self.gaps);
                gaps.extend(self.budget.summary_gaps());
                gaps
            },
        };
        let manifest_bytes = manifest.to_cbor().map_err(|e| WriteError::Encode(e.to_string()))?;
        let digest = Digest::of(&manifest_bytes);
        let sums = crate::sums::render(&manifest, &digest);
        let entry = NewEntry {
            stamp: None,
            key: seal.key,
            actor: seal.actor.clone(),
            action: custody::SEALED.into(),
            time: seal.time.clone(),
            recipient: None,
            note: seal.note.clone(),
            deposit: None,
        };
        let log = custody::append(&[], &entry, &manifest.bundle_id, &digest, &Limits::default())
            .map_err(|e| WriteError::Encode(e.to_string()))?;
        self.put(MANIFEST, &manifest_bytes, CompressionMethod::Deflated)?;
        self.put(SHA256SUMS, sums.as_bytes(), CompressionMethod::Deflated)?;
        self.put(CUSTODY, &log, CompressionMethod::Stored)?;
        Ok((self.zip.finish()?, digest))
    }

    fn put(&mut self, name: &str, bytes: &[u8], method: CompressionMethod) -> Result<(), WriteError> {
        let opts = SimpleFileOptions::default()
            .compression_method(method)
            .compression_level(level(method))
            .last_modified_time(self.dos_time)
            .unix_permissions(0o644);
        self.zip.start_file(name, opts)?;
        self.zip.write_all(bytes)?;
        Ok(())
    }
}

/// The deflate level of every deflated member: 1, the fastest. Evidence is mostly JSON lines
/// (file indexes of tens of MiB) written while the collection hashes on every core; level 1
/// deflates them several times faster than the default 6 for a bundle about half again as large
/// (bench/collect.sh). Stored members take no level (the zip crate refuses one).
const DEFLATE_LEVEL: i64 = 1;

/// The level option for `method`.
fn level(method: CompressionMethod) -> Option<i64> {
    (method == CompressionMethod::Deflated).then_some(DEFLATE_LEVEL)
}

/// Whether `r` has at least one more byte.
fn read_one<R: Read>(r: &mut R) -> io::Result<bool> {
    let mut b = [0u8; 1];
    loop {
        match r.read(&mut b) {
            Ok(n) => return Ok(n > 0),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::signing_key_from_seed;
    use crate::verify::{VerifyOptions, verify};
    use std::io::Cursor;

    #[test]
    fn text_is_deflated_noise_and_nothing_stored() {
        assert_eq!(
            Compression::for_sample(&b"GET / 200\n".repeat(1000)),
            Compression::Deflate
        );
        let noise: Vec<u8> = (0..2048u32)
            .flat_map(|i| crate::digest::Digest::of(&i.to_le_bytes()).0)
            .collect();
        assert_eq!(Compression::for_sample(&noise), Compression::Stored);
        assert_eq!(Compression::for_sample(b""), Compression::Stored);
    }

    /// Closes the open section, seals and verifies, asserting the bundle verifies.
    fn seal_and_verify(mut w: BundleWriter<Cursor<Vec<u8>>>, t: Timestamp) -> crate::verify::Report {
        w.end_section(t.clone()).unwrap();
        let key = signing_key_from_seed(&[1; 32]);
        let seal = Seal {
            key: &key,
            actor: "a".into(),
            time: t,
            note: None,
        };
        let bytes = w.finish(&seal).unwrap().into_inner();
        let report = verify(&bytes[..], &VerifyOptions::default()).unwrap();
        assert!(report.verified(), "{:?}", report.failures);
        report
    }

    #[test]
    fn the_writer_stops_at_the_member_limit_so_that_what_it_writes_verifies() {
        let t = Timestamp::parse("2026-11-29T10:00:00.000000000Z").unwrap();
        let mut w = BundleWriter::new(
            Cursor::new(Vec::new()),
            Header::new("b", t.clone(), Collector::new("t", "0")),
        )
        .unwrap();
        w.begin_section(Section::Filesystem, t.clone()).unwrap();
        let mut i = 0u64;
        while w.room() > 0 {
            let mut spec = MemberSpec::new(&format!("f{i}"), Source::path("/f".into()), t.clone());
            spec.size_hint = Some(0);
            w.add_member(spec, io::empty()).unwrap();
            i += 1;
        }
        assert_eq!(i, Limits::default().max_members - METADATA_MEMBERS);
        let spec = MemberSpec::new("one-more", Source::path("/f".into()), t.clone());
        let err = w.add_member(spec, io::empty()).err();
        assert!(matches!(err, Some(WriteError::Limit(_))), "{err:?}");
        seal_and_verify(w, t);
    }

    #[test]
    fn long_records_and_countless_gaps_keep_the_manifest_within_its_limit() {
        let t = Timestamp::parse("2026-11-29T10:00:00.000000000Z").unwrap();
        let mut w = BundleWriter::new(
            Cursor::new(Vec::new()),
            Header::new("b", t.clone(), Collector::new("t", "0")),
        )
        .unwrap();
        w.begin_section(Section::Filesystem, t.clone()).unwrap();
        let source = |i: u64| {
            Source::path(crate::manifest::RawPath::Text(format!(
                "/{}/{i}",
                "long-directory-name/".repeat(50)
            )))
        };
        let mut i = 0u64;
        // Bulk copies stop at room() == 0, well before the member count limit ...
        while w.room() > 0 {
            w.add_member(MemberSpec::new(&format!("f{i}"), source(i), t.clone()), io::empty())
                .unwrap();
            i += 1;
        }
        assert!(i < 20_000, "{i}");
        // ... leaving a reserve that later members use, until the hard stop.
        let late = (0..)
            .take_while(|j| {
                w.add_member(MemberSpec::new(&format!("g{j}"), source(*j), t.clone()), io::empty())
                    .is_ok()
            })
            .count();
        assert!(late > 1000, "{late}");
        for j in 0..100_000 {
            w.add_gap(Gap {
                section: Section::Filesystem,
                what: format!("/{j}"),
                reason: "named pipe: not opened".into(),
            });
        }
        let report = seal_and_verify(w, t);
        let gaps = &report.manifest.unwrap().gaps;
        let last = gaps.last().unwrap();
        assert!(last.what.ends_with("further gaps"), "{last:?}");
        let dropped: usize = last.what.split(' ').next().unwrap().parse().unwrap();
        assert_eq!(gaps.len() - 1 + dropped, 100_000);
    }
}
