//! Step 12 of SPEC §11: the custody log's time-stamp tokens (SPEC §9.6).

use super::{FailureClass, Report, TokenRecord};
use crate::CUSTODY;
use crate::custody::{Entry, TIME_TOLERANCE_SECS};
use crate::time::Timestamp;
use forensic_tsp::{Token, TokenFailure, TrustList};

fn class(f: TokenFailure) -> FailureClass {
    match f {
        TokenFailure::Imprint => FailureClass::TimestampImprint,
        TokenFailure::Signature => FailureClass::TimestampSignature,
        TokenFailure::Untrusted => FailureClass::UntrustedTimestamp,
        TokenFailure::Expired => FailureClass::TimestampExpired,
        _ => FailureClass::MalformedTimestamp,
    }
}

/// Records every entry's tokens in `report.custody`; with `trust`, verifies each (step 12a) and,
/// when the chain is `intact`, gives each entry its trusted time and judges its signed time
/// against it (step 12b).
pub(super) fn check(entries: &[Entry], trust: Option<&TrustList>, intact: bool, report: &mut Report) {
    // The earliest verified genTime of a token in entry j covers entry j - 1 (its `prev`).
    let mut covers: Vec<Option<i128>> = vec![None; entries.len()];
    for (i, e) in entries.iter().enumerate() {
        let Some(tokens) = &e.payload.timestamps else {
            continue;
        };
        let mut records = Vec::new();
        for (t, token) in tokens.iter().enumerate() {
            let parsed = Token::parse(&token.0);
            let mut record = TokenRecord {
                der: token.0.clone(),
                imprint: parsed.as_ref().ok().map(|p| p.hashed_message().to_vec()),
                gen_time: parsed
                    .as_ref()
                    .ok()
                    .and_then(|p| Timestamp::from_unix_nanos(p.gen_time_nanos).ok()),
                serial: parsed.as_ref().ok().map(|p| p.serial.clone()),
                verified: None,
            };
            if let Some(trust) = trust {
                let verdict = match (&parsed, e.payload.prev) {
                    (Err(err), _) => Err((class(err.failure), err.message.clone())),
                    (Ok(_), None) => Err((
                        FailureClass::TimestampImprint,
                        "entry 0 has no previous entry for a token to cover".to_string(),
                    )),
                    (Ok(p), Some(prev)) => p
                        .verify(&prev.0, trust)
                        .map_err(|err| (class(err.failure), err.message)),
                };
                match verdict {
                    Ok(nanos) => {
                        if let Some(slot) = i.checked_sub(1).and_then(|k| covers.get_mut(k)) {
                            *slot = Some(slot.map_or(nanos, |s| s.min(nanos)));
                        }
                        record.verified = Some(true);
                    }
                    Err((c, m)) => {
                        record.verified = Some(false);
                        report.fail(c, Some(CUSTODY), Some(i), format!("time-stamp token {t}: {m}"));
                    }
                }
            }
            records.push(record);
        }
        if let Some(r) = report.custody.get_mut(i) {
            r.timestamps = records;
        }
    }
    if trust.is_none() || !intact {
        return;
    }
    // A token over entry k covers every entry before it too, through `prev` (SPEC §9.6).
    let mut earliest: Option<i128> = None;
    for k in (0..entries.len()).rev() {
        if let Some(n) = covers.get(k).copied().flatten() {
            earliest = Some(earliest.map_or(n, |e| e.min(n)));
        }
        let (Some(trusted), Some(rec)) = (earliest, report.custody.get(k)) else {
            continue;
        };
        let signed = rec.payload.time.unix_nanos();
        let late = signed > trusted + i128::from(TIME_TOLERANCE_SECS) * 1_000_000_000;
        let trusted_ts = Timestamp::from_unix_nanos(trusted).ok();
        let message = trusted_ts.as_ref().map(|t| {
            format!(
                "signed time {} is later than its trusted time {t} by more than {TIME_TOLERANCE_SECS} s: \
                 the entry existed before the time it states",
                rec.payload.time
            )
        });
        if let Some(r) = report.custody.get_mut(k) {
            r.trusted_time = trusted_ts;
        }
        if late {
            report.fail(
                FailureClass::TimeAfterTimestamp,
                Some(CUSTODY),
                Some(k),
                message.unwrap_or_default(),
            );
        }
    }
}
