//! Findings: what in the change list an examiner should look at first, each with a severity, a
//! stable kind and the evidence behind it (bundle members and image paths).
//!
//! The checks: account files ([`crate::accounts`]), persistence points, program files and setuid
//! bits, and differences the writable layer does not hold. The model ([`Severity`], [`Finding`],
//! [`FindingId`]) is `forensic-evidence`'s, shared with `forensic show`; `docs/findings.md` lists
//! every id `diff` raises with its severities and what raises it.

use crate::accounts::{self, FilePair};
use crate::diff::{Change, ChangeKind, Reason, Rules, is_below};
use crate::index::{FileEntry, FileIndex, Kind};
use forensic_evidence::findings::FindingId;
pub use forensic_evidence::findings::{Finding, Severity};
use std::collections::{BTreeMap, BTreeSet};

#[cfg(test)]
mod tests;

/// File contents by absolute path.
pub type Contents = BTreeMap<String, Vec<u8>>;

/// One side of the comparison, as the findings read it.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    /// What the index is, for evidence: `5-filesystem/tree-index.jsonl`, `image oci-archive img.tar`.
    pub index_source: &'a str,
    /// The entries.
    pub index: &'a FileIndex,
    /// File contents available on this side, by path.
    pub contents: &'a Contents,
    /// Where each content came from (a bundle member, an image path), by path.
    pub sources: &'a BTreeMap<String, String>,
}

/// The account files.
const PASSWD: &str = "/etc/passwd";
const SHADOW: &str = "/etc/shadow";
const GROUP: &str = "/etc/group";

/// Directory names that hold programs and libraries.
const BINARY_DIRS: [&str; 7] = ["bin", "sbin", "lib", "lib32", "lib64", "libx32", "libexec"];

/// Whether findings may need this path's content: the account files and persistence points.
pub fn content_of_interest(path: &str) -> bool {
    [PASSWD, SHADOW, GROUP].contains(&path) || persistence(path).is_some()
}

/// Paths whose content the findings read, among `changes`: the account files and the
/// persistence points that were added or changed.
pub fn content_wanted<'c>(changes: impl IntoIterator<Item = &'c Change>) -> BTreeSet<String> {
    changes
        .into_iter()
        .filter(|c| c.kind != ChangeKind::Deleted)
        .filter(|c| [PASSWD, SHADOW, GROUP].contains(&c.path.as_str()) || persistence(&c.path).is_some())
        .map(|c| c.path.clone())
        .collect()
}

/// The findings of a change list, sorted by severity (critical first), then path and kind.
///
/// Contents of the account files and persistence points are read from `image.contents` and
/// `container.contents`; when the image's copy is not there, per-account findings fall back to
/// what the container's copy alone shows (`uid0-user`, `empty-password`) and an
/// `account-file-changed` finding.
pub fn findings(changes: &[Change], image: &Side<'_>, container: &Side<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for ch in changes {
        let ctx = Ctx {
            ch,
            image,
            container,
            before: image.index.get(&ch.path),
            after: container.index.get(&ch.path),
        };
        ctx.accounts(&mut out);
        ctx.persistence(&mut out);
        ctx.binaries(&mut out);
        ctx.lower_layer(&mut out);
    }
    out.sort_by(|a, b| (a.severity, &a.path, a.kind, &a.message).cmp(&(b.severity, &b.path, b.kind, &b.message)));
    out.dedup();
    out
}

/// `content-changed-metadata-kept` for each change the runtime's own diff cannot show
/// ([`crate::diff::Diff::unlisted`]: bytes or a symlink's target changed, size and modification
/// time kept), with both sides' entries as evidence. Sorted like [`findings`].
pub fn unlisted_findings(unlisted: &[Change], rules: Rules, image: &Side<'_>, container: &Side<'_>) -> Vec<Finding> {
    unlisted
        .iter()
        .map(|ch| {
            let ctx = Ctx {
                ch,
                image,
                container,
                before: image.index.get(&ch.path),
                after: container.index.get(&ch.path),
            };
            let what = if ch.reasons.contains(&Reason::Link) {
                "the symlink's target"
            } else {
                "the content (SHA-256)"
            };
            ctx.finding(
                Severity::High,
                FindingId::ContentChangedMetadataKept,
                format!(
                    "{}: {what} differs from the image's while size and modification time are the image's; `{} diff` cannot show this change, so it is not in the change list (listed with --all)",
                    ch.path,
                    rules.as_str()
                ),
            )
        })
        .collect()
}

/// One change with both sides.
struct Ctx<'a> {
    ch: &'a Change,
    image: &'a Side<'a>,
    container: &'a Side<'a>,
    before: Option<&'a FileEntry>,
    after: Option<&'a FileEntry>,
}

impl Ctx<'_> {
    fn path(&self) -> &str {
        &self.ch.path
    }

    fn evidence(&self) -> Vec<String> {
        let mut ev = Vec::new();
        let p = self.path();
        if let Some(e) = self.after {
            ev.push(format!("{}: {p}: {}", self.container.index_source, describe(e)));
        }
        if let Some(m) = self.container.sources.get(p) {
            ev.push(m.clone());
        }
        match self.before {
            Some(e) => ev.push(format!("{}: {p}: {}", self.image.index_source, describe(e))),
            None => ev.push(format!("{}: {p}: not present", self.image.index_source)),
        }
        if let Some(m) = self.image.sources.get(p) {
            ev.push(m.clone());
        }
        ev
    }

    fn finding(&self, severity: Severity, kind: FindingId, message: String) -> Finding {
        Finding::new(severity, kind, message, self.evidence()).with_path(self.path())
    }

    fn accounts(&self, out: &mut Vec<Finding>) {
        let p = self.path();
        if ![PASSWD, SHADOW, GROUP].contains(&p) {
            return;
        }
        if self.ch.kind == ChangeKind::Deleted {
            out.push(self.finding(
                Severity::High,
                FindingId::AccountFileRemoved,
                format!("{p} was removed"),
            ));
            return;
        }
        let pair = FilePair {
            path: p,
            image: self.image.contents.get(p).map(Vec::as_slice),
            container: self.container.contents.get(p).map(Vec::as_slice),
            evidence: self.evidence(),
        };
        match p {
            PASSWD => accounts::passwd_findings(&pair, out),
            SHADOW => accounts::shadow_findings(&pair, out),
            _ => accounts::group_findings(&pair, out),
        }
    }

    fn persistence(&self, out: &mut Vec<Finding>) {
        let Some((kind, severity, what)) = persistence(self.path()) else {
            return;
        };
        let entry = if self.ch.kind == ChangeKind::Deleted {
            self.before
        } else {
            self.after
        };
        if entry.is_none_or(|e| e.kind == Kind::Dir) {
            return;
        }
        let p = self.path();
        let message = match self.ch.kind {
            ChangeKind::Deleted => {
                return out.push(self.finding(Severity::Low, kind, format!("{what} {p} was removed")));
            }
            ChangeKind::Added => format!("{what} {p} was added"),
            ChangeKind::Changed => format!("{what} {p} was changed"),
        };
        let message = match (
            self.after.and_then(|e| e.link_target.as_deref()),
            self.container.contents.get(p),
        ) {
            (Some(target), _) => format!("{message}: a symlink to {target}"),
            (None, Some(now)) => {
                let lines = new_lines(self.image.contents.get(p).map(Vec::as_slice), now);
                if lines.is_empty() {
                    message
                } else {
                    format!("{message}; new lines: {}", lines.join(" | "))
                }
            }
            (None, None) => message,
        };
        out.push(self.finding(severity, kind, message));
    }

    fn binaries(&self, out: &mut Vec<Finding>) {
        if self.ch.kind == ChangeKind::Deleted {
            return self.deleted_binary(out);
        }
        let Some(now) = self.after.filter(|e| e.kind == Kind::File) else {
            return;
        };
        let p = self.path();
        let was = self.before.filter(|e| e.kind == Kind::File);
        let executable = now.mode & 0o111 != 0;
        let in_tmp = forensic_evidence::paths::in_temp_dir(p.as_bytes());
        let program = in_binary_dir(p) || executable || was.is_some_and(|w| w.mode & 0o111 != 0);
        let new_bytes = self.ch.kind == ChangeKind::Added
            || self
                .ch
                .reasons
                .iter()
                .any(|r| matches!(r, Reason::Content | Reason::Type));
        if in_tmp && executable && new_bytes {
            out.push(self.finding(
                Severity::High,
                FindingId::TmpExecutable,
                format!("executable {p} (mode {:04o}) in a temporary directory", now.mode),
            ));
        } else if self.ch.kind == ChangeKind::Added && program {
            out.push(self.finding(
                Severity::Medium,
                FindingId::ExecutableAdded,
                format!("new program file {p} (mode {:04o})", now.mode),
            ));
        } else if self.ch.kind == ChangeKind::Changed && program && new_bytes {
            let from = match self.before {
                Some(b) if b.kind != Kind::File => format!("; it was a {}", kind_word(b.kind)),
                _ => String::new(),
            };
            out.push(self.finding(
                Severity::High,
                FindingId::BinaryReplaced,
                format!("program file {p} differs from the image's (SHA-256){from}"),
            ));
        }
        for (bit, kind, name) in [
            (0o4000, FindingId::SetuidAdded, "setuid"),
            (0o2000, FindingId::SetgidAdded, "setgid"),
        ] {
            if now.mode & bit != 0 && was.is_none_or(|w| w.mode & bit == 0) {
                let severity = if bit == 0o4000 && now.uid == 0 {
                    Severity::Critical
                } else {
                    Severity::High
                };
                out.push(self.finding(
                    severity,
                    kind,
                    format!(
                        "{p} is {name} (mode {:04o}, owner {}:{}) and the image's is not",
                        now.mode, now.uid, now.gid
                    ),
                ));
            }
        }
    }

    /// `system-binary-deleted`: an image file or symlink in a program directory is gone.
    fn deleted_binary(&self, out: &mut Vec<Finding>) {
        let p = self.path();
        if let Some(was) = self
            .before
            .filter(|e| matches!(e.kind, Kind::File | Kind::Symlink) && in_binary_dir(p))
        {
            out.push(self.finding(
                Severity::High,
                FindingId::SystemBinaryDeleted,
                format!(
                    "program or library {p} ({} of the image) was deleted",
                    kind_word(was.kind)
                ),
            ));
        }
    }

    fn lower_layer(&self, out: &mut Vec<Finding>) {
        if !self.ch.reasons.contains(&Reason::LowerLayer) {
            return;
        }
        let dir_metadata = self.ch.kind == ChangeKind::Changed && self.after.is_some_and(|e| e.kind == Kind::Dir);
        if dir_metadata {
            return;
        }
        let reasons: Vec<&str> = self
            .ch
            .reasons
            .iter()
            .map(|r| r.as_str())
            .filter(|r| *r != "lower-layer")
            .collect();
        let what = match self.ch.kind {
            ChangeKind::Added => "is not in the image".to_string(),
            ChangeKind::Deleted => "is missing".to_string(),
            ChangeKind::Changed => format!("differs from the image ({})", reasons.join(", ")),
        };
        out.push(self.finding(
            Severity::High,
            FindingId::LowerLayerChanged,
            format!(
                "{} {what}, but the container's writable layer does not hold that change: the node's copy of the image layers differs from the image (podman diff cannot show this)",
                self.path()
            ),
        ));
    }
}

/// `file 0755 0:0 1234 bytes sha256 …`, `symlink -> target`, `dir 0755 0:0`.
pub(crate) fn describe(e: &FileEntry) -> String {
    let mut s = format!("{} {:04o} {}:{}", kind_word(e.kind), e.mode, e.uid, e.gid);
    if e.kind == Kind::File {
        s.push_str(&format!(" {} bytes", e.size));
        if let Some(d) = e.sha256 {
            s.push_str(&format!(" sha256 {d}"));
        }
    }
    if let Some(t) = &e.link_target {
        s.push_str(&format!(" -> {t}"));
    }
    s
}

fn kind_word(k: Kind) -> &'static str {
    match k {
        Kind::File => "file",
        Kind::Dir => "dir",
        Kind::Symlink => "symlink",
        Kind::Fifo => "fifo",
        Kind::Socket => "socket",
        Kind::Char => "char",
        Kind::Block => "block",
    }
}

fn in_binary_dir(path: &str) -> bool {
    let mut comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    comps.pop();
    comps.iter().any(|c| BINARY_DIRS.contains(c))
}

/// The persistence point `path` is, if any: kind, severity, and words for it.
pub(crate) fn persistence(path: &str) -> Option<(FindingId, Severity, &'static str)> {
    let under = |dir: &str| is_below(path, dir);
    let base = path.rsplit('/').next().unwrap_or_default();
    let parent = path.rsplit_once('/').map(|(p, _)| p).unwrap_or_default();
    let home = parent == "/root"
        || parent
            .strip_prefix("/home/")
            .is_some_and(|user| !user.is_empty() && !user.contains('/'));
    if path == "/etc/ld.so.preload" {
        return Some((
            FindingId::PersistenceLdPreload,
            Severity::Critical,
            "the dynamic linker's preload list",
        ));
    }
    let cron_dirs = [
        "/etc/cron.d",
        "/etc/cron.hourly",
        "/etc/cron.daily",
        "/etc/cron.weekly",
        "/etc/cron.monthly",
        "/var/spool/cron",
        "/var/spool/anacron",
    ];
    if ["/etc/crontab", "/etc/anacrontab"].contains(&path) || cron_dirs.iter().any(|d| under(d)) {
        return Some((FindingId::PersistenceCron, Severity::High, "crontab"));
    }
    if ["authorized_keys", "authorized_keys2"].contains(&base) && parent.ends_with("/.ssh") {
        return Some((FindingId::PersistenceSshKey, Severity::High, "SSH authorized keys file"));
    }
    if path == "/etc/ssh/sshd_config" || under("/etc/ssh/sshd_config.d") {
        return Some((
            FindingId::PersistenceSshdConfig,
            Severity::Medium,
            "SSH server configuration",
        ));
    }
    if path == "/etc/sudoers" || under("/etc/sudoers.d") {
        return Some((FindingId::PersistenceSudoers, Severity::High, "sudoers file"));
    }
    let profiles = [
        "/etc/profile",
        "/etc/bash.bashrc",
        "/etc/bashrc",
        "/etc/environment",
        "/etc/zshrc",
        "/etc/zprofile",
        "/etc/zshenv",
        "/etc/csh.cshrc",
        "/etc/csh.login",
    ];
    let dotfiles = [
        ".bashrc",
        ".bash_profile",
        ".bash_login",
        ".bash_logout",
        ".profile",
        ".zshrc",
        ".zprofile",
        ".zshenv",
        ".zlogin",
        ".cshrc",
        ".tcshrc",
        ".kshrc",
        ".mkshrc",
    ];
    if profiles.contains(&path) || under("/etc/profile.d") || under("/etc/zsh") || (home && dotfiles.contains(&base)) {
        return Some((
            FindingId::PersistenceShellProfile,
            Severity::Medium,
            "shell start-up file",
        ));
    }
    let init_dirs = [
        "/etc/systemd",
        "/lib/systemd",
        "/usr/lib/systemd",
        "/usr/local/lib/systemd",
        "/etc/init.d",
        "/etc/init",
        "/etc/rc.d",
        "/etc/runlevels",
        "/etc/sv",
        "/etc/service",
        "/etc/xdg/autostart",
    ];
    let rc_n = path
        .strip_prefix("/etc/rc")
        .and_then(|r| r.split_once(".d/"))
        .is_some_and(|(level, _)| level.len() == 1 && level.chars().all(|c| c.is_ascii_digit() || c == 'S'));
    if ["/etc/rc.local", "/etc/inittab"].contains(&path)
        || init_dirs.iter().any(|d| under(d))
        || rc_n
        || path.contains("/.config/systemd/")
        || path.contains("/.config/autostart/")
    {
        return Some((
            FindingId::PersistenceInit,
            Severity::High,
            "init script or service unit",
        ));
    }
    None
}

/// Lines of `now` that are not in `before` (all its lines when `before` is unknown), without
/// blank lines and comments: at most 10, each at most 200 characters, control characters escaped.
fn new_lines(before: Option<&[u8]>, now: &[u8]) -> Vec<String> {
    let before = before.map(String::from_utf8_lossy);
    let old: BTreeSet<&str> = before
        .as_deref()
        .map(|b| b.lines().map(str::trim).collect())
        .unwrap_or_default();
    let text = String::from_utf8_lossy(now);
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !old.contains(l))
        .take(10)
        .map(|l| forensic_evidence::escape(l.chars().take(200).collect::<String>().as_bytes()))
        .collect()
}
