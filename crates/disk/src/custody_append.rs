//! Appending a custody entry to a bundle on disk, atomically (SPEC §9.3, §9.4; STYLE habit 9).
//!
//! The bundle is locked, verified, and rewritten into a temporary file beside it: every byte
//! before `custody.cbor` copied verbatim ([`forensic_bundle::append`]), then the old log plus the
//! new entry. The temporary file is synced, checked, and only then renamed over the original. A
//! crash at any point before the rename leaves the original untouched; the leftover temporary
//! file is removed by the next append to the same bundle.

use crate::{AppendError, BundleFile};
use forensic_bundle::custody::{self, NewEntry};
use forensic_bundle::digest::Digest;
use forensic_bundle::keys::Fingerprint;
use forensic_bundle::limits::Limits;
use forensic_bundle::verify::{OpenReader, Report, VerifyOptions, verify};
use forensic_bundle::{append, zipread};
use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

/// Suffix of the temporary file (`.<bundle name>.custody-XXXXXX.partial`).
pub const APPEND_TEMP_SUFFIX: &str = ".partial";

/// What to check before appending.
#[derive(Debug, Clone, Default)]
pub struct AppendOptions {
    /// Trusted signer fingerprints: with a list, every earlier signer must be in it.
    pub trust: Option<HashSet<Fingerprint>>,
    /// Reader limits (SPEC §10).
    pub limits: Limits,
}

/// What was appended.
#[derive(Debug, Clone)]
pub struct Appended {
    /// The bundle.
    pub path: PathBuf,
    /// The new entry's position in the log (from 0).
    pub seq: usize,
    /// The new custody head: SHA-256 of the new entry (SPEC §9.3). Record it (SPEC §9.5).
    pub head: Digest,
    /// The custody head before the append.
    pub previous_head: Digest,
    /// The verification of the bundle before the append.
    pub before: Report,
}

/// A new bundle, complete and synced in a temporary file beside the original, that replaces the
/// original on [`PendingAppend::commit`]. Dropping it instead removes the temporary file and
/// leaves the original as it was. The bundle stays locked until then.
#[derive(Debug)]
pub struct PendingAppend {
    temp: NamedTempFile,
    appended: Appended,
    // Held for the advisory lock (flock) until commit or drop.
    _lock: File,
}

impl PendingAppend {
    /// Where the new bundle is until it is committed.
    pub fn temp_path(&self) -> &Path {
        self.temp.path()
    }

    /// What will have been appended.
    pub fn appended(&self) -> &Appended {
        &self.appended
    }

    /// Renames the new bundle over the original and syncs the directory.
    ///
    /// # Errors
    /// [`AppendError::Disk`] if the rename or the sync fails (then the original is untouched, or — if
    /// only the directory sync failed — replaced).
    pub fn commit(self) -> Result<Appended, AppendError> {
        let PendingAppend { temp, appended, _lock } = self;
        let dest = appended.path.clone();
        temp.persist(&dest).map_err(|e| AppendError::io(&dest, e.error))?;
        let dir = parent_dir(&dest);
        File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| AppendError::io(dir, e))?;
        Ok(appended)
    }
}

/// Prepares appending `new` to the bundle at `path`: locks it, verifies it (with `opts.trust` if
/// given), refuses an entry that would break SPEC §9.3 or §9.4, and writes the new bundle to a
/// synced temporary file beside it, checked to verify with the new entry as its head.
///
/// # Security
/// Every evidence member and every earlier custody entry keeps its stored bytes exactly: the file
/// is copied byte for byte up to `custody.cbor`'s local header. `path` must be a regular file, not
/// a symbolic link (the rename would replace the link, not the bundle).
///
/// # Errors
/// [`AppendError::NotVerified`] when the bundle does not verify; [`AppendError::CustodyRefused`] when
/// the entry breaks a custody rule (a receipt by another key than the one a transfer names, a
/// transfer by someone who does not hold the bundle, time running backwards, ...);
/// [`AppendError::Busy`] when another append holds the lock; [`AppendError::Disk`] and
/// [`AppendError::Append`] otherwise. The original is never modified by this function.
pub fn prepare_append(path: &Path, new: &NewEntry<'_>, opts: &AppendOptions) -> Result<PendingAppend, AppendError> {
    let lock = open_locked(path)?;
    remove_stale_temps(path)?;
    let bundle = BundleFile::from_file(lock.try_clone().map_err(|e| AppendError::io(path, e))?, path)?;
    let vopts = VerifyOptions {
        trust: opts.trust.clone(),
        limits: opts.limits.clone(),
        ..VerifyOptions::default()
    };
    let before = verify(&bundle, &vopts).map_err(|e| AppendError::io(path, e))?;
    if !before.verified() {
        return Err(AppendError::NotVerified {
            path: path.to_path_buf(),
            report: Box::new(before),
        });
    }
    let fail = |reason: String| AppendError::Append {
        path: path.to_path_buf(),
        reason,
    };
    let (Some(manifest), Some(digest), Some(previous_head)) =
        (before.manifest.as_ref(), before.manifest_digest, before.custody_head)
    else {
        return Err(fail(
            "the verification report lacks the manifest or the custody head".into(),
        ));
    };
    let mut r = bundle.open().map_err(|e| AppendError::io(path, e))?;
    let index = zipread::read_index(&mut r, &opts.limits).map_err(|e| fail(e.to_string()))?;
    let custody_entry = index
        .entries
        .last()
        .ok_or_else(|| fail("the archive is empty".into()))?;
    let old_log =
        zipread::read_small(&mut r, custody_entry, opts.limits.max_custody).map_err(|e| fail(e.to_string()))?;
    let new_log =
        custody::append(&old_log, new, &manifest.bundle_id, &digest, &opts.limits).map_err(|e| fail(e.to_string()))?;
    let entry = new_log.get(old_log.len()..).unwrap_or_default();
    let entries = custody::parse_log(&new_log, &opts.limits).map_err(|e| fail(e.to_string()))?;
    let seq = entries.len().saturating_sub(1);
    check_new_entry(&entries, manifest, &digest).map_err(|reason| AppendError::CustodyRefused {
        path: path.to_path_buf(),
        reason,
    })?;
    let temp = write_temp(path, &lock, &mut r, &index, entry, &opts.limits)?;
    let head = Digest::of(entry);
    // The new bundle must verify with the new entry as its head before it replaces anything.
    let check_opts = VerifyOptions {
        check_contents: false,
        limits: opts.limits.clone(),
        ..VerifyOptions::default()
    };
    let written = BundleFile::open(temp.path())?;
    let check = verify(&written, &check_opts).map_err(|e| AppendError::io(temp.path(), e))?;
    if !check.verified() || check.custody_head != Some(head) {
        let first = check.failures.first().map(ToString::to_string).unwrap_or_default();
        return Err(fail(format!("the rewritten bundle does not verify ({first})")));
    }
    Ok(PendingAppend {
        temp,
        appended: Appended {
            path: path.to_path_buf(),
            seq,
            head,
            previous_head,
            before,
        },
        _lock: lock,
    })
}

/// [`prepare_append`] and [`PendingAppend::commit`] in one.
///
/// # Errors
/// As [`prepare_append`] and [`PendingAppend::commit`].
pub fn append_entry(path: &Path, new: &NewEntry<'_>, opts: &AppendOptions) -> Result<Appended, AppendError> {
    prepare_append(path, new, opts)?.commit()
}

/// Refuses a new last entry that breaks SPEC §9.3 or §9.4, saying why.
fn check_new_entry(
    entries: &[custody::Entry],
    manifest: &forensic_bundle::manifest::Manifest,
    digest: &Digest,
) -> Result<(), String> {
    let last = entries.len().saturating_sub(1);
    let (Some(new), prev) = (entries.last(), last.checked_sub(1).and_then(|i| entries.get(i))) else {
        return Err("the new log is empty".into());
    };
    // Clearer words for the two cases a recipient meets (SPEC §9.4 rules 3 and 4).
    if new.payload.action == custody::RECEIVED {
        match prev.map(|p| (&p.payload.action, p.payload.recipient)) {
            Some((action, Some(to))) if action == custody::TRANSFERRED => {
                if to.0 != new.signer().0 {
                    return Err(format!(
                        "the bundle was transferred to key {}, not to this key {}: only the named recipient can receive it",
                        Fingerprint(to.0),
                        new.signer()
                    ));
                }
            }
            _ => {
                return Err(format!(
                    "the last custody entry (#{}, {:?}) is not a transfer: there is nothing to receive",
                    last.saturating_sub(1),
                    prev.map(|p| p.payload.action.as_str()).unwrap_or_default()
                ));
            }
        }
    }
    let problems = custody::check_chain(entries, &manifest.bundle_id, digest)
        .into_iter()
        .map(|(i, p)| {
            (
                i,
                match p {
                    custody::ChainProblem::Broken(m) | custody::ChainProblem::SealMismatch(m) => m,
                },
            )
        })
        .chain(custody::check_semantics(entries, &manifest.created));
    match problems.filter(|(i, _)| *i == last).map(|(_, m)| m).next() {
        Some(m) => Err(m),
        None => Ok(()),
    }
}

/// Opens `path` read-only and takes an exclusive advisory lock on it, making sure the path still
/// names the locked file (an append that finished meanwhile replaced it).
fn open_locked(path: &Path) -> Result<File, AppendError> {
    let lmd = fs::symlink_metadata(path).map_err(|e| AppendError::io(path, e))?;
    if lmd.file_type().is_symlink() {
        return Err(AppendError::Append {
            path: path.to_path_buf(),
            reason: "it is a symbolic link: give the bundle's own path".into(),
        });
    }
    let file = File::open(path).map_err(|e| AppendError::io(path, e))?;
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => {}
        Err(rustix::io::Errno::WOULDBLOCK) => return Err(AppendError::Busy(path.to_path_buf())),
        Err(e) => return Err(AppendError::io(path, e.into())),
    }
    let (held, now) = (
        file.metadata().map_err(|e| AppendError::io(path, e))?,
        fs::symlink_metadata(path).map_err(|e| AppendError::io(path, e))?,
    );
    if (held.dev(), held.ino()) != (now.dev(), now.ino()) {
        return Err(AppendError::Busy(path.to_path_buf()));
    }
    Ok(file)
}

/// The temporary file's name prefix for `path`: `.<file name>.custody-`.
fn temp_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".{name}.custody-")
}

/// Removes temporary files left by an append to this bundle that crashed (the lock is held, so
/// no other append is writing one).
fn remove_stale_temps(path: &Path) -> Result<(), AppendError> {
    let dir = parent_dir(path);
    let prefix = temp_prefix(path);
    let entries = fs::read_dir(&dir).map_err(|e| AppendError::io(&dir, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file && name.starts_with(&prefix) && name.ends_with(APPEND_TEMP_SUFFIX) {
            fs::remove_file(entry.path()).map_err(|e| AppendError::io(entry.path(), e))?;
        }
    }
    Ok(())
}

/// Writes the new bundle into a temporary file beside `path`, with the original's permissions,
/// and syncs it.
fn write_temp(
    path: &Path,
    original: &File,
    src: &mut crate::PosReader,
    index: &zipread::ZipIndex,
    entry: &[u8],
    limits: &Limits,
) -> Result<NamedTempFile, AppendError> {
    let dir = parent_dir(path);
    let temp = tempfile::Builder::new()
        .prefix(&temp_prefix(path))
        .suffix(APPEND_TEMP_SUFFIX)
        .tempfile_in(&dir)
        .map_err(|e| AppendError::io(&dir, e))?;
    let tpath = temp.path().to_path_buf();
    {
        let mut w = BufWriter::with_capacity(1 << 20, temp.as_file());
        append::append_entry(src, index, entry, limits, &mut w).map_err(|e| match e {
            append::AppendError::Io(io) => AppendError::io(&tpath, io),
            other => AppendError::Append {
                path: path.to_path_buf(),
                reason: other.to_string(),
            },
        })?;
        w.flush().map_err(|e| AppendError::io(&tpath, e))?;
    }
    let mode = original
        .metadata()
        .map_err(|e| AppendError::io(path, e))?
        .permissions()
        .mode()
        & 0o7777;
    fs::set_permissions(&tpath, fs::Permissions::from_mode(mode)).map_err(|e| AppendError::io(&tpath, e))?;
    temp.as_file().sync_all().map_err(|e| AppendError::io(&tpath, e))?;
    Ok(temp)
}

/// The directory `path` is in (`.` for a bare file name).
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use forensic_bundle::keys::signing_key_from_seed;
    use forensic_bundle::manifest::{Collector, Source};
    use forensic_bundle::section::Section;
    use forensic_bundle::time::Timestamp;
    use forensic_bundle::writer::{BundleWriter, Header, MemberSpec, Seal};
    use std::io::Cursor;

    fn t(s: u32) -> Timestamp {
        Timestamp::parse(&format!("2026-11-29T10:00:{s:02}.000000000Z")).unwrap()
    }

    fn write_bundle(path: &Path) {
        let key = signing_key_from_seed(&[1; 32]);
        let mut w = BundleWriter::new(
            Cursor::new(Vec::new()),
            Header::new("b", t(0), Collector::new("t", "0")),
        )
        .unwrap();
        w.begin_section(Section::Logs, t(1)).unwrap();
        let spec = MemberSpec::new("log.txt", Source::path("/x".into()), t(1));
        w.add_member(spec, &b"line\n"[..]).unwrap();
        w.end_section(t(2)).unwrap();
        let seal = Seal {
            key: &key,
            actor: "alice".into(),
            time: t(3),
            note: None,
        };
        fs::write(path, w.finish(&seal).unwrap().into_inner()).unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(0o640)).unwrap();
    }

    fn entry<'a>(key: &'a forensic_bundle::keys::SigningKey, action: &str, to: Option<Fingerprint>) -> NewEntry<'a> {
        NewEntry {
            stamp: None,
            key,
            actor: "someone".into(),
            action: action.into(),
            time: t(10),
            recipient: to,
            note: None,
            deposit: None,
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_dropped_pending_append_leaves_the_original_and_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.zip");
        write_bundle(&p);
        let before = fs::read(&p).unwrap();
        let alice = signing_key_from_seed(&[1; 32]);
        let pending = prepare_append(&p, &entry(&alice, custody::ANNOTATED, None), &AppendOptions::default()).unwrap();
        assert!(pending.temp_path().exists());
        assert!(matches!(
            prepare_append(&p, &entry(&alice, custody::ANNOTATED, None), &AppendOptions::default()),
            Err(AppendError::Busy(_))
        ));
        drop(pending);
        assert_eq!(fs::read(&p).unwrap(), before);
        assert_eq!(names(dir.path()), ["b.zip"]);
    }

    #[test]
    fn commit_replaces_the_bundle_keeping_its_mode_and_removes_stale_temps() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.zip");
        write_bundle(&p);
        // A temp file left by a crashed append.
        fs::write(dir.path().join(".b.zip.custody-abc123.partial"), b"half").unwrap();
        let before = fs::read(&p).unwrap();
        let alice = signing_key_from_seed(&[1; 32]);
        let done = append_entry(&p, &entry(&alice, custody::ANNOTATED, None), &AppendOptions::default()).unwrap();
        assert_eq!(done.seq, 1);
        assert_eq!(names(dir.path()), ["b.zip"]);
        let after = fs::read(&p).unwrap();
        assert_ne!(after, before);
        assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o640);
        let report = crate::verify_path(&p, &VerifyOptions::default()).unwrap();
        assert!(report.verified(), "{:?}", report.failures);
        assert_eq!(report.custody_head, Some(done.head));
    }

    #[test]
    fn spec_9_4_a_receipt_by_another_key_is_refused_and_nothing_changes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.zip");
        write_bundle(&p);
        let (alice, bob, carol) = (
            signing_key_from_seed(&[1; 32]),
            signing_key_from_seed(&[2; 32]),
            signing_key_from_seed(&[3; 32]),
        );
        let opts = AppendOptions::default();
        // Nothing to receive yet.
        let err = append_entry(&p, &entry(&bob, custody::RECEIVED, None), &opts).unwrap_err();
        assert!(err.to_string().contains("not a transfer"), "{err}");
        // Only the custodian transfers.
        let to_bob = Some(Fingerprint::of(&bob.verifying_key()));
        let err = append_entry(&p, &entry(&carol, custody::TRANSFERRED, to_bob), &opts).unwrap_err();
        assert!(err.to_string().contains("rule 5"), "{err}");
        append_entry(&p, &entry(&alice, custody::TRANSFERRED, to_bob), &opts).unwrap();
        let before = fs::read(&p).unwrap();
        let err = append_entry(&p, &entry(&carol, custody::RECEIVED, None), &opts).unwrap_err();
        assert!(matches!(err, AppendError::CustodyRefused { .. }), "{err}");
        assert!(err.to_string().contains("not to this key"), "{err}");
        // In transit: nothing but the receipt may follow.
        let err = append_entry(&p, &entry(&carol, custody::ANNOTATED, None), &opts).unwrap_err();
        assert!(err.to_string().contains("rule 3"), "{err}");
        assert_eq!(fs::read(&p).unwrap(), before);
        append_entry(&p, &entry(&bob, custody::RECEIVED, None), &opts).unwrap();
        assert!(crate::verify_path(&p, &VerifyOptions::default()).unwrap().verified());
    }

    #[test]
    fn a_bundle_that_does_not_verify_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.zip");
        write_bundle(&p);
        let mut bytes = fs::read(&p).unwrap();
        let idx = zipread::read_index(&mut Cursor::new(&bytes[..]), &Limits::default()).unwrap();
        bytes[idx.entries[1].data_offset as usize] ^= 1;
        fs::write(&p, &bytes).unwrap();
        let alice = signing_key_from_seed(&[1; 32]);
        let err = append_entry(&p, &entry(&alice, custody::ANNOTATED, None), &AppendOptions::default()).unwrap_err();
        assert!(matches!(err, AppendError::NotVerified { .. }), "{err}");
        assert_eq!(fs::read(&p).unwrap(), bytes);
    }
}
