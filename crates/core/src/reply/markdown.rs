//! Discord markdown: escaping, citations, dates; and turning it back into plain or
//! terminal text for the console.

use jiff::civil::Date;

use crate::dataset::{Precision, When};
use crate::text::month_name;

/// Source text made safe for Discord markdown: formatting characters are escaped,
/// so the words show exactly as the source writes them.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    escape_into(&mut out, s);
    out
}

fn special(b: u8) -> bool {
    matches!(
        b,
        b'\\' | b'*' | b'_' | b'~' | b'`' | b'|' | b'[' | b']' | b'<' | b'>' | b'#'
    )
}

/// [`escape`], appended to `out`.
pub fn escape_into(out: &mut String, s: &str) {
    let mut from = 0;
    for (i, b) in s.bytes().enumerate() {
        if special(b) {
            out.push_str(&s[from..i]);
            out.push('\\');
            from = i;
        }
    }
    out.push_str(&s[from..]);
}

/// Text a user typed, made safe to echo: escaped like source text, on one line, and
/// unable to mention anyone (`@everyone` shows as text; replies also set
/// `allowed_mentions` to nothing).
pub fn escape_user(s: &str) -> String {
    let one_line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut out = escape(one_line.trim());
    out = out.replace('@', "@\u{200b}");
    out
}

/// A citation: `[n]` linking to the article's reference list.
pub fn cite(n: u16, references_url: &str) -> String {
    format!("[\\[{n}\\]]({references_url})")
}

/// All citations of a statement, separated by spaces.
pub fn cites(numbers: &[u16], references_url: &str) -> String {
    numbers
        .iter()
        .map(|&n| cite(n, references_url))
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn bold(s: &str) -> String {
    format!("**{s}**")
}

/// "2 October 2020".
pub fn day(d: Date) -> String {
    format!("{} {} {}", d.day(), month_name(d.month()), d.year())
}

/// "25 November".
pub fn day_of_year(month: i8, day: i8) -> String {
    format!("{day} {}", month_name(month))
}

/// A date as a reader says it: "2 October 2020", "1 and 5 October 2020",
/// "January 2021", "19–20 September 2023", "2012", "1991–2023", "date not given".
pub fn date_of(w: &When) -> String {
    match (w.precision, w.start, w.end) {
        (Precision::Day, Some(d), _) => day(d),
        (Precision::Days, _, _) => {
            let days = &w.days;
            let same_month = days
                .windows(2)
                .all(|p| p[0].month() == p[1].month() && p[0].year() == p[1].year());
            match days.split_last() {
                Some((last, rest)) if same_month && !rest.is_empty() => {
                    let firsts: Vec<String> = rest.iter().map(|d| d.day().to_string()).collect();
                    format!("{} and {}", firsts.join(", "), day(*last))
                }
                _ => days
                    .iter()
                    .map(|d| day(*d))
                    .collect::<Vec<_>>()
                    .join(" and "),
            }
        }
        (Precision::Month, Some(d), _) => format!("{} {}", month_name(d.month()), d.year()),
        (Precision::Year, Some(d), _) => d.year().to_string(),
        (Precision::Range, Some(s), Some(e)) => {
            let whole_years = s.month() == 1 && s.day() == 1 && e.month() == 12 && e.day() == 31;
            if whole_years {
                format!("{}–{}", s.year(), e.year())
            } else if s.year() == e.year() && s.month() == e.month() {
                format!(
                    "{}–{} {} {}",
                    s.day(),
                    e.day(),
                    month_name(s.month()),
                    s.year()
                )
            } else {
                format!("{} – {}", day(s), day(e))
            }
        }
        _ => "Date not given".to_owned(),
    }
}

/// Turns the markdown this bot writes into text for a terminal: escapes removed,
/// citation links shown as `[n]`, bold and underline as ANSI styles when `ansi`.
pub fn to_terminal(md: &str, ansi: bool) -> String {
    let mut out = String::with_capacity(md.len());
    let chars: Vec<char> = md.chars().collect();
    let mut bold = false;
    let mut under = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '\\' if next.is_some() => {
                out.push(chars[i + 1]);
                i += 2;
                continue;
            }
            '*' if next == Some('*') => {
                bold = !bold;
                if ansi {
                    out.push_str(if bold { "\x1b[1m" } else { "\x1b[22m" });
                }
                i += 2;
                continue;
            }
            '_' if next == Some('_') => {
                under = !under;
                if ansi {
                    out.push_str(if under { "\x1b[4m" } else { "\x1b[24m" });
                }
                i += 2;
                continue;
            }
            '[' => {
                // A masked link: [text](url) → text.
                if let Some((text, url, consumed)) = masked_link(&chars[i..]) {
                    out.push_str(&to_terminal(&text, ansi));
                    // A citation shows as its number; another link keeps its address.
                    let citation = text.starts_with("\\[") && text.ends_with("\\]");
                    if !citation {
                        out.push_str(&format!(" <{url}>"));
                    }
                    i += consumed;
                    continue;
                }
            }
            '\u{200b}' | '`' => {
                i += 1;
                continue;
            }
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    out
}

/// `[text](url)` at the start of `chars`: the text, the url and how many chars it spans.
fn masked_link(chars: &[char]) -> Option<(String, String, usize)> {
    let mut depth = 0;
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 1,
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            _ => {}
        }
        i += 1;
    }
    if chars.get(i + 1) != Some(&'(') {
        return None;
    }
    let close = chars[i + 2..].iter().position(|&c| c == ')')? + i + 2;
    Some((
        chars[1..i].iter().collect(),
        chars[i + 2..close].iter().collect(),
        close + 1,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_the_words_and_stops_formatting_and_pings() {
        assert_eq!(
            escape("support[s] the *only* one"),
            "support\\[s\\] the \\*only\\* one"
        );
        let echoed = escape_user("@everyone <@123> **hi**\nthere");
        assert!(!echoed.contains("@everyone"));
        assert!(!echoed.contains('\n'));
        assert_eq!(to_terminal(&echoed, false), "@everyone <@123> **hi** there");
    }

    #[test]
    fn citations_link_and_read_back_as_numbers() {
        let md = format!(
            "Hungary stated. {}",
            cites(&[55, 56], "https://w/x#References")
        );
        assert_eq!(
            md,
            "Hungary stated. [\\[55\\]](https://w/x#References) [\\[56\\]](https://w/x#References)"
        );
        assert_eq!(to_terminal(&md, false), "Hungary stated. [55] [56]");
        assert_eq!(
            to_terminal("**2 October 2020** · __match__", false),
            "2 October 2020 · match"
        );
    }

    #[test]
    fn dates_read_naturally() {
        let d = |s: &str| s.parse::<Date>().unwrap();
        let w = |p, s: &str, e: &str, days: Vec<Date>| When {
            precision: p,
            start: Some(d(s)),
            end: Some(d(e)),
            days,
            how: crate::dataset::How::Explicit,
            phrase: None,
        };
        assert_eq!(
            date_of(&w(Precision::Day, "2020-10-02", "2020-10-02", vec![])),
            "2 October 2020"
        );
        assert_eq!(
            date_of(&w(
                Precision::Days,
                "2020-10-01",
                "2020-10-05",
                vec![d("2020-10-01"), d("2020-10-05")]
            )),
            "1 and 5 October 2020"
        );
        assert_eq!(
            date_of(&w(Precision::Month, "2021-01-01", "2021-01-31", vec![])),
            "January 2021"
        );
        assert_eq!(
            date_of(&w(Precision::Range, "2023-09-19", "2023-09-20", vec![])),
            "19–20 September 2023"
        );
        assert_eq!(
            date_of(&w(Precision::Range, "1991-01-01", "2023-12-31", vec![])),
            "1991–2023"
        );
        assert_eq!(date_of(&When::unknown()), "Date not given");
    }
}
