//! Which dates have a page: exactly those for which `/timeline` (or `/onthisday`)
//! answers with something, so that every link button the bot puts under such an
//! answer leads to a page. Found once, with the core's own queries.

use std::collections::BTreeSet;

use jiff::civil::{Date, date};
use karabakh_core::commands::Core;
use karabakh_core::dataset::{Precision, When};

#[derive(Debug, Default)]
pub struct DateIndex {
    pub days: BTreeSet<Date>,
    /// Months whose `/timeline` is not empty (a background event spanning decades
    /// makes every month it covers one).
    pub months: BTreeSet<(i16, i8)>,
    /// Months holding a statement or an event dated within them: those the index of
    /// dates lists.
    pub listed_months: BTreeSet<(i16, i8)>,
    pub years: BTreeSet<i16>,
    pub on_this_day: BTreeSet<(i8, i8)>,
}

/// Every day a date names (a day, several days, each day of a range of days).
fn days_of(w: &When) -> Vec<Date> {
    match (w.precision, w.start, w.end) {
        (Precision::Day, Some(d), _) => vec![d],
        (Precision::Days, _, _) => w.days.clone(),
        (Precision::Range, Some(s), Some(e)) if (e - s).get_days() <= 366 => s
            .series(jiff::Span::new().days(1))
            .take_while(|d| *d <= e)
            .collect(),
        _ => Vec::new(),
    }
}

impl DateIndex {
    pub fn new(core: &Core) -> Self {
        let ix = &core.index;
        let data = &ix.data;
        let mut candidates: BTreeSet<Date> = BTreeSet::new();
        let mut whens: Vec<&When> = data.statements.iter().map(|s| &s.date).collect();
        whens.extend(
            data.topics
                .iter()
                .flat_map(|t| t.events.iter().map(|e| &e.date)),
        );
        let mut years_spanned: BTreeSet<i16> = BTreeSet::new();
        let mut listed_months = BTreeSet::new();
        for w in &whens {
            candidates.extend(days_of(w));
            if let (Some(s), Some(e)) = (w.start, w.end) {
                years_spanned.extend(s.year()..=e.year());
                if matches!(
                    w.precision,
                    Precision::Day | Precision::Days | Precision::Month
                ) || (w.precision == Precision::Range
                    && s.year() == e.year()
                    && s.month() == e.month())
                {
                    for d in days_of(w).into_iter().chain([s]) {
                        listed_months.insert((d.year(), d.month()));
                    }
                }
            }
        }
        let has = |from: Date, to: Date| {
            !ix.statements_on(from, to).is_empty()
                || !ix.statements_in_months(from, to).is_empty()
                || !ix.events_in(from, to).is_empty()
        };
        let days: BTreeSet<Date> = candidates
            .into_iter()
            .filter(|&d| !ix.statements_on(d, d).is_empty() || !ix.events_in(d, d).is_empty())
            .collect();
        let mut months = BTreeSet::new();
        let mut years = BTreeSet::new();
        for &y in &years_spanned {
            let first = date(y, 1, 1);
            if has(first, first.last_of_year()) {
                years.insert(y);
            }
            for m in 1..=12 {
                let start = date(y, m, 1);
                if has(start, start.last_of_month()) {
                    months.insert((y, m));
                }
            }
        }
        listed_months.retain(|m| months.contains(m));
        let mut on_this_day = BTreeSet::new();
        for d in &days {
            let found = ix.on_this_day(d.month(), d.day());
            if !found.is_empty() || !found.in_month.is_empty() {
                on_this_day.insert((d.month(), d.day()));
            }
        }
        DateIndex {
            days,
            months,
            listed_months,
            years,
            on_this_day,
        }
    }
}
