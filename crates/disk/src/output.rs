//! Where a new bundle is written: in clear into an [`AtomicFile`], or — for a confidential bundle
//! (`--encrypt-to`) — into an encrypted [`Scratch`] file, then streamed through age encryption
//! into the atomic output, so that no plaintext byte of the bundle reaches the disk.

use crate::{AtomicFile, DiskError};
use forensic_crypt::{Recipients, Scratch};
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// A new bundle being written, which appears at its destination only by
/// [`BundleOutput::commit`] (as [`AtomicFile`]).
///
/// # Security
/// Encrypted, the ZIP is built in a [`Scratch`] file (unnamed, beside the destination, ChaCha20
/// under a key held only in memory) because the ZIP writer seeks back to patch headers and an
/// age stream cannot; on commit it is read back, deciphered in memory and encrypted with age to
/// the recipients. The disk sees scratch ciphertext and age ciphertext, never the bundle in
/// clear. The destination directory needs room for the bundle twice (scratch and output) until
/// the commit ends.
#[derive(Debug)]
pub struct BundleOutput {
    out: AtomicFile,
    scratch: Option<(Scratch, Recipients)>,
}

impl BundleOutput {
    /// Claims `dest` (see [`AtomicFile::create`]); with `encrypt_to`, the bundle will be written
    /// age-encrypted to those recipients.
    ///
    /// # Errors
    /// As [`AtomicFile::create`]; [`DiskError::Io`] if the scratch file cannot be created.
    pub fn create(dest: &Path, encrypt_to: Option<Recipients>) -> Result<BundleOutput, DiskError> {
        let out = AtomicFile::create(dest)?;
        let scratch = match encrypt_to {
            None => None,
            Some(to) => {
                let dir = out.temp_path().parent().unwrap_or(Path::new(".")).to_path_buf();
                Some((Scratch::create_in(&dir).map_err(|e| DiskError::io(dir, e))?, to))
            }
        };
        Ok(BundleOutput { out, scratch })
    }

    /// Whether the bundle will be written encrypted.
    pub fn is_encrypted(&self) -> bool {
        self.scratch.is_some()
    }

    /// Where the output is until it is committed (the temporary file beside the destination).
    pub fn temp_path(&self) -> &Path {
        self.out.temp_path()
    }

    /// Where it will appear.
    pub fn dest(&self) -> &Path {
        self.out.dest()
    }

    /// A handle to write the bundle's bytes with, at position 0 (its own position).
    ///
    /// # Errors
    /// When the temporary file cannot be duplicated.
    pub fn writer(&self) -> Result<OutputFile, DiskError> {
        Ok(match &self.scratch {
            Some((s, _)) => OutputFile::Scratch(s.handle()),
            None => OutputFile::Plain(
                self.out
                    .file()
                    .try_clone()
                    .map_err(|e| DiskError::io(self.out.temp_path(), e))?,
            ),
        })
    }

    /// Encrypts the bundle into the output if it is to be encrypted, then commits it (synced,
    /// renamed into place, never over an existing file).
    ///
    /// # Errors
    /// As [`AtomicFile::commit`]; [`DiskError::Io`] if encrypting fails. On any error nothing is
    /// left at the destination.
    pub fn commit(self) -> Result<PathBuf, DiskError> {
        let BundleOutput { mut out, scratch } = self;
        if let Some((scratch, to)) = scratch {
            let temp = out.temp_path().to_path_buf();
            let plain = io::BufReader::with_capacity(1 << 20, scratch.handle());
            let sink = BufWriter::with_capacity(1 << 20, out.file_mut());
            let (sink, _) = forensic_crypt::encrypt(plain, &to, sink).map_err(|e| DiskError::io(&temp, crypt_io(e)))?;
            sink.into_inner().map_err(|e| DiskError::io(&temp, e.into_error()))?;
        }
        out.commit()
    }
}

/// A [`forensic_crypt::CryptError`] as an I/O error (the recipients were parsed before).
fn crypt_io(e: forensic_crypt::CryptError) -> io::Error {
    match e {
        forensic_crypt::CryptError::Io(e) => e,
        other => io::Error::other(other.to_string()),
    }
}

/// A handle on the bundle being written: the temporary file itself, or the encrypted scratch.
#[derive(Debug)]
pub enum OutputFile {
    /// The temporary file beside the destination (a bundle in clear).
    Plain(File),
    /// The encrypted scratch file (a confidential bundle).
    Scratch(Scratch),
}

impl Read for OutputFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            OutputFile::Plain(f) => f.read(buf),
            OutputFile::Scratch(s) => s.read(buf),
        }
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            OutputFile::Plain(f) => f.write(buf),
            OutputFile::Scratch(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            OutputFile::Plain(f) => f.flush(),
            OutputFile::Scratch(s) => s.flush(),
        }
    }
}

impl Seek for OutputFile {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        match self {
            OutputFile::Plain(f) => f.seek(to),
            OutputFile::Scratch(s) => s.seek(to),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use age::secrecy::ExposeSecret;

    #[test]
    fn an_encrypted_output_holds_only_age_ciphertext_and_reads_back_as_the_bundle() {
        let dir = tempfile::tempdir().unwrap();
        let id = age::x25519::Identity::generate();
        let key = dir.path().join("key.txt");
        std::fs::write(&key, format!("{}\n", id.to_string().expose_secret())).unwrap();
        let to = Recipients::parse(&[id.to_public().to_string()]).unwrap();
        let bundle = crate::bundle_file::tests::small_bundle().unwrap();
        let dest = dir.path().join("b.zip.age");
        let out = BundleOutput::create(&dest, Some(to)).unwrap();
        let mut w = out.writer().unwrap();
        // Written out of order, as the ZIP writer does when it patches a header.
        w.write_all(&bundle).unwrap();
        w.seek(SeekFrom::Start(0)).unwrap();
        w.write_all(&bundle[..100]).unwrap();
        // While writing: the temporary output is empty and the scratch has no name.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        assert_eq!(std::fs::metadata(out.temp_path()).unwrap().len(), 0);
        assert_eq!(out.commit().unwrap(), dest);
        let stored = std::fs::read(&dest).unwrap();
        assert!(stored.starts_with(b"age-encryption.org/v1\n"));
        assert!(!stored.windows(5).any(|w| w == b"vnd.f"), "the marker is not in clear");
        let ids = std::sync::Arc::new(forensic_crypt::Identities::load(&[&key]).unwrap());
        let report = crate::verify_path_with(&dest, Some(&ids), &Default::default()).unwrap();
        assert!(report.verified(), "{:?}", report.failures);
        let f = crate::BundleFile::open_with(&dest, Some(&ids)).unwrap();
        assert!(f.is_encrypted() && f.len() == bundle.len() as u64 && f.stored_len() == stored.len() as u64);
        let err = crate::BundleFile::open(&dest).unwrap_err().to_string();
        assert!(err.contains("encrypted bundle") && err.contains("--identity"), "{err}");
    }
}
