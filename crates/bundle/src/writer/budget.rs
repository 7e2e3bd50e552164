//! Keeping a bundle within the limits every verifier enforces (SPEC §10): the member count, and
//! the sizes of `manifest.cbor` and `SHA256SUMS`, which grow with every member and gap.
//!
//! Bulk copies (a container with a million files) ask [`Budget::room`] and stop, recording a gap,
//! when it reaches 0; a reserve is kept for what is written after them. [`Budget::check`] is the
//! hard stop no member passes. Gaps beyond their share are counted, and summarised at the end.

use crate::limits::Limits;
use crate::manifest::{Gap, Member};
use crate::section::Section;
use std::collections::BTreeMap;
use std::io;

/// The members every bundle has besides its evidence: marker, manifest, `SHA256SUMS`, custody log.
pub const METADATA_MEMBERS: u64 = 4;
/// Manifest bytes kept for its header, sections and the summary of dropped gaps.
const HEADER_RESERVE: u64 = 1 << 20;
/// Manifest bytes for gaps recorded one by one.
const GAP_SHARE: u64 = 2 << 20;
/// Manifest and `SHA256SUMS` bytes kept free of bulk copies, for the members written after them.
const LATE_RESERVE: u64 = 2 << 20;

/// A limit of SPEC §10 that one more member would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleLimit {
    /// At most this many members.
    Members(u64),
    /// A manifest of at most this many bytes.
    Manifest(u64),
    /// A `SHA256SUMS` of at most this many bytes.
    Sums(u64),
}

/// One more member would make a bundle no verifier accepts (SPEC §10).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("member {member:?}: {} (SPEC §10)", match limit {
    BundleLimit::Members(n) => format!("a bundle holds at most {n} members"),
    BundleLimit::Manifest(n) => format!("the manifest would exceed {n} bytes"),
    BundleLimit::Sums(n) => format!("SHA256SUMS would exceed {n} bytes"),
})]
pub struct LimitReached {
    /// The member refused.
    pub member: String,
    /// The limit.
    pub limit: BundleLimit,
}

/// Counts what the manifest and `SHA256SUMS` will hold.
#[derive(Debug, Default)]
pub struct Budget {
    members: u64,
    manifest_bytes: u64,
    sums_bytes: u64,
    gap_bytes: u64,
    dropped_gaps: BTreeMap<Section, u64>,
}

/// CBOR length of `v` as the manifest encodes it.
fn encoded_len<T: serde::Serialize>(v: &T) -> u64 {
    struct Count(u64);
    impl io::Write for Count {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0 += b.len() as u64;
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    // Encoding into a counter cannot fail but for a schema error, which to_cbor reports later.
    let _ = ciborium::ser::into_writer(v, &mut c);
    c.0
}

impl Budget {
    /// The most manifest bytes members may take.
    fn manifest_cap() -> u64 {
        Limits::default()
            .max_manifest
            .saturating_sub(HEADER_RESERVE + GAP_SHARE)
    }

    /// The most `SHA256SUMS` bytes members may take (the manifest's own line is ~80 bytes).
    fn sums_cap() -> u64 {
        Limits::default().max_sums.saturating_sub(4096)
    }

    /// Members the count limit still allows.
    fn count_room(&self) -> u64 {
        Limits::default()
            .max_members
            .saturating_sub(METADATA_MEMBERS)
            .saturating_sub(self.members)
    }

    /// How many more members bulk copies may add: 0 once the count or the manifest or
    /// `SHA256SUMS` reaches its limit less a reserve for later members.
    pub fn room(&self) -> u64 {
        let bytes_left = |used: u64, cap: u64| used.saturating_add(LATE_RESERVE) < cap;
        if bytes_left(self.manifest_bytes, Self::manifest_cap()) && bytes_left(self.sums_bytes, Self::sums_cap()) {
            self.count_room()
        } else {
            0
        }
    }

    /// Whether one more member may be written at all: `record` is its manifest record with the
    /// largest size and digest it can have. Gives the record's encoded length, an upper bound of
    /// the final record's, for [`Budget::add_member`].
    ///
    /// # Errors
    /// [`LimitReached`] naming the member and the limit.
    pub fn check(&self, record: &Member) -> Result<u64, LimitReached> {
        let len = encoded_len(record);
        let limit = if self.count_room() == 0 {
            BundleLimit::Members(Limits::default().max_members)
        } else if self.manifest_bytes + len > Self::manifest_cap() {
            BundleLimit::Manifest(Limits::default().max_manifest)
        } else if self.sums_bytes + 80 + record.name.len() as u64 > Self::sums_cap() {
            BundleLimit::Sums(Limits::default().max_sums)
        } else {
            return Ok(len);
        };
        Err(LimitReached {
            member: record.name.clone(),
            limit,
        })
    }

    /// Counts a member written: its name, and the record length [`Budget::check`] gave.
    pub fn add_member(&mut self, name: &str, record_len: u64) {
        self.members += 1;
        self.manifest_bytes += record_len;
        // "<64 hex>  <name>\n"
        self.sums_bytes += 64 + 2 + name.len() as u64 + 1;
    }

    /// Whether `gap` is recorded one by one; if not, it is counted for the summary.
    pub fn admit_gap(&mut self, gap: &Gap) -> bool {
        let len = encoded_len(gap);
        if self.gap_bytes + len <= GAP_SHARE {
            self.gap_bytes += len;
            return true;
        }
        *self.dropped_gaps.entry(gap.section).or_default() += 1;
        false
    }

    /// One gap per section saying how many were not recorded one by one.
    pub fn summary_gaps(&self) -> Vec<Gap> {
        self.dropped_gaps
            .iter()
            .map(|(section, n)| Gap {
                section: *section,
                what: format!("{n} further gaps"),
                reason: format!(
                    "not recorded one by one: the manifest's size limit ({} bytes, SPEC §10)",
                    Limits::default().max_manifest
                ),
            })
            .collect()
    }
}
