//! What verification reports: the failure classes of SPEC §12, each failure found, and the
//! custody entries as verified.

use crate::custody::Payload;
use crate::digest::Digest;
use crate::keys::Fingerprint;
use crate::manifest::Manifest;
use crate::time::Timestamp;
use std::fmt;

/// The failure classes of SPEC §12.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum FailureClass {
    MalformedContainer,
    UnsupportedVersion,
    LimitExceeded,
    MissingMember,
    UnexpectedMember,
    CorruptMember,
    MalformedManifest,
    SectionOrder,
    DigestMismatch,
    SumsMismatch,
    MalformedCustody,
    BadSignature,
    BrokenChain,
    SealMismatch,
    CustodySemantics,
    UntrustedSigner,
    TruncatedCustody,
    MalformedTimestamp,
    TimestampImprint,
    TimestampSignature,
    UntrustedTimestamp,
    TimestampExpired,
    TimeAfterTimestamp,
}

impl FailureClass {
    /// Every class, in the order of SPEC §12.
    pub const ALL: [FailureClass; 23] = [
        FailureClass::MalformedContainer,
        FailureClass::UnsupportedVersion,
        FailureClass::LimitExceeded,
        FailureClass::MissingMember,
        FailureClass::UnexpectedMember,
        FailureClass::CorruptMember,
        FailureClass::MalformedManifest,
        FailureClass::SectionOrder,
        FailureClass::DigestMismatch,
        FailureClass::SumsMismatch,
        FailureClass::MalformedCustody,
        FailureClass::BadSignature,
        FailureClass::BrokenChain,
        FailureClass::SealMismatch,
        FailureClass::CustodySemantics,
        FailureClass::UntrustedSigner,
        FailureClass::TruncatedCustody,
        FailureClass::MalformedTimestamp,
        FailureClass::TimestampImprint,
        FailureClass::TimestampSignature,
        FailureClass::UntrustedTimestamp,
        FailureClass::TimestampExpired,
        FailureClass::TimeAfterTimestamp,
    ];

    /// The class id of SPEC §12, e.g. `digest-mismatch`.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureClass::MalformedContainer => "malformed-container",
            FailureClass::UnsupportedVersion => "unsupported-version",
            FailureClass::LimitExceeded => "limit-exceeded",
            FailureClass::MissingMember => "missing-member",
            FailureClass::UnexpectedMember => "unexpected-member",
            FailureClass::CorruptMember => "corrupt-member",
            FailureClass::MalformedManifest => "malformed-manifest",
            FailureClass::SectionOrder => "section-order",
            FailureClass::DigestMismatch => "digest-mismatch",
            FailureClass::SumsMismatch => "sums-mismatch",
            FailureClass::MalformedCustody => "malformed-custody",
            FailureClass::BadSignature => "bad-signature",
            FailureClass::BrokenChain => "broken-chain",
            FailureClass::SealMismatch => "seal-mismatch",
            FailureClass::CustodySemantics => "custody-semantics",
            FailureClass::UntrustedSigner => "untrusted-signer",
            FailureClass::TruncatedCustody => "truncated-custody",
            FailureClass::MalformedTimestamp => "malformed-timestamp",
            FailureClass::TimestampImprint => "timestamp-imprint",
            FailureClass::TimestampSignature => "timestamp-signature",
            FailureClass::UntrustedTimestamp => "untrusted-timestamp",
            FailureClass::TimestampExpired => "timestamp-expired",
            FailureClass::TimeAfterTimestamp => "time-after-timestamp",
        }
    }

    /// What the class means, in the words of SPEC §12's table (what a report shows beside each
    /// check).
    pub fn meaning(self) -> &'static str {
        match self {
            FailureClass::MalformedContainer => {
                "not a ZIP file of §2.1's profile, not a forensic bundle, or a bad member name"
            }
            FailureClass::UnsupportedVersion => "a forensic bundle of another format version",
            FailureClass::LimitExceeded => "a reader limit of §10 was passed",
            FailureClass::MissingMember => "a member the manifest lists, or a metadata member, is absent",
            FailureClass::UnexpectedMember => "the archive holds a member the manifest does not list",
            FailureClass::CorruptMember => "a member's data does not decompress to its declared size and CRC-32",
            FailureClass::MalformedManifest => "`manifest.cbor` is not a manifest per §6",
            FailureClass::SectionOrder => "members or sections out of the order of volatility, or in the wrong section",
            FailureClass::DigestMismatch => "a member's content differs from its size or SHA-256 in the manifest",
            FailureClass::SumsMismatch => "`SHA256SUMS` disagrees with the manifest or the manifest digest",
            FailureClass::MalformedCustody => "`custody.cbor` is not a custody log per §9.1",
            FailureClass::BadSignature => "a custody entry's signature, algorithm or key id does not check",
            FailureClass::BrokenChain => "custody entries out of sequence, unlinked, or the first is not the seal",
            FailureClass::SealMismatch => "a custody entry signs a different manifest digest than the bundle's",
            FailureClass::CustodySemantics => {
                "signed, chained entries that are not a valid custody history (§9.4): an unpaired transfer or receipt, a receipt by a key other than the one named, a transfer by someone not holding the bundle, a misplaced `recipient`, or time running backwards by more than 300 s"
            }
            FailureClass::UntrustedSigner => "a custody entry was signed by a key not in the trust list",
            FailureClass::TruncatedCustody => {
                "the custody log holds no entry with the recorded head given to the verifier (§9.5): entries were removed, or this is another log"
            }
            FailureClass::MalformedTimestamp => "a time-stamp token is not a DER RFC 3161 token (§9.6 check 1)",
            FailureClass::TimestampImprint => {
                "a token's imprint is not SHA-256 of the entry before the one carrying it (§9.6 check 2)"
            }
            FailureClass::TimestampSignature => {
                "a token's CMS signature or signed attributes do not check (§9.6 check 3)"
            }
            FailureClass::UntrustedTimestamp => {
                "a token's signer is not a time-stamping certificate that chains to the TSA trust list (§9.6 check 4)"
            }
            FailureClass::TimestampExpired => {
                "a certificate of a token's chain is not valid at the token's genTime (§9.6 check 5)"
            }
            FailureClass::TimeAfterTimestamp => {
                "an entry's signed time is later than its trusted time by more than 300 s (§9.6)"
            }
        }
    }

    /// The class with this id.
    pub fn from_id(id: &str) -> Option<FailureClass> {
        FailureClass::ALL.into_iter().find(|c| c.as_str() == id)
    }
}

impl fmt::Display for FailureClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One failure found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Its class.
    pub class: FailureClass,
    /// The member concerned, if any.
    pub member: Option<String>,
    /// The custody entry concerned (0-based), if any.
    pub entry: Option<usize>,
    /// What is wrong, in words an examiner can act on.
    pub message: String,
}

/// `class: member: custody entry N: message`, the member name escaped for a terminal
/// ([`crate::name::escape_display`]: it may come from a hostile archive).
impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.class)?;
        if let Some(m) = &self.member {
            write!(f, "{}: ", crate::name::escape_display(m.as_bytes()))?;
        }
        if let Some(e) = self.entry {
            write!(f, "custody entry {e}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// One custody entry as verified.
#[derive(Debug, Clone)]
pub struct CustodyRecord {
    /// The signed payload.
    pub payload: Payload,
    /// Fingerprint of the signing key.
    pub signer: Fingerprint,
    /// SHA-256 of the entry's bytes.
    pub digest: Digest,
    /// Whether the signature, alg and kid checked.
    pub signature_ok: bool,
    /// Whether the signer is in the trust list; `None` when no list was given.
    pub trusted: Option<bool>,
    /// The time-stamp tokens this entry carries, over the entry before it (SPEC §9.6).
    pub timestamps: Vec<TokenRecord>,
    /// The entry's trusted time: the earliest genTime of a verified token over this entry or a
    /// later one (SPEC §9.6). `None` without a TSA trust list, or when no verified token covers it.
    pub trusted_time: Option<Timestamp>,
}

/// One time-stamp token as found, and as verified (SPEC §9.6).
#[derive(Debug, Clone)]
pub struct TokenRecord {
    /// The token's exact DER bytes (an RFC 3161 TimeStampToken, as `openssl ts -verify -in` reads it).
    pub der: Vec<u8>,
    /// The digest its imprint names (it should be the previous entry's SHA-256).
    pub imprint: Option<Vec<u8>>,
    /// genTime as the token states it; trusted only when `verified` is `Some(true)`.
    pub gen_time: Option<Timestamp>,
    /// The TSA's serial number of the token (hex).
    pub serial: Option<String>,
    /// `Some(true)` verified against the TSA trust list, `Some(false)` failed; `None` not judged
    /// (no TSA trust list given).
    pub verified: Option<bool>,
}

/// What verification found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Every failure found; empty means the bundle verifies.
    pub failures: Vec<Failure>,
    /// The manifest, when it could be read.
    pub manifest: Option<Manifest>,
    /// SHA-256 of `manifest.cbor`, when it could be read.
    pub manifest_digest: Option<Digest>,
    /// The custody entries, when the log could be parsed.
    pub custody: Vec<CustodyRecord>,
    /// SHA-256 of the last custody entry (SPEC §9.3).
    pub custody_head: Option<Digest>,
    /// Evidence bytes whose SHA-256 was checked.
    pub bytes_checked: u64,
}

impl Report {
    /// True when no failure was found.
    pub fn verified(&self) -> bool {
        self.failures.is_empty()
    }

    /// The set of failure classes found, sorted.
    pub fn classes(&self) -> Vec<FailureClass> {
        let mut c: Vec<FailureClass> = self.failures.iter().map(|f| f.class).collect();
        c.sort();
        c.dedup();
        c
    }

    pub(super) fn fail(
        &mut self,
        class: FailureClass,
        member: Option<&str>,
        entry: Option<usize>,
        message: impl Into<String>,
    ) {
        self.failures.push(Failure {
            class,
            member: member.map(str::to_string),
            entry,
            message: message.into(),
        });
    }
}
