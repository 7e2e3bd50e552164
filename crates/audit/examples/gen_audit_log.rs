//! Writes a large synthetic audit log for bench/audit.sh by replicating and mutating the sample
//! events of shared/samples/k8s-audit/: every event gets its own auditID, an increasing time, and
//! a pod, namespace and user from small pools; some requests are logged in two stages, some
//! events are wrapped as AKS writes them, and GKE records and broken lines are mixed in.
//!
//! Usage: gen_audit_log OUT SIZE_MIB [SAMPLES_DIR]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use serde_json::{Value, json};
use std::io::{BufWriter, Write};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let out = args.get(1).ok_or("usage: gen_audit_log OUT SIZE_MIB [SAMPLES_DIR]")?;
    let size: u64 = args.get(2).ok_or("SIZE_MIB missing")?.parse::<u64>()? << 20;
    let dir = args
        .get(3)
        .cloned()
        .unwrap_or_else(|| forensic_samples::path("k8s-audit").display().to_string());
    let read = |name: &str| -> Vec<Value> {
        let text = std::fs::read_to_string(format!("{dir}/{name}")).unwrap();
        serde_json::Deserializer::from_str(&text)
            .into_iter::<Value>()
            .map(Result::unwrap)
            .collect()
    };
    let elastic = read("elastic-test-audit.log");
    let get_pods = elastic[0].clone();
    let get_lease = elastic[1].clone();
    let gke = elastic[3].clone();
    let aks_object = elastic[4].clone();
    let aks_string = read("elastic-test-kube-audit-aks-wrapped.log").remove(0);
    let exec = read("falco-exec_pod.json").remove(0);
    let crb = read("falco-create_clusterrolebinding.json").remove(0);
    let secret = read("falco-create_secret.json").remove(0);

    let users = [
        "minikube-user",
        "system:serviceaccount:kube-system:elastic-agent",
        "alice",
        "bob",
        "system:kube-scheduler",
    ];
    let namespaces = ["default", "shop", "kube-system", "payments"];
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    let mut written = 0u64;
    let mut i: u64 = 0;
    let base = chrono::DateTime::parse_from_rfc3339("2025-01-15T00:00:00Z")?.timestamp_micros();
    while written < size {
        i += 1;
        let pod = format!("web-{}", i % 997);
        let ns = namespaces[(i % 4) as usize];
        let user = users[(i % 5) as usize];
        let t = chrono::DateTime::from_timestamp_micros(base + (i as i64) * 1_000)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%S%.6fZ")
            .to_string();
        let id = format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            i >> 32,
            (i >> 16) & 0xffff,
            i & 0xfff,
            (i >> 4) & 0xfff,
            i
        );
        let mut events: Vec<Value> = Vec::new();
        match i % 100 {
            0..=39 => events.push(get_lease.clone()),
            40..=69 => {
                let mut e = get_pods.clone();
                e["verb"] = json!(["get", "patch", "update"][(i % 3) as usize]);
                e["objectRef"]["name"] = json!(pod);
                e["objectRef"]["namespace"] = json!(ns);
                e["requestURI"] = json!(format!("/api/v1/namespaces/{ns}/pods/{pod}"));
                events.push(e);
            }
            70..=79 => {
                let mut e = exec.clone();
                e["objectRef"]["name"] = json!(pod);
                e["objectRef"]["namespace"] = json!(ns);
                e["requestURI"] = json!(format!(
                    "/api/v1/namespaces/{ns}/pods/{pod}/exec?command=sh&command=-c&command=id+%3E+%2Ftmp%2F{i}&container=web&stdin=true&stdout=true&tty=true"
                ));
                let mut first = e.clone();
                first["stage"] = json!("RequestReceived");
                first.as_object_mut().unwrap().remove("responseStatus");
                events.push(first);
                events.push(e);
            }
            80..=86 => {
                let mut e = secret.clone();
                e["verb"] = json!(["get", "create", "list"][(i % 3) as usize]);
                e["objectRef"]["namespace"] = json!(ns);
                events.push(e);
            }
            87..=89 => {
                let mut e = crb.clone();
                let role = if i % 7 == 0 { "cluster-admin" } else { "view" };
                e["requestObject"]["roleRef"]["name"] = json!(role);
                e["responseObject"]["roleRef"]["name"] = json!(role);
                e["objectRef"]["name"] = json!(format!("binding-{i}"));
                events.push(e);
            }
            90..=93 => events.push(aks_object.clone()),
            94..=96 => events.push(aks_string.clone()),
            97..=98 => events.push(gke.clone()),
            _ => {
                writeln!(w, "E0115 00:00:00.000000       1 this is not JSON {i}")?;
                written += 48;
                continue;
            }
        }
        for mut e in events {
            let target = if e.get("properties").is_some() {
                &mut e["properties"]["log"]
            } else {
                &mut e
            };
            if let Value::String(s) = target {
                let mut inner: Value = serde_json::from_str(s)?;
                stamp(&mut inner, &id, &t, user);
                *s = inner.to_string();
            } else if target.get("protoPayload").is_none() {
                stamp(target, &id, &t, user);
            }
            let line = serde_json::to_string(&e)?;
            written += line.len() as u64 + 1;
            w.write_all(line.as_bytes())?;
            w.write_all(b"\n")?;
        }
    }
    w.flush()?;
    eprintln!("wrote {written} bytes, {i} requests to {out}");
    Ok(())
}

fn stamp(e: &mut Value, id: &str, t: &str, user: &str) {
    e["auditID"] = json!(id);
    e["requestReceivedTimestamp"] = json!(t);
    e["stageTimestamp"] = json!(t);
    e["user"]["username"] = json!(user);
}
