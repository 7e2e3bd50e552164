//! The custody semantics of SPEC §9.4: whether signed, chained entries are a valid history of who
//! held the bundle.

use super::{Entry, RECEIVED, TIME_TOLERANCE_SECS, TRANSFERRED};
use crate::keys::Fingerprint;
use crate::time::Timestamp;

/// Checks the custody semantics of SPEC §9.4 (rules 1–5, in that order) over parsed entries whose
/// signatures and chain (§9.2, §9.3 rules 1–4) already check; `created` is the manifest's creation
/// time. Returns `(entry index, problem)` pairs, at most one per entry, each a sentence naming the
/// rule broken.
///
/// ```
/// use forensic_bundle::custody::{self, NewEntry};
/// use forensic_bundle::{digest::Digest, keys, limits::Limits, time::Timestamp};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (alice, bob) = (keys::signing_key_from_seed(&[1; 32]), keys::signing_key_from_seed(&[2; 32]));
/// let t = Timestamp::parse("2026-11-29T07:00:00.000000000Z")?;
/// let (id, d, limits) = ("b-1", Digest::of(b"manifest"), Limits::default());
/// let entry = |key, action: &str, recipient| NewEntry {
///     key, actor: "x".into(), action: action.into(), time: t.clone(), recipient, note: None, stamp: None, deposit: None,
/// };
/// let mut log = custody::append(&[], &entry(&alice, custody::SEALED, None), id, &d, &limits)?;
/// let to_bob = Some(keys::Fingerprint::of(&bob.verifying_key()));
/// log = custody::append(&log, &entry(&alice, custody::TRANSFERRED, to_bob), id, &d, &limits)?;
/// // Received by alice, not by bob whom the transfer names: rule 3.
/// log = custody::append(&log, &entry(&alice, custody::RECEIVED, None), id, &d, &limits)?;
/// let problems = custody::check_semantics(&custody::parse_log(&log, &limits)?, &t);
/// assert_eq!(problems.iter().map(|p| p.0).collect::<Vec<_>>(), [2]);
/// # Ok(()) }
/// ```
pub fn check_semantics(entries: &[Entry], created: &Timestamp) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut custodian: Option<Fingerprint> = None;
    let mut prev: Option<&Entry> = None;
    for (i, e) in entries.iter().enumerate() {
        if let Some(problem) = semantic_problem(e, prev, created, custodian) {
            out.push((i, problem));
        }
        if i == 0 || e.payload.action == RECEIVED {
            custodian = Some(e.signer());
        }
        prev = Some(e);
    }
    out
}

/// The first SPEC §9.4 rule entry `e` breaks, given the entry before it and the custodian after it.
fn semantic_problem(
    e: &Entry,
    prev: Option<&Entry>,
    created: &Timestamp,
    custodian: Option<Fingerprint>,
) -> Option<String> {
    let p = &e.payload;
    let is_transfer = p.action == TRANSFERRED;
    // Rule 1.
    if is_transfer && p.recipient.is_none() {
        return Some("a \"transferred\" entry must name its recipient's key (SPEC §9.4 rule 1)".into());
    }
    if !is_transfer && p.recipient.is_some() {
        return Some(format!(
            "a {:?} entry names a recipient; only \"transferred\" entries do (SPEC §9.4 rule 1)",
            p.action
        ));
    }
    // Rule 2.
    let tolerance = i128::from(TIME_TOLERANCE_SECS) * 1_000_000_000;
    let (before, what) = match prev {
        None => (created, "the manifest's created time"),
        Some(q) => (&q.payload.time, "the previous entry's time"),
    };
    if p.time.unix_nanos() < before.unix_nanos() - tolerance {
        return Some(format!(
            "its time {} is more than {TIME_TOLERANCE_SECS} s before {what} {before} (SPEC §9.4 rule 2)",
            p.time
        ));
    }
    // Rule 3.
    if let Some(q) = prev.filter(|q| q.payload.action == TRANSFERRED) {
        let named = q.payload.recipient.map(|r| Fingerprint(r.0));
        if p.action != RECEIVED {
            return Some(format!(
                "the previous entry transferred the bundle, so this entry must be its receipt, not {:?} (SPEC §9.4 rule 3)",
                p.action
            ));
        }
        if named != Some(e.signer()) {
            return Some(format!(
                "received by key {} ({}), but the transfer names key {} (SPEC §9.4 rule 3)",
                e.signer().short(),
                p.actor.name,
                named.map_or_else(|| "none".to_string(), |f| f.short())
            ));
        }
    }
    // Rule 4.
    if p.action == RECEIVED && prev.is_none_or(|q| q.payload.action != TRANSFERRED) {
        return Some("a \"received\" entry that does not follow a \"transferred\" entry (SPEC §9.4 rule 4)".into());
    }
    // Rule 5.
    if is_transfer && custodian != Some(e.signer()) {
        return Some(format!(
            "transferred by key {} ({}), which does not hold the bundle: the custodian is key {} (SPEC §9.4 rule 5)",
            e.signer().short(),
            p.actor.name,
            custodian.map_or_else(|| "none".to_string(), |f| f.short())
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::custody::{ANNOTATED, NewEntry, RECEIVED, SEALED, append, check_chain, parse_log};
    use crate::digest::Digest;
    use crate::keys::{SigningKey, signing_key_from_seed};
    use crate::limits::Limits;

    fn at(secs: i128) -> Timestamp {
        Timestamp::from_unix_nanos(1_800_000_000_000_000_000 + secs * 1_000_000_000).unwrap_or_else(|_| unreachable!())
    }

    struct Log {
        bytes: Vec<u8>,
        keys: Vec<SigningKey>,
        /// Entries appended so far.
        pushed: usize,
    }

    impl Log {
        fn new() -> Log {
            Log {
                bytes: Vec::new(),
                keys: (1..=4u8).map(|i| signing_key_from_seed(&[i; 32])).collect(),
                pushed: 0,
            }
        }

        fn fp(&self, who: usize) -> Fingerprint {
            self.keys
                .get(who)
                .map_or(Fingerprint([0; 32]), |k| Fingerprint::of(&k.verifying_key()))
        }

        /// Appends an entry by key `who` at second `secs`; the test fails if `append` refuses it
        /// (the semantic rules are checked afterwards, by [`Log::problems`], not by `append`).
        fn push(&mut self, who: usize, action: &str, secs: i128, to: Option<usize>) -> &mut Log {
            let key = &self.keys[who];
            let e = NewEntry {
                stamp: None,
                key,
                actor: format!("k{who}"),
                action: action.into(),
                time: at(secs),
                recipient: to.map(|t| self.fp(t)),
                note: None,
                deposit: None,
            };
            self.bytes = append(&self.bytes, &e, "b", &Digest::of(b"m"), &Limits::default())
                .unwrap_or_else(|err| panic!("append refused entry {} ({action} by k{who}): {err}", self.pushed));
            self.pushed += 1;
            self
        }

        /// The entries of the log as written, parsed back: one per [`Log::push`].
        fn entries(&self) -> Vec<Entry> {
            let entries = parse_log(&self.bytes, &Limits::default()).expect("the log parses");
            assert_eq!(entries.len(), self.pushed, "every pushed entry is in the log");
            entries
        }

        /// The entries with a problem of SPEC §9.4, with the manifest created at second 0.
        fn problems(&self) -> Vec<usize> {
            let entries = self.entries();
            assert!(check_chain(&entries, "b", &Digest::of(b"m")).is_empty());
            check_semantics(&entries, &at(0)).into_iter().map(|(i, _)| i).collect()
        }
    }

    #[test]
    fn spec_9_4_a_three_party_handoff_and_annotations_are_a_valid_history() {
        let mut l = Log::new();
        l.push(0, SEALED, 10, None)
            .push(2, ANNOTATED, 20, None)
            .push(0, TRANSFERRED, 30, Some(1))
            .push(1, RECEIVED, 40, None)
            .push(1, TRANSFERRED, 50, Some(2))
            .push(2, RECEIVED, 60, None)
            .push(3, "photographed", 70, None);
        assert_eq!(l.entries().len(), 7);
        assert_eq!(l.problems(), Vec::<usize>::new());
        // In transit: a log may end with a transfer.
        l.push(2, TRANSFERRED, 80, Some(0));
        assert_eq!(l.entries().len(), 8);
        assert_eq!(l.problems(), Vec::<usize>::new());
    }

    #[test]
    fn spec_9_4_rule_1_recipient_only_on_transfers() {
        assert_eq!(Log::new().push(0, SEALED, 0, Some(1)).problems(), [0]);
        assert_eq!(
            Log::new()
                .push(0, SEALED, 0, None)
                .push(0, TRANSFERRED, 1, None)
                .problems(),
            [1]
        );
        assert_eq!(
            Log::new()
                .push(0, SEALED, 0, None)
                .push(2, ANNOTATED, 1, Some(1))
                .problems(),
            [1]
        );
    }

    #[test]
    fn spec_9_4_rule_2_time_tolerance_is_300_seconds() {
        let mut l = Log::new();
        l.push(0, SEALED, -300, None);
        assert_eq!((l.entries().len(), l.problems()), (1, vec![]));
        assert_eq!(Log::new().push(0, SEALED, -301, None).problems(), [0]);
        let mut l = Log::new();
        l.push(0, SEALED, 1000, None).push(1, ANNOTATED, 700, None);
        assert_eq!((l.entries().len(), l.problems()), (2, vec![]));
        l.push(1, ANNOTATED, 399, None);
        assert_eq!(l.problems(), [2]);
    }

    #[test]
    fn spec_9_4_rules_3_and_4_transfers_and_receipts_pair_up() {
        let base = || {
            let mut l = Log::new();
            l.push(0, SEALED, 0, None).push(0, TRANSFERRED, 1, Some(1));
            l
        };
        // Received by another key than the one named.
        assert_eq!(base().push(2, RECEIVED, 2, None).problems(), [2]);
        // Something else instead of the receipt.
        assert_eq!(base().push(1, ANNOTATED, 2, None).problems(), [2]);
        assert_eq!(base().push(0, TRANSFERRED, 2, Some(2)).problems(), [2]);
        // A receipt without a transfer.
        assert_eq!(
            Log::new()
                .push(0, SEALED, 0, None)
                .push(1, RECEIVED, 1, None)
                .problems(),
            [1]
        );
        let mut l = base();
        l.push(1, RECEIVED, 2, None).push(1, RECEIVED, 3, None);
        assert_eq!(l.problems(), [3]);
    }

    #[test]
    fn spec_9_4_rule_5_only_the_custodian_transfers() {
        let mut l = Log::new();
        l.push(0, SEALED, 0, None).push(2, TRANSFERRED, 1, Some(2));
        assert_eq!(l.problems(), [1]);
        let mut l = Log::new();
        l.push(0, SEALED, 0, None)
            .push(0, TRANSFERRED, 1, Some(1))
            .push(1, RECEIVED, 2, None)
            .push(0, TRANSFERRED, 3, Some(0));
        assert_eq!(l.problems(), [3], "alice gave the bundle away");
    }
}
