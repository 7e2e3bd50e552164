//! `/proc/<pid>/net/packet`: `AF_PACKET` sockets, which sniffers (tcpdump, DHCP clients, malware
//! capturing traffic) open.
//!
//! The kernel prints (`net/packet/af_packet.c`, `packet_seq_show`):
//! `sk RefCnt Type Proto Iface R Rmem User Inode`, with Type decimal (`3` `SOCK_RAW`, `2`
//! `SOCK_DGRAM`), Proto the EtherType in hex (`0003` is `ETH_P_ALL`: every frame), Iface the
//! interface index in decimal (`0`: all interfaces) and R `1` while the socket is running.

use serde::Serialize;

use super::NetError;
use super::fields::{number, table_rows, text_fields};
use crate::table::Table;

/// `Type`: the packet socket type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PacketKind {
    /// `3` `SOCK_RAW`: frames with their link-layer header.
    Raw,
    /// `2` `SOCK_DGRAM`: frames without the link-layer header.
    Dgram,
    /// Another number.
    Unknown(u16),
}

/// One row of `/proc/<pid>/net/packet`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct PacketSocket {
    /// `Inode`: matches the `socket:[N]` link in `/proc/<pid>/fd/`.
    pub inode: u64,
    /// `Type`.
    pub kind: PacketKind,
    /// `Proto`: the EtherType bound to (`0x0003` every frame, `0x0800` IPv4, `0` none yet).
    pub protocol: u16,
    /// `Iface`: the interface index bound to; 0 means all interfaces.
    pub iface_index: u32,
    /// `R`: whether the socket is running (receiving).
    pub running: bool,
    /// `User`: owner as seen from the reader's user namespace.
    pub uid: u32,
}

impl PacketSocket {
    /// Whether the socket receives every frame (`ETH_P_ALL`), as a sniffer does.
    pub fn captures_all(&self) -> bool {
        self.protocol == 0x0003
    }
}

/// The columns of every packet row.
const PACKET_FIELDS: usize = 9;

/// Parses `/proc/<pid>/net/packet`.
///
/// # Errors
/// [`NetError::MissingHeader`] for empty input, [`NetError::UnexpectedHeader`] when line 1 does
/// not start with `sk`. A bad data line is listed in [`Table::errors`] with its line number.
///
/// ```
/// use forensic_proc::net::parse_packet;
/// let text = "sk       RefCnt Type Proto  Iface R Rmem   User   Inode\n\
///             ffff8880b8e1c000 3      3    0003   0     1 0      0      25437\n";
/// let table = parse_packet(text)?;
/// assert!(table.rows[0].captures_all());
/// # Ok::<(), forensic_proc::net::NetError>(())
/// ```
pub fn parse_packet<T: AsRef<[u8]> + ?Sized>(input: &T) -> Result<Table<PacketSocket, NetError>, NetError> {
    table_rows(input.as_ref(), "sk", parse_packet_line)
}

fn parse_packet_line(line: &[u8]) -> Result<PacketSocket, NetError> {
    let fields = text_fields(line, PACKET_FIELDS)?;
    let get = |index: usize| fields.get(index).copied().unwrap_or_default();
    let kind = match number("Type", get(2), 10)? {
        3 => PacketKind::Raw,
        2 => PacketKind::Dgram,
        other => PacketKind::Unknown(other),
    };
    let running: u8 = number("R", get(5), 10)?;
    Ok(PacketSocket {
        inode: number("Inode", get(8), 10)?,
        kind,
        protocol: number("Proto", get(3), 16)?,
        iface_index: number("Iface", get(4), 10)?,
        running: running != 0,
        uid: number("User", get(7), 10)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LineError;

    #[test]
    fn sniffer_and_dhcp_client() {
        let text = "sk       RefCnt Type Proto  Iface R Rmem   User   Inode\n\
                    ffff8880b8e1c000 3      3    0003   0     1 0      0      25437 \n\
                    ffff8880b8e1d000 3      2    0800   2     1 0      101    25440\n\
                    ffff8880b8e1e000 3      3    0003   x     1 0      0      25441";
        let table = parse_packet(text).unwrap();
        assert_eq!(
            table.rows,
            vec![
                PacketSocket {
                    inode: 25437,
                    kind: PacketKind::Raw,
                    protocol: 3,
                    iface_index: 0,
                    running: true,
                    uid: 0
                },
                PacketSocket {
                    inode: 25440,
                    kind: PacketKind::Dgram,
                    protocol: 0x0800,
                    iface_index: 2,
                    running: true,
                    uid: 101
                },
            ]
        );
        assert_eq!(
            table.rows.iter().map(PacketSocket::captures_all).collect::<Vec<_>>(),
            [true, false]
        );
        assert_eq!(
            table.errors,
            vec![LineError {
                line: 4,
                error: NetError::BadField {
                    field: "Iface",
                    value: "x".into()
                }
            }]
        );
    }

    #[test]
    fn header_only_is_an_empty_table() {
        let table = parse_packet("sk       RefCnt Type Proto  Iface R Rmem   User   Inode\n").unwrap();
        assert_eq!(table, Table::new());
    }
}
