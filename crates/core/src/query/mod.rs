//! Pure queries over the dataset: actor and topic lookup (aliases, accents folded,
//! fuzzy suggestions), the statements of an actor, the timeline, citations and
//! search. [`Index`] is built once at start-up; every query after that is a lookup.

pub mod dates;
pub mod search;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::civil::Date;

use crate::dataset::{Actor, ActorKind, Dataset, Precision, Statement};
use crate::text::fold;

/// A name a user may type, folded, and what it names.
#[derive(Debug, Clone)]
struct Name {
    folded: String,
    target: usize,
    /// The canonical name (not an alias).
    canonical: bool,
}

/// Names with what finds them fast: an exact map, and an index of three-letter
/// pieces that narrows fuzzy matching to likely candidates.
#[derive(Debug, Default)]
struct Names {
    list: Vec<Name>,
    exact: HashMap<String, usize>,
    grams: HashMap<[u8; 3], Vec<u32>>,
    /// Every name and every later word of a name to its end, sorted: what starts
    /// with the typed text is found by binary search. `(text, name, tier)`: tier 0 a
    /// canonical name, 1 an alias, 2 a later word.
    starts: Vec<(String, u32, u8)>,
}

/// The three-byte pieces of a folded name, padded so that its start and end count.
fn trigrams(folded: &str) -> Vec<[u8; 3]> {
    let padded = format!(" {folded} ");
    let mut out: Vec<[u8; 3]> = padded
        .as_bytes()
        .windows(3)
        .map(|w| [w[0], w[1], w[2]])
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

impl Names {
    fn new(list: Vec<Name>) -> Self {
        let mut exact = HashMap::new();
        // Canonical names win over aliases that fold the same way.
        for name in list
            .iter()
            .filter(|n| !n.canonical)
            .chain(list.iter().filter(|n| n.canonical))
        {
            exact.insert(name.folded.clone(), name.target);
        }
        let mut grams: HashMap<[u8; 3], Vec<u32>> = HashMap::new();
        let mut starts = Vec::new();
        for (i, name) in list.iter().enumerate() {
            for g in trigrams(&name.folded) {
                grams.entry(g).or_default().push(i as u32);
            }
            starts.push((
                name.folded.clone(),
                i as u32,
                if name.canonical { 0 } else { 1 },
            ));
            for (k, _) in name.folded.match_indices(' ') {
                starts.push((name.folded[k + 1..].to_owned(), i as u32, 2));
            }
        }
        starts.sort_unstable();
        Self {
            list,
            exact,
            grams,
            starts,
        }
    }
}

/// What a lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found(usize),
    /// Nothing matched; the closest names, best first.
    NotFound {
        suggestions: Vec<usize>,
    },
}

/// The dataset and the indexes every query uses.
#[derive(Debug)]
pub struct Index {
    pub data: Dataset,
    actor_names: Names,
    topic_names: Names,
    /// Actors by how much they said: the suggestions before anything is typed.
    popular: Vec<usize>,
    /// Statements each actor made, with those of the people and bodies that speak for
    /// it, in date order (undated last, in source order).
    own: Vec<Vec<usize>>,
    /// Statements that name the actor without it (or anyone speaking for it) reacting.
    mentioned: Vec<Vec<usize>>,
    /// Statement indexes by citation number.
    citing: Vec<Vec<usize>>,
    /// Statements dated to exactly a day (a day, several days, or a range of days).
    by_day: BTreeMap<Date, Vec<usize>>,
    /// Statements dated to a month, in date order.
    by_month: Vec<usize>,
    /// Statements by the days they mention.
    mentions_by_day: BTreeMap<Date, Vec<usize>>,
    /// Every day that has a dated statement or a dated background event.
    entry_days: BTreeSet<Date>,
    pub search: search::SearchIndex,
    /// Actor index by id.
    actor_by_id: HashMap<String, usize>,
}

/// Sort key: dated statements by their first day, then undated ones in source order.
fn date_key(s: &Statement) -> (Date, u32) {
    (s.date.start.unwrap_or(Date::MAX), s.order)
}

impl Index {
    pub fn new(data: Dataset) -> Self {
        let actor_by_id: HashMap<String, usize> = data
            .actors
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.clone(), i))
            .collect();

        let mut actor_names = Vec::new();
        for (i, a) in data.actors.iter().enumerate() {
            actor_names.push(Name {
                folded: fold(&a.name),
                target: i,
                canonical: true,
            });
            for alias in &a.aliases {
                actor_names.push(Name {
                    folded: fold(alias),
                    target: i,
                    canonical: false,
                });
            }
        }
        let mut topic_names = Vec::new();
        for (i, t) in data.topics.iter().enumerate() {
            topic_names.push(Name {
                folded: fold(&t.title),
                target: i,
                canonical: true,
            });
            topic_names.push(Name {
                folded: fold(&t.id),
                target: i,
                canonical: false,
            });
            for alias in &t.aliases {
                topic_names.push(Name {
                    folded: fold(alias),
                    target: i,
                    canonical: false,
                });
            }
        }

        // Who speaks for whom, transitively: an actor's own statements include those of
        // everyone whose chain reaches it.
        let chain = |mut i: usize| {
            let mut out = vec![i];
            while let Some(parent) = data.actors[i]
                .speaks_for
                .as_ref()
                .and_then(|p| actor_by_id.get(p))
            {
                if out.contains(parent) {
                    break;
                }
                out.push(*parent);
                i = *parent;
            }
            out
        };
        let chains: Vec<Vec<usize>> = (0..data.actors.len()).map(chain).collect();
        let mut own = vec![Vec::new(); data.actors.len()];
        let mut mentioned = vec![Vec::new(); data.actors.len()];
        let mut citing = vec![Vec::new(); usize::from(data.source.citations) + 1];
        let mut by_day: BTreeMap<Date, Vec<usize>> = BTreeMap::new();
        let mut by_month = Vec::new();
        let mut mentions_by_day: BTreeMap<Date, Vec<usize>> = BTreeMap::new();
        for (si, s) in data.statements.iter().enumerate() {
            let mut owners = BTreeSet::new();
            for id in &s.actors {
                if let Some(&a) = actor_by_id.get(id) {
                    owners.extend(chains[a].iter().copied());
                }
            }
            for &a in &owners {
                own[a].push(si);
            }
            for id in &s.mentions {
                if let Some(&a) = actor_by_id.get(id) {
                    if !owners.contains(&a) {
                        mentioned[a].push(si);
                    }
                }
            }
            for &n in &s.citations {
                if let Some(list) = citing.get_mut(usize::from(n)) {
                    list.push(si);
                }
            }
            match s.date.precision {
                Precision::Day | Precision::Days | Precision::Range => {
                    for d in days_of(&s.date) {
                        by_day.entry(d).or_default().push(si);
                    }
                }
                Precision::Month | Precision::Year => by_month.push(si),
                Precision::Unknown => {}
            }
            for m in &s.date_mentions {
                if matches!(m.precision, Precision::Day | Precision::Days) {
                    for d in days_of(m) {
                        mentions_by_day.entry(d).or_default().push(si);
                    }
                }
            }
        }
        for list in own.iter_mut().chain(mentioned.iter_mut()) {
            list.sort_by_key(|&i| date_key(&data.statements[i]));
            list.dedup();
        }
        by_month.sort_by_key(|&i| date_key(&data.statements[i]));
        let mut entry_days: BTreeSet<Date> = by_day.keys().copied().collect();
        for t in &data.topics {
            for e in &t.events {
                if matches!(e.date.precision, Precision::Day | Precision::Days) {
                    entry_days.extend(days_of(&e.date));
                }
            }
        }
        let search = search::SearchIndex::new(&data);
        let mut popular: Vec<usize> = (0..data.actors.len()).collect();
        popular.sort_by(|&a, &b| {
            own[b]
                .len()
                .cmp(&own[a].len())
                .then_with(|| data.actors[a].name.cmp(&data.actors[b].name))
        });
        Self {
            data,
            actor_names: Names::new(actor_names),
            topic_names: Names::new(topic_names),
            popular,
            own,
            mentioned,
            citing,
            by_day,
            by_month,
            mentions_by_day,
            entry_days,
            search,
            actor_by_id,
        }
    }

    pub fn actor(&self, i: usize) -> &Actor {
        &self.data.actors[i]
    }

    pub fn actor_index(&self, id: &str) -> Option<usize> {
        self.actor_by_id.get(id).copied()
    }

    /// The statements an actor made, its speakers' included, in date order.
    pub fn statements_of(&self, actor: usize) -> &[usize] {
        &self.own[actor]
    }

    /// The statements that name an actor without it reacting.
    pub fn mentions_of(&self, actor: usize) -> &[usize] {
        &self.mentioned[actor]
    }

    /// The statements citing `[n]`, in source order.
    pub fn citing(&self, n: u16) -> &[usize] {
        self.citing.get(usize::from(n)).map_or(&[], Vec::as_slice)
    }

    /// Finds an actor by name, alias, id or unique prefix, accents and case folded.
    pub fn find_actor(&self, typed: &str) -> Lookup {
        find(&self.actor_names, typed, |i| self.own[i].len())
    }

    /// Finds a background topic by title or alias.
    pub fn find_topic(&self, typed: &str) -> Lookup {
        find(&self.topic_names, typed, |_| 0)
    }

    /// Up to `n` actors for what has been typed so far: names starting with it first
    /// (the most quoted first), then names with a word starting with it, then names
    /// containing it, then close spellings.
    pub fn complete_actor(&self, typed: &str, n: usize) -> Vec<usize> {
        let folded = fold(typed);
        if folded.is_empty() {
            return self.popular.iter().copied().take(n).collect();
        }
        complete(&self.actor_names, &folded, n, |i| self.own[i].len())
    }

    pub fn complete_topic(&self, typed: &str, n: usize) -> Vec<usize> {
        let folded = fold(typed);
        if folded.is_empty() {
            return (0..self.data.topics.len()).take(n).collect();
        }
        complete(&self.topic_names, &folded, n, |_| 0)
    }

    /// Statements dated exactly to a day between `from` and `to`, in date order.
    pub fn statements_on(&self, from: Date, to: Date) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .by_day
            .range(from..=to)
            .flat_map(|(_, v)| v.iter().copied())
            .collect();
        out.sort_by_key(|&i| date_key(&self.data.statements[i]));
        out.dedup();
        out
    }

    /// Statements dated only to a month or a year that overlaps `from..=to`.
    pub fn statements_in_months(&self, from: Date, to: Date) -> Vec<usize> {
        self.by_month
            .iter()
            .copied()
            .filter(|&i| self.data.statements[i].date.overlaps(from, to))
            .collect()
    }

    /// Statements that mention a day between `from` and `to` (without being dated to it).
    pub fn mentioning(&self, from: Date, to: Date) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .mentions_by_day
            .range(from..=to)
            .flat_map(|(_, v)| v.iter().copied())
            .collect();
        out.sort_by_key(|&i| self.data.statements[i].order);
        out.dedup();
        out
    }

    /// Background events that fall on `from..=to`: `(topic, event)` pairs in date order.
    /// A day query finds events dated to that day or to a range of days holding it;
    /// a longer span also finds months and years that overlap it.
    pub fn events_in(&self, from: Date, to: Date) -> Vec<(usize, usize)> {
        let single_day = from == to;
        let mut out = Vec::new();
        for (ti, t) in self.data.topics.iter().enumerate() {
            for (ei, e) in t.events.iter().enumerate() {
                let hit = if single_day {
                    e.date.covers_day(from) && !is_year_span(&e.date)
                } else {
                    e.date.overlaps(from, to)
                };
                if hit {
                    out.push((ti, ei));
                }
            }
        }
        out.sort_by_key(|&(t, e)| (self.data.topics[t].events[e].date.start, t, e));
        out
    }

    /// The nearest days before `from` and after `to` that have entries.
    pub fn nearest_days(&self, from: Date, to: Date) -> (Option<Date>, Option<Date>) {
        let before = self.entry_days.range(..from).next_back().copied();
        let after = to
            .tomorrow()
            .ok()
            .and_then(|t| self.entry_days.range(t..).next().copied());
        (before, after)
    }

    /// Statements and background events on a month and day of any year: statement
    /// indexes and `(topic, event)` pairs, in date order.
    pub fn on_this_day(&self, month: i8, day: i8) -> (Vec<usize>, Vec<(usize, usize)>) {
        let same = |d: &Date| d.month() == month && d.day() == day;
        let mut statements: Vec<usize> = self
            .by_day
            .iter()
            .filter(|(d, _)| same(d))
            .flat_map(|(_, v)| v.iter().copied())
            .collect();
        statements.sort_by_key(|&i| date_key(&self.data.statements[i]));
        statements.dedup();
        let mut events = Vec::new();
        for (ti, t) in self.data.topics.iter().enumerate() {
            for (ei, e) in t.events.iter().enumerate() {
                if !is_year_span(&e.date) && days_of(&e.date).iter().any(same) {
                    events.push((ti, ei));
                }
            }
        }
        events.sort_by_key(|&(t, e)| self.data.topics[t].events[e].date.start);
        (statements, events)
    }

    /// The first and last days of dated statements, and of background events.
    pub fn coverage(&self) -> Coverage {
        let statements = (
            self.by_day.keys().next().copied(),
            self.by_day.keys().next_back().copied(),
        );
        let month_ends = self
            .by_month
            .iter()
            .filter_map(|&i| self.data.statements[i].date.end)
            .max();
        let last = match (statements.1, month_ends) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let events: Vec<&crate::dataset::When> = self
            .data
            .topics
            .iter()
            .flat_map(|t| t.events.iter().map(|e| &e.date))
            .collect();
        Coverage {
            statements_from: statements.0,
            statements_to: last,
            background_from: events.iter().filter_map(|w| w.start).min(),
            background_to: events.iter().filter_map(|w| w.end).max(),
        }
    }

    /// Who made a statement, as names: the actors, or nothing when the source names no one.
    pub fn speakers(&self, s: &Statement) -> Vec<&str> {
        s.actors
            .iter()
            .filter_map(|id| self.actor_index(id))
            .map(|i| self.data.actors[i].name.as_str())
            .collect()
    }

    /// The actors who speak for `actor` (directly or not) among a statement's actors:
    /// whom to name when a statement appears under a state or body.
    pub fn speakers_for(&self, s: &Statement, actor: usize) -> Vec<&str> {
        let id = &self.data.actors[actor].id;
        s.actors
            .iter()
            .filter(|a| *a != id)
            .filter_map(|a| self.actor_index(a))
            .map(|i| self.data.actors[i].name.as_str())
            .collect()
    }

    /// "state", or for a person the state or body they speak for.
    pub fn describe(&self, actor: usize) -> String {
        let a = &self.data.actors[actor];
        match (&a.speaks_for, a.kind) {
            (Some(parent), _) => match self.actor_index(parent) {
                Some(p) => self.data.actors[p].name.clone(),
                None => a.kind.label().to_owned(),
            },
            (None, ActorKind::Person) => "person".to_owned(),
            (None, kind) => kind.label().to_owned(),
        }
    }
}

/// The first and last dates the dataset covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coverage {
    pub statements_from: Option<Date>,
    pub statements_to: Option<Date>,
    pub background_from: Option<Date>,
    pub background_to: Option<Date>,
}

/// A year or span of whole years: too coarse to sit on one day of the calendar.
fn is_year_span(w: &crate::dataset::When) -> bool {
    w.precision == Precision::Year
        || (w.precision == Precision::Range
            && w.start.is_some_and(|s| s.month() == 1 && s.day() == 1)
            && w.end.is_some_and(|e| e.month() == 12 && e.day() == 31))
}

/// Every day a date names: a day, several days, or each day of a short range.
fn days_of(w: &crate::dataset::When) -> Vec<Date> {
    match w.precision {
        Precision::Day => w.start.into_iter().collect(),
        Precision::Days => w.days.clone(),
        Precision::Range if !is_year_span(w) => {
            let (Some(mut d), Some(end)) = (w.start, w.end) else {
                return Vec::new();
            };
            let mut out = Vec::new();
            while d <= end && out.len() < 366 {
                out.push(d);
                match d.tomorrow() {
                    Ok(next) => d = next,
                    Err(_) => break,
                }
            }
            out
        }
        _ => Vec::new(),
    }
}

fn find(names: &Names, typed: &str, weight: impl Fn(usize) -> usize) -> Lookup {
    let folded = fold(typed);
    if folded.is_empty() {
        return Lookup::NotFound {
            suggestions: Vec::new(),
        };
    }
    if let Some(&target) = names.exact.get(&folded) {
        return Lookup::Found(target);
    }
    let mut prefixed: Vec<usize> = names
        .list
        .iter()
        .filter(|n| n.folded.starts_with(&folded))
        .map(|n| n.target)
        .collect();
    prefixed.sort_unstable();
    prefixed.dedup();
    if prefixed.len() == 1 && folded.len() >= 3 {
        return Lookup::Found(prefixed[0]);
    }
    Lookup::NotFound {
        suggestions: suggest(names, &folded, 5, weight),
    }
}

/// Close spellings, best first: names sharing pieces with what was typed, ranked by
/// Jaro-Winkler similarity (names it begins first).
fn suggest(names: &Names, folded: &str, n: usize, weight: impl Fn(usize) -> usize) -> Vec<usize> {
    let mut counts = vec![0u16; names.list.len()];
    for g in trigrams(folded) {
        for &i in names.grams.get(&g).map_or(&[][..], Vec::as_slice) {
            counts[i as usize] += 1;
        }
    }
    let mut candidates: Vec<usize> = (0..names.list.len()).filter(|&i| counts[i] > 0).collect();
    candidates.sort_unstable_by(|&a, &b| counts[b].cmp(&counts[a]));
    candidates.truncate(40);
    let mut scored: Vec<(f64, usize, usize)> = candidates
        .into_iter()
        .map(|i| {
            let name = &names.list[i];
            let mut score = strsim::jaro_winkler(folded, &name.folded);
            if name.folded.starts_with(folded) {
                score += 1.0;
            } else if name
                .folded
                .split(' ')
                .any(|w| strsim::jaro_winkler(folded, w) > 0.9)
            {
                score = score.max(0.85);
            }
            (score, name.target, weight(name.target))
        })
        .filter(|(score, _, _)| *score >= 0.78)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.2.cmp(&a.2)).then(a.1.cmp(&b.1)));
    let mut out = Vec::new();
    for (_, target, _) in scored {
        if !out.contains(&target) {
            out.push(target);
        }
        if out.len() == n {
            break;
        }
    }
    out
}

fn complete(names: &Names, folded: &str, n: usize, weight: impl Fn(usize) -> usize) -> Vec<usize> {
    // Tiers: 0 a name starts with it, 1 an alias does, 2 a later word does, 3 a name
    // holds it inside a word (four letters or more).
    let from = names
        .starts
        .partition_point(|(s, _, _)| s.as_str() < folded);
    let mut hits: Vec<(u8, std::cmp::Reverse<usize>, usize)> = names.starts[from..]
        .iter()
        .take_while(|(s, _, _)| s.starts_with(folded))
        .map(|&(_, i, tier)| {
            let target = names.list[i as usize].target;
            (tier, std::cmp::Reverse(weight(target)), target)
        })
        .collect();
    if hits.len() < n && folded.len() >= 4 {
        for name in &names.list {
            if name.folded.contains(folded) && !name.folded.starts_with(folded) {
                hits.push((3, std::cmp::Reverse(weight(name.target)), name.target));
            }
        }
    }
    hits.sort_unstable();
    let mut out: Vec<usize> = Vec::with_capacity(n);
    for (_, _, target) in hits {
        if !out.contains(&target) {
            out.push(target);
            if out.len() == n {
                return out;
            }
        }
    }
    // Nothing written that way: offer close spellings instead.
    if out.is_empty() && folded.len() >= 3 {
        out = suggest(names, folded, n, &weight);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> Index {
        Index::new(crate::dataset::embedded().unwrap())
    }

    fn name(ix: &Index, l: Lookup) -> String {
        match l {
            Lookup::Found(i) => ix.actor(i).name.clone(),
            Lookup::NotFound { suggestions } => format!(
                "none: {}",
                suggestions
                    .iter()
                    .map(|&i| ix.actor(i).name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    #[test]
    fn actors_are_found_by_alias_accent_case_and_prefix() {
        let ix = index();
        for (typed, expected) in [
            ("Turkey", "Turkey"),
            ("türkiye", "Turkey"),
            ("Erdogan", "Recep Tayyip Erdoğan"),
            ("erdoğan", "Recep Tayyip Erdoğan"),
            ("USA", "United States"),
            ("u.s.", "United States"),
            ("America", "United States"),
            ("Britain", "United Kingdom"),
            ("Vatican", "Holy See"),
            ("OIC", "Organisation of Islamic Cooperation"),
            ("UNSC", "United Nations Security Council"),
            ("recep-tayyip-erdogan", "Recep Tayyip Erdoğan"),
            ("Stoltenb", "Jens Stoltenberg"),
            ("Kenan Imirzalioglu", "Kenan İmirzalıoğlu"),
        ] {
            assert_eq!(name(&ix, ix.find_actor(typed)), expected, "{typed}");
        }
    }

    #[test]
    fn misspellings_get_suggestions() {
        let ix = index();
        let got = name(&ix, ix.find_actor("Turky"));
        assert!(got.starts_with("none: Turkey"), "{got}");
        assert_eq!(name(&ix, ix.find_actor("")), "none: ");
    }

    #[test]
    fn completion_puts_names_that_start_with_the_text_first() {
        let ix = index();
        let got: Vec<&str> = ix
            .complete_actor("Tur", 25)
            .into_iter()
            .map(|i| ix.actor(i).name.as_str())
            .collect();
        assert_eq!(got[0], "Turkey");
        assert!(got.contains(&"Turkic Council"));
        assert!(ix.complete_actor("", 25).len() == 25);
        assert!(ix.complete_actor("zzzzzz", 25).is_empty());
    }

    #[test]
    fn people_count_under_the_state_they_speak_for() {
        let ix = index();
        let turkey = ix.actor_index("turkey").unwrap();
        let citations: Vec<Vec<u16>> = ix
            .statements_of(turkey)
            .iter()
            .map(|&i| ix.data.statements[i].citations.clone())
            .collect();
        // Turkey's own, Erdoğan's, its ambassador's and the four parties', by date.
        assert!(citations.contains(&vec![6]));
        assert!(citations.contains(&vec![29]));
        assert!(citations.contains(&vec![156, 157]));
        assert!(citations.contains(&vec![233]));
        assert_eq!(
            citations[0],
            vec![30, 31],
            "the dated statement comes first"
        );
        let canada = ix.actor_index("canada").unwrap();
        assert!(
            ix.mentions_of(canada)
                .iter()
                .any(|&i| ix.data.statements[i].citations == [33])
        );
    }
}
