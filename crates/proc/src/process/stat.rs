//! `/proc/<pid>/stat`: one line of space-separated fields (`man 5 proc_pid_stat`).
//!
//! Field 2, `comm`, is printed raw inside parentheses and may itself contain spaces, `(`, `)`
//! and even a newline (a process can name itself `x) R 1 (`). It is therefore taken as everything
//! between the *first* `(` and the *last* `)` of the file, and the numbered fields are counted
//! from after that last `)`.

use serde::Serialize;

use crate::text::{ByteString, excerpt};

/// What is wrong with a `stat` file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatError {
    /// No `(` … `)` around the command name.
    #[error("no parenthesised command name (field 2)")]
    MissingComm,
    /// Fewer fields than the ones decoded.
    #[error("expected at least {expected} fields, found {found}")]
    TooFewFields {
        /// The minimum number of fields (counting pid and comm).
        expected: usize,
        /// The number found.
        found: usize,
    },
    /// A field could not be decoded.
    #[error("field {number} (`{field}`) is not valid: `{value}`")]
    BadField {
        /// The field's number as `man 5 proc_pid_stat` counts (pid is 1).
        number: usize,
        /// The field's name in that manual page.
        field: &'static str,
        /// The start of the value found.
        value: String,
    },
}

/// The fields of `/proc/<pid>/stat` a responder uses to build a process tree and timeline.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Stat {
    /// (1) `pid`.
    pub pid: u32,
    /// (2) `comm`: the command name, raw bytes (not escaped in this file).
    pub comm: ByteString,
    /// (3) `state`: one letter (`R`, `S`, `D`, `Z`, `T`, `t`, `X`, `I`, …).
    pub state: char,
    /// (4) `ppid`.
    pub ppid: u32,
    /// (5) `pgrp`: process group id.
    pub pgrp: u32,
    /// (6) `session`: session id.
    pub session: u32,
    /// (7) `tty_nr`: the controlling terminal's device number (0 for none).
    pub tty_nr: i32,
    /// (22) `starttime`: clock ticks after boot when the process started. Converting it to a
    /// time needs the boot time and `CLK_TCK` of the machine it came from (usually 100).
    pub start_time_ticks: u64,
    /// (23) `vsize`: virtual memory size in bytes.
    pub vsize: u64,
    /// (24) `rss`: resident set size in pages.
    pub rss: u64,
}

/// The last field decoded (`rss`).
const LAST_FIELD: usize = 24;

/// Parses `/proc/<pid>/stat`.
///
/// # Errors
/// [`StatError::MissingComm`] without a `(`…`)` pair, [`StatError::TooFewFields`] when fewer than
/// 24 fields are present, [`StatError::BadField`] (with the field number) when a decoded field
/// is not a number.
///
/// ```
/// use forensic_proc::process::parse_stat;
/// let stat = parse_stat("18643 (sleep) S 18633 18643 18643 0 -1 4194560 1034 0 0 0 1 0 0 0 20 0 1 0 181984 2322432 316 18446744073709551615")?;
/// assert_eq!(stat.comm, "sleep");
/// assert_eq!(stat.start_time_ticks, 181984);
/// # Ok::<(), forensic_proc::process::StatError>(())
/// ```
pub fn parse_stat<T: AsRef<[u8]> + ?Sized>(input: &T) -> Result<Stat, StatError> {
    let input = input.as_ref();
    let open = input.iter().position(|&b| b == b'(').ok_or(StatError::MissingComm)?;
    let close = input
        .iter()
        .rposition(|&b| b == b')')
        .filter(|&close| close > open)
        .ok_or(StatError::MissingComm)?;
    let pid = input.get(..open).unwrap_or_default();
    let comm = input.get(open + 1..close).unwrap_or_default();
    let rest = input.get(close + 1..).unwrap_or_default();
    let rest = std::str::from_utf8(rest).map_err(|_| bad(3, "state", &String::from_utf8_lossy(rest)))?;
    let pid = std::str::from_utf8(pid).unwrap_or("?").trim();

    // `fields[0]` is field 3; field N is `fields[N - 3]`.
    let fields: Vec<&str> = rest.split_ascii_whitespace().collect();
    if fields.len() + 2 < LAST_FIELD {
        return Err(StatError::TooFewFields {
            expected: LAST_FIELD,
            found: fields.len() + 2,
        });
    }
    let field = |number: usize| fields.get(number - 3).copied().unwrap_or_default();
    let state = field(3);
    let mut state_chars = state.chars();
    let (Some(state_char), None) = (state_chars.next(), state_chars.next()) else {
        return Err(bad(3, "state", state));
    };
    Ok(Stat {
        pid: pid.parse().map_err(|_| bad(1, "pid", pid))?,
        comm: ByteString::from(comm),
        state: state_char,
        ppid: decimal(field(4), 4, "ppid")?,
        pgrp: decimal(field(5), 5, "pgrp")?,
        session: decimal(field(6), 6, "session")?,
        tty_nr: decimal(field(7), 7, "tty_nr")?,
        start_time_ticks: decimal(field(22), 22, "starttime")?,
        vsize: decimal(field(23), 23, "vsize")?,
        rss: decimal(field(24), 24, "rss")?,
    })
}

fn decimal<N: std::str::FromStr>(value: &str, number: usize, field: &'static str) -> Result<N, StatError> {
    if value.starts_with('+') {
        return Err(bad(number, field, value));
    }
    value.parse().map_err(|_| bad(number, field, value))
}

fn bad(number: usize, field: &'static str, value: &str) -> StatError {
    StatError::BadField {
        number,
        field,
        value: excerpt(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comm_with_parentheses_and_spaces() {
        let line = "1234 ((sd-pam) x)) S 1233 1233 1233 0 -1 1077936448 51 0 0 0 0 0 0 0 20 0 1 0 2817 175759360 1203 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
        assert_eq!(
            parse_stat(line),
            Ok(Stat {
                pid: 1234,
                comm: "(sd-pam) x)".into(),
                state: 'S',
                ppid: 1233,
                pgrp: 1233,
                session: 1233,
                tty_nr: 0,
                start_time_ticks: 2817,
                vsize: 175_759_360,
                rss: 1203,
            })
        );
    }

    #[test]
    fn comm_that_imitates_fields_and_contains_a_newline() {
        let line = b"77 (x) R 1 (\n\xff) Z 5 6 7 34817 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99 0 0 18446744073709551615";
        let stat = parse_stat(line).unwrap();
        assert_eq!(stat.comm, ByteString::from(b"x) R 1 (\n\xff".to_vec()));
        assert_eq!(
            (stat.state, stat.ppid, stat.tty_nr, stat.start_time_ticks),
            ('Z', 5, 34817, 99)
        );
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(parse_stat("1 sleep S 0"), Err(StatError::MissingComm));
        assert_eq!(parse_stat("1 )sleep( S 0"), Err(StatError::MissingComm));
        assert_eq!(
            parse_stat("1 (sleep) S 0 1 1"),
            Err(StatError::TooFewFields { expected: 24, found: 6 })
        );
        let bad_start = "1 (init) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -5 100 10";
        assert_eq!(
            parse_stat(bad_start).map_err(|e| e.to_string()),
            Err("field 22 (`starttime`) is not valid: `-5`".to_owned())
        );
        let bad_state = "1 (init) SS 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 100 10";
        assert_eq!(
            parse_stat(bad_state),
            Err(StatError::BadField {
                number: 3,
                field: "state",
                value: "SS".into()
            })
        );
        let bad_pid = "x (init) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 100 10";
        assert_eq!(
            parse_stat(bad_pid),
            Err(StatError::BadField {
                number: 1,
                field: "pid",
                value: "x".into()
            })
        );
    }
}
