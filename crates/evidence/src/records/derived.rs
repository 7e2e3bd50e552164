//! One line of a derived list, `5-filesystem/derived/{setuid,tmp-executables,recent}.jsonl`.
//! CONTENTS.md §5.

use super::Mode;
use crate::raw::RawBytes;
use serde::{Deserialize, Serialize};

/// A regular file the list names, with the metadata that put it there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DerivedEntry<'a> {
    /// Absolute path inside the container.
    pub path: RawBytes<'a>,
    /// Permission bits.
    pub mode: Mode,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// `st_size`.
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
    /// Status change time, nanoseconds since the Unix epoch.
    pub ctime_ns: i64,
    /// Inode number.
    pub inode: u64,
}

impl DerivedEntry<'_> {
    /// Setuid or setgid bit set.
    pub fn is_setid(&self) -> bool {
        self.mode.bits() & 0o6000 != 0
    }

    /// Any execute bit set.
    pub fn is_executable(&self) -> bool {
        self.mode.bits() & 0o111 != 0
    }
}
