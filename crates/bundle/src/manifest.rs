//! The manifest (`manifest.cbor`, SPEC §6): types, encoding and strict decoding.

use crate::cbor;
use crate::digest::Digest;
use crate::section::Section;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The whole manifest. Field order is the CDDL order of SPEC §6, which is the encoding order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always `"forensic-bundle"`.
    pub format: String,
    /// Format version; 1 for this crate.
    pub version: u64,
    /// Unique id of this bundle.
    pub bundle_id: String,
    /// When the bundle was created.
    pub created: Timestamp,
    /// Case metadata.
    pub case: Case,
    /// What made the bundle.
    pub collector: Collector,
    /// What the evidence was collected from.
    pub target: Target,
    /// Sections collected, in increasing number.
    pub sections: Vec<SectionRecord>,
    /// Every evidence member, in archive order.
    pub members: Vec<Member>,
    /// What could not be collected, and why.
    pub gaps: Vec<Gap>,
}

/// Case metadata (what EWF/E01 carries).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// Case identifier.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::manifest::present"
    )]
    pub case_id: Option<String>,
    /// Evidence item number.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::manifest::present"
    )]
    pub evidence_number: Option<String>,
    /// Examiner name.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::manifest::present"
    )]
    pub examiner: Option<String>,
    /// Free-text notes.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::manifest::present"
    )]
    pub notes: Option<String>,
}

/// The tool that made the bundle and where it ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Collector {
    /// Tool name.
    pub tool: String,
    /// Tool version.
    pub version: String,
    /// Host name.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::manifest::present"
    )]
    pub host: Option<String>,
    /// Kernel release.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::manifest::present"
    )]
    pub kernel: Option<String>,
    /// Command line.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::manifest::present"
    )]
    pub argv: Option<Vec<RawPath>>,
}

impl Collector {
    /// A collector record with only tool name and version.
    pub fn new(tool: &str, version: &str) -> Collector {
        Collector {
            tool: tool.to_string(),
            version: version.to_string(),
            host: None,
            kernel: None,
            argv: None,
        }
    }
}

/// What the evidence was collected from; every field optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Target {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::manifest::present"
    )]
    pub runtime: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::manifest::present"
    )]
    pub container_id: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::manifest::present"
    )]
    pub container_name: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::manifest::present"
    )]
    pub pod: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::manifest::present"
    )]
    pub namespace: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::manifest::present"
    )]
    pub node: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::manifest::present"
    )]
    pub pid: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::manifest::present"
    )]
    pub image_ref: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::manifest::present"
    )]
    pub image_digest: Option<String>,
}

/// When one section's collection started and finished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionRecord {
    /// Section number, 1..9.
    pub number: u64,
    /// Section name; must agree with `number`.
    pub name: String,
    /// Collection start.
    pub started: Timestamp,
    /// Collection end.
    pub finished: Timestamp,
}

/// One evidence member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// Full member name, starting with the section prefix.
    pub name: String,
    /// The section it belongs to.
    pub section: Section,
    /// Content length.
    pub size: u64,
    /// SHA-256 of the content.
    pub sha256: Digest,
    /// When the content was read.
    pub captured: Timestamp,
    /// Where it came from.
    pub source: Source,
    /// Metadata of the original file.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::manifest::present"
    )]
    pub meta: Option<FileMeta>,
    /// The original was larger than what was kept.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::manifest::present"
    )]
    pub truncated: Option<bool>,
}

/// A path as found: text when it is UTF-8, raw bytes otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RawPath {
    /// Valid UTF-8.
    Text(String),
    /// Not valid UTF-8: the original bytes.
    Bytes(#[serde(with = "serde_bytes")] Vec<u8>),
}

impl RawPath {
    /// From raw bytes, as text where they are UTF-8.
    pub fn from_bytes(b: &[u8]) -> RawPath {
        match std::str::from_utf8(b) {
            Ok(s) => RawPath::Text(s.to_string()),
            Err(_) => RawPath::Bytes(b.to_vec()),
        }
    }

    /// For display: [`crate::name::escape_display`] of the bytes (control characters, `\\` and
    /// invalid UTF-8 escaped).
    pub fn display(&self) -> String {
        match self {
            RawPath::Text(s) => crate::name::escape_display(s.as_bytes()),
            RawPath::Bytes(b) => crate::name::escape_display(b),
        }
    }
}

impl From<&str> for RawPath {
    fn from(s: &str) -> Self {
        RawPath::Text(s.to_string())
    }
}

/// Where a member's content came from (SPEC §6 `source`): exactly one of `path`, `argv`, `derived`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[serde(try_from = "SourceFields")]
pub enum Source {
    /// A file, by its original path.
    Path {
        /// The original path.
        path: RawPath,
    },
    /// The output of a command.
    Command {
        /// The command line.
        argv: Vec<RawPath>,
        /// Its exit status, if known.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::manifest::present"
        )]
        exit: Option<i64>,
    },
    /// Computed by the collector.
    Derived {
        /// From what.
        derived: String,
    },
}

/// The keys a `source` map may have; exactly one of the three alternatives must be present.
#[derive(Deserialize)]
struct SourceFields {
    #[serde(default, deserialize_with = "present")]
    path: Option<RawPath>,
    #[serde(default, deserialize_with = "present")]
    argv: Option<Vec<RawPath>>,
    #[serde(default, deserialize_with = "present")]
    exit: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    derived: Option<String>,
}

impl TryFrom<SourceFields> for Source {
    type Error = String;
    fn try_from(f: SourceFields) -> Result<Self, String> {
        match (f.path, f.argv, f.derived) {
            (Some(path), None, None) => Ok(Source::Path { path }),
            (None, Some(argv), None) if !argv.is_empty() => Ok(Source::Command { argv, exit: f.exit }),
            (None, None, Some(derived)) => Ok(Source::Derived { derived }),
            _ => Err("a source must have exactly one of \"path\", \"argv\" (non-empty) or \"derived\"".into()),
        }
    }
}

impl Source {
    /// A file source.
    pub fn path(p: RawPath) -> Source {
        Source::Path { path: p }
    }

    /// A short human description.
    pub fn describe(&self) -> String {
        match self {
            Source::Path { path } => path.display(),
            Source::Command { argv, exit } => {
                let cmd: Vec<String> = argv.iter().map(RawPath::display).collect();
                match exit {
                    Some(e) => format!("$ {} (exit {e})", cmd.join(" ")),
                    None => format!("$ {}", cmd.join(" ")),
                }
            }
            Source::Derived { derived } => format!("derived: {}", crate::name::escape_display(derived.as_bytes())),
        }
    }
}

/// Metadata of an original file (SPEC §6 `file-meta`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct FileMeta {
    #[serde(rename = "type")]
    pub kind: FileKind,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::manifest::present"
    )]
    pub atime_ns: Option<i64>,
    pub inode: u64,
    pub dev: u64,
    pub nlink: u64,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::manifest::present"
    )]
    pub symlink_target: Option<RawPath>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::manifest::present"
    )]
    pub xattrs: Option<Vec<Xattr>>,
}

/// One extended attribute: name and value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Xattr(pub String, #[serde(with = "serde_bytes")] pub Vec<u8>);

/// File type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum FileKind {
    File,
    Dir,
    Symlink,
    Fifo,
    Socket,
    Char,
    Block,
}

/// Something that could not be collected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    /// Section it belongs to.
    pub section: Section,
    /// What was not collected.
    pub what: String,
    /// Why.
    pub reason: String,
}

/// Why bytes are not a manifest.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// Not well-formed per SPEC §6's encoding rules.
    #[error("manifest.cbor: {0}")]
    Cbor(#[from] cbor::CborError),
    /// Well-formed CBOR but not the manifest schema.
    #[error("manifest.cbor does not match SPEC §6: {0}")]
    Schema(String),
    /// A version this crate does not read.
    #[error("manifest.cbor is format version {0}; this verifier reads version 1")]
    Version(u64),
}

impl Manifest {
    /// Encodes the manifest (definite lengths, keys in CDDL order).
    ///
    /// # Errors
    /// Only if serialisation fails, which it does not for these types.
    pub fn to_cbor(&self) -> Result<Vec<u8>, ManifestError> {
        let mut out = Vec::new();
        ciborium::ser::into_writer(self, &mut out).map_err(|e| ManifestError::Schema(e.to_string()))?;
        Ok(out)
    }

    /// Decodes and checks a manifest per SPEC §6 (not yet the cross-checks of §11 step 6).
    ///
    /// # Errors
    /// [`ManifestError`] naming what is wrong.
    pub fn from_cbor(bytes: &[u8], max_depth: usize) -> Result<Manifest, ManifestError> {
        cbor::check_exact(bytes, cbor::Rules::text_keyed(max_depth))?;
        // Read the version first so that a v2 manifest is reported as such, not as a schema error.
        #[derive(Deserialize)]
        struct Probe {
            format: Option<ciborium::Value>,
            version: Option<ciborium::Value>,
        }
        let probe: Probe =
            ciborium::de::from_reader(bytes).map_err(|e| ManifestError::Schema(format!("not a map: {e}")))?;
        if probe.format != Some(ciborium::Value::Text("forensic-bundle".into())) {
            return Err(ManifestError::Schema("\"format\" is not \"forensic-bundle\"".into()));
        }
        match probe.version.as_ref().and_then(|v| v.as_integer()).map(u64::try_from) {
            Some(Ok(1)) => {}
            Some(Ok(v)) => return Err(ManifestError::Version(v)),
            _ => return Err(ManifestError::Schema("\"version\" is not an unsigned integer".into())),
        }
        let m: Manifest = ciborium::de::from_reader_with_recursion_limit(bytes, max_depth + 4)
            .map_err(|e| ManifestError::Schema(schema_message(e)))?;
        m.check_names()?;
        Ok(m)
    }

    fn check_names(&self) -> Result<(), ManifestError> {
        for s in &self.sections {
            if !(1..=9).contains(&s.number) || Section::from_name(&s.name).is_none() {
                return Err(ManifestError::Schema(format!(
                    "section record {} {:?}: the number must be 1..9 and the name one of SPEC §4's",
                    s.number, s.name
                )));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for m in &self.members {
            if let Some(meta) = &m.meta
                && meta.mode > 0o7777
            {
                return Err(ManifestError::Schema(format!(
                    "member {:?}: mode {} is above 4095 (0o7777)",
                    m.name, meta.mode
                )));
            }
            crate::name::validate(&m.name)
                .map_err(|e| ManifestError::Schema(format!("member name {:?}: {e}", m.name)))?;
            if crate::METADATA_NAMES.contains(&m.name.as_str()) {
                return Err(ManifestError::Schema(format!("member name {:?} is reserved", m.name)));
            }
            if !seen.insert(m.name.as_str()) {
                return Err(ManifestError::Schema(format!("member {:?} is listed twice", m.name)));
            }
        }
        Ok(())
    }
}

/// Deserializes an optional key that is present: its value must have the key's type (SPEC §6
/// gives no key a null value, so `null` is malformed rather than "absent").
pub(crate) fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

fn schema_message(e: ciborium::de::Error<std::io::Error>) -> String {
    match e {
        ciborium::de::Error::Semantic(_, msg) => msg,
        other => other.to_string(),
    }
}
