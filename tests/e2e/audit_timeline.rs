//! `forensic timeline` and `forensic audit` read a bundle's Kubernetes audit log with one reader:
//! for every real audit-log sample, the timeline's audit events are exactly the requests
//! `forensic audit BUNDLE requests` reports (wrapped AKS records included, stages merged).

use crate::util::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// What both commands say about one request: time (ns since the epoch), verb, user, resource,
/// subresource, namespace, name, response code, stage shown, and where it is (`MEMBER line N`).
type Request = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    String,
);

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

/// A sealed checklist bundle whose audit section holds `log` as `7-audit/audit.log`.
fn bundle_with_log(root: &Path, log: &Path) -> PathBuf {
    let dir = checklist_dir(root);
    write(&dir, "audit.log", &std::fs::read(log).unwrap());
    let (key, _) = keygen(root, "responder");
    let out = root.join("case.zip");
    let o = seal(&dir, &out, &key, &[]);
    assert_eq!(code(&o), 0, "seal: {}{}", stdout(&o), stderr(&o));
    out
}

/// The audit events of `forensic timeline --format jsonl`.
fn timeline_requests(bundle: &Path) -> Vec<Request> {
    let o = run(&["timeline", s(bundle), "--format", "jsonl"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    stdout(&o)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["source"] == "audit")
        .map(|e| {
            let d = &e["detail"];
            (
                e["time_ns"].as_i64().unwrap(),
                text(&e["kind"]).unwrap(),
                text(&d["user"]).unwrap(),
                text(&d["resource"]),
                text(&d["subresource"]),
                text(&d["namespace"]),
                text(&d["name"]),
                d["code"].as_i64(),
                text(&d["stage"]),
                text(&e["evidence"]).unwrap(),
            )
        })
        .collect()
}

/// The results of `forensic audit BUNDLE requests --json`, and the report's `stats`.
fn audit_requests(bundle: &Path) -> (Vec<Request>, Value) {
    let o = run(&["audit", s(bundle), "requests", "--json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let report = json(&o);
    let requests = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let time = chrono::DateTime::parse_from_rfc3339(m["time"].as_str().unwrap()).unwrap();
            let input = &report["inputs"][m["input"].as_u64().unwrap() as usize];
            (
                time.timestamp_nanos_opt().unwrap(),
                text(&m["verb"]).unwrap(),
                text(&m["user"]["username"]).unwrap(),
                text(&m["resource"]),
                text(&m["subresource"]),
                text(&m["namespace"]),
                text(&m["name"]),
                m["code"].as_i64(),
                text(&m["stage"]),
                format!("{} line {}", input["name"].as_str().unwrap(), m["line"]),
            )
        })
        .collect();
    (requests, report["stats"].clone())
}

#[test]
fn the_timeline_shows_the_requests_forensic_audit_reports_for_every_sample() {
    let mut logs: Vec<PathBuf> = std::fs::read_dir(sample("k8s-audit"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    logs.sort();
    let mut seen = Vec::new();
    for log in &logs {
        let name = log.file_name().unwrap().to_str().unwrap().to_string();
        let tmp = tempfile::tempdir().unwrap();
        let bundle = bundle_with_log(tmp.path(), log);
        let (from_audit, stats) = audit_requests(&bundle);
        let from_timeline = timeline_requests(&bundle);
        assert_eq!(from_timeline, from_audit, "{name}");
        seen.push((
            name,
            stats["events"].as_u64().unwrap(),
            from_timeline.len(),
            stats["wrapped"]
                .as_object()
                .unwrap()
                .values()
                .filter_map(Value::as_u64)
                .sum::<u64>(),
        ));
    }
    let want = |n: &str, events: u64, requests: usize, wrapped: u64| (n.to_string(), events, requests, wrapped);
    assert_eq!(
        seen,
        [
            // (sample, events read, requests shown by both, events found inside a wrapper)
            want("elastic-test-audit.log", 4, 3, 1),
            want("elastic-test-kube-audit-aks-wrapped.log", 1, 1, 1),
            want("falco-create_clusterrolebinding.json", 1, 1, 0),
            want("falco-create_secret.json", 1, 1, 0),
            want("falco-exec_pod.json", 1, 1, 0),
        ]
    );
}

#[test]
fn an_aks_wrapped_record_is_in_the_timeline_as_forensic_audit_sees_it() {
    let tmp = tempfile::tempdir().unwrap();
    let bundle = bundle_with_log(tmp.path(), &sample("k8s-audit/elastic-test-kube-audit-aks-wrapped.log"));
    let o = run(&["timeline", s(&bundle)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    let audit: Vec<&str> = out.lines().filter(|l| l.contains("  audit  ")).collect();
    assert_eq!(
        audit,
        [
            "2025-10-07T16:19:19.643609000Z  audit      update       update leases kube-system/kubelet-serving-csr-approver by aksService from 172.31.51.172 → 200 (ResponseComplete)  [7-audit/audit.log line 1]"
        ]
    );
    let o = run(&["audit", s(&bundle), "requests"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    let rows: Vec<Vec<&str>> = out
        .lines()
        .skip_while(|l| !l.starts_with("TIME"))
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows,
        [
            vec!["TIME", "VERB", "RESOURCE", "OBJECT", "USER", "SOURCE", "IP", "CODE"],
            vec![
                "2025-10-07T16:19:19.643609Z",
                "update",
                "leases",
                "kube-system/kubelet-serving-csr-approver",
                "aksService",
                "172.31.51.172",
                "200"
            ],
        ],
        "{out}"
    );
}
