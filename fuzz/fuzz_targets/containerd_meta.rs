//! containerd's meta.db through forensic-nodedisk: every container record (labels, Go binary
//! times, the spec's and CRI metadata's protobuf `Any`), snapshot keys and image targets; and the
//! same bytes as a CRI status checkpoint, a Go binary time and an `Any`.
#![no_main]
use forensic_nodedisk::{codec, containerd};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = containerd::cri_status(data, "/status");
    let _ = codec::go_binary_time(data);
    let _ = codec::protobuf_any(data);
    let Ok(db) = forensic_bolt::Db::open(data) else {
        return;
    };
    if let Ok((found, _broken)) = containerd::containers(&db, "/meta.db") {
        for c in found {
            if let (Some(s), Some(k)) = (&c.snapshotter, &c.snapshot_key) {
                let _ = containerd::backend_key(&db, "/meta.db", &c.namespace, s, k);
            }
            if let Some(image) = &c.image {
                let _ = containerd::image_target(&db, "/meta.db", &c.namespace, image);
            }
        }
    }
});
