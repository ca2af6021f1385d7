//! Statements as every answer shows them: the date in bold, who made it, the quote
//! escaped, and its citations; rendered once at start-up, so that an answer only
//! copies them.

use super::Core;
use crate::query::Index;
use crate::reply::markdown::{self, escape};
use crate::reply::{Answer, limits};

/// A statement's date in bold, who made it, its escaped text and its citations,
/// with their lengths.
#[derive(Debug)]
pub(super) struct Rendered {
    date: String,
    speakers: String,
    text: String,
    cites: String,
    date_len: usize,
    speakers_len: usize,
    text_len: usize,
    cites_len: usize,
}

/// Whom to name above a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// Everyone who made it.
    All,
    /// Those who made it other than this actor (it is the actor the answer is about).
    Besides(usize),
}

impl Rendered {
    /// Every statement of the index, in order.
    pub(super) fn all(index: &Index) -> Vec<Rendered> {
        let references = &index.data.source.references_url;
        index
            .data
            .statements
            .iter()
            .map(|s| {
                let date = markdown::bold(&markdown::date_of(&s.date));
                let speakers = escape(&index.speakers(s).join(", "));
                let text = escape(&s.text);
                let cites = markdown::cites(&s.citations, references);
                Rendered {
                    date_len: limits::len(&date),
                    speakers_len: limits::len(&speakers),
                    text_len: limits::len(&text),
                    cites_len: limits::len(&cites),
                    date,
                    speakers,
                    text,
                    cites,
                }
            })
            .collect()
    }
}

impl Core {
    /// Adds statement `si` as a block: its date and who spoke (when given), then the
    /// quote and its citations. `marked` replaces the quote's text (search marks) and
    /// gives its length.
    pub fn push_statement(
        &self,
        answer: &mut Answer,
        section: Option<&'static str>,
        si: usize,
        who: Who,
        marked: Option<(String, usize)>,
    ) {
        let (text, len) = self.statement_block(si, who, marked);
        answer.block_sized(section, text, len);
    }

    /// The length of statement `si`'s block as [`push_statement`](Self::push_statement)
    /// writes it with [`Who::All`], its quote being `text_len` units long: known without
    /// writing it.
    pub fn statement_block_len(&self, si: usize, text_len: usize) -> usize {
        let r = &self.rendered[si];
        let names = if r.speakers.is_empty() {
            0
        } else {
            3 + r.speakers_len
        };
        r.date_len + 3 + text_len + 1 + r.cites_len + names
    }

    /// Statement `si`'s block and its length, as [`push_statement`](Self::push_statement)
    /// adds it.
    pub fn statement_block(
        &self,
        si: usize,
        who: Who,
        marked: Option<(String, usize)>,
    ) -> (String, usize) {
        let r = &self.rendered[si];
        let (text, text_len) = match &marked {
            Some((t, len)) => (t.as_str(), *len),
            None => (r.text.as_str(), r.text_len),
        };
        let besides;
        let (names, names_len) = match who {
            Who::All => (r.speakers.as_str(), r.speakers_len),
            Who::Besides(actor) => {
                besides = escape(
                    &self
                        .index
                        .speakers_for(&self.index.data.statements[si], actor)
                        .join(", "),
                );
                (besides.as_str(), limits::len(&besides))
            }
        };
        let mut out =
            String::with_capacity(r.date.len() + names.len() + text.len() + r.cites.len() + 16);
        let mut len = r.date_len + 3 + text_len + 1 + r.cites_len;
        out.push_str(&r.date);
        if !names.is_empty() {
            len += 3 + names_len;
            out.push_str(" · ");
            out.push_str(names);
        }
        out.push_str("\n> ");
        out.push_str(text);
        out.push(' ');
        out.push_str(&r.cites);
        (out, len)
    }

    /// A statement's escaped text and its length, as rendered at start-up.
    pub fn statement_text(&self, si: usize) -> (&str, usize) {
        let r = &self.rendered[si];
        (&r.text, r.text_len)
    }

    pub fn cites(&self, numbers: &[u16]) -> String {
        markdown::cites(numbers, &self.data().source.references_url)
    }

    /// "Did you mean: A, B, C?"
    pub fn did_you_mean(names: &[&str]) -> String {
        if names.is_empty() {
            String::new()
        } else {
            format!(" Did you mean: {}?", escape(&names.join(", ")))
        }
    }
}
