//! Offline analysis of a forensic bundle: the views of `forensic show` and the cross-source
//! `forensic timeline`.
//!
//! Every view reads members through [`evidence::Evidence`], which re-checks each member's SHA-256
//! against the manifest as it streams (the bundle is verified by the caller first). Views:
//!
//! - [`summary`]: target, image, sections with times, counts, custody head, top findings;
//! - [`processes`]: the process tree with start times, executables and flags;
//! - [`network`]: sockets decoded from the raw `/proc/net` tables (IPv4 and IPv6) with owners;
//! - [`files`]: the filesystem index, filtered, streamed;
//! - [`suspicious`] / [`findings`]: what the container-forensics checklist looks for, each
//!   finding with the member behind it;
//! - [`timeline`]: file times, process starts, audit events, Falco alerts, collection and
//!   custody, in one time order; text, CSV, JSON Lines, or a `mactime` body file; and as
//!   Timesketch imports it ([`timeline::timesketch`]);
//! - [`case`]: the collection and its custody as CASE/UCO JSON-LD (`forensic export`).
//!
//! The JSON forms are documented in `docs/show-json.md`.
//!
//! ```no_run
//! use forensic_analysis::evidence::{Check, Evidence, Limits};
//! use forensic_analysis::target::Target;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let bytes = std::fs::read("case42.zip")?;
//! let report = forensic_bundle::verify::verify(&bytes[..], &Default::default())?;
//! assert!(report.verified());
//! let mut ev = Evidence::open(&bytes[..], report.manifest.as_ref(), Check::Strict, Limits::default())?;
//! let target = Target::from_manifest(report.manifest.as_ref());
//! let analysis = forensic_analysis::suspicious::analyse(&mut ev, &target)?;
//! for f in &analysis.view.findings {
//!     println!("{} {} {}", f.severity, f.kind, f.message);
//! }
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod anti_forensics;
pub mod audit;
pub mod case;
pub mod error;
pub mod evidence;
pub mod falco;
pub mod files;
pub mod findings;
mod fs_checks;
mod log_checks;
pub mod members;
mod mount_checks;
pub mod network;
pub mod processes;
pub mod script_checks;
pub mod summary;
pub mod suspicious;
pub mod target;
pub mod time;
pub mod timeline;

pub use error::AnalysisError;
pub use fs_checks::copy_member;
