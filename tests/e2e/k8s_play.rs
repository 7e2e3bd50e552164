//! Issue 15, Kubernetes: the collection Job's pod template, exactly as `forensic k8s collect
//! --dry-run` prints it, run by `podman kube play` on this host with the collector image of
//! `packaging/image/build.sh`, collects a real neighbouring podman container; the bundle lands in
//! the template's hostPath directory, or in SeaweedFS under Object Lock (COMPLIANCE), and verifies
//! on the host.
//!
//! What podman 4.3.1 (Debian 12's) does with the template, read in its source (tag v4.3.1) and
//! measured here:
//! - `hostPID: true` is dropped: `pkg/specgen/generate/kube/kube.go` (`ToPodOpt`, line 47: "TODO
//!   we only configure Process namespace. We also need to account for Host{IPC,Network,PID}") never
//!   reads `Spec.HostPID`, so the containers get `PidMode private` and see 3 processes of their
//!   own. Support came with podman 4.4.0 (commit 3ae84fe0a3, "kube-play: add support for HostPID
//!   in podSpec"). A kube-play container in a pod that does not share its PID namespace gets
//!   containers.conf's `[containers] pidns` (`pkg/specgen/generate/namespaces.go`,
//!   `GetDefaultNamespaceMode`), so on podman < 4.4 the test's containers.conf (passed with
//!   `CONTAINERS_CONF`, as the runtime and limits must be on this machine) says `pidns = "host"`:
//!   what `hostPID: true` asks. The test asserts the template says `hostPID: true` and the
//!   containers run with `PidMode host`.
//! - Secret volumes are read from podman's secret store (`podman secret create`): podman 4.3.1
//!   writes each `data` value of the stored Secret verbatim (no base64 decoding, `stringData`
//!   and `items` ignored; `volume.go`, `VolumeFromSecret`), fixed in 4.4.0 (commit db4d018711);
//!   a `secretKeyRef` is read from the stored value as a JSON map of base64 values
//!   (`k8sSecretFromSecretManager`). The test stores each Secret the way the podman in use reads it;
//!   the manifest stays the `--dry-run` output.
//! - The collector image cannot ask podman for the target container (no podman in the image), so
//!   the Job is made with `k8s collect --pid PID` (the container's host PID), which runs
//!   `forensic collect --pid`.

use crate::collector_image::CollectorImage;
use crate::k8s::documents;
use crate::podman::{Container, Image, podman};
use crate::seaweed::{KEY_ID, SECRET, Weed, rt};
use crate::util::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

/// podman's version, as (major, minor).
fn podman_version() -> (u32, u32) {
    let o = podman(&["version", "--format", "{{.Client.Version}}"]);
    let v = String::from_utf8_lossy(&o.stdout).trim().to_string();
    let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// podman ≥ 4.4 reads `hostPID` and base64-decodes a Secret volume's `data`.
fn podman_reads_host_pid() -> bool {
    podman_version() >= (4, 4)
}

/// `base64 -w0` of `bytes`.
fn base64(bytes: &[u8]) -> String {
    use std::io::Write;
    let mut c = Command::new("base64")
        .arg("-w0")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(bytes).unwrap();
    let o = c.wait_with_output().unwrap();
    String::from_utf8(o.stdout).unwrap()
}

/// A podman secret, removed on drop.
struct PodmanSecret(String);

impl PodmanSecret {
    fn create(dir: &Path, name: &str, content: &Value) -> PodmanSecret {
        let file = dir.join(format!("{name}.json"));
        std::fs::write(&file, content.to_string()).unwrap();
        let _ = Command::new("podman").args(["secret", "rm", name]).output();
        podman(&["secret", "create", name, s(&file)]);
        std::fs::remove_file(&file).unwrap();
        PodmanSecret(name.to_string())
    }
}

impl Drop for PodmanSecret {
    fn drop(&mut self) {
        let _ = Command::new("podman").args(["secret", "rm", &self.0]).output();
    }
}

/// The signing key (key `signing.key`), and its passphrase if any (key `passphrase`), as a
/// Secret volume of this podman reads it.
fn key_secret(dir: &Path, name: &str, key: &Path, passphrase: Option<&str>) -> PodmanSecret {
    let value = |bytes: Vec<u8>| {
        if podman_reads_host_pid() {
            base64(&bytes)
        } else {
            String::from_utf8(bytes).unwrap()
        }
    };
    let mut data = serde_json::Map::new();
    data.insert("signing.key".into(), value(std::fs::read(key).unwrap()).into());
    if let Some(p) = passphrase {
        data.insert("passphrase".into(), value(format!("{p}\n").into_bytes()).into());
    }
    let doc = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "data": data});
    PodmanSecret::create(dir, name, &doc)
}

/// A pod made by `podman kube play`, torn down on drop.
struct Played {
    yaml: PathBuf,
    pod: String,
}

impl Drop for Played {
    fn drop(&mut self) {
        let _ = Command::new("podman").args(["kube", "down", s(&self.yaml)]).output();
        let _ = Command::new("podman").args(["pod", "rm", "-f", &self.pod]).output();
    }
}

/// What the pod did: the container events of each init step (podman 4.3.1 removes an init
/// container once it has run, so its exit code and log are gone), the last container's exit code
/// and log, and its `PidMode`.
struct PlayResult {
    init_events: Vec<(String, Vec<String>)>,
    last_exit: i64,
    logs: String,
    pid_mode: String,
}

impl PlayResult {
    /// The host's PID namespace, `collect-0` ran (created, started, exited, removed) before the
    /// last step, which exited 0.
    fn check(&self) {
        assert_eq!(self.pid_mode, "host", "{}", self.logs);
        assert_eq!(self.init_events.len(), 1, "{:?}", self.init_events);
        let (step, events) = &self.init_events[0];
        assert_eq!(step, "collect-0");
        let ran: Vec<&str> = events
            .iter()
            .map(String::as_str)
            .filter(|e| ["create", "start", "died", "remove"].contains(e))
            .collect();
        assert_eq!(ran, ["create", "start", "died", "remove"], "{events:?}");
        assert_eq!(self.last_exit, 0, "{}", self.logs);
    }
}

/// Runs the Job's pod template (`job.spec.template`, every field kept) as a `kind: Pod` named
/// after the Job through `CONTAINERS_CONF=… podman kube play`, waits for its last container.
fn play(dir: &Path, job: &Value) -> (Played, PlayResult) {
    let template = &job["spec"]["template"];
    assert_eq!(template["spec"]["hostPID"], true, "{job}");
    let name = job["metadata"]["name"].as_str().unwrap().to_string();
    let mut metadata = template["metadata"].clone();
    metadata["name"] = json!(name);
    metadata["namespace"] = job["metadata"]["namespace"].clone();
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template["spec"]});
    let yaml = dir.join("pod.yaml");
    std::fs::write(&yaml, format!("---\n{}\n", serde_json::to_string_pretty(&pod).unwrap())).unwrap();
    // This machine's runtime and limits (crun fails here; limits cannot be raised); on podman
    // < 4.4, the host PID namespace that `hostPID: true` asks for (see the module's comment).
    let mut conf = String::from("[containers]\ndefault_ulimits = [\"nofile=1000:1000\", \"nproc=1000:1000\"]\n");
    if !podman_reads_host_pid() {
        conf.push_str("pidns = \"host\"\n");
    }
    conf.push_str("[engine]\nruntime = \"runc\"\n");
    let conf_path = dir.join("containers.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let played = Played {
        yaml: yaml.clone(),
        pod: name.clone(),
    };
    let o = Command::new("podman")
        .args(["kube", "play", s(&yaml)])
        .env("CONTAINERS_CONF", &conf_path)
        .output()
        .unwrap();
    assert!(o.status.success(), "kube play: {}{}", stdout(&o), stderr(&o));
    let containers = &template["spec"]["containers"];
    let last = format!("{name}-{}", containers[0]["name"].as_str().unwrap());
    let w = podman(&["wait", &last]);
    let last_exit: i64 = String::from_utf8_lossy(&w.stdout).trim().parse().unwrap();
    let pid_mode = String::from_utf8_lossy(&podman(&["inspect", "--format", "{{.HostConfig.PidMode}}", &last]).stdout)
        .trim()
        .to_string();
    let log = Command::new("podman").args(["logs", &last]).output().unwrap();
    let logs = format!("{}{}", stdout(&log), stderr(&log));
    let mut init_events = Vec::new();
    for c in template["spec"]["initContainers"].as_array().unwrap() {
        let step = c["name"].as_str().unwrap();
        let filter = format!("container={name}-{step}");
        let e = podman(&[
            "events",
            "--stream=false",
            "--since",
            "30m",
            "--filter",
            &filter,
            "--format",
            "{{.Status}}",
        ]);
        let statuses = String::from_utf8_lossy(&e.stdout).lines().map(str::to_string).collect();
        init_events.push((step.to_string(), statuses));
    }
    (
        played,
        PlayResult {
            init_events,
            last_exit,
            logs,
            pid_mode,
        },
    )
}

/// The host's address that containers on podman's bridge reach (the source address of its
/// default route).
fn host_address() -> String {
    let o = Command::new("ip")
        .args(["-4", "-o", "route", "get", "192.0.2.250"])
        .output()
        .unwrap();
    let text = stdout(&o);
    let mut words = text.split_whitespace();
    while let Some(w) = words.next() {
        if w == "src" {
            return words.next().unwrap().to_string();
        }
    }
    panic!("no source address in `ip route get`: {text}");
}

/// The neighbouring container, the collector image, the responder's key, and the `--dry-run`
/// arguments every test shares.
struct Setup {
    work: tempfile::TempDir,
    /// Unique per test (the process id and the test's label): names of images, pods, secrets.
    id: String,
    image: CollectorImage,
    _target_image: Image,
    target: Container,
    key: PathBuf,
    public: PathBuf,
    /// The key is encrypted with this passphrase (`keygen --passphrase`).
    passphrase: Option<&'static str>,
}

impl Setup {
    fn new(label: &str, passphrase: Option<&'static str>) -> Setup {
        let work = tempfile::tempdir().unwrap();
        let id = format!("{}-{label}", std::process::id());
        let image = CollectorImage::build(&format!("localhost/forensic-collector-play:{id}"));
        let target_image = Image::build(work.path(), &format!("play{id}"));
        // podman.rs's RUN_FLAGS: --runtime runc --ulimit nofile=1000:1000 --ulimit nproc=1000:1000.
        let target = Container::start(&target_image, &format!("forensic-e2e-play-target-{id}"));
        let keys = work.path().join("keys");
        std::fs::create_dir(&keys).unwrap();
        let (key, public) = match passphrase {
            None => keygen(&keys, "responder"),
            Some(p) => {
                let o = forensic()
                    .args([
                        "keygen",
                        "-o",
                        s(&keys.join("responder")),
                        "--passphrase",
                        "--passphrase-env",
                        "E2E_PASS",
                    ])
                    .env("E2E_PASS", p)
                    .output()
                    .unwrap();
                assert_eq!(code(&o), 0, "{}", stderr(&o));
                (keys.join("responder.key"), keys.join("responder.pub"))
            }
        };
        Setup {
            work,
            id,
            image,
            _target_image: target_image,
            target,
            key,
            public,
            passphrase,
        }
    }

    /// `forensic k8s collect --dry-run` for the target by its PID on this host; the one Job.
    fn job(&self, extra: &[&str]) -> Value {
        let pid = self.target.pid().to_string();
        let name = format!("forensic-play-{}", self.id);
        let secret = format!("forensic-signing-key-{}", self.id);
        let mut args = vec![
            "k8s",
            "collect",
            "--pod",
            "web",
            "-n",
            "shop",
            "--container",
            "web",
            "--pid",
            &pid,
            "--node",
            "node-play",
            "--dry-run",
            "--image",
            &self.image.tag,
            "--key-secret",
            &secret,
            "--runtime-state",
            "/var/lib/containers",
            "--name",
            &name,
            "--case",
            "E2E-PLAY",
            "--actor",
            "responder",
        ];
        args.extend_from_slice(extra);
        let o = run(&args);
        assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
        let docs = documents(&stdout(&o));
        assert_eq!(docs.len(), 1, "{}", stdout(&o));
        docs.into_iter().next().unwrap()
    }

    fn key_secret(&self) -> PodmanSecret {
        key_secret(
            self.work.path(),
            &format!("forensic-signing-key-{}", self.id),
            &self.key,
            self.passphrase,
        )
    }

    /// The bundle verifies on the host, signed by the responder, and is the target's.
    fn check_bundle(&self, bundle: &Path) {
        let v = run(&["verify", s(bundle), "--trust", s(&self.public)]);
        assert_eq!(code(&v), 0, "{}{}", stdout(&v), stderr(&v));
        let summary = json(&run(&[
            "show",
            s(bundle),
            "summary",
            "--json",
            "--trust",
            s(&self.public),
        ]));
        assert_eq!(summary["verified"], true, "{summary}");
        assert_eq!(summary["case"]["case_id"], "E2E-PLAY", "{summary}");
        assert_eq!(summary["target"]["pid"], self.target.pid(), "{summary}");
        assert_eq!(summary["target"]["node"], "node-play", "{summary}");
        // The target's one process (sleep), not the collector's.
        assert_eq!(summary["counts"]["processes"], 1, "{summary}");
        // Sealed with the key from the Secret: encrypted when the Secret held its passphrase.
        let log = json(&run(&["custody", "log", s(bundle), "--json"]));
        assert_eq!(
            log["entries"][0]["key_store"]["encrypted"],
            self.passphrase.is_some(),
            "{log}"
        );
    }
}

#[test]
fn k8s_job_pod_template_under_kube_play_collects_a_neighbour_into_a_node_directory() {
    // The signing key is encrypted: its passphrase is in the same Secret (--key-passphrase).
    let setup = Setup::new("node", Some("play passphrase 7"));
    let evidence = setup.work.path().join("node/bundles");
    let job = setup.job(&["--to-node-path", s(&evidence), "--key-passphrase"]);
    let _secret = setup.key_secret();
    let (_played, r) = play(setup.work.path(), &job);
    r.check();
    // The hostPath directory (DirectoryOrCreate) holds the one bundle, named by the Job.
    let name = format!("forensic-play-{}_shop_web_web.zip", setup.id);
    let listed: Vec<String> = std::fs::read_dir(&evidence)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(listed, std::slice::from_ref(&name), "{}", r.logs);
    assert!(r.logs.contains("\"verified\":true"), "{}", r.logs);
    setup.check_bundle(&evidence.join(name));
}

#[test]
fn k8s_job_pod_template_under_kube_play_deposits_in_s3_under_object_lock() {
    let setup = Setup::new("s3", None);
    let weed = Weed::start_on(&host_address());
    weed.bucket("evidence", true);
    let spool = setup.work.path().join("node/spool");
    let s3_secret = format!("forensic-s3-{}", setup.id);
    let ep = weed.endpoint();
    let job = setup.job(&[
        "--to",
        "s3://evidence/cases/play",
        "--retain-until",
        "2099-01-01",
        "--endpoint",
        &ep,
        "--region",
        "us-east-1",
        "--s3-secret",
        &s3_secret,
        "--spool",
        s(&spool),
    ]);
    let _key = setup.key_secret();
    let _s3 = PodmanSecret::create(
        setup.work.path(),
        &s3_secret,
        &json!({"AWS_ACCESS_KEY_ID": base64(KEY_ID.as_bytes()), "AWS_SECRET_ACCESS_KEY": base64(SECRET.as_bytes())}),
    );
    let (_played, r) = play(setup.work.path(), &job);
    r.check();

    // In the bucket: one object version under the prefix, locked COMPLIANCE until 2099-01-01.
    let key = format!("cases/play/forensic-play-{}_shop_web_web.zip", setup.id);
    let c = weed.client();
    let listed = rt()
        .block_on(c.list_object_versions().bucket("evidence").send())
        .unwrap();
    let versions: Vec<(String, String)> = listed
        .versions()
        .iter()
        .map(|v| (v.key().unwrap().to_string(), v.version_id().unwrap().to_string()))
        .collect();
    assert_eq!(versions.len(), 1, "{versions:?}\n{}", r.logs);
    assert_eq!(versions[0].0, key);
    let head = rt()
        .block_on(c.head_object().bucket("evidence").key(&key).send())
        .unwrap();
    assert_eq!(
        head.object_lock_mode().map(|m| m.as_str()),
        Some("COMPLIANCE"),
        "{head:?}"
    );
    assert_eq!(
        head.object_lock_retain_until_date().map(|d| d.secs()),
        Some(4_070_908_800),
        "2099-01-01T00:00:00Z: {head:?}"
    );

    // In the lab: archive get of that version verifies, and so does the copy.
    let copy = setup.work.path().join("copy.zip");
    let from = format!("s3://evidence/{key}?versionId={}", versions[0].1);
    let o = forensic()
        .args(["archive", "get", &from, "-o", s(&copy), "--endpoint", &ep, "--json"])
        .args(["--trust", s(&setup.public)])
        .env("AWS_ACCESS_KEY_ID", KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "get: {}{}", stdout(&o), stderr(&o));
    assert_eq!(json(&o)["verified"], true);
    setup.check_bundle(&copy);
    // The archive step's log names the deposit; the spool keeps the bundle on the node.
    assert!(r.logs.contains(&versions[0].1), "{}", r.logs);
    assert!(
        spool
            .join(format!("forensic-play-{}_shop_web_web.zip", setup.id))
            .exists()
    );
}
