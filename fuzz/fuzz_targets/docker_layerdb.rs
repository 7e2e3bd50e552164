//! Docker's layerdb one-line files (mount-id, init-id, parent, cache-id, diff), repositories.json
//! and image configs through forensic-nodedisk.
#![no_main]
use forensic_nodedisk::docker::{self, LineShape};
use forensic_nodedisk::oci;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for shape in [LineShape::Hex64, LineShape::Init, LineShape::Digest] {
        if let Ok(line) = docker::layer_line(data, "/layerdb/x", shape) {
            assert!(!line.contains('/'), "a layerdb id with a slash passed: {line:?}");
        }
    }
    let _ = docker::repositories(data, "/repositories.json");
    let _ = oci::image_json(data, "/imagedb/x");
});
