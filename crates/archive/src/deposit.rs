//! A deposit of a bundle (SPEC §9.7): verify, upload, confirm, then record it in the bundle's
//! custody log; and fetching a deposited bundle back.

use crate::lock::LockRequest;
use crate::put::Receipt;
use crate::{ArchiveError, Fetched, Location, Store};
use forensic_bundle::custody::{ARCHIVED, Deposit, NewEntry};
use forensic_bundle::digest::Digest;
use forensic_bundle::keys::{Fingerprint, Signer};
use forensic_bundle::time::Timestamp;
use forensic_bundle::verify::{Report, VerifyOptions, verify};
use forensic_crypt::{Identities, Recipients};
use forensic_disk::{AppendOptions, Appended, AtomicFile, BundleFile, Clock};
use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Who records a deposit, and what they trust.
#[derive(Debug)]
pub struct Depositor<'a> {
    /// The key that signs the `archived` entry.
    pub key: &'a dyn Signer,
    /// The signer's name in the entry.
    pub actor: String,
    /// Free text for the entry.
    pub note: Option<String>,
    /// Trusted signer fingerprints: with a list, every earlier signer must be in it.
    pub trust: Option<HashSet<Fingerprint>>,
    /// Identities that open an age-encrypted bundle (it is deposited as it is: encrypted).
    pub identities: Option<Arc<Identities>>,
    /// Recipients the local bundle is re-encrypted to when its `archived` entry is appended
    /// (required for an encrypted bundle, as for any append).
    pub reencrypt_to: Option<Recipients>,
}

/// A deposit made, confirmed and recorded.
#[derive(Debug, Clone)]
pub struct Deposited {
    /// What the server confirmed.
    pub receipt: Receipt,
    /// The deposit as recorded in the custody entry.
    pub deposit: Deposit,
    /// The custody entry appended to the local bundle.
    pub appended: Appended,
}

/// Deposits the bundle at `bundle` as a new locked version of `to`, then appends an `archived`
/// custody entry recording it (SPEC §9.7).
///
/// In order: the bundle is verified (every member hashed, the seal and custody log checked, with
/// `who.trust`); its bytes — those just verified, read through the same open file — are uploaded
/// and confirmed ([`Store::put`]); then the entry is appended, atomically, only if the bundle's
/// custody head is still the one verified, so that the entry's `prev` is the stored copy's custody
/// head and the local log extends the stored one.
///
/// # Errors
/// [`ArchiveError::NotVerified`] (nothing uploaded), every error of [`Store::put`] (no entry
/// appended), [`ArchiveError::Changed`] when the bundle changed during the upload (the object was
/// stored; no entry appended), [`ArchiveError::Append`].
pub fn deposit(
    store: &Store,
    bundle: &Path,
    to: &Location,
    lock: &LockRequest,
    who: &Depositor<'_>,
) -> Result<Deposited, ArchiveError> {
    let file = File::open(bundle).map_err(|e| ArchiveError::io(bundle, e))?;
    let size = file.metadata().map_err(|e| ArchiveError::io(bundle, e))?.len();
    let reader = BundleFile::from_file_with(
        file.try_clone().map_err(|e| ArchiveError::io(bundle, e))?,
        bundle,
        who.identities.as_ref(),
    )?;
    let opts = VerifyOptions {
        trust: who.trust.clone(),
        ..VerifyOptions::default()
    };
    let report = verify(&reader, &opts).map_err(|e| ArchiveError::io(bundle, e))?;
    let head = verified_head(bundle, report, "nothing was uploaded")?;
    let receipt = store.put(&file, bundle, size, to, lock)?;
    let deposit = record(store, &receipt)?;
    let entry = NewEntry {
        stamp: None,
        key: who.key,
        actor: who.actor.clone(),
        action: ARCHIVED.to_string(),
        time: Clock::new()?.now(),
        recipient: None,
        note: who.note.clone(),
        deposit: Some(deposit.clone()),
    };
    let append_opts = AppendOptions {
        trust: who.trust.clone(),
        identities: who.identities.clone(),
        reencrypt_to: who.reencrypt_to.clone(),
        ..AppendOptions::default()
    };
    let pending = forensic_disk::prepare_append(bundle, &entry, &append_opts)?;
    if pending.appended().previous_head != head {
        return Err(ArchiveError::Changed {
            path: bundle.to_path_buf(),
            reason: format!(
                "its custody head changed from {head} to {} while it was uploaded",
                pending.appended().previous_head
            ),
        });
    }
    let appended = pending.commit()?;
    Ok(Deposited {
        receipt,
        deposit,
        appended,
    })
}

/// The `deposit` map of the custody entry for a confirmed receipt.
fn record(store: &Store, r: &Receipt) -> Result<Deposit, ArchiveError> {
    let lock = &r.lock;
    let (Some(mode), Some(until)) = (lock.mode, lock.retain_until) else {
        return Err(ArchiveError::NotConfirmed {
            bucket: r.location.bucket.clone(),
            key: r.location.key.clone(),
            version: r.location.version_id.clone().unwrap_or_default(),
            what: "a retention".into(),
        });
    };
    let nanos = i128::from(until.timestamp()) * 1_000_000_000;
    let retain_until = Timestamp::from_unix_nanos(nanos).map_err(|e| ArchiveError::Lock(e.to_string()))?;
    Ok(Deposit {
        store: "s3".into(),
        endpoint: store.endpoint().map(str::to_string),
        bucket: r.location.bucket.clone(),
        key: r.location.key.clone(),
        version_id: r.location.version_id.clone().unwrap_or_default(),
        size: r.size,
        sha256: Digest(r.sha256),
        checksum_sha256: r.checksum_sha256.clone(),
        mode: mode.as_str().to_string(),
        retain_until,
        legal_hold: lock.legal_hold,
    })
}

fn verified_head(path: &Path, report: Report, action: &'static str) -> Result<Digest, ArchiveError> {
    match report.custody_head {
        Some(head) if report.verified() => Ok(head),
        _ => Err(ArchiveError::NotVerified {
            path: path.to_path_buf(),
            report: Box::new(report),
            action,
        }),
    }
}

/// A fetched bundle: the transfer check and the verification of the copy.
#[derive(Debug)]
pub struct Retrieved {
    /// The file written.
    pub path: PathBuf,
    /// What was fetched, and the lock now.
    pub fetched: Fetched,
    /// The verification of the copy (with the trust given). The file is kept whatever it says:
    /// it is what the archive holds.
    pub report: Report,
}

/// Fetches `from` into a new file `dest` (never overwriting one; written beside it and renamed
/// into place only when complete, synced and matching the server's checksum), then verifies it.
///
/// # Errors
/// Every error of [`Store::fetch`] (then nothing is left at `dest`), [`ArchiveError::Disk`] when
/// `dest` exists or cannot be written.
pub fn retrieve(
    store: &Store,
    from: &Location,
    dest: &Path,
    trust: Option<HashSet<Fingerprint>>,
    identities: Option<&Arc<Identities>>,
) -> Result<Retrieved, ArchiveError> {
    let mut out = AtomicFile::create(dest)?;
    let temp = out.temp_path().to_path_buf();
    let fetched = store.fetch(from, out.file_mut(), &temp)?;
    let path = out.commit()?;
    let opts = VerifyOptions {
        trust,
        ..VerifyOptions::default()
    };
    let report = forensic_disk::verify_path_with(&path, identities, &opts)?;
    Ok(Retrieved { path, fetched, report })
}
