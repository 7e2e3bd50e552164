//! Issue 15, Kubernetes: `forensic k8s collect` and `hunt`.
//!
//! No Kubernetes API server runs here, so: the manifests are checked against the Kubernetes
//! OpenAPI schema by an independent validator (`kubernetes-validate`, Python); the API calls are
//! made against a fake API server on 127.0.0.1 that records method, path, token and body and
//! answers as a cluster would (and as a broken one would), asserted exactly; and the Job's pod
//! template runs under `podman kube play` (tests/e2e/k8s_play.rs).

use crate::util::*;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// One recorded call: method, path (with query), Authorization header, body.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub auth: String,
    pub body: Option<Value>,
}

type Handler = dyn Fn(&str, &str) -> (u16, String) + Send + Sync;

/// A fake API server: answers every request with `handler(method, path)`, records it.
pub struct FakeApi {
    pub port: u16,
    pub calls: Arc<Mutex<Vec<Call>>>,
}

impl FakeApi {
    pub fn start(handler: Box<Handler>) -> FakeApi {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let calls = Arc::new(Mutex::new(Vec::new()));
        let (rec, handler) = (calls.clone(), Arc::new(handler));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let (rec, handler) = (rec.clone(), handler.clone());
                std::thread::spawn(move || {
                    let mut r = BufReader::new(conn.try_clone().unwrap());
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut parts = line.split_whitespace();
                    let (method, path) = (parts.next().unwrap().to_string(), parts.next().unwrap().to_string());
                    let (mut len, mut auth) = (0usize, String::new());
                    loop {
                        let mut h = String::new();
                        r.read_line(&mut h).unwrap();
                        let h = h.trim_end();
                        if h.is_empty() {
                            break;
                        }
                        let (k, v) = h.split_once(':').unwrap();
                        match k.to_ascii_lowercase().as_str() {
                            "content-length" => len = v.trim().parse().unwrap(),
                            "authorization" => auth = v.trim().to_string(),
                            _ => {}
                        }
                    }
                    let mut body = vec![0; len];
                    r.read_exact(&mut body).unwrap();
                    let body = (len > 0).then(|| serde_json::from_slice(&body).unwrap());
                    rec.lock().unwrap().push(Call {
                        method: method.clone(),
                        path: path.clone(),
                        auth,
                        body,
                    });
                    let (status, text) = handler(&method, &path);
                    let mut w = conn;
                    let _ = write!(
                        w,
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                        text.len()
                    );
                });
            }
        });
        FakeApi { port, calls }
    }

    /// `METHOD PATH` of every call so far.
    pub fn lines(&self) -> Vec<String> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .map(|c| format!("{} {}", c.method, c.path))
            .collect()
    }

    /// Writes a kubeconfig for this server with a bearer token.
    pub fn kubeconfig(&self, dir: &Path) -> std::path::PathBuf {
        let p = dir.join("kubeconfig");
        std::fs::write(
            &p,
            format!(
                "apiVersion: v1\nkind: Config\ncurrent-context: ir\nclusters:\n- name: fake\n  cluster:\n    server: http://127.0.0.1:{}\ncontexts:\n- name: ir\n  context:\n    cluster: fake\n    user: responder\nusers:\n- name: responder\n  user:\n    token: t0k3n\n",
                self.port
            ),
        )
        .unwrap();
        p
    }
}

/// The documents of a YAML stream of JSON documents (`---` before each).
pub fn documents(stream: &str) -> Vec<Value> {
    stream
        .split("---\n")
        .filter(|d| !d.trim().is_empty())
        .map(|d| serde_json::from_str(d).unwrap_or_else(|e| panic!("{e}: {d}")))
        .collect()
}

/// `kubernetes-validate --strict` of `text` (Kubernetes 1.37's OpenAPI schema, offline): the
/// kinds and names it passed.
pub fn validate(dir: &Path, text: &str) -> Vec<String> {
    let f = dir.join(format!("manifests-{}.yaml", text.len()));
    std::fs::write(&f, text).unwrap();
    let o = std::process::Command::new("kubernetes-validate")
        .args(["--strict", "--no-warn", s(&f)])
        .output()
        .expect("kubernetes-validate runs (.ci/run installs it)");
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    stdout(&o)
        .lines()
        .map(|l| {
            let (_, rest) = l.split_once(" passed for resource ").unwrap_or_else(|| panic!("{l}"));
            rest.split_once(" against").unwrap().0.to_string()
        })
        .collect()
}

const DRY: [&str; 10] = [
    "--pod",
    "pod-name",
    "-n",
    "pod-namespace",
    "--container",
    "container-name",
    "--node",
    "node-name",
    "--name",
    "forensic-case",
];

#[test]
fn collect_dry_run_validates_and_deploy_files_are_its_output() {
    let dir = tempfile::tempdir().unwrap();
    let common = [
        &["k8s", "collect", "--dry-run"][..],
        &DRY,
        &["--case", "CASE", "--actor", "responder"],
    ]
    .concat();
    let node = run(&common);
    assert_eq!(code(&node), 0, "{}", stderr(&node));
    let s3_args = [
        &common[..],
        &[
            "--to",
            "s3://evidence-bucket/cases",
            "--retain-until",
            "2030-01-01",
            "--s3-secret",
            "forensic-s3",
        ],
    ]
    .concat();
    let s3 = run(&s3_args);
    assert_eq!(code(&s3), 0, "{}", stderr(&s3));
    // deploy/ is this output, so it cannot drift.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    assert_eq!(
        std::fs::read_to_string(repo.join("deploy/job-collect.yaml")).unwrap(),
        stdout(&node)
    );
    assert_eq!(
        std::fs::read_to_string(repo.join("deploy/job-collect-s3.yaml")).unwrap(),
        stdout(&s3)
    );
    assert_eq!(validate(dir.path(), &stdout(&node)), ["job/forensic-case"]);
    assert_eq!(validate(dir.path(), &stdout(&s3)), ["job/forensic-case"]);
    let rbac = std::fs::read_to_string(repo.join("deploy/rbac.yaml")).unwrap();
    assert_eq!(
        validate(dir.path(), &rbac),
        [
            "namespace/forensic",
            "serviceaccount/forensic-collector",
            "clusterrole/forensic-responder",
            "role/forensic-responder-jobs",
            "clusterrolebinding/forensic-responder-binding",
            "rolebinding/forensic-responder-jobs"
        ]
    );

    let job = &documents(&stdout(&s3))[0];
    assert_eq!(job["spec"]["backoffLimit"], 0);
    assert_eq!(job["spec"]["activeDeadlineSeconds"], 1800);
    assert_eq!(job["spec"]["ttlSecondsAfterFinished"], 86400);
    let pod = &job["spec"]["template"]["spec"];
    assert_eq!(pod["nodeName"], "node-name");
    assert_eq!(pod["hostPID"], true);
    assert_eq!(pod["automountServiceAccountToken"], false);
    let collect = &pod["initContainers"][0];
    assert_eq!(collect["name"], "collect-0");
    assert_eq!(collect["securityContext"], json!({"privileged": true}));
    let mounts: Vec<String> = collect["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| format!("{} {}", m["mountPath"].as_str().unwrap(), m["readOnly"] == true))
        .collect();
    assert_eq!(
        mounts,
        [
            "/keys true",
            "/evidence false",
            "/run true",
            "/var/log true",
            "/var/lib/containerd true"
        ]
    );
    let archive = &pod["containers"][0];
    assert_eq!(archive["name"], "archive-0");
    assert_eq!(archive["securityContext"]["privileged"], false);
    assert_eq!(
        archive["env"],
        json!([
            {"name": "AWS_ACCESS_KEY_ID", "valueFrom": {"secretKeyRef": {"name": "forensic-s3", "key": "AWS_ACCESS_KEY_ID"}}},
            {"name": "AWS_SECRET_ACCESS_KEY", "valueFrom": {"secretKeyRef": {"name": "forensic-s3", "key": "AWS_SECRET_ACCESS_KEY"}}}
        ])
    );
    // No literal secret anywhere: no env value but references, the key from a Secret volume.
    assert!(!stdout(&s3).contains("\"value\""));
    assert_eq!(pod["volumes"][0]["secret"]["secretName"], "forensic-signing-key");
}

/// A pod on `node` with `containers`.
fn pod(name: &str, node: &str, containers: &[&str]) -> Value {
    json!({"metadata": {"name": name, "namespace": "shop", "labels": {"app": "web"}},
        "spec": {"nodeName": node, "containers": containers.iter().map(|c| json!({"name": c, "image": "x"})).collect::<Vec<_>>()}})
}

const MANIFEST: &str = "1111111111111111111111111111111111111111111111111111111111111111";
const HEAD: &str = "2222222222222222222222222222222222222222222222222222222222222222";

/// The answers of a cluster where every Job succeeds, except the collection steps named in
/// `failing` (exit 2, with a termination message).
fn cluster(failing: &'static [&'static str]) -> Box<Handler> {
    Box::new(move |method, path| {
        let ok = |v: Value| (200, v.to_string());
        match (method, path) {
            ("GET", "/api/v1/namespaces/shop/pods/web-7d9f") => ok(pod("web-7d9f", "node-1", &["web", "sidecar"])),
            ("GET", "/apis/apps/v1/namespaces/shop/deployments/web") => {
                ok(json!({"spec": {"selector": {"matchLabels": {"app": "web"}}}}))
            }
            ("GET", "/api/v1/namespaces/shop/pods?labelSelector=app%3Dweb") => ok(json!({"items": [
                pod("web-a", "node-2", &["web"]), pod("web-b", "node-1", &["web"]), pod("web-c", "node-2", &["web"])]})),
            ("POST", "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies") => ok(json!({})),
            ("POST", "/apis/batch/v1/namespaces/forensic/jobs") => ok(json!({})),
            ("GET", p) if p.starts_with("/apis/batch/v1/namespaces/forensic/jobs/") => {
                let name = p.rsplit('/').next().unwrap();
                let failed = failing.iter().any(|f| f.starts_with(name));
                ok(json!({"status": if failed { json!({"failed": 1}) } else { json!({"succeeded": 1}) }}))
            }
            ("GET", p) if p.starts_with("/api/v1/namespaces/forensic/pods?labelSelector=job-name%3D") => {
                let job = p.rsplit("%3D").next().unwrap();
                let steps = ["collect-0", "collect-1", "verify-0", "verify-1"];
                // Steps run in order: those after a failed one never start.
                let first_failed = steps
                    .iter()
                    .position(|s| failing.contains(&format!("{job}/{s}").as_str()));
                let status = |s: &str| {
                    let i = steps.iter().position(|x| *x == s).unwrap();
                    if first_failed == Some(i) {
                        json!({"name": s, "state": {"terminated": {"exitCode": 2, "message": "forensic: error: no container web"}}})
                    } else if first_failed.is_some_and(|f| i > f) {
                        json!({"name": s, "state": {"waiting": {"reason": "PodInitializing"}}})
                    } else {
                        json!({"name": s, "state": {"terminated": {"exitCode": 0}}})
                    }
                };
                ok(json!({"items": [{"metadata": {"name": format!("{job}-x7k2p")},
                    "status": {"initContainerStatuses": steps.iter().map(|s| status(s)).collect::<Vec<_>>()}}]}))
            }
            ("GET", p) if p.contains("/log?container=collect-") => (
                200,
                format!(
                    "forensic: warning: private key /keys/signing.key is readable by group or others\n{}\n",
                    json!({"bundle": "/evidence/x.zip", "manifest_sha256": MANIFEST})
                ),
            ),
            ("GET", p) if p.contains("/log?container=verify-") => {
                ok(json!({"verified": true, "manifest_sha256": MANIFEST, "custody_head_sha256": HEAD}))
            }
            _ => (
                404,
                json!({"kind": "Status", "message": format!("no route {method} {path}")}).to_string(),
            ),
        }
    })
}

#[test]
fn collect_creates_one_job_on_the_pods_node_and_reports_each_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let api = FakeApi::start(cluster(&[]));
    let kc = api.kubeconfig(dir.path());
    let args = [
        "--pod",
        "web-7d9f",
        "-n",
        "shop",
        "--name",
        "forensic-t",
        "--actor",
        "r",
        "--kubeconfig",
        s(&kc),
    ];
    let dry = run(&[&["k8s", "collect", "--dry-run"][..], &args].concat());
    assert_eq!(code(&dry), 0, "{}", stderr(&dry));
    assert_eq!(api.lines(), ["GET /api/v1/namespaces/shop/pods/web-7d9f"]);
    assert_eq!(validate(dir.path(), &stdout(&dry)), ["job/forensic-t"]);
    api.calls.lock().unwrap().clear();

    let o = run(&[&["k8s", "collect", "--json", "--poll", "0s"][..], &args].concat());
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let pods = "/api/v1/namespaces/forensic/pods";
    assert_eq!(
        api.lines(),
        [
            "GET /api/v1/namespaces/shop/pods/web-7d9f".to_string(),
            "POST /apis/batch/v1/namespaces/forensic/jobs".into(),
            "GET /apis/batch/v1/namespaces/forensic/jobs/forensic-t".into(),
            format!("GET {pods}?labelSelector=job-name%3Dforensic-t"),
            format!("GET {pods}/forensic-t-x7k2p/log?container=collect-0"),
            format!("GET {pods}/forensic-t-x7k2p/log?container=verify-0"),
            format!("GET {pods}/forensic-t-x7k2p/log?container=collect-1"),
            format!("GET {pods}/forensic-t-x7k2p/log?container=verify-1"),
        ]
    );
    let calls = api.calls.lock().unwrap().clone();
    assert!(calls.iter().all(|c| c.auth == "Bearer t0k3n"), "{calls:?}");
    // The Job posted is the one --dry-run printed.
    assert_eq!(calls[1].body.as_ref().unwrap(), &documents(&stdout(&dry))[0]);
    let bundle = |c: &str| {
        json!({"namespace": "shop", "pod": "web-7d9f", "container": c, "node": "node-1", "job": "forensic-t",
            "location": format!("node-1:/var/lib/forensic/bundles/forensic-t_shop_web-7d9f_{c}.zip"),
            "manifest_sha256": MANIFEST, "custody_head_sha256": HEAD})
    };
    assert_eq!(
        json(&o),
        json!({"jobs": ["forensic-t"], "isolation": null, "collected": [bundle("web"), bundle("sidecar")], "not_scheduled": []})
    );
}

#[test]
fn hunt_isolates_then_collects_per_node_and_names_what_failed() {
    let dir = tempfile::tempdir().unwrap();
    let api = FakeApi::start(cluster(&["forensic-h-1/collect-0"]));
    let kc = api.kubeconfig(dir.path());
    let args = [
        "k8s",
        "hunt",
        "--deployment",
        "web",
        "-n",
        "shop",
        "--isolate",
        "--name",
        "forensic-h",
        "--kubeconfig",
        s(&kc),
    ];
    let dry = run(&[&args[..], &["--dry-run"]].concat());
    assert_eq!(code(&dry), 0, "{}", stderr(&dry));
    assert_eq!(
        validate(dir.path(), &stdout(&dry)),
        [
            "networkpolicy/forensic-isolate-forensic-h",
            "job/forensic-h-0",
            "job/forensic-h-1"
        ]
    );
    // Reads only: nothing created by --dry-run.
    assert_eq!(
        api.lines(),
        [
            "GET /apis/apps/v1/namespaces/shop/deployments/web",
            "GET /api/v1/namespaces/shop/pods?labelSelector=app%3Dweb"
        ]
    );
    let docs = documents(&stdout(&dry));
    assert_eq!(
        docs[0]["spec"],
        json!({"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress", "Egress"]})
    );
    // node-1 holds web-b, node-2 web-a and web-c: one Job per node.
    let targets = |d: &Value| -> Vec<String> {
        d["spec"]["template"]["spec"]["initContainers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["args"][0] == "collect")
            .map(|c| {
                format!(
                    "{} {}",
                    d["spec"]["template"]["spec"]["nodeName"].as_str().unwrap(),
                    c["args"][2].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(targets(&docs[1]), ["node-1 web-b"]);
    assert_eq!(targets(&docs[2]), ["node-2 web-a", "node-2 web-c"]);
    api.calls.lock().unwrap().clear();

    let o = run(&[&args[..], &["--poll", "0s"]].concat());
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    let lines = api.lines();
    assert_eq!(
        lines[..5],
        [
            "GET /apis/apps/v1/namespaces/shop/deployments/web",
            "GET /api/v1/namespaces/shop/pods?labelSelector=app%3Dweb",
            "POST /apis/networking.k8s.io/v1/namespaces/shop/networkpolicies",
            "POST /apis/batch/v1/namespaces/forensic/jobs",
            "POST /apis/batch/v1/namespaces/forensic/jobs",
        ]
    );
    let calls = api.calls.lock().unwrap().clone();
    assert_eq!(calls[2].body.as_ref().unwrap(), &docs[0]);
    assert_eq!(calls[3].body.as_ref().unwrap(), &docs[1]);
    assert_eq!(calls[4].body.as_ref().unwrap(), &docs[2]);
    assert!(
        !lines
            .iter()
            .any(|l| l.starts_with("DELETE") || l.starts_with("PATCH") || l.starts_with("PUT"))
    );
    let loc = |n: &str, p: &str| {
        format!(
            "  bundle    {n}:/var/lib/forensic/bundles/forensic-h-{}_shop_{p}_web.zip",
            &n[5..].parse::<u8>().unwrap() - 1
        )
    };
    assert_eq!(
        stdout(&o),
        format!(
            "isolated by NetworkPolicy forensic-isolate-forensic-h\n\
collected shop/web-b/web on node-1 (Job forensic-h-0)\n{}\n  manifest  sha256 {MANIFEST}\n  custody   head {HEAD}\n\
NOT collected shop/web-a/web on node-2 (Job forensic-h-1): step collect-0 exited 2: forensic: error: no container web\n\
NOT collected shop/web-c/web on node-2 (Job forensic-h-1): step collect-1 did not run to its end (an earlier step failed, or the Job's deadline passed)\n\
1 collected, 2 not\n",
            loc("node-1", "web-b")
        )
    );
}

#[test]
fn a_broken_api_server_is_a_clear_error_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(Box<Handler>, &str); 3] = [
        (
            Box::new(|_, _| {
                (
                    500,
                    json!({"kind": "Status", "message": "etcdserver: request timed out"}).to_string(),
                )
            }),
            "forensic: error: GET /api/v1/namespaces/shop/pods/web-7d9f: HTTP 500: etcdserver: request timed out\n",
        ),
        (
            Box::new(|_, _| (200, "<html>proxy</html>".into())),
            "forensic: error: GET /api/v1/namespaces/shop/pods/web-7d9f: unexpected answer: not JSON: expected value at line 1 column 1\n",
        ),
        (
            Box::new(|_, _| (200, json!({"spec": {"containers": [{"name": "web"}]}}).to_string())),
            "forensic: error: pod shop/web-7d9f is not on a node (not scheduled)\n",
        ),
    ];
    for (handler, want) in cases {
        let api = FakeApi::start(handler);
        let kc = api.kubeconfig(dir.path());
        let o = run(&[
            "k8s",
            "collect",
            "--pod",
            "web-7d9f",
            "-n",
            "shop",
            "--kubeconfig",
            s(&kc),
        ]);
        assert_eq!(code(&o), 2);
        assert_eq!(stderr(&o), want);
        assert_eq!(stdout(&o), "");
    }
    // A Job that fails: nothing collected, each container named with why; exit 2.
    let api = FakeApi::start(cluster(&["forensic-f/collect-0"]));
    let kc = api.kubeconfig(dir.path());
    let o = run(&[
        "k8s",
        "collect",
        "--pod",
        "web-7d9f",
        "-n",
        "shop",
        "--container",
        "web",
        "--name",
        "forensic-f",
        "--poll",
        "0s",
        "--kubeconfig",
        s(&kc),
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "NOT collected shop/web-7d9f/web on node-1 (Job forensic-f): step collect-0 exited 2: forensic: error: no container web\n0 collected, 1 not\n"
    );
    // An unsupported kubeconfig is named.
    std::fs::write(dir.path().join("kubeconfig"), "current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\nclusters: [{name: c, cluster: {server: 'https://10.0.0.1'}}]\nusers: [{name: u, user: {token: t}}]\n").unwrap();
    let o = run(&[
        "k8s",
        "collect",
        "--pod",
        "p",
        "--kubeconfig",
        s(&dir.path().join("kubeconfig")),
    ]);
    assert_eq!(code(&o), 2);
    assert_eq!(
        stderr(&o),
        format!(
            "forensic: error: kubeconfig {}: cluster \"c\": https without certificate-authority(-data) is not supported\n",
            dir.path().join("kubeconfig").display()
        )
    );
}
