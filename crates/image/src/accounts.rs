//! The account findings of comparing the container's `/etc/passwd`, `/etc/shadow` and
//! `/etc/group` with the image's, read with the one parser, [`forensic_evidence::accounts`].

use crate::findings::{Finding, Severity};
use forensic_evidence::accounts::{PasswdEntry, parse_group, parse_passwd, parse_shadow};
use forensic_evidence::findings::FindingId;

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
    fn finding(&self, severity: Severity, kind: FindingId, message: String) -> Finding {
        Finding::new(severity, kind, message, self.evidence.clone()).with_path(self.path)
    }

    fn junk(&self, junk: &[usize], dups: &[String], out: &mut Vec<Finding>) {
        if !junk.is_empty() {
            out.push(self.finding(
                Severity::Low,
                FindingId::AccountFileMalformed,
                format!("{}: lines {} are not entries", self.path, numbers(junk)),
            ));
        }
        if !dups.is_empty() {
            out.push(self.finding(
                Severity::Medium,
                FindingId::AccountDuplicate,
                format!(
                    "{}: names on more than one line (the first counts): {}",
                    self.path,
                    dups.join(", ")
                ),
            ));
        }
    }

    /// The fallback when the content of one copy is unknown: the file changed (the evidence
    /// names both index entries, with their hashes), its entries cannot be compared.
    fn unknown_image(&self, out: &mut Vec<Finding>) {
        let missing = match (self.image.is_some(), self.container.is_some()) {
            (_, false) if self.image.is_none() => "neither copy's content is in the evidence",
            (_, false) => "the container's copy is not in the bundle",
            _ => {
                "the image's content is not in the evidence (only its hash: the node's layer indexes \
                 record hashes, not contents; --image with the original image compares the entries)"
            }
        };
        out.push(self.finding(
            Severity::High,
            FindingId::AccountFileChanged,
            format!("{} changed; {missing}, so its entries cannot be compared", self.path),
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
                FindingId::Uid0User,
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
                FindingId::Uid0UserAdded,
                format!(
                    "account {name:?} was added with uid 0 (root's powers), shell {:?}",
                    u.shell
                ),
            )),
            None => out.push(pair.finding(
                Severity::High,
                FindingId::AccountAdded,
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
            FindingId::AccountRemoved,
            format!("account {name:?} was removed"),
        ));
    }
}

fn changed_account(pair: &FilePair<'_>, old: &PasswdEntry, new: &PasswdEntry, out: &mut Vec<Finding>) {
    let name = &new.name;
    if new.uid == 0 && old.uid != 0 {
        out.push(pair.finding(
            Severity::Critical,
            FindingId::Uid0UserChanged,
            format!("account {name:?} now has uid 0 (was {})", old.uid),
        ));
    } else if (old.uid, old.gid) != (new.uid, new.gid) {
        out.push(pair.finding(
            Severity::Medium,
            FindingId::AccountIdsChanged,
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
            FindingId::AccountShellChanged,
            format!("account {name:?}: shell {:?} became {:?}", old.shell, new.shell),
        ));
    }
    if old.home != new.home {
        out.push(pair.finding(
            Severity::Medium,
            FindingId::AccountHomeChanged,
            format!("account {name:?}: home {:?} became {:?}", old.home, new.home),
        ));
    }
    if old.password != new.password && !new.password.is_empty() {
        out.push(pair.finding(
            Severity::High,
            FindingId::PasswordChanged,
            format!("account {name:?}: the password field of /etc/passwd changed"),
        ));
    }
}

fn empty_password(pair: &FilePair<'_>, name: &str, where_: &str) -> Finding {
    pair.finding(
        Severity::Critical,
        FindingId::EmptyPassword,
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
                FindingId::PasswordChanged,
                format!(
                    "account {name:?}: the password hash changed{}",
                    unlocked(&o.hash, &s.hash)
                ),
            )),
            Some(None) if !is_locked(&s.hash) => out.push(pair.finding(
                Severity::High,
                FindingId::PasswordAdded,
                format!("account {name:?} was given a password hash"),
            )),
            _ => {}
        }
    }
    if let Some(i) = &image {
        for name in i.entries.keys().filter(|n| !c.entries.contains_key(*n)) {
            out.push(pair.finding(
                Severity::Low,
                FindingId::ShadowEntryRemoved,
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
                FindingId::GroupAdded,
                format!("group {name:?} was added: gid {}, members {:?}", g.gid, g.members),
            ));
            continue;
        };
        if old.gid != g.gid {
            let severity = if g.gid == 0 { Severity::High } else { Severity::Medium };
            out.push(pair.finding(
                severity,
                FindingId::GroupChanged,
                format!("group {name:?}: gid {} became {}", old.gid, g.gid),
            ));
        }
        let added: Vec<&String> = g.members.iter().filter(|m| !old.members.contains(m)).collect();
        if !added.is_empty() {
            let privileged = PRIVILEGED_GROUPS.contains(&name.as_str()) || g.gid == 0;
            let severity = if privileged { Severity::High } else { Severity::Medium };
            out.push(pair.finding(
                severity,
                FindingId::GroupMemberAdded,
                format!("group {name:?} gained members {added:?}"),
            ));
        }
    }
    for name in i.entries.keys().filter(|n| !c.entries.contains_key(*n)) {
        out.push(pair.finding(
            Severity::Low,
            FindingId::GroupRemoved,
            format!("group {name:?} was removed"),
        ));
    }
}

#[cfg(test)]
mod tests;
