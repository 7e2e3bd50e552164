//! Tampering: every change to a sealed bundle is found and named (SPEC §11), never a panic.

use crate::util::*;
use forensic_bundle::custody::{self, NewEntry};
use forensic_bundle::keys::signing_key_from_seed;
use forensic_bundle::limits::Limits;
use forensic_bundle::manifest::{Collector, Source};
use forensic_bundle::section::Section;
use forensic_bundle::time::Timestamp;
use forensic_bundle::verify::{Report, VerifyOptions, verify};
use forensic_bundle::writer::{BundleWriter, Compression, Header, MemberSpec, Seal};
use forensic_bundle::zipread::{self, Method, ZipIndex};
use std::io::Cursor;
use std::path::Path;

fn t(s: &str) -> Timestamp {
    Timestamp::parse(&format!("2026-11-29T10:00:{s}.000000000Z")).unwrap()
}

/// A small bundle: stored and deflated members in two sections.
fn small_bundle() -> Vec<u8> {
    let key = signing_key_from_seed(&[1; 32]);
    let header = Header::new("small", t("00"), Collector::new("forensic-test", "0"));
    let mut w = BundleWriter::new(Cursor::new(Vec::new()), header).unwrap();
    w.begin_section(Section::Network, t("01")).unwrap();
    let mut spec = MemberSpec::new(
        "connections.txt",
        Source::path("/tmp/evidence/connections.txt".into()),
        t("01"),
    );
    spec.compression = Compression::Stored;
    spec.size_hint = Some(40);
    w.add_member(spec, &b"tcp LISTEN 0 128 0.0.0.0:4444 0.0.0.0:*\n"[..])
        .unwrap();
    w.end_section(t("02")).unwrap();
    w.begin_section(Section::PodSpec, t("03")).unwrap();
    let mut spec = MemberSpec::new(
        "pod-spec.yaml",
        Source::path("/tmp/evidence/pod-spec.yaml".into()),
        t("03"),
    );
    spec.size_hint = Some(60);
    w.add_member(
        spec,
        &b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  name: web\n"[..],
    )
    .unwrap();
    w.end_section(t("04")).unwrap();
    let seal = Seal {
        key: &key,
        actor: "tester".into(),
        time: t("05"),
        note: None,
    };
    w.finish(&seal).unwrap().into_inner()
}

fn check(bytes: &[u8]) -> Report {
    verify(bytes, &VerifyOptions::default()).expect("verification runs on in-memory input")
}

fn index(bytes: &[u8]) -> ZipIndex {
    zipread::read_index(&mut Cursor::new(bytes), &Limits::default()).unwrap()
}

#[test]
fn every_single_byte_change_to_any_member_fails_and_names_that_member() {
    let good = small_bundle();
    assert!(check(&good).verified(), "{:?}", check(&good).failures);
    let idx = index(&good);
    let names: Vec<&str> = idx.entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "mimetype",
            "2-network/connections.txt",
            "6-podspec/pod-spec.yaml",
            "manifest.cbor",
            "SHA256SUMS",
            "custody.cbor"
        ]
    );
    let mut tried = 0;
    for e in &idx.entries {
        for pos in e.data_offset..e.data_offset + e.compressed_size {
            for flip in [0x01u8, 0x80] {
                let mut bad = good.clone();
                bad[pos as usize] ^= flip;
                let r = check(&bad);
                let last_deflate_byte = e.method == Method::Deflate && pos + 1 == e.data_offset + e.compressed_size;
                if r.verified() && last_deflate_byte {
                    // SPEC §2.1: the padding bits after a deflate stream's final block carry nothing;
                    // the content read back must be exactly the original.
                    assert_eq!(members(&bad), members(&good), "padding bit changed the content");
                    continue;
                }
                assert!(
                    !r.verified(),
                    "byte {pos} of {} changed (^{flip:#x}) but the bundle verifies",
                    e.name
                );
                assert!(
                    r.failures.iter().any(|f| f.member.as_deref() == Some(e.name.as_str())),
                    "byte {pos} of {} changed: failures do not name it: {:?}",
                    e.name,
                    r.failures
                );
                tried += 1;
            }
        }
    }
    assert!(tried > 1500, "{tried}");
}

/// Byte ranges SPEC §2.1 tells readers to ignore.
fn ignored_ranges(bytes: &[u8], idx: &ZipIndex) -> Vec<std::ops::Range<usize>> {
    let le16 = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]) as usize;
    let le32 = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    let mut out = Vec::new();
    for e in &idx.entries {
        let lh = e.header_offset as usize;
        // version needed, flag bits 8-15, DOS time and date; extra fields other than Zip64.
        out.extend([lh + 4..lh + 6, lh + 7..lh + 8, lh + 10..lh + 14]);
        let (n, x) = (le16(lh + 26), le16(lh + 28));
        out.push(lh + 30 + n..lh + 30 + n + x);
        if e.method == Method::Deflate {
            // Padding bits after the final deflate block carry nothing (SPEC §2.1).
            let last = (e.data_offset + e.compressed_size - 1) as usize;
            out.push(last..last + 1);
        }
    }
    let eocd = bytes.len() - 22;
    let mut c = le32(eocd + 16);
    for _ in &idx.entries {
        // version made by and needed, flag bits 8-15, time and date, attributes; extra fields.
        out.extend([c + 4..c + 8, c + 9..c + 10, c + 12..c + 16, c + 36..c + 42]);
        let (n, x, k) = (le16(c + 28), le16(c + 30), le16(c + 32));
        out.push(c + 46 + n..c + 46 + n + x);
        c += 46 + n + x + k;
    }
    out
}

#[test]
fn every_byte_of_the_file_is_checked_or_in_a_field_readers_ignore() {
    let good = small_bundle();
    let idx = index(&good);
    let ignored = ignored_ranges(&good, &idx);
    for pos in 0..good.len() {
        let mut bad = good.clone();
        bad[pos] ^= 0x01;
        let r = check(&bad);
        if r.verified() {
            assert!(
                ignored.iter().any(|r| r.contains(&pos)),
                "byte {pos} changed and nothing noticed"
            );
        }
    }
}

#[test]
fn every_single_byte_change_to_any_members_content_is_a_named_failure() {
    // The acceptance case literally: change one byte of the *content* (the uncompressed data) of any
    // member, keeping the ZIP itself well-formed (fresh CRCs): verification fails and names it.
    let good = members(&small_bundle());
    for (i, (name, content, _)) in good.iter().enumerate() {
        for pos in 0..content.len() {
            let mut changed = good.clone();
            changed[i].1[pos] ^= 0x01;
            let r = check(&rezip(&changed));
            assert!(!r.verified(), "{name} byte {pos}");
            assert!(
                r.failures.iter().any(|f| f.member.as_deref() == Some(name.as_str())),
                "{name} byte {pos}: {:?}",
                r.failures
            );
        }
    }
}

#[test]
fn every_truncation_fails_cleanly() {
    let good = small_bundle();
    for len in 0..good.len() {
        let r = check(&good[..len]);
        assert!(!r.verified(), "truncated to {len} bytes but verifies");
    }
}

fn verify_file(dir: &Path, name: &str, bytes: &[u8]) -> (i32, Vec<String>, String) {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    let o = run(&["verify", p.to_str().unwrap(), "--json"]);
    let human = stdout(&run(&["verify", p.to_str().unwrap()]));
    (code(&o), classes(&json(&o)), human)
}

#[test]
fn removed_added_and_renamed_members_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let good = members(&small_bundle());
    assert_eq!(
        verify_file(tmp.path(), "same.zip", &rezip(&good)).0,
        0,
        "rezip alone changes nothing"
    );

    let mut removed = good.clone();
    removed.remove(1);
    let (c, cl, text) = verify_file(tmp.path(), "removed.zip", &rezip(&removed));
    assert_eq!((c, cl), (1, vec!["missing-member".to_string()]));
    assert!(text.contains("missing-member: 2-network/connections.txt"), "{text}");

    let mut added = good.clone();
    added.insert(3, ("6-podspec/extra.txt".into(), b"planted".to_vec(), Method::Stored));
    let (c, cl, text) = verify_file(tmp.path(), "added.zip", &rezip(&added));
    assert_eq!((c, cl), (1, vec!["unexpected-member".to_string()]));
    assert!(text.contains("unexpected-member: 6-podspec/extra.txt"), "{text}");

    let mut renamed = good.clone();
    renamed[2].0 = "6-podspec/pod-spec.yml".into();
    let (c, cl, _) = verify_file(tmp.path(), "renamed.zip", &rezip(&renamed));
    assert_eq!(
        (c, cl),
        (1, vec!["missing-member".to_string(), "unexpected-member".to_string()])
    );

    let mut changed = good.clone();
    changed[1].1 = b"tcp LISTEN 0 128 0.0.0.0:8080 0.0.0.0:*\n".to_vec();
    let (c, cl, text) = verify_file(tmp.path(), "changed.zip", &rezip(&changed));
    assert_eq!((c, cl), (1, vec!["digest-mismatch".to_string()]));
    assert!(text.contains("digest-mismatch: 2-network/connections.txt"), "{text}");
}

#[test]
fn reordered_dropped_or_forged_custody_entries_break_the_chain() {
    let tmp = tempfile::tempdir().unwrap();
    let good = members(&small_bundle());
    let manifest = &good[3].1;
    let digest = forensic_bundle::digest::Digest::of(manifest);
    let (tester, lab) = (signing_key_from_seed(&[1; 32]), signing_key_from_seed(&[2; 32]));
    let to_lab = forensic_bundle::keys::Fingerprint::of(&lab.verifying_key());
    let mut log = good[5].1.clone();
    // A valid history (SPEC §9.4): the sealer transfers to lab, lab receives and annotates.
    for (i, (key, action)) in [(&tester, "transferred"), (&lab, "received"), (&lab, "annotated")]
        .into_iter()
        .enumerate()
    {
        let e = NewEntry {
            stamp: None,
            key,
            actor: "lab".into(),
            action: action.to_string(),
            time: t(&format!("1{i}")),
            recipient: (action == "transferred").then_some(to_lab),
            note: None,
            deposit: None,
        };
        log = custody::append(&log, &e, "small", &digest, &Limits::default()).unwrap();
    }
    let items: Vec<Vec<u8>> = custody::split(&log, &Limits::default())
        .unwrap()
        .into_iter()
        .map(<[u8]>::to_vec)
        .collect();
    assert_eq!(items.len(), 4);
    let with_log = |entries: &[&Vec<u8>]| {
        let mut m = good.clone();
        m[5].1 = entries.iter().flat_map(|e| e.iter().copied()).collect();
        rezip(&m)
    };
    let all: Vec<&Vec<u8>> = items.iter().collect();
    assert_eq!(verify_file(tmp.path(), "four.zip", &with_log(&all)).0, 0);
    for (name, order) in [
        ("swapped", vec![0, 2, 1, 3]),
        ("dropped-middle", vec![0, 1, 3]),
        ("dropped-first", vec![1, 2, 3]),
        ("duplicated", vec![0, 1, 1, 2]),
    ] {
        let entries: Vec<&Vec<u8>> = order.iter().map(|&i| &items[i]).collect();
        let (c, cl, text) = verify_file(tmp.path(), &format!("{name}.zip"), &with_log(&entries));
        assert_eq!(c, 1, "{name}: {text}");
        assert!(cl.contains(&"broken-chain".to_string()), "{name}: {cl:?}");
        assert!(text.contains("custody entry"), "{name}: {text}");
    }
    // Re-signing an entry with another key keeps the chain but not the signature over the old kid.
    let mallory = signing_key_from_seed(&[3; 32]);
    let mut forged = custody::parse_entry(2, &items[2], 16).unwrap().payload;
    forged.note = Some("nothing to see".into());
    let resigned = custody::sign(&forged, &mallory).unwrap();
    let (c, cl, _) = verify_file(
        tmp.path(),
        "resigned.zip",
        &with_log(&[&items[0], &items[1], &resigned, &items[3]]),
    );
    assert_eq!(c, 1);
    assert!(
        cl.contains(&"bad-signature".to_string()) && cl.contains(&"broken-chain".to_string()),
        "{cl:?}"
    );
}

#[test]
fn truncated_files_get_exit_1_and_a_message() {
    let tmp = tempfile::tempdir().unwrap();
    let good = small_bundle();
    for len in [0, 1, 30, good.len() / 2, good.len() - 23, good.len() - 1] {
        let (c, cl, text) = verify_file(tmp.path(), &format!("trunc-{len}.zip"), &good[..len]);
        assert_eq!(c, 1, "{len}: {text}");
        assert_eq!(cl, vec!["malformed-container".to_string()], "{len}");
        assert!(text.contains("FAILED"), "{text}");
    }
}
