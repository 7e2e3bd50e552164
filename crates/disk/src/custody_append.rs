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
use forensic_crypt::{Identities, Recipients, Scratch};
use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Seek, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
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
    /// Identities that decrypt an age-encrypted bundle.
    pub identities: Option<Arc<Identities>>,
    /// Recipients the rewritten bundle is encrypted to: required for an encrypted bundle (it is
    /// never rewritten in clear, and an age header does not say whom it was encrypted to), refused
    /// for a bundle in clear.
    pub reencrypt_to: Option<Recipients>,
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
    let bundle = BundleFile::from_file_with(
        lock.try_clone().map_err(|e| AppendError::io(path, e))?,
        path,
        opts.identities.as_ref(),
    )?;
    let refuse = |reason: &str| AppendError::Append {
        path: path.to_path_buf(),
        reason: reason.into(),
    };
    match (bundle.is_encrypted(), &opts.reencrypt_to) {
        (true, None) => {
            return Err(refuse(
                "it is encrypted, and the rewritten bundle must be encrypted too, to recipients forensic cannot read from it (an age header does not name them): give --reencrypt-to RECIPIENT (the next holder's, or your own to keep it)",
            ));
        }
        (false, Some(_)) => {
            return Err(refuse(
                "--reencrypt-to re-encrypts an encrypted bundle; this one is in clear: encrypt it with `age -r RECIPIENT` (forensic reads the result with --identity), or seal it with --encrypt-to",
            ));
        }
        _ => {}
    }
    let vopts = VerifyOptions {
        trust: opts.trust.clone(),
        limits: opts.limits.clone(),
        ..VerifyOptions::default()
    };
    let before = crate::verify_file(&bundle, &vopts).map_err(|e| AppendError::io(path, e))?;
    if !before.verified() {
        return Err(AppendError::NotVerified {
            path: path.to_path_buf(),
            report: Box::new(before),
        });
    }
    let mut r = bundle.open().map_err(|e| AppendError::io(path, e))?;
    let planned = plan(path, &mut r, &before, new, &opts.limits)?;
    let (index, entry) = (&planned.index, planned.entry.as_slice());
    let fail = |reason: String| AppendError::Append {
        path: path.to_path_buf(),
        reason,
    };
    let check = |written: &dyn Fn() -> Result<Report, AppendError>| check_written(path, planned.head, written);
    let check_opts = VerifyOptions {
        check_contents: false,
        limits: opts.limits.clone(),
        ..VerifyOptions::default()
    };
    let temp = new_temp(path)?;
    match &opts.reencrypt_to {
        None => {
            write_new(path, temp.as_file(), temp.path(), &mut r, index, entry, &opts.limits)?;
            check(&|| {
                let written = BundleFile::open(temp.path())?;
                verify(&written, &check_opts).map_err(|e| AppendError::io(temp.path(), e))
            })?;
        }
        Some(to) => {
            // Built in an encrypted scratch, checked there, then encrypted into the temporary file:
            // the bundle is never in clear on disk.
            let dir = parent_dir(path);
            let scratch = Scratch::create_in(&dir).map_err(|e| AppendError::io(&dir, e))?;
            write_new(path, scratch.handle(), temp.path(), &mut r, index, entry, &opts.limits)?;
            check(&|| verify(&ScratchSource(&scratch), &check_opts).map_err(|e| AppendError::io(temp.path(), e)))?;
            let plain = io::BufReader::with_capacity(1 << 20, scratch.handle());
            let sink = BufWriter::with_capacity(1 << 20, temp.as_file());
            let (sink, _) = forensic_crypt::encrypt(plain, to, sink).map_err(|e| fail(e.to_string()))?;
            sink.into_inner()
                .map_err(|e| AppendError::io(temp.path(), e.into_error()))?;
        }
    }
    finish_temp(path, &lock, &temp)?;
    Ok(PendingAppend {
        temp,
        appended: Appended {
            path: path.to_path_buf(),
            seq: planned.seq,
            head: planned.head,
            previous_head: planned.previous_head,
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

/// The entry to append to a verified bundle, and where it goes.
struct Planned {
    index: zipread::ZipIndex,
    /// The new entry's bytes (the new log is the old log followed by them).
    entry: Vec<u8>,
    seq: usize,
    head: Digest,
    previous_head: Digest,
}

/// Makes the new entry for the bundle read by `r`, which `before` (its verification) describes,
/// and refuses one that would break SPEC §9.3 or §9.4. `path` names the bundle in errors.
fn plan<R: Read + Seek>(
    path: &Path,
    r: &mut R,
    before: &Report,
    new: &NewEntry<'_>,
    limits: &Limits,
) -> Result<Planned, AppendError> {
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
    let index = zipread::read_index(&mut *r, limits).map_err(|e| fail(e.to_string()))?;
    let custody_entry = index
        .entries
        .last()
        .ok_or_else(|| fail("the archive is empty".into()))?;
    let old_log = zipread::read_small(&mut *r, custody_entry, limits.max_custody).map_err(|e| fail(e.to_string()))?;
    let new_log =
        custody::append(&old_log, new, &manifest.bundle_id, &digest, limits).map_err(|e| fail(e.to_string()))?;
    let entry = new_log.get(old_log.len()..).unwrap_or_default().to_vec();
    let entries = custody::parse_log(&new_log, limits).map_err(|e| fail(e.to_string()))?;
    let seq = entries.len().saturating_sub(1);
    check_new_entry(&entries, manifest, &digest).map_err(|reason| AppendError::CustodyRefused {
        path: path.to_path_buf(),
        reason,
    })?;
    let head = Digest::of(&entry);
    Ok(Planned {
        index,
        entry,
        seq,
        head,
        previous_head,
    })
}

/// The new bundle must verify with the new entry as its head before it replaces anything.
fn check_written(
    path: &Path,
    head: Digest,
    written: &dyn Fn() -> Result<Report, AppendError>,
) -> Result<(), AppendError> {
    let check = written()?;
    if !check.verified() || check.custody_head != Some(head) {
        let first = check.failures.first().map(ToString::to_string).unwrap_or_default();
        return Err(AppendError::Append {
            path: path.to_path_buf(),
            reason: format!("the rewritten bundle does not verify ({first})"),
        });
    }
    Ok(())
}

/// Appends `new` to the bundle held in clear in `scratch` (a new bundle not yet committed to
/// `dest`, which names it in errors), into a new scratch file beside it: how an encrypted bundle
/// gets an entry its writer could not append once it is encrypted (that needs an identity of a
/// recipient). The bundle is checked (structure, seal and custody; its contents were checked
/// when written) before, and again after with the new entry as its head.
///
/// # Errors
/// As [`prepare_append`]; `scratch` is never modified.
pub(crate) fn append_in_scratch(
    dest: &Path,
    scratch: &Scratch,
    new: &NewEntry<'_>,
    limits: &Limits,
) -> Result<(Scratch, Appended), AppendError> {
    let check_opts = VerifyOptions {
        check_contents: false,
        limits: limits.clone(),
        ..VerifyOptions::default()
    };
    let before = verify(&ScratchSource(scratch), &check_opts).map_err(|e| AppendError::io(dest, e))?;
    if !before.verified() {
        return Err(AppendError::NotVerified {
            path: dest.to_path_buf(),
            report: Box::new(before),
        });
    }
    let mut r = scratch.handle();
    let planned = plan(dest, &mut r, &before, new, limits)?;
    let dir = parent_dir(dest);
    let appended = Scratch::create_in(&dir).map_err(|e| AppendError::io(&dir, e))?;
    write_new(
        dest,
        appended.handle(),
        dest,
        &mut r,
        &planned.index,
        &planned.entry,
        limits,
    )?;
    check_written(dest, planned.head, &|| {
        verify(&ScratchSource(&appended), &check_opts).map_err(|e| AppendError::io(dest, e))
    })?;
    Ok((
        appended,
        Appended {
            path: dest.to_path_buf(),
            seq: planned.seq,
            head: planned.head,
            previous_head: planned.previous_head,
            before,
        },
    ))
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

/// The temporary file the new bundle goes to, beside `path`.
fn new_temp(path: &Path) -> Result<NamedTempFile, AppendError> {
    let dir = parent_dir(path);
    tempfile::Builder::new()
        .prefix(&temp_prefix(path))
        .suffix(APPEND_TEMP_SUFFIX)
        .tempfile_in(&dir)
        .map_err(|e| AppendError::io(&dir, e))
}

/// Writes the new bundle (the original up to `custody.cbor`, then the longer log) to `out`.
fn write_new<R: Read + Seek, W: Write>(
    path: &Path,
    out: W,
    tpath: &Path,
    src: &mut R,
    index: &zipread::ZipIndex,
    entry: &[u8],
    limits: &Limits,
) -> Result<(), AppendError> {
    let mut w = BufWriter::with_capacity(1 << 20, out);
    append::append_entry(src, index, entry, limits, &mut w).map_err(|e| match e {
        append::AppendError::Io(io) => AppendError::io(tpath, io),
        other => AppendError::Append {
            path: path.to_path_buf(),
            reason: other.to_string(),
        },
    })?;
    w.flush().map_err(|e| AppendError::io(tpath, e))
}

/// Gives the temporary file the original's permissions and syncs it.
fn finish_temp(path: &Path, original: &File, temp: &NamedTempFile) -> Result<(), AppendError> {
    let tpath = temp.path();
    let mode = original
        .metadata()
        .map_err(|e| AppendError::io(path, e))?
        .permissions()
        .mode()
        & 0o7777;
    fs::set_permissions(tpath, fs::Permissions::from_mode(mode)).map_err(|e| AppendError::io(tpath, e))?;
    temp.as_file().sync_all().map_err(|e| AppendError::io(tpath, e))
}

/// A scratch file as a bundle source for verification.
struct ScratchSource<'a>(&'a Scratch);

impl OpenReader for ScratchSource<'_> {
    type Reader<'b>
        = Scratch
    where
        Self: 'b;

    fn open(&self) -> io::Result<Scratch> {
        Ok(self.0.handle())
    }
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

    fn age_key(dir: &Path, name: &str) -> (Recipients, Arc<Identities>) {
        use age::secrecy::ExposeSecret;
        let id = age::x25519::Identity::generate();
        let path = dir.join(name);
        fs::write(&path, format!("{}\n", id.to_string().expose_secret())).unwrap();
        (
            Recipients::parse(&[id.to_public().to_string()]).unwrap(),
            Arc::new(Identities::load(&[path]).unwrap()),
        )
    }

    #[test]
    fn an_encrypted_bundle_is_rewritten_only_reencrypted_and_the_old_identity_no_longer_opens_it() {
        let dir = tempfile::tempdir().unwrap();
        let keys = tempfile::tempdir().unwrap();
        let (to_a, id_a) = age_key(keys.path(), "a");
        let (to_b, id_b) = age_key(keys.path(), "b");
        let clear = dir.path().join("clear.zip");
        write_bundle(&clear);
        let p = dir.path().join("b.zip.age");
        let (enc, _) = forensic_crypt::encrypt(fs::File::open(&clear).unwrap(), &to_a, Vec::new()).unwrap();
        fs::write(&p, &enc).unwrap();
        fs::remove_file(&clear).unwrap();
        let alice = signing_key_from_seed(&[1; 32]);
        let note = entry(&alice, custody::ANNOTATED, None);
        // No identity; an identity but no recipients: refused, nothing changes.
        let err = append_entry(&p, &note, &AppendOptions::default()).unwrap_err();
        assert!(err.to_string().contains("--identity"), "{err}");
        let opts = AppendOptions {
            identities: Some(Arc::clone(&id_a)),
            ..AppendOptions::default()
        };
        let err = append_entry(&p, &note, &opts).unwrap_err();
        assert!(err.to_string().contains("--reencrypt-to"), "{err}");
        assert_eq!(fs::read(&p).unwrap(), enc);
        let opts = AppendOptions {
            reencrypt_to: Some(to_b),
            ..opts
        };
        let done = append_entry(&p, &note, &opts).unwrap();
        assert_eq!(names(dir.path()), ["b.zip.age"]);
        assert!(fs::read(&p).unwrap().starts_with(b"age-encryption.org/v1\n"));
        let report = crate::verify_path_with(&p, Some(&id_b), &VerifyOptions::default()).unwrap();
        assert!(report.verified(), "{:?}", report.failures);
        assert_eq!(report.custody_head, Some(done.head));
        let err = crate::verify_path_with(&p, Some(&id_a), &VerifyOptions::default()).unwrap_err();
        assert!(
            matches!(
                &err,
                crate::DiskError::Decrypt {
                    source: forensic_crypt::CryptError::NoMatchingIdentity,
                    ..
                }
            ),
            "{err}"
        );
        // --reencrypt-to on a bundle in clear is refused.
        let plain = dir.path().join("plain.zip");
        write_bundle(&plain);
        let err = append_entry(&plain, &note, &opts).unwrap_err();
        assert!(err.to_string().contains("in clear"), "{err}");
    }
}
