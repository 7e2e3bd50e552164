//! libpod's bolt_state.db through forensic-nodedisk: every container's config and state and every
//! pod's config.
#![no_main]
use forensic_nodedisk::podman;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(db) = forensic_bolt::Db::open(data) else {
        return;
    };
    let Ok(state) = podman::bolt_state(&db, "/bolt_state.db") else {
        return;
    };
    for c in state.containers.values() {
        if let Some(cfg) = &c.config {
            let _ = podman::ctr_config(cfg, "/ctr/config");
        }
        if let Some(st) = &c.state {
            let _ = podman::ctr_state(st, "/ctr/state");
        }
    }
    for pod in state.pods.values() {
        let _ = podman::pod_config(pod, "/pod/config");
    }
});
