//! `/proc/<pid>/net/unix`: Unix domain sockets of a network namespace.
//!
//! The kernel prints (`net/unix/af_unix.c`, `unix_seq_show`):
//! `Num: RefCount Protocol Flags Type St Inode[ Path]`, with Flags `00010000` for a listening
//! socket, Type `0001` stream, `0002` datagram, `0005` seqpacket, St 01–04 (`SS_UNCONNECTED` …
//! `SS_DISCONNECTING`), and the bound name written byte for byte after one space. Abstract names
//! (which start with a NUL byte) are shown with `@` for that NUL and for any NUL inside them.

use serde::Serialize;

use super::NetError;
use super::fields::{number, table_rows, text_fields};
use crate::table::Table;
use crate::text::ByteString;

/// `Type`: the socket type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UnixKind {
    /// `0001` `SOCK_STREAM`.
    Stream,
    /// `0002` `SOCK_DGRAM`.
    Dgram,
    /// `0005` `SOCK_SEQPACKET`.
    SeqPacket,
    /// Another number.
    Unknown(u16),
}

impl UnixKind {
    fn from_code(code: u16) -> Self {
        match code {
            1 => Self::Stream,
            2 => Self::Dgram,
            5 => Self::SeqPacket,
            other => Self::Unknown(other),
        }
    }
}

/// `St`: the socket's connection state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UnixState {
    /// `01` `SS_UNCONNECTED` (also listening sockets; see [`UnixSocket::listening`]).
    Unconnected,
    /// `02` `SS_CONNECTING`.
    Connecting,
    /// `03` `SS_CONNECTED`.
    Connected,
    /// `04` `SS_DISCONNECTING`.
    Disconnecting,
    /// Another number.
    Unknown(u8),
}

impl UnixState {
    fn from_code(code: u8) -> Self {
        match code {
            1 => Self::Unconnected,
            2 => Self::Connecting,
            3 => Self::Connected,
            4 => Self::Disconnecting,
            other => Self::Unknown(other),
        }
    }
}

/// One row of `/proc/<pid>/net/unix`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct UnixSocket {
    /// `Inode`: matches the `socket:[N]` link in `/proc/<pid>/fd/`.
    pub inode: u64,
    /// `Type`.
    pub kind: UnixKind,
    /// `St`.
    pub state: UnixState,
    /// Whether `Flags` has `__SO_ACCEPTCON` (`00010000`): the socket is listening.
    pub listening: bool,
    /// The bound name exactly as printed, or `None` for an unbound socket. Abstract names start
    /// with `@` (see [`UnixSocket::is_abstract`]). Not un-escaped: the kernel prints names raw.
    pub path: Option<ByteString>,
}

impl UnixSocket {
    /// Whether the name is in the abstract namespace (printed with a leading `@`).
    ///
    /// A socket bound to a *relative* filesystem path that itself starts with `@` looks the same
    /// in this table; the kernel gives no way to tell them apart here.
    pub fn is_abstract(&self) -> bool {
        self.path.as_ref().is_some_and(|path| path.starts_with("@"))
    }
}

/// The columns before the optional path.
const UNIX_FIELDS: usize = 7;

/// Parses `/proc/<pid>/net/unix`.
///
/// The path is everything after the single space that follows the inode, kept byte for byte
/// (names can contain spaces, including trailing ones). Spaces alone after the inode are read as
/// no name. A name containing a newline splits its row in two; the second half is then reported
/// as a bad line.
///
/// # Errors
/// [`NetError::MissingHeader`] for empty input, [`NetError::UnexpectedHeader`] when line 1 does
/// not start with `Num`. A bad data line is listed in [`Table::errors`] with its line number.
///
/// ```
/// use forensic_proc::net::{UnixKind, parse_unix};
/// let text = "Num       RefCount Protocol Flags    Type St Inode Path\n\
///             0000000000000000: 00000002 00000000 00010000 0001 01 20935 /run/systemd/private\n";
/// let table = parse_unix(text)?;
/// assert_eq!(table.rows[0].kind, UnixKind::Stream);
/// assert!(table.rows[0].listening);
/// # Ok::<(), forensic_proc::net::NetError>(())
/// ```
pub fn parse_unix<T: AsRef<[u8]> + ?Sized>(input: &T) -> Result<Table<UnixSocket, NetError>, NetError> {
    table_rows(input.as_ref(), "Num", parse_unix_line)
}

fn parse_unix_line(line: &[u8]) -> Result<UnixSocket, NetError> {
    let (head, rest) = leading_fields(line, UNIX_FIELDS);
    let fields = text_fields(head, UNIX_FIELDS)?;
    let get = |index: usize| fields.get(index).copied().unwrap_or_default();
    let flags: u32 = number("Flags", get(3), 16)?;
    // `rest` is empty or starts with the one space the kernel writes before a name.
    let path = match rest.get(1..) {
        Some(name) if !name.iter().all(|&b| b == b' ') => Some(ByteString::from(name)),
        _ => None,
    };
    Ok(UnixSocket {
        inode: number("Inode", get(6), 10)?,
        kind: UnixKind::from_code(number("Type", get(4), 16)?),
        state: UnixState::from_code(number("St", get(5), 16)?),
        listening: flags & 0x0001_0000 != 0,
        path,
    })
}

/// Splits off the first `count` space-separated fields; returns them (as one slice) and the rest
/// of the line starting at the byte right after the last of them.
fn leading_fields(line: &[u8], count: usize) -> (&[u8], &[u8]) {
    let mut end = 0;
    for _ in 0..count {
        let start = line
            .iter()
            .skip(end)
            .position(|&b| b != b' ')
            .map_or(line.len(), |offset| end + offset);
        end = line
            .iter()
            .skip(start)
            .position(|&b| b == b' ')
            .map_or(line.len(), |offset| start + offset);
    }
    line.split_at_checked(end).unwrap_or((line, &[]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LineError;

    const HEADER: &str = "Num       RefCount Protocol Flags    Type St Inode Path\n";

    #[test]
    fn listeners_abstract_unbound_and_spaces_in_names() {
        let text = format!(
            "{HEADER}\
             0000000000000000: 00000002 00000000 00010000 0001 01 20935 /run/systemd/private\n\
             0000000000000000: 00000002 00000000 00010000 0005 01 15338 /run/udev/control\n\
             0000000000000000: 00000003 00000000 00000000 0001 03 27447 @/tmp/.X11-unix/X0\n\
             00000000671a1bf3: 00000003 00000000 00000000 0001 03  1057\n\
             0000000000000000: 00000002 00000000 00000000 0002 01 16420 /tmp/my sock \n\
             0000000000000000: 00000002 00000000 00000000 0002 01 16421 @fake@inner"
        );
        let table = parse_unix(&text).unwrap();
        assert!(table.is_clean(), "{:?}", table.errors);
        let row = |inode, kind, state, listening, path: Option<&str>| UnixSocket {
            inode,
            kind,
            state,
            listening,
            path: path.map(ByteString::from),
        };
        assert_eq!(
            table.rows,
            vec![
                row(
                    20935,
                    UnixKind::Stream,
                    UnixState::Unconnected,
                    true,
                    Some("/run/systemd/private")
                ),
                row(
                    15338,
                    UnixKind::SeqPacket,
                    UnixState::Unconnected,
                    true,
                    Some("/run/udev/control")
                ),
                row(
                    27447,
                    UnixKind::Stream,
                    UnixState::Connected,
                    false,
                    Some("@/tmp/.X11-unix/X0")
                ),
                row(1057, UnixKind::Stream, UnixState::Connected, false, None),
                row(
                    16420,
                    UnixKind::Dgram,
                    UnixState::Unconnected,
                    false,
                    Some("/tmp/my sock ")
                ),
                row(
                    16421,
                    UnixKind::Dgram,
                    UnixState::Unconnected,
                    false,
                    Some("@fake@inner")
                ),
            ]
        );
        let abstract_names: Vec<bool> = table.rows.iter().map(UnixSocket::is_abstract).collect();
        assert_eq!(abstract_names, [false, false, true, false, false, true]);
    }

    #[test]
    fn non_utf8_name_is_kept() {
        let mut input = HEADER.as_bytes().to_vec();
        input.extend_from_slice(b"0000000000000000: 00000002 00000000 00000000 0001 01 77 /tmp/\xff\n");
        let table = parse_unix(&input).unwrap();
        assert_eq!(table.rows[0].path, Some(ByteString::from(b"/tmp/\xff".to_vec())));
    }

    #[test]
    fn short_and_bad_lines_are_listed() {
        let text = format!(
            "{HEADER}\
             0000000000000000: 00000002 00000000\n\
             0000000000000000: 00000002 00000000 00000000 000G 01 77\n\
             0000000000000000: 00000002 00000000 00000000 0007 09 78\n"
        );
        let table = parse_unix(&text).unwrap();
        assert_eq!(
            table.errors,
            vec![
                LineError {
                    line: 2,
                    error: NetError::TooFewFields { expected: 7, found: 3 }
                },
                LineError {
                    line: 3,
                    error: NetError::BadField {
                        field: "Type",
                        value: "000G".into()
                    }
                },
            ]
        );
        assert_eq!(table.rows[0].kind, UnixKind::Unknown(7));
        assert_eq!(table.rows[0].state, UnixState::Unknown(9));
    }

    #[test]
    fn wrong_header_is_rejected() {
        assert_eq!(
            parse_unix("  sl  local_address\n"),
            Err(NetError::UnexpectedHeader {
                expected: "Num",
                found: "  sl  local_address".into()
            })
        );
    }
}
