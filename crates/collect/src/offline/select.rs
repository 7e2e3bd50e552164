//! Which containers of a node's disk to collect (`--container`, `--pod -n`, `--all`), and the
//! name of each one's bundle.

use forensic_nodedisk::OfflineContainer;

/// What the responder asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// One container: its full id, its name, or a prefix of its id that only it has.
    Container(String),
    /// Every container of a Kubernetes pod (sandboxes excluded); with `container`, only that one.
    Pod {
        /// Pod name.
        name: String,
        /// Its Kubernetes namespace.
        namespace: String,
        /// The container's name within the pod.
        container: Option<String>,
    },
    /// Every container on the disk (sandboxes excluded).
    All,
}

/// Whether `c` is a pod's sandbox (pause) container rather than one of its containers.
pub fn is_sandbox(c: &OfflineContainer) -> bool {
    let label = |k: &str| c.labels.get(k).map(String::as_str);
    label("io.cri-containerd.kind") == Some("sandbox") || label("io.kubernetes.docker.type") == Some("podsandbox")
}

/// The containers `sel` names, in listing order.
///
/// # Errors
/// A sentence naming what matched nothing, or the candidates when a name or id prefix is
/// ambiguous.
pub fn select<'a>(containers: &'a [OfflineContainer], sel: &Selection) -> Result<Vec<&'a OfflineContainer>, String> {
    match sel {
        Selection::Container(q) => {
            let exact: Vec<_> = containers.iter().filter(|c| c.id == *q).collect();
            if !exact.is_empty() {
                return one(exact, q);
            }
            let named: Vec<_> = containers.iter().filter(|c| c.name.as_deref() == Some(q)).collect();
            if !named.is_empty() {
                return one(named, q);
            }
            let prefixed: Vec<_> = if q.is_empty() {
                Vec::new()
            } else {
                containers.iter().filter(|c| c.id.starts_with(q.as_str())).collect()
            };
            if prefixed.is_empty() {
                return Err(format!(
                    "no container {q:?} on this disk (by id, name or id prefix; --list shows them)"
                ));
            }
            one(prefixed, q)
        }
        Selection::Pod {
            name,
            namespace,
            container,
        } => {
            let found: Vec<_> = containers
                .iter()
                .filter(|c| !is_sandbox(c))
                .filter(|c| {
                    c.pod
                        .as_ref()
                        .is_some_and(|p| p.name == *name && p.namespace == *namespace)
                })
                .filter(|c| container.is_none() || c.name == *container)
                .collect();
            if found.is_empty() {
                let which = container
                    .as_ref()
                    .map(|c| format!(" container {c:?}"))
                    .unwrap_or_default();
                return Err(format!(
                    "no pod {namespace}/{name}{which} on this disk (--list shows the pods)"
                ));
            }
            Ok(found)
        }
        Selection::All => Ok(containers.iter().filter(|c| !is_sandbox(c)).collect()),
    }
}

fn one<'a>(found: Vec<&'a OfflineContainer>, q: &str) -> Result<Vec<&'a OfflineContainer>, String> {
    if found.len() == 1 {
        return Ok(found);
    }
    let names: Vec<String> = found.iter().map(|c| format!("{} {}", c.runtime.name(), c.id)).collect();
    Err(format!(
        "{q:?} names {} containers: {}; give more of the id",
        found.len(),
        names.join(", ")
    ))
}

/// The bundle file name of `c` in an output directory: `<runtime>-<name or id12>-<id12>.zip`,
/// every character of the name and id but `A-Z a-z 0-9 . _ -` replaced by `_` (ids and names come
/// from the node's metadata: never a path).
pub fn bundle_file_name(c: &OfflineContainer) -> String {
    let safe = |s: &str| -> String {
        let s: String = s
            .chars()
            .map(|ch| {
                if ch.is_ascii_alphanumeric() || matches!(ch, '.' | '_' | '-') {
                    ch
                } else {
                    '_'
                }
            })
            .collect();
        s.trim_start_matches('.').to_string()
    };
    let id12 = safe(c.short_id());
    let name = c.name.as_deref().map_or_else(|| id12.clone(), safe);
    format!("{}-{name}-{id12}.zip", c.runtime.name())
}

#[cfg(test)]
mod tests {
    use super::*;
    use forensic_nodedisk::{OfflineRuntime, PodIdentity};

    fn c(rt: OfflineRuntime, id: &str, name: &str, pod: Option<(&str, &str)>) -> OfflineContainer {
        let mut c = OfflineContainer::new(rt, id.into());
        c.name = Some(name.into());
        c.pod = pod.map(|(n, ns)| PodIdentity {
            name: n.into(),
            namespace: ns.into(),
            uid: None,
        });
        c
    }

    fn ids(r: Result<Vec<&OfflineContainer>, String>) -> Vec<String> {
        r.unwrap().iter().map(|c| c.id.clone()).collect()
    }

    #[test]
    fn containers_are_chosen_by_id_name_or_unique_prefix() {
        let k8s = OfflineRuntime::Containerd {
            namespace: "k8s.io".into(),
        };
        let mut sandbox = c(k8s.clone(), "ffff00", "web-1", Some(("web-1", "shop")));
        sandbox.labels.insert("io.cri-containerd.kind".into(), "sandbox".into());
        let all = vec![
            c(k8s.clone(), "abc111", "app", Some(("web-1", "shop"))),
            c(k8s.clone(), "abc222", "side", Some(("web-1", "shop"))),
            c(OfflineRuntime::Docker, "def333", "abc111", None),
            c(OfflineRuntime::Podman, "0a0a0a", "we/b:1", Some(("web-1", "other"))),
            sandbox,
        ];
        assert_eq!(ids(select(&all, &Selection::Container("abc111".into()))), ["abc111"]);
        assert_eq!(ids(select(&all, &Selection::Container("side".into()))), ["abc222"]);
        assert_eq!(ids(select(&all, &Selection::Container("def".into()))), ["def333"]);
        assert_eq!(
            select(&all, &Selection::Container("abc".into())).unwrap_err(),
            "\"abc\" names 2 containers: containerd abc111, containerd abc222; give more of the id"
        );
        assert_eq!(
            select(&all, &Selection::Container("zzz".into())).unwrap_err(),
            "no container \"zzz\" on this disk (by id, name or id prefix; --list shows them)"
        );
        let pod = |container: Option<&str>| Selection::Pod {
            name: "web-1".into(),
            namespace: "shop".into(),
            container: container.map(str::to_string),
        };
        assert_eq!(ids(select(&all, &pod(None))), ["abc111", "abc222"]);
        assert_eq!(ids(select(&all, &pod(Some("side")))), ["abc222"]);
        assert_eq!(
            select(&all, &pod(Some("nope"))).unwrap_err(),
            "no pod shop/web-1 container \"nope\" on this disk (--list shows the pods)"
        );
        assert_eq!(
            ids(select(&all, &Selection::All)),
            ["abc111", "abc222", "def333", "0a0a0a"]
        );
        assert_eq!(bundle_file_name(&all[0]), "containerd-app-abc111.zip");
        assert_eq!(bundle_file_name(&all[3]), "podman-we_b_1-0a0a0a.zip");
        let mut unnamed = c(OfflineRuntime::Docker, &"e".repeat(64), "", None);
        unnamed.name = None;
        assert_eq!(bundle_file_name(&unnamed), "docker-eeeeeeeeeeee-eeeeeeeeeeee.zip");
        unnamed.name = Some("../..".into());
        assert_eq!(bundle_file_name(&unnamed), "docker-_..-eeeeeeeeeeee.zip");
        let hostile = c(OfflineRuntime::Docker, "../../etc/x", "/", None);
        assert_eq!(bundle_file_name(&hostile), "docker-_-_.._etc_x.zip");
    }
}
