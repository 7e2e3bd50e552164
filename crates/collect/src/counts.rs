//! The counters of a collection's summary (`collect`'s text output and `collect --json`'s
//! `counts`), each with a stable snake_case key (README, `collect`) and words for people.

use serde::Serialize;

/// One counter of [`crate::CollectSummary::counts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Counter {
    /// Processes in the target's PID namespace (section 1).
    Processes,
    /// Deleted executables copied from `/proc/PID/exe` (section 1).
    DeletedExecutablesCopied,
    /// Sockets of the target's network namespace (section 2).
    Sockets,
    /// Process memory bytes collected (section 3).
    MemoryBytes,
    /// Entries of the full-tree index (section 5).
    EntriesIndexed,
    /// Regular files hashed for the index (section 5).
    FilesHashed,
    /// Files copied from the places attackers use (`5-filesystem/root/`).
    FilesCopied,
    /// Files changed since the container started, or in the node's image layers, copied to
    /// `5-filesystem/changed/` (CONTENTS.md §3).
    ChangedCopied,
    /// Paths the writable layer added.
    UpperAdded,
    /// Paths the writable layer modified.
    UpperModified,
    /// Paths the writable layer deleted.
    UpperDeleted,
}

impl Counter {
    /// The key in `collect --json`'s `counts`.
    pub fn key(self) -> &'static str {
        match self {
            Counter::Processes => "processes",
            Counter::DeletedExecutablesCopied => "deleted_executables_copied",
            Counter::Sockets => "sockets",
            Counter::MemoryBytes => "memory_bytes",
            Counter::EntriesIndexed => "entries_indexed",
            Counter::FilesHashed => "files_hashed",
            Counter::FilesCopied => "files_copied",
            Counter::ChangedCopied => "changed_copied",
            Counter::UpperAdded => "upper_added",
            Counter::UpperModified => "upper_modified",
            Counter::UpperDeleted => "upper_deleted",
        }
    }

    /// In words, for the text summary.
    pub fn label(self) -> &'static str {
        match self {
            Counter::Processes => "processes",
            Counter::DeletedExecutablesCopied => "deleted executables copied",
            Counter::Sockets => "sockets",
            Counter::MemoryBytes => "memory bytes",
            Counter::EntriesIndexed => "entries indexed",
            Counter::FilesHashed => "files hashed",
            Counter::FilesCopied => "files copied (places attackers use)",
            Counter::ChangedCopied => "files copied (changed since the start or in the node's layers)",
            Counter::UpperAdded => "upper layer: added",
            Counter::UpperModified => "upper layer: modified",
            Counter::UpperDeleted => "upper layer: deleted",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_serialized_names() {
        for c in [
            Counter::Processes,
            Counter::DeletedExecutablesCopied,
            Counter::Sockets,
            Counter::MemoryBytes,
            Counter::EntriesIndexed,
            Counter::FilesHashed,
            Counter::FilesCopied,
            Counter::ChangedCopied,
            Counter::UpperAdded,
            Counter::UpperModified,
            Counter::UpperDeleted,
        ] {
            assert_eq!(serde_json::to_value(c).ok(), Some(serde_json::Value::from(c.key())));
        }
    }
}
