//! The layers of an overlay mount, read from its super options.
//!
//! Docker, Podman, containerd and CRI-O build a container's root filesystem as an overlay: the
//! image layers are `lowerdir` (read-only, topmost first), and everything the container wrote is
//! in `upperdir` on the host. That upper directory is what a responder copies.
//!
//! `lowerdir` holds several paths separated by `:`; a `:` (or backslash) inside a path is escaped
//! with a backslash (`\:`), as `mount -o` expects, and the kernel shows the option the way it was
//! given. Since Linux 6.7, `lowerdir+=` and `datadir+=` name one layer per option, and a `::` in
//! `lowerdir` starts the data-only layers.

use serde::Serialize;

use super::{Mount, option_value};
use crate::text::ByteString;

/// The layers of an overlay mount.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Overlay {
    /// Read-only layers, topmost first (`lowerdir=` split on unescaped `:`, then `lowerdir+=`).
    pub lowerdirs: Vec<ByteString>,
    /// Data-only lower layers (after `::` in `lowerdir=`, and `datadir+=`); usually empty.
    pub datadirs: Vec<ByteString>,
    /// The writable layer: where the container's changes are. `None` for a read-only overlay.
    pub upperdir: Option<ByteString>,
    /// Overlay's scratch directory next to the upper layer.
    pub workdir: Option<ByteString>,
}

/// The layers of `mount` if it is an overlay (`fstype` `overlay`, or `overlayfs` on old Ubuntu
/// kernels), else `None`.
///
/// Paths are un-escaped (`\:` → `:`, `\\` → `\`) as the kernel does when it opens them.
///
/// ```
/// use forensic_proc::mountinfo::{overlay, parse_mountinfo};
/// let table = parse_mountinfo("1 0 0:52 / / rw - overlay overlay rw,lowerdir=/l/B:/l/A,upperdir=/u/diff,workdir=/u/work");
/// let layers = overlay(&table.rows[0]).unwrap();
/// assert_eq!(layers.lowerdirs, ["/l/B", "/l/A"]);
/// assert_eq!(layers.upperdir.unwrap(), "/u/diff");
/// ```
pub fn overlay(mount: &Mount) -> Option<Overlay> {
    if mount.fstype != "overlay" && mount.fstype != "overlayfs" {
        return None;
    }
    let mut layers = Overlay::default();
    for option in &mount.super_options {
        let option = option.as_bytes();
        if let Some(value) = option_value(option, b"lowerdir") {
            let (lower, data) = split_lowerdir(value);
            layers.lowerdirs.extend(lower);
            layers.datadirs.extend(data);
        } else if let Some(value) = option_value(option, b"lowerdir+") {
            layers.lowerdirs.push(ByteString::new(unescape(value)));
        } else if let Some(value) = option_value(option, b"datadir+") {
            layers.datadirs.push(ByteString::new(unescape(value)));
        } else if let Some(value) = option_value(option, b"upperdir") {
            layers.upperdir = Some(ByteString::new(unescape(value)));
        } else if let Some(value) = option_value(option, b"workdir") {
            layers.workdir = Some(ByteString::new(unescape(value)));
        }
    }
    Some(layers)
}

/// Splits `lowerdir`'s value on unescaped `:`; layers after a `::` are data-only.
fn split_lowerdir(value: &[u8]) -> (Vec<ByteString>, Vec<ByteString>) {
    let mut lower = Vec::new();
    let mut data = Vec::new();
    let mut in_data = false;
    let mut current = Vec::new();
    let mut bytes = value.iter().copied();
    let mut finish = |current: &mut Vec<u8>, in_data: &mut bool| {
        if current.is_empty() {
            // An empty element comes from `::`: the data-only layers follow.
            *in_data = true;
        } else if *in_data {
            data.push(ByteString::new(std::mem::take(current)));
        } else {
            lower.push(ByteString::new(std::mem::take(current)));
        }
    };
    while let Some(byte) = bytes.next() {
        match byte {
            b'\\' => current.push(bytes.next().unwrap_or(b'\\')),
            b':' => finish(&mut current, &mut in_data),
            other => current.push(other),
        }
    }
    if !current.is_empty() {
        finish(&mut current, &mut in_data);
    }
    (lower, data)
}

/// Removes overlay's backslash escapes: `\x` is `x`; a lone trailing backslash is kept.
fn unescape(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    let mut bytes = value.iter().copied();
    while let Some(byte) = bytes.next() {
        out.push(if byte == b'\\' {
            bytes.next().unwrap_or(b'\\')
        } else {
            byte
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mountinfo::parse_mountinfo;

    fn first(text: &[u8]) -> Mount {
        parse_mountinfo(text).rows.into_iter().next().unwrap()
    }

    fn strings(items: &[&str]) -> Vec<ByteString> {
        items.iter().map(|item| ByteString::from(*item)).collect()
    }

    #[test]
    fn escaped_colon_comma_and_backslash_in_layer_paths() {
        // The user wrote `lowerdir=/a\:b:/c,d:/e\\f` (comma escaped for the mount option
        // parser); the kernel shows the backslashes as \134 and the comma as \054.
        let mount = first(br"1 0 0:52 / / rw - overlay overlay rw,lowerdir=/a\134:b:/c\054d:/e\134\134f,upperdir=/u\134:1/diff,workdir=/u/work");
        assert_eq!(
            overlay(&mount),
            Some(Overlay {
                lowerdirs: strings(&["/a:b", "/c,d", "/e\\f"]),
                datadirs: vec![],
                upperdir: Some("/u:1/diff".into()),
                workdir: Some("/u/work".into()),
            })
        );
    }

    #[test]
    fn data_only_layers_and_plus_options() {
        let mount = first(b"1 0 0:52 / / ro - overlay composefs ro,lowerdir=/meta::/objects,redirect_dir=on");
        let layers = overlay(&mount).unwrap();
        assert_eq!(layers.lowerdirs, strings(&["/meta"]));
        assert_eq!(layers.datadirs, strings(&["/objects"]));
        assert_eq!(layers.upperdir, None);

        let mount = first(
            b"1 0 0:52 / / rw - overlay overlay rw,lowerdir+=/l/1,lowerdir+=/l/2,datadir+=/d/1,upperdir=/u,workdir=/w",
        );
        let layers = overlay(&mount).unwrap();
        assert_eq!(layers.lowerdirs, strings(&["/l/1", "/l/2"]));
        assert_eq!(layers.datadirs, strings(&["/d/1"]));
    }

    #[test]
    fn not_an_overlay() {
        assert_eq!(overlay(&first(b"1 0 8:1 / / rw - ext4 /dev/sda1 rw,lowerdir=/x")), None);
        let old_ubuntu = first(b"1 0 0:40 / / rw - overlayfs overlayfs rw,lowerdir=/l,upperdir=/u");
        assert_eq!(
            overlay(&old_ubuntu).map(|layers| layers.lowerdirs),
            Some(strings(&["/l"]))
        );
    }
}
