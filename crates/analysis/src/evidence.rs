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
pub use forensic_bundle::checked::Check;
use forensic_bundle::checked::CheckedMembers;
use forensic_bundle::manifest::Manifest;
use forensic_bundle::verify::OpenReader;
use forensic_evidence::lines::{LineLimits, for_each_line};
use std::io::BufRead;

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

/// One bundle's members, read with checking (see [`CheckedMembers`]) and within [`Limits`].
pub struct Evidence<'s, S: OpenReader + ?Sized> {
    members: CheckedMembers<'s, S>,
    limits: Limits,
}

impl<'s, S: OpenReader + ?Sized> Evidence<'s, S> {
    /// Reads the bundle's ZIP directory. `manifest` is the one verification read; with
    /// [`Check::Strict`] it is required.
    ///
    /// # Errors
    /// [`AnalysisError::Checked`] when the ZIP directory cannot be read, or for a strict check
    /// without a manifest.
    pub fn open(src: &'s S, manifest: Option<&Manifest>, check: Check, limits: Limits) -> Result<Self, AnalysisError> {
        Ok(Evidence {
            members: CheckedMembers::open(src, manifest, check)?,
            limits,
        })
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// What was used although it did not check (only with [`Check::Lenient`]), in the order met.
    pub fn warnings(&self) -> &[String] {
        self.members.warnings()
    }

    /// Adds a warning (e.g. a malformed line skipped by a lenient reader).
    pub fn warn(&mut self, w: String) {
        self.members.warn(w);
    }

    /// Whether the bundle has a member of this name.
    pub fn has_member(&self, name: &str) -> bool {
        self.members.has_member(name)
    }

    /// Every member name, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.members.names()
    }

    /// Streams member `name` through `f`, reads what `f` left, then checks it all against the
    /// manifest.
    pub(crate) fn stream<T>(
        &mut self,
        name: &str,
        f: impl FnOnce(&mut dyn BufRead) -> Result<T, AnalysisError>,
    ) -> Result<T, AnalysisError> {
        self.members.stream(name, f)
    }

    /// Reads a whole member of at most [`Limits::max_member`] bytes.
    ///
    /// # Errors
    /// The member is missing, larger than the limit, unreadable, or does not match the manifest
    /// (strict).
    pub fn read_member(&mut self, name: &str) -> Result<Vec<u8>, AnalysisError> {
        self.members.read_whole(name, self.limits.max_member)
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
        f: impl FnMut(u64, &[u8]) -> Result<(), AnalysisError>,
    ) -> Result<(), AnalysisError> {
        let limits = LineLimits {
            max_line: self.limits.max_line,
            max_lines: self.limits.max_lines,
        };
        self.stream(name, |r| for_each_line(name, r, limits, f))
    }
}
