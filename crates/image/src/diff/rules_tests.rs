//! Docker's and podman's rules on synthetic overlay trees: image layers, docker's `-init` layer
//! and a writable (upper) layer with whiteouts and opaque directories, merged with overlayfs
//! semantics ([`crate::lower_layers::apply_layer`]) the way the container's root shows them.
//! Each case is a row of docs/dev/runtimes.md §4 (measured with dockerd 20.10.24 and podman
//! 4.3.1 on the same image and commands): both runtimes' outputs are asserted.

use super::*;
use crate::index_line::IndexedEntry;
use crate::lower_layers::apply_layer;
use crate::runtime_paths::RuntimeMade;
use forensic_bundle::digest::Digest;

/// The image's times: whole seconds, as tar headers keep them (`@1700000000`).
const T0: i64 = 1_700_000_000_000_000_000;
/// When docker made the init layer.
const TI: i64 = 1_795_941_600_123_456_789;
/// When the attacker worked.
const T1: i64 = 1_795_941_690_594_455_395;

fn entry(path: &str, kind: Kind, mode: u32, mtime: i64) -> IndexedEntry {
    IndexedEntry {
        entry: FileEntry {
            path: path.into(),
            kind,
            mode,
            uid: 0,
            gid: 0,
            size: 0,
            mtime_ns: Some(mtime),
            sha256: None,
            link_target: None,
        },
        rdev: None,
        xattrs: Vec::new(),
        unexplored: None,
        layer_checksum: None,
        on_tmpfs: None,
        below_mount: false,
        mount: false,
    }
}

fn d(path: &str, mtime: i64) -> IndexedEntry {
    entry(path, Kind::Dir, 0o755, mtime)
}

fn f(path: &str, content: &str, mode: u32, mtime: i64) -> IndexedEntry {
    let mut e = entry(path, Kind::File, mode, mtime);
    e.entry.size = content.len() as u64;
    e.entry.sha256 = Some(Digest::of(content.as_bytes()));
    e
}

fn l(path: &str, target: &str, mtime: i64) -> IndexedEntry {
    let mut e = entry(path, Kind::Symlink, 0o777, mtime);
    e.entry.size = target.len() as u64;
    e.entry.link_target = Some(target.into());
    e
}

/// An overlay whiteout: character device 0:0.
fn wh(path: &str) -> IndexedEntry {
    let mut e = entry(path, Kind::Char, 0, T1);
    e.rdev = Some((0, 0));
    e
}

fn opaque(mut e: IndexedEntry) -> IndexedEntry {
    e.xattrs.push(("trusted.overlay.opaque".into(), b"y".to_vec()));
    e
}

const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n";
const BUSYBOX: &str = "\x7fELF busybox";

/// The test image of §6.3: busybox and its links, then the account files and `/usr/bin/app`.
fn image_layers() -> Vec<Vec<IndexedEntry>> {
    let base = vec![
        d("/", T0),
        d("/bin", T0),
        f("/bin/busybox", BUSYBOX, 0o755, T0),
        l("/bin/sh", "busybox", T0),
        d("/dev", T0),
        d("/etc", T0),
        d("/proc", T0),
        d("/sys", T0),
        d("/tmp", T0),
        d("/usr", T0),
        d("/usr/bin", T0),
        d("/var", T0),
    ];
    let app = vec![
        d("/etc", T0),
        f("/etc/passwd", PASSWD, 0o644, T0),
        f("/etc/group", "root:x:0:\n", 0o644, T0),
        f("/etc/motd", "welcome\n", 0o644, T0),
        d("/usr", T0),
        d("/usr/bin", T0),
        f("/usr/bin/app", "#!/bin/sh\necho app\n", 0o755, T0),
    ];
    vec![app, base]
}

/// docker's `-init` layer for that image (what dockerd 20.10 put there, §4).
fn init_layer() -> Vec<IndexedEntry> {
    vec![
        d("/", TI),
        f("/.dockerenv", "", 0o755, TI),
        d("/dev", TI),
        f("/dev/console", "", 0o755, TI),
        d("/dev/pts", TI),
        d("/dev/shm", TI),
        d("/etc", TI),
        f("/etc/hostname", "", 0o755, TI),
        f("/etc/hosts", "", 0o755, TI),
        l("/etc/mtab", "/proc/mounts", TI),
        f("/etc/resolv.conf", "", 0o755, TI),
    ]
}

/// Merges layers given top first.
fn merge(layers: Vec<Vec<IndexedEntry>>) -> FileIndex {
    let mut merged = FileIndex::new();
    for layer in layers.into_iter().rev() {
        apply_layer(&mut merged, layer);
    }
    merged
}

/// The writable layer as `bundle_index` reads it from the collector's change list.
fn writable(upper: &[IndexedEntry]) -> WritableLayer {
    let mut w = WritableLayer::default();
    w.entries.insert("/".into());
    for e in upper {
        let p = e.entry.path.clone();
        if e.rdev == Some((0, 0)) {
            w.deleted.insert(p);
            continue;
        }
        if e.xattr("trusted.overlay.opaque").is_some() {
            w.opaque.insert(p.clone());
        }
        match e.entry.kind {
            Kind::Dir => {
                w.dirs.insert(p.clone());
            }
            Kind::File if e.entry.size == 0 => {
                w.empty.insert(p.clone());
            }
            _ => {}
        }
        w.entries.insert(p);
    }
    w.mark_empty_dirs();
    w
}

/// What the collector sees from the container's root: `upper` over `lowers`, then the mounts:
/// `binds` replace files (the runtime's `/etc/hosts` …), `pseudo` are directories of other
/// filesystems it does not enter.
fn container(
    upper: Vec<IndexedEntry>,
    lowers: Vec<Vec<IndexedEntry>>,
    binds: &[(&str, &str)],
    pseudo: &[&str],
) -> ContainerFs {
    let w = writable(&upper);
    let mut layers = vec![upper];
    layers.extend(lowers);
    let mut files = merge(layers);
    for (path, content) in binds {
        let host = f(path, content, 0o644, T1 + 7);
        files.insert(path.to_string(), host.entry);
    }
    let mut unexplored = BTreeMap::new();
    for p in pseudo {
        crate::tree::remove_below(&mut files, p);
        let mut mp = entry(p, Kind::Dir, 0o555, T1 + 9);
        mp.entry.uid = 65534;
        files.insert(p.to_string(), mp.entry);
        unexplored.insert(p.to_string(), "another filesystem: not entered".to_string());
    }
    ContainerFs {
        files,
        unexplored,
        writable: Some(w),
    }
}

/// Docker's binds and mounted filesystems.
const DOCKER_BINDS: [(&str, &str); 3] = [
    ("/etc/hosts", "127.0.0.1 localhost\n"),
    ("/etc/hostname", "c0ffee\n"),
    ("/etc/resolv.conf", "nameserver 10.0.0.2\n"),
];
const MOUNTED: [&str; 3] = ["/dev", "/proc", "/sys"];

/// `docker diff` as `forensic diff --image-from-bundle` computes it: the baseline is the
/// image's layers under the init layer (what `9-image/layers/` holds for a Docker container).
fn docker_lines(upper: Vec<IndexedEntry>, all: bool) -> (Vec<String>, Diff) {
    let mut lowers = vec![init_layer()];
    lowers.extend(image_layers());
    let baseline = merge(lowers.clone());
    let c = container(upper, lowers, &DOCKER_BINDS, &MOUNTED);
    let d = diff(&baseline, &c, &DiffOptions::docker(all));
    (sorted(&d), d)
}

/// `podman diff`: the image's layers alone are the baseline. Podman's own runtime files are left
/// out of this model (their rule is checked in `tests.rs` and against podman in
/// tests/e2e/diff.rs).
fn podman_lines(upper: Vec<IndexedEntry>) -> Vec<String> {
    let lowers = image_layers();
    let image = merge(lowers.clone());
    let c = container(upper, lowers, &[], &MOUNTED);
    sorted(&diff(&image, &c, &DiffOptions::default()))
}

fn sorted(d: &Diff) -> Vec<String> {
    let mut v: Vec<String> = d.changes.iter().map(|c| c.to_string()).collect();
    v.sort();
    v
}

fn strs(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// §4's commands: `echo evil > /tmp/miner; echo "x:x:0:0::/:/bin/sh" >> /etc/passwd;
/// rm /etc/motd; mkdir -p /var/new/deep; echo 1 > /var/new/deep/f; rm /usr/bin/app;
/// touch /bin/busybox`. Copied-up directories keep the image's time unless written in.
fn attack_upper() -> Vec<IndexedEntry> {
    vec![
        d("/", T0),
        d("/bin", T0),
        f("/bin/busybox", BUSYBOX, 0o755, T1),
        d("/etc", T1),
        f("/etc/passwd", &format!("{PASSWD}x:x:0:0::/:/bin/sh\n"), 0o644, T1),
        wh("/etc/motd"),
        d("/tmp", T1),
        f("/tmp/miner", "evil\n", 0o644, T1),
        d("/usr", T0),
        d("/usr/bin", T1),
        wh("/usr/bin/app"),
        d("/var", T1),
        d("/var/new", T1),
        d("/var/new/deep", T1),
        f("/var/new/deep/f", "1\n", 0o644, T1),
    ]
}

#[test]
fn the_attack_is_what_docker_diff_and_podman_diff_printed() {
    let (docker, d) = docker_lines(attack_upper(), false);
    assert_eq!(
        docker,
        strs(&[
            "C /tmp",
            "A /tmp/miner",
            "C /usr",
            "C /usr/bin",
            "D /usr/bin/app",
            "C /var",
            "A /var/new",
            "A /var/new/deep",
            "A /var/new/deep/f",
            "C /etc",
            "C /etc/passwd",
            "D /etc/motd",
            "C /bin",
            "C /bin/busybox",
        ])
    );
    assert_eq!(d.unlisted, []);
    let reasons = |p: &str| -> Vec<Reason> { d.changes.iter().find(|c| c.path == p).unwrap().reasons.clone() };
    assert_eq!(reasons("/bin"), [Reason::Parent]);
    assert_eq!(reasons("/bin/busybox"), [Reason::Mtime]);
    assert_eq!(reasons("/etc/passwd"), [Reason::Content, Reason::Mtime]);
    assert_eq!(
        reasons("/tmp"),
        [Reason::Parent],
        "a directory's time is no change for docker"
    );
    // podman: the same lines but `C /bin` (only ancestors of A and D are parents).
    let mut podman = docker.clone();
    podman.retain(|l| l != "C /bin");
    assert_eq!(podman_lines(attack_upper()), podman);
}

/// Issue 12: `echo … >> /etc/passwd; echo evil > /tmp/miner` printed `C /etc/passwd`, `C /tmp`,
/// `A /tmp/miner` where `docker diff` prints `C /etc` too.
#[test]
fn a_changed_file_makes_its_directory_c_for_docker_only() {
    let upper = vec![
        d("/", T0),
        d("/etc", T0),
        f("/etc/passwd", &format!("{PASSWD}x:x:0:0::/:/bin/sh\n"), 0o644, T1),
        d("/tmp", T1),
        f("/tmp/miner", "evil\n", 0o644, T1),
    ];
    assert_eq!(
        docker_lines(upper.clone(), false).0,
        strs(&["C /etc", "C /etc/passwd", "C /tmp", "A /tmp/miner"])
    );
    assert_eq!(podman_lines(upper), strs(&["C /etc/passwd", "C /tmp", "A /tmp/miner"]));
}

/// §4's table: each step on top of the previous ones, in a fresh container.
#[test]
fn every_row_of_the_table() {
    // touch /etc
    let mut upper = vec![d("/", T0), d("/etc", T1)];
    assert_eq!(docker_lines(upper.clone(), false).0, Vec::<String>::new());
    assert_eq!(podman_lines(upper.clone()), strs(&["C /etc"]));
    // chmod 644 /etc/group: same mode, so only a copy-up (the image's time is kept).
    upper.push(f("/etc/group", "root:x:0:\n", 0o644, T0));
    assert_eq!(docker_lines(upper.clone(), false).0, Vec::<String>::new());
    assert_eq!(podman_lines(upper.clone()), strs(&["C /etc", "C /etc/group"]));
    // rm -rf /usr/bin && mkdir /usr/bin && chmod 755 /usr/bin && touch -d @1700000000 /usr/bin
    upper.extend([d("/usr", T1), opaque(d("/usr/bin", T0))]);
    assert_eq!(
        docker_lines(upper.clone(), false).0,
        strs(&["C /usr", "C /usr/bin", "D /usr/bin/app"])
    );
    assert_eq!(
        podman_lines(upper.clone()),
        strs(&["C /etc", "C /etc/group", "C /usr", "D /usr/bin"])
    );
    // chmod 700 /var
    let mut var = d("/var", T0);
    var.entry.mode = 0o700;
    upper.push(var);
    assert_eq!(
        docker_lines(upper.clone(), false).0,
        strs(&["C /usr", "C /usr/bin", "D /usr/bin/app", "C /var"])
    );
    assert_eq!(
        podman_lines(upper),
        strs(&["C /etc", "C /etc/group", "C /usr", "D /usr/bin", "C /var"])
    );
}

/// Bytes changed, size and time put back: docker cannot see it. Not listed (the list is
/// `docker diff`'s), kept in `unlisted` for the findings; listed with `--all`, with its parent.
#[test]
fn a_content_change_docker_cannot_see_is_unlisted() {
    let upper = vec![
        d("/", T0),
        d("/bin", T0),
        f("/bin/busybox", "\x7fELF backdoo", 0o755, T0),
    ];
    assert_eq!(BUSYBOX.len(), "\x7fELF backdoo".len());
    let (lines, d) = docker_lines(upper.clone(), false);
    assert_eq!(lines, Vec::<String>::new());
    assert_eq!(
        d.unlisted,
        [Change {
            kind: ChangeKind::Changed,
            path: "/bin/busybox".into(),
            reasons: vec![Reason::Content],
        }]
    );
    // The runtime's own files are not findings either (docker's /etc/hosts bind, same size and
    // time as the init layer's file).
    let mut c = container(
        upper.clone(),
        {
            let mut l = vec![init_layer()];
            l.extend(image_layers());
            l
        },
        &[("/etc/hosts", "")],
        &MOUNTED,
    );
    c.files.get_mut("/etc/hosts").unwrap().mtime_ns = Some(TI);
    c.files.get_mut("/etc/hosts").unwrap().sha256 = Some(Digest::of(b"-"));
    c.files.get_mut("/etc/hosts").unwrap().mode = 0o755;
    let mut lowers = vec![init_layer()];
    lowers.extend(image_layers());
    let only_busybox = diff(&merge(lowers), &c, &DiffOptions::docker(false));
    assert_eq!(
        only_busybox
            .unlisted
            .iter()
            .map(|c| c.path.as_str())
            .collect::<Vec<_>>(),
        ["/bin/busybox"]
    );
    let (lines, d) = docker_lines(upper.clone(), true);
    assert!(d.unlisted.is_empty());
    assert!(lines.contains(&"C /bin/busybox".to_string()) && lines.contains(&"C /bin".to_string()));
    // podman lists it: the file is in the writable layer (and its hash differs).
    assert_eq!(podman_lines(upper), strs(&["C /bin/busybox"]));
}

/// A symlink's size is its target's length for moby (`lstat`), while image indexes record 0:
/// an unchanged link is no change; a target of another length is; one of the same length with
/// the time put back is a change docker cannot see.
#[test]
fn symlinks_compare_by_target_length() {
    let upper = vec![d("/", T0), d("/bin", T0), l("/bin/sh", "busyboy", T0)];
    let (lines, found) = docker_lines(upper, false);
    assert_eq!(lines, Vec::<String>::new());
    assert_eq!(found.unlisted.len(), 1);
    assert_eq!(found.unlisted[0].reasons, [Reason::Link]);
    let upper = vec![d("/", T0), d("/bin", T0), l("/bin/sh", "/bin/busybox", T0)];
    let (lines, found) = docker_lines(upper, false);
    assert_eq!(lines, strs(&["C /bin", "C /bin/sh"]));
    assert_eq!(found.changes[1].reasons, [Reason::Content, Reason::Link]);
    // The image side as an image file gives it: size 0.
    let mut lowers = vec![init_layer()];
    lowers.extend(image_layers());
    let mut image = merge(image_layers());
    image.get_mut("/bin/sh").unwrap().size = 0;
    let c = container(vec![d("/", T0)], lowers, &DOCKER_BINDS, &MOUNTED);
    assert_eq!(
        sorted(&diff(&image, &c, &DiffOptions::docker(false))),
        Vec::<String>::new()
    );
}

#[test]
fn docker_compares_owner_size_and_time_of_files_but_not_of_directories() {
    let mut chowned_dir = d("/var", T0);
    chowned_dir.entry.gid = 42;
    let mut chowned = f("/etc/group", "root:x:0:\n", 0o644, T0);
    chowned.entry.uid = 1000;
    let upper = vec![
        d("/", T0),
        chowned_dir,
        d("/etc", T0),
        chowned,
        // Same second, one side with nanoseconds: the same time for moby's sameFsTime.
        f("/etc/motd", "welcome\n", 0o644, T0 + 5),
        d("/bin", T0),
        l("/bin/sh", "busybox", T0 + 1_000_000_000),
    ];
    let (lines, d) = docker_lines(upper.clone(), false);
    assert_eq!(
        lines,
        strs(&["C /bin", "C /bin/sh", "C /etc", "C /etc/group", "C /var"])
    );
    let reasons = |p: &str| -> Vec<Reason> { d.changes.iter().find(|c| c.path == p).unwrap().reasons.clone() };
    assert_eq!(reasons("/var"), [Reason::Owner], "docker compares a directory's owner");
    assert_eq!(reasons("/bin/sh"), [Reason::Mtime]);
    // podman: a directory's owner is no change; the copied-up files are (written).
    assert_eq!(podman_lines(upper), strs(&["C /bin/sh", "C /etc/group", "C /etc/motd"]));
}

/// The init layer's paths are docker's runtime paths: with `--image` (no init layer in the
/// baseline) they are left out, and they make no parent `C`.
#[test]
fn against_the_image_file_the_init_layer_is_left_out() {
    let mut lowers = vec![init_layer()];
    lowers.extend(image_layers());
    let image = merge(image_layers());
    let upper = vec![d("/", T0), d("/tmp", T1), f("/tmp/miner", "evil\n", 0o644, T1)];
    let c = container(upper, lowers, &DOCKER_BINDS, &MOUNTED);
    let d = diff(&image, &c, &DiffOptions::docker(false));
    assert_eq!(sorted(&d), strs(&["C /tmp", "A /tmp/miner"]));
    let all = sorted(&diff(&image, &c, &DiffOptions::docker(true)));
    assert_eq!(
        all,
        strs(&[
            "A /.dockerenv",
            "C /etc",
            "A /etc/hostname",
            "A /etc/hosts",
            "A /etc/mtab",
            "A /etc/resolv.conf",
            "C /tmp",
            "A /tmp/miner",
        ])
    );
}

/// containerd: runc made `/etc/hosts`, `/etc/resolv.conf` (empty files) and `/dev`, `/proc`,
/// `/sys`, `/dev/shm` (empty directories) in the writable layer for the image that lacks them;
/// the record's mounts name them. They are no change (and `/etc`, whose time changed only
/// because of them, neither); a non-empty file at a mount destination is a change.
#[test]
fn containerd_mount_points_are_not_changes() {
    let image = merge(vec![vec![
        d("/", T0),
        d("/bin", T0),
        f("/bin/busybox", BUSYBOX, 0o755, T0),
        d("/etc", T0),
        f("/etc/hostname", "img\n", 0o644, T0),
        d("/tmp", T0),
    ]]);
    let upper = vec![
        d("/", T1),
        d("/dev", T1),
        d("/etc", T1),
        f("/etc/hosts", "", 0o755, T1),
        f("/etc/resolv.conf", "", 0o755, T1),
        d("/proc", T1),
        d("/sys", T1),
        d("/srv", T1),
        f("/srv/data", "not a mount point\n", 0o644, T1),
        d("/tmp", T1),
        f("/tmp/miner", "evil\n", 0o644, T1),
    ];
    let lowers = vec![
        image
            .values()
            .cloned()
            .map(|entry| IndexedEntry { entry, ..d("/", T0) })
            .collect(),
    ];
    let binds = [
        ("/etc/hosts", "127.0.0.1 localhost\n"),
        ("/etc/hostname", "web-0\n"),
        ("/etc/resolv.conf", "nameserver 10.0.0.2\n"),
        ("/srv/data", "bound\n"),
    ];
    let c = container(upper, lowers, &binds, &["/dev", "/proc", "/sys"]);
    let dests = [
        "/proc",
        "/dev",
        "/dev/pts",
        "/dev/shm",
        "/dev/mqueue",
        "/sys",
        "/sys/fs/cgroup",
        "/etc/hostname",
        "/etc/hosts",
        "/etc/resolv.conf",
        "/srv/data",
    ];
    let opts = DiffOptions {
        runtime_made: RuntimeMade::with_mount_points(dests),
        ..DiffOptions::default()
    };
    let d = diff(&image, &c, &opts);
    // /etc/hostname is the image's file with the runtime's bind over it: not in the writable
    // layer, no change.
    assert_eq!(sorted(&d), strs(&["A /srv", "A /srv/data", "C /tmp", "A /tmp/miner"]));
    let all = sorted(&diff(&image, &c, &DiffOptions { all: true, ..opts }));
    assert_eq!(
        all,
        strs(&[
            "C /",
            "A /dev",
            "C /etc",
            "C /etc/hostname",
            "A /etc/hosts",
            "A /etc/resolv.conf",
            "A /proc",
            "A /srv",
            "A /srv/data",
            "A /sys",
            "C /tmp",
            "A /tmp/miner",
        ])
    );
}
