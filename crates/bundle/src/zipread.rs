//! A strict reader for the ZIP profile of SPEC §2.1.
//!
//! General ZIP readers (including the `zip` crate and Python's `zipfile`) are lenient: they accept
//! prepended data, gaps, overlapping members and duplicate names. A verifier must not, so this
//! module parses the end records and the central directory itself, checks that local records tile
//! the file, and streams member content through CRC-32 and length checks.

use crate::limits::Limits;
use crate::name;
use std::io::{self, Read, Seek, SeekFrom};

const SIG_LOCAL: u32 = 0x0403_4b50;
const SIG_CENTRAL: u32 = 0x0201_4b50;
const SIG_EOCD: u32 = 0x0605_4b50;
const SIG_ZIP64_EOCD: u32 = 0x0606_4b50;
const SIG_ZIP64_LOCATOR: u32 = 0x0706_4b50;
const FORBIDDEN_FLAGS: u16 = 1 | 1 << 3 | 1 << 5 | 1 << 6;

/// Compression methods of SPEC §2.1 item 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// 0: stored.
    Stored,
    /// 8: deflate.
    Deflate,
}

/// One member as the central directory describes it, after the checks of SPEC §2.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipEntry {
    /// The member name (valid per SPEC §3).
    pub name: String,
    /// Compression method.
    pub method: Method,
    /// Declared CRC-32 of the content.
    pub crc32: u32,
    /// Stored (compressed) length.
    pub compressed_size: u64,
    /// Declared content length.
    pub size: u64,
    /// Offset of the local header.
    pub header_offset: u64,
    /// Offset of the member's data.
    pub data_offset: u64,
}

/// A parsed archive: its entries in central directory order.
#[derive(Debug, Clone)]
pub struct ZipIndex {
    /// Members in order.
    pub entries: Vec<ZipEntry>,
    /// Offset of the central directory.
    pub cd_offset: u64,
    /// Length of the central directory in bytes.
    pub cd_size: u64,
}

/// Why a file is not a ZIP of SPEC §2.1's profile.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContainerError {
    /// A structural violation, with the byte offset where it was found.
    #[error("{0}")]
    Malformed(String),
    /// A reader limit (SPEC §10).
    #[error("{0}")]
    Limit(String),
    /// Reading the file failed.
    #[error("reading the bundle: {0}")]
    Io(#[from] io::Error),
}

fn malformed<T>(msg: impl Into<String>) -> Result<T, ContainerError> {
    Err(ContainerError::Malformed(msg.into()))
}

/// The little-endian integer of `N` bytes at `at` in a record; a record too short for it is
/// [`ContainerError::Malformed`], never a silent 0.
fn le<const N: usize>(b: &[u8], at: usize) -> Result<[u8; N], ContainerError> {
    b.get(at..at.saturating_add(N))
        .and_then(|s| <[u8; N]>::try_from(s).ok())
        .ok_or_else(|| {
            ContainerError::Malformed(format!(
                "a {}-byte record has no {N}-byte field at offset {at}",
                b.len()
            ))
        })
}

fn u16_at(b: &[u8], at: usize) -> Result<u16, ContainerError> {
    le::<2>(b, at).map(u16::from_le_bytes)
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, ContainerError> {
    le::<4>(b, at).map(u32::from_le_bytes)
}

fn u64_at(b: &[u8], at: usize) -> Result<u64, ContainerError> {
    le::<8>(b, at).map(u64::from_le_bytes)
}

fn read_at<R: Read + Seek>(
    r: &mut R,
    at: u64,
    len: usize,
    file_len: u64,
    what: &str,
) -> Result<Vec<u8>, ContainerError> {
    if at.checked_add(len as u64).is_none_or(|end| end > file_len) {
        return malformed(format!(
            "{what} at byte {at} runs past the end of the file ({file_len} bytes): truncated?"
        ));
    }
    r.seek(SeekFrom::Start(at))?;
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf)?;
    Ok(buf)
}

/// Where the central directory is and how many entries it has.
struct EndRecord {
    entries: u64,
    cd_offset: u64,
    cd_size: u64,
    /// Where the central directory must end: the Zip64 EOCD record, or the EOCD.
    cd_end: u64,
}

fn read_end_record<R: Read + Seek>(r: &mut R, file_len: u64) -> Result<EndRecord, ContainerError> {
    if file_len < 22 {
        return malformed(format!("the file is {file_len} bytes long: too short to be a ZIP file"));
    }
    let eocd_at = file_len - 22;
    let e = read_at(r, eocd_at, 22, file_len, "end of central directory record")?;
    if u32_at(&e, 0)? != SIG_EOCD {
        return malformed(format!(
            "no end of central directory record in the last 22 bytes (byte {eocd_at}): not a ZIP file, truncated, or data or a comment was appended"
        ));
    }
    if u16_at(&e, 20)? != 0 {
        return malformed("the archive has a comment (SPEC §2.1: nothing appended)");
    }
    if u16_at(&e, 4)? != 0 || u16_at(&e, 6)? != 0 {
        return malformed("multi-disk archives are not allowed (SPEC §2.1)");
    }
    let (n_disk, n_total) = (u16_at(&e, 8)?, u16_at(&e, 10)?);
    let (cd_size, cd_offset) = (u32_at(&e, 12)?, u32_at(&e, 16)?);
    let saturated = n_disk == 0xffff || n_total == 0xffff || cd_size == u32::MAX || cd_offset == u32::MAX;
    let locator = if eocd_at >= 20 {
        Some(read_at(r, eocd_at - 20, 20, file_len, "Zip64 locator")?)
    } else {
        None
    };
    let locator = match locator {
        Some(l) if u32_at(&l, 0)? == SIG_ZIP64_LOCATOR => Some(l),
        _ => None,
    };
    match locator {
        Some(l) => {
            if u32_at(&l, 4)? != 0 || u32_at(&l, 16)? > 1 {
                return malformed("multi-disk Zip64 archives are not allowed (SPEC §2.1)");
            }
            let rec_at = u64_at(&l, 8)?;
            let z = read_at(r, rec_at, 56, file_len, "Zip64 end of central directory record")?;
            if u32_at(&z, 0)? != SIG_ZIP64_EOCD {
                return malformed(format!(
                    "the Zip64 locator points to byte {rec_at}, where there is no Zip64 end record"
                ));
            }
            if u64_at(&z, 4)? != 44 || rec_at.checked_add(56) != Some(eocd_at - 20) {
                return malformed(format!(
                    "the Zip64 end record at byte {rec_at} is not 56 bytes ending where its locator begins (SPEC §2.1)"
                ));
            }
            if u32_at(&z, 16)? != 0 || u32_at(&z, 20)? != 0 || u64_at(&z, 24)? != u64_at(&z, 32)? {
                return malformed("multi-disk Zip64 archives are not allowed (SPEC §2.1)");
            }
            let (entries, cd_size64, cd_offset64) = (u64_at(&z, 32)?, u64_at(&z, 40)?, u64_at(&z, 48)?);
            let agrees = |small: u64, sat: u64, big: u64| small == sat || small == big;
            if !(agrees(u64::from(n_disk), 0xffff, entries)
                && agrees(u64::from(n_total), 0xffff, entries)
                && agrees(u64::from(cd_size), 0xffff_ffff, cd_size64)
                && agrees(u64::from(cd_offset), 0xffff_ffff, cd_offset64))
            {
                return malformed("the end record and the Zip64 end record disagree");
            }
            Ok(EndRecord {
                entries,
                cd_size: cd_size64,
                cd_offset: cd_offset64,
                cd_end: rec_at,
            })
        }
        None => {
            if saturated {
                return malformed("the end record has Zip64 markers but no Zip64 locator precedes it");
            }
            if n_disk != n_total {
                return malformed("multi-disk archives are not allowed (SPEC §2.1)");
            }
            Ok(EndRecord {
                entries: u64::from(n_total),
                cd_size: u64::from(cd_size),
                cd_offset: u64::from(cd_offset),
                cd_end: eocd_at,
            })
        }
    }
}

/// Values that may be replaced by a Zip64 extra field.
struct Sizes {
    size: u64,
    compressed: u64,
    offset: u64,
}

/// Applies the Zip64 extended information extra field (id 1) per APPNOTE 4.5.3. The extra area
/// must be a sequence of (id, length, data) blocks filling it exactly, with at most one Zip64 block.
fn apply_zip64(extra: &[u8], s: &mut Sizes, with_offset: bool, what: &str) -> Result<(), ContainerError> {
    let mut i = 0usize;
    let mut zip64: Option<&[u8]> = None;
    while i < extra.len() {
        if extra.len() - i < 4 {
            return malformed(format!("{what}: an extra field runs past the end of the extra area"));
        }
        let (id, len) = (u16_at(extra, i)?, usize::from(u16_at(extra, i + 2)?));
        let body = match extra.get(i + 4..i + 4 + len) {
            Some(b) if i + 4 <= extra.len() => b,
            _ => return malformed(format!("{what}: an extra field runs past the end of the extra area")),
        };
        if id == 1 {
            if zip64.is_some() {
                return malformed(format!("{what}: two Zip64 extra fields"));
            }
            zip64 = Some(body);
        }
        i += 4 + len;
    }
    let body = zip64.unwrap_or_default();
    let mut at = 0usize;
    let mut take = |v: &mut u64| -> Result<(), ContainerError> {
        if *v == u64::from(u32::MAX) {
            if body.get(at..at + 8).is_none() {
                return malformed(format!(
                    "{what}: a Zip64 marker without a (long enough) Zip64 extra field"
                ));
            }
            *v = u64_at(body, at)?;
            at += 8;
        }
        Ok(())
    };
    take(&mut s.size)?;
    take(&mut s.compressed)?;
    if with_offset {
        take(&mut s.offset)?;
    }
    Ok(())
}

/// Parses and checks the archive structure (SPEC §2.1 items 1–8 and the archive limits of §10).
///
/// # Errors
/// [`ContainerError::Malformed`] or [`ContainerError::Limit`] naming the member or byte offset;
/// [`ContainerError::Io`] only when the underlying reader fails.
pub fn read_index<R: Read + Seek>(r: &mut R, limits: &Limits) -> Result<ZipIndex, ContainerError> {
    read_index_with(r, limits, None)
}

/// Reads what can be read of an archive that [`read_index`] refuses, for salvage (`extract
/// --force`): the end records and the member-count limit must hold, but a central directory entry
/// or local header that breaks SPEC §2.1 or §3 (a bad or duplicate name, a forbidden flag or
/// method, a local header that disagrees), or a member over a size limit of §10, is left out and
/// described in the returned list instead; gaps and overlaps between members are tolerated.
///
/// # Security
/// Every entry returned has a valid member name (SPEC §3), a unique name, a local header that
/// agrees with its central directory entry, and declared sizes within the limits, so that it can be
/// read with [`MemberReader`] like an entry of a valid bundle. Nothing else about the archive is
/// vouched for: a bundle read this way did not verify.
///
/// # Errors
/// [`ContainerError`] when not even the end records and the central directory can be walked.
pub fn read_index_salvage<R: Read + Seek>(
    r: &mut R,
    limits: &Limits,
) -> Result<(ZipIndex, Vec<String>), ContainerError> {
    let mut problems = Vec::new();
    let index = read_index_with(r, limits, Some(&mut problems))?;
    Ok((index, problems))
}

/// [`read_index`] when `salvage` is `None`; otherwise entries with problems are left out and
/// their problems pushed to `salvage`.
fn read_index_with<R: Read + Seek>(
    r: &mut R,
    limits: &Limits,
    mut salvage: Option<&mut Vec<String>>,
) -> Result<ZipIndex, ContainerError> {
    let salvaging = salvage.is_some();
    // In salvage mode a problem is recorded and the entry skipped; otherwise it is the verdict.
    let mut problem = |msg: String| -> Result<(), ContainerError> {
        match salvage.as_deref_mut() {
            Some(list) => {
                list.push(msg);
                Ok(())
            }
            None => Err(ContainerError::Malformed(msg)),
        }
    };
    let file_len = r.seek(SeekFrom::End(0))?;
    let end = read_end_record(r, file_len)?;
    if end.entries > limits.max_members {
        return Err(ContainerError::Limit(format!(
            "the archive declares {} members; at most {} are allowed (SPEC §10)",
            end.entries, limits.max_members
        )));
    }
    if end.cd_offset.checked_add(end.cd_size) != Some(end.cd_end) {
        problem(format!(
            "the central directory (byte {}, {} bytes) does not end where the end record begins (byte {})",
            end.cd_offset, end.cd_size, end.cd_end
        ))?;
    }
    r.seek(SeekFrom::Start(end.cd_offset))?;
    let mut cd = io::BufReader::with_capacity(64 * 1024, (&mut *r).take(end.cd_size));
    let mut raw = Vec::with_capacity(usize::try_from(end.entries).unwrap_or(0).min(65_536));
    let mut names = std::collections::HashSet::new();
    for i in 0..end.entries {
        let mut h = [0u8; 46];
        cd.read_exact(&mut h)
            .map_err(|_| ContainerError::Malformed(format!("central directory entry {i} is truncated")))?;
        if u32_at(&h, 0)? != SIG_CENTRAL {
            return malformed(format!("central directory entry {i} has a bad signature"));
        }
        let (name_len, extra_len, comment_len) = (
            usize::from(u16_at(&h, 28)?),
            usize::from(u16_at(&h, 30)?),
            usize::from(u16_at(&h, 32)?),
        );
        let mut name_bytes = vec![0u8; name_len];
        let mut extra = vec![0u8; extra_len];
        let mut comment = vec![0u8; comment_len];
        let trunc = |_| ContainerError::Malformed(format!("central directory entry {i} is truncated"));
        if name_len > name::MAX_NAME_LEN && !salvaging {
            return malformed(format!(
                "central directory entry {i}: the name is {name_len} bytes; at most 1024 are allowed"
            ));
        }
        cd.read_exact(&mut name_bytes).map_err(trunc)?;
        cd.read_exact(&mut extra).map_err(trunc)?;
        cd.read_exact(&mut comment).map_err(trunc)?;
        match central_entry(i, &h, name_bytes, &extra, comment_len, &names) {
            Ok(entry) => {
                names.insert(entry.name.clone());
                raw.push(entry);
            }
            Err(e) => problem(e.to_string())?,
        }
    }
    let mut rest = [0u8; 1];
    if cd.read(&mut rest)? != 0 {
        problem("the central directory has bytes after its last entry".to_string())?;
    }
    drop(cd);
    let mut entries = Vec::with_capacity(raw.len());
    let mut expected = 0u64;
    for mut e in raw {
        // Salvage tolerates gaps and overlaps: each member is judged at its own offset.
        let at = if salvaging { e.header_offset } else { expected };
        match check_local(r, &mut e, at, file_len) {
            Ok(()) => {}
            Err(ContainerError::Malformed(msg)) if salvaging => {
                problem(msg)?;
                continue;
            }
            Err(err) => return Err(err),
        }
        expected = e
            .data_offset
            .checked_add(e.compressed_size)
            .ok_or_else(|| ContainerError::Malformed(format!("member {:?}: sizes overflow", e.name)))?;
        entries.push(e);
    }
    match salvage {
        None => {
            if expected != end.cd_offset {
                return malformed(format!(
                    "{} bytes of unlisted data lie between the last member and the central directory (byte {expected} to {})",
                    end.cd_offset.saturating_sub(expected),
                    end.cd_offset
                ));
            }
            check_sizes(&entries, limits)?;
        }
        Some(list) => {
            entries.retain(|e| match check_sizes(std::slice::from_ref(e), limits) {
                Ok(()) => true,
                Err(err) => {
                    list.push(err.to_string());
                    false
                }
            });
            let mut total = 0u64;
            entries.retain(|e| {
                total = total.saturating_add(e.size);
                let keep = total <= limits.max_total_size;
                if !keep {
                    list.push(format!(
                        "member {:?} left out: the members declare more than {} bytes in all (SPEC §10)",
                        e.name, limits.max_total_size
                    ));
                }
                keep
            });
        }
    }
    Ok(ZipIndex {
        entries,
        cd_offset: end.cd_offset,
        cd_size: end.cd_size,
    })
}

/// Checks one central directory entry (SPEC §2.1 items 4–8, §3) whose fixed header is `h`;
/// `names` are the names of the entries accepted before it. Returns the entry, or what is wrong.
fn central_entry(
    i: u64,
    h: &[u8; 46],
    name_bytes: Vec<u8>,
    extra: &[u8],
    comment_len: usize,
    names: &std::collections::HashSet<String>,
) -> Result<ZipEntry, ContainerError> {
    if name_bytes.len() > name::MAX_NAME_LEN {
        return malformed(format!(
            "central directory entry {i}: the name is {} bytes; at most 1024 are allowed",
            name_bytes.len()
        ));
    }
    let name = String::from_utf8(name_bytes)
        .map_err(|_| ContainerError::Malformed(format!("central directory entry {i}: the name is not UTF-8")))?;
    let what = format!("member {name:?}");
    name::validate(&name).map_err(|e| ContainerError::Malformed(format!("{what}: bad member name: {e}")))?;
    if names.contains(&name) {
        return malformed(format!("{what} appears twice in the central directory"));
    }
    if comment_len != 0 {
        return malformed(format!("{what} has a file comment (SPEC §2.1)"));
    }
    let flags = u16_at(h, 8)?;
    if flags & FORBIDDEN_FLAGS != 0 {
        return malformed(format!(
            "{what}: general-purpose flags {flags:#06x} (encryption, data descriptor or patch data) are not allowed"
        ));
    }
    let method = match u16_at(h, 10)? {
        0 => Method::Stored,
        8 => Method::Deflate,
        m => return malformed(format!("{what}: compression method {m} is not allowed (only 0 and 8)")),
    };
    let mut s = Sizes {
        size: u64::from(u32_at(h, 24)?),
        compressed: u64::from(u32_at(h, 20)?),
        offset: u64::from(u32_at(h, 42)?),
    };
    apply_zip64(extra, &mut s, true, &what)?;
    if method == Method::Stored && s.size != s.compressed {
        return malformed(format!(
            "{what}: stored, but its compressed ({}) and uncompressed ({}) sizes differ",
            s.compressed, s.size
        ));
    }
    if u16_at(h, 34)? != 0 {
        return malformed(format!("{what}: starts on another disk"));
    }
    Ok(ZipEntry {
        name,
        method,
        crc32: u32_at(h, 16)?,
        compressed_size: s.compressed,
        size: s.size,
        header_offset: s.offset,
        data_offset: 0,
    })
}

fn check_sizes(entries: &[ZipEntry], limits: &Limits) -> Result<(), ContainerError> {
    let mut total = 0u64;
    for e in entries {
        if e.size > limits.max_member_size {
            return Err(ContainerError::Limit(format!(
                "member {:?} declares {} bytes; at most {} are allowed (SPEC §10)",
                e.name, e.size, limits.max_member_size
            )));
        }
        total = total.saturating_add(e.size);
        if total > limits.max_total_size {
            return Err(ContainerError::Limit(format!(
                "the members declare more than {} bytes in all (SPEC §10)",
                limits.max_total_size
            )));
        }
        let bound = e
            .compressed_size
            .saturating_mul(limits.max_deflate_ratio)
            .saturating_add(limits.deflate_slack);
        if e.method == Method::Deflate && e.size > bound {
            return Err(ContainerError::Limit(format!(
                "member {:?} declares {} bytes from {} compressed: a compression ratio beyond SPEC §10's limit (zip bomb?)",
                e.name, e.size, e.compressed_size
            )));
        }
    }
    Ok(())
}

fn check_local<R: Read + Seek>(
    r: &mut R,
    e: &mut ZipEntry,
    expected: u64,
    file_len: u64,
) -> Result<(), ContainerError> {
    let what = format!("member {:?}", e.name);
    if e.header_offset != expected {
        return malformed(format!(
            "{what}: its local header is at byte {}, but the previous member ends at byte {expected} (members must follow each other with no gap or overlap)",
            e.header_offset
        ));
    }
    let h = read_at(r, e.header_offset, 30, file_len, &format!("{what}: local header"))?;
    if u32_at(&h, 0)? != SIG_LOCAL {
        return malformed(format!("{what}: no local header at byte {}", e.header_offset));
    }
    let (name_len, extra_len) = (usize::from(u16_at(&h, 26)?), usize::from(u16_at(&h, 28)?));
    let tail = read_at(
        r,
        e.header_offset + 30,
        name_len + extra_len,
        file_len,
        &format!("{what}: local header"),
    )?;
    let (lname, lextra) = tail.split_at(name_len);
    if lname != e.name.as_bytes() {
        return malformed(format!(
            "{what}: the local header names it {:?}",
            String::from_utf8_lossy(lname)
        ));
    }
    if u16_at(&h, 6)? & FORBIDDEN_FLAGS != 0 {
        return malformed(format!("{what}: local header flags are not allowed"));
    }
    let mut s = Sizes {
        size: u64::from(u32_at(&h, 22)?),
        compressed: u64::from(u32_at(&h, 18)?),
        offset: 0,
    };
    apply_zip64(lextra, &mut s, false, &format!("{what} (local header)"))?;
    let method_ok = match e.method {
        Method::Stored => u16_at(&h, 8)? == 0,
        Method::Deflate => u16_at(&h, 8)? == 8,
    };
    if !method_ok || u32_at(&h, 14)? != e.crc32 || s.size != e.size || s.compressed != e.compressed_size {
        return malformed(format!(
            "{what}: the local header disagrees with the central directory (method, CRC-32 or sizes)"
        ));
    }
    e.data_offset = e.header_offset + 30 + (name_len + extra_len) as u64;
    if e.data_offset
        .checked_add(e.compressed_size)
        .is_none_or(|end| end > file_len)
    {
        return malformed(format!("{what}: its data runs past the end of the file: truncated"));
    }
    Ok(())
}

mod member;
pub use member::{MemberReader, read_small};

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};

    fn zip_of(names: &[&str]) -> Vec<u8> {
        let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for n in names {
            let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
            z.start_file(*n, opts).unwrap();
            z.write_all(n.as_bytes()).unwrap();
        }
        z.finish().unwrap().into_inner()
    }

    #[test]
    fn salvage_leaves_out_unsafe_entries_that_the_strict_reader_refuses() {
        let bytes = zip_of(&["mimetype", "../evil", "5-filesystem/ok", "/abs"]);
        let strict = read_index(&mut Cursor::new(&bytes[..]), &Limits::default());
        assert!(matches!(strict, Err(ContainerError::Malformed(m)) if m.contains("../evil")));
        let (index, problems) = read_index_salvage(&mut Cursor::new(&bytes[..]), &Limits::default()).unwrap();
        let names: Vec<&str> = index.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["mimetype", "5-filesystem/ok"]);
        assert_eq!(problems.len(), 2, "{problems:?}");
        let e = &index.entries[1];
        let mut content = Vec::new();
        MemberReader::new(Cursor::new(&bytes[..]), e)
            .unwrap()
            .read_to_end(&mut content)
            .unwrap();
        assert_eq!(content, b"5-filesystem/ok");
        // A file that is not a ZIP at all cannot be salvaged.
        assert!(read_index_salvage(&mut Cursor::new(&b"not a zip"[..]), &Limits::default()).is_err());
    }
}
