//! Runtime inspect output: `crictl inspect` from a kind cluster (shared sample), `podman inspect`
//! and `podman image inspect` captured on a development machine, and a hand-written
//! `docker inspect` (see `tests/fixtures/README.md`).

use std::collections::BTreeMap;

use forensic_proc::inspect::{
    ContainerMount, ContainerRecord, ImageRecord, Runtime, from_crictl, from_docker, from_podman, image_from_podman,
};

use crate::{fixture_text, shared_sample};

fn owned(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect()
}

fn mount(source: &str, destination: &str, rw: bool, kind: &str) -> ContainerMount {
    ContainerMount {
        source: Some(source.into()),
        destination: destination.into(),
        rw,
        kind: Some(kind.into()),
    }
}

#[test]
fn crictl_containerd_kind_bpfman_operator() {
    let text = String::from_utf8(shared_sample("crictl-inspect/bpfman-operator-containerd-kind.json")).unwrap();
    let record = from_crictl(&text).unwrap();
    let pod_uid = "4cad64d0-7a36-452a-8a08-bd3a694cdad5";
    let kubelet = format!("/var/lib/kubelet/pods/{pod_uid}");
    let sandbox = "655b0ad6e26c0403c00ef9ab69c399e4e86f92d6bd3ad22a286849bf310b31f3";
    let env = record.env.clone();
    assert_eq!(
        record,
        ContainerRecord {
            runtime: Runtime::Containerd,
            id: "b1f06ea545e81d89dc503414d20a33f1b3f3eca71e3a4344fd16ddc202cc8129".into(),
            name: Some("bpfman-operator".into()),
            pid: Some(2092),
            state: Some("running".into()),
            created: Some("2023-12-15T20:12:36.599632356Z".into()),
            image_ref: Some("quay.io/bpfman/bpfman-operator:latest".into()),
            image_id: Some("sha256:8bab0f36b56c1726bffd8ff7f346207c4e269349386c403e01520f5ae109a4e9".into()),
            image_digest: Some("sha256:c2e072951a1e9c799f4071f97d4e246fc4c747ea67339f41951f9af2c19d5984".into()),
            labels: labels(&[
                ("io.kubernetes.container.name", "bpfman-operator"),
                ("io.kubernetes.pod.name", "bpfman-operator-65747dc769-pjztg"),
                ("io.kubernetes.pod.namespace", "bpfman"),
                ("io.kubernetes.pod.uid", pod_uid),
            ]),
            pod: Some("bpfman-operator-65747dc769-pjztg".into()),
            namespace: Some("bpfman".into()),
            pod_uid: Some(pod_uid.into()),
            log_path: Some(format!(
                "/var/log/pods/bpfman_bpfman-operator-65747dc769-pjztg_{pod_uid}/bpfman-operator/0.log"
            )),
            upper_dir: None,
            lower_dirs: vec![],
            merged_dir: None,
            privileged: false,
            cap_add: vec![],
            cap_drop: owned(&["ALL"]),
            // `"capabilities": {}` in the OCI spec: every set empty.
            capabilities: Some(vec![]),
            // `"seccomp": {"profile_type": 1}`: Unconfined, Kubernetes' default without a profile.
            seccomp_profile: Some("unconfined".into()),
            apparmor_profile: None,
            run_as_user: Some("65532".into()),
            read_only_rootfs: false,
            mounts: vec![
                ContainerMount {
                    source: Some("proc".into()),
                    destination: "/proc".into(),
                    rw: true,
                    kind: Some("proc".into())
                },
                mount("tmpfs", "/dev", true, "tmpfs"),
                mount("devpts", "/dev/pts", true, "devpts"),
                mount("mqueue", "/dev/mqueue", true, "mqueue"),
                mount("sysfs", "/sys", false, "sysfs"),
                mount("cgroup", "/sys/fs/cgroup", false, "cgroup"),
                mount(&format!("{kubelet}/etc-hosts"), "/etc/hosts", true, "bind"),
                mount(
                    &format!("{kubelet}/containers/bpfman-operator/08cf3736"),
                    "/dev/termination-log",
                    true,
                    "bind"
                ),
                mount(
                    &format!("/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/{sandbox}/hostname"),
                    "/etc/hostname",
                    true,
                    "bind"
                ),
                mount(
                    &format!("/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/{sandbox}/resolv.conf"),
                    "/etc/resolv.conf",
                    true,
                    "bind"
                ),
                mount(
                    &format!("/run/containerd/io.containerd.grpc.v1.cri/sandboxes/{sandbox}/shm"),
                    "/dev/shm",
                    true,
                    "bind"
                ),
                mount(
                    &format!("{kubelet}/volumes/kubernetes.io~projected/kube-api-access-sg2p4"),
                    "/var/run/secrets/kubernetes.io/serviceaccount",
                    false,
                    "bind"
                ),
            ],
            env,
            started: Some("2023-12-15T20:12:36.78151617Z".into()),
            entrypoint: owned(&["/bpfman-operator"]),
            command: owned(&[
                "--health-probe-bind-address=:8081",
                "--metrics-bind-address=127.0.0.1:8080",
                "--leader-elect"
            ]),
            process_args: owned(&[
                "/bpfman-operator",
                "--health-probe-bind-address=:8081",
                "--metrics-bind-address=127.0.0.1:8080",
                "--leader-elect"
            ]),
            working_dir: Some("/".into()),
            exposed_ports: Vec::new(),
        }
    );
    assert_eq!(record.env.len(), 20);
    assert_eq!(
        record.env.first().map(String::as_str),
        Some("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    );
    assert_eq!(record.env.get(3).map(String::as_str), Some("GO_LOG=debug"));
    assert_eq!(
        record.env.last().map(String::as_str),
        Some("KUBERNETES_PORT=tcp://10.96.0.1:443")
    );
}

#[test]
fn crictl_record_serializes_with_stable_names() {
    let text = String::from_utf8(shared_sample("crictl-inspect/bpfman-operator-containerd-kind.json")).unwrap();
    let json = serde_json::to_value(from_crictl(&text).unwrap()).unwrap();
    assert_eq!(json["runtime"], "containerd");
    assert_eq!(
        json["mounts"][0],
        serde_json::json!({"source": "proc", "destination": "/proc", "rw": true, "type": "proc"})
    );
    let mut keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "apparmor_profile",
            "cap_add",
            "cap_drop",
            "capabilities",
            "command",
            "created",
            "entrypoint",
            "env",
            "exposed_ports",
            "id",
            "image_digest",
            "image_id",
            "image_ref",
            "labels",
            "log_path",
            "lower_dirs",
            "merged_dir",
            "mounts",
            "name",
            "namespace",
            "pid",
            "pod",
            "pod_uid",
            "privileged",
            "process_args",
            "read_only_rootfs",
            "run_as_user",
            "runtime",
            "seccomp_profile",
            "started",
            "state",
            "upper_dir",
            "working_dir",
        ]
    );
}

#[test]
fn podman_captured_container() {
    let record = from_podman(&fixture_text("podman-inspect.json")).unwrap();
    let id = "42f0242e773d2580ae8327c16fddc91a21380074c6ef1e7e4c26eb867e60e818";
    let storage = "/var/lib/containers/storage/overlay";
    let layer = "e0dee668d9cf8fa09cbcfdc74fc5436ec24dea18a3eac91a53b8e31a14d7d4c8";
    assert_eq!(
        record,
        ContainerRecord {
            runtime: Runtime::Podman,
            id: id.into(),
            name: Some("pitest".into()),
            pid: Some(18643),
            state: Some("running".into()),
            created: Some("2026-11-29T07:57:11.870128914Z".into()),
            image_ref: Some("localhost/pitest:latest".into()),
            image_id: Some("sha256:202aee88bbb8eb3b82bb512224e0a61c998effa59f77eba389a78bf697fffbbb".into()),
            image_digest: Some("sha256:d308d7db29895d449e1c3948cb4595b6da29a593a9f127fed734c2cdc3c440de".into()),
            labels: labels(&[
                ("io.kubernetes.pod.name", "web"),
                ("io.kubernetes.pod.namespace", "shop")
            ]),
            pod: Some("web".into()),
            namespace: Some("shop".into()),
            pod_uid: None,
            log_path: Some(format!(
                "/var/lib/containers/storage/overlay-containers/{id}/userdata/ctr.log"
            )),
            upper_dir: Some(format!("{storage}/{layer}/diff")),
            lower_dirs: vec![format!(
                "{storage}/3614907ef392b573883bc2139bae1bf6c1a2e62e4548c053cc8ae12a839cf499/diff"
            )],
            merged_dir: Some(format!("{storage}/{layer}/merged")),
            privileged: false,
            cap_add: vec![],
            cap_drop: owned(&["CAP_AUDIT_WRITE", "CAP_MKNOD", "CAP_NET_RAW"]),
            capabilities: Some(owned(&[
                "CAP_CHOWN",
                "CAP_DAC_OVERRIDE",
                "CAP_FOWNER",
                "CAP_FSETID",
                "CAP_KILL",
                "CAP_NET_BIND_SERVICE",
                "CAP_SETFCAP",
                "CAP_SETGID",
                "CAP_SETPCAP",
                "CAP_SETUID",
                "CAP_SYS_CHROOT",
            ])),
            seccomp_profile: None,
            apparmor_profile: None,
            run_as_user: None,
            read_only_rootfs: false,
            mounts: vec![],
            env: owned(&[
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "TERM=xterm",
                "container=podman",
                "HOSTNAME=42f0242e773d",
            ]),
            started: Some("2026-11-29T07:57:11.965590988Z".into()),
            entrypoint: Vec::new(),
            command: owned(&["/bin/sleep", "600"]),
            process_args: owned(&["/bin/sleep", "600"]),
            working_dir: Some("/".into()),
            exposed_ports: Vec::new(),
        }
    );
}

#[test]
fn podman_captured_hardened_container() {
    let record = from_podman(&fixture_text("podman-inspect-hardened.json")).unwrap();
    assert_eq!(
        record.id,
        "85b8852e480bb26ba737aae4eec00c095cc2ff087989c5a4e8ce4bcf44a5ca2d"
    );
    assert_eq!(record.pid, Some(24352));
    assert_eq!(record.labels, BTreeMap::new());
    assert_eq!((record.pod, record.namespace), (None, None));
    assert_eq!(record.cap_add, ["CAP_NET_ADMIN"]);
    assert_eq!(
        record.cap_drop,
        ["CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_MKNOD", "CAP_NET_RAW"]
    );
    assert_eq!(record.capabilities, Some(owned(&["CAP_NET_ADMIN"])));
    assert_eq!(record.seccomp_profile.as_deref(), Some("unconfined"));
    assert_eq!(record.run_as_user.as_deref(), Some("1000:1000"));
    assert!(record.read_only_rootfs);
    assert!(!record.privileged);
    assert_eq!(record.mounts, vec![mount("/tmp/pi/data", "/data", false, "bind")]);
    assert!(record.env.contains(&"SECRET_TOKEN=hunter2".to_owned()));
    assert_eq!(
        record.upper_dir.as_deref(),
        Some(
            "/var/lib/containers/storage/overlay/d9d0e8e532ecf16ab4037a8a284ee1690c90df280c7ca54f5f5bee6c0ad097fe/diff"
        )
    );
}

#[test]
fn podman_captured_image() {
    let image = image_from_podman(&fixture_text("podman-image-inspect.json")).unwrap();
    assert_eq!(
        image,
        ImageRecord {
            id: "sha256:202aee88bbb8eb3b82bb512224e0a61c998effa59f77eba389a78bf697fffbbb".into(),
            digest: Some("sha256:d308d7db29895d449e1c3948cb4595b6da29a593a9f127fed734c2cdc3c440de".into()),
            repo_tags: owned(&["localhost/pitest:latest"]),
            repo_digests: owned(&[
                "localhost/pitest@sha256:d308d7db29895d449e1c3948cb4595b6da29a593a9f127fed734c2cdc3c440de"
            ]),
            created: Some("2026-11-29T07:57:11.753094121Z".into()),
            architecture: Some("amd64".into()),
            os: Some("linux".into()),
            layers: owned(&["sha256:3614907ef392b573883bc2139bae1bf6c1a2e62e4548c053cc8ae12a839cf499"]),
            config: serde_json::json!({}),
        }
    );
    // The container made from it names the same image id and digest.
    let container = from_podman(&fixture_text("podman-inspect.json")).unwrap();
    assert_eq!(container.image_id.as_deref(), Some(image.id.as_str()));
    assert_eq!(container.image_digest, image.digest);
}

#[test]
fn docker_hand_written_compose_container() {
    let record = from_docker(&fixture_text("docker-inspect.json")).unwrap();
    let id = "5424626b932a2ff9d191f0982447a979fddd8b4be251e924370cb66900df018e";
    let overlay = "/var/lib/docker/overlay2";
    let layer = "96b081864c94be3272fe4542232aa965bf1c736a9174e323012890b97a2436b5";
    assert_eq!(
        record,
        ContainerRecord {
            runtime: Runtime::Docker,
            id: id.into(),
            name: Some("shop-web-1".into()),
            pid: Some(31337),
            state: Some("running".into()),
            created: Some("2024-03-11T09:14:27.514838829Z".into()),
            image_ref: Some("nginx:1.25.4".into()),
            image_id: Some("sha256:b29814cf5792e684cd75d6a7fce7a67a11887e312f87ca2ac2496d81f365ff72".into()),
            image_digest: None,
            labels: labels(&[
                ("com.docker.compose.project", "shop"),
                ("com.docker.compose.service", "web"),
                ("maintainer", "NGINX Docker Maintainers <docker-maint@nginx.com>"),
            ]),
            pod: None,
            namespace: None,
            pod_uid: None,
            log_path: Some(format!("/var/lib/docker/containers/{id}/{id}-json.log")),
            upper_dir: Some(format!("{overlay}/{layer}/diff")),
            lower_dirs: vec![
                format!("{overlay}/{layer}-init/diff"),
                format!("{overlay}/2804bad6fe94a55f18b2b37e300919a5fd517b95aa81e95db574c0ba069a3740/diff"),
                format!("{overlay}/8a1cee436cbac1489a1883c9d886fcfc46f302c55ed4106ae31729e4f4eb9041/diff"),
            ],
            merged_dir: Some(format!("{overlay}/{layer}/merged")),
            privileged: false,
            cap_add: owned(&["CAP_NET_ADMIN"]),
            cap_drop: owned(&["CAP_MKNOD", "CAP_NET_RAW"]),
            capabilities: None,
            seccomp_profile: None,
            apparmor_profile: Some("docker-default".into()),
            run_as_user: Some("101:101".into()),
            read_only_rootfs: true,
            mounts: vec![
                mount("/srv/shop/nginx.conf", "/etc/nginx/nginx.conf", false, "bind"),
                mount(
                    "/var/lib/docker/volumes/shop_cache/_data",
                    "/var/cache/nginx",
                    true,
                    "volume"
                ),
            ],
            env: owned(&[
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "NGINX_VERSION=1.25.4",
                "NJS_VERSION=0.8.3",
                "PKG_RELEASE=1~bookworm",
            ]),
            started: Some("2024-03-11T09:14:27.868447112Z".into()),
            entrypoint: owned(&["/docker-entrypoint.sh"]),
            command: owned(&["nginx", "-g", "daemon off;"]),
            process_args: owned(&["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"]),
            working_dir: None,
            exposed_ports: owned(&["80/tcp"]),
        }
    );
}
