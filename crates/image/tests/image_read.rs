//! Reading images into file indexes: real podman images in every saved form, hand-made OCI
//! layouts (whiteouts, platforms, tampering), and hostile tars.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "image_read/support.rs"]
mod support;

#[path = "image_read/hostile.rs"]
mod hostile;
#[path = "image_read/layout.rs"]
mod layout;
#[path = "image_read/podman.rs"]
mod podman;
#[path = "image_read/rootfs.rs"]
mod rootfs;
