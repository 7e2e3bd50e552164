//! Test support shared by the tests that need a real containerd (this crate's and
//! forensic-collect's, which includes this file by path): a containerd of its own (root, state,
//! socket; CRI plugin off) stopped with its tasks on drop, and a docker-archive of the host's
//! busybox-static in two layers. docs/dev/runtimes.md §1.1, §6.
#![allow(dead_code)]

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const NS: &str = "k8s.io";
pub const IMAGE: &str = "localhost/forensic-rt-test:1";

pub fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// One uncompressed layer tar of `(path, mode, content or symlink target, is symlink)`.
fn layer(entries: &[(&str, u32, &[u8], bool)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, mode, data, link) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mode(*mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_700_000_000);
        if *link {
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            b.append_link(&mut h, path, std::str::from_utf8(data).unwrap()).unwrap();
        } else if path.ends_with('/') {
            h.set_entry_type(tar::EntryType::Directory);
            h.set_size(0);
            b.append_data(&mut h, path, &[][..]).unwrap();
        } else {
            h.set_entry_type(tar::EntryType::Regular);
            h.set_size(data.len() as u64);
            b.append_data(&mut h, path, *data).unwrap();
        }
    }
    b.into_inner().unwrap()
}

/// A docker-archive (what `docker save` writes) of two layers: busybox, then /etc/passwd.
pub fn docker_archive(path: &Path) {
    let busybox = std::fs::read("/bin/busybox").unwrap();
    let l1 = layer(&[
        ("bin/", 0o755, b"", false),
        ("bin/busybox", 0o755, &busybox, false),
        ("bin/sh", 0o777, b"busybox", true),
        ("bin/sleep", 0o777, b"busybox", true),
    ]);
    let l2 = layer(&[
        ("etc/", 0o755, b"", false),
        ("etc/passwd", 0o644, b"root:x:0:0::/:/bin/sh\n", false),
    ]);
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/bin/sleep", "1000"]},
        "rootfs": {"type": "layers", "diff_ids": [
            format!("sha256:{}", sha256_hex(&l1)), format!("sha256:{}", sha256_hex(&l2))]}
    }))
    .unwrap();
    let config_name = format!("{}.json", sha256_hex(&config));
    let manifest = serde_json::to_vec(&serde_json::json!([{
        "Config": config_name, "RepoTags": [IMAGE], "Layers": ["l1/layer.tar", "l2/layer.tar"]}]))
    .unwrap();
    let mut b = tar::Builder::new(std::fs::File::create(path).unwrap());
    for (name, data) in [
        ("l1/layer.tar", &l1),
        ("l2/layer.tar", &l2),
        (config_name.as_str(), &config),
        ("manifest.json", &manifest),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, name, data.as_slice()).unwrap();
    }
    b.finish().unwrap();
}

/// containerd on its own root, state and socket; stops it (tasks first) on drop.
pub struct Containerd {
    base: PathBuf,
    /// The gRPC socket.
    pub socket: PathBuf,
    daemon: Child,
    /// Containers whose tasks are killed and which are removed on drop.
    pub ids: Vec<String>,
}

impl Containerd {
    pub fn start(base: &Path) -> Containerd {
        let socket = base.join("c.sock");
        let config = format!(
            "version = 2\nroot = \"{b}/root\"\nstate = \"{b}/state\"\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n\
             [grpc]\n  address = \"{s}\"\n[ttrpc]\n  address = \"{s}.ttrpc\"\n[metrics]\n  address = \"\"\n",
            b = base.display(),
            s = socket.display()
        );
        std::fs::write(base.join("config.toml"), config).unwrap();
        let log = std::fs::File::create(base.join("containerd.log")).unwrap();
        let daemon = Command::new("containerd")
            .arg("--config")
            .arg(base.join("config.toml"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("containerd (apt-get install containerd) must be installed for this test");
        let c = Containerd {
            base: base.to_path_buf(),
            socket,
            daemon,
            ids: Vec::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !c.ctr(&["version"]).status.success() {
            assert!(Instant::now() < deadline, "containerd did not answer within 20 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        c
    }

    pub fn ctr(&self, args: &[&str]) -> std::process::Output {
        Command::new("ctr")
            .arg("-a")
            .arg(&self.socket)
            .args(["-n", NS])
            .args(args)
            .output()
            .unwrap()
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.ctr(args);
        assert!(
            o.status.success(),
            "ctr {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        for id in self.ids.clone() {
            let _ = self.ctr(&["tasks", "kill", "-s", "KILL", id.as_str()]);
            let deadline = Instant::now() + Duration::from_secs(10);
            while !self.ctr(&["tasks", "rm", "-f", id.as_str()]).status.success() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = self.ctr(&["containers", "rm", id.as_str()]);
        }
        let _ = Command::new("kill").arg(self.daemon.id().to_string()).status();
        let _ = self.daemon.wait();
        unmount_below(&self.base);
    }
}

pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

/// dockerd on its own data root, exec root and socket, over `ctd`'s containerd; removes its
/// containers and stops on drop (before the containerd guard drops).
pub struct Dockerd {
    base: PathBuf,
    /// The Engine's socket.
    pub socket: PathBuf,
    daemon: Child,
}

impl Dockerd {
    pub fn start(base: &Path, containerd: &Path) -> Dockerd {
        let dk = base.join("dk");
        std::fs::create_dir_all(&dk).unwrap();
        let socket = dk.join("docker.sock");
        let log = std::fs::File::create(dk.join("dockerd.log")).unwrap();
        let daemon = Command::new("dockerd")
            .arg("--data-root")
            .arg(dk.join("data"))
            .arg("--exec-root")
            .arg(dk.join("exec"))
            .arg("-H")
            .arg(format!("unix://{}", socket.display()))
            .arg("--pidfile")
            .arg(dk.join("docker.pid"))
            .args(["--iptables=false", "--ip6tables=false", "--bridge=none"])
            .arg("--containerd")
            .arg(containerd)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("dockerd (apt-get install docker.io) must be installed for this test");
        let d = Dockerd {
            base: dk,
            socket,
            daemon,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !d.docker(&["version"]).status.success() {
            assert!(Instant::now() < deadline, "dockerd did not answer within 30 s");
            std::thread::sleep(Duration::from_millis(200));
        }
        d
    }

    /// `/usr/bin/docker` (the packaged CLI, the daemon's version) against this daemon.
    pub fn docker(&self, args: &[&str]) -> std::process::Output {
        Command::new("/usr/bin/docker")
            .env("DOCKER_HOST", format!("unix://{}", self.socket.display()))
            .args(args)
            .output()
            .unwrap()
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.docker(args);
        assert!(
            o.status.success(),
            "docker {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        if let Ok(o) = Command::new("/usr/bin/docker")
            .env("DOCKER_HOST", format!("unix://{}", self.socket.display()))
            .args(["ps", "-aq"])
            .output()
        {
            for id in String::from_utf8_lossy(&o.stdout).split_whitespace() {
                let _ = self.docker(&["rm", "-f", id]);
            }
        }
        let _ = Command::new("kill").arg(self.daemon.id().to_string()).status();
        let _ = self.daemon.wait();
        unmount_below(&self.base);
    }
}

/// Unmounts everything mounted below `base`, deepest first.
pub fn unmount_below(base: &Path) {
    if let Ok(mounts) = std::fs::read_to_string("/proc/self/mountinfo") {
        let base = base.display().to_string();
        let mut targets: Vec<&str> = mounts
            .lines()
            .filter_map(|l| l.split(' ').nth(4))
            .filter(|t| t.starts_with(&base))
            .collect();
        targets.sort_unstable_by(|a, b| b.cmp(a));
        for t in targets {
            let _ = Command::new("umount").args(["-l", t]).status();
        }
    }
}
