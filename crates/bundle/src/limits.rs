//! Reader limits against hostile input (SPEC §10).

/// The limits a verifier enforces. [`Limits::default`] is SPEC §10; tests may lower them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Central directory entries.
    pub max_members: u64,
    /// Declared uncompressed size of one evidence member.
    pub max_member_size: u64,
    /// Sum of declared uncompressed sizes.
    pub max_total_size: u64,
    /// Deflate: uncompressed ≤ ratio × compressed + slack.
    pub max_deflate_ratio: u64,
    /// Slack added to the deflate ratio bound, for tiny members.
    pub deflate_slack: u64,
    /// `mimetype` content.
    pub max_marker: u64,
    /// `manifest.cbor` content.
    pub max_manifest: u64,
    /// `SHA256SUMS` content.
    pub max_sums: u64,
    /// `custody.cbor` content.
    pub max_custody: u64,
    /// One custody entry.
    pub max_custody_entry: u64,
    /// Custody entries.
    pub max_custody_entries: u64,
    /// CBOR nesting depth.
    pub max_cbor_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_members: 65_536,
            max_member_size: 1 << 40,
            max_total_size: 1 << 44,
            max_deflate_ratio: 1_100,
            deflate_slack: 1_024,
            max_marker: 64,
            max_manifest: 16 << 20,
            max_sums: 8 << 20,
            max_custody: 4 << 20,
            max_custody_entry: 64 << 10,
            max_custody_entries: 10_000,
            max_cbor_depth: 16,
        }
    }
}
