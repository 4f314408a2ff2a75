//! A small proleptic-Gregorian civil date: a count of days since 1970-01-01, written and parsed as
//! `YYYY-MM-DD` with years 0001..=9999.

use std::fmt;
use std::str::FromStr;

/// Seconds in a calendar day (UTC days have no leap seconds in this model).
pub const SECONDS_PER_DAY: i64 = 86_400;

/// A calendar day, stored as days since 1970-01-01 (negative before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i32);

/// Why a `YYYY-MM-DD` string is not a date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("expected YYYY-MM-DD (10 characters, zero-padded digits)")]
    Shape,
    #[error("year {0} is outside 1..=9999")]
    Year(i32),
    #[error("month {0} is not in 1..=12")]
    Month(u32),
    #[error("day {day} does not exist in {year:04}-{month:02} (it has {max} days)")]
    Day { year: i32, month: u32, day: u32, max: u32 },
}

const MIN_YEAR: i32 = 1;
const MAX_YEAR: i32 = 9999;

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(year) => 29,
        _ => 28,
    }
}

/// Leap years in 1..=n (n >= 0).
fn leaps_through(n: i64) -> i64 {
    n / 4 - n / 100 + n / 400
}

/// Days from 1970-01-01 to January 1st of `year` (year >= 1).
fn days_before_year(year: i32) -> i64 {
    let y = i64::from(year);
    365 * (y - 1970) + leaps_through(y - 1) - leaps_through(1969)
}

/// Days from January 1st to the first of `month` in `year`.
fn days_before_month(year: i32, month: u32) -> i64 {
    (1..month).map(|m| i64::from(days_in_month(year, m))).sum()
}

impl Date {
    /// The date for a validated year, month and day.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Result<Date, DateError> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(DateError::Year(year));
        }
        if !(1..=12).contains(&month) {
            return Err(DateError::Month(month));
        }
        let max = days_in_month(year, month);
        if day == 0 || day > max {
            return Err(DateError::Day { year, month, day, max });
        }
        let days = days_before_year(year) + days_before_month(year, month) + i64::from(day) - 1;
        // Years 1..=9999 span about ±2.9 million days: always within i32.
        Ok(Date(i32::try_from(days).map_err(|_| DateError::Year(year))?))
    }

    /// Parses exactly `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Result<Date, DateError> {
        let b = text.as_bytes();
        let shape_ok = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        if !shape_ok {
            return Err(DateError::Shape);
        }
        let num = |range: std::ops::Range<usize>| text[range].parse::<u32>().map_err(|_| DateError::Shape);
        let year = i32::try_from(num(0..4)?).map_err(|_| DateError::Shape)?;
        Date::from_ymd(year, num(5..7)?, num(8..10)?)
    }

    /// The date `days` days after 1970-01-01.
    pub const fn from_days_since_epoch(days: i32) -> Date {
        Date(days)
    }

    /// Days since 1970-01-01.
    pub const fn days_since_epoch(self) -> i32 {
        self.0
    }

    /// Unix time (seconds) of this day's 00:00 UTC.
    pub fn start_seconds(self) -> i64 {
        i64::from(self.0) * SECONDS_PER_DAY
    }

    /// The next calendar day.
    pub fn succ(self) -> Date {
        Date(self.0 + 1)
    }

    /// `self - earlier` in days.
    pub fn days_after(self, earlier: Date) -> i64 {
        i64::from(self.0) - i64::from(earlier.0)
    }

    /// (year, month, day).
    pub fn ymd(self) -> (i32, u32, u32) {
        let days = i64::from(self.0);
        // Start from an estimate and correct it; the estimate is off by at most one year.
        let mut year = i32::try_from(1970 + days.div_euclid(365)).unwrap_or(MAX_YEAR).clamp(MIN_YEAR, MAX_YEAR);
        while year > MIN_YEAR && days_before_year(year) > days {
            year -= 1;
        }
        while year < MAX_YEAR && days_before_year(year + 1) <= days {
            year += 1;
        }
        let mut rest = days - days_before_year(year);
        let mut month = 1;
        while month < 12 && rest >= i64::from(days_in_month(year, month)) {
            rest -= i64::from(days_in_month(year, month));
            month += 1;
        }
        // `rest` is below 31 here.
        (year, month, u32::try_from(rest + 1).unwrap_or(1))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl FromStr for Date {
    type Err = DateError;
    fn from_str(s: &str) -> Result<Date, DateError> {
        Date::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_and_known_days() {
        assert_eq!(Date::parse("1970-01-01").map(Date::days_since_epoch), Ok(0));
        assert_eq!(Date::parse("1969-12-31").map(Date::days_since_epoch), Ok(-1));
        assert_eq!(Date::parse("2000-03-01").map(Date::days_since_epoch), Ok(11_017));
        assert_eq!(Date::parse("2021-05-01").map(Date::days_since_epoch), Ok(18_748));
        assert_eq!(Date::parse("2024-02-29").map(Date::days_since_epoch), Ok(19_782));
    }

    #[test]
    fn round_trip_every_day_across_centuries() {
        let start = Date::parse("1895-01-01").map(Date::days_since_epoch).unwrap_or(0);
        let end = Date::parse("2105-12-31").map(Date::days_since_epoch).unwrap_or(0);
        assert!(end > start + 70_000);
        for n in start..=end {
            let d = Date::from_days_since_epoch(n);
            assert_eq!(Date::parse(&d.to_string()), Ok(d), "day {n}");
        }
    }

    #[test]
    fn extremes_round_trip() {
        for s in ["0001-01-01", "9999-12-31", "1600-02-29"] {
            assert_eq!(Date::parse(s).map(|d| d.to_string()), Ok(s.to_string()));
        }
    }

    #[test]
    fn rejects() {
        assert_eq!(Date::parse("2021-1-01"), Err(DateError::Shape));
        assert_eq!(Date::parse("2021/01/01"), Err(DateError::Shape));
        assert_eq!(Date::parse("2021-01-01 "), Err(DateError::Shape));
        assert_eq!(Date::parse("+021-01-01"), Err(DateError::Shape));
        assert_eq!(Date::parse("0000-01-01"), Err(DateError::Year(0)));
        assert_eq!(Date::parse("2021-13-01"), Err(DateError::Month(13)));
        assert_eq!(Date::parse("2021-00-10"), Err(DateError::Month(0)));
        assert_eq!(Date::parse("2023-02-29"), Err(DateError::Day { year: 2023, month: 2, day: 29, max: 28 }));
        assert_eq!(Date::parse("1900-02-29"), Err(DateError::Day { year: 1900, month: 2, day: 29, max: 28 }));
        assert_eq!(Date::parse("2021-04-31"), Err(DateError::Day { year: 2021, month: 4, day: 31, max: 30 }));
        assert_eq!(Date::parse("2021-04-00"), Err(DateError::Day { year: 2021, month: 4, day: 0, max: 30 }));
    }
}
