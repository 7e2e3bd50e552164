//! `/proc/<pid>/maps`: a process's memory regions, and the ones a responder looks at twice.
//!
//! Each line is `start-end perms offset major:minor inode [padding path]`, all numbers but the
//! inode in hex. The kernel escapes only a newline in the path (as `\012`) and leaves backslashes
//! as they are, so the escape cannot be undone unambiguously: the path is kept exactly as
//! printed. A file that was deleted while mapped is shown with ` (deleted)` appended.

use serde::Serialize;

use crate::table::Table;
use crate::text::{ByteString, excerpt, excerpt_bytes, is_blank, numbered_lines};

/// What is wrong with one line of `maps`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MapsError {
    /// Fewer than the five fields before the path.
    #[error("expected at least 5 fields before the path, found {found}")]
    TooFewFields {
        /// The number found.
        found: usize,
    },
    /// A field could not be decoded.
    #[error("field `{field}` is not valid: `{value}`")]
    BadField {
        /// `address`, `perms`, `offset`, `dev` or `inode`.
        field: &'static str,
        /// The start of the value found.
        value: String,
    },
}

/// The `perms` column.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Perms {
    /// `r`.
    pub read: bool,
    /// `w`.
    pub write: bool,
    /// `x`.
    pub execute: bool,
    /// `s` (shared) rather than `p` (private, copy-on-write).
    pub shared: bool,
}

/// Writes the column as the kernel does: `r-xp`, `rw-s`, …
impl std::fmt::Display for Perms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let flag = |set: bool, letter: char| if set { letter } else { '-' };
        let sharing = if self.shared { 's' } else { 'p' };
        write!(
            f,
            "{}{}{}{sharing}",
            flag(self.read, 'r'),
            flag(self.write, 'w'),
            flag(self.execute, 'x')
        )
    }
}

/// One line of `/proc/<pid>/maps`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct MapRegion {
    /// First address.
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    /// Access rights.
    pub perms: Perms,
    /// Offset into the file.
    pub offset: u64,
    /// Device major number of the file (hex in the file).
    pub dev_major: u32,
    /// Device minor number of the file.
    pub dev_minor: u32,
    /// Inode of the file; 0 for anonymous memory.
    pub inode: u64,
    /// The file's path or a pseudo-name (`[heap]`, `[stack]`, `[vdso]`, `[anon:name]`), without
    /// the ` (deleted)` suffix; `None` for anonymous memory. Exact bytes as printed.
    pub path: Option<ByteString>,
    /// Whether the path ended in ` (deleted)`: the file was removed (or replaced) after being
    /// mapped. A file literally named `x (deleted)` looks the same; the kernel gives no way to
    /// tell them apart here.
    pub deleted: bool,
}

/// Something about a region that deserves a look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum MapFlag {
    /// Writable and executable memory not backed by a file (anonymous, heap, stack): where
    /// injected code or shellcode usually lives. JIT compilers make such regions too.
    AnonymousExecutableWritable,
    /// Mapped from a file that has since been deleted: a common way to run a payload and remove
    /// it from disk. Also seen after a package upgrade replaced a running library.
    DeletedMapping,
    /// Executable code mapped from a world-writable or memory-backed place: `/tmp`, `/var/tmp`,
    /// `/dev/shm`, `/run`, or a `memfd:` file (fileless execution). Some runtimes legitimately
    /// run from a sealed memfd (runc's cloned binary, `/memfd:runc_cloned:…`), which also shows
    /// as deleted; check the process before concluding.
    ExecutableFromTemp,
}

use forensic_evidence::paths::TEMP_DIRS;
use forensic_evidence::records::process::ProcessFlag;

impl From<MapFlag> for ProcessFlag {
    fn from(f: MapFlag) -> ProcessFlag {
        match f {
            MapFlag::AnonymousExecutableWritable => ProcessFlag::AnonymousExecutableWritable,
            MapFlag::DeletedMapping => ProcessFlag::DeletedMapping,
            MapFlag::ExecutableFromTemp => ProcessFlag::ExecutableFromTemp,
        }
    }
}

/// Parses `/proc/<pid>/maps`.
///
/// Never fails as a whole: every malformed line is listed in [`Table::errors`] with its 1-based
/// line number, and the good regions are kept. Trailing spaces after the inode of an anonymous
/// region (which the kernel writes) and a missing final newline are accepted.
///
/// ```
/// use forensic_proc::process::{MapFlag, parse_maps, suspicious};
/// let table = parse_maps("7f00c0000000-7f00c0021000 rwxp 00000000 00:00 0 \n");
/// assert_eq!(suspicious(&table.rows[0]), [MapFlag::AnonymousExecutableWritable]);
/// ```
pub fn parse_maps<T: AsRef<[u8]> + ?Sized>(input: &T) -> Table<MapRegion, MapsError> {
    let mut table = Table::new();
    for (number, line) in numbered_lines(input.as_ref()).filter(|(_, line)| !is_blank(line)) {
        table.push(number, parse_line(line));
    }
    table
}

/// The flags that apply to `region`, in the order of [`MapFlag`]'s variants.
pub fn suspicious(region: &MapRegion) -> Vec<MapFlag> {
    let mut flags = Vec::new();
    if region.perms.write && region.perms.execute && is_anonymous(region) {
        flags.push(MapFlag::AnonymousExecutableWritable);
    }
    if region.deleted {
        flags.push(MapFlag::DeletedMapping);
    }
    if region.perms.execute && region.path.as_ref().is_some_and(is_temp) {
        flags.push(MapFlag::ExecutableFromTemp);
    }
    flags
}

fn is_anonymous(region: &MapRegion) -> bool {
    match &region.path {
        None => true,
        Some(path) => {
            path == "[heap]"
                || path == "[stack]"
                || path.starts_with("[stack:")
                || path.starts_with("[anon:")
                || path.starts_with("[anon_shmem:")
        }
    }
}

fn is_temp(path: &ByteString) -> bool {
    let bytes = path.as_bytes();
    bytes.starts_with(b"/memfd:")
        || TEMP_DIRS.iter().any(|dir| {
            bytes
                .strip_prefix(dir.as_bytes())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(b"/"))
        })
}

/// The fields before the path: range, perms, offset, dev, inode.
const FIELDS: usize = 5;

fn parse_line(line: &[u8]) -> Result<MapRegion, MapsError> {
    let mut fields = Vec::with_capacity(FIELDS);
    let mut rest = line;
    while fields.len() < FIELDS {
        let start = rest.iter().position(|&b| b != b' ').unwrap_or(rest.len());
        let trimmed = rest.get(start..).unwrap_or_default();
        let end = trimmed.iter().position(|&b| b == b' ').unwrap_or(trimmed.len());
        let (field, tail) = trimmed.split_at(end);
        if field.is_empty() {
            return Err(MapsError::TooFewFields { found: fields.len() });
        }
        fields.push(field);
        rest = tail;
    }
    let [range, perms, offset, dev, inode] = fields.as_slice() else {
        return Err(MapsError::TooFewFields { found: fields.len() });
    };
    let (start, end) = split_pair(range, b'-').ok_or_else(|| bad_bytes("address", range))?;
    let (major, minor) = split_pair(dev, b':').ok_or_else(|| bad_bytes("dev", dev))?;
    let (path, deleted) = split_path(rest);
    Ok(MapRegion {
        start: hex("address", start)?,
        end: hex("address", end)?,
        perms: parse_perms(perms)?,
        offset: hex("offset", offset)?,
        dev_major: hex("dev", major)?,
        dev_minor: hex("dev", minor)?,
        inode: text(inode)
            .filter(|v| !v.starts_with('+'))
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| bad_bytes("inode", inode))?,
        path,
        deleted,
    })
}

/// The path after the padding, and whether it carried the ` (deleted)` suffix.
fn split_path(rest: &[u8]) -> (Option<ByteString>, bool) {
    let start = rest.iter().position(|&b| b != b' ');
    let Some(path) = start.and_then(|start| rest.get(start..)) else {
        return (None, false);
    };
    match path.strip_suffix(b" (deleted)") {
        Some(original) => (Some(ByteString::from(original)), true),
        None => (Some(ByteString::from(path)), false),
    }
}

fn split_pair(value: &[u8], separator: u8) -> Option<(&[u8], &[u8])> {
    let at = value.iter().position(|&b| b == separator)?;
    let (left, right) = value.split_at(at);
    Some((left, right.get(1..)?))
}

fn text(value: &[u8]) -> Option<&str> {
    std::str::from_utf8(value).ok()
}

fn hex<N: TryFrom<u64>>(field: &'static str, value: &[u8]) -> Result<N, MapsError> {
    text(value)
        .filter(|v| !v.starts_with('+'))
        .and_then(|v| u64::from_str_radix(v, 16).ok())
        .and_then(|number| N::try_from(number).ok())
        .ok_or_else(|| bad_bytes(field, value))
}

fn parse_perms(value: &[u8]) -> Result<Perms, MapsError> {
    let bad = || MapsError::BadField {
        field: "perms",
        value: excerpt_bytes(value),
    };
    let [r, w, x, s] = value else { return Err(bad()) };
    let flag = |byte: u8, set: u8| match byte {
        b'-' => Ok(false),
        _ if byte == set => Ok(true),
        _ => Err(bad()),
    };
    Ok(Perms {
        read: flag(*r, b'r')?,
        write: flag(*w, b'w')?,
        execute: flag(*x, b'x')?,
        shared: match s {
            b's' => true,
            b'p' => false,
            _ => return Err(bad()),
        },
    })
}

fn bad_bytes(field: &'static str, value: &[u8]) -> MapsError {
    MapsError::BadField {
        field,
        value: excerpt(&String::from_utf8_lossy(value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LineError;

    fn region(line: &str) -> MapRegion {
        parse_maps(line).into_result().unwrap().remove(0)
    }

    #[test]
    fn file_backed_region() {
        assert_eq!(
            region(
                "7f3a1c200000-7f3a1c228000 r-xp 00028000 fd:01 1835263                    /usr/lib/x86_64-linux-gnu/libc.so.6"
            ),
            MapRegion {
                start: 0x7f3a_1c20_0000,
                end: 0x7f3a_1c22_8000,
                perms: Perms {
                    read: true,
                    write: false,
                    execute: true,
                    shared: false
                },
                offset: 0x28000,
                dev_major: 0xfd,
                dev_minor: 1,
                inode: 1_835_263,
                path: Some("/usr/lib/x86_64-linux-gnu/libc.so.6".into()),
                deleted: false,
            }
        );
    }

    #[test]
    fn perms_display_as_printed() {
        for text in ["r-xp", "rw-s", "---p", "rwxp"] {
            let row = region(&format!("00400000-00401000 {text} 00000000 08:02 7 /bin/a"));
            assert_eq!(row.perms.to_string(), text);
        }
    }

    #[test]
    fn flags_for_injected_and_fileless_code() {
        let cases = [
            (
                "7f00c0000000-7f00c0021000 rwxp 00000000 00:00 0 ",
                vec![MapFlag::AnonymousExecutableWritable],
            ),
            ("7f00c0000000-7f00c0021000 rw-p 00000000 00:00 0 ", vec![]),
            ("7f00c0000000-7f00c0021000 r-xp 00000000 00:00 0 ", vec![]),
            (
                "55d0e0a5c000-55d0e0a7d000 rwxp 00000000 00:00 0                          [heap]",
                vec![MapFlag::AnonymousExecutableWritable],
            ),
            (
                "7ffd0070d000-7ffd0072e000 rwxp 00000000 00:00 0                          [stack]",
                vec![MapFlag::AnonymousExecutableWritable],
            ),
            (
                "7f00c0000000-7f00c0021000 rwxp 00000000 00:00 0      [anon:jit]",
                vec![MapFlag::AnonymousExecutableWritable],
            ),
            (
                "7f00c1000000-7f00c1001000 r-xp 00000000 00:05 4242   /memfd:payload (deleted)",
                vec![MapFlag::DeletedMapping, MapFlag::ExecutableFromTemp],
            ),
            (
                "00400000-00452000 r-xp 00000000 08:02 173521      /tmp/.x/kworker (deleted)",
                vec![MapFlag::DeletedMapping, MapFlag::ExecutableFromTemp],
            ),
            (
                "00400000-00452000 r-xp 00000000 00:1a 99      /dev/shm/miner",
                vec![MapFlag::ExecutableFromTemp],
            ),
            ("00400000-00452000 r--p 00000000 00:1a 99      /dev/shm/data", vec![]),
            ("00400000-00452000 r-xp 00000000 00:1a 99      /tmpfoo/bin", vec![]),
            (
                "00400000-00452000 r-xp 00000000 00:1a 99      /run/user/1000/x",
                vec![MapFlag::ExecutableFromTemp],
            ),
            (
                "7f3a1c200000-7f3a1c228000 r--p 00000000 fd:01 1835263    /usr/lib/libssl.so.3 (deleted)",
                vec![MapFlag::DeletedMapping],
            ),
            (
                "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]",
                vec![],
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(suspicious(&region(line)), expected, "{line}");
        }
        let deleted = region("00400000-00452000 r-xp 00000000 08:02 173521      /tmp/.x/kworker (deleted)");
        assert_eq!((deleted.path, deleted.deleted), (Some("/tmp/.x/kworker".into()), true));
    }

    #[test]
    fn path_with_spaces_and_non_utf8_is_kept_exactly() {
        let row = region("00400000-00401000 r-xp 00000000 08:02 7   /opt/my app/run me ");
        assert_eq!(row.path, Some("/opt/my app/run me ".into()));
        let table = parse_maps(b"00400000-00401000 r-xp 00000000 08:02 7   /tmp/\xff\\012x");
        assert_eq!(table.rows[0].path, Some(ByteString::from(b"/tmp/\xff\\012x".to_vec())));
    }

    #[test]
    fn bad_lines_are_numbered() {
        let text = "00400000-00401000 r-xp 00000000 08:02 7 /bin/a\n\
                    00400000 r-xp 00000000 08:02 7 /bin/b\n\
                    00400000-00401000 rwzp 00000000 08:02 7 /bin/c\n\
                    00400000-00401000 r-xp 00000000 08:02\n\
                    00400000-00401000 r-xp 00000000 0802 7 /bin/d\n\
                    00400000-00401000 r-xp 00000000 08:02 -7 /bin/e\n\
                    \n\
                    00400000-00401000 r-xq 00000000 08:02 7 /bin/f";
        let table = parse_maps(text);
        assert_eq!(table.rows.len(), 1);
        assert_eq!(
            table.errors,
            vec![
                LineError {
                    line: 2,
                    error: MapsError::BadField {
                        field: "address",
                        value: "00400000".into()
                    }
                },
                LineError {
                    line: 3,
                    error: MapsError::BadField {
                        field: "perms",
                        value: "rwzp".into()
                    }
                },
                LineError {
                    line: 4,
                    error: MapsError::TooFewFields { found: 4 }
                },
                LineError {
                    line: 5,
                    error: MapsError::BadField {
                        field: "dev",
                        value: "0802".into()
                    }
                },
                LineError {
                    line: 6,
                    error: MapsError::BadField {
                        field: "inode",
                        value: "-7".into()
                    }
                },
                LineError {
                    line: 8,
                    error: MapsError::BadField {
                        field: "perms",
                        value: "r-xq".into()
                    }
                },
            ]
        );
    }
}
