//! Pure queries over the dataset: actor and topic lookup (aliases, demonyms, roles,
//! flags, accents folded, question words ignored, plausible suggestions), the
//! statements of an actor and those that mention it, the timeline, citations and
//! search. [`Index`] is built once at start-up; every query after that is a lookup.

pub mod dates;
pub mod search;
pub mod words;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::civil::Date;

use crate::dataset::{Actor, Dataset, Precision, Statement};
use crate::text::fold;

/// A name a user may type, folded, and what it names.
#[derive(Debug, Clone)]
struct Name {
    folded: String,
    target: usize,
    /// The canonical name (not an alias).
    canonical: bool,
    /// A demonym (`Iranian`): found, unless it also begins another actor's name.
    demonym: bool,
}

/// Names with what finds them fast: an exact map, and an index of three-letter
/// pieces that narrows fuzzy matching to likely candidates.
#[derive(Debug, Default)]
struct Names {
    list: Vec<Name>,
    /// Folded name → the names (indexes into `list`) written that way.
    exact: HashMap<String, Vec<usize>>,
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
        let mut exact: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, name) in list.iter().enumerate() {
            exact.entry(name.folded.clone()).or_default().push(i);
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
    /// Several fit what was typed (a demonym that also begins a group's name, a title
    /// held by several people): the asker is asked which one.
    Ambiguous(Vec<usize>),
    /// Nothing matched; the names plausibly meant, best first.
    NotFound {
        suggestions: Vec<usize>,
    },
}

/// The words an actor can be found by: its own (name, aliases, role) and those of
/// whom it speaks for (a state's name and demonyms: `Armenian` in `Armenian prime
/// minister`), each stemmed; and its names and role as word sequences.
#[derive(Debug, Default)]
struct ActorWords {
    own: Vec<String>,
    context: Vec<String>,
    phrases: Vec<Vec<String>>,
}

/// The words a topic can be found by: those of its title and aliases.
#[derive(Debug, Default)]
struct TopicWords {
    names: Vec<String>,
}

/// A month and a day, of any year.
pub type MonthDay = (i8, i8);

/// A dated entry of the timeline for the nearest-date hints: a day, or a month or
/// year a statement is dated to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    pub from: Date,
    pub to: Date,
    pub precision: EntryPrecision,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EntryPrecision {
    Day,
    Month,
    Year,
}

/// What the dataset records on a month and day of any year ([`Index::on_this_day`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayOfYear {
    /// Statements dated to that day (alone, among several days, or in a range).
    pub on_day: Vec<usize>,
    /// Statements dated only to its month: shown, but they do not make the day one
    /// with entries (the daily post does not repeat them every day of the month).
    pub in_month: Vec<usize>,
    /// Background events: `(topic, event)` pairs.
    pub events: Vec<(usize, usize)>,
}

impl DayOfYear {
    /// Nothing is dated to the day itself.
    pub fn is_empty(&self) -> bool {
        self.on_day.is_empty() && self.events.is_empty()
    }
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
    /// Statements that name the actor, its body, officials, citizens or territory
    /// (or anyone speaking for it) without it reacting.
    mentioned: Vec<Vec<usize>>,
    actor_words: Vec<ActorWords>,
    /// Each word of a name, alias or role → the actors it is one of.
    actors_by_word: HashMap<String, Vec<u32>>,
    topic_words: Vec<TopicWords>,
    /// Flag letters (`FR`) → actor.
    flags: HashMap<String, usize>,
    /// Folded lookup names of actors → the stemmed words of their canonical name
    /// (`us` → `unit state`), for word-set lookups.
    name_words: HashMap<String, Vec<String>>,
    /// Statement indexes by citation number.
    citing: Vec<Vec<usize>>,
    /// Statements dated to exactly a day (a day, several days, or a range of days).
    by_day: BTreeMap<Date, Vec<usize>>,
    /// Statements dated to a month, in date order.
    by_month: Vec<usize>,
    /// Dates statements only mention: (first day, last day, statement).
    date_mentions: Vec<(Date, Date, usize)>,
    /// Every dated entry: days of statements and background events, and the months
    /// and years statements are dated to.
    entries: BTreeSet<Entry>,
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
            let mut push = |text: &str, canonical: bool, demonym: bool| {
                let folded = fold(text);
                if !folded.is_empty() {
                    actor_names.push(Name {
                        folded,
                        target: i,
                        canonical,
                        demonym,
                    });
                }
            };
            push(&a.name, true, false);
            for alias in &a.aliases {
                push(alias, false, false);
            }
            for d in &a.demonyms {
                push(d, false, true);
            }
        }
        let mut topic_names = Vec::new();
        for (i, t) in data.topics.iter().enumerate() {
            topic_names.push(Name {
                folded: fold(&t.title),
                target: i,
                canonical: true,
                demonym: false,
            });
            topic_names.push(Name {
                folded: fold(&t.id),
                target: i,
                canonical: false,
                demonym: false,
            });
            for alias in &t.aliases {
                topic_names.push(Name {
                    folded: fold(alias),
                    target: i,
                    canonical: false,
                    demonym: false,
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
        let mut date_mentions: Vec<(Date, Date, usize)> = Vec::new();
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
            // A mention of a body, an official or a place counts for whom it belongs to.
            for id in &s.mentions {
                if let Some(&a) = actor_by_id.get(id) {
                    for &m in &chains[a] {
                        if !owners.contains(&m) {
                            mentioned[m].push(si);
                        }
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
                match m.precision {
                    Precision::Days => {
                        for d in &m.days {
                            date_mentions.push((*d, *d, si));
                        }
                    }
                    Precision::Unknown => {}
                    _ => {
                        if let (Some(a), Some(b)) = (m.start, m.end) {
                            date_mentions.push((a, b, si));
                        }
                    }
                }
            }
        }
        for list in own.iter_mut().chain(mentioned.iter_mut()) {
            list.sort_by_key(|&i| date_key(&data.statements[i]));
            list.dedup();
        }
        by_month.sort_by_key(|&i| date_key(&data.statements[i]));
        let day_entry = |d: Date| Entry {
            from: d,
            to: d,
            precision: EntryPrecision::Day,
        };
        let mut entries: BTreeSet<Entry> = by_day.keys().copied().map(day_entry).collect();
        for &i in &by_month {
            let w = &data.statements[i].date;
            if let (Some(from), Some(to)) = (w.start, w.end) {
                entries.insert(Entry {
                    from,
                    to,
                    precision: if w.precision == Precision::Year {
                        EntryPrecision::Year
                    } else {
                        EntryPrecision::Month
                    },
                });
            }
        }
        for t in &data.topics {
            for e in &t.events {
                if matches!(e.date.precision, Precision::Day | Precision::Days) {
                    entries.extend(days_of(&e.date).into_iter().map(day_entry));
                }
            }
        }

        // Words to find actors and topics by.
        let stemmed = |text: &str| words::key_words(text);
        let mut name_words: HashMap<String, Vec<String>> = HashMap::new();
        let mut flags = HashMap::new();
        for (i, a) in data.actors.iter().enumerate() {
            let canonical = stemmed(&a.name);
            for alias in &a.aliases {
                name_words
                    .entry(fold(alias))
                    .or_insert_with(|| canonical.clone());
            }
            if let Some(f) = &a.flag {
                flags.insert(f.to_ascii_uppercase(), i);
            }
        }
        let actor_words: Vec<ActorWords> = data
            .actors
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let mut w = ActorWords::default();
                let own_texts = std::iter::once(a.name.as_str())
                    .chain(a.aliases.iter().map(String::as_str))
                    .chain(a.role.as_deref());
                for t in own_texts {
                    let ws = stemmed(t);
                    w.own.extend(ws.iter().cloned());
                    w.phrases.push(ws);
                }
                for &c in chains[i].iter().skip(1) {
                    let p = &data.actors[c];
                    for t in std::iter::once(p.name.as_str())
                        .chain(p.aliases.iter().map(String::as_str))
                        .chain(p.demonyms.iter().map(String::as_str))
                    {
                        w.context.extend(stemmed(t));
                    }
                }
                w.own.sort_unstable();
                w.own.dedup();
                w.context.sort_unstable();
                w.context.dedup();
                w
            })
            .collect();
        let mut actors_by_word: HashMap<String, Vec<u32>> = HashMap::new();
        for (i, w) in actor_words.iter().enumerate() {
            for word in &w.own {
                actors_by_word
                    .entry(word.clone())
                    .or_default()
                    .push(i as u32);
            }
        }
        let topic_words: Vec<TopicWords> = data
            .topics
            .iter()
            .map(|t| {
                let mut names: Vec<String> = std::iter::once(t.title.as_str())
                    .chain(t.aliases.iter().map(String::as_str))
                    .flat_map(stemmed)
                    .collect();
                names.sort_unstable();
                names.dedup();
                TopicWords { names }
            })
            .collect();
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
            actor_words,
            actors_by_word,
            topic_words,
            flags,
            name_words,
            citing,
            by_day,
            by_month,
            date_mentions,
            entries,
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

    /// Finds an actor as people type it: a name, alias, id, demonym or flag emoji,
    /// accents and case folded, question words and filler around it ignored
    /// (`what did Iran say`, `Russia's position`); a unique beginning of a name; or
    /// words of its name and role with those of whom it speaks for (`Armenian prime
    /// minister`, `NATO secretary general`). Several that fit are [`Lookup::Ambiguous`].
    pub fn find_actor(&self, typed: &str) -> Lookup {
        if let Some(code) = flag_code(typed) {
            return match self.flags.get(&code) {
                Some(&i) => Lookup::Found(i),
                None => Lookup::NotFound {
                    suggestions: Vec::new(),
                },
            };
        }
        // An id, as page buttons carry it.
        if let Some(i) = self.actor_index(typed.trim()) {
            return Lookup::Found(i);
        }
        let folded = fold(&strip_possessives(typed));
        if folded.is_empty() {
            return Lookup::NotFound {
                suggestions: Vec::new(),
            };
        }
        if let Some(found) = self.exact_actor(&folded) {
            return found;
        }
        let core = strip_filler(&folded);
        if core != folded && !core.is_empty() {
            if let Some(found) = self.exact_actor(&core) {
                return found;
            }
        }
        let core = if core.is_empty() {
            folded.clone()
        } else {
            core
        };
        // Words of names and roles: several that hold them all are asked about
        // (`Secretary General`, `mayor`, `Sean`).
        let fits = self.actors_by_words(&core);
        match fits[..] {
            [one] => return Lookup::Found(one),
            [_, _, ..] => return Lookup::Ambiguous(fits),
            [] => {}
        }
        // A unique beginning of a name.
        let mut prefixed: Vec<usize> = self
            .actor_names
            .list
            .iter()
            .filter(|n| n.folded.starts_with(&core) && !n.demonym)
            .map(|n| n.target)
            .collect();
        prefixed.sort_unstable();
        prefixed.dedup();
        if prefixed.len() == 1 && core.len() >= 3 {
            return Lookup::Found(prefixed[0]);
        }
        if prefixed.len() > 1 && core.len() >= 3 {
            return Lookup::Ambiguous(self.by_weight(prefixed));
        }
        Lookup::NotFound {
            suggestions: suggest(&self.actor_names, &core, 5, |i| self.own[i].len()),
        }
    }

    /// Most quoted first.
    fn by_weight(&self, mut list: Vec<usize>) -> Vec<usize> {
        list.sort_by(|&a, &b| {
            self.own[b]
                .len()
                .cmp(&self.own[a].len())
                .then(self.data.actors[a].name.cmp(&self.data.actors[b].name))
        });
        list
    }

    /// A name, alias, id or demonym written exactly so (folded).
    fn exact_actor(&self, folded: &str) -> Option<Lookup> {
        let hits = self.actor_names.exact.get(folded)?;
        let mut targets: Vec<usize> = hits
            .iter()
            .map(|&n| self.actor_names.list[n].target)
            .collect();
        targets.sort_unstable();
        targets.dedup();
        if targets.len() > 1 {
            return Some(Lookup::Ambiguous(self.by_weight(targets)));
        }
        let target = targets[0];
        let demonym_only = hits.iter().all(|&n| self.actor_names.list[n].demonym);
        if !demonym_only {
            return Some(Lookup::Found(target));
        }
        // A demonym that begins the name of someone who does not speak for the state
        // (`Azerbaijani` → Azerbaijan, or Azerbaijani communities?): ask.
        let lead = format!("{folded} ");
        let mut others: Vec<usize> = self
            .actor_names
            .list
            .iter()
            .filter(|n| {
                n.canonical
                    && n.target != target
                    && n.folded.starts_with(&lead)
                    && !self.speaks_for_chain(n.target).contains(&target)
            })
            .map(|n| n.target)
            .collect();
        if others.is_empty() {
            return Some(Lookup::Found(target));
        }
        others = self.by_weight(others);
        others.insert(0, target);
        Some(Lookup::Ambiguous(others))
    }

    /// The actor and whom it speaks for, nearest first.
    fn speaks_for_chain(&self, mut i: usize) -> Vec<usize> {
        let mut out = vec![i];
        while let Some(p) = self.data.actors[i]
            .speaks_for
            .as_deref()
            .and_then(|p| self.actor_index(p))
        {
            if out.contains(&p) {
                break;
            }
            out.push(p);
            i = p;
        }
        out
    }

    /// The actors whose words hold every word typed: at least one of their own (name,
    /// alias, role), the rest maybe of whom they speak for. Those where the typed
    /// words stand side by side in a name or role win over the others.
    fn actors_by_words(&self, folded: &str) -> Vec<usize> {
        let typed = self.query_words(folded);
        if typed.is_empty() {
            return Vec::new();
        }
        let mut candidates: Vec<usize> = typed
            .iter()
            .filter_map(|t| self.actors_by_word.get(t))
            .flatten()
            .map(|&i| i as usize)
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let mut fits: Vec<(bool, usize)> = Vec::new();
        for i in candidates {
            let w = &self.actor_words[i];
            let own = |t: &String| w.own.binary_search(t).is_ok();
            let ctx = |t: &String| w.context.binary_search(t).is_ok();
            if typed.iter().any(own) && typed.iter().all(|t| own(t) || ctx(t)) {
                let own_typed: Vec<&String> = typed.iter().filter(|t| own(t)).collect();
                let side_by_side = w.phrases.iter().any(|p| {
                    p.windows(own_typed.len())
                        .any(|win| win.iter().zip(&own_typed).all(|(a, b)| a == *b))
                });
                fits.push((side_by_side, i));
            }
        }
        if fits.iter().any(|f| f.0) {
            fits.retain(|f| f.0);
        }
        self.by_weight(fits.into_iter().map(|f| f.1).collect())
    }

    /// Stemmed words of what was typed, stop words out, abbreviations spelt out
    /// (`PM` → prime minister) and a name replaced by its canonical words (`US` →
    /// United States).
    fn query_words(&self, folded: &str) -> Vec<String> {
        let mut out = Vec::new();
        for w in folded.split(' ').filter(|w| !w.is_empty()) {
            match w {
                "pm" => out.extend(["prime", "minist"].map(String::from)),
                "fm" => out.extend(["foreign", "minist"].map(String::from)),
                _ if words::is_stop(w) => {}
                _ => match self.name_words.get(w) {
                    Some(canonical) if w.len() <= 4 => out.extend(canonical.iter().cloned()),
                    _ => out.push(words::stem(w)),
                },
            }
        }
        out
    }

    /// Finds a background topic by its article's title or another name its text uses,
    /// or by the words of those in any order (`Karabakh blockade`, `Shusha cathedral`,
    /// `Russian peacekeepers`); accents, case and hyphens folded.
    pub fn find_topic(&self, typed: &str) -> Lookup {
        let folded = fold(typed);
        if folded.is_empty() {
            return Lookup::NotFound {
                suggestions: Vec::new(),
            };
        }
        if let Some(hits) = self.topic_names.exact.get(&folded) {
            return Lookup::Found(self.topic_names.list[hits[0]].target);
        }
        let typed_words = self.topic_query_words(&folded);
        if !typed_words.is_empty() {
            let fits: Vec<usize> = self
                .topic_words
                .iter()
                .enumerate()
                .filter(|(_, w)| {
                    typed_words
                        .iter()
                        .all(|alts| alts.iter().any(|t| w.names.binary_search(t).is_ok()))
                })
                .map(|(i, _)| i)
                .collect();
            match fits.len() {
                1 => return Lookup::Found(fits[0]),
                n if n > 1 => return Lookup::Ambiguous(fits),
                _ => {}
            }
        }
        Lookup::NotFound {
            suggestions: suggest(&self.topic_names, &folded, 5, |_| 0),
        }
    }

    /// Each typed word with what else it may stand for: a demonym its state
    /// (`Russian` → Russia), an abbreviation the name (`US` → United States).
    fn topic_query_words(&self, folded: &str) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        for w in folded
            .split(' ')
            .filter(|w| !w.is_empty() && !words::is_stop(w))
        {
            let mut alts = vec![words::stem(w)];
            if let Some(hits) = self.actor_names.exact.get(w) {
                for n in hits
                    .iter()
                    .map(|&n| &self.actor_names.list[n])
                    .filter(|n| n.demonym)
                {
                    alts.extend(words::key_words(&self.data.actors[n.target].name));
                }
            }
            match self.name_words.get(w) {
                // An abbreviation stands for all the words of the name.
                Some(canonical) if w.len() <= 4 => {
                    for c in canonical {
                        out.push(vec![c.clone()]);
                    }
                }
                _ => out.push(alts),
            }
        }
        out
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

    /// Statements dated only to a month or a year that overlaps `from..=to` (a day
    /// inside their month finds them too).
    pub fn statements_in_months(&self, from: Date, to: Date) -> Vec<usize> {
        self.by_month
            .iter()
            .copied()
            .filter(|&i| self.data.statements[i].date.overlaps(from, to))
            .collect()
    }

    /// Statements that mention a date inside `from..=to` (a day, a month, a year;
    /// never one coarser than what was asked: a year mentioned is not listed under
    /// each of its days), in source order.
    pub fn mentioning(&self, from: Date, to: Date) -> Vec<usize> {
        let asked = span_days(from, to);
        let mut out: Vec<usize> = self
            .date_mentions
            .iter()
            .filter(|&&(a, b, _)| a <= to && from <= b && span_days(a, b) <= asked)
            .map(|&(_, _, si)| si)
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

    /// The nearest entries before `from` and after `to`: a day, or the month or
    /// year a statement is dated to.
    pub fn nearest_entries(&self, from: Date, to: Date) -> (Option<Entry>, Option<Entry>) {
        let before = self
            .entries
            .iter()
            .filter(|e| e.to < from)
            .max_by_key(|e| (e.to, e.from));
        let after = self
            .entries
            .iter()
            .filter(|e| e.from > to)
            .min_by_key(|e| (e.from, e.to));
        (before.copied(), after.copied())
    }

    /// The nearest days of the year (any year) before and after `month`-`day` that
    /// have entries: `(month, day)` pairs, wrapping round the year.
    pub fn nearest_days_of_year(&self, month: i8, day: i8) -> (Option<MonthDay>, Option<MonthDay>) {
        let mut days: Vec<(i8, i8)> = self
            .entries
            .iter()
            .filter(|e| e.precision == EntryPrecision::Day)
            .map(|e| (e.from.month(), e.from.day()))
            .collect();
        days.sort_unstable();
        days.dedup();
        let here = (month, day);
        let before = days
            .iter()
            .rev()
            .find(|d| **d < here)
            .or_else(|| days.last())
            .copied();
        let after = days
            .iter()
            .find(|d| **d > here)
            .or_else(|| days.first())
            .copied();
        (before, after)
    }

    /// What the dataset records on a month and day of any year, in date order: the
    /// statements dated to that day, those dated only to its month (they may or may not
    /// be of that day), and the background events.
    pub fn on_this_day(&self, month: i8, day: i8) -> DayOfYear {
        let same = |d: &Date| d.month() == month && d.day() == day;
        let mut on_day: Vec<usize> = self
            .by_day
            .iter()
            .filter(|(d, _)| same(d))
            .flat_map(|(_, v)| v.iter().copied())
            .collect();
        on_day.sort_by_key(|&i| date_key(&self.data.statements[i]));
        on_day.dedup();
        let in_month: Vec<usize> = self
            .by_month
            .iter()
            .copied()
            .filter(|&i| {
                let w = &self.data.statements[i].date;
                w.precision == Precision::Month && w.start.is_some_and(|d| d.month() == month)
            })
            .collect();
        let mut events = Vec::new();
        for (ti, t) in self.data.topics.iter().enumerate() {
            for (ei, e) in t.events.iter().enumerate() {
                if !is_year_span(&e.date) && days_of(&e.date).iter().any(same) {
                    events.push((ti, ei));
                }
            }
        }
        events.sort_by_key(|&(t, e)| self.data.topics[t].events[e].date.start);
        DayOfYear {
            on_day,
            in_month,
            events,
        }
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

    /// What to show beside an actor's name, in the source's words only: its role or
    /// description when the source gives one, else nothing.
    pub fn describe(&self, actor: usize) -> Option<&str> {
        self.data.actors[actor].role.as_deref()
    }

    /// Whether the words typed occur in the text (statements, background, reference
    /// list): then a `/search` for them finds something.
    pub fn in_text(&self, typed: &str) -> bool {
        self.search.knows(typed)
    }
}

/// How many days a span holds.
fn span_days(from: Date, to: Date) -> i64 {
    (to - from).get_days() as i64 + 1
}

/// `🇫🇷` → `FR`: the two regional-indicator letters of a flag emoji.
fn flag_code(typed: &str) -> Option<String> {
    let letters: Vec<char> = typed
        .trim()
        .chars()
        .filter(|c| !matches!(c, '\u{fe0f}' | ' '))
        .collect();
    if letters.len() != 2 {
        return None;
    }
    letters
        .iter()
        .map(|&c| {
            let n = c as u32;
            (0x1F1E6..=0x1F1FF)
                .contains(&n)
                .then(|| char::from(b'A' + (n - 0x1F1E6) as u8))
        })
        .collect()
}

/// `Russia's position` → `Russia position`: possessives cut before folding.
fn strip_possessives(typed: &str) -> String {
    typed
        .replace("'s ", " ")
        .replace("’s ", " ")
        .trim_end_matches("'s")
        .trim_end_matches("’s")
        .to_owned()
}

/// Question words and filler people type around a name, folded.
const LEADING: &[&str] = &[
    "what did",
    "what does",
    "what do",
    "what has",
    "what have",
    "what was",
    "what is",
    "what about",
    "how did",
    "how does",
    "how has",
    "how do",
    "tell me about",
    "who is",
    "who are",
    "who was",
    "show me",
    "info on",
    "info about",
    "statements of",
    "statement of",
    "statements by",
    "reaction of",
    "reactions of",
    "position of",
    "the",
];
const TRAILING: &[&str] = &[
    "say",
    "said",
    "says",
    "think",
    "thinks",
    "thought",
    "react",
    "reacted",
    "reaction",
    "reactions",
    "response",
    "responses",
    "position",
    "positions",
    "stance",
    "view",
    "views",
    "statement",
    "statements",
    "pls",
    "plz",
    "please",
    "stand",
    "on this",
    "about this",
    "about it",
    "on the war",
    "on the conflict",
];

/// A folded query with leading question words and trailing filler removed.
fn strip_filler(folded: &str) -> String {
    let mut s = folded.trim().to_owned();
    loop {
        let before = s.clone();
        for lead in LEADING {
            if let Some(rest) = s.strip_prefix(lead).and_then(|r| r.strip_prefix(' ')) {
                s = rest.trim().to_owned();
            }
        }
        for trail in TRAILING {
            if let Some(rest) = s.strip_suffix(trail).and_then(|r| r.strip_suffix(' ')) {
                s = rest.trim().to_owned();
            }
        }
        if s == before {
            return s;
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

/// How many edits a name may be from what was typed and still be plausibly meant.
fn edits_allowed(len: usize) -> usize {
    match len {
        0..=7 => 1,
        8..=12 => 2,
        _ => 3,
    }
}

/// Close spellings, best first: names (or a word of a name, four letters or more)
/// within a few edits of what was typed (`Isreal` → Israel, `Lavarov` → Lavrov), or
/// that it begins. Names merely sharing letters (`Spain` → SpaceX) are not offered.
fn suggest(names: &Names, folded: &str, n: usize, weight: impl Fn(usize) -> usize) -> Vec<usize> {
    let mut counts = vec![0u16; names.list.len()];
    for g in trigrams(folded) {
        for &i in names.grams.get(&g).map_or(&[][..], Vec::as_slice) {
            counts[i as usize] += 1;
        }
    }
    let mut candidates: Vec<usize> = (0..names.list.len()).filter(|&i| counts[i] > 0).collect();
    candidates.sort_unstable_by(|&a, &b| counts[b].cmp(&counts[a]));
    candidates.truncate(20);
    let allowed = edits_allowed(folded.chars().count());
    let mut scored: Vec<(usize, usize, usize)> = candidates
        .into_iter()
        .filter_map(|i| {
            let name = &names.list[i];
            // Only strings within `allowed` letters of the typed length can be within
            // `allowed` edits: the others are not measured.
            let near = |w: &str| w.len().abs_diff(folded.len()) <= allowed;
            let edits = std::iter::once(name.folded.as_str())
                .chain(name.folded.split(' ').filter(|w| w.len() >= 4))
                .filter(|w| near(w))
                .map(|w| strsim::osa_distance(folded, w))
                .min()
                .unwrap_or(usize::MAX);
            let begins = folded.len() >= 3 && name.folded.starts_with(folded);
            // People rarely mistype the first letter: a name that starts otherwise is
            // not what they meant.
            let same_start = name
                .folded
                .split(' ')
                .any(|w| w.as_bytes().first() == folded.as_bytes().first());
            ((edits <= allowed && same_start) || begins).then(|| {
                (
                    if begins { 0 } else { edits },
                    name.target,
                    weight(name.target),
                )
            })
        })
        .collect();
    scored.sort_by(|a, b| a.0.cmp(&b.0).then(b.2.cmp(&a.2)).then(a.1.cmp(&b.1)));
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
            Lookup::Ambiguous(list) => format!(
                "which: {}",
                list.iter()
                    .map(|&i| ix.actor(i).name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
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
    fn demonyms_roles_flags_and_filler_find_actors() {
        let ix = index();
        for (typed, expected) in [
            ("Iranian", "Iran"),
            ("russian", "Russia"),
            ("French", "France"),
            ("Lebanese", "Lebanese activists"),
            ("Armenian prime minister", "Nikol Pashinyan"),
            ("Armenian PM", "Nikol Pashinyan"),
            ("Greek FM", "Nikos Dendias"),
            ("Israeli defense minister", "Benny Gantz"),
            ("US Secretary of State", "Mike Pompeo"),
            ("Putin's press secretary", "Dmitry Peskov"),
            ("supreme leader", "Ali Khamenei"),
            ("🇫🇷", "France"),
            ("🇪🇺", "European Union"),
            ("what did Iran say", "Iran"),
            ("Russia's position", "Russia"),
            ("how did the EU react", "European Union"),
            ("Albania pls", "Albania"),
            ("Kremlin", "Russia"),
            ("Pashinian", "Nikol Pashinyan"),
            ("Schumer", "Chuck Schumer"),
        ] {
            assert_eq!(name(&ix, ix.find_actor(typed)), expected, "{typed}");
        }
    }

    #[test]
    fn ambiguous_names_ask_which_one() {
        let ix = index();
        for (typed, expected) in [
            ("Azerbaijani", "which: Azerbaijan, Azerbaijani communities"),
            ("Turkish", "which: Turkey, Turkish communities"),
            ("Sean", "which: Big Sean, Sean Penn"),
        ] {
            assert_eq!(name(&ix, ix.find_actor(typed)), expected, "{typed}");
        }
        let got = name(&ix, ix.find_actor("foreign minister"));
        for who in ["Sergei Lavrov", "Nikos Dendias", "Jean-Yves Le Drian"] {
            assert!(got.starts_with("which:") && got.contains(who), "{got}");
        }
        assert!(
            !got.contains("Lemoyne"),
            "the words are not side by side in his role"
        );
    }

    #[test]
    fn suggestions_are_plausible_only() {
        let ix = index();
        assert_eq!(name(&ix, ix.find_actor("Isreal")), "none: Israel");
        assert_eq!(name(&ix, ix.find_actor("Spain")), "none: ");
        assert_eq!(name(&ix, ix.find_actor("Macron")), "none: ");
        assert!(ix.in_text("Spain") && ix.in_text("Tabriz") && !ix.in_text("Macron"));
    }

    #[test]
    fn mentions_roll_up_to_the_state() {
        let ix = index();
        let cites = |actor: &str| -> Vec<u16> {
            ix.mentions_of(ix.actor_index(actor).unwrap())
                .iter()
                .flat_map(|&i| ix.data.statements[i].citations.clone())
                .collect()
        };
        // The French Senate's vote, under France; "Copenhagen, Denmark".
        assert!(cites("france").contains(&227));
        assert!(cites("denmark").contains(&176));
        assert!(cites("turkey").contains(&40));
    }

    #[test]
    fn topics_by_the_words_of_their_names() {
        let ix = index();
        let title = |typed: &str| match ix.find_topic(typed) {
            Lookup::Found(i) => ix.data.topics[i].title.clone(),
            other => format!("{other:?}"),
        };
        assert_eq!(title("Karabakh blockade"), "Blockade of Nagorno-Karabakh");
        assert_eq!(
            title("Shusha cathedral"),
            "2020 Ghazanchetsots Cathedral shelling"
        );
        assert_eq!(
            title("Russian peacekeepers"),
            "Peacekeeping operations in Nagorno-Karabakh"
        );
        assert_eq!(
            title("Artsakh–US relations"),
            "Artsakh–United States relations"
        );
        assert!(matches!(
            ix.find_topic("44 day war"),
            Lookup::NotFound { .. }
        ));
        assert!(matches!(
            ix.find_topic("First Nagorno-Karabakh War"),
            Lookup::NotFound { .. }
        ));
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
