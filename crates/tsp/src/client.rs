//! Asking a time-stamping authority for a token (RFC 3161 §3.4: an HTTP POST of
//! `application/timestamp-query`, answered with `application/timestamp-reply`).
//!
//! [`request`] and [`read_response`] are pure; [`fetch`] does the POST, with timeouts and a cap on
//! the answer's size. The answer is hostile input: its token is parsed, its imprint and nonce must
//! be the request's, and its CMS signature must check against the certificate it carries, before it
//! is returned. Whether that certificate is trusted is decided later, by whoever verifies.

use crate::token::{MessageImprint, Token};
use crate::trust::TrustList;
use der::asn1::{AnyRef, OctetString};
use der::{Encode, Reader, Sequence, Tag, Tagged};
use std::time::Duration;
use x509_cert::spki::AlgorithmIdentifierOwned;

/// The most bytes read from an authority's answer.
pub const MAX_RESPONSE: u64 = 64 * 1024;
/// How long one request may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// Why no token was obtained.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The URL is not `http://…` (tokens are self-authenticating; TLS is not supported).
    #[error("{0}: a time-stamping authority URL must be http://… (a token is signed; TLS is not needed)")]
    Url(String),
    /// The HTTP exchange failed.
    #[error("{url}: {message}")]
    Http {
        /// The authority.
        url: String,
        /// What failed.
        message: String,
    },
    /// The answer is not a granted time-stamp response for this request.
    #[error("{url}: {message}")]
    Response {
        /// The authority.
        url: String,
        /// What is wrong with the answer.
        message: String,
    },
}

#[derive(Sequence)]
struct TimeStampReq {
    version: u8,
    message_imprint: MessageImprint,
    nonce: der::asn1::Int,
    cert_req: bool,
}

/// A DER `TimeStampReq` (RFC 3161 §2.4.1) for SHA-256 digest `digest`, with `nonce` and
/// `certReq` true (so that the token carries the TSA's certificate).
///
/// # Errors
/// Only if encoding fails.
pub fn request(digest: &[u8; 32], nonce: u64) -> Result<Vec<u8>, der::Error> {
    let mut nonce_bytes = nonce.to_be_bytes().to_vec();
    // A positive INTEGER in its shortest two's-complement form.
    while nonce_bytes.len() > 1 && nonce_bytes.first() == Some(&0) && nonce_bytes.get(1).is_some_and(|b| b & 0x80 == 0)
    {
        nonce_bytes.remove(0);
    }
    if nonce_bytes.first().is_some_and(|b| b & 0x80 != 0) {
        nonce_bytes.insert(0, 0);
    }
    TimeStampReq {
        version: 1,
        message_imprint: MessageImprint {
            hash_algorithm: AlgorithmIdentifierOwned {
                oid: crate::pki::SHA256,
                parameters: Some(der::Any::null()),
            },
            hashed_message: OctetString::new(digest.to_vec())?,
        },
        nonce: der::asn1::Int::new(&nonce_bytes)?,
        cert_req: true,
    }
    .to_der()
}

/// Reads a DER `TimeStampResp` (RFC 3161 §2.4.2) to the request for `digest` with `nonce`: the
/// status must be granted (0 or 1) and the token's imprint, nonce and CMS signature must check.
/// Returns the token's exact bytes.
///
/// # Errors
/// A message saying what is wrong.
pub fn read_response(bytes: &[u8], digest: &[u8; 32], nonce: u64) -> Result<Vec<u8>, String> {
    let mut r = der::SliceReader::new(bytes).map_err(|e| e.to_string())?;
    let (status, text, token) = r
        .sequence(|r| {
            let (status, text) = r.sequence(|s| {
                let status: u32 = s.decode()?;
                let mut text = Vec::new();
                while !s.is_finished() {
                    let f: AnyRef<'_> = s.decode()?;
                    if f.tag() == Tag::Sequence {
                        let mut inner = der::SliceReader::new(f.value())?;
                        while !inner.is_finished() {
                            let u: der::asn1::Utf8StringRef<'_> = inner.decode()?;
                            text.push(u.as_str().to_string());
                        }
                    }
                }
                Ok((status, text))
            })?;
            let token = if r.is_finished() {
                None
            } else {
                Some(r.decode::<AnyRef<'_>>()?.to_der()?)
            };
            Ok((status, text, token))
        })
        .map_err(|e| format!("not a TimeStampResp: {e}"))?;
    r.finish(()).map_err(|e| format!("not a TimeStampResp: {e}"))?;
    if status > 1 {
        return Err(format!("the authority refused (status {status}): {}", text.join("; ")));
    }
    let token = token.ok_or("a granted answer without a token")?;
    let parsed = Token::parse(&token).map_err(|e| e.to_string())?;
    parsed.check_imprint(digest).map_err(|e| e.to_string())?;
    let want = nonce.to_be_bytes();
    let got = parsed.nonce.as_deref().map(|n| {
        let skip = n.iter().take_while(|b| **b == 0).count();
        n.get(skip..).unwrap_or_default().to_vec()
    });
    let skip = want.iter().take_while(|b| **b == 0).count();
    if got.as_deref() != want.get(skip..) {
        return Err("the token's nonce is not the request's (a replayed or mixed-up answer)".into());
    }
    parsed
        .check_signature(&TrustList::new())
        .map_err(|e| format!("{e} (the token must carry the TSA's certificate)"))?;
    Ok(token)
}

/// POSTs a request for `digest` to `url` and returns the checked token's bytes.
///
/// # Errors
/// [`ClientError`] saying what failed.
pub fn fetch(url: &str, digest: &[u8; 32]) -> Result<Vec<u8>, ClientError> {
    if !url.starts_with("http://") {
        return Err(ClientError::Url(url.to_string()));
    }
    let http = |message: String| ClientError::Http {
        url: url.to_string(),
        message,
    };
    let mut n = [0u8; 8];
    getrandom::fill(&mut n).map_err(|e| http(format!("no random nonce: {e}")))?;
    let nonce = u64::from_be_bytes(n) >> 1;
    let body = request(digest, nonce).map_err(|e| http(e.to_string()))?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let mut resp = agent
        .post(url)
        .header("Content-Type", "application/timestamp-query")
        .send(&body[..])
        .map_err(|e| http(e.to_string()))?;
    if resp.status() != 200 {
        return Err(http(format!("HTTP status {}", resp.status())));
    }
    let answer = resp
        .body_mut()
        .with_config()
        .limit(MAX_RESPONSE)
        .read_to_vec()
        .map_err(|e| http(format!("reading the answer (at most {MAX_RESPONSE} bytes): {e}")))?;
    read_response(&answer, digest, nonce).map_err(|message| ClientError::Response {
        url: url.to_string(),
        message,
    })
}

/// Tokens over `digest` from every authority in `urls`, in order; the first failure ends it (a
/// bundle is stamped by all the authorities asked, or not at all).
///
/// # Errors
/// The first [`ClientError`].
pub fn fetch_all(urls: &[String], digest: &[u8; 32]) -> Result<Vec<Vec<u8>>, ClientError> {
    urls.iter().map(|u| fetch(u, digest)).collect()
}
