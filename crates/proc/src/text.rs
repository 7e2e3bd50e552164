//! Byte strings as the kernel prints them, and the line handling every table parser shares.
//!
//! Linux paths, process names and mount sources are bytes, not UTF-8: an attacker can name a
//! directory `\xff` to make tools that insist on UTF-8 skip or mangle it. [`ByteString`] keeps the
//! exact bytes and offers a `&str` view when they happen to be UTF-8, which they almost always are.

use std::borrow::Cow;
use std::fmt;

use serde::ser::{Serialize, SerializeStruct, Serializer};

/// A string exactly as the kernel printed it (after the documented un-escaping, if any), kept as
/// bytes so that nothing is lost when it is not UTF-8.
///
/// Compare with `==` against `&str` or `String`; use [`ByteString::as_str`] for a `&str` when the
/// bytes are UTF-8, and [`Display`](fmt::Display) (which writes invalid bytes as `\xNN`) for text
/// shown to people.
///
/// # Serialization
/// UTF-8 content serializes as a plain string. Anything else serializes as
/// `{"lossy": "<U+FFFD-replaced text>", "hex": "<lowercase hex of the exact bytes>"}`, so JSON
/// output stays valid and the exact bytes stay recoverable.
///
/// ```
/// use forensic_proc::ByteString;
/// let ok = ByteString::from("/var/lib/docker");
/// assert_eq!(ok, "/var/lib/docker");
/// let odd = ByteString::from(b"/tmp/\xffx".to_vec());
/// assert_eq!(odd.as_str(), None);
/// assert_eq!(odd.to_string(), "/tmp/\\xffx");
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteString(Vec<u8>);

impl ByteString {
    /// Wraps bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The exact bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Gives back the exact bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// The content as `&str` if it is UTF-8, else `None`.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// The content as text, with invalid UTF-8 sequences replaced by U+FFFD.
    pub fn to_string_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the bytes start with `prefix`.
    pub fn starts_with(&self, prefix: impl AsRef<[u8]>) -> bool {
        self.0.starts_with(prefix.as_ref())
    }

    /// Whether the bytes end with `suffix`.
    pub fn ends_with(&self, suffix: impl AsRef<[u8]>) -> bool {
        self.0.ends_with(suffix.as_ref())
    }
}

impl fmt::Display for ByteString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.utf8_chunks() {
            f.write_str(chunk.valid())?;
            for byte in chunk.invalid() {
                write!(f, "\\x{byte:02x}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for ByteString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_str() {
            Some(text) => fmt::Debug::fmt(text, f),
            None => write!(f, "b\"{}\"", self.0.escape_ascii()),
        }
    }
}

impl AsRef<[u8]> for ByteString {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<&str> for ByteString {
    fn from(value: &str) -> Self {
        Self(value.as_bytes().to_vec())
    }
}

impl From<String> for ByteString {
    fn from(value: String) -> Self {
        Self(value.into_bytes())
    }
}

impl From<Vec<u8>> for ByteString {
    fn from(value: Vec<u8>) -> Self {
        Self(value)
    }
}

impl From<&[u8]> for ByteString {
    fn from(value: &[u8]) -> Self {
        Self(value.to_vec())
    }
}

impl PartialEq<str> for ByteString {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for ByteString {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<String> for ByteString {
    fn eq(&self, other: &String) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<ByteString> for str {
    fn eq(&self, other: &ByteString) -> bool {
        self.as_bytes() == other.0
    }
}

impl PartialEq<ByteString> for &str {
    fn eq(&self, other: &ByteString) -> bool {
        self.as_bytes() == other.0
    }
}

impl Serialize for ByteString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.as_str() {
            Some(text) => serializer.serialize_str(text),
            None => {
                let mut state = serializer.serialize_struct("ByteString", 2)?;
                state.serialize_field("lossy", &self.to_string_lossy())?;
                state.serialize_field("hex", &to_hex(&self.0))?;
                state.end()
            }
        }
    }
}

fn to_hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        // Writing to a String cannot fail.
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// Decodes the kernel's `\ooo` octal escapes (three octal digits, as `mangle()` and `seq_escape()`
/// write them for space, tab, newline, backslash and, in option values, comma).
///
/// A backslash not followed by three octal digits forming a byte is kept as it is, so damaged or
/// hand-edited input still round-trips instead of failing.
pub(crate) fn decode_octal(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut rest = input;
    while let Some((&first, tail)) = rest.split_first() {
        let escaped = if first == b'\\' { octal_byte(tail) } else { None };
        match escaped {
            Some(byte) => {
                out.push(byte);
                rest = tail.get(3..).unwrap_or_default();
            }
            None => {
                out.push(first);
                rest = tail;
            }
        }
    }
    out
}

fn octal_byte(digits: &[u8]) -> Option<u8> {
    let [a, b, c, ..] = digits else { return None };
    let value = [a, b, c].iter().try_fold(0u16, |acc, &&d| match d {
        b'0'..=b'7' => Some(acc * 8 + u16::from(d - b'0')),
        _ => None,
    })?;
    u8::try_from(value).ok()
}

/// Splits input into lines numbered from 1, on `\n`. A final newline does not make an extra empty
/// line, and a missing final newline loses nothing.
pub(crate) fn numbered_lines(input: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let body = input.strip_suffix(b"\n").unwrap_or(input);
    let pieces = if input.is_empty() {
        None
    } else {
        Some(body.split(|&b| b == b'\n'))
    };
    pieces
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(index, line)| (index + 1, line))
}

/// Whether a line holds nothing but ASCII whitespace.
pub(crate) fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// At most 64 characters of a value, for error messages (input can be hostile and huge).
pub(crate) fn excerpt(value: &str) -> String {
    const MAX: usize = 64;
    match value.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", value.get(..cut).unwrap_or_default()),
        None => value.to_owned(),
    }
}

/// [`excerpt`] for bytes that may not be UTF-8.
pub(crate) fn excerpt_bytes(value: &[u8]) -> String {
    excerpt(&ByteString::from(value).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octal_escapes_decode_to_bytes() {
        assert_eq!(
            decode_octal(br"/mnt/my\040disk\011tab\012nl\134bs"),
            b"/mnt/my disk\ttab\nnl\\bs"
        );
        assert_eq!(decode_octal(br"\377"), vec![0xff]);
    }

    #[test]
    fn malformed_escapes_are_kept_verbatim() {
        assert_eq!(decode_octal(br"a\08b"), br"a\08b");
        assert_eq!(decode_octal(br"a\400"), br"a\400");
        assert_eq!(decode_octal(br"end\04"), br"end\04");
        assert_eq!(decode_octal(br"end\"), br"end\");
    }

    #[test]
    fn lines_are_numbered_and_final_newline_is_optional() {
        let with: Vec<_> = numbered_lines(b"a\nb\n").collect();
        let without: Vec<_> = numbered_lines(b"a\nb").collect();
        assert_eq!(with, vec![(1, &b"a"[..]), (2, &b"b"[..])]);
        assert_eq!(with, without);
        assert_eq!(numbered_lines(b"").count(), 0);
        assert_eq!(numbered_lines(b"\n").collect::<Vec<_>>(), vec![(1, &b""[..])]);
    }

    #[test]
    fn display_and_debug_escape_invalid_bytes() {
        let odd = ByteString::from(b"a\xffb".to_vec());
        assert_eq!(odd.to_string(), "a\\xffb");
        assert_eq!(format!("{odd:?}"), "b\"a\\xffb\"");
        assert_eq!(format!("{:?}", ByteString::from("x y")), "\"x y\"");
    }

    #[test]
    fn serializes_utf8_as_string_and_other_bytes_as_lossy_plus_hex() {
        let ok = serde_json::to_string(&ByteString::from("/run")).unwrap();
        assert_eq!(ok, "\"/run\"");
        let odd = serde_json::to_string(&ByteString::from(b"/\xff".to_vec())).unwrap();
        assert_eq!(odd, "{\"lossy\":\"/\u{fffd}\",\"hex\":\"2fff\"}");
    }

    #[test]
    fn excerpt_cuts_long_values() {
        let long = "x".repeat(100);
        assert_eq!(excerpt(&long), format!("{}…", "x".repeat(64)));
        assert_eq!(excerpt("short"), "short");
    }
}
