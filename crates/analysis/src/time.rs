//! Instants as nanoseconds since the Unix epoch (UTC): parsing what the sources write and what the
//! examiner types, and writing the one form every output uses (SPEC §5:
//! `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`). No clock is read: relative times count back from a
//! reference the caller passes in (the bundle's creation time).

use crate::error::AnalysisError;
use chrono::{DateTime, NaiveDate};

/// Nanoseconds in a second.
pub const NANOS: i64 = 1_000_000_000;

/// `ns` in the fixed SPEC §5 form, e.g. `2024-05-07T18:54:19.341081180Z`; out-of-range instants
/// (beyond year 9999) as `@<ns>ns`.
pub fn format_ns(ns: i64) -> String {
    forensic_bundle::time::Timestamp::from_unix_nanos(i128::from(ns))
        .map(|t| t.as_str().to_string())
        .unwrap_or_else(|_| format!("@{ns}ns"))
}

/// `ns` written to `digits` decimals of a second (at most 9), rounded to the nearest:
/// `2024-05-07T18:54:19.81Z` (2), `2024-05-07T18:54:19Z` (0). Out-of-range instants as
/// [`format_ns`] writes them.
pub fn format_ns_digits(ns: i64, digits: u32) -> String {
    let digits = digits.min(9);
    let unit = 10i64.pow(9 - digits);
    let rounded = ns
        .checked_add(unit / 2)
        .map(|n| n.div_euclid(unit) * unit)
        .unwrap_or(ns);
    let full = format_ns(rounded);
    match (full.find('.'), full.strip_suffix('Z')) {
        (Some(dot), Some(_)) => {
            let keep = if digits == 0 { dot } else { dot + 1 + digits as usize };
            format!("{}Z", full.get(..keep).unwrap_or(&full))
        }
        _ => full,
    }
}

/// An instant known to within ± `uncertainty_ns`: [`format_ns_digits`] followed by the
/// uncertainty in seconds, rounded up to hundredths: `2024-05-07T18:54:19.81Z±0.51s`.
pub fn format_approx(ns: i64, digits: u32, uncertainty_ns: i64) -> String {
    let unit = NANOS / 100;
    let u = uncertainty_ns.max(0);
    let cs = u / unit + i64::from(u % unit != 0);
    format!("{}±{}.{:02}s", format_ns_digits(ns, digits), cs / 100, cs % 100)
}

/// Seconds since the epoch, rounded down (what a body file holds).
pub fn seconds(ns: i64) -> i64 {
    ns.div_euclid(NANOS)
}

/// An RFC 3339 time as the sources write it (`Z` or an offset with or without a colon, any number
/// of fraction digits), as nanoseconds since the epoch.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let s = s.trim();
    let dt = DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()?;
    dt.timestamp_nanos_opt()
}

/// A bound given by the examiner (`--since`, `--until`): RFC 3339, a date (`2024-05-07`,
/// midnight UTC), `@UNIX_SECONDS`, or a duration (`90s`, `30m`, `24h`, `7d`) counted back from
/// `reference_ns` (the collection time).
///
/// # Errors
/// [`AnalysisError::BadTime`] when the text is none of these.
pub fn parse_bound(s: &str, reference_ns: i64) -> Result<i64, AnalysisError> {
    let bad = || AnalysisError::BadTime(s.to_string());
    let t = s.trim();
    if let Some(ns) = parse_rfc3339(t) {
        return Ok(ns);
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return d
            .and_hms_opt(0, 0, 0)
            .and_then(|dt| dt.and_utc().timestamp_nanos_opt())
            .ok_or_else(bad);
    }
    if let Some(secs) = t.strip_prefix('@') {
        let secs: i64 = secs.parse().map_err(|_| bad())?;
        return secs.checked_mul(NANOS).ok_or_else(bad);
    }
    let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (num, unit) = t.split_at(split);
    let n: i64 = num.parse().map_err(|_| bad())?;
    let unit_secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    n.checked_mul(unit_secs)
        .and_then(|s| s.checked_mul(NANOS))
        .and_then(|d| reference_ns.checked_sub(d))
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sources_and_bounds() {
        assert_eq!(
            parse_rfc3339("2024-05-07T18:54:19.341081180Z"),
            Some(1_715_108_059_341_081_180)
        );
        assert_eq!(
            parse_rfc3339("2024-05-07T18:54:19.341081180+0000"),
            Some(1_715_108_059_341_081_180)
        );
        assert_eq!(
            parse_rfc3339("2025-03-04T06:22:18.819232Z"),
            Some(1_741_069_338_819_232_000)
        );
        assert_eq!(format_ns(1_715_108_059_341_081_180), "2024-05-07T18:54:19.341081180Z");
        let reference = 1_715_108_059 * NANOS;
        assert_eq!(parse_bound("24h", reference).unwrap(), reference - 86_400 * NANOS);
        assert_eq!(parse_bound("2024-05-07", 0).unwrap(), 1_715_040_000 * NANOS);
        assert_eq!(parse_bound("@10", 0).unwrap(), 10 * NANOS);
        assert!(parse_bound("yesterday", 0).is_err());
        assert!(parse_bound("5w", 0).is_err());
        assert_eq!(seconds(-1), -1);
        assert_eq!(
            format_ns_digits(1_715_108_059_341_081_180, 2),
            "2024-05-07T18:54:19.34Z"
        );
        assert_eq!(
            format_ns_digits(1_715_108_059_996_000_000, 2),
            "2024-05-07T18:54:20.00Z"
        );
        assert_eq!(format_ns_digits(1_715_108_059_341_081_180, 0), "2024-05-07T18:54:19Z");
        assert_eq!(
            format_approx(1_715_108_059_345_000_000, 2, 505_000_000),
            "2024-05-07T18:54:19.35Z±0.51s"
        );
    }
}
