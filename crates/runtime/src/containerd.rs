//! containerd's own gRPC API on its unix socket (`containerd-client` over tonic).
//!
//! Read-only calls: `Version`, `Containers.ListStream/Get`, `Tasks.List/Get`, `Snapshots.Mounts`,
//! `Images.Get`, `Content.Read`. Every call carries the namespace header and is recorded in the
//! caller's [`CallLog`].

use crate::cri::{self, Candidate};
use crate::error::ApiError;
use crate::log::{CallLog, Failure, Site, runtime};
use containerd_client::services::v1::snapshots::MountsRequest;
use containerd_client::services::v1::snapshots::snapshots_client::SnapshotsClient;
use containerd_client::services::v1::{
    Container, GetContainerRequest, GetImageRequest, GetRequest, InfoRequest, ListContainersRequest, ListTasksRequest,
    ReadContentRequest, containers_client::ContainersClient, content_client::ContentClient,
    images_client::ImagesClient, tasks_client::TasksClient, version_client::VersionClient,
};
use containerd_client::types::v1::Status;
use forensic_evidence::records::api::Api;
use forensic_evidence::records::containerd::{
    CONTAINERD_API, ContainerdContainer, ContainerdImage, ContainerdInspect, ContainerdMount, ContainerdTask,
    CriIdentity, Descriptor, Extension, OverlayDirs,
};
use prost::Message;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;
use tonic::transport::Channel;

/// containerd's socket on a node.
pub const DEFAULT_SOCKET: &str = "/run/containerd/containerd.sock";
/// The namespace Kubernetes' CRI uses.
pub const DEFAULT_NAMESPACE: &str = "k8s.io";
/// Time allowed for one call that answers with one message.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Time allowed to stream one blob.
pub const STREAM_TIMEOUT: Duration = Duration::from_secs(600);
/// Time allowed to tell whether a socket answers (auto-detection).
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// Most containers listed (each message of the stream is bounded by tonic's 4 MiB limit).
pub const MAX_CONTAINERS: usize = 100_000;
/// Largest manifest, index or config read into memory.
pub const MAX_DOCUMENT: u64 = 4 << 20;

/// Where containerd listens and which namespace to look in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The gRPC socket.
    pub socket: PathBuf,
    /// The namespace.
    pub namespace: String,
}

impl Default for Endpoint {
    fn default() -> Self {
        Endpoint {
            socket: PathBuf::from(DEFAULT_SOCKET),
            namespace: DEFAULT_NAMESPACE.into(),
        }
    }
}

/// One container as `Containers.ListStream` gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerSummary {
    /// Id.
    pub id: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Image name.
    pub image: String,
    /// Snapshotter.
    pub snapshotter: String,
    /// Snapshot key.
    pub snapshot_key: String,
    /// Created, SPEC §5 time.
    pub created_at: Option<String>,
    /// Updated, SPEC §5 time.
    pub updated_at: Option<String>,
    /// Its Kubernetes identity.
    pub cri: CriIdentity,
}

const VERSION: &str = "containerd.services.version.v1.Version/Version";
const CONTAINERS_LIST: &str = "containerd.services.containers.v1.Containers/ListStream";
const CONTAINERS_GET: &str = "containerd.services.containers.v1.Containers/Get";
const TASKS_LIST: &str = "containerd.services.tasks.v1.Tasks/List";
const TASKS_GET: &str = "containerd.services.tasks.v1.Tasks/Get";
const SNAPSHOTS_MOUNTS: &str = "containerd.services.snapshots.v1.Snapshots/Mounts";
const IMAGES_GET: &str = "containerd.services.images.v1.Images/Get";
const CONTENT_READ: &str = "containerd.services.content.v1.Content/Read";
const CONTENT_INFO: &str = "containerd.services.content.v1.Content/Info";

fn status_failure(s: tonic::Status) -> Failure {
    if s.code() == tonic::Code::NotFound {
        Failure::NotFound(s.message().to_string())
    } else {
        Failure::Other(format!("{:?}: {}", s.code(), s.message()))
    }
}

fn len<M: Message>(m: &M) -> u64 {
    m.encoded_len() as u64
}

/// SPEC §5 time of a protobuf timestamp (`None` for the zero time).
fn time(t: Option<&prost_types::Timestamp>) -> Option<String> {
    let t = t?;
    if t.seconds <= 0 && t.nanos <= 0 {
        return None;
    }
    let nanos = i128::from(t.seconds) * 1_000_000_000 + i128::from(t.nanos);
    forensic_bundle::time::Timestamp::from_unix_nanos(nanos)
        .ok()
        .map(|ts| ts.as_str().to_string())
}

fn sorted(m: HashMap<String, String>) -> BTreeMap<String, String> {
    m.into_iter().collect()
}

fn json_of(bytes: &[u8]) -> Option<serde_json::Value> {
    serde_json::from_slice(bytes).ok()
}

/// `sha256:` and 64 lowercase hex digits (digests come from answers: checked before use).
fn check_digest(digest: &str) -> Result<(), ApiError> {
    let ok = digest
        .strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    if ok {
        Ok(())
    } else {
        Err(ApiError::Setup(format!(
            "content digest {digest:?} is not sha256:<64 lowercase hex>"
        )))
    }
}

/// The overlay directories of a snapshot's mounts (the first `overlay` mount).
pub fn overlay_dirs(mounts: &[ContainerdMount]) -> Option<OverlayDirs> {
    let m = mounts.iter().find(|m| m.kind == "overlay")?;
    let opt = |k: &str| {
        m.options
            .iter()
            .find_map(|o| o.strip_prefix(k).and_then(|v| v.strip_prefix('=')))
            .map(str::to_string)
    };
    Some(OverlayDirs {
        upper_dir: opt("upperdir"),
        work_dir: opt("workdir"),
        lower_dirs: opt("lowerdir")
            .map(|l| l.split(':').filter(|d| !d.is_empty()).map(str::to_string).collect())
            .unwrap_or_default(),
    })
}

impl Endpoint {
    fn site(&self) -> Site {
        Site {
            api: Api::Containerd,
            socket: self.socket.display().to_string(),
            namespace: Some(self.namespace.clone()),
        }
    }

    fn request<T>(&self, msg: T) -> Result<tonic::Request<T>, ApiError> {
        let value = tonic::metadata::AsciiMetadataValue::try_from(self.namespace.as_str())
            .map_err(|_| ApiError::Setup(format!("containerd namespace {:?} is not a valid name", self.namespace)))?;
        let mut req = tonic::Request::new(msg);
        req.metadata_mut().insert("containerd-namespace", value);
        Ok(req)
    }

    /// Connects, recording a failure as a call of `call` about `argument`.
    async fn channel(&self, log: &mut CallLog<'_>, call: &str, argument: &str) -> Result<Channel, ApiError> {
        let socket = self.socket.clone();
        let site = self.site();
        let result = site
            .timed(log, call, argument, PROBE_TIMEOUT, |_| 0, async move {
                containerd_client::connect(socket)
                    .await
                    .map_err(|e| Failure::Other(format!("cannot connect: {}", error_chain(&e))))
            })
            .await;
        match result {
            Ok(ch) => {
                // The successful connection is not a call of its own.
                log.calls.pop();
                Ok(ch)
            }
            Err(e) => Err(match e {
                ApiError::Call { reason, .. } => ApiError::Connect {
                    api: "containerd",
                    socket: self.socket.display().to_string(),
                    reason,
                },
                other => other,
            }),
        }
    }

    /// containerd's version (`1.6.20~ds1`): whether the socket answers.
    ///
    /// # Errors
    /// [`ApiError`] when the socket does not answer within [`PROBE_TIMEOUT`].
    pub fn version(&self, log: &mut CallLog<'_>) -> Result<String, ApiError> {
        runtime()?.block_on(async {
            let ch = self.channel(log, VERSION, "").await?;
            let r = self
                .site()
                .timed(log, VERSION, "", PROBE_TIMEOUT, len, async {
                    VersionClient::new(ch)
                        .version(())
                        .await
                        .map(tonic::Response::into_inner)
                        .map_err(status_failure)
                })
                .await?;
            Ok(r.version)
        })
    }

    /// `Containers.ListStream` with containerd filters (e.g.
    /// `labels."io.kubernetes.pod.name"==web`); no filter lists all. Streamed one container per
    /// message, at most [`MAX_CONTAINERS`].
    ///
    /// # Errors
    /// [`ApiError`] when the call fails or more than [`MAX_CONTAINERS`] containers answer.
    pub fn list(&self, log: &mut CallLog<'_>, filters: &[String]) -> Result<Vec<ContainerSummary>, ApiError> {
        let argument = filters.join(",");
        runtime()?.block_on(async {
            let ch = self.channel(log, CONTAINERS_LIST, &argument).await?;
            let req = self.request(ListContainersRequest {
                filters: filters.to_vec(),
            })?;
            let containers = self
                .site()
                .timed(
                    log,
                    CONTAINERS_LIST,
                    &argument,
                    STREAM_TIMEOUT,
                    |v: &(Vec<Container>, u64)| v.1,
                    async {
                        let mut stream = ContainersClient::new(ch)
                            .list_stream(req)
                            .await
                            .map_err(status_failure)?
                            .into_inner();
                        let mut out = Vec::new();
                        let mut bytes = 0u64;
                        while let Some(m) = stream.message().await.map_err(status_failure)? {
                            bytes += len(&m);
                            if out.len() >= MAX_CONTAINERS {
                                return Err(Failure::Other(format!(
                                    "more than {MAX_CONTAINERS} containers answered"
                                )));
                            }
                            out.extend(m.container);
                        }
                        Ok((out, bytes))
                    },
                )
                .await?;
            Ok(containers.0.into_iter().map(summary).collect())
        })
    }

    /// Every container with its task's status and PID (`Containers.ListStream` and `Tasks.List`), as
    /// [`cri::resolve_pod`] takes them.
    ///
    /// # Errors
    /// [`ApiError`] when a call fails.
    pub fn candidates(&self, log: &mut CallLog<'_>) -> Result<Vec<Candidate>, ApiError> {
        let containers = self.list(log, &[])?;
        let tasks = runtime()?.block_on(async {
            let ch = self.channel(log, TASKS_LIST, "").await?;
            let req = self.request(ListTasksRequest { filter: String::new() })?;
            self.site()
                .timed(log, TASKS_LIST, "", CALL_TIMEOUT, len, async {
                    TasksClient::new(ch)
                        .list(req)
                        .await
                        .map(tonic::Response::into_inner)
                        .map_err(status_failure)
                })
                .await
        })?;
        let by_id: HashMap<String, (String, u32)> = tasks
            .tasks
            .into_iter()
            .map(|p| {
                let id = if p.container_id.is_empty() {
                    p.id.clone()
                } else {
                    p.container_id.clone()
                };
                (id, (status_name(p.status), p.pid))
            })
            .collect();
        Ok(containers
            .into_iter()
            .map(|c| {
                let task = by_id.get(&c.id);
                Candidate {
                    status: task.map(|t| t.0.clone()),
                    pid: task.map(|t| t.1).filter(|p| *p > 0),
                    created_at: c.created_at,
                    cri: c.cri,
                    id: c.id,
                }
            })
            .collect())
    }

    /// The container, its task, its snapshot's mounts and its image, as one document.
    /// A container without a task (exited) has `task: null`; a snapshot or image that cannot be
    /// asked leaves `mounts` empty or `image` null (the failed call is in the log).
    ///
    /// # Errors
    /// [`ApiError`] when the container itself cannot be had (`NotFound` for an unknown id).
    pub fn inspect(&self, log: &mut CallLog<'_>, id: &str) -> Result<ContainerdInspect, ApiError> {
        runtime()?.block_on(async {
            let ch = self.channel(log, CONTAINERS_GET, id).await?;
            let site = self.site();
            let req = self.request(GetContainerRequest { id: id.to_string() })?;
            let got = site
                .timed(log, CONTAINERS_GET, id, CALL_TIMEOUT, len, async {
                    ContainersClient::new(ch.clone())
                        .get(req)
                        .await
                        .map(tonic::Response::into_inner)
                        .map_err(status_failure)
                })
                .await?;
            let c = got.container.ok_or_else(|| {
                site.error(
                    CONTAINERS_GET,
                    id,
                    Failure::Other("the answer holds no container".into()),
                )
            })?;
            let container = container_record(c);
            let metadata = container
                .extensions
                .get(cri::CRI_METADATA_EXTENSION)
                .and_then(|e| e.json.clone());
            let cri = cri::identity(&container.labels, container.spec.as_ref(), metadata.as_ref());

            let req = self.request(GetRequest {
                container_id: id.to_string(),
                exec_id: String::new(),
            })?;
            let task = site
                .timed(log, TASKS_GET, id, CALL_TIMEOUT, len, async {
                    TasksClient::new(ch.clone())
                        .get(req)
                        .await
                        .map(tonic::Response::into_inner)
                        .map_err(status_failure)
                })
                .await
                .ok()
                .and_then(|r| r.process)
                .map(|p| ContainerdTask {
                    pid: p.pid,
                    status: status_name(p.status),
                    exit_status: p.exit_status,
                    exited_at: time(p.exited_at.as_ref()),
                });

            let mut mounts = Vec::new();
            if !container.snapshot_key.is_empty() {
                let req = self.request(MountsRequest {
                    snapshotter: container.snapshotter.clone(),
                    key: container.snapshot_key.clone(),
                })?;
                if let Ok(r) = site
                    .timed(
                        log,
                        SNAPSHOTS_MOUNTS,
                        &container.snapshot_key,
                        CALL_TIMEOUT,
                        len,
                        async {
                            SnapshotsClient::new(ch.clone())
                                .mounts(req)
                                .await
                                .map(tonic::Response::into_inner)
                                .map_err(status_failure)
                        },
                    )
                    .await
                {
                    mounts = r
                        .mounts
                        .into_iter()
                        .map(|m| ContainerdMount {
                            kind: m.r#type,
                            source: m.source,
                            target: m.target,
                            options: m.options,
                        })
                        .collect();
                }
            }

            let mut image = None;
            if !container.image.is_empty() {
                let req = self.request(GetImageRequest {
                    name: container.image.clone(),
                })?;
                if let Ok(r) = site
                    .timed(log, IMAGES_GET, &container.image, CALL_TIMEOUT, len, async {
                        ImagesClient::new(ch.clone())
                            .get(req)
                            .await
                            .map(tonic::Response::into_inner)
                            .map_err(status_failure)
                    })
                    .await
                {
                    image = r.image.map(|i| ContainerdImage {
                        name: i.name,
                        target: i
                            .target
                            .map(|t| Descriptor {
                                media_type: t.media_type,
                                digest: t.digest,
                                size: t.size,
                            })
                            .unwrap_or(Descriptor {
                                media_type: String::new(),
                                digest: String::new(),
                                size: 0,
                            }),
                        labels: sorted(i.labels),
                        created_at: time(i.created_at.as_ref()),
                    });
                }
            }
            Ok(ContainerdInspect {
                api: CONTAINERD_API.into(),
                socket: self.socket.display().to_string(),
                namespace: self.namespace.clone(),
                overlay: overlay_dirs(&mounts),
                container,
                cri,
                task,
                mounts,
                image,
            })
        })
    }

    /// `Content.Info`: the size of a blob the content store holds.
    ///
    /// # Errors
    /// [`ApiError::NotFound`] when the store does not hold it (a node with
    /// `discard_unpacked_layers` drops layer blobs once unpacked); [`ApiError`] when the call fails.
    pub fn content_size(&self, log: &mut CallLog<'_>, digest: &str) -> Result<i64, ApiError> {
        check_digest(digest)?;
        runtime()?.block_on(async {
            let ch = self.channel(log, CONTENT_INFO, digest).await?;
            let req = self.request(InfoRequest {
                digest: digest.to_string(),
            })?;
            let r = self
                .site()
                .timed(log, CONTENT_INFO, digest, CALL_TIMEOUT, len, async {
                    ContentClient::new(ch)
                        .info(req)
                        .await
                        .map(tonic::Response::into_inner)
                        .map_err(status_failure)
                })
                .await?;
            Ok(r.info.map_or(0, |i| i.size))
        })
    }

    /// A blob of the content store (a manifest, index or config), read whole, at most `max`
    /// bytes.
    ///
    /// # Errors
    /// [`ApiError::NotFound`] when the store does not hold it (e.g. `discard_unpacked_layers`),
    /// [`ApiError::Call`] when it is larger than `max`.
    pub fn read_content(&self, log: &mut CallLog<'_>, digest: &str, max: u64) -> Result<Vec<u8>, ApiError> {
        let mut buf = Vec::new();
        let (_, truncated) = self.copy_content(log, digest, &mut buf, max)?;
        if truncated {
            return Err(self.site().error(
                CONTENT_READ,
                digest,
                Failure::Other(format!("the blob is larger than {max} bytes")),
            ));
        }
        Ok(buf)
    }

    /// Streams a blob of the content store into `out`, at most `max` bytes; returns the bytes
    /// written and whether more were there.
    ///
    /// # Errors
    /// [`ApiError`] when the call fails or `out` cannot be written.
    pub fn copy_content(
        &self,
        log: &mut CallLog<'_>,
        digest: &str,
        out: &mut dyn Write,
        max: u64,
    ) -> Result<(u64, bool), ApiError> {
        check_digest(digest)?;
        runtime()?.block_on(async {
            let ch = self.channel(log, CONTENT_READ, digest).await?;
            let req = self.request(ReadContentRequest {
                digest: digest.to_string(),
                offset: 0,
                size: 0,
            })?;
            let mut write_error = None;
            let result = self
                .site()
                .timed(
                    log,
                    CONTENT_READ,
                    digest,
                    STREAM_TIMEOUT,
                    |r: &(u64, bool)| r.0,
                    async {
                        let mut stream = ContentClient::new(ch)
                            .read(req)
                            .await
                            .map_err(status_failure)?
                            .into_inner();
                        let mut written = 0u64;
                        while let Some(chunk) = stream.message().await.map_err(status_failure)? {
                            let room = max.saturating_sub(written);
                            let take = usize::try_from(room).unwrap_or(usize::MAX).min(chunk.data.len());
                            let part = chunk.data.get(..take).unwrap_or_default();
                            if let Err(e) = out.write_all(part) {
                                write_error = Some(e);
                                return Err(Failure::Other("writing the blob failed".into()));
                            }
                            written += take as u64;
                            if take < chunk.data.len() {
                                return Ok((written, true));
                            }
                        }
                        Ok((written, false))
                    },
                )
                .await;
            match (result, write_error) {
                (_, Some(source)) => Err(ApiError::Write {
                    api: "containerd",
                    socket: self.socket.display().to_string(),
                    call: CONTENT_READ.into(),
                    argument: digest.into(),
                    source,
                }),
                (r, None) => r,
            }
        })
    }
}

fn status_name(status: i32) -> String {
    Status::try_from(status)
        .map(|s| s.as_str_name().to_ascii_lowercase())
        .unwrap_or_else(|_| format!("status-{status}"))
}

fn container_record(c: Container) -> ContainerdContainer {
    let (spec_type_url, spec) = match c.spec {
        Some(any) => (Some(any.type_url), json_of(&any.value)),
        None => (None, None),
    };
    ContainerdContainer {
        id: c.id,
        labels: sorted(c.labels),
        image: c.image,
        runtime: c.runtime.map(|r| r.name).filter(|n| !n.is_empty()),
        snapshotter: c.snapshotter,
        snapshot_key: c.snapshot_key,
        created_at: time(c.created_at.as_ref()),
        updated_at: time(c.updated_at.as_ref()),
        sandbox: Some(c.sandbox).filter(|s| !s.is_empty()),
        spec_type_url,
        spec,
        extensions: c
            .extensions
            .into_iter()
            .map(|(k, any)| {
                let json = json_of(&any.value);
                let hex = json.is_none().then(|| hex::encode(&any.value));
                (
                    k,
                    Extension {
                        type_url: any.type_url,
                        json,
                        hex,
                    },
                )
            })
            .collect(),
    }
}

fn summary(c: Container) -> ContainerSummary {
    let r = container_record(c);
    let metadata = r
        .extensions
        .get(cri::CRI_METADATA_EXTENSION)
        .and_then(|e| e.json.clone());
    let cri = cri::identity(&r.labels, r.spec.as_ref(), metadata.as_ref());
    ContainerSummary {
        id: r.id,
        labels: r.labels,
        image: r.image,
        snapshotter: r.snapshotter,
        snapshot_key: r.snapshot_key,
        created_at: r.created_at,
        updated_at: r.updated_at,
        cri,
    }
}

/// An error with its sources, `: `-joined (tonic's transport errors say little at the top).
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        s.push_str(": ");
        s.push_str(&x.to_string());
        src = x.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_options_are_parsed_top_layer_first() {
        // Snapshots.Mounts as containerd 1.6 answered it (docs/dev/runtimes.md §3.1).
        let m = ContainerdMount {
            kind: "overlay".into(),
            source: "overlay".into(),
            target: String::new(),
            options: vec![
                "index=off".into(),
                "workdir=/r/snapshots/8/work".into(),
                "upperdir=/r/snapshots/8/fs".into(),
                "lowerdir=/r/snapshots/2/fs:/r/snapshots/1/fs".into(),
            ],
        };
        assert_eq!(
            overlay_dirs(&[m]),
            Some(OverlayDirs {
                upper_dir: Some("/r/snapshots/8/fs".into()),
                work_dir: Some("/r/snapshots/8/work".into()),
                lower_dirs: vec!["/r/snapshots/2/fs".into(), "/r/snapshots/1/fs".into()],
            })
        );
        let bind = ContainerdMount {
            kind: "bind".into(),
            source: "/x".into(),
            target: String::new(),
            options: vec!["rbind".into()],
        };
        assert_eq!(overlay_dirs(&[bind]), None);
    }

    #[test]
    fn hostile_digests_and_namespaces_are_refused_before_any_call() {
        let now = || forensic_bundle::time::Timestamp::from_unix_nanos(0).unwrap();
        let mut log = CallLog::new(&now);
        let e = Endpoint::default()
            .read_content(&mut log, "sha256:../../etc/passwd", 10)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "content digest \"sha256:../../etc/passwd\" is not sha256:<64 lowercase hex>"
        );
        let bad = Endpoint {
            socket: "/nonexistent/containerd.sock".into(),
            namespace: "bad\nns".into(),
        };
        let e = bad.list(&mut log, &[]).unwrap_err();
        assert!(matches!(e, ApiError::Connect { .. }), "{e}");
        assert_eq!(log.calls.len(), 1, "the failed connection is recorded");
        assert!(
            e.to_string()
                .starts_with("containerd API at /nonexistent/containerd.sock: cannot connect: "),
            "{e}"
        );
    }

    /// A socket that answers with garbage (not HTTP/2) and one that never answers: typed errors,
    /// recorded, within the probe timeout, no panic.
    #[test]
    fn a_socket_speaking_garbage_or_nothing_is_an_error_not_a_hang() {
        use std::io::{Read, Write};
        let dir = tempfile::tempdir().unwrap();
        let garbage = dir.path().join("garbage.sock");
        let listener = std::os::unix::net::UnixListener::bind(&garbage).unwrap();
        let server = std::thread::spawn(move || {
            for stream in listener.incoming().take(2) {
                let Ok(mut s) = stream else { break };
                let mut buf = [0u8; 64];
                let _ = s.read(&mut buf);
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello\xff\xfe");
            }
        });
        let now = || forensic_bundle::time::Timestamp::from_unix_nanos(0).unwrap();
        let mut log = CallLog::new(&now);
        let ep = Endpoint {
            socket: garbage.clone(),
            namespace: DEFAULT_NAMESPACE.into(),
        };
        let started = std::time::Instant::now();
        let e = ep.version(&mut log).unwrap_err();
        assert!(started.elapsed() <= PROBE_TIMEOUT + Duration::from_secs(5), "{e}");
        assert!(
            e.to_string()
                .starts_with(&format!("containerd API at {}", garbage.display())),
            "{e}"
        );
        assert!(!log.calls.is_empty());
        assert!(
            log.calls
                .iter()
                .all(|c| c.outcome != forensic_evidence::records::api::ApiOutcome::Ok)
        );
        // Let the server thread end whether it saw one connection or two.
        drop(std::os::unix::net::UnixStream::connect(&garbage));
        drop(std::os::unix::net::UnixStream::connect(&garbage));
        server.join().unwrap();
    }
}
