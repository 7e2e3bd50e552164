//! Docker 20.10 (overlay2) on its own containerd: the attacked container collected live, an
//! exited one with a json-file log, and one whose `config.v2.json` the corruption check garbles;
//! then the containers killed and dockerd stopped. Its data root becomes the node's
//! `/var/lib/docker`, and the run's own data-root path a link to it, so that the absolute paths
//! dockerd recorded (`LogPath`) resolve on the node (docs/dev/deadbox.md §2).

use super::{Prepared, Setup};
use crate::runtimes::docker::{Docker, DockerContainer};

/// The attacked container's pod identity (dockershim's labels).
const POD: (&str, &str, &str) = ("web-dk", "shop", "3f1c2e0a-docker-pod-uid");

/// Runs the scenario; dockerd is stopped when this returns.
pub fn prepare(s: &Setup) -> Vec<Prepared> {
    let mut d = Docker::start();
    d.load(s.archive);
    let labels = super::pod_labels(POD);
    let flags: Vec<&str> = labels.iter().map(String::as_str).collect();
    let id = d.run_with("dbx-victim", &flags, super::IMAGE, &[]);
    let victim = DockerContainer {
        docker: &d,
        id: id.clone(),
    };
    let planted = super::attack(&victim, &format!("dbxdk{}", std::process::id()));
    let live = s.work.join("live-docker.zip");
    super::collect_live(
        &["--container", &id, "--runtime", "docker"],
        &[("DOCKER_HOST", d.host.as_str())],
        &live,
        s.key,
    );
    let done = d.run_with("dbx-done", &[], super::IMAGE, &["/bin/sh", "-c", "echo bye; exit 3"]);
    assert_eq!(d.cli(&["wait", &done]).trim(), "3");
    let bad = d.run_with("dbx-badcfg", &[], super::IMAGE, &["/bin/sh", "-c", "exit 5"]);
    assert_eq!(d.cli(&["wait", &bad]).trim(), "5");
    d.cli(&["kill", &id]);
    assert_eq!(d.cli(&["wait", &id]).trim(), "137");
    d.stop_daemon();
    let data = d.dir.path().join("data");
    super::copy_in(s.stage, "/var/lib/docker", &data);
    super::link_in(s.stage, &data, "/var/lib/docker");
    let other = |id: String, name: &str, exit_code| Prepared {
        runtime: "docker",
        namespace: None,
        id,
        name: name.to_string(),
        pod: None,
        exit_code,
        node_dir: "/var/lib/docker",
        lowers: 3,
        live: None,
        kubelet_log_dir: None,
        _planted: None,
        sandbox: false,
    };
    vec![
        Prepared {
            runtime: "docker",
            namespace: None,
            id,
            name: "dbx-victim".to_string(),
            pod: Some((POD.0.to_string(), POD.1.to_string(), POD.2.to_string())),
            exit_code: 137,
            node_dir: "/var/lib/docker",
            lowers: 3,
            live: Some(live),
            kubelet_log_dir: None,
            _planted: Some(planted),
            sandbox: false,
        },
        other(done, "dbx-done", 3),
        other(bad, "dbx-badcfg", 5),
    ]
}
