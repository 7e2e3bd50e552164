//! `/etc/passwd`, `/etc/shadow` and `/etc/group`: tolerant parsers and the account findings of
//! comparing the container's copies with the image's.
//!
//! A line that is not `name:…` with the right number of fields and numeric ids (comments, NIS
//! `+`/`-` lines, junk an attacker appended) is kept aside as junk, not an error: lookups
//! (`getpwnam`) would skip it too. When a name appears twice, the first line counts, as it does
//! for the C library.

use crate::findings::{Finding, Severity};
use std::collections::BTreeMap;

/// One line of `/etc/passwd`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    /// Login name.
    pub name: String,
    /// The password field (`x` when the hash is in shadow, empty for no password).
    pub password: String,
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Comment (GECOS).
    pub gecos: String,
    /// Home directory.
    pub home: String,
    /// Login shell.
    pub shell: String,
}

/// One line of `/etc/shadow` (the fields the findings use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShadowEntry {
    /// Login name.
    pub name: String,
    /// Password hash; empty means no password, `!`/`*` prefixes lock the account.
    pub hash: String,
}

/// One line of `/etc/group`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    /// Group name.
    pub name: String,
    /// Group id.
    pub gid: u32,
    /// Member user names.
    pub members: Vec<String>,
}

/// A parsed account file: entries by name (first line wins), duplicates and junk kept aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed<T> {
    /// Entries by name, from the first line with that name.
    pub entries: BTreeMap<String, T>,
    /// Names that appear on more than one line.
    pub duplicates: Vec<String>,
    /// 1-based numbers of lines that are not entries (blank lines and comments excluded).
    pub junk: Vec<usize>,
}

fn parse<T>(bytes: &[u8], fields: std::ops::RangeInclusive<usize>, make: impl Fn(&[&str]) -> Option<T>) -> Parsed<T> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Parsed {
        entries: BTreeMap::new(),
        duplicates: Vec::new(),
        junk: Vec::new(),
    };
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split(':').collect();
        let name = f.first().copied().unwrap_or_default();
        let entry = (fields.contains(&f.len()) && !name.is_empty() && !name.starts_with(['+', '-']))
            .then(|| make(&f))
            .flatten();
        match entry {
            Some(_) if out.entries.contains_key(name) => out.duplicates.push(name.to_string()),
            Some(e) => {
                out.entries.insert(name.to_string(), e);
            }
            None => out.junk.push(i + 1),
        }
    }
    out
}

fn field(f: &[&str], i: usize) -> String {
    f.get(i).copied().unwrap_or_default().to_string()
}

/// Parses `/etc/passwd` (7 fields).
pub fn parse_passwd(bytes: &[u8]) -> Parsed<PasswdEntry> {
    parse(bytes, 7..=7, |f| {
        Some(PasswdEntry {
            name: field(f, 0),
            password: field(f, 1),
            uid: f.get(2)?.parse().ok()?,
            gid: f.get(3)?.parse().ok()?,
            gecos: field(f, 4),
            home: field(f, 5),
            shell: field(f, 6),
        })
    })
}

/// Parses `/etc/shadow` (9 fields; 2 to 9 accepted, as some tools write short lines).
pub fn parse_shadow(bytes: &[u8]) -> Parsed<ShadowEntry> {
    parse(bytes, 2..=9, |f| {
        Some(ShadowEntry {
            name: field(f, 0),
            hash: field(f, 1),
        })
    })
}

/// Parses `/etc/group` (4 fields).
pub fn parse_group(bytes: &[u8]) -> Parsed<GroupEntry> {
    parse(bytes, 4..=4, |f| {
        Some(GroupEntry {
            name: field(f, 0),
            gid: f.get(2)?.parse().ok()?,
            members: f
                .get(3)?
                .split(',')
                .filter(|m| !m.is_empty())
                .map(str::to_string)
                .collect(),
        })
    })
}

/// Groups whose members can become root or read every secret.
const PRIVILEGED_GROUPS: [&str; 8] = ["root", "wheel", "sudo", "admin", "adm", "shadow", "disk", "docker"];

/// Shells that do not allow a login.
fn is_nologin(shell: &str) -> bool {
    shell.is_empty() || shell.ends_with("/nologin") || shell.ends_with("/false") || shell == "/bin/sync"
}

/// Where the findings' evidence comes from: the two copies of one account file.
pub(crate) struct FilePair<'a> {
    /// Container path (`/etc/passwd`).
    pub path: &'a str,
    /// The image's content, when available.
    pub image: Option<&'a [u8]>,
    /// The container's content, when available.
    pub container: Option<&'a [u8]>,
    /// Evidence naming both copies.
    pub evidence: Vec<String>,
}

impl FilePair<'_> {
    fn finding(&self, severity: Severity, kind: &str, message: String) -> Finding {
        Finding {
            severity,
            kind: kind.to_string(),
            path: self.path.to_string(),
            message,
            evidence: self.evidence.clone(),
        }
    }

    fn junk(&self, junk: &[usize], dups: &[String], out: &mut Vec<Finding>) {
        if !junk.is_empty() {
            out.push(self.finding(
                Severity::Low,
                "account-file-malformed",
                format!("{}: lines {} are not entries", self.path, numbers(junk)),
            ));
        }
        if !dups.is_empty() {
            out.push(self.finding(
                Severity::Medium,
                "account-duplicate",
                format!(
                    "{}: names on more than one line (the first counts): {}",
                    self.path,
                    dups.join(", ")
                ),
            ));
        }
    }

    /// The fallback when the image's copy is unknown.
    fn unknown_image(&self, out: &mut Vec<Finding>) {
        out.push(self.finding(
            Severity::Medium,
            "account-file-changed",
            format!(
                "{} changed; the image's copy is not available, so its entries cannot be compared",
                self.path
            ),
        ));
    }
}

fn numbers(v: &[usize]) -> String {
    let shown: Vec<String> = v.iter().take(10).map(usize::to_string).collect();
    let more = if v.len() > 10 { ", …" } else { "" };
    format!("{}{more}", shown.join(", "))
}

/// Findings of a changed `/etc/passwd`.
pub(crate) fn passwd_findings(pair: &FilePair<'_>, out: &mut Vec<Finding>) {
    let Some(c) = pair.container.map(parse_passwd) else {
        return pair.unknown_image(out);
    };
    pair.junk(&c.junk, &c.duplicates, out);
    let Some(i) = pair.image.map(parse_passwd) else {
        pair.unknown_image(out);
        for u in c.entries.values().filter(|u| u.uid == 0 && u.name != "root") {
            out.push(pair.finding(
                Severity::Critical,
                "uid0-user",
                format!(
                    "account {:?} has uid 0 (root's powers); without the image's copy it cannot be told whether it is new",
                    u.name
                ),
            ));
        }
        for u in c.entries.values().filter(|u| u.password.is_empty()) {
            out.push(empty_password(pair, &u.name, "in /etc/passwd"));
        }
        return;
    };
    for (name, u) in &c.entries {
        match i.entries.get(name) {
            None if u.uid == 0 => out.push(pair.finding(
                Severity::Critical,
                "uid0-user-added",
                format!(
                    "account {name:?} was added with uid 0 (root's powers), shell {:?}",
                    u.shell
                ),
            )),
            None => out.push(pair.finding(
                Severity::High,
                "account-added",
                format!(
                    "account {name:?} was added: uid {}, gid {}, home {:?}, shell {:?}",
                    u.uid, u.gid, u.home, u.shell
                ),
            )),
            Some(old) => changed_account(pair, old, u, out),
        }
        if u.password.is_empty() && i.entries.get(name).is_none_or(|o| !o.password.is_empty()) {
            out.push(empty_password(pair, name, "in /etc/passwd"));
        }
    }
    for name in i.entries.keys().filter(|n| !c.entries.contains_key(*n)) {
        out.push(pair.finding(
            Severity::Medium,
            "account-removed",
            format!("account {name:?} was removed"),
        ));
    }
}

fn changed_account(pair: &FilePair<'_>, old: &PasswdEntry, new: &PasswdEntry, out: &mut Vec<Finding>) {
    let name = &new.name;
    if new.uid == 0 && old.uid != 0 {
        out.push(pair.finding(
            Severity::Critical,
            "uid0-user-changed",
            format!("account {name:?} now has uid 0 (was {})", old.uid),
        ));
    } else if (old.uid, old.gid) != (new.uid, new.gid) {
        out.push(pair.finding(
            Severity::Medium,
            "account-ids-changed",
            format!(
                "account {name:?}: uid:gid {}:{} became {}:{}",
                old.uid, old.gid, new.uid, new.gid
            ),
        ));
    }
    if old.shell != new.shell {
        let severity = if is_nologin(&old.shell) && !is_nologin(&new.shell) {
            Severity::High
        } else {
            Severity::Medium
        };
        out.push(pair.finding(
            severity,
            "account-shell-changed",
            format!("account {name:?}: shell {:?} became {:?}", old.shell, new.shell),
        ));
    }
    if old.home != new.home {
        out.push(pair.finding(
            Severity::Medium,
            "account-home-changed",
            format!("account {name:?}: home {:?} became {:?}", old.home, new.home),
        ));
    }
    if old.password != new.password && !new.password.is_empty() {
        out.push(pair.finding(
            Severity::High,
            "password-changed",
            format!("account {name:?}: the password field of /etc/passwd changed"),
        ));
    }
}

fn empty_password(pair: &FilePair<'_>, name: &str, where_: &str) -> Finding {
    pair.finding(
        Severity::Critical,
        "empty-password",
        format!("account {name:?} has an empty password {where_}: anyone can log in as it"),
    )
}

/// Findings of a changed `/etc/shadow`.
pub(crate) fn shadow_findings(pair: &FilePair<'_>, out: &mut Vec<Finding>) {
    let Some(c) = pair.container.map(parse_shadow) else {
        return pair.unknown_image(out);
    };
    pair.junk(&c.junk, &c.duplicates, out);
    let image = pair.image.map(parse_shadow);
    if image.is_none() {
        pair.unknown_image(out);
    }
    for (name, s) in &c.entries {
        let old = image.as_ref().map(|i| i.entries.get(name));
        if s.hash.is_empty() && old.is_none_or(|o| o.is_none_or(|o| !o.hash.is_empty())) {
            out.push(empty_password(pair, name, "in /etc/shadow"));
            continue;
        }
        match old {
            Some(Some(o)) if o.hash != s.hash => out.push(pair.finding(
                Severity::High,
                "password-changed",
                format!(
                    "account {name:?}: the password hash changed{}",
                    unlocked(&o.hash, &s.hash)
                ),
            )),
            Some(None) if !is_locked(&s.hash) => out.push(pair.finding(
                Severity::High,
                "password-added",
                format!("account {name:?} was given a password hash"),
            )),
            _ => {}
        }
    }
    if let Some(i) = &image {
        for name in i.entries.keys().filter(|n| !c.entries.contains_key(*n)) {
            out.push(pair.finding(
                Severity::Low,
                "shadow-entry-removed",
                format!("account {name:?} was removed from /etc/shadow"),
            ));
        }
    }
}

fn is_locked(hash: &str) -> bool {
    hash.starts_with(['!', '*'])
}

fn unlocked(old: &str, new: &str) -> &'static str {
    if is_locked(old) && !is_locked(new) {
        " (the account was locked and now has a usable password)"
    } else {
        ""
    }
}

/// Findings of a changed `/etc/group`.
pub(crate) fn group_findings(pair: &FilePair<'_>, out: &mut Vec<Finding>) {
    let Some(c) = pair.container.map(parse_group) else {
        return pair.unknown_image(out);
    };
    pair.junk(&c.junk, &c.duplicates, out);
    let Some(i) = pair.image.map(parse_group) else {
        pair.unknown_image(out);
        return;
    };
    for (name, g) in &c.entries {
        let Some(old) = i.entries.get(name) else {
            let severity = if g.gid == 0 { Severity::High } else { Severity::Medium };
            out.push(pair.finding(
                severity,
                "group-added",
                format!("group {name:?} was added: gid {}, members {:?}", g.gid, g.members),
            ));
            continue;
        };
        if old.gid != g.gid {
            let severity = if g.gid == 0 { Severity::High } else { Severity::Medium };
            out.push(pair.finding(
                severity,
                "group-changed",
                format!("group {name:?}: gid {} became {}", old.gid, g.gid),
            ));
        }
        let added: Vec<&String> = g.members.iter().filter(|m| !old.members.contains(m)).collect();
        if !added.is_empty() {
            let privileged = PRIVILEGED_GROUPS.contains(&name.as_str()) || g.gid == 0;
            let severity = if privileged { Severity::High } else { Severity::Medium };
            out.push(pair.finding(
                severity,
                "group-member-added",
                format!("group {name:?} gained members {added:?}"),
            ));
        }
    }
    for name in i.entries.keys().filter(|n| !c.entries.contains_key(*n)) {
        out.push(pair.finding(Severity::Low, "group-removed", format!("group {name:?} was removed")));
    }
}

#[cfg(test)]
mod tests;
