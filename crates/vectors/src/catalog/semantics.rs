//! Custody semantics (SPEC §9.4, §11 step 9d) and recorded heads (SPEC §9.5, §11 step 11): the
//! base bundle with a custody log whose every entry is correctly signed and chained, so that only
//! the rule under test can fire.

use super::{Fixtures, vector, with_head};
use crate::fixture::{SEAL_AT, fp, key, t};
use crate::rezip::Archive;
use crate::{Error, Vector};
use forensic_bundle::CUSTODY;
use forensic_bundle::custody::{self, ANNOTATED, NewEntry, RECEIVED, SEALED, TRANSFERRED};
use forensic_bundle::digest::Digest;
use forensic_bundle::limits::Limits;
use forensic_bundle::time::Timestamp;
use forensic_bundle::verify::FailureClass::*;

/// One entry of a log to build: signer, action, time, recipient.
struct Step {
    who: &'static str,
    action: &'static str,
    time: Timestamp,
    to: Option<&'static str>,
}

fn step(who: &'static str, action: &'static str, secs: u32, to: Option<&'static str>) -> Result<Step, Error> {
    Ok(Step {
        who,
        action,
        time: t(secs)?,
        to,
    })
}

/// alice's seal at the usual time.
fn seal() -> Result<Step, Error> {
    step("alice", SEALED, SEAL_AT, None)
}

/// The base bundle with a log of `steps`, each signed by its signer and chained.
fn bundle(fx: &Fixtures, steps: &[Step]) -> Result<Vec<u8>, Error> {
    let mut log = Vec::new();
    for s in steps {
        let k = key(s.who);
        let e = NewEntry {
            stamp: None,
            key: &k,
            actor: s.who.into(),
            action: s.action.into(),
            time: s.time.clone(),
            recipient: s.to.map(fp),
            note: None,
            deposit: None,
        };
        log = custody::append(&log, &e, &fx.bundle_id, &fx.digest, &Limits::default())?;
    }
    let mut a = Archive::read(&fx.base)?;
    a.set(CUSTODY, log)?;
    a.write()
}

/// Rules 1–5 of SPEC §9.4, one vector each (and the boundaries that verify).
fn rules(fx: &Fixtures) -> Result<Vec<Vector>, Error> {
    // 03:04:05 (the manifest's created time) minus 301 s.
    let early = Timestamp::parse("2026-01-02T02:59:04.000000000Z")?;
    let early_ok = Timestamp::parse("2026-01-02T02:59:05.000000000Z")?;
    Ok(vec![
        vector(
            "semantics-received-by-other-key",
            "alice transfers to bob, but carol signs the receipt (SPEC §9.4 rule 3: the recipient named is the next signer).",
            &[CustodySemantics],
            bundle(
                fx,
                &[
                    seal()?,
                    step("alice", TRANSFERRED, 3600, Some("bob"))?,
                    step("carol", RECEIVED, 7200, None)?,
                ],
            )?,
        ),
        vector(
            "semantics-transfer-not-received",
            "alice transfers to bob, then carol annotates: the entry after a transfer must be its receipt (SPEC §9.4 rule 3).",
            &[CustodySemantics],
            bundle(
                fx,
                &[
                    seal()?,
                    step("alice", TRANSFERRED, 3600, Some("bob"))?,
                    step("carol", ANNOTATED, 7200, None)?,
                ],
            )?,
        ),
        vector(
            "semantics-received-without-transfer",
            "bob signs a receipt right after the seal: a receipt must follow a transfer (SPEC §9.4 rule 4).",
            &[CustodySemantics],
            bundle(fx, &[seal()?, step("bob", RECEIVED, 3600, None)?])?,
        ),
        vector(
            "semantics-transfer-without-recipient",
            "alice signs a transfer that names no recipient (SPEC §9.4 rule 1).",
            &[CustodySemantics],
            bundle(fx, &[seal()?, step("alice", TRANSFERRED, 3600, None)?])?,
        ),
        vector(
            "semantics-recipient-on-annotation",
            "carol's annotation carries a recipient: only transfers do (SPEC §9.4 rule 1).",
            &[CustodySemantics],
            bundle(fx, &[seal()?, step("carol", ANNOTATED, 3600, Some("bob"))?])?,
        ),
        vector(
            "semantics-transfer-by-non-custodian",
            "carol, who never received the bundle, transfers it to bob, who receives it: only the custodian (alice) may transfer (SPEC §9.4 rule 5).",
            &[CustodySemantics],
            bundle(
                fx,
                &[
                    seal()?,
                    step("carol", TRANSFERRED, 3600, Some("bob"))?,
                    step("bob", RECEIVED, 7200, None)?,
                ],
            )?,
        ),
        vector(
            "semantics-time-backwards",
            "An annotation 301 s before the seal's time, beyond the 300 s tolerance (SPEC §9.4 rule 2).",
            &[CustodySemantics],
            bundle(
                fx,
                &[
                    step("alice", SEALED, 3600, None)?,
                    step("carol", ANNOTATED, 3299, None)?,
                ],
            )?,
        ),
        vector(
            "valid-custody-time-within-tolerance",
            "An annotation exactly 300 s before the seal's time: within the tolerance (SPEC §9.4 rule 2).",
            &[],
            bundle(
                fx,
                &[
                    step("alice", SEALED, 3600, None)?,
                    step("carol", ANNOTATED, 3300, None)?,
                ],
            )?,
        ),
        vector(
            "semantics-seal-before-created",
            "The seal's time is 301 s before the manifest's created time (SPEC §9.4 rule 2, entry 0).",
            &[CustodySemantics],
            bundle(
                fx,
                &[Step {
                    who: "alice",
                    action: SEALED,
                    time: early,
                    to: None,
                }],
            )?,
        ),
        vector(
            "valid-custody-seal-within-tolerance",
            "The seal's time is exactly 300 s before the manifest's created time: within the tolerance (SPEC §9.4 rule 2).",
            &[],
            bundle(
                fx,
                &[Step {
                    who: "alice",
                    action: SEALED,
                    time: early_ok,
                    to: None,
                }],
            )?,
        ),
        vector(
            "valid-custody-in-transit",
            "The log ends with alice's transfer to bob, not yet received: a bundle in transit (SPEC §9.4).",
            &[],
            bundle(fx, &[seal()?, step("alice", TRANSFERRED, 3600, Some("bob"))?])?,
        ),
        vector(
            "valid-custody-handoff-three-parties",
            "alice seals and transfers to bob, bob receives and transfers to carol, carol receives; mallory annotates (SPEC §9.4).",
            &[],
            bundle(
                fx,
                &[
                    seal()?,
                    step("alice", TRANSFERRED, 3600, Some("bob"))?,
                    step("bob", RECEIVED, 7200, None)?,
                    step("bob", TRANSFERRED, 10_800, Some("carol"))?,
                    step("carol", RECEIVED, 14_400, None)?,
                    step("mallory", ANNOTATED, 18_000, None)?,
                ],
            )?,
        ),
    ])
}

/// Recorded heads (SPEC §9.5, §11 step 11) on the four-entry chain.
fn heads(fx: &Fixtures) -> Result<Vec<Vector>, Error> {
    let items = fx.chain_entries()?;
    let digest_of = |i: usize| {
        items
            .get(i)
            .map(|e| Digest::of(e))
            .ok_or_else(|| Error::new("no such entry"))
    };
    let mut tail_removed = Archive::read(&fx.chain)?;
    tail_removed.set(CUSTODY, items.get(..3).unwrap_or_default().concat())?;
    let mut empty = Archive::read(&fx.chain)?;
    empty.set(CUSTODY, Vec::new())?;
    Ok(vec![
        with_head(
            vector(
                "truncated-custody-last-removed",
                "The four-entry log without its last entry, verified with the head recorded when that entry was appended (SPEC §9.5).",
                &[TruncatedCustody],
                tail_removed.write()?,
            ),
            &digest_of(3)?,
        ),
        with_head(
            vector(
                "valid-custody-head-earlier-entry",
                "The four-entry log verified with the head recorded after entry 1: the log continues it (SPEC §9.5).",
                &[],
                fx.chain.clone(),
            ),
            &digest_of(1)?,
        ),
        with_head(
            vector(
                "truncated-custody-other-log",
                "The four-entry log verified with a head that none of its entries has (SPEC §9.5).",
                &[TruncatedCustody],
                fx.chain.clone(),
            ),
            &Digest::of(b"an entry of another log"),
        ),
        with_head(
            vector(
                "custody-empty-with-head",
                "custody.cbor is empty and a head is given: malformed-custody, and step 11 is skipped (SPEC §11 step 9).",
                &[MalformedCustody],
                empty.write()?,
            ),
            &digest_of(3)?,
        ),
    ])
}

pub(super) fn vectors(fx: &Fixtures) -> Result<Vec<Vector>, Error> {
    let mut out = rules(fx)?;
    out.extend(heads(fx)?);
    Ok(out)
}
