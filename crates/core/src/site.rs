//! The public site's addresses: one function per kind of page, used by the core (the
//! link button under each answer) and by the site (`karabakh-site`, which serves and
//! writes these very pages), so the two can never disagree. Every path starts and
//! ends with `/` (a folder, `index.html` in a static build), except the search,
//! which takes its words in the query.
//!
//! Permalinks are built from the dataset's stable ids (`s2.1`, `turkey`) and
//! numbers, never from a position in a list.

use jiff::civil::Date;

use crate::query::dates::Span;

pub const HOME: &str = "/";
pub const COMMANDS: &str = "/commands/";
pub const ACTORS: &str = "/actors/";
pub const DATES: &str = "/dates/";
pub const CITATIONS: &str = "/citations/";
pub const TOPICS: &str = "/topics/";
pub const SEARCH: &str = "/search/";
pub const ABOUT: &str = "/about/";
pub const LICENCE: &str = "/licence/";
pub const TERMS: &str = "/terms/";
pub const PRIVACY: &str = "/privacy/";

/// A command's page: its options, examples and replies.
pub fn command(name: &str) -> String {
    format!("/commands/{name}/")
}

/// One statement's permalink: `/statements/s2.1/`.
pub fn statement(id: &str) -> String {
    format!("/statements/{id}/")
}

/// An actor's page: `/actors/turkey/`.
pub fn actor(id: &str) -> String {
    format!("/actors/{id}/")
}

/// A citation's page: `/citations/55/`.
pub fn citation(n: u16) -> String {
    format!("/citations/{n}/")
}

/// A background topic's page: `/topics/madrid-principles/`.
pub fn topic(id: &str) -> String {
    format!("/topics/{id}/")
}

/// A day's page: `/dates/2020-10-02/`.
pub fn day(d: Date) -> String {
    format!("/dates/{d}/")
}

/// A month's page: `/dates/2020-10/`.
pub fn month(year: i16, month: i8) -> String {
    format!("/dates/{year:04}-{month:02}/")
}

/// A year's page: `/dates/2020/`.
pub fn year(year: i16) -> String {
    format!("/dates/{year:04}/")
}

/// What is recorded on a month and day in any year: `/onthisday/11-25/`.
pub fn on_this_day(month: i8, day: i8) -> String {
    format!("/onthisday/{month:02}-{day:02}/")
}

/// The search for `query`: `/search/?q=cluster+munitions`.
pub fn search(query: &str) -> String {
    format!("{SEARCH}?q={}", encode_query(query.trim()))
}

/// The page of a span of dates: a day, a month or a year has its own; a range is
/// shown on the smallest page that holds it (its month or its year, at its first
/// day), or else on the index of dates.
pub fn span(span: &Span) -> String {
    let (from, to) = (span.from, span.to);
    if span.is_single_day() {
        day(from)
    } else if span.is_month() {
        month(from.year(), from.month())
    } else if span.is_year() {
        year(from.year())
    } else if from.year() == to.year() && from.month() == to.month() {
        format!("{}#{}", month(from.year(), from.month()), day_anchor(from))
    } else if from.year() == to.year() {
        format!("{}#{}", year(from.year()), day_anchor(from))
    } else {
        DATES.to_owned()
    }
}

/// The anchor of a day on a month's or a year's page: `d2020-10-02`.
pub fn day_anchor(d: Date) -> String {
    format!("d{d}")
}

/// A query string value: letters, digits and `-._~` as they are, spaces as `+`,
/// everything else percent-encoded (UTF-8).
pub fn encode_query(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Reads a query string value back ([`encode_query`] and what browsers send):
/// `+` is a space, `%XX` a byte; invalid UTF-8 is replaced, a broken escape kept.
pub fn decode_query(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The value of `name` in a query string (`q=a+b&x=1`), decoded.
pub fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode_query(k) == name).then(|| decode_query(v))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn spans_go_to_the_smallest_page_that_holds_them() {
        let s = |a, b| Span { from: a, to: b };
        let d = |m, day| date(2020, m, day);
        assert_eq!(span(&s(d(10, 2), d(10, 2))), "/dates/2020-10-02/");
        assert_eq!(span(&s(d(10, 1), d(10, 31))), "/dates/2020-10/");
        assert_eq!(span(&s(d(1, 1), d(12, 31))), "/dates/2020/");
        assert_eq!(
            span(&s(d(10, 16), d(10, 18))),
            "/dates/2020-10/#d2020-10-16"
        );
        assert_eq!(span(&s(d(9, 27), d(11, 10))), "/dates/2020/#d2020-09-27");
        assert_eq!(span(&s(d(9, 27), date(2021, 1, 2))), "/dates/");
    }

    #[test]
    fn queries_round_trip() {
        for q in ["cluster munitions", "Erdoğan", "a&b=c+d%", "100% ?#/", ""] {
            let encoded = encode_query(q);
            assert!(
                encoded
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~+%".contains(&b)),
                "{encoded}"
            );
            assert_eq!(decode_query(&encoded), q);
            assert_eq!(
                query_param(&format!("x=1&q={encoded}"), "q").as_deref(),
                Some(q)
            );
        }
        assert_eq!(search(" ceasefire  "), "/search/?q=ceasefire");
        assert_eq!(decode_query("50%"), "50%");
        assert_eq!(decode_query("%zz%4"), "%zz%4");
        assert_eq!(decode_query("%FF"), "\u{FFFD}");
        assert_eq!(query_param("a=1", "q"), None);
    }
}
