//! Calendar dates as the to-do list uses them: ISO 8601 `YYYY-MM-DD`, validated.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// A calendar date (proleptic Gregorian), ordered chronologically.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

/// Why a string is not a date.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{input:?} is not a date in YYYY-MM-DD form: {why}")]
pub struct DateError {
    input: String,
    why: &'static str,
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        _ => 28,
    }
}

impl Date {
    /// The date, if it exists and has a four-digit year (0 to 9999, the `YYYY-MM-DD` form's
    /// range: every `Date` prints as a string that parses back to it).
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        (year <= 9999 && (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month))
            .then_some(Date { year, month, day })
    }

    /// The year.
    pub fn year(self) -> u16 {
        self.year
    }
    /// The month, 1 to 12.
    pub fn month(self) -> u8 {
        self.month
    }
    /// The day of the month.
    pub fn day(self) -> u8 {
        self.day
    }
}

impl FromStr for Date {
    type Err = DateError;

    /// Parses `YYYY-MM-DD` (Elixir's `Date.from_iso8601/1` for this form).
    fn from_str(s: &str) -> Result<Date, DateError> {
        let err = |why| DateError {
            input: s.to_owned(),
            why,
        };
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(err("expected 10 characters, YYYY-MM-DD"));
        }
        let num = |r: std::ops::Range<usize>| -> Result<u16, DateError> {
            let part = &s[r];
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return Err(err("expected digits"));
            }
            part.parse().map_err(|_| err("expected digits"))
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (m, d) = (
            u8::try_from(m).map_err(|_| err("no such month"))?,
            u8::try_from(d).map_err(|_| err("no such day"))?,
        );
        if !(1..=12).contains(&m) {
            return Err(err("no such month"));
        }
        Date::new(y, m, d).ok_or_else(|| err("no such day in that month"))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_date_prints_as_a_string_that_parses_back() {
        assert_eq!(Date::new(10_000, 1, 1), None);
        for (y, m, d) in [(0, 1, 1), (9999, 12, 31), (2000, 2, 29), (2018, 12, 19)] {
            let date = Date::new(y, m, d).unwrap();
            assert_eq!(date.to_string().parse::<Date>(), Ok(date));
        }
    }

    #[test]
    fn parses_and_prints_iso_dates() {
        let d: Date = "2018-12-19".parse().unwrap();
        assert_eq!((d.year(), d.month(), d.day()), (2018, 12, 19));
        assert_eq!(d.to_string(), "2018-12-19");
    }

    #[test]
    fn rejects_impossible_or_malformed_dates() {
        for bad in [
            "2018-13-01",
            "2018-02-30",
            "2019-02-29",
            "18-12-19",
            "2018/12/19",
            "2018-1-19",
            "",
            "2018-12-1x",
            "+018-12-19",
        ] {
            assert!(bad.parse::<Date>().is_err(), "{bad}");
        }
        assert!("2020-02-29".parse::<Date>().is_ok());
        assert!("2000-02-29".parse::<Date>().is_ok());
        assert!("1900-02-29".parse::<Date>().is_err());
    }
}
