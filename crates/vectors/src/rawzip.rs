//! Byte-level edits of a ZIP file (no Zip64), for the vectors whose point is a broken container
//! or broken member data: header fields, inserted bytes with offsets fixed up, duplicated
//! central directory entries.

use crate::Error;

const SIG_CENTRAL: u32 = 0x0201_4b50;
const SIG_EOCD: u32 = 0x0605_4b50;

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
    let l = layout(zip)?;
    let m = l.member(name)?;
    let mut out = zip.to_vec();
    for at in [m.local + 6, m.central + 8] {
        let flags = get_u16(&out, at)?;
        set_u16(&mut out, at, flags | 1 << bit)?;
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
    let l = layout(zip)?;
    let shift = |v: u32| -> Result<u32, Error> {
        if to_usize(v)? >= at {
            to_u32(to_usize(v)? + data.len())
        } else {
            Ok(v)
        }
    };
    let mut out = zip
        .get(..at)
        .ok_or_else(|| Error::new("insertion point past the end"))?
        .to_vec();
    out.extend_from_slice(data);
    out.extend_from_slice(zip.get(at..).unwrap_or_default());
    let moved = |pos: usize| if pos >= at { pos + data.len() } else { pos };
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
