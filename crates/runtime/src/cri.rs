//! A container's Kubernetes identity from what containerd keeps, and a pod's containers resolved
//! from it, without kubectl.
//!
//! kubelet sets the `io.kubernetes.pod.*` and `io.kubernetes.container.name` **labels**;
//! containerd's CRI always writes the `io.kubernetes.cri.*` **annotations** into the OCI spec and
//! keeps the attempt and log path in the container extension `io.cri-containerd.container.metadata`.
//! Labels win where both are present; annotations fill what labels lack.

use forensic_evidence::records::containerd::{CriIdentity, PodContainer, PodContainers};
use std::collections::BTreeMap;

pub use forensic_evidence::records::containerd::{CRI_METADATA_EXTENSION, KIND_LABEL};

/// The identity from a container's labels, its OCI spec's annotations and its CRI metadata
/// extension (each may be absent): [`CriIdentity::from_stored`], which offline collection
/// (forensic-nodedisk) uses too.
pub fn identity(
    labels: &BTreeMap<String, String>,
    spec: Option<&serde_json::Value>,
    metadata: Option<&serde_json::Value>,
) -> CriIdentity {
    CriIdentity::from_stored(labels, spec, metadata)
}

/// One container known to the runtime, as pod resolution needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Container id.
    pub id: String,
    /// Its CRI identity.
    pub cri: CriIdentity,
    /// Task status (`running`, `stopped`, …), `None` when it has no task.
    pub status: Option<String>,
    /// Host PID of the task.
    pub pid: Option<u32>,
    /// Created, SPEC §5 time.
    pub created_at: Option<String>,
}

/// Why a pod could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PodError {
    /// No container of the runtime belongs to the pod.
    #[error(
        "no container of pod {namespace}/{pod} is known to the runtime (looked at {looked} containers' CRI labels and annotations)"
    )]
    NoSuchPod {
        /// Pod.
        pod: String,
        /// Namespace.
        namespace: String,
        /// How many containers were looked at.
        looked: usize,
    },
    /// The named container is not in the pod.
    #[error("pod {namespace}/{pod} has no container {wanted:?} (containers: {names})")]
    NoSuchContainer {
        /// Pod.
        pod: String,
        /// Namespace.
        namespace: String,
        /// The name asked for.
        wanted: String,
        /// The names there are.
        names: String,
    },
    /// Several containers and none named.
    #[error("pod {namespace}/{pod} has several containers ({names}): choose one with --container")]
    Several {
        /// Pod.
        pod: String,
        /// Namespace.
        namespace: String,
        /// Their names.
        names: String,
    },
    /// The container has no running instance.
    #[error("container {name} of pod {namespace}/{pod} has no running instance (instances: {instances})")]
    NotRunning {
        /// Pod.
        pod: String,
        /// Namespace.
        namespace: String,
        /// Container name.
        name: String,
        /// `id attempt status` of each.
        instances: String,
    },
}

/// The pod's containers (sandboxes excluded), the instance to collect — the running instance of
/// `wanted` (or of the pod's only container) with the highest attempt — and its previous
/// instance: the exited one with the next lower attempt.
///
/// # Errors
/// [`PodError`] when no container belongs to the pod, the name is not there, several names and
/// none chosen, or no instance runs.
pub fn resolve_pod(
    candidates: &[Candidate],
    pod: &str,
    namespace: &str,
    wanted: Option<&str>,
) -> Result<PodContainers, PodError> {
    let mut members: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| c.cri.kind.as_deref() != Some("sandbox"))
        .filter(|c| c.cri.pod_name.as_deref() == Some(pod) && c.cri.pod_namespace.as_deref() == Some(namespace))
        .filter(|c| c.cri.container_name.is_some())
        .collect();
    members.sort_by(|a, b| {
        (&a.cri.container_name, a.cri.attempt, &a.id).cmp(&(&b.cri.container_name, b.cri.attempt, &b.id))
    });
    if members.is_empty() {
        return Err(PodError::NoSuchPod {
            pod: pod.into(),
            namespace: namespace.into(),
            looked: candidates.len(),
        });
    }
    let mut names: Vec<&str> = members.iter().filter_map(|c| c.cri.container_name.as_deref()).collect();
    names.dedup();
    let name = match wanted {
        Some(w) if names.contains(&w) => w,
        Some(w) => {
            return Err(PodError::NoSuchContainer {
                pod: pod.into(),
                namespace: namespace.into(),
                wanted: w.into(),
                names: names.join(", "),
            });
        }
        None => match names.as_slice() {
            [only] => only,
            _ => {
                return Err(PodError::Several {
                    pod: pod.into(),
                    namespace: namespace.into(),
                    names: names.join(", "),
                });
            }
        },
    };
    let instances: Vec<&&Candidate> = members
        .iter()
        .filter(|c| c.cri.container_name.as_deref() == Some(name))
        .collect();
    let running = |c: &Candidate| c.status.as_deref() == Some("running") && c.pid.is_some_and(|p| p > 0);
    let Some(chosen) = instances.iter().rev().find(|c| running(c)) else {
        return Err(PodError::NotRunning {
            pod: pod.into(),
            namespace: namespace.into(),
            name: name.into(),
            instances: instances
                .iter()
                .map(|c| {
                    format!(
                        "{} attempt {} {}",
                        c.id,
                        c.cri.attempt.map_or("?".into(), |a| a.to_string()),
                        c.status.as_deref().unwrap_or("no task")
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
        });
    };
    let previous = chosen.cri.attempt.and_then(|a| {
        instances
            .iter()
            .filter(|c| !running(c) && c.cri.attempt.is_some_and(|p| p < a))
            .max_by_key(|c| c.cri.attempt)
            .map(|c| c.id.clone())
    });
    let uids: Vec<&str> = members.iter().filter_map(|c| c.cri.pod_uid.as_deref()).collect();
    let pod_uid = uids
        .first()
        .filter(|u| uids.iter().all(|x| x == *u))
        .map(|u| u.to_string());
    Ok(PodContainers {
        pod: pod.into(),
        namespace: namespace.into(),
        pod_uid,
        containers: members
            .iter()
            .map(|c| PodContainer {
                id: c.id.clone(),
                name: c.cri.container_name.clone().unwrap_or_default(),
                attempt: c.cri.attempt,
                status: c.status.clone(),
                pid: c.pid.filter(|p| *p > 0),
                created_at: c.created_at.clone(),
            })
            .collect(),
        chosen: chosen.id.clone(),
        previous,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn labels_win_annotations_fill_and_the_attempt_comes_from_the_metadata() {
        // Annotations and metadata as containerd 1.6's CRI writes them (docs/dev/runtimes.md §1.3).
        let spec = json!({"annotations": {
            "io.kubernetes.cri.container-name": "app",
            "io.kubernetes.cri.container-type": "container",
            "io.kubernetes.cri.sandbox-id": "2f8a",
            "io.kubernetes.cri.sandbox-name": "web-0",
            "io.kubernetes.cri.sandbox-namespace": "shop",
            "io.kubernetes.cri.sandbox-uid": "11111111-2222"}});
        let meta = json!({"Version": "v1", "Metadata": {"ID": "a105", "Name": "app_web-0_shop_11111111-2222_2",
            "SandboxID": "2f8a", "LogPath": "/var/log/pods/shop_web-0_11111111-2222/app/2.log",
            "Config": {"metadata": {"name": "app", "attempt": 2}}}});
        let only_annotations = identity(&BTreeMap::new(), Some(&spec), Some(&meta));
        assert_eq!(
            only_annotations,
            CriIdentity {
                kind: Some("container".into()),
                pod_name: Some("web-0".into()),
                pod_namespace: Some("shop".into()),
                pod_uid: Some("11111111-2222".into()),
                container_name: Some("app".into()),
                attempt: Some(2),
                sandbox_id: Some("2f8a".into()),
                log_path: Some("/var/log/pods/shop_web-0_11111111-2222/app/2.log".into()),
            }
        );
        let l = labels(&[
            ("io.kubernetes.pod.name", "web-1"),
            ("io.cri-containerd.kind", "container"),
        ]);
        let both = identity(&l, Some(&spec), None);
        assert_eq!(
            (both.pod_name.as_deref(), both.pod_namespace.as_deref(), both.attempt),
            (Some("web-1"), Some("shop"), None)
        );
        // The attempt from the name or the log path when the config does not say.
        let by_name = json!({"Metadata": {"Name": "app_web-0_shop_u_7"}});
        assert_eq!(identity(&l, None, Some(&by_name)).attempt, Some(7));
        let by_log = json!({"Metadata": {"Name": "odd", "LogPath": "/var/log/pods/x/app/4.log"}});
        assert_eq!(identity(&l, None, Some(&by_log)).attempt, Some(4));
        assert_eq!(identity(&BTreeMap::new(), None, None), CriIdentity::default());
    }

    fn candidate(id: &str, name: &str, attempt: u32, status: Option<&str>) -> Candidate {
        Candidate {
            id: id.into(),
            cri: CriIdentity {
                kind: Some("container".into()),
                pod_name: Some("web".into()),
                pod_namespace: Some("shop".into()),
                pod_uid: Some("u-1".into()),
                container_name: Some(name.into()),
                attempt: Some(attempt),
                ..CriIdentity::default()
            },
            status: status.map(str::to_string),
            pid: (status == Some("running")).then_some(100 + attempt),
            created_at: None,
        }
    }

    #[test]
    fn the_running_instance_with_the_highest_attempt_and_the_previous_exited_one() {
        let mut sandbox = candidate("s", "", 0, Some("running"));
        sandbox.cri.kind = Some("sandbox".into());
        sandbox.cri.container_name = None;
        let mut other_pod = candidate("o", "app", 5, Some("running"));
        other_pod.cri.pod_namespace = Some("other".into());
        let all = [
            sandbox,
            other_pod,
            candidate("a0", "app", 0, None),
            candidate("a1", "app", 1, Some("stopped")),
            candidate("a2", "app", 2, Some("running")),
            candidate("s0", "sidecar", 0, Some("running")),
        ];
        let r = resolve_pod(&all, "web", "shop", Some("app")).unwrap();
        assert_eq!((r.chosen.as_str(), r.previous.as_deref()), ("a2", Some("a1")));
        let ids: Vec<&str> = r.containers.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["a0", "a1", "a2", "s0"]);
        assert_eq!(r.pod_uid.as_deref(), Some("u-1"));
        assert_eq!(r.containers[2].pid, Some(102));
        let e = resolve_pod(&all, "web", "shop", None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "pod shop/web has several containers (app, sidecar): choose one with --container"
        );
        let e = resolve_pod(&all, "web", "shop", Some("db")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "pod shop/web has no container \"db\" (containers: app, sidecar)"
        );
        let e = resolve_pod(&all, "nope", "shop", None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no container of pod shop/nope is known to the runtime (looked at 6 containers' CRI labels and annotations)"
        );
        let sidecar = resolve_pod(&all[5..], "web", "shop", None).unwrap();
        assert_eq!((sidecar.chosen.as_str(), sidecar.previous), ("s0", None));
        let stopped = [candidate("a1", "app", 1, Some("stopped"))];
        let e = resolve_pod(&stopped, "web", "shop", None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "container app of pod shop/web has no running instance (instances: a1 attempt 1 stopped)"
        );
    }
}
