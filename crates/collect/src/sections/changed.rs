//! Section 5, `changed/…`: the proof kept byte for byte (CONTENTS.md §3, "Changed files").
//!
//! The rule: every regular file of the container's root filesystem (as the full-tree index
//! lists it) whose modification or status-change time is at or after the container's start is
//! copied to `5-filesystem/changed/<path>` ([`forensic_evidence::paths::changed_copy`]),
//! unless the bundle already holds a byte-identical copy of it at that path under `upper/` (the
//! writable layer) or `root/` (the places attackers use). A file the container wrote is in the
//! writable layer and copied there; what this adds is a file changed *beneath* the container:
//! in the node's copy of an image layer (`lower-layer-changed` in `forensic diff`), whose
//! status-change time the kernel moves when it is written, whatever its modification time says.
//!
//! The start is the runtime's `started` time, else the target process's start (`/proc/PID/stat`
//! and the boot time). A change made to a layer before the container started is not found this
//! way; the check of each lower layer against the node's record of it finds it and keeps it
//! under `9-image/layer-changed/` (see `filesystem::index_lower_layers`). Copies follow `--max-file-size`, and at most half the bundle's remaining
//! member room is used; what does not fit is a gap.

use crate::counts::Counter;
use crate::ctx::{Ctx, read_proc_text};
use crate::rootfs::RootFs;
use crate::rootfs::copy::{self, CopyOptions};
use crate::sink::{NewMember, Sink, Written};
use forensic_bundle::digest::Digest;
use forensic_evidence::members;
use forensic_evidence::records::EntryType;
use forensic_evidence::records::tree::TreeEntry;
use std::collections::BTreeMap;
use std::io::{self, BufRead, Read};

/// Remembers the members written through it (full name → SHA-256), so that a later step can
/// tell what the bundle already holds.
pub struct Recorder<'a> {
    inner: &'a mut dyn Sink,
    /// Full member name → SHA-256 of what was stored (not truncated).
    pub written: BTreeMap<String, Digest>,
}

impl<'a> Recorder<'a> {
    /// Wraps `inner`.
    pub fn new(inner: &'a mut dyn Sink) -> Self {
        Recorder {
            inner,
            written: BTreeMap::new(),
        }
    }
}

impl Sink for Recorder<'_> {
    fn member(&mut self, m: NewMember, content: &mut dyn Read) -> io::Result<Written> {
        let w = self.inner.member(m, content)?;
        if !w.truncated {
            self.written.insert(w.name.clone(), w.sha256);
        }
        Ok(w)
    }

    fn gap(&mut self, what: String, reason: String) {
        self.inner.gap(what, reason);
    }

    fn room(&self) -> u64 {
        self.inner.room()
    }
}

/// A regular file the rule selects: its raw path (absolute) and indexed SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Absolute path inside the container.
    pub path: Vec<u8>,
    /// SHA-256 as indexed (lowercase hex), when hashed.
    pub sha256: Option<String>,
}

/// The regular files of a full-tree index (`tree-index.jsonl` lines) changed at or after
/// `start_ns`, and every regular file on a tmpfs mount (memory the image does not have, gone
/// with the container) or, with `include_secrets`, on a credential volume, whatever its times.
/// A line marked `withheld` (a credential file without `--include-secrets`) is never selected.
/// Lines that do not parse are skipped (the index is the collector's own output).
///
/// # Errors
/// Reading the index failed.
pub fn select(index: &mut dyn BufRead, start_ns: i64, include_secrets: bool) -> io::Result<Vec<Candidate>> {
    let mut out = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if index.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let Ok(e) = serde_json::from_slice::<TreeEntry<'_>>(&line) else {
            continue;
        };
        let changed = [e.mtime_ns, e.ctime_ns].into_iter().flatten().any(|t| t >= start_ns);
        let kept = e
            .mount_kind
            .is_some_and(|k| k.is_scratch_memory() || (include_secrets && k.is_credential()));
        if e.kind == EntryType::File && e.withheld.is_none() && (changed || kept) {
            out.push(Candidate {
                path: e.path.as_bytes().to_vec(),
                sha256: e.sha256.clone(),
            });
        }
    }
    Ok(out)
}

/// Whether the bundle already holds `c` byte for byte at its path under `upper/` or `root/`.
fn already_held(written: &BTreeMap<String, Digest>, c: &Candidate) -> bool {
    let Some(want) = &c.sha256 else {
        return false;
    };
    [members::UPPER_COPIES, members::ROOT_COPIES].iter().any(|prefix| {
        let local = members::local(prefix);
        let name = format!(
            "5-filesystem/{}",
            forensic_evidence::paths::copy_member(local, &c.path, &c.path)
        );
        written.get(&name).is_some_and(|d| &d.hex() == want)
    })
}

/// The container's start, nanoseconds since the epoch: the runtime's `started`, else the
/// target process's start time.
pub fn start_ns(ctx: &Ctx<'_>) -> Option<i64> {
    if let Some(t) = ctx.target.record.as_ref().and_then(|r| r.started.as_deref())
        && let Ok(d) = chrono::DateTime::parse_from_rfc3339(t)
    {
        return d.timestamp_nanos_opt();
    }
    let stat = read_proc_text(&ctx.proc.path(ctx.target.pid, "stat"), 1 << 16).ok()?;
    let ticks = forensic_proc::process::parse_stat(stat.as_str()).ok()?.start_time_ticks;
    let boot: i64 = read_proc_text(&ctx.proc.0.join("stat"), 1 << 20)
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    // USER_HZ is 100 on Linux.
    let ticks = i64::try_from(ticks).ok()?;
    boot.checked_mul(1_000_000_000)?
        .checked_add(ticks.checked_mul(10_000_000)?)
}

/// Copies the selected files into `changed/…`.
///
/// # Errors
/// Only when the bundle cannot be written.
pub fn copy_changed(
    ctx: &mut Ctx<'_>,
    root: &RootFs,
    candidates: &[Candidate],
    written: &BTreeMap<String, Digest>,
    sink: &mut dyn Sink,
) -> io::Result<()> {
    let wanted: Vec<&Candidate> = candidates.iter().filter(|c| !already_held(written, c)).collect();
    let opts = CopyOptions {
        max_file_size: Some(ctx.opts.max_file_size),
        ..CopyOptions::default()
    };
    let max_files = opts.max_files.min(sink.room() / 2);
    let mut copied = 0u64;
    for (i, c) in wanted.iter().enumerate() {
        if copied >= max_files {
            sink.gap(
                "changed files".into(),
                format!(
                    "{} more files changed since the container started were not copied: the bundle's member limit",
                    wanted.len() - i
                ),
            );
            break;
        }
        let rel = c.path.strip_prefix(b"/").unwrap_or(&c.path);
        let name = forensic_evidence::paths::copy_member(members::local(members::CHANGED_COPIES), &c.path, &c.path);
        match copy::copy_file(root, rel, &name, sink, &opts) {
            Ok(true) => copied += 1,
            Ok(false) => {}
            Err(crate::rootfs::RootError::Output { source, .. }) => return Err(source),
            Err(e) => sink.gap(forensic_evidence::escape(&c.path), format!("not copied: {e}")),
        }
    }
    ctx.count(Counter::ChangedCopied, copied);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(path: &str, kind: &str, mtime: i64, ctime: i64) -> String {
        format!(
            r#"{{"path":"{path}","type":"{kind}","mode":"0644","uid":0,"gid":0,"size":1,"mtime_ns":{mtime},"ctime_ns":{ctime},"inode":1,"nlink":1,"rdev":null,"symlink_target":null,"xattrs":null,"sha256":"{}"}}"#,
            "ab".repeat(32)
        )
    }

    #[test]
    fn files_changed_at_or_after_the_start_are_selected_by_mtime_or_ctime() {
        let index = [
            line("/old", "file", 10, 10),
            line("/backdated", "file", 10, 100),
            line("/written", "file", 100, 100),
            line("/dir", "dir", 100, 100),
            "not json".into(),
        ]
        .join("\n");
        let got = select(&mut index.as_bytes(), 100, false).unwrap_or_default();
        let paths: Vec<&[u8]> = got.iter().map(|c| c.path.as_slice()).collect();
        assert_eq!(paths, [&b"/backdated"[..], b"/written"]);
    }

    #[test]
    fn tmpfs_files_are_selected_whatever_their_times_and_credentials_only_when_asked() {
        let on = |path: &str, kind: &str, extra: &str| {
            let l = line(path, "file", 10, 10);
            format!(
                "{},\"mount\":\"/m\",\"mount_kind\":\"{kind}\"{extra}}}",
                l.trim_end_matches('}')
            )
        };
        let index = [
            on("/scratch/x.sh", "tmpfs", ""),
            on("/data/old", "host-path", ""),
            on("/sa/token", "projected", r#","withheld":"credential volume""#),
            on("/creds/password", "secret", ""),
        ]
        .join("\n");
        let paths = |include| {
            select(&mut index.as_bytes(), 100, include)
                .unwrap_or_default()
                .into_iter()
                .map(|c| String::from_utf8_lossy(&c.path).into_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(paths(false), ["/scratch/x.sh"]);
        // With --include-secrets the collector writes no `withheld`: only such lines are kept.
        assert_eq!(paths(true), ["/scratch/x.sh", "/creds/password"]);
    }

    #[test]
    fn a_file_already_copied_identically_under_upper_is_not_copied_again() {
        let c = Candidate {
            path: b"/etc/passwd".to_vec(),
            sha256: Some(Digest::of(b"x").hex()),
        };
        let mut w = BTreeMap::new();
        assert!(!already_held(&w, &c));
        w.insert("5-filesystem/upper/etc/passwd".to_string(), Digest::of(b"y"));
        assert!(!already_held(&w, &c), "a different content is copied again");
        w.insert("5-filesystem/root/etc/passwd".to_string(), Digest::of(b"x"));
        assert!(already_held(&w, &c));
    }
}
