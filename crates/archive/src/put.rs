//! Depositing bytes as one locked object version: streaming multipart upload with a SHA-256 per
//! part, the Object Lock headers on the upload itself, and a read-back that must confirm all of it.

use crate::checksum::{Composite, part_checksum};
use crate::lock::{LockRequest, LockState};
use crate::readback::{self, Expected};
use crate::store::{Store, code, describe};
use crate::{ArchiveError, Location};
use aws_sdk_s3::primitives::{ByteStream, DateTime as AwsTime};
use aws_sdk_s3::types::{
    ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart, ObjectLockEnabled, ObjectLockLegalHoldStatus,
    ObjectLockMode,
};
use sha2::{Digest as _, Sha256};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// The smallest part (S3 allows 5 MiB; 16 MiB keeps a 2 GiB bundle at 128 parts).
pub const MIN_PART_SIZE: u64 = 16 * 1024 * 1024;
/// S3's most parts in one upload.
pub const MAX_PARTS: u64 = 10_000;
/// S3's largest object (5 TiB).
pub const MAX_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * 1024 * 1024;
/// The media type of a stored bundle (its `mimetype` member, SPEC §2.2).
const CONTENT_TYPE: &str = "application/vnd.forensic-bundle.v1+zip";

/// What the server confirmed about a stored object version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The object, with the version id the server assigned.
    pub location: Location,
    /// Length in bytes.
    pub size: u64,
    /// SHA-256 of the bytes sent (and stored: the server confirmed every part's SHA-256).
    pub sha256: [u8; 32],
    /// The object's checksum as the server confirmed it (`base64-N`).
    pub checksum_sha256: String,
    /// The number of parts.
    pub parts: u32,
    /// Retention and legal hold as the server confirmed them.
    pub lock: LockState,
}

/// The part size for an object of `size` bytes: [`MIN_PART_SIZE`], or more (whole MiB) when that
/// would need more than [`MAX_PARTS`] parts. Memory use is about one part.
pub fn part_size(size: u64) -> u64 {
    const MIB: u64 = 1024 * 1024;
    let needed = size.div_ceil(MAX_PARTS).div_ceil(MIB) * MIB;
    needed.max(MIN_PART_SIZE)
}

impl Store {
    /// Uploads `size` bytes of `file` (from offset 0) to `to` as one new, locked object version.
    ///
    /// The bucket must have Object Lock enabled (checked first). The upload is multipart: each part
    /// is read, hashed and sent with its SHA-256 (the server refuses a part whose bytes do not
    /// match); the retention and legal hold travel on the upload itself, so the version never
    /// exists unlocked. Then the version is read back (HeadObject, GetObjectRetention,
    /// GetObjectLegalHold) and every field must match what was sent.
    ///
    /// # Errors
    /// [`ArchiveError::BucketNotLocked`], [`ArchiveError::Request`] (the upload is aborted on any
    /// error, so no object appears), [`ArchiveError::NotConfirmed`] when the read-back does not
    /// confirm the size, checksum, version, retention or legal hold (the object exists, but is not
    /// trusted), [`ArchiveError::Io`] reading `file`.
    ///
    /// # Security
    /// An interrupted upload (a crash, a signal, a lost connection) never completes: only an
    /// incomplete multipart upload remains, which is not an object and which the bucket's lifecycle
    /// rules or `AbortMultipartUpload` remove.
    pub fn put(
        &self,
        file: &File,
        path: &Path,
        size: u64,
        to: &Location,
        lock: &LockRequest,
    ) -> Result<Receipt, ArchiveError> {
        if size == 0 || size > MAX_OBJECT_SIZE {
            return Err(ArchiveError::Limit(format!(
                "{}: {size} bytes; an object holds 1 byte to 5 TiB",
                path.display()
            )));
        }
        self.rt.block_on(async {
            self.require_object_lock(to).await?;
            let upload_id = self.create_upload(to, lock).await?;
            let sent = match self.send_parts(file, path, size, to, &upload_id).await {
                Ok(sent) => sent,
                Err(e) => return Err(self.abort(to, &upload_id, e).await),
            };
            let version = match self.complete(to, &upload_id, sent.parts.clone()).await {
                Ok(v) => v,
                Err(e) => return Err(self.abort(to, &upload_id, e).await),
            };
            let location = to.at_version(&version);
            let expected = Expected {
                size,
                checksum_sha256: sent.composite.clone(),
                lock,
            };
            let confirmed = readback::confirm(self, &location, &expected).await?;
            Ok(Receipt {
                location,
                size,
                sha256: sent.sha256,
                checksum_sha256: sent.composite,
                parts: u32::try_from(sent.parts.len()).unwrap_or(u32::MAX),
                lock: confirmed,
            })
        })
    }

    async fn require_object_lock(&self, to: &Location) -> Result<(), ArchiveError> {
        let not_locked = |detail: String| ArchiveError::BucketNotLocked {
            bucket: to.bucket.clone(),
            detail,
        };
        match self
            .client
            .get_object_lock_configuration()
            .bucket(&to.bucket)
            .send()
            .await
        {
            Ok(out) => {
                let enabled = out.object_lock_configuration().and_then(|c| c.object_lock_enabled());
                if enabled == Some(&ObjectLockEnabled::Enabled) {
                    Ok(())
                } else {
                    Err(not_locked("its Object Lock configuration is not Enabled".into()))
                }
            }
            Err(e) if code(&e) == Some("ObjectLockConfigurationNotFoundError") => Err(not_locked(describe(&e))),
            Err(e) => Err(request("GetObjectLockConfiguration", to, describe(&e))),
        }
    }

    async fn create_upload(&self, to: &Location, lock: &LockRequest) -> Result<String, ArchiveError> {
        let mode = ObjectLockMode::from(lock.mode.as_str());
        let mut req = self
            .client
            .create_multipart_upload()
            .bucket(&to.bucket)
            .key(&to.key)
            .content_type(CONTENT_TYPE)
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .object_lock_mode(mode)
            .object_lock_retain_until_date(AwsTime::from_secs(lock.retain_until.timestamp()));
        if lock.legal_hold {
            req = req.object_lock_legal_hold_status(ObjectLockLegalHoldStatus::On);
        }
        let out = req
            .send()
            .await
            .map_err(|e| request("CreateMultipartUpload", to, describe(&e)))?;
        out.upload_id()
            .filter(|id| !id.is_empty())
            .map(str::to_string)
            .ok_or_else(|| request("CreateMultipartUpload", to, "the answer has no UploadId".into()))
    }

    async fn send_parts(
        &self,
        file: &File,
        path: &Path,
        size: u64,
        to: &Location,
        upload_id: &str,
    ) -> Result<Sent, ArchiveError> {
        let step = part_size(size);
        let mut whole = Sha256::new();
        let mut composite = Composite::default();
        let mut parts = Vec::new();
        let mut offset = 0u64;
        let mut number = 1i32;
        while offset < size {
            let len = step.min(size - offset);
            let mut buf = vec![0u8; usize::try_from(len).map_err(|_| ArchiveError::Limit("part too large".into()))?];
            file.read_exact_at(&mut buf, offset)
                .map_err(|e| ArchiveError::io(path, e))?;
            let digest: [u8; 32] = Sha256::digest(&buf).into();
            whole.update(&buf);
            let checksum = part_checksum(&digest);
            let op = || format!("UploadPart {number}");
            let out = self
                .client
                .upload_part()
                .bucket(&to.bucket)
                .key(&to.key)
                .upload_id(upload_id)
                .part_number(number)
                .content_length(i64::try_from(len).unwrap_or(i64::MAX))
                .checksum_sha256(&checksum)
                .body(ByteStream::from(buf))
                .send()
                .await
                .map_err(|e| request(&op(), to, describe(&e)))?;
            if let Some(answered) = out.checksum_sha256()
                && answered != checksum
            {
                return Err(request(
                    &op(),
                    to,
                    format!("the server stored SHA-256 {answered}, not {checksum}"),
                ));
            }
            let etag = out
                .e_tag()
                .ok_or_else(|| request(&op(), to, "the answer has no ETag".into()))?;
            parts.push(
                CompletedPart::builder()
                    .part_number(number)
                    .e_tag(etag)
                    .checksum_sha256(&checksum)
                    .build(),
            );
            composite.push(&digest);
            offset += len;
            number += 1;
        }
        Ok(Sent {
            sha256: whole.finalize().into(),
            composite: composite.finish(),
            parts,
        })
    }

    async fn complete(
        &self,
        to: &Location,
        upload_id: &str,
        parts: Vec<CompletedPart>,
    ) -> Result<String, ArchiveError> {
        let out = self
            .client
            .complete_multipart_upload()
            .bucket(&to.bucket)
            .key(&to.key)
            .upload_id(upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
            .await
            .map_err(|e| request("CompleteMultipartUpload", to, describe(&e)))?;
        out.version_id()
            .filter(|v| !v.is_empty() && *v != "null")
            .map(str::to_string)
            .ok_or_else(|| ArchiveError::NotConfirmed {
                bucket: to.bucket.clone(),
                key: to.key.clone(),
                version: "-".into(),
                what: "a version id (CompleteMultipartUpload answered none: is versioning on?)".into(),
            })
    }

    /// Aborts the upload after `cause`; returns `cause`, with the abort's own failure added.
    async fn abort(&self, to: &Location, upload_id: &str, cause: ArchiveError) -> ArchiveError {
        let aborted = self
            .client
            .abort_multipart_upload()
            .bucket(&to.bucket)
            .key(&to.key)
            .upload_id(upload_id)
            .send()
            .await;
        match (aborted, cause) {
            (Ok(_), cause) => cause,
            (
                Err(e),
                ArchiveError::Request {
                    operation,
                    bucket,
                    key,
                    detail,
                },
            ) => ArchiveError::Request {
                operation,
                bucket,
                key,
                detail: format!(
                    "{detail} (and AbortMultipartUpload of {upload_id} failed: {}; no object was created)",
                    describe(&e)
                ),
            },
            (Err(_), cause) => cause,
        }
    }
}

/// What was sent.
struct Sent {
    sha256: [u8; 32],
    composite: String,
    parts: Vec<CompletedPart>,
}

pub(crate) fn request(operation: &str, at: &Location, detail: String) -> ArchiveError {
    ArchiveError::Request {
        operation: operation.to_string(),
        bucket: at.bucket.clone(),
        key: at.key.clone(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_sizes() {
        assert_eq!(part_size(1), MIN_PART_SIZE);
        assert_eq!(part_size(2 << 30), MIN_PART_SIZE);
        // 5 TiB in 10,000 parts: 525 MiB each (rounded up to whole MiB).
        assert_eq!(part_size(MAX_OBJECT_SIZE), 525 * 1024 * 1024);
        assert!(MAX_OBJECT_SIZE.div_ceil(part_size(MAX_OBJECT_SIZE)) <= MAX_PARTS);
    }
}
