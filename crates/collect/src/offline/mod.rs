//! Dead-box collection: one container found on a node's disk (`forensic collect --offline-root`),
//! collected into the same bundle as a live one, from the files alone.
//!
//! - [`merge`]: the merged view of the container's root computed from its layers' indexes.
#![doc = ""]

pub mod merge;

#[cfg(test)]
pub(crate) mod fixture;
