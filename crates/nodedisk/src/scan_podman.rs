//! podman's containers on the disk (`docs/dev/deadbox.md` §3, §6.3).

use crate::codec::is_hex64;
use crate::error::NodeError;
use crate::limits::{BOLT, SMALL_JSON, STORE_JSON};
use crate::model::{Layer, LayerRole, MetadataFile, OfflineContainer, OfflineRuntime, PodIdentity, StoredFile};
use crate::podman::{self, BoltState, StorageContainer, StorageImage, StorageLayer};
use crate::scan::{Scan, kubelet_log_dir, pod_identity};
use base64ct::Encoding;
use forensic_bolt::Db;
use std::collections::BTreeMap;

/// containers/storage's graph root on the node.
pub const STORAGE: &str = "/var/lib/containers/storage";
/// The containers.
pub const CONTAINERS_JSON: &str = "/var/lib/containers/storage/overlay-containers/containers.json";
/// The layers.
pub const LAYERS_JSON: &str = "/var/lib/containers/storage/overlay-layers/layers.json";
/// The images.
pub const IMAGES_JSON: &str = "/var/lib/containers/storage/overlay-images/images.json";
/// libpod's state.
pub const BOLT_STATE: &str = "/var/lib/containers/storage/libpod/bolt_state.db";
/// The layer directories (`<id>/diff`).
pub const OVERLAY: &str = "/var/lib/containers/storage/overlay";

/// What every podman container's record shares.
struct Store {
    layers: BTreeMap<String, StorageLayer>,
    images: BTreeMap<String, StorageImage>,
    state: Option<BoltState>,
    reads: Vec<MetadataFile>,
}

/// Reads the shared store file `path` with `parse`; a problem (and `None`) when it cannot.
fn shared<T>(
    scan: &mut Scan<'_>,
    path: &str,
    max: u64,
    reads: &mut Vec<MetadataFile>,
    parse: impl FnOnce(&[u8]) -> Result<T, NodeError>,
) -> Option<T> {
    if !scan.root.exists(path) {
        return None;
    }
    match scan.read(path, max, reads).and_then(|b| parse(&b)) {
        Ok(v) => Some(v),
        Err(e) => {
            scan.fail(path, &e);
            None
        }
    }
}

/// Every podman container on the disk.
pub(crate) fn scan(scan: &mut Scan<'_>) -> Vec<OfflineContainer> {
    let mut reads = Vec::new();
    let Some(containers) = shared(scan, CONTAINERS_JSON, STORE_JSON, &mut reads, |b| {
        podman::containers_json(b, CONTAINERS_JSON)
    }) else {
        return Vec::new();
    };
    let layers = shared(scan, LAYERS_JSON, STORE_JSON, &mut reads, |b| {
        podman::layers_json(b, LAYERS_JSON)
    })
    .unwrap_or_default();
    let images = shared(scan, IMAGES_JSON, STORE_JSON, &mut reads, |b| {
        podman::images_json(b, IMAGES_JSON)
    })
    .unwrap_or_default();
    let state = shared(scan, BOLT_STATE, BOLT, &mut reads, |b| {
        let db = Db::open(b).map_err(|source| NodeError::Bolt {
            file: BOLT_STATE.into(),
            source,
        })?;
        podman::bolt_state(&db, BOLT_STATE)
    });
    let store = Store {
        layers: layers.into_iter().map(|l| (l.id.clone(), l)).collect(),
        images: images.into_iter().map(|i| (i.id.clone(), i)).collect(),
        state,
        reads,
    };
    containers.into_iter().map(|sc| container(scan, &store, sc)).collect()
}

/// One entry of `containers.json`.
fn container(scan: &mut Scan<'_>, store: &Store, sc: StorageContainer) -> OfflineContainer {
    let mut c = OfflineContainer::new(OfflineRuntime::Podman, sc.id.clone());
    c.metadata_read = store.reads.clone();
    c.name = sc.names.first().cloned();
    c.image_ref = sc.image_name();
    c.created = sc.created.clone();
    if is_hex64(&sc.image) {
        c.image_id = Some(format!("sha256:{}", sc.image));
    }
    let mut log_path = None;
    let mut pod_id = None;
    if let Some(b) = store.state.as_ref().and_then(|s| s.containers.get(&sc.id)) {
        let from = |what: &str| format!("{BOLT_STATE} ctr/{}/{what}", sc.id);
        if let Some(bytes) = &b.config {
            match podman::ctr_config(bytes, &from("config")) {
                Ok(cfg) => {
                    c.name = cfg.name.or(c.name.take());
                    c.labels = cfg.labels.unwrap_or_default();
                    c.image_ref = cfg.rootfs_image_name.or(c.image_ref.take());
                    c.created = cfg.created_time.or(c.created.take());
                    log_path = cfg.log_path;
                    pod_id = cfg.pod.filter(|p| !p.is_empty());
                }
                Err(e) => scan.note(&mut c, BOLT_STATE, &e),
            }
            c.spec.push(StoredFile {
                member: "libpod-config.json".into(),
                bytes: bytes.clone(),
                from: from("config"),
            });
        }
        if let Some(bytes) = &b.state {
            match podman::ctr_state(bytes, &from("state")) {
                Ok(state) => c.state = state,
                Err(e) => scan.note(&mut c, BOLT_STATE, &e),
            }
            c.spec.push(StoredFile {
                member: "libpod-state.json".into(),
                bytes: bytes.clone(),
                from: from("state"),
            });
        }
    }
    let (k8s_pod, cri) = pod_identity(&c.labels, None, None);
    c.kubelet_log_dir = kubelet_log_dir(k8s_pod.as_ref(), cri.container_name.as_deref());
    c.pod = k8s_pod.or_else(|| pod_id.and_then(|id| libpod_pod(scan, store, &mut c, &id)));
    let standard = format!("{STORAGE}/overlay-containers/{}/userdata/ctr.log", sc.id);
    if let Some(log) = log_path.iter().chain([&standard]).find(|p| scan.root.exists(p)) {
        c.logs.push(log.clone());
    }
    if let Err(e) = layers(store, &sc.layer, &mut c) {
        scan.note(&mut c, LAYERS_JSON, &e);
    }
    image(scan, store, &sc.image, &mut c);
    scan.check_layers(&mut c);
    c
}

/// libpod's pod `id` (name, no Kubernetes namespace), its config kept in section 6.
fn libpod_pod(scan: &mut Scan<'_>, store: &Store, c: &mut OfflineContainer, id: &str) -> Option<PodIdentity> {
    let bytes = store.state.as_ref()?.pods.get(id)?;
    let from = format!("{BOLT_STATE} pod/{id}/config");
    c.spec.push(StoredFile {
        member: "libpod-pod.json".into(),
        bytes: bytes.clone(),
        from: from.clone(),
    });
    match podman::pod_config(bytes, &from) {
        Ok(p) => Some(PodIdentity {
            name: p.name,
            namespace: String::new(),
            uid: Some(id.into()),
        }),
        Err(e) => {
            scan.note(c, BOLT_STATE, &e);
            None
        }
    }
}

/// The writable layer `layer` and its parents (top first) from `layers.json`.
fn layers(store: &Store, layer: &str, c: &mut OfflineContainer) -> Result<(), NodeError> {
    if !is_hex64(layer) {
        return Err(NodeError::record(
            CONTAINERS_JSON,
            format!("container {}: layer {layer:?} is not 64 hex digits", c.id),
        ));
    }
    c.upper = Some(format!("{OVERLAY}/{layer}/diff"));
    let Some(top) = store.layers.get(layer) else {
        return Err(NodeError::record(LAYERS_JSON, format!("no layer {layer}")));
    };
    let Some(parent) = top.parent.clone().filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let chain = crate::chain::follow(&parent, LAYERS_JSON, |id| {
        let l = store
            .layers
            .get(id)
            .ok_or_else(|| NodeError::record(LAYERS_JSON, format!("no layer {id}")))?;
        let layer = Layer {
            dir: format!("{OVERLAY}/{id}/diff"),
            diff_id: l.diff_digest.clone().filter(|d| !d.is_empty()),
            role: LayerRole::Image,
        };
        Ok((layer, l.parent.clone().filter(|p| !p.is_empty())))
    })?;
    c.lowers = chain;
    Ok(())
}

/// The image's manifest digest from `images.json`, its manifest and config files.
fn image(scan: &mut Scan<'_>, store: &Store, image: &str, c: &mut OfflineContainer) {
    let Some(img) = store.images.get(image) else {
        return;
    };
    c.image_digest = img.digest.clone().filter(|d| !d.is_empty());
    let dir = format!("{STORAGE}/overlay-images/{image}");
    // containers/storage names a big-data file by its key, base64 with a `=` prefix when the
    // key is not a plain name (`sha256:<id>` is the config).
    let config_name = format!(
        "={}",
        base64ct::Base64::encode_string(format!("sha256:{image}").as_bytes())
    );
    for (file, member) in [("manifest", "manifest.json"), (config_name.as_str(), "config.json")] {
        let path = format!("{dir}/{file}");
        if !scan.root.exists(&path) {
            continue;
        }
        match scan.read(&path, SMALL_JSON, &mut c.metadata_read) {
            Ok(bytes) => c.image.push(StoredFile {
                member: member.into(),
                bytes,
                from: path,
            }),
            Err(e) => scan.note(c, &path, &e),
        }
    }
}
