//! containerd 1.6 with its CRI: a pod with the kubelet's labels and log directory, its container
//! attacked and collected live, then the pod stopped and containerd stopped; its root becomes
//! the node's `/var/lib/containerd`, the pod's log directory `/var/log/pods/NS_POD_UID` with the
//! kubelet's `/var/log/containers` link (docs/dev/deadbox.md §1, §4).

use super::{Prepared, Setup};
use crate::runtimes::containerd::{Containerd, CriContainer};
use crate::runtimes::image;

/// The pod, as the kubelet names it.
const POD: &str = "web-ctd";
/// Its namespace.
const NAMESPACE: &str = "shop";
/// The container's name in the pod.
const APP: &str = "app";

/// Runs the scenario; containerd is stopped when this returns.
pub fn prepare(s: &Setup) -> Vec<Prepared> {
    let mut ctd = Containerd::start();
    ctd.import(s.archive);
    let uid = uuid::Uuid::new_v4().to_string();
    let pod = ctd.run_pod(POD, NAMESPACE, &uid);
    let id = ctd.start_container(&pod, APP, 0, super::IMAGE, &image::COMMAND);
    let victim = CriContainer {
        containerd: &ctd,
        id: id.clone(),
    };
    let planted = super::attack(&victim, &format!("dbxctd{}", std::process::id()));
    let live = s.work.join("live-containerd.zip");
    super::collect_live(
        &[
            "--container",
            &id,
            "--runtime",
            "containerd",
            "--containerd-socket",
            ctd.socket.to_str().unwrap(),
        ],
        &[],
        &live,
        s.key,
    );
    ctd.stop_pod(&pod);
    ctd.stop_daemon();
    let root = ctd.dir.path().join("root");
    super::copy_in(s.stage, "/var/lib/containerd", &root);
    let pod_dir = pod.log_dir.file_name().unwrap().to_str().unwrap().to_string();
    super::copy_in(s.stage, &format!("/var/log/pods/{pod_dir}"), &pod.log_dir);
    let containers = s.stage.join("var/log/containers");
    std::fs::create_dir_all(&containers).unwrap();
    std::os::unix::fs::symlink(
        format!("/var/log/pods/{pod_dir}/{APP}/0.log"),
        containers.join(format!("{POD}_{NAMESPACE}_{APP}-{id}.log")),
    )
    .unwrap();
    let sandbox = Prepared {
        runtime: "containerd",
        namespace: Some(crate::runtimes::containerd::CRI_NAMESPACE),
        name: pod.id[..12].to_string(),
        id: pod.id.clone(),
        pod: Some((POD.to_string(), NAMESPACE.to_string(), uid.clone())),
        exit_code: 0,
        node_dir: "/var/lib/containerd",
        lowers: 2,
        live: None,
        kubelet_log_dir: None,
        _planted: None,
        sandbox: true,
    };
    vec![
        sandbox,
        Prepared {
            runtime: "containerd",
            namespace: Some(crate::runtimes::containerd::CRI_NAMESPACE),
            id,
            name: APP.to_string(),
            pod: Some((POD.to_string(), NAMESPACE.to_string(), uid)),
            exit_code: 137,
            node_dir: "/var/lib/containerd",
            lowers: 2,
            live: Some(live),
            kubelet_log_dir: Some(format!("/var/log/pods/{pod_dir}/{APP}")),
            _planted: Some(planted),
            sandbox: false,
        },
    ]
}
