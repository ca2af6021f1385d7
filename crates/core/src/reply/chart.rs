//! What a reply's chart shows, as plain data: the core decides what to draw, an edge
//! draws it (the `karabakh-chart` crate) and attaches the picture. The core never
//! depends on the drawing code; it only carries the chart's text alternative, which
//! the edge hands it at construction ([`ChartText`]), so that the embed shows the
//! same words as the picture's description and keeps Discord's limits here.

use jiff::civil::Date;

/// Writes a chart's text alternative (at most [`super::limits::FIELD_VALUE`] units:
/// longer text is cut). Given to the core at construction; without one, answers
/// carry no chart.
pub type ChartText = fn(&ChartSpec) -> String;

/// A chart to draw: what it shows, never how.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ChartSpec {
    /// Dated statements per day over `start..=end` (the drawing may group them by
    /// week or month for long ranges), with the days in `marked` set apart.
    Timeline {
        start: Date,
        end: Date,
        /// One entry per dated statement: its (first) day.
        dates: Vec<Date>,
        /// The days the answer lists, when the chart shows more than them.
        marked: Vec<Date>,
    },
    /// One actor's dated statements on a time strip.
    Strip {
        actor: String,
        /// One entry per dated statement: its (first) day.
        dates: Vec<Date>,
    },
    /// The dataset's dated statements over its whole span. No period is shaded: the
    /// source gives the war no start and end dates, and the bot adds none.
    Coverage {
        /// One entry per dated statement: its (first) day, or the first day of its
        /// month for a statement dated to a month.
        dates: Vec<Date>,
    },
}

impl ChartSpec {
    /// The attachment's file name: `timeline.png`, `strip.png` or `coverage.png`.
    pub fn filename(&self) -> &'static str {
        match self {
            ChartSpec::Timeline { .. } => "timeline.png",
            ChartSpec::Strip { .. } => "strip.png",
            ChartSpec::Coverage { .. } => "coverage.png",
        }
    }
}

/// A chart with its text alternative, as an answer carries it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Figure {
    pub spec: ChartSpec,
    /// What the chart shows, in words: the picture's description and the embed's
    /// "Chart" field.
    pub text: String,
}

impl Figure {
    /// Where the embed's image points: `attachment://<file name>`.
    pub fn image_url(&self) -> String {
        format!("attachment://{}", self.spec.filename())
    }
}
