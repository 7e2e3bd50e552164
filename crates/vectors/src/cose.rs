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
        timestamps: None,
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
        deposit: None,
        key_store: Some(forensic_bundle::custody::KeyStore::file(false)),
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

/// The head of a CBOR item of major type `major` with argument `n` (below 2³², as every length
/// here is), in shortest form.
fn head(major: u8, n: usize) -> Vec<u8> {
    let m = major << 5;
    // Each arm's guard bounds `n` to the width it is cast to.
    match n {
        0..=23 => vec![m | n as u8],
        24..=0xff => vec![m | 24, n as u8],
        0x100..=0xffff => [&[m | 25][..], &(n as u16).to_be_bytes()].concat(),
        _ => [&[m | 26][..], &(n as u32).to_be_bytes()].concat(),
    }
}

/// A CBOR byte string.
fn bstr(b: &[u8]) -> Vec<u8> {
    [head(2, b.len()), b.to_vec()].concat()
}

/// The `Sig_structure` of SPEC §9.2 over `protected` and `payload` exactly as given.
pub(crate) fn to_be_signed(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    [
        &[0x84, 0x6a][..],
        b"Signature1",
        &bstr(protected),
        &[0x40],
        &bstr(payload),
    ]
    .concat()
}

/// A COSE_Sign1_Tagged entry assembled byte by byte (for protected headers and signatures that
/// coset will not build): tag 18, the protected header and payload byte strings exactly as given,
/// an empty unprotected map and `signature`.
pub(crate) fn raw_entry(protected: &[u8], payload: &[u8], signature: &[u8]) -> Vec<u8> {
    [
        &[0xd2, 0x84][..],
        &bstr(protected),
        &[0xa0],
        &bstr(payload),
        &bstr(signature),
    ]
    .concat()
}

/// [`raw_entry`] signed by `signer` over the `Sig_structure` of exactly these bytes.
pub(crate) fn raw_signed(protected: &[u8], payload: &[u8], signer: &SigningKey) -> Vec<u8> {
    let sig = signer.sign(&to_be_signed(protected, payload)).to_bytes();
    raw_entry(protected, payload, &sig)
}
