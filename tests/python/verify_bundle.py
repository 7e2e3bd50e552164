#!/usr/bin/env python3
"""Independent verifier for the forensic bundle format, version 1.

Written from format-spec/SPEC.md alone (section numbers below, "§N", refer to it).
Dependencies: the Python standard library, ``cbor2`` (only to encode the COSE
Sig_structure) and ``cryptography`` (Ed25519, for the RFC 8032 equation).

Usage:
    python3 verify_bundle.py [--trust PUBFILE_OR_DIR]... [--expect-head HEX] [--json] BUNDLE.zip

``--expect-head`` gives a recorded custody head (§9.5, 64 hex digits): the bundle then
fails (``truncated-custody``) unless an entry of its custody log has that SHA-256.

Exit status (§12): 0 verified, 1 at least one failure, 2 could not run (including a
usage error such as a --trust directory that holds no ``*.pub`` file).

As a module:
    result = verify_file("bundle.zip", trust=["keys/alice.pub"], expect_head=None)
    result.verified, result.failures, result.custody_head

CBOR decoding is done by this module's own walker (``cbor_decode`` and friends) and
not by ``cbor2.loads``: the walker enforces the CBOR profile of §6 (definite lengths,
shortest-form heads, no floats, no simple values but false/true/null, no tags except
tag 18 at the root of a custody item, no duplicate map keys, depth ≤ 16), which
cbor2 does not.

Ed25519 verification (§9.2) is OpenSSL's RFC 8032 cofactorless check (through
``cryptography``) preceded by this module's own pure-Python checks that OpenSSL does
not make: S < L, strict RFC 8032 point decoding of A and R, and neither A nor R of
small order.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import struct
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Iterable, Optional

import cbor2
import timestamp_tokens as tst
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------

# §12 failure classes, in the table's order.
FAILURE_CLASSES = (
    "malformed-container",
    "unsupported-version",
    "limit-exceeded",
    "missing-member",
    "unexpected-member",
    "corrupt-member",
    "malformed-manifest",
    "section-order",
    "digest-mismatch",
    "sums-mismatch",
    "malformed-custody",
    "bad-signature",
    "broken-chain",
    "seal-mismatch",
    "custody-semantics",
    "untrusted-signer",
    "truncated-custody",
    "malformed-timestamp",
    "timestamp-imprint",
    "timestamp-signature",
    "untrusted-timestamp",
    "timestamp-expired",
    "time-after-timestamp",
)

# §2.2
MIMETYPE_NAME = "mimetype"
MIMETYPE_CONTENT = b"application/vnd.forensic-bundle.v1+zip"
# §2.2: another version of this format: exactly this text with N a decimal number
# other than `1`. "Decimal number" is read as one or more ASCII digits (no sign, no
# spaces), and "other than `1`" as other than the text "1": "v01" is another version.
MIMETYPE_OTHER_VERSION = re.compile(rb"application/vnd\.forensic-bundle\.v([0-9]+)\+zip")
MANIFEST_NAME = "manifest.cbor"
SUMS_NAME = "SHA256SUMS"
CUSTODY_NAME = "custody.cbor"
METADATA_NAMES = (MIMETYPE_NAME, MANIFEST_NAME, SUMS_NAME, CUSTODY_NAME)

# §4: number -> (name, prefix)
SECTIONS = {
    1: "processes",
    2: "network",
    3: "memory",
    4: "logs",
    5: "filesystem",
    6: "podspec",
    7: "audit",
    8: "alerts",
    9: "image",
}
SECTION_NUMBER = {name: number for number, name in SECTIONS.items()}


def section_prefix(name: str) -> str:
    """§4: the member-name prefix of a section, e.g. ``1-processes/``."""
    return f"{SECTION_NUMBER[name]}-{name}/"


# §10 reader limits.
MAX_MEMBERS = 65_536
MAX_NAME_BYTES = 1_024
MAX_MEMBER_SIZE = 1 << 40  # every member, metadata included (§10, §11 step 1(e))
MAX_TOTAL_SIZE = 1 << 44
DEFLATE_RATIO = 1_100
DEFLATE_SLACK = 1_024
MAX_MIMETYPE_SIZE = 64
MAX_MANIFEST_SIZE = 16 * 1024 * 1024
MAX_SUMS_SIZE = 8 * 1024 * 1024
MAX_CUSTODY_SIZE = 4 * 1024 * 1024
MAX_CUSTODY_ENTRY = 64 * 1024
MAX_CUSTODY_ENTRIES = 10_000
MAX_CBOR_DEPTH = 16

METADATA_SIZE_LIMITS = {
    MANIFEST_NAME: MAX_MANIFEST_SIZE,
    SUMS_NAME: MAX_SUMS_SIZE,
    CUSTODY_NAME: MAX_CUSTODY_SIZE,
}

# §8: DER SubjectPublicKeyInfo prefix of an Ed25519 key.
ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")
# RFC 8032 §5.1: edwards25519 (-x² + y² = 1 + d·x²·y² over GF(p)) and the order L of
# its base point, for the checks of §9.2 that OpenSSL does not make.
ED25519_P = (1 << 255) - 19
ED25519_D = -121665 * pow(121666, ED25519_P - 2, ED25519_P) % ED25519_P
ED25519_SQRT_M1 = pow(2, (ED25519_P - 1) // 4, ED25519_P)
ED25519_L = (1 << 252) + 27742317777372353535851937790883648493
COSE_ALG_EDDSA = -8
COSE_TAG_SIGN1 = 18

READ_CHUNK = 1 << 20  # streaming chunk size for member content

# ZIP record signatures (APPNOTE 6.3.x)
SIG_LOCAL = 0x04034B50
SIG_CENTRAL = 0x02014B50
SIG_EOCD = 0x06054B50
SIG_ZIP64_EOCD = 0x06064B50
SIG_ZIP64_LOCATOR = 0x07064B50
ZIP64_EXTRA_ID = 0x0001
EOCD_LEN = 22
ZIP64_LOCATOR_LEN = 20
ZIP64_EOCD_LEN = 56  # §2.1 item 2: exactly the fixed part, no extensible data sector
ZIP64_EOCD_RECORD_SIZE = 44  # its "size of record" field: 56 - 12
LOCAL_HEADER_LEN = 30
CENTRAL_HEADER_LEN = 46
U16_MAX = 0xFFFF
U32_MAX = 0xFFFFFFFF
# §2.1 item 4: general-purpose flag bits that MUST be clear
FORBIDDEN_FLAGS = (1 << 0) | (1 << 3) | (1 << 5) | (1 << 6)


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


@dataclass
class Failure:
    """One failure (§11): its §12 class and what it concerns."""

    cls: str
    member: Optional[str]
    entry: Optional[int]
    message: str

    def to_json(self) -> dict:
        return {"class": self.cls, "member": self.member, "entry": self.entry, "message": self.message}

    def __str__(self) -> str:
        where = []
        if self.member is not None:
            where.append(f"member {self.member!r}")
        if self.entry is not None:
            where.append(f"custody entry {self.entry}")
        loc = f" [{', '.join(where)}]" if where else ""
        return f"{self.cls}{loc}: {self.message}"


@dataclass
class Result:
    failures: list[Failure] = field(default_factory=list)
    custody_head: Optional[str] = None  # hex SHA-256 of the last custody entry (§9.3)
    custody_entries: int = 0
    key_stores: list = field(default_factory=list)  # §9.8, one per entry: a dict or None

    @property
    def verified(self) -> bool:
        return not self.failures

    @property
    def classes(self) -> set[str]:
        return {f.cls for f in self.failures}

    def to_json(self) -> dict:
        return {"verified": self.verified, "failures": [f.to_json() for f in self.failures],
                "key_stores": self.key_stores}


class CannotRun(Exception):
    """The verifier could not run at all (exit status 2)."""


class _Stop(Exception):
    """Internal: a step of §11 says *stop*."""


# ---------------------------------------------------------------------------
# CBOR walker and decoder: RFC 8949 under the profile of §6
# ---------------------------------------------------------------------------


class CborError(ValueError):
    """The bytes are not one item of the CBOR profile of §6 (RFC 8949 well-formedness
    plus the profile's restrictions)."""


class LimitError(Exception):
    """A §10 limit was passed."""


class Tag:
    """A CBOR tag kept as-is. Under the §6 profile the only tag is the tag 18 at the
    root of a custody item, so this only ever appears there."""

    __slots__ = ("number", "value")

    def __init__(self, number: int, value: Any):
        self.number = number
        self.value = value

    def __repr__(self) -> str:
        return f"Tag({self.number}, {self.value!r})"


class CborMap:
    """A decoded CBOR map: the pairs in encoded order, with lookup by text or int key."""

    __slots__ = ("pairs", "_text")

    def __init__(self, pairs: list[tuple[Any, Any]]):
        self.pairs = pairs
        self._text = {k: v for k, v in pairs if isinstance(k, str)}

    def __len__(self) -> int:
        return len(self.pairs)

    def __contains__(self, key: str) -> bool:
        return key in self._text

    def get(self, key: str, default: Any = None) -> Any:
        return self._text.get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self._text[key]

    def get_int(self, key: int, default: Any = None) -> Any:
        """Lookup by integer label (COSE headers). Booleans are not integers here."""
        for k, v in self.pairs:
            if is_int(k) and k == key:
                return v
        return default

    def __repr__(self) -> str:
        return f"CborMap({self.pairs!r})"


def is_int(v: Any) -> bool:
    """CDDL ``int`` as §6 bounds it: major type 0 or 1 within the signed 64-bit range (booleans
    excluded). Only the values of listed keys are checked with it: under unknown keys any
    integer CBOR encodes is fine (§6, 1.0.1)."""
    return isinstance(v, int) and not isinstance(v, bool) and -(2**63) <= v < 2**63


def is_uint(v: Any) -> bool:
    """CDDL ``uint``: major type 0 (at most 2^64 - 1, which CBOR cannot exceed anyway)."""
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**64


# §6 profile, "every head in its shortest form": the smallest argument each
# additional-information value 24..27 may carry (RFC 8949 §4.1 preferred serialization).
_SHORTEST_MIN = {24: 24, 25: 1 << 8, 26: 1 << 16, 27: 1 << 32}
# Major type 7 under the profile: false (20), true (21), null (22) and nothing else.
_SIMPLE_VALUES = {20: False, 21: True, 22: None}


class _CborReader:
    """Recursive-descent reader of one item of the §6 CBOR profile over a bytes buffer.

    Never allocates more than it has read: every declared length is checked against
    the bytes remaining before it is used. ``root_tag`` is the one tag number allowed,
    and only at the root (tag 18 for a custody item, §6 / §9.1); None allows no tag."""

    def __init__(self, data: bytes, max_depth: int = MAX_CBOR_DEPTH, root_tag: Optional[int] = None):
        self.data = data
        self.max_depth = max_depth
        self.root_tag = root_tag

    def _head(self, pos: int) -> tuple[int, int, int, int]:
        """Read an item head at ``pos``: (major type, additional info, argument, next pos).
        Rejects indefinite lengths, reserved values and non-shortest arguments; major
        type 7 is left to ``item``."""
        data = self.data
        if pos >= len(data):
            raise CborError(f"truncated: item head expected at offset {pos}")
        ib = data[pos]
        major, ai = ib >> 5, ib & 0x1F
        start, pos = pos, pos + 1
        if major == 7:
            return major, ai, ai, pos
        if ai < 24:
            return major, ai, ai, pos
        if ai <= 27:
            n = 1 << (ai - 24)  # 1, 2, 4 or 8 bytes
            if pos + n > len(data):
                raise CborError(f"truncated: {n}-byte argument at offset {pos}")
            arg = int.from_bytes(data[pos : pos + n], "big")
            if arg < _SHORTEST_MIN[ai]:
                raise CborError(f"non-shortest head at offset {start}: {arg} in {n + 1} bytes (§6 profile)")
            return major, ai, arg, pos + n
        if ai == 31:
            raise CborError(f"indefinite length at offset {start} (definite lengths only, §6)")
        raise CborError(f"reserved additional information {ai} at offset {start}")

    def item(self, pos: int, depth: int) -> tuple[Any, int]:
        """Decode one item starting at ``pos``; ``depth`` = arrays, maps and tags around
        it. Returns (value, end offset)."""
        data = self.data
        start = pos
        major, ai, arg, pos = self._head(pos)
        remaining = len(data) - pos
        if major == 0:
            return arg, pos
        if major == 1:
            return -1 - arg, pos
        if major in (2, 3):
            if arg > remaining:  # checked before slicing: a huge length never allocates
                raise CborError(f"truncated: string of {arg} bytes at offset {start}, {remaining} left")
            raw = data[pos : pos + arg]
            if major == 2:
                return raw, pos + arg
            try:
                return raw.decode("utf-8", errors="strict"), pos + arg
            except UnicodeDecodeError as e:
                raise CborError(f"invalid UTF-8 in text string at offset {start}: {e}") from None
        if major == 7:
            if ai in _SIMPLE_VALUES:
                return _SIMPLE_VALUES[ai], pos
            if ai == 31:
                raise CborError(f"break code outside an indefinite-length item at offset {start}")
            if 25 <= ai <= 27:
                raise CborError(f"floating-point number at offset {start} (not allowed, §6)")
            if ai in (28, 29, 30):
                raise CborError(f"reserved additional information {ai} at offset {start}")
            raise CborError(f"simple value other than false/true/null at offset {start} (§6)")
        # Arrays, maps and tags each count one nesting level (§6, §10).
        if depth + 1 > self.max_depth:
            raise CborError(f"nesting deeper than {self.max_depth} at offset {start}")
        if major == 4:
            if arg > remaining:  # each element takes at least one byte
                raise CborError(f"truncated: array of {arg} items at offset {start}")
            items = []
            for _ in range(arg):
                v, pos = self.item(pos, depth + 1)
                items.append(v)
            return items, pos
        if major == 5:
            if arg > remaining // 2:  # each pair takes at least two bytes
                raise CborError(f"truncated: map of {arg} pairs at offset {start}")
            pairs = []
            seen: set[bytes] = set()
            for _ in range(arg):
                key_start = pos
                k, pos = self.item(pos, depth + 1)
                # §6: duplicate keys are compared by their encoded bytes; with shortest
                # heads and no floats or tags, equal keys have equal bytes.
                raw_key = data[key_start:pos]
                if raw_key in seen:
                    raise CborError(f"duplicate map key {raw_key.hex()} at offset {key_start}")
                seen.add(raw_key)
                v, pos = self.item(pos, depth + 1)
                pairs.append((k, v))
            return CborMap(pairs), pos
        # major 6: a tag. §6: none, except the root tag of a custody item.
        if not (depth == 0 and self.root_tag is not None and arg == self.root_tag):
            raise CborError(f"tag {arg} at offset {start} (no tags allowed here, §6)")
        v, pos = self.item(pos, depth + 1)
        return Tag(arg, v), pos


def cbor_decode_at(data: bytes, pos: int = 0, max_depth: int = MAX_CBOR_DEPTH,
                   root_tag: Optional[int] = None) -> tuple[Any, int]:
    """Decode the item at ``pos``; return (value, end offset). Raises CborError."""
    try:
        return _CborReader(data, max_depth, root_tag).item(pos, 0)
    except RecursionError:  # pragma: no cover - depth is bounded well below the limit
        raise CborError("nesting too deep") from None


def cbor_item_length(data: bytes, pos: int = 0, max_depth: int = MAX_CBOR_DEPTH,
                     root_tag: Optional[int] = None) -> int:
    """The walker: check the item at ``pos`` against the §6 profile and return its
    length in bytes."""
    _, end = cbor_decode_at(data, pos, max_depth, root_tag)
    return end - pos


def cbor_decode(data: bytes, max_depth: int = MAX_CBOR_DEPTH, root_tag: Optional[int] = None) -> Any:
    """Decode exactly one item of the §6 profile that fills ``data``."""
    value, end = cbor_decode_at(data, 0, max_depth, root_tag)
    if end != len(data):
        raise CborError(f"{len(data) - end} trailing bytes after the item")
    return value


class SequenceItemError(CborError):
    """An item of a CBOR sequence is not an item of the §6 profile."""

    def __init__(self, message: str, index: int):
        super().__init__(message)
        self.index = index


def cbor_split_sequence(
    data: bytes, max_items: Optional[int] = None, max_item_len: Optional[int] = None,
    root_tag: Optional[int] = None,
) -> list[tuple[int, bytes, Any]]:
    """Split a CBOR sequence (RFC 8742) into items: [(offset, exact bytes, value)].

    §10: items are checked one at a time, in order, and for item i: i ≥ ``max_items``
    raises LimitError; then an item that is not well-formed per §6 raises
    SequenceItemError; then an item longer than ``max_item_len`` bytes raises
    LimitError. Well-formedness is judged on the item's own bytes only: byte strings
    are not looked into (a custody item's protected header and payload are parsed
    later, once the whole log has split), and the item's structure (tag 18, an array
    of four, ...) is not judged here either: an untagged item is a well-formed item
    with no tags."""
    items = []
    pos = 0
    while pos < len(data):
        index = len(items)
        if max_items is not None and index >= max_items:
            raise LimitError(f"more than {max_items} items")
        try:
            value, end = cbor_decode_at(data, pos, root_tag=root_tag)
        except CborError as e:
            raise SequenceItemError(f"item {index} at offset {pos}: {e}", index) from None
        if max_item_len is not None and end - pos > max_item_len:
            raise LimitError(f"item {index} is {end - pos} bytes (limit {max_item_len})")
        items.append((pos, data[pos:end], value))
        pos = end
    return items


# ---------------------------------------------------------------------------
# Small format helpers: times (§5), names (§3), fingerprints (§8), SHA256SUMS (§7)
# ---------------------------------------------------------------------------

# §5: YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ, ASCII digits only ([0-9], not \d), nothing else.
_TIME_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\.([0-9]{9})Z")


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def is_valid_time(s: Any) -> bool:
    """§5: a text string in the exact fixed form, a valid Gregorian date, no leap second."""
    if not isinstance(s, str):
        return False
    m = _TIME_RE.fullmatch(s)
    if not m:
        return False
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    if not 1 <= month <= 12:
        return False
    if not 1 <= day <= _days_in_month(year, month):
        return False
    return hour <= 23 and minute <= 59 and second <= 59


_FORBIDDEN_NAME_CHARS = re.compile(r"[\x00-\x1f\x7f\\]")


def name_problem(name: str) -> Optional[str]:
    """§3: why ``name`` is not a valid member name, or None if it is.

    This checks the syntax rules only; the rule that an evidence member name starts
    with *its* section's prefix is checked by §11 step 6 (``section-order``), so a name
    under no prefix (``notes.txt``) is valid. Only C0 controls, DEL and backslash are
    forbidden: C1 controls, U+2028 and U+FEFF are valid (§3, 1.0.1)."""
    if not name:
        return "empty name"
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        return f"name longer than {MAX_NAME_BYTES} bytes"
    if _FORBIDDEN_NAME_CHARS.search(name):
        return "name contains a control character or a backslash"
    for segment in name.split("/"):
        if segment in ("", ".", ".."):
            return "name has an empty, '.' or '..' segment"
    return None


def fingerprint_of_raw_key(raw_key: bytes) -> bytes:
    """§8: SHA-256 of the DER SubjectPublicKeyInfo of a raw 32-byte Ed25519 key."""
    if len(raw_key) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return hashlib.sha256(ED25519_SPKI_PREFIX + raw_key).digest()


def load_public_key_file(path: Path) -> bytes:
    """Read a PEM SubjectPublicKeyInfo Ed25519 key file (§8); return its fingerprint."""
    try:
        pem = path.read_bytes()
    except OSError as e:
        raise CannotRun(f"cannot read trust key {path}: {e}") from None
    try:
        key = serialization.load_pem_public_key(pem)
    except Exception as e:  # ValueError, UnsupportedAlgorithm, ...
        raise CannotRun(f"{path}: not a PEM public key: {e}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise CannotRun(f"{path}: not an Ed25519 public key")
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).digest()


def trust_dir_keys(directory: Path) -> list[Path]:
    """The ``*.pub`` files of a trust directory, sorted."""
    return [f for f in sorted(directory.glob("*.pub")) if f.is_file()]


def load_trust(paths: Iterable[os.PathLike | str]) -> set[bytes]:
    """A trust list (§8): fingerprints of the given key files, and of every ``*.pub``
    file in the given directories. A directory holding no ``*.pub`` file raises
    CannotRun (as in the Rust CLI, where it is a usage error): it would otherwise make
    every signer untrusted without saying why."""
    fingerprints: set[bytes] = set()
    for p in map(Path, paths):
        if p.is_dir():
            keys = trust_dir_keys(p)
            if not keys:
                raise CannotRun(f"trust directory {p} holds no *.pub files")
            for f in keys:
                fingerprints.add(load_public_key_file(f))
        elif p.exists():
            fingerprints.add(load_public_key_file(p))
        else:
            raise CannotRun(f"trust key {p} does not exist")
    return fingerprints


_SUMS_LINE_RE = re.compile(rb"([0-9a-f]{64})  ([^\n]+)\n")


def parse_sha256sums(data: bytes) -> list[tuple[str, str]]:
    """Parse a SHA256SUMS file in the strict form of §7: [(hex digest, member name)].

    Raises ValueError naming the first offending line. (Verification itself compares
    the file with the exact expected text; this parser gives the diagnostic.)"""
    entries = []
    pos = 0
    line_no = 0
    if data.startswith(b"\xef\xbb\xbf"):
        raise ValueError("byte order mark")
    while pos < len(data):
        line_no += 1
        m = _SUMS_LINE_RE.match(data, pos)
        if not m:
            end = data.find(b"\n", pos)
            line = data[pos : end if end >= 0 else len(data)]
            raise ValueError(f"line {line_no} is not '<64 lowercase hex>  <name>LF': {line[:80]!r}")
        digest, raw_name = m.group(1).decode("ascii"), m.group(2)
        try:
            name = raw_name.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"line {line_no}: name is not UTF-8") from None
        problem = name_problem(name)
        if problem:
            raise ValueError(f"line {line_no}: {problem}")
        entries.append((digest, name))
        pos = m.end()
    return entries


def expected_sha256sums(members: list[tuple[str, bytes]], manifest_digest: bytes) -> bytes:
    """§7: the exact SHA256SUMS text for [(member name, sha256)] and the manifest digest."""
    lines = [f"{digest.hex()}  {name}\n" for name, digest in members]
    lines.append(f"{manifest_digest.hex()}  {MANIFEST_NAME}\n")
    return "".join(lines).encode("utf-8")


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    """§9.2: CBOR(["Signature1", protected, h'', payload]), definite, shortest form."""
    return cbor2.dumps(["Signature1", protected, b"", payload])


# ---------------------------------------------------------------------------
# Ed25519 (§9.2): the checks a plain RFC 8032 verifier such as OpenSSL leaves out
# ---------------------------------------------------------------------------

# A point in extended twisted-Edwards coordinates (X, Y, Z, T): x = X/Z, y = Y/Z,
# x·y = T/Z (RFC 8032 §5.1.4).
_Point = tuple[int, int, int, int]


def is_canonical_signature(signature: bytes) -> bool:
    """§9.2 / RFC 8032 §5.1.7: S (the second half, little-endian) is less than L."""
    return len(signature) == 64 and int.from_bytes(signature[32:], "little") < ED25519_L


def ed25519_decode_point(encoding: bytes) -> Optional[_Point]:
    """RFC 8032 §5.1.3 point decoding; None when decoding fails.

    Strict, as RFC 8032 says: a y coordinate ≥ p (a non-canonical encoding) fails, as
    does x = 0 with the sign bit set (the other non-canonical form) and a y for which
    no x exists."""
    p = ED25519_P
    if len(encoding) != 32:
        return None
    n = int.from_bytes(encoding, "little")
    sign = n >> 255
    y = n & ((1 << 255) - 1)
    if y >= p:
        return None
    # x² = (y² - 1) / (d·y² + 1); candidate root x = u·v³·(u·v⁷)^((p-5)/8).
    u = (y * y - 1) % p
    v = (ED25519_D * y * y + 1) % p
    x = u * pow(v, 3, p) * pow(u * pow(v, 7, p), (p - 5) // 8, p) % p
    vxx = v * x * x % p
    if vxx == (-u) % p:
        x = x * ED25519_SQRT_M1 % p
    elif vxx != u:
        return None  # not on the curve
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = p - x
    return (x, y, 1, x * y % p)


def _ed25519_double(pt: _Point) -> _Point:
    """RFC 8032 §5.1.4 point doubling in extended coordinates (a = -1)."""
    p = ED25519_P
    x1, y1, z1, _ = pt
    a = x1 * x1 % p
    b = y1 * y1 % p
    c = 2 * z1 * z1 % p
    h = (a + b) % p
    e = (h - (x1 + y1) * (x1 + y1)) % p
    g = (a - b) % p
    f = (c + g) % p
    return (e * f % p, g * h % p, f * g % p, e * h % p)


def ed25519_is_small_order(pt: _Point) -> bool:
    """§9.2: P is of small order when 8·P is the identity (x = 0, y = 1)."""
    for _ in range(3):
        pt = _ed25519_double(pt)
    x, y, z, _ = pt
    return x % ED25519_P == 0 and (y - z) % ED25519_P == 0


def ed25519_verify_strict(public_key: bytes, signature: bytes, message: bytes) -> Optional[str]:
    """§9.2: RFC 8032 §5.1.7 cofactorless verification with strict decoding of A and R,
    S < L, and neither A nor R of small order (a mixed-order A is not of small order).
    Returns why the signature fails, or None when it verifies.

    The equation itself is OpenSSL's (cofactorless, comparing encodings); before it,
    this function checks S < L, decodes A and R strictly (RFC 8032 §5.1.3; a failed
    decoding fails the signature, §5.1.7) and rejects small-order A or R, which OpenSSL
    does not: with A = R = the identity and S = 0 its equation holds for every message."""
    if len(public_key) != 32 or len(signature) != 64:
        return "key or signature of the wrong length"
    if not is_canonical_signature(signature):
        return "signature is not canonical (S >= L)"
    a = ed25519_decode_point(public_key)
    if a is None:
        return "actor.key is not a valid Ed25519 point encoding (RFC 8032 §5.1.3)"
    if ed25519_is_small_order(a):
        return "actor.key is a point of small order"
    r = ed25519_decode_point(signature[:32])
    if r is None:
        return "signature R is not a valid Ed25519 point encoding (RFC 8032 §5.1.3)"
    if ed25519_is_small_order(r):
        return "signature R is a point of small order"
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except InvalidSignature:
        return "Ed25519 signature does not verify"
    except ValueError as exc:  # pragma: no cover - the key decoded above
        return f"actor.key is not a usable Ed25519 key: {exc}"
    return None


# ---------------------------------------------------------------------------
# ZIP container (§2.1)
# ---------------------------------------------------------------------------


@dataclass
class ZipMember:
    index: int
    name: str
    flags: int
    method: int
    crc: int
    csize: int
    usize: int
    local_offset: int
    data_offset: int = 0  # filled in when the local header has been checked


class ContainerError(Exception):
    def __init__(self, message: str, member: Optional[str] = None):
        super().__init__(message)
        self.member = member


def _read_at(f: BinaryIO, offset: int, length: int) -> bytes:
    """Read exactly ``length`` bytes at ``offset``; short read -> ContainerError.
    Callers only pass lengths bounded by a 16-bit field or a fixed record size."""
    try:
        f.seek(offset)
        data = f.read(length)
    except OSError as e:
        raise CannotRun(f"read error: {e}") from None
    if len(data) != length:
        raise ContainerError(f"unexpected end of file reading {length} bytes at offset {offset}")
    return data


def _zip64_block(extra: bytes, where: str) -> Optional[bytes]:
    """§2.1 item 8: an extra area is a sequence of (ID, length, data) blocks that fills
    it exactly, with at most one Zip64 block (ID 0x0001). Returns that block's data,
    or None. Other blocks are ignored (§2.1: readers ignore them) and may repeat."""
    zip64: Optional[bytes] = None
    pos = 0
    while pos < len(extra):
        if pos + 4 > len(extra):
            raise ContainerError(f"{where}: truncated extra field block header")
        hid, size = struct.unpack_from("<HH", extra, pos)
        pos += 4
        if pos + size > len(extra):
            raise ContainerError(f"{where}: extra field block 0x{hid:04x} overruns the extra field")
        if hid == ZIP64_EXTRA_ID:
            if zip64 is not None:
                raise ContainerError(f"{where}: more than one Zip64 extra field block")
            zip64 = extra[pos : pos + size]
        pos += size
    return zip64


def _resolve_zip64(zip64: Optional[bytes], fields: list[tuple[str, int]], where: str) -> dict[str, int]:
    """§2.1 item 8: each field holding 0xFFFFFFFF takes the next 8-byte value of the
    Zip64 block, in the order given (uncompressed size, compressed size, local header
    offset); fields that are not saturated keep their own value. A block too short for
    the saturated fields (or none at all) is malformed. Bytes after the values needed
    are not read: the text makes only a short block malformed."""
    out = {}
    pos = 0
    for name, value in fields:
        if value != U32_MAX:
            out[name] = value
            continue
        if zip64 is None:
            raise ContainerError(f"{where}: {name} is 0xFFFFFFFF but there is no Zip64 extra field")
        if pos + 8 > len(zip64):
            raise ContainerError(f"{where}: Zip64 extra field too short for the saturated fields")
        out[name] = int.from_bytes(zip64[pos : pos + 8], "little")
        pos += 8
    return out


@dataclass
class EndRecords:
    """What §11 step 1(a) establishes: the (Zip64-resolved) entry count and central
    directory position, and where the central directory must end."""

    entries: int
    cd_size: int
    cd_offset: int
    cd_end: int


def read_end_records(f: BinaryIO, file_size: int) -> EndRecords:
    """§11 step 1(a): the end records, §2.1 item 2. Raises ContainerError."""
    if file_size < EOCD_LEN:
        raise ContainerError("file too short to hold an End Of Central Directory record")
    eocd_offset = file_size - EOCD_LEN
    (sig, disk, cd_disk, n_disk, n_total, cd_size, cd_offset, comment_len) = struct.unpack(
        "<IHHHHIIH", _read_at(f, eocd_offset, EOCD_LEN)
    )
    if sig != SIG_EOCD or comment_len != 0:
        raise ContainerError(
            "the file does not end with an End Of Central Directory record with an empty comment"
            " (appended data or an archive comment)"
        )
    # "Single-disk archives only: every disk number is 0". The Zip64 record is
    # authoritative for the entry counts, the central directory size and its offset
    # only, so the EOCD's two disk numbers are 0 even in a Zip64 archive (0xFFFF is
    # not an escape for them).
    if disk != 0 or cd_disk != 0:
        raise ContainerError("not a single-disk archive (EOCD disk numbers must be 0)")
    eocd_fields = [(n_disk, U16_MAX), (n_total, U16_MAX), (cd_size, U32_MAX), (cd_offset, U32_MAX)]
    loc_offset = eocd_offset - ZIP64_LOCATOR_LEN
    has_locator = loc_offset >= 0 and struct.unpack("<I", _read_at(f, loc_offset, 4))[0] == SIG_ZIP64_LOCATOR

    if not has_locator:
        if any(value == sat for value, sat in eocd_fields):
            raise ContainerError("an EOCD field is saturated but no Zip64 EOCD locator precedes the EOCD")
        cd_end = eocd_offset
    else:
        # A locator makes the Zip64 EOCD record it points to authoritative.
        _, z_disk, z_offset, total_disks = struct.unpack("<IIQI", _read_at(f, loc_offset, ZIP64_LOCATOR_LEN))
        if z_disk != 0:
            raise ContainerError("the Zip64 EOCD locator puts the Zip64 EOCD record on another disk")
        if total_disks not in (0, 1):
            raise ContainerError(f"the Zip64 EOCD locator says {total_disks} disks (single-disk archives only)")
        if z_offset + ZIP64_EOCD_LEN != loc_offset:
            raise ContainerError("the Zip64 EOCD record is not 56 bytes ending where its locator begins")
        (zsig, zrec_size, _made_by, _needed, zdisk, zcd_disk, zn_disk, zn_total, zcd_size, zcd_offset) = (
            struct.unpack("<IQHHIIQQQQ", _read_at(f, z_offset, ZIP64_EOCD_LEN))
        )
        if zsig != SIG_ZIP64_EOCD:
            raise ContainerError("the Zip64 EOCD locator does not point to a Zip64 EOCD record")
        if zrec_size != ZIP64_EOCD_RECORD_SIZE:
            raise ContainerError(f"the Zip64 EOCD record's size field is {zrec_size}, not 44 (no extensible data)")
        if zdisk != 0 or zcd_disk != 0:
            raise ContainerError("not a single-disk archive (Zip64 EOCD disk numbers must be 0)")
        zip64_values = (zn_disk, zn_total, zcd_size, zcd_offset)
        for (value, sat), z_value in zip(eocd_fields, zip64_values):
            if value != sat and value != z_value:
                raise ContainerError("an EOCD field that is not saturated differs from the Zip64 EOCD record")
        # §2.1 item 2: the counts are compared after saturated fields are filled in.
        n_disk, n_total, cd_size, cd_offset = zip64_values
        cd_end = z_offset
    if n_disk != n_total:
        raise ContainerError(f"entries on this disk ({n_disk}) differ from total entries ({n_total})")
    return EndRecords(n_total, cd_size, cd_offset, cd_end)


def read_central_directory(f: BinaryIO, end: EndRecords) -> list[ZipMember]:
    """§11 step 1(c): the central directory entries, in order, as far as §2.1 items 3–8
    can be checked from the central directory alone. Raises ContainerError."""
    if end.entries == 0:
        raise ContainerError("the archive has no members")
    # Item 3: the central directory ends where the (Zip64) EOCD begins.
    if end.cd_offset + end.cd_size != end.cd_end:
        raise ContainerError("the central directory does not end where the end-of-central-directory records begin")
    cd_end = end.cd_end
    members: list[ZipMember] = []
    names: set[str] = set()
    pos = end.cd_offset
    for index in range(end.entries):
        if pos + CENTRAL_HEADER_LEN > cd_end:
            raise ContainerError(f"central directory entry {index} overruns the central directory")
        (sig, _made_by, _needed, flags, method, _time, _date, crc, csize, usize, name_len, extra_len,
         comment_len, disk_start, _int_attr, _ext_attr, local_offset) = struct.unpack(
            "<IHHHHHHIIIHHHHHII", _read_at(f, pos, CENTRAL_HEADER_LEN)
        )
        if sig != SIG_CENTRAL:
            raise ContainerError(f"bad central directory entry signature at offset {pos}")
        entry_end = pos + CENTRAL_HEADER_LEN + name_len + extra_len + comment_len
        if entry_end > cd_end:
            raise ContainerError(f"central directory entry {index} overruns the central directory")
        raw_name = _read_at(f, pos + CENTRAL_HEADER_LEN, name_len)
        extra = _read_at(f, pos + CENTRAL_HEADER_LEN + name_len, extra_len)
        pos = entry_end
        # Item 7 / §3 / §10: names are UTF-8 whatever bit 11 says, ≤ 1,024 bytes, valid.
        try:
            name = raw_name.decode("utf-8")
        except UnicodeDecodeError:
            raise ContainerError(f"member name of entry {index} is not UTF-8") from None
        problem = name_problem(name)
        if problem:
            raise ContainerError(f"invalid member name: {problem}", name)
        # Item 7: no file comment.
        if comment_len:
            raise ContainerError("central directory entry has a file comment", name)
        # Item 4: flag bits 0, 3, 5 and 6 clear.
        if flags & FORBIDDEN_FLAGS:
            raise ContainerError(f"forbidden general-purpose flag bits 0x{flags & FORBIDDEN_FLAGS:04x} set", name)
        # Item 5: stored or deflate. ("mimetype is stored" is §11 step 2, the marker.)
        if method not in (0, 8):
            raise ContainerError(f"compression method {method} (only 0 and 8 are allowed)", name)
        # Item 8: extra area tiling, Zip64 values for the saturated fields, in order.
        where = f"central directory entry for {name!r}"
        z = _resolve_zip64(_zip64_block(extra, where),
                           [("usize", usize), ("csize", csize), ("offset", local_offset)], where)
        usize, csize, local_offset = z["usize"], z["csize"], z["offset"]
        # Item 5: a stored member's sizes are equal.
        if method == 0 and csize != usize:
            raise ContainerError(f"stored member with compressed size {csize} ≠ uncompressed size {usize}", name)
        # Item 2: single disk; "disk number start" is 0 (0xFFFF is not a Zip64 escape here).
        if disk_start != 0:
            raise ContainerError(f"disk number start is {disk_start}, not 0", name)
        # Item 7: unique names.
        if name in names:
            raise ContainerError("duplicate member name", name)
        names.add(name)
        members.append(ZipMember(index, name, flags, method, crc, csize, usize, local_offset))
    # Item 3: exactly the declared number of entries fills the central directory.
    if pos != cd_end:
        raise ContainerError("the central directory holds more bytes than its entries")
    return members


def check_local_headers(f: BinaryIO, members: list[ZipMember], cd_offset: int) -> None:
    """§11 step 1(d): the local headers, in order, and the tiling (§2.1 items 1, 3, 6).
    Fills in each member's ``data_offset``. Raises ContainerError."""
    expected = 0  # item 1: the first local header is at offset 0
    for m in members:
        if m.local_offset != expected:
            if m.index == 0:
                raise ContainerError("the first member's local header is not at offset 0 (prepended data)", m.name)
            raise ContainerError(f"local header at offset {m.local_offset}, expected {expected} (gap or overlap)",
                                 m.name)
        if expected + LOCAL_HEADER_LEN > cd_offset:
            raise ContainerError("local header overruns the central directory", m.name)
        (sig, _needed, flags, method, _time, _date, crc, csize, usize, name_len, extra_len) = struct.unpack(
            "<IHHHHHIIIHH", _read_at(f, expected, LOCAL_HEADER_LEN)
        )
        if sig != SIG_LOCAL:
            raise ContainerError(f"no local file header at offset {expected}", m.name)
        data_offset = expected + LOCAL_HEADER_LEN + name_len + extra_len
        if data_offset > cd_offset:
            raise ContainerError("local header overruns the central directory", m.name)
        raw_name = _read_at(f, expected + LOCAL_HEADER_LEN, name_len)
        extra = _read_at(f, expected + LOCAL_HEADER_LEN + name_len, extra_len)
        # Item 6: same name, method, CRC-32 and sizes as the central directory.
        if raw_name != m.name.encode("utf-8"):
            raise ContainerError("local header name differs from the central directory's", m.name)
        # Item 4 holds for the local header's flags too.
        if flags & FORBIDDEN_FLAGS:
            raise ContainerError(f"forbidden flag bits 0x{flags & FORBIDDEN_FLAGS:04x} in local header", m.name)
        where = f"local header of {m.name!r}"
        z = _resolve_zip64(_zip64_block(extra, where), [("usize", usize), ("csize", csize)], where)
        if method != m.method or crc != m.crc or z["usize"] != m.usize or z["csize"] != m.csize:
            raise ContainerError("local header method, CRC-32 or sizes differ from the central directory's", m.name)
        m.data_offset = data_offset
        # Item 3: the next local header starts where this member's data ends.
        expected = data_offset + m.csize
        if expected > cd_offset:
            raise ContainerError("member data overruns the central directory", m.name)
    if expected != cd_offset:
        raise ContainerError("data between the last member and the central directory")


def check_member_limits(members: list[ZipMember]) -> None:
    """§11 step 1(e): §10 limits on the declared sizes of every member (metadata
    members included), their sum, and the deflate ratio. Raises LimitError."""
    total = 0
    for m in members:
        if m.usize > MAX_MEMBER_SIZE:
            raise LimitError(f"{m.name}: declared size {m.usize} exceeds 2^40 bytes")
        total += m.usize
    if total > MAX_TOTAL_SIZE:
        raise LimitError(f"sum of declared sizes {total} exceeds 2^44 bytes")
    for m in members:
        if m.method == 8 and m.usize > DEFLATE_RATIO * m.csize + DEFLATE_SLACK:
            raise LimitError(f"{m.name}: deflate ratio: {m.usize} bytes from {m.csize} compressed")


def read_container(f: BinaryIO, file_size: int) -> list[ZipMember]:
    """§11 step 1: the container (§2.1) and the archive limits of §10, in the order the
    step prescribes, stopping at the first failure.

    Raises ContainerError (malformed-container) or LimitError (limit-exceeded)."""
    end = read_end_records(f, file_size)  # (a)
    if end.entries > MAX_MEMBERS:  # (b), before anything is allocated per entry
        raise LimitError(f"{end.entries} members in the archive (limit {MAX_MEMBERS})")
    members = read_central_directory(f, end)  # (c)
    check_local_headers(f, members, end.cd_offset)  # (d)
    check_member_limits(members)  # (e)
    return members


class CorruptMember(Exception):
    pass


def stream_member(f: BinaryIO, m: ZipMember, keep: bool = False) -> tuple[int, bytes, Optional[bytes]]:
    """Read a member's content in chunks (§2.1 "content"): returns (length, SHA-256,
    content if ``keep``). Raises CorruptMember when the data does not decompress, its
    deflate stream does not end exactly at the end of the compressed data (ends early
    or not at all), it does not decompress to exactly the declared size, or it fails
    its CRC-32.

    Callers pass ``keep=True`` only for members whose declared size was checked
    against a §10 limit; output never grows past the declared size."""
    sha = hashlib.sha256()
    crc = 0
    length = 0
    kept = [] if keep else None

    def emit(chunk: bytes) -> None:
        nonlocal crc, length
        length += len(chunk)
        if length > m.usize:
            raise CorruptMember(f"decompresses past its declared size {m.usize}")
        sha.update(chunk)
        crc = zlib.crc32(chunk, crc)
        if kept is not None:
            kept.append(chunk)

    try:
        f.seek(m.data_offset)
    except OSError as e:
        raise CannotRun(f"read error: {e}") from None
    remaining = m.csize
    inflater = zlib.decompressobj(-15) if m.method == 8 else None

    while remaining > 0:
        try:
            chunk = f.read(min(READ_CHUNK, remaining))
        except OSError as e:
            raise CannotRun(f"read error: {e}") from None
        if not chunk:  # cannot happen after the tiling check, unless the file shrank
            raise CannotRun("file changed while reading")
        remaining -= len(chunk)
        if inflater is None:
            emit(chunk)
            continue
        if inflater.eof:
            raise CorruptMember("compressed data continues after the end of the deflate stream")
        data = chunk
        while data:
            # Never ask for more than one byte past the declared size.
            budget = max(1, min(READ_CHUNK, m.usize - length + 1))
            try:
                out = inflater.decompress(data, budget)
            except zlib.error as e:
                raise CorruptMember(f"does not decompress: {e}") from None
            emit(out)
            if inflater.eof:
                if inflater.unused_data:
                    raise CorruptMember("compressed data continues after the end of the deflate stream")
                break
            data = inflater.unconsumed_tail
    if inflater is not None:
        # All compressed bytes are in; drain what the decompressor still holds.
        while not inflater.eof:
            try:
                out = inflater.decompress(inflater.unconsumed_tail, max(1, min(READ_CHUNK, m.usize - length + 1)))
            except zlib.error as e:
                raise CorruptMember(f"does not decompress: {e}") from None
            emit(out)
            if not out and not inflater.eof:
                raise CorruptMember("deflate stream is truncated (no final block)")
        if inflater.unused_data:
            raise CorruptMember("compressed data continues after the end of the deflate stream")
    if length != m.usize:
        raise CorruptMember(f"content is {length} bytes, declared {m.usize}")
    if crc != m.crc:
        raise CorruptMember(f"CRC-32 {crc:08x} differs from the declared {m.crc:08x}")
    return length, sha.digest(), (b"".join(kept) if kept is not None else None)


# ---------------------------------------------------------------------------
# Manifest (§6)
# ---------------------------------------------------------------------------


class ManifestError(Exception):
    pass


class VersionError(Exception):
    pass


@dataclass
class ManifestMember:
    name: str
    section: str
    size: int
    sha256: bytes


@dataclass
class ManifestSection:
    number: int
    name: str
    started: str
    finished: str


@dataclass
class Manifest:
    bundle_id: str
    created: str
    sections: list[ManifestSection]
    members: list[ManifestMember]


def _cbor_kind(v: Any) -> str:
    """A decoded item's CBOR type, for messages."""
    if isinstance(v, bool):
        return "a boolean"
    if is_int(v):
        return "an integer"
    if isinstance(v, bytes):
        return "a byte string"
    if isinstance(v, str):
        return "a text string"
    if isinstance(v, list):
        return "an array"
    if isinstance(v, CborMap):
        return "a map"
    if isinstance(v, Tag):
        return "a tag"
    return "null" if v is None else type(v).__name__


def non_text_key(value: Any, where: str) -> Optional[str]:
    """§6: "Every map key in the manifest and in custody payloads is a text string".

    Walks the whole decoded item -- every map at any depth, the maps the CDDL defines
    and the maps inside the values of unknown keys alike ("every map key in the
    manifest") -- and returns where the first map key that is not a text string is,
    in encoded order, or None. (The protected header is not a payload: its labels are
    judged by §9.1, which ignores every label but the integers 1 and 4.) Depth is
    bounded by the §6 profile (16)."""
    if isinstance(value, CborMap):
        for k, v in value.pairs:
            if not isinstance(k, str):
                return f"{where}: a map key is {_cbor_kind(k)} ({k!r}), not a text string"
            found = non_text_key(v, f"{where}.{k}")
            if found:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = non_text_key(v, f"{where}[{i}]")
            if found:
                return found
    elif isinstance(value, Tag):
        return non_text_key(value.value, where)
    return None


def _req(m: CborMap, key: str, check, what: str, ctx: str) -> Any:
    if key not in m:
        raise ManifestError(f"{ctx}: missing {key!r}")
    return _opt(m, key, check, what, ctx)


def _opt(m: CborMap, key: str, check, what: str, ctx: str) -> Any:
    if key in m and not check(m[key]):
        raise ManifestError(f"{ctx}: {key!r} is not {what}")
    return m.get(key)


def _is_tstr(v: Any) -> bool:
    return isinstance(v, str)


def _is_bstr32(v: Any) -> bool:
    return isinstance(v, bytes) and len(v) == 32


def _is_path(v: Any) -> bool:
    return isinstance(v, (str, bytes))


def _is_bool(v: Any) -> bool:
    return isinstance(v, bool)


def _is_section_name(v: Any) -> bool:
    return isinstance(v, str) and v in SECTION_NUMBER


def _array_of(check):
    return lambda v: isinstance(v, list) and all(check(x) for x in v)


def _map_with(fields: dict[str, tuple[bool, Any, str]], ctx: str):
    """A checker for a map with the given (required, check, description) fields."""

    def check(v: Any) -> bool:
        if not isinstance(v, CborMap):
            return False
        for key, (required, chk, what) in fields.items():
            (_req if required else _opt)(v, key, chk, what, ctx)
        return True

    return check


_FILE_TYPES = {"file", "dir", "symlink", "fifo", "socket", "char", "block"}

_FILE_META = _map_with(
    {
        "type": (True, lambda v: isinstance(v, str) and v in _FILE_TYPES, "a file type"),
        "mode": (True, lambda v: is_uint(v) and v <= 0o7777, "a uint .le 4095"),
        "uid": (True, lambda v: is_uint(v) and v <= U32_MAX, "a uint .size 4 (at most 2^32 - 1)"),
        "gid": (True, lambda v: is_uint(v) and v <= U32_MAX, "a uint .size 4 (at most 2^32 - 1)"),
        "size": (True, is_uint, "a uint"),
        "mtime_ns": (True, is_int, "an int"),
        "ctime_ns": (True, is_int, "an int"),
        "atime_ns": (False, is_int, "an int"),
        "inode": (True, is_uint, "a uint"),
        "dev": (True, is_uint, "a uint"),
        "nlink": (True, is_uint, "a uint"),
        "symlink_target": (False, _is_path, "a path"),
        "xattrs": (
            False,
            _array_of(lambda x: isinstance(x, list) and len(x) == 2 and _is_tstr(x[0]) and isinstance(x[1], bytes)),
            "an array of [tstr, bstr]",
        ),
    },
    "meta",
)


def _check_source(v: Any) -> bool:
    """§6 ``source``: exactly one of the keys ``path``, ``argv`` (a non-empty array) and
    ``derived``. A key listed in any alternative of the ``source`` CDDL has its listed
    type wherever it appears (§6, 1.0.1): ``exit``, where present, is an int in every
    source map, not only beside ``argv`` (elsewhere it is then ignored)."""
    if not isinstance(v, CborMap):
        return False
    kinds = [k for k in ("path", "argv", "derived") if k in v]
    if len(kinds) != 1:
        raise ManifestError("source: needs exactly one of 'path', 'argv', 'derived'")
    if kinds[0] == "path":
        _req(v, "path", _is_path, "a path", "source")
    elif kinds[0] == "argv":
        _req(v, "argv", lambda a: isinstance(a, list) and len(a) >= 1 and all(_is_path(x) for x in a),
             "a non-empty array of paths", "source")
    else:
        _req(v, "derived", _is_tstr, "a tstr", "source")
    _opt(v, "exit", is_int, "an int", "source")
    return True


def parse_manifest(data: bytes) -> Manifest:
    """§6. Raises ManifestError (malformed-manifest) or VersionError (unsupported-version).

    The whole item is first checked against the CBOR profile and the rule that every
    map key in it is a text string (both over the whole item, unknown keys included:
    they are rules on the manifest's encoding, not on one version's keys); then
    ``format`` and ``version``, since another version may have another structure; then
    every other key of the CDDL. So a version-2 manifest with an integer map key
    anywhere is malformed-manifest. (§6 and §11 step 4 do not say whether the key rule
    or the version comes first; this order is this verifier's choice.)"""
    try:
        root = cbor_decode(data)  # §6 profile: no tags at all in the manifest
    except CborError as e:
        raise ManifestError(f"not one well-formed CBOR item: {e}") from None
    if not isinstance(root, CborMap):
        raise ManifestError("the manifest is not a map")
    problem = non_text_key(root, "manifest")
    if problem:
        raise ManifestError(problem)
    ctx = "manifest"
    # format, then version first: a later version may have another structure.
    fmt = _req(root, "format", _is_tstr, "a tstr", ctx)
    if fmt != "forensic-bundle":
        raise ManifestError(f"format is {fmt!r}, not 'forensic-bundle'")
    version = _req(root, "version", is_uint, "a uint", ctx)
    if version != 1:
        raise VersionError(f"manifest version {version}")
    bundle_id = _req(root, "bundle_id", _is_tstr, "a tstr", ctx)
    created = _req(root, "created", is_valid_time, "a time (§5)", ctx)
    _req(root, "case", _map_with({k: (False, _is_tstr, "a tstr")
                                  for k in ("case_id", "evidence_number", "examiner", "notes")}, "case"),
         "a map", ctx)
    _req(root, "collector", _map_with({
        "tool": (True, _is_tstr, "a tstr"),
        "version": (True, _is_tstr, "a tstr"),
        "host": (False, _is_tstr, "a tstr"),
        "kernel": (False, _is_tstr, "a tstr"),
        "argv": (False, _array_of(_is_path), "an array of paths"),
    }, "collector"), "a map", ctx)
    target_fields = {k: (False, _is_tstr, "a tstr") for k in (
        "runtime", "container_id", "container_name", "pod", "namespace", "node", "image_ref", "image_digest")}
    target_fields["pid"] = (False, is_uint, "a uint")
    _req(root, "target", _map_with(target_fields, "target"), "a map", ctx)

    raw_sections = _req(root, "sections", lambda v: isinstance(v, list), "an array", ctx)
    sections = []
    for i, s in enumerate(raw_sections):
        c = f"sections[{i}]"
        if not isinstance(s, CborMap):
            raise ManifestError(f"{c} is not a map")
        number = _req(s, "number", lambda v: is_uint(v) and 1 <= v <= 9, "an integer 1..9", c)
        name = _req(s, "name", _is_section_name, "a section name", c)
        started = _req(s, "started", is_valid_time, "a time (§5)", c)
        finished = _req(s, "finished", is_valid_time, "a time (§5)", c)
        sections.append(ManifestSection(number, name, started, finished))

    raw_members = _req(root, "members", lambda v: isinstance(v, list), "an array", ctx)
    members = []
    seen: set[str] = set()
    for i, mm in enumerate(raw_members):
        c = f"members[{i}]"
        if not isinstance(mm, CborMap):
            raise ManifestError(f"{c} is not a map")
        name = _req(mm, "name", _is_tstr, "a tstr", c)
        problem = name_problem(name)
        if problem:
            raise ManifestError(f"{c}: {problem}: {name!r}")
        if name in METADATA_NAMES:
            raise ManifestError(f"{c}: {name!r} is a metadata member name")
        if name in seen:
            raise ManifestError(f"{c}: duplicate member name {name!r}")
        seen.add(name)
        section = _req(mm, "section", _is_section_name, "a section name", c)
        size = _req(mm, "size", is_uint, "a uint", c)
        sha = _req(mm, "sha256", _is_bstr32, "a 32-byte bstr", c)
        _req(mm, "captured", is_valid_time, "a time (§5)", c)
        _req(mm, "source", _check_source, "a source map", c)
        _opt(mm, "meta", _FILE_META, "a file-meta map", c)
        _opt(mm, "truncated", _is_bool, "a bool", c)
        members.append(ManifestMember(name, section, size, sha))

    _req(root, "gaps", _array_of(_map_with({
        "section": (True, _is_section_name, "a section name"),
        "what": (True, _is_tstr, "a tstr"),
        "reason": (True, _is_tstr, "a tstr"),
    }, "gap")), "an array of gap maps", ctx)
    return Manifest(bundle_id, created, sections, members)


# ---------------------------------------------------------------------------
# Custody log (§9)
# ---------------------------------------------------------------------------


@dataclass
class CustodyEntry:
    raw: bytes  # the exact bytes E_i of the tagged item (§9.3)
    protected_raw: bytes
    protected: CborMap
    payload_raw: bytes
    signature: bytes
    seq: int
    prev: Optional[bytes]
    time: str
    action: str
    actor_name: str
    actor_key: bytes
    bundle_id: str
    manifest_sha256: bytes
    recipient: Optional[bytes] = None
    timestamps: Optional[list] = None  # §9.6: RFC 3161 tokens over prev
    key_store: Optional[dict] = None  # §9.8: where the key was held; informative


class CustodyError(Exception):
    def __init__(self, message: str, entry: Optional[int] = None):
        super().__init__(message)
        self.entry = entry


def _parse_custody_entry(i: int, raw: bytes, item: Any) -> CustodyEntry:
    """§9.1: a COSE_Sign1_Tagged message (a tag-18 array of exactly four elements of the
    CDDL's types, the signature 64 bytes) whose protected header is a non-empty bstr
    holding a map and whose payload is a custody-payload; both are separate items of
    the §6 profile, their depth counting from their own root. Raises CustodyError.

    The protected header's labels are not judged here: only the integer labels 1 (alg)
    and 4 (kid) are read, by ``check_entry_signature`` (a wrong value is bad-signature,
    §9.3 rule 6); every other label, text ones included, is ignored (§9.1)."""
    if not (isinstance(item, Tag) and item.number == COSE_TAG_SIGN1):
        raise CustodyError("not tagged 18 (COSE_Sign1_Tagged)", i)
    arr = item.value
    if not (isinstance(arr, list) and len(arr) == 4):
        raise CustodyError("COSE_Sign1 is not an array of four", i)
    protected_raw, unprotected, payload_raw, signature = arr
    if not isinstance(protected_raw, bytes):
        raise CustodyError("protected header is not a bstr", i)
    if not (isinstance(unprotected, CborMap) and len(unprotected) == 0):
        raise CustodyError("unprotected header is not the empty map", i)
    if not isinstance(payload_raw, bytes):
        raise CustodyError("payload is not a bstr (detached or wrong type)", i)
    if not (isinstance(signature, bytes) and len(signature) == 64):
        raise CustodyError("signature is not a 64-byte bstr", i)
    if not protected_raw:
        raise CustodyError("protected header is the empty bstr (it must hold a map)", i)
    try:
        protected = cbor_decode(protected_raw)
    except CborError as e:
        raise CustodyError(f"protected header: {e}", i) from None
    if not isinstance(protected, CborMap):
        raise CustodyError("protected header is not a map", i)
    try:
        payload = cbor_decode(payload_raw)
    except CborError as e:
        raise CustodyError(f"payload: {e}", i) from None
    if not isinstance(payload, CborMap):
        raise CustodyError("payload is not a map", i)
    # §6: every map key in a custody payload is a text string, at any depth (actor and
    # the values of unknown keys included).
    problem = non_text_key(payload, "payload")
    if problem:
        raise CustodyError(problem, i)

    def field_(key: str, check, what: str, required: bool = True) -> Any:
        if key not in payload:
            if required:
                raise CustodyError(f"payload lacks {key!r}", i)
            return None
        v = payload[key]
        if not check(v):
            raise CustodyError(f"payload {key!r} is not {what}", i)
        return v

    seq = field_("seq", is_uint, "a uint")
    prev = field_("prev", lambda v: v is None or _is_bstr32(v), "a 32-byte bstr or null")
    time = field_("time", is_valid_time, "a time (§5)")
    action = field_("action", _is_tstr, "a tstr")
    actor = field_("actor", lambda v: isinstance(v, CborMap), "a map")
    if not _is_tstr(actor.get("name")):
        raise CustodyError("actor.name is missing or not a tstr", i)
    if not _is_bstr32(actor.get("key")):
        raise CustodyError("actor.key is not a 32-byte bstr", i)
    bundle_id = field_("bundle_id", _is_tstr, "a tstr")
    manifest_sha256 = field_("manifest_sha256", _is_bstr32, "a 32-byte bstr")
    recipient = field_("recipient", _is_bstr32, "a 32-byte bstr", required=False)
    field_("note", _is_tstr, "a tstr", required=False)
    timestamps = field_("timestamps", lambda v: isinstance(v, list) and len(v) >= 1
                        and all(isinstance(x, bytes) for x in v), "an array of one or more bstr", required=False)
    return CustodyEntry(raw, protected_raw, protected, payload_raw, signature, seq, prev, time, action,
                        actor["name"], actor["key"], bundle_id, manifest_sha256, recipient, timestamps,
                        _key_store(payload.get("key_store")))


# §9.8: the key-store map's fields and their types. The value is informative: one of another shape
# (a text, a map with "kind" missing or a field of another type) is shown as unknown, never judged.
_KEY_STORE_FIELDS = {"kind": _is_tstr, "encrypted": lambda v: isinstance(v, bool),
                     "token": _is_tstr, "model": _is_tstr, "serial": _is_tstr}


def _key_store(value: Any) -> Optional[dict]:
    """§9.8: the payload's ``key_store`` as a plain dict of its known fields, or None when absent
    or not of the key-store shape (it is informative: nothing here can fail the entry)."""
    if not isinstance(value, CborMap) or not _is_tstr(value.get("kind")):
        return None
    out = {}
    for name, ok in _KEY_STORE_FIELDS.items():
        if name in value:
            if not ok(value[name]):
                return None
            out[name] = value[name]
    return out


def parse_custody(data: bytes) -> list[CustodyEntry]:
    """§9.1 / §11 step 9: split and parse the log. Raises CustodyError or LimitError.

    First the split, item by item in the order of §10 (count, well-formed per the §6
    profile with the one root tag 18, size), so that a limit passed by a later item is
    limit-exceeded even when an earlier, well-formed item is not a COSE_Sign1 message;
    then, only once the whole log has split, each item's COSE_Sign1 structure, its
    protected header and its payload (§9.1), in order."""
    if not data:
        raise CustodyError("custody.cbor is empty")
    try:
        items = cbor_split_sequence(data, max_items=MAX_CUSTODY_ENTRIES, max_item_len=MAX_CUSTODY_ENTRY,
                                    root_tag=COSE_TAG_SIGN1)
    except SequenceItemError as e:
        raise CustodyError(f"not a sequence of well-formed CBOR items: {e}", e.index) from None
    return [_parse_custody_entry(i, raw, item) for i, (_offset, raw, item) in enumerate(items)]


def check_entry_signature(e: CustodyEntry) -> Optional[str]:
    """§11 step 9a: §9.3 rule 6 (alg −8, kid = fingerprint of actor.key) and the
    signature (§9.2). Returns the reason the entry fails (bad-signature), or None."""
    alg = e.protected.get_int(1)
    if not (is_int(alg) and alg == COSE_ALG_EDDSA):
        return f"protected alg is {alg!r}, not -8 (EdDSA)"
    kid = e.protected.get_int(4)
    if not isinstance(kid, bytes) or kid != fingerprint_of_raw_key(e.actor_key):
        return "protected kid is not the fingerprint of actor.key"
    return ed25519_verify_strict(e.actor_key, e.signature, sig_structure(e.protected_raw, e.payload_raw))


# ---------------------------------------------------------------------------
# Custody semantics (§9.4) and recorded heads (§9.5)
# ---------------------------------------------------------------------------

# §9.4: "The time tolerance T is 300 seconds. Times are compared as instants (§5 times
# are UTC), to the nanosecond." T in nanoseconds:
TIME_TOLERANCE_NS = 300 * 10**9

# §9.4 action names that carry custody meaning; every other action (annotated, archived, or any
# extension) leaves custody where it is. §9.7: an ``archived`` entry's ``deposit`` is listed as
# ``any`` and is informative, so nothing here reads it (the CBOR profile and the text-key rule,
# checked on the whole payload, still bind it).
ACTION_SEALED = "sealed"
ACTION_TRANSFERRED = "transferred"
ACTION_RECEIVED = "received"


def _days_from_1970(year: int, month: int, day: int) -> int:
    """Days from 1970-01-01 to the given date of the proleptic Gregorian calendar.

    Done by hand rather than with ``datetime``/``calendar``, which have no year 0: §5
    allows any four-digit year, 0000 included. The year is counted from 1 March, so
    that the leap day is the last day of the counted year."""
    y = year - 1 if month <= 2 else year
    cycle, year_in_cycle = divmod(y, 400)           # 400-year cycles of 146,097 days
    month_from_march = (month + 9) % 12              # March = 0 ... February = 11
    day_of_year = (153 * month_from_march + 2) // 5 + day - 1
    day_of_cycle = year_in_cycle * 365 + year_in_cycle // 4 - year_in_cycle // 100 + day_of_year
    return cycle * 146_097 + day_of_cycle - 719_468  # 719,468: 0000-03-01 to 1970-01-01


def instant_ns(t: str) -> int:
    """A §5 time as an instant: nanoseconds since 1970-01-01T00:00:00Z (negative before).

    ``t`` is a valid §5 time (the parser checked it): YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ."""
    if not is_valid_time(t):
        raise ValueError(f"not a §5 time: {t!r}")
    date, clock = t[:10], t[11:-1]
    year, month, day = int(date[0:4]), int(date[5:7]), int(date[8:10])
    hours, minutes, rest = clock.split(":")
    whole, fraction = rest.split(".")
    seconds = _days_from_1970(year, month, day) * 86_400 + int(hours) * 3_600 + int(minutes) * 60 + int(whole)
    return seconds * 10**9 + int(fraction)


def signer_fingerprint(e: CustodyEntry) -> bytes:
    """§9.4: an entry's signer is the holder of its ``actor.key``, named by that key's
    fingerprint (§8)."""
    return fingerprint_of_raw_key(e.actor_key)


@dataclass(frozen=True)
class HistoryViolation:
    """One §9.4 failure: the entry it is reported for, the first rule (1–5) it fails."""

    entry: int
    rule: int
    reason: str


def _rule1_recipient(i: int, e: CustodyEntry, p: Optional[CustodyEntry], custodian: Optional[bytes],
                     created: str) -> Optional[str]:
    """Rule 1: ``recipient`` is present if and only if the action is ``transferred``."""
    if e.action == ACTION_TRANSFERRED and e.recipient is None:
        return "a 'transferred' entry names no recipient"
    if e.action != ACTION_TRANSFERRED and e.recipient is not None:
        return f"a {e.action!r} entry carries a recipient (only 'transferred' does)"
    return None


def _rule2_time(i: int, e: CustodyEntry, p: Optional[CustodyEntry], custodian: Optional[bytes],
                created: str) -> Optional[str]:
    """Rule 2: entry 0's time is not earlier than the manifest's ``created`` minus T; a
    later entry's not earlier than the previous entry's time minus T."""
    if p is None:
        reference, what = created, "the manifest's created time"
    else:
        reference, what = p.time, f"entry {i - 1}'s time"
    earliest = instant_ns(reference) - TIME_TOLERANCE_NS
    own = instant_ns(e.time)
    if own < earliest:
        behind = instant_ns(reference) - own
        return f"time {e.time} is {behind / 1e9:.9f} s before {what} {reference} (tolerance 300 s)"
    return None


def _rule3_receipt_follows_transfer(i: int, e: CustodyEntry, p: Optional[CustodyEntry],
                                    custodian: Optional[bytes], created: str) -> Optional[str]:
    """Rule 3: after a ``transferred`` entry comes the ``received`` entry of the key its
    ``recipient`` names."""
    if p is None or p.action != ACTION_TRANSFERRED:
        return None
    if e.action != ACTION_RECEIVED:
        return f"entry {i - 1} is a transfer, but this entry is {e.action!r}, not its 'received'"
    # A transfer without a recipient (itself a rule-1 failure) names no one, so no
    # receipt can match it.
    if p.recipient is None or signer_fingerprint(e) != p.recipient:
        return f"received by {signer_fingerprint(e).hex()[:16]}, not by the recipient entry {i - 1} names"
    return None


def _rule4_transfer_precedes_receipt(i: int, e: CustodyEntry, p: Optional[CustodyEntry],
                                     custodian: Optional[bytes], created: str) -> Optional[str]:
    """Rule 4: a ``received`` entry is not entry 0 and comes right after a transfer."""
    if e.action != ACTION_RECEIVED:
        return None
    if p is None:
        return "entry 0 is a 'received' entry"
    if p.action != ACTION_TRANSFERRED:
        return f"'received' after a {p.action!r} entry, not after a transfer"
    return None


def _rule5_only_custodian_transfers(i: int, e: CustodyEntry, p: Optional[CustodyEntry],
                                    custodian: Optional[bytes], created: str) -> Optional[str]:
    """Rule 5: a ``transferred`` entry is signed by the custodian after entry i − 1."""
    if e.action != ACTION_TRANSFERRED:
        return None
    if custodian is None:  # entry 0: there is no custodian before the seal
        return "entry 0 is a transfer: nobody holds the bundle before it is sealed"
    if signer_fingerprint(e) != custodian:
        return (f"transferred by {signer_fingerprint(e).hex()[:16]}, but the custodian is "
                f"{custodian.hex()[:16]}")
    return None


# §9.4: the rules in the order in which they are judged; the first that fails is the one
# reported for the entry.
CUSTODY_RULES = (
    (1, _rule1_recipient),
    (2, _rule2_time),
    (3, _rule3_receipt_follows_transfer),
    (4, _rule4_transfer_precedes_receipt),
    (5, _rule5_only_custodian_transfers),
)


def judge_custody_history(entries: list[CustodyEntry], created: str) -> list[HistoryViolation]:
    """§9.4 over a whole log (§11 step 9d): for each entry i from 0, the first of rules
    1–5 it fails, if any (at most one violation per entry). ``created`` is the
    manifest's ``created`` time.

    The custodian after entry i is, by §9.4's definition, the signer of the last entry
    among 0 … i whose action is ``received`` -- any such entry, the definition does not
    ask whether the receipt itself obeyed the rules -- or else the signer of entry 0."""
    violations: list[HistoryViolation] = []
    last_receiver: Optional[bytes] = None  # signer of the last 'received' entry seen so far
    for i, e in enumerate(entries):
        previous = entries[i - 1] if i > 0 else None
        if i == 0:
            custodian_before = None
        elif last_receiver is not None:
            custodian_before = last_receiver
        else:
            custodian_before = signer_fingerprint(entries[0])
        for rule, check in CUSTODY_RULES:
            reason = check(i, e, previous, custodian_before, created)
            if reason is not None:
                violations.append(HistoryViolation(i, rule, f"§9.4 rule {rule}: {reason}"))
                break
        if e.action == ACTION_RECEIVED:
            last_receiver = signer_fingerprint(e)
    return violations


def entry_digests(entries: list[CustodyEntry]) -> list[bytes]:
    """SHA-256(E_i) of every entry's exact bytes (§9.3)."""
    return [hashlib.sha256(e.raw).digest() for e in entries]


def log_holds_head(entries: list[CustodyEntry], head: bytes) -> bool:
    """§9.5: the log contains an entry i with SHA-256(E_i) equal to the recorded head
    (the recorded entry itself, or a log continued after it)."""
    return head in entry_digests(entries)


_HEAD_RE = re.compile(r"[0-9A-Fa-f]{64}")


def parse_recorded_head(text: str) -> bytes:
    """§9.5: a recorded head is 64 hex digits (either case: "hex digits" does not say
    which); returns its 32 bytes. Raises ValueError for anything else."""
    if not _HEAD_RE.fullmatch(text):
        raise ValueError(f"{text!r} is not a custody head: 64 hex digits expected")
    return bytes.fromhex(text)


# ---------------------------------------------------------------------------
# The verification algorithm (§11)
# ---------------------------------------------------------------------------


def marker_verdict(content: bytes) -> Optional[str]:
    """§2.2: None for the version-1 marker; ``unsupported-version`` for exactly
    ``application/vnd.forensic-bundle.v<N>+zip`` with N one or more ASCII digits other
    than the text ``1`` (so ``v01`` too); ``malformed-container`` for anything else (a
    line end after a marker included)."""
    if content == MIMETYPE_CONTENT:
        return None
    m = MIMETYPE_OTHER_VERSION.fullmatch(content)
    if m and m.group(1) != b"1":
        return "unsupported-version"
    return "malformed-container"


class _Verifier:
    def __init__(self, f: BinaryIO, file_size: int, trust: Optional[set[bytes]],
                 expect_head: Optional[bytes] = None, tsa_trust: Optional[list[bytes]] = None):
        self.tsa_trust = tsa_trust
        self.f = f
        self.file_size = file_size
        self.trust = trust
        self.expect_head = expect_head
        self.result = Result()

    def fail(self, cls: str, message: str, member: Optional[str] = None, entry: Optional[int] = None) -> None:
        assert cls in FAILURE_CLASSES, cls
        self.result.failures.append(Failure(cls, member, entry, message))

    def stop(self, cls: str, message: str, member: Optional[str] = None, entry: Optional[int] = None):
        self.fail(cls, message, member, entry)
        raise _Stop()

    def run(self) -> Result:
        try:
            self._run()
        except _Stop:
            pass
        return self.result

    def _run(self) -> None:
        # Step 1: container (§2.1, §10); sub-steps (a)–(e) in read_container.
        try:
            members = read_container(self.f, self.file_size)
        except ContainerError as e:
            self.stop("malformed-container", str(e), e.member)
        except LimitError as e:
            self.stop("limit-exceeded", str(e))
        by_name = {m.name: m for m in members}

        # Step 2: marker (§2.2).
        first = members[0]
        if first.name != MIMETYPE_NAME:
            self.stop("malformed-container", f"the first member is {first.name!r}, not 'mimetype'", first.name)
        if first.method != 0:
            self.stop("malformed-container", "mimetype is not stored (method 0)", MIMETYPE_NAME)
        if first.usize > MAX_MIMETYPE_SIZE:
            self.stop("malformed-container", f"mimetype declares {first.usize} bytes (limit 64)", MIMETYPE_NAME)
        content = self._read_small(first, "stop")
        verdict = marker_verdict(content)
        if verdict is not None:
            self.stop(verdict, f"mimetype is {content!r}, not {MIMETYPE_CONTENT.decode()!r}", MIMETYPE_NAME)

        # Step 3: metadata members exist and are within their limits (§10).
        missing = [n for n in (MANIFEST_NAME, SUMS_NAME, CUSTODY_NAME) if n not in by_name]
        for n in missing:
            self.fail("missing-member", "metadata member is absent", n)
        if missing:
            raise _Stop()
        over = [n for n, limit in METADATA_SIZE_LIMITS.items() if by_name[n].usize > limit]
        for n in over:
            self.fail("limit-exceeded", f"declared size {by_name[n].usize} exceeds {METADATA_SIZE_LIMITS[n]}", n)
        if over:
            raise _Stop()

        # Step 4: manifest (§6).
        manifest_bytes = self._read_small(by_name[MANIFEST_NAME], "stop")
        try:
            manifest = parse_manifest(manifest_bytes)
        except ManifestError as e:
            self.stop("malformed-manifest", str(e), MANIFEST_NAME)
        except VersionError as e:
            self.stop("unsupported-version", str(e), MANIFEST_NAME)
        manifest_digest = hashlib.sha256(manifest_bytes).digest()

        # Step 5: member set.
        manifest_names = {m.name for m in manifest.members}
        for mm in manifest.members:
            if mm.name not in by_name:
                self.fail("missing-member", "listed in the manifest but absent from the archive", mm.name)
        for m in members:
            if m.name not in manifest_names and m.name not in METADATA_NAMES:
                self.fail("unexpected-member", "in the archive but not listed in the manifest", m.name)

        # Step 6: order (§2.3, §4).
        self._check_order(members, manifest)

        # Step 7: content.
        for mm in manifest.members:
            zm = by_name.get(mm.name)
            if zm is None:
                continue
            try:
                length, digest, _ = stream_member(self.f, zm)
            except CorruptMember as e:
                self.fail("corrupt-member", str(e), mm.name)
                continue
            if length != mm.size:
                self.fail("digest-mismatch", f"content is {length} bytes, the manifest says {mm.size}", mm.name)
            elif digest != mm.sha256:
                self.fail("digest-mismatch", "SHA-256 of the content differs from the manifest's", mm.name)

        # Step 8: SHA256SUMS (§7).
        sums = self._read_small(by_name[SUMS_NAME], "skip")
        if sums is not None:
            want = expected_sha256sums([(mm.name, mm.sha256) for mm in manifest.members], manifest_digest)
            if sums != want:
                self.fail("sums-mismatch", self._sums_diagnostic(sums, want), SUMS_NAME)

        # Steps 9–11: custody (§9), trust (§8), recorded head (§9.5).
        self._custody_steps(by_name[CUSTODY_NAME], manifest, manifest_digest)

    def _read_small(self, m: ZipMember, on_corrupt: str) -> Optional[bytes]:
        """Read a metadata member whose declared size is already limit-checked."""
        try:
            _, _, content = stream_member(self.f, m, keep=True)
            return content
        except CorruptMember as e:
            if on_corrupt == "stop":
                self.stop("corrupt-member", str(e), m.name)
            self.fail("corrupt-member", str(e), m.name)
            return None

    @staticmethod
    def _sums_diagnostic(sums: bytes, want: bytes) -> str:
        try:
            got = parse_sha256sums(sums)
        except ValueError as e:
            return f"SHA256SUMS is not in the §7 format: {e}"
        want_lines = parse_sha256sums(want)
        for i, (g, w) in enumerate(zip(got, want_lines)):
            if g != w:
                return f"line {i + 1} is {g[0][:16]}…  {g[1]!r}, expected {w[0][:16]}…  {w[1]!r}"
        return f"SHA256SUMS has {len(got)} lines, expected {len(want_lines)}"

    def _check_order(self, members: list[ZipMember], manifest: Manifest) -> None:
        """§11 step 6."""
        manifest_names = [mm.name for mm in manifest.members]
        in_manifest = set(manifest_names)
        # Archive order (§2.3), looking only at members that are metadata or listed in the
        # manifest: unlisted members are already `unexpected-member`. All four metadata
        # members are present (step 3) and mimetype is first (step 2).
        archive = [m.name for m in members if m.name in METADATA_NAMES or m.name in in_manifest]
        if archive[-3:] != [MANIFEST_NAME, SUMS_NAME, CUSTODY_NAME]:
            self.fail("section-order", "metadata members are not in the order of §2.3 "
                      "(manifest.cbor, SHA256SUMS, custody.cbor last)")
        archive_evidence = [n for n in archive if n not in METADATA_NAMES]
        present = set(archive_evidence)
        manifest_present = [n for n in manifest_names if n in present]
        if archive_evidence != manifest_present:
            bad = next(a for a, b in zip(archive_evidence, manifest_present) if a != b)
            self.fail("section-order", "evidence members are not in the manifest's order in the archive", bad)

        # Sections (§4): strictly increasing, number/name per §4, times in order.
        listed = set()
        prev: Optional[ManifestSection] = None
        for s in manifest.sections:
            if SECTIONS.get(s.number) != s.name:
                self.fail("section-order", f"section number {s.number} is not named {s.name!r} (§4)")
            if prev is not None and s.number <= prev.number:
                self.fail("section-order", f"sections not strictly increasing: {s.number} after {prev.number}")
            if s.started > s.finished:
                self.fail("section-order", f"section {s.name}: started {s.started} after finished {s.finished}")
            if prev is not None and s.started < prev.finished:
                self.fail("section-order", f"section {s.name} started before section {prev.name} finished")
            listed.add(s.name)
            prev = s

        # Members: sections non-decreasing, prefix matches, section listed.
        prev_number = 0
        for mm in manifest.members:
            number = SECTION_NUMBER[mm.section]
            if number < prev_number:
                self.fail("section-order", f"section {mm.section} after a member of section {prev_number}", mm.name)
            prev_number = number
            if not mm.name.startswith(section_prefix(mm.section)):
                self.fail("section-order", f"name does not start with {section_prefix(mm.section)!r}", mm.name)
            if mm.section not in listed:
                self.fail("section-order", f"section {mm.section!r} is not listed in 'sections'", mm.name)

    def _custody_steps(self, custody_member: ZipMember, manifest: Manifest, manifest_digest: bytes) -> None:
        """§11 steps 9, 10 and 11.

        What each early exit of step 9 skips, as §11 words it:

        * ``custody.cbor`` unreadable (``corrupt-member``): "skip steps 9–11" (no entry
          could be read, so there is nothing to hold a recorded head either).
        * the log does not split, passes a §10 limit, or an item is not a COSE_Sign1
          message per §9.1 (``malformed-custody`` / ``limit-exceeded``): "skip steps
          9–11".
        """
        data = self._read_small(custody_member, "skip")
        if data is None:
            return
        entries = self._step9_parse(data)
        if entries is None:
            return
        intact = self._step9_entries(entries, manifest, manifest_digest)
        self._step10_trust(entries)
        self._step11_recorded_head(entries)
        self._step12_trusted_time(entries, intact)

    def _step9_parse(self, data: bytes) -> Optional[list[CustodyEntry]]:
        """Step 9, first part: split and parse the log (§9.1, §10). None: skip 9–11."""
        try:
            entries = parse_custody(data)
        except LimitError as e:
            self.fail("limit-exceeded", str(e), CUSTODY_NAME)
            return None
        except CustodyError as e:
            self.fail("malformed-custody", str(e), CUSTODY_NAME, e.entry)
            return None
        self.result.custody_entries = len(entries)
        self.result.key_stores = [e.key_store for e in entries]
        self.result.custody_head = hashlib.sha256(entries[-1].raw).hexdigest()
        return entries

    def _step9_entries(self, entries: list[CustodyEntry], manifest: Manifest, manifest_digest: bytes) -> None:
        """Step 9 a–d for each entry i.

        d runs only when a and b found nothing for any entry. §9.4 words the condition
        as a log that does not fail "§9.2 or §9.3 rules 1–4"; step a also checks §9.3
        rule 6 (alg, kid), and §11 ("when a and b found no failure") is followed: a
        wrong alg or kid also keeps d from running."""
        signed_and_chained = True  # no failure from 9a or 9b for any entry so far
        for i, e in enumerate(entries):
            # a. signature (§9.2), alg and kid (§9.3 rule 6).
            problem = check_entry_signature(e)
            if problem:
                self.fail("bad-signature", problem, None, i)
                signed_and_chained = False
            # b. §9.3 rules 1–4, at most one broken-chain per entry.
            problem = self._chain_problem(i, e, entries, manifest)
            if problem:
                self.fail("broken-chain", problem, None, i)
                signed_and_chained = False
            # c. §9.3 rule 5. Not a reason to skip d.
            if e.manifest_sha256 != manifest_digest:
                self.fail("seal-mismatch", "manifest_sha256 differs from the manifest digest", None, i)
        # d. §9.4, only on a log whose every entry passed a and b.
        if signed_and_chained:
            for v in judge_custody_history(entries, manifest.created):
                self.fail("custody-semantics", v.reason, None, v.entry)
        return signed_and_chained

    def _step12_trusted_time(self, entries: list[CustodyEntry], intact: bool) -> None:
        """Step 12 (§9.6): only with a TSA trust list. (a) every token, at most one failure
        each; (b) on an intact log, each entry's signed time against its trusted time: the
        earliest verified genTime carried by any later entry."""
        if self.tsa_trust is None:
            return
        covers: list[Optional[int]] = [None] * len(entries)
        for i, e in enumerate(entries):
            for n, token in enumerate(e.timestamps or []):
                problem = tst.check_token(token, e.prev, self.tsa_trust)
                if problem:
                    self.fail(problem[0], f"token {n}: {problem[1]}", CUSTODY_NAME, i)
                elif i > 0:
                    g = tst.token_gen_time_ns(token)
                    covers[i - 1] = g if covers[i - 1] is None else min(covers[i - 1], g)
        if not intact:
            return
        earliest: Optional[int] = None
        for k in range(len(entries) - 1, -1, -1):
            if covers[k] is not None:
                earliest = covers[k] if earliest is None else min(earliest, covers[k])
            if earliest is not None and time_ns(entries[k].time) > earliest + 300 * 1_000_000_000:
                self.fail("time-after-timestamp", "signed time later than trusted time by more than 300 s",
                          CUSTODY_NAME, k)

    @staticmethod
    def _chain_problem(i: int, e: CustodyEntry, entries: list[CustodyEntry], manifest: Manifest) -> Optional[str]:
        """§9.3 rules 1–4 for entry i: the first that fails, or None."""
        if e.seq != i:
            return f"seq is {e.seq}, expected {i}"
        if i == 0 and e.prev is not None:
            return "prev of entry 0 is not null"
        if i > 0 and e.prev != hashlib.sha256(entries[i - 1].raw).digest():
            return "prev is not the SHA-256 of the previous entry"
        if i == 0 and e.action != ACTION_SEALED:
            return f"entry 0 has action {e.action!r}, not 'sealed'"
        if i > 0 and e.action == ACTION_SEALED:
            return "a second 'sealed' entry"
        if e.bundle_id != manifest.bundle_id:
            return "bundle_id differs from the manifest's"
        return None

    def _step10_trust(self, entries: list[CustodyEntry]) -> None:
        """Step 10: with a trust list, every entry whose signer is not in it."""
        if self.trust is None:
            return
        for i, e in enumerate(entries):
            fp = signer_fingerprint(e)
            if fp not in self.trust:
                self.fail("untrusted-signer", f"signer {e.actor_name!r} ({fp.hex()[:16]}) is not trusted", None, i)

    def _step11_recorded_head(self, entries: list[CustodyEntry]) -> None:
        """Step 11 (§9.5): with a recorded head, one truncated-custody for custody.cbor
        unless some entry's SHA-256 is that head, whatever steps 9–10 found."""
        if self.expect_head is None:
            return
        if not log_holds_head(entries, self.expect_head):
            where = f"none of the {len(entries)} entries" if entries else "no entry could be read"
            self.fail("truncated-custody", f"recorded head {self.expect_head.hex()}: {where} has it (§9.5)",
                      CUSTODY_NAME)


def time_ns(t: str) -> int:
    """A §5 time as Unix nanoseconds."""
    import datetime
    base = datetime.datetime.strptime(t[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int(base.timestamp()) * 1_000_000_000 + int(t[20:29])


def verify_file(path: os.PathLike | str, trust: Optional[Iterable[os.PathLike | str]] = None,
                trust_fingerprints: Optional[set[bytes]] = None, expect_head: Optional[bytes] = None,
                tsa_trust: Optional[Iterable[os.PathLike | str]] = None) -> Result:
    """Verify one bundle (§11). ``trust`` lists key files or directories (None or empty:
    no trust list); ``trust_fingerprints`` gives the trust list directly instead (an
    empty set is an empty trust list: every signer is untrusted). Raises CannotRun when
    the bundle or a key cannot be read. ``expect_head`` is a recorded custody head (§9.5):
    32 bytes, or None."""
    if expect_head is not None and len(expect_head) != 32:
        raise ValueError("a recorded custody head is 32 bytes (64 hex digits, §9.5)")
    fingerprints = trust_fingerprints
    if trust:
        fingerprints = (fingerprints or set()) | load_trust(trust)
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            tsa = tst.load_tsa_trust(tsa_trust) if tsa_trust else None
            return _Verifier(f, size, fingerprints, expect_head, tsa).run()
    except OSError as e:
        raise CannotRun(f"cannot read {path}: {e}") from None


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a forensic bundle (format version 1).")
    parser.add_argument("--trust", action="append", default=[], metavar="PUBFILE_OR_DIR",
                        help="trusted Ed25519 public key (PEM) or directory of *.pub files; repeatable")
    parser.add_argument("--tsa-trust", action="append", default=[], metavar="CERTFILE",
                        help="TSA trust list certificate (PEM/DER, §9.6); repeatable")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--expect-head", metavar="HEX", default=None,
                        help="a recorded custody head (64 hex digits, §9.5): fail unless an entry has it")
    parser.add_argument("bundle", help="the bundle (.zip)")
    args = parser.parse_args(argv)  # exits 2 on bad usage
    # Usage error, as in the Rust CLI: a --trust directory with no *.pub file in it.
    for t in map(Path, args.trust):
        if t.is_dir() and not trust_dir_keys(t):
            print(f"verify_bundle: usage error: trust directory {t} holds no *.pub files", file=sys.stderr)
            return 2
    try:
        fingerprints = load_trust(args.trust) if args.trust else None
        head = None
        if args.expect_head is not None:
            try:
                head = parse_recorded_head(args.expect_head)
            except ValueError as e:
                print(f"verify_bundle: usage error: --expect-head: {e}", file=sys.stderr)
                return 2
        result = verify_file(args.bundle, trust_fingerprints=fingerprints, expect_head=head,
                             tsa_trust=args.tsa_trust or None)
    except CannotRun as e:
        print(f"verify_bundle: {e}", file=sys.stderr)
        return 2
    except Exception:  # a bug in this verifier is not a verdict on the bundle: exit 2, not 1
        import traceback

        traceback.print_exc()
        print("verify_bundle: internal error", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        for failure in result.failures:
            print(f"FAIL {failure}")
        if result.custody_head:
            print(f"custody entries: {result.custody_entries}; custody head: {result.custody_head}")
        print("verified" if result.verified else f"NOT verified ({len(result.failures)} failure(s))")
    return 0 if result.verified else 1


if __name__ == "__main__":
    sys.exit(main())
