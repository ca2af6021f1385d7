//! Ranked full-text search over statements, background topics and the quotes left in
//! the reference list.
//!
//! Texts are cut into tokens ([`words::tokens`]: `U.S.`, `F-16`, `100,000` stay
//! whole), folded and stemmed ([`words::stem`]), and kept in an inverted index with
//! their positions. A query's words are stemmed the same way; stop words are dropped
//! unless they stand inside a `"quoted phrase"`, which must match word for word.
//! A word also matches the words it begins (four letters or more), a pair of words
//! its joined spelling (`cease fire` → `ceasefire`), and a name the other names of
//! the same actor (`USA` → `United States`, `Azeri` → `Azerbaijani`). Documents are
//! ranked by BM25, those matching every word first, with a boost for words side by
//! side.

use std::collections::HashMap;
use std::ops::Range;

use super::words::{self, is_stop, stem};
use crate::dataset::Dataset;

/// What a search hit points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocRef {
    Statement(usize),
    Topic(usize),
    /// A quote left in the article's reference list.
    Excerpt(usize),
}

/// One result: the document, its score, and the byte ranges of its text to mark
/// (in `Statement::text`, `Topic::text` or `Excerpt::text`).
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub doc: DocRef,
    pub score: f32,
    pub marks: Vec<Range<usize>>,
}

#[derive(Debug)]
struct Doc {
    doc: DocRef,
    /// Byte range of each token in the document's text.
    ranges: Vec<Range<usize>>,
    /// The term of each token.
    terms: Vec<u32>,
    /// The parts of hyphenated tokens: (position, term), sorted.
    parts: Vec<(u32, u32)>,
    /// Title terms (topics only), for a title boost.
    title: Vec<u32>,
}

impl Doc {
    fn has(&self, pos: usize, term: u32) -> bool {
        self.terms.get(pos) == Some(&term) || self.parts.binary_search(&(pos as u32, term)).is_ok()
    }
}

/// Where a term occurs: (document, position) pairs in order, and in how many documents.
#[derive(Debug, Default)]
struct Postings {
    list: Vec<(u32, u32)>,
    documents: u32,
}

/// Another way to write what a query word (or words) names, as a phrase of terms.
#[derive(Debug, Clone)]
struct Alternative {
    phrase: Vec<u32>,
    weight: f32,
}

#[derive(Debug)]
pub struct SearchIndex {
    docs: Vec<Doc>,
    vocabulary: HashMap<String, u32>,
    /// Every term, sorted, for prefix matching.
    sorted: Vec<(String, u32)>,
    postings: Vec<Postings>,
    /// Names (their stemmed words, stop words dropped, joined by spaces) → the other
    /// ways to write them.
    names: HashMap<String, Vec<Alternative>>,
    /// The longest name, in words.
    longest_name: usize,
    average_len: f32,
}

/// Abbreviations the text uses beside the words they stand for.
const SYNONYMS: &[&[&str]] = &[&["PM", "Prime Minister"], &["FM", "Foreign Minister"]];

/// One group of a query: what one typed word (or name, or quoted phrase) may match.
#[derive(Debug)]
struct Group {
    alternatives: Vec<Alternative>,
}

impl SearchIndex {
    pub fn new(data: &Dataset) -> Self {
        let mut index = Self {
            docs: Vec::new(),
            vocabulary: HashMap::new(),
            sorted: Vec::new(),
            postings: Vec::new(),
            names: HashMap::new(),
            longest_name: 1,
            average_len: 1.0,
        };
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
            )
            .chain(
                data.excerpts
                    .iter()
                    .enumerate()
                    .map(|(i, x)| (DocRef::Excerpt(i), x.text.as_str(), "")),
            );
        // Texts repeat their words: each is stemmed once.
        let mut stems: HashMap<String, String> = HashMap::new();
        let mut stem_of = |w: &str| -> String {
            if let Some(s) = stems.get(w) {
                return s.clone();
            }
            let s = stem(w);
            stems.insert(w.to_owned(), s.clone());
            s
        };
        for (doc, text, title) in texts {
            let id = index.docs.len() as u32;
            let mut d = Doc {
                doc,
                ranges: Vec::new(),
                terms: Vec::new(),
                parts: Vec::new(),
                title: Vec::new(),
            };
            for (pos, t) in words::tokens(text).into_iter().enumerate() {
                let term = index.intern(&stem_of(&t.folded));
                index.post(term, id, pos as u32);
                d.terms.push(term);
                for p in &t.parts {
                    let part = index.intern(&stem_of(p));
                    if part != term {
                        index.post(part, id, pos as u32);
                        d.parts.push((pos as u32, part));
                    }
                }
                d.ranges.push(t.range);
            }
            d.parts.sort_unstable();
            d.title = words::tokens(title)
                .iter()
                .filter_map(|t| index.vocabulary.get(&stem_of(&t.folded)).copied())
                .collect();
            index.docs.push(d);
        }
        for p in &mut index.postings {
            p.list.sort_unstable();
        }
        index.sorted = index
            .vocabulary
            .iter()
            .map(|(w, &i)| (w.clone(), i))
            .collect();
        index.sorted.sort_unstable();
        let total: usize = index.docs.iter().map(|d| d.terms.len()).sum();
        index.average_len = total as f32 / index.docs.len().max(1) as f32;

        // Names: every name of an actor finds the others.
        for a in &data.actors {
            let canonical = std::iter::once(a.name.as_str());
            let aliases = a.aliases.iter().map(String::as_str);
            let demonyms = a.demonyms.iter().map(String::as_str);
            let all_names: Vec<&str> = canonical.clone().chain(aliases.clone()).collect();
            let with_demonyms: Vec<&str> =
                all_names.iter().copied().chain(demonyms.clone()).collect();
            index.add_names(&[a.name.as_str()], &all_names);
            for alias in a.aliases.iter() {
                index.add_names(&[alias.as_str()], &with_demonyms);
            }
            let ds: Vec<&str> = demonyms.collect();
            index.add_names(&ds, &ds);
        }
        for group in SYNONYMS {
            index.add_names(group, group);
        }
        index
    }

    fn intern(&mut self, term: &str) -> u32 {
        if let Some(&id) = self.vocabulary.get(term) {
            return id;
        }
        let id = self.postings.len() as u32;
        self.vocabulary.insert(term.to_owned(), id);
        self.postings.push(Postings::default());
        id
    }

    fn post(&mut self, term: u32, doc: u32, pos: u32) {
        let p = &mut self.postings[term as usize];
        if p.list.last().is_none_or(|&(d, _)| d != doc) {
            p.documents += 1;
        }
        p.list.push((doc, pos));
    }

    /// The terms of a text, if every one is in the vocabulary.
    fn phrase(&self, text: &str) -> Option<Vec<u32>> {
        words::tokens(text)
            .iter()
            .map(|t| self.vocabulary.get(&stem(&t.folded)).copied())
            .collect()
    }

    /// Makes each of `keys` find every one of `names` (other than itself).
    fn add_names(&mut self, keys: &[&str], names: &[&str]) {
        for key in keys {
            let k = words::key_words(key).join(" ");
            if k.is_empty() {
                continue;
            }
            let n = k.split(' ').count();
            let alternatives: Vec<Alternative> = names
                .iter()
                .filter(|name| *name != key)
                .filter_map(|name| self.phrase(name))
                .filter(|p| !p.is_empty())
                .map(|phrase| Alternative {
                    phrase,
                    weight: 0.8,
                })
                .collect();
            if alternatives.is_empty() {
                continue;
            }
            self.longest_name = self.longest_name.max(n);
            let entry = self.names.entry(k).or_default();
            for alt in alternatives {
                if !entry.iter().any(|e| e.phrase == alt.phrase) {
                    entry.push(alt);
                }
            }
        }
    }

    /// Whether a word (folded) occurs anywhere in the indexed texts.
    pub fn knows(&self, text: &str) -> bool {
        let toks = words::tokens(text);
        !toks.is_empty()
            && toks
                .iter()
                .filter(|t| !is_stop(&t.folded))
                .all(|t| self.vocabulary.contains_key(&stem(&t.folded)))
            && toks.iter().any(|t| !is_stop(&t.folded))
    }

    /// The groups of a query: quoted phrases, names, and single words with what they
    /// also match.
    fn groups(&self, query: &str) -> Vec<Group> {
        let mut groups = Vec::new();
        // Quoted phrases first; the rest is words.
        let mut rest = String::new();
        let mut inside: Option<String> = None;
        for c in query.chars() {
            match (c, inside.as_mut()) {
                ('"' | '“' | '”' | '«' | '»', None) => inside = Some(String::new()),
                ('"' | '“' | '”' | '«' | '»', Some(_)) => {
                    let phrase = inside.take().unwrap_or_default();
                    match words::tokens(&phrase)
                        .iter()
                        .map(|t| self.vocabulary.get(&stem(&t.folded)).copied())
                        .collect::<Option<Vec<u32>>>()
                    {
                        Some(p) if !p.is_empty() => groups.push(Group {
                            alternatives: vec![Alternative {
                                phrase: p,
                                weight: 1.0,
                            }],
                        }),
                        Some(_) => {}
                        // A word of the phrase is nowhere: the phrase matches nothing.
                        None => groups.push(Group {
                            alternatives: Vec::new(),
                        }),
                    }
                    rest.push(' ');
                }
                (c, Some(p)) => p.push(c),
                (c, None) => rest.push(c),
            }
        }
        if let Some(unclosed) = inside {
            rest.push(' ');
            rest.push_str(&unclosed);
        }
        let toks: Vec<words::Token> = words::tokens(&rest)
            .into_iter()
            .filter(|t| !is_stop(&t.folded))
            .collect();
        let stems: Vec<String> = toks.iter().map(|t| stem(&t.folded)).collect();
        // The group of each word that is a group of its own.
        let mut single: Vec<Option<usize>> = vec![None; toks.len()];
        let mut i = 0;
        while i < toks.len() {
            // The longest name starting here.
            let name = (1..=self.longest_name.min(toks.len() - i))
                .rev()
                .find_map(|n| {
                    let key = stems[i..i + n].join(" ");
                    self.names.get(&key).map(|alts| (n, alts))
                });
            let n = name.map_or(1, |(n, _)| n);
            let mut alternatives = Vec::new();
            let typed: Option<Vec<u32>> = stems[i..i + n]
                .iter()
                .map(|s| self.vocabulary.get(s).copied())
                .collect();
            if let Some(p) = typed {
                alternatives.push(Alternative {
                    phrase: p,
                    weight: 1.0,
                });
            }
            if let Some((_, alts)) = name {
                alternatives.extend(alts.iter().cloned());
            }
            if n == 1 {
                let t = &toks[i];
                let s = &stems[i];
                // The parts of a hyphenated word typed, side by side.
                if !t.parts.is_empty() {
                    if let Some(p) = t
                        .parts
                        .iter()
                        .map(|p| self.vocabulary.get(&stem(p)).copied())
                        .collect::<Option<Vec<u32>>>()
                    {
                        alternatives.push(Alternative {
                            phrase: p,
                            weight: 0.9,
                        });
                    }
                }
                // Longer words it begins: "ceasef" → "ceasefire".
                if s.len() >= 4 && s.bytes().all(|b| b.is_ascii_alphabetic()) {
                    let from = self
                        .sorted
                        .partition_point(|(w, _)| w.as_str() < s.as_str());
                    for (w, id) in self.sorted[from..]
                        .iter()
                        .take_while(|(w, _)| w.starts_with(s.as_str()))
                    {
                        if w != s {
                            alternatives.push(Alternative {
                                phrase: vec![*id],
                                weight: 0.6,
                            });
                        }
                    }
                }
            }
            if n == 1 {
                single[i] = Some(groups.len());
            }
            groups.push(Group { alternatives });
            i += n;
        }
        // A pair of words typed apart that the text writes as one: "cease fire".
        for w in 0..toks.len().saturating_sub(1) {
            let (Some(a), Some(b)) = (single[w], single[w + 1]) else {
                continue;
            };
            let joined = stem(&format!("{}{}", toks[w].folded, toks[w + 1].folded));
            if let Some(&id) = self.vocabulary.get(&joined) {
                for g in [a, b] {
                    groups[g].alternatives.push(Alternative {
                        phrase: vec![id],
                        weight: 1.0,
                    });
                }
            }
        }
        groups
    }

    /// Every occurrence of a phrase: (document, first position), in order. The
    /// phrase is anchored on its rarest term, so "the United States" does not walk
    /// every "the".
    fn occurrences(&self, phrase: &[u32]) -> Vec<(u32, u32)> {
        let Some((anchor, &rarest)) = phrase
            .iter()
            .enumerate()
            .min_by_key(|(_, t)| self.postings[**t as usize].list.len())
        else {
            return Vec::new();
        };
        let list = &self.postings[rarest as usize].list;
        if phrase.len() == 1 {
            return list.clone();
        }
        let anchor = anchor as u32;
        list.iter()
            .filter(|&&(_, p)| p >= anchor)
            .map(|&(d, p)| (d, p - anchor))
            .filter(|&(d, start)| {
                let doc = &self.docs[d as usize];
                phrase
                    .iter()
                    .enumerate()
                    .all(|(k, &t)| k as u32 == anchor || doc.has(start as usize + k, t))
            })
            .collect()
    }

    /// The documents matching `query`, best first: those matching every word (or
    /// phrase) before those matching some. Empty when the query has only stop words
    /// or nothing matches.
    pub fn search(&self, query: &str) -> Vec<Hit> {
        let groups = self.groups(query);
        if groups.is_empty() {
            return Vec::new();
        }
        let docs = self.docs.len();
        let n = docs as f32;
        let mut score = vec![0f32; docs];
        let mut matched = vec![0u32; docs];
        let mut best = vec![0f32; docs];
        // (document, first position, length, group) of every match.
        let mut found: Vec<(u32, u32, u32, u32)> = Vec::new();
        for (gi, group) in groups.iter().enumerate() {
            best.fill(0.0);
            for alt in &group.alternatives {
                let occ = self.occurrences(&alt.phrase);
                if occ.is_empty() {
                    continue;
                }
                let mut df = 0f32;
                for run in occ.chunk_by(|a, b| a.0 == b.0) {
                    let _ = run;
                    df += 1.0;
                }
                let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
                for run in occ.chunk_by(|a, b| a.0 == b.0) {
                    let doc = run[0].0 as usize;
                    let f = run.len() as f32;
                    let len = self.docs[doc].terms.len() as f32;
                    let norm = f * 2.2 / (f + 1.2 * (0.25 + 0.75 * len / self.average_len));
                    best[doc] = best[doc].max(idf * norm * alt.weight);
                    found.extend(
                        run.iter()
                            .map(|&(d, p)| (d, p, alt.phrase.len() as u32, gi as u32)),
                    );
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
        let all = groups.len() as u32;
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
                if !d.title.is_empty()
                    && groups.iter().all(|g| {
                        g.alternatives
                            .iter()
                            .any(|a| a.phrase.iter().all(|t| d.title.contains(t)))
                    })
                {
                    s *= 1.5;
                }
                // Rank first by how many words matched.
                s += matched[doc] as f32 * 100.0;
                let mut marks: Vec<Range<usize>> = group
                    .iter()
                    .map(|&(_, pos, len, _)| {
                        let (a, b) = (pos as usize, (pos + len) as usize - 1);
                        d.ranges[a].start..d.ranges[b.min(d.ranges.len() - 1)].end
                    })
                    .collect();
                marks.sort_by_key(|m| (m.start, std::cmp::Reverse(m.end)));
                let mut merged: Vec<Range<usize>> = Vec::new();
                for m in marks {
                    match merged.last_mut() {
                        Some(last) if m.start < last.end => last.end = last.end.max(m.end),
                        _ => merged.push(m),
                    }
                }
                Hit {
                    doc: d.doc,
                    score: s,
                    marks: merged,
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
        DocRef::Excerpt(i) => (2, i),
    }
}

/// Whether the groups occur one after another somewhere, in query order: `group`
/// holds one document's (document, position, length, group) matches.
fn adjacent(group: &[(u32, u32, u32, u32)], groups: u32) -> bool {
    group
        .iter()
        .filter(|m| m.3 == 0)
        .any(|&(_, start, len, _)| {
            let mut at = start + len;
            (1..groups).all(|k| match group.iter().find(|m| m.1 == at && m.3 == k) {
                Some(m) => {
                    at += m.2;
                    true
                }
                None => false,
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> (Dataset, SearchIndex) {
        let d = crate::dataset::embedded().unwrap();
        let s = SearchIndex::new(&d);
        (d, s)
    }

    /// The citations of every statement found.
    fn cites(d: &Dataset, hits: &[Hit]) -> Vec<u16> {
        hits.iter()
            .flat_map(|h| match h.doc {
                DocRef::Statement(i) => d.statements[i].citations.clone(),
                _ => Vec::new(),
            })
            .collect()
    }

    #[test]
    fn plurals_spellings_and_hyphens_meet() {
        let (d, s) = index();
        assert!(cites(&d, &s.search("protests")).contains(&137), "protest");
        assert!(cites(&d, &s.search("embassies")).contains(&167), "embassy");
        assert!(cites(&d, &s.search("colors")).contains(&135), "colours");
        assert!(
            cites(&d, &s.search("ceasefire")).contains(&97),
            "cease-fire"
        );
        assert!(cites(&d, &s.search("cease fire")).contains(&97));
        assert!(
            cites(&d, &s.search("de-escalate")).contains(&3),
            "deescalate"
        );
        assert!(cites(&d, &s.search("Chisinau")).contains(&163));
        assert!(s.search("casualties").is_empty());
    }

    #[test]
    fn tokens_stay_whole_and_stop_words_alone_find_nothing() {
        let (d, s) = index();
        let us = cites(&d, &s.search("U.S."));
        assert!(us.contains(&44) && !us.contains(&7), "{us:?}");
        assert!(s.search("F-16").is_empty());
        let big = cites(&d, &s.search("100,000"));
        assert!(big.contains(&133) && !big.contains(&151), "{big:?}");
        assert!(cites(&d, &s.search("8:30")).contains(&152));
        assert!(s.search("the").is_empty());
        assert!(s.search("of the").is_empty());
    }

    #[test]
    fn quoted_phrases_match_word_for_word() {
        let (d, s) = index();
        let hits = s.search("\"foreign minister\"");
        let found = cites(&d, &hits);
        assert!(found.contains(&20) && !found.contains(&226), "{found:?}");
        // The mark covers the whole phrase.
        let i = d
            .statements
            .iter()
            .position(|st| st.citations == [48])
            .unwrap();
        let h = hits.iter().find(|h| h.doc == DocRef::Statement(i)).unwrap();
        assert_eq!(
            &d.statements[i].text[h.marks[0].clone()],
            "foreign minister"
        );
        assert!(!cites(&d, &s.search("\"10 October\"")).contains(&23));
        assert!(s.search("\"zxqv words\"").is_empty());
    }

    #[test]
    fn names_find_their_other_names_and_reference_list_quotes_are_searched() {
        let (d, s) = index();
        assert!(cites(&d, &s.search("USA")).contains(&14), "United States");
        assert!(cites(&d, &s.search("Vatican")).contains(&26), "Holy See");
        assert!(cites(&d, &s.search("Azeri")).contains(&159), "Azerbaijani");
        assert!(cites(&d, &s.search("PM")).contains(&52), "Prime Minister");
        let hits = s.search("killer drones");
        assert!(matches!(hits[0].doc, DocRef::Excerpt(_)));
        // A name of several words next to a word joined with the one after.
        assert!(!s.search("united states cease fire").is_empty());
        assert!(s.knows("Tabriz") && !s.knows("Macron") && !s.knows("the"));
    }
}
