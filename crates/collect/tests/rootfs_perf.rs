//! Timing of the index over a tree named by `ROOTFS_INDEX_TREE` (ignored: run by hand with
//! `ROOTFS_INDEX_TREE=/some/tree cargo test --release -p forensic-collect --test rootfs_perf -- --ignored --nocapture`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use forensic_collect::rootfs::RootFs;
use forensic_collect::rootfs::index::{IndexOptions, write_index};

#[test]
#[ignore = "timing by hand over a tree named by ROOTFS_INDEX_TREE"]
fn index_a_tree() {
    let Some(tree) = std::env::var_os("ROOTFS_INDEX_TREE") else {
        eprintln!("set ROOTFS_INDEX_TREE");
        return;
    };
    let root = RootFs::open(std::path::Path::new(&tree)).unwrap();
    let t = std::time::Instant::now();
    let mut out = std::io::BufWriter::new(std::io::sink());
    let stats = write_index(&root, &mut out, &IndexOptions::default()).unwrap();
    eprintln!(
        "{} entries, {} files, {} bytes hashed in {:.3}s",
        stats.entries,
        stats.files_hashed,
        stats.bytes_hashed,
        t.elapsed().as_secs_f64()
    );
}
