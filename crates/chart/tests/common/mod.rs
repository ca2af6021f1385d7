//! Fixed inputs shared by the tests and the benchmark: plausible shapes of
//! the dataset (a burst at the start of the war, ceasefire days, a thin
//! 2021, background events back to the 1990s), generated deterministically.
#![allow(dead_code)]

use jiff::civil::{Date, date};
use karabakh_chart::{CoverageInput, Period, StripInput, TimelineInput};

/// A tiny deterministic generator (no dependency, same numbers everywhere).
pub struct Lcg(pub u64);
impl Lcg {
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

pub fn days(start: Date, n: i64) -> impl Iterator<Item = Date> {
    (0..n).map(move |i| start.checked_add(jiff::Span::new().days(i)).unwrap())
}

/// Statements per day during the war: many at the start and near the
/// ceasefires of 10, 17 and 26 October and the end on 10 November.
pub fn war_dates() -> Vec<Date> {
    let mut rng = Lcg(27);
    let mut out = Vec::new();
    for (i, d) in days(date(2020, 9, 27), 45).enumerate() {
        let base = match i {
            0 => 14,
            1 => 11,
            2 => 8,
            3..=6 => 5,
            _ => 2,
        };
        let bump = if [
            date(2020, 10, 10),
            date(2020, 10, 17),
            date(2020, 10, 26),
            date(2020, 11, 10),
        ]
        .contains(&d)
        {
            6
        } else {
            0
        };
        let n = base + bump + rng.below(3);
        for _ in 0..n {
            out.push(d);
        }
    }
    out
}

pub fn war_timeline() -> TimelineInput {
    TimelineInput {
        start: date(2020, 9, 27),
        end: date(2020, 11, 10),
        dates: war_dates(),
        marked: vec![date(2020, 9, 27), date(2020, 10, 10), date(2020, 11, 10)],
        title: None,
    }
}

pub fn october_timeline() -> TimelineInput {
    TimelineInput {
        start: date(2020, 10, 1),
        end: date(2020, 10, 31),
        dates: war_dates(),
        marked: vec![date(2020, 10, 10), date(2020, 10, 17), date(2020, 10, 26)],
        title: None,
    }
}

pub fn dates_2021() -> Vec<Date> {
    vec![
        date(2021, 1, 11),
        date(2021, 1, 11),
        date(2021, 1, 12),
        date(2021, 2, 24),
        date(2021, 4, 24),
        date(2021, 4, 24),
        date(2021, 4, 24),
        date(2021, 5, 14),
        date(2021, 6, 20),
        date(2021, 11, 16),
        date(2021, 12, 15),
    ]
}

pub fn year_2021_timeline() -> TimelineInput {
    TimelineInput {
        start: date(2021, 1, 1),
        end: date(2021, 12, 31),
        dates: dates_2021(),
        marked: vec![date(2021, 4, 24)],
        title: None,
    }
}

pub fn strip_input() -> StripInput {
    StripInput {
        actor: "Turkey".to_string(),
        dates: vec![
            date(2020, 9, 27),
            date(2020, 9, 27),
            date(2020, 9, 27),
            date(2020, 9, 28),
            date(2020, 9, 30),
            date(2020, 10, 5),
            date(2020, 10, 10),
            date(2020, 10, 10),
            date(2020, 10, 17),
            date(2020, 10, 26),
            date(2020, 11, 10),
            date(2020, 11, 11),
            date(2020, 11, 17),
            date(2021, 1, 11),
        ],
    }
}

pub fn coverage_dates() -> Vec<Date> {
    let mut out = vec![
        date(1991, 12, 10),
        date(1992, 2, 26),
        date(1993, 4, 30),
        date(1993, 7, 29),
        date(1994, 5, 12),
        date(1994, 5, 12),
        date(2008, 3, 14),
        date(2016, 4, 2),
        date(2016, 4, 3),
        date(2016, 4, 5),
        date(2020, 7, 12),
        date(2020, 7, 14),
        date(2020, 7, 16),
    ];
    out.extend(war_dates());
    out.extend(dates_2021());
    out.extend([date(2022, 9, 13), date(2022, 9, 14), date(2022, 9, 15)]);
    out.extend([
        date(2023, 9, 19),
        date(2023, 9, 19),
        date(2023, 9, 20),
        date(2023, 9, 21),
    ]);
    out
}

pub fn coverage_input() -> CoverageInput {
    CoverageInput {
        dates: coverage_dates(),
        period: Some(Period::second_karabakh_war()),
        title: None,
    }
}
