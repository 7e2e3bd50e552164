//! Live, non-destructive collection from a running container (modules landing incrementally).
#![deny(missing_docs)]

pub mod rootfs;
pub mod sink;
