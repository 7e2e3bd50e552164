//! containers/storage's containers.json, layers.json, images.json and libpod's JSON values
//! (ctr config and state, pod config) through forensic-nodedisk.
#![no_main]
use forensic_nodedisk::podman;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(list) = podman::containers_json(data, "/containers.json") {
        for c in list {
            assert!(forensic_nodedisk::codec::is_hex64(&c.id));
            let _ = c.image_name();
        }
    }
    let _ = podman::layers_json(data, "/layers.json");
    let _ = podman::images_json(data, "/images.json");
    let _ = podman::ctr_config(data, "/ctr/config");
    let _ = podman::ctr_state(data, "/ctr/state");
    let _ = podman::pod_config(data, "/pod/config");
});
