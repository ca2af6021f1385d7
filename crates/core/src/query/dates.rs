//! Reading the dates people type: `2020-10-10`, `10 October 2020`, `October 10, 2020`,
//! `10 Oct` (the war's year), a month (`2020-10`, `October 2020`), a year, or a range.

use jiff::civil::Date;

use crate::text::month_number;

/// The year a date without one means: the year of the war.
pub const DEFAULT_YEAR: i16 = 2020;

/// How precise what was typed is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grain {
    Day,
    Month,
    Year,
}

/// A span of days a user asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub from: Date,
    pub to: Date,
}

impl Span {
    pub fn is_single_day(&self) -> bool {
        self.from == self.to
    }

    /// A whole calendar month.
    pub fn is_month(&self) -> bool {
        self.from.day() == 1 && self.to == self.from.last_of_month()
    }

    /// A whole calendar year.
    pub fn is_year(&self) -> bool {
        self.from.month() == 1 && self.from.day() == 1 && self.to == self.from.last_of_year()
    }

    /// The span written back in a form [`parse_span`] reads: for page buttons.
    pub fn key(&self) -> String {
        if self.is_single_day() {
            self.from.to_string()
        } else if self.is_month() {
            format!("{:04}-{:02}", self.from.year(), self.from.month())
        } else if self.is_year() {
            self.from.year().to_string()
        } else {
            format!("{}..{}", self.from, self.to)
        }
    }
}

/// Why what was typed is not a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateError {
    /// Not a date in any accepted form.
    Unreadable(String),
    /// A range that ends before it starts.
    Backwards,
    /// A month or year where a day is needed.
    NeedsDay(String),
}

fn number(word: &str) -> Option<i32> {
    let digits = word
        .strip_suffix("st")
        .or_else(|| word.strip_suffix("nd"))
        .or_else(|| word.strip_suffix("rd"))
        .or_else(|| word.strip_suffix("th"))
        .unwrap_or(word);
    if digits.is_empty() || digits.len() > 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn year(n: i32) -> Option<i16> {
    (1000..=2999).contains(&n).then_some(n as i16)
}

/// One date as typed: its first and last day and its grain.
fn parse_one(text: &str) -> Option<(Date, Date, Grain)> {
    let t = text.trim().to_lowercase();
    let day = |y: i16, m: i8, d: i32| -> Option<(Date, Date, Grain)> {
        let d = Date::new(y, m, i8::try_from(d).ok()?).ok()?;
        Some((d, d, Grain::Day))
    };
    let whole_month = |y: i16, m: i8| -> Option<(Date, Date, Grain)> {
        let first = Date::new(y, m, 1).ok()?;
        Some((first, first.last_of_month(), Grain::Month))
    };
    // ISO forms: 2020-10-10, 2020/10/10, 2020-10.
    let iso: Vec<&str> = t.split(['-', '/']).collect();
    if iso.len() >= 2
        && iso
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        let y = year(number(iso[0])?)?;
        let m = i8::try_from(number(iso[1])?).ok()?;
        return match iso.len() {
            2 => whole_month(y, m),
            3 => day(y, m, number(iso[2])?),
            _ => None,
        };
    }
    let words: Vec<&str> = t.split([' ', ',', '.']).filter(|w| !w.is_empty()).collect();
    match words.as_slice() {
        [y] if number(y).and_then(year).is_some() => {
            let y = number(y).and_then(year)?;
            let first = Date::new(y, 1, 1).ok()?;
            Some((first, first.last_of_year(), Grain::Year))
        }
        [m] => whole_month(DEFAULT_YEAR, month_number(m)?),
        [a, b] => {
            if let (Some(m), Some(n)) = (month_number(a), number(b)) {
                // "October 2020" or "October 10"
                match year(n) {
                    Some(y) => whole_month(y, m),
                    None => day(DEFAULT_YEAR, m, n),
                }
            } else {
                // "10 October"
                day(DEFAULT_YEAR, month_number(b)?, number(a)?)
            }
        }
        [a, b, c] => {
            if let Some(m) = month_number(a) {
                // "October 10, 2020"
                day(year(number(c)?)?, m, number(b)?)
            } else {
                // "10 October 2020"
                day(year(number(c)?)?, month_number(b)?, number(a)?)
            }
        }
        _ => None,
    }
}

/// A span of days from what was typed: one date, or a range written `A..B`,
/// `A to B` or `A – B`.
pub fn parse_span(text: &str) -> Result<Span, DateError> {
    let t = text.trim();
    for sep in ["..", " to ", " – ", " — ", " - "] {
        if let Some((a, b)) = t.split_once(sep) {
            return parse_range(a, Some(b));
        }
    }
    parse_range(t, None)
}

/// A span from a start and an optional end ("to:").
pub fn parse_range(from: &str, to: Option<&str>) -> Result<Span, DateError> {
    let unreadable = |s: &str| DateError::Unreadable(s.trim().to_owned());
    let (start, end, _) = parse_one(from).ok_or_else(|| unreadable(from))?;
    let end = match to.map(str::trim).filter(|t| !t.is_empty()) {
        Some(to) => parse_one(to).ok_or_else(|| unreadable(to))?.1,
        None => end,
    };
    if end < start {
        return Err(DateError::Backwards);
    }
    Ok(Span {
        from: start,
        to: end,
    })
}

/// A month and day for "on this day": any form of a single day, or `MM-DD`.
pub fn parse_day_of_year(text: &str) -> Result<(i8, i8), DateError> {
    let t = text.trim();
    let parts: Vec<&str> = t.split('-').collect();
    if parts.len() == 2
        && parts
            .iter()
            .all(|p| (1..=2).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
    {
        let (m, d) = (number(parts[0]), number(parts[1]));
        if let (Some(m), Some(d)) = (m, d) {
            // 2020 is a leap year, so 29 February is a day of the year.
            if let Ok(date) = Date::new(
                2020,
                i8::try_from(m).unwrap_or(0),
                i8::try_from(d).unwrap_or(0),
            ) {
                return Ok((date.month(), date.day()));
            }
        }
        return Err(DateError::Unreadable(t.to_owned()));
    }
    match parse_one(t) {
        Some((d, _, Grain::Day)) => Ok((d.month(), d.day())),
        Some(_) => Err(DateError::NeedsDay(t.to_owned())),
        None => Err(DateError::Unreadable(t.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn accepted_forms() {
        for typed in [
            "2020-10-10",
            "10 October 2020",
            "October 10, 2020",
            "10 Oct",
            "Oct 10",
            "10th October",
            "2020/10/10",
        ] {
            let s = parse_span(typed).unwrap_or_else(|e| panic!("{typed}: {e:?}"));
            assert_eq!(
                (s.from, s.to),
                (d("2020-10-10"), d("2020-10-10")),
                "{typed}"
            );
        }
        let m = parse_span("2020-10").unwrap();
        assert_eq!((m.from, m.to), (d("2020-10-01"), d("2020-10-31")));
        assert!(m.is_month());
        assert_eq!(parse_span("October 2020").unwrap(), m);
        assert_eq!(parse_span("oct").unwrap(), m);
        let y = parse_span("2012").unwrap();
        assert_eq!((y.from, y.to), (d("2012-01-01"), d("2012-12-31")));
        let r = parse_range("2020-10-10", Some("2020-10-12")).unwrap();
        assert_eq!((r.from, r.to), (d("2020-10-10"), d("2020-10-12")));
        assert_eq!(parse_span("2020-10-10..2020-10-12").unwrap(), r);
        assert_eq!(parse_span("10 Oct to 12 Oct").unwrap(), r);
    }

    #[test]
    fn keys_read_back_as_the_same_span() {
        for typed in [
            "2020-10-10",
            "2020-10",
            "2012",
            "2020-10-10..2020-10-12",
            "Oct 2020 to Nov 2020",
        ] {
            let s = parse_span(typed).unwrap();
            assert_eq!(parse_span(&s.key()).unwrap(), s, "{typed}");
        }
    }

    #[test]
    fn bad_dates_are_refused() {
        for typed in [
            "",
            "soon",
            "2020-02-30",
            "31 September 2020",
            "25:00",
            "2020-13",
            "99999",
            "10 Octopus",
        ] {
            assert!(parse_span(typed).is_err(), "{typed}");
        }
        assert_eq!(
            parse_range("2020-10-12", Some("2020-10-10")),
            Err(DateError::Backwards)
        );
    }

    #[test]
    fn days_of_the_year() {
        assert_eq!(parse_day_of_year("25 November"), Ok((11, 25)));
        assert_eq!(parse_day_of_year("11-25"), Ok((11, 25)));
        assert_eq!(parse_day_of_year("2021-11-25"), Ok((11, 25)));
        assert_eq!(parse_day_of_year("02-29"), Ok((2, 29)));
        assert!(matches!(
            parse_day_of_year("November"),
            Err(DateError::NeedsDay(_))
        ));
        assert!(parse_day_of_year("13-40").is_err());
    }
}
