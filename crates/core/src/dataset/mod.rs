//! The reactions dataset: its types, loading and validation. The builder that
//! derives it from the source text is a tool of its own (`crates/dataset-tool`); the
//! bot only loads what it built. No I/O beyond what the caller hands in.

mod model;

use std::collections::{HashMap, HashSet};
use std::fmt;

pub use model::*;

/// The dataset compiled into the binary.
pub const EMBEDDED_JSON: &str = include_str!("../../../../data/reactions.json");
/// Name used in messages about the embedded dataset.
pub const EMBEDDED_ORIGIN: &str = "embedded dataset (data/reactions.json)";

/// Strings from the reference list's remains that must never reach a user.
pub const DEBRIS: &[&str] = &["{{", "}}", "CS1 maint", "|last=", "(help)"];

/// A dataset that was refused: names the file, the entry and the rule it broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetError {
    pub origin: String,
    pub entry: String,
    pub rule: String,
}

impl fmt::Display for DatasetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.origin, self.entry, self.rule)
    }
}

impl std::error::Error for DatasetError {}

/// The dataset as written to `data/reactions.json`: pretty JSON, one trailing newline.
pub fn to_json(d: &Dataset) -> String {
    serde_json::to_string_pretty(d).expect("a dataset always serializes") + "\n"
}

/// The embedded dataset, parsed and validated.
pub fn embedded() -> Result<Dataset, DatasetError> {
    parse(EMBEDDED_JSON, EMBEDDED_ORIGIN)
}

/// Parses and validates a dataset. `origin` names it in errors (a file path).
pub fn parse(json: &str, origin: &str) -> Result<Dataset, DatasetError> {
    let mut de = serde_json::Deserializer::from_str(json);
    let dataset: Dataset = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        DatasetError {
            origin: origin.to_owned(),
            entry: if path == "." { "file".to_owned() } else { path },
            rule: format!("not a valid dataset: {}", e.inner()),
        }
    })?;
    validate(&dataset).map_err(|(entry, rule)| DatasetError {
        origin: origin.to_owned(),
        entry,
        rule,
    })?;
    Ok(dataset)
}

/// Whether an id is a short slug fit to travel in a button's `custom_id`.
fn is_slug(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
}

type Invalid = (String, String);

fn invalid(entry: impl Into<String>, rule: impl Into<String>) -> Invalid {
    (entry.into(), rule.into())
}

/// The rules every dataset must keep, whatever source it came from.
pub fn validate(d: &Dataset) -> Result<(), Invalid> {
    if d.format != FORMAT {
        return Err(invalid(
            "format",
            format!(
                "format {} is not supported (this build reads format {FORMAT})",
                d.format
            ),
        ));
    }
    if d.version.trim().is_empty() {
        return Err(invalid("version", "must not be empty"));
    }
    if d.source.citations == 0 {
        return Err(invalid("source.citations", "must be at least 1"));
    }
    for (field, value) in [
        ("source.title", &d.source.title),
        ("source.url", &d.source.url),
        ("source.references_url", &d.source.references_url),
        ("source.licence", &d.source.licence),
        ("source.licence_url", &d.source.licence_url),
    ] {
        if value.trim().is_empty() {
            return Err(invalid(field, "must not be empty"));
        }
    }

    let mut actor_ids = HashSet::new();
    for (i, a) in d.actors.iter().enumerate() {
        let entry = format!("actors[{i}] ({})", a.id);
        if !is_slug(&a.id) {
            return Err(invalid(
                entry,
                "id must be a slug of a-z, 0-9, '-' and '.', at most 64 characters",
            ));
        }
        if !actor_ids.insert(a.id.as_str()) {
            return Err(invalid(entry, "id is used twice"));
        }
        if a.name.trim().is_empty() {
            return Err(invalid(entry, "name must not be empty"));
        }
        if a.aliases
            .iter()
            .chain(&a.demonyms)
            .any(|s| s.trim().is_empty())
        {
            return Err(invalid(
                entry,
                "aliases and demonyms must not be empty strings",
            ));
        }
        if let Some(flag) = &a.flag {
            if flag.len() != 2 || !flag.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(invalid(entry, "a flag is two capital letters, e.g. FR"));
            }
        }
    }
    let by_id: HashMap<&str, &Actor> = d.actors.iter().map(|a| (a.id.as_str(), a)).collect();
    for (i, a) in d.actors.iter().enumerate() {
        let entry = format!("actors[{i}] ({})", a.id);
        let mut seen = HashSet::from([a.id.as_str()]);
        let mut next = a.speaks_for.as_deref();
        while let Some(id) = next {
            let Some(parent) = by_id.get(id) else {
                return Err(invalid(
                    entry,
                    format!("speaks_for names unknown actor '{id}'"),
                ));
            };
            if !seen.insert(id) {
                return Err(invalid(entry, "speaks_for goes round in a circle"));
            }
            next = parent.speaks_for.as_deref();
        }
    }

    let mut statement_ids = HashSet::new();
    for (i, s) in d.statements.iter().enumerate() {
        let entry = format!("statements[{i}] ({})", s.id);
        if !is_slug(&s.id) {
            return Err(invalid(entry, "id must be a slug of a-z, 0-9, '-' and '.'"));
        }
        if !statement_ids.insert(s.id.as_str()) {
            return Err(invalid(entry, "id is used twice"));
        }
        if s.parts.is_empty() || s.parts.iter().any(|p| p.trim().is_empty()) {
            return Err(invalid(entry, "parts must be non-empty quotes"));
        }
        if s.text != display_text(&s.parts) {
            return Err(invalid(entry, "text must be its parts joined with ' … '"));
        }
        if s.citations.is_empty() {
            return Err(invalid(
                entry,
                "a statement must carry at least one citation",
            ));
        }
        if let Some(n) = s
            .citations
            .iter()
            .find(|&&n| n == 0 || n > d.source.citations)
        {
            return Err(invalid(
                entry,
                format!("citation {n} is outside 1–{}", d.source.citations),
            ));
        }
        for id in s.actors.iter().chain(&s.mentions) {
            if !actor_ids.contains(id.as_str()) {
                return Err(invalid(entry, format!("names unknown actor '{id}'")));
            }
        }
        if s.span[0] >= s.span[1] {
            return Err(invalid(entry, "span must be a non-empty range"));
        }
        if let Some(junk) = DEBRIS.iter().find(|junk| s.text.contains(*junk)) {
            return Err(invalid(
                entry,
                format!("text carries reference-list debris '{junk}'"),
            ));
        }
        check_when(&s.date).map_err(|rule| invalid(format!("{entry}.date"), rule))?;
        for (k, m) in s.date_mentions.iter().enumerate() {
            check_when(m).map_err(|rule| invalid(format!("{entry}.date_mentions[{k}]"), rule))?;
        }
    }

    let mut topic_ids = HashSet::new();
    for (i, t) in d.topics.iter().enumerate() {
        let entry = format!("topics[{i}] ({})", t.id);
        if !is_slug(&t.id) {
            return Err(invalid(entry, "id must be a slug of a-z, 0-9, '-' and '.'"));
        }
        if !topic_ids.insert(t.id.as_str()) {
            return Err(invalid(entry, "id is used twice"));
        }
        if t.title.trim().is_empty() || t.text.trim().is_empty() {
            return Err(invalid(entry, "title and text must not be empty"));
        }
        if t.url != wikipedia_url(&t.title) {
            return Err(invalid(
                entry,
                format!(
                    "url must be its article's address, {}",
                    wikipedia_url(&t.title)
                ),
            ));
        }
        if let Some(junk) = DEBRIS.iter().find(|junk| t.text.contains(*junk)) {
            return Err(invalid(
                entry,
                format!("text carries reference-list debris '{junk}'"),
            ));
        }
        for (k, e) in t.events.iter().enumerate() {
            check_when(&e.date)
                .map_err(|rule| invalid(format!("{entry}.events[{k}].date"), rule))?;
            if !e.date.is_known() {
                return Err(invalid(
                    format!("{entry}.events[{k}]"),
                    "an event must have a date",
                ));
            }
        }
    }
    for (i, x) in d.excerpts.iter().enumerate() {
        let entry = format!("excerpts[{i}]");
        if x.text.trim().is_empty() {
            return Err(invalid(entry, "an excerpt needs text"));
        }
        if let Some(junk) = DEBRIS.iter().find(|junk| x.text.contains(*junk)) {
            return Err(invalid(
                entry,
                format!("text carries reference-list debris '{junk}'"),
            ));
        }
    }
    Ok(())
}

/// The rules a date keeps: its fields agree with its precision.
fn check_when(w: &When) -> Result<(), String> {
    use jiff::ToSpan;
    let both = match (w.start, w.end) {
        (Some(s), Some(e)) => Some((s, e)),
        (None, None) => None,
        _ => return Err("start and end must be given together".into()),
    };
    match (w.precision, both) {
        (Precision::Unknown, None) if w.days.is_empty() => Ok(()),
        (Precision::Unknown, _) => Err("an unknown date has no start, end or days".into()),
        (_, None) => Err("a known date needs a start and an end".into()),
        (Precision::Day, Some((s, e))) if s == e && w.days.is_empty() => Ok(()),
        (Precision::Day, _) => Err("a day starts and ends on the same date".into()),
        (Precision::Days, Some((s, e))) => {
            let sorted = w.days.windows(2).all(|p| p[0] < p[1]);
            if w.days.len() >= 2
                && sorted
                && w.days.first() == Some(&s)
                && w.days.last() == Some(&e)
            {
                Ok(())
            } else {
                Err("several days are listed in order, from start to end".into())
            }
        }
        (Precision::Month, Some((s, e))) => {
            if s.day() == 1 && e == s.last_of_month() {
                Ok(())
            } else {
                Err("a month runs from its first day to its last".into())
            }
        }
        (Precision::Year, Some((s, e))) => {
            if s.month() == 1 && s.day() == 1 && e == s.last_of_year() {
                Ok(())
            } else {
                Err("a year runs from 1 January to 31 December".into())
            }
        }
        (Precision::Range, Some((s, e))) => {
            if s < e && s.checked_add(200.years()).is_ok_and(|limit| e <= limit) {
                Ok(())
            } else {
                Err("a range starts before it ends".into())
            }
        }
    }
}

/// How a statement's parts are shown: joined with " … ", with an ellipsis where the
/// quote starts or ends inside a sentence.
pub fn display_text(parts: &[String]) -> String {
    let mut text = String::new();
    let starts_mid = parts
        .first()
        .and_then(|p| p.chars().next())
        .is_some_and(|c| c.is_lowercase());
    if starts_mid {
        text.push_str("… ");
    }
    text.push_str(&parts.join(" … "));
    let ends_mid = parts.last().is_some_and(|p| {
        let p = p.trim_end_matches(['"', '”', '’', '\'', ')']);
        !p.ends_with(['.', '!', '?'])
    });
    if ends_mid {
        text.push_str(" …");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::Date;

    fn sample() -> Dataset {
        embedded().expect("the embedded dataset loads")
    }

    fn refused(d: &Dataset) -> DatasetError {
        let json = serde_json::to_string(d).unwrap();
        parse(&json, "test.json").expect_err("should be refused")
    }

    #[test]
    fn malformed_json_names_the_file_and_the_place() {
        let err = parse("{\"format\": 1, \"version\": ", "bad.json").unwrap_err();
        assert_eq!(err.origin, "bad.json");
        assert!(err.rule.starts_with("not a valid dataset"), "{err}");
    }

    #[test]
    fn an_impossible_date_is_refused_with_its_path() {
        let json =
            EMBEDDED_JSON.replacen("\"start\": \"2020-10-02\"", "\"start\": \"2020-02-30\"", 1);
        assert_ne!(json, EMBEDDED_JSON, "the sample must contain that date");
        let err = parse(&json, "x.json").unwrap_err();
        assert!(err.entry.starts_with("statements["), "{err}");
        assert!(err.entry.ends_with(".date.start"), "{err}");
    }

    #[test]
    fn broken_rules_are_named() {
        let mut d = sample();
        d.statements[3].citations = vec![999];
        let err = refused(&d);
        assert!(err.entry.contains(&d.statements[3].id), "{err}");
        assert!(err.rule.contains("citation 999 is outside 1–243"), "{err}");

        let mut d = sample();
        d.statements[5].id = d.statements[4].id.clone();
        assert_eq!(refused(&d).rule, "id is used twice");

        let mut d = sample();
        d.statements[0].actors.push("atlantis".into());
        assert_eq!(refused(&d).rule, "names unknown actor 'atlantis'");

        let mut d = sample();
        d.actors[0].speaks_for = Some(d.actors[0].id.clone());
        assert_eq!(refused(&d).rule, "speaks_for goes round in a circle");

        let mut d = sample();
        d.statements[1].parts = vec![format!("{} {{{{cite web}}}}.", d.statements[1].parts[0])];
        d.statements[1].text = display_text(&d.statements[1].parts);
        assert!(refused(&d).rule.contains("debris"));

        let mut d = sample();
        d.statements[2].date = When {
            precision: Precision::Day,
            start: Date::new(2020, 10, 1).ok(),
            end: Date::new(2020, 10, 2).ok(),
            days: vec![],
            how: How::Explicit,
            phrase: None,
        };
        assert!(refused(&d).entry.ends_with(".date"));
    }

    #[test]
    fn display_text_marks_cut_sentences() {
        let parts = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            display_text(&parts(&["Whole sentence."])),
            "Whole sentence."
        );
        assert_eq!(
            display_text(&parts(&["whereas the council demanded it"])),
            "… whereas the council demanded it …"
        );
        assert_eq!(
            display_text(&parts(&[
                "Representatives, including",
                "Canada",
                "have called."
            ])),
            "Representatives, including … Canada … have called."
        );
    }
}
