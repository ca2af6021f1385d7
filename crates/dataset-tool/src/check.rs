//! Checks a dataset against the source text it claims to quote.

use crate::build::{distinct, sentence_ranges};
use karabakh_core::dataset::Dataset;
use karabakh_core::text::{markers, strip_markers};

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
/// cover it with no gap and no overlap; that every citation number is carried; and
/// that every sentence belongs to a statement.
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

    let (Some(first), Some(last)) = (
        d.statements.iter().map(|s| s.line).min(),
        d.statements.iter().map(|s| s.line).max(),
    ) else {
        problem("the dataset has no statements".to_owned());
        return out;
    };
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
