//! What can go wrong with a deposit, a fetch or a status query.

use std::path::PathBuf;

/// Why an archive operation failed. Every variant says what was wrong and where (bucket, key,
/// version, part number) in words an examiner can act on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveError {
    /// The `s3://BUCKET/KEY[?versionId=V]` text is not a valid object location.
    #[error("{text:?} is not an object location: {reason} (expected s3://BUCKET/KEY or s3://BUCKET/KEY?versionId=V)")]
    Location {
        /// The text given (at most 200 characters of it).
        text: String,
        /// What is wrong.
        reason: String,
    },
    /// The lock requested is not one S3 can apply (a retain-until date in the past, …).
    #[error("object lock: {0}")]
    Lock(String),
    /// The bucket has no Object Lock configuration: an object put there could be deleted.
    #[error(
        "bucket {bucket:?} does not have Object Lock enabled ({detail}); a deposit needs a bucket created with \
Object Lock (`ObjectLockEnabledForBucket`), or objects stored there could be deleted or overwritten"
    )]
    BucketNotLocked {
        /// The bucket.
        bucket: String,
        /// What the server said.
        detail: String,
    },
    /// An S3 request failed (refused, unreachable, or an answer the client could not read).
    #[error("S3 {operation} on s3://{bucket}/{key}: {detail}")]
    Request {
        /// The S3 operation (`CreateMultipartUpload`, `UploadPart 3`, `HeadObject`, …).
        operation: String,
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// The server's error code and message, or the transport error.
        detail: String,
    },
    /// The server answered but did not confirm what was asked: the deposit is not trusted.
    #[error("s3://{bucket}/{key} (version {version}): the server does not confirm {what}")]
    NotConfirmed {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// The version id (or `-`).
        version: String,
        /// What is not confirmed, and what was answered instead.
        what: String,
    },
    /// The bytes received do not match the checksum the server stores for them.
    #[error("s3://{bucket}/{key} (version {version}): {what}")]
    ChecksumMismatch {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// The version id.
        version: String,
        /// Which checksum, expected and found.
        what: String,
    },
    /// The object or an answer is larger than this client accepts (SPEC §10 limits, S3's part count).
    #[error("{0}")]
    Limit(String),
    /// The bundle does not verify: nothing was uploaded, or a fetched copy is not intact.
    #[error("{} does not verify ({} problem(s), the first: {}); {action}",
        path.display(), report.failures.len(),
        report.failures.first().map(ToString::to_string).unwrap_or_default())]
    NotVerified {
        /// The bundle.
        path: PathBuf,
        /// What verification found.
        report: Box<forensic_bundle::verify::Report>,
        /// What was (not) done because of it.
        action: &'static str,
    },
    /// The bundle changed while it was being deposited, so the custody entry could not say which
    /// bytes were stored.
    #[error("{}: {reason}; the deposit was made but no custody entry was appended", path.display())]
    Changed {
        /// The bundle.
        path: PathBuf,
        /// What changed.
        reason: String,
    },
    /// Credentials, region or endpoint could not be set up.
    #[error("S3 configuration: {0}")]
    Config(String),
    /// Reading or writing a local file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Opening, verifying or writing a bundle on disk failed.
    #[error(transparent)]
    Disk(#[from] forensic_disk::DiskError),
    /// Appending the deposit's custody entry failed.
    #[error(transparent)]
    Append(#[from] forensic_disk::AppendError),
}

impl ArchiveError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> ArchiveError {
        ArchiveError::Io {
            path: path.into(),
            source,
        }
    }
}
