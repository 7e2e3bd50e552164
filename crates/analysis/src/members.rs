//! The bundle members the analysis reads (README, `collect`; formats in `crates/collect`).

/// Section 1: the decoded process list (JSON array).
pub const PROCESSES: &str = "1-processes/processes.json";
/// Section 1: the host's boot time, `btime SECONDS`.
pub const BOOT: &str = "1-processes/boot.txt";
/// Section 2: the decoded sockets (`{"inet": […], "unix": […]}`).
pub const SOCKETS: &str = "2-network/sockets.json";
/// Section 2: where `collect` puts the raw `/proc/<pid>/net` tables.
pub const PROC_NET: &str = "2-network/proc-net/";
/// Section 5: the full-tree index (JSONL).
pub const TREE_INDEX: &str = "5-filesystem/tree-index.jsonl";
/// Section 5: the writable layer's change list (JSONL).
pub const UPPER_CHANGES: &str = "5-filesystem/upper-changes.jsonl";
/// Section 5: setuid and setgid regular files (JSONL).
pub const DERIVED_SETUID: &str = "5-filesystem/derived/setuid.jsonl";
/// Section 5: executables under the temporary directories (JSONL).
pub const DERIVED_TMP_EXEC: &str = "5-filesystem/derived/tmp-executables.jsonl";
/// Section 5: recently modified or changed regular files (JSONL).
pub const DERIVED_RECENT: &str = "5-filesystem/derived/recent.jsonl";
/// Section 5: prefix of the copies of the places attackers use.
pub const ROOT_COPIES: &str = "5-filesystem/root/";
/// Section 5: prefix of the writable layer's copies.
pub const UPPER_COPIES: &str = "5-filesystem/upper/";
/// Section 6: the normalized container record.
pub const CONTAINER: &str = "6-podspec/container.json";
/// Section 7: the Kubernetes audit log.
pub const AUDIT_LOG: &str = "7-audit/audit.log";
/// Section 8: the Falco log file as copied.
pub const FALCO_LOG: &str = "8-alerts/falco.log";
/// Section 8: `journalctl -u falco -o cat` output.
pub const FALCO_JOURNAL: &str = "8-alerts/falco-journal.txt";

/// The Kubernetes audit logs of a bundle: [`AUDIT_LOG`], and for a sealed checklist directory
/// any other member of section 7 (`audit*.log`, `kube-audit*`).
pub fn audit_logs<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    names
        .filter(|n| n.starts_with("7-audit/") && !n.ends_with(".stderr") && !n.ends_with("commands.jsonl"))
        .map(str::to_string)
        .collect()
}

/// The Falco alert logs of a bundle: [`FALCO_LOG`], [`FALCO_JOURNAL`], and for a sealed
/// checklist directory any other member of section 8 (`falco*.json`, `alerts*.json`, …).
pub fn alert_logs<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    names
        .filter(|n| n.starts_with("8-alerts/") && !n.ends_with(".stderr") && !n.ends_with("commands.jsonl"))
        .map(str::to_string)
        .collect()
}
