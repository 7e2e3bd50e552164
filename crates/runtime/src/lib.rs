//! Container runtimes through their own APIs: containerd's gRPC API on its socket and the Docker
//! Engine API. Each call runs on a private single-threaded tokio runtime and returns plain data,
//! so the rest of the workspace stays synchronous.
