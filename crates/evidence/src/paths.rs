//! Paths inside the container that the collector and the analysis agree on: the temporary
//! directories, and the rule that names the member holding a copied file.

use forensic_bundle::name::{MAX_NAME_LEN, escape_segment};
use sha2::{Digest, Sha256};

/// The temporary directories: world-writable places where an attacker drops tools. Executables
/// under them are listed (`5-filesystem/derived/tmp-executables.*`), copied, and flagged in
/// processes that run from or map them.
pub const TEMP_DIRS: [&str; 4] = ["/tmp", "/var/tmp", "/dev/shm", "/run"];

/// Whether the absolute path `path` (bytes, inside the container) lies under one of
/// [`TEMP_DIRS`] (strictly below it: `/tmp` itself is not, `/tmpfoo` is not).
///
/// ```
/// use forensic_evidence::paths::in_temp_dir;
/// assert!(in_temp_dir(b"/tmp/x") && in_temp_dir(b"/dev/shm/a/b"));
/// assert!(!in_temp_dir(b"/tmp") && !in_temp_dir(b"/tmpfoo/x") && !in_temp_dir(b"tmp/x"));
/// ```
pub fn in_temp_dir(path: &[u8]) -> bool {
    TEMP_DIRS.iter().any(|d| {
        path.strip_prefix(d.as_bytes())
            .is_some_and(|rest| rest.first() == Some(&b'/') && rest.len() > 1)
    })
}

/// Longest member name the copy rule produces before it falls back to a hashed name; leaves room
/// for a section prefix within SPEC §3's 1,024 bytes.
pub const MAX_COPY_NAME: usize = MAX_NAME_LEN - 32;

/// The member name of the copy of a file: `prefix` followed by `path`'s components, each
/// percent-escaped (SPEC §3). When that would be longer than [`MAX_COPY_NAME`], or `path` has no
/// component, the name is `prefix` + `%long-name/` + the SHA-256 (hex) of `original` (the
/// file's full original path, recorded as the member's source), so that every copy has a name.
///
/// `prefix` is a member name prefix ending in `/` (or empty); `path` is relative or absolute
/// (leading and repeated `/` are ignored).
///
/// ```
/// use forensic_evidence::paths::copy_member;
/// assert_eq!(copy_member("5-filesystem/root/", b"/tmp/a\nb", b"/tmp/a\nb"), "5-filesystem/root/tmp/a%0Ab");
/// assert!(copy_member("x/", b"", b"/").starts_with("x/%long-name/"));
/// ```
pub fn copy_member(prefix: &str, path: &[u8], original: &[u8]) -> String {
    let mut name = String::from(prefix);
    for (i, comp) in path.split(|&b| b == b'/').filter(|c| !c.is_empty()).enumerate() {
        if i > 0 {
            name.push('/');
        }
        name.push_str(&escape_segment(comp));
        if name.len() > MAX_COPY_NAME {
            break;
        }
    }
    if name.len() > MAX_COPY_NAME || name.len() == prefix.len() {
        return format!("{prefix}%long-name/{}", hex::encode(Sha256::digest(original)));
    }
    name
}

/// The member holding the copy `collect` makes of the container file at absolute path `path`
/// under [`crate::members::ROOT_COPIES`] (the places attackers use), by [`copy_member`] with the
/// prefix `root/` within section 5, as the collector calls it.
///
/// For a file inside a copied directory whose name passes [`MAX_COPY_NAME`], the collector keeps
/// the directory's name and hashes the rest (`…/%long-name/<sha256>`); this function then names
/// a member that does not exist, and a reader says the copy is absent.
///
/// ```
/// assert_eq!(forensic_evidence::paths::root_copy(b"/etc/passwd"), "5-filesystem/root/etc/passwd");
/// ```
pub fn root_copy(path: &[u8]) -> String {
    format!("5-filesystem/{}", copy_member("root/", path, path))
}

/// The member holding the copy `collect` makes of the container file at absolute path `path`
/// because it changed after the container started (under [`crate::members::CHANGED_COPIES`]),
/// by [`copy_member`] with the prefix `changed/` within section 5.
///
/// ```
/// assert_eq!(forensic_evidence::paths::changed_copy(b"/usr/bin/helper"), "5-filesystem/changed/usr/bin/helper");
/// ```
pub fn changed_copy(path: &[u8]) -> String {
    format!("5-filesystem/{}", copy_member("changed/", path, path))
}

/// The full member name of the copy of `path` (absolute, inside the layer) from lower layer `n`
/// of the image on the node, kept because it differs from the node's record of that layer
/// (under [`crate::members::LAYER_CHANGED_COPIES`], CONTENTS.md §7): `9-image/layer-changed/N/…`.
/// A layer has its own prefix because the same path may differ in several layers, and its
/// content need not be the merged view's (an upper layer may hide it).
///
/// ```
/// assert_eq!(
///     forensic_evidence::paths::layer_changed_copy(0, b"/usr/bin/helper"),
///     "9-image/layer-changed/0/usr/bin/helper"
/// );
/// ```
pub fn layer_changed_copy(n: usize, path: &[u8]) -> String {
    format!("9-image/{}", layer_changed_local(n, path))
}

/// [`layer_changed_copy`] as named within section 9 (`layer-changed/N/…`).
pub fn layer_changed_local(n: usize, path: &[u8]) -> String {
    let prefix = crate::members::local(crate::members::LAYER_CHANGED_COPIES);
    copy_member(&format!("{prefix}{n}/"), path, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use forensic_bundle::name::validate;

    #[test]
    fn names_are_escaped_and_bounded() {
        assert_eq!(
            copy_member("files/tmp/", b"a/b\nc", b"/tmp/a/b\nc"),
            "files/tmp/a/b%0Ac"
        );
        assert_eq!(copy_member("", b"..", b"/x/.."), "%2E%2E");
        let deep = vec![b"x".repeat(255); 8].join(&b'/');
        let n = copy_member("files/", &deep, &deep);
        assert!(n.starts_with("files/%long-name/") && n.len() < 100, "{n}");
        assert!(validate(&n).is_ok());
        let fits = vec![b"y".repeat(200); 4].join(&b'/');
        assert_eq!(copy_member("5-filesystem/root/", &fits, &fits).len(), 18 + 803);
    }

    #[test]
    fn temp_dirs_match_by_component() {
        assert!(in_temp_dir(b"/var/tmp/.x/y"));
        assert!(!in_temp_dir(b"/var/tmpx/y") && !in_temp_dir(b"/tmp/"));
    }
}
