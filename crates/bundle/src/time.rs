//! Times in the one fixed form of SPEC §5: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.

use std::fmt;

/// A validated SPEC §5 time. Two timestamps compare correctly as strings.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(String);

/// The text is not a SPEC §5 time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a time of the form YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ (SPEC §5)")]
pub struct TimeError(pub String);

impl Timestamp {
    /// Parses and validates a SPEC §5 time.
    ///
    /// # Errors
    /// [`TimeError`] when the text is not exactly of that form or not a real date and time.
    pub fn parse(s: &str) -> Result<Timestamp, TimeError> {
        let err = || TimeError(s.chars().take(64).collect());
        let b = s.as_bytes();
        let shape_ok = b.len() == 30
            && b.iter().enumerate().all(|(i, &c)| match i {
                4 | 7 => c == b'-',
                10 => c == b'T',
                13 | 16 => c == b':',
                19 => c == b'.',
                29 => c == b'Z',
                _ => c.is_ascii_digit(),
            });
        if !shape_ok {
            return Err(err());
        }
        let date = s.get(..10).ok_or_else(err)?;
        let clock = s.get(11..19).ok_or_else(err)?;
        chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| err())?;
        let t = chrono::NaiveTime::parse_from_str(clock, "%H:%M:%S").map_err(|_| err())?;
        // chrono accepts a leap second (:60); SPEC §5 does not.
        if clock.ends_with(":60") || t.format("%H:%M:%S").to_string() != clock {
            return Err(err());
        }
        Ok(Timestamp(s.to_string()))
    }

    /// The time at `nanos` nanoseconds after the Unix epoch (may be negative), in UTC.
    ///
    /// # Errors
    /// [`TimeError`] when the instant cannot be written with a four-digit year.
    pub fn from_unix_nanos(nanos: i128) -> Result<Timestamp, TimeError> {
        let secs = nanos.div_euclid(1_000_000_000);
        let sub = nanos.rem_euclid(1_000_000_000);
        let err = || TimeError(format!("{nanos} ns after the epoch"));
        let secs = i64::try_from(secs).map_err(|_| err())?;
        let sub = u32::try_from(sub).map_err(|_| err())?;
        let dt = chrono::DateTime::from_timestamp(secs, sub).ok_or_else(err)?;
        Timestamp::parse(&dt.format("%Y-%m-%dT%H:%M:%S.%9fZ").to_string())
    }

    /// Nanoseconds since the Unix epoch (negative before 1970), for comparing instants (SPEC §9.4).
    pub fn unix_nanos(&self) -> i128 {
        // The text was validated by `parse`, so these parses succeed; 0 is never reached.
        let secs = self
            .0
            .get(..19)
            .and_then(|t| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S").ok())
            .map_or(0, |dt| dt.and_utc().timestamp());
        let nanos: i128 = self.0.get(20..29).and_then(|f| f.parse().ok()).unwrap_or(0);
        i128::from(secs) * 1_000_000_000 + nanos
    }

    /// The text form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Date and time fields `(year, month, day, hour, minute, second)`.
    pub fn fields(&self) -> (u16, u8, u8, u8, u8, u8) {
        let num = |r: std::ops::Range<usize>| -> u16 { self.0.get(r).and_then(|x| x.parse().ok()).unwrap_or(0) };
        let small = |r| u8::try_from(num(r)).unwrap_or(0);
        (
            num(0..4),
            small(5..7),
            small(8..10),
            small(11..13),
            small(14..16),
            small(17..19),
        )
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Timestamp {
    type Error = TimeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Timestamp::parse(&s)
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_5_accepts_only_the_fixed_form() {
        assert!(Timestamp::parse("2026-11-29T07:27:29.123456789Z").is_ok());
        for bad in [
            "2026-11-29T07:27:29Z",
            "2026-11-29T07:27:29.123Z",
            "2026-11-29T07:27:29.123456789+00:00",
            "2026-02-30T07:27:29.123456789Z",
            "2026-11-29T24:00:00.000000000Z",
            "2026-12-31T23:59:60.000000000Z",
            "2026-11-29t07:27:29.123456789Z",
            "２026-11-29T07:27:29.123456789Z",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn from_unix_nanos_keeps_nanoseconds() -> Result<(), TimeError> {
        let t = Timestamp::from_unix_nanos(1_700_000_000_123_456_789)?;
        assert_eq!(t.as_str(), "2023-11-14T22:13:20.123456789Z");
        assert_eq!(t.fields(), (2023, 11, 14, 22, 13, 20));
        assert_eq!(t.unix_nanos(), 1_700_000_000_123_456_789);
        assert_eq!(Timestamp::from_unix_nanos(-1)?.unix_nanos(), -1);
        Ok(())
    }
}
