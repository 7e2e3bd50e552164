//! Getting evidence out of a bundle safely: [`extract()`] writes the members of a bundle that
//! passed the gate ([`forensic_disk::gate`]) into a directory, and [`cat::cat_member`] streams one
//! member after checking its SHA-256.
//!
//! Member names are attacker input. A name becomes a path only after it passes SPEC §3 again, and
//! every file is created relative to an open directory descriptor of the output directory, with
//! `O_CREAT|O_EXCL|O_NOFOLLOW`, through directories opened with `O_DIRECTORY|O_NOFOLLOW`. So:
//!
//! - nothing is written outside the output directory (no absolute name, no `..`, no symlink is
//!   ever followed, none is ever created);
//! - no existing file is overwritten, and two names a file system could store as one file (equal
//!   after Unicode normalisation and case folding, or a file where another member needs a
//!   directory) are caught before writing: the second is skipped and reported;
//! - files are created with mode 0644 and directories 0755: no setuid or setgid bit, no device
//!   node, FIFO or socket is ever created. The original metadata is recorded in the report
//!   instead.
//!
//! The output directory receives, besides the members under their section directories,
//! `SHA256SUMS` (so that `sha256sum -c SHA256SUMS` in it checks the copy against the sealed
//! digests) and [`REPORT_NAME`] (the verification result, `forced`, and each member's original
//! metadata and outcome).
//!
//! ```no_run
//! use forensic_extract::{ExtractOptions, extract};
//! use forensic_disk::gate::{Depth, Gate, GateOptions, open};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let Gate::Open(bundle) = open("case-42.zip".as_ref(), GateOptions::new(Depth::Everything))? else {
//!     return Err("the bundle does not verify".into());
//! };
//! let summary = extract(&bundle, &ExtractOptions::new("case-42"))?;
//! println!("{} members extracted; complete: {}", summary.extracted(), summary.complete());
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

pub mod cat;
mod error;
mod extract;
mod outdir;
mod plan;
mod report;

pub use error::ExtractError;
pub use extract::{ExtractOptions, ExtractSummary, MemberOutcome, Outcome, extract};
pub use plan::parse_section;

/// The name of the extraction report written into the output directory.
pub const REPORT_NAME: &str = ".forensic-extract.json";
/// The name of the checksum list written into the output directory.
pub const SUMS_NAME: &str = "SHA256SUMS";
