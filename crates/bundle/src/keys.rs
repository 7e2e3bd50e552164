//! Ed25519 keys, key files and fingerprints (SPEC §8).

use crate::digest::Digest;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
pub use ed25519_dalek::{SigningKey, VerifyingKey};
use std::fmt;

/// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the 32 key bytes follow.
pub const SPKI_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

/// A key fingerprint: SHA-256 of the DER SubjectPublicKeyInfo (SPEC §8).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The fingerprint of a raw 32-byte public key.
    pub fn of_raw(key: &[u8; 32]) -> Fingerprint {
        let mut der = Vec::with_capacity(44);
        der.extend_from_slice(&SPKI_PREFIX);
        der.extend_from_slice(key);
        Fingerprint(Digest::of(&der).0)
    }

    /// The fingerprint of a verifying key.
    pub fn of(key: &VerifyingKey) -> Fingerprint {
        Fingerprint::of_raw(key.as_bytes())
    }

    /// 64 lowercase hex digits.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The short form: the first 16 hex digits.
    pub fn short(&self) -> String {
        self.hex().chars().take(16).collect()
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.hex())
    }
}

/// A key file could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Not a PKCS#8 Ed25519 private key in PEM.
    #[error("not an Ed25519 private key in PKCS#8 PEM (\"-----BEGIN PRIVATE KEY-----\"): {0}")]
    BadPrivate(String),
    /// Not an SPKI Ed25519 public key in PEM.
    #[error("not an Ed25519 public key in SPKI PEM (\"-----BEGIN PUBLIC KEY-----\"): {0}")]
    BadPublic(String),
}

/// Why a signature could not be made.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SignError(pub String);

/// What signs custody entries: a key read from a file, or one a token holds and never releases
/// (PKCS#11). Every entry records which ([`crate::custody::KeyStore`], SPEC §9.8).
pub trait Signer: Send + Sync {
    /// The public key.
    fn verifying_key(&self) -> VerifyingKey;
    /// An Ed25519 signature (RFC 8032, pure) over `message`.
    ///
    /// # Errors
    /// The key's holder failed (a token removed, a session closed).
    fn sign(&self, message: &[u8]) -> Result<[u8; 64], SignError>;
    /// Where the key is held.
    fn key_store(&self) -> crate::custody::KeyStore;
}

impl fmt::Debug for dyn Signer + '_ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("fingerprint", &Fingerprint::of(&self.verifying_key()))
            .field("key_store", &self.key_store().describe())
            .finish()
    }
}

/// A plain key in memory: a key file without a passphrase (or a test's fixed seed).
impl Signer for SigningKey {
    fn verifying_key(&self) -> VerifyingKey {
        SigningKey::verifying_key(self)
    }

    fn sign(&self, message: &[u8]) -> Result<[u8; 64], SignError> {
        Ok(ed25519_dalek::Signer::sign(self, message).to_bytes())
    }

    fn key_store(&self) -> crate::custody::KeyStore {
        crate::custody::KeyStore::file(false)
    }
}

/// A signing key from a 32-byte seed (RFC 8032 secret key). Keygen passes OS randomness;
/// the vector generator passes fixed seeds.
pub fn signing_key_from_seed(seed: &[u8; 32]) -> SigningKey {
    SigningKey::from_bytes(seed)
}

/// PKCS#8 v1 PEM of a private key (RFC 8410 `PrivateKeyInfo`, no public key attribute).
///
/// # Errors
/// [`KeyError::BadPrivate`] if encoding fails (it does not for valid keys).
pub fn private_key_pem(key: &SigningKey) -> Result<String, KeyError> {
    let bytes = ed25519_dalek::pkcs8::KeypairBytes {
        secret_key: key.to_bytes(),
        public_key: None,
    };
    let pem = bytes
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| KeyError::BadPrivate(e.to_string()))?;
    Ok(pem.to_string())
}

/// SPKI PEM of a public key.
///
/// # Errors
/// [`KeyError::BadPublic`] if encoding fails (it does not for valid keys).
pub fn public_key_pem(key: &VerifyingKey) -> Result<String, KeyError> {
    key.to_public_key_pem(LineEnding::LF)
        .map_err(|e| KeyError::BadPublic(e.to_string()))
}

/// Reads a PKCS#8 PEM Ed25519 private key.
///
/// # Errors
/// [`KeyError::BadPrivate`].
pub fn parse_private_key_pem(pem: &str) -> Result<SigningKey, KeyError> {
    SigningKey::from_pkcs8_pem(pem).map_err(|e| KeyError::BadPrivate(e.to_string()))
}

/// Reads an SPKI PEM Ed25519 public key.
///
/// # Errors
/// [`KeyError::BadPublic`].
pub fn parse_public_key_pem(pem: &str) -> Result<VerifyingKey, KeyError> {
    VerifyingKey::from_public_key_pem(pem).map_err(|e| KeyError::BadPublic(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8032 §7.1 TEST 1.
    const SECRET: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    const PUBLIC: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

    #[test]
    fn rfc8032_test1_key_round_trips_through_pem() -> Result<(), Box<dyn std::error::Error>> {
        let mut seed = [0u8; 32];
        hex::decode_to_slice(SECRET, &mut seed)?;
        let key = signing_key_from_seed(&seed);
        assert_eq!(hex::encode(key.verifying_key().as_bytes()), PUBLIC);
        let pem = private_key_pem(&key)?;
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert_eq!(parse_private_key_pem(&pem)?.to_bytes(), seed);
        let pub_pem = public_key_pem(&key.verifying_key())?;
        assert_eq!(parse_public_key_pem(&pub_pem)?, key.verifying_key());
        // SPEC §8: fingerprint = SHA-256(302a300506032b6570032100 || key).
        let der = hex::decode(format!("302a300506032b6570032100{PUBLIC}"))?;
        assert_eq!(Fingerprint::of(&key.verifying_key()).0, Digest::of(&der).0);
        Ok(())
    }
}
