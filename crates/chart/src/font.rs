//! The bundled font, registered once with plotters.

use std::sync::OnceLock;

use plotters::style::FontStyle;

use crate::ChartError;

/// The family name the charts ask plotters for. Unusual on purpose, so it
/// cannot clash with a font someone else registers in the same process.
pub(crate) const FAMILY: &str = "karabakh-chart DejaVu Sans";

/// DejaVu Sans 2.37 (Bitstream Vera licence; see `fonts/LICENSE-DejaVu.txt`).
pub static DEJAVU_SANS: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
/// DejaVu Sans Bold 2.37, for titles.
pub static DEJAVU_SANS_BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

static REGISTERED: OnceLock<Result<(), ChartError>> = OnceLock::new();

/// Register the bundled font with plotters' process-wide font table.
///
/// Idempotent and thread-safe: the first call parses the two font files
/// (well under a millisecond) and every later call returns the stored
/// outcome. Every render function calls it, so calling it yourself is only
/// a way to pay that cost at start-up and to fail early.
pub fn register_font() -> Result<(), ChartError> {
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS)
                .map_err(|_| ChartError::Font)?;
            plotters::style::register_font(FAMILY, FontStyle::Bold, DEJAVU_SANS_BOLD)
                .map_err(|_| ChartError::Font)?;
            Ok(())
        })
        .clone()
}
