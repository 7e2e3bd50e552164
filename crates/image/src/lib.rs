//! Container images and filesystem diffs.
//!
//! - [`index`]: a file index — every path of a filesystem with type, mode, owner, size, times and
//!   SHA-256 — the common form of an image (after applying its layers) and of a container's
//!   filesystem as a bundle recorded it.
#![deny(missing_docs)]

pub mod index;
