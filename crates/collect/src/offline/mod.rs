//! Dead-box collection: one container found on a node's disk (`forensic collect --offline-root`,
//! `forensic_nodedisk`), collected into the same bundle as a live one, from the files alone
//! (`docs/dev/deadbox.md` §6.2).
//!
//! - Sections 1–3 are gaps "node offline: no live state".
//! - Section 4: the runtime's log files and the kubelet's log directory of the container.
//! - Section 5: the writable layer (`upper/…`, `upper-changes.jsonl`) read from its directory,
//!   and `tree-index.jsonl`, the merged view computed from the layers' indexes ([`merge`]): no
//!   overlay mount, no link followed. The live container's mounts are a gap.
//! - Section 6: the container's spec and metadata as the runtime stored them, byte for byte, and
//!   `offline-source.json`: what ROOT was, how it was opened, and every metadata file read.
//! - Sections 7–8: the node's audit log at its usual path under ROOT (or `--audit-log`);
//!   `--falco-log` when given.
//! - Section 9: the image as stored, and each image layer's index (`layers/N.jsonl`).
//!
//! # Guarantees
//! - Nothing under ROOT is written. Every node path is opened through
//!   [`NodeRoot`](forensic_nodedisk::NodeRoot) (`RESOLVE_IN_ROOT`: an absolute link on the node
//!   stays inside ROOT) with `O_NOATIME`; inside a layer directory, the collector's own walks
//!   (`RESOLVE_NO_SYMLINKS`, `O_NOATIME`) take over, so a link in the container is recorded, never
//!   followed.
//! - A layer directory that is missing is a gap naming it, and the merged view says which layers
//!   it was computed from.

pub mod merge;
pub(crate) mod sections;
pub mod select;
mod stack;

use crate::target::Resolved;
use forensic_bundle::manifest::Target;
use forensic_evidence::records::container::{ContainerRecord, Runtime};
use forensic_nodedisk::{NodeRoot, OfflineContainer, OfflineRuntime};
use std::sync::Arc;

/// A container on a node's disk, with the root it was found under.
#[derive(Debug, Clone)]
pub struct OfflineTarget {
    /// The node's root, opened once.
    pub root: Arc<NodeRoot>,
    /// The container as `NodeRoot::list` found it.
    pub container: Box<OfflineContainer>,
}

impl OfflineTarget {
    /// The container `container` found under `root`.
    pub fn new(root: Arc<NodeRoot>, container: OfflineContainer) -> OfflineTarget {
        OfflineTarget {
            root,
            container: Box::new(container),
        }
    }
}

/// Two targets are the same container under the same root.
impl PartialEq for OfflineTarget {
    fn eq(&self, other: &Self) -> bool {
        self.root.path() == other.root.path()
            && self.container.runtime == other.container.runtime
            && self.container.id == other.container.id
    }
}

impl Eq for OfflineTarget {}

/// What the offline sections share: the target, and the image layers' indexes made in section 5
/// for section 9.
#[derive(Debug)]
pub struct Offline {
    /// The container and its root.
    pub target: OfflineTarget,
    pub(crate) layers: Vec<sections::LayerWalk>,
}

/// The resolved target of an offline container: no process, the normalised record made from
/// what the node's metadata says.
pub(crate) fn resolve(t: &OfflineTarget) -> Resolved {
    let c = &t.container;
    let mut r = Resolved::empty(0);
    r.record = Some(container_record(c));
    if let Some(p) = &c.pod {
        r.pod = Some((p.name.clone(), p.namespace.clone()));
        r.pod_uid = p.uid.clone();
    }
    r.offline = Some(Box::new(Offline {
        target: t.clone(),
        layers: Vec::new(),
    }));
    r
}

/// The manifest's target record of an offline container: no PID, and the node only when the
/// responder names it.
pub(crate) fn manifest_target(r: &Resolved, node: Option<&str>) -> Target {
    let rec = r.record.as_ref();
    Target {
        runtime: rec.map(|x| x.runtime.as_str().to_string()),
        container_id: rec.map(|x| x.id.clone()),
        container_name: rec.and_then(|x| x.name.clone()),
        pod: r.pod.as_ref().map(|p| p.0.clone()),
        namespace: r.pod.as_ref().map(|p| p.1.clone()).filter(|n| !n.is_empty()),
        node: node.map(str::to_string),
        pid: None,
        image_ref: rec.and_then(|x| x.image_ref.clone()),
        image_digest: rec.and_then(|x| x.image_digest.clone()),
    }
}

/// The runtime of the normalised record.
fn record_runtime(rt: &OfflineRuntime) -> Runtime {
    match rt {
        OfflineRuntime::Containerd { .. } => Runtime::Containerd,
        OfflineRuntime::Docker => Runtime::Docker,
        OfflineRuntime::Podman => Runtime::Podman,
    }
}

/// The normalised container record (`6-podspec/container.json`) of what the node's metadata
/// says; layer directories and log files are node paths (under ROOT).
pub fn container_record(c: &OfflineContainer) -> ContainerRecord {
    ContainerRecord {
        runtime: record_runtime(&c.runtime),
        id: c.id.clone(),
        name: c.name.clone(),
        pid: None,
        state: Some(c.state.status.clone()),
        created: c.created.clone(),
        image_ref: c.image_ref.clone(),
        image_id: c.image_id.clone(),
        image_digest: c.image_digest.clone(),
        labels: c.labels.clone(),
        pod: c.pod.as_ref().map(|p| p.name.clone()),
        namespace: c.pod.as_ref().map(|p| p.namespace.clone()).filter(|n| !n.is_empty()),
        pod_uid: c.pod.as_ref().and_then(|p| p.uid.clone()),
        log_path: c.logs.first().cloned(),
        upper_dir: c.upper.clone(),
        lower_dirs: c.lowers.iter().map(|l| l.dir.clone()).collect(),
        merged_dir: None,
        privileged: false,
        cap_add: Vec::new(),
        cap_drop: Vec::new(),
        capabilities: None,
        seccomp_profile: None,
        apparmor_profile: None,
        run_as_user: None,
        read_only_rootfs: false,
        mounts: Vec::new(),
        env: Vec::new(),
        started: c.state.started.clone(),
        entrypoint: Vec::new(),
        command: Vec::new(),
        process_args: Vec::new(),
        working_dir: None,
        exposed_ports: Vec::new(),
    }
}

#[cfg(test)]
pub(crate) mod fixture;
#[cfg(test)]
mod tests;
