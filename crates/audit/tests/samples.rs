//! Queries over the real captured audit logs in shared/samples/k8s-audit/ (read-only; see
//! shared/samples/README.md for their origin and quirks), and over variants of them built here:
//! stage merging, gzip, JSON documents, broken lines, wrappers. Bundles: tests/bundle.rs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::*;

use forensic_audit::exec::ExecDetail;
use forensic_audit::rbac::{Flag, FlagKind, RbacDetail, RoleRef, Subject};
use forensic_audit::{
    AuditError, AuditReport, Collector, Compression, EventReader, Layout, Query, QueryKind, ScanLimits, SkipReason,
    Skipped, Source, SourceOptions, StageSeen, run_reader,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;

fn run_file(name: &str, q: &Query) -> AuditReport {
    let source = Source::open(&sample_path(name), &SourceOptions::default()).unwrap();
    assert!(source.verification().is_none());
    source.run(q, &ScanLimits::default()).unwrap()
}

fn map(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

/// (time, verb, user, source IPs, namespace/name, code) of every result.
fn summary(r: &AuditReport) -> Vec<(String, String, String, String, String, Option<i64>)> {
    r.results
        .iter()
        .map(|m| {
            (
                m.time.clone().unwrap_or_default(),
                m.verb.clone(),
                m.user.username.clone(),
                m.source_ips.join(","),
                format!(
                    "{}/{}",
                    m.namespace.as_deref().unwrap_or("-"),
                    m.name.as_deref().unwrap_or("-")
                ),
                m.code,
            )
        })
        .collect()
}

fn row(
    t: &str,
    verb: &str,
    user: &str,
    ip: &str,
    obj: &str,
    code: i64,
) -> (String, String, String, String, String, Option<i64>) {
    (t.into(), verb.into(), user.into(), ip.into(), obj.into(), Some(code))
}

#[test]
fn who_execd_what_into_which_pod() {
    let r = run_file("falco-exec_pod.json", &query(QueryKind::Exec));
    assert_eq!(
        summary(&r),
        [row(
            "2018-10-26T13:38:34.867116Z",
            "create",
            "minikube-user",
            "192.168.99.1",
            "default/nginx-deployment-7998647bdf-phvq7",
            101
        )]
    );
    let m = &r.results[0];
    assert_eq!(
        m.exec,
        Some(ExecDetail {
            session: "exec".into(),
            command: vec!["bash".into()],
            command_source: Some("requestURI".into()),
            container: Some("nginx1".into()),
            stdin: true,
            stdout: true,
            stderr: false,
            tty: true,
        })
    );
    assert_eq!(m.user.groups, ["system:masters", "system:authenticated"]);
    assert_eq!(
        (m.stage.as_deref(), m.api_version.as_deref(), m.level.as_deref()),
        (Some("ResponseStarted"), None, Some("Request"))
    );
    assert_eq!(m.audit_id, "ca1ed9f4-7bf4-4c85-81a8-1b11253d1ba6");
    // No top-level apiVersion: still an event, counted as such.
    assert_eq!(r.stats.api_versions, map(&[("(none)", 1)]));
    assert_eq!(
        (r.stats.lines, r.stats.records, r.stats.events, r.stats.skipped),
        (1, 1, 1, 0)
    );
    // A WebSocket session is logged with verb get: the same session.
    let get = sample("falco-exec_pod.json").replace(r#""verb":"create""#, r#""verb":"get""#);
    let r = run_text(&get, &query(QueryKind::Exec));
    assert_eq!(
        r.results
            .iter()
            .map(|m| (m.verb.as_str(), m.exec.as_ref().map(|e| e.command.clone())))
            .collect::<Vec<_>>(),
        [("get", Some(vec!["bash".to_string()]))]
    );
    // The pod filter: this pod, and no other.
    let mut q = pod_query(QueryKind::Exec, "nginx-deployment-7998647bdf-phvq7");
    q.namespace = Some("default".into());
    assert_eq!(run_file("falco-exec_pod.json", &q).results.len(), 1);
    assert_eq!(
        run_file("falco-exec_pod.json", &pod_query(QueryKind::Exec, "nginx"))
            .results
            .len(),
        0
    );
}

#[test]
fn which_clusterrolebinding_was_created_by_whom() {
    let r = run_file("falco-create_clusterrolebinding.json", &query(QueryKind::Rbac));
    assert_eq!(
        summary(&r),
        [row(
            "2018-10-26T13:25:18.279128Z",
            "create",
            "minikube-user",
            "192.168.99.1",
            "-/some-reader-binding",
            201
        )]
    );
    assert_eq!(
        r.results[0].rbac,
        Some(RbacDetail {
            kind: "ClusterRoleBinding".into(),
            object: Some("responseObject".into()),
            role_ref: Some(RoleRef {
                kind: "ClusterRole".into(),
                name: "system:basic-user".into()
            }),
            subjects: vec![Subject {
                kind: "User".into(),
                name: "minikube".into(),
                namespace: None
            }],
            rules: vec![],
            flags: vec![],
        })
    );
    // The same binding to cluster-admin is flagged.
    let admin = sample("falco-create_clusterrolebinding.json").replace("system:basic-user", "cluster-admin");
    let r = run_text(&admin, &query(QueryKind::Rbac));
    assert_eq!(
        r.results[0].rbac.as_ref().map(|d| d.flags.clone()),
        Some(vec![Flag {
            flag: FlagKind::ClusterAdmin,
            detail: "binds ClusterRole cluster-admin to User minikube".into()
        }])
    );
    // Filters: by the user who made it; a namespace filter excludes a cluster-scoped object.
    let mut q = query(QueryKind::Rbac);
    q.user = Some("minikube-user".into());
    assert_eq!(run_text(&admin, &q).results.len(), 1);
    q.user = Some("minikube".into());
    assert_eq!(run_text(&admin, &q).results.len(), 0);
    let mut q = query(QueryKind::Rbac);
    q.namespace = Some("default".into());
    assert_eq!(run_text(&admin, &q).results.len(), 0);
}

#[test]
fn secret_writes_with_response_codes() {
    let r = run_file("falco-create_secret.json", &query(QueryKind::Secrets));
    assert_eq!(
        summary(&r),
        [row(
            "2019-11-18T04:40:56.739299Z",
            "create",
            "minikube-user",
            "10.0.2.15",
            "sysdig-agent/sysdig-agent",
            201
        )]
    );
    // The file ends with a blank line: counted, not skipped.
    assert_eq!(
        (r.stats.lines, r.stats.blank, r.stats.records, r.stats.skipped),
        (2, 1, 1, 0)
    );
    let mut q = query(QueryKind::Secrets);
    q.user = Some("someone-else".into());
    assert_eq!(run_file("falco-create_secret.json", &q).results.len(), 0);
}

#[test]
fn the_mixed_elastic_log_skips_the_gke_record_and_unwraps_aks() {
    let r = run_file("elastic-test-audit.log", &pod_query(QueryKind::Timeline, "my-pod"));
    // The malformed username ("serviceaccounts", plural) is reported as it is.
    assert_eq!(
        summary(&r),
        [row(
            "2025-03-04T06:22:18.819232Z",
            "get",
            "system:serviceaccounts:default:default",
            "67.43.156.1",
            "default/my-pod",
            200
        )]
    );
    let text = sample("elastic-test-audit.log");
    let line4 = text.match_indices('\n').nth(2).map(|(i, _)| i as u64 + 1).unwrap();
    assert_eq!(
        r.stats.skipped_records,
        [Skipped {
            input: 0,
            line: 4,
            offset: line4,
            reason: SkipReason::GkeCloudAudit,
            detail: "a GKE Cloud Audit Logging record (protoPayload), not a Kubernetes audit Event".into(),
        }]
    );
    let s = &r.stats;
    assert_eq!((s.lines, s.records, s.events, s.skipped, s.blank), (5, 5, 4, 1, 0));
    assert_eq!(s.api_versions, map(&[("audit.k8s.io/v1", 4)]));
    assert_eq!(s.stages, map(&[("ResponseComplete", 4)]));
    assert_eq!(s.wrapped, map(&[("properties.log", 1)]));
    assert_eq!(s.bytes, text.len() as u64);
}

/// The public reading loop: every event of every sample (wrapped ones included) is visited,
/// and a `requests` collector fed with them reports what `Source::run` reports.
#[test]
fn the_event_reader_visits_what_every_query_reads() {
    let limits = ScanLimits::default();
    let query = query(QueryKind::Requests);
    let mut reader = EventReader::new(limits.clone());
    let mut collector = Collector::new(&query, limits.max_results).unwrap();
    let mut visited = Vec::new();
    for name in ["elastic-test-audit.log", "elastic-test-kube-audit-aks-wrapped.log"] {
        let file = std::fs::File::open(sample_path(name)).unwrap();
        reader
            .read(file, name, None, |e| {
                visited.push((
                    e.input(),
                    e.line(),
                    e.verb().to_string(),
                    e.username().unwrap_or("").to_string(),
                    e.wrapper(),
                ));
                collector.offer(e);
            })
            .unwrap();
    }
    let get = |line: u64, user: &str| (0, line, "get".to_string(), user.to_string(), None);
    let elastic_agent = "system:serviceaccount:kube-system:elastic-agent";
    assert_eq!(
        visited,
        [
            get(1, "system:serviceaccounts:default:default"),
            get(2, elastic_agent),
            get(3, elastic_agent),
            (0, 5, "update".into(), "aksService".into(), Some("properties.log")),
            (
                1,
                1,
                "update".into(),
                "aksService".into(),
                Some("properties.log (JSON string)")
            ),
        ]
    );
    let (inputs, mut stats) = reader.finish();
    assert_eq!(inputs.len(), 2);
    assert_eq!((stats.events, stats.skipped), (5, 1));
    let requests = collector.finish(&mut stats);
    // Lines 2 and 3 are one request logged twice.
    assert_eq!((requests.len(), stats.matched, stats.merged), (4, 5, 1));
    let one = run_file("elastic-test-audit.log", &query);
    assert_eq!(one.results.len(), 3);
    assert_eq!(one.results[..], requests[..3]);
}

#[test]
fn an_aks_event_held_as_a_json_string_is_read() {
    let r = run_file(
        "elastic-test-kube-audit-aks-wrapped.log",
        &query(QueryKind::Impersonation),
    );
    assert_eq!(r.results.len(), 0);
    assert_eq!((r.stats.events, r.stats.skipped), (1, 0));
    assert_eq!(r.stats.wrapped, map(&[("properties.log (JSON string)", 1)]));
    // Make the wrapped lease a pod, and its fields come out of the string.
    let text = sample("elastic-test-kube-audit-aks-wrapped.log")
        .replace(r#"\"resource\":\"leases\""#, r#"\"resource\":\"pods\""#)
        .replace(r#"\"apiGroup\":\"coordination.k8s.io\","#, "");
    let r = run_text(&text, &pod_query(QueryKind::Timeline, "kubelet-serving-csr-approver"));
    assert_eq!(
        summary(&r),
        [row(
            "2025-10-07T16:19:19.643609Z",
            "update",
            "aksService",
            "172.31.51.172",
            "kube-system/kubelet-serving-csr-approver",
            200
        )]
    );
    let m = &r.results[0];
    assert_eq!(m.user.groups, ["system:masters", "system:authenticated"]);
    assert_eq!(m.wrapper.as_deref(), Some("properties.log (JSON string)"));
    assert_eq!(m.audit_id, "ad26f7bc-f1c6-4097-90f1-e0924e12f257");
}

#[test]
fn all_samples_in_one_stream_plain_gzip_document_and_array() {
    let text = all_samples();
    let exec = query(QueryKind::Exec);
    let plain = run_text(&text, &exec);
    let s = &plain.stats;
    assert_eq!((s.lines, s.records, s.blank, s.events, s.skipped), (10, 9, 1, 8, 1));
    assert_eq!(s.api_versions, map(&[("(none)", 2), ("audit.k8s.io/v1", 6)]));
    assert_eq!(
        s.wrapped,
        map(&[("properties.log", 1), ("properties.log (JSON string)", 1)])
    );
    assert_eq!(
        s.skipped_by_reason,
        [(SkipReason::GkeCloudAudit, 1)].into_iter().collect()
    );
    assert_eq!(plain.results.len(), 1);
    assert_eq!(plain.results[0].line, 10);
    for (kind, n) in [
        (QueryKind::Rbac, 1),
        (QueryKind::Secrets, 1),
        (QueryKind::Impersonation, 0),
    ] {
        assert_eq!(run_text(&text, &query(kind)).results.len(), n, "{kind:?}");
    }

    // gzip, as two members (the way `cat a.gz b.gz` or logrotate leave them).
    let (a, b) = text.split_at(text.len() / 2);
    let mut gz = Vec::new();
    for part in [a, b] {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(part.as_bytes()).unwrap();
        gz.extend(e.finish().unwrap());
    }
    let zipped = run_reader(&gz[..], "audit.log.gz", &exec, &ScanLimits::default()).unwrap();
    assert_eq!(zipped.inputs[0].compression, Compression::Gzip);
    assert_eq!(zipped.inputs[0].bytes, gz.len() as u64);
    assert_eq!(
        (zipped.stats.clone(), zipped.results.clone()),
        (plain.stats.clone(), plain.results.clone())
    );

    // A gzip cut short: what was readable is used, and the rest is reported as unreadable.
    let cut = &gz[..gz.len() - 20];
    let r = run_reader(cut, "cut.gz", &query(QueryKind::Secrets), &ScanLimits::default()).unwrap();
    assert!(!r.complete());
    assert_eq!(r.stats.skipped_by_reason.get(&SkipReason::Unreadable), Some(&1));
    assert_eq!(r.results.len(), 1);

    // Pretty-printed, as one JSON document of several values; and as a JSON array.
    let values: Vec<Value> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let pretty: String = values
        .iter()
        .map(|v| serde_json::to_string_pretty(v).unwrap() + "\n")
        .collect();
    let doc = run_text(&pretty, &exec);
    assert_eq!(doc.inputs[0].layout, Layout::JsonDocument);
    assert_eq!((doc.stats.records, doc.stats.events, doc.stats.skipped), (9, 8, 1));
    let exec_line = pretty
        .rfind("\n{\n")
        .map(|i| pretty[..i].matches('\n').count() as u64 + 2);
    assert_eq!(Some(doc.results[0].line), exec_line);
    let array = format!(
        "[\n{}\n]\n",
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .collect::<Vec<_>>()
            .join(",\n")
    );
    let arr = run_text(&array, &exec);
    assert_eq!(arr.inputs[0].layout, Layout::JsonDocument);
    assert_eq!((arr.stats.records, arr.stats.events, arr.stats.skipped), (9, 8, 1));
    assert_eq!(arr.results[0].line, 10);
}

/// The exec sample as a Value, to make variants of.
fn exec_event() -> Value {
    serde_json::from_str(&sample("falco-exec_pod.json")).unwrap()
}

fn lines(values: &[Value]) -> String {
    values.iter().map(|v| v.to_string() + "\n").collect()
}

#[test]
fn the_stages_of_a_request_are_merged_into_the_most_complete() {
    let started = exec_event();
    let mut received = started.clone();
    received["stage"] = "RequestReceived".into();
    received.as_object_mut().unwrap().remove("responseStatus");
    let mut complete = started.clone();
    complete["stage"] = "ResponseComplete".into();
    complete["stageTimestamp"] = "2018-10-26T13:41:02.000000Z".into();
    let r = run_text(
        &lines(&[received.clone(), complete.clone(), started.clone()]),
        &query(QueryKind::Exec),
    );
    assert_eq!(r.results.len(), 1);
    let m = &r.results[0];
    assert_eq!(
        (m.stage.as_deref(), m.line, m.code),
        (Some("ResponseComplete"), 2, Some(101))
    );
    let seen = |stage: &str, line| StageSeen {
        stage: Some(stage.into()),
        input: 0,
        line,
    };
    assert_eq!(
        m.stages,
        [
            seen("RequestReceived", 1),
            seen("ResponseComplete", 2),
            seen("ResponseStarted", 3)
        ]
    );
    assert_eq!((r.stats.matched, r.stats.merged, r.stats.events), (3, 2, 3));
    // Only the first stage logged: its response code is missing, not invented.
    let r = run_text(&lines(&[received]), &query(QueryKind::Exec));
    assert_eq!(
        (r.results[0].code, r.results[0].stage.as_deref()),
        (None, Some("RequestReceived"))
    );
    // An identical copy (as in the elastic sample's lines 2 and 3) is one request; the first is shown.
    let r = run_text(&lines(&[started.clone(), started.clone()]), &query(QueryKind::Exec));
    assert_eq!((r.results.len(), r.results[0].line, r.stats.merged), (1, 1, 1));
    // The same auditID on a different request (the elastic sample reuses one) is not merged.
    let mut other = started.clone();
    other["requestURI"] = "/api/v1/namespaces/default/pods/nginx-deployment-7998647bdf-phvq7/exec?command=id".into();
    let r = run_text(&lines(&[started, other]), &query(QueryKind::Exec));
    assert_eq!(r.results.len(), 2);
    assert_eq!(
        r.results[1].exec.as_ref().map(|e| e.command.clone()),
        Some(vec!["id".to_string()])
    );
}

#[test]
fn results_are_in_time_order_whatever_the_precision() {
    let mut a = exec_event();
    a["requestReceivedTimestamp"] = "2018-10-26T13:38:34.5Z".into();
    a["auditID"] = "a".into();
    let mut b = exec_event();
    b["requestReceivedTimestamp"] = "2018-10-26T13:38:34Z".into();
    b["auditID"] = "b".into();
    let mut c = exec_event();
    c["requestReceivedTimestamp"] = "2018-10-26T15:38:34.1+02:00".into();
    c["auditID"] = "c".into();
    let mut d = exec_event();
    d.as_object_mut().unwrap().remove("requestReceivedTimestamp");
    d["stageTimestamp"] = "not a time".into();
    d["auditID"] = "d".into();
    let r = run_text(&lines(&[d, a, b, c]), &query(QueryKind::Exec));
    let ids: Vec<&str> = r.results.iter().map(|m| m.audit_id.as_str()).collect();
    assert_eq!(ids, ["b", "c", "a", "d"]);
    assert_eq!(r.results[3].time.as_deref(), Some("not a time"));
}

#[test]
fn who_created_a_pod_even_when_only_the_response_names_it() {
    let mut create = exec_event();
    create["objectRef"] = serde_json::json!({"resource": "pods", "namespace": "default", "apiVersion": "v1"});
    create["requestURI"] = "/api/v1/namespaces/default/pods".into();
    create["stage"] = "ResponseComplete".into();
    create["responseStatus"] = serde_json::json!({"code": 201});
    create["requestObject"] = serde_json::json!({"kind": "Pod", "metadata": {"generateName": "miner-"}});
    create["responseObject"] =
        serde_json::json!({"kind": "Pod", "metadata": {"name": "miner-x7k2p", "namespace": "default"}});
    let mut conflict = create.clone();
    conflict["auditID"] = "second-attempt".into();
    conflict["responseStatus"] = serde_json::json!({"code": 409});
    conflict["responseObject"] = serde_json::json!({"kind": "Status", "code": 409});
    conflict["requestObject"] = serde_json::json!({"kind": "Pod", "metadata": {"name": "miner-x7k2p"}});
    let text = lines(&[create, conflict]);
    let r = run_text(&text, &pod_query(QueryKind::Creator, "miner-x7k2p"));
    assert_eq!(
        summary(&r),
        [
            row(
                "2018-10-26T13:38:34.867116Z",
                "create",
                "minikube-user",
                "192.168.99.1",
                "default/miner-x7k2p",
                201
            ),
            row(
                "2018-10-26T13:38:34.867116Z",
                "create",
                "minikube-user",
                "192.168.99.1",
                "default/miner-x7k2p",
                409
            )
        ]
    );
    assert_eq!(r.results[0].name_from.as_deref(), Some("object"));
    assert_eq!(r.results[0].user.groups, ["system:masters", "system:authenticated"]);
    let r = run_text(&text, &pod_query(QueryKind::Timeline, "miner-x7k2p"));
    assert_eq!(r.results.len(), 2);
    // The exec into an existing pod is not a creation.
    let r = run_file(
        "falco-exec_pod.json",
        &pod_query(QueryKind::Creator, "nginx-deployment-7998647bdf-phvq7"),
    );
    assert_eq!(r.results.len(), 0);
    let r = run_file(
        "falco-exec_pod.json",
        &pod_query(QueryKind::Timeline, "nginx-deployment-7998647bdf-phvq7"),
    );
    assert_eq!(r.results.len(), 1);
}

#[test]
fn impersonated_requests() {
    let mut v: Value = serde_json::from_str(sample("falco-create_secret.json").trim()).unwrap();
    v["impersonatedUser"] =
        serde_json::json!({"username": "system:serviceaccount:kube-system:admin", "groups": ["system:masters"]});
    let text = lines(&[v]);
    let r = run_text(&text, &query(QueryKind::Impersonation));
    assert_eq!(r.results.len(), 1);
    let m = &r.results[0];
    assert_eq!(m.user.username, "minikube-user");
    let as_user = m.impersonated_user.clone().unwrap();
    assert_eq!(
        (as_user.username.as_str(), as_user.groups.clone()),
        (
            "system:serviceaccount:kube-system:admin",
            vec!["system:masters".to_string()]
        )
    );
    // --user matches the user a request was made as, too.
    let mut q = query(QueryKind::Secrets);
    q.user = Some("system:serviceaccount:kube-system:admin".into());
    assert_eq!(run_text(&text, &q).results.len(), 1);
}

#[test]
fn lines_that_are_not_events_are_skipped_and_counted_with_their_reason() {
    let good = sample("falco-exec_pod.json");
    let good = good.trim();
    let text = [
        good,
        "I1007 16:19:19.643609       1 apiserver.go:1] starting",
        &good[..200],
        "42",
        r#"{"kind":"Event","apiVersion":"audit.k8s.io/v2","auditID":"x","verb":"get"}"#,
        r#"{"auditID":"x","verb":"get","user":"bob"}"#,
        r#"{"kind":"Event","apiVersion":"v1","involvedObject":{"kind":"Pod"},"reason":"Pulled"}"#,
        &format!(r#"{{"pad":"{}"}}"#, "x".repeat(3000)),
        &format!("[{good}, {good}]"),
        "   ",
        "\u{feff}{}",
    ]
    .join("\n");
    let limits = ScanLimits {
        max_record: 2048,
        ..ScanLimits::default()
    };
    let r = run_reader(text.as_bytes(), "broken.log", &query(QueryKind::Exec), &limits).unwrap();
    let got: Vec<(u64, SkipReason, &str)> = r
        .stats
        .skipped_records
        .iter()
        .map(|s| (s.line, s.reason, s.detail.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (2, SkipReason::InvalidJson, "expected value at line 1 column 1"),
            (
                3,
                SkipReason::TruncatedJson,
                "EOF while parsing a string at line 1 column 200"
            ),
            (4, SkipReason::NotAnObject, "a JSON number, not an object"),
            (
                5,
                SkipReason::UnsupportedApiVersion,
                r#"apiVersion "audit.k8s.io/v2": an audit Event of an unknown version"#
            ),
            (
                6,
                SkipReason::InvalidFields,
                r#"invalid type: string "bob", expected a UserInfo object at line 1 column 40"#
            ),
            (7, SkipReason::NotAnEvent, r#"apiVersion "v1": not an audit Event"#),
            (
                8,
                SkipReason::TooLong,
                "a record of 3010 bytes; records longer than 2048 bytes are skipped"
            ),
            (11, SkipReason::InvalidJson, "expected value at line 1 column 1"),
        ]
    );
    // Line 9 holds two copies of the event in an array: one request, the first copy shown.
    assert_eq!(
        (r.stats.lines, r.stats.records, r.stats.blank, r.stats.events),
        (11, 10, 1, 3)
    );
    assert_eq!((r.results.len(), r.results[0].line, r.stats.merged), (1, 1, 2));
}

#[test]
fn old_api_versions_and_missing_fields() {
    let v1beta1 = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1beta1","metadata":{"creationTimestamp":"2019-01-01T00:00:00Z"},"level":"Metadata","timestamp":"2019-01-01T00:00:00Z","auditID":"b1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/ns/secrets/s","verb":"get","user":{"username":"u"},"sourceIPs":["10.0.0.1"],"objectRef":{"resource":"secrets","namespace":"ns","name":"s","apiVersion":"v1"},"requestReceivedTimestamp":"2019-01-01T00:00:00.000001Z","stageTimestamp":"2019-01-01T00:00:00.000002Z"}"#;
    let v1alpha1 = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1alpha1","timestamp":"2018-01-01T00:00:00Z","auditID":"a1","requestURI":"/api/v1/secrets","verb":"list","objectRef":{"resource":"secrets"}}"#;
    let r = run_text(&format!("{v1beta1}\n{v1alpha1}\n"), &query(QueryKind::Secrets));
    assert_eq!(
        r.results
            .iter()
            .map(|m| (
                m.audit_id.as_str(),
                m.time.as_deref(),
                m.code,
                m.user.username.as_str(),
                m.source_ips.len()
            ))
            .collect::<Vec<_>>(),
        [
            ("a1", Some("2018-01-01T00:00:00Z"), None, "", 0),
            ("b1", Some("2019-01-01T00:00:00.000001Z"), None, "u", 1)
        ]
    );
    assert_eq!(
        r.stats.api_versions,
        map(&[("audit.k8s.io/v1alpha1", 1), ("audit.k8s.io/v1beta1", 1)])
    );
    assert_eq!(r.stats.stages, map(&[("(none)", 1), ("ResponseComplete", 1)]));
}

#[test]
fn queries_that_need_a_pod_say_so() {
    let err = run_reader(&b""[..], "x", &query(QueryKind::Timeline), &ScanLimits::default()).err();
    assert!(
        matches!(&err, Some(AuditError::Query(m)) if m == "the timeline query needs --pod NAME"),
        "{err:?}"
    );
    let mut q = pod_query(QueryKind::Creator, "p");
    q.user = Some(String::new());
    let err = run_reader(&b""[..], "x", &q, &ScanLimits::default()).err();
    assert!(
        matches!(&err, Some(AuditError::Query(m)) if m == "--user must not be empty"),
        "{err:?}"
    );
    // An empty log is fine: nothing read, nothing found.
    let r = run_reader(&b""[..], "x", &query(QueryKind::Rbac), &ScanLimits::default()).unwrap();
    assert_eq!(
        (r.stats.lines, r.results.len(), r.inputs[0].sha256.as_str()),
        (0, 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
}

#[test]
fn results_past_the_limit_are_counted_not_kept() {
    let events: Vec<Value> = (0..5)
        .map(|i| {
            let mut e = exec_event();
            e["auditID"] = format!("id-{i}").into();
            e
        })
        .collect();
    let limits = ScanLimits {
        max_results: 3,
        ..ScanLimits::default()
    };
    let r = run_reader(lines(&events).as_bytes(), "x", &query(QueryKind::Exec), &limits).unwrap();
    assert_eq!((r.results.len(), r.stats.results_dropped, r.complete()), (3, 2, false));
}
