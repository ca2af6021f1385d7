//! `/timeline date:<text> [to:<text>]` and `/onthisday [date:<text>]`.

use jiff::civil::Date;

use super::{Call, CommandSpec, Core, Kind, OptionSpec, PRIVATE, Permission, Who};
use crate::dataset::{How, Precision, When};
use crate::query::dates::{self, DateError, Span};
use crate::query::{Entry, EntryPrecision};
use crate::reply::markdown::{self, bold, escape, escape_user};
use crate::reply::{Answer, Pager};
use crate::text::plural;

pub const SPEC: CommandSpec = CommandSpec {
    name: "timeline",
    description: "Everything dated on a day, in a month, or between two dates",
    options: &[
        OptionSpec {
            name: "date",
            description: "A day, month, year or range: 2020-10-10, 27/09/2020, 10 Oct, October 2020, 9–12 Oct",
            kind: Kind::Text { max_length: 60 },
            required: true,
            autocomplete: false,
        },
        OptionSpec {
            name: "to",
            description: "The last day of a range, in the same forms",
            kind: Kind::Text { max_length: 60 },
            required: false,
            autocomplete: false,
        },
        PRIVATE,
    ],
    example: "/timeline 2020-10-10",
    permission: Permission::Everyone,
    guild_only: false,
    needs_audit: false,
    run: |core, call| run(core, call).into(),
    complete: None,
    button: None,
    writing_buttons: &[],
    subcommands: &[],
};

pub const ON_THIS_DAY: CommandSpec = CommandSpec {
    name: "onthisday",
    description: "What happened on this month and day in any year",
    options: &[
        OptionSpec {
            name: "date",
            description: "A day of the year, e.g. 25 November, Nov 25, 25/11 or 11-25 (default: today)",
            kind: Kind::Text { max_length: 60 },
            required: false,
            autocomplete: false,
        },
        PRIVATE,
    ],
    example: "/onthisday 25 November",
    permission: Permission::Everyone,
    guild_only: false,
    needs_audit: false,
    run: |core, call| on_this_day(core, call).into(),
    complete: None,
    button: None,
    writing_buttons: &[],
    subcommands: &[],
};

const REACTIONS: &str = "Reactions";
const WITHIN: &str = "Dated only to the month or year";
const BACKGROUND: &str = "Background";
const MENTIONS: &str = "Mentioned in";

/// "10 October 2020", "October 2020", "2012", "10–12 October 2020".
fn span_label(span: &Span) -> String {
    let precision = if span.is_single_day() {
        Precision::Day
    } else if span.is_month() {
        Precision::Month
    } else if span.is_year() {
        Precision::Year
    } else {
        Precision::Range
    };
    markdown::date_of(&When {
        precision,
        start: Some(span.from),
        end: Some(span.to),
        days: Vec::new(),
        how: How::Explicit,
        phrase: None,
    })
}

fn entry_label(e: &Entry) -> String {
    match e.precision {
        EntryPrecision::Day => markdown::day(e.from),
        EntryPrecision::Month => format!(
            "{} {}",
            crate::text::month_name(e.from.month()),
            e.from.year()
        ),
        EntryPrecision::Year => e.from.year().to_string(),
    }
}

/// The forms /timeline reads, and what the dataset covers.
fn accepted_forms(core: &Core) -> String {
    let c = core.index.coverage();
    let span = |from: Option<Date>, to: Option<Date>, f: fn(Date) -> String| match (from, to) {
        (Some(a), Some(b)) => format!("{} to {}", f(a), f(b)),
        _ => "no dates".to_owned(),
    };
    format!(
        "Accepted forms: a day (2020-10-10, 10 October 2020, October 10, 2020, 10th of October, 10 Oct: year 2020, \
         10.10.2020, 10/10/2020, 10-10-2020, 10-Oct-2020); a month (2020-10, 10/2020, October 2020); a year (2012); \
         a range (9–12 October 2020, October–November 2020, 1 Oct to 5 Oct, or to: with the last day). Reactions in \
         the dataset are dated {}; background events {}.",
        span(c.statements_from, c.statements_to, markdown::day),
        span(c.background_from, c.background_to, |d| d.year().to_string()),
    )
}

/// The forms /onthisday reads.
const DAY_OF_YEAR_FORMS: &str = "Give a day of the year: 25 November, Nov 25, 25th of November, 25/11, 25.11. or 11-25 \
     (a year typed is ignored); or nothing, for today.";

fn date_error(core: &Core, e: &DateError) -> Answer {
    let text = match e {
        DateError::Unreadable(typed) if typed.is_empty() => {
            format!("Give a date. {}", accepted_forms(core))
        }
        DateError::Unreadable(typed) => {
            format!(
                "'{}' is not a date I can read. {}",
                escape_user(typed),
                accepted_forms(core)
            )
        }
        DateError::Backwards => {
            format!("The range ends before it starts. {}", accepted_forms(core))
        }
        DateError::NeedsDay(typed) => format!(
            "'{}' is not a single day. {DAY_OF_YEAR_FORMS}",
            escape_user(typed)
        ),
    };
    core.notice("Not a date", &text)
}

fn day_error(core: &Core, e: &DateError) -> Answer {
    let text = match e {
        DateError::Unreadable(typed) => format!(
            "'{}' is not a day I can read. {DAY_OF_YEAR_FORMS}",
            escape_user(typed)
        ),
        DateError::NeedsDay(typed) => format!(
            "'{}' is not a single day. {DAY_OF_YEAR_FORMS}",
            escape_user(typed)
        ),
        DateError::Backwards => DAY_OF_YEAR_FORMS.to_owned(),
    };
    core.notice("Not a date", &text)
}

fn run(core: &Core, call: &Call) -> Answer {
    let date = call.text("date").unwrap_or_default();
    let order = call.context.date_order();
    let reading = match call.text("to") {
        Some(to) if !to.trim().is_empty() => dates::parse_range(&date, Some(&to), order),
        _ => dates::parse_span(&date, order),
    };
    let reading = match reading {
        Ok(r) => r,
        Err(e) => return date_error(core, &e),
    };
    let span = reading.span;
    let ix = &core.index;
    let label = span_label(&span);
    let mut answer = core.new_answer(&format!("Timeline: {label}"));
    answer.pager = Some(Pager::new("timeline", span.key()));

    let mut listed = ix.statements_on(span.from, span.to);
    let mut within = ix.statements_in_months(span.from, span.to);
    if !span.is_single_day() {
        listed.append(&mut within);
        listed.sort_by_key(|&i| {
            let s = &ix.data.statements[i];
            (s.date.start, s.order)
        });
        listed.dedup();
    }
    let events = ix.events_in(span.from, span.to);
    for &si in &listed {
        core.push_statement(&mut answer, Some(REACTIONS), si, Who::All, None);
    }
    for &si in &within {
        core.push_statement(&mut answer, Some(WITHIN), si, Who::All, None);
    }
    for &(t, e) in &events {
        answer.block(Some(BACKGROUND), event_block(core, t, e));
    }
    let mentions: Vec<usize> = ix
        .mentioning(span.from, span.to)
        .into_iter()
        .filter(|i| !listed.contains(i) && !within.contains(i))
        .collect();
    for &si in &mentions {
        core.push_statement(&mut answer, Some(MENTIONS), si, Who::All, None);
    }

    let mut intro = String::new();
    if let Some(note) = &reading.note {
        intro.push_str(&escape_user(note));
        intro.push('\n');
    }
    if listed.is_empty() && events.is_empty() {
        answer.empty = within.is_empty();
        intro.push_str(&format!("Nothing in the dataset is dated {label}."));
        let (before, after) = ix.nearest_entries(span.from, span.to);
        let near: Vec<String> = [(before, "before"), (after, "after")]
            .iter()
            .filter_map(|(e, side)| e.map(|e| format!("{} ({side})", bold(&entry_label(&e)))))
            .collect();
        if !near.is_empty() {
            intro.push_str(&format!(
                " The nearest dates with entries: {}.",
                near.join(" and ")
            ));
        }
        match (within.len(), mentions.is_empty()) {
            (0, true) => {}
            (0, false) => intro.push_str(" These statements mention it:"),
            (n, _) => intro.push_str(&format!(
                " {n} {} dated only to a month or year that holds it:",
                plural(n, "reaction is", "reactions are")
            )),
        }
    } else {
        let mut parts = Vec::new();
        let reactions = listed.len() + within.len();
        if reactions > 0 {
            parts.push(format!(
                "{reactions} {}",
                plural(reactions, "reaction", "reactions")
            ));
        }
        if !events.is_empty() {
            parts.push(format!(
                "{} {}",
                events.len(),
                plural(events.len(), "background event", "background events")
            ));
        }
        intro.push_str(&format!("{}, in date order.", parts.join(" and ")));
    }
    answer.intro = Some(intro);
    answer
}

/// A background event: its date and the article it comes from (linked), then the
/// sentence that names it.
fn event_block(core: &Core, topic: usize, event: usize) -> String {
    let t = &core.data().topics[topic];
    let e = &t.events[event];
    format!(
        "{} · [{}]({})\n> {}",
        bold(&markdown::date_of(&e.date)),
        escape(&t.title),
        t.url,
        escape(&e.sentence)
    )
}

fn on_this_day(core: &Core, call: &Call) -> Answer {
    let (month, day, note) = match call.text("date").filter(|d| !d.trim().is_empty()) {
        Some(typed) => match dates::parse_day_of_year(&typed, call.context.date_order()) {
            Ok(md) => md,
            Err(e) => return day_error(core, &e),
        },
        None => {
            let today = call.context.today();
            (today.month(), today.day(), None)
        }
    };
    let ix = &core.index;
    let label = markdown::day_of_year(month, day);
    let mut answer = core.new_answer(&format!("On this day: {label}"));
    answer.pager = Some(Pager::new("onthisday", format!("{month:02}-{day:02}")));
    let found = ix.on_this_day(month, day);
    for &si in &found.on_day {
        core.push_statement(&mut answer, Some(REACTIONS), si, Who::All, None);
    }
    for &si in &found.in_month {
        core.push_statement(&mut answer, Some(WITHIN), si, Who::All, None);
    }
    for &(t, e) in &found.events {
        answer.block(Some(BACKGROUND), event_block(core, t, e));
    }
    let mut intro = String::new();
    if let Some(note) = &note {
        intro.push_str(&escape_user(note));
        intro.push('\n');
    }
    if found.is_empty() {
        answer.empty = true;
        intro.push_str(&format!(
            "Nothing in the dataset is dated to {label} in any year."
        ));
        if !found.in_month.is_empty() {
            intro.push_str(" Below: statements dated only to its month.");
        }
        let (before, after) = ix.nearest_days_of_year(month, day);
        let near: Vec<String> = [(before, "before"), (after, "after")]
            .iter()
            .filter_map(|(d, side)| {
                d.map(|(m, d)| format!("{} ({side})", bold(&markdown::day_of_year(m, d))))
            })
            .collect();
        if !near.is_empty() {
            intro.push_str(&format!(
                " The nearest days with entries: {}.",
                near.join(" and ")
            ));
        }
    } else {
        intro.push_str(&format!(
            "What the dataset records on {label}, in any year."
        ));
    }
    answer.intro = Some(intro);
    answer
}
