//! The one gate between a bundle on disk and anything that reads its evidence (`show`,
//! `timeline`, `diff`, `audit`, `extract`, `cat`): verify it (SPEC §11), then hand it out as
//! [`Gate::Open`] — verified, or used anyway because the examiner said `--force`, and marked so —
//! or [`Gate::Refused`] with every failure.
//!
//! # Security
//! A bundle that does not verify is never opened without `force`. An opened bundle still changes
//! nothing about how members are read: readers re-hash each member as it streams and compare it
//! with the manifest ([`Opened::check`] says how strictly), because the file may change after it
//! was verified.
//!
//! ```no_run
//! use forensic_disk::gate::{Depth, Gate, GateOptions, open};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! match open("case-42.zip".as_ref(), GateOptions::new(Depth::Everything))? {
//!     Gate::Open(b) => println!("{} failures; forced: {}", b.report().failures.len(), b.forced()),
//!     Gate::Refused(report) => println!("{} failures", report.failures.len()),
//! }
//! # Ok(()) }
//! ```

use crate::{BundleFile, DiskError};
use forensic_bundle::checked::Check;
use forensic_bundle::manifest::Manifest;
use forensic_bundle::verify::{Report, VerifyOptions};
use std::path::Path;

/// How much of a bundle is verified before it is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// Every step of SPEC §11, every member hashed: for commands that read much of the evidence
    /// (`show`, `timeline`, `diff`, `extract`).
    Everything,
    /// Every step but 7 (the structure, manifest, `SHA256SUMS` and custody log; no member is
    /// hashed): for commands that read a few members and check each as they stream it (`audit`,
    /// `cat`), so that a terabyte bundle is not hashed to print one log.
    Structure,
}

/// How to open a bundle.
#[derive(Debug, Default)]
pub struct GateOptions {
    /// Trust list, limits, progress and recorded head, as for `verify`. Its `check_contents` is
    /// set from the depth.
    pub verify: VerifyOptions,
    /// How much is verified first.
    pub depth: Option<Depth>,
    /// Open a bundle that does not verify anyway (marked [`Opened::forced`]).
    pub force: bool,
    /// Identities that decrypt an age-encrypted bundle (read in place, never written in clear).
    pub identities: Option<std::sync::Arc<forensic_crypt::Identities>>,
}

impl GateOptions {
    /// Verification to `depth`, no trust list, not forced.
    pub fn new(depth: Depth) -> GateOptions {
        GateOptions {
            depth: Some(depth),
            ..GateOptions::default()
        }
    }

    fn depth(&self) -> Depth {
        self.depth.unwrap_or(Depth::Everything)
    }
}

/// What the gate decided.
#[derive(Debug)]
pub enum Gate {
    /// The bundle, verified or forced.
    Open(Box<Opened>),
    /// It does not verify and `force` was off: nothing may be read from it.
    Refused(Box<Report>),
}

/// A bundle that passed the gate.
#[derive(Debug)]
pub struct Opened {
    file: BundleFile,
    report: Report,
    depth: Depth,
    forced: bool,
}

impl Opened {
    /// The file.
    pub fn file(&self) -> &BundleFile {
        &self.file
    }

    /// The verification report (every failure, when forced).
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The manifest as verification read it.
    pub fn manifest(&self) -> Option<&Manifest> {
        self.report.manifest.as_ref()
    }

    /// Whether it did not verify and is used because of `force`.
    pub fn forced(&self) -> bool {
        self.forced
    }

    /// Whether every member was hashed before opening ([`Depth::Everything`]).
    pub fn contents_checked(&self) -> bool {
        self.depth == Depth::Everything
    }

    /// How members must be checked as they are read: [`Check::Strict`], or [`Check::Lenient`]
    /// (warn and go on) for a forced bundle.
    pub fn check(&self) -> Check {
        if self.forced { Check::Lenient } else { Check::Strict }
    }
}

/// Verifies the bundle at `path` to `opts.depth` and opens it, or refuses it.
///
/// # Errors
/// [`DiskError::Io`] when the file cannot be opened or read (not a regular file, I/O error);
/// [`DiskError::Encrypted`] and [`DiskError::Decrypt`] for an age-encrypted bundle without
/// `opts.identities` or that they cannot decrypt: a bundle that does not verify is not an error
/// but [`Gate::Refused`].
pub fn open(path: &Path, opts: GateOptions) -> Result<Gate, DiskError> {
    open_file(BundleFile::open_with(path, opts.identities.as_ref())?, opts)
}

/// [`open`] for a file already opened.
///
/// # Errors
/// As [`open`].
pub fn open_file(file: BundleFile, mut opts: GateOptions) -> Result<Gate, DiskError> {
    let depth = opts.depth();
    opts.verify.check_contents = depth == Depth::Everything;
    let report = crate::verify_file(&file, &opts.verify).map_err(|e| DiskError::io(file.path(), e))?;
    let verified = report.verified();
    if !verified && !opts.force {
        return Ok(Gate::Refused(Box::new(report)));
    }
    Ok(Gate::Open(Box::new(Opened {
        file,
        report,
        depth,
        forced: !verified,
    })))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn sealed(dir: &Path) -> std::path::PathBuf {
        let out = dir.join("b.zip");
        std::fs::write(&out, crate::bundle_file::tests::small_bundle().unwrap()).unwrap();
        out
    }

    #[test]
    fn verified_refused_and_forced() {
        let t = tempfile::tempdir().unwrap();
        let path = sealed(t.path());
        let Gate::Open(b) = open(&path, GateOptions::new(Depth::Everything)).unwrap() else {
            panic!("a sealed bundle is refused");
        };
        assert!(!b.forced() && b.contents_checked() && b.check() == Check::Strict);
        // One byte appended: SPEC §2.1 item 2, nothing after the end record.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.push(0);
        std::fs::write(&path, &bytes).unwrap();
        let Gate::Refused(report) = open(&path, GateOptions::new(Depth::Everything)).unwrap() else {
            panic!("a changed bundle is opened");
        };
        assert!(!report.failures.is_empty());
        let forced = GateOptions {
            force: true,
            ..GateOptions::new(Depth::Everything)
        };
        let Gate::Open(b) = open(&path, forced).unwrap() else {
            panic!("--force is refused");
        };
        assert!(b.forced() && b.check() == Check::Lenient && !b.report().failures.is_empty());
        assert!(
            open(t.path(), GateOptions::new(Depth::Structure)).is_err(),
            "a directory"
        );
    }
}
