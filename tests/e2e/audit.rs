//! `audit`: the checklist's audit-log questions, answered from the real captured samples, as a
//! file, through a pipe, and from a sealed bundle (verified, tampered, forced).

use crate::util::*;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// An audit-log sample, `shared/samples/k8s-audit/<name>`.
fn audit_sample(name: &str) -> PathBuf {
    sample(&format!("k8s-audit/{name}"))
}

/// The five samples, one after another, in name order (what `cat k8s-audit/*` gives).
fn all_samples() -> Vec<u8> {
    let mut names: Vec<_> = std::fs::read_dir(audit_sample(""))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    names.iter().flat_map(|p| std::fs::read(p).unwrap()).collect()
}

#[test]
fn who_execd_what_into_which_pod_as_a_table() {
    let path = audit_sample("falco-exec_pod.json");
    let o = run(&["audit", s(&path), "exec"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let expected = format!(
        "exec/attach sessions (every namespace)
TIME                         POD                                        CONTAINER  USER           SOURCE IP     CODE  SESSION   COMMAND
2018-10-26T13:38:34.867116Z  default/nginx-deployment-7998647bdf-phvq7  nginx1     minikube-user  192.168.99.1  101   exec -it  bash

source   {p} (file)
input    {p}: JSON lines, 871 bytes, SHA-256 56ff2b96b885f633fe35bb7273950e92d3f414cfd03bf7e1a02a7e3e20bc1a7f
read     1 line, 1 record, 1 event (without apiVersion 1)
matched  1 request in 1 event (0 merged into another stage of the same request)
skipped  0 records
",
        p = path.display()
    );
    assert_eq!(stdout(&o), expected);
}

#[test]
fn the_mixed_log_lists_the_skipped_gke_record() {
    let path = audit_sample("elastic-test-audit.log");
    let o = run(&["audit", s(&path), "timeline", "--pod", "my-pod", "-n", "default"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let expected = format!(
        "Timeline of pod my-pod (namespace default)
TIME                         VERB  RESOURCE  NAMESPACE  USER                                    SOURCE IP    CODE
2025-03-04T06:22:18.819232Z  get   pods      default    system:serviceaccounts:default:default  67.43.156.1  200

source   {p} (file)
input    {p}: JSON lines, 5061 bytes, SHA-256 98a4ba6b0f343006de4599dd97d8e03ee2cf1eafa51e7d611f08ac790f5b63e7
read     5 lines, 5 records, 4 events (audit.k8s.io/v1 4); wrapped: properties.log 1
matched  1 request in 1 event (0 merged into another stage of the same request)
skipped  1 record: gke-cloud-audit 1
  line 4: gke-cloud-audit: a GKE Cloud Audit Logging record (protoPayload), not a Kubernetes audit Event
",
        p = path.display()
    );
    assert_eq!(stdout(&o), expected);
    // No match is not a failure.
    let o = run(&["audit", s(&path), "timeline", "--pod", "my-pod", "-n", "kube-system"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("  no matching requests\n"), "{}", stdout(&o));
}

#[test]
fn which_clusterrolebinding_was_created_by_whom_as_json() {
    let o = run(&[
        "audit",
        s(&audit_sample("falco-create_clusterrolebinding.json")),
        "rbac",
        "--json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["schema"], "forensic-audit/1");
    assert_eq!(v["query"]["name"], "rbac");
    assert_eq!(v["results"].as_array().unwrap().len(), 1);
    let m = &v["results"][0];
    assert_eq!(m["verb"], "create");
    assert_eq!(m["name"], "some-reader-binding");
    assert_eq!(m["user"]["username"], "minikube-user");
    assert_eq!(
        m["user"]["groups"],
        serde_json::json!(["system:masters", "system:authenticated"])
    );
    assert_eq!(m["source_ips"], serde_json::json!(["192.168.99.1"]));
    assert_eq!(m["code"], 201);
    assert_eq!(m["time"], "2018-10-26T13:25:18.279128Z");
    assert_eq!(
        m["rbac"],
        serde_json::json!({
            "kind": "ClusterRoleBinding", "object": "responseObject",
            "role_ref": {"kind": "ClusterRole", "name": "system:basic-user"},
            "subjects": [{"kind": "User", "name": "minikube", "namespace": null}],
            "rules": [], "flags": []
        })
    );
}

#[test]
fn a_cluster_admin_binding_is_flagged_and_a_gzip_pipe_is_read() {
    let text = std::fs::read_to_string(audit_sample("falco-create_clusterrolebinding.json"))
        .unwrap()
        .replace("system:basic-user", "cluster-admin");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let mut child = forensic()
        .args(["audit", "-", "rbac"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&gz).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().take(4).collect();
    assert_eq!(
        lines,
        [
            "RBAC changes (every namespace)",
            "TIME                         VERB    KIND                NAME                 USER           SOURCE IP     CODE  FLAGS          GRANTS",
            "2018-10-26T13:25:18.279128Z  create  ClusterRoleBinding  some-reader-binding  minikube-user  192.168.99.1  201   CLUSTER-ADMIN  ClusterRole cluster-admin -> User minikube",
            "  flagged: 2018-10-26T13:25:18.279128Z create some-reader-binding by minikube-user: binds ClusterRole cluster-admin to User minikube",
        ]
    );
    assert!(out.contains("input    -: gzip, JSON lines, "), "{out}");
}

/// A sealed bundle of the checklist evidence plus `audit.log` (all samples), with its key.
fn audit_bundle(root: &Path) -> PathBuf {
    let dir = checklist_dir(root);
    write(&dir, "audit.log", &all_samples());
    let (key, _) = keygen(root, "responder");
    let out = root.join("case.zip");
    let o = seal(&dir, &out, &key, &["--case", "CASE-7"]);
    assert_eq!(code(&o), 0, "seal: {}{}", stdout(&o), stderr(&o));
    out
}

/// A ZIP of these members, written with the zip crate.
fn zip_of(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, content) in members {
        z.start_file(name.as_str(), stored).unwrap();
        z.write_all(content).unwrap();
    }
    z.finish().unwrap().into_inner()
}

/// The bundle rewritten with one member's content changed by `f`.
fn rewritten(bundle: &Path, member: &str, f: impl Fn(&mut Vec<u8>)) -> Vec<u8> {
    let mut m = contents(&std::fs::read(bundle).unwrap());
    let i = m.iter().position(|(n, _)| n == member).unwrap();
    f(&mut m[i].1);
    zip_of(&m)
}

#[test]
fn a_bundles_audit_log_is_queried_after_verification() {
    let tmp = tempfile::tempdir().unwrap();
    let bundle = audit_bundle(tmp.path());
    let o = run(&["audit", s(&bundle), "exec", "--json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["source"]["kind"], "bundle");
    assert_eq!(v["source"]["verified"], true);
    assert_eq!(v["source"]["forced"], false);
    let input = &v["inputs"][0];
    assert_eq!(input["name"], "7-audit/audit.log");
    assert_eq!(input["intact"], true);
    assert_eq!(input["bytes"], all_samples().len());
    assert_eq!(input["sha256"], input["expected_sha256"]);
    let m = &v["results"][0];
    assert_eq!(
        (
            m["user"]["username"].as_str(),
            m["name"].as_str(),
            m["exec"]["command"].clone(),
            m["line"].as_u64()
        ),
        (
            Some("minikube-user"),
            Some("nginx-deployment-7998647bdf-phvq7"),
            serde_json::json!(["bash"]),
            Some(10)
        )
    );
    assert_eq!(v["stats"]["skipped_records"][0]["reason"], "gke-cloud-audit");
    assert_eq!(v["stats"]["skipped_records"][0]["line"], 4);
    let o = run(&["audit", s(&bundle), "secrets"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o)
            .contains("input    7-audit/audit.log: JSON lines, 10666 bytes, SHA-256 matches the sealed manifest\n"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn an_altered_audit_log_is_refused_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let bundle = audit_bundle(tmp.path());
    // Same length, one byte changed, valid ZIP: only the sealed SHA-256 can tell.
    let bad = tmp.path().join("bad.zip");
    let bytes = rewritten(&bundle, "7-audit/audit.log", |c| {
        let at = c.windows(13).position(|w| w == b"minikube-user").unwrap();
        c[at] = b'M';
    });
    std::fs::write(&bad, bytes).unwrap();
    let o = run(&["audit", s(&bad), "exec"]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(o.stdout.is_empty());
    assert!(
        stderr(&o).contains("member 7-audit/audit.log read as 10666 bytes"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("refusing to show results from altered evidence"),
        "{}",
        stderr(&o)
    );
    let o = run(&["audit", s(&bad), "exec", "--force", "--json"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(
        (v["source"]["forced"].clone(), v["inputs"][0]["intact"].clone()),
        (true.into(), false.into())
    );
    let o = run(&["audit", s(&bad), "exec", "--force"]);
    assert_eq!(code(&o), 1);
    assert!(
        stdout(&o).starts_with("WARNING: this evidence does not check"),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("DIFFERS from the sealed manifest"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_bundle_that_does_not_verify_is_refused_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let bundle = audit_bundle(tmp.path());
    let bad = tmp.path().join("bad.zip");
    let bytes = rewritten(&bundle, "SHA256SUMS", |c| {
        let at = c.iter().position(|b| b.is_ascii_hexdigit()).unwrap();
        c[at] = if c[at] == b'0' { b'1' } else { b'0' };
    });
    std::fs::write(&bad, bytes).unwrap();
    let o = run(&["audit", s(&bad), "rbac"]);
    assert_eq!(code(&o), 1);
    assert!(o.stdout.is_empty());
    assert!(stderr(&o).contains("did not verify"), "{}", stderr(&o));
    assert!(stderr(&o).contains("sums-mismatch"), "{}", stderr(&o));
    let o = run(&["audit", s(&bad), "rbac", "--force", "--json"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["source"]["verified"], false);
    assert_eq!(v["source"]["forced"], true);
    assert_eq!(v["source"]["verification_failures"][0]["class"], "sums-mismatch");
    assert_eq!(v["inputs"][0]["intact"], true);
    assert_eq!(v["results"][0]["name"], "some-reader-binding");
}

#[test]
fn trouble_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    // A bundle with no audit log says so.
    let (bundle, _, _) = sealed_bundle(tmp.path());
    let o = run(&["audit", s(&bundle), "rbac"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("the bundle holds no Kubernetes audit log (section 7-audit is empty)"),
        "{}",
        stderr(&o)
    );
    // A missing file, a missing --pod, an empty filter.
    let o = run(&["audit", s(&tmp.path().join("nope.log")), "rbac"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("nope.log"), "{}", stderr(&o));
    let log = audit_sample("falco-exec_pod.json");
    assert_eq!(code(&run(&["audit", s(&log), "timeline"])), 2);
    let o = run(&["audit", s(&log), "secrets", "--user", ""]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--user must not be empty"), "{}", stderr(&o));
}

#[test]
fn terminal_escapes_in_the_log_are_shown_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(audit_sample("falco-exec_pod.json"))
        .unwrap()
        .replace("command=bash", "command=printf&command=%1B%5D0%3Bpwned%07%E2%80%AE");
    let log = tmp.path().join("audit.log");
    std::fs::write(&log, text).unwrap();
    let o = run(&["audit", s(&log), "exec"]);
    assert_eq!(code(&o), 0);
    let out = stdout(&o);
    assert!(
        !out.contains('\u{1b}') && !out.contains('\u{7}') && !out.contains('\u{202e}'),
        "{out:?}"
    );
    assert!(out.contains(r"exec -it  printf '\u{1b}]0;pwned\u{7}\u{202e}'"), "{out}");
}
