//! Candidate label sets for a time axis, from dense to sparse; the renderer
//! keeps the densest set whose labels do not collide.

use crate::dates::{
    civil_from_days, fmt_medium, fmt_month_medium, fmt_month_short, fmt_short, month_start,
    next_month_start, next_year_start, year_of, year_start,
};
use crate::draw::XLabel;

/// Day labels ("27 Sep") every `step` days from `first`, for steps 1, 2, 3,
/// 7, 14, 28. When the range crosses a new year, the first label and the
/// first label of each new year carry the year ("3 Jan 2021").
pub(crate) fn day_labels(first: i32, last: i32) -> Vec<Vec<XLabel>> {
    let crosses = year_of(first) != year_of(last);
    [1, 2, 3, 7, 14, 28]
        .iter()
        .map(|&step| {
            let mut out = Vec::new();
            let mut prev_year = None;
            let mut d = first;
            while d <= last {
                let y = year_of(d);
                let text = if crosses && prev_year != Some(y) {
                    fmt_medium(d)
                } else {
                    fmt_short(d)
                };
                prev_year = Some(y);
                out.push(XLabel {
                    centre: f64::from(d) + 0.5,
                    text,
                });
                d += step;
            }
            out
        })
        .collect()
}

/// Month labels ("Oct") centred on the visible part of each month, every 1,
/// 2, 3, 6 or 12 months (aligned to January). Months less than 40% visible
/// at the ends are not labelled unless nothing else would be. With
/// `year_on_first` or when the range crosses a year, the first label and
/// every January carry the year ("Jan 2021").
pub(crate) fn month_labels(first: i32, last: i32, year_on_first: bool) -> Vec<Vec<XLabel>> {
    let crosses = year_of(first) != year_of(last);
    let mut months = Vec::new(); // (start, visible start, visible end, month0)
    let mut m = month_start(first);
    while m <= last {
        let next = next_month_start(m);
        let (a, b) = (m.max(first), next.min(last + 1));
        months.push((m, a, b, civil_from_days(m).1 - 1, next - m));
        m = next;
    }
    // months at least 40% visible; if none is, the most visible one
    let mut eligible: Vec<bool> = months
        .iter()
        .map(|&(_, a, b, _, len)| f64::from(b - a) >= 0.4 * f64::from(len))
        .collect();
    if !eligible.contains(&true) {
        if let Some(i) =
            (0..months.len()).max_by_key(|&i| (months[i].2 - months[i].1, std::cmp::Reverse(i)))
        {
            eligible[i] = true;
        }
    }
    [1u32, 2, 3, 6, 12]
        .iter()
        .map(|&step| {
            let mut out = Vec::new();
            let lone = eligible.iter().filter(|e| **e).count() == 1;
            for (i, &(m, a, b, month0, _)) in months.iter().enumerate() {
                if !eligible[i] || (month0 % step != 0 && !lone) {
                    continue;
                }
                let with_year = (year_on_first || crosses) && (out.is_empty() || month0 == 0);
                let text = if with_year {
                    fmt_month_medium(m)
                } else {
                    fmt_month_short(m)
                };
                out.push(XLabel {
                    centre: f64::from(a + b) / 2.0,
                    text,
                });
            }
            out
        })
        .collect()
}

/// Year labels ("2020") centred on the visible part of each year, every 1,
/// 2, 5, 10, 20 or 50 years (multiples of the step), skipping end years
/// less than 40% visible unless nothing else would be labelled.
pub(crate) fn year_labels(first: i32, last: i32) -> Vec<Vec<XLabel>> {
    let mut years = Vec::new();
    let mut y = year_start(first);
    while y <= last {
        let next = next_year_start(y);
        let (a, b) = (y.max(first), next.min(last + 1));
        years.push((year_of(y), a, b, next - y));
        y = next;
    }
    let mut eligible: Vec<bool> = years
        .iter()
        .map(|&(_, a, b, len)| f64::from(b - a) >= 0.4 * f64::from(len))
        .collect();
    if !eligible.contains(&true) {
        if let Some(i) =
            (0..years.len()).max_by_key(|&i| (years[i].2 - years[i].1, std::cmp::Reverse(i)))
        {
            eligible[i] = true;
        }
    }
    [1, 2, 5, 10, 20, 50, 100]
        .iter()
        .map(|&step| {
            let mut out = Vec::new();
            let lone = eligible.iter().filter(|e| **e).count() == 1;
            for (i, &(year, a, b, _)) in years.iter().enumerate() {
                if !eligible[i] || (year.rem_euclid(step) != 0 && !lone) {
                    continue;
                }
                out.push(XLabel {
                    centre: f64::from(a + b) / 2.0,
                    text: year.to_string(),
                });
            }
            out
        })
        .collect()
}

/// Which labels a time axis of `first..=last` uses.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum AxisUnit {
    Days,
    Months,
    Years,
}

impl AxisUnit {
    pub fn for_domain(first: i32, last: i32) -> AxisUnit {
        let days = last - first + 1;
        if days <= crate::bins::MAX_DAYS_PER_DAY {
            AxisUnit::Days
        } else if days <= crate::bins::MAX_DAYS_PER_WEEK {
            AxisUnit::Months
        } else {
            AxisUnit::Years
        }
    }
}

/// Month starts (or year starts when `years`) strictly inside `first..=last`.
pub(crate) fn boundaries(first: i32, last: i32, years: bool) -> Vec<i32> {
    let mut out = Vec::new();
    let mut b = if years {
        next_year_start(first)
    } else {
        next_month_start(first)
    };
    while b <= last {
        out.push(b);
        b = if years {
            next_year_start(b)
        } else {
            next_month_start(b)
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dates::days_from_civil as d;

    #[test]
    fn month_labels_of_a_year() {
        let sets = month_labels(d(2021, 1, 1), d(2021, 12, 31), false);
        let texts: Vec<_> = sets[0].iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
            ]
        );
        let quarterly: Vec<_> = sets[2].iter().map(|l| l.text.as_str()).collect();
        assert_eq!(quarterly, ["Jan", "Apr", "Jul", "Oct"]);
    }

    #[test]
    fn day_labels_carry_the_year_across_new_year() {
        let sets = day_labels(d(2020, 12, 28), d(2021, 1, 3));
        let texts: Vec<_> = sets[0].iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "28 Dec 2020",
                "29 Dec",
                "30 Dec",
                "31 Dec",
                "1 Jan 2021",
                "2 Jan",
                "3 Jan"
            ]
        );
    }

    #[test]
    fn year_labels_skip_slivers() {
        let sets = year_labels(d(1994, 11, 1), d(2023, 12, 31));
        assert_eq!(sets[0].first().unwrap().text, "1995");
        assert_eq!(sets[2].first().unwrap().text, "1995");
        assert_eq!(sets[3].first().unwrap().text, "2000");
    }
}
