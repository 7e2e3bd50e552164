//! Real containerd (with its CRI plugin) and dockerd for the end-to-end tests (issue 12), each
//! started by the test with its own root, state, sockets and config under a temporary directory,
//! as docs/dev/runtimes.md §1, §4 and §6 measured them on this machine.
//!
//! Guarantees of the harness, checked by `selftest`:
//! - nothing listens on TCP: containerd's gRPC and ttrpc, the CRI and dockerd are unix sockets
//!   in the run's directory (the CRI's stream server is off: no TCP service, port 0 on 127.0.0.1);
//! - every pod, container and daemon started here is stopped when its guard drops, in the order
//!   runtimes.md §6 found necessary (pods and tasks before containerd, dockerd before containerd),
//!   then the run's mounts are unmounted and its `/var/log/pods/NS_POD_UID` directories removed;
//!   no process, mount or log directory of the run stays behind.

pub mod containerd;
pub mod docker;
pub mod image;
mod selftest;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// Sends SIGTERM to `child` and waits up to `grace` for it to exit, then SIGKILL.
pub fn terminate(child: &mut Child, grace: Duration) {
    if child.try_wait().ok().flatten().is_some() {
        return;
    }
    let pid = rustix::process::Pid::from_raw(child.id() as i32).expect("a child's pid is positive");
    let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    let end = Instant::now() + grace;
    while Instant::now() < end {
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Mount points at or below `dir` in this process's mount namespace, deepest first.
pub fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut points: Vec<PathBuf> = info
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|p| PathBuf::from(p.replace("\\040", " ")))
        .filter(|p| p.starts_with(dir))
        .collect();
    points.sort();
    points.dedup();
    points.reverse();
    points
}

/// Lazily unmounts everything at or below `dir` (what a killed daemon or shim left).
pub fn umount_under(dir: &Path) {
    for point in mounts_under(dir) {
        let _ = Command::new("umount").arg("-l").arg(&point).output();
    }
}

/// PIDs of processes whose command line contains `needle` (the shims of one containerd carry
/// its socket path in `-address`).
pub fn pids_with_arg(needle: &str) -> Vec<u32> {
    let mut pids = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if cmdline.split(|b| *b == 0).any(|a| a == needle.as_bytes()) {
            pids.push(pid);
        }
    }
    pids
}

/// Polls `ready` every 100 ms for up to 30 s; panics with `log`'s content when it never holds.
pub fn wait_ready(what: &str, log: &Path, mut ready: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(30);
    while !ready() {
        if Instant::now() > end {
            panic!(
                "{what} did not come up in 30 s; its log:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A PATH in which every program of the current PATH is found except `kubectl` and `crictl`:
/// a directory of links, removed when the returned guard drops. `collect --pod` must work on a
/// node without them.
pub fn path_without_kubectl() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = std::env::var("PATH").unwrap_or_default();
    for d in path.split(':').filter(|d| !d.is_empty()) {
        let Ok(entries) = std::fs::read_dir(d) else { continue };
        for e in entries.flatten() {
            let name = e.file_name();
            if name == "kubectl" || name == "crictl" || dir.path().join(&name).exists() {
                continue;
            }
            let _ = std::os::unix::fs::symlink(e.path(), dir.path().join(&name));
        }
    }
    let s = dir.path().to_str().unwrap().to_string();
    (dir, s)
}

/// The local addresses (as `/proc/net/tcp{,6}` writes them, hex `ADDR:PORT`) of the TCP sockets
/// process `pid` listens on.
pub fn tcp_listeners(pid: u32) -> Vec<String> {
    let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .filter_map(|l| {
            let l = l.to_str()?;
            Some(l.strip_prefix("socket:[")?.strip_suffix(']')?.to_string())
        })
        .collect();
    let mut listeners = Vec::new();
    for table in ["tcp", "tcp6"] {
        let text = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")).unwrap_or_default();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() > 9 && f[3] == "0A" && inodes.iter().any(|i| i == f[9]) {
                listeners.push(f[1].to_string());
            }
        }
    }
    listeners
}

/// Whether a `/proc/net/tcp{,6}` local address is on the loopback (127.0.0.0/8 or ::1).
pub fn is_loopback(hex: &str) -> bool {
    let addr = hex.split(':').next().unwrap_or_default();
    (addr.len() == 8 && addr.ends_with("7F")) || addr == "00000000000000000000000001000000"
}

/// Whether a process with this PID exists.
pub fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// What a harness's teardown must have removed: the daemons and containers (by pid), the shims
/// of its containerd, its run directories with their mounts, and a pod's log directory.
pub struct Leftovers {
    /// Daemons and container processes.
    pub pids: Vec<u32>,
    /// The containerd socket its shims name in `-address`.
    pub socket: String,
    /// The run directories.
    pub dirs: Vec<PathBuf>,
    /// A CRI pod's `/var/log/pods/NS_POD_UID`.
    pub log_dir: Option<PathBuf>,
}

impl Leftovers {
    /// Everything a running [`docker::Docker`] started: dockerd, its containerd, the main
    /// process of each running container, and both run directories.
    pub fn of_docker(docker: &docker::Docker) -> Leftovers {
        let ctd = docker.containerd();
        let mut pids = vec![docker.daemon_pid(), ctd.daemon_pid()];
        for id in docker.cli(&["ps", "-q"]).split_whitespace() {
            pids.push(docker.pid(id));
        }
        Leftovers {
            pids,
            socket: ctd.socket.to_str().unwrap().to_string(),
            dirs: vec![docker.dir.path().to_path_buf(), ctd.dir.path().to_path_buf()],
            log_dir: None,
        }
    }

    /// Panics naming the first process, shim, mount, or directory still there.
    pub fn assert_none(&self) {
        for pid in &self.pids {
            assert!(!alive(*pid), "process {pid} is still running");
        }
        assert_eq!(pids_with_arg(&self.socket), Vec::<u32>::new(), "shims left running");
        for d in &self.dirs {
            assert_eq!(
                mounts_under(d),
                Vec::<PathBuf>::new(),
                "mounts left under {}",
                d.display()
            );
            assert!(!d.exists(), "{} left behind", d.display());
        }
        if let Some(l) = &self.log_dir {
            assert!(!l.exists(), "{} left behind", l.display());
        }
    }
}
