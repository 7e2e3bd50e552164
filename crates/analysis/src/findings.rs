//! `show suspicious`: everything the container-forensics checklist tells a responder to look for,
//! each with the bundle member (and line, PID or path) that shows it.
//!
//! The findings model ([`Severity`], [`FindingId`], [`Finding`]) is `forensic-evidence`'s, shared
//! with `forensic diff`; `docs/findings.md` lists every id with its severities and what raises
//! it. The checks, by section:
//!
//! | section | checklist item | kinds |
//! |---|---|---|
//! | 1 processes | the executable, memory maps with `rwx`, processes as root, environment secrets | `deleted-executable`, `runs-from-temp-dir`, `exec-map-from-temp`, `rwx-anonymous-map`, `deleted-mapping`, `shell-or-network-tool`, `root-processes`, `secret-in-environment` |
//! | 2 network | suspicious listening ports, active connections | `listening-socket`, `established-connection` |
//! | 5 filesystem | executables in `/tmp`, setuid/setgid files, recently modified files, `/etc/passwd` modified, new users, modified binaries, shell histories, files on tmpfs mounts | `executable-in-temp-dir`, `file-on-tmpfs`, `setuid-outside-system-dirs`, `setuid-files`, `recently-modified`, `account-file-changed`, `persistence-point-changed`, `system-binary-changed`, `log-deleted`, `uid0-user`, `empty-password`, `shell-history`, `authorized-keys`, `ld-preload` |
//! | 6 podspec | security context, mounts, environment | `privileged-container`, `added-capabilities`, `sensitive-host-mount`, `seccomp-unconfined`, `secret-in-environment` |
//! | 7 audit | exec sessions, secret access, RBAC changes, who created the pod | `exec-into-pod`, `secret-access`, `rbac-change`, `pod-created` |
//! | 8 alerts | Falco alerts for the container | `falco-alert` (one per rule and priority) |

pub use forensic_evidence::findings::{Finding, FindingId, Severity, SeverityCounts};

/// Most evidence lines kept for one grouped finding (the rest are counted in the message).
pub const MAX_EVIDENCE: usize = 20;

/// Evidence lines collected for a grouped finding: the first [`MAX_EVIDENCE`] and a count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grouped {
    /// How many.
    pub count: u64,
    /// The first ones.
    pub evidence: Vec<String>,
    /// Earliest time seen.
    pub first_ns: Option<i64>,
    /// Latest time seen.
    pub last_ns: Option<i64>,
}

impl Grouped {
    /// Counts one more, keeping its evidence while there is room.
    pub fn add(&mut self, evidence: String, time_ns: Option<i64>) {
        self.count += 1;
        if self.evidence.len() < MAX_EVIDENCE {
            self.evidence.push(evidence);
        }
        if let Some(t) = time_ns {
            self.first_ns = Some(self.first_ns.map_or(t, |f| f.min(t)));
            self.last_ns = Some(self.last_ns.map_or(t, |l| l.max(t)));
        }
    }

    /// The evidence, with `… and N more` when some were left out.
    pub fn evidence_lines(&self) -> Vec<String> {
        let mut v = self.evidence.clone();
        let left = self.count.saturating_sub(v.len() as u64);
        if left > 0 {
            v.push(format!("… and {left} more"));
        }
        v
    }

    /// ` (first TIME, last TIME)` when times were seen.
    pub fn span(&self) -> String {
        match (self.first_ns, self.last_ns) {
            (Some(f), Some(l)) if f == l => format!(" at {}", crate::time::format_ns(f)),
            (Some(f), Some(l)) => format!(" from {} to {}", crate::time::format_ns(f), crate::time::format_ns(l)),
            _ => String::new(),
        }
    }
}

/// Sorts findings by severity, keeping the order of the checks within one severity.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by_key(|f| f.severity);
}
