//! The one error type of this crate.

use std::io;
use std::path::PathBuf;

/// Why a query could not be run at all.
///
/// Lines that are not audit events are not errors: they are skipped and counted in
/// [`crate::Stats`]. Neither is a bundle that does not verify: [`crate::Source::open`] returns it
/// with its verification report, and the caller decides whether to go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The source could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// A member of the bundle could not be read (its stored data is corrupt, or reading failed).
    #[error("{}: member {member}: {source}", path.display())]
    Member {
        /// The bundle.
        path: PathBuf,
        /// The member name, e.g. `7-audit/audit.log`.
        member: String,
        /// What went wrong, at which point.
        source: io::Error,
    },
    /// The bundle could not be opened.
    #[error("{0}")]
    Open(#[from] forensic_disk::DiskError),
    /// The bundle's archive structure cannot be read, even leniently.
    #[error("{}: {message}", path.display())]
    Bundle {
        /// The bundle.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The bundle holds no audit log (section 7 is empty).
    #[error("{}: the bundle holds no Kubernetes audit log (section 7-audit is empty){}", path.display(), gap_text(gaps))]
    NoAuditLog {
        /// The bundle.
        path: PathBuf,
        /// The collector's recorded reasons for not collecting it, if any.
        gaps: Vec<String>,
    },
    /// A query argument that cannot be used (an empty pod name, ...).
    #[error("{0}")]
    Query(String),
}

fn gap_text(gaps: &[String]) -> String {
    if gaps.is_empty() {
        String::new()
    } else {
        format!(": {}", gaps.join("; "))
    }
}

impl AuditError {
    /// An [`AuditError::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> AuditError {
        AuditError::Io {
            path: path.into(),
            source,
        }
    }
}
