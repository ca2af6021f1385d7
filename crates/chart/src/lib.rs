//! Charts for the karabakh-reactions bot, rendered in process to PNG.
//!
//! Three charts, each from a plain input type, each with a text alternative
//! built from the same input:
//!
//! | input | chart | size |
//! |---|---|---|
//! | [`TimelineInput`] | dated statements per day (per ISO week above 120 days, per month above 2 years, per year above 10), the reply's days marked | 800×400 |
//! | [`StripInput`] | one actor's dated statements as marks on a time strip | 800×260 |
//! | [`CoverageInput`] | the dataset's statements per month (per year above 10 years), a [`Period`] such as the war shaded | 800×400 |
//!
//! ```
//! use jiff::civil::date;
//! use karabakh_chart::TimelineInput;
//!
//! let chart = TimelineInput {
//!     start: date(2020, 9, 27),
//!     end: date(2020, 11, 10),
//!     dates: vec![date(2020, 9, 27), date(2020, 9, 27), date(2020, 10, 10)],
//!     marked: vec![date(2020, 10, 10)],
//!     title: None,
//! }
//! .render()
//! .unwrap();
//! assert!(chart.png.starts_with(b"\x89PNG"));
//! assert!(chart.alt_text.starts_with("Bar chart of 3 dated statements per day"));
//! ```
//!
//! # Pure and fast
//! No I/O, no clock, no randomness: the same input gives the same bytes. The
//! only global state is the bundled font, registered once with plotters
//! ([`register_font`], which every render function calls). In a release
//! build a chart takes 4–9 ms from input to PNG on a busy shared 2-core
//! machine, about two thirds of it in the PNG encoder (drawing alone is
//! about 1.5 ms); the text alternative and the cache key take a few
//! microseconds (see `benches/render.rs`).
//!
//! # Empty data
//! Rendering never returns "no chart". A timeline with no statements in its
//! range draws its axes and the note "No dated statements in this range"; a
//! strip or a coverage chart with no dates at all is a card that says "No
//! dated statements". A caller that would rather attach nothing can check
//! `input.dates.is_empty()` first.
//!
//! # Size
//! 800 px wide: an embed shows images at up to about 400 px, so the charts
//! are drawn at twice the displayed size. They are written as 8-bit
//! indexed-colour PNGs (one flat palette plus anti-aliasing shades) of
//! 4–14 KB across the tested cases, far below Discord's limit for
//! interaction responses; the tests hold every chart under
//! [`MAX_PNG_BYTES`].
//!
//! # Colours and contrast
//! Every chart is an opaque near-white card (#FAFAFA with a 2 px #B9BBBE
//! frame), so it reads the same on Discord's dark theme (#313338: the card
//! stands out at 12.11:1, the frame at 6.57:1) and light theme (#FFFFFF:
//! the frame, 1.92:1, marks the edge). The card is needed: the blue bars
//! straight on the dark theme would be only 2.44:1. Data colours are
//! Okabe–Ito, safe for the common colour-vision deficiencies; blue and
//! vermillion differ little in lightness (1.34:1), so marked bars differ by
//! more than colour: they are striped and carry a ▼ marker, and the legend
//! shows both. WCAG 2 contrast ratios, pinned by a unit test in
//! `palette.rs`:
//!
//! | foreground | background | ratio | WCAG needs |
//! |---|---|---|---|
//! | text #1E1F22 | card #FAFAFA | 15.79 | 4.5 |
//! | muted text #4E5058 (subtitles, ticks) | card | 7.70 | 4.5 |
//! | count inside a strip mark (card colour) | blue #0072B2 | 4.97 | 4.5 |
//! | blue bars and marks #0072B2 | card | 4.97 | 3 |
//! | vermillion marked bars and ▼ #D55E00 | card | 3.71 | 3 |
//! | stripes (card colour) in a marked bar | vermillion | 3.71 | 3 |
//! | axis #6D6F78 | card | 4.80 | 3 |
//!
//! # Caching
//! Each input has a `cache_key()`: xxHash64 with a fixed seed over a
//! canonical byte form of the *normalised* input (per-day counts, marked
//! days in range, title) plus [`RENDER_VERSION`]. Equal keys mean the same
//! picture; the key does not depend on the Rust version, the platform or
//! the order of the dates (a test pins three keys).
//!
//! # For the integrator
//! * **Font**: nothing to do. Optionally call [`register_font`] once at
//!   start-up to pay its cost (well under a millisecond) early and fail
//!   fast. No system font is read: the crate never enables plotters' `ttf`
//!   feature. Keep it that way in the workspace: if any crate turns on
//!   plotters' default features, Cargo's feature unification switches
//!   plotters' text to font-kit and system fonts.
//! * **Threads**: every function takes `&self` and can run on any thread at
//!   once (the font table is behind plotters' `RwLock`, registration behind
//!   a `OnceLock`; a test renders from four threads). Rendering is CPU work
//!   of a few milliseconds, so from async code call it in
//!   `tokio::task::spawn_blocking`.
//! * **Discord**: attach `chart.png` as e.g. `timeline.png`
//!   (`CreateAttachment::bytes(chart.png, "timeline.png")
//!   .description(chart.alt_text)` in serenity 0.12) and point the embed's
//!   image at `attachment://timeline.png`.
//! * **Caching**: keep `Arc<Chart>` by `cache_key()` in a small bounded
//!   map; the coverage chart depends only on the dataset, so it can be
//!   drawn once at start-up.

mod axis;
mod bars;
mod bins;
mod coverage;
mod dates;
mod draw;
mod empty;
mod encode;
mod font;
mod key;
pub mod palette;
mod strip;
mod timeline;

pub use bars::BAR_CHART_SIZE;
pub use bins::Granularity;
pub use coverage::{CoverageInput, Period};
pub use font::{DEJAVU_SANS, DEJAVU_SANS_BOLD, register_font};
pub use key::RENDER_VERSION;
pub use strip::{STRIP_SIZE, StripInput};
pub use timeline::TimelineInput;

/// Every chart's PNG stays under this many bytes (tested); Discord rejects
/// interaction responses with files somewhere above 82 KB.
pub const MAX_PNG_BYTES: usize = 80 * 1024;

/// Discord's limit on an attachment's description (the alt text).
pub const MAX_ALT_TEXT_CHARS: usize = 1024;

/// A rendered chart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chart {
    /// The PNG file.
    pub png: Vec<u8>,
    /// One or two plain sentences saying what the chart shows, for the
    /// attachment's description (at most [`MAX_ALT_TEXT_CHARS`] characters).
    pub alt_text: String,
    /// Width of the image in pixels.
    pub width: u32,
    /// Height of the image in pixels.
    pub height: u32,
}

/// Why a chart could not be drawn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChartError {
    /// A range or period ends before it starts.
    InvalidRange {
        start: jiff::civil::Date,
        end: jiff::civil::Date,
    },
    /// The bundled font could not be parsed (never expected).
    Font,
    /// plotters failed to draw (never expected).
    Draw(String),
    /// The PNG encoder failed (never expected).
    Encode(String),
}

impl std::fmt::Display for ChartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChartError::InvalidRange { start, end } => {
                write!(f, "range ends ({end}) before it starts ({start})")
            }
            ChartError::Font => write!(f, "the bundled font could not be loaded"),
            ChartError::Draw(e) => write!(f, "drawing failed: {e}"),
            ChartError::Encode(e) => write!(f, "PNG encoding failed: {e}"),
        }
    }
}

impl std::error::Error for ChartError {}

/// Any of the three charts, for callers that cache or queue them together.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ChartRequest {
    Timeline(TimelineInput),
    Strip(StripInput),
    Coverage(CoverageInput),
}

impl ChartRequest {
    /// Render the chart.
    pub fn render(&self) -> Result<Chart, ChartError> {
        match self {
            ChartRequest::Timeline(i) => i.render(),
            ChartRequest::Strip(i) => i.render(),
            ChartRequest::Coverage(i) => i.render(),
        }
    }

    /// The text alternative alone, without drawing.
    pub fn alt_text(&self) -> Result<String, ChartError> {
        match self {
            ChartRequest::Timeline(i) => i.alt_text(),
            ChartRequest::Strip(i) => Ok(i.alt_text()),
            ChartRequest::Coverage(i) => i.alt_text(),
        }
    }

    /// The stable cache key of the chart (distinct across the three kinds).
    pub fn cache_key(&self) -> u64 {
        match self {
            ChartRequest::Timeline(i) => i.cache_key(),
            ChartRequest::Strip(i) => i.cache_key(),
            ChartRequest::Coverage(i) => i.cache_key(),
        }
    }
}

/// "no statements", "1 statement", "3 statements".
pub(crate) fn plural(n: u32, noun: &str) -> String {
    match n {
        0 => format!("no {noun}s"),
        1 => format!("1 {noun}"),
        _ => format!("{n} {noun}s"),
    }
}

/// Cap the alt text at Discord's limit, on a character boundary.
pub(crate) fn finish_alt(s: String) -> String {
    if s.chars().count() <= MAX_ALT_TEXT_CHARS {
        return s;
    }
    let mut t: String = s.chars().take(MAX_ALT_TEXT_CHARS - 1).collect();
    t.push('…');
    t
}

/// Register the font, draw into a fresh RGB buffer, encode it.
pub(crate) fn render_to_png(
    width: u32,
    height: u32,
    draw: impl FnOnce(&mut [u8]) -> Result<(), ChartError>,
) -> Result<Vec<u8>, ChartError> {
    register_font()?;
    let mut buf = vec![0u8; width as usize * height as usize * 3];
    draw(&mut buf)?;
    encode::encode_png(&buf, width, height)
}
