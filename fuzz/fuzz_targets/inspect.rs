//! Runtime inspect output (crictl, podman, docker, containerd's API document, podman image) over
//! arbitrary text.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = forensic_proc::inspect::from_crictl(text);
        let _ = forensic_proc::inspect::from_podman(text);
        let _ = forensic_proc::inspect::from_docker(text);
        let _ = forensic_proc::inspect::from_containerd(text);
        let _ = forensic_proc::inspect::image_from_podman(text);
    }
});
