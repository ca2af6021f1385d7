//! A thin pixel-space layer over a plotters drawing area: filled rectangles
//! with exact half-open bounds, hatching, text placed by its baseline, and
//! text measurement with the bundled font.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::ChartError;
use crate::font::FAMILY;

pub(crate) type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

pub(crate) fn draw_err<E: std::fmt::Display>(e: E) -> ChartError {
    ChartError::Draw(e.to_string())
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Weight {
    Regular,
    Bold,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Centre,
    Right,
}

pub(crate) struct Canvas<'a> {
    pub area: Area<'a>,
    pub width: i32,
    pub height: i32,
}

impl<'a> Canvas<'a> {
    pub fn new(buf: &'a mut [u8], width: u32, height: u32) -> Self {
        let area = BitMapBackend::with_buffer(buf, (width, height)).into_drawing_area();
        Canvas {
            area,
            width: width as i32,
            height: height as i32,
        }
    }

    /// The card: background and a 2 px frame.
    pub fn card(&self, fill: RGBColor, frame: RGBColor) -> Result<(), ChartError> {
        self.area.fill(&fill).map_err(draw_err)?;
        let (w, h) = (self.width, self.height);
        self.rect(0, 0, w, 2, frame)?;
        self.rect(0, h - 2, w, h, frame)?;
        self.rect(0, 0, 2, h, frame)?;
        self.rect(w - 2, 0, w, h, frame)
    }

    /// Fill the pixels `x0..x1` × `y0..y1` (half-open); empty if x1 <= x0 or y1 <= y0.
    pub fn rect(&self, x0: i32, y0: i32, x1: i32, y1: i32, c: RGBColor) -> Result<(), ChartError> {
        let (x0, x1) = (x0.max(0), x1.min(self.width));
        let (y0, y1) = (y0.max(0), y1.min(self.height));
        if x1 <= x0 || y1 <= y0 {
            return Ok(());
        }
        // BitMapBackend fills filled rectangles half-open (its fast path
        // stops before the second corner), unlike plotters' generic
        // rasteriser; the test `rect_is_half_open` pins this down.
        self.area
            .draw(&Rectangle::new([(x0, y0), (x1, y1)], c.filled()))
            .map_err(draw_err)
    }

    /// Diagonal stripes ("/") of colour `c`, `thick` px wide every `period` px,
    /// inside `x0..x1` × `y0..y1`. Anchored to the image, so neighbouring
    /// hatched bars line up.
    #[allow(clippy::too_many_arguments)]
    pub fn hatch(
        &self,
        x0: i32,
        y0: i32,
        x1: i32,
        y1: i32,
        c: RGBColor,
        period: i32,
        thick: i32,
    ) -> Result<(), ChartError> {
        for y in y0.max(0)..y1.min(self.height) {
            // stripe pixels satisfy (x + y) mod period < thick
            let phase = (x0 + y).rem_euclid(period);
            let mut x = x0 - phase; // (x + y) ≡ 0 (mod period)
            while x < x1 {
                let a = x.max(x0);
                let b = (x + thick).min(x1);
                if b > a {
                    self.rect(a, y, b, y + 1, c)?;
                }
                x += period;
            }
        }
        Ok(())
    }

    pub fn polygon(&self, pts: Vec<(i32, i32)>, c: RGBColor) -> Result<(), ChartError> {
        self.area
            .draw(&Polygon::new(pts, c.filled()))
            .map_err(draw_err)
    }

    pub fn circle(&self, centre: (i32, i32), r: i32, c: RGBColor) -> Result<(), ChartError> {
        self.area
            .draw(&Circle::new(centre, r, c.filled()))
            .map_err(draw_err)
    }

    /// A downward triangle whose tip is at `(x, tip_y)`.
    pub fn marker_down(
        &self,
        x: i32,
        tip_y: i32,
        half: i32,
        c: RGBColor,
    ) -> Result<(), ChartError> {
        self.polygon(
            vec![
                (x - half, tip_y - half - 2),
                (x + half, tip_y - half - 2),
                (x, tip_y),
            ],
            c,
        )
    }

    fn style(size: f64, weight: Weight) -> FontDesc<'static> {
        let fs = match weight {
            Weight::Regular => FontStyle::Normal,
            Weight::Bold => FontStyle::Bold,
        };
        FontDesc::new(FontFamily::Name(FAMILY), size, fs)
    }

    /// Width in pixels of `text` at `size` (the font's advance widths).
    pub fn text_width(&self, text: &str, size: f64, weight: Weight) -> i32 {
        Self::style(size, weight)
            .box_size(text)
            .map(|(w, _)| w as i32)
            .unwrap_or(0)
    }

    /// Draw `text` with its baseline at `baseline`, aligned on `x`.
    ///
    /// (plotters' ab_glyph text puts the baseline `size / 2` below the
    /// top-anchored position; this hides that.)
    #[allow(clippy::too_many_arguments)]
    pub fn text(
        &self,
        text: &str,
        x: i32,
        baseline: i32,
        size: f64,
        weight: Weight,
        c: RGBColor,
        align: Align,
    ) -> Result<(), ChartError> {
        if text.is_empty() {
            return Ok(());
        }
        let h = match align {
            Align::Left => HPos::Left,
            Align::Centre => HPos::Center,
            Align::Right => HPos::Right,
        };
        let style = Self::style(size, weight)
            .color(&c)
            .pos(Pos::new(h, VPos::Top));
        let y = baseline - (size / 2.0).round() as i32;
        self.area.draw_text(text, &style, (x, y)).map_err(draw_err)
    }

    /// `text`, shortened with "…" until it is at most `max_width` px wide.
    pub fn fit_text(&self, text: &str, size: f64, weight: Weight, max_width: i32) -> String {
        if self.text_width(text, size, weight) <= max_width {
            return text.to_string();
        }
        let chars: Vec<char> = text.chars().collect();
        let mut n = chars.len();
        while n > 0 {
            n -= 1;
            let s: String = chars[..n].iter().collect::<String>().trim_end().to_string() + "…";
            if self.text_width(&s, size, weight) <= max_width {
                return s;
            }
        }
        "…".to_string()
    }
}

/// A label on the x axis: its text centred on `centre` (a day coordinate).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct XLabel {
    pub centre: f64,
    pub text: String,
}

/// A linear map from day coordinates to pixel columns.
#[derive(Clone, Copy, Debug)]
pub(crate) struct XMap {
    pub d0: f64,
    pub d1: f64,
    pub px0: i32,
    pub px1: i32,
}

impl XMap {
    pub fn px(&self, d: f64) -> i32 {
        let t = (d - self.d0) / (self.d1 - self.d0);
        (f64::from(self.px0) + t * f64::from(self.px1 - self.px0)).round() as i32
    }
}

/// A label placed on the x axis: its text and the pixel column of its left end.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PlacedLabel {
    pub text: String,
    pub left: i32,
    /// The pixel column of the point it labels (a tick goes there).
    pub at: i32,
}

/// The first candidate set (candidates go from dense to sparse) whose
/// labels do not collide; each label is centred on its point but shifted
/// inward to stay within `lo..hi`. If no set fits, the sparsest one thinned
/// greedily.
pub(crate) fn fit_labels(
    canvas: &Canvas<'_>,
    map: &XMap,
    candidates: Vec<Vec<XLabel>>,
    size: f64,
    gap: i32,
    lo: i32,
    hi: i32,
) -> Vec<PlacedLabel> {
    let place = |l: &XLabel| {
        let w = canvas.text_width(&l.text, size, Weight::Regular);
        let at = map.px(l.centre);
        let left = (at - w / 2).clamp(lo, (hi - w).max(lo));
        (
            PlacedLabel {
                text: l.text.clone(),
                left,
                at,
            },
            w,
        )
    };
    let n = candidates.len();
    for (i, set) in candidates.into_iter().enumerate() {
        let placed: Vec<(PlacedLabel, i32)> = set.iter().map(place).collect();
        let mut right = i32::MIN / 2;
        let mut fits = true;
        for (p, w) in &placed {
            if p.left < right + gap {
                fits = false;
                break;
            }
            right = p.left + w;
        }
        if fits {
            return placed.into_iter().map(|(p, _)| p).collect();
        }
        if i + 1 == n {
            let mut kept = Vec::new();
            let mut right = i32::MIN / 2;
            for (p, w) in placed {
                if p.left >= right + gap {
                    right = p.left + w;
                    kept.push(p);
                }
            }
            return kept;
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::palette::{CARD, VERMILLION};

    #[test]
    fn rect_is_half_open() {
        let mut buf = vec![0u8; 10 * 10 * 3];
        {
            let cv = Canvas::new(&mut buf, 10, 10);
            cv.rect(2, 3, 5, 4, CARD).unwrap();
            cv.area.present().unwrap();
        }
        let lit: Vec<(usize, usize)> = (0..100)
            .filter(|i| buf[i * 3] == CARD.0)
            .map(|i| (i % 10, i / 10))
            .collect();
        assert_eq!(lit, [(2, 3), (3, 3), (4, 3)]);
    }

    #[test]
    fn hatch_draws_stripes() {
        let mut buf = vec![0u8; 20 * 20 * 3];
        {
            let cv = Canvas::new(&mut buf, 20, 20);
            cv.rect(0, 0, 20, 20, VERMILLION).unwrap();
            cv.hatch(2, 2, 18, 18, CARD, 10, 4).unwrap();
            cv.area.present().unwrap();
        }
        let card = buf
            .chunks(3)
            .filter(|p| p == &[CARD.0, CARD.1, CARD.2])
            .count();
        // 16 x 16 inner square, 4 of every 10 diagonals
        assert!((90..=115).contains(&card), "{card} card pixels");
    }
}
