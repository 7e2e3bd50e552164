//! containerd 1.6 with its CRI plugin, started by the test (docs/dev/runtimes.md §1, §6), and the
//! kubelet's side of the CRI driven through `k8s-cri` (no crictl package exists): pods with the
//! kubelet's labels and log directory, containers with `log_path` `NAME/ATTEMPT.log`, exec,
//! stop, and `ReopenContainerLog` for a rotation.

use k8s_cri::v1::runtime_service_client::RuntimeServiceClient;
use k8s_cri::v1::{
    ContainerConfig, ContainerMetadata, ContainerStatusRequest, CreateContainerRequest, ExecSyncRequest, ImageSpec,
    LinuxPodSandboxConfig, LinuxSandboxSecurityContext, NamespaceMode, NamespaceOption, PodSandboxConfig,
    PodSandboxMetadata, RemovePodSandboxRequest, ReopenContainerLogRequest, RunPodSandboxRequest,
    StartContainerRequest, StopContainerRequest, StopPodSandboxRequest,
};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tonic::transport::{Channel, Endpoint, Uri};

/// Where the kubelet (and containerd, for CRI containers) keeps pod logs.
pub const PODS_LOG_ROOT: &str = "/var/log/pods";
/// The containerd namespace of the CRI.
pub const CRI_NAMESPACE: &str = "k8s.io";
/// The sandbox ("pause") image's reference in the config; `image::build` tags the test image
/// with it too.
pub const SANDBOX_IMAGE: &str = "localhost/forensic-pause:1";

/// A containerd the test started; stopped, with everything it ran, on drop.
pub struct Containerd {
    /// The run's directory (root, state, sockets, config, log).
    pub dir: tempfile::TempDir,
    /// The gRPC socket (`--containerd-socket`).
    pub socket: PathBuf,
    log: PathBuf,
    child: Child,
    rt: tokio::runtime::Runtime,
    cri: RefCell<Option<RuntimeServiceClient<Channel>>>,
    pods: RefCell<Vec<Pod>>,
    pods_log_root_existed: bool,
}

/// A pod sandbox made through the CRI.
#[derive(Clone, Debug)]
pub struct Pod {
    /// The sandbox id.
    pub id: String,
    /// Its config (the CRI wants it again for each container).
    pub config: PodSandboxConfig,
    /// `/var/log/pods/NS_NAME_UID`.
    pub log_dir: PathBuf,
}

impl Pod {
    /// The pod's UID.
    pub fn uid(&self) -> &str {
        &self.config.metadata.as_ref().expect("set in run_pod").uid
    }
}

/// The config of docs/dev/runtimes.md §1.1, with every path under `dir`.
fn config(dir: &Path) -> String {
    let d = dir.display();
    format!(
        r#"version = 2
root = "{d}/root"
state = "{d}/state"
[grpc]
  address = "{d}/containerd.sock"
[ttrpc]
  address = "{d}/containerd.sock.ttrpc"
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{SANDBOX_IMAGE}"
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{d}/cni"
    conf_dir = "{d}/cni"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "{d}/runc"
"#
    )
}

/// A tonic channel over the unix socket `path` (runtimes.md §3.2).
async fn connect(path: PathBuf) -> Result<Channel, tonic::transport::Error> {
    Endpoint::try_from("http://[::]")?
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let p = path.clone();
            async move {
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(
                    tokio::net::UnixStream::connect(p).await?,
                ))
            }
        }))
        .await
}

impl Containerd {
    /// Starts containerd and waits until its CRI answers.
    pub fn start() -> Containerd {
        let dir = tempfile::Builder::new().prefix("fctd").tempdir_in("/tmp").unwrap();
        std::fs::create_dir_all(dir.path().join("cni")).unwrap();
        let conf = dir.path().join("config.toml");
        std::fs::write(&conf, config(dir.path())).unwrap();
        let log = dir.path().join("containerd.log");
        let child = Command::new("containerd")
            .arg("--config")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("containerd is installed (.ci/run installs it)");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let c = Containerd {
            socket: dir.path().join("containerd.sock"),
            log,
            child,
            rt,
            cri: RefCell::new(None),
            pods: RefCell::new(Vec::new()),
            pods_log_root_existed: Path::new(PODS_LOG_ROOT).exists(),
            dir,
        };
        super::wait_ready("containerd's CRI", &c.log, || {
            let Ok(ch) = c.rt.block_on(connect(c.socket.clone())) else {
                return false;
            };
            let mut client = RuntimeServiceClient::new(ch);
            let up =
                c.rt.block_on(client.version(k8s_cri::v1::VersionRequest::default()))
                    .is_ok();
            if up {
                *c.cri.borrow_mut() = Some(client);
            }
            up
        });
        c
    }

    /// The containerd daemon's PID.
    pub fn daemon_pid(&self) -> u32 {
        self.child.id()
    }

    /// Runs one CRI call with the client.
    fn cri<T, F>(&self, what: &str, call: impl FnOnce(RuntimeServiceClient<Channel>) -> F) -> T
    where
        F: std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        let client = self.cri.borrow().clone().expect("connected in start");
        match self.rt.block_on(call(client)) {
            Ok(r) => r.into_inner(),
            Err(status) => panic!(
                "CRI {what}: {status}\ncontainerd's log:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            ),
        }
    }

    /// `ctr -a SOCKET -n NAMESPACE ARGS`, which must succeed.
    pub fn ctr(&self, namespace: &str, args: &[&str]) -> String {
        let o = Command::new("ctr")
            .arg("-a")
            .arg(&self.socket)
            .args(["-n", namespace])
            .args(args)
            .output()
            .expect("ctr is installed with containerd");
        assert!(
            o.status.success(),
            "ctr {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// Imports a docker-archive into the CRI's namespace.
    pub fn import(&self, archive: &Path) {
        self.ctr(CRI_NAMESPACE, &["images", "import", archive.to_str().unwrap()]);
    }

    /// RunPodSandbox as the kubelet does for a host-network pod: metadata, the kubelet's labels,
    /// `log_directory` `/var/log/pods/NS_NAME_UID`, network namespace NODE with an empty hostname
    /// (runtimes.md §1.2), PID namespace per container (the kubelet's default).
    pub fn run_pod(&self, name: &str, namespace: &str, uid: &str) -> Pod {
        let log_dir = Path::new(PODS_LOG_ROOT).join(format!("{namespace}_{name}_{uid}"));
        let labels = HashMap::from([
            ("io.kubernetes.pod.name".to_string(), name.to_string()),
            ("io.kubernetes.pod.namespace".to_string(), namespace.to_string()),
            ("io.kubernetes.pod.uid".to_string(), uid.to_string()),
        ]);
        let config = PodSandboxConfig {
            metadata: Some(PodSandboxMetadata {
                name: name.into(),
                uid: uid.into(),
                namespace: namespace.into(),
                attempt: 0,
            }),
            hostname: String::new(),
            log_directory: log_dir.to_str().unwrap().into(),
            labels,
            linux: Some(LinuxPodSandboxConfig {
                security_context: Some(LinuxSandboxSecurityContext {
                    namespace_options: Some(NamespaceOption {
                        network: NamespaceMode::Node as i32,
                        pid: NamespaceMode::Container as i32,
                        ipc: NamespaceMode::Pod as i32,
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        // Registered before the call: a failed RunPodSandbox can leave a NOTREADY sandbox and
        // its log directory (runtimes.md §6), which teardown removes by name.
        let mut pod = Pod {
            id: String::new(),
            config: config.clone(),
            log_dir,
        };
        self.pods.borrow_mut().push(pod.clone());
        let r = self.cri("RunPodSandbox", |mut c| async move {
            c.run_pod_sandbox(RunPodSandboxRequest {
                config: Some(config),
                runtime_handler: String::new(),
            })
            .await
        });
        pod.id = r.pod_sandbox_id;
        self.pods.borrow_mut().last_mut().unwrap().id = pod.id.clone();
        pod
    }

    /// CreateContainer + StartContainer of `image` running `command` in `pod`, as the kubelet
    /// does: metadata {name, attempt}, the kubelet's labels, `log_path` `NAME/ATTEMPT.log`.
    /// Returns the container id.
    pub fn start_container(&self, pod: &Pod, name: &str, attempt: u32, image: &str, command: &[&str]) -> String {
        let mut labels = pod.config.labels.clone();
        labels.insert("io.kubernetes.container.name".into(), name.into());
        let config = ContainerConfig {
            metadata: Some(ContainerMetadata {
                name: name.into(),
                attempt,
            }),
            image: Some(ImageSpec {
                image: image.into(),
                ..Default::default()
            }),
            command: command.iter().map(|c| c.to_string()).collect(),
            labels,
            log_path: format!("{name}/{attempt}.log"),
            ..Default::default()
        };
        let (sandbox, pod_sandbox_id) = (pod.config.clone(), pod.id.clone());
        let id = self
            .cri("CreateContainer", |mut c| async move {
                c.create_container(CreateContainerRequest {
                    pod_sandbox_id,
                    config: Some(config),
                    sandbox_config: Some(sandbox),
                })
                .await
            })
            .container_id;
        let container_id = id.clone();
        self.cri("StartContainer", |mut c| async move {
            c.start_container(StartContainerRequest { container_id }).await
        });
        id
    }

    /// ExecSync `argv` in the container; returns (exit code, stdout, stderr).
    pub fn exec(&self, id: &str, argv: &[&str]) -> (i32, Vec<u8>, Vec<u8>) {
        let req = ExecSyncRequest {
            container_id: id.into(),
            cmd: argv.iter().map(|a| a.to_string()).collect(),
            timeout: 60,
        };
        let r = self.cri("ExecSync", |mut c| async move { c.exec_sync(req).await });
        (r.exit_code, r.stdout, r.stderr)
    }

    /// The verbose ContainerStatus's `info` JSON (pid, sandboxID, snapshotKey, runtimeSpec, …).
    pub fn info(&self, id: &str) -> serde_json::Value {
        let container_id = id.to_string();
        let r = self.cri("ContainerStatus", |mut c| async move {
            c.container_status(ContainerStatusRequest {
                container_id,
                verbose: true,
            })
            .await
        });
        serde_json::from_str(r.info.get("info").expect("verbose status has info")).unwrap()
    }

    /// The CRI state of a container (1 running, 2 exited).
    pub fn state(&self, id: &str) -> i32 {
        let container_id = id.to_string();
        let r = self.cri("ContainerStatus", |mut c| async move {
            c.container_status(ContainerStatusRequest {
                container_id,
                verbose: false,
            })
            .await
        });
        r.status.expect("a status").state
    }

    /// The host PID of a running container's main process.
    pub fn pid(&self, id: &str) -> u32 {
        let pid = self.info(id)["pid"].as_u64().expect("a running container has a pid");
        u32::try_from(pid).unwrap()
    }

    /// StopContainer with no grace period (the kubelet's kill before a restart).
    pub fn stop_container(&self, id: &str) {
        let container_id = id.to_string();
        self.cri("StopContainer", |mut c| async move {
            c.stop_container(StopContainerRequest {
                container_id,
                timeout: 0,
            })
            .await
        });
    }

    /// ReopenContainerLog, as the kubelet calls it after renaming `N.log` for a rotation.
    pub fn reopen_log(&self, id: &str) {
        let container_id = id.to_string();
        self.cri("ReopenContainerLog", |mut c| async move {
            c.reopen_container_log(ReopenContainerLogRequest { container_id }).await
        });
    }

    /// StopPodSandbox: every container of the pod and its sandbox are killed; the pod, its
    /// containers and their snapshots stay (as on a node whose disk is captured afterwards).
    pub fn stop_pod(&self, pod: &Pod) {
        let pod_sandbox_id = pod.id.clone();
        self.cri("StopPodSandbox", |mut c| async move {
            c.stop_pod_sandbox(StopPodSandboxRequest { pod_sandbox_id }).await
        });
    }

    /// Stops the daemon only (SIGTERM), leaving its root as a node's disk holds it after the
    /// node is gone (issue 13). Stop the pods first: a shim left without its daemon keeps its
    /// container running. The guard still cleans up when it drops.
    pub fn stop_daemon(&mut self) {
        *self.cri.borrow_mut() = None;
        super::terminate(&mut self.child, Duration::from_secs(10));
    }

    /// Writes `line` to a running container's stdout from the host (through its main process's
    /// `/proc/PID/fd/1`, the pipe containerd reads), as the application would log it.
    pub fn say(&self, id: &str, line: &str) {
        use std::io::Write;
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .open(format!("/proc/{}/fd/1", self.pid(id)))
            .unwrap();
        out.write_all(format!("{line}\n").as_bytes()).unwrap();
    }

    /// A log rotation as the kubelet makes it (runtimes.md §1.4): `NAME/ATTEMPT.log` renamed to
    /// `NAME/ATTEMPT.log.STAMP`, then ReopenContainerLog so containerd starts a new file; with
    /// `compress`, the rotated file is then gzip'd to `….STAMP.gz` and removed (the kubelet keeps
    /// only the newest rotation uncompressed). Returns the rotated file's path.
    pub fn rotate_log(&self, pod: &Pod, id: &str, name: &str, attempt: u32, stamp: &str, compress: bool) -> PathBuf {
        let dir = pod.log_dir.join(name);
        let rotated = dir.join(format!("{attempt}.log.{stamp}"));
        std::fs::rename(dir.join(format!("{attempt}.log")), &rotated).unwrap();
        self.reopen_log(id);
        if !compress {
            return rotated;
        }
        use std::io::Write;
        let gz = dir.join(format!("{attempt}.log.{stamp}.gz"));
        let mut enc =
            flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::default());
        enc.write_all(&std::fs::read(&rotated).unwrap()).unwrap();
        enc.finish().unwrap().sync_all().unwrap();
        std::fs::remove_file(&rotated).unwrap();
        gz
    }

    /// Stops and removes every pod made here (their containers and tasks with them), then
    /// whatever tasks are left in any namespace (dockerd's, when it ran here).
    fn remove_everything(&self) {
        let client = self.cri.borrow().clone();
        if let Some(client) = client {
            for pod in self.pods.borrow().iter().filter(|p| !p.id.is_empty()) {
                let (mut c, id) = (client.clone(), pod.id.clone());
                let _ = self.rt.block_on(async move {
                    let _ = c
                        .stop_pod_sandbox(StopPodSandboxRequest {
                            pod_sandbox_id: id.clone(),
                        })
                        .await;
                    c.remove_pod_sandbox(RemovePodSandboxRequest { pod_sandbox_id: id })
                        .await
                });
            }
        }
        let ctr = |args: &[&str]| {
            Command::new("ctr")
                .arg("-a")
                .arg(&self.socket)
                .args(args)
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default()
        };
        for ns in ctr(&["namespaces", "ls", "-q"]).lines() {
            for task in ctr(&["-n", ns, "tasks", "ls", "-q"]).lines() {
                ctr(&["-n", ns, "tasks", "kill", "-s", "KILL", task]);
                std::thread::sleep(Duration::from_millis(200));
                ctr(&["-n", ns, "tasks", "rm", "-f", task]);
            }
        }
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        self.remove_everything();
        *self.cri.borrow_mut() = None;
        super::terminate(&mut self.child, Duration::from_secs(10));
        // Shims outlive a stopped containerd when tasks are left (runtimes.md §6).
        for pid in super::pids_with_arg(self.socket.to_str().unwrap()) {
            if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
        }
        super::umount_under(self.dir.path());
        for pod in self.pods.borrow().iter() {
            let _ = std::fs::remove_dir_all(&pod.log_dir);
        }
        if !self.pods_log_root_existed {
            // Only when empty: another test's pods may be logging there.
            let _ = std::fs::remove_dir(PODS_LOG_ROOT);
        }
    }
}

/// A CRI container, as the attack's victim: the attacker's commands run through ExecSync.
pub struct CriContainer<'a> {
    /// Its containerd.
    pub containerd: &'a Containerd,
    /// The container id.
    pub id: String,
}

impl crate::attack::Victim for CriContainer<'_> {
    fn sh(&self, script: &str) {
        let (code, out, err) = self.containerd.exec(&self.id, &["/bin/sh", "-c", script]);
        assert_eq!(
            code,
            0,
            "sh -c {script:?} in {}: {}{}",
            self.id,
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&err)
        );
    }

    fn spawn(&self, script: &str) {
        // ExecSync waits for the exec's output to close: the background process gets none.
        self.sh(&format!(
            "(setsid /bin/sh -c '{script}' < /dev/null > /dev/null 2>&1 &)"
        ));
    }

    fn pid(&self) -> u32 {
        self.containerd.pid(&self.id)
    }
}
