//! A bundle on disk, opened for verification by several threads at once, in clear or
//! age-encrypted (a confidential bundle, read in place).

use crate::DiskError;
use forensic_bundle::verify::{OpenReader, Report, VerifyOptions, verify};
use forensic_crypt::{CryptError, Encoding, Identities, StreamReader};
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A bundle file opened once; every [`OpenReader::open`] gives an independent [`BundleReader`]
/// over the same descriptor, so verification threads never share a file position.
///
/// An age-encrypted file ([`forensic_crypt`]) is opened with identities and read in place: each
/// reader decrypts 64 KiB chunks as it goes, authenticating each, so nothing is written in clear
/// and memory stays bounded (a few readers of ~130 KiB each, kept for reuse so that the file key
/// is unwrapped once per thread, not once per member).
#[derive(Debug, Clone)]
pub struct BundleFile {
    file: Arc<File>,
    len: u64,
    path: PathBuf,
    age: Option<Arc<AgeSource>>,
    damaged: Option<String>,
}

/// How an encrypted bundle is read: the identities and the readers kept for reuse.
struct AgeSource {
    ids: Arc<Identities>,
    pool: Mutex<Vec<StreamReader<BufReader<PosReader>>>>,
    cipher_len: u64,
}

impl std::fmt::Debug for AgeSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AgeSource({:?})", self.ids)
    }
}

impl BundleFile {
    /// Opens `path` read-only.
    ///
    /// # Errors
    /// [`DiskError::Io`] naming the path if it cannot be opened or is not a regular file.
    pub fn open(path: &Path) -> Result<BundleFile, DiskError> {
        BundleFile::open_with(path, None)
    }

    /// Opens `path` read-only, decrypting it with `ids` if it is an age file.
    ///
    /// # Errors
    /// As [`BundleFile::open`]; [`DiskError::Encrypted`] for an age file and no `ids`;
    /// [`DiskError::Decrypt`] when the identities cannot open it (none matches, a damaged or
    /// truncated header, an armored file).
    pub fn open_with(path: &Path, ids: Option<&Arc<Identities>>) -> Result<BundleFile, DiskError> {
        let nonblock = i32::try_from(rustix::fs::OFlags::NONBLOCK.bits()).map_err(|_| {
            DiskError::io(
                path,
                io::Error::new(io::ErrorKind::InvalidInput, "open flags out of range"),
            )
        })?;
        // O_NONBLOCK: a FIFO given by mistake must not hang the verifier.
        let file = File::options()
            .read(true)
            .custom_flags(nonblock)
            .open(path)
            .map_err(|e| DiskError::io(path, e))?;
        BundleFile::from_file_with(file, path, ids)
    }

    /// Wraps a file already opened (read-only) as `path`.
    ///
    /// # Errors
    /// [`DiskError::Io`] naming the path if it is not a regular file.
    pub fn from_file(file: File, path: &Path) -> Result<BundleFile, DiskError> {
        BundleFile::from_file_with(file, path, None)
    }

    /// [`BundleFile::open_with`] for a file already opened (read-only) as `path`.
    ///
    /// # Errors
    /// As [`BundleFile::open_with`].
    pub fn from_file_with(file: File, path: &Path, ids: Option<&Arc<Identities>>) -> Result<BundleFile, DiskError> {
        let md = file.metadata().map_err(|e| DiskError::io(path, e))?;
        if !md.is_file() {
            let e = io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file: a bundle is a ZIP file",
            );
            return Err(DiskError::io(path, e));
        }
        let mut plain = BundleFile {
            file: Arc::new(file),
            len: md.len(),
            path: path.to_path_buf(),
            age: None,
            damaged: None,
        };
        let mut head = [0u8; 64];
        let n = plain.file.read_at(&mut head, 0).map_err(|e| DiskError::io(path, e))?;
        match (forensic_crypt::sniff(head.get(..n).unwrap_or_default()), ids) {
            (Encoding::Plain, _) => Ok(plain),
            (_, None) => Err(DiskError::Encrypted(path.to_path_buf())),
            (_, Some(ids)) => {
                let decrypt = |source| DiskError::Decrypt {
                    path: path.to_path_buf(),
                    source,
                };
                let mut first = forensic_crypt::decrypt(plain.raw_reader(), ids).map_err(decrypt)?;
                // The plaintext length is found by authenticating the last chunk: a file changed
                // or cut there opens, and verification reports it ([`verify_file`]).
                let len = match first.seek(SeekFrom::End(0)) {
                    Ok(len) => len,
                    Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                        plain.damaged = Some(authentication_failed(&e));
                        0
                    }
                    Err(e) => return Err(decrypt(CryptError::Io(e))),
                };
                plain.age = Some(Arc::new(AgeSource {
                    ids: Arc::clone(ids),
                    pool: Mutex::new(vec![first]),
                    cipher_len: plain.len,
                }));
                plain.len = len;
                Ok(plain)
            }
        }
    }

    fn raw_reader(&self) -> PosReader {
        PosReader {
            file: Arc::clone(&self.file),
            pos: 0,
            len: self.len,
        }
    }

    /// Whether it is an age-encrypted bundle, read through decryption.
    pub fn is_encrypted(&self) -> bool {
        self.age.is_some()
    }

    /// The length of the file on disk: the ciphertext's for an encrypted bundle.
    pub fn stored_len(&self) -> u64 {
        self.age.as_ref().map_or(self.len, |a| a.cipher_len)
    }

    /// The bundle's length when it was opened (the plaintext's, for an encrypted bundle).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file was empty when it was opened.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The path it was opened by.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl OpenReader for BundleFile {
    type Reader<'a> = BundleReader;

    fn open(&self) -> io::Result<BundleReader> {
        let Some(age) = &self.age else {
            return Ok(BundleReader::Plain(self.raw_reader()));
        };
        let kept = age.pool.lock().ok().and_then(|mut p| p.pop());
        let mut reader = match kept {
            Some(r) => r,
            None => forensic_crypt::decrypt(
                PosReader {
                    file: Arc::clone(&self.file),
                    pos: 0,
                    len: age.cipher_len,
                },
                &age.ids,
            )
            .map_err(|e| io::Error::other(format!("decrypting {}: {e}", self.path.display())))?,
        };
        reader.rewind()?;
        Ok(BundleReader::Age(Box::new(Decrypting {
            reader: Some(reader),
            source: Arc::clone(age),
            failed: false,
        })))
    }
}

/// What a chunk of an encrypted bundle that fails age's authentication means.
fn authentication_failed(e: &io::Error) -> String {
    format!("the encrypted file fails authentication ({e}): it was changed, damaged or cut after it was encrypted")
}

/// An independent reader of a bundle's bytes: the file's, or the plaintext of an encrypted file.
#[derive(Debug)]
pub enum BundleReader {
    /// A bundle in clear.
    Plain(PosReader),
    /// An age-encrypted bundle, decrypted as it is read.
    Age(Box<Decrypting>),
}

/// A decrypting reader, given back for reuse when dropped unless a read failed.
pub struct Decrypting {
    reader: Option<StreamReader<BufReader<PosReader>>>,
    source: Arc<AgeSource>,
    failed: bool,
}

impl std::fmt::Debug for Decrypting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Decrypting {{ failed: {} }}", self.failed)
    }
}

impl Decrypting {
    fn with<T>(&mut self, f: impl FnOnce(&mut StreamReader<BufReader<PosReader>>) -> io::Result<T>) -> io::Result<T> {
        let r = self
            .reader
            .as_mut()
            .ok_or_else(|| io::Error::other("the decrypting reader failed earlier"))?;
        let out = f(r).map_err(|e| {
            if e.kind() == io::ErrorKind::InvalidData {
                io::Error::new(e.kind(), authentication_failed(&e))
            } else {
                e
            }
        });
        self.failed |= out.is_err();
        out
    }
}

impl Drop for Decrypting {
    fn drop(&mut self) {
        if let (Some(r), false) = (self.reader.take(), self.failed) {
            if let Ok(mut pool) = self.source.pool.lock() {
                pool.push(r);
            }
        }
    }
}

impl Read for BundleReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            BundleReader::Plain(r) => r.read(buf),
            BundleReader::Age(d) => d.with(|r| r.read(buf)),
        }
    }
}

impl Seek for BundleReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        match self {
            BundleReader::Plain(r) => r.seek(to),
            BundleReader::Age(d) => d.with(|r| r.seek(to)),
        }
    }
}

/// A reader with its own position over a shared file, reading with `pread` (`read_at`).
#[derive(Debug, Clone)]
pub struct PosReader {
    file: Arc<File>,
    pos: u64,
    len: u64,
}

impl Read for PosReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos = self.pos.saturating_add(n as u64);
        Ok(n)
    }
}

impl Seek for PosReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        match target {
            Some(p) => {
                self.pos = p;
                Ok(p)
            }
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek to a negative or overflowing position",
            )),
        }
    }
}

/// Verifies `bundle` (SPEC §11), as [`verify`] does; for an encrypted bundle, a chunk that fails
/// age's authentication while the index is read is reported as a failure
/// ([`FailureClass::MalformedContainer`]: the encrypted file was changed or damaged), not as an
/// I/O error — it is a bundle that does not verify, like a flipped byte in a bundle in clear.
///
/// # Errors
/// When the file cannot be read.
pub fn verify_file(bundle: &BundleFile, opts: &VerifyOptions) -> io::Result<Report> {
    let damaged = |message: String| {
        let mut report = Report::default();
        report.failures.push(forensic_bundle::verify::Failure {
            class: forensic_bundle::verify::FailureClass::MalformedContainer,
            member: None,
            entry: None,
            message,
        });
        Ok(report)
    };
    if let Some(m) = &bundle.damaged {
        return damaged(m.clone());
    }
    match verify(bundle, opts) {
        Err(e) if bundle.is_encrypted() && e.kind() == io::ErrorKind::InvalidData => damaged(e.to_string()),
        other => other,
    }
}

/// Verifies the bundle at `path` (SPEC §11).
///
/// # Errors
/// [`DiskError::Io`] naming the path when the file cannot be opened or read; a bundle that can be
/// read but fails verification is an `Ok` report listing the failures.
pub fn verify_path(path: &Path, opts: &VerifyOptions) -> Result<Report, DiskError> {
    verify_path_with(path, None, opts)
}

/// [`verify_path`] for a bundle that may be age-encrypted, decrypted with `ids`.
///
/// # Errors
/// As [`verify_path`] and [`BundleFile::open_with`].
pub fn verify_path_with(path: &Path, ids: Option<&Arc<Identities>>, opts: &VerifyOptions) -> Result<Report, DiskError> {
    let bundle = BundleFile::open_with(path, ids)?;
    verify_file(&bundle, opts).map_err(|e| DiskError::io(path, e))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use forensic_bundle::manifest::{Collector, Source};
    use forensic_bundle::section::Section;
    use forensic_bundle::time::Timestamp;
    use forensic_bundle::writer::{BundleWriter, Header, MemberSpec, Seal};
    use forensic_bundle::{keys, verify::FailureClass};

    pub(crate) fn small_bundle() -> Result<Vec<u8>, Box<dyn std::error::Error>> {
        let key = keys::signing_key_from_seed(&[3u8; 32]);
        let t = Timestamp::parse("2026-11-29T07:00:00.000000000Z")?;
        let header = Header::new("b-1", t.clone(), Collector::new("test", "1"));
        let mut w = BundleWriter::new(io::Cursor::new(Vec::new()), header)?;
        w.begin_section(Section::Logs, t.clone())?;
        for i in 0..8 {
            let spec = MemberSpec::new(&format!("log-{i}.txt"), Source::path("/x".into()), t.clone());
            w.add_member(spec, format!("line {i}\n").repeat(1000).as_bytes())?;
        }
        w.end_section(t.clone())?;
        Ok(w.finish(&Seal {
            key: &key,
            actor: "a".into(),
            time: t,
            note: None,
        })?
        .into_inner())
    }

    #[test]
    fn readers_have_independent_positions() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let p = dir.path().join("f");
        std::fs::write(&p, b"0123456789")?;
        let f = BundleFile::open(&p)?;
        assert_eq!(f.len(), 10);
        let (mut a, mut b) = (f.open()?, f.open()?);
        let mut buf = [0u8; 4];
        a.read_exact(&mut buf)?;
        assert_eq!(&buf, b"0123");
        b.seek(SeekFrom::End(-3))?;
        let mut rest = Vec::new();
        b.read_to_end(&mut rest)?;
        assert_eq!(rest, b"789");
        a.read_exact(&mut buf)?;
        assert_eq!(&buf, b"4567");
        a.seek(SeekFrom::Current(-8))?;
        a.read_exact(&mut buf)?;
        assert_eq!(&buf, b"0123");
        assert!(a.seek(SeekFrom::Current(-100)).is_err());
        Ok(())
    }

    #[test]
    fn verify_path_passes_a_good_bundle_and_reports_a_damaged_one() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let p = dir.path().join("b.zip");
        let mut bytes = small_bundle()?;
        std::fs::write(&p, &bytes)?;
        let report = verify_path(&p, &VerifyOptions::default())?;
        assert!(report.verified(), "{:?}", report.failures);
        assert_eq!(report.manifest.map(|m| m.members.len()), Some(8));
        // Flip one byte of the marker's content: its CRC-32 no longer matches (SPEC §2.1).
        let pos = bytes.windows(5).position(|w| w == b"vnd.f").unwrap_or(0);
        if let Some(b) = bytes.get_mut(pos) {
            *b ^= 1;
        }
        std::fs::write(&p, &bytes)?;
        let report = verify_path(&p, &VerifyOptions::default())?;
        assert_eq!(report.classes(), [FailureClass::CorruptMember]);
        Ok(())
    }

    #[test]
    fn open_errors_name_the_path() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let missing = dir.path().join("missing.zip");
        let err = verify_path(&missing, &VerifyOptions::default())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("missing.zip"), "{err}");
        let err = BundleFile::open(dir.path())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("not a regular file"), "{err}");
        Ok(())
    }
}
