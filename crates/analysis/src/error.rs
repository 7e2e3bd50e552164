//! What can go wrong while analysing a bundle.

use forensic_bundle::digest::Digest;
use std::io;

/// Why an analysis could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnalysisError {
    /// The file is not a readable bundle ZIP (verification should have said so).
    #[error("the bundle's ZIP structure: {0}")]
    Container(String),
    /// Reading or decompressing a member failed.
    #[error("reading member {member}: {source}")]
    Io {
        /// The member (or `the bundle` for the file itself).
        member: String,
        /// The error.
        source: io::Error,
    },
    /// A member the analysis needs is not in the bundle.
    #[error("the bundle has no member {member}")]
    Missing {
        /// The member.
        member: String,
    },
    /// A member is not listed in the manifest, so it cannot be checked.
    #[error("member {member} is not listed in the manifest: its content cannot be checked")]
    NotInManifest {
        /// The member.
        member: String,
    },
    /// A member's content no longer matches the manifest (changed since it was verified?).
    #[error(
        "member {member} does not match the manifest: {size} bytes with SHA-256 {actual}, the manifest says {expected_size} bytes with {expected}"
    )]
    DigestMismatch {
        /// The member.
        member: String,
        /// The manifest's SHA-256.
        expected: Digest,
        /// The manifest's size.
        expected_size: u64,
        /// SHA-256 of what was read.
        actual: Digest,
        /// Bytes read.
        size: u64,
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
    /// A reader limit was reached.
    #[error("{member}: {why}")]
    Limit {
        /// The member.
        member: String,
        /// Which limit.
        why: String,
    },
    /// [`crate::evidence::Check::Strict`] needs the manifest.
    #[error("no manifest to check members against")]
    NoManifest,
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
