//! `2-network/sockets.json`: the sockets of the target's network namespace, decoded from the raw
//! `/proc/PID/net` tables, with the processes holding them. CONTENTS.md §2.

use serde::{Deserialize, Serialize};

/// The whole member.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sockets {
    /// TCP, UDP and raw sockets, IPv4 and IPv6, in table order.
    #[serde(default)]
    pub inet: Vec<InetSocket>,
    /// Unix domain sockets.
    #[serde(default)]
    pub unix: Vec<UnixSocket>,
}

/// The table an inet socket comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SocketProto {
    /// `net/tcp`.
    Tcp,
    /// `net/tcp6`.
    Tcp6,
    /// `net/udp`.
    Udp,
    /// `net/udp6`.
    Udp6,
    /// `net/raw`.
    Raw,
    /// `net/raw6`.
    Raw6,
}

impl SocketProto {
    /// The name written on the wire (the table's file name).
    pub fn as_str(self) -> &'static str {
        match self {
            SocketProto::Tcp => "tcp",
            SocketProto::Tcp6 => "tcp6",
            SocketProto::Udp => "udp",
            SocketProto::Udp6 => "udp6",
            SocketProto::Raw => "raw",
            SocketProto::Raw6 => "raw6",
        }
    }

    /// An IPv6 table.
    pub fn is_ipv6(self) -> bool {
        matches!(self, SocketProto::Tcp6 | SocketProto::Udp6 | SocketProto::Raw6)
    }
}

/// A process holding a socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocketOwner {
    /// Host PID.
    pub pid: u32,
    /// Descriptor number.
    pub fd: u32,
    /// Its command line, arguments joined by spaces (lossy UTF-8).
    pub cmdline: String,
}

/// One TCP, UDP or raw socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InetSocket {
    /// Which table.
    pub proto: SocketProto,
    /// Local address and port: `10.0.0.5:8080`, `[::1]:22`.
    pub local: String,
    /// Remote address and port.
    pub remote: String,
    /// State name (`LISTEN`, `ESTABLISHED`, …; `UNCONN` for datagram sockets).
    pub state: String,
    /// Owner uid (as the namespace sees it).
    pub uid: u32,
    /// Socket inode.
    pub inode: u64,
    /// Processes holding it.
    #[serde(default)]
    pub owners: Vec<SocketOwner>,
}

/// One Unix domain socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnixSocket {
    /// Socket inode.
    pub inode: u64,
    /// The bound name as the kernel printed it (`@…` abstract), lossy UTF-8; `null` unbound.
    #[serde(default)]
    pub path: Option<String>,
    /// Listening.
    #[serde(default)]
    pub listening: bool,
    /// Processes holding it.
    #[serde(default)]
    pub owners: Vec<SocketOwner>,
}
