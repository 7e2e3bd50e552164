//! The whole verifier over arbitrary bytes: must never panic, hang or allocate without bound.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = forensic_bundle::verify::VerifyOptions::default();
    let _ = forensic_bundle::verify::verify(data, &opts);
});
