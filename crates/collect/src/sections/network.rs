//! Section 2: the target's network namespace, read through /proc/<pid>/net on the host (never
//! `nsenter`: no process is started in the target's namespaces).

use crate::counts::Counter;
use crate::ctx::{Ctx, MAX_PROC_FILE, derived, read_proc_bytes, read_proc_text};
use crate::sink::Sink;
use forensic_evidence::members;
use forensic_evidence::records::network::{InetSocket, SocketOwner, SocketProto, Sockets, UnixSocket};
use forensic_proc::net::{self, InetProto as Proto};
use std::io;

/// Raw tables copied from /proc/<pid>/net.
const NET_FILES: [&str; 13] = [
    "tcp",
    "tcp6",
    "udp",
    "udp6",
    "raw",
    "raw6",
    "unix",
    "packet",
    "dev",
    "route",
    "ipv6_route",
    "if_inet6",
    "arp",
];
const INET: [(&str, Proto, SocketProto); 6] = [
    ("tcp", Proto::Tcp, SocketProto::Tcp),
    ("tcp6", Proto::Tcp6, SocketProto::Tcp6),
    ("udp", Proto::Udp, SocketProto::Udp),
    ("udp6", Proto::Udp6, SocketProto::Udp6),
    ("raw", Proto::Raw, SocketProto::Raw),
    ("raw6", Proto::Raw6, SocketProto::Raw6),
];

/// Collects section 2.
///
/// # Errors
/// Only when the bundle cannot be written.
pub fn collect(ctx: &mut Ctx<'_>, sink: &mut dyn Sink) -> io::Result<()> {
    let pid = ctx.target.pid;
    for f in NET_FILES {
        ctx.proc_file(sink, &ctx.proc.path(pid, &format!("net/{f}")), &format!("proc-net/{f}"));
    }
    let mut sockets = Vec::new();
    for (file, proto, recorded) in INET {
        let text = read_proc_text(&ctx.proc.path(pid, &format!("net/{file}")), MAX_PROC_FILE).unwrap_or_default();
        let table = match net::parse_inet(proto, &text) {
            Ok(t) => t,
            Err(e) => {
                sink.gap(format!("/proc/{pid}/net/{file}"), format!("not decoded: {e}"));
                continue;
            }
        };
        for bad in &table.errors {
            sink.gap(
                format!("/proc/{pid}/net/{file} line {}", bad.line),
                format!("not decoded: {}", bad.error),
            );
        }
        for s in table.rows {
            sockets.push(InetSocket {
                proto: recorded,
                local: s.local.to_string(),
                remote: s.remote.to_string(),
                state: s.state_name().to_string(),
                uid: s.uid,
                inode: s.inode,
                owners: owners(ctx, s.inode),
            });
        }
    }
    let unix_text = read_proc_text(&ctx.proc.path(pid, "net/unix"), MAX_PROC_FILE).unwrap_or_default();
    let unix: Vec<UnixSocket> = net::parse_unix(&unix_text)
        .map(|t| t.rows)
        .unwrap_or_default()
        .into_iter()
        .map(|u| {
            let path = u.path.as_ref().map(|p| p.to_string_lossy().into_owned());
            UnixSocket {
                inode: u.inode,
                path,
                listening: u.listening,
                owners: owners(ctx, u.inode),
            }
        })
        .collect();
    ctx.count(Counter::Sockets, sockets.len() as u64);
    let doc = Sockets { inet: sockets, unix };
    derived(
        sink,
        members::local(members::SOCKETS),
        "decoded from /proc/<pid>/net/{tcp,tcp6,udp,udp6,raw,raw6,unix}; owners from /proc/<pid>/fd socket links",
        &serde_json::to_vec_pretty(&doc).map_err(io::Error::other)?,
    )?;
    crate::sections::filesystem::copy_container_files(ctx, sink, &["etc/resolv.conf", "etc/hosts"], "etc")?;
    Ok(())
}

fn owners(ctx: &Ctx<'_>, inode: u64) -> Vec<SocketOwner> {
    ctx.socket_owners
        .get(&inode)
        .map(|v| {
            v.iter()
                .map(|(pid, fd)| {
                    let cmd = read_proc_bytes(&ctx.proc.path(*pid, "cmdline"), 4096).unwrap_or_default();
                    let cmd: Vec<String> = forensic_proc::process::split_nul(&cmd)
                        .iter()
                        .map(|a| String::from_utf8_lossy(a).into_owned())
                        .collect();
                    SocketOwner {
                        pid: *pid,
                        fd: *fd,
                        cmdline: cmd.join(" "),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}
