//! Derives the dataset from the source text and the curation file, reproducibly.
//!
//! The article's lines are cut into *units*: the text between two citation groups
//! and the group that follows it. A unit's text is what its citations support, so a
//! statement is a run of units that ends where a sentence ends. Three kinds of
//! sentence are cut further, as the curation file says: lists ("including Argentina,
//! [66] Canada, [67] …"), where every item becomes a statement quoting the lead, the
//! item and the tail; and sentences whose next words belong to another actor
//! (`split_after`).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::Range;

use crate::curation::{ActorDef, Curation, ListRule};
use crate::dates::{self, Found};
use karabakh_core::dataset::*;
use karabakh_core::dataset::{DEBRIS, display_text, wikipedia_url};
use karabakh_core::text::{fold, markers, sentence_ends, strip_markers};

/// Why a dataset could not be built: names the curation entry or source line at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildError(pub String);

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BuildError {}

fn fail<T>(msg: impl Into<String>) -> Result<T, BuildError> {
    Err(BuildError(msg.into()))
}

/// The text before a citation group, and the group.
#[derive(Debug, Clone)]
pub(super) struct Unit {
    pub text: Range<usize>,
    /// Empty (at the line's end) for text no citation follows.
    pub group: Range<usize>,
    pub cites: Vec<u16>,
}

/// Cuts a line into units.
pub(super) fn units(line: &str) -> Vec<Unit> {
    let mut out: Vec<Unit> = Vec::new();
    let mut text_start = 0;
    let found = markers(line);
    let mut i = 0;
    while i < found.len() {
        let group_start = found[i].start;
        let mut group_end = found[i].end;
        let mut cites = vec![found[i].number];
        while i + 1 < found.len() && found[i + 1].start == group_end {
            i += 1;
            group_end = found[i].end;
            cites.push(found[i].number);
        }
        out.push(Unit {
            text: text_start..group_start,
            group: group_start..group_end,
            cites,
        });
        text_start = group_end;
        i += 1;
    }
    if !line[text_start..].trim().is_empty() {
        out.push(Unit {
            text: text_start..line.len(),
            group: line.len()..line.len(),
            cites: Vec::new(),
        });
    }
    out
}

/// Whether the sentence ends with unit `i`'s citation group.
pub(super) fn ends_sentence(line: &str, units: &[Unit], i: usize) -> bool {
    let u = &units[i];
    if u.cites.is_empty() || i + 1 == units.len() {
        return true;
    }
    let before = line[u.text.clone()].trim_end();
    let closed = before.trim_end_matches(['"', '”', '’', '\'', ')']);
    if closed.ends_with(['.', '!', '?']) {
        return true;
    }
    // A full stop the source lacks: "… used to kill Armenians [204] Kim Kardashian …".
    let next = line[units[i + 1].text.clone()].trim_start();
    before.ends_with(|c: char| c.is_alphanumeric()) && next.starts_with(|c: char| c.is_uppercase())
}

/// The byte ranges of a line's sentences, citation markers kept with the sentence
/// they follow. Used by the checks to see which statements share a sentence.
pub(super) fn sentence_ranges(line: &str) -> Vec<Range<usize>> {
    let (stripped, map) = strip_with_map(line);
    let mut bounds: Vec<usize> = sentence_ends(&stripped)
        .into_iter()
        .map(|e| map.get(e).copied().unwrap_or(line.len()))
        .collect();
    let us = units(line);
    for i in 0..us.len() {
        if !us[i].cites.is_empty() && ends_sentence(line, &us, i) {
            bounds.push(us[i].group.end);
        }
    }
    bounds.push(line.len());
    bounds.sort_unstable();
    bounds.dedup();
    let mut out = Vec::new();
    let mut start = 0;
    for b in bounds {
        if line[start..b].trim().is_empty() {
            continue;
        }
        // Markers right after a sentence's end belong to it.
        let mut end = b;
        for m in markers(line) {
            if m.start == end {
                end = m.end;
            }
        }
        if end > start {
            out.push(start..end);
            start = end;
        }
    }
    if let Some(last) = out.last_mut() {
        last.end = line.len();
    }
    out.into_iter()
        .map(|r| {
            let lead = line[r.clone()].len() - line[r.clone()].trim_start().len();
            r.start + lead..r.end
        })
        .filter(|r| !line[r.clone()].trim().is_empty())
        .collect()
}

/// The line without citation markers, and for each of its bytes (plus one past the
/// end) the matching byte of the line.
fn strip_with_map(line: &str) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(line.len());
    let mut map = Vec::with_capacity(line.len() + 1);
    let mut last = 0;
    let push = |range: Range<usize>, out: &mut String, map: &mut Vec<usize>| {
        out.push_str(&line[range.clone()]);
        map.extend(range);
    };
    for m in markers(line) {
        push(last..m.start, &mut out, &mut map);
        last = m.end;
    }
    push(last..line.len(), &mut out, &mut map);
    map.push(line.len());
    (out, map)
}

/// A quote cut from a range of a line: markers out, outer spaces and a dangling
/// comma or semicolon trimmed.
fn clean(line: &str, range: Range<usize>) -> String {
    strip_markers(&line[range])
        .trim()
        .trim_end_matches([',', ';'])
        .trim_end()
        .to_owned()
}

/// A range with its leading whitespace dropped.
fn trim_start(line: &str, r: Range<usize>) -> Range<usize> {
    let lead = line[r.clone()].len() - line[r.clone()].trim_start().len();
    r.start + lead..r.end
}

pub(super) fn slug(name: &str) -> String {
    fold(name).replace(' ', "-")
}

/// FNV-1a, 64 bits, each part followed by a 0xff: a stable content hash for the
/// dataset version.
fn fnv1a(parts: &[&[u8]]) -> u64 {
    use std::hash::Hasher;
    let mut h = fnv::FnvHasher::default();
    for part in parts {
        h.write(part);
        h.write(&[0xff]);
    }
    h.finish()
}

/// Finds actors' names in text: longest names first, whole words only.
struct Matcher {
    /// (name as written, actor index or None for a phrase that names no actor)
    patterns: Vec<(String, Option<usize>)>,
}

#[derive(Debug, Clone, Copy)]
struct Hit {
    start: usize,
    actor: Option<usize>,
}

impl Matcher {
    fn new(actors: &[ActorDef], not_actors: &[String]) -> Self {
        let mut patterns: Vec<(String, Option<usize>)> = Vec::new();
        for (i, a) in actors.iter().enumerate() {
            patterns.push((a.name.clone(), Some(i)));
            patterns.extend(a.aliases.iter().map(|s| (s.clone(), Some(i))));
        }
        patterns.extend(not_actors.iter().map(|s| (s.clone(), None)));
        patterns.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        patterns.dedup_by(|a, b| a.0 == b.0);
        Self { patterns }
    }

    fn find(&self, text: &str) -> Vec<Hit> {
        let mut taken: Vec<Range<usize>> = Vec::new();
        let mut hits = Vec::new();
        for (pattern, actor) in &self.patterns {
            for (start, _) in text.match_indices(pattern.as_str()) {
                let end = start + pattern.len();
                let before_ok = !text[..start]
                    .chars()
                    .next_back()
                    .is_some_and(char::is_alphanumeric);
                let after_ok = !text[end..]
                    .chars()
                    .next()
                    .is_some_and(char::is_alphanumeric);
                if !before_ok || !after_ok || taken.iter().any(|r| start < r.end && r.start < end) {
                    continue;
                }
                taken.push(start..end);
                hits.push(Hit {
                    start,
                    actor: *actor,
                });
            }
        }
        hits.sort_by_key(|h| h.start);
        hits
    }
}

/// A statement being built: ranges of one source line.
#[derive(Debug, Clone)]
struct Draft {
    line: usize,
    span: Range<usize>,
    parts: Vec<Range<usize>>,
    cites: Vec<u16>,
    /// Where the actors are named.
    subject: Range<usize>,
    /// Whether every actor named in `subject` reacted (a list item), rather than only
    /// those before the sentence's verb.
    subject_is_actors: bool,
}

impl Draft {
    fn from_units(line: &str, index: usize, units: &[Unit]) -> Self {
        let first = trim_start(line, units[0].text.clone());
        let last = units.last().expect("a draft has units");
        let end = if last.cites.is_empty() {
            last.text.end
        } else {
            last.group.end
        };
        let span = first.start..end;
        Draft {
            line: index,
            span: span.clone(),
            parts: std::iter::once(first.start..last.text.end).collect(),
            cites: distinct(units.iter().flat_map(|u| u.cites.iter().copied())),
            subject: span,
            subject_is_actors: false,
        }
    }
}

struct Context<'a> {
    cur: &'a Curation,
    matcher: Matcher,
    actor_ids: Vec<String>,
    by_name: HashMap<&'a str, usize>,
    verbs: Vec<&'a str>,
}

impl Context<'_> {
    /// The chain of actors `i` speaks for, nearest first.
    fn chain(&self, i: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut next = self.cur.actors[i].speaks_for.as_deref();
        while let Some(name) = next {
            let Some(&j) = self.by_name.get(name) else {
                break;
            };
            if out.contains(&j) {
                break;
            }
            out.push(j);
            next = self.cur.actors[j].speaks_for.as_deref();
        }
        out
    }

    /// Drops a state or body when one of the people who speak for it is named too.
    fn promote(&self, mut found: Vec<usize>) -> Vec<usize> {
        let all = found.clone();
        found.retain(|a| !all.iter().any(|p| p != a && self.chain(*p).contains(a)));
        found
    }

    /// The actors named before the first subject verb of the first sentence that names any.
    fn subject_actors(&self, text: &str) -> Vec<usize> {
        let hits = self.matcher.find(text);
        let mut start = 0;
        let mut ends = sentence_ends(text);
        if ends.last() != Some(&text.len()) {
            ends.push(text.len());
        }
        for end in ends {
            let sentence = &text[start..end];
            let verb_at = self
                .verbs
                .iter()
                .filter_map(|v| {
                    sentence.match_indices(v).find(|(i, _)| {
                        let before_ok = !sentence[..*i]
                            .chars()
                            .next_back()
                            .is_some_and(char::is_alphanumeric);
                        let after_ok = !sentence[i + v.len()..]
                            .chars()
                            .next()
                            .is_some_and(char::is_alphanumeric);
                        before_ok && after_ok
                    })
                })
                .map(|(i, _)| i)
                .min()
                .unwrap_or(sentence.len());
            let mut found: Vec<usize> = hits
                .iter()
                .filter(|h| h.start >= start && h.start < start + verb_at)
                .filter_map(|h| h.actor)
                .collect();
            dedup(&mut found);
            if !found.is_empty() {
                return self.promote(found);
            }
            start = end;
        }
        Vec::new()
    }

    fn all_actors(&self, text: &str) -> Vec<usize> {
        let mut found: Vec<usize> = self
            .matcher
            .find(text)
            .into_iter()
            .filter_map(|h| h.actor)
            .collect();
        dedup(&mut found);
        found
    }
}

/// Whether `text` holds `phrase` as whole words.
pub(super) fn contains_words(text: &str, phrase: &str) -> bool {
    text.match_indices(phrase).any(|(i, _)| {
        let before = !text[..i]
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric);
        let after = !text[i + phrase.len()..]
            .chars()
            .next()
            .is_some_and(char::is_alphanumeric);
        before && after
    })
}

/// The numbers in order of first appearance: "[36] [37] … [37] [38]" carries 36, 37, 38.
pub(super) fn distinct(numbers: impl IntoIterator<Item = u16>) -> Vec<u16> {
    let mut out: Vec<u16> = Vec::new();
    for n in numbers {
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

fn dedup(v: &mut Vec<usize>) {
    let mut seen = HashSet::new();
    v.retain(|x| seen.insert(*x));
}

/// Builds the dataset from the source text and the curation file's text.
pub fn build(source: &str, curation: &str) -> Result<Dataset, BuildError> {
    let cur: Curation =
        toml::from_str(curation).map_err(|e| BuildError(format!("data/curation.toml: {e}")))?;
    let lines: Vec<&str> = source
        .split('\n')
        .map(|l| l.trim_end_matches('\r'))
        .collect();
    let line = |n: u32| -> Result<&str, BuildError> {
        lines
            .get((n as usize).wrapping_sub(1))
            .copied()
            .ok_or_else(|| BuildError(format!("the source has no line {n}")))
    };

    // Actors.
    let mut actor_ids = Vec::new();
    let mut by_name = HashMap::new();
    for (i, a) in cur.actors.iter().enumerate() {
        let id = slug(&a.name);
        if actor_ids.contains(&id) {
            return fail(format!(
                "data/curation.toml: actor '{}' is listed twice",
                a.name
            ));
        }
        actor_ids.push(id);
        by_name.insert(a.name.as_str(), i);
    }
    for a in &cur.actors {
        if let Some(parent) = &a.speaks_for {
            if !by_name.contains_key(parent.as_str()) {
                return fail(format!(
                    "data/curation.toml: actor '{}' speaks for '{parent}', which is not an actor",
                    a.name
                ));
            }
        }
    }
    let ctx = Context {
        cur: &cur,
        matcher: Matcher::new(&cur.actors, &cur.article.not_actors),
        actor_ids,
        by_name,
        verbs: cur
            .article
            .subject_verbs
            .iter()
            .map(String::as_str)
            .collect(),
    };

    // Statements.
    let [first_line, last_line] = cur.article.lines;
    let mut drafts: Vec<Draft> = Vec::new();
    let mut used_lists = HashSet::new();
    for n in first_line..=last_line {
        let text = line(n)?;
        let mut line_drafts = segment(text, n as usize, &cur, &mut used_lists)?;
        drafts.append(&mut line_drafts);
    }
    for (i, rule) in cur.article.lists.iter().enumerate() {
        if !used_lists.contains(&i) {
            return fail(format!(
                "data/curation.toml: list '{}' matches no sentence",
                anchor_of(rule)
            ));
        }
    }
    let cited: HashSet<u16> = drafts
        .iter()
        .flat_map(|d| d.cites.iter().copied())
        .collect();
    for n in &cur.article.split_after {
        if !cited.contains(n) {
            return fail(format!(
                "data/curation.toml: split_after names [{n}], which no statement carries"
            ));
        }
    }

    let mut statements = Vec::with_capacity(drafts.len());
    let mut per_line: HashMap<usize, u32> = HashMap::new();
    let mut context_day: Option<(usize, jiff::civil::Date)> = None;
    for (k, d) in drafts.iter().enumerate() {
        let src = lines[d.line - 1];
        let parts: Vec<String> = d.parts.iter().map(|r| clean(src, r.clone())).collect();
        let joined = parts.join(" ");
        let subject_text = clean(src, d.subject.clone());
        let actors = if d.subject_is_actors {
            ctx.promote(ctx.all_actors(&subject_text))
        } else {
            ctx.subject_actors(&subject_text)
        };
        let nth = per_line.entry(d.line).or_insert(0);
        *nth += 1;

        // Dates: the first explicit date or relative phrase of the statement's own
        // words. A statement whose words give no date has none, even when the sentence
        // before it has one.
        if context_day.is_some_and(|(l, _)| l != d.line) {
            context_day = None;
        }
        let found = dates::scan(&joined, Some(cur.article.default_year));
        let is_date = |f: &&Found| !f.mention && !f.year_only;
        let first_date = found.iter().find(is_date);
        let first_rel = dates::relatives(&joined).into_iter().next();
        let date = match (first_date, first_rel) {
            (Some(f), Some(r)) if r.start < f.start => relative(&joined, r, context_day),
            (Some(f), _) => f.when.clone(),
            (None, Some(r)) => relative(&joined, r, context_day),
            (None, None) => When::unknown(),
        };
        // Every other date the quote names is a mention of it.
        let used = first_date.filter(|f| date == f.when).map(|f| f.start);
        let date_mentions: Vec<When> = found
            .iter()
            .filter(|f| Some(f.start) != used)
            .map(|f| f.when.clone())
            .collect();
        if let Some(last) = date.exact_days().last() {
            context_day = Some((d.line, *last));
        }

        let theme = cur
            .article
            .themes
            .iter()
            .find(|t| (t.lines[0]..=t.lines[1]).contains(&(d.line as u32)))
            .map(|t| t.theme)
            .ok_or_else(|| {
                BuildError(format!(
                    "data/curation.toml: no theme covers line {}",
                    d.line
                ))
            })?;
        let text = display_text(&parts);
        statements.push(Statement {
            id: format!("s{}.{}", d.line, nth),
            line: d.line as u32,
            span: [d.span.start as u32, d.span.end as u32],
            order: k as u32 + 1,
            parts,
            text,
            citations: d.cites.clone(),
            actors: actors.iter().map(|&i| ctx.actor_ids[i].clone()).collect(),
            mentions: Vec::new(),
            date,
            date_mentions,
            theme,
        });
    }

    // Corrections by hand, then mentions: every actor named that did not react.
    for fix in &cur.statements {
        let owners: Vec<usize> = drafts
            .iter()
            .enumerate()
            .filter(|(_, d)| clean(lines[d.line - 1], d.span.clone()).contains(&fix.at))
            .map(|(i, _)| i)
            .collect();
        let occurrences: usize = (first_line..=last_line)
            .map(|n| {
                strip_markers(lines[n as usize - 1])
                    .matches(&fix.at)
                    .count()
            })
            .sum();
        if owners.len() != 1 || occurrences != 1 {
            return fail(format!(
                "data/curation.toml: statement at '{}' must name words found once, inside one statement \
                 (found {occurrences} times, in {} statements)",
                fix.at,
                owners.len()
            ));
        }
        let s = &mut statements[owners[0]];
        if let Some(names) = &fix.actors {
            let mut ids = Vec::new();
            for name in names {
                let Some(&i) = ctx.by_name.get(name.as_str()) else {
                    return fail(format!(
                        "data/curation.toml: statement at '{}' names unknown actor '{name}'",
                        fix.at
                    ));
                };
                ids.push(ctx.actor_ids[i].clone());
            }
            s.actors = ids;
        }
        if let Some(theme) = fix.theme {
            s.theme = theme;
        }
    }
    for s in &mut statements {
        let text = s.parts.join(" ");
        let mut named = ctx.all_actors(&text);
        for (i, a) in cur.actors.iter().enumerate() {
            if a.mentioned_as.iter().any(|p| contains_words(&text, p)) && !named.contains(&i) {
                named.push(i);
            }
        }
        s.mentions = named
            .into_iter()
            .map(|i| ctx.actor_ids[i].clone())
            .filter(|id| !s.actors.contains(id))
            .collect();
    }
    for fix in cur.statements.iter().filter(|f| !f.mentions.is_empty()) {
        let Some(s) = statements
            .iter_mut()
            .find(|s| s.parts.iter().any(|p| p.contains(&fix.at)))
        else {
            return fail(format!(
                "data/curation.toml: statement at '{}' is not found",
                fix.at
            ));
        };
        for name in &fix.mentions {
            let Some(&i) = ctx.by_name.get(name.as_str()) else {
                return fail(format!(
                    "data/curation.toml: statement at '{}' mentions unknown actor '{name}'",
                    fix.at
                ));
            };
            let id = &ctx.actor_ids[i];
            if !s.mentions.contains(id) && !s.actors.contains(id) {
                s.mentions.push(id.clone());
            }
        }
    }

    let topics = build_topics(&cur, &lines)?;
    let excerpts = build_excerpts(&cur, &lines)?;

    let actors = cur
        .actors
        .iter()
        .zip(&ctx.actor_ids)
        .map(|(a, id)| {
            let mut aliases: Vec<String> = Vec::new();
            for alias in a.aliases.iter().chain(&a.lookup) {
                if alias != &a.name && !aliases.contains(alias) {
                    aliases.push(alias.clone());
                }
            }
            Actor {
                id: id.clone(),
                name: a.name.clone(),
                kind: a.kind,
                aliases,
                speaks_for: a.speaks_for.as_deref().map(slug),
                role: a.role.clone(),
                demonyms: a.demonyms.clone(),
                flag: a.flag.clone(),
            }
        })
        .collect();

    let citations = (1..=lines.len() as u32)
        .flat_map(|n| markers(lines[n as usize - 1]))
        .map(|m| m.number)
        .max()
        .unwrap_or(0);
    let hash = fnv1a(&[
        &FORMAT.to_le_bytes(),
        source.as_bytes(),
        curation.as_bytes(),
    ]);
    let dataset = Dataset {
        format: FORMAT,
        version: format!("{FORMAT}.{hash:016x}"),
        source: SourceInfo {
            title: cur.source.title.clone(),
            url: cur.source.url.clone(),
            references_url: format!("{}#References", cur.source.url),
            licence: cur.source.licence.clone(),
            licence_url: cur.source.licence_url.clone(),
            citations,
        },
        actors,
        statements,
        topics,
        excerpts,
    };
    karabakh_core::dataset::validate(&dataset)
        .map_err(|(entry, rule)| BuildError(format!("built dataset: {entry}: {rule}")))?;
    Ok(dataset)
}

fn relative(text: &str, r: dates::Relative, context: Option<(usize, jiff::civil::Date)>) -> When {
    let phrase = &text[r.start..r.end];
    context
        .and_then(|(_, day)| dates::resolve(day, r, phrase))
        .unwrap_or_else(|| When {
            phrase: Some(phrase.to_owned()),
            ..When::unknown()
        })
}

fn anchor_of(rule: &ListRule) -> &str {
    rule.at.as_deref().unwrap_or(&rule.lead)
}

/// Cuts one article line into statement drafts.
fn segment(
    text: &str,
    line_no: usize,
    cur: &Curation,
    used_lists: &mut HashSet<usize>,
) -> Result<Vec<Draft>, BuildError> {
    let mut us = units(text);
    let mut out = Vec::new();
    let mut open: Vec<Unit> = Vec::new();
    let mut i = 0;
    while i < us.len() {
        // A list sentence starts in this unit?
        let list = cur.article.lists.iter().enumerate().find(|(_, rule)| {
            let anchor = anchor_of(rule);
            text[us[i].text.clone()].contains(anchor) && !anchor.is_empty()
        });
        if let Some((rule_index, rule)) = list {
            if !open.is_empty() {
                return fail(format!(
                    "line {line_no}: list '{}' starts inside an open statement",
                    anchor_of(rule)
                ));
            }
            used_lists.insert(rule_index);
            i = list_items(text, line_no, &mut us, i, rule, &mut out)?;
            continue;
        }
        let u = us[i].clone();
        if u.cites.is_empty() {
            // Text no citation follows, at the line's end: it ends the statement before.
            if !open.is_empty() {
                open.push(u);
                out.push(Draft::from_units(text, line_no, &open));
                open.clear();
            } else if let Some(d) = out.last_mut() {
                d.span.end = u.text.end;
                d.subject.end = u.text.end;
                if let Some(p) = d.parts.last_mut() {
                    p.end = u.text.end;
                }
            } else {
                return fail(format!(
                    "line {line_no}: no citation follows any of its text"
                ));
            }
            i += 1;
            continue;
        }
        let split = u.cites.iter().any(|n| cur.article.split_after.contains(n));
        open.push(u);
        if split || ends_sentence(text, &us, i) {
            out.push(Draft::from_units(text, line_no, &open));
            open.clear();
        }
        i += 1;
    }
    if !open.is_empty() {
        out.push(Draft::from_units(text, line_no, &open));
    }
    Ok(out)
}

/// Makes one draft per item of the list sentence starting in unit `first`; returns
/// the index of the first unit after the list.
fn list_items(
    text: &str,
    line_no: usize,
    us: &mut [Unit],
    first: usize,
    rule: &ListRule,
    out: &mut Vec<Draft>,
) -> Result<usize, BuildError> {
    let anchor_at = us[first].text.start
        + text[us[first].text.clone()]
            .find(anchor_of(rule))
            .unwrap_or(0);
    let sentence_start = trim_start(text, us[first].text.start..anchor_at)
        .start
        .min(anchor_at);
    let lead = if rule.lead.is_empty() {
        anchor_at..anchor_at
    } else {
        anchor_at..anchor_at + rule.lead.len()
    };
    let items_are_actors = !rule.items_are_mentions;
    let mut items: Vec<Range<usize>> = Vec::new();
    let mut cites: Vec<Vec<u16>> = Vec::new();
    let mut tail: Option<Range<usize>> = None;
    let mut j = first;
    let next;
    loop {
        let u = &us[j];
        if u.cites.is_empty() {
            return fail(format!(
                "line {line_no}: list '{}' has an item no citation follows",
                anchor_of(rule)
            ));
        }
        let item_start = if j == first { lead.end } else { u.text.start };
        items.push(trim_start(text, item_start..u.text.end));
        cites.push(u.cites.clone());
        if ends_sentence(text, us, j) {
            next = j + 1;
            break;
        }
        let Some(after) = us.get(j + 1) else {
            next = j + 1;
            break;
        };
        let after_text = &text[after.text.clone()];
        let end_in_after = sentence_ends(after_text).into_iter().next();
        match end_in_after {
            Some(e) if after.cites.is_empty() || !after_text[e..].trim().is_empty() => {
                tail = Some(trim_start(text, after.text.start..after.text.start + e));
                let rest = after.text.start + e;
                if after.cites.is_empty() && text[rest..after.text.end].trim().is_empty() {
                    next = j + 2;
                } else {
                    us[j + 1].text = rest..after.text.end;
                    next = j + 1;
                }
                break;
            }
            _ => j += 1,
        }
    }
    let count = items.len();
    for (k, (item, item_cites)) in items.into_iter().zip(cites).enumerate() {
        let group_end = us[first + k].group.end;
        let start = if k == 0 { sentence_start } else { item.start };
        let end = if k + 1 == count {
            tail.as_ref().map_or(group_end, |t| t.end)
        } else {
            group_end
        };
        let mut parts = Vec::new();
        if k == 0 {
            parts.push(sentence_start..item.end);
        } else {
            if !lead.is_empty() {
                parts.push(sentence_start..lead.end);
            }
            parts.push(item.clone());
        }
        if let Some(t) = &tail {
            parts.push(t.clone());
        }
        let subject = if items_are_actors {
            item.clone()
        } else {
            sentence_start..lead.end
        };
        out.push(Draft {
            line: line_no,
            span: start..end,
            parts,
            cites: item_cites,
            subject,
            subject_is_actors: items_are_actors,
        });
    }
    Ok(next)
}

fn build_topics(cur: &Curation, lines: &[&str]) -> Result<Vec<Topic>, BuildError> {
    let mut topics = Vec::new();
    for def in &cur.topics {
        let Some(raw) = lines.get(def.line as usize - 1) else {
            return fail(format!(
                "data/curation.toml: topic '{}' names line {}, past the source's end",
                def.title, def.line
            ));
        };
        let text = strip_markers(raw).trim().to_owned();
        if text.is_empty() {
            return fail(format!(
                "data/curation.toml: topic '{}' names empty line {}",
                def.title, def.line
            ));
        }
        let mut events = Vec::new();
        let mut start = 0;
        for end in sentence_ends(&text).into_iter().chain([text.len()]) {
            if end <= start {
                continue;
            }
            let sentence = text[start..end].trim();
            for f in dates::scan(sentence, def.year) {
                if !f.mention {
                    events.push(TopicEvent {
                        date: f.when,
                        sentence: sentence.to_owned(),
                    });
                }
            }
            start = end;
        }
        topics.push(Topic {
            id: slug(&def.title),
            title: def.title.clone(),
            url: wikipedia_url(&def.title),
            aliases: def.aliases.clone(),
            line: def.line,
            text,
            events,
        });
    }
    Ok(topics)
}

fn build_excerpts(cur: &Curation, lines: &[&str]) -> Result<Vec<Excerpt>, BuildError> {
    let [first, last] = cur.debris.lines;
    let mut excerpts = Vec::new();
    for n in first..=last {
        let Some(raw) = lines.get(n as usize - 1) else {
            break;
        };
        let mut kept = raw.to_string();
        for w in &cur.debris.warnings {
            kept = kept.replace(w.as_str(), " ");
        }
        let kept = kept.split_whitespace().collect::<Vec<_>>().join(" ");
        let def = cur.debris.excerpts.iter().find(|e| e.line == n);
        match def {
            Some(_) if !kept.is_empty() => excerpts.push(Excerpt {
                line: n,
                text: kept,
            }),
            Some(_) => {
                return fail(format!(
                    "data/curation.toml: excerpt line {n} holds nothing but warnings"
                ));
            }
            None if kept.is_empty() => {}
            None => {
                return fail(format!(
                    "line {n} of the reference-list remains keeps text that no excerpt claims: '{kept}'"
                ));
            }
        }
    }
    for x in &excerpts {
        if let Some(junk) = DEBRIS.iter().find(|j| x.text.contains(*j)) {
            return fail(format!(
                "excerpt of line {}: debris '{junk}' survived the warnings list",
                x.line
            ));
        }
    }
    Ok(excerpts)
}
