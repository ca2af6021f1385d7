//! Finding dates in the source's sentences: explicit, year-from-context, ranges,
//! relative phrases, and dates that are only mentioned.

use std::sync::LazyLock;

use jiff::ToSpan;
use jiff::civil::Date;
use regex::Regex;

use karabakh_core::dataset::{How, Precision, When};

/// A date expression found in a text.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub start: usize,
    pub end: usize,
    pub when: When,
    /// Only mentioned ("the 17 October attack", a date inside a quotation, a bare year):
    /// not the date of what is said.
    pub mention: bool,
    /// A bare year or span of years: never the date of a statement.
    pub year_only: bool,
}

/// A phrase that dates a statement against the one before it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Relative {
    pub start: usize,
    pub end: usize,
    /// Days after the date of the statement before.
    pub offset: i32,
}

#[derive(Clone, Copy)]
enum Shape {
    BetweenDays,
    MonthDayRange,
    TwoDays,
    DayMonthYear,
    MonthDayYear,
    DayMonth,
    MonthDay,
    MidMonth,
    MonthYear,
    YearRange,
    YearDash,
    Year,
}

static PATTERNS: LazyLock<Vec<(Shape, Regex)>> = LazyLock::new(|| {
    // The months' names as one alternation: `(January|February|…|December)`.
    let m = format!("({})", karabakh_core::text::MONTHS.join("|"));
    let p = |s: String| Regex::new(&s).expect("date pattern compiles");
    vec![
        (
            Shape::BetweenDays,
            p(format!(
                r"\bBetween (\d{{1,2}}) and (\d{{1,2}}) {m} (\d{{4}})\b"
            )),
        ),
        (
            Shape::MonthDayRange,
            p(format!(r"\b{m} (\d{{1,2}})[–-](\d{{1,2}}), (\d{{4}})\b")),
        ),
        (
            Shape::TwoDays,
            p(format!(
                r"\b(\d{{1,2}}) {m} and (\d{{1,2}}) {m} (\d{{4}})\b"
            )),
        ),
        (
            Shape::DayMonthYear,
            p(format!(r"\b(\d{{1,2}}) {m} (\d{{4}})\b")),
        ),
        (
            Shape::MonthDayYear,
            p(format!(r"\b{m} (\d{{1,2}}), (\d{{4}})\b")),
        ),
        (Shape::DayMonth, p(format!(r"\b(\d{{1,2}}) {m}\b"))),
        (Shape::MonthDay, p(format!(r"\b{m} (\d{{1,2}})\b"))),
        (Shape::MidMonth, p(format!(r"\bmid-{m}\b"))),
        (Shape::MonthYear, p(format!(r"\b{m} (\d{{4}})\b"))),
        (
            Shape::YearRange,
            p(r"\b(?:from|Between) (\d{4}) (?:to|and) (\d{4})\b".to_owned()),
        ),
        (Shape::YearDash, p(r"\b(\d{4})–(\d{4})\b".to_owned())),
        (Shape::Year, p(r"\b(1[6-9]\d\d|20\d\d)\b".to_owned())),
    ]
});

static RELATIVE: LazyLock<Vec<(i32, Regex)>> = LazyLock::new(|| {
    let p = |s: &str| Regex::new(s).expect("relative pattern compiles");
    vec![
        (1, p(r"\b(?:[Tt]he|On the) (?:next|following) day\b")),
        (0, p(r"\b(?:[Tt]he|On the) same day\b")),
        (0, p(r"\b[Ll]ater that day\b")),
        (2, p(r"\b[Tt]wo days later\b")),
        (-1, p(r"\bthe preceding morning\b")),
    ]
});

fn month_number(name: &str) -> i8 {
    karabakh_core::text::month_number(name).unwrap_or(0)
}

fn day(y: i16, m: i8, d: i8) -> Option<Date> {
    Date::new(y, m, d).ok()
}

fn when(precision: Precision, start: Date, end: Date, how: How, phrase: &str) -> When {
    When {
        precision,
        start: Some(start),
        end: Some(end),
        days: Vec::new(),
        how,
        phrase: Some(phrase.to_owned()),
    }
}

/// Whether byte `at` of `text` lies inside a quotation.
fn inside_quote(text: &str, at: usize) -> bool {
    let mut open = false;
    for c in text[..at].chars() {
        match c {
            '"' => open = !open,
            '“' => open = true,
            '”' => open = false,
            _ => {}
        }
    }
    open
}

/// Whether the words right before byte `at` make a date a mere mention ("the 17 October attack").
fn after_article(text: &str, at: usize) -> bool {
    let before = text[..at].trim_end();
    let word = before
        .rsplit(|c: char| !c.is_alphabetic())
        .next()
        .unwrap_or("");
    word.eq_ignore_ascii_case("the")
}

/// Every date expression in `text`, in order. `year` supplies the year of a date
/// written without one; without it such dates are skipped.
pub fn scan(text: &str, year: Option<i16>) -> Vec<Found> {
    let mut found: Vec<Found> = Vec::new();
    for (shape, re) in PATTERNS.iter() {
        for caps in re.captures_iter(text) {
            let whole = caps.get(0).expect("group 0");
            let (start, end) = (whole.start(), whole.end());
            if found.iter().any(|f| start < f.end && f.start < end) {
                continue;
            }
            let phrase = whole.as_str();
            let num = |i: usize| caps.get(i).and_then(|g| g.as_str().parse::<i16>().ok());
            let mon = |i: usize| caps.get(i).map_or(0, |g| month_number(g.as_str()));
            let follows = text[end..].chars().next();
            let parsed = match shape {
                Shape::BetweenDays => num(4).and_then(|y| {
                    let (a, b, m) = (num(1)? as i8, num(2)? as i8, mon(3));
                    Some(when(
                        Precision::Range,
                        day(y, m, a)?,
                        day(y, m, b)?,
                        How::Explicit,
                        phrase,
                    ))
                }),
                Shape::MonthDayRange => num(4).and_then(|y| {
                    let (m, a, b) = (mon(1), num(2)? as i8, num(3)? as i8);
                    Some(when(
                        Precision::Range,
                        day(y, m, a)?,
                        day(y, m, b)?,
                        How::Explicit,
                        phrase,
                    ))
                }),
                Shape::TwoDays => num(5).and_then(|y| {
                    let first = day(y, mon(2), num(1)? as i8)?;
                    let second = day(y, mon(4), num(3)? as i8)?;
                    let mut w = when(Precision::Days, first, second, How::Explicit, phrase);
                    w.days = vec![first, second];
                    Some(w)
                }),
                Shape::DayMonthYear => num(3).and_then(|y| {
                    let d = day(y, mon(2), num(1)? as i8)?;
                    Some(when(Precision::Day, d, d, How::Explicit, phrase))
                }),
                Shape::MonthDayYear => num(3).and_then(|y| {
                    let d = day(y, mon(1), num(2)? as i8)?;
                    Some(when(Precision::Day, d, d, How::Explicit, phrase))
                }),
                Shape::DayMonth => year.and_then(|y| {
                    let d = day(y, mon(2), num(1)? as i8)?;
                    Some(when(Precision::Day, d, d, How::YearFromContext, phrase))
                }),
                Shape::MonthDay => year.and_then(|y| {
                    let d = day(y, mon(1), num(2)? as i8)?;
                    Some(when(Precision::Day, d, d, How::YearFromContext, phrase))
                }),
                Shape::MidMonth => year.and_then(|y| {
                    let first = day(y, mon(1), 1)?;
                    Some(when(
                        Precision::Month,
                        first,
                        first.last_of_month(),
                        How::YearFromContext,
                        phrase,
                    ))
                }),
                Shape::MonthYear => num(2).and_then(|y| {
                    let first = day(y, mon(1), 1)?;
                    Some(when(
                        Precision::Month,
                        first,
                        first.last_of_month(),
                        How::Explicit,
                        phrase,
                    ))
                }),
                Shape::YearRange | Shape::YearDash => {
                    let (a, b) = (num(1), num(2));
                    a.zip(b).filter(|(a, b)| a < b).and_then(|(a, b)| {
                        Some(when(
                            Precision::Range,
                            day(a, 1, 1)?,
                            day(b, 12, 31)?,
                            How::Explicit,
                            phrase,
                        ))
                    })
                }
                Shape::Year => {
                    // "1990s" is a decade and "2020–21" a season: neither is a year.
                    if follows.is_some_and(|c| c.is_alphanumeric() || c == '–' || c == '-') {
                        None
                    } else {
                        num(1).and_then(|y| {
                            let first = day(y, 1, 1)?;
                            Some(when(
                                Precision::Year,
                                first,
                                first.last_of_year(),
                                How::Explicit,
                                phrase,
                            ))
                        })
                    }
                }
            };
            if let Some(when) = parsed {
                let mention = inside_quote(text, start) || after_article(text, start);
                let year_only = matches!(shape, Shape::YearRange | Shape::YearDash | Shape::Year);
                found.push(Found {
                    start,
                    end,
                    when,
                    mention,
                    year_only,
                });
            }
        }
    }
    found.sort_by_key(|f| f.start);
    found
}

/// Every relative phrase in `text`, in order.
pub fn relatives(text: &str) -> Vec<Relative> {
    let mut found: Vec<Relative> = RELATIVE
        .iter()
        .flat_map(|(offset, re)| {
            re.find_iter(text).map(move |m| Relative {
                start: m.start(),
                end: m.end(),
                offset: *offset,
            })
        })
        .collect();
    found.sort_by_key(|r| r.start);
    found
}

/// The day `offset` days after `base`, as a relative date.
pub fn resolve(base: Date, rel: Relative, phrase: &str) -> Option<When> {
    let d = base.checked_add(i64::from(rel.offset).days()).ok()?;
    Some(when(Precision::Day, d, d, How::Relative, phrase))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(text: &str) -> When {
        scan(text, Some(2020))
            .into_iter()
            .find(|f| !f.mention)
            .expect("a date")
            .when
    }

    fn d(y: i16, m: i8, dd: i8) -> Date {
        Date::new(y, m, dd).unwrap()
    }

    #[test]
    fn explicit_and_contextual_days() {
        let w = first("On 2 October 2020, the OSCE Minsk Group");
        assert_eq!(
            (w.precision, w.start, w.how),
            (Precision::Day, Some(d(2020, 10, 2)), How::Explicit)
        );
        let w = first("On October 29, 2020, several hundred");
        assert_eq!(w.start, Some(d(2020, 10, 29)));
        let w = first("On 5 October, Armenian Americans");
        assert_eq!(
            (w.start, w.how),
            (Some(d(2020, 10, 5)), How::YearFromContext)
        );
        let w = first("On September 27, a nationwide fundraising");
        assert_eq!(w.start, Some(d(2020, 9, 27)));
        let w = first("After the war, in January 2021, the Ambassador");
        assert_eq!(
            (w.precision, w.start, w.end),
            (Precision::Month, Some(d(2021, 1, 1)), Some(d(2021, 1, 31)))
        );
    }

    #[test]
    fn ranges_and_several_days() {
        let w = first("Between 19 and 20 September 2023, Azerbaijan launched");
        assert_eq!(
            (w.precision, w.start, w.end),
            (Precision::Range, Some(d(2023, 9, 19)), Some(d(2023, 9, 20)))
        );
        let w = first("adopted by its member states on March 13–14, 2008 during");
        assert_eq!(
            (w.precision, w.start, w.end),
            (Precision::Range, Some(d(2008, 3, 13)), Some(d(2008, 3, 14)))
        );
        let w = first("as did the OSCE on 1 October and 5 October 2020, and");
        assert_eq!(w.precision, Precision::Days);
        assert_eq!(w.days, vec![d(2020, 10, 1), d(2020, 10, 5)]);
        let w = first("Between 1991 and 2023, Artsakh controlled");
        assert_eq!(
            (w.precision, w.start, w.end),
            (Precision::Range, Some(d(1991, 1, 1)), Some(d(2023, 12, 31)))
        );
    }

    #[test]
    fn mentions_are_not_dates() {
        let all = scan(
            "violations of the 10 October 2020 humanitarian ceasefire and",
            Some(2020),
        );
        assert_eq!(all.len(), 1);
        assert!(all[0].mention);
        let all = scan(
            "to the memory of the victims of the 17 October attack.",
            Some(2020),
        );
        assert!(all[0].mention);
        let all = scan(
            "said that \"Azerbaijan's invasion of Artsakh in September 2020 cannot\"",
            Some(2020),
        );
        assert!(
            all[0].mention,
            "a date inside a quotation is the speaker's, not the statement's"
        );
        let all = scan(
            "the 1992–1995 Bosnian War, the 1990s and the 2020–21 UEFA Nations League",
            Some(2020),
        );
        assert_eq!(all.len(), 1);
        assert!(all[0].mention);
    }

    #[test]
    fn impossible_days_are_not_dates() {
        assert!(
            scan("On 31 September 2020 nothing", Some(2020))
                .iter()
                .all(|f| f.when.precision != Precision::Day)
        );
    }

    #[test]
    fn relative_phrases() {
        let rel = relatives("The next day, Azerbaijan sent a note");
        assert_eq!(rel[0].offset, 1);
        let w = resolve(d(2020, 12, 3), rel[0], "The next day").unwrap();
        assert_eq!((w.start, w.how), (Some(d(2020, 12, 4)), How::Relative));
        assert_eq!(
            relatives("However, two days later, the French")[0].offset,
            2
        );
        assert_eq!(
            relatives("on A7 motorway the preceding morning, when")[0].offset,
            -1
        );
        assert_eq!(relatives("Later that day it was announced")[0].offset, 0);
    }
}
