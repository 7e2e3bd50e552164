//! The result of parsing a line-oriented table: the rows that parsed, and one error per line that
//! did not.
//!
//! A table read from a live system can hold one line a parser does not understand (a newer
//! kernel's extra state, a truncated read). Losing every socket because of one such line would
//! lose evidence, so table parsers return [`Table`]: the good rows plus a [`LineError`] for each
//! bad line. Callers that want all-or-nothing call [`Table::into_result`].

use std::error::Error;
use std::fmt;

use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

/// Rows that parsed, in input order, and the lines that did not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(bound(serialize = "T: Serialize, E: fmt::Display"))]
pub struct Table<T, E> {
    /// Rows parsed from well-formed lines, in input order.
    pub rows: Vec<T>,
    /// One entry per line that could not be parsed, in input order.
    pub errors: Vec<LineError<E>>,
}

impl<T, E> Table<T, E> {
    pub(crate) fn new() -> Self {
        Self {
            rows: Vec::new(),
            errors: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, line: usize, row: Result<T, E>) {
        match row {
            Ok(row) => self.rows.push(row),
            Err(error) => self.errors.push(LineError { line, error }),
        }
    }

    /// Whether every line parsed.
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }

    /// The rows if every line parsed.
    ///
    /// # Errors
    /// The first [`LineError`] if any line failed.
    pub fn into_result(self) -> Result<Vec<T>, LineError<E>> {
        match self.errors.into_iter().next() {
            Some(first) => Err(first),
            None => Ok(self.rows),
        }
    }
}

/// A line that could not be parsed: its 1-based line number in the input (a header, when the
/// format has one, is line 1) and what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError<E> {
    /// 1-based line number in the input, as an editor or `sed -n Np` counts.
    pub line: usize,
    /// What was wrong with the line.
    pub error: E,
}

impl<E: fmt::Display> fmt::Display for LineError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.error)
    }
}

impl<E: Error> Error for LineError<E> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.error.source()
    }
}

/// Serializes as `{"line": N, "error": "<message>"}`.
impl<E: fmt::Display> Serialize for LineError<E> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut state = serializer.serialize_struct("LineError", 2)?;
        state.serialize_field("line", &self.line)?;
        state.serialize_field("error", &self.error.to_string())?;
        state.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Bad;
    impl fmt::Display for Bad {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("bad value")
        }
    }

    #[test]
    fn keeps_good_rows_and_numbers_bad_lines() {
        let mut table = Table::new();
        table.push(2, Ok(10));
        table.push(3, Err(Bad));
        table.push(4, Ok(11));
        assert_eq!(table.rows, vec![10, 11]);
        assert_eq!(table.errors, vec![LineError { line: 3, error: Bad }]);
        assert!(!table.is_clean());
        assert_eq!(table.errors[0].to_string(), "line 3: bad value");
        assert_eq!(
            serde_json::to_string(&table).unwrap(),
            r#"{"rows":[10,11],"errors":[{"line":3,"error":"bad value"}]}"#
        );
        assert_eq!(table.into_result(), Err(LineError { line: 3, error: Bad }));
    }

    #[test]
    fn clean_table_into_rows() {
        let mut table: Table<u8, Bad> = Table::new();
        table.push(1, Ok(1));
        assert!(table.is_clean());
        assert_eq!(table.into_result(), Ok(vec![1]));
    }
}
