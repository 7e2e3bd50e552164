//! Issue 12, containerd: a pod made through the CRI of a containerd the test started (the
//! kubelet's labels and log layout, a restart, rotated logs), attacked as the podman test's
//! container is, then `forensic collect --pod NAME -n NS` on a PATH without kubectl and
//! `forensic collect --container ID --runtime containerd`: each bundle verifies, every planted
//! item is found, the host secret is nowhere, `diff --image` finds the node-side change, the
//! kubelet's log files are in section 4 byte for byte, and the container is unchanged afterwards.

use crate::attack::{self, Untouched, collect_with_watchdog, read_json, wait_for};
use crate::runtimes::containerd::{Containerd, CriContainer, Pod, SANDBOX_IMAGE};
use crate::runtimes::{image, path_without_kubectl};
use crate::util::*;
use std::path::Path;

/// The test image's reference in containerd.
const IMAGE: &str = "localhost/forensic-e2e-cri:1";
/// The pod, as the kubelet names it.
const POD: &str = "web-0";
/// Its namespace.
const NAMESPACE: &str = "shop";
/// The container's name in the pod.
const APP: &str = "app";

/// The lines of a CRI log file without their timestamps.
fn log_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| l.split_once(' ').map_or(String::new(), |(_, rest)| rest.to_string()))
        .collect()
}

/// The kubelet's log layout of a restarted, rotated container (runtimes.md §1.4, §5):
/// attempt 0 logged, rotated and compressed (`0.log.20261202-075800.gz`), logged again into a
/// new `0.log`, then stopped (the previous instance); attempt 1 logged, rotated (kept
/// uncompressed, `1.log.20261202-080000`) and logged again into a new `1.log`. Returns the ids
/// of attempt 0 (exited) and attempt 1 (running).
fn restarted_and_rotated(ctd: &Containerd, pod: &Pod) -> (String, String) {
    let dir = pod.log_dir.join(APP);
    let c0 = ctd.start_container(
        pod,
        APP,
        0,
        IMAGE,
        &[
            "/bin/sh",
            "-c",
            "echo attempt-0 started; echo attempt-0 warning >&2; exec sleep 100000",
        ],
    );
    wait_for("attempt 0's log", || log_lines(&dir.join("0.log")).len() == 2);
    ctd.rotate_log(pod, &c0, APP, 0, "20261202-075800", true);
    ctd.say(&c0, "attempt-0 after the rotation");
    wait_for("attempt 0's new log", || {
        log_lines(&dir.join("0.log")) == ["stdout F attempt-0 after the rotation"]
    });
    ctd.stop_container(&c0);

    let c1 = ctd.start_container(
        pod,
        APP,
        1,
        IMAGE,
        &["/bin/sh", "-c", "echo attempt-1 started; exec sleep 2147483647"],
    );
    wait_for("attempt 1's log", || {
        log_lines(&dir.join("1.log")) == ["stdout F attempt-1 started"]
    });
    ctd.rotate_log(pod, &c1, APP, 1, "20261202-080000", false);
    ctd.say(&c1, "attempt-1 after the rotation");
    wait_for("attempt 1's new log", || {
        log_lines(&dir.join("1.log")) == ["stdout F attempt-1 after the rotation"]
    });
    let mut files = entries(&dir);
    files.sort();
    assert_eq!(
        files,
        ["0.log", "0.log.20261202-075800.gz", "1.log", "1.log.20261202-080000"],
        "the kubelet's layout"
    );
    (c0, c1)
}

/// File names in `dir`.
fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect()
}

/// Every file of the pod's log directory is in the bundle as `4-logs/pods/APP/FILE`, byte for
/// byte (the host's file is the oracle, read after the collection: nothing writes to it since).
fn check_kubelet_logs(bundle: &Path, pod: &Pod) {
    let members = contents(&std::fs::read(bundle).unwrap());
    let dir = pod.log_dir.join(APP);
    for file in entries(&dir) {
        let name = format!("4-logs/pods/{APP}/{file}");
        let member = members.iter().find(|(n, _)| *n == name).unwrap_or_else(|| {
            panic!(
                "{name} is not in the bundle: {:?}",
                members
                    .iter()
                    .map(|m| &m.0)
                    .filter(|n| n.starts_with("4-"))
                    .collect::<Vec<_>>()
            )
        });
        assert_eq!(
            member.1,
            std::fs::read(dir.join(&file)).unwrap(),
            "{name} is not byte-exact"
        );
    }
}

/// The normalized record names the pod the kubelet's labels name and the running attempt.
fn check_record(x: &Path, id: &str, pod: &Pod) {
    let record = read_json(&x.join("6-podspec/container.json"));
    assert_eq!(record["runtime"], "containerd", "{record}");
    assert_eq!(record["id"], id);
    assert_eq!(record["pod"], POD);
    assert_eq!(record["namespace"], NAMESPACE);
    assert_eq!(record["pod_uid"], pod.uid());
}

/// Resolved without kubectl, the pod's containers are both instances of `app` from their CRI
/// labels, the running attempt 1 is the one collected and the exited attempt 0 is its previous
/// instance, whose own record is `previous-inspect.json` (CONTENTS.md §14, §15).
fn check_pod_containers(x: &Path, pod: &Pod, previous: &str, running: &str, pid: u32) {
    let pc = read_json(&x.join("6-podspec/pod-containers.json"));
    assert_eq!(pc["pod"], POD, "{pc}");
    assert_eq!(pc["namespace"], NAMESPACE, "{pc}");
    assert_eq!(pc["pod_uid"], pod.uid(), "{pc}");
    assert_eq!(pc["chosen"], running, "{pc}");
    assert_eq!(pc["previous"], previous, "{pc}");
    let listed: Vec<(String, String, u64, serde_json::Value, serde_json::Value)> = pc["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["name"].as_str().unwrap().to_string(),
                c["attempt"].as_u64().unwrap(),
                c["status"].clone(),
                c["pid"].clone(),
            )
        })
        .collect();
    assert_eq!(listed.len(), 2, "{pc}");
    assert_eq!(
        (&listed[0].0, listed[0].1.as_str(), listed[0].2),
        (&previous.to_string(), APP, 0),
        "{pc}"
    );
    assert_ne!(listed[0].3, "running", "attempt 0 was stopped: {pc}");
    assert_eq!(listed[0].4, serde_json::Value::Null, "{pc}");
    assert_eq!(
        (
            &listed[1].0,
            listed[1].1.as_str(),
            listed[1].2,
            &listed[1].3,
            &listed[1].4
        ),
        (
            &running.to_string(),
            APP,
            1,
            &serde_json::json!("running"),
            &serde_json::json!(pid)
        ),
        "{pc}"
    );
    let prev = read_json(&x.join("6-podspec/previous-inspect.json"));
    assert_eq!(prev["api"], "containerd-grpc", "{prev}");
    assert_eq!(prev["container"]["id"], previous, "{prev}");
    assert_eq!(prev["cri"]["attempt"], 0, "{prev}");
    assert_ne!(prev["task"]["status"], "running", "{prev}");
}

/// Every JSON member follows its schema (CONTENTS.md), the containerd record included.
fn check_contents(bundle: &Path, dir: &Path) {
    let report = crate::contents::validate_independently(bundle, dir);
    assert!(
        report.lines().any(|l| l.starts_with("ok 6-podspec/container.json ")),
        "{report}"
    );
}

#[test]
fn collect_a_cri_pod_from_containerd_by_pod_and_by_container() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let archive = image::build(w, &[IMAGE, SANDBOX_IMAGE], &[("etc/e2e-tag", b"containerd\n")]);
    let ctd = Containerd::start();
    ctd.import(&archive.path);
    let pod = ctd.run_pod(POD, NAMESPACE, &uuid::Uuid::new_v4().to_string());
    let (previous, id) = restarted_and_rotated(&ctd, &pod);
    let victim = CriContainer {
        containerd: &ctd,
        id: id.clone(),
    };
    let tag = format!("ctd{}", std::process::id());
    let planted = attack::plant(&victim, &tag);
    let pid = ctd.pid(&id);
    attack::tamper_lower_layer(pid);
    let untouched = Untouched::take(pid);
    let (key, _) = keygen(w, "responder");
    let socket = ctd.socket.to_str().unwrap();

    // By pod, as a responder on a node without kubectl would.
    let (_bin, path) = path_without_kubectl();
    let which = std::process::Command::new("sh")
        .args(["-c", "command -v kubectl crictl"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert_eq!(stdout(&which), "", "the PATH still has kubectl or crictl");
    let by_pod = w.join("by-pod.zip");
    let o = collect_with_watchdog(
        &[
            "--pod",
            POD,
            "-n",
            NAMESPACE,
            "--containerd-socket",
            socket,
            "-o",
            s(&by_pod),
            "--key",
            s(&key),
        ],
        &[("PATH", path.as_str())],
    );
    assert_eq!(code(&o), 0, "collect --pod: {}{}", stdout(&o), stderr(&o));
    untouched.assert_unchanged();
    let x = attack::check_bundle(w, &by_pod, &planted, pid);
    check_record(&x, &id, &pod);
    check_pod_containers(&x, &pod, &previous, &id, pid);
    check_kubelet_logs(&by_pod, &pod);
    attack::check_diff_image(&by_pod, &archive.path);
    attack::check_shm_script(&by_pod, &x);
    check_contents(&by_pod, &w.join("by-pod"));

    // The container named in the pod: the running attempt, not the exited one.
    let named = w.join("by-pod-and-name.zip");
    let o = collect_with_watchdog(
        &[
            "--pod",
            POD,
            "-n",
            NAMESPACE,
            "--container",
            APP,
            "--containerd-socket",
            socket,
            "-o",
            s(&named),
            "--key",
            s(&key),
        ],
        &[("PATH", path.as_str())],
    );
    assert_eq!(code(&o), 0, "collect --pod --container: {}{}", stdout(&o), stderr(&o));
    let x = w.join("x-named");
    attack::unzip(&named, &x);
    check_record(&x, &id, &pod);

    // A pod that is not there: exit 2, naming it, nothing written.
    let missing = w.join("missing.zip");
    let o = collect_with_watchdog(
        &[
            "--pod",
            "no-such-pod",
            "-n",
            NAMESPACE,
            "--containerd-socket",
            socket,
            "-o",
            s(&missing),
            "--key",
            s(&key),
        ],
        &[("PATH", path.as_str())],
    );
    assert_eq!(code(&o), 2, "collect --pod no-such-pod: {}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("no-such-pod"), "{}", stderr(&o));
    assert!(!missing.exists(), "a bundle was written for a missing pod");

    // By container id, through containerd's API.
    let by_id = w.join("by-id.zip");
    let o = collect_with_watchdog(
        &[
            "--container",
            &id,
            "--runtime",
            "containerd",
            "--containerd-socket",
            socket,
            "-o",
            s(&by_id),
            "--key",
            s(&key),
        ],
        &[],
    );
    assert_eq!(code(&o), 0, "collect --container: {}{}", stdout(&o), stderr(&o));
    untouched.assert_unchanged();
    let x = attack::check_bundle(w, &by_id, &planted, pid);
    check_record(&x, &id, &pod);
    check_kubelet_logs(&by_id, &pod);
    attack::check_diff_image(&by_id, &archive.path);
    attack::check_shm_script(&by_id, &x);
    check_contents(&by_id, &w.join("by-id"));
}
