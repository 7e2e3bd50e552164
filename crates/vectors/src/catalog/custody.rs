//! The custody log and trust (SPEC §8, §9, §11 steps 9–10): the base bundle or the four-entry
//! chain bundle with `custody.cbor` replaced.

use super::{Fixtures, trusting, vector};
use crate::cose::{self, encode, protected, seal_payload, sign1};
use crate::fixture::{SEAL_AT, fp, key, t};
use crate::rezip::Archive;
use crate::{Error, Vector};
use ciborium::Value;
use coset::{Header, HeaderBuilder, iana};
use forensic_bundle::CUSTODY;
use forensic_bundle::custody::{self, NewEntry};
use forensic_bundle::digest::Digest;
use forensic_bundle::limits::Limits;
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
        key: &alice,
        actor: "alice".into(),
        action: custody::SEALED.into(),
        time: t(SEAL_AT)?,
        recipient: None,
        note: None,
    };
    let reseal = NewEntry {
        key: &bob,
        actor: "bob".into(),
        action: custody::SEALED.into(),
        time: t(3600)?,
        recipient: None,
        note: None,
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
            "Entry 1 (the transfer) removed from the four-entry log (SPEC §9.3 rules 1–2).",
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
        key: &alice,
        actor: "alice".into(),
        action: custody::SEALED.into(),
        time: t(SEAL_AT)?,
        recipient: None,
        note: Some(sentence.repeat(66 * 1024 / sentence.len() + 1)),
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

pub(super) fn vectors(fx: &Fixtures) -> Result<Vec<Vector>, Error> {
    let mut out = envelopes(fx)?;
    out.extend(chain(fx)?);
    out.extend(limits_and_trust(fx)?);
    Ok(out)
}
