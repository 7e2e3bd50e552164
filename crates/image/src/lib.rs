//! Container images and filesystem diffs.
//!
//! - [`index`]: a file index — every path of a filesystem with type, mode, owner, size, times and
//!   SHA-256 — the common form of an image (after applying its layers) and of a container's
//!   filesystem as a bundle recorded it.
//! - [`open_image`] and [`Image::index`]: reading an image — an OCI layout directory or archive, a
//!   docker-archive, or a root filesystem as a directory or tar — into a [`FileIndex`](index::FileIndex):
//!   layers applied in order with OCI whiteouts, every blob checked against its digest, every
//!   regular file hashed, all as streams (nothing extracted, no layer held in memory).
//! - [`bundle_index`]: a bundle's view of the container (its full-tree index and writable layer),
//!   the image as it was on the node (its lower-layer indexes), and file contents, every member
//!   re-checked against the manifest as it is read.
//! - [`diff`]: the change list of `podman diff` or `docker diff` (`A`/`C`/`D`), found by content
//!   hash too; [`runtime_paths`]: the paths each runtime makes itself, which the list leaves out;
//!   [`findings`] and [`accounts`]: what in it an examiner should look at first; [`report`]:
//!   the `--json` form of it all; [`bundle_diff`]: all of that for a bundle through the gate, as
//!   `forensic diff` runs it.
#![deny(missing_docs)]

pub mod index;

// Reading images (open_image → Image::index).
mod docker;
pub mod error;
pub mod image;
mod input;
mod layer;
mod oci;
pub mod options;
mod rootfs;
mod store;
mod stream;
mod tree;

// Diffing a bundle against an image.
pub mod accounts;
pub mod bundle_diff;
pub mod bundle_index;
pub mod diff;
pub mod findings;
mod index_line;
mod lower_layers;
pub mod report;
pub mod runtime_paths;

pub use error::ImageError;
pub use image::{Image, ImageKind, LayerInfo};
pub use input::open_image;
pub use options::{ImageOptions, Platform};
