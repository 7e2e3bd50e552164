//! The harness checks itself first, independent of the collector: a CRI pod runs and containerd
//! writes its kubelet log, a restart and a rotation behave as the kubelet expects, a dockerd
//! container runs and `docker diff` sees an exec's change, and teardown leaves no process, mount
//! or log directory behind.

use super::containerd::{Containerd, PODS_LOG_ROOT, SANDBOX_IMAGE};
use super::docker::Docker;
use super::{Leftovers, image, is_loopback, tcp_listeners};
use crate::attack::wait_for;
use std::path::Path;

/// The lines of a CRI log file without their timestamps: `STREAM TAG MESSAGE`.
pub fn cri_log_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| l.split_once(' ').map_or(String::new(), |(_, rest)| rest.to_string()))
        .collect()
}

#[test]
fn containerd_runs_a_cri_pod_writes_its_log_restarts_rotates_and_leaves_nothing() {
    let work = tempfile::tempdir().unwrap();
    let tag = format!("localhost/forensic-e2e-self:{}", std::process::id());
    let archive = image::build(work.path(), &[&tag, SANDBOX_IMAGE], &[]);
    let ctd = Containerd::start();
    ctd.import(&archive.path);
    let uid = uuid::Uuid::new_v4().to_string();
    let pod = ctd.run_pod("web-self", "shop", &uid);
    assert_eq!(
        pod.log_dir,
        Path::new(PODS_LOG_ROOT).join(format!("shop_web-self_{uid}"))
    );
    let c0 = ctd.start_container(
        &pod,
        "app",
        0,
        &tag,
        &["/bin/sh", "-c", "echo hello-out; echo hello-err >&2; exec sleep 100000"],
    );
    let log0 = pod.log_dir.join("app/0.log");
    wait_for("0.log", || cri_log_lines(&log0).len() == 2);
    let mut lines = cri_log_lines(&log0);
    lines.sort();
    assert_eq!(lines, ["stderr F hello-err", "stdout F hello-out"]);
    assert_eq!(ctd.state(&c0), 1, "running");
    let listeners = tcp_listeners(ctd.daemon_pid());
    assert!(
        listeners.iter().all(|l| is_loopback(l)),
        "containerd listens beyond the loopback: {listeners:?}"
    );
    let pid0 = ctd.pid(&c0);
    let cmdline = std::fs::read(format!("/proc/{pid0}/cmdline")).unwrap();
    assert_eq!(cmdline, b"sleep\x00100000\x00");
    let (code, out, _) = ctd.exec(&c0, &["/bin/sh", "-c", "id -u; echo $$ > /dev/null"]);
    assert_eq!((code, out.as_slice()), (0, b"0\n".as_slice()));
    // The kubelet's labels are on the containerd container.
    let labels = ctd.ctr("k8s.io", &["containers", "info", &c0]);
    let info: serde_json::Value = serde_json::from_str(&labels).unwrap();
    assert_eq!(info["Labels"]["io.kubernetes.pod.name"], "web-self");
    assert_eq!(info["Labels"]["io.kubernetes.pod.namespace"], "shop");
    assert_eq!(info["Labels"]["io.kubernetes.pod.uid"], uid.as_str());
    assert_eq!(info["Labels"]["io.kubernetes.container.name"], "app");

    // A rotation as the kubelet makes it: rename, then ReopenContainerLog makes a new 0.log.
    let rotated = pod.log_dir.join("app/0.log.20261202-075900");
    std::fs::rename(&log0, &rotated).unwrap();
    ctd.reopen_log(&c0);
    assert_eq!(std::fs::read(&log0).unwrap(), b"");
    assert_eq!(cri_log_lines(&rotated).len(), 2);
    // A restart: attempt 0 stopped, attempt 1 writes 1.log; 0.log stays.
    ctd.stop_container(&c0);
    assert_eq!(ctd.state(&c0), 2, "exited");
    let c1 = ctd.start_container(
        &pod,
        "app",
        1,
        &tag,
        &["/bin/sh", "-c", "echo again; exec sleep 100000"],
    );
    let log1 = pod.log_dir.join("app/1.log");
    wait_for("1.log", || cri_log_lines(&log1) == ["stdout F again"]);
    assert!(log0.exists());
    let pid1 = ctd.pid(&c1);

    let left = Leftovers {
        pids: vec![pid0, pid1, ctd.daemon_pid()],
        socket: ctd.socket.to_str().unwrap().to_string(),
        dirs: vec![ctd.dir.path().to_path_buf()],
        log_dir: Some(pod.log_dir.clone()),
    };
    drop(ctd);
    left.assert_none();
}

#[test]
fn dockerd_runs_a_container_sees_its_change_and_leaves_nothing() {
    let work = tempfile::tempdir().unwrap();
    let tag = format!("localhost/forensic-e2e-self:{}", std::process::id());
    let archive = image::build(work.path(), &[&tag], &[]);
    let docker = Docker::start();
    docker.load(&archive.path);
    let id = docker.run(&format!("self-{}", std::process::id()), &tag);
    let pid = docker.pid(&id);
    assert_eq!(
        std::fs::read(format!("/proc/{pid}/cmdline")).unwrap(),
        b"/bin/sleep\x002147483647\x00"
    );
    docker.cli(&["exec", &id, "/bin/sh", "-c", "echo x > /tmp/x && rm /etc/motd"]);
    assert_eq!(docker.changes(&id), ["A /tmp/x", "C /etc", "C /tmp", "D /etc/motd"]);
    let ctd = docker.containerd();
    for daemon in [docker.daemon_pid(), ctd.daemon_pid()] {
        // containerd's CRI stream server: 127.0.0.1, a port of the kernel's choosing.
        let listeners = tcp_listeners(daemon);
        assert!(
            listeners.iter().all(|l| is_loopback(l)),
            "pid {daemon} listens beyond the loopback: {listeners:?}"
        );
    }
    assert!(
        docker.dir.path().join("key.json").is_file(),
        "the trust key is under the run's directory"
    );
    let left = Leftovers::of_docker(&docker);
    assert!(
        left.pids.contains(&pid),
        "{:?} lists the container's process {pid}",
        left.pids
    );
    drop(docker);
    left.assert_none();
}
