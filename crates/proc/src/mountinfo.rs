//! `/proc/<pid>/mountinfo`: the mounts a process sees, from which a collector learns a
//! container's root filesystem (the overlay's upper and lower directories on the host).
//!
//! Each line is (`Documentation/filesystems/proc.rst`, `fs/proc_namespace.c`):
//!
//! ```text
//! 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//! id parent major:minor root mount_point options [optional fields…] - fstype source super_options
//! ```
//!
//! # Types and escapes
//! The kernel escapes space, tab, newline and backslash in `root`, `mount_point`, `fstype` and
//! `source` as `\040`, `\011`, `\012`, `\134` and prints every other byte as it is, so these
//! fields may not be UTF-8. They are decoded into [`ByteString`], which keeps the exact bytes and
//! compares with `&str`.
//!
//! Filesystem options written with `seq_show_option` (overlay's `lowerdir=` and friends) escape a
//! comma inside a value as `\054`, so `super_options` is split on the raw commas *first* and each
//! option is then decoded: a comma inside a path never splits an option.
//!
//! # Errors and partial tables
//! Every line is parsed on its own; bad lines are listed in [`Table::errors`] with their line
//! number and the good mounts are kept. The caller bounds how much input it reads.

mod overlay;

use serde::Serialize;

use crate::table::Table;
use crate::text::{ByteString, decode_octal, excerpt_bytes, is_blank, numbered_lines};

pub use overlay::{Overlay, overlay};

/// What is wrong with one line of `mountinfo`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MountError {
    /// The line has no ` - ` field separating the per-mount part from the filesystem part.
    #[error("no ` - ` separator before the filesystem type")]
    MissingSeparator,
    /// Fewer fields than every mountinfo line has.
    #[error("too few fields {part} the ` - ` separator: expected at least {expected}, found {found}")]
    TooFewFields {
        /// `"before"` or `"after"`.
        part: &'static str,
        /// The minimum number of fields.
        expected: usize,
        /// The number found.
        found: usize,
    },
    /// A numeric field is not a number.
    #[error("field `{field}` is not a number: `{value}`")]
    BadNumber {
        /// `mount_id`, `parent_id` or `major:minor`.
        field: &'static str,
        /// The start of the value found.
        value: String,
    },
    /// A field the kernel writes in ASCII is not text.
    #[error("field `{field}` is not text: `{value}`")]
    NotText {
        /// `options` or `optional_fields`.
        field: &'static str,
        /// The start of the value, invalid bytes as `\xNN`.
        value: String,
    },
}

/// One line of `/proc/<pid>/mountinfo`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Mount {
    /// Mount id (unique within the mount namespace).
    pub id: u32,
    /// The parent mount's id (its own id, or one not listed, for the namespace's root).
    pub parent: u32,
    /// Device major number (`st_dev`).
    pub major: u32,
    /// Device minor number.
    pub minor: u32,
    /// The directory of the filesystem that forms this mount's root (`/` for a whole
    /// filesystem; a file's path for a bind-mounted file; `net:[…]` for namespace files).
    pub root: ByteString,
    /// Where it is mounted, relative to the process's root.
    pub mount_point: ByteString,
    /// Per-mount options (`rw`, `nosuid`, `relatime`, …).
    pub options: Vec<String>,
    /// Propagation fields (`shared:N`, `master:N`, `propagate_from:N`, `unbindable`).
    pub optional_fields: Vec<String>,
    /// Filesystem type (`overlay`, `ext4`, `fuse.gvfsd-fuse`, …).
    pub fstype: ByteString,
    /// Filesystem source (`/dev/sda1`, `overlay`, `tmpfs`, …); may be empty.
    pub source: ByteString,
    /// Per-superblock options, split on the unescaped commas and then decoded.
    pub super_options: Vec<ByteString>,
}

impl Mount {
    /// Whether the per-mount options include `ro`.
    pub fn read_only(&self) -> bool {
        self.options.iter().any(|option| option == "ro")
    }

    /// The value of the first super option `key=value` with this key (decoded).
    pub fn super_option(&self, key: &str) -> Option<&[u8]> {
        self.super_options
            .iter()
            .find_map(|option| option_value(option.as_bytes(), key.as_bytes()))
    }
}

/// `value` when `option` is `key=value`.
fn option_value<'a>(option: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    option.strip_prefix(key)?.strip_prefix(b"=")
}

/// Parses `/proc/<pid>/mountinfo`.
///
/// Never fails as a whole: blank lines are skipped, a missing final newline is accepted, and
/// every malformed line is listed in [`Table::errors`] with its 1-based line number.
///
/// ```
/// use forensic_proc::mountinfo::parse_mountinfo;
/// let text = br"36 35 98:0 /mnt1 /mnt\040two rw,noatime master:1 - ext3 /dev/root rw,errors=continue";
/// let table = parse_mountinfo(text);
/// assert_eq!(table.rows[0].mount_point, "/mnt two");
/// assert_eq!(table.rows[0].optional_fields, ["master:1"]);
/// ```
pub fn parse_mountinfo<T: AsRef<[u8]> + ?Sized>(input: &T) -> Table<Mount, MountError> {
    let mut table = Table::new();
    for (number, line) in numbered_lines(input.as_ref()).filter(|(_, line)| !is_blank(line)) {
        table.push(number, parse_line(line));
    }
    table
}

/// The mount at `/`: the process's root filesystem (for a container, usually its overlay).
///
/// When several mounts sit on `/` (one mounted over another), the topmost one is returned: the
/// one that is not the parent of another `/` mount in the list.
pub fn root_mount(mounts: &[Mount]) -> Option<&Mount> {
    let roots: Vec<&Mount> = mounts.iter().filter(|mount| mount.mount_point == "/").collect();
    let covered = |candidate: &&Mount| {
        roots
            .iter()
            .any(|other| other.parent == candidate.id && other.id != candidate.id)
    };
    roots
        .iter()
        .rev()
        .find(|candidate| !covered(candidate))
        .or(roots.last())
        .copied()
}

/// Fields before the separator: id, parent, major:minor, root, mount point, options.
const FIELDS_BEFORE: usize = 6;

fn parse_line(line: &[u8]) -> Result<Mount, MountError> {
    let fields: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    let separator = fields
        .iter()
        .skip(FIELDS_BEFORE)
        .position(|field| *field == b"-")
        .map(|offset| offset + FIELDS_BEFORE)
        .ok_or(if fields.len() > FIELDS_BEFORE {
            MountError::MissingSeparator
        } else {
            MountError::TooFewFields {
                part: "before",
                expected: FIELDS_BEFORE,
                found: fields.len(),
            }
        })?;
    let (head, tail) = fields.split_at(separator);
    let [id, parent, device, root, mount_point, options, optional @ ..] = head else {
        return Err(MountError::TooFewFields {
            part: "before",
            expected: FIELDS_BEFORE,
            found: head.len(),
        });
    };
    let [_, fstype, source, super_options @ ..] = tail else {
        return Err(MountError::TooFewFields {
            part: "after",
            expected: 2,
            found: tail.len().saturating_sub(1),
        });
    };
    let (major, minor) = parse_device(device)?;
    Ok(Mount {
        id: parse_number("mount_id", id)?,
        parent: parse_number("parent_id", parent)?,
        major,
        minor,
        root: ByteString::new(decode_octal(root)),
        mount_point: ByteString::new(decode_octal(mount_point)),
        options: ascii_list("options", options.split(|&b| b == b','))?,
        optional_fields: ascii_list(
            "optional_fields",
            optional.iter().copied().filter(|field| !field.is_empty()),
        )?,
        fstype: ByteString::new(decode_octal(fstype)),
        source: ByteString::new(decode_octal(source)),
        super_options: split_super_options(&super_options.join(&b' ')),
    })
}

fn parse_number(field: &'static str, value: &[u8]) -> Result<u32, MountError> {
    std::str::from_utf8(value)
        .ok()
        .filter(|text| text.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| MountError::BadNumber {
            field,
            value: excerpt_bytes(value),
        })
}

fn parse_device(value: &[u8]) -> Result<(u32, u32), MountError> {
    let bad = || MountError::BadNumber {
        field: "major:minor",
        value: excerpt_bytes(value),
    };
    let colon = value.iter().position(|&b| b == b':').ok_or_else(bad)?;
    let (major, minor) = value.split_at(colon);
    let minor = minor.get(1..).unwrap_or_default();
    Ok((
        parse_number("major:minor", major).map_err(|_| bad())?,
        parse_number("major:minor", minor).map_err(|_| bad())?,
    ))
}

fn ascii_list<'a>(field: &'static str, items: impl Iterator<Item = &'a [u8]>) -> Result<Vec<String>, MountError> {
    items
        .map(|item| {
            String::from_utf8(decode_octal(item)).map_err(|_| MountError::NotText {
                field,
                value: excerpt_bytes(item),
            })
        })
        .collect()
}

/// Splits super options on raw commas (escaped ones are `\054`), then decodes each; trailing
/// spaces and a carriage return after the last option are dropped.
fn split_super_options(raw: &[u8]) -> Vec<ByteString> {
    let end = raw
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\r'))
        .map_or(0, |last| last + 1);
    let raw = raw.get(..end).unwrap_or_default();
    if raw.is_empty() {
        return Vec::new();
    }
    raw.split(|&b| b == b',')
        .map(|option| ByteString::new(decode_octal(option)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LineError;

    fn strings(items: &[&str]) -> Vec<ByteString> {
        items.iter().map(|item| ByteString::from(*item)).collect()
    }

    #[test]
    fn documented_example_with_escapes() {
        let table = parse_mountinfo(
            b"36 35 98:0 /mnt1 /mnt\\040with\\011tab\\012nl\\134bs rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n",
        );
        assert!(table.is_clean());
        assert_eq!(
            table.rows,
            vec![Mount {
                id: 36,
                parent: 35,
                major: 98,
                minor: 0,
                root: "/mnt1".into(),
                mount_point: "/mnt with\ttab\nnl\\bs".into(),
                options: vec!["rw".into(), "noatime".into()],
                optional_fields: vec!["master:1".into()],
                fstype: "ext3".into(),
                source: "/dev/root".into(),
                super_options: strings(&["rw", "errors=continue"]),
            }]
        );
        assert!(!table.rows[0].read_only());
        assert_eq!(table.rows[0].super_option("errors"), Some(&b"continue"[..]));
    }

    #[test]
    fn no_optional_fields_empty_source_and_trailing_space() {
        let table = parse_mountinfo(b"760 759 0:58 / /proc ro,nosuid - proc  rw \n");
        let mount = &table.rows[0];
        assert_eq!(mount.optional_fields, Vec::<String>::new());
        assert_eq!(mount.source, "");
        assert_eq!(mount.super_options, strings(&["rw"]));
        assert!(mount.read_only());
    }

    #[test]
    fn several_optional_fields_and_spaces_in_super_options() {
        let table = parse_mountinfo(b"1 0 8:1 / / rw shared:1 master:2 propagate_from:3 - ext4 /dev/sda1 rw,opt=a b");
        assert_eq!(
            table.rows[0].optional_fields,
            ["shared:1", "master:2", "propagate_from:3"]
        );
        assert_eq!(table.rows[0].super_options, strings(&["rw", "opt=a b"]));
    }

    #[test]
    fn comma_escaped_in_option_value_does_not_split() {
        let table = parse_mountinfo(br"1 0 0:40 / /x rw - fuse.sshfs user@host:/a\054b rw,path=/a\054b,user_id=0");
        assert_eq!(table.rows[0].fstype, "fuse.sshfs");
        assert_eq!(table.rows[0].source, "user@host:/a,b");
        assert_eq!(table.rows[0].super_options, strings(&["rw", "path=/a,b", "user_id=0"]));
    }

    #[test]
    fn non_utf8_mount_point_is_kept_as_bytes() {
        let table = parse_mountinfo(b"1 0 0:40 / /mnt/\xff rw - tmpfs tmpfs rw");
        assert_eq!(table.rows[0].mount_point, ByteString::from(b"/mnt/\xff".to_vec()));
        assert_eq!(table.rows[0].mount_point.to_string(), "/mnt/\\xff");
    }

    #[test]
    fn bad_lines_are_numbered() {
        let text = "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n\
                    x 0 8:1 / / rw - ext4 /dev/sda1 rw\n\
                    2 1 8 / /a rw - ext4 /dev/sda1 rw\n\
                    3 1 8:1 / /b rw shared:1 ext4 /dev/sda1 rw\n\
                    4 1 8:1 / /c\n\
                    \n\
                    5 1 8:1 / /d rw -\n\
                    6 1 8:1 / /e rw - ext4\n";
        let table = parse_mountinfo(text);
        assert_eq!(table.rows.iter().map(|mount| mount.id).collect::<Vec<_>>(), [1]);
        let numbered: Vec<(usize, String)> = table.errors.iter().map(|e| (e.line, e.error.to_string())).collect();
        assert_eq!(
            numbered,
            [
                (2, "field `mount_id` is not a number: `x`".to_owned()),
                (3, "field `major:minor` is not a number: `8`".to_owned()),
                (4, "no ` - ` separator before the filesystem type".to_owned()),
                (
                    5,
                    "too few fields before the ` - ` separator: expected at least 6, found 5".to_owned()
                ),
                (
                    7,
                    "too few fields after the ` - ` separator: expected at least 2, found 0".to_owned()
                ),
                (
                    8,
                    "too few fields after the ` - ` separator: expected at least 2, found 1".to_owned()
                ),
            ]
        );
        assert_eq!(
            table.errors.first(),
            Some(&LineError {
                line: 2,
                error: MountError::BadNumber {
                    field: "mount_id",
                    value: "x".into()
                }
            })
        );
    }

    #[test]
    fn root_mount_prefers_the_topmost() {
        let table = parse_mountinfo(
            "20 1 8:1 / / rw - ext4 /dev/sda1 rw\n\
             21 20 0:5 / /proc rw - proc proc rw\n\
             30 20 0:9 / / rw - overlay overlay rw\n",
        );
        assert_eq!(root_mount(&table.rows).map(|mount| mount.id), Some(30));
        let reordered: Vec<Mount> = table.rows.iter().rev().cloned().collect();
        assert_eq!(root_mount(&reordered).map(|mount| mount.id), Some(30));
        assert_eq!(root_mount(&[]), None);
    }
}
