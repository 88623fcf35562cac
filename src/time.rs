//! Timestamps as the vault stores them (RFC 3339, UTC, whole seconds) and the parsing of
//! user-given expiry times (`2027-01-31`, RFC 3339, or a duration from now such as `90d`).

use chrono::{DateTime, Months, NaiveDate, SecondsFormat, Utc};

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

/// Parses `--expires WHEN`: a date, an RFC 3339 time, or a duration from `now` (`90d`, `12h`,
/// `2w`, `1y`, `6mo`, `1y6mo`, `30min`; months and years are calendar ones, and a bare `m` is
/// refused as ambiguous).
pub fn parse_expiry(value: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    if let Some(t) = parse_stored(value) {
        return Ok(t);
    }
    let span = parse_span(value)?;
    now.checked_add_months(Months::new(span.months))
        .and_then(|t| t.checked_add_signed(chrono::Duration::seconds(span.seconds)))
        .ok_or_else(|| {
            Error::Invalid(format!(
                "expiry '{}' is too far in the future",
                value.escape_debug()
            ))
        })
}

/// A duration as people write it: calendar months (and years) plus seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// Calendar months (a year is 12).
    pub months: u32,
    /// Seconds (minutes, hours, days and weeks are fixed lengths).
    pub seconds: i64,
}

/// Parses one or more `NUMBER UNIT` pairs (`90d`, `1y 6mo`, `12h30min`). Units: `s`/`sec`,
/// `min`, `h`/`hr`, `d`/`day`, `w`/`week`, `mo`/`month`, `y`/`yr`/`year` (plurals too). A bare
/// `m` is an error: a minute and a month are both likely.
pub fn parse_span(value: &str) -> Result<Span> {
    let bad = |why: &str| {
        Error::Invalid(format!(
            "cannot read '{}': {why}; give a date (2027-01-31), an RFC 3339 time (2027-01-31T12:00:00Z) or a duration from now (90d, 12h, 30min, 6mo, 1y)",
            value.escape_debug()
        ))
    };
    let text = value.trim().to_ascii_lowercase();
    let mut rest = text.as_str();
    let mut span = Span::default();
    if rest.is_empty() {
        return Err(bad("it is empty"));
    }
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let number: u32 = rest[..digits]
            .parse()
            .map_err(|_| bad("a duration is a number followed by a unit"))?;
        rest = rest[digits..].trim_start();
        let letters = rest.len()
            - rest
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .len();
        let unit = &rest[..letters];
        rest = rest[letters..].trim_start();
        let seconds_per = match unit {
            "m" => {
                return Err(bad(
                    "`m` could be minutes or months: write `min` for minutes or `mo` for months",
                ));
            }
            "mo" | "mon" | "month" | "months" => {
                span.months = span
                    .months
                    .checked_add(number)
                    .ok_or_else(|| bad("too long"))?;
                continue;
            }
            "y" | "yr" | "yrs" | "year" | "years" => {
                span.months = number
                    .checked_mul(12)
                    .and_then(|m| span.months.checked_add(m))
                    .ok_or_else(|| bad("too long"))?;
                continue;
            }
            "s" | "sec" | "secs" | "second" | "seconds" => 1,
            "min" | "mins" | "minute" | "minutes" => 60,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3600,
            "d" | "day" | "days" => 86_400,
            "w" | "week" | "weeks" => 7 * 86_400,
            "" => return Err(bad("a number needs a unit (90d, 12h, 30min, 6mo, 1y)")),
            _ => return Err(bad(&format!("unknown unit `{unit}`"))),
        };
        span.seconds = i64::from(number)
            .checked_mul(seconds_per)
            .and_then(|s| span.seconds.checked_add(s))
            .ok_or_else(|| bad("too long"))?;
    }
    Ok(span)
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

    #[test]
    fn months_and_years_are_calendar_ones_and_a_bare_m_is_refused() {
        let now = parse_stored("2026-01-31T10:00:00Z").unwrap();
        let at = |v: &str| format(parse_expiry(v, now).unwrap());
        assert_eq!(at("1y"), "2027-01-31T10:00:00Z");
        assert_eq!(at("2 years"), "2028-01-31T10:00:00Z");
        assert_eq!(at("1mo"), "2026-02-28T10:00:00Z");
        assert_eq!(at("1y6mo"), "2027-07-31T10:00:00Z");
        assert_eq!(at("30min"), "2026-01-31T10:30:00Z");
        assert_eq!(at("12h 30min"), "2026-01-31T22:30:00Z");
        assert_eq!(at("2w"), "2026-02-14T10:00:00Z");
        let err = parse_expiry("1m", now).unwrap_err().to_string();
        assert!(err.contains("`min`") && err.contains("`mo`"), "{err}");
        assert!(parse_expiry("1M", now).is_err());
        for bad in ["", "d", "5", "5x", "-1d", "1.5d"] {
            assert!(parse_expiry(bad, now).is_err(), "{bad:?}");
        }
    }
}
