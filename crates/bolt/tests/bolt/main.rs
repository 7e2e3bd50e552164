//! Tests of the bbolt reader: databases written by the real programs (Go bbolt, containerd,
//! podman), read whole and compared with Go bbolt's own listing, and damaged copies of them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod containerd;
mod damaged;
mod podman;
mod reader;
