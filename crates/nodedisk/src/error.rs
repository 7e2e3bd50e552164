//! [`NodeError`]: what went wrong reading a node's disk; every variant names the node path.

/// An error reading the node's disk or a runtime's record on it. Each names the node path (or
/// the database value) concerned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The root itself cannot be opened as a directory.
    #[error("cannot open the node root {path}: {source}")]
    OpenRoot {
        /// The examiner's path given as the root.
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A node path is not usable (not absolute, a NUL byte, a `..` component).
    #[error("{path:?}: not a usable node path: {why}")]
    BadPath {
        /// The path as given.
        path: String,
        /// Why.
        why: &'static str,
    },
    /// Nothing at that node path.
    #[error("{path}: not found")]
    NotFound {
        /// The node path.
        path: String,
    },
    /// The node path is not a regular file (a symlink as last component, a directory, a FIFO…).
    #[error("{path}: not a regular file")]
    NotRegular {
        /// The node path.
        path: String,
    },
    /// A file is larger than the cap for its kind.
    #[error("{path}: {size} bytes, more than the {max} bytes allowed for this file")]
    TooLarge {
        /// The node path.
        path: String,
        /// Its size (at least; it may have grown).
        size: u64,
        /// The cap.
        max: u64,
    },
    /// Any other operating system error.
    #[error("{path}: {source}")]
    Io {
        /// The node path.
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A bbolt database cannot be read.
    #[error("{file}: {source}")]
    Bolt {
        /// The node path of the database.
        file: String,
        /// The reader's error (bucket, page, element).
        source: forensic_bolt::Error,
    },
    /// A JSON file (or JSON database value) is malformed.
    #[error("{file}: malformed JSON: {source}")]
    Json {
        /// The node path, or `<database> <bucket path>`.
        file: String,
        /// The parser's error (line, column).
        source: serde_json::Error,
    },
    /// A record is malformed or inconsistent (a bad varint, an id of the wrong shape, a layer
    /// chain with a cycle or too long).
    #[error("{file}: {what}")]
    Record {
        /// The node path, or `<database> <bucket path>`.
        file: String,
        /// What is wrong.
        what: String,
    },
}

impl NodeError {
    /// The node path (or database value) the error names.
    pub fn path(&self) -> &str {
        match self {
            NodeError::OpenRoot { path, .. }
            | NodeError::BadPath { path, .. }
            | NodeError::NotFound { path }
            | NodeError::NotRegular { path }
            | NodeError::TooLarge { path, .. }
            | NodeError::Io { path, .. } => path,
            NodeError::Bolt { file, .. } | NodeError::Json { file, .. } | NodeError::Record { file, .. } => file,
        }
    }

    /// A [`NodeError::Record`].
    pub(crate) fn record(file: impl Into<String>, what: impl Into<String>) -> NodeError {
        NodeError::Record {
            file: file.into(),
            what: what.into(),
        }
    }

    /// A [`NodeError::Json`].
    pub(crate) fn json(file: impl Into<String>, source: serde_json::Error) -> NodeError {
        NodeError::Json {
            file: file.into(),
            source,
        }
    }
}
