//! Socket tables under `/proc/<pid>/net/`: `tcp`, `tcp6`, `udp`, `udp6`, `raw`, `raw6` (this
//! module), `unix` ([`unix`]) and `packet` ([`packet`]).
//!
//! Reading `/proc/<pid>/net/*` from the host shows the sockets of that process's network
//! namespace, which is how a responder lists a container's connections without entering it.
//!
//! # Decoding
//! Each row of the inet tables is printed by the kernel with `%08X` over a 32-bit word that holds
//! the address in network byte order, so on the little-endian machines Kubernetes nodes run on
//! (x86-64, arm64) `0100007F` is `127.0.0.1`. IPv6 addresses are four such words. Ports are plain
//! big-endian hex (`0016` is 22). This parser always decodes as a little-endian producer wrote
//! it, whatever machine the parser itself runs on, so evidence can be read on any workstation.
//! Tables captured on a big-endian host (s390x, ppc64) would decode with their bytes reversed.
//!
//! # Errors and partial tables
//! The header line must be present and recognisable (a wrong file is a whole-table error). After
//! it, every line is parsed on its own: good rows are kept and each bad line becomes a
//! [`LineError`](crate::LineError) naming its line number, so one damaged line does not lose
//! the table.
//!
//! # Input size
//! Parsers take bytes the caller has already read; the caller bounds how much it reads.

mod fields;
pub mod packet;
pub mod unix;

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use serde::Serialize;

use crate::table::Table;
use fields::{FromStrRadix, bad, number, table_rows, text_fields};

pub use packet::{PacketSocket, parse_packet};
pub use unix::{UnixKind, UnixSocket, UnixState, parse_unix};

/// What went wrong reading a socket table.
///
/// [`NetError::MissingHeader`] and [`NetError::UnexpectedHeader`] are whole-table errors (returned
/// as `Err`); the others describe one line and arrive inside a [`LineError`](crate::LineError).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// The input is empty: even a table with no sockets has a header line.
    #[error("the table is empty; expected a header line starting with `{expected}`")]
    MissingHeader {
        /// The first word the header should have.
        expected: &'static str,
    },
    /// Line 1 is not the header of this kind of table, so this is probably another file.
    #[error("line 1 is not a header starting with `{expected}` (is this the right file?): `{found}`")]
    UnexpectedHeader {
        /// The first word the header should have.
        expected: &'static str,
        /// The start of the line that was found.
        found: String,
    },
    /// The line is not UTF-8 text (these tables are ASCII).
    #[error("the line is not text: `{line}`")]
    NotText {
        /// The start of the line, invalid bytes as `\xNN`.
        line: String,
    },
    /// The line has fewer fields than every row of this table has.
    #[error("expected at least {expected} fields, found {found}")]
    TooFewFields {
        /// The minimum number of fields.
        expected: usize,
        /// The number found.
        found: usize,
    },
    /// A field could not be decoded.
    #[error("field `{field}` is not valid: `{value}`")]
    BadField {
        /// The field's name as in the table header (`local_address`, `st`, `inode`, …).
        field: &'static str,
        /// The start of the value found.
        value: String,
    },
}

/// Which inet table a row came from (the file name under `/proc/<pid>/net/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InetProto {
    /// `tcp`: TCP over IPv4.
    Tcp,
    /// `tcp6`: TCP over IPv6 (including IPv4-mapped addresses of dual-stack sockets).
    Tcp6,
    /// `udp`: UDP over IPv4.
    Udp,
    /// `udp6`: UDP over IPv6.
    Udp6,
    /// `raw`: raw IPv4 sockets; the local "port" is the IP protocol number (1 is ICMP).
    Raw,
    /// `raw6`: raw IPv6 sockets; the local "port" is the protocol number (58 is ICMPv6).
    Raw6,
}

impl InetProto {
    /// All six tables, in the order a collector usually reads them.
    pub const ALL: [InetProto; 6] = [Self::Tcp, Self::Tcp6, Self::Udp, Self::Udp6, Self::Raw, Self::Raw6];

    /// The file name under `/proc/<pid>/net/`, e.g. `"tcp6"`.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Tcp6 => "tcp6",
            Self::Udp => "udp",
            Self::Udp6 => "udp6",
            Self::Raw => "raw",
            Self::Raw6 => "raw6",
        }
    }

    /// The table for a file name under `/proc/<pid>/net/`, e.g. `"udp6"`.
    pub fn from_file_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|proto| proto.file_name() == name)
    }

    /// Whether addresses in this table are IPv6.
    pub fn is_ipv6(self) -> bool {
        matches!(self, Self::Tcp6 | Self::Udp6 | Self::Raw6)
    }

    /// Whether this is a TCP table (state names are TCP's) rather than UDP or raw.
    pub fn is_tcp(self) -> bool {
        matches!(self, Self::Tcp | Self::Tcp6)
    }
}

/// The `st` column: a TCP state number from the kernel's `include/net/tcp_states.h`.
///
/// UDP and raw sockets reuse these numbers: `01` is a connected socket and `07` (CLOSE) an
/// unconnected one, which `ss` shows as `UNCONN`; see [`InetSocket::state_name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SocketState {
    /// `01` ESTABLISHED.
    Established,
    /// `02` SYN_SENT.
    SynSent,
    /// `03` SYN_RECV.
    SynRecv,
    /// `04` FIN_WAIT1.
    FinWait1,
    /// `05` FIN_WAIT2.
    FinWait2,
    /// `06` TIME_WAIT.
    TimeWait,
    /// `07` CLOSE (for UDP and raw sockets: unconnected).
    Close,
    /// `08` CLOSE_WAIT.
    CloseWait,
    /// `09` LAST_ACK.
    LastAck,
    /// `0A` LISTEN.
    Listen,
    /// `0B` CLOSING.
    Closing,
    /// `0C` NEW_SYN_RECV.
    NewSynRecv,
    /// `0D` BOUND_INACTIVE (Linux 6.8 and later).
    BoundInactive,
    /// A number this parser does not know.
    Unknown(u8),
}

impl SocketState {
    /// The state for the number in the `st` column.
    pub fn from_code(code: u8) -> Self {
        match code {
            0x01 => Self::Established,
            0x02 => Self::SynSent,
            0x03 => Self::SynRecv,
            0x04 => Self::FinWait1,
            0x05 => Self::FinWait2,
            0x06 => Self::TimeWait,
            0x07 => Self::Close,
            0x08 => Self::CloseWait,
            0x09 => Self::LastAck,
            0x0A => Self::Listen,
            0x0B => Self::Closing,
            0x0C => Self::NewSynRecv,
            0x0D => Self::BoundInactive,
            other => Self::Unknown(other),
        }
    }

    /// The number the kernel prints in the `st` column.
    pub fn code(self) -> u8 {
        match self {
            Self::Established => 0x01,
            Self::SynSent => 0x02,
            Self::SynRecv => 0x03,
            Self::FinWait1 => 0x04,
            Self::FinWait2 => 0x05,
            Self::TimeWait => 0x06,
            Self::Close => 0x07,
            Self::CloseWait => 0x08,
            Self::LastAck => 0x09,
            Self::Listen => 0x0A,
            Self::Closing => 0x0B,
            Self::NewSynRecv => 0x0C,
            Self::BoundInactive => 0x0D,
            Self::Unknown(code) => code,
        }
    }

    /// The kernel's TCP name: `"ESTABLISHED"`, `"SYN_SENT"`, …, `"UNKNOWN"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Established => "ESTABLISHED",
            Self::SynSent => "SYN_SENT",
            Self::SynRecv => "SYN_RECV",
            Self::FinWait1 => "FIN_WAIT1",
            Self::FinWait2 => "FIN_WAIT2",
            Self::TimeWait => "TIME_WAIT",
            Self::Close => "CLOSE",
            Self::CloseWait => "CLOSE_WAIT",
            Self::LastAck => "LAST_ACK",
            Self::Listen => "LISTEN",
            Self::Closing => "CLOSING",
            Self::NewSynRecv => "NEW_SYN_RECV",
            Self::BoundInactive => "BOUND_INACTIVE",
            Self::Unknown(_) => "UNKNOWN",
        }
    }
}

/// One row of `/proc/<pid>/net/{tcp,tcp6,udp,udp6,raw,raw6}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct InetSocket {
    /// The table the row came from.
    pub proto: InetProto,
    /// `local_address`. For raw sockets the port is the IP protocol number.
    pub local: SocketAddr,
    /// `rem_address`; `0.0.0.0:0` or `[::]:0` when not connected.
    pub remote: SocketAddr,
    /// `st`.
    pub state: SocketState,
    /// `tx_queue`: bytes queued to send (for LISTEN, the kernel's own meaning differs by version).
    pub tx_queue: u32,
    /// `rx_queue`: bytes queued to read; for a LISTEN socket, connections waiting in accept.
    pub rx_queue: u32,
    /// `uid`: owner as seen from the reader's user namespace.
    pub uid: u32,
    /// `inode`: matches the `socket:[N]` link in `/proc/<pid>/fd/`; 0 for TIME_WAIT rows.
    pub inode: u64,
}

impl InetSocket {
    /// The state as `ss` names it: TCP names for TCP tables, and for UDP and raw tables
    /// `"UNCONN"` for `07` and `"ESTABLISHED"` for `01`.
    pub fn state_name(&self) -> &'static str {
        match (self.proto.is_tcp(), self.state) {
            (false, SocketState::Close) => "UNCONN",
            (_, state) => state.name(),
        }
    }
}

/// The columns every inet row has before the optional ones (`sl` … `inode`).
const INET_FIELDS: usize = 10;

/// Parses one of `/proc/<pid>/net/{tcp,tcp6,udp,udp6,raw,raw6}`.
///
/// The header line is required. Trailing spaces, extra trailing columns (`ref pointer drops`),
/// blank lines and a missing final newline are accepted.
///
/// # Errors
/// [`NetError::MissingHeader`] for empty input and [`NetError::UnexpectedHeader`] when line 1 is
/// not an inet table header. A bad data line does not fail the call: it is listed in
/// [`Table::errors`] with its line number (the header is line 1).
///
/// ```
/// use forensic_proc::net::{InetProto, SocketState, parse_inet};
/// let text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
///             0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0 100 0 0 10 0\n";
/// let table = parse_inet(InetProto::Tcp, text)?;
/// assert_eq!(table.rows[0].local.to_string(), "127.0.0.1:8080");
/// assert_eq!(table.rows[0].state, SocketState::Listen);
/// # Ok::<(), forensic_proc::net::NetError>(())
/// ```
pub fn parse_inet<T: AsRef<[u8]> + ?Sized>(
    proto: InetProto,
    input: &T,
) -> Result<Table<InetSocket, NetError>, NetError> {
    table_rows(input.as_ref(), "sl", |line| parse_inet_line(proto, line))
}

fn field<'a>(fields: &[&'a str], index: usize) -> &'a str {
    fields.get(index).copied().unwrap_or_default()
}

fn parse_inet_line(proto: InetProto, line: &[u8]) -> Result<InetSocket, NetError> {
    let fields = text_fields(line, INET_FIELDS)?;
    let (tx_queue, rx_queue) = field(&fields, 4)
        .split_once(':')
        .ok_or_else(|| bad("tx_queue:rx_queue", field(&fields, 4)))?;
    Ok(InetSocket {
        proto,
        local: parse_endpoint(proto, "local_address", field(&fields, 1))?,
        remote: parse_endpoint(proto, "rem_address", field(&fields, 2))?,
        state: SocketState::from_code(number("st", field(&fields, 3), 16)?),
        tx_queue: number("tx_queue", tx_queue, 16)?,
        rx_queue: number("rx_queue", rx_queue, 16)?,
        uid: number("uid", field(&fields, 7), 10)?,
        inode: number("inode", field(&fields, 9), 10)?,
    })
}

/// Decodes `ADDRESS:PORT` as the kernel prints it (see the module docs for the byte order).
fn parse_endpoint(proto: InetProto, name: &'static str, value: &str) -> Result<SocketAddr, NetError> {
    let (address, port) = value.split_once(':').ok_or_else(|| bad(name, value))?;
    if port.len() != 4 {
        return Err(bad(name, value));
    }
    let port: u16 = number(name, port, 16).map_err(|_| bad(name, value))?;
    let words = hex_words(address).ok_or_else(|| bad(name, value))?;
    match (proto.is_ipv6(), words.as_slice()) {
        (false, [word]) => Ok(SocketAddr::V4(SocketAddrV4::new(
            Ipv4Addr::from(word.to_le_bytes()),
            port,
        ))),
        (true, [a, b, c, d]) => {
            let mut octets = [0u8; 16];
            for (chunk, word) in octets.chunks_exact_mut(4).zip([a, b, c, d]) {
                chunk.copy_from_slice(&word.to_le_bytes());
            }
            Ok(SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(octets), port, 0, 0)))
        }
        _ => Err(bad(name, value)),
    }
}

/// Splits a hex address into 32-bit words of exactly 8 hex digits each.
fn hex_words(address: &str) -> Option<Vec<u32>> {
    if address.is_empty() || address.len() % 8 != 0 || !address.is_ascii() {
        return None;
    }
    address
        .as_bytes()
        .chunks(8)
        .map(|chunk| {
            std::str::from_utf8(chunk)
                .ok()
                .and_then(|word| FromStrRadix::from_str_radix(word, 16))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LineError;

    const TCP_HEADER: &str =
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
    const TCP6_HEADER: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
    const UDP_HEADER: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            \n";

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn tcp6_loopback_listener_mapped_and_global_addresses() {
        let text = format!(
            "{TCP6_HEADER}\
             \x20  0: 00000000000000000000000001000000:0277 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 19625 1 0000000000000000 100 0 0 10 0\n\
             \x20  1: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000100007F:A2C4 01 00000000:00000000 00:00000000 00000000  1000        0 45678 1 0000000000000000 20 4 30 10 -1\n\
             \x20  2: B80D0120000000000000000001000000:01BB B80D0120000000000000000002000000:C350 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000"
        );
        let table = parse_inet(InetProto::Tcp6, &text).unwrap();
        assert!(table.is_clean());
        assert_eq!(
            table.rows,
            vec![
                InetSocket {
                    proto: InetProto::Tcp6,
                    local: addr("[::1]:631"),
                    remote: addr("[::]:0"),
                    state: SocketState::Listen,
                    tx_queue: 0,
                    rx_queue: 0,
                    uid: 0,
                    inode: 19625,
                },
                InetSocket {
                    proto: InetProto::Tcp6,
                    local: addr("[::ffff:127.0.0.1]:8080"),
                    remote: addr("[::ffff:127.0.0.1]:41668"),
                    state: SocketState::Established,
                    tx_queue: 0,
                    rx_queue: 0,
                    uid: 1000,
                    inode: 45678,
                },
                InetSocket {
                    proto: InetProto::Tcp6,
                    local: addr("[2001:db8::1]:443"),
                    remote: addr("[2001:db8::2]:50000"),
                    state: SocketState::TimeWait,
                    tx_queue: 0,
                    rx_queue: 0,
                    uid: 0,
                    inode: 0,
                },
            ]
        );
        assert_eq!(table.rows[0].state_name(), "LISTEN");
    }

    #[test]
    fn udp_unconnected_and_connected_with_trailing_spaces() {
        let text = format!(
            "{UDP_HEADER}\
             \x201234: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 17321 2 0000000000000000 0         \n\
             \x20 567: 0F02000A:9C40 08080808:0035 01 00000000:00000340 00:00000000 00000000  1000        0 99881 2 0000000000000000 0\n"
        );
        let table = parse_inet(InetProto::Udp, &text).unwrap();
        assert!(table.is_clean());
        let [resolver, client] = table.rows.as_slice() else {
            panic!("expected two rows: {table:?}")
        };
        assert_eq!(resolver.local, addr("127.0.0.53:53"));
        assert_eq!(resolver.state, SocketState::Close);
        assert_eq!(resolver.state_name(), "UNCONN");
        assert_eq!((resolver.uid, resolver.inode), (101, 17321));
        assert_eq!(client.local, addr("10.0.2.15:40000"));
        assert_eq!(client.remote, addr("8.8.8.8:53"));
        assert_eq!(client.state_name(), "ESTABLISHED");
        assert_eq!(client.rx_queue, 0x340);
    }

    #[test]
    fn raw_icmp_socket_port_is_protocol() {
        let text = format!(
            "{UDP_HEADER} 1245: 00000000:0001 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 54321 2 0000000000000000 0\n"
        );
        let table = parse_inet(InetProto::Raw, &text).unwrap();
        assert_eq!(table.rows[0].local, addr("0.0.0.0:1"));
        assert_eq!(table.rows[0].state_name(), "UNCONN");
    }

    #[test]
    fn bad_lines_are_listed_and_good_rows_kept() {
        let text = format!(
            "{TCP_HEADER}\
             \x20  0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11\n\
             \x20  1: 0100007F:ZZZZ 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12\n\
             \x20  2: 0100007F:0016 00000000:0000\n\
             \x20  3: 00000000000000000000000001000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 13\n\
             \x20  4: 0100007F:0017 00000000:0000 0E 00000000:00000000 00:00000000 00000000     0        0 14\n"
        );
        let table = parse_inet(InetProto::Tcp, &text).unwrap();
        assert_eq!(table.rows.iter().map(|row| row.inode).collect::<Vec<_>>(), vec![11, 14]);
        assert_eq!(table.rows[1].state, SocketState::Unknown(0x0E));
        assert_eq!(table.rows[1].state_name(), "UNKNOWN");
        assert_eq!(
            table.errors,
            vec![
                LineError {
                    line: 3,
                    error: NetError::BadField {
                        field: "local_address",
                        value: "0100007F:ZZZZ".into()
                    }
                },
                LineError {
                    line: 4,
                    error: NetError::TooFewFields { expected: 10, found: 3 }
                },
                LineError {
                    line: 5,
                    error: NetError::BadField {
                        field: "local_address",
                        value: "00000000000000000000000001000000:0016".into()
                    }
                },
            ]
        );
        assert_eq!(
            table.errors[1].to_string(),
            "line 4: expected at least 10 fields, found 3"
        );
    }

    #[test]
    fn header_is_required() {
        assert_eq!(
            parse_inet(InetProto::Tcp, ""),
            Err(NetError::MissingHeader { expected: "sl" })
        );
        assert_eq!(
            parse_inet(
                InetProto::Tcp,
                "Num       RefCount Protocol Flags    Type St Inode Path\n"
            ),
            Err(NetError::UnexpectedHeader {
                expected: "sl",
                found: "Num       RefCount Protocol Flags    Type St Inode Path".into()
            })
        );
        let empty = parse_inet(InetProto::Tcp, TCP_HEADER).unwrap();
        assert_eq!(empty, Table::new());
    }

    #[test]
    fn non_text_line_is_reported() {
        let mut input = TCP_HEADER.as_bytes().to_vec();
        input.extend_from_slice(b"   0: \xff\n");
        let table = parse_inet(InetProto::Tcp, &input).unwrap();
        assert_eq!(
            table.errors,
            vec![LineError {
                line: 2,
                error: NetError::NotText {
                    line: "   0: \\xff".into()
                }
            }]
        );
    }

    #[test]
    fn state_codes_round_trip_and_names() {
        for code in 0..=0xFF {
            assert_eq!(SocketState::from_code(code).code(), code);
        }
        let names: Vec<_> = (1..=0x0C).map(|code| SocketState::from_code(code).name()).collect();
        assert_eq!(
            names,
            [
                "ESTABLISHED",
                "SYN_SENT",
                "SYN_RECV",
                "FIN_WAIT1",
                "FIN_WAIT2",
                "TIME_WAIT",
                "CLOSE",
                "CLOSE_WAIT",
                "LAST_ACK",
                "LISTEN",
                "CLOSING",
                "NEW_SYN_RECV"
            ]
        );
        assert_eq!(serde_json::to_string(&SocketState::FinWait1).unwrap(), "\"FIN_WAIT1\"");
    }

    #[test]
    fn proto_file_names() {
        for proto in InetProto::ALL {
            assert_eq!(InetProto::from_file_name(proto.file_name()), Some(proto));
        }
        assert_eq!(InetProto::from_file_name("unix"), None);
    }

    #[test]
    fn endpoint_rejects_wrong_lengths_and_signs() {
        assert!(parse_endpoint(InetProto::Tcp, "x", "0100007F:016").is_err());
        assert!(parse_endpoint(InetProto::Tcp, "x", "100007F:0016").is_err());
        assert!(parse_endpoint(InetProto::Tcp, "x", "+100007F:0016").is_err());
        assert!(parse_endpoint(InetProto::Tcp, "x", "0100007F0016").is_err());
        assert_eq!(
            parse_endpoint(InetProto::Tcp, "x", "0100007F:0016"),
            Ok(addr("127.0.0.1:22"))
        );
    }
}
