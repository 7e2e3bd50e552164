//! What can go wrong talking to a runtime's API.

use forensic_evidence::records::api::Api;

/// A failed API call, naming the socket, the call and its argument.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The socket could not be reached (absent, refused, not a socket).
    #[error("{api} API at {socket}: cannot connect: {reason}")]
    Connect {
        /// Which API.
        api: &'static str,
        /// The socket.
        socket: String,
        /// Why.
        reason: String,
    },
    /// The runtime says the object does not exist.
    #[error("{api} API at {socket}: {call} {argument}: not found ({reason})")]
    NotFound {
        /// Which API.
        api: &'static str,
        /// The socket.
        socket: String,
        /// The call.
        call: String,
        /// What it was asked about.
        argument: String,
        /// The runtime's words.
        reason: String,
    },
    /// No answer in time.
    #[error("{api} API at {socket}: {call} {argument}: no answer within {seconds} s")]
    Timeout {
        /// Which API.
        api: &'static str,
        /// The socket.
        socket: String,
        /// The call.
        call: String,
        /// What it was asked about.
        argument: String,
        /// The time allowed.
        seconds: u64,
    },
    /// The call failed for another reason (refused, answer too large or not understood).
    #[error("{api} API at {socket}: {call} {argument}: {reason}")]
    Call {
        /// Which API.
        api: &'static str,
        /// The socket.
        socket: String,
        /// The call.
        call: String,
        /// What it was asked about.
        argument: String,
        /// Why.
        reason: String,
    },
    /// The request could not even be made (a namespace that is not a valid header value, a
    /// `DOCKER_HOST` that is not a unix socket, no async runtime).
    #[error("{0}")]
    Setup(String),
    /// Writing streamed content to the caller's writer failed.
    #[error("{api} API at {socket}: {call} {argument}: writing the answer: {source}")]
    Write {
        /// Which API.
        api: &'static str,
        /// The socket.
        socket: String,
        /// The call.
        call: String,
        /// What it was asked about.
        argument: String,
        /// The writer's error.
        #[source]
        source: std::io::Error,
    },
}

impl ApiError {
    /// Whether the runtime said the object does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ApiError::NotFound { .. })
    }
}

pub(crate) fn api_name(api: Api) -> &'static str {
    api.as_str()
}
