//! The overlayfs snapshotter's metadata.db through forensic-nodedisk: the parent chain of every
//! snapshot key (bounded, acyclic, unsigned varint ids).
#![no_main]
use forensic_nodedisk::containerd;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(db) = forensic_bolt::Db::open(data) else {
        return;
    };
    let Ok(Some(snapshots)) = db.bucket(&[b"v1", b"snapshots"]) else {
        return;
    };
    for entry in snapshots.iter().take(64) {
        let Ok(entry) = entry else {
            return;
        };
        if let Ok(key) = std::str::from_utf8(entry.key) {
            let _ = containerd::snapshot_chain(&db, "/metadata.db", key);
        }
    }
});
