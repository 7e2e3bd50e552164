//! Writing one listed file as a bundle member.

use crate::SealError;
use crate::content::{self, Counting};
use crate::plan::Planned;
use forensic_bundle::limits::Limits;
use forensic_bundle::manifest::{FileKind, RawPath, Source};
use forensic_bundle::verify::Progress;
use forensic_bundle::writer::{BundleWriter, Compression, MemberSpec, WriteError};
use forensic_disk::clock::Clock;
use std::io::{self, Read, Seek, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// What became of one planned member.
pub(crate) enum Outcome {
    /// Written, with `bytes` of content; `note` is a gap reason to record beside it.
    Written { bytes: u64, note: Option<String> },
    /// Not written: a gap with this reason.
    Gap(String),
}

/// A failure writing one member: reading the evidence, or writing the bundle.
pub(crate) enum MemberError {
    /// Already a complete error.
    Seal(SealError),
    /// The bundle writer failed; the caller adds the bundle's path.
    Write(WriteError),
}

impl MemberError {
    /// The complete error, naming `dest` for a writer failure.
    pub fn at(self, dest: &Path) -> SealError {
        match self {
            MemberError::Seal(e) => e,
            MemberError::Write(e) => write_err(dest)(e),
        }
    }
}

impl From<SealError> for MemberError {
    fn from(e: SealError) -> Self {
        MemberError::Seal(e)
    }
}

/// Wraps a writer failure with the bundle's path.
pub(crate) fn write_err(dest: &Path) -> impl Fn(WriteError) -> SealError + '_ {
    move |source| SealError::Write {
        path: dest.to_path_buf(),
        source,
    }
}

/// Writes the regular file or symlink `m` into the open section, or says why it is a gap.
pub(crate) fn write_member<W: Write + Seek>(
    w: &mut BundleWriter<W>,
    m: &Planned<'_>,
    clock: &Clock,
    progress: Option<&Progress>,
) -> Result<Outcome, MemberError> {
    if m.found.lstat.file_type().is_symlink() {
        return write_symlink(w, m, clock);
    }
    let path = &m.found.abs;
    let captured = clock.now();
    let file = match content::open_evidence(path) {
        Ok(f) => f,
        Err(e) => return Ok(Outcome::Gap(content::open_failure(&e))),
    };
    let fstat = file.metadata().map_err(|e| SealError::io(path, e))?;
    if !content::same_file(&fstat, &m.found.lstat) {
        return Ok(Outcome::Gap(
            "replaced by another file after it was listed: not read".into(),
        ));
    }
    let size = fstat.len();
    let max = Limits::default().max_member_size;
    if size > max {
        return Ok(Outcome::Gap(format!(
            "{size} bytes: larger than the {max} bytes a bundle member may hold (SPEC §10)"
        )));
    }
    let meta = forensic_disk::meta::from_metadata(&fstat, None, forensic_disk::meta::file_xattrs(&file))
        .map_err(|e| SealError::io(path, e))?;
    let (head, compression) = match content::sample(&file, size) {
        Ok(s) => s,
        Err(e) => return Ok(Outcome::Gap(format!("could not be read: {e}"))),
    };
    // BundleWriter takes `truncated` before the content, so growth is checked here; growth
    // while streaming is recorded as a gap after the member.
    let truncated = content::longer_than(&file, size).map_err(|e| SealError::Read {
        path: path.clone(),
        source: e,
    })?;
    let rest = size.saturating_sub(head.len() as u64);
    let spec = MemberSpec {
        name: m.name.clone(),
        source: Source::path(RawPath::from_bytes(path.as_os_str().as_bytes())),
        captured,
        meta: Some(meta),
        truncated,
        compression,
        size_hint: Some(size),
        max_len: None,
    };
    let mut reader = Counting::new(io::Cursor::new(head).chain((&file).take(rest)), progress);
    let bytes = match w.add_member(spec, &mut reader) {
        Ok(member) => member.size,
        Err(e) => {
            return Err(match reader.error.take() {
                Some(source) => MemberError::Seal(SealError::Read {
                    path: path.clone(),
                    source,
                }),
                None => MemberError::Write(e),
            });
        }
    };
    let note = if bytes < size {
        Some(format!(
            "shrank while it was read: the member holds {bytes} of the {size} bytes it had when opened"
        ))
    } else if !truncated && content::longer_than(&file, size).unwrap_or(false) {
        Some(format!(
            "grew while it was read: the member holds the first {size} bytes (its size when opened)"
        ))
    } else {
        None
    };
    Ok(Outcome::Written { bytes, note })
}

/// A symlink: an empty member whose metadata records the target; the target is never opened.
fn write_symlink<W: Write + Seek>(
    w: &mut BundleWriter<W>,
    m: &Planned<'_>,
    clock: &Clock,
) -> Result<Outcome, MemberError> {
    let path = &m.found.abs;
    let captured = clock.now();
    let meta = match forensic_disk::meta::file_meta(path) {
        Ok(meta) if meta.kind == FileKind::Symlink => meta,
        Ok(_) => {
            return Ok(Outcome::Gap(
                "replaced by another file after it was listed: not read".into(),
            ));
        }
        Err(e) => return Ok(Outcome::Gap(content::open_failure(&e))),
    };
    let spec = MemberSpec {
        name: m.name.clone(),
        source: Source::path(RawPath::from_bytes(path.as_os_str().as_bytes())),
        captured,
        meta: Some(meta),
        truncated: false,
        compression: Compression::Stored,
        size_hint: Some(0),
        max_len: None,
    };
    w.add_member(spec, io::empty()).map_err(MemberError::Write)?;
    Ok(Outcome::Written { bytes: 0, note: None })
}
