//! The keys that seal bundles and sign custody entries, wherever they are held:
//!
//! - a PKCS#8 file, plain or encrypted with a passphrase (PBES2; `openssl pkey -passin` opens it),
//!   read by [`open`] with the passphrase taken from a file, an environment variable or the
//!   terminal ([`Unlock`]) — never from the command line;
//! - an Ed25519 key on a PKCS#11 token (an HSM, a YubiKey, a cloud KMS with a PKCS#11 module),
//!   named by an RFC 7512 URI ([`Pkcs11Uri`]), which signs through the token and never leaves it;
//!   [`generate_on_token`] makes such a key pair on the token.
//!
//! Every key is a [`Signer`]; its [`KeyStore`](forensic_bundle::custody::KeyStore) says which kind
//! signed each custody entry (SPEC §9.8).

mod error;
mod file;
mod pkcs11;
mod secret;

pub use error::KeyOpenError;
pub use file::{
    FileKey, MAX_KEY_FILE, MAX_PBKDF2_ITERATIONS, MAX_SCRYPT_MEMORY, PBKDF2_ITERATIONS, encrypted_private_key_pem,
};
pub use forensic_bundle::keys::Signer;
pub use pkcs11::{Generated, MODULE_ENV, Pkcs11Uri, TokenKey, generate_on_token};
pub use secret::{Secret, Unlock};

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// Where a signing key is: a key file, or a key on a PKCS#11 token (`pkcs11:…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySpec {
    /// A PKCS#8 PEM file (`-----BEGIN PRIVATE KEY-----` or `-----BEGIN ENCRYPTED PRIVATE KEY-----`).
    File(PathBuf),
    /// A key on a token, by RFC 7512 URI.
    Pkcs11(Box<Pkcs11Uri>),
}

impl FromStr for KeySpec {
    type Err = KeyOpenError;

    fn from_str(s: &str) -> Result<KeySpec, KeyOpenError> {
        if s.starts_with(pkcs11::SCHEME) {
            Ok(KeySpec::Pkcs11(Box::new(s.parse()?)))
        } else {
            Ok(KeySpec::File(PathBuf::from(s)))
        }
    }
}

impl fmt::Display for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySpec::File(p) => write!(f, "{}", p.display()),
            KeySpec::Pkcs11(u) => write!(f, "{u}"),
        }
    }
}

/// Opens the key `spec` names, asking `unlock` for a passphrase or PIN when one is needed.
///
/// # Errors
/// The file cannot be read or is not an Ed25519 PKCS#8 key, the passphrase is wrong or cannot be
/// had, the token or its key cannot be found, the PIN is wrong ([`KeyOpenError`]).
pub fn open(spec: &KeySpec, unlock: &Unlock) -> Result<Box<dyn Signer>, KeyOpenError> {
    match spec {
        KeySpec::File(path) => Ok(Box::new(FileKey::open(path, unlock)?)),
        KeySpec::Pkcs11(uri) => Ok(Box::new(TokenKey::open(uri, unlock)?)),
    }
}
