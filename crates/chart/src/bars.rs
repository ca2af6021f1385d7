//! The bar chart shared by the timeline and the coverage chart.

use crate::ChartError;
use crate::axis::{AxisUnit, boundaries, day_labels, month_labels, year_labels};
use crate::bins::Bin;
use crate::draw::{Align, Canvas, Weight, XLabel, XMap, fit_labels};
use crate::palette::{AXIS, BLUE, CARD, FRAME, GRID, MUTED, TEXT, VERMILLION};

/// Width and height of the timeline and coverage charts (shown at half size
/// in an embed, so 2× sharp).
pub const BAR_CHART_SIZE: (u32, u32) = (800, 400);

const PAD: i32 = 24;
const TITLE_SIZE: f64 = 32.0;
const TITLE_BASE: i32 = 44;
const SUB_SIZE: f64 = 24.0;
const SUB_BASE: i32 = 80;
const PLOT_TOP: i32 = 136;
const PLOT_BOTTOM_GAP: i32 = 58;
const LABEL_SIZE: f64 = 24.0;
const Y_LABEL_SIZE: f64 = 22.0;
const VALUE_SIZE: f64 = 22.0;
const MAX_BAR: i32 = 72;
const HATCH_PERIOD: i32 = 10;
const HATCH_THICK: i32 = 4;

/// Which bars get their count written above them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueLabels {
    Marked,
    All,
}

pub(crate) struct BarSpec<'a> {
    pub title: &'a str,
    pub subtitle: &'a str,
    /// The x domain, inclusive days.
    pub first: i32,
    pub last: i32,
    pub bins: &'a [Bin],
    /// What the x axis labels: days, months or years.
    pub axis: AxisUnit,
    pub value_labels: ValueLabels,
    /// Shown in the plot when no bin has a count.
    pub empty_note: &'a str,
    /// Legend for the striped vermillion bars: texts to try, longest first
    /// (the first that fits is drawn), and whether it shows the ▼ marker.
    pub legend: Option<(&'a [String], bool)>,
}

/// Integer y ticks: (step, top) with at most 4 steps.
pub(crate) fn nice_scale(max: u32) -> (u32, u32) {
    if max == 0 {
        return (1, 1);
    }
    let mut base = 1u32;
    loop {
        for m in [1u32, 2, 5] {
            let step = base.saturating_mul(m);
            let n = max.div_ceil(step);
            if n <= 4 {
                return (step, step.saturating_mul(n));
            }
        }
        base = base.saturating_mul(10);
    }
}

pub(crate) fn render_bars(spec: &BarSpec<'_>, buf: &mut [u8]) -> Result<(), ChartError> {
    let (w, h) = BAR_CHART_SIZE;
    let cv = Canvas::new(buf, w, h);
    let (w, h) = (w as i32, h as i32);
    cv.card(CARD, FRAME)?;

    // title; subtitle with the legend at its right
    let title = cv.fit_text(spec.title, TITLE_SIZE, Weight::Bold, w - 2 * PAD);
    cv.text(
        &title,
        PAD,
        TITLE_BASE,
        TITLE_SIZE,
        Weight::Bold,
        TEXT,
        Align::Left,
    )?;
    let sub_w = cv.text_width(spec.subtitle, SUB_SIZE, Weight::Regular);
    let mut sub_right = w - PAD;
    if let Some((texts, triangle)) = spec.legend {
        // room left of the legend text: swatch (24) and gaps (8 + 24)
        let room = w - PAD - (PAD + sub_w.min(w / 2)) - 56;
        let legend = texts
            .iter()
            .find(|t| cv.text_width(t, Y_LABEL_SIZE, Weight::Regular) <= room)
            .cloned()
            .unwrap_or_else(|| {
                cv.fit_text(
                    texts.last().map_or("", |t| t.as_str()),
                    Y_LABEL_SIZE,
                    Weight::Regular,
                    room,
                )
            });
        let tw = cv.text_width(&legend, Y_LABEL_SIZE, Weight::Regular);
        let tx = w - PAD - tw;
        cv.text(
            &legend,
            tx,
            SUB_BASE,
            Y_LABEL_SIZE,
            Weight::Regular,
            MUTED,
            Align::Left,
        )?;
        let (sx1, sx0) = (tx - 8, tx - 8 - 24);
        let (sy0, sy1) = (SUB_BASE - 18, SUB_BASE + 2);
        marked_bar(&cv, sx0, sy0, sx1, sy1)?;
        if triangle {
            cv.marker_down((sx0 + sx1) / 2, sy0 - 3, 7, VERMILLION)?;
        }
        sub_right = sx0 - 24;
    }
    let sub = cv.fit_text(spec.subtitle, SUB_SIZE, Weight::Regular, sub_right - PAD);
    cv.text(
        &sub,
        PAD,
        SUB_BASE,
        SUB_SIZE,
        Weight::Regular,
        MUTED,
        Align::Left,
    )?;

    // y scale
    let max = spec.bins.iter().map(|b| b.count).max().unwrap_or(0);
    let (step, top) = nice_scale(max);
    let ticks: Vec<u32> = if max == 0 {
        vec![0]
    } else {
        (0..=top / step).map(|i| i * step).collect()
    };
    let y_label_w = ticks
        .iter()
        .map(|t| cv.text_width(&t.to_string(), Y_LABEL_SIZE, Weight::Regular))
        .max()
        .unwrap_or(0);
    let left = PAD + y_label_w + 12;
    let right = w - PAD;
    let bottom = h - PLOT_BOTTOM_GAP;
    let plot_h = bottom - PLOT_TOP;
    let y_of =
        |v: u32| bottom - ((f64::from(v) / f64::from(top)) * f64::from(plot_h)).round() as i32;

    let map = XMap {
        d0: f64::from(spec.first),
        d1: f64::from(spec.last + 1),
        px0: left,
        px1: right,
    };

    // grid and y labels
    for &t in &ticks {
        let y = y_of(t);
        if t > 0 {
            cv.rect(left, y, right, y + 1, GRID)?;
        }
        cv.text(
            &t.to_string(),
            left - 12,
            y + 7,
            Y_LABEL_SIZE,
            Weight::Regular,
            MUTED,
            Align::Right,
        )?;
    }

    // bars
    let mut value_spans: Vec<(i32, i32)> = Vec::new(); // x extents of value labels drawn
    for bin in spec.bins {
        let xa = map.px(f64::from(bin.start));
        let xb = map.px(f64::from(bin.end));
        let slot = (xb - xa).max(1);
        let gap = if slot >= 5 {
            ((f64::from(slot) * 0.2).round() as i32).max(1)
        } else if slot >= 3 {
            1
        } else {
            0
        };
        let bw = (slot - gap).clamp(1, MAX_BAR);
        let x0 = xa + (slot - bw) / 2;
        let x1 = x0 + bw;
        let mut bar_top = bottom;
        if bin.count > 0 {
            let hgt = (bottom - y_of(bin.count)).max(3);
            bar_top = bottom - hgt;
            if bin.hatched >= bin.count {
                marked_bar(&cv, x0, bar_top, x1, bottom)?;
            } else if bin.hatched == 0 {
                cv.rect(x0, bar_top, x1, bottom, BLUE)?;
            } else {
                // stacked: the hatched part at the bottom, at least 3 px of each
                let hh = (bottom - y_of(bin.hatched)).clamp(3, hgt - 3);
                cv.rect(x0, bar_top, x1, bottom - hh, BLUE)?;
                marked_bar(&cv, x0, bottom - hh, x1, bottom)?;
            }
        }
        let mut label_base = bar_top - 6;
        if bin.marked {
            let half = (bw / 2).clamp(6, 10);
            let tip = bar_top - 4;
            cv.marker_down((x0 + x1) / 2, tip, half, VERMILLION)?;
            label_base = tip - half - 2 - 6;
        }
        let wants_label = bin.count > 0
            && match spec.value_labels {
                ValueLabels::Marked => bin.marked,
                ValueLabels::All => true,
            };
        if wants_label {
            let text = bin.count.to_string();
            let tw = cv.text_width(&text, VALUE_SIZE, Weight::Regular);
            let cx = (x0 + x1) / 2;
            let span = (cx - tw / 2 - 3, cx + tw / 2 + 3);
            let clear = value_spans.iter().all(|&(a, b)| span.1 <= a || span.0 >= b);
            // keep clear of the subtitle row
            if clear && label_base - 15 > SUB_BASE + 8 {
                cv.text(
                    &text,
                    cx,
                    label_base,
                    VALUE_SIZE,
                    Weight::Regular,
                    TEXT,
                    Align::Centre,
                )?;
                value_spans.push(span);
            }
        }
    }

    // x axis line, ticks, labels
    cv.rect(left, bottom, right, bottom + 2, AXIS)?;
    let unit = spec.axis;
    let candidates: Vec<Vec<XLabel>> = match unit {
        AxisUnit::Days => day_labels(spec.first, spec.last),
        AxisUnit::Months => month_labels(spec.first, spec.last, false),
        AxisUnit::Years => year_labels(spec.first, spec.last),
    };
    let labels = fit_labels(&cv, &map, candidates, LABEL_SIZE, 14, 8, w - 8);
    if unit == AxisUnit::Days {
        for l in &labels {
            cv.rect(l.at - 1, bottom + 2, l.at + 1, bottom + 9, AXIS)?;
        }
    } else {
        // a tick at each month (year) boundary, thinned to at least 6 px apart
        let years = unit == AxisUnit::Years;
        let mut last_x: Option<i32> = None;
        for b in boundaries(spec.first, spec.last, years) {
            let x = map.px(f64::from(b));
            if last_x.is_none_or(|l| x - l >= 6) {
                cv.rect(x - 1, bottom + 2, x + 1, bottom + 10, AXIS)?;
                last_x = Some(x);
            }
        }
    }
    for l in &labels {
        cv.text(
            &l.text,
            l.left,
            bottom + 34,
            LABEL_SIZE,
            Weight::Regular,
            MUTED,
            Align::Left,
        )?;
    }

    if max == 0 {
        cv.text(
            spec.empty_note,
            (left + right) / 2,
            (PLOT_TOP + bottom) / 2 + 8,
            24.0,
            Weight::Regular,
            MUTED,
            Align::Centre,
        )?;
    }
    cv.area.present().map_err(crate::draw::draw_err)?;
    Ok(())
}

/// A marked bar: vermillion with card-coloured diagonal stripes inside a
/// 2 px vermillion edge (stripes are skipped on bars too small to show them).
fn marked_bar(cv: &Canvas<'_>, x0: i32, y0: i32, x1: i32, y1: i32) -> Result<(), ChartError> {
    cv.rect(x0, y0, x1, y1, VERMILLION)?;
    if x1 - x0 >= 7 && y1 - y0 >= 7 {
        cv.hatch(
            x0 + 2,
            y0 + 2,
            x1 - 2,
            y1 - 2,
            CARD,
            HATCH_PERIOD,
            HATCH_THICK,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_have_integer_steps_and_at_most_four_intervals() {
        assert_eq!(nice_scale(0), (1, 1));
        assert_eq!(nice_scale(1), (1, 1));
        assert_eq!(nice_scale(3), (1, 3));
        assert_eq!(nice_scale(5), (2, 6));
        assert_eq!(nice_scale(12), (5, 15));
        assert_eq!(nice_scale(40), (10, 40));
        assert_eq!(nice_scale(41), (20, 60));
        assert_eq!(nice_scale(317), (100, 400));
        for m in 1..2000 {
            let (s, t) = nice_scale(m);
            assert!(t >= m && t / s <= 4 && t % s == 0, "{m}: {s} {t}");
        }
    }
}
