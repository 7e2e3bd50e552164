//! The containers on a node's disk, read offline: containerd (`meta.db`, the overlayfs
//! snapshotter's `metadata.db`, CRI status checkpoints), Docker (`containers/<id>/config.v2.json`,
//! `image/overlay2/layerdb`, `imagedb`, `repositories.json`) and podman (`containers.json`,
//! `layers.json`, `images.json`, `libpod/bolt_state.db`), for `forensic collect --offline-root`
//! (issue 13; `docs/dev/deadbox.md`).
//!
//! Guarantees:
//! - **Read-only, inside the root**: every file is opened through [`NodeRoot`]
//!   (`openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`, `O_NOFOLLOW` on files, `O_NOATIME`);
//!   nothing is written, and an absolute link on the node resolves inside the root.
//! - **Hostile input, bounded**: every file is read with a cap ([`limits`]), bbolt files through
//!   `forensic-bolt` (no mmap, typed errors, work budget); layer chains are at most
//!   [`limits::MAX_CHAIN`] long and acyclic; ids taken from metadata are checked in shape
//!   before they become part of a path.
//! - **One broken record does not hide the others**: a database that cannot be read is a
//!   [`Problem`] naming the file; a broken container is a [`Problem`] too, the others still list.
//! - The parsers (`containerd`, `docker`, `podman`) are pure functions over bytes.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod chain;
pub mod codec;
pub mod containerd;
pub mod docker;
mod error;
mod model;
pub mod oci;
pub mod podman;
mod root;
mod scan;
pub mod scan_containerd;
pub mod scan_docker;
pub mod scan_podman;
mod table;

pub use error::NodeError;
pub use model::{
    LastState, Layer, LayerRole, Listing, MetadataFile, OfflineContainer, OfflineRuntime, PodIdentity, Problem,
    StoredFile,
};
pub use root::NodeRoot;
pub use scan::writable_size;
pub use table::{COLUMNS, table};

/// Caps on what is read from the node's disk (`docs/dev/deadbox.md` §6.1).
pub mod limits {
    /// `config.v2.json`, `hostconfig.json`, CRI status files, podman JSON values, image configs.
    pub const SMALL_JSON: u64 = 16 << 20;
    /// podman's `containers.json`, `layers.json`, `images.json`; Docker's `repositories.json`.
    pub const STORE_JSON: u64 = 64 << 20;
    /// bbolt databases (`meta.db`, `metadata.db`, `bolt_state.db`).
    pub const BOLT: u64 = 256 << 20;
    /// One-line files (`mount-id`, `cache-id`, `parent`, `diff`, …).
    pub const LINE: u64 = 4096;
    /// Layers in one chain.
    pub const MAX_CHAIN: usize = 128;
    /// Entries of one directory listed while discovering containers.
    pub const MAX_DIR_ENTRIES: usize = 100_000;
    /// Entries walked to size one writable layer.
    pub const MAX_WALK_ENTRIES: u64 = 1_000_000;
}

impl NodeRoot {
    /// Every container on the disk, all runtimes. A runtime that is absent lists nothing; a
    /// broken runtime database or container is a [`Problem`] naming the file, the others still
    /// list.
    pub fn list(&self) -> Listing {
        let mut listing = Listing::default();
        type Scanner = fn(&mut scan::Scan<'_>) -> Vec<OfflineContainer>;
        let runtimes: [(&'static str, Scanner); 3] = [
            ("containerd", scan_containerd::scan),
            ("docker", scan_docker::scan),
            ("podman", scan_podman::scan),
        ];
        for (name, scanner) in runtimes {
            let mut s = scan::Scan::new(self, name);
            let mut found = scanner(&mut s);
            found.sort_by(|a, b| (&a.runtime, &a.id).cmp(&(&b.runtime, &b.id)));
            listing.containers.extend(found);
            listing.problems.extend(s.problems);
        }
        listing
    }
}
