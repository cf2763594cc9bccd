//! Wall-clock times of audit rows: milliseconds since the Unix epoch, UTC.
//!
//! The station may have no time zone database (and no battery-backed clock:
//! see `prune` for what a wrong clock does), so every time is written and
//! read in UTC. Three spellings:
//! - RFC 3339 in JSON: `2026-11-25T08:30:00.250Z`;
//! - a spreadsheet-friendly one in CSV: `2026-11-25 08:30:00.250`;
//! - a compact stamp in folder names: `20261125T083000Z`.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

/// A time the parser does not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a time: use 2026-11-25, 2026-11-25T08:30:00Z, 2026-11-25T08:30:00+01:00 or 20261125T083000Z (no offset means UTC)"
)]
pub struct TimeError(pub String);

const MS_PER_DAY: i64 = 86_400_000;

impl Timestamp {
    pub fn now() -> Self {
        let ms = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
        };
        Timestamp(ms)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    /// `2026-11-25T08:30:00.250Z`.
    pub fn rfc3339(self) -> String {
        let c = Civil::of(self);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            c.year, c.month, c.day, c.hour, c.minute, c.second, c.milli
        )
    }

    /// `2026-11-25 08:30:00.250`: spreadsheets read it as a date and time.
    pub fn spreadsheet(self) -> String {
        let c = Civil::of(self);
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}",
            c.year, c.month, c.day, c.hour, c.minute, c.second, c.milli
        )
    }

    /// `20261125T083000Z` (whole seconds, rounded down), for file names.
    pub fn compact(self) -> String {
        let c = Civil::of(self);
        format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        )
    }

    /// Parses `2026-11-25` (midnight UTC), `2026-11-25T08:30[:00[.250]]`
    /// with an optional `Z` or `±HH:MM` offset (none means UTC; a space may
    /// stand for the `T`), and the compact `20261125T083000Z` / `20261125`.
    pub fn parse(text: &str) -> Result<Self, TimeError> {
        parse(text.trim()).ok_or_else(|| TimeError(text.to_owned()))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: i64,
    minute: i64,
    second: i64,
    milli: i64,
}

impl Civil {
    fn of(t: Timestamp) -> Self {
        let days = t.0.div_euclid(MS_PER_DAY);
        let ms = t.0.rem_euclid(MS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: ms / 3_600_000,
            minute: ms / 60_000 % 60,
            second: ms / 1000 % 60,
            milli: ms % 1000,
        }
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (H. Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// (year, month, day) to days since 1970-01-01 (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A cursor over ASCII digits and separators.
struct Scan<'a> {
    s: &'a [u8],
}

impl Scan<'_> {
    fn digits(&mut self, n: usize) -> Option<i64> {
        let (head, tail) = self.s.split_at_checked(n)?;
        if !head.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.s = tail;
        Some(head.iter().fold(0, |v, d| v * 10 + i64::from(d - b'0')))
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.s.first() == Some(&c) {
            self.s = &self.s[1..];
            true
        } else {
            false
        }
    }

    fn eat_any(&mut self, set: &[u8]) -> bool {
        set.iter().any(|&c| self.eat(c))
    }
}

fn parse(text: &str) -> Option<Timestamp> {
    let mut s = Scan { s: text.as_bytes() };
    let year = s.digits(4)?;
    let dashed = s.eat(b'-');
    let month = u32::try_from(s.digits(2)?).ok()?;
    if dashed && !s.eat(b'-') {
        return None;
    }
    let day = u32::try_from(s.digits(2)?).ok()?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let mut ms = 0;
    let mut offset_minutes = 0;
    if !s.s.is_empty() {
        if !s.eat_any(b"Tt ") {
            return None;
        }
        let hour = s.digits(2)?;
        if dashed && !s.eat(b':') {
            return None;
        }
        let minute = s.digits(2)?;
        let mut second = 0;
        if (dashed && s.eat(b':')) || (!dashed && s.s.first().is_some_and(u8::is_ascii_digit)) {
            second = s.digits(2)?;
            if s.eat(b'.') || s.eat(b',') {
                let digits = s.s.iter().take_while(|c| c.is_ascii_digit()).count();
                if digits == 0 {
                    return None;
                }
                let frac = s.digits(digits)?.to_string();
                let padded = format!("{:0<3}", &frac[..frac.len().min(3)]);
                ms = padded.parse::<i64>().ok()?;
            }
        }
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        ms += ((hour * 60 + minute) * 60 + second) * 1000;
        if s.eat_any(b"Zz") {
        } else if let Some(&sign @ (b'+' | b'-')) = s.s.first() {
            s.s = &s.s[1..];
            let oh = s.digits(2)?;
            s.eat(b':');
            let om = s.digits(2)?;
            if oh > 23 || om > 59 {
                return None;
            }
            offset_minutes = (oh * 60 + om) * if sign == b'+' { 1 } else { -1 };
        }
        if !s.s.is_empty() {
            return None;
        }
    }
    let days = days_from_civil(year, month, day);
    Some(Timestamp(days * MS_PER_DAY + ms - offset_minutes * 60_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_over_centuries() {
        for days in (-800_000..800_000).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn spellings() {
        let t = Timestamp::parse("2026-11-25T08:30:05.25Z").expect("valid");
        assert_eq!(t.rfc3339(), "2026-11-25T08:30:05.250Z");
        assert_eq!(t.spreadsheet(), "2026-11-25 08:30:05.250");
        assert_eq!(t.compact(), "20261125T083005Z");
        assert_eq!(Timestamp::parse(&t.compact()), Ok(Timestamp(t.0 - 250)));
        assert_eq!(Timestamp::parse("1970-01-01"), Ok(Timestamp(0)));
        assert_eq!(Timestamp::parse("19700101"), Ok(Timestamp(0)));
        assert_eq!(Timestamp::parse("1970-01-01 00:01"), Ok(Timestamp(60_000)));
        assert_eq!(
            Timestamp::parse("2026-11-25T09:30:05.250+01:00"),
            Timestamp::parse("2026-11-25T08:30:05.250Z")
        );
        assert_eq!(Timestamp(-1).rfc3339(), "1969-12-31T23:59:59.999Z");
        assert_eq!(
            Timestamp::parse("2024-02-29").map(Timestamp::compact).as_deref(),
            Ok("20240229T000000Z")
        );
    }

    #[test]
    fn rejects_what_is_not_a_time() {
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2025-02-29",
            "2026-11-25T24:00",
            "2026-11-25T08",
            "2026-11-25T08:30:00Zjunk",
            "2026-1125",
            "2026-11-25T08:30:00.",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
    }
}
