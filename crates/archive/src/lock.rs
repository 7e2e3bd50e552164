//! Object Lock: what a deposit asks for, and what the server says an object has.

use crate::ArchiveError;
use chrono::{DateTime, Utc};
use std::fmt;

/// An Object Lock retention mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// No one, the account root included, can delete the version or shorten its retention
    /// before the retain-until date.
    Compliance,
    /// Users with `s3:BypassGovernanceRetention` can delete the version or shorten its retention.
    Governance,
}

impl Mode {
    /// The name S3 uses: `COMPLIANCE` or `GOVERNANCE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Compliance => "COMPLIANCE",
            Mode::Governance => "GOVERNANCE",
        }
    }

    /// Parses `compliance` or `governance` (any case).
    ///
    /// # Errors
    /// [`ArchiveError::Lock`] for any other text.
    pub fn parse(text: &str) -> Result<Mode, ArchiveError> {
        match text.to_ascii_lowercase().as_str() {
            "compliance" => Ok(Mode::Compliance),
            "governance" => Ok(Mode::Governance),
            _ => Err(ArchiveError::Lock(format!(
                "mode {:?} is neither compliance nor governance",
                text.chars().take(40).collect::<String>()
            ))),
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The lock a deposit asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockRequest {
    /// Retention mode.
    pub mode: Mode,
    /// Retain until this instant (S3 keeps whole seconds).
    pub retain_until: DateTime<Utc>,
    /// Also place a legal hold (kept until removed, whatever the retention).
    pub legal_hold: bool,
}

impl LockRequest {
    /// A request, checked against `now`: the date must lie in the future.
    ///
    /// # Errors
    /// [`ArchiveError::Lock`] when `retain_until` is not after `now`, or has a fraction of a second
    /// (S3 stores whole seconds, so it could not confirm the date asked for).
    pub fn new(
        mode: Mode,
        retain_until: DateTime<Utc>,
        legal_hold: bool,
        now: DateTime<Utc>,
    ) -> Result<Self, ArchiveError> {
        if retain_until <= now {
            return Err(ArchiveError::Lock(format!(
                "retain-until date {} is not in the future",
                retain_until.to_rfc3339()
            )));
        }
        if retain_until.timestamp_subsec_nanos() != 0 {
            return Err(ArchiveError::Lock(format!(
                "retain-until date {} has a fraction of a second; S3 keeps whole seconds",
                retain_until.to_rfc3339()
            )));
        }
        Ok(LockRequest {
            mode,
            retain_until,
            legal_hold,
        })
    }
}

/// Parses a `--retain-until` date: RFC 3339 (`2033-12-31T00:00:00Z`) or a day (`2033-12-31`,
/// meaning midnight UTC at its start).
///
/// # Errors
/// [`ArchiveError::Lock`] when it is neither.
pub fn parse_date(text: &str) -> Result<DateTime<Utc>, ArchiveError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .ok_or_else(|| {
            ArchiveError::Lock(format!(
                "{:?} is not a date (YYYY-MM-DD or RFC 3339 such as 2033-12-31T00:00:00Z)",
                text.chars().take(60).collect::<String>()
            ))
        })
}

/// The lock state of one object version as the server reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockState {
    /// Retention mode, if the version has a retention.
    pub mode: Option<Mode>,
    /// Retain-until date, if the version has a retention.
    pub retain_until: Option<DateTime<Utc>>,
    /// Whether a legal hold is on.
    pub legal_hold: bool,
}

impl LockState {
    /// Whether the version cannot be deleted now: a legal hold, or a retention until after `now`.
    pub fn protected_at(&self, now: DateTime<Utc>) -> bool {
        self.legal_hold || (self.mode.is_some() && self.retain_until.is_some_and(|t| t > now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_requests() {
        let day = parse_date("2033-12-31").unwrap();
        assert_eq!(day.to_rfc3339(), "2033-12-31T00:00:00+00:00");
        assert_eq!(
            parse_date("2033-12-31T01:02:03+01:00").unwrap().to_rfc3339(),
            "2033-12-31T00:02:03+00:00"
        );
        assert!(
            parse_date("31/12/2033")
                .unwrap_err()
                .to_string()
                .contains("is not a date")
        );
        let now = parse_date("2026-01-01").unwrap();
        assert!(LockRequest::new(Mode::Compliance, now, false, now).is_err());
        let frac = parse_date("2033-12-31T00:00:00.5Z").unwrap();
        assert!(
            LockRequest::new(Mode::Compliance, frac, false, now)
                .unwrap_err()
                .to_string()
                .contains("whole seconds")
        );
        assert_eq!(Mode::parse("Governance").unwrap(), Mode::Governance);
        assert!(Mode::parse("strict").is_err());
    }
}
