//! Digests already computed in this collection, shared by file identity so that every byte is
//! read and hashed once: the merged tree index records the SHA-256 (and CRC-64/ISO) of each
//! regular file of the overlay root, and the index of a lower layer reuses them for the same
//! inodes instead of reading them again.
//!
//! # What makes a file "the same"
//! The identity is `(st_ino, size, mtime_ns, ctime_ns)` as `fstat` shows them on the opened
//! file, recorded only for files on the filesystem of the merged root (the overlay itself, not a
//! volume mounted in it). An overlay whose layers share one filesystem shows a lower file's own
//! inode number, and a file copied up into the writable layer keeps that number but gets a new
//! `ctime` (which no program can set: the kernel stamps it on every write and every metadata
//! change), so a changed copy never matches the lower file it came from. A change made to the
//! node's copy of a lower layer changes the very inode both views show: the tree index reads the
//! changed bytes, and the layer's index reuses exactly what was read (its `layer_checksum` comes
//! from a CRC-64 of those same bytes). Anything not found is hashed again, so a miss costs time
//! only, never detection.
//!
//! # Memory
//! At most [`KnownDigests::new`]'s `max` files are remembered (about 100 bytes each); files
//! past it are simply hashed again by the layer index.

use std::collections::HashMap;
use std::sync::Mutex;

/// How many files a collection remembers by default (about 25 MiB at most).
pub const DEFAULT_MAX_KNOWN: usize = 250_000;

/// Which inode state a digest belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Identity {
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
}

/// What was computed from a file's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Known {
    pub sha256: [u8; 32],
    /// CRC-64/ISO of the same bytes, when the recording index computed it.
    pub crc64: Option<u64>,
}

/// Digests of the merged root's regular files, by identity (see the module documentation).
#[derive(Debug)]
pub struct KnownDigests {
    dev: u64,
    with_crc: bool,
    max: usize,
    map: Mutex<HashMap<Identity, Known>>,
}

impl KnownDigests {
    /// An empty record for files on device `dev` (the merged root's `st_dev`); `with_crc`: the
    /// recording index also computes each file's CRC-64/ISO (needed when a lower layer is checked
    /// against the node's record of it); at most `max` files are kept.
    pub fn new(dev: u64, with_crc: bool, max: usize) -> KnownDigests {
        KnownDigests {
            dev,
            with_crc,
            max,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// Whether the recording index computes CRC-64s too.
    pub fn with_crc(&self) -> bool {
        self.with_crc
    }

    /// How many files are remembered.
    pub fn len(&self) -> usize {
        self.map.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Nothing remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Remembers what was read from a file of device `dev`; ignored for another device or when
    /// full.
    pub(crate) fn record(&self, dev: u64, id: Identity, known: Known) {
        if dev != self.dev {
            return;
        }
        if let Ok(mut map) = self.map.lock()
            && (map.len() < self.max || map.contains_key(&id))
        {
            map.insert(id, known);
        }
    }

    /// What was read from the file of this identity; `need_crc`: only if its CRC-64 is known.
    pub(crate) fn get(&self, id: &Identity, need_crc: bool) -> Option<Known> {
        let known = *self.map.lock().ok()?.get(id)?;
        (!need_crc || known.crc64.is_some()).then_some(known)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: Identity = Identity {
        ino: 7,
        size: 3,
        mtime_ns: 10,
        ctime_ns: 20,
    };
    const K: Known = Known {
        sha256: [1; 32],
        crc64: Some(9),
    };

    #[test]
    fn a_digest_is_found_only_for_the_same_inode_state_on_the_recorded_device() {
        let k = KnownDigests::new(5, true, 10);
        k.record(5, ID, K);
        k.record(6, Identity { ino: 8, ..ID }, K);
        assert_eq!(k.get(&ID, true), Some(K));
        assert_eq!(k.get(&Identity { ino: 8, ..ID }, false), None, "another device");
        assert_eq!(k.get(&Identity { ctime_ns: 21, ..ID }, false), None, "changed since");
        assert_eq!(k.get(&Identity { size: 4, ..ID }, false), None);
        assert_eq!(k.get(&Identity { mtime_ns: 11, ..ID }, false), None);
        k.record(5, Identity { ino: 9, ..ID }, Known { crc64: None, ..K });
        assert_eq!(k.get(&Identity { ino: 9, ..ID }, true), None, "no CRC-64 recorded");
        assert!(k.get(&Identity { ino: 9, ..ID }, false).is_some());
    }

    #[test]
    fn memory_is_bounded() {
        let k = KnownDigests::new(5, false, 2);
        for ino in 0..5 {
            k.record(5, Identity { ino, ..ID }, K);
        }
        assert_eq!(k.len(), 2);
        assert_eq!(k.get(&Identity { ino: 4, ..ID }, false), None);
    }
}
