//! Small encodings the runtimes store: Go varints (unsigned and zigzag), Go's binary time, the
//! protobuf `Any` around containerd's spec, RFC 3339 text, and the shapes of ids that become
//! parts of paths.

/// Go's `binary.Uvarint` of the whole of `bytes` (trailing bytes are an error).
pub fn uvarint(bytes: &[u8]) -> Option<u64> {
    let (v, used) = uvarint_prefix(bytes)?;
    (used == bytes.len()).then_some(v)
}

/// Go's `binary.Varint` (zigzag) of the whole of `bytes`.
pub fn varint(bytes: &[u8]) -> Option<i64> {
    let u = uvarint(bytes)?;
    let v = (u >> 1) as i64;
    Some(if u & 1 == 1 { !v } else { v })
}

/// An unsigned varint at the start of `bytes` and the bytes it took (at most 10, no overflow).
pub fn uvarint_prefix(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut v: u64 = 0;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        let part = u64::from(b & 0x7f);
        if i == 9 && b > 1 {
            return None;
        }
        v |= part << (7 * i);
        if b & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

/// Seconds from 0001-01-01 to 1970-01-01 (Go's `unixToInternal`).
const UNIX_TO_INTERNAL: i64 = 62_135_596_800;

/// Go's `time.MarshalBinary` (version 1: 15 bytes, version 2: 16) as RFC 3339 UTC.
pub fn go_binary_time(bytes: &[u8]) -> Option<String> {
    let (&version, rest) = bytes.split_first()?;
    let want = match version {
        1 => 14,
        2 => 15,
        _ => return None,
    };
    if rest.len() != want {
        return None;
    }
    let sec = i64::from_be_bytes(rest.get(..8)?.try_into().ok()?);
    let nsec = u32::from_be_bytes(rest.get(8..12)?.try_into().ok()?);
    if nsec >= 1_000_000_000 {
        return None;
    }
    rfc3339(sec.checked_sub(UNIX_TO_INTERNAL)?, nsec)
}

/// Unix nanoseconds (as CRI's status file stores times) as RFC 3339 UTC; `None` for 0 (unset).
pub fn unix_nanos(ns: i64) -> Option<String> {
    if ns == 0 {
        return None;
    }
    rfc3339(
        ns.div_euclid(1_000_000_000),
        u32::try_from(ns.rem_euclid(1_000_000_000)).ok()?,
    )
}

/// Unix time as RFC 3339 UTC, nanoseconds with trailing zeros dropped (Go's `RFC3339Nano`).
/// `None` outside years 1..=9999.
pub fn rfc3339(unix: i64, nsec: u32) -> Option<String> {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    if !(1..=9999).contains(&y) {
        return None;
    }
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    if nsec != 0 {
        let frac = format!("{nsec:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    Some(s)
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 → (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A protobuf `Any` (`type_url` field 1, `value` field 2, both length-delimited): its type URL
/// and value. Unknown fields are refused (containerd writes exactly these two).
pub fn protobuf_any(bytes: &[u8]) -> Option<(&str, &[u8])> {
    let mut rest = bytes;
    let mut type_url = None;
    let mut value: Option<&[u8]> = None;
    while let Some((&tag, after)) = rest.split_first() {
        let (len, used) = uvarint_prefix(after)?;
        let after = after.get(used..)?;
        let len = usize::try_from(len).ok()?;
        let field = after.get(..len)?;
        rest = after.get(len..)?;
        match tag {
            0x0a => type_url = Some(std::str::from_utf8(field).ok()?),
            0x12 => value = Some(field),
            _ => return None,
        }
    }
    Some((type_url.unwrap_or(""), value.unwrap_or(&[])))
}

/// Whether `s` is exactly 64 lower-case hex digits (a Docker/podman id, a digest's hex).
pub fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The hex of a `sha256:<64 hex>` digest, `None` for any other shape.
pub fn sha256_hex(digest: &str) -> Option<&str> {
    digest.strip_prefix("sha256:").filter(|h| is_hex64(h))
}

/// Whether `s` can be one path component taken from metadata: non-empty, at most 255 bytes, no
/// `/`, no NUL, not `.` or `..` (containerd container ids and names, podman layer ids).
pub fn is_component(s: &str) -> bool {
    !s.is_empty() && s.len() <= 255 && s != "." && s != ".." && !s.contains(['/', '\0'])
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn varints_as_go_writes_them() {
        // deadbox.md §1.2: `size` \x80\x80\xf5\x01 = 2007040 (zigzag), `version` \x06 = 3.
        assert_eq!(varint(b"\x80\x80\xf5\x01"), Some(2_007_040));
        assert_eq!(varint(b"\x84\x09"), Some(578));
        assert_eq!(varint(b"\x06"), Some(3));
        assert_eq!(varint(b"\x01"), Some(-1));
        assert_eq!(uvarint(b"\x05"), Some(5));
        assert_eq!(uvarint(b"\x80"), None);
        assert_eq!(uvarint(b"\x05\x00"), None);
        assert_eq!(uvarint(&[0xff; 11]), None);
        assert_eq!(uvarint(b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"), Some(u64::MAX));
        assert_eq!(uvarint(b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02"), None);
    }

    #[test]
    fn go_binary_time_of_dbx_victim1() {
        // deadbox.md §1.2: 01 0000000ee2a1e6b9 2824ae98 ffff = 2026-12-02 10:15:21.673492632 UTC.
        let t = b"\x01\x00\x00\x00\x0e\xe2\xa1\xe6\xb9\x28\x24\xae\x98\xff\xff";
        assert_eq!(go_binary_time(t).unwrap(), "2026-12-02T10:15:21.673492632Z");
        assert_eq!(go_binary_time(&t[..14]), None);
        assert_eq!(go_binary_time(b"\x03\x00"), None);
        assert_eq!(unix_nanos(0), None);
        assert_eq!(unix_nanos(1_000_000_500).unwrap(), "1970-01-01T00:00:01.0000005Z");
        assert_eq!(rfc3339(951_782_400, 0).unwrap(), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(i64::MIN / 2, 0), None);
    }

    #[test]
    fn any_and_shapes() {
        let any = b"\x0a\x03abc\x12\x02{}";
        assert_eq!(protobuf_any(any), Some(("abc", &b"{}"[..])));
        assert_eq!(protobuf_any(b"\x0a\x09abc"), None);
        assert_eq!(protobuf_any(b"\x1a\x00"), None);
        assert!(is_hex64(&"a".repeat(64)));
        assert!(!is_hex64(&"A".repeat(64)));
        assert!(!is_hex64("../../etc"));
        assert_eq!(
            sha256_hex(&format!("sha256:{}", "0".repeat(64))),
            Some(&*"0".repeat(64))
        );
        assert!(!is_component(".."));
        assert!(!is_component("a/b"));
        assert!(is_component("dbx-victim1"));
    }
}
