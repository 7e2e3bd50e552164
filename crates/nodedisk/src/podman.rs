//! podman 4.3's records, as pure parsers: containers/storage's `containers.json`,
//! `layers.json`, `images.json`, and libpod's `bolt_state.db` (`ctr/<id>/{config,state}`,
//! `pod/<id>/config`) (`docs/dev/deadbox.md` §3).

use crate::codec::is_hex64;
use crate::error::NodeError;
use crate::model::LastState;
use forensic_bolt::{Db, Value};
use serde::Deserialize;
use std::collections::BTreeMap;

/// One entry of `overlay-containers/containers.json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StorageContainer {
    /// The container id (64 hex digits).
    pub id: String,
    /// Its names.
    #[serde(default)]
    pub names: Vec<String>,
    /// The image id.
    #[serde(default)]
    pub image: String,
    /// The container's (writable) layer id.
    #[serde(default)]
    pub layer: String,
    /// libpod's metadata, a JSON string (`image-name`, `name`, …).
    #[serde(default)]
    pub metadata: String,
    /// Creation time.
    #[serde(default)]
    pub created: Option<String>,
}

impl StorageContainer {
    /// `metadata`'s `image-name`.
    pub fn image_name(&self) -> Option<String> {
        #[derive(Deserialize)]
        struct Meta {
            #[serde(rename = "image-name")]
            image_name: Option<String>,
        }
        serde_json::from_str::<Meta>(&self.metadata).ok()?.image_name
    }
}

/// One entry of `overlay-layers/layers.json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StorageLayer {
    /// The layer id (64 hex digits).
    pub id: String,
    /// The parent layer id.
    #[serde(default)]
    pub parent: Option<String>,
    /// The layer's diff id.
    #[serde(default, rename = "diff-digest")]
    pub diff_digest: Option<String>,
}

/// One entry of `overlay-images/images.json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StorageImage {
    /// The image id (its config digest's hex).
    pub id: String,
    /// The manifest digest.
    #[serde(default)]
    pub digest: Option<String>,
    /// Its references.
    #[serde(default)]
    pub names: Vec<String>,
    /// Its top layer.
    #[serde(default)]
    pub layer: Option<String>,
}

/// Parses a containers/storage JSON list, checking every `id` is 64 hex digits.
fn store_list<T: for<'de> Deserialize<'de>>(
    bytes: &[u8],
    file: &str,
    id: impl Fn(&T) -> &str,
) -> Result<Vec<T>, NodeError> {
    let list: Vec<T> = serde_json::from_slice(bytes).map_err(|e| NodeError::json(file, e))?;
    if let Some(bad) = list.iter().map(&id).find(|i| !is_hex64(i)) {
        let shown: String = bad.chars().take(80).collect();
        return Err(NodeError::record(file, format!("id {shown:?} is not 64 hex digits")));
    }
    Ok(list)
}

/// Parses `containers.json`.
///
/// # Errors
/// [`NodeError::Json`] or [`NodeError::Record`] (an id of the wrong shape) naming `file`.
pub fn containers_json(bytes: &[u8], file: &str) -> Result<Vec<StorageContainer>, NodeError> {
    store_list(bytes, file, |c: &StorageContainer| &c.id)
}

/// Parses `layers.json`.
///
/// # Errors
/// As [`containers_json`].
pub fn layers_json(bytes: &[u8], file: &str) -> Result<Vec<StorageLayer>, NodeError> {
    store_list(bytes, file, |l: &StorageLayer| &l.id)
}

/// Parses `images.json`.
///
/// # Errors
/// As [`containers_json`].
pub fn images_json(bytes: &[u8], file: &str) -> Result<Vec<StorageImage>, NodeError> {
    store_list(bytes, file, |i: &StorageImage| &i.id)
}

/// A container's values in `bolt_state.db`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BoltContainer {
    /// `ctr/<id>/config` as stored (JSON).
    pub config: Option<Vec<u8>>,
    /// `ctr/<id>/state` as stored (JSON).
    pub state: Option<Vec<u8>>,
}

/// libpod's `bolt_state.db`: containers and pods by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BoltState {
    /// `ctr/<id>/`.
    pub containers: BTreeMap<String, BoltContainer>,
    /// `pod/<id>/config` as stored (JSON).
    pub pods: BTreeMap<String, Vec<u8>>,
}

/// Reads `ctr/` and `pod/` of `bolt_state.db`.
///
/// # Errors
/// [`NodeError::Bolt`] naming `file`.
pub fn bolt_state(db: &Db<'_>, file: &str) -> Result<BoltState, NodeError> {
    let bolt = |source| NodeError::Bolt {
        file: file.into(),
        source,
    };
    let mut out = BoltState::default();
    if let Some(ctrs) = db.bucket(&[b"ctr"]).map_err(bolt)? {
        for e in ctrs.iter() {
            let e = e.map_err(bolt)?;
            let Value::Bucket(b) = &e.value else { continue };
            let get = |k: &[u8]| -> Result<Option<Vec<u8>>, NodeError> {
                Ok(b.get(k).map_err(bolt)?.and_then(|v| v.as_plain().map(<[u8]>::to_vec)))
            };
            let c = BoltContainer {
                config: get(b"config")?,
                state: get(b"state")?,
            };
            out.containers.insert(String::from_utf8_lossy(e.key).into_owned(), c);
        }
    }
    if let Some(pods) = db.bucket(&[b"pod"]).map_err(bolt)? {
        for e in pods.iter() {
            let e = e.map_err(bolt)?;
            let Value::Bucket(b) = &e.value else { continue };
            if let Some(cfg) = b.get(b"config").map_err(bolt)?.and_then(|v| v.as_plain()) {
                out.pods
                    .insert(String::from_utf8_lossy(e.key).into_owned(), cfg.to_vec());
            }
        }
    }
    Ok(out)
}

/// What `ctr/<id>/config` says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CtrConfig {
    /// The container's name.
    #[serde(default)]
    pub name: Option<String>,
    /// The pod id.
    #[serde(default)]
    pub pod: Option<String>,
    /// Labels.
    #[serde(default)]
    pub labels: Option<BTreeMap<String, String>>,
    /// The image reference.
    #[serde(default)]
    pub rootfs_image_name: Option<String>,
    /// The image id.
    #[serde(default, rename = "rootfsImageID")]
    pub rootfs_image_id: Option<String>,
    /// Creation time.
    #[serde(default)]
    pub created_time: Option<String>,
    /// The log file (a node path), for the `k8s-file` driver.
    #[serde(default)]
    pub log_path: Option<String>,
}

/// Parses `ctr/<id>/config`.
///
/// # Errors
/// [`NodeError::Json`] naming `file`.
pub fn ctr_config(bytes: &[u8], file: &str) -> Result<CtrConfig, NodeError> {
    serde_json::from_slice(bytes).map_err(|e| NodeError::json(file, e))
}

/// Parses `ctr/<id>/state` into a [`LastState`], the status word from libpod's
/// `define.ContainerStatus` numbers.
///
/// # Errors
/// [`NodeError::Json`] naming `file`.
pub fn ctr_state(bytes: &[u8], file: &str) -> Result<LastState, NodeError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct State {
        #[serde(default)]
        state: i64,
        #[serde(default)]
        pid: Option<i64>,
        #[serde(default)]
        started_time: Option<String>,
        #[serde(default)]
        finished_time: Option<String>,
        #[serde(default)]
        exit_code: Option<i64>,
        #[serde(default)]
        exited: bool,
    }
    let s: State = serde_json::from_slice(bytes).map_err(|e| NodeError::json(file, e))?;
    let status = match s.state {
        1 => "configured",
        2 => "created",
        3 => "running",
        4 => "stopped",
        5 => "paused",
        6 => "exited",
        7 => "removing",
        8 => "stopping",
        _ => "unknown",
    };
    let set = |t: Option<String>| t.filter(|t| !t.is_empty() && t != "0001-01-01T00:00:00Z");
    Ok(LastState {
        status: status.into(),
        exit_code: if s.exited {
            s.exit_code.or(Some(0))
        } else {
            s.exit_code.filter(|c| *c != 0)
        },
        pid: s.pid.filter(|p| *p != 0),
        started: set(s.started_time),
        finished: set(s.finished_time),
        source: file.into(),
    })
}

/// What `pod/<id>/config` says: the pod's name and labels.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct PodConfig {
    /// The pod's name.
    #[serde(default)]
    pub name: String,
    /// The pod's labels.
    #[serde(default)]
    pub labels: Option<BTreeMap<String, String>>,
}

/// Parses `pod/<id>/config`.
///
/// # Errors
/// [`NodeError::Json`] naming `file`.
pub fn pod_config(bytes: &[u8], file: &str) -> Result<PodConfig, NodeError> {
    serde_json::from_slice(bytes).map_err(|e| NodeError::json(file, e))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const STATE: &[u8] = include_bytes!("../../bolt/tests/data/podman-bolt_state.db");
    const VICTIM: &str = "6e8f8f325f16e2edaffee4728700e7fad5fa3fc037ca5f5f69045a6ec0ccd193";
    const POD: &str = "d8a7379977084c262cb08ad94cde2127d12c7d99868d2dcb5f7034b7f6e4151d";

    #[test]
    fn the_real_bolt_state() {
        let db = Db::open(STATE).unwrap();
        let st = bolt_state(&db, "/b").unwrap();
        assert_eq!(st.containers.len(), 2);
        let v = &st.containers[VICTIM];
        let cfg = ctr_config(v.config.as_deref().unwrap(), "/b ctr").unwrap();
        assert_eq!(cfg.name.as_deref(), Some("bolt-pm-victim"));
        assert_eq!(cfg.labels.unwrap()["io.kubernetes.pod.name"], "web-p");
        assert_eq!(cfg.rootfs_image_name.as_deref(), Some("localhost/bolt-pm:1"));
        let state = ctr_state(v.state.as_deref().unwrap(), "/b state").unwrap();
        assert_eq!(
            (state.status.as_str(), state.pid, state.exit_code),
            ("configured", None, None)
        );
        let pod = pod_config(&st.pods[POD], "/b pod").unwrap();
        assert_eq!(pod.name, "bolt-pod");
        assert_eq!(pod.labels.unwrap()["team"], "red");
    }

    #[test]
    fn states_as_libpod_numbers_them() {
        let s = ctr_state(
            br#"{"state":6,"pid":null,"finishedTime":"2026-12-02T10:19:35.293419974Z","exitCode":137,"exited":true}"#,
            "/s",
        )
        .unwrap();
        assert_eq!((s.status.as_str(), s.exit_code), ("exited", Some(137)));
        assert_eq!(s.finished.as_deref(), Some("2026-12-02T10:19:35.293419974Z"));
        let s = ctr_state(br#"{"state":3,"pid":27927,"startedTime":"2026-12-02T10:19:14.893403252Z","finishedTime":"0001-01-01T00:00:00Z"}"#, "/s").unwrap();
        assert_eq!((s.status.as_str(), s.pid, s.finished), ("running", Some(27927), None));
    }

    #[test]
    fn store_lists_check_ids() {
        let e = layers_json(br#"[{"id":"../../x"}]"#, "/layers.json").unwrap_err();
        assert_eq!(e.to_string(), "/layers.json: id \"../../x\" is not 64 hex digits");
        assert!(
            containers_json(b"{", "/c")
                .unwrap_err()
                .to_string()
                .starts_with("/c: malformed JSON")
        );
        let id = "a".repeat(64);
        let c = containers_json(
            format!(r#"[{{"id":"{id}","names":["p"],"metadata":"{{\"image-name\":\"localhost/x:1\"}}"}}]"#).as_bytes(),
            "/c",
        )
        .unwrap();
        assert_eq!(c[0].image_name().as_deref(), Some("localhost/x:1"));
    }
}
