//! Reading back what the server holds for one object version: its size, checksum, version,
//! retention and legal hold.

use crate::lock::{LockRequest, LockState, Mode};
use crate::put::request;
use crate::store::{Store, code, describe};
use crate::{ArchiveError, Location};
use aws_sdk_s3::types::{ChecksumMode, ObjectLockLegalHoldStatus, ObjectLockMode, ObjectLockRetentionMode};
use chrono::{DateTime, Utc};

/// What a deposit expects the server to confirm.
pub(crate) struct Expected<'a> {
    pub size: u64,
    pub checksum_sha256: String,
    pub lock: &'a LockRequest,
}

/// The object version as HeadObject reports it.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    pub version_id: String,
    pub size: u64,
    pub checksum_sha256: Option<String>,
    pub lock: LockState,
}

/// Error codes meaning "this version has no retention / legal hold" (SeaweedFS 4.48 answers
/// `NoSuchObjectLegalHold` for a version without a hold).
const NO_LOCK: [&str; 4] = [
    "NoSuchObjectLockConfiguration",
    "ObjectLockConfigurationNotFoundError",
    "NoSuchLegalHold",
    "NoSuchObjectLegalHold",
];

impl Store {
    /// HeadObject of `at` (its version, if given) with the checksum asked for.
    pub(crate) async fn head(&self, at: &Location) -> Result<Head, ArchiveError> {
        let out = self
            .client
            .head_object()
            .bucket(&at.bucket)
            .key(&at.key)
            .set_version_id(at.version_id.clone())
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .map_err(|e| request("HeadObject", at, describe(&e)))?;
        let size = out
            .content_length()
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| request("HeadObject", at, "the answer has no Content-Length".into()))?;
        Ok(Head {
            version_id: out.version_id().unwrap_or_default().to_string(),
            size,
            checksum_sha256: out.checksum_sha256().map(str::to_string),
            lock: LockState {
                mode: out.object_lock_mode().and_then(head_mode),
                retain_until: out.object_lock_retain_until_date().and_then(to_chrono),
                legal_hold: out.object_lock_legal_hold_status() == Some(&ObjectLockLegalHoldStatus::On),
            },
        })
    }

    /// The version's retention (GetObjectRetention) and legal hold (GetObjectLegalHold); a version
    /// without them has none (the service's "no configuration" answers are not errors).
    pub(crate) async fn lock_state(&self, at: &Location) -> Result<LockState, ArchiveError> {
        let (mode, retain_until) = match self
            .client
            .get_object_retention()
            .bucket(&at.bucket)
            .key(&at.key)
            .set_version_id(at.version_id.clone())
            .send()
            .await
        {
            Ok(out) => {
                let r = out.retention();
                (
                    r.and_then(|r| r.mode()).and_then(retention_mode),
                    r.and_then(|r| r.retain_until_date()).and_then(to_chrono),
                )
            }
            Err(e) if code(&e).is_some_and(|c| NO_LOCK.contains(&c)) => (None, None),
            Err(e) => return Err(request("GetObjectRetention", at, describe(&e))),
        };
        let legal_hold = match self
            .client
            .get_object_legal_hold()
            .bucket(&at.bucket)
            .key(&at.key)
            .set_version_id(at.version_id.clone())
            .send()
            .await
        {
            Ok(out) => out.legal_hold().and_then(|h| h.status()) == Some(&ObjectLockLegalHoldStatus::On),
            Err(e) if code(&e).is_some_and(|c| NO_LOCK.contains(&c)) => false,
            Err(e) => return Err(request("GetObjectLegalHold", at, describe(&e))),
        };
        Ok(LockState {
            mode,
            retain_until,
            legal_hold,
        })
    }
}

/// Reads the version back and fails unless every field is what was sent: version id, size,
/// SHA-256 checksum, retention mode and date (in HeadObject and GetObjectRetention), legal hold
/// (in both, when asked for). Returns the confirmed lock.
pub(crate) async fn confirm(store: &Store, at: &Location, want: &Expected<'_>) -> Result<LockState, ArchiveError> {
    let version = at.version_id.clone().unwrap_or_default();
    let fail = |what: String| ArchiveError::NotConfirmed {
        bucket: at.bucket.clone(),
        key: at.key.clone(),
        version: version.clone(),
        what,
    };
    let head = store.head(at).await?;
    if head.version_id != version {
        return Err(fail(format!(
            "the version: HeadObject answered version {:?}",
            head.version_id
        )));
    }
    if head.size != want.size {
        return Err(fail(format!(
            "the size: {} bytes sent, {} stored",
            want.size, head.size
        )));
    }
    if head.checksum_sha256.as_deref() != Some(want.checksum_sha256.as_str()) {
        return Err(fail(format!(
            "the SHA-256 checksum {}: HeadObject answered {}",
            want.checksum_sha256,
            head.checksum_sha256.as_deref().unwrap_or("none")
        )));
    }
    let lock = want.lock;
    let asked = LockState {
        mode: Some(lock.mode),
        retain_until: Some(lock.retain_until),
        legal_hold: lock.legal_hold,
    };
    let described = |s: &LockState| {
        format!(
            "mode {}, retain until {}, legal hold {}",
            s.mode.map_or("none", Mode::as_str),
            s.retain_until.map_or("none".into(), |t| t.to_rfc3339()),
            if s.legal_hold { "on" } else { "off" }
        )
    };
    // A legal hold not asked for is more protection, not less: only require what was asked.
    let matches = |s: &LockState| {
        s.mode == asked.mode && s.retain_until == asked.retain_until && (s.legal_hold || !asked.legal_hold)
    };
    if !matches(&head.lock) {
        return Err(fail(format!(
            "the lock asked for ({}): HeadObject answered {}",
            described(&asked),
            described(&head.lock)
        )));
    }
    let state = store.lock_state(at).await?;
    if !matches(&state) {
        return Err(fail(format!(
            "the lock asked for ({}): GetObjectRetention/GetObjectLegalHold answered {}",
            described(&asked),
            described(&state)
        )));
    }
    Ok(state)
}

fn head_mode(m: &ObjectLockMode) -> Option<Mode> {
    match m {
        ObjectLockMode::Compliance => Some(Mode::Compliance),
        ObjectLockMode::Governance => Some(Mode::Governance),
        _ => None,
    }
}

fn retention_mode(m: &ObjectLockRetentionMode) -> Option<Mode> {
    match m {
        ObjectLockRetentionMode::Compliance => Some(Mode::Compliance),
        ObjectLockRetentionMode::Governance => Some(Mode::Governance),
        _ => None,
    }
}

fn to_chrono(t: &aws_sdk_s3::primitives::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}
