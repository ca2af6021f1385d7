//! What the core adds to an answer besides its text, in one place for every command:
//! the chart of what it shows (when the edge draws charts) and the link button to its
//! page on the public site (when the operator has one). Both are read from what the
//! answer shows: the pager's argument (an actor's id, a span of dates, a citation
//! number, a day of the year) or the call's option, so the commands need not know.

use jiff::civil::Date;

use super::{Call, CommandSpec, Core};
use crate::dataset::{Precision, Statement};
use crate::query::Lookup;
use crate::query::dates::{self, Span};
use crate::reply::{Answer, Button, ChartSpec, Figure, Tone};
use crate::site;

/// The label of the link button under an answer.
pub const LINK_LABEL: &str = "Open on the web";

impl Core {
    /// Adds the chart and the link button an answer of `spec` carries, if any. Notices
    /// (a mistake, nothing found) get neither.
    pub(super) fn attach(&self, spec: &CommandSpec, call: &Call, answer: &mut Answer) {
        if answer.tone != Tone::Info {
            return;
        }
        if let Some(text) = self.config.chart_text {
            answer.chart = self.chart(spec.name, call, answer).map(|spec| Figure {
                text: text(&spec),
                spec,
            });
        }
        if let Some(url) = self
            .page_of(spec.name, call, answer)
            .and_then(|path| self.site_url(&path))
        {
            answer.actions.push(Button::Link {
                label: LINK_LABEL.to_owned(),
                url,
            });
        }
    }

    /// The pager's argument, or else the value of the command's first option.
    fn shown(call: &Call, answer: &Answer) -> Option<String> {
        match &answer.pager {
            Some(pager) => Some(pager.argument.clone()),
            None => call.options.first().and_then(|(name, _)| call.text(name)),
        }
    }

    /// What to draw for an answer: a timeline for a span longer than a day, an
    /// actor's strip when it has dated statements, the dataset's coverage for
    /// `/about`. None when there is nothing dated to draw.
    pub fn chart(&self, command: &str, call: &Call, answer: &Answer) -> Option<ChartSpec> {
        match command {
            "timeline" => {
                let shown = Self::shown(call, answer)?;
                let span = dates::parse_span(&shown, call.context.date_order())
                    .ok()?
                    .span;
                self.timeline_chart(&span)
            }
            "reaction" => {
                let actor = self.index.actor_index(&Self::shown(call, answer)?)?;
                self.actor_chart(actor)
            }
            "about" => Some(self.coverage_chart()),
            _ => None,
        }
    }

    /// The chart of a span of days (None for a single day, or when nothing in it is
    /// dated to a day). A span shorter than its months is drawn over the whole months
    /// it touches, its own days marked; a month, a year, or a range of whole months is
    /// drawn as it is, with nothing marked (every bar would be).
    pub fn timeline_chart(&self, span: &Span) -> Option<ChartSpec> {
        if span.is_single_day() {
            return None;
        }
        let (start, end) = (span.from.first_of_month(), span.to.last_of_month());
        let data = &self.index.data;
        let dates: Vec<Date> = self
            .index
            .statements_on(start, end)
            .into_iter()
            .filter_map(|i| first_day(&data.statements[i]))
            .filter(|d| (start..=end).contains(d))
            .collect();
        if dates.is_empty() {
            return None;
        }
        let marked: Vec<Date> = if (start, end) == (span.from, span.to) {
            Vec::new()
        } else {
            let mut m: Vec<Date> = dates
                .iter()
                .copied()
                .filter(|d| (span.from..=span.to).contains(d))
                .collect();
            m.dedup();
            m
        };
        Some(ChartSpec::Timeline {
            start,
            end,
            dates,
            marked,
        })
    }

    /// An actor's dated statements (its speakers' included) on a strip; None when it
    /// has none.
    pub fn actor_chart(&self, actor: usize) -> Option<ChartSpec> {
        let data = &self.index.data;
        let dates: Vec<Date> = self
            .index
            .statements_of(actor)
            .iter()
            .filter_map(|&i| first_day(&data.statements[i]))
            .collect();
        (!dates.is_empty()).then(|| ChartSpec::Strip {
            actor: self.index.actor(actor).name.clone(),
            dates,
        })
    }

    /// Every statement dated to a day or a month, over the dataset's span.
    pub fn coverage_chart(&self) -> ChartSpec {
        ChartSpec::Coverage {
            dates: self
                .index
                .data
                .statements
                .iter()
                .filter_map(|s| match s.date.precision {
                    Precision::Month => s.date.start,
                    _ => first_day(s),
                })
                .collect(),
        }
    }

    /// The site path of what an answer shows, for its link button.
    fn page_of(&self, command: &str, call: &Call, answer: &Answer) -> Option<String> {
        let shown = || Self::shown(call, answer);
        Some(match command {
            "reaction" => {
                let id = shown()?;
                self.index.actor_index(&id)?;
                site::actor(&id)
            }
            "timeline" if answer.empty => site::DATES.to_owned(),
            "timeline" => {
                let span = dates::parse_span(&shown()?, call.context.date_order())
                    .ok()?
                    .span;
                // A day with no entry of its own (only its month's) has no page.
                let own_day = !span.is_single_day()
                    || !self.index.statements_on(span.from, span.to).is_empty()
                    || !self.index.events_in(span.from, span.to).is_empty();
                if own_day {
                    site::span(&span)
                } else {
                    site::DATES.to_owned()
                }
            }
            "search" => site::search(&call.text("query").or_else(shown)?),
            "topic" => match self.index.find_topic(&shown()?) {
                Lookup::Found(i) => site::topic(&self.index.data.topics[i].id),
                Lookup::Ambiguous(_) | Lookup::NotFound { .. } => return None,
            },
            "source" => site::citation(shown()?.trim().parse().ok()?),
            "onthisday" if answer.empty => site::DATES.to_owned(),
            "onthisday" => {
                let key = shown()?;
                let (month, day) = key.split_once('-')?;
                site::on_this_day(month.parse().ok()?, day.parse().ok()?)
            }
            "about" => site::ABOUT.to_owned(),
            "help" => site::COMMANDS.to_owned(),
            _ => return None,
        })
    }
}

/// The first day a statement is dated to, if it is dated to days.
fn first_day(s: &Statement) -> Option<Date> {
    match s.date.precision {
        Precision::Day | Precision::Days | Precision::Range => s.date.start,
        Precision::Month | Precision::Year | Precision::Unknown => None,
    }
}
