//! What a bundle's evidence members hold: the one owner of their contents, as `forensic-bundle` is
//! the owner of the container around them.
//!
//! `forensic collect` writes these types and every reader (`show`, `timeline`, `diff`) reads them
//! back through the same types; `format-spec/CONTENTS.md` describes them normatively and
//! `format-spec/schemas/` holds a JSON Schema for each JSON or JSON-lines member.
//!
//! - [`members`]: the member names the tools read.
//! - [`raw`]: raw bytes (paths, link targets, xattr values) on the wire, and their one display
//!   escaping.
//! - [`paths`]: the temporary directories and the rule that names a copied file's member.
//! - [`records`]: the records themselves (`tree-index.jsonl`, `upper-changes.jsonl`,
//!   `processes.json`, `sockets.json`, …).
//! - [`lines`]: one bounded reader of line-oriented members.
//! - [`overlay`]: overlayfs's merge rules (whiteouts, opaque directories) over layer indexes.
//! - [`accounts`]: the one parser of the account files a bundle copies (`/etc/passwd`,
//!   `/etc/shadow`, `/etc/group`).
//! - [`findings`]: the one findings model of `show` and `diff`: [`Severity`](findings::Severity),
//!   [`FindingId`](findings::FindingId), [`Finding`](findings::Finding). It lives here, beside the
//!   members a finding cites as evidence, because both readers (`forensic-analysis`,
//!   `forensic-image`) depend on this crate and neither on the other.
//!
//! # Guarantees
//! - Nothing here reads a clock, a file or the environment: records are bytes in, bytes out.
//! - Deserialising never turns a malformed value into a default: bad hex, a mode that is not
//!   octal, a device that is not `major:minor` is an error naming the field.
//! - Unknown fields are ignored by readers (a later collector may add some); fields listed in the
//!   schema have exactly the types given.

#![deny(missing_docs)]

pub mod accounts;
pub mod error;
pub mod findings;
pub mod lines;
pub mod members;
pub mod overlay;
pub mod paths;
pub mod raw;
pub mod records;

pub use error::EvidenceError;
pub use raw::{RawBytes, escape};
