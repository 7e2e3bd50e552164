//! The filesystem checks of [`crate::findings`] (section 5): the derived lists (the checklist's
//! `find` commands), the writable layer's changes, and the copies of account files, histories,
//! SSH keys and the preload list.

use crate::error::AnalysisError;
use crate::evidence::Evidence;
use crate::files::{FileEntry, RawName, escape_bytes, perm_string};
use crate::findings::{Finding, FindingId, Grouped, Severity};
use crate::members::{
    DERIVED_RECENT, DERIVED_SETUID, DERIVED_TMP_EXEC, ROOT_COPIES, TREE_INDEX, UPPER_CHANGES, UPPER_COPIES,
};
use crate::target::Target;
use crate::time::format_ns;
use forensic_bundle::verify::OpenReader;
use forensic_evidence::accounts::{PasswdEntry, ShadowEntry, parse_passwd, parse_shadow};
use forensic_evidence::records::derived::DerivedEntry;
use forensic_evidence::records::upper::{Change, UpperChange};
use forensic_evidence::records::{EntryType, Mode};
use std::collections::VecDeque;

/// Most files of one list given a finding each; the rest are grouped.
const MAX_EACH: usize = 100;

/// Directories whose setuid programs come with the distribution.
const SYSTEM_DIRS: [&str; 10] = [
    "/bin/",
    "/sbin/",
    "/usr/bin/",
    "/usr/sbin/",
    "/usr/lib/",
    "/usr/lib64/",
    "/usr/libexec/",
    "/lib/",
    "/lib64/",
    "/usr/lib32/",
];

/// Account files (`account-file-changed`; sudoers is a persistence point, as in `forensic diff`).
const ACCOUNT_FILES: [&str; 4] = ["/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow"];

/// Places that make a change survive or run code at login, boot or schedule, or grant root
/// (prefixes; `/etc/sudoers` itself is matched exactly).
const PERSISTENCE: [&str; 16] = [
    "/etc/ld.so.preload",
    "/etc/ld.so.conf",
    "/etc/crontab",
    "/etc/cron.",
    "/etc/cron.d/",
    "/var/spool/cron/",
    "/etc/profile",
    "/etc/bash.bashrc",
    "/etc/environment",
    "/etc/rc.local",
    "/etc/init.d/",
    "/etc/systemd/",
    "/lib/systemd/system/",
    "/usr/lib/systemd/system/",
    "/etc/sudoers.d/",
    "/etc/update-motd.d/",
];

/// Files in a home directory that run at login, or let someone in.
const HOME_PERSISTENCE: [&str; 5] = [
    "/.ssh/authorized_keys",
    "/.bashrc",
    "/.profile",
    "/.bash_profile",
    "/.ashrc",
];

/// Directories of programs and libraries.
const BINARY_DIRS: [&str; 10] = [
    "/bin/",
    "/sbin/",
    "/usr/bin/",
    "/usr/sbin/",
    "/usr/local/bin/",
    "/usr/local/sbin/",
    "/lib/",
    "/lib64/",
    "/usr/lib/",
    "/usr/lib64/",
];

/// Shell history file names.
const HISTORIES: [&str; 5] = [
    ".bash_history",
    ".ash_history",
    ".sh_history",
    ".zsh_history",
    ".history",
];

/// A file a derived list names (or the tree index, when the bundle has no derived lists).
#[derive(Debug, Clone)]
struct DerivedLine {
    path: RawName,
    mode: Option<Mode>,
    uid: Option<u32>,
    gid: Option<u32>,
    size: Option<u64>,
    mtime_ns: Option<i64>,
}

impl From<DerivedEntry<'static>> for DerivedLine {
    fn from(e: DerivedEntry<'static>) -> Self {
        DerivedLine {
            path: e.path,
            mode: Some(e.mode),
            uid: Some(e.uid),
            gid: Some(e.gid),
            size: Some(e.size),
            mtime_ns: Some(e.mtime_ns),
        }
    }
}

impl DerivedLine {
    fn describe(&self) -> String {
        let perm = self.mode.map_or(0, Mode::bits);
        format!(
            "{} (-{} {}:{} {} bytes, modified {})",
            self.path.shown(),
            perm_string(perm),
            opt(self.uid),
            opt(self.gid),
            opt(self.size),
            self.mtime_ns.map(format_ns).unwrap_or_else(|| "?".into())
        )
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "?".into())
}

fn from_entry(e: &FileEntry) -> DerivedLine {
    DerivedLine {
        path: e.path.clone(),
        mode: e.mode,
        uid: e.uid,
        gid: e.gid,
        size: e.size,
        mtime_ns: e.mtime_ns,
    }
}

/// The member `collect` copies container path `path` to under `prefix` (a full member-name
/// prefix within section 5, such as [`ROOT_COPIES`]): the one rule,
/// [`forensic_evidence::paths::copy_member`]; `None` for a path with no component.
pub fn copy_member(prefix: &str, path: &str) -> Option<String> {
    if path.trim_matches('/').is_empty() {
        return None;
    }
    let local = prefix.strip_prefix("5-filesystem/").unwrap_or(prefix);
    let name = forensic_evidence::paths::copy_member(local, path.as_bytes(), path.as_bytes());
    Some(format!("5-filesystem/{name}"))
}

/// Reads a derived list; `None` when the bundle does not have it.
fn derived_list<S: OpenReader + ?Sized>(
    ev: &mut Evidence<'_, S>,
    member: &str,
) -> Result<Option<Vec<(u64, DerivedLine)>>, AnalysisError> {
    if !ev.has_member(member) {
        return Ok(None);
    }
    let mut rows = Vec::new();
    let mut over = 0u64;
    ev.lines(member, |n, line| {
        let l: DerivedEntry<'static> =
            serde_json::from_slice(line).map_err(|e| AnalysisError::line(member, n, e.to_string()))?;
        let l = DerivedLine::from(l);
        if rows.len() < crate::findings::MAX_EVIDENCE * 50 {
            rows.push((n, l));
        } else {
            over += 1;
        }
        Ok(())
    })?;
    if over > 0 {
        ev.warn(format!("{member}: {over} more lines not examined (limit)"));
    }
    Ok(Some(rows))
}

/// Runs the filesystem checks; returns the number of entries in the tree index, when read.
///
/// # Errors
/// A member is unreadable, malformed, or does not match the manifest (strict).
pub(crate) fn filesystem_findings<S: OpenReader + ?Sized>(
    ev: &mut Evidence<'_, S>,
    _target: &Target,
    out: &mut Vec<Finding>,
    not_checked: &mut Vec<String>,
) -> Result<Option<u64>, AnalysisError> {
    let mut tmp_exec = derived_list(ev, DERIVED_TMP_EXEC)?.map(|r| (DERIVED_TMP_EXEC.to_string(), r));
    let mut setuid = derived_list(ev, DERIVED_SETUID)?.map(|r| (DERIVED_SETUID.to_string(), r));
    let mut tmpfs = crate::mount_checks::TmpfsFiles::default();
    let indexed = if ev.has_member(TREE_INDEX) {
        let want_tmp = tmp_exec.is_none();
        let want_suid = setuid.is_none();
        let mut t = Vec::new();
        let mut s = Vec::new();
        let total = crate::files::for_each(ev, &crate::files::FileFilter::default(), |n, e| {
            tmpfs.observe(n, e);
            let path = e.path.lossy();
            if want_tmp && e.is_executable() && forensic_evidence::paths::in_temp_dir(path.as_bytes()) && t.len() < 5000
            {
                t.push((n, from_entry(e)));
            }
            if want_suid && e.is_setuid() && s.len() < 5000 {
                s.push((n, from_entry(e)));
            }
            Ok(())
        })?;
        if want_tmp {
            tmp_exec = Some((TREE_INDEX.to_string(), t));
        }
        if want_suid {
            setuid = Some((TREE_INDEX.to_string(), s));
        }
        Some(total)
    } else {
        None
    };
    tmpfs.findings(ev, out);
    match tmp_exec {
        Some((member, rows)) => temp_executables(ev, &member, &rows, out),
        None => not_checked.push(format!(
            "executables in temporary directories: the bundle has neither {DERIVED_TMP_EXEC} nor {TREE_INDEX}"
        )),
    }
    match setuid {
        Some((member, rows)) => setuid_files(&member, &rows, out),
        None => not_checked.push(format!(
            "setuid files: the bundle has neither {DERIVED_SETUID} nor {TREE_INDEX}"
        )),
    }
    if let Some(rows) = derived_list(ev, DERIVED_RECENT)? {
        let mut g = Grouped::default();
        for (n, l) in &rows {
            g.add(format!("{DERIVED_RECENT} line {n}: {}", l.describe()), l.mtime_ns);
        }
        if g.count > 0 {
            out.push(Finding::new(
                Severity::Info,
                FindingId::RecentlyModified,
                format!(
                    "{} regular files were modified or changed in the window before collection",
                    g.count
                ),
                g.evidence_lines(),
            ));
        }
    }
    if ev.has_member(UPPER_CHANGES) {
        let written = upper_changes(ev, out)?;
        crate::anti_forensics::backdated(ev, &written, out, not_checked)?;
    } else {
        not_checked.push(format!(
            "changes of the writable layer: the bundle has no {UPPER_CHANGES}"
        ));
    }
    accounts(ev, out)?;
    copies(ev, out)?;
    crate::script_checks::temp_scripts(ev, out, not_checked)?;
    Ok(indexed)
}

fn temp_executables<S: OpenReader + ?Sized>(
    ev: &Evidence<'_, S>,
    member: &str,
    rows: &[(u64, DerivedLine)],
    out: &mut Vec<Finding>,
) {
    let mut rest = Grouped::default();
    for (i, (n, l)) in rows.iter().enumerate() {
        let at = format!("{member} line {n}");
        if i >= MAX_EACH {
            rest.add(format!("{at}: {}", l.describe()), None);
            continue;
        }
        let mut evidence = vec![at];
        if let Some(copy) = copy_member(ROOT_COPIES, &l.path.lossy()).filter(|c| ev.has_member(c)) {
            evidence.push(copy);
        }
        out.push(Finding::new(
            Severity::High,
            FindingId::ExecutableInTempDir,
            format!("executable file in a temporary directory: {}", l.describe()),
            evidence,
        ));
    }
    if rest.count > 0 {
        out.push(Finding::new(
            Severity::High,
            FindingId::ExecutableInTempDir,
            format!("{} more executable files in temporary directories", rest.count),
            rest.evidence_lines(),
        ));
    }
}

fn setuid_files(member: &str, rows: &[(u64, DerivedLine)], out: &mut Vec<Finding>) {
    let mut system = Grouped::default();
    let mut others = 0;
    for (n, l) in rows {
        let path = l.path.lossy();
        let at = format!("{member} line {n}");
        if SYSTEM_DIRS.iter().any(|d| path.starts_with(d)) {
            system.add(format!("{at}: {}", l.describe()), None);
        } else if others < MAX_EACH {
            others += 1;
            out.push(Finding::new(
                Severity::High,
                FindingId::SetuidOutsideSystemDirs,
                format!("setuid or setgid file outside the system directories: {}", l.describe()),
                vec![at],
            ));
        }
    }
    if system.count > 0 {
        out.push(Finding::new(
            Severity::Low,
            FindingId::SetuidFiles,
            format!(
                "{} setuid or setgid files in system directories (usually the distribution's own)",
                system.count
            ),
            system.evidence_lines(),
        ));
    }
}

/// The writable layer's changes: persistence points, account files and programs written, logs
/// and programs deleted. Returns the regular files the container wrote (for
/// [`crate::anti_forensics::backdated`]).
fn upper_changes<S: OpenReader + ?Sized>(
    ev: &mut Evidence<'_, S>,
    out: &mut Vec<Finding>,
) -> Result<crate::anti_forensics::Written, AnalysisError> {
    let mut deleted_logs = Grouped::default();
    let mut deleted_bins = Grouped::default();
    let mut deleted_bins_each = 0;
    let mut found = Vec::new();
    let mut written = crate::anti_forensics::Written::default();
    ev.lines(UPPER_CHANGES, |n, line| {
        let l: UpperChange<'static> =
            serde_json::from_slice(line).map_err(|e| AnalysisError::line(UPPER_CHANGES, n, e.to_string()))?;
        let path = l.path.lossy();
        let at = format!("{UPPER_CHANGES} line {n}");
        let mut evidence = vec![at.clone()];
        if let Some(m) = &l.member {
            evidence.push(if m.starts_with("5-filesystem/") {
                m.clone()
            } else {
                format!("5-filesystem/{m}")
            });
        }
        let change = l.change.as_str();
        let is_dir = l.kind == Some(EntryType::Dir) || matches!(l.change, Change::Dir | Change::OpaqueDir);
        if change == "deleted" {
            if path.starts_with("/var/log/") {
                deleted_logs.add(format!("{at}: {}", l.path.shown()), None);
            } else if BINARY_DIRS.iter().any(|d| path.starts_with(d)) {
                if deleted_bins_each < MAX_EACH {
                    deleted_bins_each += 1;
                    found.push(Finding::new(
                        Severity::High,
                        FindingId::SystemBinaryDeleted,
                        format!("program or library deleted in the container: {}", l.path.shown()),
                        vec![at],
                    ));
                } else {
                    deleted_bins.add(format!("{at}: {}", l.path.shown()), None);
                }
            }
            return Ok(());
        }
        if l.kind == Some(EntryType::File) && l.metacopy != Some(true) {
            written.add(l.path.as_bytes(), n);
        }
        if is_dir || found.len() >= MAX_EACH * 3 {
            return Ok(());
        }
        let shown = l.path.shown();
        if ACCOUNT_FILES.contains(&path.as_ref()) {
            found.push(Finding::new(
                Severity::High,
                FindingId::AccountFileChanged,
                format!("account file {change}: {shown}"),
                evidence,
            ));
        } else if path == "/etc/sudoers"
            || PERSISTENCE.iter().any(|p| path.starts_with(p))
            || HOME_PERSISTENCE.iter().any(|p| path.ends_with(p))
        {
            found.push(Finding::new(
                Severity::High,
                FindingId::PersistencePointChanged,
                format!("a place that runs code or lets someone in was {change}: {shown}"),
                evidence,
            ));
        } else if BINARY_DIRS.iter().any(|d| path.starts_with(d)) {
            found.push(Finding::new(
                Severity::High,
                FindingId::SystemBinaryChanged,
                format!("program or library {change} in the container: {shown}"),
                evidence,
            ));
        }
        Ok(())
    })?;
    out.extend(found);
    if deleted_bins.count > 0 {
        out.push(Finding::new(
            Severity::High,
            FindingId::SystemBinaryDeleted,
            format!(
                "{} more programs or libraries were deleted in the container",
                deleted_bins.count
            ),
            deleted_bins.evidence_lines(),
        ));
    }
    if deleted_logs.count > 0 {
        out.push(Finding::new(
            Severity::Medium,
            FindingId::LogDeleted,
            format!(
                "{} files under /var/log were deleted in the container",
                deleted_logs.count
            ),
            deleted_logs.evidence_lines(),
        ));
    }
    Ok(written)
}

/// The current copy of a container file: `5-filesystem/root/…`, else the writable layer's.
fn current_copy<S: OpenReader + ?Sized>(ev: &Evidence<'_, S>, path: &str) -> Option<String> {
    [ROOT_COPIES, UPPER_COPIES]
        .iter()
        .filter_map(|p| copy_member(p, path))
        .find(|m| ev.has_member(m))
}

/// What the container's current copies of `/etc/passwd` and `/etc/shadow` show on their own
/// (read with the one parser, [`forensic_evidence::accounts`]): accounts other than `root` with
/// uid 0 (`uid0-user`), accounts with an empty password field (`empty-password`), in line order.
/// `forensic diff` raises the same two findings from the same copies when it has no image copy
/// to compare with.
fn accounts<S: OpenReader + ?Sized>(ev: &mut Evidence<'_, S>, out: &mut Vec<Finding>) -> Result<(), AnalysisError> {
    if let Some(member) = current_copy(ev, "/etc/passwd") {
        let bytes = ev.read_member(&member)?;
        let text = String::from_utf8_lossy(&bytes);
        let at = |line: usize| {
            let shown = text.lines().nth(line.saturating_sub(1)).unwrap_or_default();
            format!("{member} line {line}: {}", escape_bytes(shown.as_bytes()))
        };
        let parsed = parse_passwd(&bytes);
        let mut users: Vec<&PasswdEntry> = parsed.entries.values().collect();
        users.sort_by_key(|u| u.line);
        for u in users.iter().filter(|u| u.uid == 0 && u.name != "root") {
            out.push(Finding::new(
                Severity::Critical,
                FindingId::Uid0User,
                format!("account {} has uid 0 (root's powers)", escape_bytes(u.name.as_bytes())),
                vec![at(u.line)],
            ));
        }
        for u in users.iter().filter(|u| u.password.is_empty()) {
            out.push(empty_password(&u.name, format!("{member} line {}", u.line)));
        }
    }
    if let Some(member) = current_copy(ev, "/etc/shadow") {
        let parsed = parse_shadow(&ev.read_member(&member)?);
        let mut empty: Vec<&ShadowEntry> = parsed.entries.values().filter(|s| s.hash.is_empty()).collect();
        empty.sort_by_key(|s| s.line);
        for s in empty {
            out.push(empty_password(&s.name, format!("{member} line {}", s.line)));
        }
    }
    Ok(())
}

fn empty_password(name: &str, evidence: String) -> Finding {
    Finding::new(
        Severity::Critical,
        FindingId::EmptyPassword,
        format!(
            "account {} has an empty password: anyone may log in as it",
            escape_bytes(name.as_bytes())
        ),
        vec![evidence],
    )
}

/// The last lines of a history, newest last.
const HISTORY_LINES: usize = 10;

fn copies<S: OpenReader + ?Sized>(ev: &mut Evidence<'_, S>, out: &mut Vec<Finding>) -> Result<(), AnalysisError> {
    let names: Vec<String> = ev
        .names()
        .filter(|n| n.starts_with(ROOT_COPIES))
        .map(str::to_string)
        .collect();
    for member in names {
        let base = member.rsplit('/').next().unwrap_or_default();
        let path = member
            .strip_prefix(ROOT_COPIES.trim_end_matches('/'))
            .unwrap_or(&member);
        if HISTORIES.contains(&base) {
            let mut count = 0usize;
            let mut last: VecDeque<String> = VecDeque::new();
            ev.lines(&member, |n, line| {
                count += 1;
                if last.len() == HISTORY_LINES {
                    last.pop_front();
                }
                last.push_back(format!("{member} line {n}: {}", escape_bytes(line)));
                Ok(())
            })?;
            if count == 0 {
                continue;
            }
            let mut evidence = vec![member.clone()];
            evidence.extend(last);
            out.push(Finding::new(
                Severity::Medium,
                FindingId::ShellHistory,
                format!(
                    "shell history {path}: {count} commands (the last {} shown)",
                    count.min(HISTORY_LINES)
                ),
                evidence,
            ));
        } else if member.ends_with("/.ssh/authorized_keys") {
            let text = ev.read_member(&member)?;
            let keys: Vec<String> = String::from_utf8_lossy(&text)
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
                .map(|l| l.split_whitespace().nth(2).unwrap_or("(no comment)").to_string())
                .collect();
            if !keys.is_empty() {
                out.push(Finding::new(
                    Severity::Medium,
                    FindingId::AuthorizedKeys,
                    format!(
                        "{path} lets {} SSH keys in: {}",
                        keys.len(),
                        escape_bytes(keys.join(", ").as_bytes())
                    ),
                    vec![member.clone()],
                ));
            }
        } else if path == "/etc/ld.so.preload" {
            let text = ev.read_member(&member)?;
            let libs: Vec<String> = String::from_utf8_lossy(&text)
                .split_whitespace()
                .filter(|l| !l.starts_with('#'))
                .map(str::to_string)
                .collect();
            if !libs.is_empty() {
                out.push(Finding::new(
                    Severity::High,
                    FindingId::LdPreload,
                    format!(
                        "/etc/ld.so.preload loads into every program: {}",
                        escape_bytes(libs.join(" ").as_bytes())
                    ),
                    vec![member.clone()],
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn copy_names() {
        assert_eq!(
            copy_member(ROOT_COPIES, "/tmp/dropper.sh").as_deref(),
            Some("5-filesystem/root/tmp/dropper.sh")
        );
        assert_eq!(copy_member(ROOT_COPIES, "/"), None);
    }
}
