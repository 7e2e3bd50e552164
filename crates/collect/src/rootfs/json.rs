//! JSON forms shared by the JSONL members: raw bytes as text or `{"bytes_hex": …}`, modes as octal
//! strings, extended attributes as `[name, value]` pairs.

use forensic_bundle::manifest::{FileKind, RawPath, Xattr};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

/// Raw bytes (a path, a symlink target, an xattr value): a JSON string when they are UTF-8,
/// otherwise `{"bytes_hex": "<lowercase hex>"}`. Control characters are escaped by JSON itself.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Raw<'a>(pub &'a [u8]);

impl Serialize for Raw<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(self.0) {
            Ok(text) => s.serialize_str(text),
            Err(_) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("bytes_hex", &hex(self.0))?;
                m.end()
            }
        }
    }
}

impl<'a> Raw<'a> {
    /// The bytes of a [`RawPath`].
    pub fn of_path(p: &'a RawPath) -> Raw<'a> {
        match p {
            RawPath::Text(s) => Raw(s.as_bytes()),
            RawPath::Bytes(b) => Raw(b),
        }
    }
}

/// Extended attributes as `[[name, value], …]`, values as [`Raw`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Xattrs<'a>(pub &'a [Xattr]);

impl Serialize for Xattrs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for Xattr(name, value) in self.0 {
            seq.serialize_element(&(name.as_str(), Raw(value)))?;
        }
        seq.end()
    }
}

/// Permission bits as four octal digits (`"0755"`, `"4755"`).
pub(crate) fn mode(bits: u32) -> String {
    format!("{:04o}", bits & 0o7777)
}

/// The manifest's name for a file type (SPEC §6).
pub(crate) fn kind(k: FileKind) -> &'static str {
    match k {
        FileKind::File => "file",
        FileKind::Dir => "dir",
        FileKind::Symlink => "symlink",
        FileKind::Fifo => "fifo",
        FileKind::Socket => "socket",
        FileKind::Char => "char",
        FileKind::Block => "block",
    }
}

/// `major:minor` of a device number.
pub(crate) fn device(rdev: u64) -> String {
    format!("{}:{}", rustix::fs::major(rdev), rustix::fs::minor(rdev))
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
    fn raw_bytes_are_text_or_hex() {
        assert_eq!(serde_json::to_string(&Raw(b"/tmp/a\nb")).unwrap(), r#""/tmp/a\nb""#);
        assert_eq!(
            serde_json::to_string(&Raw(b"/tmp/\xff")).unwrap(),
            r#"{"bytes_hex":"2f746d702fff"}"#
        );
        let x = [
            Xattr("user.a".into(), b"y".to_vec()),
            Xattr("security.capability".into(), vec![1, 0xff]),
        ];
        assert_eq!(
            serde_json::to_string(&Xattrs(&x)).unwrap(),
            r#"[["user.a","y"],["security.capability",{"bytes_hex":"01ff"}]]"#
        );
        assert_eq!(mode(0o104755), "4755");
        assert_eq!(mode(0o644), "0644");
        assert_eq!(absolute(b"etc/passwd"), b"/etc/passwd");
        assert_eq!(absolute(b""), b"/");
        assert_eq!(device(rustix::fs::makedev(1, 3)), "1:3");
        assert_eq!(hex(&[0, 0x1f, 0xab, 0xff]), "001fabff");
    }
}
