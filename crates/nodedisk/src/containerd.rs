//! containerd 1.6's records, as pure parsers: `meta.db` (containers, images, snapshot keys), the
//! overlayfs snapshotter's `metadata.db` (backend key → id, parent chain) and the CRI's status
//! checkpoint (`docs/dev/deadbox.md` §1.2–1.4).

use crate::codec::{go_binary_time, protobuf_any, unix_nanos, uvarint};
use crate::error::NodeError;
use crate::model::LastState;
use forensic_bolt::{Bucket, Db, Value};
use std::collections::BTreeMap;

/// One container of `meta.db` (`v1/<namespace>/containers/<id>/`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerRecord {
    /// The containerd namespace.
    pub namespace: String,
    /// The container id (the bucket key).
    pub id: String,
    /// `image`: the image reference.
    pub image: Option<String>,
    /// `labels/`.
    pub labels: BTreeMap<String, String>,
    /// `snapshotter` (`overlayfs`).
    pub snapshotter: Option<String>,
    /// `snapshotKey`.
    pub snapshot_key: Option<String>,
    /// `createdat` as RFC 3339 UTC.
    pub created: Option<String>,
    /// `runtime/name` (`io.containerd.runc.v2`).
    pub runtime_name: Option<String>,
    /// `spec` as stored: a protobuf `Any`.
    pub spec_any: Option<Vec<u8>>,
    /// The OCI spec JSON inside `spec`.
    pub spec_json: Option<Vec<u8>>,
    /// `extensions/io.cri-containerd.container.metadata`: the CRI's own record (JSON inside an `Any`).
    pub cri_metadata: Option<Vec<u8>>,
}

/// One snapshot of the snapshotter's `metadata.db` (`v1/snapshots/<backend key>/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The backend key (`k8s.io/6/dbx-victim2`).
    pub key: String,
    /// `id`: the directory `snapshots/<id>/fs`.
    pub id: u64,
    /// `kind`: 1 view, 2 active, 3 committed.
    pub kind: u8,
    /// `parent`: the parent's backend key.
    pub parent: Option<String>,
}

/// A bbolt error as a [`NodeError`] naming `file`.
fn bolt(file: &str) -> impl Fn(forensic_bolt::Error) -> NodeError + '_ {
    move |source| NodeError::Bolt {
        file: file.into(),
        source,
    }
}

/// `bytes` as UTF-8, or an error naming `file` and `what`.
fn text(file: &str, what: &str, bytes: &[u8]) -> Result<String, NodeError> {
    std::str::from_utf8(bytes)
        .map(str::to_string)
        .map_err(|_| NodeError::record(file, format!("{what}: not UTF-8")))
}

/// A plain value of `bucket`, `None` when absent.
fn plain<'a>(bucket: &Bucket<'a>, key: &[u8], file: &str) -> Result<Option<&'a [u8]>, NodeError> {
    Ok(bucket.get(key).map_err(bolt(file))?.and_then(|v| v.as_plain()))
}

/// A container of `meta.db` whose record cannot be read.
#[derive(Debug)]
pub struct BrokenContainer {
    /// The containerd namespace.
    pub namespace: String,
    /// The container id (the bucket key, lossily as UTF-8).
    pub id: String,
    /// What is wrong.
    pub error: NodeError,
}

/// Every container of every namespace of `meta.db`, and the containers whose record is broken.
/// `file` names the database in errors.
///
/// # Errors
/// A [`NodeError`] naming `file` when the `v1` bucket or a namespace's container list cannot
/// be read.
pub fn containers(db: &Db<'_>, file: &str) -> Result<(Vec<ContainerRecord>, Vec<BrokenContainer>), NodeError> {
    let mut found = Vec::new();
    let mut broken = Vec::new();
    let Some(v1) = db.bucket(&[b"v1"]).map_err(bolt(file))? else {
        return Ok((found, broken));
    };
    for ns in v1.iter() {
        let ns = ns.map_err(bolt(file))?;
        let Value::Bucket(ns_bucket) = &ns.value else {
            continue; // `version`
        };
        let namespace = text(file, "v1/<namespace>", ns.key)?;
        let Some(ctrs) = ns_bucket.bucket(b"containers").map_err(bolt(file))? else {
            continue;
        };
        for ctr in ctrs.iter() {
            let ctr = ctr.map_err(bolt(file))?;
            let id = String::from_utf8_lossy(ctr.key).into_owned();
            let here = format!("{file} v1/{namespace}/containers/{id}");
            let record = match &ctr.value {
                Value::Bucket(b) => container(b, &namespace, &id, &here),
                Value::Plain(_) => Err(NodeError::record(&here, "a plain value, not a container bucket")),
            };
            match record {
                Ok(r) => found.push(r),
                Err(error) => broken.push(BrokenContainer {
                    namespace: namespace.clone(),
                    id,
                    error,
                }),
            }
        }
    }
    Ok((found, broken))
}

/// One container bucket.
fn container(b: &Bucket<'_>, namespace: &str, id: &str, here: &str) -> Result<ContainerRecord, NodeError> {
    if !crate::codec::is_component(id) {
        return Err(NodeError::record(here, "the container id is not usable as a name"));
    }
    let opt_text = |key: &[u8]| -> Result<Option<String>, NodeError> {
        plain(b, key, here)?
            .map(|v| text(here, &String::from_utf8_lossy(key), v))
            .transpose()
    };
    let mut labels = BTreeMap::new();
    if let Some(l) = b.bucket(b"labels").map_err(bolt(here))? {
        for e in l.iter() {
            let e = e.map_err(bolt(here))?;
            if let Some(v) = e.value.as_plain() {
                labels.insert(text(here, "labels", e.key)?, text(here, "labels", v)?);
            }
        }
    }
    let created = match plain(b, b"createdat", here)? {
        None => None,
        Some(t) => Some(go_binary_time(t).ok_or_else(|| NodeError::record(here, "createdat: not a Go binary time"))?),
    };
    let runtime_name = match b.bucket(b"runtime").map_err(bolt(here))? {
        Some(rt) => plain(&rt, b"name", here)?
            .map(|v| text(here, "runtime/name", v))
            .transpose()?,
        None => None,
    };
    let spec_any = plain(b, b"spec", here)?.map(<[u8]>::to_vec);
    let spec_json = match &spec_any {
        None => None,
        Some(any) => {
            let (_, value) = protobuf_any(any).ok_or_else(|| NodeError::record(here, "spec: not a protobuf Any"))?;
            Some(value.to_vec())
        }
    };
    let cri_metadata = match b.bucket(b"extensions").map_err(bolt(here))? {
        Some(ext) => match plain(&ext, b"io.cri-containerd.container.metadata", here)? {
            Some(any) => Some(
                protobuf_any(any)
                    .ok_or_else(|| {
                        NodeError::record(
                            here,
                            "extensions/io.cri-containerd.container.metadata: not a protobuf Any",
                        )
                    })?
                    .1
                    .to_vec(),
            ),
            None => None,
        },
        None => None,
    };
    Ok(ContainerRecord {
        namespace: namespace.into(),
        id: id.into(),
        image: opt_text(b"image")?,
        labels,
        snapshotter: opt_text(b"snapshotter")?,
        snapshot_key: opt_text(b"snapshotKey")?,
        created,
        runtime_name,
        spec_any,
        spec_json,
        cri_metadata,
    })
}

/// `v1/<ns>/snapshots/<snapshotter>/<key>/name` of `meta.db`: the snapshotter's backend key.
///
/// # Errors
/// A [`NodeError`] naming `file` when the buckets cannot be read or the name is not UTF-8.
pub fn backend_key(
    db: &Db<'_>,
    file: &str,
    ns: &str,
    snapshotter: &str,
    key: &str,
) -> Result<Option<String>, NodeError> {
    let path: [&[u8]; 5] = [
        b"v1",
        ns.as_bytes(),
        b"snapshots",
        snapshotter.as_bytes(),
        key.as_bytes(),
    ];
    let Some(b) = db.bucket(&path).map_err(bolt(file))? else {
        return Ok(None);
    };
    plain(&b, b"name", file)?
        .map(|v| text(file, "snapshot name", v))
        .transpose()
}

/// `v1/<ns>/images/<reference>/target/digest` of `meta.db`: the image's manifest (or index)
/// digest.
///
/// # Errors
/// A [`NodeError`] naming `file` when the buckets cannot be read or the digest is not UTF-8.
pub fn image_target(db: &Db<'_>, file: &str, ns: &str, reference: &str) -> Result<Option<String>, NodeError> {
    let path: [&[u8]; 5] = [b"v1", ns.as_bytes(), b"images", reference.as_bytes(), b"target"];
    let Some(b) = db.bucket(&path).map_err(bolt(file))? else {
        return Ok(None);
    };
    plain(&b, b"digest", file)?
        .map(|v| text(file, "image target digest", v))
        .transpose()
}

/// The snapshot `key` of the snapshotter's `metadata.db` and its parents, top first (at most
/// [`MAX_CHAIN`], no key twice).
///
/// # Errors
/// A [`NodeError`] naming `file` when a snapshot of the chain is missing or malformed, the
/// chain loops or is too long.
pub fn snapshot_chain(db: &Db<'_>, file: &str, key: &str) -> Result<Vec<Snapshot>, NodeError> {
    crate::chain::follow(key, file, |key| {
        let here = format!("{file} v1/snapshots/{key}");
        let path: [&[u8]; 3] = [b"v1", b"snapshots", key.as_bytes()];
        let b = db
            .bucket(&path)
            .map_err(bolt(file))?
            .ok_or_else(|| NodeError::record(&here, "no such snapshot"))?;
        let id = plain(&b, b"id", &here)?
            .and_then(uvarint)
            .ok_or_else(|| NodeError::record(&here, "id: missing or not an unsigned varint"))?;
        let kind = match plain(&b, b"kind", &here)? {
            Some([k]) => *k,
            _ => return Err(NodeError::record(&here, "kind: missing or not one byte")),
        };
        let parent = plain(&b, b"parent", &here)?
            .map(|v| text(&here, "parent", v))
            .transpose()?;
        let snapshot = Snapshot {
            key: key.to_string(),
            id,
            kind,
            parent: parent.clone(),
        };
        Ok((snapshot, parent))
    })
}

/// The CRI's status checkpoint (`io.containerd.grpc.v1.cri/containers/<id>/status`, JSON with
/// Unix-nanosecond times) as a [`LastState`]; the status word as containerd derives it
/// (`exited` when finished, `running` when started, `created`, else `unknown`).
///
/// # Errors
/// [`NodeError::Json`] naming `source` when it is not such a JSON object.
pub fn cri_status(bytes: &[u8], source: &str) -> Result<LastState, NodeError> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Status {
        #[serde(default)]
        pid: i64,
        #[serde(default)]
        created_at: i64,
        #[serde(default)]
        started_at: i64,
        #[serde(default)]
        finished_at: i64,
        #[serde(default)]
        exit_code: i64,
        #[serde(default)]
        unknown: bool,
    }
    let s: Status = serde_json::from_slice(bytes).map_err(|e| NodeError::json(source, e))?;
    let status = if s.unknown {
        "unknown"
    } else if s.finished_at != 0 {
        "exited"
    } else if s.started_at != 0 {
        "running"
    } else if s.created_at != 0 {
        "created"
    } else {
        "unknown"
    };
    Ok(LastState {
        status: status.into(),
        exit_code: (s.finished_at != 0).then_some(s.exit_code),
        pid: (s.pid != 0).then_some(s.pid),
        started: unix_nanos(s.started_at),
        finished: unix_nanos(s.finished_at),
        source: source.into(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const META: &[u8] = include_bytes!("../../bolt/tests/data/containerd-meta.db");
    const SNAPS: &[u8] = include_bytes!("../../bolt/tests/data/containerd-snapshots.db");

    #[test]
    fn the_real_meta_db() {
        let db = Db::open(META).unwrap();
        let (found, broken) = containers(&db, "/meta.db").unwrap();
        assert!(broken.is_empty());
        assert_eq!(found.len(), 1);
        let c = &found[0];
        assert_eq!((c.namespace.as_str(), c.id.as_str()), ("k8s.io", "bolt-victim-19487"));
        assert_eq!(c.image.as_deref(), Some("localhost/forensic-bolt:1"));
        assert_eq!(c.snapshotter.as_deref(), Some("overlayfs"));
        assert_eq!(c.snapshot_key.as_deref(), Some("bolt-victim-19487"));
        assert_eq!(c.runtime_name.as_deref(), Some("io.containerd.runc.v2"));
        assert_eq!(c.labels["io.kubernetes.pod.name"], "web-1");
        assert_eq!(c.labels["io.kubernetes.pod.namespace"], "shop");
        assert_eq!(c.labels["io.kubernetes.pod.uid"], "bolt-uid-1");
        assert_eq!(c.labels.len(), 5);
        assert!(c.created.as_deref().unwrap().starts_with("2026-12-02T10:"));
        let spec: serde_json::Value = serde_json::from_slice(c.spec_json.as_deref().unwrap()).unwrap();
        assert_eq!(spec["process"]["args"], serde_json::json!(["/bin/sleep", "100000"]));
        assert!(
            c.spec_any
                .as_ref()
                .unwrap()
                .starts_with(b"\x0a6types.containerd.io/opencontainers/runtime-spec/1/Spec")
        );
        assert_eq!(c.cri_metadata, None);
        assert_eq!(
            backend_key(&db, "/meta.db", "k8s.io", "overlayfs", "bolt-victim-19487")
                .unwrap()
                .as_deref(),
            Some("k8s.io/5/bolt-victim-19487")
        );
        assert_eq!(
            image_target(&db, "/meta.db", "k8s.io", "localhost/forensic-bolt:1")
                .unwrap()
                .as_deref(),
            Some("sha256:7bbb186c2b63109eccdc879f79cf0a97917960f3e2f574bc5c6ac1eb79f303ab")
        );
        assert_eq!(image_target(&db, "/meta.db", "k8s.io", "nope").unwrap(), None);
    }

    #[test]
    fn the_real_snapshot_chain() {
        let db = Db::open(SNAPS).unwrap();
        let chain = snapshot_chain(&db, "/metadata.db", "k8s.io/5/bolt-victim-19487").unwrap();
        let ids: Vec<(u64, u8)> = chain.iter().map(|s| (s.id, s.kind)).collect();
        assert_eq!(ids, [(3, 2), (2, 3), (1, 3)]);
        assert_eq!(chain[2].parent, None);
        let e = snapshot_chain(&db, "/metadata.db", "k8s.io/9/nope").unwrap_err();
        assert_eq!(
            e.to_string(),
            "/metadata.db v1/snapshots/k8s.io/9/nope: no such snapshot"
        );
    }

    #[test]
    fn cri_status_words() {
        let s = cri_status(
            br#"{"Version":"v1","Pid":4185,"CreatedAt":1,"StartedAt":2000000000,"FinishedAt":0,"ExitCode":0}"#,
            "/st",
        )
        .unwrap();
        assert_eq!((s.status.as_str(), s.pid, s.exit_code), ("running", Some(4185), None));
        assert_eq!(s.started.as_deref(), Some("1970-01-01T00:00:02Z"));
        let s = cri_status(
            br#"{"Pid":0,"CreatedAt":1,"StartedAt":2,"FinishedAt":3,"ExitCode":137}"#,
            "/st",
        )
        .unwrap();
        assert_eq!((s.status.as_str(), s.exit_code), ("exited", Some(137)));
        let e = cri_status(b"{garbage", "/st").unwrap_err();
        assert!(e.to_string().starts_with("/st: malformed JSON: "), "{e}");
    }
}
