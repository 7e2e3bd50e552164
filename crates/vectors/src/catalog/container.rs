//! The container and its data (SPEC §2, §10, §11 steps 1–2): byte-level edits of the ZIP file and
//! of member data.

use super::{Fixtures, vector};
use crate::rawzip;
use crate::{Error, Vector};
use forensic_bundle::verify::FailureClass::*;
use forensic_bundle::{CUSTODY, MIMETYPE};

const PS: &str = "1-processes/ps.txt";
const TCP: &str = "2-network/tcp.txt";
const POD: &str = "6-podspec/pod-spec.yaml";

pub(super) fn vectors(fx: &Fixtures) -> Result<Vec<Vector>, Error> {
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
