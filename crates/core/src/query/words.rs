//! Words as search and lookup compare them: a text cut into tokens that keep
//! `U.S.`, `F-16`, `100,000`, `8:30` and `O'Brien` whole (a hyphenated word is also
//! found by its parts), folded (accents, case), British spellings met with American
//! ones (`colour`/`color`, `organised`/`organized`, `defence`/`defense`), and stemmed
//! with the Snowball English stemmer, so `protests` meets `protest` and `countries`
//! meets `country`.

use std::ops::Range;
use std::sync::LazyLock;

use rust_stemmers::{Algorithm, Stemmer};

use crate::text::fold;

static STEMMER: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));

/// Words too common to search for on their own; inside a quoted phrase they count.
pub const STOP_WORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be", "been",
    "before", "being", "both", "but", "by", "can", "could", "did", "do", "does", "for", "from",
    "had", "has", "have", "he", "her", "his", "how", "i", "if", "in", "into", "is", "it", "its",
    "me", "more", "my", "of", "on", "or", "our", "over", "she", "so", "some", "such", "than",
    "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "through",
    "to", "under", "until", "up", "was", "we", "were", "what", "when", "where", "which", "while",
    "who", "whom", "why", "will", "with", "would", "you", "your",
];

pub fn is_stop(folded: &str) -> bool {
    STOP_WORDS.binary_search(&folded).is_ok()
}

/// British spellings written the American way, whole words.
const SPELLINGS: &[(&str, &str)] = &[
    ("defence", "defense"),
    ("offence", "offense"),
    ("licence", "license"),
    ("programme", "program"),
    ("programmes", "programs"),
    ("grey", "gray"),
    ("catalogue", "catalog"),
    ("dialogue", "dialog"),
    ("travelled", "traveled"),
    ("cancelled", "canceled"),
    ("centre", "center"),
    ("centres", "centers"),
    ("metre", "meter"),
    ("metres", "meters"),
    ("kilometre", "kilometer"),
    ("kilometres", "kilometers"),
    ("theatre", "theater"),
    ("analyse", "analyze"),
    ("paralyse", "paralyze"),
];

/// A folded word with British spellings made American: `colours` → `colors`,
/// `vandalised` → `vandalized`. Both sides of every comparison go through it, so a
/// rule that also touches a word with no other spelling does no harm.
fn americanise(w: &str) -> std::borrow::Cow<'_, str> {
    if let Some(&(_, us)) = SPELLINGS.iter().find(|(gb, _)| *gb == w) {
        return us.into();
    }
    // colour, behaviours, favoured, favourite, neighbouring
    for end in [
        "our", "ours", "oured", "ouring", "ourite", "ourable", "ourably", "ourful",
    ] {
        if let Some(stem) = w.strip_suffix(end) {
            if stem.len() >= 3 && !stem.ends_with(['e', 'o', 'y']) {
                return format!("{stem}o{}", &end[2..]).into();
            }
        }
    }
    // organise, organised, organisation, vandalising
    for end in [
        "ise", "ised", "ises", "ising", "isation", "isations", "iser", "isers",
    ] {
        if let Some(stem) = w.strip_suffix(end) {
            if stem.len() >= 4 {
                return format!("{stem}iz{}", &end[2..]).into();
            }
        }
    }
    w.into()
}

/// A folded word as compared: American spelling, then its Snowball stem.
pub fn stem(folded: &str) -> String {
    let us = americanise(folded);
    if us.bytes().any(|b| b.is_ascii_digit()) {
        return us.into_owned();
    }
    STEMMER.stem(&us).into_owned()
}

/// One token of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Byte range in the text.
    pub range: Range<usize>,
    /// The whole token folded, connectors dropped: `us`, `f16`, `100000`, `obrien`,
    /// `ceasefire` (from `cease-fire`).
    pub folded: String,
    /// For a hyphenated word, its parts folded: `cease`, `fire`.
    pub parts: Vec<String>,
}

fn dash(c: char) -> bool {
    matches!(c, '-' | '–' | '‐' | '‑')
}

fn apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’')
}

/// A piece of text folded and run together: `O'Brien` → `obrien`, `Erdoğan` →
/// `erdogan`. ASCII needs no transliteration.
fn squash(raw: &str) -> String {
    if raw.is_ascii() {
        raw.bytes()
            .filter(u8::is_ascii_alphanumeric)
            .map(|b| char::from(b.to_ascii_lowercase()))
            .collect()
    } else {
        fold(raw).split(' ').collect()
    }
}

/// Tokens of a text: runs of letters and digits, joined across a hyphen or dash
/// between two of them, a dot after a single letter (`U.S.`), a comma or colon
/// between digits (`100,000`, `8:30`) and an apostrophe between letters (`O'Brien`,
/// `Turkey's`).
pub fn tokens(text: &str) -> Vec<Token> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].1.is_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        let mut j = i;
        let mut pieces: Vec<(usize, usize)> = Vec::new();
        let mut piece_start = i;
        loop {
            while j < chars.len() && chars[j].1.is_alphanumeric() {
                j += 1;
            }
            let Some(&(_, c)) = chars.get(j) else { break };
            let next = chars.get(j + 1).map(|&(_, c)| c);
            let prev = chars[j - 1].1;
            let run_len = j - piece_start;
            let joins = match next {
                Some(n) if n.is_alphanumeric() => {
                    (dash(c) && !dash(prev))
                        || (c == '.'
                            && run_len == 1
                            && prev.is_alphabetic()
                            && n.is_alphabetic()
                            && chars.get(j + 2).is_none_or(|&(_, c)| !c.is_alphanumeric()))
                        || ((c == ',' || c == ':')
                            && prev.is_ascii_digit()
                            && n.is_ascii_digit()
                            && (c == ':'
                                || (chars.len() >= j + 4
                                    && chars[j + 1..j + 4]
                                        .iter()
                                        .all(|&(_, d)| d.is_ascii_digit())
                                    && chars.get(j + 4).is_none_or(|&(_, d)| !d.is_ascii_digit()))))
                        || (apostrophe(c) && prev.is_alphabetic() && n.is_alphabetic())
                }
                _ => false,
            };
            if !joins {
                break;
            }
            if dash(c) {
                pieces.push((piece_start, j));
                piece_start = j + 1;
            }
            j += 1;
        }
        // "U.S." keeps its last dot out of the token but it is a single-letter run.
        let end_byte = chars.get(j).map_or(text.len(), |&(b, _)| b);
        let range = chars[start].0..end_byte;
        let raw = &text[range.clone()];
        let folded = squash(raw);
        let mut parts = Vec::new();
        if !pieces.is_empty() {
            pieces.push((piece_start, j));
            for (a, b) in pieces {
                let pa = chars[a].0;
                let pb = chars.get(b).map_or(text.len(), |&(x, _)| x);
                let p = squash(&text[pa..pb]);
                if !p.is_empty() {
                    parts.push(p);
                }
            }
        }
        if !folded.is_empty() {
            out.push(Token {
                range,
                folded,
                parts,
            });
        }
        i = j.max(i + 1);
    }
    out
}

/// The stemmed words of a short text (a name, a role), stop words dropped: what
/// word-set lookups compare.
pub fn key_words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for t in tokens(text).into_iter().filter(|t| !is_stop(&t.folded)) {
        out.push(stem(&t.folded));
        // A hyphenated word is also its parts: `Nagorno-Karabakh` holds `Karabakh`.
        out.extend(t.parts.iter().filter(|p| !is_stop(p)).map(|p| stem(p)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(text: &str) -> Vec<String> {
        tokens(text).into_iter().map(|t| t.folded).collect()
    }

    #[test]
    fn tokens_keep_abbreviations_numbers_and_names_whole() {
        assert_eq!(folded("the U.S. and U.K."), ["the", "us", "and", "uk"]);
        assert_eq!(folded("an F-16 jet"), ["an", "f16", "jet"]);
        assert_eq!(
            folded("a 100,000-person march, 5,000-strong"),
            ["a", "100000person", "march", "5000strong"]
        );
        assert_eq!(folded("1, 2, 3"), ["1", "2", "3"]);
        assert_eq!(folded("at 8:30 p.m."), ["at", "830", "pm"]);
        assert_eq!(folded("Robert C. O'Brien"), ["robert", "c", "obrien"]);
        assert_eq!(folded("Turkey's view"), ["turkeys", "view"]);
        assert_eq!(folded("Samtskhe–Javakheti"), ["samtskhejavakheti"]);
        assert_eq!(tokens("cease-fire")[0].parts, ["cease", "fire"]);
        assert_eq!(folded("the 2020–21 season"), ["the", "202021", "season"]);
        assert_eq!(folded("Chișinău, Ne-Yo"), ["chisinau", "neyo"]);
        assert_eq!(folded("Representatives - of"), ["representatives", "of"]);
    }

    #[test]
    fn stems_and_spellings_meet() {
        for (a, b) in [
            ("protests", "protest"),
            ("countries", "country"),
            ("embassies", "embassy"),
            ("rallies", "rally"),
            ("colours", "colors"),
            ("behaviour", "behavior"),
            ("favour", "favor"),
            ("vandalised", "vandalized"),
            ("vandalisation", "vandalized"),
            ("organised", "organized"),
            ("defence", "defense"),
            ("programme", "program"),
            ("grey", "gray"),
            ("putins", "putin"),
        ] {
            assert_eq!(stem(a), stem(b), "{a} / {b}");
        }
        assert_ne!(stem("four"), stem("for"));
        assert!(
            STOP_WORDS.windows(2).all(|w| w[0] < w[1]),
            "sorted for binary search"
        );
    }
}
