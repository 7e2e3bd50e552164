//! One line of a full-tree index: `5-filesystem/tree-index.jsonl` (the container's root
//! filesystem) and `9-image/layers/N.jsonl` (one lower layer on the node). CONTENTS.md §3.

use super::mounts::MountKind;
use super::{Device, EntryType, Mode, XattrPair};
use crate::raw::RawBytes;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

/// One entry of the tree, described by `lstat` (never followed).
///
/// Two forms: an examined entry (every metadata field present; `symlink_target`, `xattrs` and
/// `sha256` written as `null` when absent), and a `skipped` one (`path`, `type`, `error` only).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TreeEntry<'a> {
    /// Absolute path inside the root.
    pub path: RawBytes<'a>,
    /// A file type, `mountpoint-skipped` or `skipped`.
    #[serde(rename = "type")]
    pub kind: EntryType,
    /// Permission bits.
    #[serde(default)]
    pub mode: Option<Mode>,
    /// Owner.
    #[serde(default)]
    pub uid: Option<u32>,
    /// Group.
    #[serde(default)]
    pub gid: Option<u32>,
    /// `st_size`.
    #[serde(default)]
    pub size: Option<u64>,
    /// Modification time, nanoseconds since the Unix epoch.
    #[serde(default)]
    pub mtime_ns: Option<i64>,
    /// Status change time, nanoseconds since the Unix epoch.
    #[serde(default)]
    pub ctime_ns: Option<i64>,
    /// Inode number.
    #[serde(default)]
    pub inode: Option<u64>,
    /// Link count.
    #[serde(default)]
    pub nlink: Option<u64>,
    /// The device a `char` or `block` node stands for.
    #[serde(default)]
    pub rdev: Option<Device>,
    /// A symlink's target as read (never followed).
    #[serde(default)]
    pub symlink_target: Option<RawBytes<'a>>,
    /// Extended attributes, in the order read; `None` when not read.
    #[serde(default)]
    pub xattrs: Option<Vec<XattrPair<'a>>>,
    /// SHA-256 (lowercase hex) of a regular file's content; `None` when not hashed.
    #[serde(default)]
    pub sha256: Option<String>,
    /// Why a directory's content is not in the index (another filesystem, the depth limit, an
    /// error on entering it).
    #[serde(default)]
    pub note: Option<String>,
    /// Why the entry (`skipped`) or a regular file's content (not hashed) could not be read.
    #[serde(default)]
    pub error: Option<String>,
    /// Lower-layer indexes only (`9-image/layers/N.jsonl`), regular files: whether the file's
    /// size and CRC-64 agree with the node's own record of the layer (CONTENTS.md §7). Absent
    /// from the container's full-tree index.
    #[serde(default)]
    pub layer_checksum: Option<LayerChecksum>,
    /// The mount point of the mount the entry is on, for every entry not on the container's root
    /// filesystem (`5-filesystem/mounts.json` describes each mount). Absent on the root
    /// filesystem and in lower-layer indexes.
    #[serde(default)]
    pub mount: Option<RawBytes<'a>>,
    /// The kind of that mount (`tmpfs`, `secret`, …), present with `mount`.
    #[serde(default)]
    pub mount_kind: Option<MountKind>,
    /// A regular file whose contents `collect` did not copy anywhere into the bundle, and why
    /// (a credential volume without `--include-secrets`). Its `sha256` and metadata are still
    /// recorded.
    #[serde(default)]
    pub withheld: Option<String>,
}

/// A lower-layer file checked against the node's record of what the layer held when it was
/// unpacked (containers/storage's `tar-split`: each file's size and CRC-64/ISO).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LayerChecksum {
    /// Size and CRC-64 agree.
    Ok,
    /// The size or CRC-64 differs, or the layer's record does not list the file: the node's copy
    /// of the layer was changed after it was unpacked. The file is copied
    /// ([`crate::paths::layer_changed_copy`]).
    Differs,
    /// Not checked: no record of the layer on the node (containerd, Docker), the file was not
    /// hashed, or it is a hard link whose content the record keeps under another name.
    Unknown,
}

impl<'a> TreeEntry<'a> {
    /// A line with only `path` and `type` set; the rest is filled with struct update syntax
    /// (`TreeEntry { mode: Some(..), ..TreeEntry::bare(path, kind) }`).
    pub fn bare(path: RawBytes<'a>, kind: EntryType) -> TreeEntry<'a> {
        TreeEntry {
            path,
            kind,
            mode: None,
            uid: None,
            gid: None,
            size: None,
            mtime_ns: None,
            ctime_ns: None,
            inode: None,
            nlink: None,
            rdev: None,
            symlink_target: None,
            xattrs: None,
            sha256: None,
            note: None,
            error: None,
            layer_checksum: None,
            mount: None,
            mount_kind: None,
            withheld: None,
        }
    }

    /// The line of an entry that could not be examined.
    pub fn skipped(path: RawBytes<'a>, error: String) -> TreeEntry<'a> {
        TreeEntry {
            error: Some(error),
            ..TreeEntry::bare(path, EntryType::Skipped)
        }
    }

    /// Permission bits (with setuid, setgid, sticky); 0 when not recorded.
    pub fn perm(&self) -> u32 {
        self.mode.map_or(0, Mode::bits)
    }

    /// A regular file with the setuid or setgid bit.
    pub fn is_setuid(&self) -> bool {
        self.kind == EntryType::File && self.perm() & 0o6000 != 0
    }

    /// A regular file with any execute bit.
    pub fn is_executable(&self) -> bool {
        self.kind == EntryType::File && self.perm() & 0o111 != 0
    }

    /// The value of extended attribute `name`, if recorded.
    pub fn xattr(&self, name: &str) -> Option<&[u8]> {
        self.xattrs
            .as_deref()?
            .iter()
            .find(|x| x.0 == name)
            .map(|x| x.1.as_bytes())
    }
}

impl Serialize for TreeEntry<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("path", &self.path)?;
        m.serialize_entry("type", &self.kind)?;
        if self.kind == EntryType::Skipped {
            m.serialize_entry("error", &self.error)?;
            return m.end();
        }
        m.serialize_entry("mode", &self.mode)?;
        m.serialize_entry("uid", &self.uid)?;
        m.serialize_entry("gid", &self.gid)?;
        m.serialize_entry("size", &self.size)?;
        m.serialize_entry("mtime_ns", &self.mtime_ns)?;
        m.serialize_entry("ctime_ns", &self.ctime_ns)?;
        m.serialize_entry("inode", &self.inode)?;
        m.serialize_entry("nlink", &self.nlink)?;
        if let Some(rdev) = &self.rdev {
            m.serialize_entry("rdev", rdev)?;
        }
        m.serialize_entry("symlink_target", &self.symlink_target)?;
        m.serialize_entry("xattrs", &self.xattrs)?;
        m.serialize_entry("sha256", &self.sha256)?;
        if let Some(note) = &self.note {
            m.serialize_entry("note", note)?;
        }
        if let Some(error) = &self.error {
            m.serialize_entry("error", error)?;
        }
        if let Some(c) = &self.layer_checksum {
            m.serialize_entry("layer_checksum", c)?;
        }
        if let Some(mount) = &self.mount {
            m.serialize_entry("mount", mount)?;
        }
        if let Some(kind) = &self.mount_kind {
            m.serialize_entry("mount_kind", kind)?;
        }
        if let Some(w) = &self.withheld {
            m.serialize_entry("withheld", w)?;
        }
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_are_written_as_documented_and_read_back() {
        let e = TreeEntry {
            path: RawBytes::borrowed(b"/dev/null"),
            kind: EntryType::Char,
            mode: Some(Mode(0o666)),
            uid: Some(0),
            gid: Some(0),
            size: Some(0),
            mtime_ns: Some(1),
            ctime_ns: Some(2),
            inode: Some(3),
            nlink: Some(1),
            rdev: Some(Device { major: 1, minor: 3 }),
            symlink_target: None,
            xattrs: Some(vec![XattrPair("user.a".into(), RawBytes::borrowed(b"\xff"))]),
            sha256: None,
            note: None,
            error: None,
            layer_checksum: None,
            mount: None,
            mount_kind: None,
            withheld: None,
        };
        let line = serde_json::to_string(&e).unwrap();
        assert_eq!(
            line,
            r#"{"path":"/dev/null","type":"char","mode":"0666","uid":0,"gid":0,"size":0,"mtime_ns":1,"ctime_ns":2,"inode":3,"nlink":1,"rdev":"1:3","symlink_target":null,"xattrs":[["user.a",{"bytes_hex":"ff"}]],"sha256":null}"#
        );
        let back: TreeEntry<'static> = serde_json::from_str(&line).unwrap();
        assert_eq!(back, e);
        assert_eq!(back.xattr("user.a"), Some(&b"\xff"[..]));

        let s = TreeEntry::skipped(RawBytes::borrowed(b"/x"), "Permission denied".into());
        let line = serde_json::to_string(&s).unwrap();
        assert_eq!(line, r#"{"path":"/x","type":"skipped","error":"Permission denied"}"#);
        assert_eq!(serde_json::from_str::<TreeEntry<'static>>(&line).unwrap(), s);

        let mut f = e.clone();
        f.layer_checksum = Some(LayerChecksum::Differs);
        let line = serde_json::to_string(&f).unwrap();
        assert!(line.ends_with(r#""sha256":null,"layer_checksum":"differs"}"#), "{line}");
        assert_eq!(serde_json::from_str::<TreeEntry<'static>>(&line).unwrap(), f);

        let mut t = e.clone();
        t.kind = EntryType::File;
        t.rdev = None;
        t.mount = Some(RawBytes::borrowed(b"/var/run/secrets/kubernetes.io/serviceaccount"));
        t.mount_kind = Some(MountKind::Projected);
        t.withheld = Some("credential".into());
        let line = serde_json::to_string(&t).unwrap();
        assert!(
            line.ends_with(r#""sha256":null,"mount":"/var/run/secrets/kubernetes.io/serviceaccount","mount_kind":"projected","withheld":"credential"}"#),
            "{line}"
        );
        assert_eq!(serde_json::from_str::<TreeEntry<'static>>(&line).unwrap(), t);
    }
}
