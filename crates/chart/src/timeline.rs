//! Chart 1: dated statements per day (or week, month, year) over a range,
//! with the days a reply answers about marked.

use jiff::civil::Date;

use crate::axis::AxisUnit;
use crate::bars::{BAR_CHART_SIZE, BarSpec, ValueLabels, render_bars};
use crate::bins::{Granularity, busiest, count_days, make_bins};
use crate::dates::{day_number, fmt_long, fmt_range_compact, fmt_range_sentence};
use crate::key::KeyWriter;
use crate::{Chart, ChartError, finish_alt, plural, render_to_png};

/// A timeline: how many dated statements fall on each day of a range.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TimelineInput {
    /// First day of the range.
    pub start: Date,
    /// Last day of the range (inclusive). Must not be before `start`.
    pub end: Date,
    /// One entry per dated statement (repeat a day for several statements).
    /// Order does not matter; days outside `start..=end` are ignored.
    pub dates: Vec<Date>,
    /// The days the reply answers about, drawn in vermillion with stripes
    /// and a ▼ marker. Days outside the range are ignored.
    pub marked: Vec<Date>,
    /// Replaces the default title ("Dated statements per day").
    pub title: Option<String>,
}

/// The input reduced to what the picture depends on.
#[derive(Debug)]
pub(crate) struct TimelineModel {
    pub first: i32,
    pub last: i32,
    pub counts: Vec<(i32, u32)>,
    pub marked: Vec<i32>,
    pub title: Option<String>,
}

impl TimelineInput {
    pub(crate) fn model(&self) -> Result<TimelineModel, ChartError> {
        if self.end < self.start {
            return Err(ChartError::InvalidRange {
                start: self.start,
                end: self.end,
            });
        }
        let (first, last) = (day_number(self.start), day_number(self.end));
        let counts = count_days(
            self.dates
                .iter()
                .map(|d| day_number(*d))
                .filter(|d| (first..=last).contains(d)),
        );
        let mut marked: Vec<i32> = self
            .marked
            .iter()
            .map(|d| day_number(*d))
            .filter(|d| (first..=last).contains(d))
            .collect();
        marked.sort_unstable();
        marked.dedup();
        Ok(TimelineModel {
            first,
            last,
            counts,
            marked,
            title: self.title.clone(),
        })
    }

    /// The bar width used for this range: per day up to 120 days, per ISO
    /// week up to 2 years, per month up to 10 years, per year beyond.
    pub fn granularity(&self) -> Granularity {
        Granularity::for_range_days(day_number(self.end) - day_number(self.start) + 1)
    }

    /// Render the chart (PNG and text alternative).
    pub fn render(&self) -> Result<Chart, ChartError> {
        let m = self.model()?;
        let g = Granularity::for_range_days(m.last - m.first + 1);
        let mut bins = make_bins(g, m.first, m.last, &m.counts, &m.marked);
        for b in bins.iter_mut().filter(|b| b.marked) {
            b.hatched = b.count;
        }
        let legend = ["in this answer".to_string()];
        let total: u32 = m.counts.iter().map(|c| c.1).sum();
        let title = m
            .title
            .clone()
            .unwrap_or_else(|| format!("Dated statements per {}", g.noun()));
        let subtitle = format!(
            "{} · {}",
            fmt_range_compact(m.first, m.last),
            plural(total, "statement")
        );
        let spec = BarSpec {
            title: &title,
            subtitle: &subtitle,
            first: m.first,
            last: m.last,
            bins: &bins,
            axis: AxisUnit::for_domain(m.first, m.last),
            value_labels: ValueLabels::Marked,
            empty_note: "No dated statements in this range",
            legend: (!m.marked.is_empty()).then_some((&legend[..], true)),
        };
        let (w, h) = BAR_CHART_SIZE;
        let png = render_to_png(w, h, |buf| render_bars(&spec, buf))?;
        Ok(Chart {
            png,
            alt_text: alt_text(&m),
            width: w,
            height: h,
        })
    }

    /// The text alternative alone (no drawing).
    pub fn alt_text(&self) -> Result<String, ChartError> {
        Ok(alt_text(&self.model()?))
    }

    /// A stable key for caching the rendered chart: equal for inputs that
    /// draw the same picture (same range, same per-day counts, same marked
    /// days in range, same title), whatever the order of the dates.
    pub fn cache_key(&self) -> u64 {
        let mut k = KeyWriter::new(1);
        match self.model() {
            Ok(m) => {
                k.i32(m.first);
                k.i32(m.last);
                k.counts(&m.counts);
                k.days(&m.marked);
                k.opt_str(m.title.as_deref());
            }
            Err(_) => {
                k.u8(0xff);
                k.i32(day_number(self.start));
                k.i32(day_number(self.end));
            }
        }
        k.finish()
    }
}

fn alt_text(m: &TimelineModel) -> String {
    let g = Granularity::for_range_days(m.last - m.first + 1);
    let range = fmt_range_sentence(m.first, m.last);
    let total: u32 = m.counts.iter().map(|c| c.1).sum();
    let mut s = if total == 0 {
        format!("Bar chart: no dated statements {range}.")
    } else {
        let bins = make_bins(g, m.first, m.last, &m.counts, &[]);
        let unit = g.noun();
        let mut s = if bins.len() == 1 {
            format!("Bar chart: {} {range}", plural(total, "dated statement"))
        } else {
            let mut s = format!(
                "Bar chart of {} per {unit} {range}",
                plural(total, "dated statement")
            );
            if let Some((b, ties)) = busiest(&bins) {
                let prep = if g == Granularity::Day { "on" } else { "in" };
                if b.count == total {
                    s += &format!(", all {prep} {}", b.describe(g));
                } else {
                    s += &format!(
                        "; the busiest {unit} was {} with {}",
                        b.describe(g),
                        plural(b.count, "statement")
                    );
                    if ties > 0 {
                        let others = if ties == 1 {
                            unit.to_string()
                        } else {
                            format!("{unit}s")
                        };
                        s += &format!(" ({ties} other {others} had as many)");
                    }
                }
            }
            s
        };
        s.push('.');
        s
    };
    if !m.marked.is_empty() {
        let count_on = |d: i32| {
            m.counts
                .binary_search_by_key(&d, |c| c.0)
                .map(|i| m.counts[i].1)
                .unwrap_or(0)
        };
        let marked_total: u32 = m.marked.iter().map(|&d| count_on(d)).sum();
        if m.marked.len() <= 3 {
            let parts: Vec<String> = m
                .marked
                .iter()
                .map(|&d| format!("{} ({})", fmt_long(d), plural(count_on(d), "statement")))
                .collect();
            s += &format!(" Marked: {}.", join_and(&parts));
        } else {
            let (a, b) = (m.marked[0], m.marked[m.marked.len() - 1]);
            s += &format!(
                " Marked: {} days {}, with {} in all.",
                m.marked.len(),
                fmt_range_sentence(a, b),
                plural(marked_total, "statement")
            );
        }
    }
    finish_alt(s)
}

/// "a", "a and b", "a, b and c".
pub(crate) fn join_and(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [a] => a.clone(),
        [rest @ .., last] => format!("{} and {}", rest.join(", "), last),
    }
}
