//! The one error type of this crate.

use std::io;
use std::path::PathBuf;

/// Why extracting or streaming could not be done at all. (Members that were skipped are not
/// errors: they are in the summary.)
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExtractError {
    /// Reading the bundle or writing the output failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The output directory exists and is not an empty directory (or is a symbolic link).
    #[error("{}: {reason}", path.display())]
    BadOutput {
        /// The output directory.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A `--section` or `--path` filter that cannot be used.
    #[error("{0}")]
    Filter(String),
    /// No such member in the bundle.
    #[error("the bundle has no member {0:?}")]
    NoSuchMember(String),
    /// The member's content does not match the sealed manifest.
    #[error("{member}: {message}; nothing was written")]
    DigestMismatch {
        /// The member.
        member: String,
        /// Sizes and digests found and expected.
        message: String,
    },
    /// The member's stored bytes cannot be read back intact (CRC-32, length or deflate stream
    /// wrong): it is not the sealed content.
    #[error("{member}: {message}; nothing was written")]
    Damaged {
        /// The member.
        member: String,
        /// What the reader found.
        message: String,
    },
    /// The member changed while it was being streamed (after it had been checked).
    #[error("{member}: {message}; the output is not the sealed content")]
    Changed {
        /// The member.
        member: String,
        /// What differed.
        message: String,
    },
}

impl ExtractError {
    /// An [`ExtractError::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> ExtractError {
        ExtractError::Io {
            path: path.into(),
            source,
        }
    }
}
