//! Finding the processes of a target: every process whose PID namespace is the target's.

use std::path::{Path, PathBuf};

/// Where `/proc` is (tests point this at a fake tree).
#[derive(Debug, Clone)]
pub struct ProcRoot(pub PathBuf);

impl Default for ProcRoot {
    fn default() -> Self {
        ProcRoot(PathBuf::from("/proc"))
    }
}

impl ProcRoot {
    /// `/proc/<pid>/<rel>`.
    pub fn path(&self, pid: u32, rel: &str) -> PathBuf {
        self.0.join(pid.to_string()).join(rel)
    }

    /// The namespace link of `pid` (e.g. `pid:[4026532291]`), from `/proc/<pid>/ns/<kind>`.
    ///
    /// # Errors
    /// If the process is gone or the link cannot be read.
    pub fn namespace(&self, pid: u32, kind: &str) -> std::io::Result<String> {
        let link = std::fs::read_link(self.path(pid, &format!("ns/{kind}")))?;
        Ok(link.to_string_lossy().into_owned())
    }

    /// Every numeric entry of `/proc`, sorted.
    pub fn all_pids(&self) -> Vec<u32> {
        let mut pids: Vec<u32> = std::fs::read_dir(&self.0)
            .map(|d| d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect())
            .unwrap_or_default();
        pids.sort_unstable();
        pids
    }

    /// The processes sharing `pid`'s PID namespace (including `pid`), sorted. A process that
    /// vanishes while scanning is skipped.
    ///
    /// # Errors
    /// If the target's own namespace cannot be read.
    pub fn same_pid_namespace(&self, pid: u32) -> std::io::Result<Vec<u32>> {
        let ns = self.namespace(pid, "pid")?;
        Ok(self
            .all_pids()
            .into_iter()
            .filter(|&p| self.namespace(p, "pid").is_ok_and(|n| n == ns))
            .collect())
    }

    /// Whether `/proc/<pid>` exists.
    pub fn exists(&self, pid: u32) -> bool {
        Path::new(&self.0).join(pid.to_string()).exists()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_process_shares_its_own_namespace() {
        let proc = ProcRoot::default();
        let me = std::process::id();
        let same = proc.same_pid_namespace(me).unwrap();
        assert!(same.contains(&me));
        assert!(proc.namespace(me, "net").unwrap().starts_with("net:["));
    }
}
