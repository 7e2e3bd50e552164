//! The forensic bundle format, version 1 (`format-spec/SPEC.md`).
//!
//! This crate is pure: it reads and writes bytes through [`std::io::Read`], [`std::io::Write`] and
//! [`std::io::Seek`]; it never opens files, reads a clock or talks to a terminal. Times, keys, ids
//! and paths are passed in, which is what makes the test vectors reproducible byte for byte.
//!
//! - [`writer::BundleWriter`] streams evidence into a new bundle and seals it (§2–§9).
//! - [`verify::verify`] runs the verification algorithm of §11 and returns a [`verify::Report`]
//!   listing every failure found, each with its [`verify::FailureClass`] (§12).
//! - [`custody`] signs, parses and appends custody entries and checks their chain and semantics
//!   (§9); [`append`] writes a bundle with one more entry, rewriting only its tail; [`keys`]
//!   handles key files and fingerprints (§8).
//!
//! ```
//! use forensic_bundle::{keys, manifest::*, section::Section, time::Timestamp, writer::*};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let key = keys::signing_key_from_seed(&[7u8; 32]);
//! let t = Timestamp::parse("2026-11-29T07:00:00.000000000Z")?;
//! let header = Header::new("case-1-bundle", t.clone(), Collector::new("doc-example", "1"));
//! let mut w = BundleWriter::new(std::io::Cursor::new(Vec::new()), header)?;
//! w.begin_section(Section::PodSpec, t.clone())?;
//! let spec = MemberSpec::new("pod-spec.yaml", Source::path("/tmp/evidence/pod-spec.yaml".into()), t.clone());
//! w.add_member(spec, &b"kind: Pod\n"[..])?;
//! w.end_section(t.clone())?;
//! let bytes = w.finish(&Seal { key: &key, actor: "alice".into(), time: t, note: None })?.into_inner();
//! let report = forensic_bundle::verify::verify(&bytes[..], &Default::default())?;
//! assert!(report.failures.is_empty());
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

pub mod append;
pub mod cbor;
pub mod checked;
pub mod custody;
pub mod digest;
pub mod json_view;
pub mod keys;
pub mod limits;
pub mod manifest;
pub mod name;
pub mod section;
pub mod sums;
pub mod time;
pub mod verify;
pub mod writer;
pub mod zipread;

/// The exact content of the `mimetype` marker member (SPEC §2.2).
pub const MARKER: &[u8] = b"application/vnd.forensic-bundle.v1+zip";
/// The prefix every version's marker shares (SPEC §2.2).
pub const MARKER_FAMILY: &[u8] = b"application/vnd.forensic-bundle.";
/// Name of the marker member.
pub const MIMETYPE: &str = "mimetype";
/// Name of the manifest member.
pub const MANIFEST: &str = "manifest.cbor";
/// Name of the checksum list member.
pub const SHA256SUMS: &str = "SHA256SUMS";
/// Name of the custody log member.
pub const CUSTODY: &str = "custody.cbor";
/// The four metadata member names, in archive order positions (first, then the last three).
pub const METADATA_NAMES: [&str; 4] = [MIMETYPE, MANIFEST, SHA256SUMS, CUSTODY];
/// The format version this crate reads and writes.
pub const FORMAT_VERSION: u64 = 1;
