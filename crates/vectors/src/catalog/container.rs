//! The container and its data (SPEC §2, §10, §11 steps 1–2): byte-level edits of the ZIP file and
//! of member data.

use super::{Fixtures, vector};
use crate::fixture::{self, build};
use crate::rawzip;
use crate::{Error, Vector};
use forensic_bundle::verify::FailureClass::*;
use forensic_bundle::{CUSTODY, MIMETYPE};

const PS: &str = "1-processes/ps.txt";
const TCP: &str = "2-network/tcp.txt";
const POD: &str = "6-podspec/pod-spec.yaml";

fn to_u32(n: usize) -> Result<u32, Error> {
    u32::try_from(n).map_err(|_| Error::new("does not fit 32 bits"))
}

/// An extended-timestamp extra field (ID 0x5455, "UT": flags 1, mtime 2026-01-02T03:04:05Z), which
/// readers ignore (SPEC §2.1).
const UT_EXTRA: [u8; 9] = [0x55, 0x54, 0x05, 0x00, 0x01, 0x25, 0x37, 0x57, 0x69];

/// The records of SPEC §2.1 items 2, 5, 7 and 8 (end records, sizes, comments, extra fields), the
/// marker's exact bytes (§2.2) and the end of a deflate stream.
fn records(fx: &Fixtures) -> Result<Vec<Vector>, Error> {
    let base = &fx.base;
    let layout = rawzip::layout(base)?;
    let ps = layout.member(PS)?;
    let n = u16::try_from(layout.members.len()).map_err(|_| Error::new("too many members"))?;

    let zip64 = build(&fixture::zip64_plan())?;
    let z_extra = rawzip::central_extra(&zip64, PS)?;
    if z_extra.len() != 20 || z_extra.get(..4) != Some(&[0x01, 0x00, 0x10, 0x00][..]) {
        return Err(Error::new(
            "the Zip64 member's central extra field is not one 16-byte Zip64 block",
        ));
    }
    // The local Zip64 block cut to its first value (uncompressed size), though the local header
    // saturates both sizes.
    let short_block = [&[0x01, 0x00, 0x08, 0x00][..], z_extra.get(4..12).unwrap_or_default()].concat();

    let junk = b"bytes after the end of the deflate stream";
    let junk_inside = rawzip::set_compressed_size(
        &rawzip::insert(base, ps.data + ps.data_len, junk)?,
        PS,
        to_u32(ps.data_len + junk.len())?,
    )?;
    let at_limit = 1_100 * ps.data_len + 1_024;

    let mut newline_marker = fx.base_archive()?;
    newline_marker.set(MIMETYPE, b"application/vnd.forensic-bundle.v1+zip\n".to_vec())?;
    let mut v01_marker = fx.base_archive()?;
    v01_marker.set(MIMETYPE, b"application/vnd.forensic-bundle.v01+zip".to_vec())?;

    let ut_local = rawzip::set_local_extra(base, PS, &UT_EXTRA)?;

    Ok(vec![
        vector(
            "container-entry-comment",
            "A central directory entry has a file comment (SPEC §2.1 item 7: no entry has a file comment).",
            &[MalformedContainer],
            rawzip::set_central_extra_comment(base, TCP, None, Some(b"a file comment"))?,
        ),
        vector(
            "container-stored-sizes-differ",
            "A stored member declares an uncompressed size one more than its compressed size, in both headers (SPEC §2.1 item 5).",
            &[MalformedContainer],
            rawzip::set_size(base, TCP, to_u32(layout.member(TCP)?.data_len + 1)?)?,
        ),
        vector(
            "container-extra-not-tiled",
            "A central directory entry's extra area is an extra field header announcing 9 bytes of which only 1 follows (SPEC §2.1 item 8: the blocks fill the area exactly).",
            &[MalformedContainer],
            rawzip::set_central_extra_comment(base, PS, Some(&[0x55, 0x54, 0x09, 0x00, 0x01]), None)?,
        ),
        vector(
            "valid-extra-fields",
            "A member carries an extended-timestamp extra field (0x5455) in its local and central headers: extra fields other than Zip64 are ignored (SPEC §2.1).",
            &[],
            rawzip::set_central_extra_comment(&ut_local, PS, Some(&UT_EXTRA), None)?,
        ),
        vector(
            "container-two-zip64-blocks",
            "In valid-zip64, a central directory entry's extra area holds its Zip64 block twice (SPEC §2.1 item 8: at most one Zip64 block).",
            &[MalformedContainer],
            rawzip::set_central_extra_comment(&zip64, PS, Some(&[&z_extra[..], &z_extra[..]].concat()), None)?,
        ),
        vector(
            "container-zip64-block-short",
            "In valid-zip64, a local header saturates both sizes but its Zip64 block holds only the uncompressed size (SPEC §2.1 item 8: a block too short for the saturated fields).",
            &[MalformedContainer],
            rawzip::set_local_extra(&zip64, PS, &short_block)?,
        ),
        vector(
            "valid-zip64-end-record",
            "The base bundle with a Zip64 end record and locator; the end record saturates its entry counts and central directory offset and repeats the central directory size (SPEC §2.1 item 2).",
            &[],
            rawzip::add_zip64_end(base, &[8, 10, 16])?,
        ),
        vector(
            "container-zip64-end-disagrees",
            "The base bundle with a correct Zip64 end record and locator, but the end record's unsaturated entry counts say one entry less (SPEC §2.1 item 2: unsaturated fields equal the Zip64 record's).",
            &[MalformedContainer],
            rawzip::set_entry_counts(&rawzip::add_zip64_end(base, &[])?, n - 1)?,
        ),
        vector(
            "container-marker-newline",
            "The marker is application/vnd.forensic-bundle.v1+zip followed by a line feed (SPEC §2.2: exactly 38 bytes, no line end).",
            &[MalformedContainer],
            newline_marker.write()?,
        ),
        vector(
            "version-marker-v01",
            "The marker says v01: N is the decimal numeral 01, which is not the text 1, so another version rather than a malformed marker (SPEC §2.2).",
            &[UnsupportedVersion],
            v01_marker.write()?,
        ),
        vector(
            "corrupt-deflate-junk-after-end",
            "A deflated member's compressed data has bytes after the end of its deflate stream, with its compressed size and later offsets adjusted (SPEC §2.1: the stream ends exactly at the end of the compressed data).",
            &[CorruptMember],
            junk_inside,
        ),
        vector(
            "limit-deflate-ratio-at-limit",
            &format!(
                "A deflated member of {} compressed bytes declares {at_limit} bytes of content, exactly 1,100 × compressed + 1,024: not past SPEC §10's limit, but the stream is shorter (SPEC §2.1).",
                ps.data_len
            ),
            &[CorruptMember],
            rawzip::set_size(base, PS, to_u32(at_limit)?)?,
        ),
        vector(
            "valid-high-ratio",
            "One mebibyte of zeros deflated at about 1,000:1, deflate's best, stays within SPEC §10's ratio limit.",
            &[],
            build(&fixture::high_ratio_plan())?,
        ),
    ])
}

/// What SPEC 1.0.1 decided about the end records (disk numbers are never saturated; the entry
/// counts are compared after saturated fields are filled in from the Zip64 record), flag bit 3 in
/// one header only, and reading (CRC-32 included) before judging content.
fn decided(fx: &Fixtures) -> Result<Vec<Vector>, Error> {
    let base = &fx.base;
    let layout = rawzip::layout(base)?;
    let n = u64::try_from(layout.members.len()).map_err(|_| Error::new("too many members"))?;
    let marker = layout.member(MIMETYPE)?;
    let version_digit = marker.data + b"application/vnd.forensic-bundle.v".len();
    // In a file made by add_zip64_end: the end record's two disk numbers are 18 bytes before the
    // end, the Zip64 end record's entry count "on this disk" 74 bytes before it.
    let disks_saturated = rawzip::patch_from_end(&rawzip::add_zip64_end(base, &[8, 10, 16])?, 18, &[0xff; 4])?;
    let counts_differ = rawzip::patch_from_end(
        &rawzip::add_zip64_end(base, &[8, 10])?,
        74,
        &n.saturating_sub(1).to_le_bytes(),
    )?;
    Ok(vec![
        vector(
            "container-zip64-end-disk-saturated",
            "valid-zip64-end-record with the end record's two disk numbers set to 0xFFFF: disk numbers are never saturated, with or without a Zip64 end record (SPEC §2.1 item 2).",
            &[MalformedContainer],
            disks_saturated,
        ),
        vector(
            "valid-zip64-end-one-count-saturated",
            "The base bundle with a Zip64 end record and locator; the end record saturates its entry count on this disk and writes the total: the counts are compared after saturated fields are filled in from the Zip64 record (SPEC §2.1 item 2).",
            &[],
            rawzip::add_zip64_end(base, &[8])?,
        ),
        vector(
            "container-zip64-counts-differ",
            "The base bundle with a Zip64 end record whose entry count on this disk is one less than its total, both saturated in the end record (SPEC §2.1 item 2: the two counts are equal).",
            &[MalformedContainer],
            counts_differ,
        ),
        vector(
            "container-data-descriptor-local",
            "General-purpose flag bit 3 (data descriptor) is set in a member's local header only; sizes and CRC-32 are in both headers as usual (SPEC §2.1 item 4, local headers included).",
            &[MalformedContainer],
            rawzip::set_flag_in(base, TCP, 3, true, false)?,
        ),
        vector(
            "container-data-descriptor-central",
            "General-purpose flag bit 3 (data descriptor) is set in a member's central directory entry only (SPEC §2.1 item 4).",
            &[MalformedContainer],
            rawzip::set_flag_in(base, TCP, 3, false, true)?,
        ),
        vector(
            "corrupt-crc-only",
            "A stored member's declared CRC-32 is changed in both headers; its content still has the manifest's size and SHA-256 (SPEC §2.1, §11 step 7: reading a member checks its CRC-32, whatever the digest says).",
            &[CorruptMember],
            rawzip::flip_crc(base, TCP, 1)?,
        ),
        vector(
            "corrupt-marker-crc",
            "The marker's content says v2 instead of v1 without its CRC-32 updated: the marker is read, CRC-32 included, before its content is judged (SPEC §2.2, §11 step 2).",
            &[CorruptMember],
            rawzip::flip(base, version_digit, b'1' ^ b'2')?,
        ),
    ])
}

pub(super) fn vectors(fx: &Fixtures) -> Result<Vec<Vector>, Error> {
    let mut out = basics(fx)?;
    out.extend(records(fx)?);
    out.extend(decided(fx)?);
    Ok(out)
}

/// The first container vectors: not a ZIP, data around or between the records, flags, names and
/// the marker.
fn basics(fx: &Fixtures) -> Result<Vec<Vector>, Error> {
    let base = &fx.base;
    let layout = rawzip::layout(base)?;
    let (ps, tcp, custody) = (layout.member(PS)?, layout.member(TCP)?, layout.member(CUSTODY)?);
    let truncated = base.get(..base.len() / 2).unwrap_or_default().to_vec();
    let mut appended = base.clone();
    appended.extend_from_slice(b"trailing data after the end record\n");

    let mut bad_name = fx.base_archive()?;
    bad_name.item_mut(POD)?.name = "6-podspec/../../etc/cron.d/pod-spec.yaml".into();
    let mut not_first = fx.base_archive()?;
    not_first.swap(MIMETYPE, PS)?;
    let mut bad_marker = fx.base_archive()?;
    bad_marker.set(MIMETYPE, b"application/zip".to_vec())?;
    let mut deflated_marker = fx.base_archive()?;
    deflated_marker.item_mut(MIMETYPE)?.deflate = true;
    let mut v2_marker = fx.base_archive()?;
    v2_marker.set(MIMETYPE, b"application/vnd.forensic-bundle.v2+zip".to_vec())?;

    Ok(vec![
        vector(
            "container-not-zip",
            "A text file, not a ZIP file (SPEC §2.1).",
            &[MalformedContainer],
            b"This is not a ZIP file; it only mentions application/vnd.forensic-bundle.v1+zip.\n".to_vec(),
        ),
        vector(
            "container-prepended",
            "A shell stub prepended to the base bundle, with every ZIP offset adjusted so that lenient readers still open it (SPEC §2.1 item 1).",
            &[MalformedContainer],
            rawzip::insert(base, 0, b"#!/bin/sh\nexit 0\n")?,
        ),
        vector(
            "container-appended",
            "Bytes appended after the end of central directory record (SPEC §2.1 item 2).",
            &[MalformedContainer],
            appended,
        ),
        vector(
            "container-truncated",
            "The first half of the base bundle (SPEC §2.1 item 2).",
            &[MalformedContainer],
            truncated,
        ),
        vector(
            "container-comment",
            "The base bundle with an archive comment in its end record (SPEC §2.1 item 2).",
            &[MalformedContainer],
            rawzip::comment(base, b"archive comments are not allowed")?,
        ),
        vector(
            "container-hidden-data",
            "Bytes hidden between two members, with later offsets adjusted so that lenient readers still open it: the members do not tile the file (SPEC §2.1 item 3).",
            &[MalformedContainer],
            rawzip::insert(base, ps.data + ps.data_len, b"hidden data between two members")?,
        ),
        vector(
            "container-encrypted-flag",
            "A member's general-purpose flag bit 0 (encryption) is set in both its headers (SPEC §2.1 item 4).",
            &[MalformedContainer],
            rawzip::set_flag(base, PS, 0)?,
        ),
        vector(
            "container-local-name-mismatch",
            "A member's local header names it 2-network/ucp.txt while the central directory says 2-network/tcp.txt (SPEC §2.1 item 6).",
            &[MalformedContainer],
            rawzip::flip(base, tcp.local + 30 + "2-network/".len(), b't' ^ b'u')?,
        ),
        vector(
            "container-duplicate-entry",
            "The central directory lists the same member twice (SPEC §2.1 items 3 and 7).",
            &[MalformedContainer],
            rawzip::duplicate_central(base, TCP)?,
        ),
        vector(
            "container-bad-member-name",
            "A member named 6-podspec/../../etc/cron.d/pod-spec.yaml: '..' segments are not valid member names (SPEC §3, §2.1 item 7).",
            &[MalformedContainer],
            bad_name.write()?,
        ),
        vector(
            "container-mimetype-not-first",
            "The mimetype marker is the second member instead of the first (SPEC §2.2).",
            &[MalformedContainer],
            not_first.write()?,
        ),
        vector(
            "container-bad-marker",
            "The mimetype member holds application/zip: not a forensic bundle (SPEC §2.2).",
            &[MalformedContainer],
            bad_marker.write()?,
        ),
        vector(
            "container-deflated-marker",
            "The mimetype member is deflated instead of stored (SPEC §2.1 item 5, §2.2).",
            &[MalformedContainer],
            deflated_marker.write()?,
        ),
        vector(
            "version-marker-v2",
            "The marker says application/vnd.forensic-bundle.v2+zip: another version of the format (SPEC §2.2).",
            &[UnsupportedVersion],
            v2_marker.write()?,
        ),
        vector(
            "limit-deflate-ratio",
            &format!(
                "A deflated member of {} compressed bytes declares 1 GiB of content in both headers: a compression ratio beyond SPEC §10's limit (zip bomb).",
                ps.data_len
            ),
            &[LimitExceeded],
            rawzip::set_size(base, PS, 1 << 30)?,
        ),
        vector(
            "corrupt-stored-member",
            "One byte of a stored member's data changed without updating its CRC-32 (SPEC §2.1, §11 step 7).",
            &[CorruptMember],
            rawzip::flip(base, tcp.data + 5, 0x01)?,
        ),
        vector(
            "corrupt-deflated-member",
            "One byte in the middle of a deflated member's compressed data changed (SPEC §2.1, §11 step 7).",
            &[CorruptMember],
            rawzip::flip(base, ps.data + ps.data_len / 2, 0x55)?,
        ),
        vector(
            "corrupt-custody",
            "One byte of the stored custody.cbor changed without updating its CRC-32: the log cannot be read, so custody checks are skipped (SPEC §11 step 9).",
            &[CorruptMember],
            rawzip::flip(base, custody.data + custody.data_len / 2, 0x01)?,
        ),
    ])
}
