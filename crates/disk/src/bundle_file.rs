//! A bundle on disk, opened for verification by several threads at once.

use crate::DiskError;
use forensic_bundle::verify::{OpenReader, Report, VerifyOptions, verify};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A bundle file opened once; every [`OpenReader::open`] gives an independent [`PosReader`] over
/// the same descriptor, so verification threads never share a file position.
#[derive(Debug, Clone)]
pub struct BundleFile {
    file: Arc<File>,
    len: u64,
    path: PathBuf,
}

impl BundleFile {
    /// Opens `path` read-only.
    ///
    /// # Errors
    /// [`DiskError::Io`] naming the path if it cannot be opened or is not a regular file.
    pub fn open(path: &Path) -> Result<BundleFile, DiskError> {
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
        BundleFile::from_file(file, path)
    }

    /// Wraps a file already opened (read-only) as `path`.
    ///
    /// # Errors
    /// [`DiskError::Io`] naming the path if it is not a regular file.
    pub fn from_file(file: File, path: &Path) -> Result<BundleFile, DiskError> {
        let md = file.metadata().map_err(|e| DiskError::io(path, e))?;
        if !md.is_file() {
            let e = io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file: a bundle is a ZIP file",
            );
            return Err(DiskError::io(path, e));
        }
        Ok(BundleFile {
            file: Arc::new(file),
            len: md.len(),
            path: path.to_path_buf(),
        })
    }

    /// The file's length when it was opened.
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
    type Reader<'a> = PosReader;

    fn open(&self) -> io::Result<PosReader> {
        Ok(PosReader {
            file: Arc::clone(&self.file),
            pos: 0,
            len: self.len,
        })
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

/// Verifies the bundle at `path` (SPEC §11).
///
/// # Errors
/// [`DiskError::Io`] naming the path when the file cannot be opened or read; a bundle that can be
/// read but fails verification is an `Ok` report listing the failures.
pub fn verify_path(path: &Path, opts: &VerifyOptions) -> Result<Report, DiskError> {
    let bundle = BundleFile::open(path)?;
    verify(&bundle, opts).map_err(|e| DiskError::io(path, e))
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
