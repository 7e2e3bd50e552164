//! `6-podspec/offline-source.json`: where a container collected offline (`forensic collect
//! --offline-root`) was found, how the node's disk was read, and every metadata file read to find
//! it, with its SHA-256. CONTENTS.md §17.

use serde::{Deserialize, Serialize};

/// How every node path is opened in dead-box collection (the text of [`OfflineSource::opened`]).
pub const OPENED: &str = "ROOT opened once as a directory; every node path opened beneath it with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) (links on the node resolve inside ROOT), files with O_NOFOLLOW and O_NOATIME, never for writing; inside a layer directory no link is followed (RESOLVE_NO_SYMLINKS)";

/// The member's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflineSource {
    /// ROOT as the examiner gave it (a mounted disk snapshot, or a directory holding `var/…`).
    pub root: String,
    /// How ROOT and the paths beneath it were opened ([`OPENED`]).
    pub opened: String,
    /// `containerd`, `docker` or `podman`.
    pub runtime: String,
    /// The containerd namespace; `null` for the other runtimes.
    pub namespace: Option<String>,
    /// The container id as the runtime stores it.
    pub container: String,
    /// The last state the runtime recorded: on a disk taken from a running node, `running` means
    /// running when the disk was captured.
    pub last_state: LastState,
    /// Every metadata file (or database) read to find the container, in the order read.
    pub metadata_read: Vec<MetadataFile>,
    /// What could not be read for this container (each is also a gap or a problem of `--list`).
    pub problems: Vec<String>,
}

/// The last state a runtime recorded for a container, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastState {
    /// `running`, `exited`, `created`, `unknown`, … as stored.
    pub status: String,
    /// The exit code, when recorded.
    pub exit_code: Option<i64>,
    /// The process id recorded (on a dead node, no such process exists).
    pub pid: Option<i64>,
    /// Start time as stored.
    pub started: Option<String>,
    /// Finish time as stored.
    pub finished: Option<String>,
    /// The node path the state was read from; empty when the disk records none.
    pub source: String,
}

impl LastState {
    /// The state of a container whose runtime keeps none on disk (a `ctr`-made containerd
    /// container: tasks live in `/run/containerd`, a tmpfs).
    pub fn unknown() -> LastState {
        LastState {
            status: "unknown".into(),
            exit_code: None,
            pid: None,
            started: None,
            finished: None,
            source: String::new(),
        }
    }
}

/// One metadata file read, as it was read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MetadataFile {
    /// Its node path (under ROOT).
    pub path: String,
    /// Bytes read.
    pub size: u64,
    /// SHA-256 of those bytes, lowercase hex.
    pub sha256: String,
}

impl MetadataFile {
    /// The record of reading `bytes` from the node path `path`.
    pub fn of(path: &str, bytes: &[u8]) -> MetadataFile {
        use sha2::Digest;
        MetadataFile {
            path: path.to_string(),
            size: bytes.len() as u64,
            sha256: hex::encode(sha2::Sha256::digest(bytes)),
        }
    }
}
