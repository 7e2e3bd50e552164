//! Signature checks over exact bytes: the algorithms a TSA and its CAs use.

use der::Encode;
use der::asn1::ObjectIdentifier as Oid;
use sha2::Digest as _;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

pub(crate) const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");
const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
const PRIME256V1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
const ECDSA_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");
const ED25519: Oid = Oid::new_unwrap("1.3.101.112");

/// A digest algorithm a token or certificate may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    pub(crate) fn from_oid(oid: &Oid) -> Option<Hash> {
        match *oid {
            SHA256 => Some(Hash::Sha256),
            SHA384 => Some(Hash::Sha384),
            SHA512 => Some(Hash::Sha512),
            _ => None,
        }
    }

    pub(crate) fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Hash::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Hash::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    fn pkcs1(self) -> rsa::Pkcs1v15Sign {
        match self {
            Hash::Sha256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
            Hash::Sha384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
            Hash::Sha512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
        }
    }
}

/// Checks `signature` over `message` with `key`, for signature algorithm `alg`. `digest` is the
/// CMS digest algorithm, used when `alg` names only the key type (`rsaEncryption`, RFC 5754 §3.2).
///
/// # Errors
/// Words saying what did not check or which algorithm is not supported.
pub(crate) fn verify(
    key: &SubjectPublicKeyInfoOwned,
    alg: &AlgorithmIdentifierOwned,
    digest: Option<Hash>,
    message: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    let key_alg = key.algorithm.oid;
    let raw_key = key
        .subject_public_key
        .as_bytes()
        .ok_or("the public key is not a whole number of bytes")?;
    match (key_alg, alg.oid) {
        (RSA_ENCRYPTION, sig) => {
            let hash = match sig {
                SHA256_WITH_RSA => Hash::Sha256,
                SHA384_WITH_RSA => Hash::Sha384,
                SHA512_WITH_RSA => Hash::Sha512,
                RSA_ENCRYPTION => digest.ok_or("rsaEncryption without a digest algorithm")?,
                other => return Err(format!("signature algorithm {other} is not supported with an RSA key")),
            };
            let spki = key.to_der().map_err(|e| format!("public key: {e}"))?;
            let pk = <rsa::PublicKey as rsa::pkcs8::DecodePublicKey>::from_public_key_der(&spki)
                .map_err(|e| format!("RSA public key: {e}"))?;
            pk.verify(hash.pkcs1(), &hash.digest(message), signature)
                .map_err(|_| "the RSA signature does not verify".to_string())
        }
        (EC_PUBLIC_KEY, sig) => {
            let curve = key
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<Oid>().ok());
            if curve != Some(PRIME256V1) {
                return Err("only the EC curve P-256 (prime256v1) is supported".to_string());
            }
            let hash = match sig {
                ECDSA_SHA256 => Hash::Sha256,
                ECDSA_SHA384 => Hash::Sha384,
                ECDSA_SHA512 => Hash::Sha512,
                other => return Err(format!("signature algorithm {other} is not supported with an EC key")),
            };
            let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(raw_key).map_err(|_| "invalid P-256 public key")?;
            let sig = p256::ecdsa::Signature::from_der(signature).map_err(|_| "the ECDSA signature is not DER")?;
            use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
            vk.verify_prehash(&hash.digest(message), &sig)
                .map_err(|_| "the ECDSA signature does not verify".to_string())
        }
        (ED25519, ED25519) => {
            let raw: [u8; 32] = raw_key.try_into().map_err(|_| "an Ed25519 key is 32 bytes")?;
            let vk = ed25519_dalek::VerifyingKey::from_bytes(&raw).map_err(|_| "invalid Ed25519 public key")?;
            let sig =
                ed25519_dalek::Signature::from_slice(signature).map_err(|_| "an Ed25519 signature is 64 bytes")?;
            vk.verify_strict(message, &sig)
                .map_err(|_| "the Ed25519 signature does not verify".to_string())
        }
        (k, s) => Err(format!("key type {k} with signature algorithm {s} is not supported")),
    }
}
