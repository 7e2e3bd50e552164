//! podman 4.3 on a store of its own: the attacked container collected live and an exited one,
//! then both stopped (podman has no daemon). Its graph root becomes the node's
//! `/var/lib/containers/storage`, and the run's own graph-root path a link to it, so that the
//! absolute paths libpod recorded (`logPath`, the storage roots) resolve on the node
//! (docs/dev/deadbox.md §3).

use super::{Prepared, Setup};
use crate::podman::{Store, StoreContainer};

/// The attacked container's pod identity (labels).
const POD: (&str, &str, &str) = ("web-pm", "shop", "8b7d0c55-podman-pod-uid");

/// Runs the scenario; every container has stopped when this returns.
pub fn prepare(s: &Setup) -> Vec<Prepared> {
    let store = Store::new();
    store.podman(&["load", "-q", "-i", s.archive.to_str().unwrap()]);
    let labels = super::pod_labels(POD);
    let flags: Vec<&str> = labels.iter().map(String::as_str).collect();
    let id = store.run("dbx-pvictim", &flags, super::IMAGE, &[]);
    let victim = StoreContainer {
        store: &store,
        id: id.clone(),
    };
    let planted = super::attack(&victim, &format!("dbxpm{}", std::process::id()));
    let live = s.work.join("live-podman.zip");
    super::collect_live(&["--container", &id, "--runtime", "podman"], &store.env(), &live, s.key);
    let done = store.run("dbx-pdone", &[], super::IMAGE, &["/bin/sh", "-c", "echo bye; exit 4"]);
    assert_eq!(store.podman(&["wait", &done]).trim(), "4");
    store.podman(&["kill", &id]);
    assert_eq!(store.podman(&["wait", &id]).trim(), "137");
    crate::attack::wait_for("podman's cleanup to unmount the containers", || {
        crate::runtimes::mounts_under(&store.root).is_empty()
    });
    super::copy_in(s.stage, "/var/lib/containers/storage", &store.root);
    super::link_in(s.stage, &store.root, "/var/lib/containers/storage");
    vec![
        Prepared {
            runtime: "podman",
            namespace: None,
            id,
            name: "dbx-pvictim".to_string(),
            pod: Some((POD.0.to_string(), POD.1.to_string(), POD.2.to_string())),
            exit_code: 137,
            node_dir: "/var/lib/containers/storage",
            lowers: 2,
            live: Some(live),
            kubelet_log_dir: None,
            _planted: Some(planted),
            sandbox: false,
        },
        Prepared {
            runtime: "podman",
            namespace: None,
            id: done,
            name: "dbx-pdone".to_string(),
            pod: None,
            exit_code: 4,
            node_dir: "/var/lib/containers/storage",
            lowers: 2,
            live: None,
            kubelet_log_dir: None,
            _planted: None,
            sandbox: false,
        },
    ]
}
