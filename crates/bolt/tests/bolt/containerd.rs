//! containerd 1.6's own databases, made by the real daemon in this test and read offline:
//! `io.containerd.metadata.v1.bolt/meta.db` and the overlayfs snapshotter's `metadata.db`
//! (layout: docs/dev/deadbox.md §1.2–§1.4). Needs root, `containerd`, `ctr` and
//! busybox-static, as .ci/run installs them.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use forensic_bolt::{Db, Value};
use sha2::{Digest, Sha256};

const NS: &str = "k8s.io";
const IMAGE: &str = "localhost/forensic-bolt:1";

/// A private containerd (own config, root, state, socket), stopped cleanly on drop: every task
/// killed and deleted, then the daemon, then leftover mounts under its directory.
struct Containerd {
    dir: tempfile::TempDir,
    child: Option<Child>,
    containers: Vec<String>,
}

impl Containerd {
    fn sock(&self) -> PathBuf {
        self.dir.path().join("c.sock")
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    fn start() -> Containerd {
        let dir = tempfile::Builder::new().prefix("bolt-ctd").tempdir_in("/tmp").unwrap();
        let d = dir.path().display();
        let config = format!(
            "version = 2\nroot = \"{d}/root\"\nstate = \"{d}/state\"\n\
             disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n\
             [grpc]\n  address = \"{d}/c.sock\"\n[ttrpc]\n  address = \"{d}/c.sock.ttrpc\"\n\
             [metrics]\n  address = \"\"\n"
        );
        std::fs::write(dir.path().join("config.toml"), config).unwrap();
        let log = std::fs::File::create(dir.path().join("log")).unwrap();
        let child = Command::new("containerd")
            .arg("--config")
            .arg(dir.path().join("config.toml"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("containerd (apt-get install containerd)");
        let c = Containerd {
            dir,
            child: Some(child),
            containers: Vec::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while c.ctr_status(&["version"]).is_err() {
            assert!(Instant::now() < deadline, "containerd did not answer: {}", c.log());
            std::thread::sleep(Duration::from_millis(100));
        }
        c
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    fn ctr_status(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new("ctr")
            .arg("-a")
            .arg(self.sock())
            .arg("-n")
            .arg(NS)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "ctr {args:?}: {}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    fn ctr(&self, args: &[&str]) -> String {
        self.ctr_status(args)
            .unwrap_or_else(|e| panic!("{e}\nlog:\n{}", self.log()))
    }

    /// Kills and deletes every task, then stops the daemon with SIGTERM and waits for it.
    fn stop(&mut self) {
        for id in std::mem::take(&mut self.containers) {
            let _ = self.ctr_status(&["tasks", "kill", "-s", "KILL", &id]);
            let deadline = Instant::now() + Duration::from_secs(10);
            // `tasks rm -f` fails until the killed task has exited.
            while self.ctr_status(&["tasks", "rm", "-f", &id]).is_err()
                && self
                    .ctr_status(&["tasks", "ls", "-q"])
                    .is_ok_and(|l| l.lines().any(|l| l == id))
                && Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(15);
            loop {
                match child.try_wait() {
                    Ok(Some(_)) => break,
                    Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
                    _ => {
                        let _ = child.kill();
                        let _ = child.wait();
                        break;
                    }
                }
            }
        }
        // Mounts left under the directory (none when tasks were deleted), deepest first.
        if let Ok(out) = Command::new("findmnt").args(["-rn", "-o", "TARGET"]).output() {
            let prefix = format!("{}/", self.dir.path().display());
            let mut targets: Vec<String> = String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|t| t.starts_with(&prefix))
                .map(str::to_owned)
                .collect();
            targets.sort_by(|a, b| b.cmp(a));
            for t in targets {
                let _ = Command::new("umount").arg("-l").arg(&t).status();
            }
        }
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One uncompressed layer tar of (path, mode, contents or symlink target).
/// A layer entry: path (directories end in `/`), mode, contents or `Err(symlink target)`.
type LayerEntry<'a> = (&'a str, u32, Result<&'a [u8], &'a str>);

fn layer(entries: &[LayerEntry<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, mode, what) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mode(*mode);
        h.set_mtime(1_700_000_000);
        match what {
            Ok(data) if path.ends_with('/') => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                b.append_data(&mut h, path, &data[..0]).unwrap();
            }
            Ok(data) => {
                h.set_size(data.len() as u64);
                b.append_data(&mut h, path, *data).unwrap();
            }
            Err(target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                b.append_link(&mut h, path, target).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

fn sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// A two-layer docker-archive (busybox, then /etc files) tagged `IMAGE`.
fn docker_archive(path: &Path) {
    let busybox = std::fs::read("/bin/busybox").expect("/bin/busybox (apt-get install busybox-static)");
    let l1 = layer(&[
        ("bin/", 0o755, Ok(b"")),
        ("bin/busybox", 0o755, Ok(&busybox)),
        ("bin/sh", 0o777, Err("busybox")),
        ("bin/sleep", 0o777, Err("busybox")),
        ("etc/", 0o755, Ok(b"")),
        ("tmp/", 0o1777, Ok(b"")),
    ]);
    let l2 = layer(&[
        ("etc/", 0o755, Ok(b"")),
        ("etc/passwd", 0o644, Ok(b"root:x:0:0:root:/root:/bin/sh\n")),
        ("etc/motd", 0o644, Ok(b"layer two\n")),
    ]);
    let (d1, d2) = (sha256(&l1), sha256(&l2));
    let config = serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["/bin/sleep", "100000"]},
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{d1}"), format!("sha256:{d2}")]},
    })
    .to_string()
    .into_bytes();
    let config_name = format!("{}.json", sha256(&config));
    let manifest = serde_json::json!([{
        "Config": config_name,
        "RepoTags": [IMAGE],
        "Layers": [format!("{d1}/layer.tar"), format!("{d2}/layer.tar")],
    }])
    .to_string()
    .into_bytes();
    let mut b = tar::Builder::new(std::fs::File::create(path).unwrap());
    for (name, data) in [
        (config_name, config),
        (format!("{d1}/layer.tar"), l1),
        (format!("{d2}/layer.tar"), l2),
        ("manifest.json".to_owned(), manifest),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, name, data.as_slice()).unwrap();
    }
    b.into_inner().unwrap().flush().unwrap();
}

/// The plain value at `path` (buckets, then the key).
fn plain<'a>(db: &'a Db<'a>, path: &[&[u8]]) -> &'a [u8] {
    let (key, buckets) = path.split_last().unwrap();
    let bucket = db
        .bucket(buckets)
        .unwrap()
        .unwrap_or_else(|| panic!("no bucket {buckets:?}"));
    match bucket.get(key).unwrap() {
        Some(Value::Plain(v)) => v,
        other => panic!("{:?}: not a plain value: {other:?}", String::from_utf8_lossy(key)),
    }
}

fn text(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap()
}

/// Go's `binary.Uvarint`.
fn uvarint(b: &[u8]) -> u64 {
    let mut x = 0u64;
    for (i, byte) in b.iter().enumerate() {
        x |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            assert_eq!(i + 1, b.len(), "trailing bytes after a uvarint: {b:?}");
            return x;
        }
    }
    panic!("unterminated uvarint {b:?}")
}

#[test]
fn reads_containerd_meta_db_and_snapshotter_metadata_db() {
    let mut ctd = Containerd::start();
    let archive = ctd.dir.path().join("image.tar");
    docker_archive(&archive);
    let imported = ctd.ctr(&["images", "import", archive.to_str().unwrap()]);
    assert!(imported.contains(IMAGE), "{imported}");

    let id = format!("bolt-victim-{}", std::process::id());
    let runc_root = ctd.dir.path().join("runc");
    let labels = [
        ("io.kubernetes.pod.name", "web-1"),
        ("io.kubernetes.pod.namespace", "shop"),
        ("io.kubernetes.pod.uid", "bolt-uid-1"),
        ("io.kubernetes.container.name", "app"),
    ];
    let mut args = vec![
        "run".to_owned(),
        "-d".to_owned(),
        "--runtime".to_owned(),
        "io.containerd.runc.v2".to_owned(),
        "--runc-root".to_owned(),
        runc_root.display().to_string(),
        "--net-host".to_owned(),
    ];
    for (k, v) in labels {
        args.push("--label".to_owned());
        args.push(format!("{k}={v}"));
    }
    args.extend([
        IMAGE.to_owned(),
        id.clone(),
        "/bin/sleep".to_owned(),
        "100000".to_owned(),
    ]);
    ctd.containers.push(id.clone());
    ctd.ctr(&args.iter().map(String::as_str).collect::<Vec<_>>());

    // What ctr prints while the container runs.
    let info: serde_json::Value = serde_json::from_str(&ctd.ctr(&["containers", "info", &id])).unwrap();
    let ctr_labels: BTreeMap<String, String> = serde_json::from_value(info["Labels"].clone()).unwrap();
    for (k, v) in labels {
        assert_eq!(ctr_labels.get(k).map(String::as_str), Some(v), "{info}");
    }
    let ctr_image = info["Image"].as_str().unwrap().to_owned();
    let ctr_key = info["SnapshotKey"].as_str().unwrap().to_owned();
    assert_eq!(info["Snapshotter"], "overlayfs");
    assert_eq!(ctr_image, IMAGE);
    let mut ctr_chain = Vec::new(); // (key, kind), top first
    let mut key = ctr_key.clone();
    loop {
        let snap: serde_json::Value =
            serde_json::from_str(&ctd.ctr(&["snapshots", "--snapshotter", "overlayfs", "info", &key])).unwrap();
        ctr_chain.push((key.clone(), snap["Kind"].as_str().unwrap().to_owned()));
        match snap["Parent"].as_str() {
            Some(parent) if !parent.is_empty() => key = parent.to_owned(),
            _ => break,
        }
    }
    assert_eq!(ctr_chain.len(), 3, "active + two committed layers: {ctr_chain:?}");

    ctd.stop();
    let meta = std::fs::read(ctd.root().join("io.containerd.metadata.v1.bolt/meta.db")).unwrap();
    let snaps_dir = ctd.root().join("io.containerd.snapshotter.v1.overlayfs");
    let snap_meta = std::fs::read(snaps_dir.join("metadata.db")).unwrap();

    // meta.db: the container record (deadbox.md §1.2).
    let db = Db::open(&meta).unwrap();
    let c: [&[u8]; 4] = [b"v1", NS.as_bytes(), b"containers", id.as_bytes()];
    let read_labels: BTreeMap<String, String> = db
        .bucket(&[c[0], c[1], c[2], c[3], b"labels"])
        .unwrap()
        .unwrap()
        .entries()
        .unwrap()
        .into_iter()
        .map(|e| {
            let v = e.value.as_plain().expect("labels are plain values");
            (text(e.key).to_owned(), text(v).to_owned())
        })
        .collect();
    assert_eq!(read_labels, ctr_labels);
    assert_eq!(text(plain(&db, &[c[0], c[1], c[2], c[3], b"image"])), ctr_image);
    assert_eq!(text(plain(&db, &[c[0], c[1], c[2], c[3], b"snapshotKey"])), ctr_key);
    assert_eq!(text(plain(&db, &[c[0], c[1], c[2], c[3], b"snapshotter"])), "overlayfs");
    assert_eq!(
        text(plain(&db, &[c[0], c[1], c[2], c[3], b"runtime", b"name"])),
        "io.containerd.runc.v2"
    );
    let container = db.bucket(&c).unwrap().unwrap();
    let keys: Vec<String> = container
        .entries()
        .unwrap()
        .iter()
        .map(|e| {
            let kind = if e.value.as_bucket().is_some() { "/" } else { "" };
            format!("{}{kind}", text(e.key))
        })
        .collect();
    assert_eq!(
        keys,
        [
            "createdat",
            "image",
            "labels/",
            "runtime/",
            "snapshotKey",
            "snapshotter",
            "spec",
            "updatedat"
        ]
    );
    let spec = plain(&db, &[c[0], c[1], c[2], c[3], b"spec"]);
    assert!(
        spec.windows(10).any(|w| w == b"\"/bin/slee"),
        "the OCI spec holds the command"
    );

    // The snapshot chain: meta.db's namespace view, then the snapshotter's backend records.
    let mut meta_chain = Vec::new(); // (key, backend name)
    let mut key = ctr_key.clone();
    loop {
        let s: [&[u8]; 5] = [b"v1", NS.as_bytes(), b"snapshots", b"overlayfs", key.as_bytes()];
        let bucket = db.bucket(&s).unwrap().unwrap();
        let name = text(bucket.get(b"name").unwrap().unwrap().as_plain().unwrap()).to_owned();
        meta_chain.push((key.clone(), name));
        match bucket.get(b"parent").unwrap() {
            Some(Value::Plain(p)) => key = text(p).to_owned(),
            None => break,
            Some(Value::Bucket(_)) => panic!("parent is a bucket"),
        }
    }
    let keys: Vec<&str> = meta_chain.iter().map(|(k, _)| k.as_str()).collect();
    let ctr_keys: Vec<&str> = ctr_chain.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ctr_keys);

    let sdb = Db::open(&snap_meta).unwrap();
    for (i, ((_, name), (_, kind))) in meta_chain.iter().zip(&ctr_chain).enumerate() {
        let rec = sdb.bucket(&[b"v1", b"snapshots", name.as_bytes()]).unwrap().unwrap();
        let get = |k: &[u8]| rec.get(k).unwrap().map(|v| v.as_plain().unwrap().to_vec());
        let want_kind = match kind.as_str() {
            "Active" => 2u8,
            "Committed" => 3,
            other => panic!("kind {other}"),
        };
        assert_eq!(get(b"kind"), Some(vec![want_kind]), "{name}");
        let parent = get(b"parent").map(|p| String::from_utf8(p).unwrap());
        assert_eq!(
            parent.as_deref(),
            meta_chain.get(i + 1).map(|(_, n)| n.as_str()),
            "{name}"
        );
        let snapshot_id = uvarint(&get(b"id").unwrap());
        assert!(
            snaps_dir.join(format!("snapshots/{snapshot_id}/fs")).is_dir(),
            "snapshot {name} has id {snapshot_id}, its directory is missing"
        );
    }
    // The top snapshot is the container's upper directory: `ctr` ran in it (runc's mount points).
    let top_id = {
        let name = &meta_chain[0].1;
        let rec = sdb.bucket(&[b"v1", b"snapshots", name.as_bytes()]).unwrap().unwrap();
        uvarint(rec.get(b"id").unwrap().unwrap().as_plain().unwrap())
    };
    let bottom_id = {
        let name = &meta_chain[2].1;
        let rec = sdb.bucket(&[b"v1", b"snapshots", name.as_bytes()]).unwrap().unwrap();
        uvarint(rec.get(b"id").unwrap().unwrap().as_plain().unwrap())
    };
    assert!(
        snaps_dir
            .join(format!("snapshots/{bottom_id}/fs/bin/busybox"))
            .is_file()
    );
    assert!(!snaps_dir.join(format!("snapshots/{top_id}/fs/bin/busybox")).exists());

    // The whole of both files reads without error.
    for db in [&db, &sdb] {
        fn walk(b: &forensic_bolt::Bucket<'_>) -> usize {
            b.iter()
                .map(|e| match e.unwrap().value {
                    Value::Bucket(s) => 1 + walk(&s),
                    Value::Plain(_) => 1,
                })
                .sum()
        }
        assert!(walk(&db.root()) > 10);
    }
    if let Ok(dir) = std::env::var("FORENSIC_BOLT_KEEP") {
        std::fs::write(Path::new(&dir).join("containerd-meta.db"), &meta).unwrap();
        std::fs::write(Path::new(&dir).join("containerd-snapshots.db"), &snap_meta).unwrap();
    }
}
