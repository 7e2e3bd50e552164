//! The hostile-bundle corpus: bundles built to attack the reader — names that escape, symlink
//! members, duplicates, bombs, overlapping members, headers that disagree, data before and after,
//! truncation at every structure boundary, CBOR with huge lengths and deep nesting, non-canonical
//! signatures, custody entries reordered, dropped, duplicated and forked — plus every format
//! vector that must fail. Every command that reads a bundle is run on each: exit 1 with a message
//! naming the failure class, no panic, peak RSS under 64 MiB, nothing written anywhere (working
//! directory, TMPDIR, HOME, beside the bundle) and the bundle unchanged. The same, encrypted with
//! age and read with --identity, fails the same way; damage to the age layer itself (payload
//! chunks flipped, cut or dropped, a bad header MAC, an endless header, armor, another recipient)
//! is named.

mod craft;

use crate::util::*;
use craft::*;
use forensic_bundle::custody;
use forensic_bundle::limits::Limits;
use forensic_bundle::verify::FailureClass;
use forensic_bundle::zipread::{self, Method, ZipEntry};
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

// The failure classes of SPEC §12 the crafted cases expect.
const MALFORMED_CONTAINER: &str = "malformed-container";
const UNEXPECTED_MEMBER: &str = "unexpected-member";
const MALFORMED_MANIFEST: &str = "malformed-manifest";
const MALFORMED_CUSTODY: &str = "malformed-custody";
const BROKEN_CHAIN: &str = "broken-chain";
const BAD_SIGNATURE: &str = "bad-signature";

/// The RSS bound of the issue, in KiB (GNU time's `%M`).
const MAX_RSS_KIB: u64 = 64 * 1024;
/// The ZIP local header signature: a file starting otherwise is not a bundle to `audit` (which
/// also reads plain audit logs).
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

/// Where a case runs: the bundle alone in a directory, and empty working, temporary and home
/// directories.
struct Arena {
    _tmp: tempfile::TempDir,
    case: PathBuf,
    cwd: PathBuf,
    tmpdir: PathBuf,
    home: PathBuf,
    rss: PathBuf,
}

impl Arena {
    fn new() -> Arena {
        let tmp = tempfile::tempdir().unwrap();
        let p = |n: &str| {
            let d = tmp.path().join(n);
            std::fs::create_dir(&d).unwrap();
            d
        };
        Arena {
            case: p("case"),
            cwd: p("cwd"),
            tmpdir: p("tmp"),
            home: p("home"),
            rss: tmp.path().join("rss"),
            _tmp: tmp,
        }
    }
}

/// The exit code README.md's command table documents for `command` on a bundle whose structure,
/// manifest and custody log verify but one of whose evidence members is damaged
/// (digest-mismatch, corrupt-member): the commands that do not read that member's bytes answer
/// as usual.
fn content_damage_exit(command: &str) -> i32 {
    match command {
        // ls: "does not hash contents"; 0 listed. cat manifest.cbor: intact, 0 written.
        // custody log: "member contents are not hashed"; 0 the custody log verifies.
        "ls" | "cat" | "custody" => 0,
        // audit: 2, trouble: the bundle has no 7-audit section to read.
        "audit" => 2,
        // verify, extract, show, timeline, export, report, diff: 1, the bundle does not verify.
        _ => 1,
    }
}

/// Runs every bundle-reading command on `bytes` and checks what the corpus promises: `verify`
/// reports exactly the classes `expect`, every command exits with its documented code and, when
/// it refuses, names an expected class and no other.
fn attack(arena: &Arena, case: &str, expect: &[&str], bytes: &[u8]) {
    attack_with(arena, case, Want::Fail(expect), bytes, &[]);
}

/// What every reading command must answer for a case.
enum Want<'a> {
    /// `verify` reports exactly these classes; each command exits with its documented code and,
    /// when it refuses, names an expected class and no other.
    Fail(&'a [&'a str]),
    /// The bundle cannot be read at all (an encrypted file that cannot be decrypted): every
    /// command exits 2 saying this.
    Refuse(&'a str),
}

/// [`attack`], for any [`Want`], with `extra` arguments given to every command (`--identity
/// FILE` for an encrypted bundle).
fn attack_with(arena: &Arena, case: &str, want: Want<'_>, bytes: &[u8], extra: &[&str]) {
    let bundle = arena.case.join("bundle.zip");
    std::fs::write(&bundle, bytes).unwrap();
    let b = s(&bundle);
    let out = arena.case.join("out");
    let exported = arena.case.join("case.jsonld");
    let reported = arena.case.join("report.html");
    let mut commands: Vec<Vec<&str>> = vec![
        vec!["verify", b],
        vec!["verify", b, "--json"],
        vec!["ls", b],
        vec!["cat", b, "manifest.cbor"],
        vec!["extract", b, "-o", s(&out)],
        vec!["show", b, "summary"],
        vec!["timeline", b],
        vec!["export", b, "--format", "case", "-o", s(&exported)],
        vec!["report", b, "-o", s(&reported)],
        vec!["diff", b, "--image-from-bundle"],
        vec!["custody", "log", b],
    ];
    for c in &mut commands {
        c.extend_from_slice(extra);
    }
    if bytes.starts_with(ZIP_MAGIC) || !extra.is_empty() {
        // audit's options come before its subcommand.
        let mut audit = vec!["audit", b];
        audit.extend_from_slice(extra);
        audit.push("exec");
        commands.push(audit);
    }
    let (expect, content_only): (Vec<&str>, bool) = match want {
        Want::Refuse(_) => (Vec::new(), false),
        Want::Fail(expect) => {
            let mut verify_json = vec!["verify", b, "--json"];
            verify_json.extend_from_slice(extra);
            let report = json(&run(&verify_json));
            let mut expect: Vec<&str> = expect.to_vec();
            expect.sort_unstable();
            assert!(!expect.is_empty(), "{case}: no expected class");
            assert_eq!(classes(&report), expect, "{case}: failure classes");
            // Only evidence bytes are damaged: the structure, manifest and custody log are intact.
            let content_only = report["failures"].as_array().unwrap().iter().all(|f| {
                matches!(f["class"].as_str(), Some("digest-mismatch" | "corrupt-member"))
                    && f["member"]
                        .as_str()
                        .is_some_and(|m| !forensic_bundle::METADATA_NAMES.contains(&m))
            });
            (expect, content_only)
        }
    };
    let mut peak = 0;
    for args in commands {
        let o = Command::new("/usr/bin/time")
            .args(["-f", "%M", "-o", s(&arena.rss), env!("CARGO_BIN_EXE_forensic")])
            .args(&args)
            .current_dir(&arena.cwd)
            .env("TMPDIR", &arena.tmpdir)
            .env("HOME", &arena.home)
            .output()
            .unwrap();
        let all = format!("{}{}", stdout(&o), stderr(&o));
        let what = format!("{case}: forensic {}", args.join(" "));
        assert!(!all.contains("panicked"), "{what} panicked: {all}");
        if let Want::Refuse(message) = want {
            assert_eq!(o.status.code(), Some(2), "{what}: {all}");
            assert!(stderr(&o).contains(message), "{what}: not {message:?}: {all}");
        } else {
            let code = if content_only { content_damage_exit(args[0]) } else { 1 };
            assert_eq!(o.status.code(), Some(code), "{what}: {all}");
            if code == 1 {
                let named: Vec<&str> = FailureClass::ALL
                    .iter()
                    .map(|c| c.as_str())
                    .filter(|c| all.contains(c))
                    .collect();
                assert!(
                    !named.is_empty() && named.iter().all(|c| expect.contains(c)),
                    "{what}: names {named:?}, expected one of {expect:?}: {all}"
                );
            }
        }
        // GNU time writes "Command exited with non-zero status N" first.
        let rss = std::fs::read_to_string(&arena.rss).unwrap();
        let rss: u64 = rss.lines().last().unwrap().trim().parse().unwrap();
        assert!(rss < MAX_RSS_KIB, "{what}: peak RSS {rss} KiB");
        peak = peak.max(rss);
        assert_eq!(listing(&arena.case), ["bundle.zip"], "{what} wrote beside the bundle");
        for d in [&arena.cwd, &arena.tmpdir, &arena.home] {
            assert_eq!(listing(d), Vec::<String>::new(), "{what} wrote in {}", d.display());
        }
        assert!(std::fs::read(&bundle).unwrap() == bytes, "{what} changed the bundle");
    }
    eprintln!(
        "{case}: {} bytes, {} · peak RSS {peak} KiB",
        bytes.len(),
        expect.join(" ")
    );
}

/// A bundle to attack: sealed from the checklist directory, then handed on twice so that its
/// custody log has entries to reorder; with a deflated member.
struct Base {
    bytes: Vec<u8>,
    index: Vec<ZipEntry>,
    cd_offset: u64,
}

fn base(root: &Path) -> (Base, Vec<u8>, Vec<u8>) {
    let dir = checklist_dir(root);
    write(&dir, "processes.txt", "PID CMD\n1 /pause\n".repeat(2000).as_bytes());
    let (key, _) = keygen(root, "collector");
    let (lab_key, lab_pub) = keygen(root, "lab");
    let bundle = root.join("base.zip");
    let o = seal(&dir, &bundle, &key, &["--quiet"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let custody = |args: &[&str]| {
        let o = run(args);
        assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
    };
    custody(&["custody", "transfer", s(&bundle), "--key", s(&key), "--to", s(&lab_pub)]);
    // Two receipts of the same transfer, on two copies: a fork when put in one log.
    let copy = root.join("copy.zip");
    std::fs::copy(&bundle, &copy).unwrap();
    custody(&["custody", "receive", s(&bundle), "--key", s(&lab_key)]);
    custody(&["custody", "receive", s(&copy), "--key", s(&lab_key), "--note", "again"]);
    custody(&[
        "custody",
        "annotate",
        s(&bundle),
        "--key",
        s(&lab_key),
        "--note",
        "imaged",
    ]);
    let bytes = std::fs::read(&bundle).unwrap();
    assert_eq!(code(&run(&["verify", s(&bundle)])), 0);
    let idx = zipread::read_index(&mut Cursor::new(&bytes[..]), &Limits::default()).unwrap();
    assert!(idx.entries.iter().any(|e| e.method == Method::Deflate));
    let fork_log = log_of(&std::fs::read(&copy).unwrap());
    let base = Base {
        bytes,
        index: idx.entries,
        cd_offset: idx.cd_offset,
    };
    let log = log_of(&base.bytes);
    (base, log, fork_log)
}

/// A crafted case: its name, the one failure class `verify` must report, and its bytes.
type Case = (String, &'static str, Vec<u8>);

/// The cases built from `base`, each with the failure class `verify` reports for it.
fn corpus(base: &Base, log: &[u8], fork_log: &[u8]) -> Vec<Case> {
    let b = &base.bytes;
    let mut cases: Vec<Case> = Vec::new();
    let mut add = |name: &str, class: &'static str, bytes: Vec<u8>| cases.push((name.to_string(), class, bytes));

    // Member names.
    // Names SPEC §3 forbids are a malformed container; a well-formed name the manifest does
    // not list is an unexpected member.
    for (label, name, class) in [
        ("dotdot", "../../../../tmp/evil", MALFORMED_CONTAINER),
        ("dotdot-inside", "5-filesystem/../../../evil", MALFORMED_CONTAINER),
        ("absolute", "/etc/cron.d/evil", MALFORMED_CONTAINER),
        ("backslash", "5-filesystem\\..\\..\\evil", MALFORMED_CONTAINER),
        ("drive", "C:/evil", UNEXPECTED_MEMBER),
        ("long", &"x".repeat(1000), UNEXPECTED_MEMBER),
    ] {
        add(
            &format!("name-{label}"),
            class,
            with_extra(b, 2, name, b"evil\n", false),
        );
    }
    let nul = with_extra(b, 2, "5-filesystem/nulXname", b"evil\n", false);
    add(
        "name-nul",
        MALFORMED_CONTAINER,
        patch_all(&nul, b"nulXname", b"nul\0name"),
    );
    add(
        "symlink-member",
        UNEXPECTED_MEMBER,
        with_extra(b, 2, "5-filesystem/link", b"/etc/shadow", true),
    );
    let first = &base.index[2].name;
    let twin = with_extra(b, 2, &first.replace('/', "#"), b"twin\n", false);
    add(
        "duplicate-name",
        MALFORMED_CONTAINER,
        patch_all(&twin, first.replace('/', "#").as_bytes(), first.as_bytes()),
    );
    add(
        "case-colliding-name",
        UNEXPECTED_MEMBER,
        with_extra(b, 3, &first.to_uppercase(), b"twin\n", false),
    );

    // Bombs: honest sizes over the ratio bound; sizes that lie; a zip of zips inside.
    let bomb = zeros_deflated(64 << 20);
    // An honest bomb is a member the manifest does not list (found before its ratio matters);
    // sizes that lie break the container.
    add(
        "bomb-ratio",
        UNEXPECTED_MEMBER,
        with_extra(b, 2, "4-logs/bomb.log", &vec![0; 64 << 20], false),
    );
    add(
        "bomb-sizes-lie",
        MALFORMED_CONTAINER,
        with_raw_deflated(base, "4-logs/bomb.log", &bomb, 0, 1000),
    );
    let mut over_ratio = with_raw_deflated(base, "4-logs/bomb.log", &bomb, 0, 1000);
    let bomb_central = central_headers(&over_ratio, find_cd(&over_ratio))[1];
    for at in [base.index[1].header_offset + 22, bomb_central + 24] {
        put_u32(&mut over_ratio, at, u32::MAX - 1);
    }
    add("bomb-declared-4gib", MALFORMED_CONTAINER, over_ratio);
    let inner = {
        let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for i in 0..16 {
            z.start_file(format!("{i}.bin"), zip::write::SimpleFileOptions::default())
                .unwrap();
            z.write_all(&vec![0; 4 << 20]).unwrap();
        }
        z.finish().unwrap().into_inner()
    };
    let nested = {
        let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for i in 0..16 {
            z.start_file(format!("{i}.zip"), zip::write::SimpleFileOptions::default())
                .unwrap();
            z.write_all(&inner).unwrap();
        }
        z.finish().unwrap().into_inner()
    };
    add(
        "bomb-nested",
        UNEXPECTED_MEMBER,
        with_extra(b, 2, "5-filesystem/nested.zip", &nested, false),
    );

    // Overlapping members and headers that disagree.
    let cds = central_headers(b, base.cd_offset);
    let (e2, e3) = (&base.index[2], &base.index[3]);
    let mut overlap = b.clone();
    put_u32(&mut overlap, cds[3] + 42, u32::try_from(e2.header_offset).unwrap());
    add("overlap-same-header", MALFORMED_CONTAINER, overlap);
    let mut overlap = b.clone();
    put_u32(
        &mut overlap,
        cds[2] + 20,
        u32::try_from(e2.compressed_size + 40).unwrap(),
    );
    add("overlap-data-into-next", MALFORMED_CONTAINER, overlap);
    for (label, field, value) in [("crc", 14, 0xdead_beef), ("compressed-size", 18, 7), ("size", 22, 7)] {
        let mut d = b.clone();
        put_u32(&mut d, e3.header_offset + field, value);
        add(&format!("local-central-{label}"), MALFORMED_CONTAINER, d);
    }
    let mut d = b.clone();
    put_u16(
        &mut d,
        e3.header_offset + 8,
        if e3.method == Method::Stored { 8 } else { 0 },
    );
    add("local-central-method", MALFORMED_CONTAINER, d);
    let mut d = b.clone();
    put_u16(&mut d, e3.header_offset + 6, 0x0008);
    add("local-central-flags", MALFORMED_CONTAINER, d);
    let mut d = b.clone();
    d[usize::try_from(e3.header_offset + 30).unwrap()] ^= 0x20;
    add("local-central-name", MALFORMED_CONTAINER, d);

    // Data before and after.
    let mut pre = vec![b'#'; 4096];
    pre.extend_from_slice(b);
    add("prepended", MALFORMED_CONTAINER, pre);
    let mut pre = b"MZ".to_vec();
    pre.extend_from_slice(&[0; 1022]);
    pre.extend_from_slice(b);
    add("prepended-executable-stub", MALFORMED_CONTAINER, pre);
    let mut app = b.clone();
    app.extend_from_slice(&[0x55; 4096]);
    add("appended", MALFORMED_CONTAINER, app);
    let mut app = b.clone();
    app.extend_from_slice(&b[b.len() - 22..]);
    add("appended-second-end-record", MALFORMED_CONTAINER, app);

    // Truncation at every structure boundary.
    let mut cuts = vec![4u64];
    for e in &base.index {
        cuts.extend([
            e.header_offset,
            e.header_offset + 30,
            e.data_offset,
            e.data_offset + e.compressed_size,
        ]);
    }
    cuts.extend(cds.iter().copied());
    cuts.extend([b.len() as u64 - 22, b.len() as u64 - 1]);
    cuts.sort_unstable();
    cuts.dedup();
    for cut in cuts.into_iter().filter(|c| *c > 0 && *c < b.len() as u64) {
        add(
            &format!("truncated-at-{cut}"),
            MALFORMED_CONTAINER,
            b[..usize::try_from(cut).unwrap()].to_vec(),
        );
    }

    // CBOR: huge declared lengths, deep nesting, non-canonical heads.
    for (label, cbor) in [
        ("bytes-2^64", [&[0x5b][..], &[0xff; 8]].concat()),
        ("text-2^64", [&[0x7b][..], &[0xff; 8]].concat()),
        ("array-2^64", [&[0x9b][..], &[0xff; 8]].concat()),
        ("map-2^64", [&[0xbb][..], &[0xff; 8]].concat()),
        ("map-2^32-then-nothing", vec![0xba, 0xff, 0xff, 0xff, 0xff]),
        ("nested-arrays-100000", [vec![0x81; 100_000], vec![0x00]].concat()),
        ("nested-indefinite-100000", vec![0x9f; 100_000]),
        ("nested-tags-100000", [[0xd8, 0x18].repeat(50_000), vec![0x00]].concat()),
    ] {
        add(
            &format!("manifest-{label}"),
            MALFORMED_MANIFEST,
            with_member(b, "manifest.cbor", cbor.clone()),
        );
        add(
            &format!("custody-{label}"),
            MALFORMED_CUSTODY,
            with_member(b, "custody.cbor", cbor.clone()),
        );
        add(
            &format!("custody-appended-{label}"),
            MALFORMED_CUSTODY,
            with_member(b, "custody.cbor", [log, &cbor].concat()),
        );
    }

    // Signatures and custody entries.
    let entries = custody::split(log, &Limits::default()).unwrap();
    assert_eq!(entries.len(), 4, "sealed, transferred, received, annotated");
    let forks = custody::split(fork_log, &Limits::default()).unwrap();
    let relog = |parts: &[&[u8]]| with_member(b, "custody.cbor", parts.concat());
    let (e0, e1, e2c, e3c) = (entries[0], entries[1], entries[2], entries[3]);
    add("custody-reordered", BROKEN_CHAIN, relog(&[e0, e2c, e1, e3c]));
    add("custody-first-dropped", BROKEN_CHAIN, relog(&[e1, e2c, e3c]));
    add("custody-middle-dropped", BROKEN_CHAIN, relog(&[e0, e1, e3c]));
    add("custody-duplicated", BROKEN_CHAIN, relog(&[e0, e1, e2c, e2c, e3c]));
    add("custody-forked", BROKEN_CHAIN, relog(&[e0, e1, e2c, forks[2]]));
    add(
        "custody-forked-both-kept",
        BROKEN_CHAIN,
        relog(&[e0, e1, e2c, forks[2], e3c]),
    );
    // The signature is the last bstr of an entry: `58 40` then 64 bytes.
    let sig_at = e3c.len() - 66;
    assert_eq!(&e3c[sig_at..sig_at + 2], &[0x58, 0x40]);
    let non_canonical = [&e3c[..sig_at], &[0x59, 0x00, 0x40], &e3c[sig_at + 2..]].concat();
    add(
        "signature-non-canonical-length",
        MALFORMED_CUSTODY,
        relog(&[e0, e1, e2c, &non_canonical]),
    );
    // Ed25519 malleability: S + L (the group order) verifies with lax checkers.
    let mut malleated = e3c.to_vec();
    add_order(&mut malleated[sig_at + 2 + 32..]);
    add("signature-malleated", BAD_SIGNATURE, relog(&[e0, e1, e2c, &malleated]));
    let mut zeroed = e3c.to_vec();
    zeroed[sig_at + 2..].fill(0);
    add("signature-zero", BAD_SIGNATURE, relog(&[e0, e1, e2c, &zeroed]));
    cases
}

#[test]
fn every_hostile_bundle_fails_cleanly_in_bounded_memory_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (base, log, fork_log) = base(tmp.path());
    let arena = Arena::new();
    let cases = corpus(&base, &log, &fork_log);
    assert!(cases.len() > 80, "{}", cases.len());
    for (name, class, bytes) in &cases {
        attack(&arena, name, &[class], bytes);
    }
}

/// `plain` encrypted to `recipient` by the age command (the reference implementation's format).
fn age_encrypt(plain: &[u8], recipient: &str, armor: bool) -> Vec<u8> {
    use std::io::Write as _;
    let mut c = Command::new("age");
    c.args(["-r", recipient]);
    if armor {
        c.arg("-a");
    }
    let mut child = c
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let plain = plain.to_vec();
    let feeder = std::thread::spawn(move || stdin.write_all(&plain).unwrap());
    let o = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    assert!(o.status.success());
    o.stdout
}

#[test]
fn encrypted_hostile_bundles_fail_as_in_clear_and_damage_to_the_age_layer_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let (base, log, fork_log) = base(tmp.path());
    let (id, recipient) = crate::confidential::age_key(tmp.path(), "examiner");
    let (_, stranger) = crate::confidential::age_key(tmp.path(), "stranger");
    let with_id = ["--identity", s(&id)];
    let arena = Arena::new();
    // A sample of the corpus (every classes appears), encrypted: decrypted as read, each fails
    // exactly as it does in clear.
    let cases = corpus(&base, &log, &fork_log);
    for (name, class, bytes) in cases.iter().step_by(7) {
        let sealed = age_encrypt(bytes, &recipient, false);
        attack_with(&arena, &format!("age/{name}"), Want::Fail(&[class]), &sealed, &with_id);
    }
    // Damage to the age layer of a good bundle of four age chunks (64 KiB each). In the payload:
    // authentication fails, the bundle does not verify (exit 1, malformed-container).
    let big = tmp.path().join("big");
    let dir = checklist_dir(&big);
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let noise: Vec<u8> = (0..200_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    write(&dir, "memory/dump.bin", &noise);
    let (key, _) = keygen(&big, "collector");
    let plain = big.join("big.zip");
    let o = seal(&dir, &plain, &key, &["--quiet", "--section", "memory=memory/*"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let good = age_encrypt(&std::fs::read(&plain).unwrap(), &recipient, false);
    let header_end = {
        let mac = good.windows(5).position(|w| w == b"\n--- ").unwrap() + 1;
        mac + good[mac..].iter().position(|&c| c == b'\n').unwrap() + 1
    };
    let mut flipped = good.clone();
    flipped[header_end + 70_000] ^= 0x01;
    let cut = good[..good.len() - 100].to_vec();
    let cut_at_chunk = good[..header_end + 16 + 65_536 + 16].to_vec();
    let mut dropped_chunk = good[..header_end + 16].to_vec();
    dropped_chunk.extend_from_slice(&good[header_end + 16 + 65_536 + 16..]);
    // A chunk inside the evidence member fails as that member (corrupt-member: the structure,
    // manifest and log still verify, so ls, cat of the manifest and custody log answer 0); a
    // chunk holding the structure fails the container.
    for (name, class, bytes) in [
        ("age-payload-flipped", "corrupt-member", flipped),
        ("age-payload-truncated", MALFORMED_CONTAINER, cut),
        ("age-payload-cut-at-a-chunk", MALFORMED_CONTAINER, cut_at_chunk),
        ("age-payload-chunk-dropped", MALFORMED_CONTAINER, dropped_chunk),
    ] {
        let bundle = arena.case.join("bundle.zip");
        std::fs::write(&bundle, &bytes).unwrap();
        let o = run(&["verify", s(&bundle), "--identity", s(&id)]);
        assert!(
            stdout(&o).contains("the encrypted file fails authentication"),
            "{name}: {}",
            stdout(&o)
        );
        attack_with(&arena, name, Want::Fail(&[class]), &bytes, &with_id);
    }
    // In the header, or not for us: nothing can be read; every command says why, exit 2.
    let mut mac_flipped = good.clone();
    mac_flipped[header_end - 3] ^= 0x01;
    let mut endless = b"age-encryption.org/v1\n-> X25519 ".to_vec();
    endless.resize(4 << 20, b'A');
    let mut many = b"age-encryption.org/v1\n".to_vec();
    while many.len() < 200_000 {
        many.extend_from_slice(b"-> X25519 AAAA\nAAAA\n");
    }
    for (name, bytes, message) in [
        (
            "age-header-mac",
            mac_flipped,
            "its age header fails authentication (the header MAC is invalid)",
        ),
        (
            "age-header-only",
            good[..header_end].to_vec(),
            "the file ends inside the age header",
        ),
        (
            "age-endless-header-line",
            endless,
            "its age header does not end within 65536 bytes",
        ),
        (
            "age-endless-header",
            many,
            "its age header does not end within 65536 bytes",
        ),
        (
            "age-other-recipient",
            age_encrypt(&base.bytes, &stranger, false),
            "none of the identities given can decrypt it",
        ),
        ("age-armored", age_encrypt(&base.bytes, &recipient, true), "armored"),
    ] {
        attack_with(&arena, name, Want::Refuse(message), &bytes, &with_id);
    }
    // Without --identity an encrypted bundle is named as one.
    attack_with(&arena, "age-no-identity", Want::Refuse("give --identity"), &good, &[]);
}

#[test]
fn every_failing_format_vector_fails_cleanly_in_bounded_memory_and_writes_nothing() {
    let arena = Arena::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../format-spec/vectors");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".zip") else {
            continue;
        };
        // Vectors that pass, or fail only under a trust list, recorded head or TSA trust list
        // (options `ls` and `cat` do not take), are not hostile bytes.
        let expect = std::fs::read_to_string(dir.join(format!("{stem}.expect"))).unwrap();
        if expect.lines().any(|l| {
            l == "expect: ok" || l.starts_with("trust:") || l.starts_with("head:") || l.starts_with("tsa-trust:")
        }) {
            continue;
        }
        let classes: Vec<&str> = expect
            .lines()
            .find_map(|l| l.strip_prefix("expect: "))
            .unwrap_or_else(|| panic!("{stem}.expect has no expect: line"))
            .split_whitespace()
            .collect();
        attack(&arena, stem, &classes, &std::fs::read(&path).unwrap());
        n += 1;
    }
    assert!(n > 80, "{n} vectors");
}

#[test]
fn zip64_bundles_truncated_at_every_record_fail_cleanly() {
    let arena = Arena::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../format-spec/vectors");
    let mut n = 0;
    let mut zip64_end = false;
    for vector in ["valid-zip64", "valid-zip64-end-record"] {
        let bytes = std::fs::read(dir.join(format!("{vector}.zip"))).unwrap();
        // Every record: local and central headers, Zip64 end record and locator, end record.
        let signatures: [&[u8]; 5] = [
            b"PK\x03\x04",
            b"PK\x01\x02",
            b"PK\x06\x06",
            b"PK\x06\x07",
            b"PK\x05\x06",
        ];
        let mut cuts: Vec<usize> = (1..bytes.len())
            .filter(|i| signatures.iter().any(|s| bytes[*i..].starts_with(s)))
            .flat_map(|i| [i, i + 4])
            .collect();
        cuts.push(bytes.len() - 1);
        cuts.dedup();
        zip64_end |= bytes.windows(4).any(|w| w == b"PK\x06\x06");
        for cut in cuts {
            attack(
                &arena,
                &format!("{vector}-truncated-at-{cut}"),
                &[MALFORMED_CONTAINER],
                &bytes[..cut],
            );
            n += 1;
        }
    }
    assert!(n > 10, "{n}");
    assert!(zip64_end, "a Zip64 end record and locator are among the cuts");
}
