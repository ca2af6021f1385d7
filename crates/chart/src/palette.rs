//! The colours, and the WCAG 2 contrast arithmetic that checks them.
//!
//! Every chart is an opaque light card, so what a reader sees inside it is
//! the same on Discord's dark theme (#313338) and light theme (#FFFFFF).
//! Data colours are from the Okabe–Ito colour-blind-safe palette.

use plotters::style::RGBColor;

/// Card background (near white).
pub const CARD: RGBColor = RGBColor(0xFA, 0xFA, 0xFA);
/// Card frame, so the card has an edge on Discord's white theme.
pub const FRAME: RGBColor = RGBColor(0xB9, 0xBB, 0xBE);
/// Titles, labels.
pub const TEXT: RGBColor = RGBColor(0x1E, 0x1F, 0x22);
/// Subtitles, tick labels, notes.
pub const MUTED: RGBColor = RGBColor(0x4E, 0x50, 0x58);
/// Axis lines and ticks.
pub const AXIS: RGBColor = RGBColor(0x6D, 0x6F, 0x78);
/// Horizontal grid lines (decoration only: not needed to read a value).
pub const GRID: RGBColor = RGBColor(0xE3, 0xE5, 0xE8);
/// Ordinary bars and strip marks: Okabe–Ito blue.
pub const BLUE: RGBColor = RGBColor(0x00, 0x72, 0xB2);
/// Marked bars (with a hatch pattern and a ▼ marker): Okabe–Ito vermillion.
pub const VERMILLION: RGBColor = RGBColor(0xD5, 0x5E, 0x00);

/// Discord's dark-theme message background.
pub const DISCORD_DARK: RGBColor = RGBColor(0x31, 0x33, 0x38);
/// Discord's light-theme message background.
pub const DISCORD_LIGHT: RGBColor = RGBColor(0xFF, 0xFF, 0xFF);

/// WCAG 2 relative luminance of an sRGB colour.
pub fn relative_luminance(c: RGBColor) -> f64 {
    fn lin(v: u8) -> f64 {
        let s = f64::from(v) / 255.0;
        if s <= 0.04045 {
            s / 12.92
        } else {
            ((s + 0.055) / 1.055).powf(2.4)
        }
    }
    0.2126 * lin(c.0) + 0.7152 * lin(c.1) + 0.0722 * lin(c.2)
}

/// WCAG 2 contrast ratio between two colours (1.0 to 21.0).
pub fn contrast_ratio(a: RGBColor, b: RGBColor) -> f64 {
    let (la, lb) = (relative_luminance(a), relative_luminance(b));
    let (hi, lo) = if la >= lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ratio(a: RGBColor, b: RGBColor) -> f64 {
        (contrast_ratio(a, b) * 100.0).round() / 100.0
    }

    /// The figures quoted in the crate documentation; this test fails if a
    /// colour changes without the documentation changing with it.
    #[test]
    fn contrast_ratios_are_as_documented_and_meet_wcag() {
        // text on the card: >= 4.5
        assert_eq!(ratio(TEXT, CARD), 15.79);
        assert_eq!(ratio(MUTED, CARD), 7.7);
        // the count inside a strip mark: card-coloured text on blue
        assert_eq!(ratio(CARD, BLUE), 4.97);
        // marks on the card: >= 3
        assert_eq!(ratio(BLUE, CARD), 4.97);
        assert_eq!(ratio(VERMILLION, CARD), 3.71);
        assert_eq!(ratio(AXIS, CARD), 4.8);
        // the stripes (card colour) inside a marked bar
        assert_eq!(ratio(CARD, VERMILLION), 3.71);
        // the card against Discord's backgrounds (its edge)
        assert_eq!(ratio(CARD, DISCORD_DARK), 12.11);
        assert_eq!(ratio(FRAME, DISCORD_LIGHT), 1.92);
        assert_eq!(ratio(FRAME, DISCORD_DARK), 6.57);
        // why the card is opaque: blue straight on the dark theme would fail
        assert_eq!(ratio(BLUE, DISCORD_DARK), 2.44);
        for (fg, bg) in [(TEXT, CARD), (MUTED, CARD), (CARD, BLUE)] {
            assert!(contrast_ratio(fg, bg) >= 4.5);
        }
        for (fg, bg) in [
            (BLUE, CARD),
            (VERMILLION, CARD),
            (AXIS, CARD),
            (CARD, VERMILLION),
        ] {
            assert!(contrast_ratio(fg, bg) >= 3.0);
        }
    }
}
