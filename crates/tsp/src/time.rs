//! GeneralizedTime as RFC 3161 §2.4.2 writes genTime: `YYYYMMDDhhmmss[.s+]Z`.

/// Unix nanoseconds of a genTime's text, or `None` if it is not of that form (UTC `Z`, an optional
/// fraction of 1 to 9 digits without trailing zeros, a valid date and time).
pub(crate) fn gen_time_nanos(text: &[u8]) -> Option<i128> {
    let s = std::str::from_utf8(text).ok()?;
    let body = s.strip_suffix('Z')?;
    let (whole, frac) = match body.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (body, None),
    };
    if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| whole.get(r)?.parse::<u32>().ok();
    let date = chrono::NaiveDate::from_ymd_opt(i32::try_from(num(0..4)?).ok()?, num(4..6)?, num(6..8)?)?;
    let t = date.and_hms_opt(num(8..10)?, num(10..12)?, num(12..14)?)?;
    let mut nanos = i128::from(t.and_utc().timestamp()) * 1_000_000_000;
    if let Some(f) = frac {
        if f.is_empty() || f.len() > 9 || f.ends_with('0') || !f.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let padded = format!("{f:0<9}");
        nanos += i128::from(padded.parse::<u32>().ok()?);
    }
    Some(nanos)
}

/// Unix nanoseconds as RFC 3339 text, UTC (for messages).
pub(crate) fn rfc3339(nanos: i128) -> String {
    let secs = i64::try_from(nanos.div_euclid(1_000_000_000)).unwrap_or(i64::MAX);
    let sub = u32::try_from(nanos.rem_euclid(1_000_000_000)).unwrap_or(0);
    chrono::DateTime::from_timestamp(secs, sub).map_or_else(
        || format!("{nanos} ns"),
        |t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
    )
}

#[cfg(test)]
mod tests {
    use super::gen_time_nanos;

    #[test]
    fn gen_time_forms() {
        assert_eq!(gen_time_nanos(b"19700101000001Z"), Some(1_000_000_000));
        assert_eq!(gen_time_nanos(b"19700101000001.25Z"), Some(1_250_000_000));
        assert_eq!(gen_time_nanos(b"19700101000001.250Z"), None, "trailing zero");
        assert_eq!(gen_time_nanos(b"19700101000001"), None, "no Z");
        assert_eq!(gen_time_nanos(b"19700230000001Z"), None, "30 February");
        assert_eq!(gen_time_nanos(b"19700101000001.Z"), None);
    }
}
