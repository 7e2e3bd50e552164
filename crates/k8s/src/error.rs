//! The errors of this crate.

/// What went wrong, with the call, file or value concerned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum K8sError {
    /// The kubeconfig could not be read or used.
    #[error("kubeconfig {path}: {reason}")]
    Kubeconfig {
        /// The file.
        path: String,
        /// What is wrong or unsupported.
        reason: String,
    },
    /// An API call could not be made or its answer not read (connection, TLS, size cap).
    #[error("{call}: {reason}")]
    Transport {
        /// The call, `GET /api/v1/...`.
        call: String,
        /// What failed.
        reason: String,
    },
    /// The API server answered with an error status.
    #[error("{call}: HTTP {status}: {message}")]
    Status {
        /// The call, `GET /api/v1/...`.
        call: String,
        /// The HTTP status.
        status: u16,
        /// The server's message (its Status object's `message`, else the start of the body).
        message: String,
    },
    /// The API server's answer is not what the call returns.
    #[error("{call}: unexpected answer: {reason}")]
    Answer {
        /// The call, `GET /api/v1/...`.
        call: String,
        /// What is missing or malformed.
        reason: String,
    },
    /// A value given by the user cannot be used (a name, a selector, a location).
    #[error("{what}: {reason}")]
    Invalid {
        /// The value.
        what: String,
        /// Why.
        reason: String,
    },
}
