//! RFC 3161 time-stamp tokens for the custody log's trusted time (`format-spec/SPEC.md` §9.6).
//!
//! Guarantees, each checked by [`Token::verify`] when a trust list is given:
//! - the token is DER (it re-encodes to exactly the bytes that arrived), a CMS `SignedData`
//!   (RFC 5652) whose content is a `TSTInfo` (RFC 3161 §2.4.2), version 1;
//! - its message imprint is SHA-256 over exactly the bytes the caller names;
//! - its one signer's signed attributes carry content type `id-ct-TSTInfo` and the digest of the
//!   `TSTInfo`, and the signature over them checks (RSA PKCS#1 v1.5, ECDSA P-256, Ed25519);
//! - the signer's certificate carries the critical extended key usage `timeStamping` alone
//!   (RFC 3161 §2.3) and chains, each link's signature checked, to a certificate of the trust list;
//! - every certificate of that chain is valid at the token's `genTime`.
//!
//! Not checked: revocation (no CRL or OCSP: verification is offline), the ESS signing-certificate
//! attribute, the TSA's policy. Parsing and verifying are pure (bytes in, no clock, no files);
//! [`client`] is the one module that talks to the network.
#![deny(missing_docs)]

#[cfg(feature = "client")]
pub mod client;
mod pki;
mod time;
mod token;
mod trust;

pub use token::{Token, TokenError, TokenFailure};
pub use trust::{TrustError, TrustList};

/// The most bytes one token may have: a token travels inside a custody entry of at most 64 KiB
/// (SPEC §10), beside the rest of the entry.
pub const MAX_TOKEN: usize = 48 * 1024;
