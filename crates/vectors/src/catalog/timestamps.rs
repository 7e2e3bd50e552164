//! Trusted time (SPEC §9.6, §11 step 12): custody entries carrying RFC 3161 tokens, each vector
//! verified against `tsa/root.pem`, each token deterministic (`crate::tsa`).

use super::{Fixtures, vector};
use crate::fixture::{self, t};
use crate::rezip::Archive;
use crate::tsa::{Party, Pki, token};
use crate::{Error, Vector};
use forensic_bundle::CUSTODY;
use forensic_bundle::custody::{self, NewEntry};
use forensic_bundle::digest::Digest;
use forensic_bundle::verify::FailureClass;

/// `tsa-trust:` of every vector here.
const ROOT: &str = "tsa/root.pem";

fn unix_secs(secs: u32) -> Result<u64, Error> {
    let nanos = t(secs)?.unix_nanos();
    u64::try_from(nanos / 1_000_000_000).map_err(|e| Error::new(e.to_string()))
}

/// Tokens for a custody head.
type Tokens<'a> = dyn Fn(&Digest) -> Result<Vec<Vec<u8>>, String> + Sync + 'a;

/// The base bundle with entries appended by alice: `(action, time, tokens for the head)`.
fn stamped(fx: &Fixtures, entries: &[(&str, u32, &Tokens<'_>)]) -> Result<Vec<u8>, Error> {
    let mut a: Archive = fx.base_archive()?;
    let mut log = a.content(CUSTODY)?.to_vec();
    let alice = fixture::key("alice");
    for (action, secs, tokens) in entries {
        let e = NewEntry {
            deposit: None,
            key: &alice,
            actor: "alice".into(),
            action: action.to_string(),
            time: t(*secs)?,
            recipient: None,
            note: None,
            stamp: Some(*tokens),
        };
        log = custody::append(&log, &e, &fx.bundle_id, &fx.digest, &Default::default())?;
    }
    a.set(CUSTODY, log)?;
    a.write()
}

fn judged(mut v: Vector) -> Vector {
    v.tsa_trust = vec![ROOT.to_string()];
    v
}

pub(crate) fn vectors(fx: &Fixtures) -> Result<Vec<Vector>, Error> {
    let pki = Pki::new()?;
    let gen_at = unix_secs(240)?;
    let by = |tsa: &'static str| -> Result<Box<Tokens<'static>>, Error> {
        let pki = Pki::new()?;
        Ok(Box::new(move |head: &Digest| {
            let party: &Party = match tsa {
                "tsa" => &pki.tsa,
                "expired" => &pki.expired,
                _ => &pki.stranger,
            };
            token(party, head, gen_at, 7)
                .map(|t| vec![t])
                .map_err(|e| e.to_string())
        }))
    };
    let good = by("tsa")?;
    let valid = stamped(fx, &[(custody::TIMESTAMPED, 300, &*good)])?;
    let wrong_imprint = |_: &Digest| {
        token(&pki.tsa, &Digest::of(b"another entry"), gen_at, 7)
            .map(|t| vec![t])
            .map_err(|e| e.to_string())
    };
    let bad_signature = |head: &Digest| {
        let mut t = token(&pki.tsa, head, gen_at, 7).map_err(|e| e.to_string())?;
        // The token ends with the Ed25519 signature over the signed attributes.
        if let Some(last) = t.last_mut() {
            *last ^= 0x01;
        }
        Ok(vec![t])
    };
    let garbage = |_: &Digest| Ok(vec![b"not a time-stamp token".to_vec()]);
    let stranger = by("stranger")?;
    let untrusted = stamped(fx, &[(custody::TIMESTAMPED, 300, &*stranger)])?;
    Ok(vec![
        judged(vector(
            "valid-timestamp",
            "entry 1 (timestamped) carries a token by a TSA under the trusted root over entry 0 (SPEC §9.6)",
            &[],
            valid,
        )),
        vector(
            "valid-timestamp-not-judged",
            "a token from a TSA under another root, verified without a TSA trust list: reported, not judged (SPEC §9.6)",
            &[],
            untrusted.clone(),
        ),
        judged(vector(
            "timestamp-wrong-imprint",
            "entry 1 carries a token over other bytes than entry 0 (SPEC §9.6 check 2)",
            &[FailureClass::TimestampImprint],
            stamped(fx, &[(custody::TIMESTAMPED, 300, &wrong_imprint)])?,
        )),
        judged(vector(
            "timestamp-untrusted-chain",
            "entry 1 carries a token by a TSA whose certificate chains to another root (SPEC §9.6 check 4)",
            &[FailureClass::UntrustedTimestamp],
            untrusted,
        )),
        judged(vector(
            "timestamp-expired-certificate",
            "entry 1 carries a token by a TSA whose certificate expired in 2021, before genTime (SPEC §9.6 check 5)",
            &[FailureClass::TimestampExpired],
            stamped(fx, &[(custody::TIMESTAMPED, 300, &*by("expired")?)])?,
        )),
        judged(vector(
            "timestamp-bad-signature",
            "entry 1 carries a token whose CMS signature has one bit flipped (SPEC §9.6 check 3)",
            &[FailureClass::TimestampSignature],
            stamped(fx, &[(custody::TIMESTAMPED, 300, &bad_signature)])?,
        )),
        judged(vector(
            "timestamp-malformed",
            "entry 1's timestamps holds bytes that are not a DER time-stamp token (SPEC §9.6 check 1)",
            &[FailureClass::MalformedTimestamp],
            stamped(fx, &[(custody::TIMESTAMPED, 300, &garbage)])?,
        )),
        judged(vector(
            "timestamp-time-after",
            "entry 1 states a time an hour after the genTime of entry 2's token over it (SPEC §9.6)",
            &[FailureClass::TimeAfterTimestamp],
            stamped(
                fx,
                &[
                    (custody::ANNOTATED, 4000, &|_: &Digest| Ok(Vec::new())),
                    (custody::TIMESTAMPED, 4000, &*good),
                ],
            )?,
        )),
    ])
}
