//! `1-processes/processes.json`: the processes of the target's PID namespace, decoded from
//! `/proc`. CONTENTS.md §1.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Why a process deserves a look. Written as the names `show processes` prints (`rwx-anonymous-map`, `deleted-mapping`,
/// `exec-map-from-temp`, `runs-from-temp-dir`, `deleted-executable`); bundles written before
/// these names were documented used the CamelCase forms, which readers still accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProcessFlag {
    /// A mapping that is writable and executable and backed by no file (injected or JIT code).
    #[serde(rename = "rwx-anonymous-map", alias = "AnonymousExecutableWritable")]
    AnonymousExecutableWritable,
    /// A mapping of a file deleted since it was mapped.
    #[serde(alias = "DeletedMapping")]
    DeletedMapping,
    /// Executable code mapped from a temporary directory ([`crate::paths::TEMP_DIRS`]) or a
    /// `memfd:` file.
    #[serde(rename = "exec-map-from-temp", alias = "ExecutableFromTemp")]
    ExecutableFromTemp,
    /// The executable itself lies in a temporary directory.
    #[serde(alias = "RunsFromTempDir")]
    RunsFromTempDir,
    /// The executable was deleted after the process started (its copy is `PID/exe`).
    #[serde(alias = "DeletedExecutable")]
    DeletedExecutable,
}

impl ProcessFlag {
    /// The name written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ProcessFlag::AnonymousExecutableWritable => "rwx-anonymous-map",
            ProcessFlag::DeletedMapping => "deleted-mapping",
            ProcessFlag::ExecutableFromTemp => "exec-map-from-temp",
            ProcessFlag::RunsFromTempDir => "runs-from-temp-dir",
            ProcessFlag::DeletedExecutable => "deleted-executable",
        }
    }
}

/// A uid or gid: `[real, effective, saved, filesystem]` as `status` shows them (what `collect`
/// writes), or one number (accepted from hand-made records).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Ids {
    /// All four.
    Set([u32; 4]),
    /// One number for all.
    One(u32),
}

impl Ids {
    /// Real (0), effective (1), saved (2) or filesystem (3) id.
    pub fn get(&self, i: usize) -> Option<u32> {
        match self {
            Ids::Set(v) => v.get(i).copied(),
            Ids::One(v) => (i < 4).then_some(*v),
        }
    }
}

/// One process. Fields the collector could not read are `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessRecord {
    /// Host PID.
    pub pid: u32,
    /// Parent's host PID (`stat`).
    #[serde(default)]
    pub ppid: Option<u32>,
    /// `Name:` of `status` (lossy UTF-8).
    #[serde(default)]
    pub name: Option<String>,
    /// State letter of `status` (`R`, `S`, `Z`, …).
    #[serde(default)]
    pub state: Option<String>,
    /// `Uid:` of `status`.
    #[serde(default)]
    pub uid: Option<Ids>,
    /// `Gid:` of `status`.
    #[serde(default)]
    pub gid: Option<Ids>,
    /// `NSpid:` of `status`: the PID in each nested PID namespace, outermost first.
    #[serde(default)]
    pub ns_pid: Option<Vec<u32>>,
    /// Clock ticks after boot when it started (`stat` field 22; `1-processes/boot.txt` gives
    /// the boot time).
    #[serde(default)]
    pub start_time_ticks: Option<u64>,
    /// Arguments (`cmdline`, lossy UTF-8).
    #[serde(default)]
    pub cmdline: Vec<String>,
    /// The executable's path (the `exe` link, without ` (deleted)`).
    #[serde(default)]
    pub exe: Option<String>,
    /// Whether the executable was deleted.
    #[serde(default)]
    pub exe_deleted: bool,
    /// SHA-256 (lowercase hex) of the executable, read through `/proc/PID/exe`.
    #[serde(default)]
    pub exe_sha256: Option<String>,
    /// The `cwd` link.
    #[serde(default)]
    pub cwd: Option<String>,
    /// The `root` link.
    #[serde(default)]
    pub root: Option<String>,
    /// Number of open descriptors.
    #[serde(default)]
    pub fds: u64,
    /// Namespace links by kind (`pid` → `pid:[4026532210]`).
    #[serde(default)]
    pub namespaces: BTreeMap<String, String>,
    /// Why it deserves a look.
    #[serde(default)]
    pub flags: Vec<ProcessFlag>,
}

impl ProcessRecord {
    /// The PID inside the container's PID namespace (the last of `NSpid`).
    pub fn container_pid(&self) -> Option<u32> {
        self.ns_pid.as_ref()?.last().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_have_documented_names_and_old_names_still_read() {
        assert_eq!(
            serde_json::to_string(&[ProcessFlag::RunsFromTempDir, ProcessFlag::DeletedExecutable]).unwrap(),
            r#"["runs-from-temp-dir","deleted-executable"]"#
        );
        let old: Vec<ProcessFlag> =
            serde_json::from_str(r#"["AnonymousExecutableWritable","DeletedMapping"]"#).unwrap();
        assert_eq!(
            old,
            [ProcessFlag::AnonymousExecutableWritable, ProcessFlag::DeletedMapping]
        );
        for f in old {
            assert_eq!(serde_json::to_string(&f).unwrap(), format!("\"{}\"", f.as_str()));
        }
        assert!(serde_json::from_str::<ProcessFlag>(r#""Unknown""#).is_err());
    }

    #[test]
    fn ids_are_four_or_one() {
        let p: ProcessRecord = serde_json::from_str(r#"{"pid":5,"uid":[0,1,2,3],"gid":7}"#).unwrap();
        assert_eq!(p.uid.as_ref().and_then(|u| u.get(1)), Some(1));
        assert_eq!(p.gid.as_ref().and_then(|g| g.get(3)), Some(7));
        assert!(serde_json::from_str::<ProcessRecord>(r#"{"pid":5,"uid":[0,1]}"#).is_err());
    }
}
