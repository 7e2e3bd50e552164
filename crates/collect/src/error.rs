//! Errors that stop a collection before anything is written.

use std::path::PathBuf;

/// Why collection could not run. Problems with single items during collection are not errors:
/// they are recorded in the bundle as gaps, and collection goes on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CollectError {
    /// The target could not be found or resolved.
    #[error("{0}")]
    Target(String),
    /// The pod runs on another node.
    #[error(
        "pod {namespace}/{pod} runs on node {pod_node:?}, but this is node {this_node:?}: run forensic collect on {pod_node:?}"
    )]
    WrongNode {
        /// Pod name.
        pod: String,
        /// Namespace.
        namespace: String,
        /// The pod's node.
        pod_node: String,
        /// This node.
        this_node: String,
    },
    /// This process lacks what collection needs (see [`crate::privileges`]); nothing was done.
    #[error(
        "collection needs root: running as uid {euid} without {}; nothing was collected or written: run it as root, e.g. `sudo forensic collect …` with the same arguments",
        missing.join(", ")
    )]
    Privileges {
        /// The effective uid.
        euid: u32,
        /// What is missing, each with what it is needed for.
        missing: Vec<String>,
    },
    /// No container runtime client could be found.
    #[error("no container runtime found (looked for {0}); name one with --runtime, or use --pid")]
    NoRuntime(String),
    /// Writing the bundle failed.
    #[error(transparent)]
    Disk(#[from] forensic_disk::DiskError),
    /// The bundle was written and sealed, but its `timestamped` entry could not be appended
    /// (`--tsa`: an authority did not answer, ...); the bundle is complete without it.
    #[error("{0}")]
    Timestamp(Box<forensic_disk::CommitError>),
    /// Writing the bundle failed.
    #[error("writing {path}: {source}")]
    Write {
        /// The bundle.
        path: PathBuf,
        /// What failed.
        source: forensic_bundle::writer::WriteError,
    },
    /// I/O outside the target (temporary files, the output directory).
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: std::io::Error,
    },
}

impl From<forensic_disk::CommitError> for CollectError {
    fn from(e: forensic_disk::CommitError) -> CollectError {
        match e {
            forensic_disk::CommitError::Bundle(e) => CollectError::Disk(e),
            entry => CollectError::Timestamp(Box::new(entry)),
        }
    }
}
