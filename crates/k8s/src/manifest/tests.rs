use super::*;

fn spec(destination: Destination) -> JobSpec {
    JobSpec {
        name: "forensic-case42".into(),
        namespace: "forensic".into(),
        node: "node-1".into(),
        image: "registry.example/forensic-collector:0.1.0".into(),
        targets: vec![
            Target {
                namespace: "shop".into(),
                pod: "web-7d9f".into(),
                container: "web".into(),
                pid: None,
            },
            Target {
                namespace: "shop".into(),
                pod: "web-7d9f".into(),
                container: "sidecar".into(),
                pid: None,
            },
        ],
        destination,
        key_secret: "forensic-signing-key".into(),
        key_passphrase: false,
        service_account: "forensic-collector".into(),
        case: Some("CASE-42".into()),
        actor: "responder".into(),
        runtime_state: vec!["/var/lib/containerd".into()],
        deadline_seconds: 1800,
        ttl_seconds: 86400,
    }
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect()
}

#[test]
fn the_job_is_pinned_privileged_once_and_bounded() {
    let j = job(&spec(Destination::NodePath {
        dir: "/var/lib/forensic".into(),
    }))
    .unwrap();
    assert_eq!(j["spec"]["backoffLimit"], 0);
    assert_eq!(j["spec"]["activeDeadlineSeconds"], 1800);
    assert_eq!(j["spec"]["ttlSecondsAfterFinished"], 86400);
    let p = &j["spec"]["template"]["spec"];
    assert_eq!(p["nodeName"], "node-1");
    assert_eq!(p["hostPID"], true);
    assert_eq!(p["restartPolicy"], "Never");
    assert_eq!(p["automountServiceAccountToken"], false);
    assert_eq!(names(&p["initContainers"]), ["collect-0", "collect-1", "verify-0"]);
    assert_eq!(names(&p["containers"]), ["verify-1"]);
    let c0 = &p["initContainers"][0];
    assert_eq!(c0["securityContext"]["privileged"], true);
    assert_eq!(
        c0["args"],
        json!([
            "collect",
            "--pod",
            "web-7d9f",
            "-n",
            "shop",
            "--container",
            "web",
            "-o",
            "/evidence/forensic-case42_shop_web-7d9f_web.zip",
            "--key",
            "/keys/signing.key",
            "--node-name",
            "node-1",
            "--actor",
            "responder",
            "--case",
            "CASE-42",
            "--json",
            "--quiet"
        ])
    );
    // Every host path read-only but the output directory.
    let writable: Vec<&str> = c0["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["readOnly"] != true)
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(writable, ["evidence"]);
    let v1 = &p["containers"][0];
    assert_eq!(
        v1["args"],
        json!([
            "verify",
            "/evidence/forensic-case42_shop_web-7d9f_sidecar.zip",
            "--json"
        ])
    );
    assert_eq!(v1["securityContext"]["privileged"], false);
    assert_eq!(
        v1["volumeMounts"],
        json!([{"name": "evidence", "mountPath": "/evidence", "readOnly": true}])
    );
    assert_eq!(
        p["volumes"][0],
        json!({"name": "keys", "secret": {"secretName": "forensic-signing-key", "defaultMode": 256, "optional": false}})
    );
}

#[test]
fn a_target_given_by_its_host_pid_is_collected_by_pid() {
    let mut s = spec(Destination::NodePath { dir: "/x".into() });
    s.targets.truncate(1);
    s.targets[0].pid = Some(4242);
    let j = job(&s).unwrap();
    let p = &j["spec"]["template"]["spec"];
    assert_eq!(
        p["initContainers"][0]["args"],
        json!([
            "collect",
            "--pid",
            "4242",
            "-o",
            "/evidence/forensic-case42_shop_web-7d9f_web.zip",
            "--key",
            "/keys/signing.key",
            "--node-name",
            "node-1",
            "--actor",
            "responder",
            "--case",
            "CASE-42",
            "--json",
            "--quiet"
        ])
    );
    // The bundle keeps the pod's and container's names; the rest of the Job is unchanged.
    assert_eq!(p["hostPID"], true);
    assert_eq!(
        p["containers"][0]["args"],
        json!(["verify", "/evidence/forensic-case42_shop_web-7d9f_web.zip", "--json"])
    );
}

#[test]
fn s3_credentials_are_references_never_values() {
    let j = job(&spec(Destination::S3 {
        to: "s3://evidence/cases/42/".into(),
        retain_until: "2030-01-01".into(),
        mode: "compliance".into(),
        endpoint: None,
        region: Some("eu-west-1".into()),
        credentials_secret: Some("forensic-s3".into()),
        spool: "/var/lib/forensic/spool".into(),
    }))
    .unwrap();
    let p = &j["spec"]["template"]["spec"];
    let a = &p["containers"][0];
    assert_eq!(a["name"], "archive-1");
    assert_eq!(
        a["args"],
        json!([
            "archive",
            "put",
            "/evidence/forensic-case42_shop_web-7d9f_sidecar.zip",
            "s3://evidence/cases/42/forensic-case42_shop_web-7d9f_sidecar.zip",
            "--retain-until",
            "2030-01-01",
            "--mode",
            "compliance",
            "--key",
            "/keys/signing.key",
            "--actor",
            "responder",
            "--json"
        ])
    );
    assert_eq!(
        a["env"],
        json!([
            {"name": "AWS_ACCESS_KEY_ID", "valueFrom": {"secretKeyRef": {"name": "forensic-s3", "key": "AWS_ACCESS_KEY_ID"}}},
            {"name": "AWS_SECRET_ACCESS_KEY", "valueFrom": {"secretKeyRef": {"name": "forensic-s3", "key": "AWS_SECRET_ACCESS_KEY"}}},
            {"name": "AWS_REGION", "value": "eu-west-1"}
        ])
    );
    assert_eq!(p["volumes"][1]["hostPath"]["path"], "/var/lib/forensic/spool");
}

#[test]
fn an_encrypted_key_is_opened_with_the_passphrase_in_its_secret() {
    let mut sp = spec(Destination::S3 {
        to: "s3://evidence/case42".into(),
        retain_until: "2030-01-01".into(),
        mode: "compliance".into(),
        endpoint: None,
        region: None,
        credentials_secret: None,
        spool: "/var/lib/forensic/spool".into(),
    });
    sp.key_passphrase = true;
    let job = job(&sp).unwrap();
    let steps = job["spec"]["template"]["spec"]["initContainers"]
        .as_array()
        .unwrap()
        .clone();
    let last = job["spec"]["template"]["spec"]["containers"][0].clone();
    let with = ["--key", "/keys/signing.key", "--passphrase-file", "/keys/passphrase"];
    for step in steps.iter().chain([&last]) {
        let args: Vec<&str> = step["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert!(args.windows(4).any(|w| w == with), "{args:?}");
    }
    // The passphrase is a file of the key's Secret volume, never an argument or a variable value.
    assert_eq!(
        job["spec"]["template"]["spec"]["volumes"][0],
        json!({"name": "keys", "secret": {"secretName": "forensic-signing-key", "defaultMode": 0o400, "optional": false}})
    );
}

#[test]
fn bad_names_and_empty_selectors_are_refused() {
    let mut s = spec(Destination::NodePath { dir: "/x".into() });
    s.name = "Forensic_1".into();
    assert_eq!(
        job(&s).unwrap_err().to_string(),
        "Job name \"Forensic_1\": not a DNS label (1-63 of a-z, 0-9, '-', starting and ending with a letter or digit)"
    );
    let mut s = spec(Destination::NodePath { dir: "relative".into() });
    assert_eq!(job(&s).unwrap_err().to_string(), "host path \"relative\": not absolute");
    s.targets.clear();
    assert!(job(&s).is_err());
    assert_eq!(
        isolation_policy("x", "shop", &BTreeMap::new()).unwrap_err().to_string(),
        "--isolate: an empty selector would isolate every pod of the namespace"
    );
}

#[test]
fn the_isolation_policy_denies_both_directions_for_the_selector() {
    let sel = crate::selector::parse("app=web, tier==front").unwrap();
    let p = isolation_policy("forensic-isolate-x", "shop", &sel).unwrap();
    assert_eq!(
        p["spec"],
        json!({"podSelector": {"matchLabels": {"app": "web", "tier": "front"}}, "policyTypes": ["Ingress", "Egress"]})
    );
    assert_eq!(crate::selector::text(&sel), "app=web,tier=front");
    assert!(crate::selector::parse("app!=web").is_err());
    assert!(crate::selector::parse("app").is_err());
    assert!(crate::selector::parse("app in (a,b)").is_err());
}

#[test]
fn the_yaml_stream_is_json_documents() {
    assert_eq!(
        yaml_stream(&[json!({"a": 1}), json!([])]),
        "---\n{\n  \"a\": 1\n}\n---\n[]\n"
    );
}
