//! Container runtimes through their own APIs: containerd's gRPC API on its socket and the Docker
//! Engine API. Each call runs on a private single-threaded tokio runtime and returns plain data,
//! so the rest of the workspace stays synchronous.
//!
//! - [`containerd`]: list containers (by label filter), inspect one (container, task, snapshot
//!   mounts, image) into the [`ContainerdInspect`](forensic_evidence::records::containerd::ContainerdInspect)
//!   document, read content by digest (bounded) or stream it.
//! - [`cri`]: a container's Kubernetes identity from its CRI labels, annotations and metadata,
//!   and a pod's containers resolved from them (no kubectl).
//! - [`docker`]: the Engine API through bollard: inspect a container or an image, its logs, list
//!   by label.
//!
//! # Guarantees
//! - Every call is recorded in the caller's [`CallLog`] (an
//!   [`ApiCall`](forensic_evidence::records::api::ApiCall)), failed ones included.
//! - Every call has a timeout; every answer read into memory is bounded (gRPC messages by
//!   tonic's 4 MiB decoding limit, content and JSON by explicit caps); blobs are streamed.
//! - Errors are [`ApiError`]s naming the socket, the call and what it was asked about.
//! - Nothing here writes to a runtime: only read calls (Get, List, Mounts, Read, inspect, logs).

#![deny(missing_docs)]

pub mod containerd;
pub mod cri;
pub mod docker;
mod error;
mod log;

pub use error::ApiError;
pub use log::CallLog;
