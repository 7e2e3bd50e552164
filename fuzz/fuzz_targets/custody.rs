//! Custody log parsing and signature checks (SPEC §9) over arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = forensic_bundle::limits::Limits::default();
    if let Ok(entries) = forensic_bundle::custody::parse_log(data, &limits) {
        for e in &entries {
            let _ = e.check_signature();
        }
    }
});
