"""Unit tests for the pieces of verify_bundle.py that need no test vectors."""

from __future__ import annotations

import hashlib
import io
import json
import re
import struct
import sys
import tracemalloc
import zipfile
import zlib
from pathlib import Path
from typing import Optional

import cbor2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import verify_bundle as vb  # noqa: E402

SPEC = HERE.parents[1] / "format-spec" / "SPEC.md"


# ---------------------------------------------------------------------------
# CBOR walker: RFC 8949 under the profile of §6
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        0, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**64 - 1, -1, -24, -25, -(2**64),
        b"", b"x" * 23, b"x" * 24, b"x" * 300, "", "héllo ✓", [], [1, [2, [3]]], {"a": 1, "b": [b"x"]},
        {1: -8, 4: b"\0" * 32}, True, False, None,
    ],
)
def test_walker_length_matches_cbor2_encoding(value):
    # cbor2 writes preferred (shortest) serialization, so all of these are in the profile.
    data = cbor2.dumps(value)
    assert vb.cbor_item_length(data + b"\x00\x01", 0) == len(data)


def test_walker_allows_only_the_root_tag_18_when_asked():
    entry = cbor2.dumps(cbor2.CBORTag(18, [b"\xa0", {}, b"\xa0", b"s" * 64]))
    assert vb.cbor_item_length(entry, root_tag=18) == len(entry)
    value = vb.cbor_decode(entry, root_tag=18)
    assert isinstance(value, vb.Tag) and value.number == 18
    with pytest.raises(vb.CborError, match="tag"):
        vb.cbor_item_length(entry)  # manifest, protected header, payload: no tags at all


@pytest.mark.parametrize(
    "data",
    [
        "c249010000000000000000",  # tag 2 bignum: cbor2 would hand back an int
        "c11a5f5e1000",            # tag 1 epoch time
        "d82000",                  # tag 32
        "81d28400a0404100",        # tag 18 below the root
        "d2d28400a0404100",        # tag 18 inside the root tag 18
        "a16161d201",              # a tag in a map value
    ],
)
def test_walker_rejects_tags_other_than_the_root_18(data):
    with pytest.raises(vb.CborError, match="tag"):
        vb.cbor_item_length(bytes.fromhex(data), root_tag=18)


@pytest.mark.parametrize(
    "data",
    [
        "1817", "1900ff", "1a0000ffff", "1b00000000ffffffff",   # uint
        "3817", "3900ff", "3a0000ffff", "3b00000000ffffffff",   # negative int
        "5800", "590001" + "61", "5a00000001" + "61",           # bstr length
        "7800", "790001" + "61",                                # tstr length
        "9800", "990000", "9a00000000", "9b0000000000000000",   # array length
        "b800", "b90000",                                       # map length
        "a1" + "780161" + "01",                                 # a map key in a long head
        "d81284" + "40a0" + "4040",                             # tag 18 in two bytes, at the root
    ],
)
def test_walker_rejects_non_shortest_heads(data):
    with pytest.raises(vb.CborError, match="non-shortest"):
        vb.cbor_item_length(bytes.fromhex(data), root_tag=18)


@pytest.mark.parametrize("data", ["1818", "18ff", "190100", "19ffff", "1a00010000", "1b0000000100000000",
                                  "3818", "5818" + "61" * 24, "9818" + "00" * 24])
def test_walker_accepts_shortest_heads_at_the_boundaries(data):
    raw = bytes.fromhex(data)
    assert vb.cbor_item_length(raw) == len(raw)


@pytest.mark.parametrize(
    "data, what",
    [
        ("f93c00", "floating"),         # half float 1.0
        ("fa3fc00000", "floating"),     # single float 1.5
        ("fb3ff8000000000000", "floating"),
        ("f7", "simple"),               # undefined
        ("e0", "simple"),               # simple(0)
        ("f3", "simple"),               # simple(19)
        ("f820", "simple"),             # simple(32), two-byte form
        ("f814", "simple"),             # simple(20) in the (ill-formed) two-byte form
        ("ff", "break"),                # lone break
    ],
)
def test_walker_rejects_floats_and_other_simple_values(data, what):
    with pytest.raises(vb.CborError, match=what):
        vb.cbor_item_length(bytes.fromhex(data))


def test_walker_false_true_null():
    assert vb.cbor_decode(b"\xf4") is False
    assert vb.cbor_decode(b"\xf5") is True
    assert vb.cbor_decode(b"\xf6") is None
    assert not vb.is_uint(True) and not vb.is_int(False)  # booleans are not integers


@pytest.mark.parametrize(
    "data",
    [
        "a2616101616102",          # {"a": 1, "a": 2}
        "a201010102",              # {1: 1, 1: 2}
        "a2f500f501",              # {true: 0, true: 1}
        "a2820102008201020 1",     # {[1, 2]: 0, [1, 2]: 1}
        "81a2616101616102",        # duplicate inside a nested map
    ],
)
def test_walker_rejects_duplicate_keys(data):
    with pytest.raises(vb.CborError, match="duplicate"):
        vb.cbor_item_length(bytes.fromhex(data.replace(" ", "")))


def test_walker_accepts_distinct_keys_of_different_types():
    # 1, -1, "1", h'01', [1] and true are six different keys
    data = cbor2.dumps({1: 0, -1: 0, "1": 0, b"\x01": 0, (1,): 0, True: 0})
    assert vb.cbor_item_length(data) == len(data)


@pytest.mark.parametrize(
    "data",
    [
        bytes.fromhex("9f01ff"),      # indefinite array
        bytes.fromhex("bf616101ff"),  # indefinite map
        bytes.fromhex("5f4101ff"),    # indefinite byte string
        bytes.fromhex("7f6161ff"),    # indefinite text string
    ],
)
def test_walker_rejects_indefinite_lengths(data):
    with pytest.raises(vb.CborError, match="indefinite"):
        vb.cbor_item_length(data)


def test_walker_depth_16_ok_17_rejected():
    sixteen = b"\x81" * 15 + b"\x80"  # 16 nested arrays
    assert vb.cbor_item_length(sixteen) == 16
    with pytest.raises(vb.CborError, match="nesting"):
        vb.cbor_item_length(b"\x81" + sixteen)
    # maps count one level each
    assert vb.cbor_item_length(b"\xa1\x00" * 15 + b"\x80") == 31
    with pytest.raises(vb.CborError, match="nesting"):
        vb.cbor_item_length(b"\xa1\x00" * 16 + b"\x80")
    # and so does the root tag of a custody item
    assert vb.cbor_item_length(b"\xd2" + b"\x81" * 14 + b"\x80", root_tag=18) == 16
    with pytest.raises(vb.CborError, match="nesting"):
        vb.cbor_item_length(b"\xd2" + sixteen, root_tag=18)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        bytes.fromhex("19"),          # uint with a missing 2-byte argument
        bytes.fromhex("1a0000"),      # uint with a short 4-byte argument
        bytes.fromhex("43aabb"),      # 3-byte bstr with 2 bytes
        bytes.fromhex("8201"),        # array of 2 with 1 item
        bytes.fromhex("a16161"),      # map missing its value
        bytes.fromhex("d2"),          # root tag without content
    ],
)
def test_walker_rejects_truncated_input(data):
    with pytest.raises(vb.CborError, match="truncated"):
        vb.cbor_item_length(data, root_tag=18)


@pytest.mark.parametrize(
    "data",
    [
        b"\x5b" + b"\xff" * 8 + b"abc",   # bstr of 2^64-1 bytes
        b"\x7b" + b"\x7f" * 8 + b"abc",   # tstr of ~2^63 bytes
        b"\x9b" + b"\xff" * 8 + b"\x00",  # array of 2^64-1 items
        b"\xbb" + b"\xff" * 8 + b"\x00",  # map of 2^64-1 pairs
    ],
)
def test_walker_huge_declared_length_does_not_allocate(data):
    tracemalloc.start()
    try:
        with pytest.raises(vb.CborError, match="truncated"):
            vb.cbor_item_length(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, f"peak allocation {peak} bytes"


@pytest.mark.parametrize(
    "data, what",
    [
        (bytes.fromhex("62c328"), "UTF-8"),        # invalid UTF-8
        (bytes.fromhex("63eda080"), "UTF-8"),      # encoded surrogate
        (bytes.fromhex("1c"), "reserved"),         # additional info 28
        (bytes.fromhex("fc"), "reserved"),         # major 7, additional info 28
    ],
)
def test_walker_rejects_other_ill_formed_items(data, what):
    with pytest.raises(vb.CborError, match=what):
        vb.cbor_item_length(data)


def test_cbor_decode_rejects_trailing_bytes():
    with pytest.raises(vb.CborError, match="trailing"):
        vb.cbor_decode(b"\x01\x02")


def test_split_sequence_gives_exact_item_bytes():
    a = cbor2.dumps(cbor2.CBORTag(18, [b"\xa0", {}, b"\x01", b"s" * 64]))
    b = cbor2.dumps(cbor2.CBORTag(18, [b"\xa0", {}, b"\x02", b"t" * 64]))
    items = vb.cbor_split_sequence(a + b, root_tag=18)
    assert [(off, raw) for off, raw, _ in items] == [(0, a), (len(a), b)]
    with pytest.raises(vb.SequenceItemError) as err:
        vb.cbor_split_sequence(a + b[:-1], root_tag=18)
    assert err.value.index == 1
    with pytest.raises(vb.SequenceItemError, match="non-shortest"):
        vb.cbor_split_sequence(a + b"\x19\x00\x05", root_tag=18)


def test_split_sequence_limits():
    with pytest.raises(vb.LimitError):
        vb.cbor_split_sequence(b"\x00" * 4, max_items=3)
    assert len(vb.cbor_split_sequence(b"\x00" * 3, max_items=3)) == 3
    big = cbor2.dumps(b"x" * 100)
    with pytest.raises(vb.LimitError):
        vb.cbor_split_sequence(big, max_item_len=len(big) - 1)
    assert len(vb.cbor_split_sequence(big, max_item_len=len(big))) == 1


def test_split_sequence_checks_each_item_in_the_order_of_section_10():
    # For item i: i ≥ max_items first, then well-formedness, then size.
    with pytest.raises(vb.LimitError):  # item 3 is ill-formed, but there is no room for it
        vb.cbor_split_sequence(b"\x00" * 3 + b"\xff", max_items=3)
    big = cbor2.dumps(b"x" * 100)
    with pytest.raises(vb.SequenceItemError):  # too big and ill-formed: ill-formed
        vb.cbor_split_sequence(b"\x94" + b"\x00" * 19 + b"\xf7", max_item_len=10)
    with pytest.raises(vb.SequenceItemError):  # item 0 ill-formed, item 1 too big
        vb.cbor_split_sequence(b"\xf7" + big, max_item_len=10)
    with pytest.raises(vb.LimitError):  # item 0 too big, item 1 ill-formed
        vb.cbor_split_sequence(big + b"\xf7", max_item_len=10)


# ---------------------------------------------------------------------------
# Times (§5)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "s",
    [
        "2026-11-29T07:27:29.123456789Z",
        "2024-02-29T00:00:00.000000000Z",
        "2000-02-29T23:59:59.999999999Z",
        "1970-01-01T00:00:00.000000000Z",
        "9999-12-31T23:59:59.999999999Z",
    ],
)
def test_valid_times(s):
    assert vb.is_valid_time(s)


@pytest.mark.parametrize(
    "s",
    [
        "2026-11-29T07:27:29.12345678Z",     # 8 fraction digits
        "2026-11-29T07:27:29.1234567890Z",   # 10
        "2026-11-29T07:27:29Z",              # no fraction
        "2026-11-29t07:27:29.123456789Z",    # lower-case t
        "2026-11-29T07:27:29.123456789z",    # lower-case z
        "2026-11-29T07:27:29.123456789+00:00",
        "2026-11-29 07:27:29.123456789Z",
        "2026-11-29T07:27:29.123456789Z\n",  # trailing newline
        " 2026-11-29T07:27:29.123456789Z",
        "2023-02-29T00:00:00.000000000Z",    # not a leap year
        "1900-02-29T00:00:00.000000000Z",    # century, not a leap year
        "2026-04-31T00:00:00.000000000Z",
        "2026-13-01T00:00:00.000000000Z",
        "2026-00-01T00:00:00.000000000Z",
        "2026-01-00T00:00:00.000000000Z",
        "2026-01-01T24:00:00.000000000Z",
        "2026-01-01T00:60:00.000000000Z",
        "2026-12-31T23:59:60.000000000Z",    # leap second
        "２026-01-01T00:00:00.000000000Z",   # non-ASCII digit
        "20261-01-01T00:00:00.000000000Z",
        "",
    ],
)
def test_invalid_times(s):
    assert not vb.is_valid_time(s)


def test_time_must_be_text():
    assert not vb.is_valid_time(b"2026-11-29T07:27:29.123456789Z")
    assert not vb.is_valid_time(None)


# ---------------------------------------------------------------------------
# Member names (§3)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mimetype", "1-processes/ps.txt", "5-filesystem/a/b c/%2E%2E", "9-image/café",
                                  "x" * 1024,
                                  # §3 (1.0.1): C1 controls, U+2028, U+FEFF are valid; so is a name
                                  # under no section prefix (the prefix is judged by §11 step 6)
                                  "1-processes/a\x85b", "1-processes/a\u2028b", "1-processes/\ufeffx", "notes.txt"])
def test_valid_names(name):
    assert vb.name_problem(name) is None


@pytest.mark.parametrize("name", ["", "/a", "a/", "a//b", "a/./b", "a/../b", ".", "..", "a\\b", "a\x00b",
                                  "a\x1fb", "a\x7fb", "a\nb", "é" * 513])
def test_invalid_names(name):
    assert vb.name_problem(name) is not None


# ---------------------------------------------------------------------------
# Keys and fingerprints (§8)
# ---------------------------------------------------------------------------

RFC8032_TEST1_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")


def test_fingerprint_of_rfc8032_test1_key(tmp_path):
    spki = bytes.fromhex("302a300506032b6570032100") + RFC8032_TEST1_PUBLIC
    expected = hashlib.sha256(spki).digest()
    assert vb.fingerprint_of_raw_key(RFC8032_TEST1_PUBLIC) == expected
    # The same through a PEM file, as --trust reads it.
    pem = Ed25519PublicKey.from_public_bytes(RFC8032_TEST1_PUBLIC).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    (tmp_path / "test1.pub").write_bytes(pem)
    assert vb.load_public_key_file(tmp_path / "test1.pub") == expected


def test_load_trust_from_directory(tmp_path):
    keys = [Ed25519PrivateKey.generate().public_key() for _ in range(2)]
    for i, k in enumerate(keys):
        (tmp_path / f"k{i}.pub").write_bytes(
            k.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    (tmp_path / "notes.txt").write_text("not a key, ignored")
    raw = [k.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw) for k in keys]
    assert vb.load_trust([tmp_path]) == {vb.fingerprint_of_raw_key(r) for r in raw}


def test_load_trust_rejects_non_ed25519_and_missing(tmp_path):
    from cryptography.hazmat.primitives.asymmetric import ec

    k = ec.generate_private_key(ec.SECP256R1()).public_key()
    (tmp_path / "ec.pub").write_bytes(
        k.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    with pytest.raises(vb.CannotRun):
        vb.load_trust([tmp_path / "ec.pub"])
    with pytest.raises(vb.CannotRun):
        vb.load_trust([tmp_path / "missing.pub"])


# ---------------------------------------------------------------------------
# Signatures (§9.2)
# ---------------------------------------------------------------------------


def test_sig_structure_encoding():
    # ["Signature1", h'a0', h'', h'01'] in definite, shortest form
    assert vb.sig_structure(b"\xa0", b"\x01") == bytes.fromhex("846a5369676e61747572653141a0404101")
    long_payload = b"p" * 300
    assert vb.sig_structure(b"", long_payload).endswith(b"\x59\x01\x2c" + long_payload)


def test_canonical_signature_check():
    sk = Ed25519PrivateKey.generate()
    sig = sk.sign(b"msg")
    assert vb.is_canonical_signature(sig)
    s = int.from_bytes(sig[32:], "little")
    assert not vb.is_canonical_signature(sig[:32] + (s + vb.ED25519_L).to_bytes(32, "little"))
    assert not vb.is_canonical_signature(sig[:32] + vb.ED25519_L.to_bytes(32, "little"))
    assert vb.is_canonical_signature(sig[:32] + (vb.ED25519_L - 1).to_bytes(32, "little"))
    assert not vb.is_canonical_signature(sig[:63])


IDENTITY = b"\x01" + b"\x00" * 31
# The eight points of small order, canonically encoded (orders 1, 2, 4, 4, 8, 8, 8, 8).
SMALL_ORDER_ENCODINGS = [
    IDENTITY,
    bytes.fromhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    bytes.fromhex("0000000000000000000000000000000000000000000000000000000000000000"),
    bytes.fromhex("0000000000000000000000000000000000000000000000000000000000000080"),
    bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
    bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85"),
    bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
    bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"),
]
BASE_POINT = bytes.fromhex("5866666666666666666666666666666666666666666666666666666666666666")


def _raw_public(sk: Ed25519PrivateKey) -> bytes:
    return sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _openssl_accepts(public_key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        return True
    except Exception:
        return False


@pytest.mark.parametrize("encoding", SMALL_ORDER_ENCODINGS)
def test_small_order_points(encoding):
    point = vb.ed25519_decode_point(encoding)
    assert point is not None
    assert vb.ed25519_is_small_order(point)


def test_exactly_eight_small_order_points_and_the_order_of_each():
    points = [vb.ed25519_decode_point(e) for e in SMALL_ORDER_ENCODINGS]
    assert len({(x, y) for x, y, _, _ in points}) == 8

    def order(pt):  # smallest 2^k with 2^k·P = identity
        for k in range(4):
            x, y, z, _ = pt
            if x == 0 and y == z:
                return 1 << k
            pt = vb._ed25519_double(pt)
        return None

    assert sorted(order(p) for p in points) == [1, 2, 4, 4, 8, 8, 8, 8]


def test_ordinary_points_are_not_small_order():
    assert not vb.ed25519_is_small_order(vb.ed25519_decode_point(BASE_POINT))
    for _ in range(4):
        pub = _raw_public(Ed25519PrivateKey.generate())
        assert not vb.ed25519_is_small_order(vb.ed25519_decode_point(pub))
    assert not vb.ed25519_is_small_order(vb.ed25519_decode_point(RFC8032_TEST1_PUBLIC))


def test_non_canonical_encodings_do_not_decode():
    # y ≥ p: the 19 values p .. 2^255-1, with either sign bit; this covers the
    # non-canonical forms of the small-order points (y = 0, 1, p-1 ... mod p).
    p = vb.ED25519_P
    for y in range(p, 1 << 255):
        for sign in (0, 1):
            enc = (y | (sign << 255)).to_bytes(32, "little")
            assert vb.ed25519_decode_point(enc) is None, enc.hex()
    # x = 0 with the sign bit set: the identity and the point of order 2, "negated".
    assert vb.ed25519_decode_point(b"\x01" + b"\x00" * 30 + b"\x80") is None
    assert vb.ed25519_decode_point(bytes.fromhex("ec" + "ff" * 30 + "ff")) is None
    # y with no x on the curve (y = 2 has none)
    assert vb.ed25519_decode_point(b"\x02" + b"\x00" * 31) is None
    assert vb.ed25519_decode_point(b"\x01" * 31) is None  # wrong length


def test_decode_matches_openssl_on_real_keys():
    # Decoding a real public key and re-encoding it gives the same bytes.
    for _ in range(8):
        pub = _raw_public(Ed25519PrivateKey.generate())
        x, y, z, _ = vb.ed25519_decode_point(pub)
        assert z == 1 and (y | ((x & 1) << 255)).to_bytes(32, "little") == pub


def test_verify_strict_accepts_a_good_signature():
    sk = Ed25519PrivateKey.generate()
    assert vb.ed25519_verify_strict(_raw_public(sk), sk.sign(b"msg"), b"msg") is None
    assert vb.ed25519_verify_strict(_raw_public(sk), sk.sign(b"msg"), b"other") is not None


def test_identity_key_with_identity_r_and_zero_s_is_rejected():
    """§9.2: A = R = identity, S = 0 satisfies the cofactorless equation for every
    message ([0]B = identity = R + [k]A). OpenSSL (through cryptography) accepts it;
    the verifier must not."""
    signature = IDENTITY + b"\x00" * 32
    for message in (b"", b"any message", vb.sig_structure(b"\xa0", b"\xa0")):
        assert vb.ed25519_verify_strict(IDENTITY, signature, message) == "actor.key is a point of small order"


def test_openssl_alone_accepts_the_identity_key():
    # Documents why §9.2's extra checks are made here: not a requirement on OpenSSL.
    if not _openssl_accepts(IDENTITY, IDENTITY + b"\x00" * 32, b"any message"):
        pytest.skip("this OpenSSL rejects the identity key by itself")
    assert vb.ed25519_verify_strict(IDENTITY, IDENTITY + b"\x00" * 32, b"any message") is not None


def _clamped_scalar(sk: Ed25519PrivateKey) -> int:
    seed = sk.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    h = bytearray(hashlib.sha512(seed).digest()[:32])
    h[0] &= 248
    h[31] &= 127
    h[31] |= 64
    return int.from_bytes(h, "little")


def test_small_order_r_is_rejected():
    """With the private key one can make R = identity, S = k·a: the cofactorless
    equation holds ([S]B = [k]A = R + [k]A), so OpenSSL accepts; §9.2 does not."""
    sk = Ed25519PrivateKey.generate()
    pub = _raw_public(sk)
    message = b"small-order R"
    k = int.from_bytes(hashlib.sha512(IDENTITY + pub + message).digest(), "little") % vb.ED25519_L
    signature = IDENTITY + (k * _clamped_scalar(sk) % vb.ED25519_L).to_bytes(32, "little")
    assert _openssl_accepts(pub, signature, message)  # the forgery is a valid RFC 8032 signature
    assert vb.ed25519_verify_strict(pub, signature, message) == "signature R is a point of small order"


def test_verify_strict_rejects_bad_encodings_and_large_s():
    sk = Ed25519PrivateKey.generate()
    pub, sig = _raw_public(sk), sk.sign(b"m")
    s = int.from_bytes(sig[32:], "little")
    assert "S >= L" in vb.ed25519_verify_strict(pub, sig[:32] + (s + vb.ED25519_L).to_bytes(32, "little"), b"m")
    assert "not a valid" in vb.ed25519_verify_strict(b"\x02" + b"\x00" * 31, sig, b"m")
    non_canonical_r = (vb.ED25519_P + 1).to_bytes(32, "little")  # identity, y = p + 1
    assert "R is not a valid" in vb.ed25519_verify_strict(pub, non_canonical_r + sig[32:], b"m")


# ---------------------------------------------------------------------------
# SHA256SUMS (§7)
# ---------------------------------------------------------------------------

D1 = "ab" * 32
D2 = "0f" * 32


def test_sums_parse_valid():
    text = f"{D1}  1-processes/ps.txt\n{D2}  manifest.cbor\n".encode()
    assert vb.parse_sha256sums(text) == [(D1, "1-processes/ps.txt"), (D2, "manifest.cbor")]
    assert vb.parse_sha256sums(f"{D1}  5-filesystem/a b/café\n".encode()) == [(D1, "5-filesystem/a b/café")]


@pytest.mark.parametrize(
    "text",
    [
        f"{D1}  a\n{D2}  manifest.cbor".encode(),          # no final LF
        f"{D1}  a\r\n".encode(),                          # CRLF
        f"{D1.upper()}  a\n".encode(),                    # upper-case hex
        f"{D1} a\n".encode(),                             # one space
        f"{D1} *a\n".encode(),                            # binary-mode marker
        f"\\{D1}  a\\\\b\n".encode(),                     # sha256sum backslash escaping
        b"\xef\xbb\xbf" + f"{D1}  a\n".encode(),           # BOM
        f"{D1}  a\n\n".encode(),                          # blank line
        f"# comment\n{D1}  a\n".encode(),                 # comment
        f"{D1[:-1]}  a\n".encode(),                       # 63 digits
        f"{D1}  \n".encode(),                             # empty name
        f"{D1}  a/../b\n".encode(),                       # invalid member name
        f"{D1}  ".encode() + b"\xff\n",                   # name not UTF-8
    ],
)
def test_sums_parse_rejects(text):
    with pytest.raises(ValueError):
        vb.parse_sha256sums(text)


def test_expected_sums_text():
    text = vb.expected_sha256sums([("1-processes/ps.txt", bytes.fromhex(D1))], bytes.fromhex(D2))
    assert text == f"{D1}  1-processes/ps.txt\n{D2}  manifest.cbor\n".encode()
    assert vb.parse_sha256sums(text) == [(D1, "1-processes/ps.txt"), (D2, "manifest.cbor")]


# ---------------------------------------------------------------------------
# ZIP container checks (§2.1) on small archives made with Python's zipfile
# ---------------------------------------------------------------------------


def _zip(seekable=True, **kw) -> bytes:
    buf = io.BytesIO()

    class Unseekable(io.RawIOBase):  # forces zipfile to use data descriptors (flag bit 3)
        def writable(self):
            return True

        def write(self, b):
            return buf.write(b)

    target = buf if seekable else Unseekable()
    with zipfile.ZipFile(target, "w", **kw) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), vb.MIMETYPE_CONTENT)
        z.writestr("1-processes/a", b"hello " * 100, compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def _container(data: bytes):
    return vb.read_container(io.BytesIO(data), len(data))


def test_container_accepts_plain_zip():
    members = _container(_zip())
    assert [m.name for m in members] == ["mimetype", "1-processes/a"]
    data = _zip()
    length, digest, content = vb.stream_member(io.BytesIO(data), members[1], keep=True)
    assert content == b"hello " * 100 and digest == hashlib.sha256(content).digest()


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: b"X" + d,                                                  # prepended
        lambda d: d + b"X",                                                  # appended
        lambda d: d[:-2] + b"\x02\x00hi",                                    # archive comment
        lambda d: d[:-22],                                                   # no EOCD
    ],
)
def test_container_rejects(mutate):
    with pytest.raises(vb.ContainerError):
        _container(mutate(_zip()))


def test_container_rejects_data_descriptor():
    with pytest.raises(vb.ContainerError, match="flag"):
        _container(_zip(seekable=False))


def test_container_member_count_limit_before_parsing():
    data = bytearray(_zip())
    # claim 70,000 entries through a hand-made Zip64 EOCD: the count is checked first
    eocd = data[-22:]
    cd_size, cd_offset = struct.unpack_from("<II", eocd, 12)
    z64 = struct.pack("<IQHHIIQQQQ", vb.SIG_ZIP64_EOCD, 44, 45, 45, 0, 0, 70000, 70000, cd_size, cd_offset)
    loc = struct.pack("<IIQI", vb.SIG_ZIP64_LOCATOR, 0, len(data) - 22, 1)
    new_eocd = struct.pack("<IHHHHIIH", vb.SIG_EOCD, 0, 0, 0xFFFF, 0xFFFF, cd_size, cd_offset, 0)
    with pytest.raises(vb.LimitError):
        _container(bytes(data[:-22]) + z64 + loc + new_eocd)


def test_stream_member_detects_crc_and_size():
    data = _zip()
    members = _container(data)
    m = members[1]
    bad_crc = vb.ZipMember(m.index, m.name, m.flags, m.method, m.crc ^ 1, m.csize, m.usize, 0, m.data_offset)
    with pytest.raises(vb.CorruptMember, match="CRC"):
        vb.stream_member(io.BytesIO(data), bad_crc)
    short = vb.ZipMember(m.index, m.name, m.flags, m.method, m.crc, m.csize, m.usize - 1, 0, m.data_offset)
    with pytest.raises(vb.CorruptMember, match="past its declared size"):
        vb.stream_member(io.BytesIO(data), short)
    long = vb.ZipMember(m.index, m.name, m.flags, m.method, m.crc, m.csize, m.usize + 1, 0, m.data_offset)
    with pytest.raises(vb.CorruptMember):
        vb.stream_member(io.BytesIO(data), long)


# ---------------------------------------------------------------------------
# ZIP container checks (§2.1, §11 step 1) on archives built byte by byte
# ---------------------------------------------------------------------------


def _deflate(data: bytes, final: bool = True) -> bytes:
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    return co.compress(data) + co.flush(zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH)


def _entry(name: str, content: bytes, method: int = 0, **kw) -> dict:
    """One member for ``_build_zip``. Keyword overrides: comp (the data as written),
    usize, crc, flags, lextra/cextra (extra areas), comment, disk (disk number start),
    c_usize/c_csize/c_offset (raw central fields), l_usize/l_csize (raw local fields),
    l_name (local header name)."""
    e = dict(name=name.encode(), comp=content if method == 0 else _deflate(content), method=method,
             crc=zlib.crc32(content), usize=len(content), flags=0, lextra=b"", cextra=b"", comment=b"",
             disk=0, c_usize=None, c_csize=None, c_offset=None, l_usize=None, l_csize=None, l_name=None)
    e.update(kw)
    return e


def _z64(*values: int) -> bytes:
    """A Zip64 extra block holding the given 8-byte values."""
    return struct.pack("<HH", 1, 8 * len(values)) + b"".join(struct.pack("<Q", v) for v in values)


def _z64_raw(data: bytes) -> bytes:
    """A Zip64 extra block with the given data."""
    return struct.pack("<HH", 1, len(data)) + data


def _build_zip(entries, *, zip64=False, eocd=None, z64=None, loc=None, z64_tail=b"") -> bytes:
    """A ZIP file per §2.1 (or not, through the overrides)."""
    out = bytearray()
    offsets = []
    for e in entries:
        offsets.append(len(out))
        lname = e["l_name"] if e["l_name"] is not None else e["name"]
        lc = e["l_csize"] if e["l_csize"] is not None else len(e["comp"])
        lu = e["l_usize"] if e["l_usize"] is not None else e["usize"]
        out += struct.pack("<IHHHHHIIIHH", vb.SIG_LOCAL, 20, e["flags"], e["method"], 0, 0x21, e["crc"],
                           lc, lu, len(lname), len(e["lextra"]))
        out += lname + e["lextra"] + e["comp"]
    cd_offset = len(out)
    for e, off in zip(entries, offsets):
        cc = e["c_csize"] if e["c_csize"] is not None else len(e["comp"])
        cu = e["c_usize"] if e["c_usize"] is not None else e["usize"]
        co = e["c_offset"] if e["c_offset"] is not None else off
        out += struct.pack("<IHHHHHHIIIHHHHHII", vb.SIG_CENTRAL, 0x031E, 20, e["flags"], e["method"], 0, 0x21,
                           e["crc"], cc, cu, len(e["name"]), len(e["cextra"]), len(e["comment"]), e["disk"], 0,
                           0o100644 << 16, co)
        out += e["name"] + e["cextra"] + e["comment"]
    n = len(entries)
    fields = dict(disk=0, cd_disk=0, n_disk=n, n_total=n, cd_size=len(out) - cd_offset, cd_offset=cd_offset)
    if zip64:
        z = dict(fields, size=44)
        z.update(z64 or {})
        z_offset = len(out)
        out += struct.pack("<IQHHIIQQQQ", vb.SIG_ZIP64_EOCD, z["size"], 45, 45, z["disk"], z["cd_disk"],
                           z["n_disk"], z["n_total"], z["cd_size"], z["cd_offset"]) + z64_tail
        lo = dict(disk=0, offset=z_offset, total=1)
        lo.update(loc or {})
        out += struct.pack("<IIQI", vb.SIG_ZIP64_LOCATOR, lo["disk"], lo["offset"], lo["total"])
    ef = dict(fields)
    ef.update(eocd or {})
    out += struct.pack("<IHHHHIIH", vb.SIG_EOCD, ef["disk"], ef["cd_disk"], ef["n_disk"], ef["n_total"],
                       ef["cd_size"], ef["cd_offset"], 0)
    return bytes(out)


def _two(**kw_second) -> list[dict]:
    return [_entry("mimetype", vb.MIMETYPE_CONTENT), _entry("1-processes/a", b"hello " * 100, 8, **kw_second)]


# The EOCD fields the Zip64 record is authoritative for (§2.1 item 2), all saturated.
# The two disk numbers are not among them: they are 0, always.
SATURATED_EOCD = dict(n_disk=0xFFFF, n_total=0xFFFF, cd_size=0xFFFFFFFF, cd_offset=0xFFFFFFFF)


def _read(data: bytes):
    return vb.read_container(io.BytesIO(data), len(data))


def test_built_zip_is_accepted_and_readable():
    data = _build_zip(_two())
    members = _read(data)
    assert [(m.name, m.method, m.local_offset) for m in members] == [
        ("mimetype", 0, 0), ("1-processes/a", 8, 30 + 8 + 38)]
    assert vb.stream_member(io.BytesIO(data), members[1], keep=True)[2] == b"hello " * 100


@pytest.mark.parametrize("eocd", [None, SATURATED_EOCD, dict(n_disk=0xFFFF, cd_offset=0xFFFFFFFF)])
@pytest.mark.parametrize("total_disks", [0, 1])
def test_zip64_end_records_accepted(eocd, total_disks):
    # Saturated or not, the EOCD fields agree with the 56-byte Zip64 record.
    data = _build_zip(_two(), zip64=True, eocd=eocd, loc=dict(total=total_disks))
    assert [m.name for m in _read(data)] == ["mimetype", "1-processes/a"]


@pytest.mark.parametrize(
    "kw, what",
    [
        (dict(z64=dict(size=52), z64_tail=b"\0" * 8), "56 bytes"),      # extensible data sector
        (dict(z64=dict(size=52)), "size field"),                       # right length, wrong size field
        (dict(z64_tail=b"\0" * 8), "56 bytes"),                         # gap before the locator
        (dict(eocd=dict(n_total=3, n_disk=3)), "differs"),             # unsaturated count disagrees
        (dict(eocd=dict(cd_size=1)), "differs"),                       # unsaturated size disagrees
        (dict(eocd=dict(cd_offset=0)), "differs"),                     # unsaturated offset disagrees
        (dict(loc=dict(total=2)), "disks"),
        (dict(loc=dict(disk=1)), "another disk"),
        (dict(z64=dict(disk=1), eocd=SATURATED_EOCD), "single-disk"),
        (dict(z64=dict(cd_disk=1), eocd=SATURATED_EOCD), "single-disk"),
        (dict(z64=dict(n_disk=1), eocd=SATURATED_EOCD), "this disk"),
        (dict(eocd=dict(SATURATED_EOCD, disk=0xFFFF)), "single-disk"),     # disk numbers are not escapes
        (dict(eocd=dict(SATURATED_EOCD, cd_disk=0xFFFF)), "single-disk"),
    ],
)
def test_zip64_end_records_rejected(kw, what):
    with pytest.raises(vb.ContainerError, match=what):
        _read(_build_zip(_two(), zip64=True, **kw))


@pytest.mark.parametrize("field", ["disk", "cd_disk", "n_disk", "n_total", "cd_size", "cd_offset"])
def test_saturated_eocd_field_without_locator_rejected(field):
    value = 0xFFFF if field in ("disk", "cd_disk", "n_disk", "n_total") else 0xFFFFFFFF
    with pytest.raises(vb.ContainerError):
        _read(_build_zip(_two(), eocd={field: value}))


def test_eocd_disk_numbers_and_counts():
    with pytest.raises(vb.ContainerError, match="single-disk"):
        _read(_build_zip(_two(), eocd=dict(disk=1)))
    with pytest.raises(vb.ContainerError, match="this disk"):
        _read(_build_zip(_two(), eocd=dict(n_disk=1)))


@pytest.mark.parametrize("disk, extra", [(1, b""), (0xFFFF, b""), (0xFFFF, struct.pack("<HHI", 1, 4, 0))])
def test_central_disk_number_start_must_be_zero(disk, extra):
    with pytest.raises(vb.ContainerError):
        _read(_build_zip(_two(disk=disk, cextra=extra)))


def test_stored_member_with_unequal_sizes_is_malformed_container():
    # Found in the central directory (§11 step 1(c)), not as corrupt-member.
    entries = [_entry("mimetype", vb.MIMETYPE_CONTENT, c_usize=39, l_usize=39),
               _entry("1-processes/a", b"x")]
    with pytest.raises(vb.ContainerError, match="stored member"):
        _read(_build_zip(entries))


def test_mimetype_stored_is_checked_with_the_marker_not_in_the_central_directory():
    # §11 step 2 lists "stored" for the marker; step 1(c)'s "methods" is §2.1 item 5's
    # 0-or-8 rule. So a deflated mimetype passes step 1 (and its limits come first).
    _read(_build_zip([_entry("mimetype", vb.MIMETYPE_CONTENT, 8)]))
    with pytest.raises(vb.LimitError, match="ratio"):
        _read(_build_zip([_entry("mimetype", vb.MIMETYPE_CONTENT, 8, usize=10**7)]))


def test_file_comment_is_malformed():
    with pytest.raises(vb.ContainerError, match="comment"):
        _read(_build_zip(_two(comment=b"hi")))


@pytest.mark.parametrize(
    "extra, ok",
    [
        (b"", True),
        (struct.pack("<HH", 0x5455, 5) + b"\x03abcd", True),                     # one unknown block
        (struct.pack("<HH", 0x7875, 1) + b"x" + struct.pack("<HH", 0x7875, 0), True),  # repeated unknown ID
        (_z64(), True),                                                          # empty Zip64, nothing saturated
        (struct.pack("<HH", 0x5455, 0) + b"\x00", False),                       # 1 stray byte
        (struct.pack("<HH", 0x5455, 9) + b"abc", False),                        # block overruns
        (b"\x01\x00\x00", False),                                               # truncated block header
        (_z64() + _z64(), False),                                               # two Zip64 blocks
    ],
)
@pytest.mark.parametrize("where", ["cextra", "lextra"])
def test_extra_areas_tile_with_at_most_one_zip64_block(extra, ok, where):
    data = _build_zip(_two(**{where: extra}))
    if ok:
        _read(data)
    else:
        with pytest.raises(vb.ContainerError, match="extra"):
            _read(data)


def test_zip64_extra_values_for_saturated_fields_in_order():
    body = b"hello " * 100
    comp = _deflate(body)
    offset = 30 + 8 + 38
    cases = [
        dict(c_usize=0xFFFFFFFF, cextra=_z64(len(body))),
        dict(c_csize=0xFFFFFFFF, cextra=_z64(len(comp))),
        dict(c_offset=0xFFFFFFFF, cextra=_z64(offset)),
        dict(c_usize=0xFFFFFFFF, c_offset=0xFFFFFFFF, cextra=_z64(len(body), offset)),
        dict(c_csize=0xFFFFFFFF, c_offset=0xFFFFFFFF, cextra=_z64(len(comp), offset)),
        dict(c_usize=0xFFFFFFFF, c_csize=0xFFFFFFFF, c_offset=0xFFFFFFFF, cextra=_z64(len(body), len(comp), offset)),
        # local header: its two sizes, same rule
        dict(l_usize=0xFFFFFFFF, l_csize=0xFFFFFFFF, lextra=_z64(len(body), len(comp))),
        dict(l_csize=0xFFFFFFFF, lextra=_z64(len(comp))),
    ]
    for kw in cases:
        m = _read(_build_zip(_two(**kw)))[1]
        assert (m.usize, m.csize, m.local_offset) == (len(body), len(comp), offset), kw


def test_zip64_extra_wrong_order_or_too_short_is_malformed():
    body = b"hello " * 100
    comp = _deflate(body)
    offset = 30 + 8 + 38
    with pytest.raises(vb.ContainerError):  # offset before csize
        _read(_build_zip(_two(c_csize=0xFFFFFFFF, c_offset=0xFFFFFFFF, cextra=_z64(offset, len(comp)))))
    with pytest.raises(vb.ContainerError, match="too short"):
        _read(_build_zip(_two(c_usize=0xFFFFFFFF, c_csize=0xFFFFFFFF, cextra=_z64(len(body)))))
    with pytest.raises(vb.ContainerError, match="too short"):
        _read(_build_zip(_two(c_offset=0xFFFFFFFF, cextra=struct.pack("<HHI", 1, 4, offset))))
    with pytest.raises(vb.ContainerError, match="no Zip64"):
        _read(_build_zip(_two(c_usize=0xFFFFFFFF)))
    with pytest.raises(vb.ContainerError, match="too short"):
        _read(_build_zip(_two(l_usize=0xFFFFFFFF, l_csize=0xFFFFFFFF, lextra=_z64(len(body)))))


def test_zip64_extra_longer_than_needed_is_accepted():
    """§2.1 item 8: a Zip64 block too short for the saturated fields is malformed, a
    longer one is accepted -- in the central directory and in a local header alike.
    Only the values for the saturated fields are read, from the start, in order."""
    body = b"hello " * 100
    comp = _deflate(body)
    offset = 30 + 8 + 38
    cases = [
        # central directory: extra values (a stray 8-byte value, APPNOTE's 4-byte disk number)
        dict(c_usize=0xFFFFFFFF, cextra=_z64(len(body), 12345)),
        dict(c_usize=0xFFFFFFFF, cextra=_z64_raw(struct.pack("<QI", len(body), 0))),
        dict(c_offset=0xFFFFFFFF, cextra=_z64(offset, 0, 0)),
        dict(c_usize=0xFFFFFFFF, c_csize=0xFFFFFFFF, c_offset=0xFFFFFFFF,
             cextra=_z64_raw(struct.pack("<QQQI", len(body), len(comp), offset, 0))),
        dict(cextra=_z64(1, 2, 3)),                       # nothing saturated: all of it is extra
        # local header: only saturated fields are present, in order; more bytes are fine
        dict(l_usize=0xFFFFFFFF, lextra=_z64(len(body))),
        dict(l_usize=0xFFFFFFFF, lextra=_z64(len(body), 999)),
        dict(l_csize=0xFFFFFFFF, lextra=_z64(len(comp), 999)),
        dict(l_usize=0xFFFFFFFF, l_csize=0xFFFFFFFF, lextra=_z64(len(body), len(comp), 999)),
        dict(lextra=_z64(1, 2)),                          # nothing saturated
        dict(lextra=_z64_raw(b"abc")),                    # nothing saturated, odd length
        # both headers at once, each with its own fields
        dict(l_csize=0xFFFFFFFF, lextra=_z64(len(comp)), c_offset=0xFFFFFFFF, cextra=_z64(offset, 7)),
    ]
    for kw in cases:
        m = _read(_build_zip(_two(**kw)))[1]
        assert (m.usize, m.csize, m.local_offset) == (len(body), len(comp), offset), kw


def test_zip64_local_header_holds_only_the_saturated_fields():
    """§2.1 item 8, "(in a local header too)": when only the local compressed size is
    saturated, the block's first value is the compressed size. A local block written
    as APPNOTE's local form (uncompressed size first, whatever is saturated) is then
    read wrongly and disagrees with the central directory: malformed."""
    body = b"hello " * 100
    comp = _deflate(body)
    assert len(comp) != len(body)
    with pytest.raises(vb.ContainerError, match="sizes differ"):
        _read(_build_zip(_two(l_csize=0xFFFFFFFF, lextra=_z64(len(body), len(comp)))))
    # a block too short for the saturated local fields, or none at all
    with pytest.raises(vb.ContainerError, match="too short"):
        _read(_build_zip(_two(l_usize=0xFFFFFFFF, l_csize=0xFFFFFFFF, lextra=_z64(len(body)))))
    with pytest.raises(vb.ContainerError, match="too short"):
        _read(_build_zip(_two(l_csize=0xFFFFFFFF, lextra=_z64_raw(b"\0" * 7))))
    with pytest.raises(vb.ContainerError, match="no Zip64"):  # the central block does not count
        _read(_build_zip(_two(l_usize=0xFFFFFFFF, c_usize=0xFFFFFFFF, cextra=_z64(len(body)))))
    # for a stored member the two sizes are equal, so the APPNOTE form reads right
    entries = [_entry("mimetype", vb.MIMETYPE_CONTENT, l_csize=0xFFFFFFFF, lextra=_z64(38, 38))]
    assert _read(_build_zip(entries))[0].csize == 38


def test_local_header_checks():
    with pytest.raises(vb.ContainerError, match="name differs"):
        _read(_build_zip(_two(l_name=b"1-processes/b")))
    with pytest.raises(vb.ContainerError, match="sizes differ"):
        _read(_build_zip(_two(l_usize=1)))
    with pytest.raises(vb.ContainerError, match="gap or overlap"):
        _read(_build_zip(_two(c_offset=30 + 8 + 38 + 1)))


def test_step_1_order_central_directory_before_local_headers_before_limits():
    # Entry 1 passes the deflate ratio limit (1(e)); entry 2 has a comment (1(c)).
    ratio = dict(usize=10**7)
    with pytest.raises(vb.LimitError, match="ratio"):
        _read(_build_zip(_two(**ratio) + [_entry("1-processes/b", b"b")]))
    with pytest.raises(vb.ContainerError, match="comment"):
        _read(_build_zip(_two(**ratio) + [_entry("1-processes/b", b"b", comment=b"c")]))
    # A local header problem (1(d)) also comes before the limits.
    with pytest.raises(vb.ContainerError, match="name differs"):
        _read(_build_zip(_two(**ratio) + [_entry("1-processes/b", b"b", l_name=b"1-processes/c")]))
    # A central directory problem of entry 3 comes before a local header problem of entry 2.
    with pytest.raises(vb.ContainerError, match="comment"):
        _read(_build_zip(_two(l_name=b"1-processes/x") + [_entry("1-processes/b", b"b", comment=b"c")]))


def _member(name: str, usize: int, method: int = 0, csize: Optional[int] = None) -> vb.ZipMember:
    return vb.ZipMember(0, name, 0, method, 0, usize if csize is None else csize, usize, 0)


@pytest.mark.parametrize("name", ["mimetype", "manifest.cbor", "SHA256SUMS", "custody.cbor", "1-processes/a"])
def test_member_size_limit_applies_to_every_member(name):
    vb.check_member_limits([_member(name, 1 << 40)])
    with pytest.raises(vb.LimitError, match="2\\^40"):
        vb.check_member_limits([_member(name, (1 << 40) + 1)])


def test_total_size_and_ratio_limits():
    vb.check_member_limits([_member(f"1-processes/{i}", 1 << 40) for i in range(16)])
    with pytest.raises(vb.LimitError, match="sum"):
        vb.check_member_limits([_member(f"1-processes/{i}", 1 << 40) for i in range(16)]
                               + [_member("1-processes/x", 1)])
    vb.check_member_limits([_member("a", 1100 * 10 + 1024, 8, 10)])
    with pytest.raises(vb.LimitError, match="ratio"):
        vb.check_member_limits([_member("a", 1100 * 10 + 1025, 8, 10)])


def test_deflate_stream_must_end_exactly_at_the_end_of_the_data():
    body = b"hello " * 100
    for comp, what in [
        (_deflate(body) + b"\x00", "continues after"),         # stream ends early
        (_deflate(body) + _deflate(b""), "continues after"),    # a second stream after the first
        (_deflate(body, final=False), "no final block"),        # stream never ends
        (_deflate(body)[:-3], None),                            # truncated
    ]:
        data = _build_zip(_two(comp=comp))
        m = _read(data)[1]
        with pytest.raises(vb.CorruptMember, match=what):
            vb.stream_member(io.BytesIO(data), m)


def test_deflate_stream_ending_early_across_read_chunks(monkeypatch):
    monkeypatch.setattr(vb, "READ_CHUNK", 7)
    body = bytes(range(256)) * 8
    comp = _deflate(body)
    data = _build_zip(_two(comp=comp + b"\x00" * 20, usize=len(body), crc=zlib.crc32(body)))
    with pytest.raises(vb.CorruptMember, match="continues after"):
        vb.stream_member(io.BytesIO(data), _read(data)[1])
    data = _build_zip(_two(comp=comp, usize=len(body), crc=zlib.crc32(body)))
    assert vb.stream_member(io.BytesIO(data), _read(data)[1], keep=True)[2] == body


# ---------------------------------------------------------------------------
# The marker (§2.2)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content, verdict",
    [
        (b"application/vnd.forensic-bundle.v1+zip", None),
        (b"application/vnd.forensic-bundle.v2+zip", "unsupported-version"),
        (b"application/vnd.forensic-bundle.v0+zip", "unsupported-version"),
        (b"application/vnd.forensic-bundle.v10+zip", "unsupported-version"),
        (b"application/vnd.forensic-bundle.v1+zip\n", "malformed-container"),
        (b"application/vnd.forensic-bundle.v2+zip\n", "malformed-container"),
        (b"application/vnd.forensic-bundle.v1+zip\r\n", "malformed-container"),
        (b" application/vnd.forensic-bundle.v2+zip", "malformed-container"),
        (b"application/vnd.forensic-bundle.v+zip", "malformed-container"),
        (b"application/vnd.forensic-bundle.vx+zip", "malformed-container"),
        (b"application/vnd.forensic-bundle.v-2+zip", "malformed-container"),
        (b"application/vnd.forensic-bundle.v+2+zip", "malformed-container"),
        (b"application/vnd.forensic-bundle.v2.0+zip", "malformed-container"),
        (b"application/vnd.forensic-bundle.v\xd9\xa2+zip", "malformed-container"),  # Arabic-Indic 2
        (b"application/vnd.forensic-bundle.v01+zip", "unsupported-version"),  # N is not the text "1"
        (b"application/vnd.forensic-bundle.v99999999999999999999999+zip", "unsupported-version"),
        (b"application/vnd.forensic-bundle.v2+tar", "malformed-container"),
        (b"application/vnd.forensic-bundles.v2+zip", "malformed-container"),
        (b"application/zip", "malformed-container"),
        (b"", "malformed-container"),
    ],
)
def test_marker_verdict(content, verdict):
    assert vb.marker_verdict(content) == verdict


# ---------------------------------------------------------------------------
# Manifest (§6), custody log (§9) and whole bundles (§11), built from the spec
# ---------------------------------------------------------------------------

T = "2026-11-29T07:27:29.123456789Z"
EVIDENCE_NAME = "1-processes/ps.txt"
EVIDENCE = b"PID CMD\n1 sh\n" * 10
ALICE = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"verify_bundle unit test key alice").digest())


def _manifest(**over) -> dict:
    m = {
        "format": "forensic-bundle",
        "version": 1,
        "bundle_id": "0b6f1a52-4d0e-4c1e-9d43-3f1c2a7b9e10",
        "created": T,
        "case": {"case_id": "C-1"},
        "collector": {"tool": "forensic", "version": "0.1.0", "argv": ["forensic", b"\xff"]},
        "target": {"runtime": "podman", "pid": 42},
        "sections": [{"number": 1, "name": "processes", "started": T, "finished": T}],
        "members": [{"name": EVIDENCE_NAME, "section": "processes", "size": len(EVIDENCE),
                     "sha256": hashlib.sha256(EVIDENCE).digest(), "captured": T,
                     "source": {"argv": ["ps", "-ef"], "exit": 0}}],
        "gaps": [],
    }
    m.update(over)
    return m


def _with_raw_pair(item: bytes, raw_key: bytes, raw_value: bytes) -> bytes:
    """Add one (key, value) pair, given as raw CBOR, to an encoded map of < 23 pairs."""
    assert 0xA0 <= item[0] < 0xB7
    return bytes([item[0] + 1]) + item[1:] + raw_key + raw_value


def _fingerprint(sk_or_raw) -> bytes:
    raw = sk_or_raw if isinstance(sk_or_raw, bytes) else _raw_public(sk_or_raw)
    return vb.fingerprint_of_raw_key(raw)


def _payload(manifest_bytes: bytes, key: bytes, **over) -> dict:
    p = {"seq": 0, "prev": None, "time": T, "action": "sealed", "actor": {"name": "alice", "key": key},
         "bundle_id": "0b6f1a52-4d0e-4c1e-9d43-3f1c2a7b9e10",
         "manifest_sha256": hashlib.sha256(manifest_bytes).digest()}
    p.update(over)
    return p


def _custody_item(payload: bytes, sk: Optional[Ed25519PrivateKey] = ALICE, protected: Optional[bytes] = None,
                  signature: Optional[bytes] = None, unprotected: bytes = b"\xa0") -> bytes:
    """One COSE_Sign1_Tagged entry; ``payload`` is the encoded payload."""
    if protected is None:
        protected = cbor2.dumps({1: -8, 4: _fingerprint(sk)})
    if signature is None:
        signature = sk.sign(vb.sig_structure(protected, payload))
    # tag 18, array of 4: protected, unprotected (raw), payload, signature
    return b"\xd2\x84" + cbor2.dumps(protected) + unprotected + cbor2.dumps(payload) + cbor2.dumps(signature)


def _bundle(manifest: Optional[bytes] = None, custody: Optional[bytes] = None,
            marker: bytes = vb.MIMETYPE_CONTENT, sums: Optional[bytes] = None, marker_method: int = 0) -> bytes:
    manifest = cbor2.dumps(_manifest()) if manifest is None else manifest
    if custody is None:
        custody = _custody_item(cbor2.dumps(_payload(manifest, _raw_public(ALICE))))
    if sums is None:
        sums = vb.expected_sha256sums([(EVIDENCE_NAME, hashlib.sha256(EVIDENCE).digest())],
                                      hashlib.sha256(manifest).digest())
    return _build_zip([
        _entry("mimetype", marker, marker_method),
        _entry(EVIDENCE_NAME, EVIDENCE, 8),
        _entry("manifest.cbor", manifest, 8),
        _entry("SHA256SUMS", sums, 8),
        _entry("custody.cbor", custody),
    ])


def _verify(tmp_path, data: bytes, **kw) -> vb.Result:
    path = tmp_path / "bundle.zip"
    path.write_bytes(data)
    return vb.verify_file(path, **kw)


def test_bundle_built_from_the_spec_verifies(tmp_path):
    result = _verify(tmp_path, _bundle())
    assert result.verified, [str(f) for f in result.failures]
    assert result.custody_entries == 1


def test_trust_lists(tmp_path):
    data = _bundle()
    assert _verify(tmp_path, data, trust_fingerprints={_fingerprint(ALICE)}).verified
    # An explicit empty trust list trusts no one (§11 step 10).
    assert _verify(tmp_path, data, trust_fingerprints=set()).classes == {"untrusted-signer"}
    other = _fingerprint(Ed25519PrivateKey.generate())
    assert _verify(tmp_path, data, trust_fingerprints={other}).classes == {"untrusted-signer"}


def test_bundle_with_deflated_marker(tmp_path):
    # malformed-container, at §11 step 2
    assert _verify(tmp_path, _bundle(marker_method=8)).classes == {"malformed-container"}


@pytest.mark.parametrize(
    "marker, cls",
    [
        (b"application/vnd.forensic-bundle.v1+zip\n", "malformed-container"),
        (b"application/vnd.forensic-bundle.v2+zip", "unsupported-version"),
        (b"application/vnd.forensic-bundle.v2+zip\n", "malformed-container"),
    ],
)
def test_bundle_marker(tmp_path, marker, cls):
    assert _verify(tmp_path, _bundle(marker=marker)).classes == {cls}


def _manifest_case(**over) -> bytes:
    return cbor2.dumps(_manifest(**over))


def _member_with_source(source) -> list:
    m = _manifest()["members"][0]
    return [dict(m, source=source)]


@pytest.mark.parametrize(
    "manifest",
    [
        # §6 source: exactly one of path / argv (non-empty) / derived
        _manifest_case(members=_member_with_source({"path": "/proc/1/status"})),
        _manifest_case(members=_member_with_source({"path": b"/tmp/\xff"})),
        _manifest_case(members=_member_with_source({"argv": ["ps"]})),
        _manifest_case(members=_member_with_source({"derived": "process tree from 1-processes/ps.txt"})),
        _manifest_case(members=_member_with_source({"derived": "x", "comment": "unknown key"})),
        _manifest_case(members=_member_with_source({"path": "/a", "exit": 0})),
        # §6 (1.0.1): the int ranges bind listed keys only, not values under unknown keys
        _with_raw_pair(_manifest_case(), cbor2.dumps("x-extra"), b"\x82\x3b" + b"\xff" * 8 + b"\x1b" + b"\xff" * 8),
        # unknown keys are ignored (but follow the profile)
        _with_raw_pair(_manifest_case(), cbor2.dumps("x-extra"), b"\x81" * 14 + b"\x80"),  # map + 15 = 16
        _with_raw_pair(_manifest_case(), cbor2.dumps("x-extra"), b"\xf6"),  # an unknown key, null value
        _manifest_case(**{"x-extra": {"a": [{"b": {}}]}}),  # text keys all the way down
    ],
)
def test_manifest_accepted(manifest):
    vb.parse_manifest(manifest)


@pytest.mark.parametrize(
    "manifest",
    [
        _manifest_case(members=_member_with_source({})),
        _manifest_case(members=_member_with_source({"path": "/a", "derived": "x"})),
        _manifest_case(members=_member_with_source({"path": "/a", "argv": ["ps"]})),
        _manifest_case(members=_member_with_source({"argv": []})),
        _manifest_case(members=_member_with_source({"argv": "ps"})),
        _manifest_case(members=_member_with_source({"exit": 0})),
        _manifest_case(members=_member_with_source({"derived": b"x"})),
        _manifest_case(members=_member_with_source({"argv": ["ps"], "exit": None})),  # exit: int
        _manifest_case(members=_member_with_source({"path": "/a", "exit": "1"})),     # in any source map
        _manifest_case(members=_member_with_source({"argv": ["ps"], "exit": -(2**63) - 1})),  # int range
        # optional keys are absent or of their type: null is not a tstr, uint, bool, ...
        _manifest_case(case={"case_id": None}),
        _manifest_case(target={"pid": None}),
        _manifest_case(members=[dict(_manifest()["members"][0], truncated=None)]),
        # the CBOR profile, in keys the reader does not know
        _with_raw_pair(_manifest_case(), cbor2.dumps("x-extra"), b"\x81" * 15 + b"\x80"),  # map + 16 = 17
        _with_raw_pair(_manifest_case(), cbor2.dumps("x-extra"), b"\xfb" + struct.pack(">d", 1.5)),
        _with_raw_pair(_manifest_case(), cbor2.dumps("x-extra"), b"\xf7"),                   # undefined
        _with_raw_pair(_manifest_case(), cbor2.dumps("x-extra"), b"\xc1\x00"),               # a tag
        _with_raw_pair(_manifest_case(), cbor2.dumps("x-extra"), b"\x18\x01"),               # non-shortest
        _with_raw_pair(_manifest_case(), b"\x78\x07x-extra", b"\x00"),                       # non-shortest key
        _with_raw_pair(_manifest_case(), cbor2.dumps("format"), cbor2.dumps("forensic-bundle")),  # duplicate
        _manifest_case(version="1"),
        _manifest_case(format="forensic-bundle-2"),
        _manifest_case(created="2026-11-29T07:27:29Z"),
    ],
)
def test_manifest_malformed(manifest):
    with pytest.raises(vb.ManifestError):
        vb.parse_manifest(manifest)


def test_manifest_version_2():
    with pytest.raises(vb.VersionError):
        vb.parse_manifest(_manifest_case(version=2))


# §6: "Every map key in the manifest and in custody payloads is a text string".
NON_TEXT_KEYS = [
    pytest.param(b"\x01", id="uint"),
    pytest.param(b"\x20", id="negative-int"),
    pytest.param(b"\x41k", id="bstr"),
    pytest.param(b"\xf5", id="true"),
    pytest.param(b"\xf6", id="null"),
    pytest.param(b"\x80", id="array"),
    pytest.param(b"\xa0", id="map"),
]

_META = {"type": "file", "mode": 0o644, "uid": 0, "gid": 0, "size": 1, "mtime_ns": 0, "ctime_ns": 0,
         "inode": 1, "dev": 1, "nlink": 1}


def _manifest_with_map_at(where: str, marker: dict) -> dict:
    """A manifest whose map at ``where`` has the extra pair ``marker`` ({"@": 0}, later
    replaced by a raw non-text key)."""
    m = _manifest()
    member = m["members"][0]
    if where == "root":
        m.update(marker)
    elif where in ("case", "collector", "target"):
        m[where] = {**m[where], **marker}
    elif where == "section":
        m["sections"] = [{**m["sections"][0], **marker}]
    elif where == "member":
        m["members"] = [{**member, **marker}]
    elif where == "source":
        m["members"] = [{**member, "source": {**member["source"], **marker}}]
    elif where == "meta":
        m["members"] = [{**member, "meta": {**_META, **marker}}]
    elif where == "gap":
        m["gaps"] = [{"section": "network", "what": "sockets", "reason": "no netns", **marker}]
    elif where == "unknown-value":
        m["x-extra"] = marker
    elif where == "unknown-value-deep":
        m["x-extra"] = [{"a": [marker]}]
    else:
        raise AssertionError(where)
    return m


def _replace_marker_key(encoded: bytes, raw_key: bytes) -> bytes:
    """Replace the text key "@" (0x6140) of the one marker pair by ``raw_key``."""
    assert encoded.count(b"\x61@") == 1
    return encoded.replace(b"\x61@", raw_key)


MAP_PLACES = ["root", "case", "collector", "target", "section", "member", "source", "meta", "gap",
              "unknown-value", "unknown-value-deep"]


@pytest.mark.parametrize("where", MAP_PLACES)
def test_manifest_marker_pair_with_a_text_key_is_accepted(where):
    # The control for the test below: the same manifests with the key "@" parse.
    vb.parse_manifest(cbor2.dumps(_manifest_with_map_at(where, {"@": 0})))


@pytest.mark.parametrize("raw_key", NON_TEXT_KEYS)
@pytest.mark.parametrize("where", MAP_PLACES)
def test_manifest_non_text_map_key_is_malformed(where, raw_key):
    data = _replace_marker_key(cbor2.dumps(_manifest_with_map_at(where, {"@": 0})), raw_key)
    vb.cbor_decode(data)  # still an item of the CBOR profile: the key rule is what fails
    with pytest.raises(vb.ManifestError, match="not a text string"):
        vb.parse_manifest(data)


@pytest.mark.parametrize("where", ["root", "case", "unknown-value-deep"])
def test_manifest_non_text_key_is_judged_before_the_version(where):
    # The key rule is checked over the whole item with the CBOR profile, before format
    # and version (a choice: §6 and §11 step 4 do not order the two; see the report).
    m = _manifest_with_map_at(where, {"@": 0})
    m["version"] = 2
    with pytest.raises(vb.ManifestError, match="not a text string"):
        vb.parse_manifest(_replace_marker_key(cbor2.dumps(m), b"\x01"))
    with pytest.raises(vb.VersionError):  # the control
        vb.parse_manifest(cbor2.dumps(m))


def test_bundle_with_non_text_manifest_key(tmp_path):
    data = _replace_marker_key(cbor2.dumps(_manifest_with_map_at("target", {"@": 0})), b"\x07")
    result = _verify(tmp_path, _bundle(manifest=data))
    assert result.classes == {"malformed-manifest"}
    assert "not a text string" in result.failures[0].message


def test_non_text_key_walk():
    assert vb.non_text_key(vb.cbor_decode(cbor2.dumps({"a": [{"b": {"c": 1}}]})), "m") is None
    found = vb.non_text_key(vb.cbor_decode(cbor2.dumps({"a": [{"b": {2: 1}}]})), "m")
    assert found == "m.a[0].b: a map key is an integer (2), not a text string"
    # the first one in encoded order is named
    found = vb.non_text_key(vb.cbor_decode(cbor2.dumps({"a": {b"x": 0}, "b": {1: 0}})), "m")
    assert found.startswith("m.a: a map key is a byte string")
    # only map keys: integers as values and array elements are fine
    assert vb.non_text_key(vb.cbor_decode(cbor2.dumps([1, {"a": 2}, [b"x"]])), "m") is None


# §6: "An optional key (`?`) is either absent or has the type given: `null` is not a
# way to say 'absent'" -- every optional key of the manifest CDDL.
OPTIONAL_MANIFEST_KEYS = (
    [("case", k) for k in ("case_id", "evidence_number", "examiner", "notes")]
    + [("collector", k) for k in ("host", "kernel", "argv")]
    + [("target", k) for k in ("runtime", "container_id", "container_name", "pod", "namespace", "node", "pid",
                               "image_ref", "image_digest")]
    + [("member", k) for k in ("meta", "truncated")]
    + [("source", "exit")]
    + [("meta", k) for k in ("atime_ns", "symlink_target", "xattrs")]
)


def _manifest_with(place: str, key: str, value) -> dict:
    return _manifest_with_map_at(place, {key: value})


@pytest.mark.parametrize("place, key", OPTIONAL_MANIFEST_KEYS)
def test_optional_manifest_key_null_is_malformed(place, key):
    good = {"pid": 1, "argv": ["x"], "truncated": True, "meta": _META, "exit": 0, "atime_ns": -1,
            "symlink_target": b"\xff", "xattrs": [["user.x", b""]]}.get(key, "text")
    vb.parse_manifest(cbor2.dumps(_manifest_with(place, key, good)))  # present, of its type: fine
    m = _manifest_with(place, key, good)
    if place in ("case", "collector", "target"):
        del m[place][key]
    elif place == "member":
        del m["members"][0][key]
    elif place == "source":
        del m["members"][0]["source"][key]
    elif place == "meta":
        del m["members"][0]["meta"][key]
    vb.parse_manifest(cbor2.dumps(m))  # absent: fine
    with pytest.raises(vb.ManifestError, match=key):
        vb.parse_manifest(cbor2.dumps(_manifest_with(place, key, None)))


@pytest.mark.parametrize(
    "key, ok, bad",
    [
        ("mode", 0o7777, 0o10000),            # uint .le 4095
        ("uid", 2**32 - 1, 2**32),            # uint .size 4
        ("gid", 2**32 - 1, 2**32),
    ],
)
def test_file_meta_bounded_uints(key, ok, bad):
    vb.parse_manifest(cbor2.dumps(_manifest_with("meta", key, ok)))
    with pytest.raises(vb.ManifestError, match=key):
        vb.parse_manifest(cbor2.dumps(_manifest_with("meta", key, bad)))


def test_bundle_with_malformed_manifest(tmp_path):
    manifest = _with_raw_pair(_manifest_case(), cbor2.dumps("x-extra"), b"\x18\x01")
    assert _verify(tmp_path, _bundle(manifest=manifest)).classes == {"malformed-manifest"}


def _entry_bytes(**payload_over) -> tuple[bytes, bytes]:
    """(manifest, one custody entry sealing it), the payload with the given overrides."""
    manifest = _manifest_case()
    return manifest, cbor2.dumps(_payload(manifest, _raw_public(ALICE), **payload_over))


def test_protected_header_ignores_labels_other_than_1_and_4(tmp_path):
    manifest, payload = _entry_bytes()
    protected = cbor2.dumps({1: -8, 4: _fingerprint(ALICE), 2: [99], 3: "application/cbor", 99: {"x": [1]},
                             "text": b"ignored", -70000: None})
    result = _verify(tmp_path, _bundle(manifest, _custody_item(payload, protected=protected)))
    assert result.verified, [str(f) for f in result.failures]


@pytest.mark.parametrize(
    "protected",
    [
        b"",                                     # h'': must hold a map
        cbor2.dumps([1, -8]),                    # not a map
        b"\xa1\x01\x38\x07",                     # {1: -8} with a non-shortest head
        b"\xa2\x01\x27\x04\xc2\x40",             # a tag inside the protected header
        b"\xa1\x01\x27\x00",                     # trailing byte
        b"\xa2\x01\x27\x01\x27",                 # duplicate label 1
    ],
)
def test_protected_header_malformed(tmp_path, protected):
    manifest, payload = _entry_bytes()
    result = _verify(tmp_path, _bundle(manifest, _custody_item(payload, protected=protected)))
    assert result.classes == {"malformed-custody"}


@pytest.mark.parametrize(
    "protected",
    [
        {1: -7, 4: "fp"},              # alg ES256
        {1: "EdDSA", 4: "fp"},         # alg as text
        {4: "fp"},                     # no alg
        {1: -8},                       # no kid
        {1: -8, 4: b"\x00" * 32},      # wrong kid
        {1: -8, 4: "fp-hex"},          # kid as text
        {1: -8, "4": "fp"},            # label "4" is not label 4
        {"1": -8, 4: "fp"},            # nor is label "1" label 1 (§9.1)
    ],
)
def test_protected_header_alg_and_kid_are_bad_signature(tmp_path, protected):
    manifest, payload = _entry_bytes()
    fp = _fingerprint(ALICE)
    protected = {k: (fp if v == "fp" else fp.hex() if v == "fp-hex" else v) for k, v in protected.items()}
    result = _verify(tmp_path, _bundle(manifest, _custody_item(payload, protected=cbor2.dumps(protected))))
    assert result.classes == {"bad-signature"}


@pytest.mark.parametrize("length", [0, 63, 65])
def test_signature_of_other_than_64_bytes_is_malformed(tmp_path, length):
    manifest, payload = _entry_bytes()
    result = _verify(tmp_path, _bundle(manifest, _custody_item(payload, signature=b"s" * length)))
    assert result.classes == {"malformed-custody"}


def test_identity_key_seal_is_bad_signature(tmp_path):
    """§9.2: the identity point as actor.key, R = identity and S = 0 verify under the
    cofactorless equation (and OpenSSL accepts them); the bundle must not verify."""
    manifest = _manifest_case()
    payload = cbor2.dumps(_payload(manifest, IDENTITY))
    protected = cbor2.dumps({1: -8, 4: _fingerprint(IDENTITY)})
    item = _custody_item(payload, sk=None, protected=protected, signature=IDENTITY + b"\x00" * 32)
    result = _verify(tmp_path, _bundle(manifest, item))
    assert result.classes == {"bad-signature"}
    assert "small order" in result.failures[0].message


@pytest.mark.parametrize(
    "payload_over, cls",
    [
        (dict(note="n"), None),
        # Well-formed (§9.1); that only a transfer names a recipient is §9.4 rule 1
        # (test_custody_semantics.py).
        (dict(recipient=b"\x01" * 32, note="x"), "custody-semantics"),
        (dict(extension={"nested": [[[]]]}), None),
        (dict(extension=1.5), "malformed-custody"),
        (dict(extension=cbor2.CBORTag(18, 0)), "malformed-custody"),
        (dict(recipient=b"\x01" * 31), "malformed-custody"),
        (dict(recipient=None), "malformed-custody"),  # optional: absent, or a 32-byte bstr
        (dict(note=None), "malformed-custody"),
        (dict(unknown_key=None), None),
        (dict(time="2026-11-29T07:27:29Z"), "malformed-custody"),
        (dict(seq=-1), "malformed-custody"),
        (dict(prev=b""), "malformed-custody"),
        (dict(actor={"name": "alice"}), "malformed-custody"),
        (dict(seq=1), "broken-chain"),
        (dict(action="received"), "broken-chain"),
        (dict(bundle_id="other"), "broken-chain"),
        (dict(manifest_sha256=b"\x00" * 32), "seal-mismatch"),
    ],
)
def test_custody_payload(tmp_path, payload_over, cls):
    manifest, payload = _entry_bytes(**payload_over)
    result = _verify(tmp_path, _bundle(manifest, _custody_item(payload)))
    assert result.classes == ({cls} if cls else set()), [str(f) for f in result.failures]


def test_custody_payload_depth_counts_from_its_own_root(tmp_path):
    manifest = _manifest_case()
    base = cbor2.dumps(_payload(manifest, _raw_public(ALICE)))
    ok = _with_raw_pair(base, cbor2.dumps("x"), b"\x81" * 14 + b"\x80")  # map + 15 arrays = 16
    deep = _with_raw_pair(base, cbor2.dumps("x"), b"\x81" * 15 + b"\x80")  # 17
    assert _verify(tmp_path, _bundle(manifest, _custody_item(ok))).verified
    assert _verify(tmp_path, _bundle(manifest, _custody_item(deep))).classes == {"malformed-custody"}


def test_custody_items_are_checked_one_at_a_time(tmp_path):
    manifest = _manifest_case()
    first = _custody_item(cbor2.dumps(_payload(manifest, _raw_public(ALICE))))
    big_payload = cbor2.dumps(_payload(manifest, _raw_public(ALICE), seq=1, action="annotated",
                                       prev=hashlib.sha256(first).digest(), note="n" * 70_000))
    big = _custody_item(big_payload)
    assert len(big) > vb.MAX_CUSTODY_ENTRY
    assert _verify(tmp_path, _bundle(manifest, first + big)).classes == {"limit-exceeded"}
    # an ill-formed item before the big one: malformed-custody
    assert _verify(tmp_path, _bundle(manifest, first + b"\xf7" + big)).classes == {"malformed-custody"}
    # an ill-formed item after the big one: limit-exceeded
    assert _verify(tmp_path, _bundle(manifest, first + big + b"\xf7")).classes == {"limit-exceeded"}
    # an empty log
    assert _verify(tmp_path, _bundle(manifest, b"")).classes == {"malformed-custody"}


def test_custody_entry_limit(tmp_path):
    with pytest.raises(vb.LimitError):
        vb.parse_custody(b"\x00" * vb.MAX_CUSTODY_ENTRIES + b"\xf7")
    with pytest.raises(vb.CustodyError):  # 10,000 well-formed items that are not entries
        vb.parse_custody(b"\x00" * vb.MAX_CUSTODY_ENTRIES)


def test_custody_untagged_or_nested_tag(tmp_path):
    manifest, payload = _entry_bytes()
    item = _custody_item(payload)
    assert _verify(tmp_path, _bundle(manifest, item[1:])).classes == {"malformed-custody"}  # untagged
    assert _verify(tmp_path, _bundle(manifest, b"\xd2" + item)).classes == {"malformed-custody"}  # 18(18(...))
    assert _verify(tmp_path, _bundle(manifest, b"\xd8\x12" + item[1:])).classes == {"malformed-custody"}


@pytest.mark.parametrize("raw_key", NON_TEXT_KEYS)
@pytest.mark.parametrize("where", ["payload", "actor", "unknown-value", "unknown-value-deep"])
def test_custody_payload_non_text_map_key_is_malformed(tmp_path, where, raw_key):
    # §6: every map key in a custody payload is a text string, at any depth.
    manifest = _manifest_case()
    p = _payload(manifest, _raw_public(ALICE))
    marker = {"@": 0}
    if where == "payload":
        p.update(marker)
    elif where == "actor":
        p["actor"] = {**p["actor"], **marker}
    elif where == "unknown-value":
        p["x-extra"] = marker
    else:
        p["x-extra"] = [{"a": [marker]}]
    control = _custody_item(cbor2.dumps(p))
    assert _verify(tmp_path, _bundle(manifest, control)).verified
    item = _custody_item(_replace_marker_key(cbor2.dumps(p), raw_key))  # signed as is
    result = _verify(tmp_path, _bundle(manifest, item))
    assert result.classes == {"malformed-custody"}, [str(f) for f in result.failures]
    assert "not a text string" in result.failures[0].message


def test_protected_header_integer_labels_are_not_payload_keys(tmp_path):
    # The key rule is for the payload; the protected header's labels are integers (§9.1),
    # and its text labels are ignored like any label other than 1 and 4.
    manifest, payload = _entry_bytes()
    protected = cbor2.dumps({1: -8, 4: _fingerprint(ALICE), "x": 1, b"y": 2})
    assert _verify(tmp_path, _bundle(manifest, _custody_item(payload, protected=protected))).verified


def _big_second_entry(manifest: bytes, first: bytes) -> bytes:
    """A well-formed, validly signed entry 1 over the 64 KiB limit of §10."""
    big = _custody_item(cbor2.dumps(_payload(manifest, _raw_public(ALICE), seq=1, action="annotated",
                                             prev=hashlib.sha256(first).digest(), note="n" * 70_000)))
    assert len(big) > vb.MAX_CUSTODY_ENTRY
    return big


def _item0_variants(manifest: bytes) -> dict[str, bytes]:
    good = cbor2.dumps(_payload(manifest, _raw_public(ALICE)))
    entry = _custody_item(good)
    return {
        # well-formed items that are not valid entries: judged only after the whole split
        "untagged": entry[1:],
        "array of 3": b"\x83\x01\x02\x03",
        "plain uint": b"\x00",
        "protected header ill-formed inside its bstr": _custody_item(good, protected=b"\xa1\x01\x38\x07"),
        "protected header not a map": _custody_item(good, protected=cbor2.dumps([1])),
        "payload ill-formed inside its bstr": _custody_item(b"\xff"),
        "payload with trailing bytes": _custody_item(good + b"\x00"),
        "payload with an integer key": _custody_item(_with_raw_pair(good, b"\x01", b"\x00")),
        "payload with a float inside": _custody_item(_with_raw_pair(good, cbor2.dumps("x"), b"\xf9\x3c\x00")),
        "payload nil (detached)": b"\xd2\x84\x41\xa0\xa0\xf6" + cbor2.dumps(b"s" * 64),
        "signature of 63 bytes": _custody_item(good, signature=b"s" * 63),
        "unprotected not empty": _custody_item(good, unprotected=b"\xa1\x01\x00"),
        "bad signature": _custody_item(good, signature=b"\x00" * 64),
    }


def _item0_ill_formed() -> dict[str, bytes]:
    # items that are not well-formed per the §6 profile, judged on the item's own bytes
    return {
        "tag 18 nested": b"\xd2\xd2\x80",
        "tag 19 at the root": b"\xd3\x80",
        "tag below the root": b"\x81\xc1\x00",
        "depth 17": b"\xd2" + b"\x81" * 15 + b"\x80",
        "non-shortest signature length": b"\xd2\x84\x41\xa0\xa0\x41\xa0\x59\x00\x40" + b"s" * 64,
        "duplicate key in the unprotected map": b"\xd2\x84\x41\xa0\xa2\x01\x00\x01\x00\x41\xa0\x40",
        "float": b"\xf9\x3c\x00",
        "undefined": b"\xf7",
        "indefinite array": b"\xd2\x9f\xff",
        "invalid UTF-8 text": b"\x62\xc3\x28",
    }


@pytest.mark.parametrize("what", list(_item0_variants(_manifest_case())))
def test_custody_split_before_parse_well_formed_item_then_big_item(tmp_path, what):
    """§10: the log is split first (count, well-formedness of the item's own bytes,
    size); only when the whole log splits are items parsed as COSE_Sign1. So a
    well-formed item 0 that is no valid entry, followed by an item over 64 KiB, is
    limit-exceeded; alone it is whatever §9 makes it."""
    manifest = _manifest_case()
    item0 = _item0_variants(manifest)[what]
    first = _custody_item(cbor2.dumps(_payload(manifest, _raw_public(ALICE))))
    result = _verify(tmp_path, _bundle(manifest, item0 + _big_second_entry(manifest, first)))
    assert result.classes == {"limit-exceeded"}, [str(f) for f in result.failures]
    alone = _verify(tmp_path, _bundle(manifest, item0)).classes
    assert alone and "limit-exceeded" not in alone


@pytest.mark.parametrize("what", list(_item0_ill_formed()))
def test_custody_split_ill_formed_item_then_big_item(tmp_path, what):
    manifest = _manifest_case()
    item0 = _item0_ill_formed()[what]
    first = _custody_item(cbor2.dumps(_payload(manifest, _raw_public(ALICE))))
    big = _big_second_entry(manifest, first)
    assert _verify(tmp_path, _bundle(manifest, item0 + big)).classes == {"malformed-custody"}
    # after the big item instead: the big item is met first
    assert _verify(tmp_path, _bundle(manifest, first + big + item0)).classes == {"limit-exceeded"}


def test_custody_items_are_parsed_only_after_the_whole_log_splits(monkeypatch):
    calls = []
    real = vb._parse_custody_entry
    monkeypatch.setattr(vb, "_parse_custody_entry", lambda i, raw, item: calls.append(i) or real(i, raw, item))
    manifest = _manifest_case()
    first = _custody_item(cbor2.dumps(_payload(manifest, _raw_public(ALICE))))
    big = _big_second_entry(manifest, first)
    for log, exc in [(first + big, vb.LimitError), (first + b"\xf7", vb.CustodyError),
                     (first + b"\x00" * vb.MAX_CUSTODY_ENTRIES, vb.LimitError)]:
        calls.clear()
        with pytest.raises(exc):
            vb.parse_custody(log)
        assert calls == [], "an entry was parsed before the whole log had split"
    # a log that splits: entries are parsed in order, and the first bad one is reported
    calls.clear()
    with pytest.raises(vb.CustodyError) as err:
        vb.parse_custody(first + b"\x00" + first)
    assert calls == [0, 1] and err.value.entry == 1


def test_custody_count_limit_is_checked_before_the_item_itself(tmp_path):
    manifest = _manifest_case()
    first = _custody_item(cbor2.dumps(_payload(manifest, _raw_public(ALICE))))
    filler = b"\x00" * (vb.MAX_CUSTODY_ENTRIES - 1)  # items 1 .. 9,999: well-formed, not entries
    big = _big_second_entry(manifest, first)
    # 10,000 items split; item 1 is no entry: malformed-custody
    assert _verify(tmp_path, _bundle(manifest, first + filler)).classes == {"malformed-custody"}
    # item 10,000 exists: limit-exceeded, whatever it is (ill-formed, too big, or fine)
    for extra in (b"\xf7", big, first):
        assert _verify(tmp_path, _bundle(manifest, first + filler + extra)).classes == {"limit-exceeded"}
    # item 9,999 ill-formed: malformed-custody (the count is not passed)
    assert _verify(tmp_path, _bundle(manifest, first + filler[:-1] + b"\xf7")).classes == {"malformed-custody"}


def test_bundle_with_stored_size_mismatch_is_malformed_container(tmp_path):
    # The stored custody.cbor declares one byte more than its data, in both headers:
    # §2.1 item 5, found in the central directory, not corrupt-member.
    manifest = _manifest_case()
    item = _custody_item(cbor2.dumps(_payload(manifest, _raw_public(ALICE))))
    sums = vb.expected_sha256sums([(EVIDENCE_NAME, hashlib.sha256(EVIDENCE).digest())],
                                  hashlib.sha256(manifest).digest())
    data = _build_zip([
        _entry("mimetype", vb.MIMETYPE_CONTENT),
        _entry(EVIDENCE_NAME, EVIDENCE, 8),
        _entry("manifest.cbor", manifest, 8),
        _entry("SHA256SUMS", sums, 8),
        _entry("custody.cbor", item, usize=len(item) + 1),
    ])
    assert _verify(tmp_path, data).classes == {"malformed-container"}


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def test_cli_trust_directory_without_keys_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "bundle.zip").write_bytes(_bundle())
    empty = tmp_path / "keys"
    empty.mkdir()
    (empty / "README").write_text("no keys here")
    assert vb.main(["--trust", str(empty), str(tmp_path / "bundle.zip")]) == 2
    assert "holds no *.pub files" in capsys.readouterr().err
    with pytest.raises(vb.CannotRun, match="no \\*.pub"):
        vb.load_trust([empty])


def test_cli_json_and_exit_status(tmp_path, capsys):
    (tmp_path / "bundle.zip").write_bytes(_bundle())
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "alice.pub").write_bytes(ALICE.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    assert vb.main(["--json", "--trust", str(keys), str(tmp_path / "bundle.zip")]) == 0
    assert json.loads(capsys.readouterr().out) == {"verified": True, "failures": [], "key_stores": [None]}
    (keys / "alice.pub").write_bytes(Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    assert vb.main(["--json", "--trust", str(keys), str(tmp_path / "bundle.zip")]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["verified"] is False
    assert [(f["class"], f["entry"]) for f in report["failures"]] == [("untrusted-signer", 0)]
    assert set(report["failures"][0]) == {"class", "member", "entry", "message"}
    assert vb.main([str(tmp_path / "missing.zip")]) == 2


# ---------------------------------------------------------------------------
# The verifier agrees with the spec's tables
# ---------------------------------------------------------------------------


def test_failure_classes_match_spec_section_12():
    text = SPEC.read_text(encoding="utf-8")
    section = text[text.index("## 12. Failure classes"): text.index("## 13.")]
    classes = re.findall(r"^\| `([a-z-]+)` \|", section, flags=re.M)
    assert tuple(classes) == vb.FAILURE_CLASSES


def test_sections_match_spec_section_4():
    text = SPEC.read_text(encoding="utf-8")
    section = text[text.index("## 4. Sections"): text.index("## 5.")]
    rows = re.findall(r"^\| (\d) \| `([a-z]+)` \| `([0-9a-z/-]+)` \|", section, flags=re.M)
    assert {int(n): name for n, name, _ in rows} == vb.SECTIONS
    assert all(vb.section_prefix(name) == prefix for _, name, prefix in rows)

