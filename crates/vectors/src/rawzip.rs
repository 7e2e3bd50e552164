//! Byte-level edits of a ZIP file, for the vectors whose point is a broken container or broken
//! member data: header fields, inserted or replaced bytes with offsets fixed up, extra fields and
//! comments, duplicated central directory entries, and added Zip64 end records. The input has no
//! Zip64 end records and no saturated local header offsets (Zip64 sizes are fine).

use crate::Error;

const SIG_CENTRAL: u32 = 0x0201_4b50;
const SIG_EOCD: u32 = 0x0605_4b50;
const SIG_ZIP64_EOCD: u32 = 0x0606_4b50;
const SIG_ZIP64_LOCATOR: u32 = 0x0706_4b50;

/// Where one member's records are.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub name: String,
    /// Offset of the local file header.
    pub local: usize,
    /// Offset of the member's data.
    pub data: usize,
    /// Length of the stored data.
    pub data_len: usize,
    /// Offset of the central directory entry.
    pub central: usize,
    /// Length of the central directory entry.
    pub central_len: usize,
}

/// The records of a ZIP file without Zip64 end records.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub members: Vec<Member>,
    /// Offset of the end of central directory record.
    pub eocd: usize,
}

pub(crate) fn get_u16(b: &[u8], at: usize) -> Result<u16, Error> {
    let s = b
        .get(at..at + 2)
        .ok_or_else(|| Error::new(format!("no u16 at byte {at}")))?;
    Ok(u16::from_le_bytes(s.try_into()?))
}

pub(crate) fn get_u32(b: &[u8], at: usize) -> Result<u32, Error> {
    let s = b
        .get(at..at + 4)
        .ok_or_else(|| Error::new(format!("no u32 at byte {at}")))?;
    Ok(u32::from_le_bytes(s.try_into()?))
}

pub(crate) fn set_u16(b: &mut [u8], at: usize, v: u16) -> Result<(), Error> {
    b.get_mut(at..at + 2)
        .ok_or_else(|| Error::new(format!("no u16 at byte {at}")))?
        .copy_from_slice(&v.to_le_bytes());
    Ok(())
}

pub(crate) fn set_u32(b: &mut [u8], at: usize, v: u32) -> Result<(), Error> {
    b.get_mut(at..at + 4)
        .ok_or_else(|| Error::new(format!("no u32 at byte {at}")))?
        .copy_from_slice(&v.to_le_bytes());
    Ok(())
}

fn to_usize(v: u32) -> Result<usize, Error> {
    usize::try_from(v).map_err(|_| Error::new("offset does not fit usize"))
}

fn to_u32(v: usize) -> Result<u32, Error> {
    u32::try_from(v).map_err(|_| Error::new("offset does not fit 32 bits"))
}

/// Parses the end record and central directory of `zip`.
pub(crate) fn layout(zip: &[u8]) -> Result<Layout, Error> {
    let eocd = zip
        .len()
        .checked_sub(22)
        .ok_or_else(|| Error::new("too short for a ZIP file"))?;
    if get_u32(zip, eocd)? != SIG_EOCD {
        return Err(Error::new("no end of central directory record in the last 22 bytes"));
    }
    let count = get_u16(zip, eocd + 10)?;
    let mut at = to_usize(get_u32(zip, eocd + 16)?)?;
    let mut members = Vec::new();
    for _ in 0..count {
        if get_u32(zip, at)? != SIG_CENTRAL {
            return Err(Error::new(format!("no central directory entry at byte {at}")));
        }
        let name_len = usize::from(get_u16(zip, at + 28)?);
        let len = 46 + name_len + usize::from(get_u16(zip, at + 30)?) + usize::from(get_u16(zip, at + 32)?);
        let name = zip
            .get(at + 46..at + 46 + name_len)
            .ok_or_else(|| Error::new("central directory truncated"))?;
        let local = to_usize(get_u32(zip, at + 42)?)?;
        let local_extra = usize::from(get_u16(zip, local + 26)?) + usize::from(get_u16(zip, local + 28)?);
        members.push(Member {
            name: String::from_utf8_lossy(name).into_owned(),
            local,
            data: local + 30 + local_extra,
            data_len: to_usize(get_u32(zip, at + 20)?)?,
            central: at,
            central_len: len,
        });
        at += len;
    }
    Ok(Layout { members, eocd })
}

impl Layout {
    /// The member `name`.
    pub(crate) fn member(&self, name: &str) -> Result<&Member, Error> {
        self.members
            .iter()
            .find(|m| m.name == name)
            .ok_or_else(|| Error::new(format!("no member {name:?}")))
    }
}

/// Sets general-purpose flag bit `bit` of member `name` in both its local and central headers.
pub(crate) fn set_flag(zip: &[u8], name: &str, bit: u16) -> Result<Vec<u8>, Error> {
    set_flag_in(zip, name, bit, true, true)
}

/// Sets general-purpose flag bit `bit` of member `name` in its local header if `local` and in its
/// central directory entry if `central`.
pub(crate) fn set_flag_in(zip: &[u8], name: &str, bit: u16, local: bool, central: bool) -> Result<Vec<u8>, Error> {
    let l = layout(zip)?;
    let m = l.member(name)?;
    let mut out = zip.to_vec();
    let fields = [(local, m.local + 6), (central, m.central + 8)];
    for (_, at) in fields.into_iter().filter(|(set, _)| *set) {
        let flags = get_u16(&out, at)?;
        set_u16(&mut out, at, flags | 1 << bit)?;
    }
    Ok(out)
}

/// XORs the declared CRC-32 of member `name` with `mask` in both headers, leaving its data alone.
pub(crate) fn flip_crc(zip: &[u8], name: &str, mask: u32) -> Result<Vec<u8>, Error> {
    let l = layout(zip)?;
    let m = l.member(name)?;
    let mut out = zip.to_vec();
    for at in [m.local + 14, m.central + 16] {
        let crc = get_u32(&out, at)?;
        set_u32(&mut out, at, crc ^ mask)?;
    }
    Ok(out)
}

/// Sets the declared uncompressed size of member `name` in both headers.
pub(crate) fn set_size(zip: &[u8], name: &str, size: u32) -> Result<Vec<u8>, Error> {
    let l = layout(zip)?;
    let m = l.member(name)?;
    let mut out = zip.to_vec();
    set_u32(&mut out, m.local + 22, size)?;
    set_u32(&mut out, m.central + 24, size)?;
    Ok(out)
}

/// XORs the byte at `at` with `mask`.
pub(crate) fn flip(zip: &[u8], at: usize, mask: u8) -> Result<Vec<u8>, Error> {
    let mut out = zip.to_vec();
    *out.get_mut(at).ok_or_else(|| Error::new(format!("no byte {at}")))? ^= mask;
    Ok(out)
}

/// Inserts `data` at `at` and shifts every local header offset and the central directory offset
/// that point at or after `at`, so that the archive stays readable by lenient ZIP readers.
pub(crate) fn insert(zip: &[u8], at: usize, data: &[u8]) -> Result<Vec<u8>, Error> {
    splice(zip, at, 0, data)
}

/// Replaces the `remove` bytes at `at` (which lie before the central directory) by `data`, and
/// moves every local header offset and the central directory offset that point at or after the
/// end of the removed bytes, so that the archive stays readable by lenient ZIP readers.
pub(crate) fn splice(zip: &[u8], at: usize, remove: usize, data: &[u8]) -> Result<Vec<u8>, Error> {
    let l = layout(zip)?;
    let end = at + remove;
    let moved = |pos: usize| -> usize { if pos >= end { pos - remove + data.len() } else { pos } };
    let shift = |v: u32| -> Result<u32, Error> { to_u32(moved(to_usize(v)?)) };
    let mut out = zip
        .get(..at)
        .ok_or_else(|| Error::new("edit point past the end"))?
        .to_vec();
    out.extend_from_slice(data);
    out.extend_from_slice(zip.get(end..).ok_or_else(|| Error::new("removed bytes past the end"))?);
    for m in &l.members {
        let field = moved(m.central) + 42;
        let v = shift(get_u32(&out, field)?)?;
        set_u32(&mut out, field, v)?;
    }
    let field = moved(l.eocd) + 16;
    let v = shift(get_u32(&out, field)?)?;
    set_u32(&mut out, field, v)?;
    Ok(out)
}

/// Replaces the extra field area of member `name`'s local header by `extra`, fixing its length
/// and every later offset.
pub(crate) fn set_local_extra(zip: &[u8], name: &str, extra: &[u8]) -> Result<Vec<u8>, Error> {
    let l = layout(zip)?;
    let m = l.member(name)?;
    let name_len = usize::from(get_u16(zip, m.local + 26)?);
    let old_len = usize::from(get_u16(zip, m.local + 28)?);
    let mut out = splice(zip, m.local + 30 + name_len, old_len, extra)?;
    set_u16(
        &mut out,
        m.local + 28,
        u16::try_from(extra.len()).map_err(|_| Error::new("extra area too long"))?,
    )?;
    Ok(out)
}

/// Replaces the extra field area and the file comment of member `name`'s central directory entry
/// (`None`: keep it), fixing their lengths and the end record's central directory size.
pub(crate) fn set_central_extra_comment(
    zip: &[u8],
    name: &str,
    extra: Option<&[u8]>,
    comment: Option<&[u8]>,
) -> Result<Vec<u8>, Error> {
    let l = layout(zip)?;
    let m = l.member(name)?;
    let entry = zip
        .get(m.central..m.central + m.central_len)
        .ok_or_else(|| Error::new("central entry out of range"))?;
    let name_len = usize::from(get_u16(entry, 28)?);
    let extra_len = usize::from(get_u16(entry, 30)?);
    let old_extra = entry.get(46 + name_len..46 + name_len + extra_len).unwrap_or_default();
    let old_comment = entry.get(46 + name_len + extra_len..).unwrap_or_default();
    let (extra, comment) = (extra.unwrap_or(old_extra), comment.unwrap_or(old_comment));
    let len16 = |b: &[u8]| u16::try_from(b.len()).map_err(|_| Error::new("field too long"));
    let mut new = entry.get(..46 + name_len).unwrap_or_default().to_vec();
    set_u16(&mut new, 30, len16(extra)?)?;
    set_u16(&mut new, 32, len16(comment)?)?;
    new.extend_from_slice(extra);
    new.extend_from_slice(comment);
    let mut out = zip.get(..m.central).unwrap_or_default().to_vec();
    out.extend_from_slice(&new);
    out.extend_from_slice(zip.get(m.central + m.central_len..).unwrap_or_default());
    let eocd = l.eocd + new.len() - m.central_len;
    let size = to_usize(get_u32(&out, eocd + 12)?)? + new.len() - m.central_len;
    set_u32(&mut out, eocd + 12, to_u32(size)?)?;
    Ok(out)
}

/// The extra field area of member `name`'s central directory entry.
pub(crate) fn central_extra(zip: &[u8], name: &str) -> Result<Vec<u8>, Error> {
    let m = layout(zip)?.member(name)?.clone();
    let name_len = usize::from(get_u16(zip, m.central + 28)?);
    let start = m.central + 46 + name_len;
    let extra_len = usize::from(get_u16(zip, m.central + 30)?);
    Ok(zip
        .get(start..start + extra_len)
        .ok_or_else(|| Error::new("central entry out of range"))?
        .to_vec())
}

/// Sets the compressed size of member `name` in both headers.
pub(crate) fn set_compressed_size(zip: &[u8], name: &str, size: u32) -> Result<Vec<u8>, Error> {
    let l = layout(zip)?;
    let m = l.member(name)?;
    let mut out = zip.to_vec();
    set_u32(&mut out, m.local + 18, size)?;
    set_u32(&mut out, m.central + 20, size)?;
    Ok(out)
}

/// Sets both entry counts ("on this disk" and "total") of the end record.
pub(crate) fn set_entry_counts(zip: &[u8], n: u16) -> Result<Vec<u8>, Error> {
    let l = layout(zip)?;
    let mut out = zip.to_vec();
    set_u16(&mut out, l.eocd + 8, n)?;
    set_u16(&mut out, l.eocd + 10, n)?;
    Ok(out)
}

/// Inserts a Zip64 end of central directory record (56 bytes, "size of record" 44, version 4.5)
/// and its locator (one disk) between the central directory and the end record, carrying the end
/// record's entry count, central directory size and offset. Each end record field listed in
/// `saturate` (by offset in the end record: 8, 10, 12 or 16) is then set to 0xFFFF / 0xFFFFFFFF.
pub(crate) fn add_zip64_end(zip: &[u8], saturate: &[usize]) -> Result<Vec<u8>, Error> {
    let l = layout(zip)?;
    let e = l.eocd;
    let entries = u64::from(get_u16(zip, e + 10)?);
    let (cd_size, cd_offset) = (u64::from(get_u32(zip, e + 12)?), u64::from(get_u32(zip, e + 16)?));
    let mut rec = SIG_ZIP64_EOCD.to_le_bytes().to_vec();
    rec.extend_from_slice(&44u64.to_le_bytes());
    rec.extend_from_slice(&45u16.to_le_bytes());
    rec.extend_from_slice(&45u16.to_le_bytes());
    rec.extend_from_slice(&[0; 8]);
    for v in [entries, entries, cd_size, cd_offset] {
        rec.extend_from_slice(&v.to_le_bytes());
    }
    rec.extend_from_slice(&SIG_ZIP64_LOCATOR.to_le_bytes());
    rec.extend_from_slice(&0u32.to_le_bytes());
    rec.extend_from_slice(&(e as u64).to_le_bytes());
    rec.extend_from_slice(&1u32.to_le_bytes());
    let mut out = zip.get(..e).unwrap_or_default().to_vec();
    out.extend_from_slice(&rec);
    out.extend_from_slice(zip.get(e..).unwrap_or_default());
    let e = e + rec.len();
    for &at in saturate {
        match at {
            8 | 10 => set_u16(&mut out, e + at, u16::MAX)?,
            12 | 16 => set_u32(&mut out, e + at, u32::MAX)?,
            _ => return Err(Error::new(format!("no saturable end record field at {at}"))),
        }
    }
    Ok(out)
}

/// Overwrites `bytes` at `back` bytes before the end of the file: the end records of a file made by
/// [`add_zip64_end`] are the Zip64 end record (98 bytes before the end), its locator (42) and the
/// end record (22).
pub(crate) fn patch_from_end(zip: &[u8], back: usize, bytes: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = zip.to_vec();
    let at = out
        .len()
        .checked_sub(back)
        .ok_or_else(|| Error::new(format!("the file is shorter than {back} bytes")))?;
    out.get_mut(at..at + bytes.len())
        .ok_or_else(|| Error::new(format!("no {} bytes at {back} before the end", bytes.len())))?
        .copy_from_slice(bytes);
    Ok(out)
}

/// Repeats the central directory entry of member `name` right after itself and updates the end
/// record's counts and central directory size.
pub(crate) fn duplicate_central(zip: &[u8], name: &str) -> Result<Vec<u8>, Error> {
    let l = layout(zip)?;
    let m = l.member(name)?;
    let end = m.central + m.central_len;
    let entry = zip
        .get(m.central..end)
        .ok_or_else(|| Error::new("central entry out of range"))?;
    let mut out = zip.get(..end).unwrap_or_default().to_vec();
    out.extend_from_slice(entry);
    out.extend_from_slice(zip.get(end..).unwrap_or_default());
    let eocd = l.eocd + m.central_len;
    for at in [eocd + 8, eocd + 10] {
        let n = get_u16(&out, at)?;
        set_u16(&mut out, at, n + 1)?;
    }
    let size = get_u32(&out, eocd + 12)?;
    set_u32(&mut out, eocd + 12, size + to_u32(m.central_len)?)?;
    Ok(out)
}

/// Gives the archive the comment `comment`.
pub(crate) fn comment(zip: &[u8], comment: &[u8]) -> Result<Vec<u8>, Error> {
    let l = layout(zip)?;
    let mut out = zip.to_vec();
    set_u16(
        &mut out,
        l.eocd + 20,
        u16::try_from(comment.len()).map_err(|_| Error::new("comment too long"))?,
    )?;
    out.extend_from_slice(comment);
    Ok(out)
}
