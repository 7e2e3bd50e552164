//! The current context of a kubeconfig: server, CA certificates, bearer token.
//!
//! Supported: `current-context` (or a named context), the cluster's `server` (https:// or
//! http://), `certificate-authority-data` or `certificate-authority` (a file),
//! `insecure-skip-tls-verify` is refused, and the user's `token` or `tokenFile`. Not supported,
//! each refused with its name: client certificates (`client-certificate(-data)`), `exec` and
//! `auth-provider` plugins, basic auth, proxies. A cloud cluster whose kubeconfig uses an `exec`
//! plugin works with a token from that plugin written to a kubeconfig of its own (README "On a
//! cluster").

use crate::K8sError;
use base64ct::Encoding;
use serde::Deserialize;
use std::path::Path;

/// Largest kubeconfig read.
const MAX_KUBECONFIG: u64 = 1024 * 1024;

/// Where and how to reach the API server.
#[derive(Clone)]
pub struct Cluster {
    /// The API server, without a trailing slash: `https://10.0.0.1:6443`.
    pub server: String,
    /// PEM certificates that may sign the server's certificate (none for http://).
    pub ca_pem: Option<Vec<u8>>,
    /// The bearer token, if any.
    pub token: Option<String>,
    /// The context's default namespace, if any.
    pub namespace: Option<String>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("server", &self.server)
            .field("token", &self.token.as_ref().map(|_| "(set)"))
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct File {
    #[serde(default)]
    current_context: Option<String>,
    #[serde(default)]
    clusters: Vec<Named<ClusterEntry>>,
    #[serde(default)]
    contexts: Vec<Named<ContextEntry>>,
    #[serde(default)]
    users: Vec<Named<UserEntry>>,
}

#[derive(Deserialize)]
struct Named<T> {
    name: String,
    #[serde(alias = "cluster", alias = "context", alias = "user")]
    value: T,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct ClusterEntry {
    server: String,
    #[serde(default)]
    certificate_authority_data: Option<String>,
    #[serde(default)]
    certificate_authority: Option<String>,
    #[serde(default)]
    insecure_skip_tls_verify: Option<bool>,
    #[serde(default)]
    proxy_url: Option<String>,
}

#[derive(Deserialize)]
struct ContextEntry {
    cluster: String,
    user: String,
    #[serde(default)]
    namespace: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct UserEntry {
    #[serde(default)]
    token: Option<String>,
    #[serde(default, rename = "tokenFile")]
    token_file: Option<String>,
    #[serde(default)]
    client_certificate: Option<String>,
    #[serde(default)]
    client_certificate_data: Option<String>,
    #[serde(default)]
    exec: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "auth-provider")]
    auth_provider: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    username: Option<String>,
}

/// Reads `path` and resolves `context` (default: its `current-context`).
///
/// # Errors
/// [`K8sError::Kubeconfig`] saying what is missing, malformed or unsupported.
pub fn load(path: &Path, context: Option<&str>) -> Result<Cluster, K8sError> {
    let err = |reason: String| K8sError::Kubeconfig {
        path: path.display().to_string(),
        reason,
    };
    let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
    if meta.len() > MAX_KUBECONFIG {
        return Err(err(format!(
            "{} bytes is more than the {MAX_KUBECONFIG} read",
            meta.len()
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    parse(&text, context, base).map_err(err)
}

/// Resolves `context` in the text of a kubeconfig; relative file names are taken from `base`.
fn parse(text: &str, context: Option<&str>, base: &Path) -> Result<Cluster, String> {
    let file: File = serde_saphyr::from_str(text).map_err(|e| format!("not a kubeconfig: {e}"))?;
    let name = context
        .map(str::to_string)
        .or(file.current_context.clone())
        .filter(|n| !n.is_empty())
        .ok_or("no current-context (give --context)")?;
    let ctx = &file
        .contexts
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| format!("no context {name:?}"))?
        .value;
    let cl = &file
        .clusters
        .iter()
        .find(|c| c.name == ctx.cluster)
        .ok_or_else(|| format!("context {name:?}: no cluster {:?}", ctx.cluster))?
        .value;
    let user = file.users.iter().find(|u| u.name == ctx.user).map(|u| &u.value);
    if cl.insecure_skip_tls_verify == Some(true) {
        return Err("insecure-skip-tls-verify is not supported: give the cluster's CA".into());
    }
    if cl.proxy_url.is_some() {
        return Err("proxy-url is not supported".into());
    }
    let server = cl.server.trim_end_matches('/').to_string();
    let ca_pem = match (&cl.certificate_authority_data, &cl.certificate_authority) {
        (Some(b64), _) => Some(
            base64ct::Base64::decode_vec(b64.trim())
                .map_err(|e| format!("certificate-authority-data is not base64: {e}"))?,
        ),
        (None, Some(f)) => Some(std::fs::read(base.join(f)).map_err(|e| format!("certificate-authority {f}: {e}"))?),
        (None, None) => None,
    };
    if server.starts_with("https://") && ca_pem.is_none() {
        return Err(format!(
            "cluster {:?}: https without certificate-authority(-data) is not supported",
            ctx.cluster
        ));
    }
    if !server.starts_with("https://") && !server.starts_with("http://") {
        return Err(format!("server {server:?} is neither https:// nor http://"));
    }
    let mut token = None;
    if let Some(u) = user {
        let unsupported = [
            (
                u.client_certificate.is_some() || u.client_certificate_data.is_some(),
                "client certificates",
            ),
            (u.exec.is_some(), "exec credential plugins"),
            (u.auth_provider.is_some(), "auth-provider plugins"),
            (u.username.is_some(), "basic auth"),
        ];
        if let Some((_, what)) = unsupported.iter().find(|(on, _)| *on) {
            if u.token.is_none() && u.token_file.is_none() {
                return Err(format!(
                    "user {:?}: {what} are not supported; use a bearer token",
                    ctx.user
                ));
            }
        }
        token = match (&u.token, &u.token_file) {
            (Some(t), _) => Some(t.trim().to_string()),
            (None, Some(f)) => Some(
                std::fs::read_to_string(base.join(f))
                    .map_err(|e| format!("tokenFile {f}: {e}"))?
                    .trim()
                    .to_string(),
            ),
            (None, None) => None,
        };
    }
    Ok(Cluster {
        server,
        ca_pem,
        token,
        namespace: ctx.namespace.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "apiVersion: v1
kind: Config
current-context: ir
clusters:
- name: prod
  cluster:
    server: https://10.0.0.1:6443/
    certificate-authority-data: LS0tLS1CRUdJTg==
contexts:
- name: ir
  context: {cluster: prod, user: responder, namespace: shop}
users:
- name: responder
  user:
    token: abc.def
";

    #[test]
    fn the_current_context_gives_server_ca_token_namespace() {
        let c = parse(CONFIG, None, Path::new("/")).unwrap();
        assert_eq!(c.server, "https://10.0.0.1:6443");
        assert_eq!(c.ca_pem.as_deref(), Some(&b"-----BEGIN"[..]));
        assert_eq!(c.token.as_deref(), Some("abc.def"));
        assert_eq!(c.namespace.as_deref(), Some("shop"));
        assert_eq!(
            format!("{c:?}"),
            "Cluster { server: \"https://10.0.0.1:6443\", token: Some(\"(set)\"), .. }"
        );
    }

    #[test]
    fn what_is_not_supported_is_named() {
        let exec = CONFIG.replace("    token: abc.def\n", "    exec: {command: aws}\n");
        assert_eq!(
            parse(&exec, None, Path::new("/")).err().unwrap(),
            "user \"responder\": exec credential plugins are not supported; use a bearer token"
        );
        let no_ca = CONFIG.replace("    certificate-authority-data: LS0tLS1CRUdJTg==\n", "");
        assert_eq!(
            parse(&no_ca, None, Path::new("/")).err().unwrap(),
            "cluster \"prod\": https without certificate-authority(-data) is not supported"
        );
        assert_eq!(
            parse(CONFIG, Some("other"), Path::new("/")).err().unwrap(),
            "no context \"other\""
        );
        assert!(
            parse("- [", None, Path::new("/"))
                .err()
                .unwrap()
                .starts_with("not a kubeconfig: ")
        );
    }
}
