//! Chart 3: the dataset's dated statements per month (or per year when the
//! span is long), with a period such as the war shaded.

use jiff::civil::Date;

use crate::axis::AxisUnit;
use crate::bars::{BAR_CHART_SIZE, BarSpec, ValueLabels, render_bars};
use crate::bins::{Granularity, MAX_DAYS_PER_WEEK, busiest, count_days, hatch_period, make_bins};
use crate::dates::{
    day_number, fmt_range_compact, fmt_range_sentence, month_start, next_month_start,
    next_year_start, year_start,
};
use crate::key::KeyWriter;
use crate::{Chart, ChartError, finish_alt, plural, render_to_png};

/// A named period of time, inclusive.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Period {
    pub start: Date,
    pub end: Date,
    /// Shown on the chart and in the text alternative.
    pub label: String,
}

impl Period {
    /// The Second Nagorno-Karabakh War: 27 September to 10 November 2020.
    pub fn second_karabakh_war() -> Period {
        Period {
            start: jiff::civil::date(2020, 9, 27),
            end: jiff::civil::date(2020, 11, 10),
            label: "Second Nagorno-Karabakh War".to_string(),
        }
    }
}

/// The dataset's coverage: every dated statement, over its whole span.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CoverageInput {
    /// One entry per dated statement, in any order.
    pub dates: Vec<Date>,
    /// A period to shade (e.g. [`Period::second_karabakh_war`]); the chart's
    /// span is widened to include it.
    pub period: Option<Period>,
    /// Replaces the default title ("Dated statements in the dataset per year").
    pub title: Option<String>,
}

#[derive(Debug)]
pub(crate) struct CoverageModel {
    pub counts: Vec<(i32, u32)>,
    pub period: Option<(i32, i32, String)>,
    pub title: Option<String>,
}

impl CoverageModel {
    /// (granularity, first day, last day) of the x axis: whole months or
    /// whole years covering the data and the period; None when empty.
    fn domain(&self) -> Option<(Granularity, i32, i32)> {
        let lo = self.counts.first().map(|c| c.0);
        let hi = self.counts.last().map(|c| c.0);
        let (lo, hi) = match (lo, hi, &self.period) {
            (Some(lo), Some(hi), Some((a, b, _))) => (lo.min(*a), hi.max(*b)),
            (Some(lo), Some(hi), None) => (lo, hi),
            _ => return None,
        };
        let first_year = year_start(lo);
        let last_year_end = next_year_start(hi) - 1;
        match Granularity::for_range_days(last_year_end - first_year + 1) {
            Granularity::Year => Some((Granularity::Year, first_year, last_year_end)),
            _ => Some((
                Granularity::Month,
                month_start(lo),
                next_month_start(hi) - 1,
            )),
        }
    }
}

impl CoverageInput {
    pub(crate) fn model(&self) -> Result<CoverageModel, ChartError> {
        let period = match &self.period {
            Some(p) if p.end < p.start => {
                return Err(ChartError::InvalidRange {
                    start: p.start,
                    end: p.end,
                });
            }
            Some(p) => Some((day_number(p.start), day_number(p.end), p.label.clone())),
            None => None,
        };
        Ok(CoverageModel {
            counts: count_days(self.dates.iter().map(|d| day_number(*d))),
            period,
            title: self.title.clone(),
        })
    }

    /// Render the chart (PNG and text alternative). With no dates at all it
    /// is a card that says so.
    pub fn render(&self) -> Result<Chart, ChartError> {
        let m = self.model()?;
        let total: u32 = m.counts.iter().map(|c| c.1).sum();
        let noun = m.domain().map_or("month", |(g, _, _)| g.noun());
        let title = m
            .title
            .clone()
            .unwrap_or_else(|| format!("Dated statements in the dataset per {noun}"));
        let (w, h) = BAR_CHART_SIZE;
        let png = match m.domain() {
            Some((g, first, last)) => {
                let mut bins = make_bins(g, first, last, &m.counts, &[]);
                if let Some((a, b, _)) = &m.period {
                    hatch_period(&mut bins, &m.counts, *a, *b);
                }
                let subtitle = format!(
                    "{} · {}",
                    fmt_range_compact(first, last),
                    plural(total, "statement")
                );
                let legend: Vec<String> = match &m.period {
                    Some((a, b, l)) => {
                        vec![format!("{l}, {}", fmt_range_compact(*a, *b)), l.clone()]
                    }
                    None => Vec::new(),
                };
                let spec = BarSpec {
                    title: &title,
                    subtitle: &subtitle,
                    first,
                    last,
                    bins: &bins,
                    // month labels up to two years, year labels beyond
                    axis: if last - first < MAX_DAYS_PER_WEEK {
                        AxisUnit::Months
                    } else {
                        AxisUnit::Years
                    },
                    value_labels: ValueLabels::All,
                    empty_note: "No dated statements",
                    legend: (!legend.is_empty()).then_some((&legend[..], false)),
                };
                render_to_png(w, h, |buf| render_bars(&spec, buf))?
            }
            None => render_to_png(w, h, |buf| {
                crate::empty::render_empty(buf, (w, h), &title, "No dated statements")
            })?,
        };
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

    /// A stable key for caching the rendered chart (see
    /// [`TimelineInput::cache_key`](crate::TimelineInput::cache_key)).
    pub fn cache_key(&self) -> u64 {
        let mut k = KeyWriter::new(3);
        match self.model() {
            Ok(m) => {
                k.counts(&m.counts);
                match &m.period {
                    Some((a, b, l)) => {
                        k.u8(1);
                        k.i32(*a);
                        k.i32(*b);
                        k.str(l);
                    }
                    None => k.u8(0),
                }
                k.opt_str(m.title.as_deref());
            }
            Err(_) => k.u8(0xff),
        }
        k.finish()
    }
}

fn alt_text(m: &CoverageModel) -> String {
    let Some((g, first, last)) = m.domain() else {
        return "Bar chart: the dataset has no dated statements.".to_string();
    };
    let total: u32 = m.counts.iter().map(|c| c.1).sum();
    let bins = make_bins(g, first, last, &m.counts, &[]);
    let mut s = format!(
        "Bar chart of the dataset's {} per {} {}",
        plural(total, "dated statement"),
        g.noun(),
        fmt_range_sentence(first, last)
    );
    if let Some((b, _)) = busiest(&bins) {
        if bins.len() > 1 {
            s += &format!(
                "; the busiest {} was {} with {}",
                g.noun(),
                b.describe(g),
                plural(b.count, "statement")
            );
        }
    }
    s.push('.');
    if let Some((a, b, label)) = &m.period {
        let inside: u32 = m
            .counts
            .iter()
            .filter(|c| (*a..=*b).contains(&c.0))
            .map(|c| c.1)
            .sum();
        let share = match inside {
            0 => format!("None of the {total} dates"),
            1 if total == 1 => "It dates".to_string(),
            1 => format!("1 of the {total} dates"),
            n if n == total => format!("All {n} date"),
            n => format!("{n} of the {total} date"),
        };
        s += &format!(
            " {share} from the {label} ({}).",
            fmt_range_sentence(*a, *b)
                .trim_start_matches("from ")
                .trim_start_matches("on ")
        );
    }
    finish_alt(s)
}
