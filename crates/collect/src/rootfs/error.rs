//! The error type of the root filesystem readers.

use std::io;

/// Why reading the container's filesystem failed. Paths are as seen inside the container (or
/// relative to the walked directory), with control characters and invalid UTF-8 escaped.
///
/// Problems with single entries of a walk (a file that vanished, a directory that cannot be read)
/// are not errors: they are reported as skipped entries or gaps and the walk goes on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RootError {
    /// The directory given as the container root (or overlay layer) could not be opened.
    #[error("cannot open {path} as a container root directory: {source}")]
    OpenRoot {
        /// The host path given.
        path: String,
        /// The operating system's error.
        source: io::Error,
    },
    /// A path given by the caller cannot name something inside the container.
    #[error("{path}: {why}")]
    BadPath {
        /// The path as given.
        path: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The path does not exist inside the container.
    #[error("{path}: no such file or directory in the container")]
    NotFound {
        /// The path.
        path: String,
    },
    /// A component of the path is a symlink inside the container; it was not followed.
    #[error("{path}: the path is or goes through a symlink inside the container; not followed")]
    Symlink {
        /// The path.
        path: String,
    },
    /// The entry changed between being listed and being opened (another file or type took its place).
    #[error("{path}: replaced after it was listed (expected a regular file with the listed inode); not read")]
    Replaced {
        /// The path.
        path: String,
    },
    /// Any other operating system error on a file or directory of the container.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The operating system's error.
        source: io::Error,
    },
    /// Writing the output (index stream, evidence sink, spool file) failed; collection stopped.
    #[error("writing {what}: {source}")]
    Output {
        /// What was being written.
        what: String,
        /// The error.
        source: io::Error,
    },
}

impl RootError {
    /// Whether the error only says that the path does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, RootError::NotFound { .. })
    }

    /// Maps an operating system error on `path` to the most specific variant.
    pub(crate) fn from_io(path: String, source: io::Error) -> RootError {
        use rustix::io::Errno;
        match source.raw_os_error().map(Errno::from_raw_os_error) {
            Some(Errno::NOENT) => RootError::NotFound { path },
            Some(Errno::LOOP) => RootError::Symlink { path },
            _ => RootError::Io { path, source },
        }
    }

    /// An output failure.
    pub(crate) fn output(what: impl Into<String>, source: io::Error) -> RootError {
        RootError::Output {
            what: what.into(),
            source,
        }
    }
}

/// A raw path for messages: the one display escaping ([`forensic_evidence::escape`]).
pub fn display_path(raw: &[u8]) -> String {
    forensic_evidence::escape(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_escapes_controls_backslashes_and_invalid_bytes() {
        assert_eq!(display_path(b"/tmp/a\nb\\c\xff\xc3\xa9"), "/tmp/a\\nb\\\\c\\xff\u{e9}");
        assert_eq!(display_path(b""), "");
    }

    #[test]
    fn errno_maps_to_variants() {
        let e = RootError::from_io(
            "/x".into(),
            io::Error::from_raw_os_error(rustix::io::Errno::NOENT.raw_os_error()),
        );
        assert!(e.is_not_found());
        let e = RootError::from_io(
            "/x".into(),
            io::Error::from_raw_os_error(rustix::io::Errno::LOOP.raw_os_error()),
        );
        assert!(matches!(e, RootError::Symlink { .. }));
        assert!(e.to_string().contains("not followed"));
        let e = RootError::from_io(
            "/x".into(),
            io::Error::from_raw_os_error(rustix::io::Errno::ACCESS.raw_os_error()),
        );
        assert!(matches!(e, RootError::Io { .. }));
    }
}
