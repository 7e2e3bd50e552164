//! Crash safety: `seal`, `collect` and `custody transfer` killed with SIGKILL at many points —
//! by how much of their temporary file they had written, and by time — leave the destination
//! absent (or the previous bundle byte for byte), and the next run removes what the killed one
//! left behind.

use crate::podman::{Container, Image};
use crate::util::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// When to kill.
#[derive(Debug, Clone, Copy)]
enum At {
    /// Once a temporary file in the directory has at least this many bytes.
    Bytes(u64),
    /// This long after the start.
    After(Duration),
}

/// What happened to one run.
#[derive(Debug, PartialEq)]
enum Outcome {
    Killed,
    Finished,
}

/// Temporary files (`.` names ending in `.partial`) in `dir`, with their sizes.
fn temps(dir: &Path) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e))
        .filter(|(n, _)| n.starts_with('.') && n.ends_with(".partial"))
        .map(|(n, e)| (n, e.metadata().map(|m| m.len()).unwrap_or(0)))
        .collect();
    v.sort();
    v
}

/// Runs `cmd`, watching `dir`, and sends SIGKILL at `at` (unless it finishes first).
fn run_and_kill(mut cmd: Command, dir: &Path, at: At) -> Outcome {
    let start = Instant::now();
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{cmd:?} failed before it was killed: {status}");
            return Outcome::Finished;
        }
        let due = match at {
            At::Bytes(n) => temps(dir).iter().any(|(_, len)| *len >= n),
            At::After(d) => start.elapsed() >= d,
        };
        if due {
            child.kill().unwrap();
            child.wait().unwrap();
            return Outcome::Killed;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "{cmd:?} hangs");
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Kill points: every `step` bytes up to `size`, the last byte, and a few early times.
fn points(size: u64, step: u64) -> Vec<At> {
    let mut v: Vec<At> = [0, 2, 20].map(|ms| At::After(Duration::from_millis(ms))).to_vec();
    v.extend((0..size).step_by(usize::try_from(step).unwrap()).map(At::Bytes));
    v.extend([At::Bytes(size - 1), At::Bytes(size)]);
    v
}

/// Incompressible bytes (xorshift), so that the bundle is as large as its input.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    v
}

/// After a killed run: nothing at `dest`. Gives the temporary files left.
fn assert_absent(dest: &Path, at: At, outcome: &Outcome) {
    if *outcome == Outcome::Killed {
        assert!(
            std::fs::symlink_metadata(dest).is_err(),
            "killed at {at:?}, yet {} exists",
            dest.display()
        );
    }
}

/// Counts of the outcomes, and how many kills left a temporary file (the case the next run must
/// clean up): the test is only worth something if kills land while writing.
fn tally(results: &[(At, Outcome, usize)]) -> (usize, usize) {
    let killed = results.iter().filter(|r| r.1 == Outcome::Killed).count();
    let left = results.iter().filter(|r| r.1 == Outcome::Killed && r.2 > 0).count();
    (killed, left)
}

/// Kills `cmd` half-way through its temporary file, so that the next run has one to clean up.
fn leave_a_temp(cmd: Command, dir: &Path, bytes: u64) {
    assert_eq!(run_and_kill(cmd, dir, At::Bytes(bytes)), Outcome::Killed);
    assert!(!temps(dir).is_empty(), "a killed run leaves its temporary file");
}

fn seal_cmd(input: &Path, dest: &Path, key: &Path) -> Command {
    let mut c = forensic();
    c.args(["seal", s(input), "-o", s(dest), "--key", s(key), "--quiet"]);
    c
}

#[test]
fn seal_killed_anywhere_leaves_no_bundle_and_the_next_run_cleans_up() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let input = checklist_dir(root);
    for i in 0..4 {
        write(&input, &format!("files/region-{i}.bin"), &noise(16 << 20, i + 1));
    }
    let (key, _) = keygen(root, "responder");
    let out = root.join("out");
    std::fs::create_dir(&out).unwrap();

    // A complete run gives the size to aim at.
    let reference = out.join("reference.zip");
    let o = seal(&input, &reference, &key, &["--quiet"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let size = std::fs::metadata(&reference).unwrap().len();
    std::fs::remove_file(&reference).unwrap();

    let dest = out.join("case.zip");
    let mut results = Vec::new();
    for at in points(size, 8 << 20) {
        let outcome = run_and_kill(seal_cmd(&input, &dest, &key), &out, at);
        assert_absent(&dest, at, &outcome);
        if outcome == Outcome::Finished {
            assert_eq!(code(&run(&["verify", s(&dest)])), 0);
            std::fs::remove_file(&dest).unwrap();
        }
        results.push((at, outcome, temps(&out).len()));
    }
    let (killed, left) = tally(&results);
    assert!(killed >= results.len() - 2, "most points must be kills: {results:?}");
    assert!(left >= 5, "kills must land mid-write: {results:?}");
    leave_a_temp(seal_cmd(&input, &dest, &key), &out, size / 2);

    let o = seal(&input, &dest, &key, &["--quiet"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(temps(&out), [], "the next run removes what killed runs left");
    assert_eq!(code(&run(&["verify", s(&dest)])), 0);
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1, "only the bundle");
}

#[test]
fn custody_transfer_killed_anywhere_leaves_the_previous_bundle_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let input = checklist_dir(root);
    write(&input, "files/dump.bin", &noise(64 << 20, 7));
    let (key, _) = keygen(root, "collector");
    let (_, lab_pub) = keygen(root, "lab");
    let out = root.join("out");
    std::fs::create_dir(&out).unwrap();
    let bundle = out.join("case.zip");
    let o = seal(&input, &bundle, &key, &["--quiet"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let before = std::fs::read(&bundle).unwrap();
    let size = before.len() as u64;
    let transfer = || {
        let mut c = forensic();
        c.args([
            "custody",
            "transfer",
            s(&bundle),
            "--key",
            s(&key),
            "--to",
            s(&lab_pub),
            "--note",
            "to the lab",
        ]);
        c
    };

    let mut results = Vec::new();
    for at in points(size, 8 << 20) {
        let outcome = run_and_kill(transfer(), &out, at);
        if outcome == Outcome::Finished {
            // Completed before the kill: check it, then put the untransferred bundle back.
            assert_eq!(code(&run(&["verify", s(&bundle)])), 0);
            std::fs::write(&bundle, &before).unwrap();
        }
        assert!(
            std::fs::read(&bundle).unwrap() == before,
            "killed at {at:?}: the bundle changed"
        );
        results.push((at, outcome, temps(&out).len()));
    }
    let (killed, left) = tally(&results);
    assert!(killed >= results.len() - 2, "most points must be kills: {results:?}");
    assert!(left >= 4, "kills must land mid-write: {results:?}");
    leave_a_temp(transfer(), &out, size / 2);
    assert_eq!(code(&run(&["verify", s(&bundle)])), 0);

    let o = transfer().output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(temps(&out), [], "the next append removes what killed ones left");
    let log = json(&run(&["custody", "log", s(&bundle), "--json"]));
    assert_eq!(actions(&log["entries"]), ["sealed", "transferred"], "{log}");
    assert_eq!(code(&run(&["verify", s(&bundle)])), 0);
}

#[test]
fn collect_killed_anywhere_leaves_no_bundle_and_the_next_run_cleans_up() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let tag = format!("k{}", std::process::id());
    let noise_file = noise(12 << 20, 3);
    let image = Image::build_with(root, &tag, &[("etc/data.bin", &noise_file[..])]);
    let c = Container::start(&image, &format!("forensic-e2e-{tag}"));
    // An upper layer worth copying.
    c.sh("cp /etc/data.bin /tmp/copied.bin && echo changed >> /etc/hostname");
    let (key, _) = keygen(root, "responder");
    let out = root.join("out");
    std::fs::create_dir(&out).unwrap();
    let cmd = |dest: &PathBuf| {
        let mut cmd = forensic();
        cmd.args([
            "collect",
            "--container",
            &c.name,
            "--runtime",
            "podman",
            "-o",
            s(dest),
            "--key",
            s(&key),
            "--quiet",
        ]);
        cmd
    };
    let reference = out.join("reference.zip");
    let o = cmd(&reference).output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let size = std::fs::metadata(&reference).unwrap().len();
    std::fs::remove_file(&reference).unwrap();

    let dest = out.join("case.zip");
    // A live collection's size varies from run to run (times, the processes of the moment): the
    // kill points stay below 90 % of the reference, and early in time.
    let mut at: Vec<At> = [0, 2, 20, 50].map(|ms| At::After(Duration::from_millis(ms))).to_vec();
    at.extend(
        (0..size * 9 / 10)
            .step_by(usize::try_from(size / 8).unwrap())
            .map(At::Bytes),
    );
    let mut results = Vec::new();
    for at in at {
        let outcome = run_and_kill(cmd(&dest), &out, at);
        assert_absent(&dest, at, &outcome);
        if outcome == Outcome::Finished {
            std::fs::remove_file(&dest).unwrap();
        }
        results.push((at, outcome, temps(&out).len()));
    }
    let (killed, left) = tally(&results);
    assert!(killed >= results.len() - 2, "most points must be kills: {results:?}");
    assert!(left >= 3, "kills must land mid-write: {results:?}");
    leave_a_temp(cmd(&dest), &out, size / 2);

    let o = cmd(&dest).output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(temps(&out), [], "the next run removes what killed runs left");
    assert_eq!(code(&run(&["verify", s(&dest)])), 0);
    let listed = stdout(&run(&["ls", s(&dest)]));
    assert!(listed.contains("copied.bin"), "{listed}");
}
