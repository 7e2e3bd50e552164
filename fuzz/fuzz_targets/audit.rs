//! Kubernetes audit logs (JSON lines, wrapped, gzip) through every query of `forensic audit`.
#![no_main]
use forensic_audit::{Query, QueryKind, ScanLimits, run_reader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = ScanLimits {
        max_record: 64 << 10,
        max_results: 1_000,
        max_skipped_kept: 100,
    };
    for kind in [
        QueryKind::Timeline,
        QueryKind::Creator,
        QueryKind::Exec,
        QueryKind::Secrets,
        QueryKind::Rbac,
        QueryKind::Impersonation,
    ] {
        let mut query = Query::new(kind);
        if matches!(kind, QueryKind::Timeline | QueryKind::Creator) {
            query.pod = Some("nginx".to_string());
        }
        let _ = run_reader(data, "fuzz", &query, &limits);
    }
});
