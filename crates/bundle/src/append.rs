//! Appending a custody entry by rewriting only the tail of a bundle (SPEC §2.3, §9.3).
//!
//! `custody.cbor` is the last member (SPEC §2.3) and members tile the file (§2.1 item 3), so every
//! byte before its local header — the marker, every evidence member, the manifest and
//! `SHA256SUMS`, local headers included — is copied verbatim. Then come a new `custody.cbor`
//! (stored) whose content is the old log followed by the new entry, the central directory (every
//! entry but the last copied verbatim: their offsets do not change) and the end records.

use crate::digest::copy;
use crate::limits::Limits;
use crate::zipread::{self, ZipIndex};
use crate::{CUSTODY, custody};
use std::io::{self, Read, Seek, SeekFrom, Write};

const SIG_LOCAL: u32 = 0x0403_4b50;
const SIG_CENTRAL: u32 = 0x0201_4b50;
const SIG_EOCD: u32 = 0x0605_4b50;
const SIG_ZIP64_EOCD: u32 = 0x0606_4b50;
const SIG_ZIP64_LOCATOR: u32 = 0x0706_4b50;
/// Flag bit 11: names are UTF-8. The only flag bit carried over (SPEC §2.1 item 4).
const FLAG_UTF8: u16 = 1 << 11;

/// Why an entry could not be appended.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppendError {
    /// Reading the old bundle or writing the new one failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The bundle is not one an entry can be appended to.
    #[error("{0}")]
    NotABundle(String),
    /// The old log and the new entry would pass a limit of SPEC §10.
    #[error("{0}")]
    Limit(String),
}

/// Writes to `out` the bundle read from `src` (whose structure `index` describes, as
/// [`zipread::read_index`] returned it) with `entry` — one complete custody entry, as
/// [`custody::sign`] makes it — appended to its custody log. Returns the new log.
///
/// # Guarantees
/// The bytes of `out` before the new `custody.cbor` local header are exactly the bytes of `src`
/// before the old one, and the new log begins with the old log's exact bytes; the result follows
/// SPEC §2.1 (Zip64 end records are written when a count, size or offset needs them).
///
/// # Errors
/// [`AppendError::NotABundle`] when `custody.cbor` is not the last member or cannot be read;
/// [`AppendError::Limit`] when the new log would be over SPEC §10's limits; I/O errors.
pub fn append_entry<R: Read + Seek, W: Write>(
    src: &mut R,
    index: &ZipIndex,
    entry: &[u8],
    limits: &Limits,
    out: &mut W,
) -> Result<Vec<u8>, AppendError> {
    let last = index
        .entries
        .last()
        .filter(|e| e.name == CUSTODY)
        .ok_or_else(|| AppendError::NotABundle("custody.cbor is not the last member (SPEC §2.3)".into()))?;
    let mut log = zipread::read_small(&mut *src, last, limits.max_custody)
        .map_err(|e| AppendError::NotABundle(format!("custody.cbor cannot be read: {e}")))?;
    // The old log must split, so that the new entry starts where an item boundary is.
    custody::split(&log, limits).map_err(|e| AppendError::NotABundle(e.to_string()))?;
    log.extend_from_slice(entry);
    let new_len = log.len() as u64;
    if new_len > limits.max_custody {
        return Err(AppendError::Limit(format!(
            "the custody log would be {new_len} bytes; at most {} are allowed (SPEC §10)",
            limits.max_custody
        )));
    }
    custody::split(&log, limits).map_err(|e| AppendError::Limit(e.to_string()))?;
    // Everything before custody.cbor's local header, verbatim.
    src.seek(SeekFrom::Start(0))?;
    copy(&mut (&mut *src).take(last.header_offset), out)?;
    let old_local = read_exact_at(src, last.header_offset, 30)?;
    let (cd_prefix, old_central) = central_prefix(src, index)?;
    let crc = crc32fast::hash(&log);
    let name = CUSTODY.as_bytes();
    out.write_all(&local_header(&old_local, crc, new_len, name))?;
    out.write_all(name)?;
    out.write_all(&log)?;
    // The central directory: every entry but custody.cbor's verbatim, then a new one.
    let cd_offset = last.header_offset + 30 + name.len() as u64 + new_len;
    src.seek(SeekFrom::Start(index.cd_offset))?;
    copy(&mut (&mut *src).take(cd_prefix), out)?;
    let central = central_header(&old_central, crc, new_len, last.header_offset, name);
    out.write_all(&central)?;
    let cd_size = cd_prefix + central.len() as u64;
    out.write_all(&end_records(index.entries.len() as u64, cd_offset, cd_size))?;
    out.flush()?;
    Ok(log)
}

fn read_exact_at<R: Read + Seek>(r: &mut R, at: u64, len: usize) -> io::Result<Vec<u8>> {
    r.seek(SeekFrom::Start(at))?;
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf)?;
    Ok(buf)
}

fn le16(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .and_then(|s| <[u8; 2]>::try_from(s).ok())
        .map_or(0, u16::from_le_bytes)
}

/// The length of the central directory before its last entry, and that entry's 46 fixed bytes.
fn central_prefix<R: Read + Seek>(src: &mut R, index: &ZipIndex) -> Result<(u64, Vec<u8>), AppendError> {
    src.seek(SeekFrom::Start(index.cd_offset))?;
    let mut cd = io::BufReader::with_capacity(64 * 1024, (&mut *src).take(index.cd_size));
    let mut at = 0u64;
    let mut fixed = vec![0u8; 46];
    for _ in &index.entries {
        cd.read_exact(&mut fixed)?;
        let len = 46 + u64::from(le16(&fixed, 28)) + u64::from(le16(&fixed, 30)) + u64::from(le16(&fixed, 32));
        io::copy(&mut (&mut cd).take(len - 46), &mut io::sink())?;
        at += len;
    }
    let prefix = at - (46 + u64::from(le16(&fixed, 28)) + u64::from(le16(&fixed, 30)) + u64::from(le16(&fixed, 32)));
    Ok((prefix, fixed))
}

/// A stored member's local header (without its name): version needed, the UTF-8 flag and the DOS
/// time and date are taken from the old header; no extra field (the sizes fit 32 bits).
fn local_header(old: &[u8], crc: u32, len: u64, name: &[u8]) -> Vec<u8> {
    let mut h = Vec::with_capacity(30);
    h.extend_from_slice(&SIG_LOCAL.to_le_bytes());
    h.extend_from_slice(old.get(4..6).unwrap_or(&[20, 0]));
    h.extend_from_slice(&(le16(old, 6) & FLAG_UTF8).to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes());
    h.extend_from_slice(old.get(10..14).unwrap_or(&[0; 4]));
    h.extend_from_slice(&crc.to_le_bytes());
    // SPEC §10 bounds the log to 4 MiB: the sizes fit 32 bits.
    let len32 = u32::try_from(len).unwrap_or(u32::MAX);
    h.extend_from_slice(&len32.to_le_bytes());
    h.extend_from_slice(&len32.to_le_bytes());
    h.extend_from_slice(&(name.len() as u16).to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes());
    h
}

/// The new central directory entry for a stored member at `offset`, with its name; the version
/// fields, UTF-8 flag, DOS time and date and attributes are taken from the old entry. A Zip64
/// extra field carries the offset when it does not fit 32 bits.
fn central_header(old: &[u8], crc: u32, len: u64, offset: u64, name: &[u8]) -> Vec<u8> {
    let mut h = Vec::with_capacity(46 + name.len() + 12);
    let big = offset >= u64::from(u32::MAX);
    let extra: Vec<u8> = if big {
        [&1u16.to_le_bytes()[..], &8u16.to_le_bytes(), &offset.to_le_bytes()].concat()
    } else {
        Vec::new()
    };
    h.extend_from_slice(&SIG_CENTRAL.to_le_bytes());
    h.extend_from_slice(old.get(4..8).unwrap_or(&[20, 3, 20, 0]));
    h.extend_from_slice(&(le16(old, 8) & FLAG_UTF8).to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes());
    h.extend_from_slice(old.get(12..16).unwrap_or(&[0; 4]));
    h.extend_from_slice(&crc.to_le_bytes());
    let len32 = u32::try_from(len).unwrap_or(u32::MAX);
    h.extend_from_slice(&len32.to_le_bytes());
    h.extend_from_slice(&len32.to_le_bytes());
    h.extend_from_slice(&(name.len() as u16).to_le_bytes());
    h.extend_from_slice(&(extra.len() as u16).to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes()); // comment length
    h.extend_from_slice(&0u16.to_le_bytes()); // disk number start
    h.extend_from_slice(old.get(36..42).unwrap_or(&[0; 6])); // internal and external attributes
    let offset32 = if big { u32::MAX } else { offset as u32 };
    h.extend_from_slice(&offset32.to_le_bytes());
    h.extend_from_slice(name);
    h.extend_from_slice(&extra);
    h
}

/// The end of central directory record, preceded by a Zip64 end record and locator when a value
/// does not fit its EOCD field (SPEC §2.1 item 2: only the fields that do not fit are saturated).
fn end_records(entries: u64, cd_offset: u64, cd_size: u64) -> Vec<u8> {
    let count16 = u16::try_from(entries).ok().filter(|&n| n != u16::MAX);
    let size32 = u32::try_from(cd_size).ok().filter(|&n| n != u32::MAX);
    let offset32 = u32::try_from(cd_offset).ok().filter(|&n| n != u32::MAX);
    let mut out = Vec::with_capacity(98);
    if count16.is_none() || size32.is_none() || offset32.is_none() {
        let record_at = cd_offset + cd_size;
        out.extend_from_slice(&SIG_ZIP64_EOCD.to_le_bytes());
        out.extend_from_slice(&44u64.to_le_bytes());
        out.extend_from_slice(&45u16.to_le_bytes()); // version made by
        out.extend_from_slice(&45u16.to_le_bytes()); // version needed
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&entries.to_le_bytes());
        out.extend_from_slice(&entries.to_le_bytes());
        out.extend_from_slice(&cd_size.to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&SIG_ZIP64_LOCATOR.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&record_at.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
    }
    let count = count16.unwrap_or(u16::MAX);
    out.extend_from_slice(&SIG_EOCD.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&size32.unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(&offset32.unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::custody::Payload;
    use crate::keys::{Fingerprint, signing_key_from_seed};
    use crate::manifest::{Collector, Source};
    use crate::section::Section;
    use crate::time::Timestamp;
    use crate::verify::{VerifyOptions, verify};
    use crate::writer::{BundleWriter, Compression, Header, MemberSpec, Seal};
    use std::io::Cursor;

    fn t(s: u32) -> Timestamp {
        Timestamp::parse(&format!("2026-11-29T10:00:{s:02}.000000000Z")).unwrap()
    }

    fn bundle(zip64: bool) -> Vec<u8> {
        let key = signing_key_from_seed(&[1; 32]);
        let mut w = BundleWriter::new(
            Cursor::new(Vec::new()),
            Header::new("b", t(0), Collector::new("t", "0")),
        )
        .unwrap();
        w.begin_section(Section::Network, t(1)).unwrap();
        for (i, stored) in [(0, true), (1, false)] {
            let mut spec = MemberSpec::new(&format!("m{i}.txt"), Source::path("/x".into()), t(1));
            spec.compression = if stored {
                Compression::Stored
            } else {
                Compression::Deflate
            };
            spec.size_hint = (!zip64).then_some(3000);
            w.add_member(spec, "evidence line\n".repeat(200).as_bytes()).unwrap();
        }
        w.end_section(t(2)).unwrap();
        let seal = Seal {
            key: &key,
            actor: "alice".into(),
            time: t(3),
            note: None,
        };
        w.finish(&seal).unwrap().into_inner()
    }

    /// The raw stored bytes (local header + data) of every member, by name.
    fn raw_members(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
        let idx = zipread::read_index(&mut Cursor::new(bytes), &Limits::default()).unwrap();
        idx.entries
            .iter()
            .map(|e| {
                let end = (e.data_offset + e.compressed_size) as usize;
                (e.name.clone(), bytes[e.header_offset as usize..end].to_vec())
            })
            .collect()
    }

    fn next_entry(bytes: &[u8], action: &str, to: Option<Fingerprint>) -> Vec<u8> {
        let r = verify(bytes, &VerifyOptions::default()).unwrap();
        let last = r.custody.last().unwrap();
        let key = signing_key_from_seed(&[1; 32]);
        let payload = Payload {
            timestamps: None,
            seq: r.custody.len() as u64,
            prev: Some(last.digest),
            time: t(4),
            action: action.into(),
            actor: custody::Actor {
                name: "alice".into(),
                key: crate::digest::Digest(key.verifying_key().to_bytes()),
            },
            bundle_id: "b".into(),
            manifest_sha256: r.manifest_digest.unwrap(),
            recipient: to.map(|f| crate::digest::Digest(f.0)),
            note: Some("n".into()),
            deposit: None,
            key_store: None,
        };
        custody::sign(&payload, &key).unwrap()
    }

    #[test]
    fn spec_9_3_append_keeps_every_member_and_entry_byte_identical() {
        for zip64 in [false, true] {
            let old = bundle(zip64);
            let idx = zipread::read_index(&mut Cursor::new(&old[..]), &Limits::default()).unwrap();
            let entry = next_entry(&old, "annotated", None);
            let mut out = Vec::new();
            let log = append_entry(&mut Cursor::new(&old[..]), &idx, &entry, &Limits::default(), &mut out).unwrap();
            let report = verify(&out[..], &VerifyOptions::default()).unwrap();
            assert!(report.verified(), "{:?}", report.failures);
            assert_eq!(report.custody.len(), 2);
            let (before, after) = (raw_members(&old), raw_members(&out));
            assert_eq!(before.len(), after.len());
            for (b, a) in before.iter().zip(&after) {
                assert_eq!(b.0, a.0);
                if b.0 != CUSTODY {
                    assert_eq!(b.1, a.1, "{} changed", b.0);
                }
            }
            let custody_at = idx.entries.last().unwrap().header_offset as usize;
            assert_eq!(out[..custody_at], old[..custody_at]);
            let old_log = custody::parse_log(&log[..log.len() - entry.len()], &Limits::default()).unwrap();
            assert_eq!(old_log.len(), 1);
            assert!(log.ends_with(&entry));
            // Appending again works on the result.
            let idx2 = zipread::read_index(&mut Cursor::new(&out[..]), &Limits::default()).unwrap();
            let e2 = next_entry(&out, "annotated", None);
            let mut out2 = Vec::new();
            append_entry(&mut Cursor::new(&out[..]), &idx2, &e2, &Limits::default(), &mut out2).unwrap();
            assert!(verify(&out2[..], &VerifyOptions::default()).unwrap().verified());
            assert!(out2.starts_with(&out[..custody_at]));
        }
    }

    #[test]
    fn a_log_over_the_limit_is_refused() {
        let old = bundle(false);
        let idx = zipread::read_index(&mut Cursor::new(&old[..]), &Limits::default()).unwrap();
        let entry = next_entry(&old, "annotated", None);
        let new_len = append_entry(
            &mut Cursor::new(&old[..]),
            &idx,
            &entry,
            &Limits::default(),
            &mut Vec::new(),
        )
        .unwrap()
        .len() as u64;
        let limits = |max_custody| Limits {
            max_custody,
            ..Limits::default()
        };
        let at = append_entry(
            &mut Cursor::new(&old[..]),
            &idx,
            &entry,
            &limits(new_len),
            &mut Vec::new(),
        );
        assert!(at.is_ok(), "{at:?}");
        let err = append_entry(
            &mut Cursor::new(&old[..]),
            &idx,
            &entry,
            &limits(new_len - 1),
            &mut Vec::new(),
        );
        assert!(matches!(err, Err(AppendError::Limit(_))), "{err:?}");
    }

    #[test]
    fn spec_2_1_zip64_end_records_when_values_do_not_fit() {
        let small = end_records(3, 1000, 200);
        assert_eq!(small.len(), 22);
        let big = end_records(3, 5 << 30, 200);
        assert_eq!(big.len(), 56 + 20 + 22);
        // EOCD: count not saturated, offset saturated.
        let eocd = &big[76..];
        assert_eq!(u16::from_le_bytes([eocd[10], eocd[11]]), 3);
        assert_eq!(u32::from_le_bytes(eocd[16..20].try_into().unwrap()), u32::MAX);
        // The locator points to the Zip64 record at cd_offset + cd_size.
        assert_eq!(u64::from_le_bytes(big[64..72].try_into().unwrap()), (5 << 30) + 200);
        let many = end_records(70_000, 10, 20);
        assert_eq!(many.len(), 98);
        let h = central_header(&[0; 46], 1, 2, 6 << 30, b"custody.cbor");
        assert_eq!(u32::from_le_bytes(h[42..46].try_into().unwrap()), u32::MAX);
        assert_eq!(&h[h.len() - 12..h.len() - 8], &[1, 0, 8, 0]);
    }
}
