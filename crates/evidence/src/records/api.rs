//! `N-section/api-calls.jsonl`: every call made to a container runtime's own API (containerd's
//! gRPC API, the Docker Engine API) for a section, the API counterpart of `commands.jsonl`.
//! CONTENTS.md §13.

use forensic_bundle::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Which API a call went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    /// containerd's gRPC API on its unix socket.
    Containerd,
    /// The Docker Engine API (HTTP on a unix socket).
    Docker,
}

impl Api {
    /// The name written on the wire (`containerd`, `docker`).
    pub fn as_str(self) -> &'static str {
        match self {
            Api::Containerd => "containerd",
            Api::Docker => "docker",
        }
    }
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApiOutcome {
    /// It answered.
    Ok,
    /// The runtime said the object does not exist (gRPC `NotFound`, HTTP 404).
    NotFound,
    /// No answer within the time allowed.
    TimedOut,
    /// Any other failure: the socket could not be reached, the runtime refused, the answer was
    /// too large or not understood; `error` says which.
    Error,
}

/// One call: where it went, what it asked, how it ended and how much came back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiCall {
    /// The API.
    pub api: Api,
    /// The socket it went to, as given (a path).
    pub socket: String,
    /// The containerd namespace the call was made in (`null` for Docker).
    pub namespace: Option<String>,
    /// The call: a gRPC method (`containerd.services.containers.v1.Containers/Get`) or an HTTP
    /// request line without the host (`GET /containers/{id}/json`).
    pub call: String,
    /// What it was asked about (a container id, an image name, a digest, a filter), if anything.
    pub argument: Option<String>,
    /// When it was started.
    pub started: Timestamp,
    /// When it ended.
    pub finished: Timestamp,
    /// How it ended.
    pub outcome: ApiOutcome,
    /// Bytes of the answer received (the encoded gRPC messages; the HTTP body as decoded).
    pub bytes: u64,
    /// Why it failed, when it did.
    pub error: Option<String>,
}
