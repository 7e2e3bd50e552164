//! Per-process files: `/proc/<pid>/status` ([`status`]), `/proc/<pid>/stat` ([`stat`]),
//! `/proc/<pid>/maps` ([`maps`]), and `cmdline` / `environ` ([`split_nul`]).
//!
//! All parsers take bytes the caller has already read (and bounded); none reads files.

pub mod maps;
pub mod stat;
pub mod status;

pub use maps::{MapFlag, MapRegion, MapsError, Perms, parse_maps, suspicious};
pub use stat::{Stat, StatError, parse_stat};
pub use status::{Status, StatusError, capability_names, parse_status};

/// Splits `/proc/<pid>/cmdline` or `/proc/<pid>/environ` into its NUL-terminated strings.
///
/// The final NUL is optional (a process that rewrote its command line may drop it, and a read
/// may be cut short); empty strings between NULs are kept, since an empty argument is still an
/// argument. Empty input gives no strings (a kernel thread, or a zombie).
///
/// ```
/// use forensic_proc::process::split_nul;
/// assert_eq!(split_nul(b"nginx\0-g\0daemon off;\0"), [b"nginx".to_vec(), b"-g".to_vec(), b"daemon off;".to_vec()]);
/// assert_eq!(split_nul(b"a\0\0b"), [b"a".to_vec(), b"".to_vec(), b"b".to_vec()]);
/// ```
pub fn split_nul(input: &[u8]) -> Vec<Vec<u8>> {
    if input.is_empty() {
        return Vec::new();
    }
    let body = input.strip_suffix(b"\0").unwrap_or(input);
    body.split(|&b| b == 0).map(<[u8]>::to_vec).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_nul_cases() {
        assert_eq!(
            split_nul(b"/bin/sleep\x00600\x00"),
            vec![b"/bin/sleep".to_vec(), b"600".to_vec()]
        );
        assert_eq!(
            split_nul(b"/bin/sleep\x00600"),
            vec![b"/bin/sleep".to_vec(), b"600".to_vec()]
        );
        assert_eq!(split_nul(b""), Vec::<Vec<u8>>::new());
        assert_eq!(split_nul(b"\x00"), vec![Vec::<u8>::new()]);
        assert_eq!(split_nul(b"x\x00\x00"), vec![b"x".to_vec(), Vec::new()]);
        assert_eq!(
            split_nul(b"PATH=/usr/bin\x00SECRET=a b\xff\x00"),
            vec![b"PATH=/usr/bin".to_vec(), b"SECRET=a b\xff".to_vec()]
        );
        // setproctitle-style rewrite: one string with spaces, no NUL at all.
        assert_eq!(
            split_nul(b"postgres: writer process   "),
            vec![b"postgres: writer process   ".to_vec()]
        );
    }
}
