//! The records of the JSON and JSON-lines evidence members, one type each, read and written
//! through serde. `format-spec/CONTENTS.md` describes each; `format-spec/schemas/` validates it.

pub mod api;
pub mod command;
pub mod container;
pub mod containerd;
pub mod derived;
pub mod image;
pub mod mounts;
pub mod network;
pub mod offline;
pub mod process;
pub mod tree;
pub mod upper;

use forensic_bundle::manifest::FileKind;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use crate::raw::RawBytes;

/// Permission bits (`st_mode & 0o7777`), written as four octal digits (`"0755"`, `"4755"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mode(pub u32);

impl Mode {
    /// The bits, at most `0o7777`.
    pub fn bits(self) -> u32 {
        self.0 & 0o7777
    }
}

impl Serialize for Mode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{:04o}", self.bits()))
    }
}

impl<'de> Deserialize<'de> for Mode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        if text.len() != 4 || !text.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            return Err(de::Error::custom(format!("mode {text:?} is not four octal digits")));
        }
        u32::from_str_radix(&text, 8)
            .map(Mode)
            .map_err(|e| de::Error::custom(format!("mode {text:?}: {e}")))
    }
}

/// The device number a character or block device node stands for, written `"major:minor"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Device {
    /// Major number.
    pub major: u64,
    /// Minor number.
    pub minor: u64,
}

impl Serialize for Device {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{}:{}", self.major, self.minor))
    }
}

impl<'de> Deserialize<'de> for Device {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        let parsed = text
            .split_once(':')
            .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)));
        match parsed {
            Some((major, minor)) => Ok(Device { major, minor }),
            None => Err(de::Error::custom(format!("device {text:?} is not major:minor"))),
        }
    }
}

/// What a line of an index or change list describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryType {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link (recorded, never followed).
    Symlink,
    /// A named pipe.
    Fifo,
    /// A Unix socket file.
    Socket,
    /// A character device node.
    Char,
    /// A block device node.
    Block,
    /// An overlay whiteout (a character device 0:0 or an aufs `.wh.` file): a deletion
    /// (`upper-changes.jsonl` only).
    Whiteout,
    /// A directory on another or a pseudo filesystem, not entered (`tree-index.jsonl` only).
    MountpointSkipped,
    /// Something that could not be examined; the line says why in `error`.
    Skipped,
}

impl EntryType {
    /// The name written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryType::File => "file",
            EntryType::Dir => "dir",
            EntryType::Symlink => "symlink",
            EntryType::Fifo => "fifo",
            EntryType::Socket => "socket",
            EntryType::Char => "char",
            EntryType::Block => "block",
            EntryType::Whiteout => "whiteout",
            EntryType::MountpointSkipped => "mountpoint-skipped",
            EntryType::Skipped => "skipped",
        }
    }

    /// The file type it is, for the types that are one (a skipped mount point is a directory).
    pub fn file_kind(self) -> Option<FileKind> {
        Some(match self {
            EntryType::File => FileKind::File,
            EntryType::Dir | EntryType::MountpointSkipped => FileKind::Dir,
            EntryType::Symlink => FileKind::Symlink,
            EntryType::Fifo => FileKind::Fifo,
            EntryType::Socket => FileKind::Socket,
            EntryType::Char => FileKind::Char,
            EntryType::Block => FileKind::Block,
            EntryType::Whiteout | EntryType::Skipped => return None,
        })
    }
}

impl From<FileKind> for EntryType {
    fn from(k: FileKind) -> Self {
        match k {
            FileKind::File => EntryType::File,
            FileKind::Dir => EntryType::Dir,
            FileKind::Symlink => EntryType::Symlink,
            FileKind::Fifo => EntryType::Fifo,
            FileKind::Socket => EntryType::Socket,
            FileKind::Char => EntryType::Char,
            FileKind::Block => EntryType::Block,
        }
    }
}

/// One extended attribute: its name and raw value, written `[name, value]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct XattrPair<'a>(pub String, pub RawBytes<'a>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_and_devices_round_trip_and_refuse_garbage() {
        assert_eq!(serde_json::to_string(&Mode(0o104755)).unwrap(), r#""4755""#);
        assert_eq!(serde_json::from_str::<Mode>(r#""0644""#).unwrap(), Mode(0o644));
        for bad in [r#""644""#, r#""0648""#, r#""07777x""#, "420"] {
            assert!(serde_json::from_str::<Mode>(bad).is_err(), "{bad}");
        }
        let d = Device { major: 1, minor: 3 };
        assert_eq!(serde_json::to_string(&d).unwrap(), r#""1:3""#);
        assert_eq!(serde_json::from_str::<Device>(r#""1:3""#).unwrap(), d);
        assert!(serde_json::from_str::<Device>(r#""1-3""#).is_err());
        assert_eq!(
            serde_json::to_string(&EntryType::MountpointSkipped).unwrap(),
            r#""mountpoint-skipped""#
        );
    }
}
