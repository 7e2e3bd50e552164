//! Docker's containers on the disk (`docs/dev/deadbox.md` §2.2–2.3, §6.3).

use crate::codec::{is_hex64, sha256_hex};
use crate::docker::{self, LineShape};
use crate::error::NodeError;
use crate::limits::{LINE, MAX_DIR_ENTRIES, SMALL_JSON, STORE_JSON};
use crate::model::{Layer, LayerRole, MetadataFile, OfflineContainer, OfflineRuntime, StoredFile};
use crate::oci;
use crate::scan::{Scan, kubelet_log_dir, pod_identity};
use std::collections::BTreeMap;

/// Docker's data root on the node.
pub const ROOT: &str = "/var/lib/docker";
/// `containers/<id>/`.
pub const CONTAINERS: &str = "/var/lib/docker/containers";
/// The overlay2 layer directories (`<cache-id>/diff`).
pub const OVERLAY2: &str = "/var/lib/docker/overlay2";
/// The layer database.
pub const LAYERDB: &str = "/var/lib/docker/image/overlay2/layerdb";
/// Image configs by digest.
pub const IMAGEDB: &str = "/var/lib/docker/image/overlay2/imagedb/content/sha256";
/// References → image ids.
pub const REPOSITORIES: &str = "/var/lib/docker/image/overlay2/repositories.json";

/// Every Docker container on the disk.
pub(crate) fn scan(scan: &mut Scan<'_>) -> Vec<OfflineContainer> {
    if !scan.root.exists(CONTAINERS) {
        return Vec::new();
    }
    let ids = match scan.root.list_dir(CONTAINERS, MAX_DIR_ENTRIES) {
        Ok(ids) => ids,
        Err(e) => {
            scan.fail(CONTAINERS, &e);
            return Vec::new();
        }
    };
    let mut shared = Vec::new();
    let repos = if scan.root.exists(REPOSITORIES) {
        match scan
            .read(REPOSITORIES, STORE_JSON, &mut shared)
            .and_then(|b| docker::repositories(&b, REPOSITORIES))
        {
            Ok(r) => r,
            Err(e) => {
                scan.fail(REPOSITORIES, &e);
                BTreeMap::new()
            }
        }
    } else {
        BTreeMap::new()
    };
    let mut found = Vec::new();
    for id in ids {
        if !is_hex64(&id) {
            let e = NodeError::record(
                format!("{CONTAINERS}/{id}"),
                "not a container directory: the name is not 64 hex digits",
            );
            scan.fail_container(&format!("{CONTAINERS}/{id}"), &id, &e);
            continue;
        }
        if let Some(c) = container(scan, &id, &repos, &shared) {
            found.push(c);
        }
    }
    found
}

/// One `containers/<id>/`; `None` (with a problem) when its `config.v2.json` cannot be read.
fn container(
    scan: &mut Scan<'_>,
    id: &str,
    repos: &BTreeMap<String, String>,
    shared: &[MetadataFile],
) -> Option<OfflineContainer> {
    let dir = format!("{CONTAINERS}/{id}");
    let cfg_path = format!("{dir}/config.v2.json");
    let mut reads = shared.to_vec();
    let parsed = scan
        .read(&cfg_path, SMALL_JSON, &mut reads)
        .and_then(|b| Ok((docker::config_v2(&b, &cfg_path)?, b)));
    let (cfg, bytes) = match parsed {
        Ok(p) => p,
        Err(e) => {
            scan.fail_container(&cfg_path, id, &e);
            return None;
        }
    };
    if cfg.id != id {
        let e = NodeError::record(&cfg_path, format!("ID {} is not the directory's name", cfg.id));
        scan.fail_container(&cfg_path, id, &e);
        return None;
    }
    let mut c = OfflineContainer::new(OfflineRuntime::Docker, id.into());
    c.metadata_read = reads;
    c.spec.push(StoredFile {
        member: "config.v2.json".into(),
        bytes,
        from: cfg_path.clone(),
    });
    let host_path = format!("{dir}/hostconfig.json");
    if scan.root.exists(&host_path) {
        match scan.read(&host_path, SMALL_JSON, &mut c.metadata_read) {
            Ok(bytes) => {
                if let Err(e) = docker::hostconfig_log_type(&bytes, &host_path) {
                    scan.note(&mut c, &host_path, &e);
                }
                c.spec.push(StoredFile {
                    member: "hostconfig.json".into(),
                    bytes,
                    from: host_path,
                });
            }
            Err(e) => scan.note(&mut c, &host_path, &e),
        }
    }
    c.name = cfg.name.clone();
    c.created = cfg.created.clone();
    c.image_ref = cfg.image_ref.clone();
    c.image_id = cfg.image_id.clone();
    c.labels = cfg.labels.clone();
    c.state = cfg.state.clone();
    let (pod, cri) = pod_identity(&c.labels, None, None);
    c.kubelet_log_dir = kubelet_log_dir(pod.as_ref(), cri.container_name.as_deref());
    c.pod = pod;
    // LogPath is the daemon's path, which a copied data root may not have: then the standard one.
    let standard = format!("{dir}/{id}-json.log");
    if let Some(log) = cfg.log_path.iter().chain([&standard]).find(|p| scan.root.exists(p)) {
        c.logs.push(log.clone());
    }
    if cfg.driver.as_deref().is_some_and(|d| d != "overlay2") {
        let e = NodeError::record(
            &cfg_path,
            format!("storage driver {:?}: only overlay2 is read offline", cfg.driver),
        );
        scan.note(&mut c, &cfg_path, &e);
    } else if let Err(e) = layers(scan, &mut c) {
        let file = e.path().to_string();
        scan.note(&mut c, &file, &e);
    }
    image(scan, &mut c, repos);
    scan.check_layers(&mut c);
    Some(c)
}

/// Reads the one-line layerdb file `path` of `shape`.
fn line(scan: &Scan<'_>, path: &str, shape: LineShape, reads: &mut Vec<MetadataFile>) -> Result<String, NodeError> {
    scan.read(path, LINE, reads)
        .and_then(|b| docker::layer_line(&b, path, shape))
}

/// The writable layer, the init layer and the image layers (top first) from `layerdb`.
fn layers(scan: &mut Scan<'_>, c: &mut OfflineContainer) -> Result<(), NodeError> {
    let mounts = format!("{LAYERDB}/mounts/{}", c.id);
    let mount_id = line(
        scan,
        &format!("{mounts}/mount-id"),
        LineShape::Hex64,
        &mut c.metadata_read,
    )?;
    c.upper = Some(format!("{OVERLAY2}/{mount_id}/diff"));
    let init_path = format!("{mounts}/init-id");
    if scan.root.exists(&init_path) {
        let init = line(scan, &init_path, LineShape::Init, &mut c.metadata_read)?;
        c.lowers.push(Layer {
            dir: format!("{OVERLAY2}/{init}/diff"),
            diff_id: None,
            role: LayerRole::Init,
        });
    }
    let parent_path = format!("{mounts}/parent");
    if !scan.root.exists(&parent_path) {
        return Ok(()); // FROM scratch with no layers.
    }
    let top = line(scan, &parent_path, LineShape::Digest, &mut c.metadata_read)?;
    let reads = &mut c.metadata_read;
    let chain = crate::chain::follow(&top, &parent_path, |chain_id| {
        let hex = sha256_hex(chain_id).unwrap_or_default();
        let dir = format!("{LAYERDB}/sha256/{hex}");
        let cache = line(scan, &format!("{dir}/cache-id"), LineShape::Hex64, reads)?;
        let diff = line(scan, &format!("{dir}/diff"), LineShape::Digest, reads)?;
        let parent_file = format!("{dir}/parent");
        let parent = if scan.root.exists(&parent_file) {
            Some(line(scan, &parent_file, LineShape::Digest, reads)?)
        } else {
            None
        };
        let layer = Layer {
            dir: format!("{OVERLAY2}/{cache}/diff"),
            diff_id: Some(diff),
            role: LayerRole::Image,
        };
        Ok((layer, parent))
    })?;
    c.lowers.extend(chain);
    Ok(())
}

/// The image config from `imagedb` (its SHA-256 checked against its name) and the manifest
/// digest from a `repo@sha256:…` reference of `repositories.json`, when it has one.
fn image(scan: &mut Scan<'_>, c: &mut OfflineContainer, repos: &BTreeMap<String, String>) {
    let Some(image_id) = c.image_id.clone() else {
        return;
    };
    c.image_digest = repos
        .iter()
        .filter(|(r, id)| **id == image_id && r.contains('@'))
        .find_map(|(r, _)| r.rsplit_once('@').map(|(_, d)| d.to_string()));
    let Some(hex) = sha256_hex(&image_id) else {
        let e = NodeError::record(
            format!("{CONTAINERS}/{}/config.v2.json", c.id),
            format!("Image {image_id:?} is not sha256: and 64 hex digits"),
        );
        return scan.note(c, &format!("{CONTAINERS}/{}/config.v2.json", c.id), &e);
    };
    let path = format!("{IMAGEDB}/{hex}");
    let bytes = match scan.read(&path, SMALL_JSON, &mut c.metadata_read) {
        Ok(b) => b,
        Err(e) => return scan.note(c, &path, &e),
    };
    if c.metadata_read.last().is_some_and(|r| r.sha256 != hex) {
        let e = NodeError::record(&path, "its SHA-256 is not its name: the image config was changed");
        scan.note(c, &path, &e);
    }
    if let Err(e) = oci::image_json(&bytes, &path) {
        scan.note(c, &path, &e);
    }
    c.image.push(StoredFile {
        member: "config.json".into(),
        bytes,
        from: path,
    });
}
