//! Running every check of [`crate::findings`] over one bundle.

use crate::error::AnalysisError;
use crate::evidence::Evidence;
pub use crate::findings::SeverityCounts;
use crate::findings::{self, Finding, FindingId, Severity};
use crate::network::NetworkView;
use crate::processes::Recorded;
use crate::target::Target;
use forensic_bundle::verify::OpenReader;
use forensic_evidence::members::{CONTAINER, PROCESSES};
use forensic_evidence::records::container::{ContainerJson, ContainerRecord};
use forensic_evidence::records::process::ProcessFlag;
use serde::Serialize;
use std::net::IpAddr;

/// The `show suspicious` view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuspiciousView {
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
    /// How many of each severity.
    pub counts: SeverityCounts,
    /// What could not be checked, and why (a member missing, boot time unknown, …).
    pub not_checked: Vec<String>,
}

/// Everything read for the checks, for callers that show more than findings (`summary`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    /// The findings view.
    pub view: SuspiciousView,
    /// Processes as recorded.
    pub processes: Recorded,
    /// Sockets.
    pub network: Option<NetworkView>,
    /// Falco alerts counted.
    pub alerts: Option<crate::falco::AlertCounts>,
    /// Audit events counted.
    pub audit: Option<crate::audit::AuditCounts>,
    /// Entries of the tree index, when read.
    pub files_indexed: Option<u64>,
    /// The runtime's record of the container (`6-podspec/container.json`), when there is one.
    pub container: Option<Box<ContainerRecord>>,
}

/// Runs every check.
///
/// # Errors
/// A member is unreadable, malformed where the collector's format is fixed (`processes.json`,
/// `sockets.json`, the JSONL members), or does not match the manifest (strict).
pub fn analyse<S: OpenReader + ?Sized>(ev: &mut Evidence<'_, S>, target: &Target) -> Result<Analysis, AnalysisError> {
    let mut out = Vec::new();
    let mut not_checked = Vec::new();
    let processes = crate::processes::read(ev)?;
    if processes.present {
        process_findings(ev, &processes, &mut out)?;
    } else {
        not_checked.push(format!("processes: the bundle has no {PROCESSES}"));
    }
    let network = if ev.names().any(|n| n.starts_with("2-network/")) {
        let v = crate::network::view(ev, &processes.processes)?;
        network_findings(&v, &mut out);
        Some(v)
    } else {
        not_checked.push("network: the bundle has no network section".into());
        None
    };
    let files_indexed = crate::fs_checks::filesystem_findings(ev, target, &mut out, &mut not_checked)?;
    let container = podspec_findings(ev, &mut out, &mut not_checked)?;
    let audit = crate::log_checks::audit_findings(ev, target, &mut out, &mut not_checked)?;
    let alerts = crate::log_checks::alert_findings(ev, target, &mut out, &mut not_checked)?;
    findings::sort(&mut out);
    Ok(Analysis {
        view: SuspiciousView {
            counts: SeverityCounts::of(&out),
            findings: out,
            not_checked,
        },
        processes,
        network,
        alerts,
        audit,
        files_indexed,
        container,
    })
}

/// Names of environment variables that usually hold secrets.
const SECRET_NAMES: [&str; 9] = [
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "ACCESS_KEY",
    "PRIVATE_KEY",
    "CREDENTIAL",
];

/// Whether an environment variable's name suggests a secret.
pub fn secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_NAMES.iter().any(|s| upper.contains(s))
}

/// Programs that give remote access or move data, and reverse-shell idioms in a command line.
const TOOLS: [&str; 10] = [
    "nc", "ncat", "netcat", "socat", "nmap", "masscan", "tcpdump", "xmrig", "minerd", "telnet",
];
const SHELL_IDIOMS: [&str; 6] = [
    "/dev/tcp/",
    "/dev/udp/",
    " -i >&",
    "nc -e",
    "-e /bin/sh",
    "-e /bin/bash",
];

fn base(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

fn process_findings<S: OpenReader + ?Sized>(
    ev: &mut Evidence<'_, S>,
    rec: &Recorded,
    out: &mut Vec<Finding>,
) -> Result<(), AnalysisError> {
    let mut root = Vec::new();
    for p in &rec.processes {
        let at = format!("{PROCESSES}: pid {}", p.pid);
        let cmd = p.cmdline.join(" ");
        let exe = p.exe.as_deref().unwrap_or("?");
        let who = format!("pid {} ({})", p.pid, if cmd.is_empty() { exe } else { &cmd });
        let flags = &p.flags;
        if p.exe_deleted || flags.contains(&ProcessFlag::DeletedExecutable) {
            let copy = format!("1-processes/{}/exe", p.pid);
            let mut evidence = vec![at.clone()];
            if ev.has_member(&copy) {
                evidence.push(copy);
            }
            out.push(Finding::new(
                Severity::High,
                FindingId::DeletedExecutable,
                format!(
                    "{who} runs {exe}, which was deleted after it started (sha256 {})",
                    p.exe_sha256.as_deref().unwrap_or("unknown")
                ),
                evidence,
            ));
        }
        if flags.contains(&ProcessFlag::RunsFromTempDir) {
            out.push(Finding::new(
                Severity::High,
                FindingId::RunsFromTempDir,
                format!("{who} runs from a temporary directory: {exe}"),
                vec![at.clone()],
            ));
        }
        let maps = format!("1-processes/{}/maps", p.pid);
        let map_evidence = |ev: &Evidence<'_, S>| {
            let mut v = vec![at.clone()];
            if ev.has_member(&maps) {
                v.push(maps.clone());
            }
            v
        };
        if flags.contains(&ProcessFlag::ExecutableFromTemp) {
            out.push(Finding::new(
                Severity::High,
                FindingId::ExecMapFromTemp,
                format!("{who} has executable code mapped from /tmp, /var/tmp, /dev/shm, /run or a memfd (runc's own memfd also shows so)"),
                map_evidence(ev),
            ));
        }
        if flags.contains(&ProcessFlag::AnonymousExecutableWritable) {
            out.push(Finding::new(
                Severity::Medium,
                FindingId::RwxAnonymousMap,
                format!("{who} has writable and executable anonymous memory (injected code, or a JIT)"),
                map_evidence(ev),
            ));
        }
        if flags.contains(&ProcessFlag::DeletedMapping) && !p.exe_deleted {
            out.push(Finding::new(
                Severity::Medium,
                FindingId::DeletedMapping,
                format!("{who} maps a file that has been deleted"),
                map_evidence(ev),
            ));
        }
        let argv0 = p.cmdline.first().map(|a| base(a)).unwrap_or_default();
        let tool = TOOLS.iter().find(|t| argv0 == **t || base(exe) == **t);
        let idiom = SHELL_IDIOMS.iter().find(|i| cmd.contains(**i));
        if let Some(what) = tool.or(idiom) {
            out.push(Finding::new(
                Severity::Medium,
                FindingId::ShellOrNetworkTool,
                format!("{who} looks like remote access or data movement ({what})"),
                vec![at.clone()],
            ));
        }
        if p.euid.or(p.uid) == Some(0) {
            root.push(p.pid.to_string());
        }
        let environ = format!("1-processes/{}/environ", p.pid);
        if let Some(bytes) = ev.read_optional(&environ)? {
            let names: Vec<String> = bytes
                .split(|b| *b == 0)
                .filter_map(|kv| {
                    let kv = String::from_utf8_lossy(kv);
                    let (name, value) = kv.split_once('=')?;
                    (secret_name(name) && !value.is_empty()).then(|| name.to_string())
                })
                .collect();
            if !names.is_empty() {
                out.push(Finding::new(
                    Severity::Low,
                    FindingId::SecretInEnvironment,
                    format!(
                        "{who} has secret-looking variables in its environment: {}",
                        names.join(", ")
                    ),
                    vec![environ],
                ));
            }
        }
    }
    if !root.is_empty() {
        out.push(Finding::new(
            Severity::Info,
            FindingId::RootProcesses,
            format!(
                "{} of {} processes run as root (uid 0): pid {}",
                root.len(),
                rec.processes.len(),
                root.join(", ")
            ),
            vec![PROCESSES.to_string()],
        ));
    }
    Ok(())
}

/// Whether an address is reachable only locally or privately (loopback, RFC 1918, link-local,
/// unique-local, CGNAT, unspecified).
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_private(IpAddr::V4(v4)),
            None => {
                let first = v6.segments().first().copied().unwrap_or(0);
                v6.is_loopback() || v6.is_unspecified() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
            }
        },
    }
}

fn owners_text(owners: &[crate::network::Owner]) -> String {
    if owners.is_empty() {
        return "no owning process found".into();
    }
    owners
        .iter()
        .map(|o| format!("pid {} fd {} ({})", o.pid, o.fd, o.cmdline))
        .collect::<Vec<_>>()
        .join(", ")
}

fn network_findings(v: &NetworkView, out: &mut Vec<Finding>) {
    for s in &v.inet {
        let tcp = s.proto.starts_with("tcp");
        let udp = s.proto.starts_with("udp");
        let evidence = vec![format!("{}: inode {}", s.evidence, s.inode)];
        if (tcp && s.state == "LISTEN") || (udp && s.state == "UNCONN" && s.local_port != 0) {
            out.push(Finding::new(
                Severity::Medium,
                FindingId::ListeningSocket,
                format!("{} {} {}: {}", s.proto, s.local, s.state, owners_text(&s.owners)),
                evidence,
            ));
        } else if s.remote_port != 0 && s.state != "TIME_WAIT" && (tcp || s.state == "ESTABLISHED") {
            let public = s.remote_address.parse().is_ok_and(|ip| !is_private(ip));
            out.push(Finding::new(
                if public { Severity::Medium } else { Severity::Low },
                FindingId::EstablishedConnection,
                format!(
                    "{} {} → {} {}{}: {}",
                    s.proto,
                    s.local,
                    s.remote,
                    s.state,
                    if public { " (public address)" } else { "" },
                    owners_text(&s.owners)
                ),
                evidence,
            ));
        }
    }
}

/// Host paths whose mount into a container gives control of the node.
const SENSITIVE_HOST_PATHS: [&str; 12] = [
    "/",
    "/etc",
    "/root",
    "/home",
    "/proc",
    "/sys",
    "/dev",
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/containerd",
    "/var/lib/kubelet",
    "/var/run/crio",
];

/// Capabilities that let a container break out or spy.
const DANGEROUS_CAPS: [&str; 9] = [
    "ALL",
    "SYS_ADMIN",
    "SYS_PTRACE",
    "SYS_MODULE",
    "NET_ADMIN",
    "NET_RAW",
    "DAC_READ_SEARCH",
    "SYS_RAWIO",
    "BPF",
];

fn podspec_findings<S: OpenReader + ?Sized>(
    ev: &mut Evidence<'_, S>,
    out: &mut Vec<Finding>,
    not_checked: &mut Vec<String>,
) -> Result<Option<Box<ContainerRecord>>, AnalysisError> {
    let Some(bytes) = ev.read_optional(CONTAINER)? else {
        not_checked.push(format!("container configuration: the bundle has no {CONTAINER}"));
        return Ok(None);
    };
    let record: ContainerJson = forensic_evidence::lines::parse_whole(CONTAINER, &bytes)?;
    let Some(v) = record.container() else {
        not_checked.push(format!(
            "container configuration: {CONTAINER} has no runtime record (target given by --pid)"
        ));
        return Ok(None);
    };
    let ev_line = |field: &str| vec![format!("{CONTAINER}: {field}")];
    if v.privileged {
        out.push(Finding::new(
            Severity::High,
            FindingId::PrivilegedContainer,
            "the container runs privileged: every capability and every device of the node",
            ev_line("privileged"),
        ));
    }
    let dangerous: Vec<&String> = v
        .cap_add
        .iter()
        .filter(|c| DANGEROUS_CAPS.contains(&c.trim_start_matches("CAP_").to_ascii_uppercase().as_str()))
        .collect();
    if !dangerous.is_empty() {
        out.push(Finding::new(
            Severity::Medium,
            FindingId::AddedCapabilities,
            format!(
                "capabilities added to the container: {}",
                dangerous.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
            ),
            ev_line("cap_add"),
        ));
    }
    for m in &v.mounts {
        let source = m.source.as_deref().unwrap_or_default();
        let dest = m.destination.as_str();
        let kind = m.kind.as_deref().unwrap_or_default();
        let rw = m.rw;
        let sensitive = SENSITIVE_HOST_PATHS.contains(&source)
            || source.ends_with(".sock")
            || source.starts_with("/var/lib/kubelet");
        if sensitive && matches!(kind, "bind" | "") {
            out.push(Finding::new(
                if rw { Severity::High } else { Severity::Medium },
                FindingId::SensitiveHostMount,
                format!(
                    "host path {source} is mounted at {dest} ({})",
                    if rw { "writable" } else { "read-only" }
                ),
                ev_line("mounts"),
            ));
        }
    }
    if v.seccomp_profile.as_deref() == Some("unconfined") {
        out.push(Finding::new(
            Severity::Medium,
            FindingId::SeccompUnconfined,
            "the container runs without a seccomp profile",
            ev_line("seccomp_profile"),
        ));
    }
    let env: Vec<String> = v
        .env
        .iter()
        .filter_map(|kv| {
            let (name, value) = kv.split_once('=')?;
            (secret_name(name) && !value.is_empty()).then(|| name.to_string())
        })
        .collect();
    if !env.is_empty() {
        out.push(Finding::new(
            Severity::Low,
            FindingId::SecretInEnvironment,
            format!(
                "the container's configured environment has secret-looking variables: {}",
                env.join(", ")
            ),
            ev_line("env"),
        ));
    }
    Ok(Some(Box::new(v.clone())))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn private_addresses() {
        for a in [
            "10.1.2.3",
            "127.0.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_private(a.parse().unwrap()), "{a}");
        }
        for a in ["203.0.113.7", "8.8.8.8", "2001:db8::1", "::ffff:8.8.8.8"] {
            assert!(!is_private(a.parse().unwrap()), "{a}");
        }
        assert!(secret_name("DB_PASSWORD"));
        assert!(!secret_name("PATH"));
    }
}
