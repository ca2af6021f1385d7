//! Reading the dates people type: ISO (`2020-10-10`), numeric with dots, slashes or
//! dashes (`27.09.2020`, `27/09/2020`, `27-09-2020`, `22.10.20`), written
//! (`10 October 2020`, `October 10, 2020`, `27-Sep-2020`, `27th of September 2020`,
//! `Wednesday 28 October 2020`, `10 Oct`: the war's year), a month (`2020-10`,
//! `10/2020`, `October 2020`, `2020 September`), a year (`2012`, `in 2021`), or a
//! range (`9–12 October 2020`, `October–November 2020`, `from 25 to 29 November
//! 2020`, `A to B`, `A..B`, `A - B`).
//!
//! A slashed date whose day and month could be swapped (`04/12/2020`) is read by the
//! asker's Discord locale: month first in `en-US`, day first everywhere else; the
//! answer says which reading was used ([`Reading::note`]).

use jiff::civil::Date;

use crate::text::{month_name, month_number};

/// The year a date without one means: the year of the war.
pub const DEFAULT_YEAR: i16 = 2020;

/// How the asker writes a numeric date whose day and month could be swapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    DayFirst,
    MonthFirst,
}

impl Order {
    /// Month first for Discord's `en-US`, day first for every other locale (and none).
    pub fn for_locale(locale: Option<&str>) -> Self {
        match locale {
            Some(l) if l.eq_ignore_ascii_case("en-US") => Self::MonthFirst,
            _ => Self::DayFirst,
        }
    }
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

    /// The span written back in a form [`parse_span`] reads in any locale: for page
    /// buttons.
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

/// A date read, and how an ambiguous one was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    pub span: Span,
    /// Set when a numeric date could be read two ways (`04/12/2020`), or a weekday
    /// typed does not fall on the date: says which reading was used.
    pub note: Option<String>,
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

/// What one piece of typed text says: any of day, month and year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Partial {
    day: Option<i8>,
    month: Option<i8>,
    year: Option<i16>,
    /// A numeric day and month that could be swapped, read with `Order`: (first, second).
    swapped: Option<(i8, i8)>,
    weekday: Option<jiff::civil::Weekday>,
}

const WEEKDAYS: [(&str, jiff::civil::Weekday); 7] = [
    ("monday", jiff::civil::Weekday::Monday),
    ("tuesday", jiff::civil::Weekday::Tuesday),
    ("wednesday", jiff::civil::Weekday::Wednesday),
    ("thursday", jiff::civil::Weekday::Thursday),
    ("friday", jiff::civil::Weekday::Friday),
    ("saturday", jiff::civil::Weekday::Saturday),
    ("sunday", jiff::civil::Weekday::Sunday),
];

fn weekday(word: &str) -> Option<jiff::civil::Weekday> {
    if word.len() < 3 {
        return None;
    }
    WEEKDAYS
        .iter()
        .find(|(name, _)| name.starts_with(word))
        .map(|&(_, w)| w)
}

/// Filler that may stand around a date: "on 18 October", "the 22nd of October".
const FILLER: &[&str] = &["on", "in", "the", "of", "from", "between", "date", "day"];

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `27th` → 27; `2020` → 2020.
fn number(word: &str) -> Option<i32> {
    let d = ["st", "nd", "rd", "th"]
        .iter()
        .find_map(|s| word.strip_suffix(s))
        .unwrap_or(word);
    if !digits(d) || d.len() > 4 {
        return None;
    }
    d.parse().ok()
}

fn year_of(n: i32, written: &str) -> Option<i16> {
    match written.len() {
        4 if (1000..=2999).contains(&n) => Some(n as i16),
        2 => Some(2000 + n as i16),
        _ => None,
    }
}

/// A numeric date such as `27.09.2020`, `04/12/2020`, `2020-10-10`, `10/2020`,
/// `06.10.`, `25/11`, `11-25`.
fn numeric(token: &str, order: Order) -> Option<Partial> {
    let sep = token.chars().find(|c| matches!(c, '.' | '/' | '-'))?;
    let parts: Vec<&str> = token.split(sep).collect();
    let parts: Vec<&str> = match parts.split_last() {
        Some((last, rest)) if last.is_empty() && sep == '.' => rest.to_vec(),
        _ => parts,
    };
    if parts.len() < 2 || parts.len() > 3 || !parts.iter().all(|p| digits(p)) {
        return None;
    }
    let n = |i: usize| parts[i].parse::<i32>().ok();
    let mut p = Partial::default();
    if parts[0].len() == 4 {
        // 2020-10-10, 2020/10/10, 2020-10
        p.year = year_of(n(0)?, parts[0]);
        p.month = Some(i8::try_from(n(1)?).ok()?);
        if parts.len() == 3 {
            p.day = Some(i8::try_from(n(2)?).ok()?);
        }
        return Some(p);
    }
    if parts.len() == 2 && parts[1].len() == 4 {
        // 10/2020
        p.month = Some(i8::try_from(n(0)?).ok()?);
        p.year = year_of(n(1)?, parts[1]);
        return Some(p);
    }
    if parts.iter().take(2).any(|x| x.len() > 2) {
        return None;
    }
    if parts.len() == 3 {
        if !matches!(parts[2].len(), 2 | 4) {
            return None;
        }
        p.year = Some(year_of(n(2)?, parts[2])?);
    }
    let (a, b) = (i8::try_from(n(0)?).ok()?, i8::try_from(n(1)?).ok()?);
    // Day and month: the only valid reading, or by the writing's convention.
    let (day, month) = if a > 12 {
        (a, b)
    } else if b > 12 {
        (b, a)
    } else if sep == '-' && parts.len() == 2 {
        // 11-25: month and day, as in ISO dates.
        (b, a)
    } else if sep == '/' {
        if a != b {
            p.swapped = Some((a, b));
        }
        match order {
            Order::DayFirst => (a, b),
            Order::MonthFirst => (b, a),
        }
    } else {
        (a, b)
    };
    p.day = Some(day);
    p.month = Some(month);
    Some(p)
}

/// One date as typed, possibly incomplete (`9` in `9–12 October`).
fn partial(text: &str, order: Order) -> Option<Partial> {
    let t = text.trim().to_lowercase().replace(',', " ");
    let mut p = Partial::default();
    let mut words: Vec<String> = Vec::new();
    for raw in t.split_whitespace() {
        let w = raw.trim_end_matches('.');
        let w = if w.is_empty() { raw } else { w };
        if raw.contains(['/', '.'])
            || (raw.contains('-') && raw.chars().all(|c| c.is_ascii_digit() || c == '-'))
        {
            if let Some(n) = numeric(raw.trim_end_matches('-'), order) {
                // A numeric date is a whole date: nothing else may join it but a weekday.
                if p.day.is_some() || p.month.is_some() || p.year.is_some() {
                    return None;
                }
                if words
                    .iter()
                    .any(|w| weekday(w).is_none() && !FILLER.contains(&w.as_str()))
                {
                    return None;
                }
                let wd = p.weekday;
                p = n;
                p.weekday = wd;
                continue;
            }
        }
        // 27-Sep-2020, Sep-27
        for piece in w.split('-').filter(|s| !s.is_empty()) {
            words.push(piece.to_owned());
        }
    }
    for w in &words {
        if FILLER.contains(&w.as_str()) {
            continue;
        }
        if let Some(d) = weekday(w) {
            if month_number(w).is_none() {
                p.weekday = Some(d);
                continue;
            }
        }
        if let Some(m) = month_number(w) {
            if p.month.is_some() {
                return None;
            }
            p.month = Some(m);
            continue;
        }
        let n = number(w)?;
        let plain = w.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        if plain.len() == 4 {
            if p.year.is_some() {
                return None;
            }
            p.year = Some(year_of(n, plain)?);
        } else if (1..=31).contains(&n) && p.day.is_none() {
            p.day = Some(n as i8);
        } else {
            return None;
        }
    }
    (p.day.is_some() || p.month.is_some() || p.year.is_some()).then_some(p)
}

/// How precise a complete date is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grain {
    Day,
    Month,
    Year,
}

/// A partial date made whole: its first and last day. A day needs a month; a year
/// missing means the war's.
fn complete(p: &Partial) -> Option<(Date, Date, Grain)> {
    match (p.day, p.month, p.year) {
        (Some(d), Some(m), y) => {
            let date = Date::new(y.unwrap_or(DEFAULT_YEAR), m, d).ok()?;
            Some((date, date, Grain::Day))
        }
        (None, Some(m), y) => {
            let first = Date::new(y.unwrap_or(DEFAULT_YEAR), m, 1).ok()?;
            Some((first, first.last_of_month(), Grain::Month))
        }
        (None, None, Some(y)) => {
            let first = Date::new(y, 1, 1).ok()?;
            Some((first, first.last_of_year(), Grain::Year))
        }
        _ => None,
    }
}

/// What to say about how a date was read, if anything.
fn note_of(p: &Partial, order: Order, date: Date, typed: &str) -> Option<String> {
    let mut notes = Vec::new();
    if p.swapped.is_some() {
        // The other reading swaps the day and the month read.
        let other = Date::new(date.year(), date.day(), date.month()).ok();
        let how = match order {
            Order::DayFirst => "day first",
            Order::MonthFirst => "month first (US English)",
        };
        let mut s = format!(
            "'{}' was read {how}: {}.",
            typed.trim(),
            crate::reply::markdown::day(date)
        );
        if let Some(o) = other {
            s.push_str(&format!(
                " For {}, type {o}.",
                crate::reply::markdown::day(o)
            ));
        }
        notes.push(s);
    }
    if let Some(w) = p.weekday {
        if w != date.weekday() {
            let name = WEEKDAYS
                .iter()
                .find(|(_, d)| *d == date.weekday())
                .map_or("", |(n, _)| n);
            notes.push(format!(
                "{} was a {}.",
                crate::reply::markdown::day(date),
                crate::text::capitalise(name)
            ));
        }
    }
    (!notes.is_empty()).then(|| notes.join(" "))
}

/// Separators of a range typed in one field, in the order they are tried.
const RANGE_SEPARATORS: &[&str] = &[
    "..",
    " to ",
    " until ",
    " till ",
    " through ",
    " – ",
    " — ",
    " - ",
    "–",
    "—",
    "-",
];

/// A span of days from what was typed in one field: one date or a range.
pub fn parse_span(text: &str, order: Order) -> Result<Reading, DateError> {
    parse_range(text, None, order)
}

/// Fills what one end of a range leaves out from the other: `9–12 October 2020`,
/// `Dec 3-4 2020`, `September 27 – October 1, 2020`.
fn share(a: &mut Partial, b: &mut Partial) {
    if a.year.is_none() {
        a.year = b.year;
    }
    if b.year.is_none() {
        b.year = a.year;
    }
    if a.month.is_none() && a.day.is_some() {
        a.month = b.month;
    }
    if b.month.is_none() && b.day.is_some() {
        b.month = a.month;
    }
}

fn span_of(a: &Partial, b: Option<&Partial>) -> Option<(Date, Date)> {
    let (s, e, _) = complete(a)?;
    match b {
        None => Some((s, e)),
        Some(b) => Some((s, complete(b)?.1)),
    }
}

fn strip_from(text: &str) -> &str {
    let t = text.trim();
    for lead in ["from ", "From ", "FROM ", "between ", "Between "] {
        if let Some(rest) = t.strip_prefix(lead) {
            return rest;
        }
    }
    t
}

/// A span from a start and an optional end (the `to:` option). Either may itself be
/// a range typed in one field when the other is absent.
pub fn parse_range(from: &str, to: Option<&str>, order: Order) -> Result<Reading, DateError> {
    let unreadable = |s: &str| DateError::Unreadable(s.trim().to_owned());
    let to = to.map(str::trim).filter(|t| !t.is_empty());
    let text = strip_from(from);
    let (mut a, mut b, typed_a, typed_b) = match to {
        Some(to) => {
            let a = partial(text, order).ok_or_else(|| unreadable(from))?;
            let b = partial(to, order).ok_or_else(|| unreadable(to))?;
            (a, Some(b), text.to_owned(), to.to_owned())
        }
        None => match partial(text, order) {
            Some(p) if complete(&p).is_some() => (p, None, text.to_owned(), String::new()),
            _ => {
                let split = RANGE_SEPARATORS.iter().find_map(|sep| {
                    text.match_indices(sep).find_map(|(i, _)| {
                        let (l, r) = (&text[..i], &text[i + sep.len()..]);
                        let (pl, pr) = (partial(l, order)?, partial(r, order)?);
                        Some((pl, pr, l.to_owned(), r.to_owned()))
                    })
                });
                match split {
                    Some((l, r, tl, tr)) => (l, Some(r), tl, tr),
                    None => return Err(unreadable(from)),
                }
            }
        },
    };
    if let Some(b) = b.as_mut() {
        share(&mut a, b);
    }
    let (start, end) = span_of(&a, b.as_ref()).ok_or_else(|| {
        unreadable(if to.is_some() && complete(&a).is_some() {
            to.unwrap_or(from)
        } else {
            from
        })
    })?;
    if end < start {
        return Err(DateError::Backwards);
    }
    let mut notes: Vec<String> = Vec::new();
    if let Some(n) = note_of(&a, order, start, &typed_a) {
        notes.push(n);
    }
    if let (Some(b), Some((_, e, Grain::Day))) = (b.as_ref(), b.as_ref().and_then(complete)) {
        if let Some(n) = note_of(b, order, e, &typed_b) {
            notes.push(n);
        }
    }
    Ok(Reading {
        span: Span {
            from: start,
            to: end,
        },
        note: (!notes.is_empty()).then(|| notes.join(" ")),
    })
}

/// A month and day for "on this day": any form of a single day (a year typed is
/// ignored), `MM-DD`, or a numeric day and month read by the locale (`25/11`).
pub fn parse_day_of_year(text: &str, order: Order) -> Result<(i8, i8, Option<String>), DateError> {
    let t = text.trim();
    let unreadable = || DateError::Unreadable(t.to_owned());
    let p = partial(t, order).ok_or_else(unreadable)?;
    match (p.day, p.month) {
        (Some(d), Some(m)) => {
            // 2020 is a leap year, so 29 February is a day of the year.
            let date = Date::new(p.year.unwrap_or(DEFAULT_YEAR), m, d)
                .or_else(|_| Date::new(2020, m, d))
                .map_err(|_| unreadable())?;
            let note = p.swapped.map(|_| {
                let how = match order {
                    Order::DayFirst => "day first",
                    Order::MonthFirst => "month first (US English)",
                };
                let (od, om) = (date.month(), date.day());
                format!(
                    "'{t}' was read {how}: {} {}. For {od} {}, type {om:02}-{od:02}.",
                    date.day(),
                    month_name(date.month()),
                    month_name(om),
                )
            });
            Ok((date.month(), date.day(), note))
        }
        _ if complete(&p).is_some() => Err(DateError::NeedsDay(t.to_owned())),
        _ => Err(unreadable()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn span(typed: &str, order: Order) -> (Date, Date) {
        let r = parse_span(typed, order).unwrap_or_else(|e| panic!("{typed}: {e:?}"));
        (r.span.from, r.span.to)
    }

    #[test]
    fn every_everyday_form_of_a_day() {
        for typed in [
            "2020-09-27",
            "2020/09/27",
            "27.09.2020",
            "27/09/2020",
            "27-09-2020",
            "27.9.20",
            "27-Sep-2020",
            "27 Sep 2020",
            "27 September 2020",
            "27th of September 2020",
            "the 27th of September",
            "September 27, 2020",
            "Sept 27 2020",
            "SEPTEMBER 27 2020",
            "Sep. 27, 2020",
            "27 sept",
            "on 27 September",
            "Sunday 27 September 2020",
            "Sunday, September 27, 2020",
        ] {
            assert_eq!(
                span(typed, Order::DayFirst),
                (d("2020-09-27"), d("2020-09-27")),
                "{typed}"
            );
        }
    }

    #[test]
    fn a_swappable_numeric_date_is_read_by_the_locale_and_says_so() {
        let gb = parse_span("04/12/2020", Order::for_locale(Some("en-GB"))).unwrap();
        assert_eq!(gb.span.from, d("2020-12-04"));
        let note = gb.note.unwrap();
        assert!(
            note.contains("day first") && note.contains("12 April 2020"),
            "{note}"
        );
        let us = parse_span("04/12/2020", Order::for_locale(Some("en-US"))).unwrap();
        assert_eq!(us.span.from, d("2020-04-12"));
        assert!(us.note.unwrap().contains("month first"));
        // Only one reading is a date: no question, no note.
        let r = parse_span("29/10/2020", Order::MonthFirst).unwrap();
        assert_eq!((r.span.from, r.note), (d("2020-10-29"), None));
        // Dots and dashes are written day first everywhere.
        assert_eq!(span("04.12.2020", Order::MonthFirst).0, d("2020-12-04"));
        assert_eq!(Order::for_locale(None), Order::DayFirst);
        assert_eq!(Order::for_locale(Some("de")), Order::DayFirst);
    }

    #[test]
    fn months_years_and_ranges() {
        let oct = (d("2020-10-01"), d("2020-10-31"));
        for typed in [
            "2020-10",
            "10/2020",
            "October 2020",
            "2020 October",
            "oct",
            "Oct. 2020",
        ] {
            assert_eq!(span(typed, Order::DayFirst), oct, "{typed}");
        }
        assert_eq!(
            span("in 2021", Order::DayFirst),
            (d("2021-01-01"), d("2021-12-31"))
        );
        for (typed, from, to) in [
            ("9–12 October 2020", "2020-10-09", "2020-10-12"),
            ("9-12 October 2020", "2020-10-09", "2020-10-12"),
            ("16-18 Oct", "2020-10-16", "2020-10-18"),
            ("Dec 3-4 2020", "2020-12-03", "2020-12-04"),
            ("October–November 2020", "2020-10-01", "2020-11-30"),
            ("Oct-Nov 2020", "2020-10-01", "2020-11-30"),
            ("from 25 to 29 November 2020", "2020-11-25", "2020-11-29"),
            ("22/10/2020 - 25/10/2020", "2020-10-22", "2020-10-25"),
            ("September 27 – October 1, 2020", "2020-09-27", "2020-10-01"),
            ("November 2020 – January 2021", "2020-11-01", "2021-01-31"),
            ("2020-10-10..2020-10-12", "2020-10-10", "2020-10-12"),
        ] {
            assert_eq!(span(typed, Order::DayFirst), (d(from), d(to)), "{typed}");
        }
        let r = parse_range("27.09.2020", Some("01.10.2020"), Order::DayFirst).unwrap();
        assert_eq!((r.span.from, r.span.to), (d("2020-09-27"), d("2020-10-01")));
    }

    #[test]
    fn keys_read_back_as_the_same_span_in_any_locale() {
        for typed in [
            "2020-10-10",
            "2020-10",
            "2012",
            "2020-10-10..2020-10-12",
            "Oct 2020 to Nov 2020",
        ] {
            let s = parse_span(typed, Order::DayFirst).unwrap().span;
            for order in [Order::DayFirst, Order::MonthFirst] {
                assert_eq!(parse_span(&s.key(), order).unwrap().span, s, "{typed}");
            }
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
            "13/13/2020",
        ] {
            assert!(parse_span(typed, Order::DayFirst).is_err(), "{typed}");
        }
        assert_eq!(
            parse_range("2020-10-12", Some("2020-10-10"), Order::DayFirst),
            Err(DateError::Backwards)
        );
        let r = parse_span("Tuesday 28 October 2020", Order::DayFirst).unwrap();
        assert!(r.note.unwrap().contains("was a Wednesday"));
    }

    #[test]
    fn days_of_the_year() {
        let md = |typed: &str, order| {
            let (m, d, _) =
                parse_day_of_year(typed, order).unwrap_or_else(|e| panic!("{typed}: {e:?}"));
            (m, d)
        };
        for typed in [
            "25 November",
            "Nov 25",
            "25th of November",
            "11-25",
            "2021-11-25",
            "25.11.",
            "25/11",
        ] {
            assert_eq!(md(typed, Order::DayFirst), (11, 25), "{typed}");
        }
        assert_eq!(md("11/25", Order::MonthFirst), (11, 25));
        assert_eq!(md("5/10", Order::DayFirst), (10, 5));
        assert_eq!(md("10/5", Order::MonthFirst), (10, 5));
        assert_eq!(md("06.10.", Order::MonthFirst), (10, 6));
        assert_eq!(md("02-29", Order::DayFirst), (2, 29));
        assert!(matches!(
            parse_day_of_year("November", Order::DayFirst),
            Err(DateError::NeedsDay(_))
        ));
        assert!(parse_day_of_year("13-40", Order::DayFirst).is_err());
    }
}
