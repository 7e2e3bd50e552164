//! Member names (SPEC §3): validation and percent-escaping of path components.

/// Longest member name in bytes (SPEC §3, §10).
pub const MAX_NAME_LEN: usize = 1024;

/// Why a member name is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// The name is empty.
    #[error("the name is empty")]
    Empty,
    /// The name is longer than [`MAX_NAME_LEN`].
    #[error("the name is {0} bytes long; at most 1024 are allowed")]
    TooLong(usize),
    /// A segment is empty, `.` or `..`.
    #[error("segment {0:?} is empty, '.' or '..'")]
    BadSegment(String),
    /// A control character or backslash.
    #[error("forbidden character U+{0:04X}")]
    ForbiddenChar(u32),
}

/// Checks a full member name against SPEC §3.
///
/// # Errors
/// [`NameError`] says which rule the name breaks.
pub fn validate(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong(name.len()));
    }
    if let Some(c) = name.chars().find(|&c| is_forbidden(c)) {
        return Err(NameError::ForbiddenChar(u32::from(c)));
    }
    if let Some(seg) = name.split('/').find(|s| s.is_empty() || *s == "." || *s == "..") {
        return Err(NameError::BadSegment(seg.to_string()));
    }
    Ok(())
}

fn is_forbidden(c: char) -> bool {
    c.is_ascii_control() || c == '\\'
}

/// Turns one original path component (raw bytes) into a name segment by percent-escaping every byte
/// that is not valid UTF-8, is a control character, `\`, `/` or `%` (SPEC §3).
///
/// ```
/// use forensic_bundle::name::escape_segment;
/// assert_eq!(escape_segment(b"a\nb%c"), "a%0Ab%25c");
/// assert_eq!(escape_segment(b".."), "%2E%2E");
/// assert_eq!(escape_segment(b"caf\xc3\xa9\xff"), "caf\u{e9}%FF");
/// ```
pub fn escape_segment(raw: &[u8]) -> String {
    if raw == b"." {
        return "%2E".to_string();
    }
    if raw == b".." {
        return "%2E%2E".to_string();
    }
    if raw.is_empty() {
        return "%00".to_string();
    }
    let mut out = String::with_capacity(raw.len());
    for chunk in raw.utf8_chunks() {
        for c in chunk.valid().chars() {
            if is_forbidden(c) || c == '/' || c == '%' {
                push_escaped(&mut out, c as u8);
            } else {
                out.push(c);
            }
        }
        for &b in chunk.invalid() {
            push_escaped(&mut out, b);
        }
    }
    out
}

/// `bytes` for a person: control characters (C0, DEL and C1, so ESC and CSI too), invisible
/// format characters that can reorder or hide part of a line ([`is_unsafe_display`]), `\` and
/// invalid UTF-8 are escaped (`\n`, `\u{1b}`, `\u{202e}`, `\\`, `\xff`); everything else is as
/// written. The one display escaping of evidence bytes (paths, names, lines from a container): a
/// newline cannot forge a line, an escape sequence cannot drive the examiner's terminal and a
/// bidirectional override cannot make `exe.txt` read as `txt.exe`.
///
/// ```
/// use forensic_bundle::name::escape_display;
/// assert_eq!(escape_display(b"a\nb\x1b[2J\\\xff"), r"a\nb\u{1b}[2J\\\xff");
/// assert_eq!(escape_display("\u{9b}2J \u{202e}txt.exe".as_bytes()), r"\u{9b}2J \u{202e}txt.exe");
/// assert_eq!(escape_display("café".as_bytes()), "café");
/// ```
pub fn escape_display(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() || c == '\\' {
                out.extend(c.escape_debug());
            } else if is_unsafe_display(c) {
                out.extend(c.escape_unicode());
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// Whether a terminal or a text viewer could act on `c` instead of showing it: control
/// characters (C0, DEL, C1 including CSI U+009B), and the Unicode format characters (general
/// category Cf, with the line and paragraph separators U+2028/U+2029): bidirectional embeddings,
/// overrides and isolates (U+202A–U+202E, U+2066–U+2069, U+200E/U+200F, U+061C), zero-width
/// characters (U+200B–U+200D, U+2060–U+2064), the byte order mark U+FEFF, the interlinear
/// annotation characters and the tag characters. [`escape_display`] escapes exactly these (and
/// `\`); a JSON writer for a terminal writes them as `\uXXXX`.
pub fn is_unsafe_display(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{0600}'..='\u{0605}'
                | '\u{061C}'
                | '\u{06DD}'
                | '\u{070F}'
                | '\u{0890}'..='\u{0891}'
                | '\u{08E2}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{110BD}'
                | '\u{110CD}'
                | '\u{13430}'..='\u{1343F}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0001}'
                | '\u{E0020}'..='\u{E007F}'
        )
}

fn push_escaped(out: &mut String, b: u8) {
    use std::fmt::Write;
    let _ = write!(out, "%{b:02X}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_3_rejects_traversal_and_controls() {
        assert!(validate("5-filesystem/tmp/x").is_ok());
        assert_eq!(validate(""), Err(NameError::Empty));
        assert!(matches!(validate("/etc/passwd"), Err(NameError::BadSegment(_))));
        assert!(matches!(validate("a/../b"), Err(NameError::BadSegment(_))));
        assert!(matches!(validate("a/./b"), Err(NameError::BadSegment(_))));
        assert!(matches!(validate("a//b"), Err(NameError::BadSegment(_))));
        assert!(matches!(validate("a/"), Err(NameError::BadSegment(_))));
        assert_eq!(validate("a\0b"), Err(NameError::ForbiddenChar(0)));
        assert_eq!(validate("a\\b"), Err(NameError::ForbiddenChar(0x5c)));
        assert_eq!(validate("a\nb"), Err(NameError::ForbiddenChar(10)));
        assert_eq!(validate(&"x".repeat(1025)), Err(NameError::TooLong(1025)));
    }

    #[test]
    fn escaped_segments_are_always_valid() {
        for raw in [&b"\x00"[..], b"..", b".", b"a/b", b"\\", b"\xff\xfe", b"%41", b"\x7f"] {
            let seg = escape_segment(raw);
            assert!(validate(&seg).is_ok(), "{raw:?} -> {seg:?}");
        }
        assert_eq!(escape_segment(b"%41"), "%2541");
    }

    #[test]
    fn display_escapes_what_a_terminal_would_act_on() {
        // C0, DEL, C1 (CSI U+009B, NEL U+0085), bidi overrides and isolates, zero-width and
        // separator characters: each escaped, none left as written.
        let hostile = "a\u{1b}[2J\n\t\u{7f}\u{85}\u{9b}2J\u{202e}\u{2066}\u{2069}\u{200b}\u{200f}\u{2028}\u{2029}\u{feff}\u{e0041}z";
        assert_eq!(
            escape_display(hostile.as_bytes()),
            r"a\u{1b}[2J\n\t\u{7f}\u{85}\u{9b}2J\u{202e}\u{2066}\u{2069}\u{200b}\u{200f}\u{2028}\u{2029}\u{feff}\u{e0041}z"
        );
        for c in [
            '\u{0}', '\u{1f}', '\u{7f}', '\u{80}', '\u{9f}', '\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}', '\u{61c}',
        ] {
            assert!(is_unsafe_display(c), "U+{:04X}", u32::from(c));
        }
        // Printable text, accents, CJK, emoji and the characters around the ranges stay.
        let plain = "café 日本 🦀 \u{a0}\u{2027}\u{2030}\u{206f}x".replace('\u{206f}', "");
        assert_eq!(escape_display(plain.as_bytes()), plain);
    }
}
