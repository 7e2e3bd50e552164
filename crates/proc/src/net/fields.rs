//! Field and line helpers shared by the socket table parsers.

use super::NetError;
use crate::table::Table;
use crate::text::{excerpt, excerpt_bytes, is_blank, numbered_lines};

/// Checks the header (line 1 must start with `first_word`) and parses every other non-blank line.
pub(crate) fn table_rows<T>(
    input: &[u8],
    first_word: &'static str,
    parse_line: impl Fn(&[u8]) -> Result<T, NetError>,
) -> Result<Table<T, NetError>, NetError> {
    let mut lines = numbered_lines(input);
    let header = lines.next().map(|(_, line)| line).unwrap_or_default();
    if is_blank(header) {
        return Err(NetError::MissingHeader { expected: first_word });
    }
    let first = header.split(u8::is_ascii_whitespace).find(|word| !word.is_empty());
    if first != Some(first_word.as_bytes()) {
        return Err(NetError::UnexpectedHeader {
            expected: first_word,
            found: excerpt_bytes(header),
        });
    }
    let mut table = Table::new();
    for (number, line) in lines.filter(|(_, line)| !is_blank(line)) {
        table.push(number, parse_line(line));
    }
    Ok(table)
}

/// Splits an ASCII line into whitespace-separated fields, requiring at least `min` of them.
pub(crate) fn text_fields(line: &[u8], min: usize) -> Result<Vec<&str>, NetError> {
    let text = std::str::from_utf8(line).map_err(|_| NetError::NotText {
        line: excerpt_bytes(line),
    })?;
    let fields: Vec<&str> = text.split_ascii_whitespace().collect();
    if fields.len() < min {
        return Err(NetError::TooFewFields {
            expected: min,
            found: fields.len(),
        });
    }
    Ok(fields)
}

/// Parses a number in the given radix, naming the field on failure.
pub(crate) fn number<N: FromStrRadix>(field: &'static str, value: &str, radix: u32) -> Result<N, NetError> {
    N::from_str_radix(value, radix).ok_or_else(|| bad(field, value))
}

pub(crate) fn bad(field: &'static str, value: &str) -> NetError {
    NetError::BadField {
        field,
        value: excerpt(value),
    }
}

/// Integer types parsed from table fields.
pub(crate) trait FromStrRadix: Sized {
    fn from_str_radix(value: &str, radix: u32) -> Option<Self>;
}

macro_rules! from_str_radix {
    ($($t:ty),*) => {$(
        impl FromStrRadix for $t {
            fn from_str_radix(value: &str, radix: u32) -> Option<Self> {
                // `from_str_radix` accepts a leading `+`; the kernel never prints one.
                if value.starts_with('+') { return None; }
                <$t>::from_str_radix(value, radix).ok()
            }
        }
    )*};
}
from_str_radix!(u8, u16, u32, u64, i32);
