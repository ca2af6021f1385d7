//! The dataset's types: what `data/reactions.json` holds.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// The format number written to and required of every dataset file.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dataset {
    pub format: u32,
    /// A content hash of the source text and the curation that produced this dataset.
    pub version: String,
    pub source: SourceInfo,
    pub actors: Vec<Actor>,
    pub statements: Vec<Statement>,
    pub topics: Vec<Topic>,
    pub excerpts: Vec<Excerpt>,
}

/// Where the text comes from and how it must be credited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceInfo {
    pub title: String,
    pub url: String,
    /// Where the reference list lives: citations link here.
    pub references_url: String,
    pub licence: String,
    pub licence_url: String,
    /// Citation numbers run from 1 to this number with no gap.
    pub citations: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    State,
    InternationalOrganisation,
    UnrecognisedState,
    Person,
    Institution,
    Legislature,
    Party,
    Organisation,
    SportsBody,
    Company,
    Community,
    Group,
}

impl ActorKind {
    pub const fn label(self) -> &'static str {
        match self {
            Self::State => "state",
            Self::InternationalOrganisation => "international organisation",
            Self::UnrecognisedState => "unrecognised state",
            Self::Person => "person",
            Self::Institution => "institution",
            Self::Legislature => "legislature",
            Self::Party => "political party",
            Self::Organisation => "organisation",
            Self::SportsBody => "sports body",
            Self::Company => "company",
            Self::Community => "community",
            Self::Group => "group",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    /// Stable slug, e.g. `turkey`, `recep-tayyip-erdogan`.
    pub id: String,
    pub name: String,
    pub kind: ActorKind,
    /// Other names and spellings a user may type (accents are folded at lookup).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// The actor (state, organisation, body) this one speaks for or belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaks_for: Option<String>,
    /// How the source describes the actor (a person's role), in the source's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Adjectives a user may type for a state (`Iranian`, `Azeri`): accepted in
    /// lookups, where one that also begins another actor's name asks which is meant.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub demonyms: Vec<String>,
    /// The two letters of the flag emoji that stands for it (`FR` for 🇫🇷, `EU` for 🇪🇺).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    InternationalOrganisations,
    States,
    UnrecognisedStates,
    Lawmakers,
    HumanRightsGroups,
    DiasporaAndProtests,
    Incidents,
    Sport,
    Celebrities,
    RecognitionMotions,
    Other,
}

impl Theme {
    pub const ALL: [Theme; 11] = [
        Self::InternationalOrganisations,
        Self::States,
        Self::UnrecognisedStates,
        Self::Lawmakers,
        Self::HumanRightsGroups,
        Self::DiasporaAndProtests,
        Self::Incidents,
        Self::Sport,
        Self::Celebrities,
        Self::RecognitionMotions,
        Self::Other,
    ];

    pub const fn label(self) -> &'static str {
        match self {
            Self::InternationalOrganisations => "International organisations",
            Self::States => "States",
            Self::UnrecognisedStates => "Unrecognised states",
            Self::Lawmakers => "Lawmakers",
            Self::HumanRightsGroups => "Human-rights groups",
            Self::DiasporaAndProtests => "Diaspora and protests",
            Self::Incidents => "Incidents",
            Self::Sport => "Sport",
            Self::Celebrities => "Celebrities",
            Self::RecognitionMotions => "Recognition motions",
            Self::Other => "Other reactions",
        }
    }
}

/// How precisely a date is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// One day: `start == end`.
    Day,
    /// Several separate days, listed in `days` ("on 1 October and 5 October 2020").
    Days,
    /// A calendar month: `start` is its first day, `end` its last.
    Month,
    /// A calendar year: 1 January to 31 December.
    Year,
    /// Every day from `start` to `end` ("Between 19 and 20 September 2023").
    Range,
    /// The source gives no date.
    Unknown,
}

/// How a date was found in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum How {
    /// Written out in full ("On 2 October 2020", "October 29, 2020").
    Explicit,
    /// Day and month written out, the year taken from context ("On 5 October").
    YearFromContext,
    /// Resolved against the date of an earlier statement ("The next day").
    Relative,
    /// Set by hand in the curation file.
    Curated,
    /// No date.
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    pub precision: Precision,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<Date>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days: Vec<Date>,
    pub how: How,
    /// The source's words the date was read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phrase: Option<String>,
}

impl When {
    pub fn unknown() -> Self {
        Self {
            precision: Precision::Unknown,
            start: None,
            end: None,
            days: Vec::new(),
            how: How::None,
            phrase: None,
        }
    }

    pub fn is_known(&self) -> bool {
        self.precision != Precision::Unknown
    }

    /// Whether this date covers `day` exactly (a day, one of several days, or inside a range).
    pub fn covers_day(&self, day: Date) -> bool {
        match self.precision {
            Precision::Day | Precision::Range => {
                self.start.is_some_and(|s| s <= day) && self.end.is_some_and(|e| day <= e)
            }
            Precision::Days => self.days.contains(&day),
            Precision::Month | Precision::Year | Precision::Unknown => false,
        }
    }

    /// Whether any part of this date falls between `from` and `to` inclusive.
    pub fn overlaps(&self, from: Date, to: Date) -> bool {
        match self.precision {
            Precision::Days => self.days.iter().any(|d| from <= *d && *d <= to),
            Precision::Unknown => false,
            _ => match (self.start, self.end) {
                (Some(s), Some(e)) => s <= to && from <= e,
                _ => false,
            },
        }
    }

    /// The single days this date names (a day, or each of several days).
    pub fn exact_days(&self) -> Vec<Date> {
        match self.precision {
            Precision::Day => self.start.into_iter().collect(),
            Precision::Days => self.days.clone(),
            _ => Vec::new(),
        }
    }
}

/// One reaction: a verbatim excerpt of the article with the citations that follow it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// Stable id: `s<line>.<n>`, the n-th statement of that source line.
    pub id: String,
    /// 1-based line of the source text.
    pub line: u32,
    /// UTF-8 byte range of the source line this statement owns (citation markers included).
    pub span: [u32; 2],
    /// Position in the source, counting from 1 over all statements.
    pub order: u32,
    /// The verbatim pieces of the source it quotes, citation markers moved out.
    pub parts: Vec<String>,
    /// The quote as shown: the parts joined with " … ", with a leading or trailing
    /// ellipsis where it starts or ends inside a sentence.
    pub text: String,
    /// The citation numbers that follow it in the source, in order.
    pub citations: Vec<u16>,
    /// Actor ids of who reacted.
    pub actors: Vec<String>,
    /// Actor ids of others the quote names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<String>,
    pub date: When,
    /// Dates the quote only mentions ("the 10 October 2020 humanitarian ceasefire").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub date_mentions: Vec<When>,
    pub theme: Theme,
}

/// A background summary (the lead of another Wikipedia article) with the dates it
/// names. It is credited to its own article, not to the reactions article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    pub id: String,
    /// The title of the Wikipedia article whose lead this is.
    pub title: String,
    /// The article's address, derived from its title.
    pub url: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    pub line: u32,
    pub text: String,
    pub events: Vec<TopicEvent>,
}

/// A date a topic names, with the verbatim sentence it stands in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicEvent {
    pub date: When,
    pub sentence: String,
}

/// A quote or title recovered from the remains of the reference list. The source
/// does not say which reference it belongs to, and neither does the dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Excerpt {
    pub line: u32,
    pub text: String,
}

/// The address of the English Wikipedia article with this title: spaces become
/// underscores, and everything but unreserved ASCII is percent-encoded.
pub fn wikipedia_url(title: &str) -> String {
    let mut out = String::from("https://en.wikipedia.org/wiki/");
    for b in title.replace(' ', "_").bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'_' | b'-' | b'.' | b'~' | b'(' | b')' | b',' | b'\'' | b'/'
            )
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
