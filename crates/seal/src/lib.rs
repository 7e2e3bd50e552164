//! Bundles on disk: seal a directory of hand-collected evidence into a forensic bundle, write it
//! atomically, record file metadata, and open bundles on disk for verification.
//!
//! The format crate ([`forensic_bundle`]) is pure: it reads and writes bytes. This crate adds what
//! touches the machine: files, directories, the clock, extended attributes and the host name.
//!
//! - [`seal::seal_directory`] packages a directory like the checklist's `/tmp/evidence/<timestamp>/`
//!   into a sealed bundle, placing each file in a section by [`rules`].
//! - [`atomic::AtomicFile`] makes sure nothing appears at the destination unless it is complete and
//!   synced, and that an existing file is never overwritten.
//! - [`bundle_file::BundleFile`] and [`bundle_file::verify_path`] verify a bundle on disk with
//!   several threads reading at once.
//! - [`gate::open`] is the one gate before evidence is read: verified, refused with the
//!   failures, or forced and marked so.
//! - [`meta::file_meta`] records a file's metadata (never following symlinks).
//! - [`custody_append::append_entry`] appends a signed custody entry to a bundle atomically
//!   (temporary file beside it, synced, renamed over it), refusing entries that break SPEC §9.4.
//!
//! ```no_run
//! use forensic_seal::seal::{SealOptions, seal_directory};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let key = forensic_bundle::keys::signing_key_from_seed(&[7u8; 32]);
//! let mut opts = SealOptions::new("/tmp/evidence/20260115-100000", "case-42.zip", key, "alice");
//! opts.rules.push(forensic_seal::rules::parse_rule("filesystem=notes/*")?);
//! let summary = seal_directory(&opts)?;
//! println!("{} members, manifest {}", summary.members, summary.manifest_digest);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod abandon;
pub mod atomic;
pub mod bundle_file;
pub mod clock;
mod content;
pub mod custody_append;
pub mod error;
pub mod gate;
mod member;
pub mod meta;
mod plan;
pub mod rules;
pub mod seal;
mod target;
mod walk;

pub use atomic::AtomicFile;
pub use bundle_file::{BundleFile, PosReader, verify_path};
pub use clock::Clock;
pub use custody_append::{AppendOptions, Appended, PendingAppend, append_entry, prepare_append};
pub use error::SealError;
pub use meta::file_meta;
pub use rules::{Rule, parse_rule};
pub use seal::{SealOptions, SealSummary, seal_directory};
