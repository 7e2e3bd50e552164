//! The API calls `forensic k8s` makes, over HTTPS (the kubeconfig's CA) or plain HTTP.
//!
//! Every answer is read with a cap ([`MAX_ANSWER`], [`MAX_LOG`]); a status other than 2xx is a
//! [`K8sError::Status`] with the server's message; an answer that is not the JSON object the call
//! returns is a [`K8sError::Answer`]. No call is retried: each call is made once, and the caller
//! sees the first failure.

use crate::K8sError;
use crate::kubeconfig::Cluster;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// Largest JSON answer read (a list of every pod of a large namespace fits).
pub const MAX_ANSWER: u64 = 16 * 1024 * 1024;
/// Largest container log read (the collector's JSON summary is a few KiB).
pub const MAX_LOG: u64 = 1024 * 1024;
/// Timeout of one call.
const TIMEOUT: Duration = Duration::from_secs(60);

/// A connection to one API server.
pub struct Client {
    agent: ureq::Agent,
    server: String,
    token: Option<String>,
}

/// Percent-encodes a query value (label selectors hold `=` and `,`).
fn query_value(v: &str) -> String {
    let mut s = String::new();
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            s.push(char::from(b));
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

impl Client {
    /// A client for `cluster`.
    ///
    /// # Errors
    /// [`K8sError::Kubeconfig`] when the CA data holds no PEM certificate.
    pub fn new(cluster: &Cluster) -> Result<Client, K8sError> {
        let mut config = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            .http_status_as_error(false)
            .max_redirects(0)
            .https_only(cluster.server.starts_with("https://"));
        if let Some(pem) = &cluster.ca_pem {
            let certs: Vec<_> = ureq::tls::parse_pem(pem)
                .filter_map(|i| match i {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err(K8sError::Kubeconfig {
                    path: cluster.server.clone(),
                    reason: "the certificate authority holds no PEM certificate".into(),
                });
            }
            config = config.tls_config(
                ureq::tls::TlsConfig::builder()
                    .provider(ureq::tls::TlsProvider::Rustls)
                    .root_certs(ureq::tls::RootCerts::new_with_certs(&certs))
                    .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
                    .build(),
            );
        }
        Ok(Client {
            agent: config.build().into(),
            server: cluster.server.clone(),
            token: cluster.token.clone(),
        })
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>, cap: u64) -> Result<Vec<u8>, K8sError> {
        let call = format!("{method} {path}");
        let transport = |reason: String| K8sError::Transport {
            call: call.clone(),
            reason,
        };
        let url = format!("{}{path}", self.server);
        let auth = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let answer = match body {
            None => {
                let mut r = self.agent.get(&url).header("Accept", "application/json");
                if let Some(a) = &auth {
                    r = r.header("Authorization", a);
                }
                r.call()
            }
            Some(b) => {
                let mut r = self
                    .agent
                    .post(&url)
                    .header("Accept", "application/json")
                    .header("Content-Type", "application/json");
                if let Some(a) = &auth {
                    r = r.header("Authorization", a);
                }
                r.send(serde_json::to_vec(b).map_err(|e| transport(e.to_string()))?)
            }
        };
        let mut resp = answer.map_err(|e| transport(e.to_string()))?;
        let status = resp.status().as_u16();
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(cap)
            .read_to_vec()
            .map_err(|e| transport(format!("reading the answer (at most {cap} bytes): {e}")))?;
        if !(200..300).contains(&status) {
            let message = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v["message"].as_str().map(str::to_string))
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).chars().take(200).collect());
            return Err(K8sError::Status { call, status, message });
        }
        Ok(bytes)
    }

    fn json(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, K8sError> {
        let bytes = self.call(method, path, body, MAX_ANSWER)?;
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| K8sError::Answer {
            call: format!("{method} {path}"),
            reason: format!("not JSON: {e}"),
        })?;
        if !v.is_object() {
            return Err(K8sError::Answer {
                call: format!("{method} {path}"),
                reason: "not a JSON object".into(),
            });
        }
        Ok(v)
    }

    /// `GET /api/v1/namespaces/NS/pods/NAME`.
    ///
    /// # Errors
    /// As every call: [`K8sError`].
    pub fn pod(&self, ns: &str, name: &str) -> Result<Value, K8sError> {
        self.json("GET", &format!("/api/v1/namespaces/{ns}/pods/{name}"), None)
    }

    /// `GET /api/v1/namespaces/NS/pods?labelSelector=SEL`: the `items`.
    ///
    /// # Errors
    /// As every call: [`K8sError`]; an answer without `items` is [`K8sError::Answer`].
    pub fn pods(&self, ns: &str, selector: &str) -> Result<Vec<Value>, K8sError> {
        let path = format!("/api/v1/namespaces/{ns}/pods?labelSelector={}", query_value(selector));
        let v = self.json("GET", &path, None)?;
        match v.get("items") {
            Some(Value::Array(items)) => Ok(items.clone()),
            _ => Err(K8sError::Answer {
                call: format!("GET {path}"),
                reason: "no items".into(),
            }),
        }
    }

    /// `GET /apis/apps/v1/namespaces/NS/deployments/NAME`.
    ///
    /// # Errors
    /// As every call: [`K8sError`].
    pub fn deployment(&self, ns: &str, name: &str) -> Result<Value, K8sError> {
        self.json("GET", &Self::deployment_path(ns, name), None)
    }

    /// The path [`Client::deployment`] GETs (errors name it).
    pub fn deployment_path(ns: &str, name: &str) -> String {
        format!("/apis/apps/v1/namespaces/{ns}/deployments/{name}")
    }

    /// `POST /apis/batch/v1/namespaces/NS/jobs`: the Job as created.
    ///
    /// # Errors
    /// As every call: [`K8sError`] (409 when a Job of that name exists).
    pub fn create_job(&self, ns: &str, job: &Value) -> Result<Value, K8sError> {
        self.json("POST", &format!("/apis/batch/v1/namespaces/{ns}/jobs"), Some(job))
    }

    /// `GET /apis/batch/v1/namespaces/NS/jobs/NAME`.
    ///
    /// # Errors
    /// As every call: [`K8sError`].
    pub fn job(&self, ns: &str, name: &str) -> Result<Value, K8sError> {
        self.json("GET", &format!("/apis/batch/v1/namespaces/{ns}/jobs/{name}"), None)
    }

    /// `POST /apis/networking.k8s.io/v1/namespaces/NS/networkpolicies`.
    ///
    /// # Errors
    /// As every call: [`K8sError`].
    pub fn create_network_policy(&self, ns: &str, policy: &Value) -> Result<Value, K8sError> {
        self.json(
            "POST",
            &format!("/apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies"),
            Some(policy),
        )
    }

    /// `GET /api/v1/namespaces/NS/pods/POD/log?container=C`: the log as text (at most [`MAX_LOG`]).
    ///
    /// # Errors
    /// As every call: [`K8sError`].
    pub fn log(&self, ns: &str, pod: &str, container: &str) -> Result<String, K8sError> {
        let path = format!(
            "/api/v1/namespaces/{ns}/pods/{pod}/log?container={}",
            query_value(container)
        );
        let bytes = self.call("GET", &path, None, MAX_LOG)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Waits until the Job has succeeded or failed (GET every `interval`, at most until
    /// `timeout`): `Ok(true)` when it succeeded, `Ok(false)` when it failed.
    ///
    /// # Errors
    /// [`K8sError`] of a call, or [`K8sError::Answer`] when `timeout` passes first.
    pub fn wait_job(&self, ns: &str, name: &str, interval: Duration, timeout: Duration) -> Result<bool, K8sError> {
        let start = std::time::Instant::now();
        loop {
            let job = self.job(ns, name)?;
            let status = &job["status"];
            let conditions = status["conditions"].as_array().cloned().unwrap_or_default();
            let has = |t: &str| conditions.iter().any(|c| c["type"] == t && c["status"] == "True");
            if has("Complete") || status["succeeded"].as_u64().unwrap_or(0) > 0 {
                return Ok(true);
            }
            if has("Failed") || status["failed"].as_u64().unwrap_or(0) > 0 {
                return Ok(false);
            }
            if start.elapsed() >= timeout {
                return Err(K8sError::Answer {
                    call: format!("GET /apis/batch/v1/namespaces/{ns}/jobs/{name}"),
                    reason: format!("the Job neither succeeded nor failed in {} s", timeout.as_secs()),
                });
            }
            std::thread::sleep(interval);
        }
    }
}
