//! Chart 2: one actor's dated statements as marks on a time strip.

use jiff::civil::Date;

use crate::axis::{AxisUnit, boundaries, month_labels, year_labels};
use crate::bins::busiest;
use crate::bins::{Bin, count_days};
use crate::dates::{
    day_number, fmt_long, fmt_medium, fmt_range_compact, fmt_range_sentence, fmt_short,
};
use crate::draw::{Align, Canvas, Weight, XMap, fit_labels};
use crate::key::KeyWriter;
use crate::palette::{AXIS, BLUE, CARD, FRAME, GRID, MUTED, TEXT};
use crate::{Chart, ChartError, finish_alt, plural, render_to_png};

/// Width and height of the strip (shown at half size in an embed).
pub const STRIP_SIZE: (u32, u32) = (800, 260);

const PAD: i32 = 24;
const AXIS_Y: i32 = 152;
const ROW_ABOVE: i32 = 120;
const ROW_BELOW: i32 = 202;
const CONTEXT_BASE: i32 = 244;
const DATE_SIZE: f64 = 22.0;

/// One actor's dated statements.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StripInput {
    /// The actor's name, as the title (shortened with "…" if too wide).
    pub actor: String,
    /// One entry per dated statement, in any order; repeat a day for several
    /// statements on it.
    pub dates: Vec<Date>,
}

#[derive(Debug)]
pub(crate) struct StripModel {
    pub actor: String,
    pub counts: Vec<(i32, u32)>,
}

impl StripInput {
    pub(crate) fn model(&self) -> StripModel {
        StripModel {
            actor: self.actor.trim().to_string(),
            counts: count_days(self.dates.iter().map(|d| day_number(*d))),
        }
    }

    /// Render the strip (PNG and text alternative). With no dates it is a
    /// card that says so.
    pub fn render(&self) -> Result<Chart, ChartError> {
        let m = self.model();
        let (w, h) = STRIP_SIZE;
        let png = if m.counts.is_empty() {
            render_to_png(w, h, |buf| {
                crate::empty::render_empty(buf, (w, h), &m.actor, "No dated statements")
            })?
        } else {
            render_to_png(w, h, |buf| render_strip(&m, buf))?
        };
        Ok(Chart {
            png,
            alt_text: alt_text(&m),
            width: w,
            height: h,
        })
    }

    /// The text alternative alone (no drawing).
    pub fn alt_text(&self) -> String {
        alt_text(&self.model())
    }

    /// A stable key for caching the rendered strip (see
    /// [`TimelineInput::cache_key`](crate::TimelineInput::cache_key)).
    pub fn cache_key(&self) -> u64 {
        let m = self.model();
        let mut k = KeyWriter::new(2);
        k.str(&m.actor);
        k.counts(&m.counts);
        k.finish()
    }
}

fn render_strip(m: &StripModel, buf: &mut [u8]) -> Result<(), ChartError> {
    let (w, h) = STRIP_SIZE;
    let cv = Canvas::new(buf, w, h);
    cv.card(CARD, FRAME)?;
    let w = w as i32;
    let _ = h;

    let lo = m.counts[0].0;
    let hi = m.counts[m.counts.len() - 1].0;
    let total: u32 = m.counts.iter().map(|c| c.1).sum();
    let span = hi - lo;
    let pad = (f64::from(span) * 0.05).ceil().max(10.0) as i32;
    let (first, last) = (lo - pad, hi + pad);
    let map = XMap {
        d0: f64::from(first),
        d1: f64::from(last + 1),
        px0: PAD + 8,
        px1: w - PAD - 8,
    };

    // title, with a legend at its right when some day has several statements
    let days = m.counts.len() as u32;
    let mut title_room = w - 2 * PAD;
    if days != total {
        let text = "statements that day";
        let tw = cv.text_width(text, DATE_SIZE, Weight::Regular);
        let tx = w - PAD - tw;
        cv.text(text, tx, 42, DATE_SIZE, Weight::Regular, MUTED, Align::Left)?;
        let cx = tx - 8 - 15;
        cv.circle((cx, 34), 15, BLUE)?;
        cv.text("n", cx, 41, 21.0, Weight::Bold, CARD, Align::Centre)?;
        title_room = cx - 15 - 24 - PAD;
    }
    let title = cv.fit_text(&m.actor, 30.0, Weight::Bold, title_room);
    cv.text(&title, PAD, 42, 30.0, Weight::Bold, TEXT, Align::Left)?;
    let mut sub = plural(total, "dated statement");
    if days != total {
        sub += &format!(" on {}", plural(days, "day"));
    }
    sub += &format!(" · {}", fmt_range_compact(lo, hi));
    let sub = cv.fit_text(&sub, 23.0, Weight::Regular, w - 2 * PAD);
    cv.text(&sub, PAD, 76, 23.0, Weight::Regular, MUTED, Align::Left)?;

    // context: month or year boundaries as grid lines, labels at the bottom
    let by_year = AxisUnit::for_domain(first, last) == AxisUnit::Years;
    for b in boundaries(first, last, by_year) {
        let x = map.px(f64::from(b));
        cv.rect(x, 98, x + 2, CONTEXT_BASE - 24, GRID)?;
    }
    let candidates = if by_year {
        year_labels(first, last)
    } else {
        month_labels(first, last, true)
    };
    for l in fit_labels(&cv, &map, candidates, DATE_SIZE, 16, PAD, w - PAD) {
        cv.text(
            &l.text,
            l.left,
            CONTEXT_BASE,
            DATE_SIZE,
            Weight::Regular,
            MUTED,
            Align::Left,
        )?;
    }

    // the axis
    cv.rect(map.px0 - 8, AXIS_Y - 1, map.px1 + 8, AXIS_Y + 1, AXIS)?;

    // marks, then labels (greedy: above, else below, else none)
    let radius = |c: u32| {
        if c == 1 {
            9
        } else if c < 100 {
            15
        } else {
            22
        }
    };
    // over several years a day label needs its year
    let label_of = |d: i32| if by_year { fmt_medium(d) } else { fmt_short(d) };
    let mut rows: [i32; 2] = [i32::MIN, i32::MIN]; // right edge of the last label in each row
    let mut labels = Vec::new();
    for &(d, _) in &m.counts {
        let x = map.px(f64::from(d) + 0.5);
        let text = label_of(d);
        let tw = cv.text_width(&text, DATE_SIZE, Weight::Regular);
        let a = (x - tw / 2).clamp(PAD, w - PAD - tw);
        // above first, then below; a label must also clear the neighbouring marks' numbers
        for (row, right) in rows.iter_mut().enumerate() {
            if a >= *right + 12 {
                *right = a + tw;
                labels.push((text, a, row));
                break;
            }
        }
    }
    // busier days on top, so their numbers stay readable where marks overlap
    let mut order: Vec<(i32, u32)> = m.counts.clone();
    order.sort_by_key(|&(d, c)| (c, d));
    for &(d, c) in &order {
        let x = map.px(f64::from(d) + 0.5);
        let r = radius(c);
        cv.circle((x, AXIS_Y), r + 3, CARD)?;
        cv.circle((x, AXIS_Y), r, BLUE)?;
        if c > 1 {
            cv.text(
                &c.to_string(),
                x,
                AXIS_Y + 7,
                21.0,
                Weight::Bold,
                CARD,
                Align::Centre,
            )?;
        }
    }
    for (text, a, row) in labels {
        let base = if row == 0 { ROW_ABOVE } else { ROW_BELOW };
        cv.text(
            &text,
            a,
            base,
            DATE_SIZE,
            Weight::Regular,
            TEXT,
            Align::Left,
        )?;
    }
    cv.area.present().map_err(crate::draw::draw_err)
}

fn alt_text(m: &StripModel) -> String {
    let actor = if m.actor.is_empty() {
        "This actor"
    } else {
        m.actor.as_str()
    };
    let Some(&(lo, _)) = m.counts.first() else {
        return format!("Time strip: {actor} has no dated statements.");
    };
    let hi = m.counts[m.counts.len() - 1].0;
    let total: u32 = m.counts.iter().map(|c| c.1).sum();
    let s = if m.counts.len() == 1 {
        if total == 1 {
            format!(
                "Time strip: {actor} made 1 dated statement, on {}.",
                fmt_long(lo)
            )
        } else {
            format!(
                "Time strip: {actor} made {}, all on {}.",
                plural(total, "dated statement"),
                fmt_long(lo)
            )
        }
    } else {
        let bins: Vec<Bin> = m
            .counts
            .iter()
            .map(|&(d, c)| Bin {
                start: d,
                end: d + 1,
                count: c,
                marked: false,
                hatched: 0,
            })
            .collect();
        let mut s = format!(
            "Time strip: {actor} made {} on {} {}",
            plural(total, "dated statement"),
            plural(m.counts.len() as u32, "day"),
            fmt_range_sentence(lo, hi)
        );
        match busiest(&bins) {
            Some((b, 0)) if b.count > 1 => {
                s += &format!(
                    "; the busiest day was {} with {}",
                    fmt_long(b.start),
                    plural(b.count, "statement")
                );
            }
            Some((b, ties)) if b.count > 1 => {
                s += &format!(
                    "; the busiest days had {} each, the first on {} ({} others)",
                    plural(b.count, "statement"),
                    fmt_long(b.start),
                    ties
                );
            }
            _ => {}
        }
        s.push('.');
        s
    };
    finish_alt(s)
}
