//! The custody log (`custody.cbor`, SPEC §9): signed, hash-chained COSE_Sign1 entries.
//!
//! Signatures are made and checked over the exact bytes of the protected header and payload as they
//! appear in the entry, never over a re-encoding. Entries are parsed strictly per SPEC §9.1 (coset's
//! own parser validates header labels that the spec tells readers to ignore); coset builds the
//! `Sig_structure` and signs.

use crate::cbor;
use crate::digest::Digest;
use crate::keys::{Fingerprint, Signer, VerifyingKey};
use crate::limits::Limits;
use crate::time::Timestamp;
use ciborium::Value;
use coset::{
    CoseSign1Builder, Header, HeaderBuilder, ProtectedHeader, SignatureContext, TaggedCborSerializable, iana,
    sig_structure_data,
};
use serde::{Deserialize, Serialize};

mod deposit;
mod key_store;
mod semantics;
pub use deposit::{ARCHIVED, Deposit};
pub use key_store::KeyStore;
pub use key_store::{FILE as KEY_FILE, PKCS11 as KEY_PKCS11};
pub use semantics::check_semantics;

/// CBOR tag of COSE_Sign1_Tagged (RFC 9052).
pub const COSE_SIGN1_TAG: u64 = 18;

/// The well-known action of the first entry.
pub const SEALED: &str = "sealed";
/// The action of a transfer to the key named by `recipient` (SPEC §9.4).
pub const TRANSFERRED: &str = "transferred";
/// The action of the recipient's receipt of a transfer (SPEC §9.4).
pub const RECEIVED: &str = "received";
/// The action of any other signed statement (SPEC §9.4).
pub const ANNOTATED: &str = "annotated";
/// How far an entry's time may lie before the previous entry's (or, for the seal, before the
/// manifest's `created`): SPEC §9.4 rule 2.
pub const TIME_TOLERANCE_SECS: u32 = 300;

/// The signed payload of one custody entry (SPEC §9.1 `custody-payload`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payload {
    /// Position in the log, from 0.
    pub seq: u64,
    /// SHA-256 of the previous entry's exact bytes; `None` (CBOR null) in entry 0.
    #[serde(deserialize_with = "required_option")]
    pub prev: Option<Digest>,
    /// When the entry was made.
    pub time: Timestamp,
    /// `sealed`, `transferred`, `received`, `annotated`, ...
    pub action: String,
    /// Who signed.
    pub actor: Actor,
    /// The manifest's bundle id.
    pub bundle_id: String,
    /// The manifest digest this entry vouches for.
    pub manifest_sha256: Digest,
    /// For a transfer: fingerprint of the receiving key.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::manifest::present"
    )]
    pub recipient: Option<Digest>,
    /// Free text.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::manifest::present"
    )]
    pub note: Option<String>,
    /// RFC 3161 time-stamp tokens (DER) over `prev`, the previous entry (SPEC §9.6).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::manifest::present"
    )]
    pub timestamps: Option<Vec<Token>>,
    /// For an `archived` entry: the confirmed deposit (SPEC §9.7); informative, `None` when absent
    /// or not of the `deposit` shape.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "deposit::informative"
    )]
    pub deposit: Option<Deposit>,
    /// Where the signing key was held (SPEC §9.8); informative, `None` when absent or not of the
    /// `key_store` shape.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "key_store::informative"
    )]
    pub key_store: Option<KeyStore>,
}

/// One RFC 3161 time-stamp token's DER bytes, as it appears in a payload (SPEC §9.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Token(#[serde(with = "serde_bytes")] pub Vec<u8>);

/// The action of an entry whose purpose is to carry time-stamp tokens over the entry before it
/// (SPEC §9.6); custody does not change.
pub const TIMESTAMPED: &str = "timestamped";

/// The signer of an entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    /// A human name.
    pub name: String,
    /// The raw Ed25519 public key.
    pub key: Digest,
}

fn required_option<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Digest>, D::Error> {
    Option::<Digest>::deserialize(d)
}

/// Why a custody log or entry is not acceptable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CustodyError {
    /// The log is empty.
    #[error("custody.cbor is empty: the bundle was never sealed")]
    Empty,
    /// An item is not well-formed CBOR per SPEC §9.1.
    #[error("custody entry {entry}: {source}")]
    Cbor {
        /// Entry number.
        entry: usize,
        /// What is wrong.
        source: cbor::CborError,
    },
    /// An item is well-formed but not a custody entry.
    #[error("custody entry {entry}: {message}")]
    Entry {
        /// Entry number.
        entry: usize,
        /// What is wrong.
        message: String,
    },
    /// Too many entries, or one too large (SPEC §10).
    #[error("custody.cbor: {0}")]
    Limit(String),
    /// Signing failed.
    #[error("could not sign the custody entry: {0}")]
    Sign(String),
    /// No time-stamp token could be had for the entry (SPEC §9.6).
    #[error("could not time-stamp the custody head: {0}")]
    Timestamp(String),
}

/// Why a custody entry's signature does not check (SPEC §9.2, §9.3 rule 6).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The protected header's `alg` (label 1) is not EdDSA (−8); the value found, as CBOR
    /// diagnostic text.
    #[error("algorithm (label 1) is {0}, not EdDSA (-8)")]
    Algorithm(String),
    /// The protected header's `kid` (label 4) is not the fingerprint of `actor.key`.
    #[error("key id (label 4) is not the fingerprint of the actor's key")]
    KeyId,
    /// `actor.key` is not a canonical point encoding (y ≥ p).
    #[error("the actor's key is not a canonical Ed25519 point encoding (y ≥ p, SPEC §9.2)")]
    NonCanonicalKey,
    /// `actor.key` is not a valid Ed25519 public key.
    #[error("the actor's key is not a valid Ed25519 public key")]
    InvalidKey,
    /// The signature is not 64 bytes.
    #[error("signature is {0} bytes, not 64")]
    Length(usize),
    /// The signature's R is not a canonical point encoding.
    #[error("the signature's R is not a canonical Ed25519 point encoding (y ≥ p, SPEC §9.2)")]
    NonCanonicalR,
    /// The strict Ed25519 check fails (S ≥ L, a small-order A or R, or the equation).
    #[error("signature does not verify")]
    Invalid,
}

/// One parsed custody entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The entry's exact bytes in the log.
    pub bytes: Vec<u8>,
    /// The decoded payload.
    pub payload: Payload,
    protected: Vec<u8>,
    payload_bytes: Vec<u8>,
    signature: Vec<u8>,
    alg: Option<Value>,
    kid: Option<Value>,
}

impl Entry {
    /// SHA-256 of the entry's exact bytes (what the next entry's `prev` must be).
    pub fn digest(&self) -> Digest {
        Digest::of(&self.bytes)
    }

    /// Fingerprint of the key named in the payload.
    pub fn signer(&self) -> Fingerprint {
        Fingerprint::of_raw(&self.payload.actor.key.0)
    }

    /// Checks SPEC §9.2 and §9.3 rule 6: `alg` is EdDSA, `kid` is the signer's fingerprint, and
    /// the signature is a strict Ed25519 signature over the `Sig_structure` of the exact bytes.
    ///
    /// # Errors
    /// [`SignatureError`] saying which of these fails.
    pub fn check_signature(&self) -> Result<(), SignatureError> {
        if self.alg != Some(Value::Integer((-8).into())) {
            return Err(SignatureError::Algorithm(format!("{:?}", self.alg)));
        }
        if self.kid != Some(Value::Bytes(self.signer().0.to_vec())) {
            return Err(SignatureError::KeyId);
        }
        // RFC 8032 §5.1.3 decoding (SPEC §9.2): dalek accepts y ≥ p in a public key, the RFC
        // does not. (It compares R's bytes with a canonical encoding, so a non-canonical R fails
        // there too; checking it here names the reason.)
        if !canonical_y(&self.payload.actor.key.0) {
            return Err(SignatureError::NonCanonicalKey);
        }
        let key = VerifyingKey::from_bytes(&self.payload.actor.key.0).map_err(|_| SignatureError::InvalidKey)?;
        let sig = ed25519_dalek::Signature::from_slice(&self.signature)
            .map_err(|_| SignatureError::Length(self.signature.len()))?;
        if !canonical_y(sig.r_bytes()) {
            return Err(SignatureError::NonCanonicalR);
        }
        // The Sig_structure over the protected header exactly as it arrived (coset uses
        // `original_data` verbatim), never a re-encoding.
        let protected = ProtectedHeader {
            original_data: Some(self.protected.clone()),
            header: Header::default(),
        };
        let tbs = sig_structure_data(SignatureContext::CoseSign1, protected, None, b"", &self.payload_bytes);
        key.verify_strict(&tbs, &sig).map_err(|_| SignatureError::Invalid)
    }
}

/// Whether a point encoding's y coordinate (its low 255 bits, little-endian) is below
/// p = 2²⁵⁵ − 19, as RFC 8032 §5.1.3 requires (SPEC §9.2). The other non-canonical form, x = 0 with
/// the sign bit set, can only encode the identity or the point of order 2, which `verify_strict`
/// rejects as points of small order.
fn canonical_y(encoding: &[u8; 32]) -> bool {
    let mut p = [0xff; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    let mut y = *encoding;
    y[31] &= 0x7f;
    // Compare as big-endian numbers: most significant byte first.
    y.iter().rev().lt(p.iter().rev())
}

/// Splits a CBOR sequence into items' exact bytes, enforcing SPEC §10's custody limits.
///
/// # Errors
/// [`CustodyError`] for an empty log, a malformed item, or a limit passed.
pub fn split<'a>(log: &'a [u8], limits: &Limits) -> Result<Vec<&'a [u8]>, CustodyError> {
    if log.is_empty() {
        return Err(CustodyError::Empty);
    }
    let mut items = Vec::new();
    let mut rest = log;
    while !rest.is_empty() {
        let entry = items.len();
        if entry as u64 >= limits.max_custody_entries {
            return Err(CustodyError::Limit(format!(
                "more than {} entries",
                limits.max_custody_entries
            )));
        }
        let rules = cbor::Rules {
            max_depth: limits.max_cbor_depth,
            root_tag: Some(COSE_SIGN1_TAG),
            text_keys: false,
        };
        let n = cbor::check_item(rest, rules).map_err(|source| CustodyError::Cbor { entry, source })?;
        if n as u64 > limits.max_custody_entry {
            return Err(CustodyError::Limit(format!(
                "entry {entry} is {n} bytes; at most {} are allowed",
                limits.max_custody_entry
            )));
        }
        let (item, tail) = rest.split_at(n);
        items.push(item);
        rest = tail;
    }
    Ok(items)
}

/// Parses one entry (SPEC §9.1): a tag-18 array of protected header (a non-empty byte string
/// holding a map), an empty unprotected map, an attached payload that is a custody payload, and a
/// 64-byte signature. Reads labels 1 (alg) and 4 (kid) of the protected header and ignores the rest.
/// Does not check the signature.
///
/// # Errors
/// [`CustodyError::Entry`] or [`CustodyError::Cbor`] naming entry `index`.
pub fn parse_entry(index: usize, item: &[u8], max_depth: usize) -> Result<Entry, CustodyError> {
    let bad = |message: &str| CustodyError::Entry {
        entry: index,
        message: message.to_string(),
    };
    let rules = cbor::Rules {
        max_depth,
        root_tag: Some(COSE_SIGN1_TAG),
        text_keys: false,
    };
    cbor::check_exact(item, rules).map_err(|source| CustodyError::Cbor { entry: index, source })?;
    let value: Value = ciborium::de::from_reader_with_recursion_limit(item, max_depth + 4)
        .map_err(|e| bad(&format!("not CBOR: {e}")))?;
    let Value::Tag(COSE_SIGN1_TAG, inner) = value else {
        return Err(bad("not a COSE_Sign1_Tagged message (tag 18)"));
    };
    let Value::Array(parts) = *inner else {
        return Err(bad("COSE_Sign1 is not an array"));
    };
    let [protected, unprotected, payload, signature] =
        <[Value; 4]>::try_from(parts).map_err(|p| bad(&format!("COSE_Sign1 has {} elements, not 4", p.len())))?;
    let Value::Bytes(protected) = protected else {
        return Err(bad("the protected header is not a byte string"));
    };
    if protected.is_empty() {
        return Err(bad(
            "the protected header is empty; it must carry alg and kid (SPEC §9.1)",
        ));
    }
    let untagged = cbor::Rules::untagged(max_depth);
    cbor::check_exact(&protected, untagged).map_err(|source| CustodyError::Cbor { entry: index, source })?;
    let Ok(Value::Map(labels)) = ciborium::de::from_reader::<Value, _>(protected.as_slice()) else {
        return Err(bad("the protected header is not a map"));
    };
    let label = |n: i64| {
        labels
            .iter()
            .find(|(k, _)| *k == Value::Integer(n.into()))
            .map(|(_, v)| v.clone())
    };
    let (alg, kid) = (label(1), label(4));
    if !matches!(&unprotected, Value::Map(m) if m.is_empty()) {
        return Err(bad(
            "the unprotected header is not an empty map (SPEC §9.1: nothing unsigned)",
        ));
    }
    let payload_bytes = match payload {
        Value::Bytes(b) => b,
        Value::Null => return Err(bad("the payload is detached")),
        _ => return Err(bad("the payload is not a byte string")),
    };
    let signature = match signature {
        Value::Bytes(b) if b.len() == 64 => b,
        Value::Bytes(b) => return Err(bad(&format!("the signature is {} bytes, not 64", b.len()))),
        _ => return Err(bad("the signature is not a byte string")),
    };
    cbor::check_exact(&payload_bytes, cbor::Rules::text_keyed(max_depth))
        .map_err(|source| CustodyError::Cbor { entry: index, source })?;
    let payload: Payload = ciborium::de::from_reader_with_recursion_limit(payload_bytes.as_slice(), max_depth + 4)
        .map_err(|e| bad(&format!("payload is not a custody payload: {e}")))?;
    Ok(Entry {
        bytes: item.to_vec(),
        payload,
        protected,
        payload_bytes,
        signature,
        alg,
        kid,
    })
}

/// Signs `payload` with `key` and returns the entry's bytes (a COSE_Sign1_Tagged message).
///
/// # Errors
/// [`CustodyError::Sign`] if encoding fails.
pub fn sign(payload: &Payload, key: &dyn Signer) -> Result<Vec<u8>, CustodyError> {
    let mut payload_bytes = Vec::new();
    ciborium::ser::into_writer(payload, &mut payload_bytes).map_err(|e| CustodyError::Sign(e.to_string()))?;
    let fp = Fingerprint::of(&key.verifying_key());
    let protected = HeaderBuilder::new()
        .algorithm(iana::Algorithm::EdDSA)
        .key_id(fp.0.to_vec())
        .build();
    let sign1 = CoseSign1Builder::new()
        .protected(protected)
        .payload(payload_bytes)
        .try_create_signature(b"", |tbs| key.sign(tbs).map(|s| s.to_vec()))
        .map_err(|e| CustodyError::Sign(e.to_string()))?
        .build();
    sign1.to_tagged_vec().map_err(|e| CustodyError::Sign(e.to_string()))
}

/// One violation of SPEC §9.3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainProblem {
    /// Rules 1–4: sequence, link, seal position, bundle id.
    Broken(String),
    /// Rule 5: the entry vouches for another manifest.
    SealMismatch(String),
}

/// Checks SPEC §9.3 rules 1–5 over parsed entries; returns `(entry index, problem)` pairs, at most
/// one `Broken` per entry.
pub fn check_chain(entries: &[Entry], bundle_id: &str, manifest_digest: &Digest) -> Vec<(usize, ChainProblem)> {
    let mut out = Vec::new();
    let mut prev_digest: Option<Digest> = None;
    for (i, e) in entries.iter().enumerate() {
        let p = &e.payload;
        let broken = if p.seq != i as u64 {
            Some(format!("sequence number is {}, expected {i}", p.seq))
        } else if p.prev != prev_digest {
            Some(match prev_digest {
                None => "the first entry must not name a previous entry".to_string(),
                Some(d) => format!("does not link to entry {}: prev should be {d}", i - 1),
            })
        } else if (i == 0) != (p.action == SEALED) {
            Some(if i == 0 {
                format!("the first entry's action is {:?}, not \"sealed\"", p.action)
            } else {
                "a second \"sealed\" entry".to_string()
            })
        } else if p.bundle_id != bundle_id {
            Some(format!(
                "bundle id {:?} is not the manifest's {bundle_id:?}",
                p.bundle_id
            ))
        } else {
            None
        };
        if let Some(msg) = broken {
            out.push((i, ChainProblem::Broken(msg)));
        }
        if p.manifest_sha256 != *manifest_digest {
            out.push((
                i,
                ChainProblem::SealMismatch(format!(
                    "signs manifest digest {}, but manifest.cbor's digest is {manifest_digest}",
                    p.manifest_sha256
                )),
            ));
        }
        prev_digest = Some(e.digest());
    }
    out
}

/// What a new entry says; [`append`] fills in `seq`, `prev`, the actor key, the manifest link and
/// the tokens.
#[derive(Clone)]
pub struct NewEntry<'a> {
    /// Signing key (a file's, or a token's that never leaves it).
    pub key: &'a dyn Signer,
    /// Signer's human name.
    pub actor: String,
    /// Action.
    pub action: String,
    /// Time.
    pub time: Timestamp,
    /// For a transfer: the recipient's fingerprint.
    pub recipient: Option<Fingerprint>,
    /// Free text.
    pub note: Option<String>,
    /// For an `archived` entry: the confirmed deposit (SPEC §9.7).
    pub deposit: Option<Deposit>,
    /// Asks authorities for time-stamp tokens over the previous entry (its SHA-256, the custody
    /// head before this entry) to carry in the new entry (SPEC §9.6); `None`: no tokens.
    pub stamp: Option<&'a Stamper<'a>>,
}

/// Gets RFC 3161 tokens (DER) over a custody head; the error says which authority failed.
pub type Stamper<'s> = dyn Fn(&Digest) -> Result<Vec<Vec<u8>>, String> + Sync + 's;

/// A [`Stamper`] that options can hold and threads can share.
pub type SharedStamper = std::sync::Arc<dyn Fn(&Digest) -> Result<Vec<Vec<u8>>, String> + Send + Sync>;

impl<'a> NewEntry<'a> {
    /// A `timestamped` entry (SPEC §9.6): tokens from `stamp` over the custody head before it,
    /// signed by `key`, so that the head before it and the entry itself get trusted times.
    pub fn timestamped(key: &'a dyn Signer, actor: String, time: Timestamp, stamp: &'a Stamper<'a>) -> NewEntry<'a> {
        NewEntry {
            key,
            actor,
            action: TIMESTAMPED.to_string(),
            time,
            recipient: None,
            note: None,
            deposit: None,
            stamp: Some(stamp),
        }
    }
}

impl std::fmt::Debug for NewEntry<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewEntry")
            .field("actor", &self.actor)
            .field("action", &self.action)
            .field("time", &self.time)
            .field("recipient", &self.recipient)
            .field("note", &self.note)
            .field("deposit", &self.deposit)
            .field("stamp", &self.stamp.is_some())
            .finish_non_exhaustive()
    }
}

/// Returns `log` with one new signed entry appended. `log` may be empty (then the entry is the
/// seal and its action should be `sealed`). The bytes of `log` are kept exactly.
///
/// # Errors
/// [`CustodyError`] if `log` is not a valid sequence of entries, or signing fails.
pub fn append(
    log: &[u8],
    new: &NewEntry<'_>,
    bundle_id: &str,
    manifest_digest: &Digest,
    limits: &Limits,
) -> Result<Vec<u8>, CustodyError> {
    let (seq, prev) = if log.is_empty() {
        (0, None)
    } else {
        let items = split(log, limits)?;
        let last = items.last().ok_or(CustodyError::Empty)?;
        (items.len() as u64, Some(Digest::of(last)))
    };
    let payload = Payload {
        seq,
        prev,
        time: new.time.clone(),
        action: new.action.clone(),
        actor: Actor {
            name: new.actor.clone(),
            key: Digest(new.key.verifying_key().to_bytes()),
        },
        bundle_id: bundle_id.to_string(),
        manifest_sha256: *manifest_digest,
        recipient: new.recipient.map(|f| Digest(f.0)),
        note: new.note.clone(),
        timestamps: match (new.stamp, prev) {
            // `[+ bstr]`: no tokens is no key (SPEC §9.1).
            (Some(stamp), Some(head)) => Some(stamp(&head).map_err(CustodyError::Timestamp)?)
                .filter(|t| !t.is_empty())
                .map(|t| t.into_iter().map(Token).collect()),
            _ => None,
        },
        deposit: new.deposit.clone(),
        key_store: Some(new.key.key_store()),
    };
    let mut out = log.to_vec();
    out.extend_from_slice(&sign(&payload, new.key)?);
    Ok(out)
}

/// Parses every entry of a log (without checking signatures or the chain).
///
/// # Errors
/// The first [`CustodyError`] found.
pub fn parse_log(log: &[u8], limits: &Limits) -> Result<Vec<Entry>, CustodyError> {
    split(log, limits)?
        .into_iter()
        .enumerate()
        .map(|(i, item)| parse_entry(i, item, limits.max_cbor_depth))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::canonical_y;

    /// SPEC §9.2 / RFC 8032 §5.1.3: y < p = 2²⁵⁵ − 19, whatever the sign bit.
    #[test]
    fn canonical_y_is_below_p() {
        let with_low = |low: u8, top: u8| {
            let mut e = [0xff; 32];
            e[0] = low;
            e[31] = top;
            e
        };
        assert!(canonical_y(&[0; 32]));
        assert!(canonical_y(&with_low(0xec, 0x7f)), "p - 1");
        assert!(canonical_y(&with_low(0xec, 0xff)), "p - 1 with the sign bit set");
        assert!(!canonical_y(&with_low(0xed, 0x7f)), "p");
        assert!(!canonical_y(&with_low(0xee, 0xff)), "p + 1 with the sign bit set");
        assert!(!canonical_y(&[0xff; 32]), "2^255 - 1 with the sign bit set");
    }
}
