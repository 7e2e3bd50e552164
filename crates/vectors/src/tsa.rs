//! Time-stamp tokens for the vectors (SPEC §9.6), made deterministically: a test PKI of Ed25519
//! keys from fixed seeds (Ed25519 signatures are deterministic), with fixed names, serials and
//! validity, and tokens over chosen digests at chosen times.
//!
//! # Security
//! Every private key here is public (derived from a fixed text). Never trust `tsa/root.pem`
//! outside these vectors.

use crate::Error;
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{Any, BitString, GeneralizedTime, ObjectIdentifier as Oid, OctetString, SetOfVec, UtcTime};
use der::{DateTime, Encode, EncodePem, Sequence};
use ed25519_dalek::Signer;
use forensic_bundle::digest::Digest;
use forensic_bundle::keys::SigningKey;
use std::str::FromStr;
use x509_cert::attr::Attribute;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate};

const ED25519: Oid = Oid::new_unwrap("1.3.101.112");
const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
const SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
const TST_INFO: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.1.4");
const CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
const MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
const BASIC_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.19");
const EXT_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37");
const TIME_STAMPING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.8");
const POLICY: Oid = Oid::new_unwrap("1.3.6.1.4.1.55555.1");

fn err(e: impl std::fmt::Display) -> Error {
    Error::new(e.to_string())
}

fn key(name: &str) -> SigningKey {
    let seed = Digest::of(format!("forensic test vector tsa key {name}").as_bytes());
    forensic_bundle::keys::signing_key_from_seed(&seed.0)
}

fn ed25519() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: ED25519,
        parameters: None,
    }
}

fn utc(y: u16) -> Result<Time, Error> {
    Ok(Time::UtcTime(
        UtcTime::from_date_time(DateTime::new(y, 1, 1, 0, 0, 0).map_err(err)?).map_err(err)?,
    ))
}

/// A certificate and its key.
pub(crate) struct Party {
    pub cert: Certificate,
    key: SigningKey,
}

fn certificate(
    subject: &str,
    key_name: &str,
    issuer: Option<&Party>,
    serial: u8,
    years: (u16, u16),
    ca: bool,
) -> Result<Party, Error> {
    let key = key(key_name);
    let subject = Name::from_str(subject).map_err(err)?;
    let ext = |id, critical, value: Vec<u8>| -> Result<Extension, Error> {
        Ok(Extension {
            extn_id: id,
            critical,
            extn_value: OctetString::new(value).map_err(err)?,
        })
    };
    let mut extensions = vec![ext(
        BASIC_CONSTRAINTS,
        true,
        BasicConstraints {
            ca,
            path_len_constraint: None,
        }
        .to_der()
        .map_err(err)?,
    )?];
    if !ca {
        extensions.push(ext(
            EXT_KEY_USAGE,
            true,
            ExtendedKeyUsage(vec![TIME_STAMPING]).to_der().map_err(err)?,
        )?);
    }
    let tbs = TbsCertificate {
        version: x509_cert::Version::V3,
        serial_number: SerialNumber::new(&[serial]).map_err(err)?,
        signature: ed25519(),
        issuer: issuer.map_or_else(|| subject.clone(), |i| i.cert.tbs_certificate.subject.clone()),
        validity: Validity {
            not_before: utc(years.0)?,
            not_after: utc(years.1)?,
        },
        subject,
        subject_public_key_info: SubjectPublicKeyInfoOwned {
            algorithm: ed25519(),
            subject_public_key: BitString::from_bytes(key.verifying_key().as_bytes()).map_err(err)?,
        },
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    };
    let signer = issuer.map_or(&key, |i| &i.key);
    let sig = signer.sign(&tbs.to_der().map_err(err)?);
    Ok(Party {
        cert: Certificate {
            tbs_certificate: tbs,
            signature_algorithm: ed25519(),
            signature: BitString::from_bytes(&sig.to_bytes()).map_err(err)?,
        },
        key,
    })
}

/// The vectors' test PKI.
pub(crate) struct Pki {
    /// The root the vectors trust (`tsa/root.pem`).
    pub root: Party,
    /// A TSA under it, valid 2025–2035.
    pub tsa: Party,
    /// A TSA under it whose certificate expired in 2021.
    pub expired: Party,
    /// A TSA under another root, which no vector trusts.
    pub stranger: Party,
}

impl Pki {
    pub(crate) fn new() -> Result<Pki, Error> {
        let root = certificate("CN=forensic vector TSA root", "root", None, 1, (2025, 2035), true)?;
        let other = certificate(
            "CN=forensic vector other root",
            "other-root",
            None,
            1,
            (2025, 2035),
            true,
        )?;
        Ok(Pki {
            tsa: certificate("CN=forensic vector TSA", "tsa", Some(&root), 2, (2025, 2035), false)?,
            expired: certificate(
                "CN=forensic vector expired TSA",
                "expired",
                Some(&root),
                3,
                (2020, 2021),
                false,
            )?,
            stranger: certificate(
                "CN=forensic vector stranger TSA",
                "stranger",
                Some(&other),
                2,
                (2025, 2035),
                false,
            )?,
            root,
        })
    }

    /// `tsa/root.pem`.
    pub(crate) fn root_pem(&self) -> Result<String, Error> {
        self.root.cert.to_pem(der::pem::LineEnding::LF).map_err(err)
    }
}

#[derive(Sequence)]
struct MessageImprint {
    hash_algorithm: AlgorithmIdentifierOwned,
    hashed_message: OctetString,
}

#[derive(Sequence)]
struct TstInfo {
    version: u8,
    policy: Oid,
    message_imprint: MessageImprint,
    serial_number: der::asn1::Int,
    gen_time: GeneralizedTime,
}

/// A token by `tsa` over SHA-256 digest `digest`, genTime `gen_unix_secs`, serial `serial`.
pub(crate) fn token(tsa: &Party, digest: &Digest, gen_unix_secs: u64, serial: u8) -> Result<Vec<u8>, Error> {
    let tst = TstInfo {
        version: 1,
        policy: POLICY,
        message_imprint: MessageImprint {
            hash_algorithm: AlgorithmIdentifierOwned {
                oid: SHA256,
                parameters: None,
            },
            hashed_message: OctetString::new(digest.0.to_vec()).map_err(err)?,
        },
        serial_number: der::asn1::Int::new(&[serial]).map_err(err)?,
        gen_time: GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(gen_unix_secs)).map_err(err)?,
    }
    .to_der()
    .map_err(err)?;
    let attr = |oid, value: Any| -> Result<Attribute, Error> {
        Ok(Attribute {
            oid,
            values: SetOfVec::try_from(vec![value]).map_err(err)?,
        })
    };
    let signed_attrs: SetOfVec<Attribute> = SetOfVec::try_from(vec![
        attr(CONTENT_TYPE, Any::encode_from(&TST_INFO).map_err(err)?)?,
        attr(
            MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(Digest::of(&tst).0.to_vec()).map_err(err)?).map_err(err)?,
        )?,
    ])
    .map_err(err)?;
    let sig = tsa.key.sign(&signed_attrs.to_der().map_err(err)?);
    let signer = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tsa.cert.tbs_certificate.issuer.clone(),
            serial_number: tsa.cert.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: AlgorithmIdentifierOwned {
            oid: SHA256,
            parameters: None,
        },
        signed_attrs: Some(signed_attrs),
        signature_algorithm: ed25519(),
        signature: OctetString::new(sig.to_bytes().to_vec()).map_err(err)?,
        unsigned_attrs: None,
    };
    let signed = SignedData {
        version: CmsVersion::V3,
        digest_algorithms: SetOfVec::try_from(vec![AlgorithmIdentifierOwned {
            oid: SHA256,
            parameters: None,
        }])
        .map_err(err)?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: TST_INFO,
            econtent: Some(Any::encode_from(&OctetString::new(tst).map_err(err)?).map_err(err)?),
        },
        certificates: Some(CertificateSet(
            SetOfVec::try_from(vec![CertificateChoices::Certificate(tsa.cert.clone())]).map_err(err)?,
        )),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer]).map_err(err)?),
    };
    ContentInfo {
        content_type: SIGNED_DATA,
        content: Any::encode_from(&signed).map_err(err)?,
    }
    .to_der()
    .map_err(err)
}
