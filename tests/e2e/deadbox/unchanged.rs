//! "Nothing under ROOT changes" (issue 13): a recursive listing of a tree with every `lstat`
//! field that a read could change (atime included), each regular file's SHA-256 and each entry's
//! xattrs, taken without changing what it lists: directories and files are opened `O_NOATIME`,
//! xattrs read by path (no atime). Known limit, as for a live container (`attack::Untouched`):
//! reading a symlink's target updates the link's atime and Linux has no `O_NOATIME` for it, so
//! a symlink's atime is left out; every other field of a symlink is compared.

use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags};
use std::collections::BTreeMap;
use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

/// `relative path → "type mode uid:gid size rdev nlink ino atime mtime ctime sha256 target xattrs"`.
pub type Listing = BTreeMap<String, String>;

fn open_dir(dir: impl AsFd, name: &str) -> OwnedFd {
    rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::NOATIME | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .unwrap_or_else(|e| panic!("open {name}: {e}"))
}

fn sha256_of(dir: impl AsFd, name: &str) -> String {
    let fd = rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NOATIME | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .unwrap_or_else(|e| panic!("open {name}: {e}"));
    let mut bytes = Vec::new();
    std::fs::File::from(fd).read_to_end(&mut bytes).unwrap();
    forensic_bundle::digest::Digest::of(&bytes).hex()
}

fn xattrs(path: &Path) -> String {
    let mut names = vec![0u8; 65536];
    let n = rustix::fs::llistxattr(path, &mut names[..]).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    for name in names[..n].split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name = std::ffi::CString::new(name).unwrap();
        let mut value = vec![0u8; 65536];
        let len = rustix::fs::lgetxattr(path, name.as_c_str(), &mut value[..]).unwrap();
        out.push(format!("{}={}", name.to_string_lossy(), hex::encode(&value[..len])));
    }
    out.sort();
    out.join(",")
}

fn walk(root: &Path, dir: &OwnedFd, rel: &str, out: &mut Listing) {
    let mut names = Vec::new();
    for e in Dir::read_from(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if name != "." && name != ".." {
            names.push(name);
        }
    }
    for name in names {
        let path = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let st = rustix::fs::statat(dir, name.as_str(), AtFlags::SYMLINK_NOFOLLOW).unwrap();
        let kind = FileType::from_raw_mode(st.st_mode);
        let (sha, target) = match kind {
            FileType::RegularFile => (sha256_of(dir, &name), String::new()),
            FileType::Symlink => {
                let t = rustix::fs::readlinkat(dir, name.as_str(), Vec::new()).unwrap();
                (String::new(), t.to_string_lossy().into_owned())
            }
            _ => (String::new(), String::new()),
        };
        let atime = if kind == FileType::Symlink {
            "-".to_string()
        } else {
            format!("{}.{:09}", st.st_atime, st.st_atime_nsec)
        };
        out.insert(
            path.clone(),
            format!(
                "{kind:?} {:o} {}:{} {} {} {} {} {atime} {}.{:09} {}.{:09} {sha} {target:?} {}",
                st.st_mode,
                st.st_uid,
                st.st_gid,
                st.st_size,
                st.st_rdev,
                st.st_nlink,
                st.st_ino,
                st.st_mtime,
                st.st_mtime_nsec,
                st.st_ctime,
                st.st_ctime_nsec,
                xattrs(&root.join(&path)),
            ),
        );
        if kind == FileType::Directory {
            let sub = open_dir(dir, &name);
            walk(root, &sub, &path, out);
        }
    }
}

/// The listing of everything under `root` (the root directory itself included, as ".").
pub fn listing(root: &Path) -> Listing {
    let fd = open_dir(rustix::fs::CWD, root.to_str().unwrap());
    let mut out = Listing::new();
    let st = rustix::fs::fstat(&fd).unwrap();
    out.insert(
        ".".to_string(),
        format!(
            "{:o} {}.{:09} {}.{:09} {}.{:09}",
            st.st_mode, st.st_atime, st.st_atime_nsec, st.st_mtime, st.st_mtime_nsec, st.st_ctime, st.st_ctime_nsec
        ),
    );
    walk(root, &fd, "", &mut out);
    out
}

/// Panics naming every entry that appeared, disappeared or changed between two listings.
pub fn assert_same(before: &Listing, after: &Listing) {
    let mut diffs = Vec::new();
    for (path, b) in before {
        match after.get(path) {
            None => diffs.push(format!("gone: {path}")),
            Some(a) if a != b => diffs.push(format!("{path}:\n  before {b}\n  after  {a}")),
            Some(_) => {}
        }
    }
    for path in after.keys().filter(|p| !before.contains_key(*p)) {
        diffs.push(format!("appeared: {path}"));
    }
    assert!(diffs.is_empty(), "ROOT changed:\n{}", diffs.join("\n"));
}
