//! The findability corpus (`tests/findability/queries.toml`): every query runs through
//! the core as a transport asks it (typed option values, the asker's locale, page
//! buttons clicked for the next pages) and its answer is checked as the corpus's
//! README says. Then property tests: every date the dataset holds, written in every
//! form people type, finds its statement; every actor's name, lower-cased and without
//! accents, finds the actor.

mod support;

use std::collections::BTreeMap;

use karabakh_core::commands::{Call, Context, Request, Value};
use karabakh_core::dataset::Precision;
use karabakh_core::reply::markdown::to_terminal;
use karabakh_core::reply::{Button, ButtonId, Message, Reply};
use proptest::prelude::*;
use serde::Deserialize;

use support::{context, core};

#[derive(Debug, Deserialize)]
struct Corpus {
    query: Vec<Query>,
}

#[derive(Debug, Deserialize)]
struct Query {
    command: String,
    input: String,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    locale: Option<String>,
    class: String,
    expect: String,
    #[serde(default)]
    cites: Vec<u16>,
    #[serde(default)]
    not_cites: Vec<u16>,
    #[serde(default)]
    options: Vec<String>,
    #[serde(default)]
    suggest_search: bool,
    #[allow(dead_code)]
    source_line: u32,
    note: String,
}

const CORPUS: &str = include_str!("findability/queries.toml");

/// The option each command's query goes in, and how Discord types its value.
fn option(command: &str, input: &str) -> (&'static str, Value) {
    match command {
        "reaction" => ("actor", Value::Text(input.to_owned())),
        "search" => ("query", Value::Text(input.to_owned())),
        "timeline" | "onthisday" => ("date", Value::Text(input.to_owned())),
        "topic" => ("name", Value::Text(input.to_owned())),
        // An integer option: Discord sends a number.
        "source" => (
            "number",
            input
                .parse()
                .map_or_else(|_| Value::Text(input.to_owned()), Value::Integer),
        ),
        other => panic!("unknown command {other}"),
    }
}

/// Every page of the answer, as the asker sees them: the first page, then each next
/// page by clicking its button.
fn ask(q: &Query) -> Vec<Message> {
    let mut ctx: Context = context();
    ctx.locale = q.locale.clone();
    let (name, value) = option(&q.command, &q.input);
    let mut options = vec![(name.to_owned(), value)];
    if let Some(to) = &q.to {
        options.push(("to".to_owned(), Value::Text(to.clone())));
    }
    let call = Call::new(&q.command, options, ctx.clone());
    let Reply::Message(first) = core().respond(&Request::Command(call)).reply else {
        panic!("a command is answered with a message")
    };
    let mut pages = vec![first];
    while let Some(next) = next_page(pages.last().expect("a page")) {
        let Reply::Update(m) = core()
            .respond(&Request::Button {
                id: Some(next),
                context: ctx.clone(),
            })
            .reply
        else {
            panic!("a page button updates the message")
        };
        assert!(pages.len() < 50, "{}: runaway paging", q.input);
        pages.push(m);
    }
    pages
}

fn next_page(m: &Message) -> Option<ButtonId> {
    m.buttons.iter().find_map(|b| match b {
        Button::Action {
            label,
            id,
            disabled: false,
            ..
        } if label.contains("Next") => Some(id.clone()),
        _ => None,
    })
}

/// What a page shows, as plain text: title, description, fields and button labels.
fn shown(pages: &[Message]) -> String {
    let mut out = String::new();
    for m in pages {
        out.push_str(&to_terminal(&m.embed.title, false));
        out.push('\n');
        out.push_str(&to_terminal(&m.embed.description, false));
        out.push('\n');
        for f in &m.embed.fields {
            out.push_str(&to_terminal(&format!("{}: {}", f.name, f.value), false));
            out.push('\n');
        }
        for b in &m.buttons {
            let (Button::Action { label, .. } | Button::Link { label, .. }) = b;
            out.push_str(label);
            out.push('\n');
        }
    }
    out
}

fn citations(text: &str) -> Vec<u16> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'[' {
            let j = bytes[i + 1..]
                .iter()
                .position(|b| !b.is_ascii_digit())
                .map_or(bytes.len(), |k| i + 1 + k);
            if j > i + 1 && bytes.get(j) == Some(&b']') {
                if let Ok(n) = text[i + 1..j].parse() {
                    out.push(n);
                }
            }
        }
        i += 1;
    }
    out
}

/// Lower case, accents gone, only letters and digits: how option names are compared.
fn squash(s: &str) -> String {
    karabakh_core::text::fold(s).replace(' ', "")
}

/// The first «fragment» of a note: source text the answer must show.
fn fragment(note: &str) -> Option<&str> {
    let start = note.find('«')? + '«'.len_utf8();
    let end = start + note[start..].find('»')?;
    Some(&note[start..end])
}

/// Why an entry fails, or `None` when the answer is right.
fn check(q: &Query) -> Option<String> {
    let pages = ask(q);
    let text = shown(&pages);
    let private = pages[0].private;
    let shown_cites = citations(&text);
    let bad: Vec<u16> = q
        .not_cites
        .iter()
        .copied()
        .filter(|n| shown_cites.contains(n))
        .collect();
    let gist: String = text
        .chars()
        .take(240)
        .collect::<String>()
        .replace('\n', " ");
    match q.expect.as_str() {
        "found" => {
            if private {
                return Some(format!("a private notice instead of an answer: {gist}"));
            }
            let missing: Vec<u16> = q
                .cites
                .iter()
                .copied()
                .filter(|n| !shown_cites.contains(n))
                .collect();
            if !missing.is_empty() {
                return Some(format!("missing {missing:?}: {gist}"));
            }
            if !bad.is_empty() {
                return Some(format!("shows {bad:?}, which it must not: {gist}"));
            }
            if q.cites.is_empty() && matches!(q.command.as_str(), "topic" | "search") {
                if let Some(f) = fragment(&q.note) {
                    if !squash(&text).contains(&squash(f)) {
                        return Some(format!("does not show «{f}»: {gist}"));
                    }
                }
            }
            None
        }
        "ambiguous" => {
            if !private {
                return Some(format!("answered publicly instead of asking: {gist}"));
            }
            let absent: Vec<&String> = q
                .options
                .iter()
                .filter(|o| !squash(&text).contains(&squash(o)))
                .collect();
            if !absent.is_empty() {
                return Some(format!("does not offer {absent:?}: {gist}"));
            }
            (!bad.is_empty()).then(|| format!("shows {bad:?}: {gist}"))
        }
        "none" => {
            if !private {
                return Some(format!("answered publicly: {gist}"));
            }
            if !bad.is_empty() {
                return Some(format!("shows {bad:?}: {gist}"));
            }
            if q.suggest_search && !text.contains("/search") {
                return Some(format!("does not offer /search: {gist}"));
            }
            None
        }
        other => Some(format!("unknown expect {other}")),
    }
}

#[test]
fn every_query_of_the_corpus_finds_what_the_source_says() {
    let corpus: Corpus = toml::from_str(CORPUS).expect("the corpus parses");
    assert!(
        corpus.query.len() >= 150,
        "the corpus keeps at least 150 queries"
    );
    let mut failures = Vec::new();
    let mut by_class: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (n, q) in corpus.query.iter().enumerate() {
        let result = check(q);
        let entry = by_class.entry(q.class.as_str()).or_default();
        entry.1 += 1;
        match result {
            None => entry.0 += 1,
            Some(why) => failures.push(format!(
                "#{} /{} {:?}{}{}: {why}",
                n + 1,
                q.command,
                q.input,
                q.to.as_ref()
                    .map(|t| format!(" to:{t:?}"))
                    .unwrap_or_default(),
                q.locale
                    .as_ref()
                    .map(|l| format!(" ({l})"))
                    .unwrap_or_default(),
            )),
        }
    }
    let passed = corpus.query.len() - failures.len();
    eprintln!(
        "findability: {passed} of {} queries pass",
        corpus.query.len()
    );
    for (class, (ok, all)) in &by_class {
        eprintln!("  {class}: {ok}/{all}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} queries fail:\n{}",
        failures.len(),
        corpus.query.len(),
        failures.join("\n")
    );
}

/// Every form the README promises for a day, written for `d`.
fn day_forms(d: jiff::civil::Date) -> Vec<(String, Option<&'static str>)> {
    let (y, m, day) = (d.year(), d.month(), d.day());
    let month = karabakh_core::text::month_name(m);
    let short = &month[..3];
    vec![
        (format!("{y}-{m:02}-{day:02}"), None),
        (format!("{y}/{m:02}/{day:02}"), None),
        (format!("{day} {month} {y}"), None),
        (format!("{month} {day}, {y}"), None),
        (format!("{day:02}.{m:02}.{y}"), None),
        (format!("{day}.{m}.{}", y % 100), None),
        (format!("{day:02}-{m:02}-{y}"), None),
        (format!("{day:02}/{m:02}/{y}"), Some("en-GB")),
        (format!("{m:02}/{day:02}/{y}"), Some("en-US")),
        (format!("{day}-{short}-{y}"), None),
        (format!("{}{} of {month} {y}", day, ordinal(day)), None),
        (format!("{short} {day} {y}"), None),
        (format!("{} {}", day, month.to_uppercase()), None),
        (format!("on {day} {month}"), None),
    ]
}

fn ordinal(n: i8) -> &'static str {
    match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    }
}

fn timeline(input: &str, locale: Option<&str>) -> Vec<u16> {
    let q = Query {
        command: "timeline".into(),
        input: input.into(),
        to: None,
        locale: locale.map(str::to_owned),
        class: String::new(),
        expect: "found".into(),
        cites: Vec::new(),
        not_cites: Vec::new(),
        options: Vec::new(),
        suggest_search: false,
        source_line: 0,
        note: String::new(),
    };
    let pages = ask(&q);
    assert!(!pages[0].private, "{input}: {}", shown(&pages));
    citations(&shown(&pages))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Every date a statement holds, in every form, finds the statement; a statement
    /// dated to a month is found on any day of it, and by the month itself.
    #[test]
    fn every_date_in_every_form_finds_its_statement(pick in 0usize..1000, form in 0usize..14, day_in_month in 1i8..29) {
        let c = core();
        let data = &c.index.data;
        let dated: Vec<_> = data.statements.iter().filter(|s| s.date.is_known()).collect();
        let s = dated[pick % dated.len()];
        let days: Vec<jiff::civil::Date> = match s.date.precision {
            Precision::Day | Precision::Days => s.date.exact_days(),
            Precision::Month => {
                let first = s.date.start.expect("a month starts");
                vec![first.with().day(day_in_month).build().expect("a day of the month")]
            }
            _ => s.date.start.into_iter().collect(),
        };
        for d in days {
            let forms = day_forms(d);
            let (typed, locale) = &forms[form % forms.len()];
            // Forms without a year read as the war's year.
            let has_year = typed.contains(&d.year().to_string()) || typed.ends_with(&format!(".{}", d.year() % 100));
            if has_year || d.year() == karabakh_core::query::dates::DEFAULT_YEAR {
                let shown = timeline(typed, *locale);
                prop_assert!(shown.contains(&s.citations[0]), "{typed} ({locale:?}) does not find {:?} ({})", s.citations, s.id);
            }
        }
        if s.date.precision == Precision::Month {
            let first = s.date.start.expect("a month starts");
            for typed in [
                format!("{} {}", karabakh_core::text::month_name(first.month()), first.year()),
                format!("{}-{:02}", first.year(), first.month()),
                format!("{:02}/{}", first.month(), first.year()),
                format!("{} {}", first.year(), karabakh_core::text::month_name(first.month())),
            ] {
                let shown = timeline(&typed, None);
                prop_assert!(shown.contains(&s.citations[0]), "{typed} does not find {:?}", s.citations);
            }
        }
    }

    /// Every actor's name, lower-cased and stripped of its accents, finds the actor.
    #[test]
    fn every_name_lower_cased_without_accents_finds_its_actor(pick in 0usize..1000) {
        let c = core();
        let ix = &c.index;
        let i = pick % ix.data.actors.len();
        let a = &ix.data.actors[i];
        let plain = deunicode_lower(&a.name);
        match ix.find_actor(&plain) {
            karabakh_core::query::Lookup::Found(j) => prop_assert_eq!(j, i, "{} found {}", plain, ix.data.actors[j].name),
            other => prop_assert!(false, "{plain} ({}): {other:?}", a.name),
        }
    }
}

fn deunicode_lower(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'ı' => 'i',
            'İ' => 'I',
            'ə' | 'Ə' => 'e',
            _ => c,
        })
        .collect::<String>()
        .chars()
        .flat_map(|c| {
            let d = karabakh_core::text::fold(&c.to_string());
            if d.is_empty() {
                vec![c]
            } else if c.is_alphanumeric() {
                d.chars().collect()
            } else {
                vec![c]
            }
        })
        .collect::<String>()
        .to_lowercase()
}
