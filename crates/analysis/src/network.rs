//! `show network`: the sockets of the container's network namespace, decoded from the raw
//! `/proc/<pid>/net` tables the bundle holds (IPv4 and IPv6), each with its owning processes.
//!
//! Sources, in order of preference:
//!
//! - the raw tables `2-network/proc-net/{tcp,tcp6,udp,udp6,raw,raw6,unix}` (`collect`), or
//!   `2-network/{tcp,tcp6,udp,udp6}` and `2-network/net-tcp*`, `net-udp*` (a sealed checklist
//!   directory), decoded here with `forensic-proc`;
//! - else the collector's decoded `2-network/sockets.json`.
//!
//! Owners: the `socket:[INODE]` links of `1-processes/<pid>/fds.txt` for every process of
//! `1-processes/processes.json`, with its command line; else the owners `sockets.json` names.

use crate::error::AnalysisError;
use crate::evidence::Evidence;
use crate::processes::RecordedProcess;
use forensic_bundle::verify::OpenReader;
use forensic_evidence::members::{PROC_NET, PROCESSES, SOCKETS};
use forensic_evidence::records::network::{InetSocket as RecordedInet, SocketOwner, Sockets};
use forensic_proc::net::{self, InetProto, InetSocket};
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;

/// A process holding a socket ([`forensic_evidence::records::network::SocketOwner`]).
pub type Owner = SocketOwner;

/// One inet socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InetRow {
    /// `tcp`, `tcp6`, `udp`, `udp6`, `raw` or `raw6`.
    pub proto: String,
    /// `ipv4` or `ipv6`.
    pub family: &'static str,
    /// Local address and port as `ss -n` prints them (`0.0.0.0:4444`, `[::]:22`).
    pub local: String,
    /// Local IP address.
    pub local_address: String,
    /// Local port (for raw sockets, the IP protocol number).
    pub local_port: u16,
    /// Remote address and port.
    pub remote: String,
    /// Remote IP address.
    pub remote_address: String,
    /// Remote port.
    pub remote_port: u16,
    /// State as `/proc` and `ss` name it: `LISTEN`, `ESTABLISHED`, `TIME_WAIT`, …; `UNCONN` for an
    /// unconnected UDP or raw socket.
    pub state: String,
    /// Owner uid (as seen from the collector's user namespace).
    pub uid: u32,
    /// Socket inode (0 for TIME_WAIT rows).
    pub inode: u64,
    /// Processes holding it.
    pub owners: Vec<Owner>,
    /// The member it was decoded from.
    pub evidence: String,
}

/// One Unix domain socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnixRow {
    /// Socket inode.
    pub inode: u64,
    /// `stream`, `dgram`, `seqpacket` or `unknown`.
    pub kind: String,
    /// Listening.
    pub listening: bool,
    /// The bound name as the kernel printed it (`@…` abstract), lossy UTF-8; `None` unbound.
    pub path: Option<String>,
    /// Processes holding it.
    pub owners: Vec<Owner>,
    /// The member it was decoded from.
    pub evidence: String,
}

/// The `show network` view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetworkView {
    /// Inet sockets: TCP, then UDP, then raw; IPv4 before IPv6 within each; then by local port.
    pub inet: Vec<InetRow>,
    /// Unix domain sockets, by inode.
    pub unix: Vec<UnixRow>,
    /// Where the owners came from: `fds.txt` links, `sockets.json`, or `none`.
    pub owners_from: String,
    /// Lines of the raw tables that could not be decoded (`member line N: why`).
    pub undecoded: Vec<String>,
}

/// The table a member of section 2 holds, by its name: `proc-net/tcp6`, `tcp6`, `net-tcp6.txt`.
pub fn table_of(member: &str) -> Option<InetProto> {
    let base = member
        .strip_prefix(PROC_NET)
        .or_else(|| member.strip_prefix("2-network/"))?;
    if base.contains('/') {
        return None;
    }
    let base = base.strip_prefix("net-").unwrap_or(base);
    let base = base.strip_suffix(".txt").unwrap_or(base);
    InetProto::from_file_name(base)
}

fn unix_table(member: &str) -> bool {
    let Some(rest) = member.strip_prefix("2-network/") else {
        return false;
    };
    let base = rest.strip_prefix("proc-net/").unwrap_or(rest);
    matches!(base, "unix" | "net-unix" | "net-unix.txt" | "unix.txt")
}

/// The owners of each socket inode: the `socket:[N]` lines of every `1-processes/<pid>/fds.txt`.
///
/// # Errors
/// A member is unreadable or does not match the manifest (strict).
pub fn owners_from_fds<S: OpenReader + ?Sized>(
    ev: &mut Evidence<'_, S>,
    processes: &[RecordedProcess],
) -> Result<Option<BTreeMap<u64, Vec<Owner>>>, AnalysisError> {
    let mut map: BTreeMap<u64, Vec<Owner>> = BTreeMap::new();
    let mut any = false;
    for p in processes {
        let name = format!("1-processes/{}/fds.txt", p.pid);
        let Some(bytes) = ev.read_optional(&name)? else {
            continue;
        };
        any = true;
        for line in String::from_utf8_lossy(&bytes).lines() {
            let Some((fd, target)) = line.split_once('\t') else {
                continue;
            };
            let inode = target
                .strip_prefix("socket:[")
                .and_then(|s| s.strip_suffix(']'))
                .and_then(|s| s.parse::<u64>().ok());
            if let (Some(inode), Ok(fd)) = (inode, fd.parse::<u32>()) {
                map.entry(inode).or_default().push(Owner {
                    pid: p.pid,
                    fd,
                    cmdline: p.cmdline.join(" "),
                });
            }
        }
    }
    Ok(any.then_some(map))
}

/// Builds the view.
///
/// # Errors
/// A member is unreadable, malformed (`sockets.json`, `processes.json`) or does not match the
/// manifest (strict). A bad line of a raw table is listed in [`NetworkView::undecoded`].
pub fn view<S: OpenReader + ?Sized>(
    ev: &mut Evidence<'_, S>,
    processes: &[RecordedProcess],
) -> Result<NetworkView, AnalysisError> {
    let decoded: Option<Sockets> = match ev.read_optional(SOCKETS)? {
        Some(b) => Some(serde_json::from_slice(&b).map_err(|e| AnalysisError::member(SOCKETS, e.to_string()))?),
        None => None,
    };
    let fd_owners = owners_from_fds(ev, processes)?;
    let json_owners: BTreeMap<u64, Vec<Owner>> = decoded
        .iter()
        .flat_map(|d| {
            d.inet
                .iter()
                .map(|s| (s.inode, s.owners.clone()))
                .chain(d.unix.iter().map(|u| (u.inode, u.owners.clone())))
        })
        .filter(|(_, o)| !o.is_empty())
        .collect();
    let (owners, owners_from) = match fd_owners {
        Some(o) => (o, format!("1-processes/<pid>/fds.txt socket links, with {PROCESSES}")),
        None if decoded.is_some() => (json_owners, SOCKETS.to_string()),
        None => (BTreeMap::new(), "none".to_string()),
    };
    let owners_of = |inode: u64| {
        if inode == 0 {
            Vec::new()
        } else {
            owners.get(&inode).cloned().unwrap_or_default()
        }
    };
    let tables: Vec<(String, InetProto)> = ev
        .names()
        .filter_map(|n| table_of(n).map(|p| (n.to_string(), p)))
        .collect();
    let unix_tables: Vec<String> = ev.names().filter(|n| unix_table(n)).map(str::to_string).collect();
    let mut inet = Vec::new();
    let mut unix = Vec::new();
    let mut undecoded = Vec::new();
    if tables.is_empty() {
        if let Some(d) = &decoded {
            for s in &d.inet {
                inet.push(from_decoded(s, owners_of(s.inode)));
            }
        }
    }
    for (member, proto) in &tables {
        let bytes = ev.read_member(member)?;
        match net::parse_inet(*proto, &bytes) {
            Ok(table) => {
                for e in &table.errors {
                    undecoded.push(format!("{member} line {}: {}", e.line, e.error));
                }
                for s in table.rows {
                    inet.push(from_raw(&s, owners_of(s.inode), member));
                }
            }
            Err(_) if bytes.is_empty() => {}
            Err(e) => undecoded.push(format!("{member}: {e}")),
        }
    }
    if unix_tables.is_empty() {
        if let Some(d) = &decoded {
            for u in &d.unix {
                unix.push(UnixRow {
                    inode: u.inode,
                    kind: "unknown".into(),
                    listening: u.listening,
                    path: u.path.clone(),
                    owners: owners_of(u.inode),
                    evidence: SOCKETS.into(),
                });
            }
        }
    }
    for member in &unix_tables {
        let bytes = ev.read_member(member)?;
        match net::parse_unix(&bytes) {
            Ok(table) => {
                for e in &table.errors {
                    undecoded.push(format!("{member} line {}: {}", e.line, e.error));
                }
                for u in table.rows {
                    unix.push(UnixRow {
                        inode: u.inode,
                        kind: serde_json::to_value(u.kind)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_string))
                            .unwrap_or_else(|| "unknown".into()),
                        listening: u.listening,
                        path: u.path.as_ref().map(|p| p.to_string_lossy().into_owned()),
                        owners: owners_of(u.inode),
                        evidence: member.clone(),
                    });
                }
            }
            Err(_) if bytes.is_empty() => {}
            Err(e) => undecoded.push(format!("{member}: {e}")),
        }
    }
    inet.sort_by(|a, b| {
        (proto_rank(&a.proto), a.local_port, &a.local, &a.remote, a.inode).cmp(&(
            proto_rank(&b.proto),
            b.local_port,
            &b.local,
            &b.remote,
            b.inode,
        ))
    });
    unix.sort_by_key(|u| u.inode);
    Ok(NetworkView {
        inet,
        unix,
        owners_from,
        undecoded,
    })
}

fn proto_rank(p: &str) -> u8 {
    match p {
        "tcp" => 0,
        "tcp6" => 1,
        "udp" => 2,
        "udp6" => 3,
        "raw" => 4,
        "raw6" => 5,
        _ => 6,
    }
}

fn from_raw(s: &InetSocket, owners: Vec<Owner>, member: &str) -> InetRow {
    InetRow {
        proto: s.proto.file_name().to_string(),
        family: if s.proto.is_ipv6() { "ipv6" } else { "ipv4" },
        local: s.local.to_string(),
        local_address: s.local.ip().to_string(),
        local_port: s.local.port(),
        remote: s.remote.to_string(),
        remote_address: s.remote.ip().to_string(),
        remote_port: s.remote.port(),
        state: s.state_name().to_string(),
        uid: s.uid,
        inode: s.inode,
        owners,
        evidence: member.to_string(),
    }
}

fn from_decoded(s: &RecordedInet, owners: Vec<Owner>) -> InetRow {
    let local: Option<SocketAddr> = s.local.parse().ok();
    let remote: Option<SocketAddr> = s.remote.parse().ok();
    let ipv6 = s.proto.is_ipv6();
    InetRow {
        proto: s.proto.as_str().to_string(),
        family: if ipv6 { "ipv6" } else { "ipv4" },
        local: s.local.clone(),
        local_address: local.map(|a| a.ip().to_string()).unwrap_or_default(),
        local_port: local.map_or(0, |a| a.port()),
        remote: s.remote.clone(),
        remote_address: remote.map(|a| a.ip().to_string()).unwrap_or_default(),
        remote_port: remote.map_or(0, |a| a.port()),
        state: s.state.clone(),
        uid: s.uid,
        inode: s.inode,
        owners,
        evidence: SOCKETS.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names() {
        assert_eq!(table_of("2-network/proc-net/tcp6"), Some(InetProto::Tcp6));
        assert_eq!(table_of("2-network/tcp"), Some(InetProto::Tcp));
        assert_eq!(table_of("2-network/net-udp.txt"), Some(InetProto::Udp));
        assert_eq!(table_of("2-network/proc-net/unix"), None);
        assert_eq!(table_of("1-processes/tcp"), None);
        assert_eq!(table_of("2-network/x/tcp"), None);
        assert!(unix_table("2-network/proc-net/unix"));
    }
}
