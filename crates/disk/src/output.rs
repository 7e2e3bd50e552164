//! Where a new bundle is written: in clear into an [`AtomicFile`], or — for a confidential bundle
//! (`--encrypt-to`) — into an encrypted [`Scratch`] file, then streamed through age encryption
//! into the atomic output, so that no plaintext byte of the bundle reaches the disk.

use crate::{AppendError, AppendOptions, Appended, AtomicFile, DiskError};
use forensic_bundle::custody::{NewEntry, SharedStamper};
use forensic_bundle::keys::Signer;
use forensic_bundle::limits::Limits;
use forensic_bundle::time::Timestamp;
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
        let BundleOutput { out, scratch } = self;
        commit_parts(out, scratch)
    }

    /// Commits the bundle; with `stamp`, with a `timestamped` custody entry signed by `key` as
    /// `actor` appended ([`BundleOutput::commit_with`]): the trusted time of `--tsa`.
    ///
    /// # Errors
    /// As [`BundleOutput::commit_with`].
    pub fn commit_stamped(
        self,
        stamp: Option<&SharedStamper>,
        key: &dyn Signer,
        actor: &str,
        time: Timestamp,
    ) -> Result<(PathBuf, Option<Appended>), CommitError> {
        match stamp {
            None => Ok((self.commit().map_err(CommitError::Bundle)?, None)),
            Some(stamp) => {
                let entry = NewEntry::timestamped(key, actor.to_string(), time, &**stamp);
                self.commit_with(&entry).map(|(path, a)| (path, Some(a)))
            }
        }
    }

    /// Commits the bundle with `last` appended to its custody log (a `timestamped` entry, say),
    /// the way `forensic custody` appends ([`crate::custody_append`]): in clear, once committed;
    /// encrypted, in the scratch before it is encrypted (once encrypted, appending would need an
    /// identity of a recipient, which the writer does not hold).
    ///
    /// # Errors
    /// [`CommitError::Bundle`] when nothing was committed (as [`BundleOutput::commit`]);
    /// [`CommitError::Entry`] when the bundle was committed, sealed and complete, but the entry
    /// could not be appended (an authority did not answer, ...): it is then as without `last`.
    pub fn commit_with(self, last: &NewEntry<'_>) -> Result<(PathBuf, Appended), CommitError> {
        let BundleOutput { out, scratch } = self;
        let Some((plain, to)) = scratch else {
            let path = commit_parts(out, None).map_err(CommitError::Bundle)?;
            return match crate::append_entry(&path, last, &AppendOptions::default()) {
                Ok(a) => Ok((path, a)),
                Err(e) => Err(CommitError::Entry {
                    path,
                    source: Box::new(e),
                }),
            };
        };
        let dest = out.dest().to_path_buf();
        match crate::custody_append::append_in_scratch(&dest, &plain, last, &Limits::default()) {
            Ok((appended, a)) => {
                drop(plain);
                let path = commit_parts(out, Some((appended, to))).map_err(CommitError::Bundle)?;
                Ok((path, a))
            }
            Err(e) => {
                let path = commit_parts(out, Some((plain, to))).map_err(CommitError::Bundle)?;
                Err(CommitError::Entry {
                    path,
                    source: Box::new(e),
                })
            }
        }
    }
}

/// How [`BundleOutput::commit_with`] failed.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// Nothing was committed.
    #[error(transparent)]
    Bundle(DiskError),
    /// The bundle was committed, complete and sealed, without the entry.
    #[error("{} was written and sealed, complete but without its last custody entry: {source}", path.display())]
    Entry {
        /// The bundle committed.
        path: PathBuf,
        /// Why the entry could not be appended.
        source: Box<AppendError>,
    },
}

/// Encrypts the scratch's bundle into `out` when there is one, then commits `out`.
fn commit_parts(mut out: AtomicFile, scratch: Option<(Scratch, Recipients)>) -> Result<PathBuf, DiskError> {
    if let Some((scratch, to)) = scratch {
        let temp = out.temp_path().to_path_buf();
        let plain = io::BufReader::with_capacity(1 << 20, scratch.handle());
        let sink = BufWriter::with_capacity(1 << 20, out.file_mut());
        let (sink, _) = forensic_crypt::encrypt(plain, &to, sink).map_err(|e| DiskError::io(&temp, crypt_io(e)))?;
        sink.into_inner().map_err(|e| DiskError::io(&temp, e.into_error()))?;
    }
    out.commit()
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

    /// `commit_stamped` of an encrypted bundle whose authority fails: the stamper is asked for
    /// a token over the seal entry, and the bundle is committed encrypted without the entry.
    #[test]
    fn an_encrypted_bundle_whose_authority_fails_is_committed_without_the_entry() {
        let dir = tempfile::tempdir().unwrap();
        let id = age::x25519::Identity::generate();
        let key_file = dir.path().join("key.txt");
        std::fs::write(&key_file, format!("{}\n", id.to_string().expose_secret())).unwrap();
        let to = Recipients::parse(&[id.to_public().to_string()]).unwrap();
        let bundle = crate::bundle_file::tests::small_bundle().unwrap();
        let dest = dir.path().join("b.zip.age");
        let out = BundleOutput::create(&dest, Some(to)).unwrap();
        out.writer().unwrap().write_all(&bundle).unwrap();
        let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = asked.clone();
        let stamp: SharedStamper = std::sync::Arc::new(move |head: &forensic_bundle::digest::Digest| {
            seen.lock().unwrap().push(*head);
            Err("http://tsa.invalid/: down".to_string())
        });
        let key = forensic_bundle::keys::signing_key_from_seed(&[3u8; 32]);
        let time = Timestamp::parse("2026-11-29T08:00:00.000000000Z").unwrap();
        let err = out.commit_stamped(Some(&stamp), &key, "a", time).unwrap_err();
        let CommitError::Entry { path, source } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(path, &dest);
        assert!(source.to_string().contains("http://tsa.invalid/: down"), "{source}");
        let ids = std::sync::Arc::new(forensic_crypt::Identities::load(&[&key_file]).unwrap());
        let report = crate::verify_path_with(&dest, Some(&ids), &Default::default()).unwrap();
        assert!(report.verified(), "{:?}", report.failures);
        assert_eq!(report.custody.len(), 1);
        assert_eq!(*asked.lock().unwrap(), vec![report.custody_head.unwrap()]);
        assert!(std::fs::read(&dest).unwrap().starts_with(b"age-encryption.org/v1\n"));
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left.len(), 2, "only the key and the bundle: {left:?}");
    }
}
