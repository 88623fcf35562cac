//! Timestamps as the vault stores them (RFC 3339, UTC, whole seconds) and the parsing of
//! user-given expiry times (`2027-01-31`, RFC 3339, or a duration from now such as `90d`).

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

use crate::{Error, Result};

/// The current time, truncated to whole seconds.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap_or_else(Utc::now)
}

/// Formats a timestamp the way vault files store it: `2026-11-22T10:00:00Z`.
pub fn format(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Parses a stored timestamp: RFC 3339 (any offset, optional fraction) or a bare date
/// (taken as midnight UTC). Returns `None` for anything else.
pub fn parse_stored(value: &str) -> Option<DateTime<Utc>> {
    let value = value.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Some(t.with_timezone(&Utc));
    }
    // `2026-11-22 10:00:00+00:00`, as some YAML emitters write timestamps.
    if let Ok(t) = DateTime::parse_from_str(value, "%Y-%m-%d %H:%M:%S%.f%:z") {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// Parses `--expires WHEN`: a date, an RFC 3339 time, or a duration from `now`
/// (`90d`, `12h`, `2w`, `1y`, `6months`).
pub fn parse_expiry(value: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    if let Some(t) = parse_stored(value) {
        return Ok(t);
    }
    let duration = humantime::parse_duration(value.trim()).map_err(|_| {
        Error::Invalid(format!(
            "cannot read expiry '{}': give a date (2027-01-31), an RFC 3339 time (2027-01-31T12:00:00Z) or a duration from now (90d, 12h, 1y)",
            value.escape_debug()
        ))
    })?;
    chrono::Duration::from_std(duration)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .ok_or_else(|| Error::Invalid(format!("expiry '{value}' is too far in the future")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_accepts_dates_times_and_durations() {
        let now = parse_stored("2026-01-01T00:00:00Z").unwrap();
        assert_eq!(
            format(parse_expiry("2027-01-31", now).unwrap()),
            "2027-01-31T00:00:00Z"
        );
        assert_eq!(
            format(parse_expiry("2027-01-31T12:00:00+02:00", now).unwrap()),
            "2027-01-31T10:00:00Z"
        );
        assert_eq!(
            format(parse_expiry("90d", now).unwrap()),
            "2026-04-01T00:00:00Z"
        );
        assert!(parse_expiry("next tuesday", now).is_err());
        assert!(parse_expiry("99999999999y", now).is_err());
    }
}
