//! One bounded reader of line-oriented members (JSON lines, logs, text tables).

use crate::error::EvidenceError;
use serde::de::DeserializeOwned;
use std::io::{BufRead, Read};

/// Bounds on a line-oriented member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineLimits {
    /// Longest line, in bytes, without its line end. Default 1 MiB.
    pub max_line: usize,
    /// Most lines. Default 10,000,000 (the tree index of the hostile-container test's million
    /// files has about a million).
    pub max_lines: u64,
}

impl Default for LineLimits {
    fn default() -> Self {
        LineLimits {
            max_line: 1 << 20,
            max_lines: 10_000_000,
        }
    }
}

/// Calls `f` with each line of member `member`, read from `r`, that is not blank (without its
/// `\n` and a `\r` before it) and its 1-based number, streaming: one line is held at a time.
///
/// # Errors
/// [`EvidenceError::LineTooLong`] or [`EvidenceError::TooManyLines`] past `limits`,
/// [`EvidenceError::Io`] when reading fails, or whatever `f` returns.
///
/// ```
/// use forensic_evidence::lines::{LineLimits, for_each_line};
/// let mut seen = Vec::new();
/// for_each_line("x.jsonl", &mut &b"a\r\n\n  \nb"[..], LineLimits::default(), |n, l| {
///     seen.push((n, l.to_vec()));
///     Ok::<_, forensic_evidence::EvidenceError>(())
/// })?;
/// assert_eq!(seen, [(1, b"a".to_vec()), (4, b"b".to_vec())]);
/// # Ok::<_, forensic_evidence::EvidenceError>(())
/// ```
pub fn for_each_line<E: From<EvidenceError>>(
    member: &str,
    r: &mut dyn BufRead,
    limits: LineLimits,
    mut f: impl FnMut(u64, &[u8]) -> Result<(), E>,
) -> Result<(), E> {
    let max = limits.max_line;
    let mut buf = Vec::new();
    let mut n = 0u64;
    loop {
        buf.clear();
        let got = r
            .take(max as u64 + 2)
            .read_until(b'\n', &mut buf)
            .map_err(|source| EvidenceError::Io {
                member: member.to_string(),
                source,
            })?;
        if got == 0 {
            return Ok(());
        }
        n += 1;
        if n > limits.max_lines {
            let max = limits.max_lines;
            return Err(EvidenceError::TooManyLines {
                member: member.to_string(),
                max,
            }
            .into());
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        if buf.len() > max {
            return Err(EvidenceError::LineTooLong {
                member: member.to_string(),
                line: n,
                max,
            }
            .into());
        }
        if !buf.iter().all(u8::is_ascii_whitespace) {
            f(n, &buf)?;
        }
    }
}

/// Parses line `line_no` of member `member` as one JSON record `T`.
///
/// # Errors
/// [`EvidenceError::Malformed`] naming the member, the line and what the parser found.
pub fn parse_line<T: DeserializeOwned>(member: &str, line_no: u64, line: &[u8]) -> Result<T, EvidenceError> {
    serde_json::from_slice(line).map_err(|e| EvidenceError::malformed(member, Some(line_no), &e))
}

/// Parses the whole JSON member `member` as `T`.
///
/// # Errors
/// [`EvidenceError::Malformed`] naming the member and what the parser found.
pub fn parse_whole<T: DeserializeOwned>(member: &str, bytes: &[u8]) -> Result<T, EvidenceError> {
    serde_json::from_slice(bytes).map_err(|e| EvidenceError::malformed(member, None, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], limits: LineLimits) -> Result<Vec<(u64, Vec<u8>)>, EvidenceError> {
        let mut out = Vec::new();
        for_each_line("m", &mut &input[..], limits, |n, l| {
            out.push((n, l.to_vec()));
            Ok::<_, EvidenceError>(())
        })?;
        Ok(out)
    }

    #[test]
    fn limits_are_enforced_exactly() {
        let l = LineLimits {
            max_line: 3,
            max_lines: 2,
        };
        assert_eq!(lines(b"abc\r\nabc", l).unwrap().len(), 2);
        let long = lines(b"abcd\n", l).unwrap_err();
        assert!(
            matches!(long, EvidenceError::LineTooLong { line: 1, max: 3, .. }),
            "{long}"
        );
        assert_eq!(long.to_string(), "m line 1 is longer than 3 bytes");
        assert!(matches!(
            lines(b"abcd", l),
            Err(EvidenceError::LineTooLong { line: 1, .. })
        ));
        assert_eq!(
            lines(b"a\nb\nc\n", l).unwrap_err().to_string(),
            "m has more than 2 lines"
        );
        assert_eq!(lines(b"", l).unwrap(), Vec::new());
    }

    #[test]
    fn records_that_do_not_parse_name_their_member_and_line() {
        let e = parse_line::<u32>("m", 7, b"\"x\"").unwrap_err();
        assert!(
            e.to_string().starts_with("m line 7: not a valid record: invalid type"),
            "{e}"
        );
        let e = parse_whole::<u32>("p.json", b"[").unwrap_err();
        assert!(e.to_string().starts_with("p.json: not a valid record: "), "{e}");
    }
}
