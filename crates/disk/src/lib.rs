//! Bundles on disk. The format crate ([`forensic_bundle`]) is pure: it reads and writes bytes. This
//! crate adds what touches the machine for every command that reads or writes a bundle file:
//!
//! - [`bundle_file::BundleFile`] opens a bundle once for verification by several threads at once.
//! - [`gate::open`] is the one gate before evidence is read: verified, refused with the failures,
//!   or forced and marked so.
//! - [`atomic::AtomicFile`] makes sure nothing appears at the destination unless it is complete
//!   and synced, and that an existing file is never overwritten.
//! - [`output::BundleOutput`] writes a new bundle atomically, in clear or age-encrypted to
//!   recipients without the plaintext ever reaching the disk ([`forensic_crypt`]); a
//!   [`BundleFile`] reads an encrypted bundle in place given identities.
//! - [`custody_append::append_entry`] appends a signed custody entry to a bundle atomically
//!   (temporary file beside it, synced, renamed over it), refusing entries that break SPEC §9.4.
//! - [`meta::file_meta`] records a file's metadata (never following symlinks); [`clock::Clock`]
//!   gives times that never run backwards during one collection.
//! - [`spill::Sorter`] orders more records than a reader may hold, spilling sorted runs to
//!   temporary files (the timeline's events, the diff's index entries).
//!
//! Errors are split by operation: [`DiskError`] for opening, writing and the clock,
//! [`AppendError`] for custody appends.
#![deny(missing_docs)]

pub mod atomic;
pub mod bundle_file;
pub mod clock;
pub mod custody_append;
mod error;
pub mod gate;
pub mod meta;
pub mod output;
pub mod spill;

pub use atomic::AtomicFile;
pub use bundle_file::{BundleFile, BundleReader, PosReader, verify_file, verify_path, verify_path_with};
pub use clock::Clock;
pub use custody_append::{AppendOptions, Appended, PendingAppend, append_entry, prepare_append};
pub use error::{AppendError, DiskError};
pub use meta::file_meta;
pub use output::{BundleOutput, CommitError, OutputFile};
