//! Live, non-destructive collection from a running container, from the host side, in the order of
//! volatility (SPEC §4): processes, network, memory, logs, filesystem, pod spec, audit log, alerts,
//! image.
//!
//! - [`collect::collect`] runs a whole collection into a sealed bundle.
//! - [`target`] resolves `--pid`, `--container` and `--pod` targets through the runtime and kubectl.
//! - [`privileges`] checks, before anything is done, that this process may collect.
//! - [`command`] runs and records external commands (argv, exit status, output, timings).
//! - [`rootfs`] reads a hostile container filesystem without following its links.
//! - one collector per section (private) writes through a [`sink::Sink`].
#![deny(missing_docs)]

mod bundle_sink;
pub mod collect;
pub mod command;
pub mod counts;
mod ctx;
pub mod error;
pub mod offline;
pub mod privileges;
mod procs;
pub mod rootfs;
mod sections;
pub mod sink;
pub mod target;

pub use collect::{CollectOptions, CollectSummary, collect};
pub use error::CollectError;
