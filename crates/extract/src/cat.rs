//! `cat`: one member to a writer, after checking it against the sealed manifest.

use crate::ExtractError;
use forensic_bundle::digest::{Digest, HashingWriter, copy};
use forensic_bundle::limits::Limits;
use forensic_bundle::verify::OpenReader;
use forensic_bundle::zipread::{self, MemberReader};
use forensic_bundle::{MANIFEST, METADATA_NAMES};
use forensic_disk::gate::Opened;
use std::io::{self, Write};

/// Streams the member `name` of `bundle` to `out` and returns its length.
///
/// `bundle` has passed the gate (at least [`forensic_disk::gate::Depth::Structure`]: structure,
/// manifest, `SHA256SUMS` and custody log verified, without hashing every member); the member is
/// read once to check its size and SHA-256
/// against the manifest, and only if they match is it read again into `out`, hashed again on the
/// way. Metadata members (`mimetype`, `manifest.cbor`, `SHA256SUMS`, `custody.cbor`) are checked
/// by the verification itself.
///
/// # Errors
/// [`ExtractError::NoSuchMember`]; [`ExtractError::DigestMismatch`] (nothing written) when the
/// member differs from the manifest; [`ExtractError::Damaged`] (nothing written) when its stored
/// bytes cannot be read back intact (CRC-32, length, deflate stream); [`ExtractError::Changed`]
/// when it changed during the second read; I/O errors (a broken pipe on `out` among them).
pub fn cat_member<W: Write>(opened: &Opened, name: &str, limits: &Limits, out: &mut W) -> Result<u64, ExtractError> {
    let bundle = opened.file();
    let report = opened.report();
    let path = bundle.path().to_path_buf();
    let mut r = bundle.open().map_err(|e| ExtractError::io(&path, e))?;
    let index =
        zipread::read_index(&mut r, limits).map_err(|e| ExtractError::io(&path, io::Error::other(e.to_string())))?;
    let entry = index
        .entries
        .iter()
        .find(|e| e.name == name)
        .ok_or_else(|| ExtractError::NoSuchMember(name.to_string()))?;
    let read = |out: &mut dyn Write| -> io::Result<(u64, Digest)> {
        let mut reader = MemberReader::new(bundle.open()?, entry)?;
        let mut w = HashingWriter::new(out);
        copy(&mut reader, &mut w)?;
        let (_, len, d) = w.finish();
        Ok((len, d))
    };
    let expected = match report
        .manifest
        .as_ref()
        .and_then(|m| m.members.iter().find(|m| m.name == name))
    {
        Some(m) => Some((m.size, m.sha256)),
        None if name == MANIFEST => report.manifest_digest.map(|d| (entry.size, d)),
        None if METADATA_NAMES.contains(&name) => None,
        None => return Err(ExtractError::NoSuchMember(name.to_string())),
    };
    if let Some((size, sha256)) = expected {
        let found = read(&mut io::sink()).map_err(|e| damaged(name, &path, e))?;
        if found != (size, sha256) {
            return Err(ExtractError::DigestMismatch {
                member: name.to_string(),
                message: format!(
                    "content is {} bytes with SHA-256 {}; the manifest says {size} bytes with SHA-256 {sha256}",
                    found.0, found.1
                ),
            });
        }
    }
    let (len, d) = read(out).map_err(|e| match e.kind() {
        io::ErrorKind::InvalidData => ExtractError::Changed {
            member: name.to_string(),
            message: format!("the second read failed: {e}"),
        },
        _ => ExtractError::io(&path, e),
    })?;
    out.flush().map_err(|e| ExtractError::io(&path, e))?;
    if let Some((size, sha256)) = expected
        && (len, d) != (size, sha256)
    {
        return Err(ExtractError::Changed {
            member: name.to_string(),
            message: format!("the second read gave {len} bytes with SHA-256 {d}"),
        });
    }
    Ok(len)
}

/// A read error of the member's content: [`ExtractError::Damaged`] when the archive's own checks
/// failed ([`MemberReader`] reports those as [`io::ErrorKind::InvalidData`]), else an I/O error.
fn damaged(name: &str, path: &std::path::Path, e: io::Error) -> ExtractError {
    if e.kind() == io::ErrorKind::InvalidData {
        ExtractError::Damaged {
            member: name.to_string(),
            message: format!("its stored bytes are damaged: {e}"),
        }
    } else {
        ExtractError::io(path, e)
    }
}
