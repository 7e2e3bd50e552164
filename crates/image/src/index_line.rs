//! One line of a full-tree index member (`5-filesystem/tree-index.jsonl`, `9-image/layers/N.jsonl`),
//! as `forensic collect` writes it:
//!
//! ```text
//! {"path":"/etc/passwd","type":"file","mode":"0644","uid":0,"gid":0,"size":1024,"mtime_ns":…,
//!  "ctime_ns":…,"inode":…,"nlink":1,"symlink_target":null,"xattrs":null,"sha256":"…"}
//! ```
//!
//! Raw bytes (`path`, `symlink_target`, xattr values) are a JSON string when they are UTF-8, else
//! `{"bytes_hex": "…"}`. `type` is a file type, `"mountpoint-skipped"` (a directory on another or a
//! pseudo filesystem, not entered) or `"skipped"` (could not be examined, with `error`). A
//! directory that was not entered for another reason carries a `note`.

use crate::index::{FileEntry, Kind};
use crate::tree;
use forensic_bundle::digest::Digest;
use forensic_bundle::manifest::FileKind;
use forensic_evidence::records::EntryType;
use forensic_evidence::records::tree::{LayerChecksum, TreeEntry};
use forensic_evidence::records::upper::UpperChange;

/// One parsed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IndexLine {
    /// An entry that was examined.
    Entry(IndexedEntry),
    /// An entry that could not be examined (`"skipped"`): it exists, nothing else is known.
    Unexamined {
        /// Index path.
        path: String,
        /// The collector's reason.
        why: String,
    },
}

/// An examined entry with what the index adds to a [`FileEntry`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexedEntry {
    /// The entry.
    pub entry: FileEntry,
    /// Device number `(major, minor)` of a device node.
    pub rdev: Option<(u64, u64)>,
    /// Extended attributes recorded (names with raw values).
    pub xattrs: Vec<(String, Vec<u8>)>,
    /// Set when the directory's content is not in the index: another or a pseudo filesystem, the
    /// depth limit, or an error on entering it.
    pub unexplored: Option<String>,
    /// A lower layer's file checked against the node's record of the layer (CONTENTS.md §7).
    pub layer_checksum: Option<LayerChecksum>,
    /// The mount point of the tmpfs mount a regular file is on (`file-on-tmpfs`).
    pub on_tmpfs: Option<String>,
    /// The entry is below the mount point of a mount other than the root filesystem (a tmpfs, a
    /// volume): not part of the image's filesystem, so not compared with it.
    pub below_mount: bool,
    /// The entry is on a mount other than the root filesystem (its line names one).
    pub mount: bool,
}

impl IndexedEntry {
    /// The value of the extended attribute `name`.
    pub fn xattr(&self, name: &str) -> Option<&[u8]> {
        self.xattrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
    }
}

fn kind_of(t: EntryType) -> Option<Kind> {
    Some(match t.file_kind()? {
        FileKind::File => Kind::File,
        FileKind::Dir => Kind::Dir,
        FileKind::Symlink => Kind::Symlink,
        FileKind::Fifo => Kind::Fifo,
        FileKind::Socket => Kind::Socket,
        FileKind::Char => Kind::Char,
        FileKind::Block => Kind::Block,
    })
}

/// The index path of raw path bytes: absolute, `\xNN` for bytes that are not UTF-8.
fn index_path(raw: &[u8]) -> Result<String, String> {
    tree::checked_path(raw).map_err(|e| format!("path {:?} is not usable: {e:?}", tree::escape(raw)))
}

/// What the writable layer holds at one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UpperLine {
    /// Index path.
    pub path: String,
    /// The collector's `change` word.
    pub change: String,
    /// The bundle member holding the copied file, if one was stored.
    pub member: Option<String>,
    /// The entry's type (`whiteout` for a deletion), when the line says.
    pub kind: Option<EntryType>,
    /// `st_size` of the entry, when the line says.
    pub size: Option<u64>,
}

/// Parses one line of the writable layer's change list.
pub(crate) fn parse_upper(line: &[u8]) -> Result<UpperLine, String> {
    let l: UpperChange<'static> = serde_json::from_slice(line).map_err(|e| format!("not a change list line: {e}"))?;
    Ok(UpperLine {
        path: index_path(l.path.as_bytes())?,
        change: l.change.as_str().to_string(),
        member: l.member,
        kind: l.kind,
        size: l.size,
    })
}

/// Parses one line. `Err` says what is wrong with it (the caller adds member and line number).
pub(crate) fn parse(line: &[u8]) -> Result<IndexLine, String> {
    let l: TreeEntry<'static> = serde_json::from_slice(line).map_err(|e| format!("not an index line: {e}"))?;
    let path = index_path(l.path.as_bytes())?;
    if l.kind == EntryType::Skipped {
        let why = l.error.unwrap_or_else(|| "could not be examined".to_string());
        return Ok(IndexLine::Unexamined { path, why });
    }
    let kind =
        kind_of(l.kind).ok_or_else(|| format!("{path}: type {:?} has no place in a tree index", l.kind.as_str()))?;
    let mode = l.mode.ok_or_else(|| format!("{path}: no mode"))?.bits();
    let sha256 = match l.sha256 {
        Some(h) => Some(Digest::from_hex(&h).ok_or_else(|| format!("{path}: sha256 {h:?} is not 64 hex digits"))?),
        None => None,
    };
    let link_target = l.symlink_target.as_ref().map(|t| tree::escape(t.as_bytes()));
    let xattrs = l
        .xattrs
        .unwrap_or_default()
        .into_iter()
        .map(|x| (x.0, x.1.into_vec()))
        .collect();
    let mount = l.mount.as_ref().map(forensic_evidence::RawBytes::shown);
    let below_mount = mount.as_ref().is_some_and(|m| *m != path);
    let unexplored = match (l.kind, l.note) {
        (EntryType::MountpointSkipped, note) => Some(note.unwrap_or_else(|| "another filesystem: not entered".into())),
        (EntryType::Dir, Some(note)) => Some(note),
        (EntryType::Dir, None) if mount.is_some() => Some(format!(
            "{} mount: its files are not compared with the image",
            l.mount_kind.map_or("another", |k| k.as_str())
        )),
        _ => None,
    };
    Ok(IndexLine::Entry(IndexedEntry {
        entry: FileEntry {
            path,
            kind,
            mode,
            uid: l.uid.unwrap_or(0),
            gid: l.gid.unwrap_or(0),
            size: l.size.unwrap_or(0),
            mtime_ns: l.mtime_ns,
            sha256,
            link_target,
        },
        rdev: l.rdev.map(|d| (d.major, d.minor)),
        xattrs,
        unexplored,
        layer_checksum: l.layer_checksum,
        on_tmpfs: match (l.kind, l.mount_kind, mount) {
            (EntryType::File, Some(k), Some(m)) if k.is_scratch_memory() => Some(m),
            _ => None,
        },
        below_mount,
        mount: l.mount.is_some(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(line: &str) -> IndexedEntry {
        match parse(line.as_bytes()).unwrap() {
            IndexLine::Entry(e) => e,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_file_line_becomes_an_entry() {
        let sha = Digest::of(b"root:x:0:0\n");
        let e = entry(&format!(
            r#"{{"path":"/etc/passwd","type":"file","mode":"0644","uid":0,"gid":42,"size":11,"mtime_ns":1700000000123456789,"ctime_ns":1,"inode":5,"nlink":1,"symlink_target":null,"xattrs":null,"sha256":"{}"}}"#,
            sha.hex()
        ));
        assert_eq!(
            e.entry,
            FileEntry {
                path: "/etc/passwd".into(),
                kind: Kind::File,
                mode: 0o644,
                uid: 0,
                gid: 42,
                size: 11,
                mtime_ns: Some(1_700_000_000_123_456_789),
                sha256: Some(sha),
                link_target: None,
            }
        );
        assert_eq!((e.rdev, e.unexplored), (None, None));
    }

    #[test]
    fn raw_bytes_links_devices_and_xattrs() {
        let e = entry(
            r#"{"path":{"bytes_hex":"2f746d702fff"},"type":"symlink","mode":"0777","uid":0,"gid":0,"size":3,"mtime_ns":1,"symlink_target":{"bytes_hex":"61ff"},"xattrs":null,"sha256":null}"#,
        );
        assert_eq!(e.entry.path, "/tmp/\\xff");
        assert_eq!(e.entry.link_target.as_deref(), Some("a\\xff"));
        let e = entry(
            r#"{"path":"/a/x","type":"char","mode":"0000","uid":0,"gid":0,"size":0,"mtime_ns":1,"rdev":"0:0","symlink_target":null,"xattrs":null,"sha256":null}"#,
        );
        assert_eq!((e.entry.kind, e.rdev), (Kind::Char, Some((0, 0))));
        let e = entry(
            r#"{"path":"/a","type":"dir","mode":"4755","uid":0,"gid":0,"size":0,"mtime_ns":1,"symlink_target":null,"xattrs":[["trusted.overlay.opaque","y"],["user.x",{"bytes_hex":"00ff"}]],"sha256":null}"#,
        );
        assert_eq!(e.entry.mode, 0o4755);
        assert_eq!(e.xattr("trusted.overlay.opaque"), Some(&b"y"[..]));
        assert_eq!(e.xattr("user.x"), Some(&[0u8, 0xff][..]));
    }

    #[test]
    fn lines_of_mounts_are_told_apart_from_the_root_filesystem() {
        let meta =
            r#""mode":"0644","uid":0,"gid":0,"size":1,"mtime_ns":1,"symlink_target":null,"xattrs":null,"sha256":null"#;
        let e = entry(&format!(
            r#"{{"path":"/dev/shm/x","type":"file",{meta},"mount":"/dev/shm","mount_kind":"tmpfs"}}"#
        ));
        assert_eq!(
            (e.on_tmpfs.as_deref(), e.below_mount, e.mount),
            (Some("/dev/shm"), true, true)
        );
        let e = entry(&format!(
            r#"{{"path":"/dev/shm","type":"dir",{meta},"mount":"/dev/shm","mount_kind":"tmpfs"}}"#
        ));
        assert_eq!((e.on_tmpfs.as_deref(), e.below_mount, e.mount), (None, false, true));
        assert_eq!(
            e.unexplored.as_deref(),
            Some("tmpfs mount: its files are not compared with the image")
        );
        let e = entry(&format!(
            r#"{{"path":"/sa/token","type":"file",{meta},"mount":"/sa","mount_kind":"projected","withheld":"w"}}"#
        ));
        assert_eq!((e.on_tmpfs.as_deref(), e.below_mount), (None, true));
        let e = entry(&format!(
            r#"{{"path":"/etc/hosts","type":"file",{meta},"mount":"/etc/hosts","mount_kind":"runtime-bind"}}"#
        ));
        assert_eq!((e.below_mount, e.unexplored.as_deref()), (false, None));
        let e = entry(&format!(r#"{{"path":"/tmp/x","type":"file",{meta}}}"#));
        assert_eq!((e.on_tmpfs.as_deref(), e.below_mount, e.mount), (None, false, false));
        assert!(
            parse(format!(r#"{{"path":"/x","type":"file",{meta},"mount":"/x","mount_kind":"bogus"}}"#).as_bytes())
                .is_err()
        );
    }

    #[test]
    fn unexplored_directories_and_skipped_entries() {
        let e = entry(
            r#"{"path":"/proc","type":"mountpoint-skipped","mode":"0555","uid":0,"gid":0,"size":0,"mtime_ns":1,"symlink_target":null,"xattrs":null,"sha256":null,"note":"proc filesystem: not entered"}"#,
        );
        assert_eq!(e.entry.kind, Kind::Dir);
        assert_eq!(e.unexplored.as_deref(), Some("proc filesystem: not entered"));
        let e = entry(
            r#"{"path":"/deep","type":"dir","mode":"0755","uid":0,"gid":0,"size":0,"mtime_ns":1,"symlink_target":null,"xattrs":null,"sha256":null,"note":"depth limit: not entered"}"#,
        );
        assert_eq!(e.unexplored.as_deref(), Some("depth limit: not entered"));
        assert_eq!(
            parse(br#"{"path":"/x","type":"skipped","error":"permission denied"}"#).unwrap(),
            IndexLine::Unexamined {
                path: "/x".into(),
                why: "permission denied".into()
            }
        );
    }

    #[test]
    fn change_list_lines() {
        let l = parse_upper(
            br#"{"path":"/etc/passwd","change":"modified","type":"file","size":95,"mode":"0644","sha256":null,"member":"5-filesystem/upper/etc/passwd"}"#,
        )
        .unwrap();
        assert_eq!(
            l,
            UpperLine {
                path: "/etc/passwd".into(),
                change: "modified".into(),
                member: Some("5-filesystem/upper/etc/passwd".into()),
                kind: Some(EntryType::File),
                size: Some(95),
            }
        );
        let l = parse_upper(br#"{"path":"/x","change":"unreadable","error":"EACCES"}"#).unwrap();
        assert_eq!((l.change.as_str(), l.member), ("unreadable", None));
        assert!(parse_upper(b"[]").unwrap_err().starts_with("not a change list line"));
    }

    #[test]
    fn bad_lines_say_what_is_wrong() {
        let err = |l: &str| parse(l.as_bytes()).unwrap_err();
        assert!(err("{").starts_with("not an index line"), "{}", err("{"));
        let e = err(r#"{"path":"/x","type":"door","mode":"0644"}"#);
        assert!(e.starts_with("not an index line: unknown variant `door`"), "{e}");
        let e = err(r#"{"path":"/x","type":"file","mode":"rw-r--r--"}"#);
        assert!(
            e.starts_with(r#"not an index line: mode "rw-r--r--" is not four octal digits"#),
            "{e}"
        );
        assert_eq!(
            err(r#"{"path":"/x","type":"whiteout","mode":"0644"}"#),
            r#"/x: type "whiteout" has no place in a tree index"#
        );
        let e = err(r#"{"path":{"bytes_hex":"zz"},"type":"file","mode":"0644"}"#);
        assert!(e.starts_with("not an index line: bytes_hex"), "{e}");
        assert_eq!(
            err(r#"{"path":"/x","type":"file","mode":"0644","sha256":"zz"}"#),
            r#"/x: sha256 "zz" is not 64 hex digits"#
        );
        assert!(err(r#"{"path":"/../x","type":"file","mode":"0644"}"#).contains("not usable"));
    }
}
