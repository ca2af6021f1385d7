//! Small text helpers shared by the dataset builder, the query layer and the replies.
//!
//! Nothing here knows about Discord or about the dataset's meaning: folding for
//! lookups, citation markers, where sentences end, month names, plurals and capitals.

/// The months' English names, January first.
pub const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The name of month 1–12 (out of range is clamped).
pub fn month_name(month: i8) -> &'static str {
    MONTHS[(month.clamp(1, 12) - 1) as usize]
}

/// The month a word names, 1–12: the full name or a prefix of three letters or more
/// (`sept` too), in any case.
pub fn month_number(word: &str) -> Option<i8> {
    let word = word.to_ascii_lowercase();
    if word.len() < 3 {
        return None;
    }
    let word = if word == "sept" { "sep" } else { &word };
    MONTHS
        .iter()
        .position(|m| m.to_ascii_lowercase().starts_with(word))
        .map(|i| i as i8 + 1)
}

/// `word` or `words`, by the count: `plural(1, "statement", "statements")`.
pub fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// `5000` as `5,000`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut s = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            s.push(',');
        }
        s.push(d);
    }
    s
}

/// The text with its first letter in upper case.
pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or_else(String::new, |first| first.to_uppercase().chain(c).collect())
}

/// Folds text for matching: transliterates to ASCII (so `Erdoğan` and `Erdogan`,
/// `İmirzalıoğlu` and `Imirzalioglu` meet), lower-cases, and turns every run of
/// non-alphanumeric characters into one space.
pub fn fold(s: &str) -> String {
    // deunicode spells the Azerbaijani schwa "@"; readers type "e" (Zəngilan, Zengilan).
    let s = s.replace(['ə', 'Ə'], "e");
    let ascii = deunicode::deunicode(&s);
    let mut out = String::with_capacity(ascii.len());
    let mut pending_space = false;
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c.to_ascii_lowercase());
        } else if c == '\'' {
            // "O'Brien" and "OBrien" should meet; so should "Turkey's" and "Turkeys".
        } else {
            pending_space = true;
        }
    }
    out
}

/// One `[n]` citation marker found in a line of the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    /// Byte offset of the whitespace before `[` (or of `[` itself at line start).
    pub start: usize,
    /// Byte offset just past `]`.
    pub end: usize,
    pub number: u16,
}

/// Every `[n]` marker of a line, with the whitespace before it included in its range.
pub fn markers(line: &str) -> Vec<Marker> {
    let bytes = line.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'[' {
            let digits_start = i + 1;
            let mut j = digits_start;
            while j < bytes.len() && bytes[j].is_ascii_digit() {
                j += 1;
            }
            if j > digits_start && j < bytes.len() && bytes[j] == b']' && j - digits_start <= 4 {
                let number: u16 = line[digits_start..j].parse().unwrap_or(u16::MAX);
                let mut start = i;
                while start > 0 && bytes[start - 1] == b' ' {
                    start -= 1;
                }
                found.push(Marker {
                    start,
                    end: j + 1,
                    number,
                });
                i = j + 1;
                continue;
            }
        }
        i += 1;
    }
    found
}

/// The text with every citation marker (and the space before it) removed.
pub fn strip_markers(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for m in markers(s) {
        out.push_str(&s[last..m.start]);
        last = m.end;
    }
    out.push_str(&s[last..]);
    out
}

const ABBREVIATIONS: &[&str] = &[
    "U.S", "p.m", "a.m", "D.C", "Mr", "Mrs", "Ms", "Dr", "St", "Jr", "Sr", "vs", "No", "Inc", "Co",
];

/// Byte offsets just past each sentence-final mark (`.`, `!`, `?`, with any closing
/// quotes) in plain text without citation markers. The end of the text counts as an
/// end when the text ends in such a mark.
pub fn sentence_ends(s: &str) -> Vec<usize> {
    let mut ends = Vec::new();
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut k = 0;
    while k < chars.len() {
        let (_, c) = chars[k];
        if matches!(c, '.' | '!' | '?') {
            let mut j = k + 1;
            while j < chars.len() && matches!(chars[j].1, '"' | '”' | '’' | '\'' | ')') {
                j += 1;
            }
            let end = chars.get(j).map_or(s.len(), |&(i, _)| i);
            let next_word = chars[j..]
                .iter()
                .skip_while(|(_, ch)| ch.is_whitespace())
                .map(|&(_, ch)| ch)
                .next();
            let had_space = chars.get(j).is_some_and(|&(_, ch)| ch.is_whitespace());
            let starts_sentence = next_word.is_some_and(|ch| {
                ch.is_uppercase() || ch.is_ascii_digit() || matches!(ch, '"' | '“' | '\'')
            });
            let at_end = next_word.is_none();
            if (at_end || (had_space && starts_sentence))
                && !(c == '.' && is_abbreviation(s, chars[k].0))
            {
                ends.push(end);
            }
            k = j;
            continue;
        }
        k += 1;
    }
    ends
}

/// Whether the `.` at byte `dot` closes an abbreviation or an initial ("U.S.", "C.").
fn is_abbreviation(s: &str, dot: usize) -> bool {
    let before = &s[..dot];
    let token_start = before
        .rfind(|c: char| c.is_whitespace() || c == '(' || c == '"')
        .map_or(0, |i| i + 1);
    let token = &before[token_start..];
    if token.chars().count() == 1 && token.chars().all(|c| c.is_uppercase()) {
        return true;
    }
    ABBREVIATIONS.contains(&token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_meets_accents_case_and_punctuation() {
        assert_eq!(fold("Erdoğan"), "erdogan");
        assert_eq!(fold("Kenan İmirzalıoğlu"), "kenan imirzalioglu");
        assert_eq!(fold("  U.S.  "), "u s");
        assert_eq!(fold("Robert C. O'Brien"), "robert c obrien");
        assert_eq!(fold("Šefik Džaferović"), "sefik dzaferovic");
        assert_eq!(fold("Zəngilan"), fold("Zengilan"));
    }

    #[test]
    fn months_plurals_and_capitals() {
        assert_eq!(month_name(10), "October");
        assert_eq!(month_number("oct"), Some(10));
        assert_eq!(month_number("SEPT"), Some(9));
        assert_eq!(month_number("December"), Some(12));
        assert_eq!(month_number("ju"), None);
        assert_eq!(month_number("octopus"), None);
        assert_eq!(plural(1, "day", "days"), "day");
        assert_eq!(plural(2, "day", "days"), "days");
        assert_eq!(capitalise("état"), "État");
    }

    #[test]
    fn markers_include_the_space_before_them() {
        let line = "the ceasefire [26] [27] and more. [6]";
        let found = markers(line);
        assert_eq!(
            found.iter().map(|m| m.number).collect::<Vec<_>>(),
            [26, 27, 6]
        );
        assert_eq!(&line[found[0].start..found[0].end], " [26]");
        assert_eq!(strip_markers(line), "the ceasefire and more.");
        // Brackets that are not citations stay.
        assert_eq!(
            strip_markers("that \"support[s] the\" [41]"),
            "that \"support[s] the\""
        );
    }

    #[test]
    fn sentences_end_at_marks_but_not_at_abbreviations_or_initials() {
        let s = "U.S. Secretary of State spoke. Robert C. O'Brien said \"yes.\" It ended at 8:30 p.m. local time. Done";
        let ends = sentence_ends(s);
        let pieces: Vec<&str> = ends
            .iter()
            .scan(0, |start, &e| {
                let piece = s[*start..e].trim();
                *start = e;
                Some(piece)
            })
            .collect();
        assert_eq!(
            pieces,
            [
                "U.S. Secretary of State spoke.",
                "Robert C. O'Brien said \"yes.\"",
                "It ended at 8:30 p.m. local time.",
            ]
        );
    }
}
