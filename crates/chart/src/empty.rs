//! The card drawn when there is nothing to plot and no range to show.

use crate::ChartError;
use crate::draw::{Align, Canvas, Weight};
use crate::palette::{CARD, FRAME, MUTED, TEXT};

pub(crate) fn render_empty(
    buf: &mut [u8],
    (w, h): (u32, u32),
    title: &str,
    note: &str,
) -> Result<(), ChartError> {
    let cv = Canvas::new(buf, w, h);
    cv.card(CARD, FRAME)?;
    let (w, h) = (w as i32, h as i32);
    let title = cv.fit_text(title, 32.0, Weight::Bold, w - 48);
    cv.text(&title, 24, 44, 32.0, Weight::Bold, TEXT, Align::Left)?;
    cv.text(
        note,
        w / 2,
        (h + 44) / 2 + 8,
        24.0,
        Weight::Regular,
        MUTED,
        Align::Centre,
    )?;
    cv.area.present().map_err(crate::draw::draw_err)
}
