//! The privileges a collection needs, checked before anything is done: without them every read
//! of another user's process or of the container's files fails, and the bundle would be a list of
//! "Permission denied" gaps that looks like evidence.
//!
//! What collection uses:
//!
//! - `CAP_SYS_PTRACE`: `/proc/PID/{maps,mem,environ,fd,root}` of processes of other users (the
//!   kernel's `PTRACE_MODE_READ` check);
//! - `CAP_DAC_READ_SEARCH`: reading the container's files and the overlay layer directories
//!   (`/var/lib/containers/storage/overlay/…`, mode 0700) whatever their owners and modes;
//! - `CAP_FOWNER`: `O_NOATIME` on files the collector does not own: without it every read
//!   changes the container's access times;
//! - effective uid 0 for `--container` and `--pod`: podman and crictl as another user talk to
//!   that user's (rootless) containers, not the node's.
//!
//! There is no override: a partial collection made without these would be mistaken for evidence
//! that the container holds nothing.

use crate::error::CollectError;
use std::path::Path;

/// A Linux capability collection uses: its number and name, and what needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capability {
    /// Bit number in `CapEff`.
    pub bit: u32,
    /// `CAP_SYS_PTRACE`, …
    pub name: &'static str,
    /// What collection does with it.
    pub used_for: &'static str,
}

/// The capabilities collection needs, in the order they are named.
pub const NEEDED: [Capability; 3] = [
    Capability {
        bit: 19,
        name: "CAP_SYS_PTRACE",
        used_for: "to read other users' /proc/PID/{maps,mem,environ,fd,root}",
    },
    Capability {
        bit: 2,
        name: "CAP_DAC_READ_SEARCH",
        used_for: "to read the container's files and the image layers on the node",
    },
    Capability {
        bit: 3,
        name: "CAP_FOWNER",
        used_for: "to read with O_NOATIME, leaving access times as they were",
    },
];

/// The capabilities dead-box collection (`--offline-root`) needs: no process is read, so no
/// `CAP_SYS_PTRACE`.
pub const NEEDED_OFFLINE: [Capability; 2] = [
    Capability {
        bit: 2,
        name: "CAP_DAC_READ_SEARCH",
        used_for: "to read the node's files and layer directories whatever their owners and modes",
    },
    Capability {
        bit: 3,
        name: "CAP_FOWNER",
        used_for: "to read with O_NOATIME, leaving the node's access times as they were",
    },
];

/// What `/proc/self/status` says about this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Privileges {
    /// Effective user id.
    pub euid: u32,
    /// Effective capability set.
    pub cap_eff: u64,
}

impl Privileges {
    /// Parses the `Uid:` and `CapEff:` lines of a `/proc/PID/status` text.
    pub fn parse(status: &str) -> Option<Privileges> {
        let field = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .map(str::split_whitespace)
        };
        let euid = field("Uid:")?.nth(1)?.parse().ok()?;
        let cap_eff = u64::from_str_radix(field("CapEff:")?.next()?, 16).ok()?;
        Some(Privileges { euid, cap_eff })
    }

    /// The capabilities of [`NEEDED`] this process lacks.
    pub fn missing(&self) -> Vec<Capability> {
        self.missing_of(&NEEDED)
    }

    /// The capabilities of `needed` this process lacks.
    pub fn missing_of(&self, needed: &[Capability]) -> Vec<Capability> {
        needed
            .iter()
            .copied()
            .filter(|c| self.cap_eff & (1u64 << c.bit) == 0)
            .collect()
    }
}

/// Checks that this process (described by `status_path`, normally `/proc/self/status`) may
/// collect; `needs_root` for targets resolved through a runtime client (`--container`, `--pod`).
///
/// # Errors
/// [`CollectError::Privileges`] naming what is missing and how to run instead;
/// [`CollectError::Io`] when the status file cannot be read or parsed.
pub fn check(status_path: &Path, needs_root: bool) -> Result<(), CollectError> {
    check_for(status_path, needs_root, &NEEDED)
}

/// As [`check`], for dead-box collection: [`NEEDED_OFFLINE`] only.
///
/// # Errors
/// As [`check`].
pub fn check_offline(status_path: &Path) -> Result<(), CollectError> {
    check_for(status_path, false, &NEEDED_OFFLINE)
}

fn check_for(status_path: &Path, needs_root: bool, needed: &[Capability]) -> Result<(), CollectError> {
    let io = |source| CollectError::Io {
        what: format!("reading {} to check privileges", status_path.display()),
        source,
    };
    let text = std::fs::read_to_string(status_path).map_err(io)?;
    let p = Privileges::parse(&text).ok_or_else(|| io(std::io::Error::other("no Uid: or CapEff: line")))?;
    let missing = p.missing_of(needed);
    let not_root = needs_root && p.euid != 0;
    if missing.is_empty() && !not_root {
        return Ok(());
    }
    let mut why: Vec<String> = missing.iter().map(|c| format!("{} ({})", c.name, c.used_for)).collect();
    if not_root {
        why.push(
            "effective uid 0 (the runtime client as another user sees that user's containers, not the node's)".into(),
        );
    }
    Err(CollectError::Privileges {
        euid: p.euid,
        missing: why,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str =
        "Name:\tforensic\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n";
    const NOBODY: &str = "Uid:\t65534\t65534\t65534\t65534\nCapEff:\t0000000000000000\n";

    fn status(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap_or_else(|e| panic!("{e}"));
        std::io::Write::write_all(&mut f, text.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        f
    }

    #[test]
    fn root_with_every_capability_may_collect() {
        assert!(check(status(ROOT).path(), true).is_ok());
    }

    #[test]
    fn nobody_is_refused_naming_every_missing_capability_and_sudo() {
        let err = check(status(NOBODY).path(), true)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        for needed in [
            "CAP_SYS_PTRACE",
            "CAP_DAC_READ_SEARCH",
            "CAP_FOWNER",
            "effective uid 0",
            "uid 65534",
            "sudo forensic collect",
        ] {
            assert!(err.contains(needed), "{needed} not in {err}");
        }
    }

    #[test]
    fn a_pid_target_needs_the_capabilities_not_uid_0() {
        // A non-root process granted exactly the three capabilities (ambient, or file caps).
        let caps = (1u64 << 19) | (1 << 2) | (1 << 3);
        let text = format!("Uid:\t1000\t1000\t1000\t1000\nCapEff:\t{caps:016x}\n");
        assert!(check(status(&text).path(), false).is_ok());
        assert!(check(status(&text).path(), true).is_err());
        // Root in a container without CAP_SYS_PTRACE is refused too.
        let text = format!("Uid:\t0\t0\t0\t0\nCapEff:\t{:016x}\n", 0x1ff_ffff_ffffu64 & !(1 << 19));
        let err = check(status(&text).path(), false)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("CAP_SYS_PTRACE") && !err.contains("CAP_FOWNER"), "{err}");
    }
}
