//! /proc/<pid>/{status,stat,maps} and NUL-separated lists over arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = forensic_proc::process::parse_status(data);
    let _ = forensic_proc::process::parse_stat(data);
    for r in forensic_proc::process::parse_maps(data).rows {
        let _ = forensic_proc::process::suspicious(&r);
    }
    let _ = forensic_proc::process::split_nul(data);
});
