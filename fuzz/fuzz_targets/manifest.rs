//! Manifest decoding (SPEC §6) over arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = forensic_bundle::manifest::Manifest::from_cbor(data, 16);
});
