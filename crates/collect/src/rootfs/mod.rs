//! Reading a container's root filesystem from the host side, treating all of it as hostile.
//!
//! The container root (typically `/proc/<pid>/root`) is attacker-controlled: symlinks to host
//! files, symlink loops, FIFOs, sockets, device nodes, files that vanish or grow while read, names
//! with newlines or invalid UTF-8, very deep or very wide trees, sparse files. Everything here:
//!
//! - looks up paths relative to an open directory descriptor ([`RootFs`]) and never follows a
//!   symlink inside it (`openat2(RESOLVE_NO_SYMLINKS)`, `O_NOFOLLOW`, `AT_SYMLINK_NOFOLLOW`);
//! - opens for reading only what `lstat` showed to be a regular file, with `O_NONBLOCK` (no hang
//!   on a FIFO swapped in) and `O_NOATIME`, and checks the opened inode is the listed one;
//! - never writes inside the container and keeps memory and open descriptors bounded;
//! - reports what it could not read (skipped entries, gaps) instead of failing.
//!
//! Modules: [`walk`] (the tree walk), [`index`] (JSONL index with SHA-256 of every file),
//! [`known`] (digests shared by file identity, so each file is hashed once per collection),
//! [`copy`] (files and attacker places into a [`crate::sink::Sink`]), [`upper`] (the overlay
//! writable layer and its change list), [`derived`] (setuid files, executables in temporary
//! directories, recently changed files).

mod entry;
mod error;
mod json;
mod names;
mod root;
pub(crate) mod sys;

pub mod copy;
pub mod derived;
pub mod index;
pub mod known;
pub mod mounts;
pub mod places;
pub mod tarsplit;
pub mod upper;
pub mod walk;

#[cfg(test)]
mod hostile_tests;

pub use error::{RootError, display_path};
pub use root::RootFs;
