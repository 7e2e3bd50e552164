//! The certificates a verifier trusts for time stamping (`verify --tsa-trust`).

use der::{Decode, DecodePem, Encode};
use x509_cert::Certificate;

/// Why trust-list bytes are not certificates.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// Neither PEM certificates nor one DER certificate.
    #[error("not an X.509 certificate (PEM `CERTIFICATE` blocks or one DER certificate): {0}")]
    NotCertificate(String),
}

/// A set of trusted certificates (roots or intermediates), each trusted by being in the list: a
/// token verifies when its signer's certificate chains to one of them (SPEC §9.6).
#[derive(Debug, Clone, Default)]
pub struct TrustList {
    pub(crate) certs: Vec<Certificate>,
}

impl TrustList {
    /// An empty list.
    pub fn new() -> TrustList {
        TrustList::default()
    }

    /// Adds every certificate in `bytes`: one or more PEM `CERTIFICATE` blocks, or one DER
    /// certificate. Returns how many were added.
    ///
    /// # Errors
    /// [`TrustError::NotCertificate`] if `bytes` holds neither, or a certificate is not DER.
    pub fn add(&mut self, bytes: &[u8]) -> Result<usize, TrustError> {
        let bad = |e: &dyn std::fmt::Display| TrustError::NotCertificate(e.to_string());
        let certs = if bytes.starts_with(b"-----") || bytes.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") {
            let text = std::str::from_utf8(bytes).map_err(|e| bad(&e))?;
            let mut out = Vec::new();
            let mut rest = text;
            while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
                let tail = rest.get(start..).unwrap_or_default();
                let end_marker = "-----END CERTIFICATE-----";
                let end = tail
                    .find(end_marker)
                    .ok_or_else(|| bad(&"a PEM block without its END line"))?;
                let block = tail.get(..end + end_marker.len()).unwrap_or_default();
                out.push(Certificate::from_pem(block).map_err(|e| bad(&e))?);
                rest = tail.get(end + end_marker.len()..).unwrap_or_default();
            }
            out
        } else {
            vec![Certificate::from_der(bytes).map_err(|e| bad(&e))?]
        };
        if certs.is_empty() {
            return Err(bad(&"no certificate found"));
        }
        for c in &certs {
            // Signatures are checked over the bytes that arrived: a certificate must be DER.
            let again = c.to_der().map_err(|e| bad(&e))?;
            if Certificate::from_der(&again).ok().as_ref() != Some(c) {
                return Err(bad(&"not DER"));
            }
        }
        let n = certs.len();
        self.certs.extend(certs);
        Ok(n)
    }

    /// How many certificates the list holds.
    pub fn len(&self) -> usize {
        self.certs.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }
}
