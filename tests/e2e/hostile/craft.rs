//! Crafting hostile archives from a good bundle: members added or replaced, headers patched, a
//! bomb spliced in by hand.

use super::Base;
use crate::util::*;
use forensic_bundle::zipread::Method;
use std::io::{Cursor, Write};

pub fn log_of(bytes: &[u8]) -> Vec<u8> {
    members(bytes).into_iter().find(|m| m.0 == "custody.cbor").unwrap().1
}

/// The bundle with one member's content replaced (a fresh, well-formed ZIP).
pub fn with_member(bytes: &[u8], name: &str, content: Vec<u8>) -> Vec<u8> {
    let mut m = members(bytes);
    m.iter_mut().find(|m| m.0 == name).unwrap().1 = content;
    rezip(&m)
}

/// The bundle with `extra` added at `at` (by a ZIP writer that lets us set everything).
pub fn with_extra(bytes: &[u8], at: usize, name: &str, content: &[u8], symlink: bool) -> Vec<u8> {
    let m = members(bytes);
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = |m: Method| {
        zip::write::SimpleFileOptions::default().compression_method(match m {
            Method::Stored => zip::CompressionMethod::Stored,
            Method::Deflate => zip::CompressionMethod::Deflated,
        })
    };
    for (i, (n, c, method)) in m.iter().enumerate() {
        if i == at {
            if symlink {
                z.add_symlink(name, String::from_utf8_lossy(content), opts(Method::Stored))
                    .unwrap();
            } else {
                z.start_file(name, opts(Method::Deflate)).unwrap();
                z.write_all(content).unwrap();
            }
        }
        z.start_file(n.as_str(), opts(*method)).unwrap();
        z.write_all(c).unwrap();
    }
    z.finish().unwrap().into_inner()
}

/// Replaces every occurrence of `from` with `to` (same length) in `bytes`.
pub fn patch_all(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut b = bytes.to_vec();
    let mut i = 0;
    let mut n = 0;
    while i + from.len() <= b.len() {
        if &b[i..i + from.len()] == from {
            b[i..i + from.len()].copy_from_slice(to);
            n += 1;
            i += from.len();
        } else {
            i += 1;
        }
    }
    assert!(n >= 2, "expected the name in the local and the central header");
    b
}

pub fn put_u32(b: &mut [u8], at: u64, v: u32) {
    let at = usize::try_from(at).unwrap();
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

pub fn put_u16(b: &mut [u8], at: u64, v: u16) {
    let at = usize::try_from(at).unwrap();
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

/// Offsets of the central directory headers, in order.
pub fn central_headers(bytes: &[u8], cd_offset: u64) -> Vec<u64> {
    let mut v = Vec::new();
    let mut at = usize::try_from(cd_offset).unwrap();
    while bytes[at..].starts_with(b"PK\x01\x02") {
        v.push(at as u64);
        let n = u16::from_le_bytes([bytes[at + 28], bytes[at + 29]]) as usize;
        let x = u16::from_le_bytes([bytes[at + 30], bytes[at + 31]]) as usize;
        let c = u16::from_le_bytes([bytes[at + 32], bytes[at + 33]]) as usize;
        at += 46 + n + x + c;
    }
    v
}

/// Deflate of `len` zeros, made in pieces (a bomb: about 1,000 to 1).
pub fn zeros_deflated(len: usize) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..len >> 20 {
        e.write_all(&chunk).unwrap();
    }
    e.finish().unwrap()
}

/// A ZIP member header pair made by hand for a bomb whose sizes lie: `data` (deflate) declared as
/// `size` bytes, added in front of the bundle's members with offsets shifted.
pub fn with_raw_deflated(base: &Base, name: &str, data: &[u8], crc: u32, size: u32) -> Vec<u8> {
    let mut local = Vec::new();
    local.extend_from_slice(b"PK\x03\x04");
    local.extend_from_slice(&20u16.to_le_bytes()); // version needed
    local.extend_from_slice(&0u16.to_le_bytes()); // flags
    local.extend_from_slice(&8u16.to_le_bytes()); // deflate
    local.extend_from_slice(&[0; 4]); // time, date
    local.extend_from_slice(&crc.to_le_bytes());
    local.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
    local.extend_from_slice(&size.to_le_bytes());
    local.extend_from_slice(&u16::try_from(name.len()).unwrap().to_le_bytes());
    local.extend_from_slice(&0u16.to_le_bytes());
    local.extend_from_slice(name.as_bytes());
    let mut central = Vec::new();
    central.extend_from_slice(b"PK\x01\x02");
    central.extend_from_slice(&20u16.to_le_bytes()); // made by
    central.extend_from_slice(&local[4..30]);
    central.extend_from_slice(&[0; 12]); // comment len, disk, attrs (internal, external)
    // Local header offset: this member goes after the marker (the first member).
    let first_end = base.index[1].header_offset;
    central.extend_from_slice(&u32::try_from(first_end).unwrap().to_le_bytes());
    central.extend_from_slice(name.as_bytes());
    let shift = (local.len() + data.len()) as u64;

    let b = &base.bytes;
    let mut out = b[..usize::try_from(first_end).unwrap()].to_vec();
    out.extend_from_slice(&local);
    out.extend_from_slice(data);
    out.extend_from_slice(&b[usize::try_from(first_end).unwrap()..usize::try_from(base.cd_offset).unwrap()]);
    // Central directory: the marker's header, the bomb's, then the rest with offsets shifted.
    let cds = central_headers(b, base.cd_offset);
    let end_of_cd = {
        let last = *cds.last().unwrap() as usize;
        let n = u16::from_le_bytes([b[last + 28], b[last + 29]]) as usize;
        let x = u16::from_le_bytes([b[last + 30], b[last + 31]]) as usize;
        let c = u16::from_le_bytes([b[last + 32], b[last + 33]]) as usize;
        last + 46 + n + x + c
    };
    let new_cd = out.len() as u64;
    for (i, &h) in cds.iter().enumerate() {
        let next = cds.get(i + 1).map_or(end_of_cd, |n| *n as usize);
        let mut hdr = b[h as usize..next].to_vec();
        if i > 0 {
            let off = u32::from_le_bytes(hdr[42..46].try_into().unwrap());
            hdr[42..46].copy_from_slice(&(off + u32::try_from(shift).unwrap()).to_le_bytes());
        }
        out.extend_from_slice(&hdr);
        if i == 0 {
            out.extend_from_slice(&central);
        }
    }
    let cd_size = out.len() as u64 - new_cd;
    // End of central directory (the base has no Zip64 records: it is small).
    let mut eocd = b[end_of_cd..].to_vec();
    assert!(
        eocd.starts_with(b"PK\x05\x06"),
        "the base bundle needs no Zip64 end records"
    );
    let count = u16::try_from(cds.len() + 1).unwrap();
    eocd[8..10].copy_from_slice(&count.to_le_bytes());
    eocd[10..12].copy_from_slice(&count.to_le_bytes());
    eocd[12..16].copy_from_slice(&u32::try_from(cd_size).unwrap().to_le_bytes());
    eocd[16..20].copy_from_slice(&u32::try_from(new_cd).unwrap().to_le_bytes());
    out.extend_from_slice(&eocd);
    out
}

/// Offset of the central directory, from the end record.
pub fn find_cd(bytes: &[u8]) -> u64 {
    let at = bytes.len() - 22;
    assert!(bytes[at..].starts_with(b"PK\x05\x06"));
    u64::from(u32::from_le_bytes(bytes[at + 16..at + 20].try_into().unwrap()))
}

/// Adds the Ed25519 group order L to the little-endian scalar `s`.
pub fn add_order(s: &mut [u8]) {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut carry = 0u16;
    for (b, l) in s.iter_mut().zip(L) {
        let v = u16::from(*b) + u16::from(l) + carry;
        *b = v as u8;
        carry = v >> 8;
    }
}
