//! The `archived` entry's `deposit` (SPEC §9.7): where and under which lock a copy of the bundle was
//! deposited in write-once storage.
//!
//! The stored object is the bundle exactly as it was before the `archived` entry was appended, so
//! the entry's `prev` is the custody head of the stored copy: the local log extends the stored one.
//! A verifier of the local bundle cannot see the stored object; the fields are informative to it and
//! are checked by whoever fetches the object (`forensic archive get`).

use crate::digest::Digest;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The action of an entry recording a write-once deposit (SPEC §9.7). Custody does not change.
pub const ARCHIVED: &str = "archived";

/// A confirmed deposit of the bundle in an S3 Object Lock bucket (SPEC §9.7 `deposit`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deposit {
    /// The storage protocol: `s3`.
    pub store: String,
    /// The service endpoint URL, when not the provider's default (`--endpoint`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The bucket.
    pub bucket: String,
    /// The object key.
    pub key: String,
    /// The object version the server assigned.
    pub version_id: String,
    /// The stored object's length in bytes.
    pub size: u64,
    /// SHA-256 of the stored object's bytes: the bundle before this entry.
    pub sha256: Digest,
    /// The object's SHA-256 checksum as the server confirmed it (base64; `-N` after a multipart
    /// upload of N parts: the SHA-256 of the parts' SHA-256s, as S3 defines it).
    pub checksum_sha256: String,
    /// The retention mode the server confirmed: `COMPLIANCE` or `GOVERNANCE`.
    pub mode: String,
    /// The retain-until date the server confirmed.
    pub retain_until: Timestamp,
    /// Whether the server confirmed a legal hold.
    pub legal_hold: bool,
}

/// Reads a payload's `deposit` leniently: the fields are informative (SPEC §9.7), so a value of
/// another shape is kept out of the decoded payload instead of making the entry malformed.
pub(crate) fn informative<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Deposit>, D::Error> {
    let v = ciborium::Value::deserialize(d)?;
    Ok(v.deserialized::<Deposit>().ok())
}
