//! containerd's API against a real containerd 1.6 started by this test (own root, state and
//! socket; CRI plugin off), with an image imported from a docker-archive built here from the
//! host's busybox-static, and a container run with kubelet's labels by `ctr`.
//! docs/dev/runtimes.md §1.1, §2, §6.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use forensic_bundle::time::Timestamp;
use forensic_evidence::records::api::ApiOutcome;
use forensic_runtime::CallLog;
use forensic_runtime::containerd::{Endpoint, MAX_DOCUMENT};
use forensic_runtime::cri::resolve_pod;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NS: &str = "k8s.io";
const IMAGE: &str = "localhost/forensic-rt-test:1";

fn sha256_hex(b: &[u8]) -> String {
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
fn docker_archive(path: &Path) {
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
struct Containerd {
    base: PathBuf,
    socket: PathBuf,
    daemon: Child,
    ids: Vec<String>,
}

impl Containerd {
    fn start(base: &Path) -> Containerd {
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

    fn ctr(&self, args: &[&str]) -> std::process::Output {
        Command::new("ctr")
            .arg("-a")
            .arg(&self.socket)
            .args(["-n", NS])
            .args(args)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
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
        if let Ok(mounts) = std::fs::read_to_string("/proc/self/mountinfo") {
            let base = self.base.display().to_string();
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
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

#[test]
fn inspect_returns_the_task_pid_the_overlay_dirs_the_labels_and_the_image_manifest() {
    let base = tempfile::Builder::new().prefix("fr-ctd").tempdir_in("/tmp").unwrap();
    let mut ctd = Containerd::start(base.path());
    let archive = base.path().join("image.tar");
    docker_archive(&archive);
    ctd.ok(&["images", "import", archive.to_str().unwrap()]);

    let running = unique("run");
    let created = unique("new");
    ctd.ids = vec![running.clone(), created.clone()];
    ctd.ok(&[
        "run",
        "-d",
        "--runtime",
        "io.containerd.runc.v2",
        "--label",
        "io.kubernetes.pod.name=web-1",
        "--label",
        "io.kubernetes.pod.namespace=shop",
        "--label",
        "io.kubernetes.pod.uid=u-1",
        "--label",
        "io.kubernetes.container.name=app",
        IMAGE,
        &running,
        "/bin/sleep",
        "1000",
    ]);
    ctd.ok(&["containers", "create", IMAGE, &created, "/bin/sleep", "1"]);
    // `ctr tasks ls`: TASK PID STATUS.
    let tasks = ctd.ok(&["tasks", "ls"]);
    let pid: u32 = tasks
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.first() == Some(&running.as_str())).then(|| f[1].parse().unwrap())
        })
        .unwrap_or_else(|| panic!("{running} not in ctr tasks ls:\n{tasks}"));

    let now = || Timestamp::from_unix_nanos(1_700_000_000_000_000_000).unwrap();
    let mut log = CallLog::new(&now);
    let ep = Endpoint {
        socket: ctd.socket.clone(),
        namespace: NS.into(),
    };
    assert!(ep.version(&mut log).unwrap().starts_with("1."));

    let doc = ep.inspect(&mut log, &running).unwrap();
    assert_eq!(doc.container.id, running);
    assert_eq!(doc.container.image, IMAGE);
    assert_eq!(
        doc.container.labels.get("io.kubernetes.pod.name").map(String::as_str),
        Some("web-1")
    );
    let task = doc.task.as_ref().unwrap();
    assert_eq!((task.pid, task.status.as_str()), (pid, "running"));
    assert_eq!(doc.cri.pod_name.as_deref(), Some("web-1"));
    assert_eq!(doc.cri.pod_namespace.as_deref(), Some("shop"));
    assert_eq!(doc.cri.pod_uid.as_deref(), Some("u-1"));
    assert_eq!(doc.cri.container_name.as_deref(), Some("app"));
    let spec = doc.container.spec.as_ref().unwrap();
    assert_eq!(
        spec.pointer("/process/args/0").and_then(|v| v.as_str()),
        Some("/bin/sleep")
    );
    let overlay = doc.overlay.as_ref().unwrap();
    let upper = PathBuf::from(overlay.upper_dir.as_ref().unwrap());
    assert!(upper.is_dir() && upper.starts_with(base.path()), "{upper:?}");
    assert_eq!(overlay.lower_dirs.len(), 2, "{overlay:?}");
    // Top layer first: the second layer holds /etc/passwd, the first /bin/busybox.
    assert!(Path::new(&overlay.lower_dirs[0]).join("etc/passwd").is_file());
    assert!(Path::new(&overlay.lower_dirs[1]).join("bin/busybox").is_file());
    // The container writes into the upper directory the API named.
    ctd.ok(&[
        "tasks",
        "exec",
        "--exec-id",
        "plant",
        &running,
        "/bin/sh",
        "-c",
        "echo x > /planted",
    ]);
    assert_eq!(std::fs::read(upper.join("planted")).unwrap(), b"x\n");

    // The image manifest, read from the content store, is the target digest's bytes.
    let image = doc.image.as_ref().unwrap();
    assert_eq!(image.name, IMAGE);
    let manifest = ep.read_content(&mut log, &image.target.digest, MAX_DOCUMENT).unwrap();
    assert_eq!(format!("sha256:{}", sha256_hex(&manifest)), image.target.digest);
    assert_eq!(manifest.len() as i64, image.target.size);
    let m: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
    let config_digest = m.pointer("/config/digest").and_then(|v| v.as_str()).unwrap();
    let config = ep.read_content(&mut log, config_digest, MAX_DOCUMENT).unwrap();
    assert_eq!(format!("sha256:{}", sha256_hex(&config)), config_digest);
    let layers: Vec<&str> = m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["digest"].as_str().unwrap())
        .collect();
    assert_eq!(layers.len(), 2);
    for (l, d) in m["layers"].as_array().unwrap().iter().zip(&layers) {
        assert_eq!(ep.content_size(&mut log, d).unwrap(), l["size"].as_i64().unwrap());
    }
    let absent = format!("sha256:{}", "0".repeat(64));
    assert!(ep.content_size(&mut log, &absent).unwrap_err().is_not_found());
    let e = ep.read_content(&mut log, config_digest, 10).unwrap_err();
    assert!(e.to_string().ends_with(": the blob is larger than 10 bytes"), "{e}");

    // A container that never started has no task, and still its snapshot.
    let doc = ep.inspect(&mut log, &created).unwrap();
    assert_eq!(doc.task, None);
    assert!(doc.overlay.is_some_and(|o| o.upper_dir.is_some()));
    let e = ep.inspect(&mut log, "no-such-container").unwrap_err();
    assert!(e.is_not_found(), "{e}");

    // Listing by label, and the pod resolved from the labels alone.
    let found = ep
        .list(&mut log, &["labels.\"io.kubernetes.pod.name\"==web-1".to_string()])
        .unwrap();
    let ids: Vec<&str> = found.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, [running.as_str()]);
    let pod = resolve_pod(&ep.candidates(&mut log).unwrap(), "web-1", "shop", None).unwrap();
    assert_eq!(pod.chosen, running);
    assert_eq!(pod.containers.len(), 1);
    assert_eq!(pod.containers[0].pid, Some(pid));

    // Every call is recorded, the failed Tasks.Get of the created container and the unknown id included.
    let outcomes: Vec<(&str, ApiOutcome)> = log
        .calls
        .iter()
        .map(|c| (c.call.rsplit('/').next().unwrap(), c.outcome))
        .collect();
    assert!(outcomes.contains(&("Get", ApiOutcome::NotFound)), "{outcomes:?}");
    assert!(
        log.calls
            .iter()
            .all(|c| c.socket == ctd.socket.display().to_string() && c.namespace.as_deref() == Some(NS))
    );
    let read = log
        .calls
        .iter()
        .find(|c| c.call.ends_with("Content/Read") && c.outcome == ApiOutcome::Ok)
        .unwrap();
    assert_eq!(read.bytes, manifest.len() as u64);
}
