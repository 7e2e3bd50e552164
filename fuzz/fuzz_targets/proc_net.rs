//! /proc/<pid>/net tables (tcp, tcp6, udp, udp6, raw, raw6, unix, packet) over arbitrary bytes.
#![no_main]
use forensic_proc::net::{self, InetProto};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for proto in InetProto::ALL {
        let _ = net::parse_inet(proto, data);
    }
    let _ = net::parse_unix(data);
    let _ = net::parse_packet(data);
});
