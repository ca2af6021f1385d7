//! `/search query:<text>`: ranked full-text search, matches marked.

use std::ops::Range;

use super::{Call, CommandSpec, Core, Kind, OptionSpec, PRIVATE, Permission, Who};
use crate::query::search::DocRef;
use crate::reply::markdown::{bold, escape, escape_into, escape_user};
use crate::reply::{Answer, Pager};
use crate::text::{fold, plural};

pub const SPEC: CommandSpec = CommandSpec {
    name: "search",
    description: "Search the statements, background summaries and reference-list quotes for words",
    options: &[
        OptionSpec {
            name: "query",
            description: "Words to look for, e.g. ceasefire, cluster munitions, \"foreign minister\"",
            kind: Kind::Text { max_length: 80 },
            required: true,
            autocomplete: false,
        },
        PRIVATE,
    ],
    example: "/search cluster munitions",
    permission: Permission::Everyone,
    guild_only: false,
    needs_audit: false,
    run: |core, call| run(core, call).into(),
    complete: None,
    button: None,
    writing_buttons: &[],
    subcommands: &[],
};

/// How much of a background summary to show around its first match.
const WINDOW: usize = 320;

fn run(core: &Core, call: &Call) -> Answer {
    let query = call.text("query").unwrap_or_default();
    let folded = fold(&query);
    if folded.is_empty() {
        return core.notice(
            "Nothing to search for",
            "Type a word or two to search for, e.g. /search ceasefire.",
        );
    }
    let ix = &core.index;
    let hits = ix.search.search(&query);
    if hits.is_empty() {
        let only_common = crate::query::words::tokens(&query)
            .iter()
            .all(|t| crate::query::words::is_stop(&t.folded));
        let text = if only_common && !query.contains(['"', '“', '”']) {
            format!(
                "'{}' holds only common words, which search leaves out. Add a word that matters, e.g. /search the \
                 ceasefire.",
                escape_user(&query)
            )
        } else {
            format!(
                "Nothing in the dataset matches '{}'. Try fewer words, or another spelling.",
                escape_user(&query)
            )
        };
        return core.notice("No match", &text);
    }
    let argument = query.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut answer = core.new_answer(&format!("Search: {}", query.trim()));
    answer.title = format!("Search: {}", escape_user(&query));
    answer.pager = Some(Pager::new("search", argument));
    answer.intro = Some(format!(
        "{} {}, best first; matches are underlined.",
        hits.len(),
        plural(hits.len(), "result", "results")
    ));
    // A broad search matches dozens of statements: they are laid out by length, and
    // only those on the page asked for are written (below).
    let mut deferred: Vec<(usize, usize, usize)> = Vec::new();
    let marked_statement = |i: usize, marks: &[Range<usize>]| {
        let s = &ix.data.statements[i];
        // Marks add "__" on each side of a word; escaping is unchanged.
        let len = core.statement_text(i).1 + 4 * marks.len();
        (marked(&s.text, marks, 0..s.text.len()), len)
    };
    for (h, hit) in hits.iter().enumerate() {
        match hit.doc {
            DocRef::Statement(i) => {
                let len =
                    core.statement_block_len(i, core.statement_text(i).1 + 4 * hit.marks.len());
                if answer.fits_whole(None, len) {
                    answer.block_deferred(None, len);
                    deferred.push((answer.blocks.len() - 1, i, h));
                } else {
                    let marked = marked_statement(i, &hit.marks);
                    core.push_statement(&mut answer, None, i, Who::All, Some(marked));
                }
            }
            DocRef::Topic(i) => {
                let t = &ix.data.topics[i];
                let first = hit.marks.first().map_or(0, |m| m.start);
                let window = window(&t.text, first, WINDOW);
                answer.block(
                    None,
                    format!(
                        "{} · [{}]({})\n> {}",
                        bold("Background"),
                        escape(&t.title),
                        t.url,
                        marked(&t.text, &hit.marks, window)
                    ),
                );
            }
            DocRef::Excerpt(i) => {
                let x = &ix.data.excerpts[i];
                answer.block(
                    None,
                    format!(
                        "{} · a quote left in the article's reference list (it does not say which reference)\n> {}",
                        bold("Reference list"),
                        marked(&x.text, &hit.marks, 0..x.text.len())
                    ),
                );
            }
        }
    }
    for block in answer.blocks_on_page(call.page) {
        if let Ok(d) = deferred.binary_search_by_key(&block, |&(b, _, _)| b) {
            let (_, i, h) = deferred[d];
            let (text, _) =
                core.statement_block(i, Who::All, Some(marked_statement(i, &hits[h].marks)));
            answer.fill(block, text);
        }
    }
    answer
}

/// `text[window]` escaped, with the marked ranges underlined and an ellipsis where
/// the window cuts the text.
fn marked(text: &str, marks: &[Range<usize>], window: Range<usize>) -> String {
    let mut out = String::with_capacity(window.len() + 8 * marks.len() + 8);
    if window.start > 0 {
        out.push_str("… ");
    }
    let mut at = window.start;
    for m in marks
        .iter()
        .filter(|m| m.start >= window.start && m.end <= window.end)
    {
        escape_into(&mut out, &text[at..m.start]);
        out.push_str("__");
        escape_into(&mut out, &text[m.clone()]);
        out.push_str("__");
        at = m.end;
    }
    escape_into(&mut out, &text[at..window.end]);
    if window.end < text.len() {
        out.push_str(" …");
    }
    out
}

/// About `size` bytes of `text` around byte `at`, cut between words.
fn window(text: &str, at: usize, size: usize) -> Range<usize> {
    if text.len() <= size {
        return 0..text.len();
    }
    let mut start = at.saturating_sub(size / 3);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    if start > 0 {
        start = text[..start].rfind(' ').map_or(0, |i| i + 1);
    }
    let mut end = (start + size).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    if end < text.len() {
        end = text[..end].rfind(' ').filter(|&i| i > start).unwrap_or(end);
    }
    start..end
}
