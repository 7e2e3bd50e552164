//! The one error type of this crate.

use forensic_bundle::writer::WriteError;
use std::io;
use std::path::PathBuf;

/// Why sealing a directory failed. Every variant names what it concerns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// Reading or writing a file or directory failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// Creating, syncing or renaming the output, or reading the clock, failed; or the output
    /// already exists (it is never overwritten).
    #[error(transparent)]
    Disk(#[from] forensic_disk::DiskError),
    /// The bundle was written and sealed, but its `timestamped` entry could not be appended
    /// (`--tsa`: an authority did not answer, ...); the bundle is complete without it.
    #[error("{0}")]
    Timestamp(Box<forensic_disk::CommitError>),
    /// The output would be written inside the evidence directory and so be sealed into itself.
    #[error(
        "the output {} is inside the evidence directory {}; write the bundle somewhere else",
        output.display(),
        dir.display()
    )]
    OutputInsideEvidence {
        /// The output path as given.
        output: PathBuf,
        /// The evidence directory.
        dir: PathBuf,
    },
    /// The evidence path is not a directory.
    #[error("{} is not a directory: seal takes a directory of evidence", .0.display())]
    NotADirectory(PathBuf),
    /// Files that no rule places in a section (every one of them, relative to the evidence directory).
    #[error(
        "{} file(s) match no section rule:\n  {}\nplace them with --section NAME=GLOB, e.g. --section filesystem='*' \
         (sections: processes, network, memory, logs, filesystem, podspec, audit, alerts, image)",
        .0.len(),
        .0.join("\n  ")
    )]
    Unplaced(Vec<String>),
    /// A `--section NAME=GLOB` rule that cannot be used.
    #[error("bad section rule: {0}")]
    BadRule(String),
    /// More files than a bundle may hold (SPEC §10).
    #[error("the evidence directory holds {count} files; a bundle holds at most {max} evidence members (SPEC §10)")]
    TooManyMembers {
        /// Files found.
        count: usize,
        /// The most a bundle may hold.
        max: usize,
    },
    /// Reading evidence failed part-way through a file, after its member had been started.
    #[error("reading {}: {source}; nothing was written to the destination", path.display())]
    Read {
        /// The evidence file.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The bundle would break a reader limit of SPEC §10, so no verifier would accept it.
    #[error("the bundle would not verify: {0}")]
    LimitExceeded(String),
    /// Writing the bundle failed (nothing was left at the destination).
    #[error("writing the bundle {}: {source}", path.display())]
    Write {
        /// The bundle being written.
        path: PathBuf,
        /// What failed.
        source: WriteError,
    },
    /// The bundle just written could not be read back to compute the manifest digest.
    #[error("reading back {}: {reason}", path.display())]
    ReadBack {
        /// The temporary file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

impl SealError {
    /// An [`SealError::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> SealError {
        SealError::Io {
            path: path.into(),
            source,
        }
    }
}

impl From<forensic_disk::CommitError> for SealError {
    fn from(e: forensic_disk::CommitError) -> SealError {
        match e {
            forensic_disk::CommitError::Bundle(e) => SealError::Disk(e),
            entry => SealError::Timestamp(Box::new(entry)),
        }
    }
}
