//! Confidential bundles (issue #18): `--encrypt-to` writes an age-encrypted bundle without the
//! plaintext ever touching the disk, every reading command opens it with `--identity`, the real
//! `age` command interoperates both ways, and `custody transfer --reencrypt-to` hands it over.

use crate::podman::{Container, Image};
use crate::util::*;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// `age-keygen -o DIR/NAME.txt`: the identity file and its recipient.
pub fn age_key(dir: &Path, name: &str) -> (PathBuf, String) {
    let id = dir.join(format!("{name}.txt"));
    let o = Command::new("age-keygen").arg("-o").arg(&id).output().unwrap();
    assert!(o.status.success(), "age-keygen: {}", stderr(&o));
    let o = Command::new("age-keygen").arg("-y").arg(&id).output().unwrap();
    (id, stdout(&o).trim().to_string())
}

/// `age -d -i ID IN > OUT`, which must succeed.
fn age_decrypt(id: &Path, input: &Path, out: &Path) {
    let o = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(id)
        .arg("-o")
        .arg(out)
        .arg(input)
        .output()
        .unwrap();
    assert!(o.status.success(), "age -d: {}", stderr(&o));
}

/// The independent Python verifier's verdict on a bundle in clear, with `extra` options.
fn python_verified(bundle: &Path, extra: &[&str]) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/python/verify_bundle.py");
    let o = Command::new("python3")
        .arg(script)
        .arg("--json")
        .args(extra)
        .arg(bundle)
        .output()
        .unwrap();
    serde_json::from_slice::<serde_json::Value>(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)))["verified"]
        .clone()
}

/// What a watch on some directories saw while a command ran.
struct Watched {
    /// Every file name inotify reported created, written or moved in (`EVENT PATH`).
    events: BTreeSet<String>,
    /// Files seen holding a bundle in clear (starting with a ZIP local header, or holding the
    /// bundle's marker text), by polling their content as the command ran.
    plaintext: BTreeSet<String>,
}

/// Runs `f` while watching `dirs` (recursively) two ways: `inotifywait` names every file created,
/// closed after writing or moved in, and a poller reads every file there every few milliseconds
/// looking for a bundle in clear.
fn watch(dirs: &[&Path], f: impl FnOnce()) -> Watched {
    let mut inotify = Command::new("inotifywait");
    inotify.args(["-m", "-r", "-e", "create,close_write,moved_to", "--format", "%e %w%f"]);
    let mut child = inotify
        .args(dirs)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("Watches established") {
        line.clear();
        assert!(err.read_line(&mut line).unwrap() > 0, "inotifywait did not start");
    }
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let stop = Arc::new(AtomicBool::new(false));
    let poll_dirs: Vec<PathBuf> = dirs.iter().map(|d| d.to_path_buf()).collect();
    let poll_stop = Arc::clone(&stop);
    let poller = std::thread::spawn(move || {
        let mut seen = BTreeSet::new();
        loop {
            let last = poll_stop.load(Ordering::SeqCst);
            for d in &poll_dirs {
                scan(d, &mut seen);
            }
            if last {
                return seen;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    });
    f();
    stop.store(true, Ordering::SeqCst);
    let plaintext = poller.join().unwrap();
    // A marker file made in each directory after the command: once inotify has reported every
    // marker, it has reported everything before it. The markers are not among the events.
    let markers: Vec<String> = dirs
        .iter()
        .map(|d| {
            let m = d.join(".watch-end");
            std::fs::write(&m, b"").unwrap();
            std::fs::remove_file(&m).unwrap();
            format!("CREATE {}", s(&m))
        })
        .collect();
    let mut events = BTreeSet::new();
    while !markers.iter().all(|m| events.contains(m)) {
        match rx.recv_timeout(std::time::Duration::from_secs(30)) {
            Ok(line) => events.insert(line),
            Err(e) => panic!("inotifywait did not report the end markers: {e}; {events:?}"),
        };
    }
    child.kill().unwrap();
    child.wait().unwrap();
    reader.join().unwrap();
    events.extend(rx.try_iter());
    events.retain(|e| !e.ends_with("/.watch-end"));
    Watched { events, plaintext }
}

/// Adds to `seen` the target of every file process `pid` has open under one of `dirs` whose
/// first 8 MiB start with a ZIP header or hold one of `markers`.
fn open_plaintext(pid: u32, dirs: &[&Path], markers: &[Vec<u8>], seen: &mut BTreeSet<String>) {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return;
    };
    for fd in fds.flatten() {
        let Ok(target) = std::fs::read_link(fd.path()) else {
            continue;
        };
        if !dirs.iter().any(|d| target.starts_with(d)) {
            continue;
        }
        let mut head = Vec::new();
        if let Ok(f) = std::fs::File::open(fd.path()) {
            let _ = f.take(8 << 20).read_to_end(&mut head);
        }
        let marked = markers.iter().any(|m| head.windows(m.len()).any(|w| w == m.as_slice()));
        if head.starts_with(b"PK\x03\x04") || marked {
            // An unnamed file shows as DIR/#INODE (deleted); name it by its directory.
            let shown = target.to_string_lossy().into_owned();
            seen.insert(if shown.contains("/#") {
                format!("{} (unnamed)", shown.split("/#").next().unwrap_or(""))
            } else {
                shown
            });
        }
    }
}

/// Adds to `seen` every file under `dir` whose content is a bundle in clear.
fn scan(dir: &Path, seen: &mut BTreeSet<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            scan(&p, seen);
            continue;
        }
        let mut head = Vec::new();
        if let Ok(f) = std::fs::File::open(&p) {
            let _ = f.take(1 << 16).read_to_end(&mut head);
        }
        let marker = head.windows(21).any(|w| w == b"application/vnd.foren");
        if head.starts_with(b"PK\x03\x04") || marker {
            seen.insert(p.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
}

#[test]
fn collect_encrypt_to_never_writes_the_bundle_in_clear_and_opens_with_age_and_identity() {
    let work = tempfile::tempdir().unwrap();
    let tag = format!("enc{}", std::process::id());
    let image = Image::build(work.path(), &tag);
    let container = Container::start(&image, &format!("forensic-e2e-{tag}"));
    container.sh("echo 'exfil to 203.0.113.9' > /root/notes.txt");
    let (key, _) = keygen(work.path(), "responder");
    let (id, recipient) = age_key(work.path(), "examiner");
    let (other, _) = age_key(work.path(), "stranger");
    let out_dir = work.path().join("out");
    let tmp = work.path().join("tmp");
    std::fs::create_dir_all(&out_dir).unwrap();
    std::fs::create_dir_all(&tmp).unwrap();
    // Runs a collection, reading every file it holds open under the output or temporary
    // directory while it runs (named or not: /proc/PID/fd reaches unnamed O_TMPFILE files too);
    // returns those seen holding evidence in clear (a ZIP header, the container's name, which
    // the runtime's inspect output carries, or the note's text).
    let markers: Vec<Vec<u8>> = vec![container.name.clone().into_bytes(), b"203.0.113.9".to_vec()];
    let collect = |bundle: &Path, extra: &[&str]| -> BTreeSet<String> {
        let mut c = forensic();
        c.args([
            "collect",
            "--container",
            &container.name,
            "--runtime",
            "podman",
            "-o",
            s(bundle),
        ]);
        c.args(["--key", s(&key), "--quiet"]).args(extra).env("TMPDIR", &tmp);
        let mut child = c.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let mut seen = BTreeSet::new();
        let status = loop {
            open_plaintext(child.id(), &[&out_dir, &tmp], &markers, &mut seen);
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        };
        let mut err = String::new();
        child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        assert!(status.success(), "collect: {err}");
        seen
    };

    // Reading the collector's open files catches evidence in clear: without --encrypt-to, the
    // bundle being written is seen (and nothing else: the outputs of the programs collect runs
    // and its spools are enciphered in every collection).
    let clear = out_dir.join("clear.zip");
    let open = collect(&clear, &[]);
    assert_eq!(
        open,
        BTreeSet::from([format!("{}/.forensic-clear.zip.partial", s(&out_dir))]),
        "{open:?}"
    );
    std::fs::remove_file(&clear).unwrap();
    // With --encrypt-to nothing the collector holds open is in clear.
    let sealed = out_dir.join("case.zip.age");
    let open = collect(&sealed, &["--encrypt-to", &recipient]);
    assert_eq!(open, BTreeSet::new());
    std::fs::remove_file(&sealed).unwrap();

    // The watch catches a bundle in clear: a collection without --encrypt-to is seen writing one.
    let clear = out_dir.join("clear.zip");
    let seen = watch(&[&out_dir, &tmp], || {
        collect(&clear, &[]);
    });
    assert!(
        seen.plaintext.contains(".forensic-clear.zip.partial"),
        "{:?}",
        seen.plaintext
    );
    std::fs::remove_file(&clear).unwrap();

    // Encrypted and time-stamped by a real RFC 3161 authority: no file in the output or
    // temporary directory ever holds the bundle in clear (the `timestamped` entry is appended
    // before encryption, in an enciphered scratch), and the only files named are the claim and
    // the final output.
    let tsa = crate::tsa::Authority::start(
        &work.path().join("tsa"),
        crate::tsa::Alg::Rsa,
        crate::tsa::Alg::Rsa,
        None,
    );
    let sealed = out_dir.join("case.zip.age");
    let seen = watch(&[&out_dir, &tmp], || {
        collect(&sealed, &["--encrypt-to", &recipient, "--tsa", &tsa.url]);
    });
    assert_eq!(seen.plaintext, BTreeSet::new());
    // In the output directory only the claim and the output are ever named; `#INODE` is how
    // inotify names an unnamed (O_TMPFILE) file: the enciphered scratch.
    let out_prefix = format!("{}/", s(&out_dir));
    let names: BTreeSet<&str> = seen
        .events
        .iter()
        .filter(|e| e.contains(&out_prefix))
        .filter_map(|e| e.rsplit('/').next())
        .filter(|n| !n.starts_with('#'))
        .collect();
    assert_eq!(
        names,
        BTreeSet::from([".forensic-case.zip.age.partial", "case.zip.age"]),
        "{:?}",
        seen.events
    );
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
    let stored = std::fs::read(&sealed).unwrap();
    assert!(stored.starts_with(b"age-encryption.org/v1\n"));
    assert!(!stored.windows(4).any(|w| w == b"PK\x03\x04"), "no ZIP header in clear");

    // `age -d` gives a bundle that forensic and the Python verifier accept, with the trusted
    // time of its seal.
    let plain_dir = tempfile::tempdir().unwrap();
    let plain = plain_dir.path().join("case.zip");
    age_decrypt(&id, &sealed, &plain);
    let o = run(&["verify", s(&plain)]);
    assert_eq!(code(&o), 0, "verify: {}{}", stdout(&o), stderr(&o));
    assert_eq!(python_verified(&plain, &["--tsa-trust", s(&tsa.root())]), true);
    let v = json(&run(&[
        "verify",
        "--json",
        "--identity",
        s(&id),
        "--tsa-trust",
        s(&tsa.root()),
        s(&sealed),
    ]));
    assert_eq!(v["verified"], true, "{v}");
    assert_eq!(actions(&v["custody"]), ["sealed", "timestamped"], "{v}");
    assert_eq!(v["custody"][1]["timestamps"][0]["verified"], true, "{v}");
    assert_eq!(
        v["custody"][1]["timestamps"][0]["imprint_sha256"],
        v["custody"][0]["entry_sha256"]
    );
    assert!(v["custody"][0]["trusted_time"].is_string(), "{v}");

    // verify --identity on the encrypted file passes and writes nothing anywhere watched.
    let seen = watch(&[&out_dir, &tmp], || {
        let o = forensic()
            .args(["verify", "--identity", s(&id), s(&sealed)])
            .env("TMPDIR", &tmp)
            .output()
            .unwrap();
        assert_eq!(code(&o), 0, "verify --identity: {}{}", stdout(&o), stderr(&o));
        assert!(stdout(&o).contains("VERIFIED"), "{}", stdout(&o));
    });
    assert_eq!((seen.events, seen.plaintext), (BTreeSet::new(), BTreeSet::new()));
    let same = |o: &std::process::Output| stdout(o).replace(s(&sealed), "B").replace(s(&plain), "B");
    assert_eq!(
        same(&run(&["verify", "--identity", s(&id), s(&sealed)])),
        same(&run(&["verify", s(&plain)]))
    );

    // A wrong identity, and none: clear errors, exit 2.
    let o = run(&["verify", "--identity", s(&other), s(&sealed)]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("none of the identities given can decrypt it"),
        "{}",
        stderr(&o)
    );
    let o = run(&["verify", s(&sealed)]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("is an encrypted bundle (age); give --identity FILE"),
        "{}",
        stderr(&o)
    );

    // One flipped ciphertext byte (in the payload, past the header): it does not verify.
    let flipped = work.path().join("flipped.zip.age");
    let mut bytes = stored.clone();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(&flipped, &bytes).unwrap();
    let o = run(&["verify", "--identity", s(&id), s(&flipped)]);
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("fails authentication"), "{}", stdout(&o));
}

/// Seals the checklist directory encrypted to `recipient`; returns the bundle.
fn sealed_encrypted(root: &Path, key: &Path, recipient: &str) -> PathBuf {
    let out = root.join("case42.zip.age");
    let o = seal(
        &checklist_dir(root),
        &out,
        key,
        &["--case", "CASE-42", "--encrypt-to", recipient],
    );
    assert_eq!(code(&o), 0, "seal: {}{}", stdout(&o), stderr(&o));
    out
}

/// `seal --tsa` whose authority does not answer, in clear and encrypted: the bundle is written
/// and sealed without the `timestamped` entry, the error says so, exit 2; encrypted, it is still
/// encrypted (never rewritten in clear) and opens with the identity.
#[test]
fn an_authority_that_does_not_answer_leaves_the_bundle_sealed_without_its_entry() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path();
    let (key, _) = keygen(root, "responder");
    let (id, recipient) = age_key(root, "examiner");
    let dir = checklist_dir(root);
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = format!("http://127.0.0.1:{port}/");
    for (name, extra) in [
        ("clear.zip", vec![]),
        ("case.zip.age", vec!["--encrypt-to", recipient.as_str()]),
    ] {
        let out = root.join(name);
        let mut args = vec!["--tsa", dead.as_str()];
        args.extend(extra.iter().copied());
        let o = seal(&dir, &out, &key, &args);
        assert_eq!(code(&o), 2, "{name}: {}{}", stdout(&o), stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains(&format!(
                "{} was written and sealed, complete but without its last custody entry: appending to {}: could not time-stamp the custody head: {dead}",
                s(&out),
                s(&out)
            )) && err.trim_end().ends_with("; the bundle was left untouched"),
            "{name}: {err}"
        );
        let mut verify = vec!["verify", "--json"];
        if !extra.is_empty() {
            assert!(std::fs::read(&out).unwrap().starts_with(b"age-encryption.org/v1\n"));
            verify.extend(["--identity", s(&id)]);
        }
        verify.push(s(&out));
        let v = json(&run(&verify));
        assert_eq!(v["verified"], true, "{name}: {v}");
        assert_eq!(v["custody"].as_array().unwrap().len(), 1, "{name}: only the seal: {v}");
        // Nothing left beside it.
        let left: Vec<String> = std::fs::read_dir(root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert_eq!(left, Vec::<String>::new(), "{name}");
    }
}

#[test]
fn every_reading_command_gives_the_same_answer_on_the_encrypted_bundle_as_on_its_plaintext() {
    let root = tempfile::tempdir().unwrap();
    let (key, _) = keygen(root.path(), "responder");
    let (id, recipient) = age_key(root.path(), "examiner");
    let sealed = sealed_encrypted(root.path(), &key, &recipient);
    let plain = root.path().join("case42.zip");
    age_decrypt(&id, &sealed, &plain);
    assert_eq!(python_verified(&plain, &[]), true);
    let bytes = std::fs::read(&plain).unwrap();
    let member = contents(&bytes)
        .into_iter()
        .find(|(n, c)| n.starts_with(|c: char| c.is_ascii_digit()) && !c.is_empty())
        .map(|m| m.0)
        .unwrap();
    // B is the bundle, M a member.
    let cases: [&[&str]; 6] = [
        &["verify", "--json", "B"],
        &["ls", "B"],
        &["show", "B", "summary"],
        &["timeline", "B"],
        &["custody", "log", "B"],
        &["cat", "B", "M"],
    ];
    let norm = |o: &std::process::Output| stdout(o).replace(s(&sealed), "B").replace(s(&plain), "B");
    for args in cases {
        let with = |b: &Path| -> Vec<String> {
            args.iter()
                .map(|a| match *a {
                    "B" => s(b).to_string(),
                    "M" => member.clone(),
                    other => other.to_string(),
                })
                .collect()
        };
        let run_owned = |a: &[String]| run(&a.iter().map(String::as_str).collect::<Vec<_>>());
        let mut enc_args = with(&sealed);
        enc_args.extend(["--identity".to_string(), s(&id).to_string()]);
        let (e, p) = (run_owned(&enc_args), run_owned(&with(&plain)));
        assert_eq!(code(&p), 0, "{args:?} on the plaintext: {}", stderr(&p));
        assert_eq!((code(&e), norm(&e)), (0, norm(&p)), "{args:?}: {}", stderr(&e));
        assert!(!norm(&e).is_empty(), "{args:?}");
        let none = run_owned(&with(&sealed));
        assert_eq!(code(&none), 2, "{args:?} without --identity");
        assert!(stderr(&none).contains("give --identity"), "{args:?}: {}", stderr(&none));
    }
    // extract writes the members asked for, and only them; the same tree as from the plaintext.
    let (a, b) = (root.path().join("x-enc"), root.path().join("x-plain"));
    let o = run(&["extract", "--identity", s(&id), s(&sealed), "-o", s(&a)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(code(&run(&["extract", s(&plain), "-o", s(&b)])), 0);
    assert_eq!(listing(&a), listing(&b));
}

#[test]
fn interoperates_with_the_age_command_and_refuses_what_it_cannot_read() {
    let root = tempfile::tempdir().unwrap();
    let (plain, _, _) = sealed_bundle(root.path());
    let (id, recipient) = age_key(root.path(), "examiner");
    // Encrypted by `age` itself: forensic opens it.
    let by_age = root.path().join("by-age.zip.age");
    let o = Command::new("age")
        .args(["-r", &recipient, "-o", s(&by_age), s(&plain)])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&["verify", "--identity", s(&id), s(&by_age)]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    // An SSH recipient and identity (ssh-keygen), both ways.
    let ssh = root.path().join("lab_ed25519");
    let o = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f", s(&ssh)])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let ssh_pub = format!("{}.pub", s(&ssh));
    let sealed = root.path().join("ssh.zip.age");
    let o = seal(
        &checklist_dir(root.path()),
        &sealed,
        &root.path().join("responder.key"),
        &["--encrypt-to", &ssh_pub],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(code(&run(&["verify", "--identity", s(&ssh), s(&sealed)])), 0);
    let back = root.path().join("ssh.zip");
    let o = Command::new("age")
        .args(["-d", "-i", s(&ssh), "-o", s(&back), s(&sealed)])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(code(&run(&["verify", s(&back)])), 0);
    // Armored, truncated in the header, garbage after a valid header: clear errors, no panic.
    let armored = root.path().join("armored.age");
    let o = Command::new("age")
        .args(["-a", "-r", &recipient, "-o", s(&armored), s(&plain)])
        .output()
        .unwrap();
    assert!(o.status.success());
    let o = run(&["verify", "--identity", s(&id), s(&armored)]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("ASCII-armored"), "{}", stderr(&o));
    let full = std::fs::read(&by_age).unwrap();
    let truncated = root.path().join("truncated.age");
    std::fs::write(&truncated, &full[..40]).unwrap();
    let o = run(&["verify", "--identity", s(&id), s(&truncated)]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("not a valid age file"), "{}", stderr(&o));
    let header_end = full.windows(4).position(|w| w == b"\n---").unwrap();
    let header_end = header_end + full[header_end + 1..].iter().position(|b| *b == b'\n').unwrap() + 2;
    let garbage = root.path().join("garbage.age");
    let mut g = full[..header_end].to_vec();
    g.extend(std::iter::repeat_n(0x5a, 200_000));
    std::fs::write(&garbage, &g).unwrap();
    let o = run(&["verify", "--identity", s(&id), s(&garbage)]);
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("fails authentication"), "{}", stdout(&o));
    for o in [
        run(&["ls", "--identity", s(&id), s(&garbage)]),
        run(&["show", "summary", "--identity", s(&id), s(&truncated)]),
    ] {
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
        assert_ne!(code(&o), 0);
    }
}

#[test]
fn custody_transfer_reencrypts_for_the_next_holder_only() {
    let root = tempfile::tempdir().unwrap();
    let (key, _) = keygen(root.path(), "responder");
    let (lab_key, lab_pub) = keygen(root.path(), "lab");
    let (id_a, to_a) = age_key(root.path(), "responder-age");
    let (id_b, to_b) = age_key(root.path(), "lab-age");
    let sealed = sealed_encrypted(root.path(), &key, &to_a);
    let before = std::fs::read(&sealed).unwrap();
    let transfer = |extra: &[&str]| {
        let mut a = vec!["custody", "transfer", s(&sealed), "--key", s(&key), "--to", s(&lab_pub)];
        a.extend_from_slice(extra);
        run(&a)
    };
    // Without --reencrypt-to: refused, nothing written.
    let o = transfer(&["--identity", s(&id_a)]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("give --reencrypt-to RECIPIENT"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&sealed).unwrap(), before);
    let o = transfer(&["--identity", s(&id_a), "--reencrypt-to", &to_b]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        listing(root.path()).iter().filter(|n| n.contains(".custody-")).count(),
        0
    );
    // The next holder opens it and receives it (keeping it encrypted to themselves).
    let o = run(&["verify", "--identity", s(&id_b), s(&sealed)]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let o = run(&[
        "custody",
        "receive",
        s(&sealed),
        "--key",
        s(&lab_key),
        "--identity",
        s(&id_b),
        "--reencrypt-to",
        &to_b,
    ]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let o = run(&["custody", "log", "--identity", s(&id_b), "--json", s(&sealed)]);
    assert_eq!(actions(&json(&o)["entries"]), ["sealed", "transferred", "received"]);
    // The previous holder's identity no longer does.
    let o = run(&["verify", "--identity", s(&id_a), s(&sealed)]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("none of the identities given can decrypt it"),
        "{}",
        stderr(&o)
    );
    let out = root.path().join("lab.zip");
    age_decrypt(&id_b, &sealed, &out);
    assert_eq!(python_verified(&out, &[]), true);
}
