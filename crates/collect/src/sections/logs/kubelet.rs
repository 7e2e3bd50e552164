//! The kubelet's log directory of a container, `/var/log/pods/NAMESPACE_POD_UID/CONTAINER/`:
//! `N.log` of the current instance, `N-1.log` of the previous one, rotated `N.log.YYYYMMDD-hhmmss`
//! and compressed `….gz` siblings, copied byte for byte (CONTENTS.md §16).
//!
//! # Security
//! The directory names come from container labels: each part is checked to be one path
//! component. The pod and container directories are opened with `O_NOFOLLOW`, each file with
//! `O_NOFOLLOW | O_NONBLOCK` relative to the directory's descriptor; a symbolic link there is
//! recorded (a gap naming its target), never followed; anything but a regular file is not read.

use crate::sink::{NewMember, Sink};
use forensic_bundle::manifest::{RawPath, Source};
use rustix::fs::{Mode, OFlags};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Where the kubelet writes container logs.
pub const KUBELET_LOG_ROOT: &str = "/var/log/pods";

/// One path component: non-empty, no `/` or NUL, not `.` or `..`.
fn component(s: &str) -> Option<&str> {
    (!s.is_empty() && s != "." && s != ".." && !s.contains('/') && !s.contains('\0')).then_some(s)
}

/// `ROOT/NAMESPACE_POD_UID/CONTAINER`, when every part is one path component.
pub fn container_dir(root: &Path, ns: &str, pod: &str, uid: &str, container: &str) -> Option<PathBuf> {
    let pod_dir = format!("{}_{}_{}", component(ns)?, component(pod)?, component(uid)?);
    Some(root.join(component(&pod_dir)?).join(component(container)?))
}

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

/// Opens `dir` (from [`container_dir`]): its parent and itself without following a link.
fn open_dir(dir: &Path) -> io::Result<rustix::fd::OwnedFd> {
    let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a container log directory",
        ));
    };
    let (Some(root), Some(pod)) = (parent.parent(), parent.file_name()) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a container log directory",
        ));
    };
    let root = rustix::fs::open(root, DIR_FLAGS.difference(OFlags::NOFOLLOW), Mode::empty())?;
    let pod = rustix::fs::openat(&root, pod, DIR_FLAGS, Mode::empty())?;
    Ok(rustix::fs::openat(&pod, name, DIR_FLAGS, Mode::empty())?)
}

/// Copies every file of `dir` into `pods/CONTAINER/FILE` (names escaped as SPEC §3 says), each
/// at most `max` bytes; what cannot be copied is a gap.
///
/// # Errors
/// Only when the bundle cannot be written.
pub fn copy_dir(sink: &mut dyn Sink, dir: &Path, container: &str, max: u64) -> io::Result<()> {
    match open_dir(dir) {
        Ok(fd) => copy_open_dir(sink, &fd, dir, container, max),
        Err(e) => {
            sink.gap(
                dir.display().to_string(),
                format!("the kubelet's log directory could not be opened: {e}"),
            );
            Ok(())
        }
    }
}

/// [`copy_dir`] on the directory already open as `fd`; `dir` is the path its files are recorded
/// under (on a node's disk read offline, the node path).
///
/// # Errors
/// Only when the bundle cannot be written.
pub fn copy_open_dir(
    sink: &mut dyn Sink,
    fd: &rustix::fd::OwnedFd,
    dir: &Path,
    container: &str,
    max: u64,
) -> io::Result<()> {
    let shown = dir.display().to_string();
    let mut names = Vec::new();
    match rustix::fs::Dir::read_from(fd) {
        Ok(entries) => {
            for entry in entries {
                match entry {
                    Ok(e) => {
                        let n = e.file_name().to_bytes().to_vec();
                        if n != b"." && n != b".." {
                            names.push(n);
                        }
                    }
                    Err(e) => {
                        sink.gap(
                            shown.clone(),
                            format!("listing the kubelet's log directory failed: {e}"),
                        );
                        break;
                    }
                }
            }
        }
        Err(e) => {
            sink.gap(shown, format!("the kubelet's log directory could not be listed: {e}"));
            return Ok(());
        }
    }
    names.sort();
    let prefix = format!("pods/{}/", forensic_bundle::name::escape_segment(container.as_bytes()));
    for name in names {
        let path = dir.join(std::ffi::OsStr::from_bytes(&name));
        let raw = RawPath::from_bytes(path.as_os_str().as_bytes());
        let what = path.display().to_string();
        if sink.room() == 0 {
            sink.gap(what, "not copied: the bundle's member limit is reached".into());
            continue;
        }
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        // O_NOATIME leaves the log's access time as it was; without CAP_FOWNER on another
        // user's file the kernel refuses it, and the file is opened without.
        let opened = match rustix::fs::openat(fd, name.as_slice(), flags | OFlags::NOATIME, Mode::empty()) {
            Err(rustix::io::Errno::PERM) => rustix::fs::openat(fd, name.as_slice(), flags, Mode::empty()),
            r => r,
        };
        let file = match opened {
            Ok(f) => std::fs::File::from(f),
            Err(rustix::io::Errno::LOOP) => {
                let target = rustix::fs::readlinkat(fd, name.as_slice(), Vec::new())
                    .map(|t| String::from_utf8_lossy(t.to_bytes()).into_owned())
                    .unwrap_or_else(|e| format!("(unreadable: {e})"));
                sink.gap(what, format!("a symbolic link to {target:?}: recorded, not followed"));
                continue;
            }
            Err(e) => {
                sink.gap(what, format!("could not be opened: {e}"));
                continue;
            }
        };
        let md = file.metadata()?;
        if !md.is_file() {
            sink.gap(what, "not a regular file: not copied".into());
            continue;
        }
        let mut m = NewMember::new(
            format!("{prefix}{}", forensic_bundle::name::escape_segment(&name)),
            Source::path(raw),
        );
        m.max_len = Some(max);
        m.size_hint = Some(md.len().min(max));
        m.meta = forensic_disk::meta::from_metadata(&md, None, None).ok();
        let mut f = file;
        let w = sink.member(m, &mut f)?;
        if w.truncated {
            sink.gap(
                what,
                format!("only the first {max} bytes were copied (--max-file-size)"),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::MemorySink;
    use std::io::Write;

    #[test]
    fn names_must_be_single_components() {
        let root = Path::new("/var/log/pods");
        assert_eq!(
            container_dir(root, "shop", "web-0", "u-1", "app"),
            Some(PathBuf::from("/var/log/pods/shop_web-0_u-1/app"))
        );
        assert_eq!(container_dir(root, "shop", "../../etc", "u", "app"), None);
        assert_eq!(container_dir(root, "shop", "web", "u", ".."), None);
        assert_eq!(container_dir(root, "", "web", "u", "app"), None);
    }

    #[test]
    fn every_file_byte_for_byte_a_symlink_recorded_not_followed_and_the_cap_kept() {
        let t = tempfile::tempdir().unwrap();
        let dir = container_dir(t.path(), "shop", "web-0", "u-1", "app").unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        let rotated = b"2026-12-02T07:53:37.852075891Z stdout F old\n";
        std::fs::write(dir.join("0.log"), b"2026-12-02T07:53:37.852169443Z stdout F previous\n").unwrap();
        std::fs::write(dir.join("1.log"), b"2026-12-02T07:59:00.000000000Z stderr F current\n").unwrap();
        std::fs::write(dir.join("1.log.20261202-075900"), rotated).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(rotated).unwrap();
        let gz = gz.finish().unwrap();
        std::fs::write(dir.join("1.log.20261202-075800.gz"), &gz).unwrap();
        std::fs::write(t.path().join("secret"), b"host secret").unwrap();
        std::os::unix::fs::symlink(t.path().join("secret"), dir.join("2.log")).unwrap();

        let mut sink = MemorySink::default();
        copy_dir(&mut sink, &dir, "app", 1 << 20).unwrap();
        let names: Vec<&str> = sink.members.iter().map(|(m, _, _)| m.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "pods/app/0.log",
                "pods/app/1.log",
                "pods/app/1.log.20261202-075800.gz",
                "pods/app/1.log.20261202-075900"
            ]
        );
        assert_eq!(sink.content("pods/app/1.log.20261202-075800.gz"), Some(gz.as_slice()));
        assert_eq!(sink.content("pods/app/1.log.20261202-075900"), Some(&rotated[..]));
        assert!(
            sink.members
                .iter()
                .all(|(m, c, _)| m.meta.as_ref().is_some_and(|md| md.size == c.len() as u64))
        );
        assert_eq!(
            sink.gaps,
            [(
                dir.join("2.log").display().to_string(),
                format!(
                    "a symbolic link to {:?}: recorded, not followed",
                    t.path().join("secret").display().to_string()
                )
            )]
        );

        // The cap: a truncated copy is marked and said.
        let mut sink = MemorySink::default();
        copy_dir(&mut sink, &dir, "app", 10).unwrap();
        assert_eq!(sink.content("pods/app/0.log"), Some(&b"2026-12-02"[..]));
        assert!(
            sink.gaps
                .iter()
                .any(|(w, r)| w.ends_with("/0.log") && r == "only the first 10 bytes were copied (--max-file-size)")
        );

        // A pod directory that is a symlink is not entered.
        let elsewhere = container_dir(t.path(), "shop", "evil", "u-2", "app").unwrap();
        std::os::unix::fs::symlink(dir.parent().unwrap(), elsewhere.parent().unwrap()).unwrap();
        let mut sink = MemorySink::default();
        copy_dir(&mut sink, &elsewhere, "app", 1 << 20).unwrap();
        assert!(sink.members.is_empty());
        assert_eq!(sink.gaps.len(), 1);
        assert!(
            sink.gaps[0]
                .1
                .starts_with("the kubelet's log directory could not be opened: "),
            "{:?}",
            sink.gaps
        );
    }
}
