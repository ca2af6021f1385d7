//! The hand-kept curation file (`data/curation.toml`): what no rule can know.

use serde::Deserialize;

use karabakh_core::dataset::{ActorKind, Theme};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Curation {
    pub source: SourceMeta,
    pub article: Article,
    #[serde(rename = "topic")]
    pub topics: Vec<TopicDef>,
    pub debris: Debris,
    #[serde(rename = "actor")]
    pub actors: Vec<ActorDef>,
    #[serde(rename = "statement", default)]
    pub statements: Vec<StatementFix>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceMeta {
    pub title: String,
    pub url: String,
    pub licence: String,
    pub licence_url: String,
}

/// Rules for lines holding the article's reactions.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Article {
    /// First and last line (1-based, inclusive).
    pub lines: [u32; 2],
    /// The year of a date written without one ("On 5 October").
    pub default_year: i16,
    /// End a statement after the citation group holding one of these numbers even
    /// though the sentence goes on: the next words belong to another actor.
    pub split_after: Vec<u16>,
    /// Words that end the subject of a sentence: the actors named before the first of
    /// them reacted; the rest are mentioned.
    pub subject_verbs: Vec<String>,
    /// Phrases that contain an actor's name but do not name the actor ("East Azerbaijan").
    pub not_actors: Vec<String>,
    #[serde(rename = "list")]
    pub lists: Vec<ListRule>,
    #[serde(rename = "theme")]
    pub themes: Vec<ThemeRange>,
}

/// A sentence that lists several actors, each followed by its own citations: every
/// item becomes a statement that quotes the lead, its item and the tail.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListRule {
    /// Text at the start of the list sentence, up to its first item (may be empty
    /// when `at` locates the sentence).
    pub lead: String,
    /// Where the sentence starts, when `lead` is empty.
    #[serde(default)]
    pub at: Option<String>,
    /// The items are places or targets the lead's actors speak of, not actors.
    #[serde(default)]
    pub items_are_mentions: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThemeRange {
    pub lines: [u32; 2],
    pub theme: Theme,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicDef {
    pub line: u32,
    /// The title of the Wikipedia article whose lead the line is.
    pub title: String,
    /// Other names the lead itself uses for its subject, word for word.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The year of a date written without one in this summary.
    #[serde(default)]
    pub year: Option<i16>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Debris {
    pub lines: [u32; 2],
    /// Citation-template warnings: cut from a line before anything is kept.
    pub warnings: Vec<String>,
    #[serde(rename = "excerpt")]
    pub excerpts: Vec<ExcerptDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExcerptDef {
    pub line: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActorDef {
    pub name: String,
    pub kind: ActorKind,
    /// Names as the source writes them: found in statements, and accepted in lookups.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Further names accepted in lookups only (demonyms, abbreviations, spellings).
    #[serde(default)]
    pub lookup: Vec<String>,
    /// Canonical name of the actor this one speaks for or belongs to.
    #[serde(default)]
    pub speaks_for: Option<String>,
    /// A person's role, or how the source describes the actor, in the source's words.
    #[serde(default)]
    pub role: Option<String>,
    /// Adjectives for a state a user may type (`Iranian`): lookups only.
    #[serde(default)]
    pub demonyms: Vec<String>,
    /// The two letters of its flag emoji (`FR`).
    #[serde(default)]
    pub flag: Option<String>,
    /// Words of the source that name the actor's body, officials, citizens or
    /// territory (`Tehran`, `French Ambassador`, `British Azerbaijanis`): a statement
    /// holding one mentions the actor (it never makes it a speaker).
    #[serde(default)]
    pub mentioned_as: Vec<String>,
}

/// A correction to one statement, found by a phrase unique to it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementFix {
    /// Words that appear once in lines of the article, inside this statement.
    pub at: String,
    /// Who reacted (canonical names); replaces what the rules found.
    #[serde(default)]
    pub actors: Option<Vec<String>>,
    #[serde(default)]
    pub theme: Option<Theme>,
    /// Actors (canonical names) the statement speaks of without naming them ("both
    /// sides", "he"): added to its mentions.
    #[serde(default)]
    pub mentions: Vec<String>,
    /// Why, for the reader of this file (required: a correction explains itself).
    #[allow(dead_code)]
    pub why: String,
}
