//! What a finished Job's pod says about each of its targets: the bundle's location, manifest
//! digest and custody head (from the steps' `--json` logs), or why there is none.

use crate::K8sError;
use crate::manifest::{Destination, JobSpec, Target, bundle_name, step_names};
use serde::Serialize;
use serde_json::Value;

/// The result for one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Collected {
    /// The pod's namespace.
    pub namespace: String,
    /// The pod.
    pub pod: String,
    /// The container.
    pub container: String,
    /// The node.
    pub node: String,
    /// The Job.
    pub job: String,
    /// The bundle, or why there is none.
    #[serde(flatten)]
    pub result: Outcome,
}

/// A bundle, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Outcome {
    /// Sealed, verified on the node and delivered.
    Bundle {
        /// `NODE:/dir/file.zip`, or the archive's `s3://BUCKET/KEY?versionId=V`.
        location: String,
        /// SHA-256 of the manifest (what the seal signs).
        manifest_sha256: String,
        /// SHA-256 of the last custody entry (the `archived` entry with S3).
        custody_head_sha256: String,
    },
    /// Not collected.
    Failed {
        /// Which step failed and why, or that it never ran.
        error: String,
    },
}

/// How a step of the pod ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// It exited 0.
    Succeeded,
    /// It exited non-zero: the exit code and the termination message (its log's tail).
    Failed(i64, String),
    /// It never ran or has not ended (an earlier step failed, or the deadline passed).
    NotRun,
}

/// The end of step `name` in a pod's `status` (init or regular container).
pub fn step(pod: &Value, name: &str) -> Step {
    let status = &pod["status"];
    let all = ["initContainerStatuses", "containerStatuses"]
        .iter()
        .filter_map(|k| status[*k].as_array())
        .flatten();
    for c in all {
        if c["name"] != name {
            continue;
        }
        let t = &c["state"]["terminated"];
        return match t["exitCode"].as_i64() {
            Some(0) => Step::Succeeded,
            Some(code) => {
                let msg = t["message"].as_str().or(t["reason"].as_str()).unwrap_or("");
                Step::Failed(code, msg.trim().chars().take(500).collect())
            }
            None => Step::NotRun,
        };
    }
    Step::NotRun
}

/// The last line of a log that is a JSON object (the `--json` summary; warnings may precede it).
fn last_json(log: &str) -> Option<Value> {
    log.lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .find(Value::is_object)
}

fn hex64(v: &Value, field: &str) -> Option<String> {
    v[field]
        .as_str()
        .filter(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_string)
}

/// The outcome of every target of `spec`, from its finished pod and a reader of its steps' logs.
///
/// # Errors
/// Only a failed log read of a step that succeeded is an error of its target, never of the whole.
pub fn outcomes(spec: &JobSpec, pod: &Value, log: &dyn Fn(&str) -> Result<String, K8sError>) -> Vec<Collected> {
    spec.targets
        .iter()
        .enumerate()
        .map(|(k, t)| Collected {
            namespace: t.namespace.clone(),
            pod: t.pod.clone(),
            container: t.container.clone(),
            node: spec.node.clone(),
            job: spec.name.clone(),
            result: match one(spec, k, t, pod, log) {
                Ok(o) => o,
                Err(error) => Outcome::Failed { error },
            },
        })
        .collect()
}

fn one(
    spec: &JobSpec,
    k: usize,
    t: &Target,
    pod: &Value,
    log: &dyn Fn(&str) -> Result<String, K8sError>,
) -> Result<Outcome, String> {
    let (collect, deliver) = step_names(k, &spec.destination);
    for s in [&collect, &deliver] {
        match step(pod, s) {
            Step::Succeeded => {}
            Step::Failed(code, msg) => return Err(format!("step {s} exited {code}: {msg}")),
            Step::NotRun => {
                return Err(format!(
                    "step {s} did not run to its end (an earlier step failed, or the Job's deadline passed)"
                ));
            }
        }
    }
    let read = |s: &str| -> Result<Value, String> {
        let text = log(s).map_err(|e| e.to_string())?;
        last_json(&text).ok_or_else(|| format!("step {s}: no JSON summary in its log"))
    };
    let c = read(&collect)?;
    let manifest = hex64(&c, "manifest_sha256").ok_or_else(|| format!("step {collect}: no manifest_sha256"))?;
    let d = read(&deliver)?;
    let head = hex64(&d, "custody_head_sha256").ok_or_else(|| format!("step {deliver}: no custody_head_sha256"))?;
    let location = match &spec.destination {
        Destination::NodePath { dir } => {
            if d["verified"] != true {
                return Err(format!("step {deliver}: the bundle does not verify"));
            }
            if d["manifest_sha256"].as_str() != Some(&manifest) {
                return Err(format!(
                    "step {deliver}: the verified manifest is not the one collected"
                ));
            }
            let file = bundle_name(&spec.name, t);
            format!("{}:{}/{file}", spec.node, dir.trim_end_matches('/'))
        }
        Destination::S3 { .. } => d["location"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("step {deliver}: no location"))?,
    };
    Ok(Outcome::Bundle {
        location,
        manifest_sha256: manifest,
        custody_head_sha256: head,
    })
}
