//! bbolt files (containerd's meta.db, the snapshotter's metadata.db, podman's bolt_state.db)
//! over arbitrary bytes: open, list every bucket, look keys up. Run twice: as given, and with
//! both meta pages' checksums recomputed, so that mutations of the meta fields reach the checks
//! behind the checksum.
#![no_main]
use libfuzzer_sys::fuzz_target;

/// FNV-1a 64 over the 56 bytes of the meta page at `page`, written into its checksum field.
fn reseal(data: &mut [u8], page: usize) {
    let Some(body) = data.get(page + 16..page + 16 + 56) else {
        return;
    };
    let sum = body.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    if let Some(field) = data.get_mut(page + 72..page + 80) {
        field.copy_from_slice(&sum.to_le_bytes());
    }
}

fn exercise(data: &[u8]) {
    let Ok(db) = forensic_bolt::Db::open(data) else {
        return;
    };
    let _ = forensic_bolt::dump(&db);
    let paths: [&[&[u8]]; 4] = [
        &[b"big"],
        &[b"v1", b"k8s.io", b"containers"],
        &[b"v1", b"snapshots"],
        &[b"ctr"],
    ];
    for path in paths {
        if let Ok(Some(bucket)) = db.bucket(path) {
            for key in [&b"key-02500"[..], b"", b"zz"] {
                let _ = bucket.get(key);
            }
            if let Some(Ok(first)) = bucket.iter().next() {
                let _ = bucket.get(first.key);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    exercise(data);
    let mut copy = data.to_vec();
    reseal(&mut copy, 0);
    let page_size = copy
        .get(24..28)
        .map_or(4096, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
    if page_size.is_power_of_two() && (1024..=65536).contains(&page_size) {
        reseal(&mut copy, page_size);
    } else {
        reseal(&mut copy, 4096);
    }
    if copy != data {
        exercise(&copy);
    }
});
