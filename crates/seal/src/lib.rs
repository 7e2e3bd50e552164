//! `forensic seal`: package a directory of hand-collected evidence (the checklist's
//! `/tmp/evidence/<timestamp>/`) into a sealed bundle.
//!
//! - [`seal::seal_directory`] places each file in a section by [`rules`], reads it safely (no
//!   symlink followed, no blocking on special files), and writes the bundle atomically through
//!   [`forensic_disk`], which owns everything about bundles on disk.
//!
//! ```no_run
//! use forensic_seal::seal::{SealOptions, seal_directory};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let key = std::sync::Arc::new(forensic_bundle::keys::signing_key_from_seed(&[7u8; 32]));
//! let mut opts = SealOptions::new("/tmp/evidence/20260115-100000", "case-42.zip", key, "alice");
//! opts.rules.push(forensic_seal::rules::parse_rule("filesystem=notes/*")?);
//! let summary = seal_directory(&opts)?;
//! println!("{} members, manifest {}", summary.members, summary.manifest_digest);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod abandon;
mod content;
pub mod error;
mod member;
mod plan;
pub mod rules;
pub mod seal;
mod target;
mod walk;

pub use error::SealError;
pub use rules::{Rule, parse_rule};
pub use seal::{SealOptions, SealSummary, seal_directory};
