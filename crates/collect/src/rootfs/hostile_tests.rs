//! The root filesystem readers against a hostile container tree built in a temporary directory:
//! symlinks to host secrets, loops, FIFOs, sockets, odd names, deep trees, sparse files, whiteouts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crate::rootfs::copy::{CopyOptions, copy_file, copy_tree};
use crate::rootfs::index::{IndexOptions, write_index};
use crate::rootfs::places::{ATTACKER_PLACES, copy_places};
use crate::rootfs::upper::{UpperOptions, collect_upper};
use crate::rootfs::walk::{Visit, WalkOptions, walk};
use crate::rootfs::{RootError, RootFs};
use crate::sink::MemorySink;
use forensic_bundle::manifest::{FileKind, RawPath, Source};
use forensic_bundle::name::validate;
use rustix::fd::AsFd;
use rustix::fs::{AtFlags, FileType, Mode, OFlags, Timespec, Timestamps};
use serde_json::Value;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// Bytes of the host secret the tree's symlinks point at; they must never be read.
const SECRET: &[u8] = b"HOST-SECRET-7f3a9c-root:$6$never-read$";

/// Runs `f` on another thread and fails if it takes longer than `secs` (a FIFO opened for
/// reading without `O_NONBLOCK` would block forever).
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(secs))
        .expect("timed out: something blocked")
}

struct Hostile {
    _outside: tempfile::TempDir,
    root: tempfile::TempDir,
    secret: PathBuf,
}

fn fifo(p: &Path) {
    rustix::fs::mknodat(rustix::fs::CWD, p, FileType::Fifo, Mode::from_raw_mode(0o666), 0).unwrap();
}

fn hostile() -> Hostile {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("shadow");
    std::fs::write(&secret, SECRET).unwrap();
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    for d in ["etc", "tmp/.hidden", "dev/shm", "run", "home/alice/.ssh", "var/tmp"] {
        std::fs::create_dir_all(r.join(d)).unwrap();
    }
    std::fs::write(r.join("etc/passwd"), b"root:x:0:0:root:/root:/bin/sh\n").unwrap();
    std::os::unix::fs::symlink(&secret, r.join("etc/shadow-link")).unwrap();
    std::os::unix::fs::symlink(&secret, r.join("etc/shadow")).unwrap();
    std::os::unix::fs::symlink(outside.path(), r.join("tmp/outside-dir")).unwrap();
    std::os::unix::fs::symlink("b", r.join("tmp/a")).unwrap();
    std::os::unix::fs::symlink("a", r.join("tmp/b")).unwrap();
    std::os::unix::fs::symlink("../../..", r.join("tmp/up")).unwrap();
    std::os::unix::fs::symlink(outside.path(), r.join("home/bob")).unwrap();
    std::os::unix::fs::symlink("shadow", r.join("home/alice/.bash_history")).unwrap();
    fifo(&r.join("tmp/fifo"));
    fifo(&r.join("dev/shm/fifo"));
    let _listener = std::os::unix::net::UnixListener::bind(r.join("run/sock")).unwrap();
    std::fs::write(r.join("tmp/new\nline"), b"newline").unwrap();
    std::fs::write(r.join(OsStr::from_bytes(b"tmp/bad-\xff\xfe")), b"invalid utf-8").unwrap();
    std::fs::write(r.join("tmp").join("n".repeat(255)), b"long name").unwrap();
    std::fs::write(r.join("tmp/.hidden/miner"), b"\x7fELF payload").unwrap();
    std::fs::write(r.join("home/alice/.ssh/authorized_keys"), b"ssh-ed25519 AAAAattacker\n").unwrap();
    let mut deep = r.join("var/tmp");
    for _ in 0..300 {
        deep.push("deep");
    }
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(deep.join("bottom"), b"deep payload").unwrap();
    Hostile {
        _outside: outside,
        root,
        secret,
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn assert_no_secret(sink: &MemorySink) {
    for (m, content, _) in &sink.members {
        assert!(!contains(content, SECRET), "member {} holds the host secret", m.name);
    }
    for (what, why) in &sink.gaps {
        assert!(!contains(what.as_bytes(), SECRET) && !contains(why.as_bytes(), SECRET));
    }
}

#[test]
fn the_index_lists_everything_reads_nothing_through_symlinks_and_does_not_hang() {
    let h = hostile();
    let path = h.root.path().to_path_buf();
    let (out, stats) = within(60, move || {
        let root = RootFs::open(&path).unwrap();
        let mut out = Vec::new();
        let stats = write_index(&root, &mut out, &IndexOptions::default()).unwrap();
        (out, stats)
    });
    assert!(!contains(&out, SECRET), "the index holds the host secret");
    let lines: Vec<Value> = out
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert_eq!(lines.len() as u64, stats.entries + stats.skipped);
    assert_eq!(stats.skipped, 0, "{:?}", stats.skipped_list);
    let line = |p: &str| {
        lines
            .iter()
            .find(|l| l["path"] == p)
            .unwrap_or_else(|| panic!("no line for {p}"))
    };
    let link = line("/etc/shadow-link");
    assert_eq!(link["type"], "symlink");
    assert_eq!(link["symlink_target"], h.secret.to_str().unwrap());
    assert_eq!(link["sha256"], Value::Null);
    assert_eq!(line("/tmp/a")["symlink_target"], "b");
    assert_eq!(line("/tmp/up")["symlink_target"], "../../..");
    assert_eq!(line("/tmp/fifo")["type"], "fifo");
    assert_eq!(line("/run/sock")["type"], "socket");
    assert_eq!(
        line("/tmp/new\nline")["sha256"],
        forensic_bundle::digest::Digest::of(b"newline").hex()
    );
    let long = format!("/tmp/{}", "n".repeat(255));
    assert_eq!(line(&long)["size"], 9);
    let bad = lines
        .iter()
        .find(|l| l["path"]["bytes_hex"] == hex::encode(b"/tmp/bad-\xff\xfe"))
        .unwrap();
    assert_eq!(
        bad["sha256"],
        forensic_bundle::digest::Digest::of(b"invalid utf-8").hex()
    );
    let bottom = format!("/var/tmp/{}bottom", "deep/".repeat(300));
    assert_eq!(
        line(&bottom)["sha256"],
        forensic_bundle::digest::Digest::of(b"deep payload").hex()
    );
    assert_eq!(line("/etc/passwd")["mode"], "0644");
    assert_eq!(stats.files_hashed, 7);
}

#[test]
fn copies_hold_files_and_symlinks_never_the_targets() {
    let h = hostile();
    let path = h.root.path().to_path_buf();
    let (sink, tree, places) = within(60, move || {
        let root = RootFs::open(&path).unwrap();
        let mut sink = MemorySink::default();
        let tree = copy_tree(&root, b"/", "all", &mut sink, &CopyOptions::default()).unwrap();
        let places = copy_places(&root, ATTACKER_PLACES, "files", &mut sink, &CopyOptions::default()).unwrap();
        (sink, tree, places)
    });
    assert_no_secret(&sink);
    for (m, _, _) in &sink.members {
        validate(&format!("5-filesystem/{}", m.name)).unwrap_or_else(|e| panic!("{:?}: {e}", m.name));
    }
    // Every regular file of the tree, symlinks as empty members with their target.
    assert_eq!((tree.files, tree.symlinks), (7, 8));
    assert_eq!(sink.content("all/tmp/new%0Aline"), Some(&b"newline"[..]));
    assert_eq!(sink.content("all/tmp/bad-%FF%FE"), Some(&b"invalid utf-8"[..]));
    let (m, content, _) = sink
        .members
        .iter()
        .find(|(m, _, _)| m.name == "all/etc/shadow-link")
        .unwrap();
    assert!(content.is_empty());
    let meta = m.meta.as_ref().unwrap();
    assert_eq!(meta.kind, FileKind::Symlink);
    assert_eq!(
        meta.symlink_target,
        Some(RawPath::from_bytes(h.secret.as_os_str().as_bytes()))
    );
    assert_eq!(m.source, Source::path(RawPath::from("/etc/shadow-link")));
    let bad = sink
        .members
        .iter()
        .find(|(m, _, _)| m.name == "all/tmp/bad-%FF%FE")
        .unwrap();
    assert_eq!(
        bad.0.source,
        Source::path(RawPath::Bytes(b"/tmp/bad-\xff\xfe".to_vec()))
    );
    // The file 300 levels down: its name would pass 1024 bytes, so it is named by a hash.
    let deep = format!("/var/tmp/{}bottom", "deep/".repeat(300));
    let (m, content, _) = sink
        .members
        .iter()
        .find(|(m, _, _)| m.source == Source::path(RawPath::from(deep.as_str())))
        .unwrap();
    assert!(m.name.starts_with("all/%long-name/"), "{}", m.name);
    assert_eq!(content, b"deep payload");
    // FIFOs and sockets are gaps, never opened.
    assert!(
        sink.gaps
            .contains(&("/tmp/fifo".into(), "named pipe: not opened".into()))
    );
    assert!(
        sink.gaps
            .contains(&("/dev/shm/fifo".into(), "named pipe: not opened".into()))
    );
    assert!(sink.gaps.contains(&("/run/sock".into(), "socket: not opened".into())));
    // The attacker places: /etc/shadow is a symlink to the secret (an empty member), bob's home is
    // a symlink (nothing under it is looked at), alice's history is a symlink.
    assert_eq!(
        sink.content("files/etc/passwd"),
        Some(&b"root:x:0:0:root:/root:/bin/sh\n"[..])
    );
    assert_eq!(sink.content("files/etc/shadow"), Some(&b""[..]));
    assert_eq!(
        sink.content("files/home/alice/.ssh/authorized_keys"),
        Some(&b"ssh-ed25519 AAAAattacker\n"[..])
    );
    assert_eq!(sink.content("files/home/alice/.bash_history"), Some(&b""[..]));
    assert_eq!(sink.content("files/tmp/.hidden/miner"), Some(&b"\x7fELF payload"[..]));
    assert!(
        !sink
            .members
            .iter()
            .any(|(m, _, _)| m.name.starts_with("files/home/bob"))
    );
    assert!(places.files >= 6);
}

#[test]
fn a_sparse_gigabyte_is_cut_at_the_cap() {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir(t.path().join("tmp")).unwrap();
    let f = std::fs::File::create(t.path().join("tmp/sparse")).unwrap();
    f.set_len(1 << 30).unwrap();
    drop(f);
    let root = RootFs::open(t.path()).unwrap();
    let mut sink = MemorySink::default();
    let opts = CopyOptions {
        max_file_size: Some(1 << 20),
        ..CopyOptions::default()
    };
    let stats = copy_tree(&root, b"tmp", "tmp", &mut sink, &opts).unwrap();
    assert_eq!(
        (stats.files, stats.truncated, stats.sparse, stats.bytes),
        (1, 1, 1, 1 << 20)
    );
    let (m, content, truncated) = &sink.members[0];
    assert!(*truncated);
    assert_eq!(content.len(), 1 << 20);
    assert!(content.iter().all(|&b| b == 0));
    assert_eq!(m.meta.as_ref().unwrap().size, 1 << 30);
    // The index lists it without hashing a gigabyte of holes when the limit says so.
    let mut out = Vec::new();
    let iopts = IndexOptions {
        max_hash_size: Some(1 << 20),
        ..IndexOptions::default()
    };
    let stats = write_index(&root, &mut out, &iopts).unwrap();
    assert_eq!((stats.files_hashed, stats.files_not_hashed), (0, 1));
}

fn atime(p: &Path) -> (i64, i64) {
    let m = std::fs::symlink_metadata(p).unwrap();
    (m.atime(), m.atime_nsec())
}

#[test]
fn access_times_are_left_alone() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    std::fs::create_dir_all(r.join("tmp/dir")).unwrap();
    std::fs::write(r.join("tmp/dir/file"), b"read me").unwrap();
    std::fs::write(r.join("etc-passwd"), b"root:x:0:0\n").unwrap();
    // An atime far older than the mtime: even relatime would update it on a plain read.
    let old = Timestamps {
        last_access: Timespec {
            tv_sec: 1_000_000_000,
            tv_nsec: 123,
        },
        last_modification: Timespec {
            tv_sec: 1_700_000_000,
            tv_nsec: 0,
        },
    };
    let paths = [
        r.join("tmp/dir/file"),
        r.join("tmp/dir"),
        r.join("tmp"),
        r.join("etc-passwd"),
    ];
    for p in &paths {
        rustix::fs::utimensat(rustix::fs::CWD, p, &old, AtFlags::empty()).unwrap();
    }
    let before: Vec<_> = paths.iter().map(|p| atime(p)).collect();
    assert_eq!(before[0], (1_000_000_000, 123));
    let root = RootFs::open(r).unwrap();
    write_index(&root, &mut Vec::new(), &IndexOptions::default()).unwrap();
    let mut sink = MemorySink::default();
    copy_tree(&root, b"tmp", "tmp", &mut sink, &CopyOptions::default()).unwrap();
    assert!(copy_file(&root, b"etc-passwd", "passwd", &mut sink, &CopyOptions::default()).unwrap());
    let (mut f, _) = root.open_file(b"tmp/dir/file").unwrap().unwrap();
    std::io::copy(&mut f, &mut std::io::sink()).unwrap();
    assert_eq!(sink.content("tmp/dir/file"), Some(&b"read me"[..]));
    let after: Vec<_> = paths.iter().map(|p| atime(p)).collect();
    assert_eq!(before, after, "an access time changed");
}

#[test]
fn open_file_refuses_symlinks_and_special_files() {
    let h = hostile();
    let root = RootFs::open(h.root.path()).unwrap();
    let r = within(10, {
        let path = h.root.path().to_path_buf();
        move || {
            let root = RootFs::open(&path).unwrap();
            (
                root.open_file(b"tmp/fifo").unwrap().is_none(),
                root.open_file(b"run/sock").unwrap().is_none(),
            )
        }
    });
    assert_eq!(r, (true, true));
    assert!(root.open_file(b"etc/shadow-link").unwrap().is_none());
    assert!(
        root.open_file(b"tmp/a").unwrap().is_none(),
        "a symlink loop is not resolved"
    );
    assert!(matches!(
        root.open_file(b"tmp/up/etc/passwd"),
        Err(RootError::Symlink { .. })
    ));
    assert!(matches!(
        root.open_file(b"tmp/outside-dir/shadow"),
        Err(RootError::Symlink { .. })
    ));
    assert!(matches!(
        root.open_file(b"tmp/../../etc/passwd"),
        Err(RootError::BadPath { .. })
    ));
    assert!(root.open_file(b"/etc/passwd").unwrap().is_some());
    // Not even /dev/null of the host is reachable through an absolute symlink.
    std::os::unix::fs::symlink("/dev/null", h.root.path().join("null")).unwrap();
    assert!(root.open_file(b"null").unwrap().is_none());
    // A file swapped for a symlink to the secret between listing and open is not read.
    let mut outcome = None;
    walk(&root, b"etc", &WalkOptions::default(), &mut |v| {
        if let Visit::Entry(e, Some(dir)) = v {
            if e.path != b"passwd" {
                return Ok(());
            }
            std::fs::remove_file(h.root.path().join("etc/passwd")).unwrap();
            std::os::unix::fs::symlink(&h.secret, h.root.path().join("etc/passwd")).unwrap();
            outcome = Some(dir.open_regular(&e).map(|_| ()));
        }
        Ok(())
    })
    .unwrap();
    assert!(matches!(outcome, Some(Err(RootError::Replaced { .. }))), "{outcome:?}");
}

#[test]
fn the_upper_layer_yields_whiteouts_opaque_dirs_and_a_change_list() {
    let lower = tempfile::tempdir().unwrap();
    let upper = tempfile::tempdir().unwrap();
    let (l, u) = (lower.path(), upper.path());
    for d in ["etc", "usr/bin", "opt/app"] {
        std::fs::create_dir_all(l.join(d)).unwrap();
        std::fs::create_dir_all(u.join(d)).unwrap();
    }
    std::fs::create_dir_all(u.join("tmp")).unwrap();
    std::fs::write(l.join("etc/passwd"), b"root:x:0:0\n").unwrap();
    std::fs::write(l.join("usr/bin/sudo"), b"sudo").unwrap();
    std::fs::write(l.join("opt/app/config"), b"lower config").unwrap();
    std::fs::write(u.join("etc/passwd"), b"root:x:0:0\nevil:x:0:0\n").unwrap();
    std::fs::write(u.join("tmp/dropper"), b"payload").unwrap();
    std::fs::write(u.join("opt/app/config"), b"upper config").unwrap();
    std::os::unix::fs::symlink("/etc/shadow", u.join("tmp/link")).unwrap();
    // A whiteout: a character device 0:0 (we run as root, so mknod works).
    rustix::fs::mknodat(
        rustix::fs::CWD,
        u.join("usr/bin/sudo"),
        FileType::CharacterDevice,
        Mode::empty(),
        0,
    )
    .expect("mknod of a whiteout (run the tests as root)");
    let opaque_set = xattr::set(u.join("opt/app"), "trusted.overlay.opaque", b"y").is_ok()
        || xattr::set(u.join("opt/app"), "user.overlay.opaque", b"y").is_ok();
    assert!(opaque_set, "neither trusted.* nor user.* xattrs can be set here");
    let mut sink = MemorySink::default();
    let stats = collect_upper(u, &[l], &mut sink, &UpperOptions::default()).unwrap();
    let text = sink.content("upper-changes.jsonl").unwrap();
    let lines: Vec<Value> = text
        .split(|&b| b == b'\n')
        .filter(|x| !x.is_empty())
        .map(|x| serde_json::from_slice(x).unwrap())
        .collect();
    let get = |p: &str| {
        lines
            .iter()
            .find(|v| v["path"] == p)
            .unwrap_or_else(|| panic!("no line for {p}"))
    };
    assert_eq!(get("/etc/passwd")["change"], "modified");
    assert_eq!(
        get("/etc/passwd")["sha256"],
        forensic_bundle::digest::Digest::of(b"root:x:0:0\nevil:x:0:0\n").hex()
    );
    assert_eq!(get("/tmp/dropper")["change"], "added");
    assert_eq!(get("/tmp/link")["change"], "added");
    assert_eq!(get("/tmp/link")["symlink_target"], "/etc/shadow");
    assert_eq!(get("/usr/bin/sudo")["change"], "deleted");
    assert_eq!(get("/usr/bin/sudo")["type"], "whiteout");
    assert_eq!(get("/opt/app")["change"], "opaque-dir");
    assert_eq!(get("/opt/app/config")["change"], "added");
    assert_eq!(get("/etc")["change"], "dir");
    assert_eq!(
        (stats.added, stats.modified, stats.deleted, stats.opaque_dirs),
        (3, 1, 1, 1)
    );
    assert_eq!(sink.content("upper/tmp/dropper"), Some(&b"payload"[..]));
    assert!(sink.content("upper/usr/bin/sudo").is_none());
    assert!(sink.gaps.is_empty(), "{:?}", sink.gaps);
}

/// Makes a chain of `levels` directories named `d` under `top` with a file at the bottom, by
/// descriptor (the path is far longer than PATH_MAX).
fn make_deep(top: &Path, levels: usize) {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let mut fd = rustix::fs::open(top, flags, Mode::empty()).unwrap();
    for _ in 0..levels {
        rustix::fs::mkdirat(fd.as_fd(), "d", Mode::from_raw_mode(0o755)).unwrap();
        fd = rustix::fs::openat(fd.as_fd(), "d", flags, Mode::empty()).unwrap();
    }
    let f = rustix::fs::openat(
        fd.as_fd(),
        "bottom",
        OFlags::WRONLY | OFlags::CREATE,
        Mode::from_raw_mode(0o644),
    )
    .unwrap();
    rustix::io::write(&f, b"bottom").unwrap();
}

/// Removes what [`make_deep`] made, one level at a time, without deep paths or many descriptors.
fn remove_deep(top: &Path) {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let t = rustix::fs::open(top, flags, Mode::empty()).unwrap();
    loop {
        let d = rustix::fs::openat(t.as_fd(), "d", flags, Mode::empty()).unwrap();
        let _ = rustix::fs::unlinkat(d.as_fd(), "bottom", AtFlags::empty());
        if rustix::fs::renameat(d.as_fd(), "d", t.as_fd(), "next").is_err() {
            rustix::fs::unlinkat(t.as_fd(), "d", AtFlags::REMOVEDIR).unwrap();
            return;
        }
        rustix::fs::unlinkat(t.as_fd(), "d", AtFlags::REMOVEDIR).unwrap();
        rustix::fs::renameat(t.as_fd(), "next", t.as_fd(), "d").unwrap();
    }
}

#[test]
#[ignore = "slow: 10,000 nested directories"]
fn ten_thousand_levels_with_few_descriptors() {
    let t = tempfile::tempdir().unwrap();
    make_deep(t.path(), 10_000);
    let root = RootFs::open(t.path()).unwrap();
    let opts = WalkOptions {
        max_depth: 20_000,
        ..WalkOptions::default()
    };
    let mut deepest = 0;
    let stats = walk(&root, b"", &opts, &mut |v| {
        if let Visit::Entry(e, _) = v {
            deepest = deepest.max(e.depth);
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(deepest, 10_001);
    assert!(stats.peak_open_dirs <= 64, "{stats:?}");
    // The default depth limit stops at 4096 and says so, without failing.
    let mut out = Vec::new();
    let istats = write_index(&root, &mut out, &IndexOptions::default()).unwrap();
    assert!(istats.walk.depth_limit_reached);
    let mut sink = MemorySink::default();
    let copy = CopyOptions {
        walk: opts,
        ..CopyOptions::default()
    };
    let c = copy_tree(&root, b"", "deep", &mut sink, &copy).unwrap();
    assert_eq!(c.files, 1);
    assert!(sink.members[0].0.name.starts_with("deep/%long-name/"));
    remove_deep(t.path());
}

#[test]
fn a_low_descriptor_limit_is_respected() {
    let t = tempfile::tempdir().unwrap();
    let mut p = t.path().join("chain");
    for i in 0..200 {
        p.push("d");
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(p.with_file_name(format!("f{i}")), i.to_string()).unwrap();
    }
    for d in 0..50 {
        let dir = t.path().join(format!("wide/{d}"));
        std::fs::create_dir_all(&dir).unwrap();
        for f in 0..5 {
            std::fs::write(dir.join(format!("{f}")), b"x").unwrap();
        }
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "rootfs::hostile_tests::low_nofile_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("ROOTFS_LOW_NOFILE_TREE", t.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("LOW-NOFILE-OK 450 703"), "{stdout}");
}

/// The body of [`a_low_descriptor_limit_is_respected`], in a child process whose soft
/// `RLIMIT_NOFILE` it lowers to 40.
#[test]
#[ignore = "run by a_low_descriptor_limit_is_respected in a child process"]
fn low_nofile_child() {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let Some(tree) = std::env::var_os("ROOTFS_LOW_NOFILE_TREE") else {
        return;
    };
    let hard = getrlimit(Resource::Nofile).maximum;
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(40),
            maximum: hard,
        },
    )
    .unwrap();
    let root = RootFs::open(Path::new(&tree)).unwrap();
    let mut out = Vec::new();
    let stats = write_index(&root, &mut out, &IndexOptions::default()).unwrap();
    assert_eq!(stats.skipped, 0, "{:?}", stats.skipped_list);
    assert!(stats.walk.peak_open_dirs <= 10, "{:?}", stats.walk);
    let mut sink = MemorySink::default();
    let copy = copy_tree(&root, b"", "t", &mut sink, &CopyOptions::default()).unwrap();
    assert!(sink.gaps.is_empty(), "{:?}", sink.gaps);
    println!("LOW-NOFILE-OK {} {}", copy.files, stats.entries);
}
