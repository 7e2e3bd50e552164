//! `show summary`: what the bundle is (target, image, sections with their times), what it holds
//! (counts), where its custody stands (the head), and the most severe findings.

use crate::findings::Finding;
use crate::suspicious::{Analysis, SeverityCounts};
use forensic_bundle::manifest::Manifest;
use forensic_bundle::section::Section;
use forensic_bundle::verify::Report;
use forensic_evidence::records::container::ContainerRecord;
use serde::Serialize;

/// How many findings the summary shows.
pub const TOP_FINDINGS: usize = 10;

/// One section of the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SectionLine {
    /// 1 to 9.
    pub number: u64,
    /// `processes`, `network`, …
    pub name: String,
    /// Collection of the section started.
    pub started: String,
    /// And finished.
    pub finished: String,
    /// Members.
    pub members: usize,
    /// Content bytes.
    pub bytes: u64,
}

/// Counts of what the bundle holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Members.
    pub members: usize,
    /// Gaps (what could not be collected).
    pub gaps: usize,
    /// Processes in `processes.json`.
    pub processes: Option<usize>,
    /// Inet sockets.
    pub sockets: Option<usize>,
    /// Of them listening (TCP LISTEN).
    pub listening: Option<usize>,
    /// Unix sockets.
    pub unix_sockets: Option<usize>,
    /// Entries of the tree index.
    pub files_indexed: Option<u64>,
    /// Falco alerts in the logs.
    pub alerts: Option<u64>,
    /// Of them the container's.
    pub alerts_for_container: Option<u64>,
    /// Kubernetes audit events.
    pub audit_events: Option<u64>,
}

/// What the container runs and how, from `6-podspec/container.json` (CONTENTS.md §8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContainerLaunch {
    /// The argv it runs (what the runtime ran, else entrypoint and command); attacker-controlled.
    pub argv: Vec<String>,
    /// The user it runs as, as configured.
    pub user: Option<String>,
    /// The working directory.
    pub working_dir: Option<String>,
    /// Ports declared exposed.
    pub exposed_ports: Vec<String>,
    /// When its first process started (RFC 3339, as the runtime printed it).
    pub started: Option<String>,
}

impl ContainerLaunch {
    fn of(c: &ContainerRecord) -> ContainerLaunch {
        ContainerLaunch {
            argv: c.argv().into_iter().map(str::to_string).collect(),
            user: c.run_as_user.clone(),
            working_dir: c.working_dir.clone(),
            exposed_ports: c.exposed_ports.clone(),
            started: c.started.clone(),
        }
    }
}

/// The custody log's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustodyState {
    /// Entries.
    pub entries: usize,
    /// SHA-256 of the last entry: record it in the case notes (`verify --expect-head`).
    pub head_sha256: Option<String>,
    /// The last entry's action (`sealed`, `transferred`, `received`, `annotated`).
    pub last_action: Option<String>,
    /// Its time.
    pub last_time: Option<String>,
    /// Its actor.
    pub last_actor: Option<String>,
}

/// The `show summary` view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SummaryView {
    /// Bundle id.
    pub bundle_id: Option<String>,
    /// Creation time.
    pub created: Option<String>,
    /// Case metadata, as in the manifest.
    pub case: serde_json::Value,
    /// The target record, as in the manifest (runtime, container id and name, pod, namespace,
    /// node, pid, image reference and digest).
    pub target: serde_json::Value,
    /// Image reference.
    pub image: Option<String>,
    /// Image digest.
    pub image_digest: Option<String>,
    /// Collector: tool, version, host, kernel.
    pub collector: serde_json::Value,
    /// Sections in order, with times.
    pub sections: Vec<SectionLine>,
    /// Counts.
    pub counts: Counts,
    /// Custody.
    pub custody: CustodyState,
    /// Findings per severity.
    pub findings: SeverityCounts,
    /// The most severe findings (at most [`TOP_FINDINGS`]).
    pub top_findings: Vec<Finding>,
    /// What could not be checked.
    pub not_checked: Vec<String>,
    /// What the container runs, from the runtime's record (`None` for a `--pid` target or a
    /// sealed directory without one).
    pub container: Option<ContainerLaunch>,
    /// Log sources that were absent on the node (the gaps of sections 7 and 8 that begin `not
    /// collected`, CONTENTS.md §7, §8), as `WHAT: REASON`: not a count of 0.
    pub not_collected: Vec<String>,
}

/// Human byte count, as every output writes sizes: `512 B`, `12.3 KiB`, `1.0 GiB` (binary
/// units, one decimal).
///
/// ```
/// assert_eq!(forensic_analysis::summary::human_bytes(512), "512 B");
/// assert_eq!(forensic_analysis::summary::human_bytes(3 << 30), "3.0 GiB");
/// ```
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = UNITS[0];
    for u in UNITS.iter().skip(1) {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

/// Builds the summary from the verification report and the analysis.
pub fn view(report: &Report, analysis: &Analysis) -> SummaryView {
    let m: Option<&Manifest> = report.manifest.as_ref();
    let sections = m
        .map(|m| {
            m.sections
                .iter()
                .map(|s| {
                    let members: Vec<_> = m.members.iter().filter(|x| x.section.name() == s.name).collect();
                    SectionLine {
                        number: s.number,
                        name: s.name.clone(),
                        started: s.started.as_str().to_string(),
                        finished: s.finished.as_str().to_string(),
                        members: members.len(),
                        bytes: members.iter().map(|x| x.size).sum(),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let last = report.custody.last();
    let net = analysis.network.as_ref();
    SummaryView {
        bundle_id: m.map(|m| m.bundle_id.clone()),
        created: m.map(|m| m.created.as_str().to_string()),
        case: m.and_then(|m| serde_json::to_value(&m.case).ok()).unwrap_or_default(),
        target: m.and_then(|m| serde_json::to_value(&m.target).ok()).unwrap_or_default(),
        image: m.and_then(|m| m.target.image_ref.clone()),
        image_digest: m.and_then(|m| m.target.image_digest.clone()),
        collector: m
            .map(|m| {
                serde_json::json!({"tool": m.collector.tool, "version": m.collector.version,
                    "host": m.collector.host, "kernel": m.collector.kernel})
            })
            .unwrap_or_default(),
        sections,
        counts: Counts {
            members: m.map_or(0, |m| m.members.len()),
            gaps: m.map_or(0, |m| m.gaps.len()),
            processes: analysis.processes.present.then_some(analysis.processes.processes.len()),
            sockets: net.map(|n| n.inet.len()),
            listening: net.map(|n| n.inet.iter().filter(|s| s.state == "LISTEN").count()),
            unix_sockets: net.map(|n| n.unix.len()),
            files_indexed: analysis.files_indexed,
            alerts: analysis.alerts.as_ref().map(|a| a.alerts),
            alerts_for_container: analysis.alerts.as_ref().map(|a| a.matched),
            audit_events: analysis.audit.as_ref().map(|a| a.events),
        },
        custody: CustodyState {
            entries: report.custody.len(),
            head_sha256: report.custody_head.map(|d| d.hex()),
            last_action: last.map(|c| c.payload.action.clone()),
            last_time: last.map(|c| c.payload.time.as_str().to_string()),
            last_actor: last.map(|c| c.payload.actor.name.clone()),
        },
        findings: analysis.view.counts,
        top_findings: analysis.view.findings.iter().take(TOP_FINDINGS).cloned().collect(),
        not_checked: analysis.view.not_checked.clone(),
        container: analysis.container.as_deref().map(ContainerLaunch::of),
        not_collected: m
            .map(|m| {
                m.gaps
                    .iter()
                    .filter(|g| matches!(g.section, Section::Audit | Section::Alerts))
                    .filter(|g| g.reason.starts_with("not collected"))
                    .map(|g| format!("{}: {}", g.what, g.reason))
                    .collect()
            })
            .unwrap_or_default(),
    }
}
