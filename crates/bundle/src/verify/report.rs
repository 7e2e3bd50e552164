//! What verification reports: the failure classes of SPEC §12, each failure found, and the
//! custody entries as verified.

use crate::custody::Payload;
use crate::digest::Digest;
use crate::keys::Fingerprint;
use crate::manifest::Manifest;
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
}

impl FailureClass {
    /// Every class, in the order of SPEC §12.
    pub const ALL: [FailureClass; 17] = [
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
