//! The normative test vectors of the forensic bundle format (`format-spec/SPEC.md` §13).
//!
//! [`generate`] builds every vector in memory from fixed keys ([`keys`]), times, bundle ids and
//! contents, so generating twice gives the same bytes. Valid bundles are written with
//! [`forensic_bundle::writer::BundleWriter`]; invalid ones are made from valid ones by one
//! deliberate change each (a re-zipped member list, a byte-level edit of the archive, or a
//! hand-made custody entry), chosen so that only the failure classes named in the vector's
//! `.expect` file fire (SPEC §11, §12).
//!
//! [`render_files`] turns the vectors into the files of `format-spec/vectors/` (bundles,
//! expectation files, the test keys and a README), and [`diff_dir`] compares them with a
//! directory: the `forensic-vectors` binary writes or checks them, and this crate's test checks
//! that the committed files are exactly what [`generate`] makes.
//!
//! ```no_run
//! let vectors = forensic_vectors::generate()?;
//! for v in &vectors {
//!     print!("{}.expect:\n{}", v.name, forensic_vectors::expect_text(v));
//! }
//! # Ok::<(), forensic_vectors::Error>(())
//! ```
#![deny(missing_docs)]

mod catalog;
mod cose;
mod edwards;
mod files;
mod fixture;
mod rawzip;
mod rezip;
mod tsa;

pub use files::{Expect, default_dir, diff_dir, expect_text, render_files};
pub use forensic_bundle::keys::SigningKey;

use std::fmt;

/// Why generating or comparing the vectors failed. Generation only fails on a bug in this crate
/// or in `forensic-bundle` (every input is fixed); comparing also fails on I/O errors.
pub struct Error(String);

impl Error {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Error {
        Error(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// Every error of the libraries the generator calls becomes an [`Error`] with its message.
macro_rules! from_errors {
    ($($t:ty),* $(,)?) => {
        $(impl From<$t> for Error {
            fn from(e: $t) -> Error {
                Error(e.to_string())
            }
        })*
    };
}

from_errors!(
    std::io::Error,
    std::array::TryFromSliceError,
    forensic_bundle::writer::WriteError,
    forensic_bundle::zipread::ContainerError,
    forensic_bundle::manifest::ManifestError,
    forensic_bundle::custody::CustodyError,
    forensic_bundle::time::TimeError,
    forensic_bundle::keys::KeyError,
    zip::result::ZipError,
    coset::CoseError,
    ciborium::value::Error,
    ciborium::ser::Error<std::io::Error>,
);

/// The names of the fixed test keys, in the order [`keys`] returns them.
pub const KEY_NAMES: [&str; 4] = ["alice", "bob", "carol", "mallory"];

/// The fixed test keys: each `NAME` of [`KEY_NAMES`] with the key whose RFC 8032 seed is the
/// SHA-256 of the ASCII string `forensic test vector key NAME`.
///
/// # Security
/// These keys are public. They exist only to make the test vectors; never trust them.
pub fn keys() -> Vec<(String, SigningKey)> {
    KEY_NAMES.iter().map(|n| (n.to_string(), fixture::key(n))).collect()
}

/// One test vector: a bundle and what a conforming verifier reports for it (SPEC §13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vector {
    /// File stem: the bundle is `NAME.zip`, the expectation `NAME.expect`.
    pub name: String,
    /// One sentence saying what the bundle is.
    pub description: String,
    /// The failure class ids (SPEC §12) a verifier reports; empty means the bundle verifies.
    pub expect: Vec<&'static str>,
    /// Trust list: public key files relative to the vectors directory, e.g. `keys/alice.pub`.
    /// Empty means verify without a trust list.
    pub trust: Vec<String>,
    /// A recorded custody head to verify with (SPEC §9.5): 64 lowercase hex digits.
    pub head: Option<String>,
    /// TSA trust list (SPEC §9.6): certificate files relative to the vectors directory, e.g.
    /// `tsa/root.pem`. Empty means time-stamp tokens are not judged.
    pub tsa_trust: Vec<String>,
    /// The bundle file.
    pub bytes: Vec<u8>,
}

/// Generates every vector, in a fixed order with unique names.
///
/// # Errors
/// [`Error`] only if a bundle cannot be built, which is a bug.
pub fn generate() -> Result<Vec<Vector>, Error> {
    let vectors = catalog::all()?;
    let mut names = std::collections::HashSet::new();
    for v in &vectors {
        if !names.insert(v.name.as_str()) {
            return Err(Error::new(format!("two vectors are named {:?}", v.name)));
        }
    }
    Ok(vectors)
}
