//! Reading a verified bundle's members again, each hashed while it streams and compared with the
//! manifest.
//!
//! # Security
//! Verification (SPEC §11) comes first, and is the caller's job. Because the file may change after
//! it was verified, every member read here is hashed again while it streams: with
//! [`Check::Strict`] a member that differs from the manifest, or is not in it, is an error; with
//! [`Check::Lenient`] (a bundle the examiner chose to use although it did not verify, `--force`)
//! it is a warning, see [`CheckedMembers::warnings`]. Member names are looked up, never used as
//! file paths.

use crate::digest::{Digest, HashingReader};
use crate::manifest::Manifest;
use crate::verify::OpenReader;
use crate::zipread::{self, ContainerError, MemberReader, ZipEntry};
use std::collections::{BTreeSet, HashMap};
use std::io::{self, BufRead, BufReader, Read};

/// How members are checked against the manifest while they are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// A member that does not match the manifest, or is not in it, is an error.
    Strict,
    /// Such a member is used anyway, with a warning (`--force`).
    Lenient,
}

/// Why a member could not be read, or did not check.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckedError {
    /// The ZIP directory is unreadable.
    #[error("the bundle's ZIP structure: {0}")]
    Container(String),
    /// Reading failed.
    #[error("reading member {member}: {source}")]
    Io {
        /// The member (or "the bundle").
        member: String,
        /// The error.
        source: io::Error,
    },
    /// No member of that name.
    #[error("the bundle has no member {member}")]
    Missing {
        /// The member.
        member: String,
    },
    /// The member is not in the manifest (strict).
    #[error("member {member} is not listed in the manifest: its content cannot be checked")]
    NotInManifest {
        /// The member.
        member: String,
    },
    /// The member's bytes differ from the manifest (strict).
    #[error(
        "member {member} does not match the manifest: {size} bytes with SHA-256 {actual}, the manifest says {expected_size} bytes with {expected}"
    )]
    DigestMismatch {
        /// The member.
        member: String,
        /// SHA-256 in the manifest.
        expected: Digest,
        /// Size in the manifest.
        expected_size: u64,
        /// SHA-256 of what was read.
        actual: Digest,
        /// Bytes read.
        size: u64,
    },
    /// A strict check without a manifest.
    #[error("no manifest to check members against")]
    NoManifest,
    /// The member is larger than the caller reads whole.
    #[error("{member}: {size} bytes; at most {max} are read whole")]
    TooLarge {
        /// The member.
        member: String,
        /// Its declared size.
        size: u64,
        /// The bound.
        max: u64,
    },
}

/// The reading error for `member`.
pub fn io_error(member: &str, source: io::Error) -> CheckedError {
    CheckedError::Io {
        member: member.to_string(),
        source,
    }
}

/// One bundle's members, read with checking.
pub struct CheckedMembers<'s, S: OpenReader + ?Sized> {
    src: &'s S,
    entries: HashMap<String, ZipEntry>,
    names: BTreeSet<String>,
    expected: Option<HashMap<String, (u64, Digest)>>,
    check: Check,
    warnings: Vec<String>,
}

impl<'s, S: OpenReader + ?Sized> CheckedMembers<'s, S> {
    /// Reads the bundle's ZIP directory. `manifest` is the one verification read; with
    /// [`Check::Strict`] it is required.
    ///
    /// # Errors
    /// [`CheckedError::Container`] or [`CheckedError::Io`] when the ZIP directory cannot be read;
    /// [`CheckedError::NoManifest`] for a strict check without a manifest.
    pub fn open(src: &'s S, manifest: Option<&Manifest>, check: Check) -> Result<Self, CheckedError> {
        if check == Check::Strict && manifest.is_none() {
            return Err(CheckedError::NoManifest);
        }
        let mut r = src.open().map_err(|e| io_error("the bundle", e))?;
        let index = zipread::read_index(&mut r, &crate::limits::Limits::default()).map_err(|e| match e {
            ContainerError::Io(e) => io_error("the bundle", e),
            other => CheckedError::Container(other.to_string()),
        })?;
        let names = index.entries.iter().map(|e| e.name.clone()).collect();
        let entries = index.entries.into_iter().map(|e| (e.name.clone(), e)).collect();
        let expected = manifest.map(|m| m.members.iter().map(|m| (m.name.clone(), (m.size, m.sha256))).collect());
        let mut warnings = Vec::new();
        if manifest.is_none() {
            warnings.push("the manifest could not be read: no member could be checked against it".into());
        }
        Ok(CheckedMembers {
            src,
            entries,
            names,
            expected,
            check,
            warnings,
        })
    }

    /// What was used although it did not check (only with [`Check::Lenient`]), in the order met.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Adds a warning (e.g. a malformed line skipped by a lenient reader).
    pub fn warn(&mut self, w: String) {
        self.warnings.push(w);
    }

    /// Whether the bundle has a member of this name.
    pub fn has_member(&self, name: &str) -> bool {
        self.entries.contains_key(name)
    }

    /// The member's ZIP entry (its declared size, for limits checked before reading).
    pub fn entry(&self, name: &str) -> Option<&ZipEntry> {
        self.entries.get(name)
    }

    /// Every member name, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    /// The SHA-256 the manifest gives for `name`.
    pub fn manifest_digest(&self, name: &str) -> Option<Digest> {
        self.expected.as_ref()?.get(name).map(|(_, d)| *d)
    }

    /// Streams member `name` through `f`, reads what `f` left, then checks it all against the
    /// manifest.
    ///
    /// # Errors
    /// What `f` returns; the member is missing or unreadable; it does not match the manifest
    /// (strict).
    pub fn stream<T, E: From<CheckedError>>(
        &mut self,
        name: &str,
        f: impl FnOnce(&mut dyn BufRead) -> Result<T, E>,
    ) -> Result<T, E> {
        let entry = self
            .entries
            .get(name)
            .ok_or_else(|| CheckedError::Missing { member: name.into() })?;
        let r = self.src.open().map_err(|e| io_error(name, e))?;
        let member = MemberReader::new(r, entry).map_err(|e| io_error(name, e))?;
        let mut reader = BufReader::with_capacity(256 * 1024, HashingReader::new(member));
        let out = f(&mut reader)?;
        io::copy(&mut reader, &mut io::sink()).map_err(|e| io_error(name, e))?;
        let (size, actual) = reader.into_inner().finish();
        self.settle(name, actual, size)?;
        Ok(out)
    }

    /// Reads a whole member of at most `max` bytes (its declared size is checked first).
    ///
    /// # Errors
    /// [`CheckedError::TooLarge`]; otherwise as [`CheckedMembers::stream`].
    pub fn read_whole<E: From<CheckedError>>(&mut self, name: &str, max: u64) -> Result<Vec<u8>, E> {
        if let Some(e) = self.entries.get(name).filter(|e| e.size > max) {
            return Err(CheckedError::TooLarge {
                member: name.into(),
                size: e.size,
                max,
            }
            .into());
        }
        self.stream(name, |r| {
            let mut out = Vec::new();
            r.take(max).read_to_end(&mut out).map_err(|e| io_error(name, e))?;
            Ok::<_, CheckedError>(out)
        })
        .map_err(E::from)
    }

    /// Compares what was read with the manifest.
    fn settle(&mut self, name: &str, actual: Digest, size: u64) -> Result<(), CheckedError> {
        let Some(expected) = &self.expected else {
            return Ok(());
        };
        let problem = match expected.get(name) {
            None => CheckedError::NotInManifest { member: name.into() },
            Some(&(expected_size, expected)) if (expected_size, expected) != (size, actual) => {
                CheckedError::DigestMismatch {
                    member: name.into(),
                    expected,
                    expected_size,
                    actual,
                    size,
                }
            }
            Some(_) => return Ok(()),
        };
        match self.check {
            Check::Strict => Err(problem),
            Check::Lenient => {
                self.warnings.push(format!("{problem}; used anyway (--force)"));
                Ok(())
            }
        }
    }
}
