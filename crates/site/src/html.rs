//! HTML text: escaping, marked matches, and the Discord markdown of the bot's replies
//! turned into HTML for the embed previews (only the forms the core writes: escapes,
//! bold, underline, links, inline code and quoted lines).

use std::ops::Range;

/// Text made safe inside HTML elements and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    escape_into(&mut out, s);
    out
}

pub fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// `text` escaped, with the byte ranges `marks` in `<mark>`.
pub fn marked(text: &str, marks: &[Range<usize>]) -> String {
    let mut out = String::with_capacity(text.len() + 16 * marks.len());
    let mut at = 0;
    for m in marks {
        let (start, end) = (m.start.max(at), m.end.min(text.len()));
        if start >= end || !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            continue;
        }
        escape_into(&mut out, &text[at..start]);
        out.push_str("<mark>");
        escape_into(&mut out, &text[start..end]);
        out.push_str("</mark>");
        at = end;
    }
    escape_into(&mut out, &text[at..]);
    out
}

/// Discord markdown (as the core writes it) as HTML: paragraphs from blank lines,
/// `> ` lines as quotes, `**bold**`, `__underline__`, `` `code` ``, `[text](url)`
/// links (http and https only), `\x` as a literal `x`. Anything else is text.
pub fn markdown(md: &str) -> String {
    let mut out = String::with_capacity(md.len() + md.len() / 4);
    let mut lines = md.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with("> ") || line == ">" {
            out.push_str("<blockquote>");
            let mut first = true;
            let mut current = Some(line);
            while let Some(l) = current {
                if !first {
                    out.push_str("<br>");
                }
                first = false;
                inline(&mut out, l.strip_prefix('>').unwrap_or(l).trim_start());
                current = lines
                    .next_if(|n| n.starts_with("> ") || *n == ">")
                    .map(|n| n as &str);
            }
            out.push_str("</blockquote>");
            continue;
        }
        out.push_str("<p>");
        inline(&mut out, line);
        while let Some(next) = lines.next_if(|n| !n.trim().is_empty() && !n.starts_with("> ")) {
            out.push_str("<br>");
            inline(&mut out, next);
        }
        out.push_str("</p>");
    }
    out
}

/// One line of Discord markdown (a title, a field's name, a footer) as HTML.
pub fn inline_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    inline(&mut out, s);
    out
}

/// One line of inline markdown as HTML.
fn inline(out: &mut String, s: &str) {
    let mut open: Vec<&'static str> = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    let mut text = String::new();
    let flush = |out: &mut String, text: &mut String| {
        escape_into(out, text);
        text.clear();
    };
    while i < b.len() {
        match b[i] {
            b'\\' if i + 1 < b.len() => {
                let c = s[i + 1..].chars().next().expect("a character");
                text.push(c);
                i += 1 + c.len_utf8();
            }
            b'*' if b.get(i + 1) == Some(&b'*') => {
                flush(out, &mut text);
                toggle(out, &mut open, "strong");
                i += 2;
            }
            b'_' if b.get(i + 1) == Some(&b'_') => {
                flush(out, &mut text);
                toggle(out, &mut open, "u");
                i += 2;
            }
            b'`' => match s[i + 1..].find('`') {
                Some(end) => {
                    flush(out, &mut text);
                    out.push_str("<code>");
                    escape_into(out, &s[i + 1..i + 1 + end]);
                    out.push_str("</code>");
                    i += end + 2;
                }
                None => {
                    text.push('`');
                    i += 1;
                }
            },
            b'[' => match link_at(s, i) {
                Some((label, url, next)) => {
                    flush(out, &mut text);
                    out.push_str("<a href=\"");
                    escape_into(out, url);
                    out.push_str("\">");
                    inline(out, label);
                    out.push_str("</a>");
                    i = next;
                }
                None => {
                    text.push('[');
                    i += 1;
                }
            },
            _ => {
                let c = s[i..].chars().next().expect("a character");
                text.push(c);
                i += c.len_utf8();
            }
        }
    }
    flush(out, &mut text);
    while let Some(tag) = open.pop() {
        out.push_str("</");
        out.push_str(tag);
        out.push('>');
    }
}

fn toggle(out: &mut String, open: &mut Vec<&'static str>, tag: &'static str) {
    if open.last() == Some(&tag) {
        open.pop();
        out.push_str("</");
        out.push_str(tag);
        out.push('>');
    } else {
        open.push(tag);
        out.push('<');
        out.push_str(tag);
        out.push('>');
    }
}

/// `[label](url)` starting at byte `at`: the label (with its escapes), the URL and
/// the byte after the link. Escaped brackets (`\[`, `\]`) belong to the label.
fn link_at(s: &str, at: usize) -> Option<(&str, &str, usize)> {
    let b = s.as_bytes();
    let mut i = at + 1;
    let mut depth = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'[' => depth += 1,
            b']' if depth > 0 => depth -= 1,
            b']' => break,
            _ => {}
        }
        i += 1;
    }
    if i >= b.len() || b.get(i + 1) != Some(&b'(') {
        return None;
    }
    let label = &s[at + 1..i];
    let url_start = i + 2;
    let url_end = url_start + s[url_start..].find(')')?;
    let url = &s[url_start..url_end];
    let safe = (url.starts_with("https://") || url.starts_with("http://"))
        && !url.contains(char::is_whitespace);
    safe.then_some((label, url, url_end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn marks_are_escaped_inside_and_out() {
        let marks = [Range { start: 2, end: 5 }];
        assert_eq!(marked("a <b> c", &marks), "a <mark>&lt;b&gt;</mark> c");
        // Overlapping marks never repeat text.
        assert_eq!(
            marked("abc", &[1..2, 0..3]),
            "a<mark>b</mark><mark>c</mark>"
        );
    }

    #[test]
    fn the_cores_markdown_becomes_html() {
        let md = "**2 October 2020** · OSCE \\*Minsk\\* Group\n> said \"x\" <y> [\\[1\\]](https://en.wikipedia.org/wiki/A#References)\n\nSee `/help` and __this__.";
        assert_eq!(
            markdown(md),
            "<p><strong>2 October 2020</strong> · OSCE *Minsk* Group</p>\
             <blockquote>said &quot;x&quot; &lt;y&gt; \
             <a href=\"https://en.wikipedia.org/wiki/A#References\">[1]</a></blockquote>\
             <p>See <code>/help</code> and <u>this</u>.</p>"
        );
    }

    #[test]
    fn unsafe_links_and_unclosed_marks_stay_text() {
        assert_eq!(
            markdown("[x](javascript:alert(1)) **open"),
            "<p>[x](javascript:alert(1)) <strong>open</strong></p>"
        );
        assert_eq!(markdown("a\\"), "<p>a\\</p>");
        assert_eq!(markdown("> a\n> b"), "<blockquote>a<br>b</blockquote>");
    }
}
