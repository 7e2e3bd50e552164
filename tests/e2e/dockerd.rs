//! `forensic diff --image-from-bundle` against a real dockerd (docs/dev/runtimes.md §4): the test
//! starts its own containerd and dockerd (own roots and unix sockets, no network), imports the
//! busybox test image, runs containers with `--network none`, plants the §4 steps, collects with
//! `forensic collect --runtime docker`, and compares the change list with `docker diff` (sorted:
//! docker's order is random) and with the lines §4 measured. Everything started here is stopped
//! and removed when the guard drops.

use crate::diff::{diff_json, lines};
use crate::podman::rootfs_tar;
use crate::util::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The docker CLI of the daemon's version (`/usr/local/bin/docker` is a newer, unpackaged one).
const DOCKER: &str = "/usr/bin/docker";
/// The image the test imports.
const IMAGE: &str = "localhost/forensic-dockerdiff:1";
/// `PATH` for the collector: the packaged docker CLI first.
const PATH: &str = "/usr/bin:/usr/sbin:/bin:/sbin";

/// containerd and dockerd of this test, in a temporary directory.
struct Dockerd {
    base: tempfile::TempDir,
    containerd: Child,
    dockerd: Child,
}

impl Dockerd {
    fn start() -> Dockerd {
        let base = tempfile::Builder::new().prefix("fdd").tempdir_in("/tmp").unwrap();
        let b = base.path();
        std::fs::create_dir_all(b.join("ctd")).unwrap();
        std::fs::create_dir_all(b.join("dk")).unwrap();
        let sock = b.join("ctd/containerd.sock");
        let config = format!(
            r#"version = 2
root = "{root}"
state = "{state}"
[grpc]
  address = "{sock}"
[ttrpc]
  address = "{sock}.ttrpc"
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  restrict_oom_score_adj = true
"#,
            root = b.join("ctd/root").display(),
            state = b.join("ctd/state").display(),
            sock = sock.display(),
        );
        std::fs::write(b.join("ctd/config.toml"), config).unwrap();
        let log = |p: &str| Stdio::from(std::fs::File::create(b.join(p)).unwrap());
        let containerd = Command::new("containerd")
            .args(["--config", s(&b.join("ctd/config.toml"))])
            .stdout(log("ctd/out.log"))
            .stderr(log("ctd/log"))
            .spawn()
            .expect("containerd is installed (.ci/run installs it)");
        wait_for("containerd", b, || {
            Command::new("ctr")
                .args(["-a", s(&sock), "version"])
                .output()
                .is_ok_and(|o| o.status.success())
        });
        let dockerd = Command::new("dockerd")
            .args([
                "--data-root",
                s(&b.join("dk/data")),
                "--exec-root",
                s(&b.join("dk/exec")),
                "-H",
                &format!("unix://{}", b.join("dk/docker.sock").display()),
                "--pidfile",
                s(&b.join("dk/docker.pid")),
                "--iptables=false",
                "--ip6tables=false",
                "--bridge=none",
                "--containerd",
                s(&sock),
            ])
            .stdout(log("dk/out.log"))
            .stderr(log("dk/log"))
            .spawn()
            .expect("dockerd is installed (.ci/run installs docker.io)");
        let d = Dockerd {
            base,
            containerd,
            dockerd,
        };
        wait_for("dockerd", d.base.path(), || d.try_docker(&["version"]).status.success());
        d
    }

    fn host(&self) -> String {
        format!("unix://{}", self.base.path().join("dk/docker.sock").display())
    }

    fn try_docker(&self, args: &[&str]) -> Output {
        Command::new(DOCKER)
            .args(args)
            .env("DOCKER_HOST", self.host())
            .output()
            .expect("/usr/bin/docker is installed (.ci/run installs docker.io)")
    }

    /// `docker ARGS`, which must succeed; stdout.
    fn docker(&self, args: &[&str]) -> String {
        let o = self.try_docker(args);
        assert!(o.status.success(), "docker {args:?}: {}", stderr(&o));
        stdout(&o)
    }

    /// Imports the test image.
    fn import_image(&self) {
        let work = self.base.path().join("image");
        std::fs::create_dir_all(&work).unwrap();
        let tar = rootfs_tar(&work, &[]);
        self.docker(&["import", s(&tar), IMAGE]);
    }

    /// A fresh container running `sleep`, with `script` run in it as the attacker; its id.
    fn victim(&self, name: &str, script: &str) -> String {
        let id = self.docker(&[
            "run",
            "-d",
            "--name",
            name,
            "--network",
            "none",
            IMAGE,
            "/bin/sleep",
            "100000",
        ]);
        if !script.is_empty() {
            self.docker(&["exec", name, "/bin/sh", "-c", script]);
        }
        id.trim().to_string()
    }

    /// `docker diff NAME`, sorted.
    fn docker_diff(&self, name: &str) -> Vec<String> {
        let mut l: Vec<String> = self.docker(&["diff", name]).lines().map(str::to_string).collect();
        l.sort();
        l
    }

    /// `forensic collect --container ID --runtime docker` into `bundle`.
    fn collect(&self, id: &str, bundle: &Path, key: &Path) {
        let o = forensic()
            .args(["collect", "--container", id, "--runtime", "docker", "-o", s(bundle)])
            .args(["--key", s(key), "--quiet"])
            .env("DOCKER_HOST", self.host())
            .env("PATH", PATH)
            .output()
            .unwrap();
        assert_eq!(code(&o), 0, "collect: {}{}", stdout(&o), stderr(&o));
    }
}

/// Waits up to 30 s for `ready`, else panics with the daemon's log.
fn wait_for(what: &str, base: &Path, ready: impl Fn() -> bool) {
    let start = Instant::now();
    while !ready() {
        if start.elapsed() > Duration::from_secs(30) {
            let log = if what == "dockerd" { "dk/log" } else { "ctd/log" };
            panic!(
                "{what} did not answer in 30 s: {}",
                std::fs::read_to_string(base.join(log)).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Sends SIGTERM to `child` and waits up to 20 s for it, then SIGKILL.
fn stop(child: &mut Child) {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).output();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Processes whose command line names `needle` (the shims of our containerd).
fn processes_naming(needle: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| String::from_utf8_lossy(&c).contains(needle))
        })
        .collect()
}

/// Mount points under `dir`, deepest first.
fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    let table = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let prefix = format!("{}/", dir.display());
    let mut m: Vec<PathBuf> = table
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|p| p.starts_with(&prefix) || *p == prefix.trim_end_matches('/'))
        .map(PathBuf::from)
        .collect();
    m.sort();
    m.dedup();
    m.reverse();
    m
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        let ids = self.try_docker(&["ps", "-aq"]);
        for id in stdout(&ids).split_whitespace() {
            let _ = self.try_docker(&["rm", "-f", id]);
        }
        stop(&mut self.dockerd);
        stop(&mut self.containerd);
        let sock = self.base.path().join("ctd/containerd.sock");
        for pid in processes_naming(&sock.display().to_string()) {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).output();
        }
        for m in mounts_under(self.base.path()) {
            let _ = Command::new("umount").args(["-l", s(&m)]).output();
        }
    }
}

/// What `forensic diff BUNDLE --image-from-bundle [EXTRA] --json` lists, its exit code and JSON.
fn forensic_diff(bundle: &Path, extra: &[&str]) -> (Vec<String>, i32, Value) {
    let mut args = vec!["--image-from-bundle"];
    args.extend_from_slice(extra);
    let (exit, v) = diff_json(bundle, &args);
    (lines(&v), exit, v)
}

fn strs(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// §4's commands, with the test image's `/usr/bin/report` for its `/usr/bin/app`, and busybox
/// touched to a fixed time: the image's files have whole-second times, and docker's `sameFsTime`
/// calls a touch within the image's own second no change (a timing flake otherwise).
const ATTACK: &str = "echo evil > /tmp/miner; echo 'x:x:0:0::/:/bin/sh' >> /etc/passwd; rm /etc/motd; \
     mkdir -p /var/new/deep; echo 1 > /var/new/deep/f; rm /usr/bin/report; touch -d @1800000000 /bin/busybox";

/// §4's table: each step on top of the previous ones, in a fresh container, with what
/// `docker diff` printed there.
const TABLE: [(&str, &[&str]); 4] = [
    ("touch /etc", &[]),
    ("chmod 644 /etc/group", &[]),
    (
        "rm -rf /usr/bin && mkdir /usr/bin && chmod 755 /usr/bin && touch -d @1700000000 /usr/bin",
        &["C /usr", "C /usr/bin", "D /usr/bin/report"],
    ),
    (
        "chmod 700 /var",
        &["C /usr", "C /usr/bin", "D /usr/bin/report", "C /var"],
    ),
];

/// The same bytes count, the time put back: what `docker diff` cannot see.
const STEALTH: &str = "cp -p /usr/bin/report /tmp/.ref && printf '#!/bin/sh\\necho rep0rt\\n' > /usr/bin/report \
     && touch -r /tmp/.ref /usr/bin/report && rm /tmp/.ref";

#[test]
fn diff_image_from_bundle_lists_what_docker_diff_lists() {
    let d = Dockerd::start();
    d.import_image();
    let work = tempfile::tempdir().unwrap();
    let (key, _) = keygen(work.path(), "k");

    // §4's attack: the 14 lines docker printed, `C /bin` and `C /etc` included.
    let id = d.victim("attack", ATTACK);
    let expected = strs(&[
        "C /tmp",
        "A /tmp/miner",
        "C /usr",
        "C /usr/bin",
        "D /usr/bin/report",
        "C /var",
        "A /var/new",
        "A /var/new/deep",
        "A /var/new/deep/f",
        "C /etc",
        "C /etc/passwd",
        "D /etc/motd",
        "C /bin",
        "C /bin/busybox",
    ]);
    assert_eq!(d.docker_diff("attack"), expected, "docker diff itself");
    let bundle = work.path().join("attack.zip");
    d.collect(&id, &bundle, &key);
    let (ours, exit, v) = forensic_diff(&bundle, &[]);
    assert_eq!(ours, expected, "forensic diff --image-from-bundle vs docker diff");
    assert_eq!((exit, v["rules"].as_str()), (3, Some("docker")));
    // The image as a file (`docker save`: a docker-archive, no -init layer) gives the same list.
    let saved = work.path().join("image.tar");
    d.docker(&["save", "-o", s(&saved), IMAGE]);
    let (exit, v) = diff_json(&bundle, &["--image", s(&saved)]);
    assert_eq!((lines(&v), exit), (expected.clone(), 3), "--image docker-archive");

    // §4's table, step by step.
    let mut script = String::new();
    for (n, (step, docker_printed)) in TABLE.iter().enumerate() {
        if !script.is_empty() {
            script.push_str(" && ");
        }
        script.push_str(step);
        let name = format!("row{n}");
        let id = d.victim(&name, &script);
        let expected = strs(docker_printed);
        assert_eq!(d.docker_diff(&name), expected, "docker diff after {script:?}");
        let bundle = work.path().join(format!("{name}.zip"));
        d.collect(&id, &bundle, &key);
        let (ours, exit, _) = forensic_diff(&bundle, &[]);
        assert_eq!(ours, expected, "forensic diff after {script:?}");
        assert_eq!(
            exit,
            if expected.is_empty() { 0 } else { 3 },
            "exit code after {script:?}"
        );
    }

    // A change docker cannot see: not listed, but a finding (and exit code 3).
    let id = d.victim("stealth", STEALTH);
    assert_eq!(
        d.docker_diff("stealth"),
        Vec::<String>::new(),
        "docker diff cannot see it"
    );
    let bundle = work.path().join("stealth.zip");
    d.collect(&id, &bundle, &key);
    let (ours, exit, v) = forensic_diff(&bundle, &[]);
    assert_eq!((ours, exit), (Vec::<String>::new(), 3));
    let kinds: Vec<(&str, &str)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["kind"].as_str().unwrap(), f["path"].as_str().unwrap()))
        .collect();
    assert!(
        kinds.contains(&("content-changed-metadata-kept", "/usr/bin/report")),
        "{kinds:?}"
    );
    // --all also lists the runtime's paths: docker's bind-mounted files differ from the init
    // layer's empty ones (and make /etc a parent).
    let (ours, _, v) = forensic_diff(&bundle, &["--all"]);
    assert_eq!(
        ours,
        strs(&[
            "C /etc",
            "C /etc/hostname",
            "C /etc/hosts",
            "C /etc/resolv.conf",
            "C /usr",
            "C /usr/bin",
            "C /usr/bin/report",
        ]),
        "--all"
    );
    let report = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"] == "/usr/bin/report")
        .unwrap();
    assert_eq!(report["reasons"], serde_json::json!(["content"]));
    let base = d.base.path().to_path_buf();
    drop(d);
    assert_eq!(mounts_under(&base), Vec::<PathBuf>::new(), "mounts left behind");
    assert!(!base.exists(), "{} left behind", base.display());
}
