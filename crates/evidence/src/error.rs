//! The one error type of this crate: what was wrong with a member's contents, and where.

use std::io;

/// What went wrong reading an evidence member's contents, naming the member.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvidenceError {
    /// A line is longer than the limit.
    #[error("{member} line {line} is longer than {max} bytes")]
    LineTooLong {
        /// The member.
        member: String,
        /// 1-based line number.
        line: u64,
        /// The limit in bytes.
        max: usize,
    },
    /// More lines than the limit.
    #[error("{member} has more than {max} lines")]
    TooManyLines {
        /// The member.
        member: String,
        /// The limit.
        max: u64,
    },
    /// A record (a line, or the whole member) is not what the schema says.
    #[error("{member}{}: not a valid record: {why}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Malformed {
        /// The member.
        member: String,
        /// 1-based line number, for a line-oriented member.
        line: Option<u64>,
        /// What was wrong (the parser's words: field, expected type, column).
        why: String,
    },
    /// Reading failed.
    #[error("reading {member}: {source}")]
    Io {
        /// The member.
        member: String,
        /// The error.
        source: io::Error,
    },
}

impl EvidenceError {
    /// A record of `member` that does not parse, at `line` (1-based) or for the whole member.
    pub fn malformed(member: &str, line: Option<u64>, e: &serde_json::Error) -> EvidenceError {
        EvidenceError::Malformed {
            member: member.to_string(),
            line,
            why: e.to_string(),
        }
    }
}
