//! A time-stamp token (RFC 3161 §2.4.2): parsing and offline verification.

use crate::pki::{self, Hash};
use crate::trust::TrustList;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{AnyRef, ObjectIdentifier as Oid, OctetString};
use der::{Decode, Encode, Reader, Sequence, Tag, Tagged};
use x509_cert::Certificate;
use x509_cert::spki::AlgorithmIdentifierOwned;

const SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
const TST_INFO: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.1.4");
const CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
const MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
const EXT_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37");
const BASIC_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.19");
const SUBJECT_KEY_ID: Oid = Oid::new_unwrap("2.5.29.14");
const TIME_STAMPING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.8");
/// The longest certificate chain followed from the TSA's certificate to a trusted one.
const MAX_CHAIN: usize = 8;

/// `MessageImprint` (RFC 3161 §2.4.1).
#[derive(Debug, Clone, PartialEq, Eq, Sequence)]
pub(crate) struct MessageImprint {
    pub(crate) hash_algorithm: AlgorithmIdentifierOwned,
    pub(crate) hashed_message: OctetString,
}

/// Which check a token failed; each is its own failure class (SPEC §12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenFailure {
    /// Not a DER time-stamp token (`malformed-timestamp`).
    Malformed,
    /// The message imprint is not SHA-256 over the bytes it must cover (`timestamp-imprint`).
    Imprint,
    /// The CMS signature or its signed attributes do not check (`timestamp-signature`).
    Signature,
    /// The signer is not a time-stamping certificate chaining to the trust list (`untrusted-timestamp`).
    Untrusted,
    /// A certificate of that chain is not valid at the token's genTime (`timestamp-expired`).
    Expired,
}

/// Why a token does not verify: which check, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TokenError {
    /// The check that failed.
    pub failure: TokenFailure,
    /// What is wrong, in words an examiner can act on.
    pub message: String,
}

fn fail<T>(failure: TokenFailure, message: impl Into<String>) -> Result<T, TokenError> {
    Err(TokenError {
        failure,
        message: message.into(),
    })
}

fn malformed(what: impl std::fmt::Display) -> TokenError {
    TokenError {
        failure: TokenFailure::Malformed,
        message: format!("not an RFC 3161 time-stamp token: {what}"),
    }
}

/// A parsed token. Its fields are what the token says; nothing is trusted until [`Token::verify`].
#[derive(Debug, Clone)]
pub struct Token {
    der: Vec<u8>,
    signed: SignedData,
    tst_der: Vec<u8>,
    imprint: MessageImprint,
    /// genTime as Unix nanoseconds.
    pub gen_time_nanos: i128,
    /// The TSA's serial number of the token, lowercase hex of its two's-complement bytes.
    pub serial: String,
    /// The TSA policy under which it was issued, dotted.
    pub policy: String,
    /// The nonce, as its INTEGER content bytes, if the token carries one.
    pub nonce: Option<Vec<u8>>,
}

impl Token {
    /// Parses a token (a DER `ContentInfo` holding `SignedData` over a `TSTInfo`).
    ///
    /// # Errors
    /// [`TokenFailure::Malformed`] saying what is wrong.
    pub fn parse(der: &[u8]) -> Result<Token, TokenError> {
        if der.len() > crate::MAX_TOKEN {
            return Err(malformed(format!(
                "{} bytes; at most {} are allowed",
                der.len(),
                crate::MAX_TOKEN
            )));
        }
        let ci = ContentInfo::from_der(der).map_err(malformed)?;
        // Signatures are checked over encodings of what arrived: they must be exactly these bytes.
        if ci.to_der().map_err(malformed)? != der {
            return Err(malformed("not DER (it does not re-encode to the same bytes)"));
        }
        if ci.content_type != SIGNED_DATA {
            return Err(malformed(format!("content type {} is not signedData", ci.content_type)));
        }
        let signed: SignedData = ci.content.decode_as().map_err(malformed)?;
        if signed.encap_content_info.econtent_type != TST_INFO {
            return Err(malformed(format!(
                "encapsulated content type {} is not id-ct-TSTInfo",
                signed.encap_content_info.econtent_type
            )));
        }
        let content = signed
            .encap_content_info
            .econtent
            .as_ref()
            .ok_or_else(|| malformed("no encapsulated TSTInfo"))?;
        let tst_der = content.decode_as::<OctetString>().map_err(malformed)?.into_bytes();
        let (imprint, gen_time_nanos, serial, policy, nonce) = parse_tst_info(&tst_der)?;
        Ok(Token {
            der: der.to_vec(),
            signed,
            tst_der,
            imprint,
            gen_time_nanos,
            serial,
            policy,
            nonce,
        })
    }

    /// The token's exact bytes (what `openssl ts -verify -in` reads as a token).
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The hashed message of the imprint (whatever its algorithm).
    pub fn hashed_message(&self) -> &[u8] {
        self.imprint.hashed_message.as_bytes()
    }

    /// Checks that the message imprint is SHA-256 of the covered bytes, whose digest is `expected`.
    ///
    /// # Errors
    /// [`TokenFailure::Imprint`].
    pub fn check_imprint(&self, expected: &[u8; 32]) -> Result<(), TokenError> {
        if self.imprint.hash_algorithm.oid != pki::SHA256 {
            return fail(
                TokenFailure::Imprint,
                format!(
                    "the imprint's hash algorithm is {}, not SHA-256",
                    self.imprint.hash_algorithm.oid
                ),
            );
        }
        if self.hashed_message() != expected {
            return fail(
                TokenFailure::Imprint,
                format!(
                    "the token is over {}, not over {}",
                    hex::encode(self.hashed_message()),
                    hex::encode(expected)
                ),
            );
        }
        Ok(())
    }

    /// Checks the CMS signature of the token's one signer over its signed attributes, and that
    /// those carry content type id-ct-TSTInfo and the TSTInfo's digest. The signer's certificate
    /// is taken from the token, else from `extra`. Returns that certificate.
    ///
    /// # Errors
    /// [`TokenFailure::Signature`].
    pub fn check_signature<'a>(&'a self, extra: &'a TrustList) -> Result<&'a Certificate, TokenError> {
        let sig_fail = |m: String| TokenError {
            failure: TokenFailure::Signature,
            message: m,
        };
        let mut signers = self.signed.signer_infos.0.iter();
        let (Some(si), None) = (signers.next(), signers.next()) else {
            return fail(
                TokenFailure::Signature,
                "a token has exactly one signer (RFC 3161 §2.4.2)",
            );
        };
        let hash = Hash::from_oid(&si.digest_alg.oid)
            .ok_or_else(|| sig_fail(format!("digest algorithm {} is not supported", si.digest_alg.oid)))?;
        let attrs = si
            .signed_attrs
            .as_ref()
            .ok_or_else(|| sig_fail("no signed attributes".into()))?;
        let one = |oid: Oid| {
            let mut found = attrs.iter().filter(|a| a.oid == oid);
            match (found.next(), found.next()) {
                (Some(a), None) if a.values.len() == 1 => a.values.iter().next().cloned(),
                _ => None,
            }
        };
        let ct = one(CONTENT_TYPE).and_then(|v| v.decode_as::<Oid>().ok());
        if ct != Some(TST_INFO) {
            return fail(
                TokenFailure::Signature,
                "the signed content-type attribute is not id-ct-TSTInfo",
            );
        }
        let md = one(MESSAGE_DIGEST).and_then(|v| v.decode_as::<OctetString>().ok());
        if md.as_ref().map(OctetString::as_bytes) != Some(hash.digest(&self.tst_der).as_slice()) {
            return fail(
                TokenFailure::Signature,
                "the signed message-digest attribute is not the digest of the TSTInfo",
            );
        }
        let cert = self
            .find_signer(si, extra)
            .ok_or_else(|| sig_fail("the signer's certificate is neither in the token nor in the trust list".into()))?;
        let signed_bytes = attrs.to_der().map_err(|e| sig_fail(e.to_string()))?;
        pki::verify(
            &cert.tbs_certificate.subject_public_key_info,
            &si.signature_algorithm,
            Some(hash),
            &signed_bytes,
            si.signature.as_bytes(),
        )
        .map_err(|m| sig_fail(format!("CMS signature: {m}")))?;
        Ok(cert)
    }

    fn certificates(&self) -> impl Iterator<Item = &Certificate> {
        self.signed.certificates.iter().flat_map(|set| {
            set.0.iter().filter_map(|c| match c {
                cms::cert::CertificateChoices::Certificate(c) => Some(c),
                _ => None,
            })
        })
    }

    fn find_signer<'a>(&'a self, si: &SignerInfo, extra: &'a TrustList) -> Option<&'a Certificate> {
        let mut all = self.certificates().chain(extra.certs.iter());
        match &si.sid {
            SignerIdentifier::IssuerAndSerialNumber(ias) => all.find(|c| {
                c.tbs_certificate.issuer == ias.issuer && c.tbs_certificate.serial_number == ias.serial_number
            }),
            SignerIdentifier::SubjectKeyIdentifier(ski) => all.find(|c| {
                extension(c, SUBJECT_KEY_ID)
                    .and_then(|(_, v)| OctetString::from_der(v).ok())
                    .is_some_and(|v| v.as_bytes() == ski.0.as_bytes())
            }),
        }
    }

    /// Verifies the whole token (SPEC §9.6): the imprint is SHA-256 with digest `expected`, the CMS
    /// signature checks, the signer is a time-stamping certificate that chains to `trust`, and
    /// every certificate of the chain is valid at genTime. Returns genTime (Unix nanoseconds).
    ///
    /// # Errors
    /// The first check that fails, in that order.
    pub fn verify(&self, expected: &[u8; 32], trust: &TrustList) -> Result<i128, TokenError> {
        self.check_imprint(expected)?;
        let signer = self.check_signature(trust)?;
        check_time_stamping_eku(signer)?;
        let chain = self.chain(signer, trust)?;
        for c in chain {
            let v = &c.tbs_certificate.validity;
            let nanos = |t: x509_cert::time::Time| i128::try_from(t.to_unix_duration().as_nanos()).unwrap_or(i128::MAX);
            if self.gen_time_nanos < nanos(v.not_before) || self.gen_time_nanos > nanos(v.not_after) {
                return fail(
                    TokenFailure::Expired,
                    format!(
                        "certificate {} is valid from {} to {}, not at the token's genTime {}",
                        c.tbs_certificate.subject,
                        v.not_before,
                        v.not_after,
                        crate::time::rfc3339(self.gen_time_nanos)
                    ),
                );
            }
        }
        Ok(self.gen_time_nanos)
    }

    /// The chain from `signer` to a certificate of `trust`, each link's signature checked.
    fn chain<'a>(&'a self, signer: &'a Certificate, trust: &'a TrustList) -> Result<Vec<&'a Certificate>, TokenError> {
        let mut path = vec![signer];
        let mut cur = signer;
        for _ in 0..MAX_CHAIN {
            if trust.certs.iter().any(|t| t == cur) {
                return Ok(path);
            }
            let issued_by = |c: &Certificate| {
                c.tbs_certificate.subject == cur.tbs_certificate.issuer
                    && is_ca(c)
                    && !path.contains(&c)
                    && cur.signature_algorithm == cur.tbs_certificate.signature
                    && cur
                        .tbs_certificate
                        .to_der()
                        .ok()
                        .and_then(|tbs| {
                            let sig = cur.signature.as_bytes()?;
                            pki::verify(
                                &c.tbs_certificate.subject_public_key_info,
                                &cur.signature_algorithm,
                                None,
                                &tbs,
                                sig,
                            )
                            .ok()
                        })
                        .is_some()
            };
            match trust.certs.iter().chain(self.certificates()).find(|c| issued_by(c)) {
                Some(next) => {
                    path.push(next);
                    cur = next;
                }
                None => break,
            }
        }
        fail(
            TokenFailure::Untrusted,
            format!(
                "the TSA certificate {} does not chain to a certificate of the trust list",
                signer.tbs_certificate.subject
            ),
        )
    }
}

fn extension(c: &Certificate, oid: Oid) -> Option<(bool, &[u8])> {
    c.tbs_certificate
        .extensions
        .as_ref()?
        .iter()
        .find(|e| e.extn_id == oid)
        .map(|e| (e.critical, e.extn_value.as_bytes()))
}

fn is_ca(c: &Certificate) -> bool {
    extension(c, BASIC_CONSTRAINTS)
        .and_then(|(_, v)| x509_cert::ext::pkix::BasicConstraints::from_der(v).ok())
        .is_some_and(|b| b.ca)
}

/// RFC 3161 §2.3: the TSA's certificate has exactly one extended key usage, `timeStamping`, and
/// the extension is critical.
fn check_time_stamping_eku(c: &Certificate) -> Result<(), TokenError> {
    let subject = &c.tbs_certificate.subject;
    match extension(c, EXT_KEY_USAGE) {
        Some((true, v)) => match x509_cert::ext::pkix::ExtendedKeyUsage::from_der(v) {
            Ok(eku) if eku.0 == [TIME_STAMPING] => Ok(()),
            _ => fail(
                TokenFailure::Untrusted,
                format!("the TSA certificate {subject} has an extended key usage other than timeStamping alone"),
            ),
        },
        Some((false, _)) => fail(
            TokenFailure::Untrusted,
            format!("the TSA certificate {subject}'s extended key usage is not critical (RFC 3161 §2.3)"),
        ),
        None => fail(
            TokenFailure::Untrusted,
            format!("the TSA certificate {subject} has no extended key usage timeStamping"),
        ),
    }
}

type TstFields = (MessageImprint, i128, String, String, Option<Vec<u8>>);

fn parse_tst_info(bytes: &[u8]) -> Result<TstFields, TokenError> {
    let mut r = der::SliceReader::new(bytes).map_err(malformed)?;
    let fields = r
        .sequence(|r| {
            let version: u8 = r.decode()?;
            let policy: Oid = r.decode()?;
            let imprint: MessageImprint = r.decode()?;
            let serial: der::asn1::IntRef<'_> = r.decode()?;
            let gen_time: AnyRef<'_> = r.decode()?;
            let mut nonce = None;
            while !r.is_finished() {
                let field: AnyRef<'_> = r.decode()?;
                if field.tag() == Tag::Integer {
                    nonce = Some(field.value().to_vec());
                }
            }
            Ok((
                version,
                policy,
                imprint,
                hex::encode(serial.as_bytes()),
                gen_time.tag(),
                gen_time.value().to_vec(),
                nonce,
            ))
        })
        .map_err(|e| malformed(format!("TSTInfo: {e}")))?;
    let (version, policy, imprint, serial, gen_tag, gen_text, nonce) = r.finish(fields).map_err(malformed)?;
    if version != 1 {
        return Err(malformed(format!("TSTInfo version {version}, not 1")));
    }
    if gen_tag != Tag::GeneralizedTime {
        return Err(malformed("genTime is not a GeneralizedTime"));
    }
    let nanos = crate::time::gen_time_nanos(&gen_text).ok_or_else(|| {
        malformed(format!(
            "genTime {:?} is not YYYYMMDDhhmmss[.f]Z",
            String::from_utf8_lossy(&gen_text)
        ))
    })?;
    Ok((imprint, nanos, serial, policy.to_string(), nonce))
}
