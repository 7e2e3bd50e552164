//! An image archive (OCI archive, `docker save` tar, root-filesystem tar, gzip or zstd) from an
//! untrusted registry: opened and indexed as `forensic diff --image` does.
#![no_main]
use forensic_fuzz::{image_options, scratch};
use forensic_image::open_image;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = scratch().join("image.tar");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    if let Ok(image) = open_image(&path, &image_options()) {
        let _ = image.index();
    }
});
