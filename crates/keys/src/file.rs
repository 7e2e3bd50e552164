//! Key files: PKCS#8 PEM, plain (`PRIVATE KEY`) or encrypted with a passphrase (`ENCRYPTED
//! PRIVATE KEY`, PBES2 of RFC 8018), the forms `openssl pkey` reads and writes.

use crate::{KeyOpenError, Unlock};
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use forensic_bundle::custody::KeyStore;
use forensic_bundle::keys::{SignError, Signer, SigningKey, VerifyingKey};
use pkcs8::pkcs5::pbes2::{self, Kdf};
use pkcs8::pkcs5::{EncryptionScheme, pbes2::Parameters};
use pkcs8::{EncryptedPrivateKeyInfoRef, LineEnding, PrivateKeyInfoRef};
use std::io::Read;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Largest key file read.
pub const MAX_KEY_FILE: u64 = 64 * 1024;

/// PBKDF2-HMAC-SHA256 iterations of a key `keygen --passphrase` writes (OWASP's figure for
/// PBKDF2-SHA256; a fraction of a second to open).
pub const PBKDF2_ITERATIONS: u32 = 600_000;

/// Most PBKDF2 iterations an encrypted key file may ask for (about 20 s of work here).
pub const MAX_PBKDF2_ITERATIONS: u32 = 20_000_000;

/// Most memory scrypt may need to open an encrypted key file (128 · r · N bytes).
pub const MAX_SCRYPT_MEMORY: u64 = 1 << 30;

const PLAIN_LABEL: &str = "PRIVATE KEY";
const ENCRYPTED_LABEL: &str = "ENCRYPTED PRIVATE KEY";

/// An Ed25519 key read from a PKCS#8 file; `encrypted` if it was protected by a passphrase.
pub struct FileKey {
    key: SigningKey,
    encrypted: bool,
}

impl FileKey {
    /// A key in memory, as read from a plain (`encrypted` false) or encrypted file.
    pub fn new(key: SigningKey, encrypted: bool) -> FileKey {
        FileKey { key, encrypted }
    }

    /// Reads the key file at `path`, asking `unlock` for the passphrase if it is encrypted.
    ///
    /// # Errors
    /// See [`KeyOpenError`]: unreadable, too large, not an Ed25519 PKCS#8 key, wrong or missing
    /// passphrase, a key derivation too costly to attempt.
    pub fn open(path: &Path, unlock: &Unlock) -> Result<FileKey, KeyOpenError> {
        let text = read_bounded(path)?;
        let bad = |reason: String| KeyOpenError::BadKey {
            path: path.to_path_buf(),
            reason,
        };
        let label = pem_label(&text).ok_or_else(|| {
            bad("not a PEM file: no \"-----BEGIN …-----\" line; a key is PKCS#8 PEM (forensic keygen, openssl genpkey -algorithm ed25519)".into())
        })?;
        match label {
            PLAIN_LABEL => {
                let key = SigningKey::from_pkcs8_pem(&text)
                    .map_err(|e| bad(format!("not an Ed25519 private key in PKCS#8 PEM: {e}")))?;
                Ok(FileKey::new(key, false))
            }
            ENCRYPTED_LABEL => {
                let (_, doc) = pkcs8::SecretDocument::from_pem(&text)
                    .map_err(|e| bad(format!("not a PEM encrypted PKCS#8 key: {e}")))?;
                let info = EncryptedPrivateKeyInfoRef::try_from(doc.as_bytes())
                    .map_err(|e| bad(format!("not an encrypted PKCS#8 key (EncryptedPrivateKeyInfo): {e}")))?;
                check_cost(path, &info.encryption_algorithm)?;
                let secret = unlock.secret(&format!("passphrase of key file {}", path.display()))?;
                let wrong = || KeyOpenError::WrongPassphrase {
                    path: path.to_path_buf(),
                    from: secret.from().to_string(),
                };
                // A wrong passphrase shows as bad CBC padding or, rarely, as a plaintext that is not a
                // PrivateKeyInfo; both mean the same to the user.
                let plain = info.decrypt(secret.expose()).map_err(|_| wrong())?;
                let key = SigningKey::from_pkcs8_der(plain.as_bytes()).map_err(|e| {
                    if PrivateKeyInfoRef::try_from(plain.as_bytes()).is_ok() {
                        bad(format!("decrypts, but not to an Ed25519 private key: {e}"))
                    } else {
                        wrong()
                    }
                })?;
                Ok(FileKey::new(key, true))
            }
            other => Err(bad(format!(
                "a \"{other}\" PEM, not a PKCS#8 Ed25519 private key (\"{PLAIN_LABEL}\" or \"{ENCRYPTED_LABEL}\"){}",
                if other.contains("OPENSSH") {
                    "; an OpenSSH key is converted with `ssh-keygen -p -m PKCS8 -f FILE`"
                } else {
                    ""
                }
            ))),
        }
    }
}

impl Signer for FileKey {
    fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    fn sign(&self, message: &[u8]) -> Result<[u8; 64], SignError> {
        Signer::sign(&self.key, message)
    }

    fn key_store(&self) -> KeyStore {
        KeyStore::file(self.encrypted)
    }
}

/// PKCS#8 `ENCRYPTED PRIVATE KEY` PEM of `key` under `passphrase`: PBES2 with PBKDF2-HMAC-SHA256
/// ([`PBKDF2_ITERATIONS`], 16-byte random salt) and AES-256-CBC, which OpenSSL 1.1 and later open
/// (`openssl pkey -in K -passin file:P`).
///
/// # Errors
/// [`KeyOpenError::Random`] without OS randomness; [`KeyOpenError::BadKey`] if encoding fails.
pub fn encrypted_private_key_pem(key: &SigningKey, passphrase: &str) -> Result<Zeroizing<String>, KeyOpenError> {
    let bad = |e: String| KeyOpenError::BadKey {
        path: PathBuf::from("(new key)"),
        reason: e,
    };
    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| KeyOpenError::Random(e.to_string()))?;
    getrandom::fill(&mut iv).map_err(|e| KeyOpenError::Random(e.to_string()))?;
    let params =
        Parameters::generate_pbkdf2_sha256_aes256cbc(PBKDF2_ITERATIONS, &salt, iv).map_err(|e| bad(e.to_string()))?;
    let plain = ed25519_dalek::pkcs8::KeypairBytes {
        secret_key: key.to_bytes(),
        public_key: None,
    }
    .to_pkcs8_der()
    .map_err(|e| bad(e.to_string()))?;
    let info = PrivateKeyInfoRef::try_from(plain.as_bytes()).map_err(|e| bad(e.to_string()))?;
    let sealed = info
        .encrypt_with_params(params, passphrase)
        .map_err(|e| bad(e.to_string()))?;
    sealed
        .to_pem(ENCRYPTED_LABEL, LineEnding::LF)
        .map_err(|e| bad(e.to_string()))
}

/// Refuses key derivations that would hold the command for hours or take all memory.
fn check_cost(path: &Path, scheme: &EncryptionScheme) -> Result<(), KeyOpenError> {
    let too = |asked: String, limit: String| KeyOpenError::KdfTooCostly {
        path: path.to_path_buf(),
        asked,
        limit,
    };
    let EncryptionScheme::Pbes2(pbes2::Parameters { kdf, .. }) = scheme else {
        return Err(KeyOpenError::BadKey {
            path: path.to_path_buf(),
            reason: "encrypted with PBES1 (DES or RC2 of PKCS#5 v1.5), which is not accepted; re-encrypt it: \
                     `openssl pkcs8 -topk8 -v2 aes-256-cbc -in OLD -out NEW`"
                .into(),
        });
    };
    match kdf {
        Kdf::Pbkdf2(p) if p.iteration_count > MAX_PBKDF2_ITERATIONS => Err(too(
            format!("{} PBKDF2 iterations", p.iteration_count),
            format!("{MAX_PBKDF2_ITERATIONS}"),
        )),
        Kdf::Scrypt(s) => {
            let memory = 128u64
                .saturating_mul(u64::from(s.block_size))
                .saturating_mul(s.cost_parameter);
            if memory > MAX_SCRYPT_MEMORY || s.parallelization > 16 {
                Err(too(
                    format!(
                        "scrypt N={} r={} p={} ({memory} bytes)",
                        s.cost_parameter, s.block_size, s.parallelization
                    ),
                    format!("{MAX_SCRYPT_MEMORY} bytes and p ≤ 16"),
                ))
            } else {
                Ok(())
            }
        }
        Kdf::Pbkdf2(_) => Ok(()),
        _ => Err(KeyOpenError::BadKey {
            path: path.to_path_buf(),
            reason: "encrypted with a key derivation other than PBKDF2 or scrypt".into(),
        }),
    }
}

fn read_bounded(path: &Path) -> Result<String, KeyOpenError> {
    let read = |source| KeyOpenError::Read {
        path: path.to_path_buf(),
        source,
    };
    let f = std::fs::File::open(path).map_err(read)?;
    let size = f.metadata().map_err(read)?.len();
    if size > MAX_KEY_FILE {
        return Err(KeyOpenError::TooLarge {
            path: path.to_path_buf(),
            size,
        });
    }
    let mut text = String::new();
    f.take(MAX_KEY_FILE)
        .read_to_string(&mut text)
        .map_err(|e| KeyOpenError::BadKey {
            path: path.to_path_buf(),
            reason: format!("not a text (PEM) file: {e}"),
        })?;
    Ok(text)
}

/// The label of the first PEM block (`-----BEGIN LABEL-----`).
fn pem_label(text: &str) -> Option<&str> {
    let start = text.find("-----BEGIN ")? + "-----BEGIN ".len();
    let rest = text.get(start..)?;
    let end = rest.find("-----")?;
    rest.get(..end)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn unlock_with(dir: &Path, pass: &str) -> Unlock {
        let p = dir.join("pass");
        std::fs::write(&p, format!("{pass}\n")).unwrap();
        Unlock {
            file: Some(p),
            ..Unlock::default()
        }
    }

    #[test]
    fn encrypted_round_trip_and_wrong_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let key = forensic_bundle::keys::signing_key_from_seed(&[7; 32]);
        let pem = encrypted_private_key_pem(&key, "s3cret passphrase").unwrap();
        assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
        let path = dir.path().join("k.key");
        std::fs::write(&path, pem.as_bytes()).unwrap();
        let opened = FileKey::open(&path, &unlock_with(dir.path(), "s3cret passphrase")).unwrap();
        assert_eq!(
            (opened.verifying_key(), opened.key_store()),
            (key.verifying_key(), KeyStore::file(true))
        );
        let e = FileKey::open(&path, &unlock_with(dir.path(), "wrong")).err().unwrap();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: wrong passphrase (from --passphrase-file {}): the encrypted key does not decrypt with it",
                path.display(),
                dir.path().join("pass").display()
            )
        );
        let e = FileKey::open(&path, &Unlock::default()).err().unwrap();
        assert!(
            matches!(e, KeyOpenError::NoSecret { what } if what == format!("passphrase of key file {}", path.display()))
        );
    }

    #[test]
    fn plain_key_needs_no_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let key = forensic_bundle::keys::signing_key_from_seed(&[9; 32]);
        let path = dir.path().join("k.key");
        std::fs::write(&path, forensic_bundle::keys::private_key_pem(&key).unwrap()).unwrap();
        let opened = FileKey::open(&path, &Unlock::default()).unwrap();
        assert_eq!(
            (opened.verifying_key(), opened.key_store()),
            (key.verifying_key(), KeyStore::file(false))
        );
    }

    #[test]
    fn costly_derivation_refused_before_asking() {
        let dir = tempfile::tempdir().unwrap();
        let params =
            Parameters::generate_pbkdf2_sha256_aes256cbc(MAX_PBKDF2_ITERATIONS + 1, &[1; 16], [2; 16]).unwrap();
        // Encrypting runs the derivation too; build the file around a bogus ciphertext instead.
        let info = pkcs8::EncryptedPrivateKeyInfo {
            encryption_algorithm: params.into(),
            encrypted_data: pkcs8::der::asn1::OctetStringRef::new(&[0; 48]).unwrap(),
        };
        let der = pkcs8::der::Encode::to_der(&info).unwrap();
        let pem = pkcs8::der::pem::encode_string(ENCRYPTED_LABEL, LineEnding::LF, &der).unwrap();
        let path = dir.path().join("k.key");
        std::fs::write(&path, pem).unwrap();
        let e = FileKey::open(&path, &Unlock::default()).err().unwrap();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: the key's passphrase derivation asks for 20000001 PBKDF2 iterations, more than the limit of 20000000; refusing",
                path.display()
            )
        );
    }

    #[test]
    fn other_pem_kinds_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("id_ed25519");
        std::fs::write(
            &path,
            "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
        )
        .unwrap();
        let e = FileKey::open(&path, &Unlock::default()).err().unwrap();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: a \"OPENSSH PRIVATE KEY\" PEM, not a PKCS#8 Ed25519 private key (\"PRIVATE KEY\" or \"ENCRYPTED PRIVATE KEY\"); an OpenSSH key is converted with `ssh-keygen -p -m PKCS8 -f FILE`",
                path.display()
            )
        );
    }
}
