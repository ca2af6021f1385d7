//! Discord's limits, and the one place that keeps them (`../shared/discord-facts.md`).
//!
//! Lengths are counted in UTF-16 code units, as JavaScript clients count them: never
//! fewer than Discord's "characters", so a text within these limits is within Discord's.

use super::{Button, Choice, Field, Message};

pub const TITLE: usize = 256;
pub const DESCRIPTION: usize = 4096;
pub const FIELDS: usize = 25;
pub const FIELD_NAME: usize = 256;
pub const FIELD_VALUE: usize = 1024;
pub const FOOTER: usize = 2048;
pub const AUTHOR: usize = 256;
pub const EMBED_TOTAL: usize = 6000;
pub const CHOICES: usize = 25;
pub const CHOICE_NAME: usize = 100;
pub const CHOICE_VALUE: usize = 100;
pub const CUSTOM_ID: usize = 100;
pub const BUTTON_LABEL: usize = 80;
pub const URL: usize = 512;
pub const BUTTONS_PER_ROW: usize = 5;
pub const ROWS: usize = 5;
/// The body text a page holds: below the description limit, so a page reads well
/// and the intro always fits beside it.
pub const PAGE_BODY: usize = 3500;

/// Length as Discord's limits count it: UTF-16 code units. Counted from the bytes:
/// every byte that starts a character is one unit, and a four-byte character (outside
/// the Basic Multilingual Plane) is two.
pub fn len(s: &str) -> usize {
    let four_byte = s
        .as_bytes()
        .iter()
        .fold(0usize, |n, &b| n + usize::from(b >= 0xF0));
    s.chars().count() + four_byte
}

/// How much body text a page may hold next to an intro of `intro` units.
pub fn page_budget(intro: usize) -> usize {
    PAGE_BODY.min(DESCRIPTION.saturating_sub(intro)).max(200)
}

/// The longest prefix of `s` within `max` units, cut at a character boundary.
fn prefix(s: &str, max: usize) -> &str {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        used += c.len_utf16();
        if used > max {
            return &s[..i];
        }
    }
    s
}

/// `s` shortened to `max` units, between words where it can, ending in "…".
pub fn truncate(s: &str, max: usize) -> String {
    if len(s) <= max {
        return s.to_owned();
    }
    let head = prefix(s, max.saturating_sub(1));
    let cut = match head.rfind(char::is_whitespace) {
        Some(i) if i > head.len() / 2 => &head[..i],
        _ => head,
    };
    // Never leave a dangling escape character.
    let cut = cut.trim_end().trim_end_matches('\\');
    format!("{cut}…")
}

/// `s` in pieces of at most `max` units, broken between words (a word longer than
/// a piece is broken inside). Pieces after the first start with "… " and pieces
/// before the last end with " …", so a reader sees where the text goes on.
pub fn split_words(s: &str, max: usize) -> Vec<String> {
    if len(s) <= max {
        return vec![s.to_owned()];
    }
    let room = max.saturating_sub(4).max(8);
    let mut pieces: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in s.split(' ') {
        let mut word = word;
        while len(word) > room {
            if !current.is_empty() {
                pieces.push(std::mem::take(&mut current));
            }
            let head = prefix(word, room);
            pieces.push(head.to_owned());
            word = &word[head.len()..];
        }
        let extra = if current.is_empty() { 0 } else { 1 };
        if len(&current) + extra + len(word) > room {
            pieces.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    let last = pieces.len() - 1;
    pieces
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let mut out = String::with_capacity(p.len() + 8);
            if i > 0 {
                out.push_str("… ");
            }
            out.push_str(&p);
            if i < last {
                out.push_str(" …");
            }
            out
        })
        .collect()
}

fn non_empty(s: String) -> String {
    if s.trim().is_empty() {
        "\u{200b}".to_owned()
    } else {
        s
    }
}

pub fn fields_len(fields: &[Field]) -> usize {
    fields.iter().map(|f| len(&f.name) + len(&f.value)).sum()
}

/// The message with every limit kept: titles, descriptions, fields, footer and
/// author cut to size; at most 25 fields; the embed's total within 6000; buttons
/// with valid ids and labels, at most 5 a row and 5 rows.
pub fn fit(mut m: Message) -> Message {
    let e = &mut m.embed;
    let cut = |s: &mut String, max: usize| -> usize {
        let n = len(s);
        if n <= max {
            return n;
        }
        *s = truncate(s, max);
        len(s)
    };
    let title = cut(&mut e.title, TITLE);
    let mut description = cut(&mut e.description, DESCRIPTION);
    let footer = cut(&mut e.footer, FOOTER);
    let mut author = 0;
    if let Some((mut name, url)) = e.author.take() {
        if len(&url) <= URL {
            author = cut(&mut name, AUTHOR);
            e.author = Some((name, url));
        }
    }
    e.url = e.url.take().filter(|u| len(u) <= URL);
    e.image = e.image.take().filter(|u| len(u) <= URL);
    if e.image.is_none() {
        m.chart = None;
    }
    e.fields.truncate(FIELDS);
    for f in &mut e.fields {
        f.name = non_empty(truncate(&f.name, FIELD_NAME));
        f.value = non_empty(truncate(&f.value, FIELD_VALUE));
    }
    let fixed = title + footer + author;
    while fixed + description + fields_len(&e.fields) > EMBED_TOTAL && !e.fields.is_empty() {
        e.fields.pop();
    }
    let over = (fixed + description + fields_len(&e.fields)).saturating_sub(EMBED_TOTAL);
    if over > 0 {
        e.description = truncate(&e.description, description.saturating_sub(over));
        description = len(&e.description);
    }
    debug_assert!(fixed + description + fields_len(&e.fields) <= EMBED_TOTAL);
    m.buttons.retain_mut(|b| match b {
        Button::Action { label, id, .. } => {
            *label = truncate(label, BUTTON_LABEL);
            !label.is_empty() && len(&id.to_string()) <= CUSTOM_ID
        }
        Button::Link { label, url } => {
            *label = truncate(label, BUTTON_LABEL);
            !label.is_empty() && len(url) <= URL
        }
    });
    m.buttons.truncate(BUTTONS_PER_ROW * ROWS);
    m
}

/// At most 25 suggestions, each with a name of 1–100 and a value of at most 100 units.
pub fn choices(list: Vec<Choice>) -> Vec<Choice> {
    list.into_iter()
        .filter(|c| !c.value.is_empty() && len(&c.value) <= CHOICE_VALUE)
        .map(|c| Choice {
            name: non_empty(truncate(&c.name, CHOICE_NAME)),
            value: c.value,
        })
        .take(CHOICES)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_utf16_units() {
        for s in [
            "",
            "ascii",
            "Erdoğan İmirzalıoğlu",
            "😀 emoji",
            "–—…",
            "\u{10FFFF}\u{7FF}\u{FFFF}",
        ] {
            assert_eq!(len(s), s.encode_utf16().count(), "{s}");
        }
    }

    #[test]
    fn truncation_counts_utf16_and_prefers_word_breaks() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("one two three four", 12), "one two…");
        let emoji = "😀".repeat(200);
        let cut = truncate(&emoji, TITLE);
        assert!(len(&cut) <= TITLE);
        assert!(cut.ends_with('…'));
        assert_eq!(truncate("ab\\*cd", 4), "ab…");
    }

    #[test]
    fn split_pieces_fit_and_keep_every_word() {
        let text = "alpha beta gamma delta epsilon ".repeat(50);
        let pieces = split_words(text.trim(), 100);
        assert!(pieces.iter().all(|p| len(p) <= 100));
        let rejoined: Vec<&str> = pieces
            .iter()
            .flat_map(|p| p.split(' '))
            .filter(|w| *w != "…")
            .collect();
        assert_eq!(rejoined, text.split_whitespace().collect::<Vec<_>>());
        let long = "x".repeat(1000);
        assert!(split_words(&long, 100).iter().all(|p| len(p) <= 100));
    }
}
