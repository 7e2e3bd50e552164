use super::*;
use forensic_bundle::digest::Digest;

const T0: i64 = 1_795_941_630_000_000_000;
const T1: i64 = 1_795_941_690_594_455_395;

fn entry(path: &str, kind: Kind, mode: u32, mtime: i64) -> FileEntry {
    FileEntry {
        path: path.into(),
        kind,
        mode,
        uid: 0,
        gid: 0,
        size: 0,
        mtime_ns: Some(mtime),
        sha256: None,
        link_target: None,
    }
}

fn dir(path: &str, mtime: i64) -> FileEntry {
    entry(path, Kind::Dir, 0o755, mtime)
}

fn file(path: &str, content: &str, mode: u32, mtime: i64) -> FileEntry {
    FileEntry {
        size: content.len() as u64,
        sha256: Some(Digest::of(content.as_bytes())),
        ..entry(path, Kind::File, mode, mtime)
    }
}

fn link(path: &str, target: &str, mtime: i64) -> FileEntry {
    FileEntry {
        link_target: Some(target.into()),
        ..entry(path, Kind::Symlink, 0o777, mtime)
    }
}

fn index(entries: Vec<FileEntry>) -> FileIndex {
    entries.into_iter().map(|e| (e.path.clone(), e)).collect()
}

fn lines(d: &Diff) -> Vec<String> {
    d.changes.iter().map(|c| c.to_string()).collect()
}

fn reasons(d: &Diff, path: &str) -> Vec<&'static str> {
    d.changes
        .iter()
        .find(|c| c.path == path)
        .map(|c| c.reasons.iter().map(|r| r.as_str()).collect())
        .unwrap_or_default()
}

/// The image of the podman experiment the module documentation's rules were taken from.
fn image() -> FileIndex {
    let mut v = vec![dir("/", T0)];
    for d in [
        "/bin",
        "/dev",
        "/dev/shm",
        "/etc",
        "/home",
        "/home/app",
        "/opt",
        "/opt/d1",
        "/opt/d1/sub",
        "/opt/d2",
        "/root",
        "/run",
        "/tmp",
        "/usr",
        "/usr/bin",
        "/var",
        "/var/spool",
        "/var/spool/cron",
        "/var/spool/cron/crontabs",
        "/var/tmp",
    ] {
        v.push(dir(d, T0));
    }
    v.extend([
        file("/bin/busybox", "busybox", 0o755, T0),
        link("/bin/sh", "busybox", T0),
        file("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0o644, T0),
        file("/etc/motd", "welcome\n", 0o644, T0),
        file("/etc/hosts", "127.0.0.1 localhost\n", 0o644, T0),
        file("/etc/same", "same\n", 0o644, 1_700_000_000_000_000_000),
        file("/opt/d1/sub/f", "a\n", 0o644, T0),
        file("/opt/d1/g", "b\n", 0o644, T0),
        file("/opt/d2/h", "c\n", 0o644, T0),
        file("/usr/bin/report", "#!/bin/sh\necho report\n", 0o755, T0),
    ]);
    index(v)
}

/// The container after the attacker, as collected (merged view and writable layer).
fn attacked() -> ContainerFs {
    let mut files = image();
    for p in [
        "/etc/motd",
        "/opt/d1/sub",
        "/opt/d1/sub/f",
        "/opt/d2",
        "/opt/d2/h",
        "/dev/shm",
    ] {
        files.remove(p);
    }
    let mut dev = dir("/dev", T1);
    dev.size = 320;
    let mut root = dir("/", T1);
    root.mode = 0o555;
    for e in [
        root,
        dev,
        entry("/proc", Kind::Dir, 0o555, T1),
        entry("/sys", Kind::Dir, 0o555, T1),
        file("/bin/busybox", "busybox", 0o4755, T0),
        dir("/etc", T1),
        file(
            "/etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\nbackdoor:x:0:0::/root:/bin/sh\n",
            0o644,
            T1,
        ),
        file("/etc/hosts", "10.0.0.5 web\n", 0o644, T1),
        file("/etc/hostname", "web\n", 0o644, T1),
        link("/etc/mtab", "/proc/mounts", T1),
        // Rewritten with the same bytes, mode and time: only the writable layer shows it.
        file("/etc/same", "same\n", 0o644, 1_700_000_000_000_000_000),
        dir("/home", T1),
        dir("/new", T1),
        dir("/new/a", T1),
        dir("/new/a/b", T1),
        file("/new/a/b/c", "z\n", 0o644, T1),
        dir("/opt", T1),
        dir("/opt/d1", T1),
        file("/opt/d1/g", "q\n", 0o644, T1),
        dir("/root", T1),
        dir("/root/.ssh", T1),
        file("/root/.ssh/authorized_keys", "key\n", 0o644, T1),
        dir("/run", T1),
        file("/run/.containerenv", "", 0o644, T1),
        file("/run/evil", "y\n", 0o644, T1),
        dir("/tmp", T1),
        file("/tmp/dropper.sh", "#!/bin/sh\necho x\n", 0o755, T1),
        dir("/var/spool/cron/crontabs", T1),
        file("/var/spool/cron/crontabs/root", "* * * * * x\n", 0o644, T1),
    ] {
        files.insert(e.path.clone(), e);
    }
    let mut chowned = dir("/var/tmp", T0);
    chowned.uid = 1000;
    files.insert(chowned.path.clone(), chowned);
    let unexplored = [
        ("/dev", "another filesystem: not entered"),
        ("/proc", "proc filesystem: not entered"),
        ("/sys", "sysfs filesystem: not entered"),
    ]
    .into_iter()
    .map(|(p, w)| (p.to_string(), w.to_string()))
    .collect();
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<String>>();
    let writable = WritableLayer {
        entries: set(&[
            "/",
            "/bin",
            "/bin/busybox",
            "/etc",
            "/etc/hostname",
            "/etc/hosts",
            "/etc/mtab",
            "/etc/passwd",
            "/etc/same",
            "/home",
            "/new",
            "/new/a",
            "/new/a/b",
            "/new/a/b/c",
            "/opt",
            "/opt/d1",
            "/opt/d1/g",
            "/proc",
            "/root",
            "/root/.ssh",
            "/root/.ssh/authorized_keys",
            "/run",
            "/run/.containerenv",
            "/run/evil",
            "/sys",
            "/tmp",
            "/tmp/dropper.sh",
            "/var",
            "/var/spool",
            "/var/spool/cron",
            "/var/spool/cron/crontabs",
            "/var/spool/cron/crontabs/root",
            "/var/tmp",
        ]),
        deleted: set(&["/etc/motd", "/opt/d2"]),
        opaque: set(&["/opt/d1"]),
        empty: set(&["/run/.containerenv"]),
        ..WritableLayer::default()
    };
    ContainerFs {
        files,
        unexplored,
        writable: Some(writable),
    }
}

#[test]
fn the_change_list_is_what_podman_diff_printed() {
    let d = diff(&image(), &attacked(), &DiffOptions::default());
    // `podman diff` on the container this models (podman 4.3.1, overlay), sorted.
    assert_eq!(
        lines(&d),
        [
            "C /bin/busybox",
            "C /etc",
            "D /etc/motd",
            "C /etc/passwd",
            "C /etc/same",
            "C /home",
            "A /new",
            "A /new/a",
            "A /new/a/b",
            "A /new/a/b/c",
            "C /opt",
            "D /opt/d1",
            "C /opt/d1/g",
            "D /opt/d2",
            "C /root",
            "A /root/.ssh",
            "A /root/.ssh/authorized_keys",
            "A /run/evil",
            "C /tmp",
            "A /tmp/dropper.sh",
            "C /var",
            "C /var/spool",
            "C /var/spool/cron",
            "C /var/spool/cron/crontabs",
            "A /var/spool/cron/crontabs/root",
        ]
    );
    assert_eq!(reasons(&d, "/bin/busybox"), ["mode", "written"]);
    assert_eq!(reasons(&d, "/etc/passwd"), ["content", "mtime", "written"]);
    assert_eq!(reasons(&d, "/etc/same"), ["written"]);
    assert_eq!(reasons(&d, "/opt/d1"), ["replaced"]);
    assert_eq!(reasons(&d, "/var"), ["parent"]);
    assert_eq!(reasons(&d, "/var/spool/cron/crontabs"), ["mtime"]);
    assert_eq!(reasons(&d, "/tmp/dropper.sh"), Vec::<&str>::new());
    assert_eq!(
        d.not_compared,
        [NotCompared {
            path: "/dev".into(),
            why: "another filesystem: not entered".into(),
            image_entries: 1,
        }]
    );
}

#[test]
fn all_adds_what_podman_leaves_out() {
    let d = diff(
        &image(),
        &attacked(),
        &DiffOptions {
            all: true,
            ..DiffOptions::default()
        },
    );
    let extra: Vec<String> = lines(&d)
        .into_iter()
        .filter(|l| !lines(&diff(&image(), &attacked(), &DiffOptions::default())).contains(l))
        .collect();
    assert_eq!(
        extra,
        [
            "C /",
            "A /etc/hostname",
            "C /etc/hosts",
            "A /etc/mtab",
            "A /proc",
            "C /run",
            "A /run/.containerenv",
            "A /sys",
            "C /var/tmp",
        ]
    );
    assert_eq!(reasons(&d, "/"), ["mode", "mtime"]);
    assert_eq!(reasons(&d, "/var/tmp"), ["owner"]);
}

#[test]
fn content_changes_are_found_without_the_writable_layer() {
    let image = image();
    let mut c = ContainerFs {
        files: image.clone(),
        ..ContainerFs::default()
    };
    // Same size and time, other bytes: metadata alone would miss it.
    c.files.insert(
        "/usr/bin/report".into(),
        file("/usr/bin/report", "#!/bin/sh\necho pwned\n", 0o755, T0),
    );
    let d = diff(&image, &c, &DiffOptions::default());
    assert_eq!(lines(&d), ["C /usr/bin/report"]);
    assert_eq!(reasons(&d, "/usr/bin/report"), ["content"]);
}

#[test]
fn changes_outside_the_writable_layer_are_marked() {
    let image = image();
    let mut c = attacked();
    c.files.insert(
        "/usr/bin/report".into(),
        file("/usr/bin/report", "#!/bin/sh\necho pwned\n", 0o755, T0),
    );
    c.files
        .insert("/usr/bin/implant".into(), file("/usr/bin/implant", "x", 0o755, T0));
    c.files.insert("/usr/bin".into(), dir("/usr/bin", T1));
    let d = diff(&image, &c, &DiffOptions::default());
    assert_eq!(reasons(&d, "/usr/bin/report"), ["content", "lower-layer"]);
    assert_eq!(reasons(&d, "/usr/bin/implant"), ["lower-layer"]);
    assert_eq!(reasons(&d, "/usr/bin"), ["mtime", "lower-layer"]);
    assert_eq!(reasons(&d, "/usr"), ["parent"]);
}

#[test]
fn types_links_owners_and_deleted_trees() {
    let image = index(vec![
        dir("/", T0),
        dir("/a", T0),
        dir("/a/tree", T0),
        file("/a/tree/x", "x", 0o644, T0),
        dir("/a/tree/sub", T0),
        file("/a/f", "f", 0o644, T0),
        link("/a/l", "f", T0),
        file("/a/owned", "o", 0o644, T0),
    ]);
    let mut owned = file("/a/owned", "o", 0o644, T0);
    owned.gid = 10;
    let c = ContainerFs {
        files: index(vec![
            dir("/", T0),
            dir("/a", T0),
            link("/a/f", "/etc/shadow", T0),
            link("/a/l", "g", T0),
            owned,
        ]),
        ..ContainerFs::default()
    };
    let d = diff(&image, &c, &DiffOptions::default());
    assert_eq!(lines(&d), ["C /a", "C /a/f", "C /a/l", "C /a/owned", "D /a/tree"]);
    assert_eq!(reasons(&d, "/a/f"), ["type"]);
    assert_eq!(reasons(&d, "/a/l"), ["link"]);
    assert_eq!(reasons(&d, "/a/owned"), ["owner"]);
    assert_eq!(reasons(&d, "/a"), ["parent"]);
}

#[test]
fn pseudo_filesystems_and_unexamined_entries_are_unknown() {
    let image = index(vec![
        dir("/", T0),
        dir("/proc", T0),
        file("/proc/version", "v", 0o644, T0),
        dir("/srv", T0),
        file("/srv/secret", "s", 0o600, T0),
        dir("/data", T0),
        file("/data/a", "a", 0o644, T0),
        file("/data/b", "b", 0o644, T0),
    ]);
    let mut files = image.clone();
    for p in ["/proc", "/proc/version", "/srv/secret", "/data/a", "/data/b"] {
        files.remove(p);
    }
    let unexplored = [
        ("/srv/secret", "permission denied"),
        ("/data", "depth limit: not entered"),
    ]
    .into_iter()
    .map(|(p, w)| (p.to_string(), w.to_string()))
    .collect();
    let c = ContainerFs {
        files,
        unexplored,
        writable: None,
    };
    let d = diff(&image, &c, &DiffOptions::default());
    assert_eq!(lines(&d), Vec::<String>::new());
    let nc: Vec<(&str, u64)> = d
        .not_compared
        .iter()
        .map(|n| (n.path.as_str(), n.image_entries))
        .collect();
    assert_eq!(nc, [("/data", 2), ("/proc", 1), ("/srv/secret", 1)]);
    // With --all, the missing /proc itself is a deletion podman would hide.
    assert_eq!(
        lines(&diff(
            &image,
            &c,
            &DiffOptions {
                all: true,
                ..DiffOptions::default()
            }
        )),
        ["D /proc"]
    );
}

#[test]
fn times_compare_like_containers_storage() {
    let s = 1_000_000_000;
    assert!(same_time(Some(5 * s), Some(5 * s)));
    assert!(same_time(Some(5 * s + 7), Some(5 * s)), "whole seconds on one side");
    assert!(same_time(Some(4 * s + 7), Some(5 * s)), "rounded up");
    assert!(!same_time(Some(5 * s + 7), Some(5 * s + 8)));
    assert!(!same_time(Some(5 * s), Some(7 * s)));
    assert!(same_time(None, Some(5)), "unknown is not a difference");
    assert!(is_below("/a/b", "/a") && !is_below("/ab", "/a") && !is_below("/a", "/a") && is_below("/a", "/"));
}
