//! Parsers for what a forensic collector reads on a Linux node from the host side: `/proc` tables
//! and container runtime `inspect` output.
//!
//! This crate is pure: bytes (or text) in, typed values out. It opens no file, reads no clock
//! and consults no environment, so every result can be reproduced from the captured bytes. The
//! caller reads the input and bounds its size.
//!
//! | input | parser |
//! |---|---|
//! | `/proc/<pid>/net/{tcp,tcp6,udp,udp6,raw,raw6}` | [`net::parse_inet`] |
//! | `/proc/<pid>/net/unix` | [`net::parse_unix`] |
//! | `/proc/<pid>/net/packet` | [`net::parse_packet`] |
//! | `/proc/<pid>/mountinfo` | [`mountinfo::parse_mountinfo`], then [`mountinfo::overlay`], [`mountinfo::root_mount`] |
//! | `/proc/<pid>/status` | [`process::parse_status`] |
//! | `/proc/<pid>/stat` | [`process::parse_stat`] |
//! | `/proc/<pid>/maps` | [`process::parse_maps`], then [`process::suspicious`] |
//! | `/proc/<pid>/cmdline`, `environ` | [`process::split_nul`] |
//! | `crictl inspect -o json` | [`inspect::from_crictl`] |
//! | `podman inspect`, `docker inspect` | [`inspect::from_podman`], [`inspect::from_docker`] |
//! | `podman image inspect` | [`inspect::image_from_podman`] |
//!
//! # Errors: whole tables survive bad lines
//! Line-oriented tables (sockets, mounts, memory maps) return a [`Table`]: every row that parsed,
//! plus a [`LineError`] (1-based line number and a typed error) for each line that did not. One
//! damaged or unexpected line never loses the rest of the evidence. Whole-input problems (a
//! socket table without its header, i.e. probably the wrong file) are returned as `Err`.
//! Single-record files (`status`, `stat`, inspect output) return `Result`.
//!
//! # Paths are bytes
//! Linux paths and process names need not be UTF-8. Fields that carry them are [`ByteString`]:
//! the exact bytes (after the kernel's documented escapes are undone), comparable with `&str`,
//! shown with invalid bytes as `\xNN`, and serialized as a plain string when they are UTF-8.
//!
//! ```
//! use forensic_proc::mountinfo::{overlay, parse_mountinfo, root_mount};
//! let text = "759 717 0:52 / / rw,relatime master:300 - overlay overlay \
//!             rw,lowerdir=/l/A:/l/B,upperdir=/var/lib/docker/overlay2/0d9f/diff,workdir=/var/lib/docker/overlay2/0d9f/work\n";
//! let mounts = parse_mountinfo(text);
//! let root = root_mount(&mounts.rows).unwrap();
//! assert_eq!(overlay(root).unwrap().upperdir.unwrap(), "/var/lib/docker/overlay2/0d9f/diff");
//! ```
#![deny(missing_docs)]

pub mod inspect;
pub mod mountinfo;
pub mod net;
pub mod process;
mod table;
mod text;

pub use inspect::{ContainerMount, ContainerRecord, ImageRecord, InspectError, Runtime};
pub use mountinfo::{Mount, MountError, Overlay};
pub use net::{InetProto, InetSocket, NetError, PacketSocket, SocketState, UnixSocket};
pub use process::{MapFlag, MapRegion, Stat, Status};
pub use table::{LineError, Table};
pub use text::ByteString;
