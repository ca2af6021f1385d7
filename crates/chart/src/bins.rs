//! Counting dated statements into day, ISO-week, month or year bins.

use crate::dates::{
    fmt_long, fmt_month_long, next_month_start, next_year_start, week_start, weekday_mon0, year_of,
};

/// The width of one bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Granularity {
    /// One bar per day (ranges of up to 120 days).
    Day,
    /// One bar per ISO week, Monday to Sunday (ranges of up to 2 years).
    Week,
    /// One bar per calendar month (ranges of up to 10 years).
    Month,
    /// One bar per calendar year (longer ranges).
    Year,
}

/// Longest range, in days, drawn one bar per day.
pub const MAX_DAYS_PER_DAY: i32 = 120;
/// Longest range, in days, drawn one bar per ISO week.
pub const MAX_DAYS_PER_WEEK: i32 = 731;
/// Longest range, in days, drawn one bar per month.
pub const MAX_DAYS_PER_MONTH: i32 = 3653;

impl Granularity {
    /// The granularity chosen for a range of `days` days (inclusive count).
    pub fn for_range_days(days: i32) -> Granularity {
        if days <= MAX_DAYS_PER_DAY {
            Granularity::Day
        } else if days <= MAX_DAYS_PER_WEEK {
            Granularity::Week
        } else if days <= MAX_DAYS_PER_MONTH {
            Granularity::Month
        } else {
            Granularity::Year
        }
    }

    /// "day", "week", "month", "year".
    pub fn noun(self) -> &'static str {
        match self {
            Granularity::Day => "day",
            Granularity::Week => "week",
            Granularity::Month => "month",
            Granularity::Year => "year",
        }
    }

    pub(crate) fn next_boundary(self, n: i32) -> i32 {
        match self {
            Granularity::Day => n + 1,
            Granularity::Week => n + 7 - weekday_mon0(n),
            Granularity::Month => next_month_start(n),
            Granularity::Year => next_year_start(n),
        }
    }
}

/// One bar: the days `start..end` (end exclusive), clipped to the range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Bin {
    pub start: i32,
    pub end: i32,
    pub count: u32,
    /// Carries a ▼ marker (a day the reply answers about falls in it).
    pub marked: bool,
    /// How much of `count` is drawn striped vermillion, at the bottom.
    pub hatched: u32,
}

impl Bin {
    /// How a sentence names this bin: "27 September 2020", "the week of
    /// 28 September 2020", "October 2020", "2020".
    pub fn describe(&self, g: Granularity) -> String {
        match g {
            Granularity::Day => fmt_long(self.start),
            Granularity::Week => format!("the week of {}", fmt_long(week_start(self.start))),
            Granularity::Month => fmt_month_long(self.start),
            Granularity::Year => year_of(self.start).to_string(),
        }
    }
}

/// Bins covering `first..=last`; `counts` is sorted by day with unique days,
/// `marked` sorted and unique. Days outside the range are ignored.
pub(crate) fn make_bins(
    g: Granularity,
    first: i32,
    last: i32,
    counts: &[(i32, u32)],
    marked: &[i32],
) -> Vec<Bin> {
    let mut bins = Vec::new();
    let mut start = first;
    let mut ci = counts.partition_point(|&(d, _)| d < first);
    let mut mi = marked.partition_point(|&d| d < first);
    while start <= last {
        let end = g.next_boundary(start).min(last + 1);
        let mut count = 0u32;
        while ci < counts.len() && counts[ci].0 < end {
            count = count.saturating_add(counts[ci].1);
            ci += 1;
        }
        let mut is_marked = false;
        while mi < marked.len() && marked[mi] < end {
            is_marked = true;
            mi += 1;
        }
        bins.push(Bin {
            start,
            end,
            count,
            marked: is_marked,
            hatched: 0,
        });
        start = end;
    }
    bins
}

/// Set each bin's `hatched` to its statements within `a..=b`.
pub(crate) fn hatch_period(bins: &mut [Bin], counts: &[(i32, u32)], a: i32, b: i32) {
    for bin in bins.iter_mut() {
        let (lo, hi) = (bin.start.max(a), (bin.end - 1).min(b));
        let i = counts.partition_point(|&(d, _)| d < lo);
        bin.hatched = counts[i..]
            .iter()
            .take_while(|&&(d, _)| d <= hi)
            .map(|&(_, c)| c)
            .sum();
    }
}

/// Counts per day, sorted, from a list of days (one entry per statement).
pub(crate) fn count_days(days: impl IntoIterator<Item = i32>) -> Vec<(i32, u32)> {
    let mut v: Vec<i32> = days.into_iter().collect();
    v.sort_unstable();
    let mut out: Vec<(i32, u32)> = Vec::new();
    for d in v {
        match out.last_mut() {
            Some((last, c)) if *last == d => *c = c.saturating_add(1),
            _ => out.push((d, 1)),
        }
    }
    out
}

/// The busiest bin (the earliest among ties) and how many other bins tie it.
pub(crate) fn busiest(bins: &[Bin]) -> Option<(&Bin, usize)> {
    let max = bins.iter().map(|b| b.count).max()?;
    if max == 0 {
        return None;
    }
    let first = bins.iter().find(|b| b.count == max)?;
    let ties = bins.iter().filter(|b| b.count == max).count() - 1;
    Some((first, ties))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dates::days_from_civil as d;

    #[test]
    fn granularity_thresholds() {
        assert_eq!(Granularity::for_range_days(1), Granularity::Day);
        assert_eq!(Granularity::for_range_days(45), Granularity::Day);
        assert_eq!(Granularity::for_range_days(120), Granularity::Day);
        assert_eq!(Granularity::for_range_days(121), Granularity::Week);
        assert_eq!(Granularity::for_range_days(365), Granularity::Week);
        assert_eq!(Granularity::for_range_days(800), Granularity::Month);
        assert_eq!(Granularity::for_range_days(30 * 365), Granularity::Year);
    }

    #[test]
    fn weeks_are_iso_weeks_clipped_to_the_range() {
        // 2021-01-01 was a Friday: the first bin is Fri–Sun, then Mondays.
        let first = d(2021, 1, 1);
        let last = d(2021, 12, 31);
        let counts = count_days([d(2021, 1, 2), d(2021, 1, 4), d(2021, 1, 4), d(2022, 1, 1)]);
        let bins = make_bins(Granularity::Week, first, last, &counts, &[d(2021, 1, 10)]);
        assert_eq!(bins[0].start, first);
        assert_eq!(bins[0].end, d(2021, 1, 4));
        assert_eq!(bins[0].count, 1);
        assert_eq!(bins[1].start, d(2021, 1, 4));
        assert_eq!(bins[1].count, 2);
        assert!(bins[1].marked && !bins[0].marked);
        assert_eq!(bins.last().unwrap().end, last + 1);
        assert_eq!(bins.iter().map(|b| b.count).sum::<u32>(), 3);
        assert_eq!(bins.len(), 53);
    }

    #[test]
    fn busiest_reports_earliest_and_ties() {
        let counts = count_days([5, 5, 7, 7, 9]);
        let bins = make_bins(Granularity::Day, 5, 9, &counts, &[]);
        let (b, ties) = busiest(&bins).unwrap();
        assert_eq!((b.start, b.count, ties), (5, 2, 1));
        assert!(busiest(&make_bins(Granularity::Day, 1, 3, &[], &[])).is_none());
    }
}
