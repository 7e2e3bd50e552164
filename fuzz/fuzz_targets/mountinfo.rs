//! /proc/<pid>/mountinfo and overlay options over arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let table = forensic_proc::mountinfo::parse_mountinfo(data);
    for m in &table.rows {
        let _ = forensic_proc::mountinfo::overlay(m);
    }
    let _ = forensic_proc::mountinfo::root_mount(&table.rows);
});
