//! Docker's containers/<id>/config.v2.json and hostconfig.json through forensic-nodedisk.
#![no_main]
use forensic_nodedisk::docker;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = docker::config_v2(data, "/config.v2.json");
    let _ = docker::hostconfig_log_type(data, "/hostconfig.json");
});
