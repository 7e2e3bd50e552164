"""Custody semantics (SPEC §9.4), recorded heads (§9.5) and their place in the
verification algorithm (§11 steps 9d, 10, 11), tested from the text of the spec.

Two levels:

* ``judge_custody_history`` on entries made directly (the rules alone, including
  situations that §9.3 keeps out of a chained log, such as a transfer at entry 0);
* whole bundles through ``verify_file``: the step ordering of §11 (9d only on a log
  whose every entry passed 9a and 9b, seal-mismatch not preventing 9d, step 11
  whatever 9–10 found, step 11 skipped on a malformed log).

When FORENSIC_BIN names the Rust ``forensic`` binary, the bundles built here are also
verified with ``forensic verify --json`` and the two sets of failure classes compared.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Optional

import cbor2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import test_verify_unit as tu  # noqa: E402  (the ZIP builder and the test manifest)
import verify_bundle as vb  # noqa: E402


# ---------------------------------------------------------------------------
# Keys, times, entries
# ---------------------------------------------------------------------------


def _key(name: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"custody semantics test key {name}".encode()).digest())


ALICE, BOB, CAROL, DAVE = (_key(n) for n in ("alice", "bob", "carol", "dave"))
NAMES = {id(ALICE): "alice", id(BOB): "bob", id(CAROL): "carol", id(DAVE): "dave"}


def raw(sk: Ed25519PrivateKey) -> bytes:
    return sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fp(sk: Ed25519PrivateKey) -> bytes:
    """§8 fingerprint, computed here from the DER SubjectPublicKeyInfo (not with the
    verifier's own function)."""
    der = sk.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).digest()


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def fmt(ns: int) -> str:
    """Nanoseconds since the epoch as a §5 time (years 1..9999, through datetime)."""
    seconds, frac = divmod(ns, 10**9)
    t = EPOCH + dt.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + f".{frac:09d}Z"


def ns_of(t: str) -> int:
    """A §5 time as nanoseconds since the epoch, through datetime (years 1..9999)."""
    whole = dt.datetime.strptime(t[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.timezone.utc)
    return (whole - EPOCH) // dt.timedelta(seconds=1) * 10**9 + int(t[20:29])


CREATED = tu.T  # the test manifest's created time: 2026-11-29T07:27:29.123456789Z
T = 300 * 10**9  # §9.4 tolerance, in ns
MINUTE = 60 * 10**9


def at(offset_ns: int) -> str:
    """The §5 time offset_ns after the manifest's created time."""
    return fmt(ns_of(CREATED) + offset_ns)


def E(action: str, signer: Ed25519PrivateKey, time: Optional[str] = None, recipient: Optional[bytes] = None,
      seq: int = 0) -> vb.CustodyEntry:
    """An entry for ``judge_custody_history`` (only action, signer, time and recipient
    matter to §9.4)."""
    return vb.CustodyEntry(
        raw=b"", protected_raw=b"", protected=None, payload_raw=b"", signature=b"", seq=seq, prev=None,
        time=time or at(seq * MINUTE), action=action, actor_name=NAMES.get(id(signer), "?"),
        actor_key=raw(signer), bundle_id="b", manifest_sha256=b"", recipient=recipient,
    )


def log(*specs) -> list[vb.CustodyEntry]:
    """Entries from (action, signer[, recipient key][, time]) tuples; times one minute
    apart unless given."""
    out = []
    for i, spec in enumerate(specs):
        action, signer, *rest = spec
        recipient = None
        time = None
        for r in rest:
            if isinstance(r, str):
                time = r
            elif isinstance(r, bytes):
                recipient = r
            else:
                recipient = fp(r)
        out.append(E(action, signer, time, recipient, seq=i))
    return out


def judged(entries, created: str = CREATED) -> list[tuple[int, int]]:
    """(entry, rule) of every §9.4 violation."""
    return [(v.entry, v.rule) for v in vb.judge_custody_history(entries, created)]


SEAL = ("sealed", ALICE)


# ---------------------------------------------------------------------------
# §9.4: a valid history; the custodian
# ---------------------------------------------------------------------------


def test_a_valid_history_has_no_violation():
    entries = log(SEAL, ("transferred", ALICE, BOB), ("received", BOB), ("annotated", CAROL),
                  ("transferred", BOB, CAROL), ("received", CAROL), ("annotated", CAROL),
                  ("transferred", CAROL, ALICE), ("received", ALICE))
    assert judged(entries) == []


def test_a_seal_alone_is_valid():
    assert judged(log(SEAL)) == []


def test_a_log_ending_in_transferred_is_in_transit_and_valid():
    """§9.4: "A log MAY end with a transferred entry: the bundle is in transit"."""
    assert judged(log(SEAL, ("transferred", ALICE, BOB))) == []
    assert judged(log(SEAL, ("transferred", ALICE, BOB), ("received", BOB), ("transferred", BOB, CAROL))) == []


def test_the_sealer_is_custodian_until_a_receipt():
    # Annotations by others leave custody with the sealer: alice may still transfer.
    assert judged(log(SEAL, ("annotated", CAROL), ("annotated", BOB), ("transferred", ALICE, BOB))) == []
    # An annotator never becomes custodian.
    assert judged(log(SEAL, ("annotated", CAROL), ("transferred", CAROL, BOB))) == [(2, 5)]


def test_a_receipt_makes_its_signer_custodian_and_the_old_one_loses_custody():
    base = [SEAL, ("transferred", ALICE, BOB), ("received", BOB)]
    assert judged(log(*base, ("transferred", BOB, CAROL))) == []
    assert judged(log(*base, ("transferred", ALICE, CAROL))) == [(3, 5)]


def test_the_custodian_is_the_last_receiver_across_several_hops():
    base = [SEAL, ("transferred", ALICE, BOB), ("received", BOB), ("transferred", BOB, CAROL), ("received", CAROL),
            ("annotated", BOB)]
    assert judged(log(*base, ("transferred", CAROL, DAVE))) == []
    assert judged(log(*base, ("transferred", BOB, DAVE))) == [(6, 5)]
    assert judged(log(*base, ("transferred", ALICE, DAVE))) == [(6, 5)]


def test_annotated_and_unknown_actions_do_not_change_custody():
    """§9.4: "any other: allowed (actions are extensible); like annotated, custody does
    not change"."""
    entries = log(SEAL, ("annotated", CAROL), ("witnessed", CAROL), ("x-vendor-hold", BOB), ("transferred", ALICE, BOB))
    assert judged(entries) == []
    assert judged(log(SEAL, ("witnessed", CAROL), ("transferred", CAROL, BOB))) == [(2, 5)]


def test_a_transfer_to_oneself_is_a_transfer_like_any_other():
    assert judged(log(SEAL, ("transferred", ALICE, ALICE), ("received", ALICE), ("transferred", ALICE, BOB))) == []


def test_the_custodian_definition_counts_every_received_entry():
    """§9.4: the custodian after entry i is "the signer of the last entry among entries
    0 … i whose action is received": the definition does not ask whether that receipt
    itself obeyed the rules. Carol's receipt of a transfer made to bob fails rule 3, yet
    carol is then the custodian, so her transfer passes rule 5 and bob's fails it.
    (Either reading gives the same failure classes; only the entries reported differ.)"""
    base = [SEAL, ("transferred", ALICE, BOB), ("received", CAROL)]
    assert judged(log(*base, ("transferred", CAROL, DAVE))) == [(2, 3)]
    assert judged(log(*base, ("transferred", BOB, DAVE))) == [(2, 3), (3, 5)]


def test_actions_are_compared_exactly():
    # "Transferred" is not "transferred": an unknown action, so a recipient on it breaks
    # rule 1, and after a real transfer it is not the receipt (rule 3).
    assert judged(log(SEAL, ("Transferred", ALICE, BOB))) == [(1, 1)]
    assert judged(log(SEAL, ("transferred", ALICE, BOB), ("Received", BOB))) == [(2, 3)]


# ---------------------------------------------------------------------------
# Rule 1: recipient present iff transferred
# ---------------------------------------------------------------------------


def test_rule1_a_transfer_without_recipient():
    assert judged(log(SEAL, ("transferred", ALICE))) == [(1, 1)]


@pytest.mark.parametrize("action", ["annotated", "received", "witnessed", ""])
def test_rule1_a_recipient_on_another_action(action):
    entries = log(SEAL, ("transferred", ALICE, BOB), ("received", BOB), (action, BOB, CAROL))
    assert judged(entries) == [(3, 1)]


def test_rule1_a_recipient_on_the_seal():
    assert judged(log(("sealed", ALICE, BOB))) == [(0, 1)]


def test_rule1_on_a_receipt_is_reported_as_rule1_not_rule3():
    # Bob's receipt is otherwise right, but carries a recipient.
    assert judged(log(SEAL, ("transferred", ALICE, BOB), ("received", BOB, CAROL))) == [(2, 1)]


# ---------------------------------------------------------------------------
# Rule 2: time, with tolerance T = 300 s, to the nanosecond
# ---------------------------------------------------------------------------


def test_rule2_entry0_against_created_exactly_300s_earlier_is_allowed():
    assert judged(log(("sealed", ALICE, at(-T)))) == []


def test_rule2_entry0_against_created_one_nanosecond_more_fails():
    assert judged(log(("sealed", ALICE, at(-T - 1)))) == [(0, 2)]


def test_rule2_entry0_is_judged_against_created_not_against_anything_else():
    created = "2026-01-01T00:00:00.000000000Z"
    # Any time after created is fine, however late.
    assert judged(log(("sealed", ALICE, "2030-01-01T00:00:00.000000000Z")), created) == []
    assert judged(log(("sealed", ALICE, "2025-12-31T23:55:00.000000000Z")), created) == []
    assert judged(log(("sealed", ALICE, "2025-12-31T23:54:59.999999999Z")), created) == [(0, 2)]


def test_rule2_later_entry_against_the_previous_exactly_300s_earlier_is_allowed():
    assert judged(log(("sealed", ALICE, at(10 * MINUTE)), ("annotated", BOB, at(10 * MINUTE - T)))) == []


def test_rule2_later_entry_one_nanosecond_more_fails():
    assert judged(log(("sealed", ALICE, at(10 * MINUTE)), ("annotated", BOB, at(10 * MINUTE - T - 1)))) == [(1, 2)]


def test_rule2_times_never_have_to_increase_and_each_entry_is_compared_with_p_only():
    """Each entry is compared with the entry before it, not with the latest time so far:
    steps of exactly −300 s add up without a violation."""
    entries = log(("sealed", ALICE, at(0)), ("annotated", BOB, at(-T)), ("annotated", CAROL, at(-2 * T)),
                  ("transferred", ALICE, BOB, at(-3 * T)), ("received", BOB, at(-4 * T)))
    assert judged(entries) == []


def test_rule2_compares_with_p_even_when_p_itself_failed():
    entries = log(("sealed", ALICE, at(0)), ("annotated", BOB, at(-T - 1)), ("annotated", CAROL, at(-T - 1)),
                  ("annotated", CAROL, at(5 * T)))
    assert judged(entries) == [(1, 2)]


def test_rule2_nanosecond_precision_far_from_the_epoch():
    """2026 is ~1.8e18 ns after the epoch, beyond the 53-bit precision of a float: one
    nanosecond must still count."""
    created = "2026-11-29T07:27:29.123456789Z"
    assert judged(log(("sealed", ALICE, "2026-11-29T07:22:29.123456789Z")), created) == []
    assert judged(log(("sealed", ALICE, "2026-11-29T07:22:29.123456788Z")), created) == [(0, 2)]
    assert judged(log(("sealed", ALICE, "2026-11-29T07:22:29.123456790Z")), created) == []


@pytest.mark.parametrize(
    "reference, exactly_t_before",
    [
        ("2024-03-01T00:04:59.999999999Z", "2024-02-29T23:59:59.999999999Z"),   # leap day
        ("2023-03-01T00:04:59.999999999Z", "2023-02-28T23:59:59.999999999Z"),   # no leap day
        ("2100-03-01T00:04:59.999999999Z", "2100-02-28T23:59:59.999999999Z"),   # 2100: not leap
        ("2000-03-01T00:04:59.999999999Z", "2000-02-29T23:59:59.999999999Z"),   # 2000: leap
        ("2027-01-01T00:00:00.000000000Z", "2026-12-31T23:55:00.000000000Z"),   # year boundary
        ("1970-01-01T00:02:00.000000000Z", "1969-12-31T23:57:00.000000000Z"),   # across the epoch
        ("0000-03-01T00:04:59.999999999Z", "0000-02-29T23:59:59.999999999Z"),   # year 0 is leap
        ("0001-01-01T00:04:00.000000000Z", "0000-12-31T23:59:00.000000000Z"),   # out of year 0
        ("9999-12-31T23:59:59.999999999Z", "9999-12-31T23:54:59.999999999Z"),   # the last §5 time
    ],
)
def test_rule2_times_are_instants_across_calendar_boundaries(reference, exactly_t_before):
    assert judged(log(("sealed", ALICE, exactly_t_before)), reference) == []
    fraction = int(exactly_t_before[20:29])
    if fraction:  # one nanosecond earlier, written by hand (fmt() has no year 0)
        one_ns_less = exactly_t_before[:20] + f"{fraction - 1:09d}Z"
        assert judged(log(("sealed", ALICE, one_ns_less)), reference) == [(0, 2)]
    assert vb.instant_ns(reference) - vb.instant_ns(exactly_t_before) == T


def test_instant_ns_values():
    assert vb.instant_ns("1970-01-01T00:00:00.000000000Z") == 0
    assert vb.instant_ns("1970-01-01T00:00:00.000000001Z") == 1
    assert vb.instant_ns("1969-12-31T23:59:59.999999999Z") == -1
    assert vb.instant_ns("2000-01-01T00:00:00.000000000Z") == 946_684_800 * 10**9
    assert vb.instant_ns("0000-01-01T00:00:00.000000000Z") == -62_167_219_200 * 10**9
    assert vb.instant_ns("9999-12-31T23:59:59.999999999Z") == 253_402_300_799_999_999_999
    with pytest.raises(ValueError):
        vb.instant_ns("2026-11-29T07:27:29Z")


def test_instant_ns_agrees_with_datetime_on_every_day_of_some_years():
    for year in (1, 4, 100, 1582, 1900, 1969, 1970, 2000, 2024, 2026, 2100, 9999):
        first, last = dt.date(year, 1, 1).toordinal(), dt.date(year, 12, 31).toordinal()
        for ordinal in range(first, last + 1):
            t = f"{dt.date.fromordinal(ordinal).isoformat()}T12:34:56.000000007Z"
            assert vb.instant_ns(t) == ns_of(t), t


# ---------------------------------------------------------------------------
# Rule 3: receipt follows transfer
# ---------------------------------------------------------------------------


def test_rule3_the_named_recipient_receives():
    assert judged(log(SEAL, ("transferred", ALICE, BOB), ("received", BOB))) == []


def test_rule3_receipt_by_another_key():
    assert judged(log(SEAL, ("transferred", ALICE, BOB), ("received", CAROL))) == [(2, 3)]


def test_rule3_receipt_by_the_transferor():
    assert judged(log(SEAL, ("transferred", ALICE, BOB), ("received", ALICE))) == [(2, 3)]


@pytest.mark.parametrize("action", ["annotated", "witnessed"])
def test_rule3_something_else_after_a_transfer(action):
    assert judged(log(SEAL, ("transferred", ALICE, BOB), (action, BOB))) == [(2, 3)]
    assert judged(log(SEAL, ("transferred", ALICE, BOB), (action, CAROL))) == [(2, 3)]


def test_rule3_a_second_transfer_after_a_transfer_is_rule3_not_rule5():
    # Alice is still custodian (no receipt), so rule 5 would pass; rule 3 fails first.
    assert judged(log(SEAL, ("transferred", ALICE, BOB), ("transferred", ALICE, CAROL))) == [(2, 3)]
    # By a non-custodian: rules 3 and 5 both fail; only rule 3 is reported.
    assert judged(log(SEAL, ("transferred", ALICE, BOB), ("transferred", CAROL, DAVE))) == [(2, 3)]


def test_rule3_the_recipient_is_a_fingerprint_not_a_raw_key():
    # A transfer whose recipient is bob's raw public key names nobody bob signs as.
    assert judged(log(SEAL, ("transferred", ALICE, raw(BOB)), ("received", BOB))) == [(2, 3)]


def test_rule3_after_a_transfer_naming_no_recipient():
    # The transfer fails rule 1; the receipt after it cannot match an absent recipient.
    assert judged(log(SEAL, ("transferred", ALICE), ("received", BOB))) == [(1, 1), (2, 3)]


# ---------------------------------------------------------------------------
# Rule 4: transfer precedes receipt
# ---------------------------------------------------------------------------


def test_rule4_receipt_right_after_the_seal():
    assert judged(log(SEAL, ("received", BOB))) == [(1, 4)]


def test_rule4_receipt_after_an_annotation():
    assert judged(log(SEAL, ("transferred", ALICE, BOB), ("received", BOB), ("annotated", CAROL),
                      ("received", CAROL))) == [(4, 4)]


def test_rule4_receipt_not_right_after_its_transfer():
    # Each receipt right after its transfer: an annotation in between breaks both 3 and 4.
    assert judged(log(SEAL, ("transferred", ALICE, BOB), ("annotated", CAROL), ("received", BOB))) == [(2, 3), (3, 4)]


def test_rule4_a_second_receipt():
    assert judged(log(SEAL, ("transferred", ALICE, BOB), ("received", BOB), ("received", BOB))) == [(3, 4)]


def test_rule4_entry0_received():
    """Rule 4 says "then i > 0": a receipt as entry 0 fails it (§9.3 rule 3 keeps this
    out of a chained log; the rule is still the rule)."""
    assert judged(log(("received", ALICE))) == [(0, 4)]


# ---------------------------------------------------------------------------
# Rule 5: only the custodian transfers
# ---------------------------------------------------------------------------


def test_rule5_transfer_by_someone_who_never_held_the_bundle():
    assert judged(log(SEAL, ("transferred", CAROL, BOB), ("received", BOB))) == [(1, 5)]


def test_rule5_transfer_by_the_recipient_before_receipt_is_rule3():
    # Bob transfers onward before acknowledging: rule 3 (not his receipt) comes first.
    assert judged(log(SEAL, ("transferred", ALICE, BOB), ("transferred", BOB, CAROL))) == [(2, 3)]


def test_rule5_a_transfer_as_entry0_has_no_custodian_before_it():
    assert judged(log(("transferred", ALICE, BOB))) == [(0, 5)]


# ---------------------------------------------------------------------------
# At most one violation per entry: the first rule that fails, in the order 1–5
# ---------------------------------------------------------------------------


def test_order_rule1_before_2_before_3():
    # Carol's "receipt" of a transfer to bob: recipient present (1), 301 s back (2),
    # wrong signer (3). Each fix reveals the next rule.
    back = at(MINUTE - T - 1)
    head = [("sealed", ALICE, at(0)), ("transferred", ALICE, BOB, at(MINUTE))]
    assert judged(log(*head, ("received", CAROL, DAVE, back))) == [(2, 1)]
    assert judged(log(*head, ("received", CAROL, back))) == [(2, 2)]
    assert judged(log(*head, ("received", CAROL, at(2 * MINUTE)))) == [(2, 3)]
    assert judged(log(*head, ("received", BOB, at(2 * MINUTE)))) == []


def test_order_rule2_before_4_and_5():
    back = at(-T - 1)
    assert judged(log(("sealed", ALICE, at(0)), ("received", BOB, back))) == [(1, 2)]
    assert judged(log(("sealed", ALICE, at(0)), ("transferred", CAROL, BOB, back))) == [(1, 2)]


def test_order_rule1_before_5():
    assert judged(log(SEAL, ("transferred", CAROL))) == [(1, 1)]


def test_every_failing_entry_is_reported_once():
    entries = log(SEAL, ("received", BOB), ("transferred", CAROL), ("annotated", BOB, ALICE),
                  ("transferred", DAVE, BOB), ("received", CAROL))
    assert judged(entries) == [(1, 4), (2, 1), (3, 1), (4, 5), (5, 3)]


def test_violation_messages_name_the_rule():
    (v,) = vb.judge_custody_history(log(SEAL, ("transferred", CAROL, BOB)), CREATED)
    assert v.entry == 1 and v.rule == 5 and "rule 5" in v.reason


def test_an_empty_list_has_no_violation():
    assert judged([]) == []


# ---------------------------------------------------------------------------
# Whole bundles: §11 steps 9d, 10 and 11
# ---------------------------------------------------------------------------

MANIFEST = cbor2.dumps(tu._manifest())
BUNDLE_ID = tu._manifest()["bundle_id"]


class Log:
    """A custody log built entry by entry as a writer would (§9.1–§9.3), with
    overrides to break it."""

    def __init__(self, manifest: bytes = MANIFEST):
        self.items: list[bytes] = []
        self.manifest_digest = hashlib.sha256(manifest).digest()

    def add(self, action: str, signer: Ed25519PrivateKey, time: Optional[str] = None,
            recipient: Optional[Ed25519PrivateKey] = None, *, bad_signature: bool = False,
            kid: Optional[bytes] = None, recipient_bytes: Optional[bytes] = None, **payload_over) -> "Log":
        seq = len(self.items)
        payload = {
            "seq": seq,
            "prev": hashlib.sha256(self.items[-1]).digest() if self.items else None,
            "time": time or at(seq * MINUTE),
            "action": action,
            "actor": {"name": NAMES.get(id(signer), "?"), "key": raw(signer)},
            "bundle_id": BUNDLE_ID,
            "manifest_sha256": self.manifest_digest,
        }
        if recipient is not None:
            payload["recipient"] = fp(recipient)
        if recipient_bytes is not None:
            payload["recipient"] = recipient_bytes
        payload.update(payload_over)
        protected = cbor2.dumps({1: -8, 4: kid if kid is not None else fp(signer)})
        payload_bytes = cbor2.dumps(payload)
        signature = signer.sign(vb.sig_structure(protected, payload_bytes))
        if bad_signature:
            signature = signature[:10] + bytes([signature[10] ^ 1]) + signature[11:]
        self.items.append(cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload_bytes, signature])))
        return self

    def seal(self, signer=ALICE, **kw) -> "Log":
        return self.add("sealed", signer, **kw)

    def transfer(self, frm, to, **kw) -> "Log":
        return self.add("transferred", frm, recipient=to, **kw)

    def receive(self, by, **kw) -> "Log":
        return self.add("received", by, **kw)

    def annotate(self, by, **kw) -> "Log":
        return self.add("annotated", by, **kw)

    def data(self) -> bytes:
        return b"".join(self.items)

    def head(self, i: int = -1) -> bytes:
        return hashlib.sha256(self.items[i]).digest()


def bundle(custody: bytes, manifest: bytes = MANIFEST, custody_crc: Optional[int] = None) -> bytes:
    sums = vb.expected_sha256sums([(tu.EVIDENCE_NAME, hashlib.sha256(tu.EVIDENCE).digest())],
                                  hashlib.sha256(manifest).digest())
    custody_kw = {} if custody_crc is None else {"crc": custody_crc}
    return tu._build_zip([
        tu._entry("mimetype", vb.MIMETYPE_CONTENT),
        tu._entry(tu.EVIDENCE_NAME, tu.EVIDENCE, 8),
        tu._entry("manifest.cbor", manifest, 8),
        tu._entry("SHA256SUMS", sums, 8),
        tu._entry("custody.cbor", custody, **custody_kw),
    ])


def verify(tmp_path, data: bytes, **kw) -> vb.Result:
    path = tmp_path / "bundle.zip"
    path.write_bytes(data)
    return vb.verify_file(path, **kw)


def classes(tmp_path, data: bytes, **kw) -> set[str]:
    return verify(tmp_path, data, **kw).classes


def valid_log() -> Log:
    return Log().seal().transfer(ALICE, BOB).receive(BOB).annotate(CAROL)


def test_bundle_with_a_valid_history_verifies(tmp_path):
    result = verify(tmp_path, bundle(valid_log().data()))
    assert result.verified, [str(f) for f in result.failures]


def test_bundle_in_transit_verifies(tmp_path):
    assert classes(tmp_path, bundle(Log().seal().transfer(ALICE, BOB).data())) == set()


def test_bundle_semantics_failure_names_the_entry(tmp_path):
    lg = Log().seal().annotate(CAROL).transfer(CAROL, BOB).receive(BOB)
    result = verify(tmp_path, bundle(lg.data()))
    assert [(f.cls, f.entry) for f in result.failures] == [("custody-semantics", 2)]


@pytest.mark.parametrize(
    "offset, ok",
    [(-T, True), (-T - 1, False), (0, True), (10**15, True)],
)
def test_bundle_seal_time_against_created(tmp_path, offset, ok):
    lg = Log().seal(time=at(offset))
    assert classes(tmp_path, bundle(lg.data())) == (set() if ok else {"custody-semantics"})


def semantics_broken_log(**last_entry) -> Log:
    """Seal, a transfer naming no recipient (rule 1), an annotation (rule 3), and a last
    annotation built with the given overrides."""
    action = last_entry.pop("action", "annotated")
    return Log().seal().add("transferred", ALICE).annotate(CAROL).add(action, BOB, **last_entry)


def test_9d_runs_on_a_signed_chained_log(tmp_path):
    result = verify(tmp_path, bundle(semantics_broken_log().data()))
    assert [(f.cls, f.entry) for f in result.failures] == [("custody-semantics", 1), ("custody-semantics", 2)]


@pytest.mark.parametrize(
    "breakage, cls",
    [
        (dict(bad_signature=True), "bad-signature"),            # 9a: signature
        (dict(kid=b"\x00" * 32), "bad-signature"),              # 9a: kid (§9.3 rule 6)
        (dict(seq=7), "broken-chain"),                          # 9b: §9.3 rule 1
        (dict(prev=b"\x00" * 32), "broken-chain"),              # 9b: §9.3 rule 2
        (dict(action="sealed"), "broken-chain"),                # 9b: §9.3 rule 3
        (dict(bundle_id="another bundle"), "broken-chain"),     # 9b: §9.3 rule 4
    ],
)
def test_9d_is_not_run_when_any_entry_fails_9a_or_9b(tmp_path, breakage, cls):
    """§11 step 9d: "Only when a and b found no failure for any entry" -- here the
    failing entry is the last one, after the entries that break §9.4."""
    assert classes(tmp_path, bundle(semantics_broken_log(**breakage).data())) == {cls}


def test_9d_is_not_run_when_entry0_fails_9a(tmp_path):
    lg = Log().seal(bad_signature=True).add("transferred", ALICE)
    assert classes(tmp_path, bundle(lg.data())) == {"bad-signature"}


def test_9d_is_not_run_on_a_log_with_an_entry_removed(tmp_path):
    # The transfer removed: the receipt no longer follows a transfer, but the chain is
    # broken (prev), so only broken-chain is reported.
    lg = valid_log()
    del lg.items[1]
    assert classes(tmp_path, bundle(lg.data())) == {"broken-chain"}


def test_seal_mismatch_does_not_prevent_9d(tmp_path):
    """§11 step 9c: "(seal-mismatch from c does not prevent this step.)" The log signs
    another manifest: every entry is seal-mismatch, and §9.4 is still judged."""
    other = Log(manifest=MANIFEST + b"other")
    other.seal().add("transferred", ALICE)
    assert classes(tmp_path, bundle(other.data())) == {"seal-mismatch", "custody-semantics"}
    fine = Log(manifest=MANIFEST + b"other")
    fine.seal().transfer(ALICE, BOB).receive(BOB)
    assert classes(tmp_path, bundle(fine.data())) == {"seal-mismatch"}


def test_seal_mismatch_on_one_entry_does_not_prevent_9d(tmp_path):
    lg = Log().seal().add("transferred", ALICE, manifest_sha256=b"\x11" * 32)
    assert classes(tmp_path, bundle(lg.data())) == {"seal-mismatch", "custody-semantics"}


def test_untrusted_signers_do_not_prevent_9d(tmp_path):
    # Step 10 comes after 9 and does not feed into it.
    data = bundle(semantics_broken_log().data())
    assert classes(tmp_path, data, trust_fingerprints={fp(ALICE)}) == {"untrusted-signer", "custody-semantics"}
    assert classes(tmp_path, data, trust_fingerprints={fp(ALICE), fp(BOB), fp(CAROL)}) == {"custody-semantics"}


# ---------------------------------------------------------------------------
# §9.5 recorded heads, §11 step 11
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("i", [0, 1, 2, 3])
def test_head_of_any_entry_of_the_log_passes(tmp_path, i):
    """§9.5: "the recorded entry, or the log continued after it"."""
    lg = valid_log()
    assert classes(tmp_path, bundle(lg.data()), expect_head=lg.head(i)) == set()


def test_head_of_a_removed_last_entry_is_truncated_custody(tmp_path):
    lg = valid_log()
    head = lg.head()
    del lg.items[-1]
    result = verify(tmp_path, bundle(lg.data()), expect_head=head)
    assert [(f.cls, f.member, f.entry) for f in result.failures] == [("truncated-custody", "custody.cbor", None)]
    # Without the recorded head the shorter log is valid (§9.3).
    assert classes(tmp_path, bundle(lg.data())) == set()


def test_a_fork_is_detected_by_a_head_of_the_other_branch(tmp_path):
    a = Log().seal().transfer(ALICE, BOB).receive(BOB)
    b = Log().seal().transfer(ALICE, BOB).receive(BOB)
    a.annotate(CAROL, note="branch a")
    b.annotate(CAROL, note="branch b")
    assert a.head(2) == b.head(2) and a.head(3) != b.head(3)
    assert classes(tmp_path, bundle(a.data()), expect_head=b.head(3)) == {"truncated-custody"}
    assert classes(tmp_path, bundle(a.data()), expect_head=b.head(2)) == set()


def test_head_is_the_sha256_of_an_entry_s_exact_bytes(tmp_path):
    lg = valid_log()
    data = bundle(lg.data())
    payload = cbor2.loads(lg.items[3]).value[2]
    for not_a_head in (hashlib.sha256(lg.data()).digest(),    # the whole custody.cbor
                       hashlib.sha256(payload).digest(),       # one payload
                       fp(ALICE),                              # a fingerprint
                       b"\x00" * 32):
        assert classes(tmp_path, data, expect_head=not_a_head) == {"truncated-custody"}
    # With a one-entry log the whole file is that entry.
    one = Log().seal()
    assert classes(tmp_path, bundle(one.data()), expect_head=hashlib.sha256(one.data()).digest()) == set()


def test_step11_runs_whatever_steps_9_and_10_found(tmp_path):
    lg = Log().seal().annotate(CAROL, bad_signature=True)
    data = bundle(lg.data())
    assert classes(tmp_path, data, expect_head=lg.head()) == {"bad-signature"}
    assert classes(tmp_path, data, expect_head=b"\x22" * 32) == {"bad-signature", "truncated-custody"}
    broken = Log().seal().annotate(CAROL, seq=5)
    assert classes(tmp_path, bundle(broken.data()), expect_head=b"\x22" * 32) == {"broken-chain",
                                                                                  "truncated-custody"}
    assert classes(tmp_path, bundle(broken.data()), expect_head=broken.head()) == {"broken-chain"}
    sem = semantics_broken_log()
    assert classes(tmp_path, bundle(sem.data()), expect_head=b"\x22" * 32,
                   trust_fingerprints=set()) == {"custody-semantics", "untrusted-signer", "truncated-custody"}


def test_truncated_custody_is_one_failure_for_the_file(tmp_path):
    result = verify(tmp_path, bundle(valid_log().data()), expect_head=b"\x33" * 32)
    assert len(result.failures) == 1 and result.failures[0].member == "custody.cbor"


@pytest.mark.parametrize(
    "custody, cls",
    [
        (b"", "malformed-custody"),                                        # empty log
        (cbor2.dumps([b"", {}, b"", b""]), "malformed-custody"),           # not tagged 18
        (Log().seal().data() + b"\xff", "malformed-custody"),              # not a sequence of items
        (Log().seal().data() + cbor2.dumps(cbor2.CBORTag(18, [b"x" * (64 * 1024), {}, b"", b""])),
         "limit-exceeded"),                                                # an item over 64 KiB
    ],
)
def test_step11_is_skipped_when_the_log_is_malformed(tmp_path, custody, cls):
    """§11 step 9: "... malformed-custody, skip steps 9–11"."""
    assert classes(tmp_path, bundle(custody), expect_head=b"\x44" * 32) == {cls}
    if custody:
        first = hashlib.sha256(Log().seal().items[0]).digest()
        assert classes(tmp_path, bundle(custody), expect_head=first) == {cls}


def test_step11_is_not_run_after_a_stop(tmp_path):
    bad_manifest = cbor2.dumps(tu._manifest(version="1"))
    lg = Log(manifest=bad_manifest).seal()
    assert classes(tmp_path, bundle(lg.data(), manifest=bad_manifest), expect_head=b"\x55" * 32) == {
        "malformed-manifest"}


def test_step11_after_an_unreadable_custody_member(tmp_path):
    """§11 step 9: "Read custody.cbor (corrupt-member: skip steps 9–11)": with no entry
    read, the recorded head is not judged either."""
    lg = Log().seal()
    data = bundle(lg.data(), custody_crc=0x12345678)
    assert classes(tmp_path, data) == {"corrupt-member"}
    assert classes(tmp_path, data, expect_head=lg.head()) == {"corrupt-member"}


def test_parse_recorded_head():
    h = "e5c7ff92c246977d826f41b33812f1a2c6b707fbd6f78a9512b7adfe00b3c95d"
    assert vb.parse_recorded_head(h) == bytes.fromhex(h)
    assert vb.parse_recorded_head(h.upper()) == bytes.fromhex(h)
    for bad in (h[:-1], h + "0", " " + h, h + "\n", "g" + h[1:], "", "0x" + h[2:]):
        with pytest.raises(ValueError):
            vb.parse_recorded_head(bad)


def test_verify_file_rejects_a_head_of_the_wrong_length(tmp_path):
    with pytest.raises(ValueError):
        verify(tmp_path, bundle(valid_log().data()), expect_head=b"\x00" * 31)


def test_cli_expect_head(tmp_path, capsys):
    lg = valid_log()
    path = tmp_path / "bundle.zip"
    path.write_bytes(bundle(lg.data()))
    assert vb.main(["--expect-head", lg.head(1).hex(), str(path)]) == 0
    capsys.readouterr()
    assert vb.main(["--expect-head", lg.head(1).hex().upper(), str(path)]) == 0
    capsys.readouterr()
    assert vb.main(["--json", "--expect-head", "ab" * 32, str(path)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [(f["class"], f["member"]) for f in report["failures"]] == [("truncated-custody", "custody.cbor")]
    assert vb.main(["--expect-head", "abc", str(path)]) == 2
    assert "--expect-head" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# The Rust verifier on the same bundles (when FORENSIC_BIN is set)
# ---------------------------------------------------------------------------


def _cases() -> dict[str, tuple[bytes, Optional[bytes], set[str]]]:
    """name -> (bundle, recorded head or None, the classes this verifier reports)."""
    v = valid_log()
    cut = valid_log()
    del cut.items[-1]
    cases = {
        "valid": (bundle(v.data()), None, set()),
        "in-transit": (bundle(Log().seal().transfer(ALICE, BOB).data()), None, set()),
        "seal-exactly-300s-before-created": (bundle(Log().seal(time=at(-T)).data()), None, set()),
        "seal-300s-and-1ns-before-created": (bundle(Log().seal(time=at(-T - 1)).data()), None,
                                             {"custody-semantics"}),
        "entry-exactly-300s-back": (bundle(Log().seal(time=at(T)).annotate(BOB, time=at(0)).data()), None, set()),
        "entry-300s-and-1ns-back": (bundle(Log().seal(time=at(T)).annotate(BOB, time=at(-1)).data()), None,
                                    {"custody-semantics"}),
        "year-boundary-exactly-300s": (
            bundle(Log().seal(time="2027-01-01T00:00:00.000000000Z")
                   .annotate(BOB, time="2026-12-31T23:55:00.000000000Z").data()), None, set()),
        "transfer-no-recipient-then-receipt": (
            bundle(Log().seal().add("transferred", ALICE).receive(BOB).data()), None, {"custody-semantics"}),
        "recipient-is-raw-key": (
            bundle(Log().seal().add("transferred", ALICE, recipient_bytes=raw(BOB))
                   .receive(BOB).data()), None, {"custody-semantics"}),
        "receipt-by-wrong-key-who-then-transfers": (
            bundle(Log().seal().transfer(ALICE, BOB).receive(CAROL).transfer(CAROL, DAVE).receive(DAVE).data()),
            None, {"custody-semantics"}),
        "unknown-action-keeps-custody": (
            bundle(Log().seal().add("witnessed", CAROL).transfer(ALICE, BOB).receive(BOB).data()), None, set()),
        "self-transfer": (bundle(Log().seal().transfer(ALICE, ALICE).receive(ALICE).data()), None, set()),
        "semantics-and-bad-signature": (bundle(semantics_broken_log(bad_signature=True).data()), None,
                                        {"bad-signature"}),
        # §9.4 names only "§9.2 or §9.3 rules 1–4"; §11 step 9a also counts §9.3 rule 6.
        "semantics-and-wrong-kid": (bundle(semantics_broken_log(kid=b"\x00" * 32).data()), None,
                                    {"bad-signature"}),
        "semantics-and-broken-chain": (bundle(semantics_broken_log(seq=9).data()), None, {"broken-chain"}),
        "semantics-and-seal-mismatch": (
            bundle(Log(manifest=MANIFEST + b"x").seal().add("transferred", ALICE).data()), None,
            {"seal-mismatch", "custody-semantics"}),
        "head-earlier-entry": (bundle(v.data()), v.head(0), set()),
        "head-removed-entry": (bundle(cut.data()), v.head(), {"truncated-custody"}),
        "head-with-bad-signature": (bundle(Log().seal().annotate(CAROL, bad_signature=True).data()), b"\x22" * 32,
                                    {"bad-signature", "truncated-custody"}),
        "head-with-malformed-log": (bundle(cbor2.dumps([1])), b"\x22" * 32, {"malformed-custody"}),
        "head-with-corrupt-custody": (bundle(Log().seal().data(), custody_crc=0x12345678), Log().seal().head(),
                                      {"corrupt-member"}),
    }
    return cases


CASES = _cases()
# Cases where this verifier's reading of the spec and the Rust verifier are known to
# differ; each is a question for the spec (see its test above).
DISPUTED: dict[str, str] = {}


@pytest.mark.parametrize("name", sorted(CASES))
def test_python_cases(tmp_path, name):
    data, head, want = CASES[name]
    assert classes(tmp_path, data, expect_head=head) == want


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.xfail(reason=DISPUTED[n], strict=True)) if n in DISPUTED else n
    for n in sorted(CASES)
])
def test_rust_agrees(tmp_path, name):
    binary = os.environ.get("FORENSIC_BIN")
    if not binary:
        pytest.skip("FORENSIC_BIN is not set")
    data, head, want = CASES[name]
    path = tmp_path / f"{name}.zip"
    path.write_bytes(data)
    cmd = [binary, "verify", "--json"] + (["--expect-head", head.hex()] if head else []) + [str(path)]
    proc = subprocess.run(cmd, capture_output=True, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr.decode(errors="replace")
    rust = {f["class"] for f in json.loads(proc.stdout)["failures"]}
    assert rust == want, f"Rust reported {sorted(rust)}, this verifier {sorted(want)}"
