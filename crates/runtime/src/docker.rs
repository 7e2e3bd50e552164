//! The Docker Engine API on its unix socket, through bollard.
//!
//! bollard decodes each answer into typed structs: what is recorded is that answer re-serialised
//! by bollard's model (the same keys as `docker inspect`, but not the daemon's bytes: fields the
//! model does not know are dropped, and key order and spacing are bollard's). Logs are the
//! daemon's stream, demultiplexed, byte for byte.

use crate::error::ApiError;
use crate::log::{CallLog, Failure, Site, runtime};
use bollard::Docker;
use bollard::container::LogOutput;
use bollard::query_parameters::{InspectContainerOptions, ListContainersOptionsBuilder, LogsOptionsBuilder};
use forensic_evidence::records::api::Api;
use futures_util::StreamExt;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// The Engine's socket when `DOCKER_HOST` does not name one.
pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";
/// Time allowed for one call.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Time allowed to stream a container's logs.
pub const LOGS_TIMEOUT: Duration = Duration::from_secs(300);
/// Time allowed to tell whether the socket answers.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the Engine listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// The unix socket.
    pub socket: PathBuf,
}

/// One container of `GET /containers/json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerContainer {
    /// Id.
    pub id: String,
    /// Names (with Docker's leading `/`).
    pub names: Vec<String>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// `running`, `exited`, …
    pub state: Option<String>,
}

const PING: &str = "GET /_ping";
const VERSION: &str = "GET /version";

fn failure(e: bollard::errors::Error) -> Failure {
    match e {
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            message,
        } => Failure::NotFound(message),
        other => Failure::Other(crate::containerd::error_chain(&other)),
    }
}

impl Host {
    /// `DOCKER_HOST` when it is `unix://PATH`, else [`DEFAULT_SOCKET`].
    ///
    /// # Errors
    /// [`ApiError::Setup`] when `DOCKER_HOST` names something other than a unix socket
    /// (`tcp://`, `ssh://`): only local sockets are used.
    pub fn from_env() -> Result<Host, ApiError> {
        Host::from_docker_host(std::env::var("DOCKER_HOST").ok().as_deref())
    }

    /// As [`Host::from_env`], from the value of `DOCKER_HOST`.
    ///
    /// # Errors
    /// As [`Host::from_env`].
    pub fn from_docker_host(value: Option<&str>) -> Result<Host, ApiError> {
        match value.filter(|v| !v.is_empty()) {
            None => Ok(Host {
                socket: PathBuf::from(DEFAULT_SOCKET),
            }),
            Some(v) => match v.strip_prefix("unix://") {
                Some(p) if !p.is_empty() => Ok(Host {
                    socket: PathBuf::from(p),
                }),
                _ => Err(ApiError::Setup(format!(
                    "DOCKER_HOST={v:?} is not a unix socket (unix:///path): only a local Engine socket is used"
                ))),
            },
        }
    }

    fn site(&self) -> Site {
        Site {
            api: Api::Docker,
            socket: self.socket.display().to_string(),
            namespace: None,
        }
    }

    /// Connects and negotiates the API version (`GET /version`), recorded as one call.
    async fn client(&self, log: &mut CallLog<'_>, timeout: Duration) -> Result<Docker, ApiError> {
        let path = self.socket.display().to_string();
        self.site()
            .timed(log, VERSION, "", timeout, |_| 0, async {
                let docker = Docker::connect_with_unix(&path, timeout.as_secs().max(1), bollard::API_DEFAULT_VERSION)
                    .map_err(|e| {
                    Failure::Other(format!("cannot connect: {}", crate::containerd::error_chain(&e)))
                })?;
                docker.negotiate_version().await.map_err(failure)
            })
            .await
    }

    /// `GET /_ping`: whether the socket answers.
    ///
    /// # Errors
    /// [`ApiError`] when it does not within [`PROBE_TIMEOUT`].
    pub fn ping(&self, log: &mut CallLog<'_>) -> Result<String, ApiError> {
        if !self.socket.exists() {
            return Err(ApiError::Connect {
                api: "docker",
                socket: self.socket.display().to_string(),
                reason: "no such socket".into(),
            });
        }
        runtime()?.block_on(async {
            let path = self.socket.display().to_string();
            let d = Docker::connect_with_unix(&path, PROBE_TIMEOUT.as_secs(), bollard::API_DEFAULT_VERSION).map_err(
                |e| ApiError::Connect {
                    api: "docker",
                    socket: path.clone(),
                    reason: crate::containerd::error_chain(&e),
                },
            )?;
            self.site()
                .timed(log, PING, "", PROBE_TIMEOUT, |s: &String| s.len() as u64, async {
                    d.ping().await.map_err(failure)
                })
                .await
        })
    }

    /// `GET /containers/{id}/json`, re-serialised by bollard's model (the keys of `docker
    /// inspect`, one object).
    ///
    /// # Errors
    /// [`ApiError::NotFound`] for an unknown container; [`ApiError`] when the call fails.
    pub fn inspect_container(&self, log: &mut CallLog<'_>, id: &str) -> Result<Vec<u8>, ApiError> {
        runtime()?.block_on(async {
            let d = self.client(log, CALL_TIMEOUT).await?;
            let call = format!("GET /containers/{id}/json");
            self.site()
                .timed(log, &call, id, CALL_TIMEOUT, |v: &Vec<u8>| v.len() as u64, async {
                    let r = d
                        .inspect_container(id, None::<InspectContainerOptions>)
                        .await
                        .map_err(failure)?;
                    serde_json::to_vec_pretty(&r).map_err(|e| Failure::Other(e.to_string()))
                })
                .await
        })
    }

    /// `GET /images/{name}/json`, re-serialised by bollard's model.
    ///
    /// # Errors
    /// [`ApiError`] when the call fails.
    pub fn inspect_image(&self, log: &mut CallLog<'_>, image: &str) -> Result<Vec<u8>, ApiError> {
        runtime()?.block_on(async {
            let d = self.client(log, CALL_TIMEOUT).await?;
            let call = format!("GET /images/{image}/json");
            self.site()
                .timed(log, &call, image, CALL_TIMEOUT, |v: &Vec<u8>| v.len() as u64, async {
                    let r = d.inspect_image(image).await.map_err(failure)?;
                    serde_json::to_vec_pretty(&r).map_err(|e| Failure::Other(e.to_string()))
                })
                .await
        })
    }

    /// `GET /containers/{id}/logs?stdout=1&stderr=1&timestamps=1`: stdout and stderr as the
    /// daemon interleaves them, each line with its timestamp, streamed into `out`, at most
    /// `max` bytes. Returns the bytes written and whether more were there.
    ///
    /// # Errors
    /// [`ApiError`] when the call fails or `out` cannot be written.
    pub fn logs(
        &self,
        log: &mut CallLog<'_>,
        id: &str,
        out: &mut dyn Write,
        max: u64,
    ) -> Result<(u64, bool), ApiError> {
        runtime()?.block_on(async {
            let d = self.client(log, CALL_TIMEOUT).await?;
            let call = format!("GET /containers/{id}/logs?stdout=1&stderr=1&timestamps=1");
            let mut write_error = None;
            let opts = LogsOptionsBuilder::default()
                .stdout(true)
                .stderr(true)
                .timestamps(true)
                .follow(false)
                .build();
            let result = self
                .site()
                .timed(log, &call, id, LOGS_TIMEOUT, |r: &(u64, bool)| r.0, async {
                    let mut stream = d.logs(id, Some(opts));
                    let mut written = 0u64;
                    while let Some(item) = stream.next().await {
                        let chunk = item.map_err(failure)?;
                        let bytes = match &chunk {
                            LogOutput::StdErr { message }
                            | LogOutput::StdOut { message }
                            | LogOutput::StdIn { message }
                            | LogOutput::Console { message } => message,
                        };
                        let room = max.saturating_sub(written);
                        let take = usize::try_from(room).unwrap_or(usize::MAX).min(bytes.len());
                        if let Err(e) = out.write_all(bytes.get(..take).unwrap_or_default()) {
                            write_error = Some(e);
                            return Err(Failure::Other("writing the logs failed".into()));
                        }
                        written += take as u64;
                        if take < bytes.len() {
                            return Ok((written, true));
                        }
                    }
                    Ok((written, false))
                })
                .await;
            match (result, write_error) {
                (_, Some(source)) => Err(ApiError::Write {
                    api: "docker",
                    socket: self.socket.display().to_string(),
                    call,
                    argument: id.into(),
                    source,
                }),
                (r, None) => r,
            }
        })
    }

    /// `GET /containers/json?all=1&filters={"label":[label]}` (`label` is `KEY` or `KEY=VALUE`).
    ///
    /// # Errors
    /// [`ApiError`] when the call fails.
    pub fn list_by_label(&self, log: &mut CallLog<'_>, label: &str) -> Result<Vec<DockerContainer>, ApiError> {
        runtime()?.block_on(async {
            let d = self.client(log, CALL_TIMEOUT).await?;
            let mut filters = HashMap::new();
            filters.insert("label".to_string(), vec![label.to_string()]);
            let opts = ListContainersOptionsBuilder::default()
                .all(true)
                .filters(&filters)
                .build();
            let list = self
                .site()
                .timed(
                    log,
                    "GET /containers/json",
                    label,
                    CALL_TIMEOUT,
                    |v: &Vec<_>| v.len() as u64,
                    async { d.list_containers(Some(opts)).await.map_err(failure) },
                )
                .await?;
            Ok(list
                .into_iter()
                .map(|c| DockerContainer {
                    id: c.id.unwrap_or_default(),
                    names: c.names.unwrap_or_default(),
                    labels: c.labels.unwrap_or_default().into_iter().collect(),
                    state: c.state.map(|s| s.to_string()),
                })
                .collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_host_is_honoured_and_only_unix_sockets_are_used() {
        assert_eq!(
            Host::from_docker_host(None).unwrap().socket,
            PathBuf::from(DEFAULT_SOCKET)
        );
        assert_eq!(
            Host::from_docker_host(Some("")).unwrap().socket,
            PathBuf::from(DEFAULT_SOCKET)
        );
        assert_eq!(
            Host::from_docker_host(Some("unix:///tmp/rt/dk/docker.sock"))
                .unwrap()
                .socket,
            PathBuf::from("/tmp/rt/dk/docker.sock")
        );
        let e = Host::from_docker_host(Some("tcp://10.0.0.1:2375")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "DOCKER_HOST=\"tcp://10.0.0.1:2375\" is not a unix socket (unix:///path): only a local Engine socket is used"
        );
    }

    #[test]
    fn an_absent_socket_is_a_connect_error() {
        let now = || forensic_bundle::time::Timestamp::from_unix_nanos(0).unwrap();
        let mut log = CallLog::new(&now);
        let h = Host {
            socket: "/nonexistent/docker.sock".into(),
        };
        let e = h.ping(&mut log).unwrap_err();
        assert_eq!(
            e.to_string(),
            "docker API at /nonexistent/docker.sock: cannot connect: no such socket"
        );
        let e = h.inspect_container(&mut log, "abc").unwrap_err();
        assert_eq!(
            e.to_string(),
            "docker API at /nonexistent/docker.sock: GET /version : cannot connect: Socket not found: /nonexistent/docker.sock"
        );
        assert_eq!(log.calls.len(), 1);
    }
}
