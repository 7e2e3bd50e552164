//! Reading a bundle's members for analysis, each re-checked against the manifest as it streams.
//!
//! # Security
//! Verification (SPEC §11) is the caller's job, before this. Because the file may change after it
//! was verified, every member read here is hashed again while it streams and compared with the
//! manifest: with [`Check::Strict`] a mismatch is an error; with [`Check::Lenient`] (a bundle the
//! examiner chose to use although it did not verify, `--force`) it is a warning, see
//! [`Evidence::warnings`]. Member names are looked up, never used as file paths. Lines and whole
//! members are bounded by [`Limits`].

use crate::error::AnalysisError;
use forensic_bundle::digest::{Digest, HashingReader};
use forensic_bundle::manifest::Manifest;
use forensic_bundle::verify::OpenReader;
use forensic_bundle::zipread::{self, ContainerError, MemberReader, ZipEntry};
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

/// Bounds on what is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest line of a line-oriented member (JSONL, logs), in bytes. Default 1 MiB.
    pub max_line: usize,
    /// Largest member read whole (`processes.json`, `sockets.json`, a raw `/proc` table).
    /// Default 64 MiB.
    pub max_member: u64,
    /// Most lines read from one line-oriented member. Default 10,000,000.
    pub max_lines: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line: 1 << 20,
            max_member: 64 << 20,
            max_lines: 10_000_000,
        }
    }
}

/// One bundle's members, read with checking.
pub struct Evidence<'s, S: OpenReader + ?Sized> {
    src: &'s S,
    entries: HashMap<String, ZipEntry>,
    names: BTreeSet<String>,
    expected: Option<HashMap<String, (u64, Digest)>>,
    check: Check,
    limits: Limits,
    warnings: Vec<String>,
}

impl<'s, S: OpenReader + ?Sized> Evidence<'s, S> {
    /// Reads the bundle's ZIP directory. `manifest` is the one verification read; with
    /// [`Check::Strict`] it is required.
    ///
    /// # Errors
    /// [`AnalysisError::Container`] or [`AnalysisError::Io`] when the ZIP directory cannot be
    /// read; [`AnalysisError::NoManifest`] for a strict check without a manifest.
    pub fn open(src: &'s S, manifest: Option<&Manifest>, check: Check, limits: Limits) -> Result<Self, AnalysisError> {
        if check == Check::Strict && manifest.is_none() {
            return Err(AnalysisError::NoManifest);
        }
        let mut r = src.open().map_err(|e| io_err("the bundle", e))?;
        let index = zipread::read_index(&mut r, &forensic_bundle::limits::Limits::default()).map_err(|e| match e {
            ContainerError::Io(e) => io_err("the bundle", e),
            other => AnalysisError::Container(other.to_string()),
        })?;
        let names = index.entries.iter().map(|e| e.name.clone()).collect();
        let entries = index.entries.into_iter().map(|e| (e.name.clone(), e)).collect();
        let expected = manifest.map(|m| m.members.iter().map(|m| (m.name.clone(), (m.size, m.sha256))).collect());
        let mut warnings = Vec::new();
        if manifest.is_none() {
            warnings.push("the manifest could not be read: no member could be checked against it".into());
        }
        Ok(Evidence {
            src,
            entries,
            names,
            expected,
            check,
            limits,
            warnings,
        })
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
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

    /// Every member name, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    /// Streams member `name` through `f`, reads what `f` left, then checks it all against the
    /// manifest.
    fn stream<T>(
        &mut self,
        name: &str,
        f: impl FnOnce(&mut dyn BufRead) -> Result<T, AnalysisError>,
    ) -> Result<T, AnalysisError> {
        let entry = self
            .entries
            .get(name)
            .ok_or_else(|| AnalysisError::Missing { member: name.into() })?;
        let r = self.src.open().map_err(|e| io_err(name, e))?;
        let member = MemberReader::new(r, entry).map_err(|e| io_err(name, e))?;
        let mut reader = BufReader::with_capacity(256 * 1024, HashingReader::new(member));
        let out = f(&mut reader)?;
        io::copy(&mut reader, &mut io::sink()).map_err(|e| io_err(name, e))?;
        let (size, actual) = reader.into_inner().finish();
        self.settle(name, actual, size)?;
        Ok(out)
    }

    /// Compares what was read with the manifest.
    fn settle(&mut self, name: &str, actual: Digest, size: u64) -> Result<(), AnalysisError> {
        let Some(expected) = &self.expected else {
            return Ok(());
        };
        let problem = match expected.get(name) {
            None => AnalysisError::NotInManifest { member: name.into() },
            Some(&(expected_size, expected)) if (expected_size, expected) != (size, actual) => {
                AnalysisError::DigestMismatch {
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

    /// Reads a whole member of at most [`Limits::max_member`] bytes.
    ///
    /// # Errors
    /// The member is missing, larger than the limit, unreadable, or does not match the manifest
    /// (strict).
    pub fn read_member(&mut self, name: &str) -> Result<Vec<u8>, AnalysisError> {
        let max = self.limits.max_member;
        if let Some(e) = self.entries.get(name).filter(|e| e.size > max) {
            return Err(AnalysisError::Limit {
                member: name.into(),
                why: format!("{} bytes; at most {max} are read whole", e.size),
            });
        }
        self.stream(name, |r| {
            let mut out = Vec::new();
            r.take(max).read_to_end(&mut out).map_err(|e| io_err(name, e))?;
            Ok(out)
        })
    }

    /// Reads a whole member when the bundle has it; `None` when it does not.
    ///
    /// # Errors
    /// As [`Evidence::read_member`], except a missing member.
    pub fn read_optional(&mut self, name: &str) -> Result<Option<Vec<u8>>, AnalysisError> {
        if self.has_member(name) {
            self.read_member(name).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Calls `f` with each non-empty line of member `name` (without its `\n`) and its 1-based
    /// number, streaming.
    ///
    /// # Errors
    /// The member is missing or unreadable, a line is longer than [`Limits::max_line`], there are
    /// more than [`Limits::max_lines`] lines, `f` failed, or the member does not match the
    /// manifest (strict).
    pub fn lines(
        &mut self,
        name: &str,
        mut f: impl FnMut(u64, &[u8]) -> Result<(), AnalysisError>,
    ) -> Result<(), AnalysisError> {
        let max = self.limits.max_line;
        let max_lines = self.limits.max_lines;
        self.stream(name, |r| {
            let mut buf = Vec::new();
            let mut n = 0u64;
            loop {
                buf.clear();
                let got = r
                    .take(max as u64 + 1)
                    .read_until(b'\n', &mut buf)
                    .map_err(|e| io_err(name, e))?;
                if got == 0 {
                    return Ok(());
                }
                n += 1;
                if n > max_lines {
                    return Err(AnalysisError::Limit {
                        member: name.into(),
                        why: format!("more than {max_lines} lines"),
                    });
                }
                if buf.last() == Some(&b'\n') {
                    buf.pop();
                } else if buf.len() > max {
                    return Err(AnalysisError::Limit {
                        member: name.into(),
                        why: format!("line {n} is longer than {max} bytes"),
                    });
                }
                if buf.last() == Some(&b'\r') {
                    buf.pop();
                }
                if !buf.iter().all(u8::is_ascii_whitespace) {
                    f(n, &buf)?;
                }
            }
        })
    }
}

fn io_err(member: &str, source: io::Error) -> AnalysisError {
    AnalysisError::Io {
        member: member.into(),
        source,
    }
}
