//! What can go wrong while analysing a bundle.

use forensic_bundle::checked::CheckedError;
use std::io;

/// Why an analysis could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnalysisError {
    /// A member could not be read again, or did not check against the manifest (the ZIP
    /// directory, a missing member, a member not in the manifest or differing from it, no
    /// manifest for a strict check).
    #[error(transparent)]
    Checked(#[from] CheckedError),
    /// Reading or decompressing a member failed.
    #[error("reading member {member}: {source}")]
    Io {
        /// The member (or `the bundle` for the file itself).
        member: String,
        /// The error.
        source: io::Error,
    },
    /// A member is not in the form the collector writes.
    #[error("{member}{}: {why}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Malformed {
        /// The member.
        member: String,
        /// 1-based line number, for line-oriented members.
        line: Option<u64>,
        /// What is wrong.
        why: String,
    },
    /// A member's contents are not what CONTENTS.md says, or a line reader limit was reached
    /// (the member, line and limit are in it).
    #[error(transparent)]
    Contents(#[from] forensic_evidence::EvidenceError),
    /// A reader limit was reached.
    #[error("{member}: {why}")]
    Limit {
        /// The member.
        member: String,
        /// Which limit.
        why: String,
    },
    /// A time given by the examiner (`--since`, `--until`) could not be understood.
    #[error(
        "{0:?} is not a time: give RFC 3339 (2024-05-07T18:54:19Z), a date (2024-05-07, UTC), @UNIX_SECONDS, or a duration before the collection (30m, 24h, 7d)"
    )]
    BadTime(String),
    /// A `--path` pattern is not a valid glob.
    #[error("--path {pattern:?}: {why}")]
    BadPattern {
        /// The pattern.
        pattern: String,
        /// What is wrong.
        why: String,
    },
    /// Writing the output failed (a closed pipe included).
    #[error("writing the output: {0}")]
    Output(#[source] io::Error),
    /// A temporary file for sorting the timeline could not be made, written or read.
    #[error("the timeline's temporary sort file: {0}")]
    Spool(#[source] io::Error),
}

impl AnalysisError {
    /// A malformed line of `member`.
    pub(crate) fn line(member: &str, line: u64, why: impl Into<String>) -> AnalysisError {
        AnalysisError::Malformed {
            member: member.into(),
            line: Some(line),
            why: why.into(),
        }
    }

    /// A malformed whole member.
    pub(crate) fn member(member: &str, why: impl Into<String>) -> AnalysisError {
        AnalysisError::Malformed {
            member: member.into(),
            line: None,
            why: why.into(),
        }
    }
}

impl From<io::Error> for AnalysisError {
    fn from(e: io::Error) -> Self {
        AnalysisError::Output(e)
    }
}
