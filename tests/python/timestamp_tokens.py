"""Time-stamp tokens of the custody log (SPEC §9.6), written from the SPEC text.

``check_token(der, covered_digest, trust_certs)`` returns None when the token verifies, or
``(failure class, message)`` for the first of §9.6's five checks that fails. ``gen_time`` is
returned through ``token_gen_time``. Uses only ``cryptography`` (X.509 and signature checks)
and a small strict DER reader for the CMS and TSTInfo structures.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from pathlib import Path
from typing import Optional

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

MAX_TOKEN = 49_152
OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_TST_INFO = "1.2.840.113549.1.9.16.1.4"
OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
OID_SHA256 = "2.16.840.1.101.3.4.2.1"
DIGESTS = {OID_SHA256: hashes.SHA256, "2.16.840.1.101.3.4.2.2": hashes.SHA384, "2.16.840.1.101.3.4.2.3": hashes.SHA512}
RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
RSA_SIGS = {"1.2.840.113549.1.1.11": hashes.SHA256, "1.2.840.113549.1.1.12": hashes.SHA384,
            "1.2.840.113549.1.1.13": hashes.SHA512}
ECDSA_SIGS = {"1.2.840.10045.4.3.2": hashes.SHA256, "1.2.840.10045.4.3.3": hashes.SHA384,
              "1.2.840.10045.4.3.4": hashes.SHA512}
ED25519 = "1.3.101.112"
TIME_STAMPING = "1.3.6.1.5.5.7.3.8"
MAX_CHAIN = 8
GEN_TIME = re.compile(rb"(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,9}))?Z")


class DerError(Exception):
    pass


class Tlv:
    def __init__(self, data: bytes, start: int, tag: int, vstart: int, end: int):
        self.data, self.start, self.tag, self.vstart, self.end = data, start, tag, vstart, end

    @property
    def raw(self) -> bytes:
        return self.data[self.start:self.end]

    @property
    def value(self) -> bytes:
        return self.data[self.vstart:self.end]

    def children(self) -> list["Tlv"]:
        if not self.tag & 0x20:
            raise DerError(f"tag {self.tag:#x} is not constructed")
        out, pos = [], self.vstart
        while pos < self.end:
            t = read_tlv(self.data, pos, self.end)
            out.append(t)
            pos = t.end
        return out


def read_tlv(data: bytes, pos: int, limit: int) -> Tlv:
    """One DER TLV at pos: single-byte tag, definite shortest-form length."""
    if pos + 2 > limit:
        raise DerError("truncated")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise DerError("multi-byte tags are not used here")
    first = data[pos + 1]
    p = pos + 2
    if first < 0x80:
        length = first
    elif first == 0x80:
        raise DerError("indefinite length (BER, not DER)")
    else:
        n = first & 0x7F
        if n > 4 or p + n > limit:
            raise DerError("bad length")
        length = int.from_bytes(data[p:p + n], "big")
        if data[p] == 0 or length < 0x80:
            raise DerError("length not in its shortest form (not DER)")
        p += n
    if p + length > limit:
        raise DerError("truncated value")
    t = Tlv(data, pos, tag, p, p + length)
    if tag & 0x20:
        t.children()  # every nested TLV is DER too
    return t


def oid_str(t: Tlv) -> str:
    if t.tag != 0x06 or not t.value:
        raise DerError("not an OBJECT IDENTIFIER")
    v, parts, n = t.value, [], 0
    for b in v:
        n = (n << 7) | (b & 0x7F)
        if not b & 0x80:
            parts.append(n)
            n = 0
    first = min(parts[0] // 40, 2)
    return ".".join(str(x) for x in [first, parts[0] - 40 * first] + parts[1:])


def parse_gen_time(text: bytes) -> Optional[datetime.datetime]:
    m = GEN_TIME.fullmatch(text)
    if not m or (m.group(7) and m.group(7).endswith(b"0")):
        return None
    try:
        base = datetime.datetime(*(int(g) for g in m.groups()[:6]), tzinfo=datetime.timezone.utc)
    except ValueError:
        return None
    frac = m.group(7) or b""
    nanos = int(frac.ljust(9, b"0")) if frac else 0
    return base + datetime.timedelta(microseconds=nanos // 1000)


def parse_gen_time_ns(text: bytes) -> Optional[int]:
    m = GEN_TIME.fullmatch(text)
    dt = parse_gen_time(text)
    if dt is None or m is None:
        return None
    frac = m.group(7) or b""
    whole = int(dt.replace(microsecond=0).timestamp())
    return whole * 1_000_000_000 + (int(frac.ljust(9, b"0")) if frac else 0)


class Parsed:
    """The parts of a token §9.6 needs."""

    def __init__(self, der: bytes):
        if len(der) > MAX_TOKEN:
            raise DerError(f"{len(der)} bytes, more than {MAX_TOKEN}")
        ci = read_tlv(der, 0, len(der))
        if ci.end != len(der) or ci.tag != 0x30:
            raise DerError("not one DER SEQUENCE")
        parts = ci.children()
        if len(parts) != 2 or oid_str(parts[0]) != OID_SIGNED_DATA or parts[1].tag != 0xA0:
            raise DerError("not a ContentInfo of signedData")
        sd = parts[1].children()
        if len(sd) != 1 or sd[0].tag != 0x30:
            raise DerError("no SignedData")
        fields = sd[0].children()
        if len(fields) < 4:
            raise DerError("SignedData too short")
        encap = fields[2].children()
        if oid_str(encap[0]) != OID_TST_INFO or len(encap) != 2 or encap[1].tag != 0xA0:
            raise DerError("encapsulated content is not a present id-ct-TSTInfo")
        octets = encap[1].children()
        if len(octets) != 1 or octets[0].tag != 0x04:
            raise DerError("TSTInfo is not in an OCTET STRING")
        self.tst = octets[0].value
        self.certs: list[bytes] = []
        signer_infos = None
        for f in fields[3:]:
            if f.tag == 0xA0:
                self.certs = [c.raw for c in f.children() if c.tag == 0x30]
            elif f.tag == 0x31:
                signer_infos = f
        if signer_infos is None:
            raise DerError("no SignerInfos")
        self.signer_infos = signer_infos.children()
        tst = read_tlv(self.tst, 0, len(self.tst))
        if tst.end != len(self.tst) or tst.tag != 0x30:
            raise DerError("TSTInfo is not one SEQUENCE")
        tf = tst.children()
        if len(tf) < 5 or tf[0].tag != 0x02 or tf[0].value != b"\x01":
            raise DerError("TSTInfo version is not 1")
        imprint = tf[2].children()
        self.imprint_alg = oid_str(imprint[0].children()[0])
        self.hashed_message = imprint[1].value
        if tf[4].tag != 0x18:
            raise DerError("genTime is not a GeneralizedTime")
        self.gen_time = parse_gen_time(tf[4].value)
        self.gen_time_ns = parse_gen_time_ns(tf[4].value)
        if self.gen_time is None:
            raise DerError("genTime is not YYYYMMDDhhmmss[.f]Z")


def _tbs_fields(cert_der: bytes) -> list[Tlv]:
    """TBSCertificate fields, with the optional [0] version dropped: serial, sig alg,
    issuer, validity, subject, spki, ..."""
    tbs = read_tlv(cert_der, 0, len(cert_der)).children()[0].children()
    return tbs[1:] if tbs[0].tag == 0xA0 else tbs


def _verify(public_key, sig_alg: str, digest: Optional[type], data: bytes, signature: bytes) -> bool:
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            h = RSA_SIGS.get(sig_alg) or (digest if sig_alg == RSA_ENCRYPTION else None)
            if h is None:
                return False
            public_key.verify(signature, data, padding.PKCS1v15(), h())
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            h = ECDSA_SIGS.get(sig_alg)
            if h is None or not isinstance(public_key.curve, ec.SECP256R1):
                return False
            public_key.verify(signature, data, ec.ECDSA(h()))
        elif isinstance(public_key, ed25519.Ed25519PublicKey):
            if sig_alg != ED25519:
                return False
            public_key.verify(signature, data)
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True


def _load(der: bytes) -> Optional[x509.Certificate]:
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError:
        return None


def _is_ca(c: x509.Certificate) -> bool:
    try:
        return c.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _valid_at(c: x509.Certificate, t: datetime.datetime) -> bool:
    return c.not_valid_before_utc <= t <= c.not_valid_after_utc


def check_token(der: bytes, covered: Optional[bytes], trust: list[bytes]) -> Optional[tuple[str, str]]:
    """§9.6 checks 1–5 for a token carried by an entry whose ``prev`` is ``covered``."""
    # 1. Form.
    try:
        tok = Parsed(der)
    except (DerError, IndexError, ValueError) as e:
        return "malformed-timestamp", f"not a DER time-stamp token: {e}"
    # 2. Imprint.
    if covered is None:
        return "timestamp-imprint", "entry 0 has no previous entry to cover"
    if tok.imprint_alg != OID_SHA256 or tok.hashed_message != covered:
        return "timestamp-imprint", "the imprint is not SHA-256 of the previous entry"
    # 3. Signature.
    if len(tok.signer_infos) != 1:
        return "timestamp-signature", "not exactly one SignerInfo"
    try:
        si = tok.signer_infos[0].children()
        sid, digest_alg = si[1], oid_str(si[2].children()[0])
        attrs = next((f for f in si[3:] if f.tag == 0xA0), None)
        rest = [f for f in si[3:] if f.tag in (0x30, 0x04)]
        sig_alg, signature = oid_str(rest[0].children()[0]), rest[1].value
    except (DerError, IndexError) as e:
        return "timestamp-signature", f"SignerInfo: {e}"
    if digest_alg not in DIGESTS or attrs is None:
        return "timestamp-signature", "unsupported digest algorithm or no signed attributes"
    found: dict[str, list[list[bytes]]] = {}
    for a in attrs.children():
        kids = a.children()
        found.setdefault(oid_str(kids[0]), []).append([v.raw for v in kids[1].children()])
    ct, md = found.get(OID_CONTENT_TYPE, []), found.get(OID_MESSAGE_DIGEST, [])
    h = hashlib.new({OID_SHA256: "sha256", "2.16.840.1.101.3.4.2.2": "sha384",
                     "2.16.840.1.101.3.4.2.3": "sha512"}[digest_alg], tok.tst).digest()
    ct_ok = len(ct) == 1 and len(ct[0]) == 1 and oid_str(read_tlv(ct[0][0], 0, len(ct[0][0]))) == OID_TST_INFO
    md_ok = len(md) == 1 and len(md[0]) == 1 and md[0][0][:2] == bytes([0x04, len(h)]) and md[0][0][2:] == h
    if not (ct_ok and md_ok):
        return "timestamp-signature", "content-type or message-digest attribute wrong"
    pool = [c for c in tok.certs] + list(trust)
    signer = None
    for c in pool:
        f = _tbs_fields(c)
        if sid.tag == 0x30:
            issuer, serial = sid.children()
            if f[2].raw == issuer.raw and f[0].raw == serial.raw:
                signer = c
                break
        elif sid.tag == 0x80:
            cert = _load(c)
            try:
                ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
            except (x509.ExtensionNotFound, AttributeError):
                continue
            if ski == sid.value:
                signer = c
                break
    cert = _load(signer) if signer else None
    if cert is None:
        return "timestamp-signature", "the signer's certificate is not found"
    signed = b"\x31" + attrs.raw[1:]
    if not _verify(cert.public_key(), sig_alg, DIGESTS[digest_alg], signed, signature):
        return "timestamp-signature", "the CMS signature does not verify"
    # 4. Trust: EKU, then the chain.
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
        eku_ok = eku.critical and [o.dotted_string for o in eku.value] == [TIME_STAMPING]
    except x509.ExtensionNotFound:
        eku_ok = False
    if not eku_ok:
        return "untrusted-timestamp", "the TSA certificate's EKU is not critical timeStamping alone"
    path, cur = [signer], signer
    while len(path) <= MAX_CHAIN:
        if cur in trust:
            break
        cur_cert, f = _load(cur), _tbs_fields(cur)
        nxt = None
        for cand in list(trust) + tok.certs:
            cf = _tbs_fields(cand)
            cc = _load(cand)
            outer_alg = read_tlv(cur, 0, len(cur)).children()[1].raw
            if (cc is not None and cand not in path and cf[4].raw == f[2].raw and _is_ca(cc)
                    and outer_alg == f[1].raw
                    and _verify(cc.public_key(), cur_cert.signature_algorithm_oid.dotted_string, None,
                                cur_cert.tbs_certificate_bytes, cur_cert.signature)):
                nxt = cand
                break
        if nxt is None:
            return "untrusted-timestamp", "the TSA certificate does not chain to the TSA trust list"
        path.append(nxt)
        cur = nxt
    else:
        return "untrusted-timestamp", "chain longer than 8 certificates"
    if cur not in trust:
        return "untrusted-timestamp", "the TSA certificate does not chain to the TSA trust list"
    # 5. Validity at genTime.
    for c in path:
        if not _valid_at(_load(c), tok.gen_time):
            return "timestamp-expired", "a certificate of the chain is not valid at genTime"
    return None


def token_gen_time_ns(der: bytes) -> Optional[int]:
    try:
        return Parsed(der).gen_time_ns
    except (DerError, IndexError, ValueError):
        return None


def load_tsa_trust(paths) -> list[bytes]:
    """DER certificates from PEM (one or more blocks) or DER files."""
    out: list[bytes] = []
    for p in paths:
        data = Path(p).read_bytes()
        if b"-----BEGIN CERTIFICATE-----" in data:
            out += [c.public_bytes(serialization_der()) for c in x509.load_pem_x509_certificates(data)]
        else:
            out.append(data)
    return out


def serialization_der():
    from cryptography.hazmat.primitives.serialization import Encoding
    return Encoding.DER
