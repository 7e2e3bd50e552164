//! One line of the writable layer's change list, `5-filesystem/upper-changes.jsonl`: what the
//! overlay's upper directory holds at one path. CONTENTS.md §4.

use super::{EntryType, Mode};
use crate::raw::RawBytes;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

/// What the writable layer holds at a path, compared with the lower layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// Not in any lower layer (or below an opaque directory).
    Added,
    /// Replaces a path of a lower layer.
    Modified,
    /// In the upper layer, but the lower layers could not all be read to tell which.
    AddedOrModified,
    /// A whiteout: the path of a lower layer was deleted.
    Deleted,
    /// A directory that hides the lower layers' content below it.
    OpaqueDir,
    /// A directory present in the upper layer (it holds changes; not a change by itself).
    Dir,
    /// Could not be examined; `error` says why.
    Unreadable,
}

impl Change {
    /// The name written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Modified => "modified",
            Change::AddedOrModified => "added-or-modified",
            Change::Deleted => "deleted",
            Change::OpaqueDir => "opaque-dir",
            Change::Dir => "dir",
            Change::Unreadable => "unreadable",
        }
    }
}

/// One change-list line. Two forms: an examined entry (`type`, `size`, `mode`, `sha256` always
/// written, `sha256` `null` when nothing was copied; the other fields only when they apply) and
/// an `unreadable` one (`path`, `change`, `error`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UpperChange<'a> {
    /// Absolute path inside the container (for a whiteout: the deleted path).
    pub path: RawBytes<'a>,
    /// What it is.
    pub change: Change,
    /// The entry's type; `whiteout` for a deletion.
    #[serde(rename = "type", default)]
    pub kind: Option<EntryType>,
    /// `st_size` of the upper entry.
    #[serde(default)]
    pub size: Option<u64>,
    /// Permission bits of the upper entry.
    #[serde(default)]
    pub mode: Option<Mode>,
    /// SHA-256 (lowercase hex) of the copy, when the file was copied.
    #[serde(default)]
    pub sha256: Option<String>,
    /// The member holding the copy (`5-filesystem/upper/…`).
    #[serde(default)]
    pub member: Option<String>,
    /// `true` when the copy holds only the first part of the file (the size cap).
    #[serde(default)]
    pub truncated: Option<bool>,
    /// A symlink's target.
    #[serde(default)]
    pub symlink_target: Option<RawBytes<'a>>,
    /// The overlay `redirect` xattr (a renamed directory's lower path).
    #[serde(default)]
    pub redirect: Option<RawBytes<'a>>,
    /// `true` for an overlay metacopy file (metadata changed, data still in a lower layer).
    #[serde(default)]
    pub metacopy: Option<bool>,
    /// The aufs marker file the line was read from (`.wh.NAME`, `.wh..wh..opq`).
    #[serde(default)]
    pub marker: Option<RawBytes<'a>>,
    /// Why an `unreadable` entry could not be examined.
    #[serde(default)]
    pub error: Option<String>,
}

impl<'a> UpperChange<'a> {
    /// A line with only `path` and `change` set; the rest is filled with struct update syntax.
    pub fn bare(path: RawBytes<'a>, change: Change) -> UpperChange<'a> {
        UpperChange {
            path,
            change,
            kind: None,
            size: None,
            mode: None,
            sha256: None,
            member: None,
            truncated: None,
            symlink_target: None,
            redirect: None,
            metacopy: None,
            marker: None,
            error: None,
        }
    }

    /// The line of an entry that could not be examined.
    pub fn unreadable(path: RawBytes<'a>, error: String) -> UpperChange<'a> {
        UpperChange {
            error: Some(error),
            ..UpperChange::bare(path, Change::Unreadable)
        }
    }
}

impl Serialize for UpperChange<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("path", &self.path)?;
        m.serialize_entry("change", &self.change)?;
        if self.change == Change::Unreadable {
            m.serialize_entry("error", &self.error)?;
            return m.end();
        }
        m.serialize_entry("type", &self.kind)?;
        m.serialize_entry("size", &self.size)?;
        m.serialize_entry("mode", &self.mode)?;
        m.serialize_entry("sha256", &self.sha256)?;
        if let Some(v) = &self.member {
            m.serialize_entry("member", v)?;
        }
        if let Some(v) = &self.truncated {
            m.serialize_entry("truncated", v)?;
        }
        if let Some(v) = &self.symlink_target {
            m.serialize_entry("symlink_target", v)?;
        }
        if let Some(v) = &self.redirect {
            m.serialize_entry("redirect", v)?;
        }
        if let Some(v) = &self.metacopy {
            m.serialize_entry("metacopy", v)?;
        }
        if let Some(v) = &self.marker {
            m.serialize_entry("marker", v)?;
        }
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip() {
        let c = UpperChange {
            path: RawBytes::borrowed(b"/bin/id"),
            change: Change::Deleted,
            kind: Some(EntryType::Whiteout),
            size: Some(0),
            mode: Some(Mode(0)),
            sha256: None,
            member: None,
            truncated: None,
            symlink_target: None,
            redirect: None,
            metacopy: None,
            marker: Some(RawBytes::borrowed(b".wh.id")),
            error: None,
        };
        let line = serde_json::to_string(&c).unwrap();
        assert_eq!(
            line,
            r#"{"path":"/bin/id","change":"deleted","type":"whiteout","size":0,"mode":"0000","sha256":null,"marker":".wh.id"}"#
        );
        assert_eq!(serde_json::from_str::<UpperChange<'static>>(&line).unwrap(), c);
        let u = UpperChange::unreadable(RawBytes::borrowed(b"/x"), "EACCES".into());
        let line = serde_json::to_string(&u).unwrap();
        assert_eq!(line, r#"{"path":"/x","change":"unreadable","error":"EACCES"}"#);
        assert_eq!(serde_json::from_str::<UpperChange<'static>>(&line).unwrap(), u);
    }
}
