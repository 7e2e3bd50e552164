//! `/etc/passwd`, `/etc/shadow` and `/etc/group` as copied into a bundle (or read from an image):
//! the one tolerant parser of account files, for `show` and `diff` alike.
//!
//! A line that is not `name:…` with the right number of fields and numeric ids (comments, NIS
//! `+`/`-` lines, junk an attacker appended) is kept aside as junk, not an error: lookups
//! (`getpwnam`) would skip it too. When a name appears twice, the first line counts, as it does
//! for the C library. Bytes that are not UTF-8 are read lossily (`U+FFFD`).
//!
//! ```
//! use forensic_evidence::accounts::parse_passwd;
//! let p = parse_passwd(b"root:x:0:0:root:/root:/bin/sh\nbackdoor:x:0:0::/root:/bin/sh\n");
//! assert_eq!((p.entries["backdoor"].uid, p.entries["backdoor"].line), (0, 2));
//! ```

use std::collections::BTreeMap;

/// One line of `/etc/passwd`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    /// 1-based line number in the file.
    pub line: usize,
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
    /// 1-based line number in the file.
    pub line: usize,
    /// Login name.
    pub name: String,
    /// Password hash; empty means no password, `!`/`*` prefixes lock the account.
    pub hash: String,
}

/// One line of `/etc/group`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    /// 1-based line number in the file.
    pub line: usize,
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

fn parse<T>(
    bytes: &[u8],
    fields: std::ops::RangeInclusive<usize>,
    make: impl Fn(usize, &[&str]) -> Option<T>,
) -> Parsed<T> {
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
            .then(|| make(i + 1, &f))
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
    parse(bytes, 7..=7, |line, f| {
        Some(PasswdEntry {
            line,
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
    parse(bytes, 2..=9, |line, f| {
        Some(ShadowEntry {
            line,
            name: field(f, 0),
            hash: field(f, 1),
        })
    })
}

/// Parses `/etc/group` (4 fields).
pub fn parse_group(bytes: &[u8]) -> Parsed<GroupEntry> {
    parse(bytes, 4..=4, |line, f| {
        Some(GroupEntry {
            line,
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

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn passwd_parser_tolerates_junk_and_keeps_the_first_of_duplicates() {
        let p = parse_passwd(
            b"# comment\n\
    root:x:0:0:root:/root:/bin/sh\n\
    \n\
    garbage without colons\n\
    +nisuser::::::\n\
    bad:x:notanumber:0::/:/bin/sh\n\
    root:x:1234:0:second:/tmp:/bin/sh\n\
    short:x:1:1\n\
    \xff\xfe:x:5:5::/:/bin/sh\n",
        );
        assert_eq!(p.entries.len(), 2);
        assert_eq!(
            p.entries["root"],
            PasswdEntry {
                line: 2,
                name: "root".into(),
                password: "x".into(),
                uid: 0,
                gid: 0,
                gecos: "root".into(),
                home: "/root".into(),
                shell: "/bin/sh".into(),
            }
        );
        assert!(p.entries.contains_key("\u{fffd}\u{fffd}"));
        assert_eq!(p.duplicates, ["root"]);
        assert_eq!(p.junk, [4, 5, 6, 8]);
    }

    #[test]
    fn shadow_and_group_parsers() {
        let s = parse_shadow(b"root:*:19000:0:99999:7:::\napp::19000::::::\nshort:$6$x\njunk\n");
        assert_eq!(s.entries["root"].hash, "*");
        assert_eq!(s.entries["app"].hash, "");
        assert_eq!(s.entries["short"].hash, "$6$x");
        assert_eq!(s.junk, [4]);
        assert_eq!((s.entries["app"].line, s.entries["short"].line), (2, 3));
        let g = parse_group(b"root:x:0:\nwheel:x:10:alice,bob\nbad:x:x:\n");
        assert_eq!(g.entries["wheel"].members, ["alice", "bob"]);
        assert_eq!(g.entries["root"].members, Vec::<String>::new());
        assert_eq!(g.junk, [3]);
        assert_eq!(g.entries["wheel"].line, 2);
    }
}
