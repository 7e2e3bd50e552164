//! Helpers shared by the test binaries: the samples of shared/samples/k8s-audit/.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use forensic_audit::{AuditReport, Query, QueryKind, ScanLimits, run_reader};
use std::path::PathBuf;

/// A sample's path (the samples are read-only; shared/samples/README.md says where they come from).
pub fn sample_path(name: &str) -> PathBuf {
    forensic_samples::path(&format!("k8s-audit/{name}"))
}

/// A sample's content.
pub fn sample(name: &str) -> String {
    std::fs::read_to_string(sample_path(name)).unwrap()
}

/// The five samples, one after another, in name order.
pub fn all_samples() -> String {
    [
        "elastic-test-audit.log",
        "elastic-test-kube-audit-aks-wrapped.log",
        "falco-create_clusterrolebinding.json",
        "falco-create_secret.json",
        "falco-exec_pod.json",
    ]
    .iter()
    .map(|n| sample(n))
    .collect()
}

/// A query with no filters.
pub fn query(kind: QueryKind) -> Query {
    Query::new(kind)
}

/// A query for one pod.
pub fn pod_query(kind: QueryKind, pod: &str) -> Query {
    let mut q = Query::new(kind);
    q.pod = Some(pod.to_string());
    q
}

/// Runs `q` over `text` with the default limits.
pub fn run_text(text: &str, q: &Query) -> AuditReport {
    run_reader(text.as_bytes(), "test.log", q, &ScanLimits::default()).unwrap()
}
