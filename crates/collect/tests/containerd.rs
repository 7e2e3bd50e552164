//! `collect` of a pod through containerd's own API, without kubectl, against a real containerd
//! started by this test (forensic-runtime's test support): the pod resolved from the CRI labels,
//! the container's task, snapshot and image from the API, the image's manifest and config from the
//! content store byte for byte, the kubelet's log directory byte for byte with its symlink
//! recorded, and every API call recorded (CONTENTS.md §13–§16).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "../../runtime/tests/support/mod.rs"]
mod support;

use forensic_collect::collect::{CollectOptions, collect};
use forensic_collect::command::FakeRunner;
use forensic_collect::target::{Apis, TargetSpec};
use forensic_evidence::records::api::{Api, ApiCall, ApiOutcome};
use forensic_evidence::records::container::ContainerJson;
use forensic_evidence::records::containerd::{ContainerdInspect, PodContainers};
use std::io::{Read, Write};
use std::path::PathBuf;
use support::{Containerd, IMAGE, NS, docker_archive, sha256_hex, unique};

/// Removes the kubelet log directory this test made.
struct PodLogs(PathBuf);

impl Drop for PodLogs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn member(zip: &mut zip::ZipArchive<std::fs::File>, name: &str) -> Vec<u8> {
    let mut f = zip.by_name(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut buf = Vec::new();
    f.read_to_end(&mut buf).unwrap();
    buf
}

#[test]
fn a_pod_without_kubectl_is_collected_through_containerd_s_api() {
    let base = tempfile::Builder::new().prefix("fc-ctd").tempdir_in("/tmp").unwrap();
    let mut ctd = Containerd::start(base.path());
    let archive = base.path().join("image.tar");
    docker_archive(&archive);
    ctd.ok(&["images", "import", archive.to_str().unwrap()]);
    let uid = unique("uid");
    let id = unique("app");
    ctd.ids = vec![id.clone()];
    let uid_label = format!("io.kubernetes.pod.uid={uid}");
    ctd.ok(&[
        "run",
        "-d",
        "--runtime",
        "io.containerd.runc.v2",
        "--label",
        "io.kubernetes.pod.name=web-2",
        "--label",
        "io.kubernetes.pod.namespace=shop",
        "--label",
        &uid_label,
        "--label",
        "io.kubernetes.container.name=app",
        IMAGE,
        &id,
        "/bin/sleep",
        "1000",
    ]);
    ctd.ok(&[
        "tasks",
        "exec",
        "--exec-id",
        "plant",
        &id,
        "/bin/sh",
        "-c",
        "echo evil > /miner",
    ]);

    // The kubelet's layout, as kubelet would leave it after a restart and a rotation.
    let pod_dir = PathBuf::from(format!("/var/log/pods/shop_web-2_{uid}"));
    let logs = PodLogs(pod_dir.clone());
    let dir = logs.0.join("app");
    std::fs::create_dir_all(&dir).unwrap();
    let previous = b"2026-12-02T07:53:37.852169443Z stdout F previous instance\n".to_vec();
    let current = b"2026-12-02T07:59:00.000000000Z stderr F current\n".to_vec();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"2026-12-02T07:58:00.000000000Z stdout F rotated\n")
        .unwrap();
    let gz = gz.finish().unwrap();
    std::fs::write(dir.join("0.log"), &previous).unwrap();
    std::fs::write(dir.join("1.log"), &current).unwrap();
    std::fs::write(dir.join("1.log.20261202-075800.gz"), &gz).unwrap();
    std::os::unix::fs::symlink("/etc/shadow", dir.join("1.log.20261202-075900")).unwrap();

    let out = base.path().join("b.zip");
    let mut opts = CollectOptions::new(
        TargetSpec::Pod {
            name: "web-2".into(),
            namespace: "shop".into(),
            container: None,
            runtime: None,
        },
        out.clone(),
        std::sync::Arc::new(forensic_bundle::keys::signing_key_from_seed(&[7; 32])),
        "tester".into(),
    );
    opts.apis = Apis {
        containerd: Some(forensic_runtime::containerd::Endpoint {
            socket: ctd.socket.clone(),
            namespace: NS.into(),
        }),
        docker: None,
    };
    // No client program at all: no kubectl, no crictl.
    let runner = FakeRunner::default();
    let summary = collect(&opts, &runner).unwrap();

    let tasks = ctd.ok(&["tasks", "ls"]);
    let pid: u64 = tasks
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.first() == Some(&id.as_str())).then(|| f[1].parse().unwrap())
        })
        .unwrap();
    assert_eq!(summary.target.runtime.as_deref(), Some("containerd"));
    assert_eq!(summary.target.container_id.as_deref(), Some(id.as_str()));
    assert_eq!(summary.target.pid, Some(pid));
    assert_eq!(
        (summary.target.pod.as_deref(), summary.target.namespace.as_deref()),
        (Some("web-2"), Some("shop"))
    );
    let symlink = dir.join("1.log.20261202-075900").display().to_string();
    assert!(
        summary
            .gaps
            .iter()
            .any(|g| g.what == symlink && g.reason == "a symbolic link to \"/etc/shadow\": recorded, not followed"),
        "{:?}",
        summary.gaps
    );

    let mut zip = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
    let pods: PodContainers = serde_json::from_slice(&member(&mut zip, "6-podspec/pod-containers.json")).unwrap();
    assert_eq!((pods.chosen.as_str(), pods.previous.as_deref()), (id.as_str(), None));
    assert_eq!(pods.pod_uid.as_deref(), Some(uid.as_str()));
    let doc: ContainerdInspect = serde_json::from_slice(&member(&mut zip, "6-podspec/inspect.json")).unwrap();
    assert_eq!(doc.task.as_ref().map(|t| u64::from(t.pid)), Some(pid));
    let container: ContainerJson = serde_json::from_slice(&member(&mut zip, "6-podspec/container.json")).unwrap();
    let record = container.container().unwrap();
    assert_eq!(record.upper_dir, doc.overlay.as_ref().unwrap().upper_dir);
    assert_eq!(record.lower_dirs.len(), 2);

    // The kubelet's files, byte for byte; the symlink's target is not in the bundle.
    assert_eq!(member(&mut zip, "4-logs/pods/app/0.log"), previous);
    assert_eq!(member(&mut zip, "4-logs/pods/app/1.log"), current);
    assert_eq!(member(&mut zip, "4-logs/pods/app/1.log.20261202-075800.gz"), gz);
    assert!(zip.by_name("4-logs/pods/app/1.log.20261202-075900").is_err());

    // The manifest and config from the content store, each the bytes of its digest.
    let manifest = member(&mut zip, "9-image/manifest.json");
    assert_eq!(
        format!("sha256:{}", sha256_hex(&manifest)),
        doc.image.as_ref().unwrap().target.digest
    );
    let m: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
    let config = member(&mut zip, "9-image/config.json");
    assert_eq!(
        format!("sha256:{}", sha256_hex(&config)),
        m["config"]["digest"].as_str().unwrap()
    );

    // The writable layer from the snapshot the API named.
    let upper = String::from_utf8(member(&mut zip, "5-filesystem/upper-changes.jsonl")).unwrap();
    assert!(upper.lines().any(|l| l.contains("\"path\":\"/miner\"")), "{upper}");
    assert_eq!(member(&mut zip, "5-filesystem/upper/miner"), b"evil\n");

    // Every API call recorded, in the section that made it.
    let calls: Vec<ApiCall> = String::from_utf8(member(&mut zip, "6-podspec/api-calls.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let names: Vec<&str> = calls.iter().map(|c| c.call.rsplit('.').next().unwrap()).collect();
    assert_eq!(
        names,
        [
            "Containers/ListStream",
            "Tasks/List",
            "Containers/Get",
            "Tasks/Get",
            "Snapshots/Mounts",
            "Images/Get"
        ]
    );
    assert!(
        calls
            .iter()
            .all(|c| c.api == Api::Containerd && c.outcome == ApiOutcome::Ok)
    );
    let image_calls = String::from_utf8(member(&mut zip, "9-image/api-calls.jsonl")).unwrap();
    assert_eq!(image_calls.lines().filter(|l| l.contains("Content/Read")).count(), 2);
    assert_eq!(image_calls.lines().filter(|l| l.contains("Content/Info")).count(), 2);
    drop(logs);
    assert!(!pod_dir.exists());
}
