//! podman 4.3's `libpod/bolt_state.db` (docs/dev/deadbox.md §3), made by the real podman in
//! this test (own root and runroot, no container started) and read offline; the container's
//! and pod's records agree with what `podman inspect` printed.

use std::collections::BTreeMap;
use std::process::Command;

use forensic_bolt::Db;

/// `podman --root … --runroot … ARGS`, its stdout; panics with stderr on failure.
fn podman(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new("podman")
        .arg("--root")
        .arg(dir.join("root"))
        .arg("--runroot")
        .arg(dir.join("run"))
        .args(["--storage-driver", "overlay", "--runtime", "runc"])
        .args(args)
        .output()
        .expect("podman (apt-get install podman)");
    assert!(
        out.status.success(),
        "podman {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Removes podman's storage (overlay mounts first, if any) when the test ends.
struct Cleanup(tempfile::TempDir);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let dir = self.0.path();
        let _ = Command::new("podman")
            .arg("--root")
            .arg(dir.join("root"))
            .arg("--runroot")
            .arg(dir.join("run"))
            .args(["--storage-driver", "overlay", "rm", "-a", "-f"])
            .output();
        let _ = Command::new("podman")
            .arg("--root")
            .arg(dir.join("root"))
            .arg("--runroot")
            .arg(dir.join("run"))
            .args(["--storage-driver", "overlay", "pod", "rm", "-a", "-f"])
            .output();
        if let Ok(out) = Command::new("findmnt").args(["-rn", "-o", "TARGET"]).output() {
            let prefix = format!("{}/", dir.display());
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

#[test]
fn reads_podman_bolt_state_db() {
    let tmp = Cleanup(tempfile::Builder::new().prefix("bolt-pm").tempdir_in("/tmp").unwrap());
    let dir = tmp.0.path();
    // A root filesystem of busybox alone, imported as an image.
    let mut b = tar::Builder::new(Vec::new());
    let busybox = std::fs::read("/bin/busybox").expect("/bin/busybox (busybox-static)");
    let mut h = tar::Header::new_gnu();
    h.set_mode(0o755);
    h.set_size(busybox.len() as u64);
    b.append_data(&mut h, "bin/busybox", busybox.as_slice()).unwrap();
    std::fs::write(dir.join("rootfs.tar"), b.into_inner().unwrap()).unwrap();
    let rootfs = dir.join("rootfs.tar");
    podman(dir, &["import", rootfs.to_str().unwrap(), "localhost/bolt-pm:1"]);
    let pod = podman(
        dir,
        &[
            "pod",
            "create",
            "--infra=false",
            "--name",
            "bolt-pod",
            "--label",
            "team=red",
        ],
    );
    let pod = pod.trim();
    let id = podman(
        dir,
        &[
            "create",
            "--name",
            "bolt-pm-victim",
            "--pod",
            "bolt-pod",
            "--label",
            "io.kubernetes.pod.name=web-p",
            "--label",
            "tier=db",
            "localhost/bolt-pm:1",
            "/bin/busybox",
            "sleep",
            "1000",
        ],
    );
    let id = id.trim();
    let inspect: serde_json::Value = serde_json::from_str(&podman(dir, &["container", "inspect", id])).unwrap();
    let inspect = &inspect[0];
    let want_labels: BTreeMap<String, String> = serde_json::from_value(inspect["Config"]["Labels"].clone()).unwrap();
    assert_eq!(want_labels.get("tier").map(String::as_str), Some("db"));

    let data = std::fs::read(dir.join("root/libpod/bolt_state.db")).unwrap();
    let db = Db::open(&data).unwrap();
    let plain = |path: &[&[u8]], key: &[u8]| -> Vec<u8> {
        let bucket = db.bucket(path).unwrap().unwrap();
        bucket.get(key).unwrap().unwrap().as_plain().unwrap().to_vec()
    };
    assert_eq!(plain(&[b"name-registry"], b"bolt-pm-victim"), id.as_bytes());
    assert_eq!(plain(&[b"id-registry"], id.as_bytes()), b"bolt-pm-victim");
    assert_eq!(plain(&[b"all-ctrs"], id.as_bytes()), b"bolt-pm-victim");
    assert_eq!(plain(&[b"allPods"], pod.as_bytes()), b"bolt-pod");
    assert_eq!(plain(&[b"ctr", id.as_bytes()], b"pod-id"), pod.as_bytes());
    assert_eq!(inspect["Pod"], pod);
    let members = db.bucket(&[b"pod", pod.as_bytes(), b"containers"]).unwrap().unwrap();
    let members: Vec<(Vec<u8>, Vec<u8>)> = members
        .entries()
        .unwrap()
        .into_iter()
        .map(|e| (e.key.to_vec(), e.value.as_plain().unwrap().to_vec()))
        .collect();
    assert_eq!(members, [(id.as_bytes().to_vec(), b"bolt-pm-victim".to_vec())]);

    // The container's config is libpod's JSON: its name, image and labels as inspect shows them.
    let config: serde_json::Value = serde_json::from_slice(&plain(&[b"ctr", id.as_bytes()], b"config")).unwrap();
    assert_eq!(config["id"], id);
    assert_eq!(config["name"], "bolt-pm-victim");
    assert_eq!(config["rootfsImageName"], "localhost/bolt-pm:1");
    assert_eq!(inspect["ImageName"], "localhost/bolt-pm:1");
    let labels: BTreeMap<String, String> = serde_json::from_value(config["labels"].clone()).unwrap();
    assert_eq!(labels, want_labels);
    let pod_config: serde_json::Value = serde_json::from_slice(&plain(&[b"pod", pod.as_bytes()], b"config")).unwrap();
    assert_eq!(pod_config["name"], "bolt-pod");
    assert_eq!(pod_config["labels"]["team"], "red");
    // State 1 is "configured" (created, never started).
    let state: serde_json::Value = serde_json::from_slice(&plain(&[b"ctr", id.as_bytes()], b"state")).unwrap();
    assert_eq!(state["state"], 1);
}
