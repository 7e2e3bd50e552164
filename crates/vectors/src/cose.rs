//! Hand-made custody entries (SPEC §9): the shapes `forensic_bundle::custody::sign` never
//! makes — other algorithms, mismatched key ids, unprotected headers, detached payloads,
//! untagged messages and non-canonical signatures.

use crate::Error;
use crate::fixture::{SEAL_AT, key, t};
use coset::{CborSerializable, CoseSign1, CoseSign1Builder, Header, HeaderBuilder, TaggedCborSerializable, iana};
use ed25519_dalek::Signer;
use forensic_bundle::custody::{Actor, Payload, SEALED};
use forensic_bundle::digest::Digest;
use forensic_bundle::keys::{Fingerprint, SigningKey};

/// The Ed25519 group order L (RFC 8032 §5.1), little-endian.
const L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// A protected header with `alg` and `kid`.
pub(crate) fn protected(alg: iana::Algorithm, kid: &Fingerprint) -> Header {
    HeaderBuilder::new().algorithm(alg).key_id(kid.0.to_vec()).build()
}

/// A COSE_Sign1 message over `payload`, signed by `signer` over the `Sig_structure` of SPEC §9.2.
pub(crate) fn sign1(protected: Header, unprotected: Header, payload: Vec<u8>, signer: &SigningKey) -> CoseSign1 {
    CoseSign1Builder::new()
        .protected(protected)
        .unprotected(unprotected)
        .payload(payload)
        .create_signature(b"", |tbs| signer.sign(tbs).to_bytes().to_vec())
        .build()
}

/// The tagged (tag 18) encoding.
pub(crate) fn tagged(s: CoseSign1) -> Result<Vec<u8>, Error> {
    Ok(s.to_tagged_vec()?)
}

/// The untagged encoding.
pub(crate) fn untagged(s: CoseSign1) -> Result<Vec<u8>, Error> {
    Ok(s.to_vec()?)
}

/// CBOR encoding of a serialisable value.
pub(crate) fn encode<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(v, &mut out)?;
    Ok(out)
}

/// The payload of a seal (entry 0) by the test key `who` at the usual seal time.
pub(crate) fn seal_payload(who: &str, bundle_id: &str, digest: &Digest) -> Result<Payload, Error> {
    Ok(Payload {
        seq: 0,
        prev: None,
        time: t(SEAL_AT)?,
        action: SEALED.into(),
        actor: Actor {
            name: who.into(),
            key: Digest(key(who).verifying_key().to_bytes()),
        },
        bundle_id: bundle_id.into(),
        manifest_sha256: *digest,
        recipient: None,
        note: None,
    })
}

/// Replaces the signature's S (the last 32 bytes of an entry) by S + L: the same signature in a
/// non-canonical encoding, which SPEC §9.2 forbids (signature malleability).
pub(crate) fn malleate(entry: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = entry.to_vec();
    let start = out.len().checked_sub(32).ok_or_else(|| Error::new("entry too short"))?;
    let s = out.get_mut(start..).ok_or_else(|| Error::new("entry too short"))?;
    let mut carry = 0u16;
    for (b, l) in s.iter_mut().zip(L) {
        let sum = u16::from(*b) + u16::from(l) + carry;
        *b = (sum & 0xff) as u8;
        carry = sum >> 8;
    }
    if carry != 0 {
        return Err(Error::new("S + L overflows 256 bits"));
    }
    Ok(out)
}
