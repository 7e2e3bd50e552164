//! A real container for the collection tests: podman + runc + busybox-static, as CI installs them.
//! Every container and image made here is removed when its guard drops.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// podman flags this machine needs (crun fails here; limits cannot be raised).
pub const RUN_FLAGS: [&str; 6] = [
    "--runtime",
    "runc",
    "--ulimit",
    "nofile=1000:1000",
    "--ulimit",
    "nproc=1000:1000",
];

/// Busybox applets linked in the test image.
const APPLETS: [&str; 22] = [
    "sh", "sleep", "nc", "cat", "echo", "rm", "cp", "chmod", "mkfifo", "ln", "touch", "ls", "id", "mkdir", "printf",
    "ps", "wc", "head", "setsid", "tr", "env", "true",
];

/// Runs podman, panicking with its stderr on failure.
pub fn podman(args: &[&str]) -> Output {
    let o = Command::new("podman")
        .args(args)
        .output()
        .expect("podman is installed (.ci/run installs it)");
    assert!(
        o.status.success(),
        "podman {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// The host's busybox-static, which every test image holds as `/bin/busybox`.
pub fn host_busybox() -> PathBuf {
    ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("busybox-static is installed (.ci/run installs it)")
}

/// A busybox image built from a rootfs tar made here, imported with `podman import`.
pub struct Image {
    /// Reference.
    pub name: String,
}

impl Image {
    /// Builds and imports the image.
    pub fn build(work: &Path, tag: &str) -> Image {
        Image::build_with(work, tag, &[])
    }

    /// Builds and imports the image with extra files (`(path, content)`, paths relative to the
    /// root). A file naming the test makes the layer unique, so that no other test's image
    /// shares it (podman stores identical layers once).
    pub fn build_with(work: &Path, tag: &str, extra: &[(&str, &[u8])]) -> Image {
        let tar = rootfs_tar(work, extra);
        let name = format!("localhost/forensic-e2e:{tag}");
        podman(&["import", tar.to_str().unwrap(), &name]);
        Image { name }
    }
}

/// The test image's root filesystem as a tar (`work/rootfs.tar`, built in `work/rootfs`): busybox
/// and its applets, account files, `/etc/motd`, `/etc/hosts`, `/usr/bin/report` and the usual
/// directories, plus `extra` files (`(path, content)`, paths relative to the root). Any runtime
/// imports it (`podman import`, `docker import`).
pub fn rootfs_tar(work: &Path, extra: &[(&str, &[u8])]) -> PathBuf {
    let root = work.join("rootfs");
    for d in [
        "bin",
        "tmp",
        "etc",
        "root",
        "var/tmp",
        "run",
        "dev/shm",
        "usr/bin",
        "home/app/.ssh",
        "var/spool/cron/crontabs",
    ] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::copy(host_busybox(), root.join("bin/busybox")).unwrap();
    for a in APPLETS {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(a)).unwrap();
    }
    std::fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
    )
    .unwrap();
    std::fs::write(root.join("etc/group"), "root:x:0:\napp:x:1000:\n").unwrap();
    std::fs::write(
        root.join("etc/shadow"),
        "root:*:19000:0:99999:7:::\napp:!:19000:0:99999:7:::\n",
    )
    .unwrap();
    std::fs::write(root.join("etc/motd"), "welcome\n").unwrap();
    std::fs::write(root.join("etc/hosts"), "127.0.0.1 localhost\n").unwrap();
    std::fs::write(root.join("usr/bin/report"), "#!/bin/sh\necho report\n").unwrap();
    for (path, content) in extra {
        std::fs::write(root.join(path), content).unwrap();
    }
    let tar = work.join("rootfs.tar");
    let o = Command::new("tar")
        .args(["-C", root.to_str().unwrap(), "-cf", tar.to_str().unwrap(), "."])
        .output()
        .unwrap();
    assert!(o.status.success(), "tar: {}", String::from_utf8_lossy(&o.stderr));
    tar
}

impl Drop for Image {
    fn drop(&mut self) {
        let _ = Command::new("podman").args(["rmi", "-f", &self.name]).output();
    }
}

/// A running container, removed on drop.
pub struct Container {
    /// Name.
    pub name: String,
}

impl Container {
    /// Starts `image` running `sleep` as its main process.
    pub fn start(image: &Image, name: &str) -> Container {
        Container::start_with(image, name, &["/bin/sleep", "100000"])
    }

    /// Starts `image` running `command` (its `Config.Cmd`) as its main process.
    pub fn start_with(image: &Image, name: &str, command: &[&str]) -> Container {
        Container::start_run(image, name, &[], command)
    }

    /// Starts `image` with extra `podman run` flags (`--mount …`, `-v …`) running `command`.
    pub fn start_run(image: &Image, name: &str, run_flags: &[&str], command: &[&str]) -> Container {
        let _ = Command::new("podman").args(["rm", "-f", name]).output();
        let mut args = vec!["run", "-d", "--name", name];
        args.extend(RUN_FLAGS);
        args.extend_from_slice(run_flags);
        args.push(image.name.as_str());
        args.extend_from_slice(command);
        podman(&args);
        Container { name: name.to_string() }
    }

    /// `podman exec NAME sh -c SCRIPT` (the attacker's actions; the collector never does this).
    pub fn sh(&self, script: &str) {
        podman(&["exec", &self.name, "/bin/sh", "-c", script]);
    }

    /// `podman exec -d NAME sh -c SCRIPT`: a background process inside the container.
    pub fn spawn(&self, script: &str) {
        podman(&["exec", "-d", &self.name, "/bin/sh", "-c", script]);
    }

    /// `forensic collect --container NAME --runtime podman -o BUNDLE --key KEY EXTRA…`, which
    /// must succeed.
    pub fn collect(&self, bundle: &Path, key: &Path, extra: &[&str]) -> Output {
        let mut args = vec![
            "collect",
            "--container",
            &self.name,
            "--runtime",
            "podman",
            "-o",
            crate::util::s(bundle),
            "--key",
            crate::util::s(key),
        ];
        args.extend_from_slice(extra);
        let o = crate::util::run(&args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "collect: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        o
    }

    /// The host PID of the container's main process.
    pub fn pid(&self) -> u32 {
        let o = podman(&["inspect", "--format", "{{.State.Pid}}", &self.name]);
        String::from_utf8_lossy(&o.stdout).trim().parse().unwrap()
    }

    /// `podman diff`, sorted.
    pub fn diff(&self) -> Vec<String> {
        let o = podman(&["diff", &self.name]);
        let mut lines: Vec<String> = String::from_utf8_lossy(&o.stdout).lines().map(str::to_string).collect();
        lines.sort();
        lines
    }

    /// PIDs in the container's PID namespace, from the host's /proc.
    pub fn host_pids(&self) -> Vec<u32> {
        let ns = std::fs::read_link(format!("/proc/{}/ns/pid", self.pid())).unwrap();
        let mut pids: Vec<u32> = std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .filter(|p: &u32| std::fs::read_link(format!("/proc/{p}/ns/pid")).is_ok_and(|n| n == ns))
            .collect();
        pids.sort();
        pids
    }

    /// Waits until `check` holds (background processes need a moment to start).
    pub fn wait_for(&self, what: &str, check: impl Fn() -> bool) {
        let end = Instant::now() + Duration::from_secs(30);
        while !check() {
            assert!(Instant::now() < end, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("podman")
            .args(["rm", "-f", "-t", "0", &self.name])
            .output();
    }
}

/// `path → "atime mtime ctime size mode type"` of every entry under the container's root, from
/// the host, without reading any file (lstat only). Panics if `find` fails or the listing does
/// not hold the image's `/bin/busybox`: two empty snapshots would compare equal.
pub fn stat_tree(pid: u32) -> BTreeMap<String, String> {
    // The trailing slash: the tree behind the (procfs) link, not the link itself.
    let root = format!("/proc/{pid}/root/");
    let o = Command::new("find")
        .args([root.as_str(), "-xdev", "-printf", "%P\\0%A@ %T@ %C@ %s %m %y\\0"])
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
    let tree: BTreeMap<String, String> = fields.chunks(2).map(|c| (c[0].clone(), c[1].clone())).collect();
    assert_eq!(tree.len() * 2, fields.len(), "find listed a path twice");
    assert!(
        tree.get("bin/busybox").is_some_and(|l| l.ends_with(" f")),
        "the snapshot of {root} has no bin/busybox ({} entries)",
        tree.len()
    );
    tree
}
