//! Helpers for the JSON-lines members: the records themselves are `forensic_evidence::records`.

use forensic_bundle::manifest::{RawPath, Xattr};
use forensic_evidence::RawBytes;
use forensic_evidence::records::{Device, XattrPair};
use serde::Serialize;

/// The bytes of a [`RawPath`], borrowed.
pub(crate) fn raw_of_path(p: &RawPath) -> RawBytes<'_> {
    match p {
        RawPath::Text(s) => RawBytes::borrowed(s.as_bytes()),
        RawPath::Bytes(b) => RawBytes::borrowed(b),
    }
}

/// Extended attributes as the records hold them, borrowed.
pub(crate) fn xattr_pairs(x: &[Xattr]) -> Vec<XattrPair<'_>> {
    x.iter()
        .map(|Xattr(name, value)| XattrPair(name.clone(), RawBytes::borrowed(value)))
        .collect()
}

/// The device number of `rdev`.
pub(crate) fn device_of(rdev: u64) -> Device {
    Device {
        major: u64::from(rustix::fs::major(rdev)),
        minor: u64::from(rustix::fs::minor(rdev)),
    }
}

/// `major:minor` of a device number.
pub(crate) fn device(rdev: u64) -> String {
    let d = device_of(rdev);
    format!("{}:{}", d.major, d.minor)
}

/// `/` + `rel`: the absolute path inside the container of a path relative to its root.
pub(crate) fn absolute(rel: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(rel.len() + 1);
    p.push(b'/');
    p.extend_from_slice(rel.strip_prefix(b"/").unwrap_or(rel));
    p
}

/// Lowercase hex of `bytes` (faster than collecting `char`s).
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS.get(usize::from(b >> 4)).copied().unwrap_or(b'0'));
        out.push(DIGITS.get(usize::from(b & 15)).copied().unwrap_or(b'0'));
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Serialises `value` as one JSON line (with `\n`) onto `out`.
pub(crate) fn push_line<T: Serialize>(out: &mut Vec<u8>, value: &T) {
    // Serialising these types into a Vec cannot fail (no maps with non-string keys, no I/O).
    if serde_json::to_writer(&mut *out, value).is_ok() {
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(absolute(b"etc/passwd"), b"/etc/passwd");
        assert_eq!(absolute(b""), b"/");
        assert_eq!(device(rustix::fs::makedev(1, 3)), "1:3");
        assert_eq!(device_of(rustix::fs::makedev(1, 3)), Device { major: 1, minor: 3 });
        assert_eq!(hex(&[0, 0x1f, 0xab, 0xff]), "001fabff");
        let x = [Xattr("user.a".into(), vec![0xff])];
        assert_eq!(
            serde_json::to_string(&xattr_pairs(&x)).unwrap(),
            r#"[["user.a",{"bytes_hex":"ff"}]]"#
        );
        assert_eq!(raw_of_path(&RawPath::Bytes(vec![0xff])).as_bytes(), b"\xff");
    }
}
