//! Ranked full-text search over statements and background topics, accents folded.
//!
//! Words are folded (`Erdoğan` → `erdogan`) into an inverted index built at start-up.
//! A query's words match exactly, and words of three letters or more also match as
//! prefixes (`ceasef` finds `ceasefire`). Documents are ranked by BM25, with a boost
//! for matching every word and for matching them side by side.

use std::collections::HashMap;
use std::ops::Range;

use crate::dataset::Dataset;
use crate::text::fold;

/// What a search hit points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocRef {
    Statement(usize),
    Topic(usize),
}

/// One result: the document, its score, and the byte ranges of its text to mark
/// (in `Statement::text`, or `Topic::text`).
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub doc: DocRef,
    pub score: f32,
    pub marks: Vec<Range<usize>>,
}

#[derive(Debug)]
struct Doc {
    doc: DocRef,
    /// Byte range of each word in the document's text.
    words: Vec<Range<usize>>,
    /// Folded title words (topics only), for a title boost.
    title: Vec<String>,
}

/// Where a word occurs: (document, word position) pairs in order, and in how many
/// documents.
#[derive(Debug, Default)]
struct Postings {
    list: Vec<(u32, u32)>,
    documents: u32,
}

#[derive(Debug)]
pub struct SearchIndex {
    docs: Vec<Doc>,
    /// Folded word → where it occurs.
    postings: HashMap<String, Postings>,
    /// Every folded word, sorted, for prefix matching.
    vocabulary: Vec<String>,
    average_len: f32,
}

const STOP_WORDS: &[&str] = &[
    "the", "of", "and", "a", "an", "in", "to", "on", "for", "by", "with", "at", "its", "is",
];

/// Words of a text: byte ranges of alphanumeric runs, and each one folded.
pub fn words(text: &str) -> Vec<(Range<usize>, String)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
        if c.is_alphanumeric() {
            start.get_or_insert(i);
        } else if let Some(s) = start.take() {
            let folded: String = fold(&text[s..i]).split(' ').collect();
            if !folded.is_empty() {
                out.push((s..i, folded));
            }
        }
    }
    out
}

impl SearchIndex {
    pub fn new(data: &Dataset) -> Self {
        let mut docs = Vec::new();
        let mut postings: HashMap<String, Postings> = HashMap::new();
        let texts = data
            .statements
            .iter()
            .enumerate()
            .map(|(i, s)| (DocRef::Statement(i), s.text.as_str(), ""))
            .chain(
                data.topics
                    .iter()
                    .enumerate()
                    .map(|(i, t)| (DocRef::Topic(i), t.text.as_str(), t.title.as_str())),
            );
        for (doc, text, title) in texts {
            let id = docs.len() as u32;
            let found = words(text);
            for (pos, (_, w)) in found.iter().enumerate() {
                let p = postings.entry(w.clone()).or_default();
                if p.list.last().is_none_or(|&(d, _)| d != id) {
                    p.documents += 1;
                }
                p.list.push((id, pos as u32));
            }
            docs.push(Doc {
                doc,
                words: found.into_iter().map(|(r, _)| r).collect(),
                title: words(title).into_iter().map(|(_, w)| w).collect(),
            });
        }
        let mut vocabulary: Vec<String> = postings.keys().cloned().collect();
        vocabulary.sort_unstable();
        let total: usize = docs.iter().map(|d| d.words.len()).sum();
        let average_len = total as f32 / docs.len().max(1) as f32;
        Self {
            docs,
            postings,
            vocabulary,
            average_len,
        }
    }

    /// The folded words of the vocabulary a query word matches, with a weight: 1 for
    /// the word itself, 0.7 for longer words it begins.
    fn expand<'a>(&'a self, term: &str) -> Vec<(&'a str, f32)> {
        let mut out = Vec::new();
        if let Some((word, _)) = self.postings.get_key_value(term) {
            out.push((word.as_str(), 1.0));
        }
        if term.len() >= 3 {
            let start = self.vocabulary.partition_point(|w| w.as_str() < term);
            for w in self.vocabulary[start..]
                .iter()
                .take_while(|w| w.starts_with(term))
            {
                if w != term {
                    out.push((w.as_str(), 0.7));
                }
            }
        }
        out
    }

    /// The documents matching `query`, best first. Documents with every word come
    /// before those with only some.
    pub fn search(&self, query: &str) -> Vec<Hit> {
        let folded = fold(query);
        let mut terms: Vec<&str> = folded.split(' ').filter(|t| !t.is_empty()).collect();
        terms.dedup();
        if terms.iter().any(|t| !STOP_WORDS.contains(t)) {
            terms.retain(|t| !STOP_WORDS.contains(t));
        }
        if terms.is_empty() {
            return Vec::new();
        }
        let docs = self.docs.len();
        let n = docs as f32;
        let mut score = vec![0f32; docs];
        let mut matched = vec![0u32; docs];
        let mut best = vec![0f32; docs];
        // (document, word position, term) of every match.
        let mut found: Vec<(u32, u32, u32)> = Vec::new();
        for (ti, term) in terms.iter().enumerate() {
            best.fill(0.0);
            for (word, weight) in self.expand(term) {
                let p = &self.postings[word];
                let df = p.documents as f32;
                let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
                for run in p.list.chunk_by(|a, b| a.0 == b.0) {
                    let doc = run[0].0 as usize;
                    let f = run.len() as f32;
                    let len = self.docs[doc].words.len() as f32;
                    let norm = f * 2.2 / (f + 1.2 * (0.25 + 0.75 * len / self.average_len));
                    best[doc] = best[doc].max(idf * norm * weight);
                    found.extend(run.iter().map(|&(d, pos)| (d, pos, ti as u32)));
                }
            }
            for doc in 0..docs {
                if best[doc] > 0.0 {
                    score[doc] += best[doc];
                    matched[doc] += 1;
                }
            }
        }
        found.sort_unstable();
        let all = terms.len() as u32;
        let mut hits: Vec<Hit> = found
            .chunk_by(|a, b| a.0 == b.0)
            .map(|group| {
                let doc = group[0].0 as usize;
                let d = &self.docs[doc];
                let mut s = score[doc];
                if matched[doc] == all {
                    s *= 2.0;
                }
                if all > 1 && adjacent(group, all) {
                    s *= 1.5;
                }
                if terms
                    .iter()
                    .all(|t| d.title.iter().any(|w| w.starts_with(t)))
                {
                    s *= 1.5;
                }
                // Rank first by how many words matched.
                s += matched[doc] as f32 * 100.0;
                let mut marks: Vec<Range<usize>> = group
                    .iter()
                    .map(|&(_, pos, _)| d.words[pos as usize].clone())
                    .collect();
                marks.dedup();
                Hit {
                    doc: d.doc,
                    score: s,
                    marks,
                }
            })
            .collect();
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| order(a.doc).cmp(&order(b.doc)))
        });
        hits
    }
}

fn order(d: DocRef) -> (u8, usize) {
    match d {
        DocRef::Statement(i) => (0, i),
        DocRef::Topic(i) => (1, i),
    }
}

/// Whether the terms occur one after another somewhere, in query order: `group`
/// holds one document's (document, position, term) matches.
fn adjacent(group: &[(u32, u32, u32)], terms: u32) -> bool {
    let has = |pos: u32, term: u32| group.iter().any(|&(_, p, t)| p == pos && t == term);
    group
        .iter()
        .filter(|&&(_, _, t)| t == 0)
        .any(|&(_, start, _)| (1..terms).all(|k| has(start + k, k)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> (Dataset, SearchIndex) {
        let d = crate::dataset::embedded().unwrap();
        let s = SearchIndex::new(&d);
        (d, s)
    }

    fn text(d: &Dataset, h: &Hit) -> String {
        match h.doc {
            DocRef::Statement(i) => d.statements[i].text.clone(),
            DocRef::Topic(i) => d.topics[i].text.clone(),
        }
    }

    #[test]
    fn folded_prefix_and_phrase_matching() {
        let (d, s) = index();
        let hits = s.search("Erdogan");
        assert!(!hits.is_empty());
        assert!(text(&d, &hits[0]).contains("Erdo"));
        let hits = s.search("ceasef");
        assert!(hits.iter().all(|h| {
            let t = text(&d, h);
            h.marks
                .iter()
                .all(|m| fold(&t[m.clone()]).starts_with("ceasef"))
        }));
        let hits = s.search("Madrid Principles");
        assert_eq!(
            hits[0].doc,
            DocRef::Topic(
                d.topics
                    .iter()
                    .position(|t| t.title == "Madrid Principles")
                    .unwrap()
            )
        );
        let hits = s.search("phosphorus bombs");
        assert!(text(&d, &hits[0]).contains("phosphorus bombs"));
    }

    #[test]
    fn nothing_matches_nonsense_or_empty() {
        let (_, s) = index();
        assert!(s.search("zxqv").is_empty());
        assert!(s.search("   ").is_empty());
        assert!(s.search("!!!").is_empty());
    }
}
