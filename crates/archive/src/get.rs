//! Fetching one object version and checking its bytes against the SHA-256 checksum the server
//! stores for it; the status of a version.

use crate::checksum::{Composite, part_checksum};
use crate::lock::LockState;
use crate::put::{MAX_OBJECT_SIZE, MAX_PARTS, request};
use crate::store::{Store, describe};
use crate::{ArchiveError, Location};
use aws_sdk_s3::types::ChecksumMode;
use sha2::{Digest as _, Sha256};
use std::io::Write;

/// `at` pinned to `version`, unless the server gave none (an unversioned bucket).
fn pinned(at: &Location, version: &str) -> Location {
    if version.is_empty() {
        at.clone()
    } else {
        at.at_version(version)
    }
}

/// A fetched object version whose bytes matched the server's SHA-256 checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The object, with its version id.
    pub location: Location,
    /// Length in bytes.
    pub size: u64,
    /// SHA-256 of the bytes received.
    pub sha256: [u8; 32],
    /// The server's checksum, which the bytes received match.
    pub checksum_sha256: String,
    /// The number of parts the object was uploaded in (1 for a single PUT).
    pub parts: u32,
    /// Retention and legal hold now.
    pub lock: LockState,
}

/// An object version's state (no bytes read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The object, with its version id.
    pub location: Location,
    /// Length in bytes.
    pub size: u64,
    /// The server's SHA-256 checksum, if it stores one.
    pub checksum_sha256: Option<String>,
    /// Retention and legal hold now.
    pub lock: LockState,
}

impl Store {
    /// Reports a version's size, checksum, retention and legal hold (the latest version when `at`
    /// names none).
    ///
    /// # Errors
    /// [`ArchiveError::Request`] when a request fails (no such key or version included).
    pub fn status(&self, at: &Location) -> Result<Status, ArchiveError> {
        self.rt.block_on(async {
            let head = self.head(at).await?;
            let location = pinned(at, &head.version_id);
            let lock = self.lock_state(&location).await?;
            Ok(Status {
                location,
                size: head.size,
                checksum_sha256: head.checksum_sha256,
                lock,
            })
        })
    }

    /// Writes the version's bytes to `out` and checks them against the server's SHA-256 checksum.
    ///
    /// The version is pinned first (HeadObject), so every read is of the same bytes. An object
    /// uploaded in N parts (checksum `base64-N`) is read part by part (`partNumber`), each part's
    /// SHA-256 computed, and their composite compared; a single-part object's SHA-256 is compared
    /// directly. Memory use is one network buffer.
    ///
    /// # Errors
    /// [`ArchiveError::NotConfirmed`] when the server stores no SHA-256 checksum (the transfer
    /// cannot be checked), [`ArchiveError::ChecksumMismatch`] when the bytes do not match it,
    /// [`ArchiveError::Limit`] for an answer larger than S3 allows, [`ArchiveError::Request`],
    /// [`ArchiveError::Io`] writing `out`.
    pub fn fetch(
        &self,
        from: &Location,
        out: &mut dyn Write,
        out_name: &std::path::Path,
    ) -> Result<Fetched, ArchiveError> {
        self.rt.block_on(async {
            let head = self.head(from).await?;
            let at = pinned(from, &head.version_id);
            let version = head.version_id.clone();
            let Some(checksum) = head.checksum_sha256.clone() else {
                return Err(ArchiveError::NotConfirmed {
                    bucket: at.bucket.clone(),
                    key: at.key.clone(),
                    version,
                    what: "a SHA-256 checksum (none is stored, so the transfer cannot be checked)".into(),
                });
            };
            if head.size > MAX_OBJECT_SIZE {
                return Err(ArchiveError::Limit(format!(
                    "{at}: {} bytes, more than S3's 5 TiB",
                    head.size
                )));
            }
            let parts = match checksum.split_once('-') {
                None => None,
                Some((_, n)) => Some(
                    n.parse::<u32>()
                        .ok()
                        .filter(|&n| n >= 1 && u64::from(n) <= MAX_PARTS)
                        .ok_or_else(|| {
                            request(
                                "HeadObject",
                                &at,
                                format!("checksum {checksum:?} has no valid part count"),
                            )
                        })?,
                ),
            };
            let mut whole = Sha256::new();
            let mut received = 0u64;
            let mut write = |chunk: &[u8], part: &mut Sha256| -> Result<(), ArchiveError> {
                received += chunk.len() as u64;
                if received > head.size {
                    return Err(ArchiveError::Limit(format!(
                        "{at}: more bytes arrived than its {} bytes",
                        head.size
                    )));
                }
                part.update(chunk);
                whole.update(chunk);
                out.write_all(chunk).map_err(|e| ArchiveError::io(out_name, e))
            };
            let mismatch = |what: String| ArchiveError::ChecksumMismatch {
                bucket: at.bucket.clone(),
                key: at.key.clone(),
                version: at.version_id.clone().unwrap_or_default(),
                what,
            };
            let computed = match parts {
                None => {
                    let mut h = Sha256::new();
                    self.read_into(&at, None, &mut |c| write(c, &mut h)).await?;
                    part_checksum(&h.finalize().into())
                }
                Some(n) => {
                    let mut composite = Composite::default();
                    for p in 1..=n {
                        let mut h = Sha256::new();
                        self.read_into(&at, Some(p), &mut |c| write(c, &mut h)).await?;
                        composite.push(&h.finalize().into());
                    }
                    composite.finish()
                }
            };
            if received != head.size {
                return Err(mismatch(format!("{received} bytes arrived of {}", head.size)));
            }
            if computed != checksum {
                return Err(mismatch(format!(
                    "the bytes received have SHA-256 checksum {computed}, the server stores {checksum}"
                )));
            }
            let lock = self.lock_state(&at).await?;
            Ok(Fetched {
                location: at,
                size: head.size,
                sha256: whole.finalize().into(),
                checksum_sha256: checksum,
                parts: parts.unwrap_or(1),
                lock,
            })
        })
    }

    /// GetObject of the version (one part of it, with `part`), each chunk to `sink`.
    async fn read_into(
        &self,
        at: &Location,
        part: Option<u32>,
        sink: &mut dyn FnMut(&[u8]) -> Result<(), ArchiveError>,
    ) -> Result<(), ArchiveError> {
        let op = || part.map_or("GetObject".to_string(), |p| format!("GetObject part {p}"));
        let resp = self
            .client
            .get_object()
            .bucket(&at.bucket)
            .key(&at.key)
            .set_version_id(at.version_id.clone())
            .set_part_number(part.and_then(|p| i32::try_from(p).ok()))
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .map_err(|e| request(&op(), at, describe(&e)))?;
        if resp.version_id() != at.version_id.as_deref() {
            return Err(request(&op(), at, format!("answered version {:?}", resp.version_id())));
        }
        let mut body = resp.body;
        loop {
            match body.try_next().await {
                Ok(Some(chunk)) => sink(&chunk)?,
                Ok(None) => return Ok(()),
                Err(e) => return Err(request(&op(), at, format!("reading the body: {e}"))),
            }
        }
    }
}
