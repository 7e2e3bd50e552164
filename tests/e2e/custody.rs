//! Chain of custody through the CLI (SPEC §9.3–§9.5): a three-party handoff that keeps every
//! stored byte, refusals, every tampering the acceptance names, and a crash mid-append.

use crate::util::*;
use forensic_bundle::custody::{self, NewEntry, Payload};
use forensic_bundle::digest::Digest;
use forensic_bundle::keys::{Fingerprint, SigningKey, parse_private_key_pem};
use forensic_bundle::limits::Limits;
use forensic_bundle::time::Timestamp;
use forensic_bundle::zipread;
use std::io::{Cursor, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;

/// The raw stored bytes (local header and data) of every member, by name, in archive order.
fn raw_members(bundle: &Path) -> Vec<(String, Vec<u8>)> {
    let bytes = std::fs::read(bundle).unwrap();
    let idx = zipread::read_index(&mut Cursor::new(&bytes[..]), &Limits::default()).unwrap();
    idx.entries
        .iter()
        .map(|e| {
            let end = (e.data_offset + e.compressed_size) as usize;
            (e.name.clone(), bytes[e.header_offset as usize..end].to_vec())
        })
        .collect()
}

/// The custody entries of a bundle, each its exact bytes.
fn entries(bundle: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(bundle).unwrap();
    let log = contents(&bytes).pop().unwrap().1;
    custody::split(&log, &Limits::default())
        .unwrap()
        .into_iter()
        .map(<[u8]>::to_vec)
        .collect()
}

/// The bundle with its custody log replaced by `entries` (a fresh, well-formed ZIP).
fn with_log(bundle: &Path, entries: &[&[u8]]) -> Vec<u8> {
    let bytes = std::fs::read(bundle).unwrap();
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, mut content) in contents(&bytes) {
        if name == "custody.cbor" {
            content = entries.concat();
        }
        let method = if name == "mimetype" || name == "custody.cbor" {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        z.start_file(
            name.as_str(),
            zip::write::SimpleFileOptions::default().compression_method(method),
        )
        .unwrap();
        z.write_all(&content).unwrap();
    }
    z.finish().unwrap().into_inner()
}

fn key(path: &Path) -> SigningKey {
    parse_private_key_pem(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn fp(path: &Path) -> Fingerprint {
    Fingerprint::of(&key(path).verifying_key())
}

/// `verify --json` (with extra args): exit code, classes, and the human text.
fn verify(bundle: &Path, extra: &[&str]) -> (i32, Vec<String>, String) {
    let mut args = vec!["verify", s(bundle), "--json"];
    args.extend_from_slice(extra);
    let o = run(&args);
    let mut human = vec!["verify", s(bundle)];
    human.extend_from_slice(extra);
    (code(&o), classes(&json(&o)), stdout(&run(&human)))
}

/// Runs a custody command that must succeed, returning the new custody head.
fn append_ok(args: &[&str]) -> String {
    let mut a = args.to_vec();
    a.push("--json");
    let o = run(&a);
    assert_eq!(code(&o), 0, "{args:?}: {}{}", stdout(&o), stderr(&o));
    json(&o)["custody_head_sha256"].as_str().unwrap().to_string()
}

/// A sealed bundle handed from the collector to the lab and on to the archive, each step checked.
struct Handoff {
    _tmp: tempfile::TempDir,
    bundle: std::path::PathBuf,
    keys: [(std::path::PathBuf, std::path::PathBuf); 4],
    heads: Vec<String>,
}

fn handoff() -> Handoff {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let (bundle, collector_key, collector_pub) = sealed_bundle(root);
    let lab = keygen(root, "lab");
    let archive = keygen(root, "archive");
    let mallory = keygen(root, "mallory");
    let sealed_members = raw_members(&bundle);
    let mut heads = Vec::new();
    let steps: [(&str, &Path, Option<&Path>, &str); 4] = [
        ("transfer", &collector_key, Some(&lab.1), "collector"),
        ("receive", &lab.0, None, "lab"),
        ("transfer", &lab.0, Some(&archive.1), "lab"),
        ("receive", &archive.0, None, "archive"),
    ];
    for (cmd, k, to, actor) in steps {
        let before_entries = entries(&bundle);
        let mut args = vec![
            "custody",
            cmd,
            s(&bundle),
            "--key",
            s(k),
            "--actor",
            actor,
            "--note",
            "step",
        ];
        if let Some(to) = to {
            args.extend(["--to", s(to)]);
        }
        heads.push(append_ok(&args));
        // Each step verifies, and changes nothing but the appended entry (SPEC §9.3).
        let (c, cl, text) = verify(&bundle, &[]);
        assert_eq!((c, cl.len()), (0, 0), "after {cmd} by {actor}: {text}");
        let after = raw_members(&bundle);
        assert_eq!(after.len(), sealed_members.len());
        for (b, a) in sealed_members.iter().zip(&after) {
            assert_eq!(b.0, a.0);
            if a.0 != "custody.cbor" {
                assert!(b.1 == a.1, "{cmd} changed the stored bytes of {}", a.0);
            }
        }
        let after_entries = entries(&bundle);
        assert_eq!(after_entries.len(), before_entries.len() + 1);
        assert_eq!(after_entries[..before_entries.len()], before_entries[..]);
        assert_eq!(Digest::of(after_entries.last().unwrap()).hex(), *heads.last().unwrap());
    }
    Handoff {
        _tmp: tmp,
        bundle,
        keys: [(collector_key, collector_pub), lab, archive, mallory],
        heads,
    }
}

#[test]
fn three_party_handoff_verifies_at_each_step_and_the_log_shows_it_in_order() {
    let h = handoff();
    let dir = h.bundle.parent().unwrap();
    // With every party trusted, and with the head the archive recorded.
    let trusted = [
        "--trust",
        s(&h.keys[0].1),
        "--trust",
        s(&h.keys[1].1),
        "--trust",
        s(&h.keys[2].1),
    ];
    let mut args = trusted.to_vec();
    args.extend(["--expect-head", h.heads[3].as_str()]);
    let (c, cl, text) = verify(&h.bundle, &args);
    assert_eq!((c, cl), (0, Vec::<String>::new()), "{text}");
    assert!(
        text.contains("every signer trusted, the recorded head present"),
        "{text}"
    );
    // Without the archive's key in the trust list, its receipt is untrusted.
    let (c, cl, _) = verify(&h.bundle, &trusted[..4]);
    assert_eq!((c, cl), (1, vec!["untrusted-signer".to_string()]));

    let o = run(&["custody", "log", s(&h.bundle), "--json", "--trust", s(dir)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v = json(&o);
    let got: Vec<(String, String, String)> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["actor"].as_str().unwrap().to_string(),
                e["fingerprint"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let [c_fp, l_fp, a_fp] = [fp(&h.keys[0].0).hex(), fp(&h.keys[1].0).hex(), fp(&h.keys[2].0).hex()];
    assert_eq!(
        got,
        [
            ("sealed".to_string(), "A. Responder".to_string(), c_fp.clone()),
            ("transferred".into(), "collector".into(), c_fp),
            ("received".into(), "lab".into(), l_fp.clone()),
            ("transferred".into(), "lab".into(), l_fp.clone()),
            ("received".into(), "archive".into(), a_fp.clone()),
        ]
    );
    assert_eq!(v["entries"][1]["recipient"].as_str(), Some(l_fp.as_str()));
    assert_eq!(v["entries"][3]["recipient"].as_str(), Some(a_fp.as_str()));
    assert!(v["entries"].as_array().unwrap().iter().all(|e| e["trusted"] == true));
    assert_eq!(v["custody_head_sha256"].as_str(), Some(h.heads[3].as_str()));
    // The readable table: who, action, when, fingerprint, trusted.
    let text = stdout(&run(&["custody", "log", s(&h.bundle), "--trust", s(dir)]));
    assert!(
        text.contains("ACTION") && text.contains("TIME") && text.contains("TRUSTED"),
        "{text}"
    );
    let rows: Vec<&str> = text.lines().filter(|l| l.contains(" ok ")).collect();
    assert_eq!(rows.len(), 5, "{text}");
    for (row, action) in rows
        .iter()
        .zip(["sealed", "transferred", "received", "transferred", "received"])
    {
        assert!(row.contains(action) && row.trim_end().ends_with("yes"), "{row}");
    }
    assert!(rows[4].contains(&fp(&h.keys[2].0).short()), "{}", rows[4]);
}

/// A custody entry the rules forbid, on a bundle that verifies, could not be made: exit 2. A
/// bundle that does not verify gets no entry: exit 1 (the one meaning of each code, README).
#[test]
fn refused_appends_exit_2_or_1_and_leave_the_bundle_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let (bundle, collector, _) = sealed_bundle(root);
    let (lab, lab_pub) = keygen(root, "lab");
    let (archive, _) = keygen(root, "archive");
    let try_cmd_exit = |args: &[&str], why: &str, want: i32| {
        let before = std::fs::read(&bundle).unwrap();
        let o = run(args);
        assert_eq!(code(&o), want, "{args:?}: {}{}", stdout(&o), stderr(&o));
        assert!(stderr(&o).contains(why), "{args:?}: {}", stderr(&o));
        assert!(std::fs::read(&bundle).unwrap() == before, "{args:?} changed the bundle");
    };
    let try_cmd = |args: &[&str], why: &str| try_cmd_exit(args, why, 2);
    try_cmd(&["custody", "receive", s(&bundle), "--key", s(&lab)], "not a transfer");
    try_cmd(
        &["custody", "transfer", s(&bundle), "--key", s(&lab), "--to", s(&lab_pub)],
        "does not hold the bundle",
    );
    append_ok(&[
        "custody",
        "transfer",
        s(&bundle),
        "--key",
        s(&collector),
        "--to",
        s(&lab_pub),
    ]);
    try_cmd(
        &["custody", "receive", s(&bundle), "--key", s(&archive)],
        "not to this key",
    );
    try_cmd(
        &["custody", "annotate", s(&bundle), "--key", s(&archive), "--note", "x"],
        "must be its receipt",
    );
    append_ok(&["custody", "receive", s(&bundle), "--key", s(&lab)]);
    // A bundle that does not verify gets no new entry.
    let mut bytes = std::fs::read(&bundle).unwrap();
    let idx = zipread::read_index(&mut Cursor::new(&bytes[..]), &Limits::default()).unwrap();
    bytes[idx.entries[1].data_offset as usize] ^= 1;
    std::fs::write(&bundle, &bytes).unwrap();
    try_cmd_exit(
        &["custody", "annotate", s(&bundle), "--key", s(&lab), "--note", "x"],
        "does not verify",
        1,
    );
    // Usage: annotate needs a note; sealed is not an annotation.
    assert_eq!(code(&run(&["custody", "annotate", s(&bundle), "--key", s(&lab)])), 2);
}

/// Re-signs `item` (entry `i`) as `signer`, after `edit` changes its payload.
fn resign(i: usize, item: &[u8], signer: &SigningKey, edit: impl FnOnce(&mut Payload)) -> Vec<u8> {
    let mut p = custody::parse_entry(i, item, 16).unwrap().payload;
    p.actor.key = Digest(signer.verifying_key().to_bytes());
    p.actor.name = "mallory".into();
    edit(&mut p);
    custody::sign(&p, signer).unwrap()
}

#[test]
fn swapped_dropped_resigned_misreceived_or_forked_histories_fail_with_the_reason() {
    let h = handoff();
    let dir = h.bundle.parent().unwrap();
    let items = entries(&h.bundle);
    assert_eq!(items.len(), 5);
    let mallory = key(&h.keys[3].0);
    let check = |name: &str, log: Vec<&[u8]>, extra: &[&str], class: &str, reason: &str| {
        let p = dir.join(format!("{name}.zip"));
        std::fs::write(&p, with_log(&h.bundle, &log)).unwrap();
        let (c, cl, text) = verify(&p, extra);
        assert_eq!(c, 1, "{name}: {text}");
        assert!(cl.contains(&class.to_string()), "{name}: {cl:?}\n{text}");
        assert!(text.contains(reason), "{name}: {reason:?} not in\n{text}");
    };
    let e: Vec<&[u8]> = items.iter().map(Vec::as_slice).collect();
    // Rezipping alone changes nothing.
    let same = dir.join("same.zip");
    std::fs::write(&same, with_log(&h.bundle, &e)).unwrap();
    assert_eq!(verify(&same, &[]).0, 0);

    check(
        "swapped",
        vec![e[0], e[2], e[1], e[3], e[4]],
        &[],
        "broken-chain",
        "custody entry 1",
    );
    check(
        "dropped-middle",
        vec![e[0], e[1], e[3], e[4]],
        &[],
        "broken-chain",
        "custody entry 2",
    );
    check("dropped-seal", e[1..].to_vec(), &[], "broken-chain", "custody entry 0");
    // Re-signing an entry (by mallory, in mallory's name) breaks the link of the next one.
    let resigned = resign(2, e[2], &mallory, |_| {});
    check(
        "resigned-middle",
        vec![e[0], e[1], &resigned, e[3], e[4]],
        &[],
        "broken-chain",
        "custody entry 3",
    );
    // Re-signing the last entry keeps the chain, but the transfer named the archive's key.
    let resigned = resign(4, e[4], &mallory, |_| {});
    check(
        "resigned-last",
        vec![e[0], e[1], e[2], e[3], &resigned],
        &[],
        "custody-semantics",
        "custody entry 4: received by key",
    );
    // A receipt by another key than the one the transfer names.
    let wrong = resign(2, e[2], &key(&h.keys[2].0), |p| p.actor.name = "archive".into());
    check(
        "received-by-other",
        vec![e[0], e[1], &wrong],
        &[],
        "custody-semantics",
        "but the transfer names key",
    );
    // Time running backwards by more than 300 s.
    let early = resign(2, e[2], &key(&h.keys[1].0), |p| {
        let t = p.time.unix_nanos() - 3_600_000_000_000;
        p.time = Timestamp::from_unix_nanos(t).unwrap();
    });
    check(
        "time-backwards",
        vec![e[0], e[1], &early],
        &[],
        "custody-semantics",
        "more than 300 s before",
    );
    // Truncated: the last two entries dropped; alone it verifies, with the recorded head it fails.
    let p = dir.join("truncated.zip");
    std::fs::write(&p, with_log(&h.bundle, &e[..3])).unwrap();
    assert_eq!(verify(&p, &[]).0, 0, "a log cut back is itself valid (SPEC §9.3 note)");
    assert_eq!(verify(&p, &["--expect-head", h.heads[1].as_str()]).0, 0);
    check(
        "truncated",
        e[..3].to_vec(),
        &["--expect-head", h.heads[3].as_str()],
        "truncated-custody",
        "recorded head",
    );
    // Forked: after the lab's receipt, another continuation than the one recorded.
    let lab = key(&h.keys[1].0);
    let fork = custody::append(
        &e[..3].concat(),
        &NewEntry {
            stamp: None,
            key: &lab,
            actor: "lab".into(),
            action: custody::ANNOTATED.into(),
            time: Timestamp::from_unix_nanos(custody::parse_entry(2, e[2], 16).unwrap().payload.time.unix_nanos() + 1)
                .unwrap(),
            recipient: None,
            note: Some("another history".into()),
            deposit: None,
        },
        &custody::parse_entry(0, e[0], 16).unwrap().payload.bundle_id,
        &custody::parse_entry(0, e[0], 16).unwrap().payload.manifest_sha256,
        &Limits::default(),
    )
    .unwrap();
    let forked = custody::split(&fork, &Limits::default()).unwrap();
    let p = dir.join("forked.zip");
    std::fs::write(&p, with_log(&h.bundle, &forked)).unwrap();
    assert_eq!(verify(&p, &[]).0, 0);
    check(
        "forked",
        forked,
        &["--expect-head", h.heads[3].as_str()],
        "truncated-custody",
        "recorded head",
    );
    // A bad --expect-head is a usage error.
    assert_eq!(code(&run(&["verify", s(&h.bundle), "--expect-head", "xyz"])), 2);
}

#[test]
#[cfg_attr(
    not(feature = "test-failpoints"),
    ignore = "needs the failpoint: cargo test --features forensic/test-failpoints (.ci/run passes it)"
)]
fn a_crash_mid_append_leaves_the_original_untouched_and_the_next_append_cleans_up() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let (bundle, collector, _) = sealed_bundle(root);
    let before = std::fs::read(&bundle).unwrap();
    let temps = || -> Vec<String> {
        std::fs::read_dir(root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".case42.zip.custody-"))
            .collect()
    };
    let args = [
        "custody",
        "annotate",
        s(&bundle),
        "--key",
        s(&collector),
        "--note",
        "photographed",
    ];
    let o = forensic()
        .args(args)
        .env("FORENSIC_TEST_FAILPOINT", "custody-before-rename")
        .output()
        .unwrap();
    assert!(
        o.status.signal().is_some(),
        "the failpoint must crash the process: {o:?}"
    );
    assert!(
        std::fs::read(&bundle).unwrap() == before,
        "the crash changed the original"
    );
    assert_eq!(temps().len(), 1, "the crashed append leaves its complete temp file");
    assert_eq!(verify(&bundle, &[]).0, 0);
    let o = run(&args);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(temps(), Vec::<String>::new(), "the next append removes the leftover");
    assert_eq!(entries(&bundle).len(), 2);
    assert_eq!(verify(&bundle, &[]).0, 0);
}
