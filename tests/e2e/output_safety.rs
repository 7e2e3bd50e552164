//! Printing safely, and one meaning per exit code (README, "Output safety" and "Exit codes"):
//! file names holding ESC `[2J`, a newline, a C1 CSI and bidirectional controls, in a sealed
//! bundle and in a podman container's `/tmp`, go through every command that prints — and the
//! custody actors and notes, case fields and audit log users and pods with them — and no raw
//! control byte reaches stdout or stderr; every command exits with the documented code when the
//! evidence is intact, does not verify, is used with `--force`, cannot be read, or differs.

use crate::podman::{Container, Image};
use crate::util::*;
use forensic_bundle::limits::Limits;
use forensic_bundle::zipread;
use std::io::Cursor;
use std::path::Path;
use std::process::Output;

/// The hostile names: ESC `[2J` (clears the screen), a newline (forges a line), C1 CSI `2J`
/// (clears it on terminals that take 8-bit controls), a right-to-left override (`exe.txt`
/// shown as `txt.exe`) and an isolate pair.
const HOSTILE: [&str; 5] = [
    "esc\u{1b}[2Jclear",
    "new\nline",
    "csi\u{9b}2J",
    "bidi\u{202e}txt.exe",
    "iso\u{2066}x\u{2069}",
];

/// What a terminal would act on, found in `bytes`: C0 controls but newline and tab, DEL, and, read
/// as UTF-8, C1 controls, bidirectional controls, zero-width characters, line and paragraph
/// separators and the byte order mark. Written apart from the code under test.
fn raw_controls(bytes: &[u8]) -> Vec<String> {
    let mut found: Vec<String> = bytes
        .iter()
        .enumerate()
        .filter(|&(_, &b)| (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f)
        .map(|(i, b)| format!("byte {b:#04x} at {i}"))
        .collect();
    for (i, c) in String::from_utf8_lossy(bytes).char_indices() {
        let u = u32::from(c);
        if (0x80..=0x9f).contains(&u)
            || (0x202a..=0x202e).contains(&u)
            || (0x2066..=0x2069).contains(&u)
            || [0x061c, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x2028, 0x2029, 0xfeff].contains(&u)
        {
            found.push(format!("U+{u:04X} at {i}"));
        }
    }
    found
}

/// Runs `forensic ARGS`, asserts its exit code and that neither stream holds a raw control.
fn check(args: &[&str], want: i32) -> Output {
    let o = run(args);
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert_eq!(code(&o), want, "forensic {args:?}: {all}");
    assert!(!all.contains("panicked"), "forensic {args:?}: {all}");
    for (stream, bytes) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
        let raw = raw_controls(bytes);
        assert!(raw.is_empty(), "forensic {args:?}: raw {raw:?} on {stream}: {all:?}");
    }
    o
}

/// `check` for a command that prints the hostile names: each must show, escaped.
fn check_names(args: &[&str], want: i32, names: &[&str]) -> Output {
    let o = check(args, want);
    let all = format!("{}{}", stdout(&o), stderr(&o));
    for n in names {
        assert!(all.contains(n), "forensic {args:?} does not show {n}: {all}");
    }
    o
}

/// The escaped forms of the C1 and bidi names as text output shows them.
const SHOWN: [&str; 3] = [r"csi\u{9b}2J", r"bidi\u{202e}txt.exe", r"iso\u{2066}x\u{2069}"];

/// The audit sample of an exec session, with a hostile user and pod.
fn hostile_audit_log() -> Vec<u8> {
    let text = std::fs::read_to_string(sample("k8s-audit/falco-exec_pod.json")).unwrap();
    assert!(text.contains("minikube-user") && text.contains("nginx-deployment-7998647bdf-phvq7"));
    text.replace("minikube-user", r"eve\u001b[2J\u009b2J\u202euser")
        .replace("nginx-deployment-7998647bdf-phvq7", r"pod\u2066x\u2069\nforged")
        .into_bytes()
}

/// A sealed bundle whose evidence file names, case fields, custody actors and notes and audit
/// log are hostile; it has been transferred and received.
fn hostile_sealed(root: &Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let dir = checklist_dir(root);
    for (i, n) in HOSTILE.iter().enumerate() {
        write(&dir, &format!("files/{n}"), format!("hostile {i}\n").as_bytes());
    }
    write(&dir, "audit.log", &hostile_audit_log());
    let (key, _) = keygen(root, "responder");
    let (lab, lab_pub) = keygen(root, "lab");
    let bundle = root.join("hostile.zip");
    let o = seal(
        &dir,
        &bundle,
        &key,
        &[
            "--case",
            "CASE\u{1b}[2J",
            "--examiner",
            "Eve\u{202e}",
            "--evidence-number",
            "7\u{9b}2J",
            "--note",
            "seal\nnote",
            "--actor",
            "act\u{1b}]0;title\u{7}or",
        ],
    );
    assert_eq!(code(&o), 0, "seal: {}{}", stdout(&o), stderr(&o));
    let b = s(&bundle);
    check(
        &[
            "custody",
            "transfer",
            b,
            "--key",
            s(&key),
            "--to",
            s(&lab_pub),
            "--note",
            "courier\u{9b}2J",
            "--actor",
            "to\u{202e}m",
        ],
        0,
    );
    check(
        &[
            "custody",
            "receive",
            b,
            "--key",
            s(&lab),
            "--note",
            "bag\u{1b}[2J\nintact",
        ],
        0,
    );
    (bundle, key, lab)
}

/// A copy of `bundle` whose member `name` has one content byte changed in place: its CRC-32 and
/// SHA-256 no longer match (structure, manifest and custody still verify).
fn damaged_member(bundle: &Path, name: &str, out: &Path) {
    let mut bytes = std::fs::read(bundle).unwrap();
    let idx = zipread::read_index(&mut Cursor::new(&bytes[..]), &Limits::default()).unwrap();
    let e = idx.entries.iter().find(|e| e.name == name).unwrap();
    bytes[e.data_offset as usize] ^= 0x20;
    std::fs::write(out, bytes).unwrap();
}

#[test]
fn hostile_names_in_a_sealed_bundle_reach_no_terminal_raw() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let (bundle, _, _) = hostile_sealed(root);
    let b = s(&bundle);
    assert_eq!(code(&run(&["verify", b])), 0);
    check_names(
        &["verify", b],
        0,
        &[
            r"CASE\u{1b}[2J",
            r"Eve\u{202e}",
            r"7\u{9b}2J",
            r"seal\nnote",
            r"courier\u{9b}2J",
        ],
    );
    check(&["verify", b, "--json"], 0);
    // ls: member names (C1 and bidi survive SPEC §3) and sources (every byte of the original).
    let o = check_names(&["ls", b], 0, &SHOWN);
    let text = stdout(&o);
    assert!(
        text.contains(r"esc\u{1b}[2Jclear") && text.contains(r"new\nline"),
        "the original paths, escaped: {text}"
    );
    check(&["ls", b, "--json"], 0);
    let o = check(&["custody", "log", b], 0);
    let text = stdout(&o);
    for want in [
        r"courier\u{9b}2J",
        r"bag\u{1b}[2J\nintact",
        r"to\u{202e}m",
        r"act\u{1b}]0;title\u{7}or",
    ] {
        assert!(text.contains(want), "custody log shows {want}: {text}");
    }
    check(&["custody", "log", b, "--json"], 0);
    // cat: the errors name the member escaped.
    let o = check(&["cat", b, "5-filesystem/files/nope\u{9b}2J\u{1b}[2J"], 2);
    assert!(stderr(&o).contains(r"nope\u{9b}2J\u{1b}[2J"), "{}", stderr(&o));
    // extract: the skipped-nothing summary and the notes.
    check(&["extract", b, "-o", s(&root.join("out"))], 0);
    check(&["extract", b, "-o", s(&root.join("out-json")), "--json"], 0);
    for view in ["summary", "suspicious", "network"] {
        check(&["show", b, view], 0);
        check(&["show", b, view, "--json"], 0);
    }
    // A sealed checklist has no processes.json or tree index: an error (2), printed safely.
    for view in ["processes", "files"] {
        check(&["show", b, view], 2);
    }
    check_names(&["show", b, "summary"], 0, &[r"CASE\u{1b}[2J", r"Eve\u{202e}"]);
    for format in ["text", "csv", "jsonl", "bodyfile"] {
        check(&["timeline", b, "--format", format], 0);
    }
    check_names(&["timeline", b], 0, &[r"courier\u{9b}2J"]);
    let users = [r"eve\u{1b}[2J\u{9b}2J\u{202e}user", r"pod\u{2066}x\u{2069}\nforged"];
    for q in [
        &["exec"][..],
        &["requests"],
        &["timeline", "--pod", "pod\u{2066}x\u{2069}\nforged"],
    ] {
        let mut args = vec!["audit", b];
        args.extend_from_slice(q);
        check_names(&args, 0, &users);
        args.push("--json");
        check(&args, 0);
    }
    // diff needs a collector's bundle (the podman test); here it says so, safely.
    check(&["diff", b, "--image-from-bundle"], 2);

    // A damaged hostile member: verify, ls, cat, extract --force, show --force name it escaped.
    let bad = root.join("damaged.zip");
    damaged_member(&bundle, "5-filesystem/files/csi\u{9b}2J", &bad);
    let d = s(&bad);
    check_names(&["verify", d], 1, &[SHOWN[0]]);
    check_names(&["cat", d, "5-filesystem/files/csi\u{9b}2J"], 1, &[SHOWN[0]]);
    check_names(&["extract", d, "-o", s(&root.join("refused"))], 1, &[SHOWN[0]]);
    check_names(
        &["extract", d, "-o", s(&root.join("forced")), "--force"],
        1,
        &[SHOWN[0]],
    );
    check_names(&["show", d, "summary", "--force"], 1, &[SHOWN[0]]);
    check_names(&["timeline", d, "--force"], 1, &[SHOWN[0]]);
    // audit reads only 7-audit, which is intact (it checks the structure, not other members).
    check(&["audit", d, "exec"], 0);
}

/// A container whose `/tmp` holds the hostile names, collected; the bundle through every
/// command, `diff` among them.
#[test]
fn hostile_names_in_a_container_reach_no_terminal_raw() {
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path();
    // The files podman mounts over exist in the image, so that starting the container changes
    // nothing in its writable layer.
    let image = Image::build_with(
        w,
        "output-safety",
        &[
            ("etc/output-safety", b"output safety\n"),
            ("etc/hostname", b""),
            ("etc/resolv.conf", b""),
            ("run/.containerenv", b""),
        ],
    );
    let (key, _) = keygen(w, "responder");

    // No differences (exit 0) with the container's own root filesystem, as `podman export`
    // writes it (against the image, podman's own `C /etc` shows even in a fresh container).
    let clean = Container::start(&image, "forensic-e2e-output-safety-clean");
    let clean_bundle = w.join("clean.zip");
    clean.collect(&clean_bundle, &key, &["--quiet"]);
    let export = w.join("export.tar");
    crate::podman::podman(&["export", "-o", s(&export), &clean.name]);
    drop(clean);
    check(&["diff", s(&clean_bundle), "--image", s(&export)], 0);
    let rootfs = w.join("rootfs.tar");

    let c = Container::start(&image, "forensic-e2e-output-safety");
    let script: String = HOSTILE
        .iter()
        .map(|n| format!("printf 'x\\n' > \"/tmp/$(printf '{}')\"; ", n.replace('\n', "\\n")))
        .collect();
    c.sh(&script);
    let audit = w.join("audit.log");
    std::fs::write(&audit, hostile_audit_log()).unwrap();
    let bundle = w.join("hostile.zip");
    let o = c.collect(&bundle, &key, &["--audit-log", s(&audit)]);
    assert!(raw_controls(&o.stdout).is_empty() && raw_controls(&o.stderr).is_empty());
    let b = s(&bundle);
    let tmp_names = [
        r"/tmp/esc\u{1b}[2Jclear",
        r"/tmp/new\nline",
        r"/tmp/csi\u{9b}2J",
        r"/tmp/bidi\u{202e}txt.exe",
    ];
    check(&["verify", b], 0);
    check_names(&["ls", b], 0, &SHOWN);
    check(&["ls", b, "--json"], 0);
    check(&["custody", "log", b], 0);
    check(&["extract", b, "-o", s(&w.join("out"))], 0);
    for view in ["summary", "processes", "network", "files", "suspicious"] {
        check(&["show", b, view], 0);
        check(&["show", b, view, "--json"], 0);
    }
    check_names(&["show", b, "files", "--path", "/tmp/**"], 0, &tmp_names);
    for format in ["text", "csv", "jsonl", "bodyfile"] {
        check(&["timeline", b, "--format", format], 0);
    }
    check_names(&["timeline", b], 0, &tmp_names);
    // Differences in a bundle that verifies: exit 3, every name escaped.
    check_names(&["diff", b, "--image-from-bundle"], 3, &tmp_names);
    check(&["diff", b, "--image", s(&rootfs), "--json"], 3);
    check(&["audit", b, "exec"], 0);
}
