//! What can go wrong with a bundle on disk, split by operation.

use std::io;
use std::path::PathBuf;

/// Why opening, writing or timing a bundle on disk failed. Every variant names what it concerns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiskError {
    /// Reading or writing a file or directory failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The output file already exists; it is never overwritten.
    #[error("{} already exists; it was left untouched (forensic never overwrites a file): choose another output path", .0.display())]
    Exists(PathBuf),
    /// Another run is writing the same output file now: its temporary file, the claim on the
    /// destination, is held (locked) by a live process.
    #[error(
        "another forensic run is writing {} now (its temporary file {} is locked by a live process); nothing was done: wait for it, or choose another output path",
        dest.display(),
        temp.display()
    )]
    Busy {
        /// The output file.
        dest: PathBuf,
        /// The temporary file that claims it.
        temp: PathBuf,
    },
    /// The bundle is age-encrypted and no identity was given to decrypt it.
    #[error("{} is an encrypted bundle (age); give --identity FILE (an identity of one of its recipients) to read it", .0.display())]
    Encrypted(PathBuf),
    /// The encrypted bundle cannot be decrypted with the identities given.
    #[error("{}: {source}", path.display())]
    Decrypt {
        /// The bundle.
        path: PathBuf,
        /// Why.
        source: forensic_crypt::CryptError,
    },
    /// The system clock reads a time that cannot be recorded.
    #[error("the system clock cannot be used: {0}; set the clock and try again")]
    Clock(forensic_bundle::time::TimeError),
}

impl DiskError {
    /// A [`DiskError::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> DiskError {
        DiskError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Why a custody entry was not appended. The bundle is left untouched in every case.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppendError {
    /// Opening, reading or writing failed.
    #[error(transparent)]
    Disk(#[from] DiskError),
    /// A custody entry can only be appended to a bundle that verifies (SPEC §11).
    #[error(
        "{} does not verify ({} problem(s), the first: {}); custody entries are appended only to a bundle that verifies",
        path.display(),
        report.failures.len(),
        report.failures.first().map(ToString::to_string).unwrap_or_default()
    )]
    NotVerified {
        /// The bundle.
        path: PathBuf,
        /// What verification found.
        report: Box<forensic_bundle::verify::Report>,
    },
    /// The new entry would break the custody rules (SPEC §9.3, §9.4); nothing was written.
    #[error("{}: {reason}; nothing was written", path.display())]
    CustodyRefused {
        /// The bundle.
        path: PathBuf,
        /// Which rule, in words.
        reason: String,
    },
    /// Another process holds the bundle's lock (it is appending a custody entry).
    #[error("{} is locked by another process appending to it; try again when it has finished", .0.display())]
    Busy(PathBuf),
    /// The bundle changed in a way that makes appending unsafe, or the rewrite failed.
    #[error("appending to {}: {reason}; the bundle was left untouched", path.display())]
    Append {
        /// The bundle.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

impl AppendError {
    /// An I/O failure on `path`.
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> AppendError {
        AppendError::Disk(DiskError::io(path, source))
    }
}
