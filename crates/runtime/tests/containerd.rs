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
mod support;

use std::path::{Path, PathBuf};
use support::{Containerd, IMAGE, NS, docker_archive, sha256_hex, unique};

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
