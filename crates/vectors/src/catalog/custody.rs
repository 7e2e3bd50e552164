//! The custody log and trust (SPEC §8, §9, §11 steps 9–10): the base bundle or the four-entry
//! chain bundle with `custody.cbor` replaced.

use super::{Fixtures, trusting, vector};
use crate::cose::{self, encode, protected, seal_payload, sign1};
use crate::edwards;
use crate::fixture::{SEAL_AT, fp, key, t};
use crate::rezip::Archive;
use crate::{Error, Vector};
use ciborium::Value;
use coset::{Header, HeaderBuilder, iana};
use ed25519_dalek::Signer;
use forensic_bundle::CUSTODY;
use forensic_bundle::custody::{self, Actor, NewEntry};
use forensic_bundle::digest::Digest;
use forensic_bundle::keys::Fingerprint;
use forensic_bundle::limits::Limits;
use forensic_bundle::time::Timestamp;
use forensic_bundle::verify::FailureClass::*;

/// The base bundle with `custody.cbor` replaced by `log`.
fn with_log(fx: &Fixtures, log: Vec<u8>) -> Result<Vec<u8>, Error> {
    let mut a = fx.base_archive()?;
    a.set(CUSTODY, log)?;
    a.write()
}

/// The base bundle's seal, signed as usual.
fn seal_log(fx: &Fixtures, e: &NewEntry<'_>, digest: &Digest) -> Result<Vec<u8>, Error> {
    Ok(custody::append(&[], e, &fx.bundle_id, digest, &Limits::default())?)
}

/// An entry with alice's seal payload and the given headers, signed by `signer`.
fn alice_seal(fx: &Fixtures, protected: Header, unprotected: Header, signer: &str) -> Result<coset::CoseSign1, Error> {
    let payload = encode(&seal_payload("alice", &fx.bundle_id, &fx.digest)?)?;
    Ok(sign1(protected, unprotected, payload, &key(signer)))
}

/// Malformed logs (SPEC §9.1) and bad signatures (§9.2, §9.3 rule 6), on the base bundle.
fn envelopes(fx: &Fixtures) -> Result<Vec<Vector>, Error> {
    let eddsa = |who| protected(iana::Algorithm::EdDSA, &fp(who));
    let none = Header::default();
    let unprotected = HeaderBuilder::new().content_type("application/cbor".into()).build();
    let mut detached = alice_seal(fx, eddsa("alice"), none.clone(), "alice")?;
    detached.payload = None;
    let mut bad_time = Value::serialized(&seal_payload("alice", &fx.bundle_id, &fx.digest)?)?;
    if let Some((_, v)) = bad_time
        .as_map_mut()
        .and_then(|m| m.iter_mut().find(|(k, _)| k.as_text() == Some("time")))
    {
        *v = Value::Text("2026-01-02 03:06:05".into());
    }
    let bad_time_entry = sign1(eddsa("alice"), none.clone(), encode(&bad_time)?, &key("alice"));
    let seal = Archive::read(&fx.base)?.content(CUSTODY)?.to_vec();
    let flipped = {
        let mut s = seal.clone();
        let at = s.len().checked_sub(40).ok_or_else(|| Error::new("seal too short"))?;
        if let Some(b) = s.get_mut(at) {
            *b ^= 0x01;
        }
        s
    };
    let es256 = protected(iana::Algorithm::ES256, &fp("alice"));
    Ok(vec![
        vector(
            "custody-empty",
            "custody.cbor is empty: the bundle was never sealed (SPEC §9.1).",
            &[MalformedCustody],
            with_log(fx, Vec::new())?,
        ),
        vector(
            "custody-unprotected-header",
            "The seal's unprotected header holds a content type (SPEC §9.1: it MUST be empty).",
            &[MalformedCustody],
            with_log(fx, cose::tagged(alice_seal(fx, eddsa("alice"), unprotected, "alice")?)?)?,
        ),
        vector(
            "custody-detached-payload",
            "The seal's payload is nil (detached), though its signature is over the real payload (SPEC §9.1).",
            &[MalformedCustody],
            with_log(fx, cose::tagged(detached)?)?,
        ),
        vector(
            "custody-untagged",
            "The seal is a COSE_Sign1 message without tag 18 (SPEC §9.1: COSE_Sign1_Tagged).",
            &[MalformedCustody],
            with_log(
                fx,
                cose::untagged(alice_seal(fx, eddsa("alice"), none.clone(), "alice")?)?,
            )?,
        ),
        vector(
            "custody-bad-time",
            "The seal's payload time is not of the form of SPEC §5, though correctly signed (SPEC §9.1).",
            &[MalformedCustody],
            with_log(fx, cose::tagged(bad_time_entry)?)?,
        ),
        vector(
            "signature-malleated",
            "The seal's signature with L added to S: valid as an equation but not canonical (SPEC §9.2: S < L).",
            &[BadSignature],
            with_log(fx, cose::malleate(&seal)?)?,
        ),
        vector(
            "signature-bit-flipped",
            "One bit of the seal's signature flipped (SPEC §9.2).",
            &[BadSignature],
            with_log(fx, flipped)?,
        ),
        vector(
            "signature-wrong-key",
            "A seal naming alice as actor and kid but signed with mallory's key (SPEC §9.2).",
            &[BadSignature],
            with_log(
                fx,
                cose::tagged(alice_seal(fx, eddsa("alice"), none.clone(), "mallory")?)?,
            )?,
        ),
        vector(
            "signature-kid-mismatch",
            "A seal signed by alice whose kid is mallory's fingerprint (SPEC §9.3 rule 6).",
            &[BadSignature],
            with_log(
                fx,
                cose::tagged(alice_seal(fx, eddsa("mallory"), none.clone(), "alice")?)?,
            )?,
        ),
        vector(
            "signature-wrong-algorithm",
            "A seal signed by alice with Ed25519 whose protected header says alg ES256 (-7) (SPEC §9.3 rule 6).",
            &[BadSignature],
            with_log(fx, cose::tagged(alice_seal(fx, es256, none, "alice")?)?)?,
        ),
    ])
}

/// A protected header map with these (label, value) pairs, in this order.
fn header_map(labels: Vec<(i64, Value)>) -> Result<Vec<u8>, Error> {
    encode(&Value::Map(
        labels.into_iter().map(|(l, v)| (Value::Integer(l.into()), v)).collect(),
    ))
}

/// Protected headers and payloads byte by byte (SPEC §9.1, §9.2, §9.3 rule 6), on the base bundle:
/// what the strict parser must refuse, what it must ignore, and a forgery with a small-order key.
fn headers(fx: &Fixtures) -> Result<Vec<Vector>, Error> {
    let alice = key("alice");
    let kid = || Value::Bytes(fp("alice").0.to_vec());
    let eddsa = || Value::Integer((-8).into());
    let usual = header_map(vec![(1, eddsa()), (4, kid())])?;
    let payload = encode(&seal_payload("alice", &fx.bundle_id, &fx.digest)?)?;
    let seal_with = |protected: &[u8]| with_log(fx, cose::raw_signed(protected, &payload, &alice));
    let payload_with = |key: Value, value: Value| -> Result<Vec<u8>, Error> {
        let mut p = Value::serialized(&seal_payload("alice", &fx.bundle_id, &fx.digest)?)?;
        p.as_map_mut()
            .ok_or_else(|| Error::new("the payload is not a map"))?
            .push((key, value));
        let p = encode(&p)?;
        with_log(fx, cose::raw_signed(&usual, &p, &alice))
    };
    let short_sig = {
        let full = alice.sign(&cose::to_be_signed(&usual, &payload)).to_bytes();
        cose::raw_entry(&usual, &payload, full.get(..63).unwrap_or_default())
    };

    // The identity point (encoding: y = 1) as public key A and as R, with S = 0: RFC 8032's
    // equation [S]B = R + [k]A reads identity = identity + identity for every k, so it holds for
    // any message; only the small-order check of SPEC §9.2 rejects it.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut forged_payload = seal_payload("alice", &fx.bundle_id, &fx.digest)?;
    forged_payload.actor = Actor {
        name: "mallory".into(),
        key: Digest(identity),
    };
    let forged_protected = header_map(vec![
        (1, eddsa()),
        (4, Value::Bytes(Fingerprint::of_raw(&identity).0.to_vec())),
    ])?;
    let forged_sig = [identity, [0u8; 32]].concat();
    let forged = cose::raw_entry(&forged_protected, &encode(&forged_payload)?, &forged_sig);

    Ok(vec![
        vector(
            "custody-protected-empty",
            "The seal's protected header is the empty byte string h'', correctly signed over it (SPEC §9.1: a non-empty byte string holding a map).",
            &[MalformedCustody],
            seal_with(&[])?,
        ),
        vector(
            "valid-custody-protected-content-type",
            "The seal's protected header also has label 3 (content type) with a byte string value, which COSE does not allow but readers ignore (SPEC §9.1: every label other than 1 and 4).",
            &[],
            seal_with(&header_map(vec![
                (1, eddsa()),
                (3, Value::Bytes(b"application/cbor".to_vec())),
                (4, kid()),
            ])?)?,
        ),
        vector(
            "valid-custody-protected-crit",
            "The seal's protected header also has label 2 (crit) with the integer 7 instead of an array of labels: ignored like every label other than 1 and 4 (SPEC §9.1).",
            &[],
            seal_with(&header_map(vec![
                (1, eddsa()),
                (2, Value::Integer(7.into())),
                (4, kid()),
            ])?)?,
        ),
        vector(
            "signature-kid-text",
            "The seal's kid is alice's fingerprint as a text string of hex digits instead of a byte string (SPEC §9.3 rule 6).",
            &[BadSignature],
            seal_with(&header_map(vec![(1, eddsa()), (4, Value::Text(fp("alice").hex()))])?)?,
        ),
        vector(
            "signature-alg-null",
            "The seal's protected header has alg (label 1) null instead of -8 (SPEC §9.3 rule 6).",
            &[BadSignature],
            seal_with(&header_map(vec![(1, Value::Null), (4, kid())])?)?,
        ),
        vector(
            "custody-signature-63-bytes",
            "The seal's signature is its first 63 bytes (SPEC §9.1: bstr .size 64).",
            &[MalformedCustody],
            with_log(fx, short_sig)?,
        ),
        vector(
            "custody-payload-integer-key",
            "The seal's payload has an extra key that is the integer 99, correctly signed (SPEC §6, §9.1: every map key in a custody payload is a text string).",
            &[MalformedCustody],
            payload_with(Value::Integer(99.into()), Value::Text("x".into()))?,
        ),
        vector(
            "custody-payload-bytes-key",
            "The seal's payload has an extra key that is the byte string 'x-extra', correctly signed (SPEC §6, §9.1: every map key in a custody payload is a text string).",
            &[MalformedCustody],
            payload_with(Value::Bytes(b"x-extra".to_vec()), Value::Text("x".into()))?,
        ),
        vector(
            "custody-payload-null-note",
            "The seal's payload has note: null, correctly signed (SPEC §6, §9.1: an optional key is absent or has its type).",
            &[MalformedCustody],
            payload_with(Value::Text("note".into()), Value::Null)?,
        ),
        vector(
            "signature-small-order-key",
            "A forged seal: actor.key and R are the identity point and S is 0, so the RFC 8032 equation holds for any message; SPEC §9.2 rejects public keys and R of small order.",
            &[BadSignature],
            with_log(fx, forged)?,
        ),
    ])
}

/// Chain rules (SPEC §9.3 rules 1–5) on the four-entry chain, and seals over other digests.
fn chain(fx: &Fixtures) -> Result<Vec<Vector>, Error> {
    let items = fx.chain_entries()?;
    let pick = |order: &[usize]| -> Vec<u8> { order.iter().filter_map(|&i| items.get(i)).flatten().copied().collect() };
    let (alice, bob) = (key("alice"), key("bob"));
    let limits = Limits::default();

    // Entry 3 re-signed by carol with prev pointing at entry 1 instead of entry 2.
    let last = custody::parse_entry(3, items.get(3).ok_or_else(|| Error::new("no entry 3"))?, 16)?;
    let mut payload = last.payload.clone();
    payload.prev = items.get(1).map(|e| Digest::of(e));
    let wrong_prev = [pick(&[0, 1, 2]), custody::sign(&payload, &key("carol"))?].concat();

    let seal = NewEntry {
        stamp: None,
        key: &alice,
        actor: "alice".into(),
        action: custody::SEALED.into(),
        time: t(SEAL_AT)?,
        recipient: None,
        note: None,
        deposit: None,
    };
    let reseal = NewEntry {
        stamp: None,
        key: &bob,
        actor: "bob".into(),
        action: custody::SEALED.into(),
        time: t(3600)?,
        recipient: None,
        note: None,
        deposit: None,
    };
    let second_seal = custody::append(
        &seal_log(fx, &seal, &fx.digest)?,
        &reseal,
        &fx.bundle_id,
        &fx.digest,
        &limits,
    )?;
    let other_id = "6f9b3c2e-8a41-4d07-9e15-0000000000ff";
    let other_digest = Digest::of(b"a different manifest");
    let minimal_custody = Archive::read(&fx.minimal)?.content(CUSTODY)?.to_vec();

    Ok(vec![
        vector(
            "chain-reordered",
            "Custody entries 1 and 2 swapped: sequence numbers and links no longer follow (SPEC §9.3 rules 1–2).",
            &[BrokenChain],
            with_log(fx, pick(&[0, 2, 1, 3]))?,
        ),
        vector(
            "chain-first-removed",
            "The seal (entry 0) removed from the four-entry log (SPEC §9.3 rules 1–3).",
            &[BrokenChain],
            with_log(fx, pick(&[1, 2, 3]))?,
        ),
        vector(
            "chain-middle-removed",
            "Entry 1 (the transfer) removed from the four-entry log (SPEC §9.3 rules 1–2); the receipt no longer follows a transfer, but §9.4 is not judged on a broken chain (SPEC §11 step 9d).",
            &[BrokenChain],
            with_log(fx, pick(&[0, 2, 3]))?,
        ),
        vector(
            "chain-wrong-prev",
            "The last entry, correctly signed, links to entry 1 instead of entry 2 (SPEC §9.3 rule 2).",
            &[BrokenChain],
            with_log(fx, wrong_prev)?,
        ),
        vector(
            "chain-second-seal",
            "A second entry whose action is sealed, signed by bob (SPEC §9.3 rule 3).",
            &[BrokenChain],
            with_log(fx, second_seal)?,
        ),
        vector(
            "chain-wrong-bundle-id",
            "The last entry, correctly signed and linked, names another bundle id (SPEC §9.3 rule 4).",
            &[BrokenChain],
            with_log(
                fx,
                crate::fixture::chain_log(&fx.bundle_id, &fx.digest, Some((other_id, &fx.digest)))?,
            )?,
        ),
        vector(
            "seal-wrong-digest",
            "The seal signs a manifest digest that is not manifest.cbor's (SPEC §9.3 rule 5).",
            &[SealMismatch],
            with_log(fx, seal_log(fx, &seal, &other_digest)?)?,
        ),
        vector(
            "seal-mismatch-later-entry",
            "The last of four entries, correctly signed and linked, signs another manifest digest (SPEC §9.3 rule 5).",
            &[SealMismatch],
            with_log(
                fx,
                crate::fixture::chain_log(&fx.bundle_id, &fx.digest, Some((&fx.bundle_id, &other_digest)))?,
            )?,
        ),
        vector(
            "custody-from-other-bundle",
            "The custody log of valid-minimal put into the base bundle: another bundle id and manifest digest (SPEC §9.3 rules 4–5).",
            &[BrokenChain, SealMismatch],
            with_log(fx, minimal_custody)?,
        ),
    ])
}

/// Limits on the log (SPEC §10) and trust (SPEC §8, §11 step 10).
fn limits_and_trust(fx: &Fixtures) -> Result<Vec<Vector>, Error> {
    let alice = key("alice");
    let sentence = "This note is deliberately longer than the limit of one custody entry. ";
    let long_note = NewEntry {
        stamp: None,
        key: &alice,
        actor: "alice".into(),
        action: custody::SEALED.into(),
        time: t(SEAL_AT)?,
        recipient: None,
        note: Some(sentence.repeat(66 * 1024 / sentence.len() + 1)),
        deposit: None,
    };
    let mut big = fx.base_archive()?;
    big.set(CUSTODY, seal_log(fx, &long_note, &fx.digest)?)?;
    big.item_mut(CUSTODY)?.deflate = true;

    // mallory changes a member, rewrites manifest and SHA256SUMS and seals in alice's name.
    let mut forged = fx.base_archive()?;
    let tcp = "2-network/tcp.txt";
    let content = forged.content(tcp)?.to_vec();
    let new: Vec<u8> = content.iter().map(|&b| if b == b'0' { b'1' } else { b }).collect();
    let mut m = forged.manifest()?;
    let member = m
        .members
        .iter_mut()
        .find(|x| x.name == tcp)
        .ok_or_else(|| Error::new("no tcp member"))?;
    member.sha256 = Digest::of(&new);
    forged.set(tcp, new)?;
    forged.reseal(m.to_cbor()?, &m, "mallory", "alice")?;

    Ok(vec![
        vector(
            "limit-custody-entry-size",
            "The seal carries a note of more than 64 KiB: one custody entry over SPEC §10's limit (custody.cbor is deflated to keep the vector small).",
            &[LimitExceeded],
            big.write()?,
        ),
        trusting(
            vector(
                "untrusted-chain-alice-only",
                "The valid four-entry chain verified with only alice trusted: the entries of bob and carol are untrusted (SPEC §11 step 10).",
                &[UntrustedSigner],
                fx.chain.clone(),
            ),
            &["alice"],
        ),
        trusting(
            vector(
                "untrusted-forged-reseal",
                "mallory changed a member, rewrote the manifest and SHA256SUMS and sealed it in alice's name with mallory's key: consistent, so only the trust list catches it (SPEC §8).",
                &[UntrustedSigner],
                forged.write()?,
            ),
            &["alice"],
        ),
    ])
}

/// A seal naming `key` as actor.key (actor name `who`) and its fingerprint as kid, with the
/// signature `sign` makes over the entry's `Sig_structure`.
fn seal_by_key(
    fx: &Fixtures,
    who: &str,
    key: [u8; 32],
    sign: impl FnOnce(&[u8]) -> Result<[u8; 64], Error>,
) -> Result<Vec<u8>, Error> {
    let mut payload = seal_payload("alice", &fx.bundle_id, &fx.digest)?;
    payload.actor = Actor {
        name: who.into(),
        key: Digest(key),
    };
    let payload = encode(&payload)?;
    let protected = header_map(vec![
        (1, Value::Integer((-8).into())),
        (4, Value::Bytes(Fingerprint::of_raw(&key).0.to_vec())),
    ])?;
    let signature = sign(&cose::to_be_signed(&protected, &payload))?;
    Ok(cose::raw_entry(&protected, &payload, &signature))
}

/// What SPEC 1.0.1 decided about protected-header labels that are text, Ed25519 public keys and
/// R (non-canonical encodings, R the identity, mixed-order keys, the cofactorless equation), and
/// the count limit of the custody log with and without an item past it.
fn decided(fx: &Fixtures) -> Result<Vec<Vector>, Error> {
    let alice = key("alice");
    let kid = Value::Bytes(fp("alice").0.to_vec());
    let eddsa = Value::Integer((-8).into());
    let payload = encode(&seal_payload("alice", &fx.bundle_id, &fx.digest)?)?;
    let seal_with = |labels: Vec<(Value, Value)>| -> Result<Vec<u8>, Error> {
        with_log(fx, cose::raw_signed(&encode(&Value::Map(labels))?, &payload, &alice))
    };
    let text = |s: &str| Value::Text(s.into());

    let mixed = edwards::mixed_order_key(&alice);
    let by_mixed = |cofactorless: bool| {
        seal_by_key(fx, "alice", mixed, |tbs| {
            edwards::sign_mixed_order(&alice, tbs, cofactorless)
        })
    };
    // The forgery of signature-small-order-key with A written non-canonically: R the identity and
    // S = 0 satisfy the equation for any message.
    let non_canonical = seal_by_key(fx, "mallory", edwards::identity_non_canonical(), |_| {
        Ok(edwards::signature_of(edwards::identity(), [0; 32]))
    })?;
    let identity_r = seal_by_key(fx, "alice", alice.verifying_key().to_bytes(), |tbs| {
        Ok(edwards::sign_identity_r(&alice, tbs))
    })?;

    // The seal followed by 9,999 well-formed items (the integer 0) that are not custody entries.
    let seal = Archive::read(&fx.base)?.content(CUSTODY)?.to_vec();
    let full = [seal, vec![0x00; 9_999]].concat();
    let deflated = |log: Vec<u8>| -> Result<Vec<u8>, Error> {
        let mut a = fx.base_archive()?;
        a.set(CUSTODY, log)?;
        a.item_mut(CUSTODY)?.deflate = true;
        a.write()
    };

    Ok(vec![
        vector(
            "valid-custody-protected-text-label",
            "The seal's protected header also has the text label x-comment: labels other than the integers 1 and 4 are ignored whatever their type (SPEC §9.1).",
            &[],
            seal_with(vec![
                (Value::Integer(1.into()), eddsa.clone()),
                (Value::Integer(4.into()), kid.clone()),
                (text("x-comment"), text("a text label")),
            ])?,
        ),
        vector(
            "signature-alg-text-label",
            "The seal's protected header has the text label \"1\" with -8 instead of the integer label 1: no alg (SPEC §9.1, §9.3 rule 6).",
            &[BadSignature],
            seal_with(vec![(text("1"), eddsa), (Value::Integer(4.into()), kid)])?,
        ),
        vector(
            "signature-r-identity",
            "alice's seal signed with R the identity point and S = k·a, so that RFC 8032's cofactorless equation holds; SPEC §9.2 rejects R of small order.",
            &[BadSignature],
            with_log(fx, identity_r)?,
        ),
        vector(
            "signature-key-non-canonical",
            "A forged seal whose actor.key is the identity written with y = p + 1, R the identity and S = 0: the key does not decode (SPEC §9.2, RFC 8032 §5.1.3), and is of small order.",
            &[BadSignature],
            with_log(fx, non_canonical)?,
        ),
        vector(
            "valid-signature-mixed-order-key",
            "A seal whose actor.key is alice's public key plus a point of order 8 (mixed order, not small order), signed with her secret scalar so that the cofactorless equation holds (SPEC §9.2).",
            &[],
            with_log(fx, by_mixed(true)?)?,
        ),
        vector(
            "signature-mixed-order-cofactored",
            "As valid-signature-mixed-order-key, with a nonce for which only the cofactored equation [8S]B = [8]R + [8k]A holds: SPEC §9.2's equation is the cofactorless one.",
            &[BadSignature],
            with_log(fx, by_mixed(false)?)?,
        ),
        vector(
            "custody-entries-at-limit",
            "custody.cbor is the seal and 9,999 items that are the integer 0: 10,000 items, not past SPEC §10's limit, so the items are parsed, and item 1 is no COSE_Sign1 message (custody.cbor deflated).",
            &[MalformedCustody],
            deflated(full.clone())?,
        ),
        vector(
            "limit-custody-entries",
            "custody-entries-at-limit with one more byte, 0xf7: it would be item 10,000, which is past SPEC §10's limit before it is judged well-formed.",
            &[LimitExceeded],
            deflated([full, vec![0xf7]].concat())?,
        ),
    ])
}

/// `archived` entries (SPEC §9.7): a deposit recorded after the seal; informative fields.
fn archived(fx: &Fixtures) -> Result<Vec<Vector>, Error> {
    let seal = Archive::read(&fx.base)?.content(CUSTODY)?.to_vec();
    let deposit = custody::Deposit {
        store: "s3".into(),
        endpoint: Some("https://s3.example.invalid".into()),
        bucket: "evidence".into(),
        key: "case-42/bundle.zip".into(),
        version_id: "3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY".into(),
        size: u64::try_from(fx.base.len()).map_err(|_| Error::new("base bundle too large"))?,
        sha256: Digest::of(&fx.base),
        checksum_sha256: "Mh5lo+wKnKRSE1W4ZIvsqYkM6CE2m5W0j0ALJwAvxB4=-1".into(),
        mode: "COMPLIANCE".into(),
        retain_until: Timestamp::parse("2033-12-31T00:00:00.000000000Z")?,
        legal_hold: true,
    };
    let alice = key("alice");
    let entry = NewEntry {
        stamp: None,
        key: &alice,
        actor: "alice".into(),
        action: custody::ARCHIVED.into(),
        time: t(SEAL_AT + 60)?,
        recipient: None,
        note: None,
        deposit: Some(deposit),
    };
    let log = custody::append(&seal, &entry, &fx.bundle_id, &fx.digest, &Limits::default())?;
    // The same entry with a deposit of another shape: a number for the bucket, no other field.
    let mut odd = Value::serialized(&custody::Payload {
        timestamps: None,
        seq: 1,
        prev: Some(Digest::of(&seal)),
        time: t(SEAL_AT + 60)?,
        action: custody::ARCHIVED.into(),
        actor: Actor {
            name: "alice".into(),
            key: Digest(alice.verifying_key().to_bytes()),
        },
        bundle_id: fx.bundle_id.clone(),
        manifest_sha256: fx.digest,
        recipient: None,
        note: None,
        deposit: None,
        key_store: Some(custody::KeyStore::file(false)),
    })?;
    if let Some(m) = odd.as_map_mut() {
        m.push((
            Value::Text("deposit".into()),
            Value::Map(vec![(Value::Text("bucket".into()), Value::Integer(7.into()))]),
        ));
    }
    let odd_entry = sign1(
        protected(iana::Algorithm::EdDSA, &fp("alice")),
        Header::default(),
        encode(&odd)?,
        &alice,
    );
    Ok(vec![
        vector(
            "valid-custody-archived",
            "After the seal, alice's `archived` entry records a deposit of the bundle before it in S3 Object Lock storage; its prev is the stored copy's custody head (SPEC §9.7). Custody does not change (§9.4).",
            &[],
            with_log(fx, log)?,
        ),
        vector(
            "valid-custody-archived-deposit-odd-shape",
            "As valid-custody-archived, but the deposit map holds only \"bucket\": 7: its fields are informative and not judged (SPEC §9.1 `? \"deposit\": any`, §9.7).",
            &[],
            with_log(fx, [seal, cose::tagged(odd_entry)?].concat())?,
        ),
    ])
}

pub(super) fn vectors(fx: &Fixtures) -> Result<Vec<Vector>, Error> {
    let mut out = envelopes(fx)?;
    out.extend(headers(fx)?);
    out.extend(chain(fx)?);
    out.extend(limits_and_trust(fx)?);
    out.extend(decided(fx)?);
    out.extend(archived(fx)?);
    out.extend(key_stores(fx)?);
    Ok(out)
}

/// A key held by a PKCS#11 token, as [`key_stores`] records it: alice's test key, reported as on a
/// token (the vector's bytes are what a token's signature gives: Ed25519 is deterministic).
struct OnToken(forensic_bundle::keys::SigningKey);

impl forensic_bundle::keys::Signer for OnToken {
    fn verifying_key(&self) -> forensic_bundle::keys::VerifyingKey {
        self.0.verifying_key()
    }

    fn sign(&self, message: &[u8]) -> Result<[u8; 64], forensic_bundle::keys::SignError> {
        forensic_bundle::keys::Signer::sign(&self.0, message)
    }

    fn key_store(&self) -> custody::KeyStore {
        custody::KeyStore::token("incident-response", "SoftHSM project SoftHSM v2", "4e8b2a6f1c0d9e37")
    }
}

/// `key_store` (SPEC §9.8): where each entry's key was held; informative.
fn key_stores(fx: &Fixtures) -> Result<Vec<Vector>, Error> {
    let seal = Archive::read(&fx.base)?.content(CUSTODY)?.to_vec();
    let alice = OnToken(key("alice"));
    let entry = NewEntry {
        stamp: None,
        key: &alice,
        actor: "alice".into(),
        action: custody::ANNOTATED.into(),
        time: t(SEAL_AT + 60)?,
        recipient: None,
        note: Some("signed on a PKCS#11 token".into()),
        deposit: None,
    };
    let log = custody::append(&seal, &entry, &fx.bundle_id, &fx.digest, &Limits::default())?;
    let mut odd = Value::serialized(&custody::Payload {
        timestamps: None,
        seq: 1,
        prev: Some(Digest::of(&seal)),
        time: t(SEAL_AT + 60)?,
        action: custody::ANNOTATED.into(),
        actor: Actor {
            name: "alice".into(),
            key: Digest(alice.0.verifying_key().to_bytes()),
        },
        bundle_id: fx.bundle_id.clone(),
        manifest_sha256: fx.digest,
        recipient: None,
        note: None,
        deposit: None,
        key_store: None,
    })?;
    if let Some(m) = odd.as_map_mut() {
        m.push((Value::Text("key_store".into()), Value::Text("hsm".into())));
    }
    let odd_entry = sign1(
        protected(iana::Algorithm::EdDSA, &fp("alice")),
        Header::default(),
        encode(&odd)?,
        &alice.0,
    );
    Ok(vec![
        vector(
            "valid-custody-key-store-token",
            "After the seal (key_store: a plain file), alice's `annotated` entry records that her key is held by a PKCS#11 token: kind \"pkcs11\", its label, model and serial (SPEC §9.8, informative).",
            &[],
            with_log(fx, log)?,
        ),
        vector(
            "valid-custody-key-store-odd-shape",
            "As valid-custody-key-store-token, but key_store is the text \"hsm\": informative, not judged (SPEC §9.1 `? \"key_store\": any`, §9.8).",
            &[],
            with_log(fx, [seal, cose::tagged(odd_entry)?].concat())?,
        ),
    ])
}
