//! containerd's containers on the disk (`docs/dev/deadbox.md` §1.4, §6.3).

use crate::codec::sha256_hex;
use crate::containerd::{self, ContainerRecord};
use crate::error::NodeError;
use crate::limits::{BOLT, SMALL_JSON};
use crate::model::{Layer, LayerRole, MetadataFile, OfflineContainer, OfflineRuntime, StoredFile};
use crate::oci;
use crate::scan::{Scan, kubelet_log_dir, pod_identity};
use forensic_bolt::Db;

/// containerd's root on the node.
pub const ROOT: &str = "/var/lib/containerd";
/// The metadata database.
pub const META_DB: &str = "/var/lib/containerd/io.containerd.metadata.v1.bolt/meta.db";
/// The overlayfs snapshotter's database.
pub const SNAPSHOTS_DB: &str = "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/metadata.db";
/// The overlayfs snapshotter's snapshot directories (`<id>/fs`).
pub const SNAPSHOTS_DIR: &str = "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots";
/// The content store's blobs.
pub const BLOBS: &str = "/var/lib/containerd/io.containerd.content.v1.content/blobs/sha256";
/// The CRI plugin's container records (`<id>/status`).
pub const CRI_CONTAINERS: &str = "/var/lib/containerd/io.containerd.grpc.v1.cri/containers";

/// Every containerd container on the disk.
pub(crate) fn scan(scan: &mut Scan<'_>) -> Vec<OfflineContainer> {
    if !scan.root.exists(META_DB) {
        return Vec::new();
    }
    let mut shared = Vec::new();
    let meta = match scan.read(META_DB, BOLT, &mut shared) {
        Ok(b) => b,
        Err(e) => {
            scan.fail(META_DB, &e);
            return Vec::new();
        }
    };
    let db = match Db::open(&meta) {
        Ok(db) => db,
        Err(source) => {
            scan.fail(
                META_DB,
                &NodeError::Bolt {
                    file: META_DB.into(),
                    source,
                },
            );
            return Vec::new();
        }
    };
    let (records, broken) = match containerd::containers(&db, META_DB) {
        Ok(r) => r,
        Err(e) => {
            scan.fail(META_DB, &e);
            return Vec::new();
        }
    };
    for b in &broken {
        scan.fail_container(META_DB, &format!("{}/{}", b.namespace, b.id), &b.error);
    }
    let needs_snapshots = records.iter().any(|r| r.snapshot_key.is_some());
    let snap_bytes = if !needs_snapshots {
        None
    } else if !scan.root.exists(SNAPSHOTS_DB) {
        scan.fail(
            SNAPSHOTS_DB,
            &NodeError::NotFound {
                path: SNAPSHOTS_DB.into(),
            },
        );
        None
    } else {
        match scan.read(SNAPSHOTS_DB, BOLT, &mut shared) {
            Ok(b) => Some(b),
            Err(e) => {
                scan.fail(SNAPSHOTS_DB, &e);
                None
            }
        }
    };
    let snap_db = snap_bytes.as_deref().and_then(|b| match Db::open(b) {
        Ok(db) => Some(db),
        Err(source) => {
            scan.fail(
                SNAPSHOTS_DB,
                &NodeError::Bolt {
                    file: SNAPSHOTS_DB.into(),
                    source,
                },
            );
            None
        }
    });
    records
        .into_iter()
        .map(|r| container(scan, &db, snap_db.as_ref(), &shared, r))
        .collect()
}

/// One container record → an [`OfflineContainer`].
fn container(
    scan: &mut Scan<'_>,
    db: &Db<'_>,
    snaps: Option<&Db<'_>>,
    shared: &[MetadataFile],
    r: ContainerRecord,
) -> OfflineContainer {
    let here = format!("meta.db v1/{}/containers/{}", r.namespace, r.id);
    let mut c = OfflineContainer::new(
        OfflineRuntime::Containerd {
            namespace: r.namespace.clone(),
        },
        r.id.clone(),
    );
    c.metadata_read.extend(shared.iter().cloned());
    c.labels = r.labels.clone();
    c.image_ref = r.image.clone().filter(|i| !i.is_empty());
    c.created = r.created.clone();
    let spec: Option<serde_json::Value> = r.spec_json.as_deref().and_then(|s| serde_json::from_slice(s).ok());
    let meta: Option<serde_json::Value> = r.cri_metadata.as_deref().and_then(|s| serde_json::from_slice(s).ok());
    let (pod, cri) = pod_identity(&r.labels, spec.as_ref(), meta.as_ref());
    let cri_name = meta
        .as_ref()
        .and_then(|m| m.pointer("/Metadata/Name"))
        .and_then(|v| v.as_str())
        .map(str::to_string);
    // The kubelet's container name ("app", what `crictl ps` and the live record show) before
    // the CRI's internal `NAME_POD_NS_UID_ATTEMPT`.
    c.name = cri.container_name.clone().or(cri_name);
    c.kubelet_log_dir = kubelet_log_dir(pod.as_ref(), cri.container_name.as_deref());
    c.pod = pod;
    if let Some(json) = &r.spec_json {
        c.spec.push(StoredFile {
            member: "oci-spec.json".into(),
            bytes: json.clone(),
            from: format!("{here}/spec (the value of its protobuf Any)"),
        });
    }
    if let Some(json) = &r.cri_metadata {
        c.spec.push(StoredFile {
            member: "cri-metadata.json".into(),
            bytes: json.clone(),
            from: format!("{here}/extensions/io.cri-containerd.container.metadata (the value of its protobuf Any)"),
        });
    }
    if let Some(log) = &cri.log_path {
        c.logs.push(log.clone());
    }
    state(scan, &mut c);
    if let (Some(snapshotter), Some(key)) = (&r.snapshotter, &r.snapshot_key) {
        layers(scan, db, snaps, &r.namespace, snapshotter, key, &mut c);
    }
    if let Some(reference) = c.image_ref.clone() {
        image(scan, db, &reference, &mut c);
    }
    scan.check_layers(&mut c);
    c
}

/// The CRI's status checkpoint, when there is one (a `ctr`-made container has none: unknown).
fn state(scan: &mut Scan<'_>, c: &mut OfflineContainer) {
    let path = format!("{CRI_CONTAINERS}/{}/status", c.id);
    if !scan.root.exists(&path) {
        return;
    }
    match scan
        .read(&path, SMALL_JSON, &mut c.metadata_read)
        .and_then(|b| Ok((containerd::cri_status(&b, &path)?, b)))
    {
        Ok((state, bytes)) => {
            c.state = state;
            c.spec.push(StoredFile {
                member: "cri-status.json".into(),
                bytes,
                from: path,
            });
        }
        Err(e) => scan.note(c, &path, &e),
    }
}

/// The image: manifest (through an index when it is one), config, their digests.
fn image(scan: &mut Scan<'_>, db: &Db<'_>, reference: &str, c: &mut OfflineContainer) {
    let ns = c.runtime.namespace().unwrap_or_default().to_string();
    let target = match containerd::image_target(db, META_DB, &ns, reference) {
        Ok(Some(t)) => t,
        Ok(None) => return,
        Err(e) => return scan.note(c, META_DB, &e),
    };
    c.image_digest = Some(target.clone());
    let Some(top) = blob(scan, c, &target, "manifest.json") else {
        return;
    };
    let manifest = if top.manifests.is_empty() {
        top
    } else {
        // An index: its stored form is kept; the manifest is its first entry the store holds.
        if let Some(last) = c.image.last_mut() {
            last.member = "index.json".into();
        }
        let Some(m) = top
            .manifests
            .iter()
            .find(|d| sha256_hex(d).is_some_and(|h| scan.root.exists(&format!("{BLOBS}/{h}"))))
        else {
            return;
        };
        match blob(scan, c, &m.clone(), "manifest.json") {
            Some(m) => m,
            None => return,
        }
    };
    if let Some(config) = manifest.config {
        c.image_id = Some(config.clone());
        if let Some(cfg) = blob(scan, c, &config, "config.json") {
            // The layer chain has the image's layers bottom first in the config: top first here.
            let image_layers: Vec<&mut Layer> = c.lowers.iter_mut().filter(|l| l.role == LayerRole::Image).collect();
            if image_layers.len() == cfg.diff_ids.len() {
                for (layer, diff) in image_layers.into_iter().zip(cfg.diff_ids.iter().rev()) {
                    layer.diff_id = Some(diff.clone());
                }
            }
        }
    }
}

/// Reads the content-store blob `digest` as section 9's `member`; `None` (with a problem) when
/// it is absent, of the wrong shape or not JSON.
fn blob(scan: &mut Scan<'_>, c: &mut OfflineContainer, digest: &str, member: &str) -> Option<oci::ImageJson> {
    let Some(hex) = sha256_hex(digest) else {
        scan.note(
            c,
            META_DB,
            &NodeError::record(
                META_DB,
                format!("image digest {digest:?} is not sha256: and 64 hex digits"),
            ),
        );
        return None;
    };
    let path = format!("{BLOBS}/{hex}");
    let parsed = scan
        .read(&path, SMALL_JSON, &mut c.metadata_read)
        .and_then(|b| Ok((oci::image_json(&b, &path)?, b)));
    match parsed {
        Ok((json, bytes)) => {
            if c.metadata_read.last().is_some_and(|r| r.sha256 != hex) {
                let e = NodeError::record(&path, "its SHA-256 is not its name: the blob was changed");
                scan.note(c, &path, &e);
            }
            c.image.push(StoredFile {
                member: member.into(),
                bytes,
                from: path,
            });
            Some(json)
        }
        Err(e) => {
            scan.note(c, &path, &e);
            None
        }
    }
}

/// The writable layer and the lowers from the snapshot chain.
fn layers(
    scan: &mut Scan<'_>,
    db: &Db<'_>,
    snaps: Option<&Db<'_>>,
    ns: &str,
    snapshotter: &str,
    key: &str,
    c: &mut OfflineContainer,
) {
    if snapshotter != "overlayfs" {
        let e = NodeError::record(
            META_DB,
            format!("snapshotter {snapshotter:?}: only overlayfs is read offline"),
        );
        return scan.note(c, META_DB, &e);
    }
    let backend = match containerd::backend_key(db, META_DB, ns, snapshotter, key) {
        Ok(Some(k)) => k,
        Ok(None) => {
            let e = NodeError::record(
                META_DB,
                format!("no snapshot {key:?} in v1/{ns}/snapshots/{snapshotter}"),
            );
            return scan.note(c, META_DB, &e);
        }
        Err(e) => return scan.note(c, META_DB, &e),
    };
    let Some(snaps) = snaps else {
        let e = NodeError::record(
            SNAPSHOTS_DB,
            "cannot be read (see the listing's problems), so the layers are unknown",
        );
        return scan.note(c, SNAPSHOTS_DB, &e);
    };
    let chain = match containerd::snapshot_chain(snaps, SNAPSHOTS_DB, &backend) {
        Ok(chain) => chain,
        Err(e) => return scan.note(c, SNAPSHOTS_DB, &e),
    };
    let dir = |id: u64| format!("{SNAPSHOTS_DIR}/{id}/fs");
    let mut it = chain.into_iter();
    // An active snapshot is the writable layer; a view or committed one has none.
    let mut first = it.next();
    if let Some(top) = first.take_if(|s| s.kind == 2) {
        c.upper = Some(dir(top.id));
    }
    c.lowers = first
        .into_iter()
        .chain(it)
        .map(|s| Layer {
            dir: dir(s.id),
            diff_id: None,
            role: LayerRole::Image,
        })
        .collect();
}
