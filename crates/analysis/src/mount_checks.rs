//! The mounts of section 5: a regular file on a tmpfs mount (`file-on-tmpfs`), read from the
//! tree index, whose lines name the mount each entry is on (`mount`, `mount_kind`).

use crate::evidence::Evidence;
use crate::files::{FileEntry, perm_string};
use crate::findings::{Finding, FindingId, Grouped, Severity};
use crate::fs_checks::copy_member;
use crate::members::{CHANGED_COPIES, ROOT_COPIES, TREE_INDEX};
use forensic_bundle::verify::OpenReader;
use forensic_evidence::records::EntryType;

/// Most tmpfs files given a finding each; the rest are grouped.
const MAX_EACH: usize = 100;

/// One regular file on a tmpfs mount, as its index line shows it.
#[derive(Debug, Clone)]
struct TmpfsFile {
    line: u64,
    path: String,
    mount: String,
    executable: bool,
    described: String,
}

/// The regular files on tmpfs mounts, gathered while the tree index streams.
#[derive(Debug, Default)]
pub(crate) struct TmpfsFiles {
    each: Vec<TmpfsFile>,
    rest: Grouped,
    rest_executable: bool,
}

impl TmpfsFiles {
    /// Looks at one index line.
    pub(crate) fn observe(&mut self, n: u64, e: &FileEntry) {
        if e.kind != EntryType::File || !e.mount_kind.is_some_and(|k| k.is_scratch_memory()) {
            return;
        }
        let described = format!(
            "{} (-{} {}:{} {} bytes, modified {})",
            e.path.shown(),
            perm_string(e.perm()),
            opt(e.uid),
            opt(e.gid),
            opt(e.size),
            e.mtime_ns.map(crate::time::format_ns).unwrap_or_else(|| "?".into())
        );
        if self.each.len() >= MAX_EACH {
            self.rest_executable |= e.is_executable();
            self.rest.add(format!("{TREE_INDEX} line {n}: {described}"), None);
            return;
        }
        self.each.push(TmpfsFile {
            line: n,
            path: e.path.lossy().into_owned(),
            mount: e.mount.as_ref().map(|m| m.shown()).unwrap_or_default(),
            executable: e.is_executable(),
            described,
        });
    }

    /// The findings: one per file (its index line and the member holding its copy), then the
    /// rest grouped.
    pub(crate) fn findings<S: OpenReader + ?Sized>(self, ev: &Evidence<'_, S>, out: &mut Vec<Finding>) {
        for f in self.each {
            let mut evidence = vec![format!("{TREE_INDEX} line {}", f.line)];
            if let Some(copy) = [ROOT_COPIES, CHANGED_COPIES]
                .iter()
                .filter_map(|prefix| copy_member(prefix, &f.path))
                .find(|c| ev.has_member(c))
            {
                evidence.push(copy);
            }
            out.push(forensic_evidence::findings::file_on_tmpfs(
                &f.path,
                &f.mount,
                f.executable,
                &f.described,
                evidence,
            ));
        }
        if self.rest.count > 0 {
            out.push(Finding::new(
                if self.rest_executable {
                    Severity::High
                } else {
                    Severity::Medium
                },
                FindingId::FileOnTmpfs,
                format!("{} more regular files on tmpfs mounts", self.rest.count),
                self.rest.evidence_lines(),
            ));
        }
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "?".into())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn line(json: &str) -> FileEntry {
        crate::files::parse_line(json.as_bytes()).unwrap()
    }

    #[test]
    fn only_regular_files_on_tmpfs_mounts_are_kept() {
        let meta = r#""mode":"0755","uid":0,"gid":0,"size":3,"mtime_ns":0,"ctime_ns":0,"inode":2,"nlink":1,"symlink_target":null,"xattrs":null,"sha256":null"#;
        let mut t = TmpfsFiles::default();
        t.observe(
            1,
            &line(&format!(
                r#"{{"path":"/dev/shm/x","type":"file",{meta},"mount":"/dev/shm","mount_kind":"tmpfs"}}"#
            )),
        );
        t.observe(
            2,
            &line(&format!(
                r#"{{"path":"/dev/shm/d","type":"dir",{meta},"mount":"/dev/shm","mount_kind":"tmpfs"}}"#
            )),
        );
        t.observe(
            3,
            &line(&format!(
                r#"{{"path":"/sa/token","type":"file",{meta},"mount":"/sa","mount_kind":"projected"}}"#
            )),
        );
        t.observe(4, &line(&format!(r#"{{"path":"/tmp/y","type":"file",{meta}}}"#)));
        let kept: Vec<(u64, &str, &str, bool)> = t
            .each
            .iter()
            .map(|f| (f.line, f.path.as_str(), f.mount.as_str(), f.executable))
            .collect();
        assert_eq!(kept, [(1, "/dev/shm/x", "/dev/shm", true)]);
        assert_eq!(
            t.each[0].described,
            "/dev/shm/x (-rwxr-xr-x 0:0 3 bytes, modified 1970-01-01T00:00:00.000000000Z)"
        );
    }
}
