//! Checks a dataset against the source text it claims to quote.

use crate::build::{contains_words, distinct, sentence_ranges};
use crate::dates;
use karabakh_core::dataset::{Dataset, How, When};
use karabakh_core::text::{fold, markers, strip_markers};

/// What checking a dataset against its source found.
#[derive(Debug, Default)]
pub struct SourceCheck {
    /// Broken rules, one sentence each. Empty when the dataset is faithful.
    pub problems: Vec<String>,
    /// Sentences quoted by more than one statement (lists and split sentences), as
    /// `(line, the sentence's first words)`.
    pub shared_sentences: Vec<(u32, String)>,
}

/// Checks that every statement quotes the source verbatim, carries exactly the
/// citations that follow its words, and that the statements of each article line
/// cover it with no gap and no overlap; that every citation number is carried; that
/// every sentence belongs to a statement; that every statement can be reached from an
/// actor (it has a speaker or a mention); that every date is read from the
/// statement's own words; and that every label shown (a role or description, a
/// topic's other names, a reference-list quote) is the source's own words.
pub fn check_against_source(d: &Dataset, source: &str) -> SourceCheck {
    let lines: Vec<&str> = source
        .split('\n')
        .map(|l| l.trim_end_matches('\r'))
        .collect();
    let mut out = SourceCheck::default();
    let mut problem = |msg: String| out.problems.push(msg);

    let mut carried = vec![false; usize::from(d.source.citations) + 1];
    for s in &d.statements {
        let Some(raw) = lines.get((s.line as usize).wrapping_sub(1)) else {
            problem(format!("{}: line {} is not in the source", s.id, s.line));
            continue;
        };
        let [start, end] = [s.span[0] as usize, s.span[1] as usize];
        let Some(owned) = raw.get(start..end) else {
            problem(format!(
                "{}: span {start}..{end} does not fit line {}",
                s.id, s.line
            ));
            continue;
        };
        let stripped_line = strip_markers(raw);
        for part in &s.parts {
            if !stripped_line.contains(part.as_str()) {
                problem(format!(
                    "{}: '{part}' is not verbatim in line {}",
                    s.id, s.line
                ));
            }
        }
        let found = distinct(markers(owned).iter().map(|m| m.number));
        if found != s.citations {
            problem(format!(
                "{}: carries citations {:?} but its words are followed by {:?}",
                s.id, s.citations, found
            ));
        }
        for &n in &s.citations {
            if let Some(slot) = carried.get_mut(usize::from(n)) {
                *slot = true;
            }
        }
    }
    for (n, seen) in carried.iter().enumerate().skip(1) {
        if !seen {
            problem(format!("citation [{n}] is carried by no statement"));
        }
    }

    for s in &d.statements {
        if s.actors.is_empty() && s.mentions.is_empty() {
            problem(format!(
                "{}: unreachable: it names no actor and mentions none, so no /reaction lists it",
                s.id
            ));
        }
        let own = s.parts.join(" ");
        let dates = std::iter::once(("date", &s.date))
            .chain(s.date_mentions.iter().map(|m| ("date mention", m)));
        for (what, w) in dates {
            if let Err(why) = supported(w, &own) {
                problem(format!(
                    "{}: its {what} is not supported by its own words: {why}",
                    s.id
                ));
            }
        }
    }

    let (Some(first), Some(last)) = (
        d.statements.iter().map(|s| s.line).min(),
        d.statements.iter().map(|s| s.line).max(),
    ) else {
        problem("the dataset has no statements".to_owned());
        return out;
    };
    // Labels: in the source's own words.
    let article: Vec<&str> = (first..=last)
        .filter_map(|n| lines.get(n as usize - 1).copied())
        .collect();
    for a in &d.actors {
        if let Some(role) = &a.role {
            if !article
                .iter()
                .any(|l| contains_words(&strip_markers(l), role))
            {
                problem(format!(
                    "actor {}: its role or description '{role}' is not in the article",
                    a.id
                ));
            }
        }
    }
    for t in &d.topics {
        let text = fold(&t.text);
        for alias in &t.aliases {
            let f = fold(alias);
            if f.is_empty() || !format!(" {text} ").contains(&format!(" {f} ")) {
                problem(format!(
                    "topic {}: the name '{alias}' is not used by its text",
                    t.id
                ));
            }
        }
    }
    for x in &d.excerpts {
        let line = lines
            .get(x.line as usize - 1)
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default();
        if !line.contains(&x.text) {
            problem(format!(
                "excerpt of line {}: '{}' is not in that line",
                x.line, x.text
            ));
        }
    }

    for n in first..=last {
        let raw = lines[n as usize - 1];
        let mut spans: Vec<(usize, usize, &str)> = d
            .statements
            .iter()
            .filter(|s| s.line == n)
            .map(|s| (s.span[0] as usize, s.span[1] as usize, s.id.as_str()))
            .collect();
        spans.sort_unstable();
        let mut covered = 0;
        for &(start, end, id) in &spans {
            match raw.get(covered..start) {
                Some(gap) if gap.trim().is_empty() => {}
                Some(gap) => problem(format!(
                    "line {n}: '{}' belongs to no statement",
                    gap.trim()
                )),
                None => problem(format!("line {n}: {id} overlaps the statement before it")),
            }
            covered = covered.max(end);
        }
        if !raw
            .get(covered..)
            .is_some_and(|rest| rest.trim().is_empty())
        {
            problem(format!("line {n}: its end belongs to no statement"));
        }
        for sentence in sentence_ranges(raw) {
            let owners = spans
                .iter()
                .filter(|(start, end, _)| *start < sentence.end && sentence.start < *end)
                .count();
            let words: String = strip_markers(&raw[sentence.clone()])
                .chars()
                .take(48)
                .collect();
            match owners {
                0 => problem(format!(
                    "line {n}: the sentence '{words}…' belongs to no statement"
                )),
                1 => {}
                _ => out.shared_sentences.push((n, words)),
            }
        }
    }
    out
}

/// Whether a date is read from `own` words: its phrase stands in them, and reads as
/// that date (a relative phrase, as some day).
fn supported(w: &When, own: &str) -> Result<(), String> {
    if !w.is_known() {
        return Ok(());
    }
    let Some(phrase) = w.phrase.as_deref() else {
        return Err("no phrase says it".to_owned());
    };
    if !own.contains(phrase) {
        return Err(format!("'{phrase}' is not in its words"));
    }
    match w.how {
        How::Relative => {
            if dates::relatives(phrase).is_empty() {
                return Err(format!("'{phrase}' is not a relative date"));
            }
        }
        How::Curated => {}
        _ => {
            let year = w.start.map(|d| d.year());
            let read = dates::scan(phrase, year);
            let same = read.iter().any(|f| {
                f.when.precision == w.precision
                    && f.when.start == w.start
                    && f.when.end == w.end
                    && f.when.days == w.days
            });
            if !same {
                return Err(format!("'{phrase}' does not read as that date"));
            }
        }
    }
    Ok(())
}
