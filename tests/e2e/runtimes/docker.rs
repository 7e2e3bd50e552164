//! dockerd 20.10 on a containerd of its own, both started by the test (docs/dev/runtimes.md §4,
//! §6): own data root, exec root, pidfile and socket, no iptables, no bridge. Containers are run
//! with `/usr/bin/docker` (the packaged CLI of the daemon's version, not `/usr/local/bin/docker`)
//! and `--network none`; `docker diff`'s changes are read through the Engine API (bollard).

use super::containerd::Containerd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// The packaged docker CLI (runtimes.md §0: `/usr/local/bin/docker` is another version).
pub const DOCKER_CLI: &str = "/usr/bin/docker";

/// A dockerd the test started; its containers are removed and it stops on drop, before its
/// containerd.
pub struct Docker {
    /// The run's directory (data root, exec root, socket, log).
    pub dir: tempfile::TempDir,
    /// `unix://…/docker.sock`, for `DOCKER_HOST`.
    pub host: String,
    log: PathBuf,
    child: Child,
    containers: std::cell::RefCell<Vec<String>>,
    // Dropped after dockerd stopped (fields drop after `Drop::drop`).
    containerd_: Containerd,
}

impl Docker {
    /// Starts containerd, then dockerd on it, and waits until the daemon answers.
    pub fn start() -> Docker {
        let containerd = Containerd::start();
        let dir = tempfile::Builder::new().prefix("fdk").tempdir_in("/tmp").unwrap();
        let d = dir.path();
        // The trust key too goes under the run's directory, not /etc/docker/key.json.
        let config = serde_json::json!({"deprecated-key-path": d.join("key.json")});
        std::fs::write(d.join("daemon.json"), config.to_string()).unwrap();
        let log = d.join("dockerd.log");
        let sock = d.join("docker.sock");
        let child = Command::new("dockerd")
            .arg("--config-file")
            .arg(d.join("daemon.json"))
            .arg("--data-root")
            .arg(d.join("data"))
            .arg("--exec-root")
            .arg(d.join("exec"))
            .arg("--pidfile")
            .arg(d.join("docker.pid"))
            .arg("-H")
            .arg(format!("unix://{}", sock.display()))
            .args(["--iptables=false", "--ip6tables=false", "--bridge=none"])
            .arg("--containerd")
            .arg(&containerd.socket)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("dockerd is installed (.ci/run installs docker.io)");
        let docker = Docker {
            host: format!("unix://{}", sock.display()),
            log,
            child,
            containers: std::cell::RefCell::new(Vec::new()),
            containerd_: containerd,
            dir,
        };
        super::wait_ready("dockerd", &docker.log, || {
            docker
                .cli_raw(&["version", "--format", "{{.Server.Version}}"])
                .status
                .success()
        });
        docker
    }

    /// The dockerd daemon's PID.
    pub fn daemon_pid(&self) -> u32 {
        self.child.id()
    }

    /// The containerd dockerd runs on.
    pub fn containerd(&self) -> &Containerd {
        &self.containerd_
    }

    fn cli_raw(&self, args: &[&str]) -> Output {
        Command::new(DOCKER_CLI)
            .args(args)
            .env("DOCKER_HOST", &self.host)
            .output()
            .expect("/usr/bin/docker is installed (docker.io)")
    }

    /// `/usr/bin/docker ARGS` against this daemon, which must succeed; its stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        let o = self.cli_raw(args);
        assert!(
            o.status.success(),
            "docker {args:?}: {}\ndockerd's log:\n{}",
            String::from_utf8_lossy(&o.stderr),
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// `docker load -i ARCHIVE`.
    pub fn load(&self, archive: &Path) {
        self.cli(&["load", "-q", "-i", archive.to_str().unwrap()]);
    }

    /// `docker run -d --network none --name NAME IMAGE`: the image's command. Returns the id.
    pub fn run(&self, name: &str, image: &str) -> String {
        self.containers.borrow_mut().push(name.to_string());
        self.cli(&["run", "-d", "--network", "none", "--name", name, image])
            .trim()
            .to_string()
    }

    /// `docker run -d --network none --name NAME FLAGS… IMAGE COMMAND…`. Returns the id.
    pub fn run_with(&self, name: &str, flags: &[&str], image: &str, command: &[&str]) -> String {
        self.containers.borrow_mut().push(name.to_string());
        let mut args = vec!["run", "-d", "--network", "none", "--name", name];
        args.extend_from_slice(flags);
        args.push(image);
        args.extend_from_slice(command);
        self.cli(&args).trim().to_string()
    }

    /// Stops dockerd only (SIGTERM), leaving its data root as a node's disk holds it after the
    /// node is gone (issue 13). Kill the containers first: dockerd's own stop waits 10 s for a
    /// `sleep` to ignore SIGTERM (docs/dev/deadbox.md §2.1). The guard still cleans up on drop.
    pub fn stop_daemon(&mut self) {
        super::terminate(&mut self.child, Duration::from_secs(15));
        super::umount_under(self.dir.path());
    }

    /// The host PID of a container's main process.
    pub fn pid(&self, id: &str) -> u32 {
        self.cli(&["inspect", "--format", "{{.State.Pid}}", id])
            .trim()
            .parse()
            .unwrap()
    }

    /// `GET /containers/{id}/changes` (what `docker diff` prints) as `KIND PATH` lines, sorted
    /// (the daemon's order is random, runtimes.md §4). Read through the API: a path may hold a
    /// newline, which would split a line of the CLI's output.
    pub fn changes(&self, id: &str) -> Vec<String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let docker = bollard::Docker::connect_with_unix(&self.host, 60, bollard::API_DEFAULT_VERSION).unwrap();
        let changes = rt
            .block_on(docker.container_changes(id))
            .unwrap_or_else(|e| panic!("GET /containers/{id}/changes: {e}"))
            .unwrap_or_default();
        let mut lines: Vec<String> = changes
            .iter()
            .map(|c| {
                let kind = match c.kind {
                    bollard::models::ChangeType::_0 => "C",
                    bollard::models::ChangeType::_1 => "A",
                    bollard::models::ChangeType::_2 => "D",
                };
                format!("{kind} {}", c.path)
            })
            .collect();
        lines.sort();
        lines
    }
}

impl Drop for Docker {
    fn drop(&mut self) {
        for name in self.containers.borrow().iter() {
            let _ = self.cli_raw(&["rm", "-f", "-v", name]);
        }
        super::terminate(&mut self.child, Duration::from_secs(15));
        super::umount_under(self.dir.path());
    }
}

/// A container of this daemon, as the attack's victim.
pub struct DockerContainer<'a> {
    /// The daemon.
    pub docker: &'a Docker,
    /// The container id.
    pub id: String,
}

impl crate::attack::Victim for DockerContainer<'_> {
    fn sh(&self, script: &str) {
        self.docker.cli(&["exec", &self.id, "/bin/sh", "-c", script]);
    }

    fn spawn(&self, script: &str) {
        self.docker.cli(&["exec", "-d", &self.id, "/bin/sh", "-c", script]);
    }

    fn pid(&self) -> u32 {
        self.docker.pid(&self.id)
    }
}
