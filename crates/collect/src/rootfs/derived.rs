//! Lists derived from a walk of the container root, the checklist's `find` commands:
//!
//! - `setuid`: regular files with the setuid or setgid bit (`find / -perm /6000 -type f`);
//! - `tmp-executables`: regular files with any execute bit under `/tmp`, `/var/tmp`, `/dev/shm`
//!   and `/run` (`find /tmp -executable -type f`);
//! - `recent`: regular files modified or changed within a window before a reference time
//!   (`find / -mmin -60 -type f`), including times after the reference (clocks can be set).
//!
//! Each list is two members: `<name>.txt`, one absolute path per line (control characters, `\`
//! and invalid UTF-8 escaped, so a newline in a name cannot forge a line), and `<name>.jsonl`
//! with the raw path (text or `{"bytes_hex"}`), mode, owner, size and times. Lists are spooled
//! to temporary files, so memory stays bounded however many files match.

use crate::rootfs::error::{RootError, display_path};
use crate::rootfs::json;
use crate::rootfs::root::RootFs;
use crate::rootfs::walk::{self, Entry, Visit, WalkOptions, WalkStats, XattrPolicy};
use crate::sink::{NewMember, Sink};
use forensic_bundle::manifest::{FileKind, Source};
use forensic_evidence::RawBytes;
use forensic_evidence::paths::in_temp_dir;
use forensic_evidence::records::Mode;
use forensic_evidence::records::derived::DerivedEntry;
use std::io::{Seek, Write};
use std::time::Duration;

/// What to derive.
#[derive(Debug, Clone)]
pub struct DerivedOptions {
    /// The reference time, nanoseconds since the Unix epoch (passed in: no clock is read here).
    pub reference_ns: i64,
    /// Files whose mtime or ctime is at or after `reference_ns - since` are listed as recent.
    pub since: Duration,
    /// Prefix of the member names.
    pub prefix: String,
    /// The walk for [`collect_derived`]: by default into every filesystem but pseudo ones, so that
    /// `/dev/shm`, `/run` and volumes are included.
    pub walk: WalkOptions,
}

impl DerivedOptions {
    /// Options for a reference time and window, with the default prefix `derived/` and walk.
    pub fn new(reference_ns: i64, since: Duration) -> DerivedOptions {
        DerivedOptions {
            reference_ns,
            since,
            prefix: "derived/".into(),
            walk: WalkOptions {
                xattrs: XattrPolicy::None,
                ..WalkOptions::default()
            },
        }
    }
}

/// How many paths each list holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DerivedStats {
    /// Setuid or setgid regular files.
    pub setuid: u64,
    /// Executables in the temporary directories.
    pub tmp_executables: u64,
    /// Recently modified or changed regular files.
    pub recent: u64,
    /// The walk, when [`collect_derived`] made one.
    pub walk: Option<WalkStats>,
}

/// The lists being built; feed it entries whose paths are relative to the container root.
#[derive(Debug)]
pub struct DerivedLists {
    threshold_ns: i64,
    prefix: String,
    setuid: List,
    tmp_executables: List,
    recent: List,
}

impl DerivedLists {
    /// Empty lists.
    pub fn new(opts: &DerivedOptions) -> DerivedLists {
        let since = i64::try_from(opts.since.as_nanos()).unwrap_or(i64::MAX);
        DerivedLists {
            threshold_ns: opts.reference_ns.saturating_sub(since),
            prefix: crate::rootfs::copy::normalized(&opts.prefix),
            setuid: List::new("setuid", "regular files with the setuid or setgid bit"),
            tmp_executables: List::new(
                "tmp-executables",
                "regular files with an execute bit under /tmp, /var/tmp, /dev/shm and /run",
            ),
            recent: List::new("recent", "regular files whose mtime or ctime is within the window"),
        }
    }

    /// Adds `e` (its path relative to the container root) to the lists it belongs on.
    ///
    /// # Errors
    /// Writing a spool file failed.
    pub fn observe(&mut self, e: &Entry) -> Result<(), RootError> {
        self.observe_under(b"", e)
    }

    /// Adds `e`, whose path is relative to `base` (a mount point, relative to the container
    /// root; empty for the root itself), to the lists it belongs on.
    ///
    /// # Errors
    /// Writing a spool file failed.
    pub fn observe_under(&mut self, base: &[u8], e: &Entry) -> Result<(), RootError> {
        if e.meta.kind != FileKind::File {
            return Ok(());
        }
        let m = &e.meta;
        let setuid = m.mode & 0o6000 != 0;
        let executable = m.mode & 0o111 != 0;
        let recent = m.mtime_ns >= self.threshold_ns || m.ctime_ns >= self.threshold_ns;
        if !(setuid || executable || recent) {
            return Ok(());
        }
        let path = if base.is_empty() {
            json::absolute(&e.path)
        } else {
            json::absolute(&crate::rootfs::copy::joined(base, &e.path))
        };
        if setuid {
            self.setuid.add(&path, e)?;
        }
        if executable && in_temp_dir(&path) {
            self.tmp_executables.add(&path, e)?;
        }
        if recent {
            self.recent.add(&path, e)?;
        }
        Ok(())
    }

    /// Writes the six members (`setuid.txt`, `setuid.jsonl`, `tmp-executables.*`, `recent.*`),
    /// empty lists included.
    ///
    /// # Errors
    /// A spool file could not be read back, or the sink failed.
    pub fn write_members(self, sink: &mut dyn Sink) -> Result<DerivedStats, RootError> {
        let stats = DerivedStats {
            setuid: self.setuid.count,
            tmp_executables: self.tmp_executables.count,
            recent: self.recent.count,
            walk: None,
        };
        for list in [self.setuid, self.tmp_executables, self.recent] {
            list.write(&self.prefix, sink)?;
        }
        Ok(stats)
    }
}

/// Walks the whole container root once and writes the derived lists into `sink`.
///
/// # Errors
/// The root cannot be listed, a spool file failed, or the sink failed.
pub fn collect_derived(root: &RootFs, sink: &mut dyn Sink, opts: &DerivedOptions) -> Result<DerivedStats, RootError> {
    let mut lists = DerivedLists::new(opts);
    let walked = walk::walk(root, b"", &opts.walk, &mut |v| match v {
        Visit::Entry(e, _) => lists.observe(&e),
        Visit::Skipped(_) => Ok(()),
    })?;
    let mut stats = lists.write_members(sink)?;
    stats.walk = Some(walked);
    Ok(stats)
}

/// One list: a text spool and a JSONL spool.
#[derive(Debug)]
struct List {
    name: &'static str,
    what: &'static str,
    count: u64,
    txt: Spool,
    jsonl: Spool,
}

impl List {
    fn new(name: &'static str, what: &'static str) -> List {
        List {
            name,
            what,
            count: 0,
            txt: Spool::new(),
            jsonl: Spool::new(),
        }
    }

    /// Adds `e`, found at the absolute container path `path`.
    fn add(&mut self, path: &[u8], e: &Entry) -> Result<(), RootError> {
        let mut text = display_path(path).into_bytes();
        text.push(b'\n');
        self.txt.push(&text)?;
        let m = &e.meta;
        let mut line = Vec::with_capacity(160);
        json::push_line(
            &mut line,
            &DerivedEntry {
                path: RawBytes::borrowed(path),
                mode: Mode(m.mode),
                uid: m.uid,
                gid: m.gid,
                size: m.size,
                mtime_ns: m.mtime_ns,
                ctime_ns: m.ctime_ns,
                inode: m.inode,
            },
        );
        self.jsonl.push(&line)?;
        self.count += 1;
        Ok(())
    }

    fn write(self, prefix: &str, sink: &mut dyn Sink) -> Result<(), RootError> {
        for (spool, ext) in [(self.txt, "txt"), (self.jsonl, "jsonl")] {
            let name = format!("{prefix}{}.{ext}", self.name);
            let mut file = spool.finish().map_err(|e| RootError::output(name.clone(), e))?;
            let derived = format!("walk of the container root: {}", self.what);
            sink.member(NewMember::new(name.clone(), Source::Derived { derived }), &mut file)
                .map_err(|e| RootError::output(name, e))?;
        }
        Ok(())
    }
}

/// A list being written: in memory up to [`SPOOL_MEMORY`], then in an unnamed temporary file
/// enciphered with a key held only in memory ([`forensic_crypt::Scratch`]): the paths in it are
/// evidence, never in clear on the collecting node's disk.
#[derive(Debug)]
struct Spool {
    memory: Vec<u8>,
    file: Option<forensic_crypt::Scratch>,
}

/// Bytes a spool keeps in memory before it moves to its enciphered file.
const SPOOL_MEMORY: usize = 1 << 20;

impl Spool {
    fn new() -> Spool {
        Spool {
            memory: Vec::new(),
            file: None,
        }
    }

    fn push(&mut self, bytes: &[u8]) -> Result<(), RootError> {
        self.memory.extend_from_slice(bytes);
        if self.memory.len() >= SPOOL_MEMORY {
            let err = |e| RootError::output("a derived list spool", e);
            let file = match &mut self.file {
                Some(f) => f,
                None => self
                    .file
                    .insert(forensic_crypt::Scratch::create_in(&std::env::temp_dir()).map_err(err)?),
            };
            file.write_all(&self.memory).map_err(err)?;
            self.memory.clear();
        }
        Ok(())
    }

    fn finish(self) -> std::io::Result<Box<dyn std::io::Read>> {
        match self.file {
            None => Ok(Box::new(std::io::Cursor::new(self.memory))),
            Some(mut f) => {
                f.write_all(&self.memory)?;
                f.rewind()?;
                Ok(Box::new(f))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::MemorySink;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn lists_setuid_temp_executables_and_recent_files() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        for d in ["usr/bin", "tmp/.x", "dev/shm", "etc"] {
            std::fs::create_dir_all(r.join(d)).unwrap();
        }
        let put = |p: &str, mode: u32| {
            std::fs::write(r.join(p), b"x").unwrap();
            std::fs::set_permissions(r.join(p), std::fs::Permissions::from_mode(mode)).unwrap();
        };
        put("usr/bin/su", 0o4755);
        put("usr/bin/ls", 0o755);
        put("tmp/.x/miner", 0o700);
        put("tmp/notes", 0o644);
        put("dev/shm/p\nayload", 0o755);
        put("etc/passwd", 0o644);
        std::fs::write(r.join("tmptation"), b"").unwrap();
        std::fs::set_permissions(r.join("tmptation"), std::fs::Permissions::from_mode(0o755)).unwrap();
        // Only etc/passwd is old.
        let old = rustix::fs::Timestamps {
            last_access: rustix::fs::Timespec {
                tv_sec: 1_000_000_000,
                tv_nsec: 0,
            },
            last_modification: rustix::fs::Timespec {
                tv_sec: 1_000_000_000,
                tv_nsec: 0,
            },
        };
        let now_ns = i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos(),
        )
        .unwrap();
        rustix::fs::utimensat(
            rustix::fs::CWD,
            r.join("etc/passwd"),
            &old,
            rustix::fs::AtFlags::empty(),
        )
        .unwrap();
        let root = RootFs::open(r).unwrap();
        let mut sink = MemorySink::default();
        // A window of two minutes around now: everything is recent, passwd too (its mtime is old,
        // but setting it changed its ctime, which cannot be set back).
        let opts = DerivedOptions::new(now_ns + 60_000_000_000, Duration::from_secs(120));
        let stats = collect_derived(&root, &mut sink, &opts).unwrap();
        assert_eq!((stats.setuid, stats.tmp_executables, stats.recent), (1, 2, 7));
        assert_eq!(sink.members.len(), 6);
        assert_eq!(sink.content("derived/setuid.txt"), Some(&b"/usr/bin/su\n"[..]));
        assert_eq!(
            sink.content("derived/tmp-executables.txt"),
            Some(&b"/dev/shm/p\\nayload\n/tmp/.x/miner\n"[..])
        );
        let jsonl = std::str::from_utf8(sink.content("derived/setuid.jsonl").unwrap()).unwrap();
        let v: serde_json::Value = serde_json::from_str(jsonl.trim_end()).unwrap();
        assert_eq!(
            (v["path"].as_str(), v["mode"].as_str()),
            (Some("/usr/bin/su"), Some("4755"))
        );
        let recent = std::str::from_utf8(sink.content("derived/recent.txt").unwrap()).unwrap();
        assert!(recent.lines().any(|l| l == "/etc/passwd"));
        // A window that ends two hours from now lists nothing.
        let mut sink = MemorySink::default();
        let later = DerivedOptions::new(now_ns + 7_200_000_000_000, Duration::from_secs(60));
        assert_eq!(collect_derived(&root, &mut sink, &later).unwrap().recent, 0);
        assert_eq!(sink.content("derived/recent.txt"), Some(&b""[..]));
        // The same lists from the index walk, through its observer.
        let mut lists = DerivedLists::new(&opts);
        let mut index = Vec::new();
        crate::rootfs::index::write_index_observed(
            &root,
            &mut index,
            &Default::default(),
            &mut |e| lists.observe(e),
            &|_, _| {},
        )
        .unwrap();
        let mut sink = MemorySink::default();
        assert_eq!(lists.write_members(&mut sink).unwrap().setuid, 1);
    }
}
