//! The commands: one table ([`COMMANDS`]) that drives dispatch, registration, `/help`
//! and the console. [`Core::respond`] turns a request into a [`Reply`] with no I/O.

mod about;
mod parse;
mod reaction;
mod search;
mod source;
mod timeline;
mod topic;

use jiff::civil::Date;

pub use parse::{ParseError, parse_line};

use crate::dataset::{Dataset, DatasetError};
use crate::query::Index;
use crate::reply::markdown::{self, escape, escape_user};
use crate::reply::{Answer, Choice, Credit, Reply, limits};

/// The type of an option's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text { max_length: u16 },
    Integer { min: i64, max: i64 },
}

#[derive(Debug, Clone, Copy)]
pub struct OptionSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub autocomplete: bool,
}

/// Answers a command.
pub type Run = fn(&Core, &Call) -> Answer;
/// Suggests values for the option being typed: `(core, option name, text so far)`.
pub type Complete = fn(&Core, &str, &str) -> Vec<Choice>;
/// A command's options, as typed: `(name, value)` pairs.
pub type Options = Vec<(String, Value)>;

/// One slash command: its definition and the functions that answer it.
#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub options: &'static [OptionSpec],
    /// A typical use, for `/help` and the README.
    pub example: &'static str,
    pub run: Run,
    pub complete: Option<Complete>,
}

impl CommandSpec {
    /// `/timeline date:<text> [to:<text>]`
    pub fn usage(&self) -> String {
        let mut s = format!("/{}", self.name);
        for o in self.options {
            let kind = match o.kind {
                Kind::Text { .. } => "text",
                Kind::Integer { .. } => "number",
            };
            if o.required {
                s.push_str(&format!(" {}:<{kind}>", o.name));
            } else {
                s.push_str(&format!(" [{}:<{kind}>]", o.name));
            }
        }
        s
    }
}

/// Every command the bot answers, in the order `/help` lists them.
pub static COMMANDS: &[CommandSpec] = &[
    reaction::SPEC,
    timeline::SPEC,
    search::SPEC,
    topic::SPEC,
    source::SPEC,
    timeline::ON_THIS_DAY,
    about::ABOUT,
    about::HELP,
];

pub fn spec(name: &str) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// An option's value as it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Integer(i64),
}

/// Where and when a request was made: what the core may know about the asker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// Today's date where the bot runs (for `/onthisday` without a date).
    pub today: Date,
    pub guild_id: Option<u64>,
    /// Answers in this place are private unless a command says otherwise.
    pub private_by_default: bool,
}

impl Context {
    pub fn new(today: Date) -> Self {
        Self {
            today,
            guild_id: None,
            private_by_default: false,
        }
    }
}

/// One invocation of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub command: String,
    pub options: Vec<(String, Value)>,
    /// The page asked for (1 for a new command).
    pub page: usize,
    pub context: Context,
}

impl Call {
    pub fn new(command: &str, options: Vec<(String, Value)>, context: Context) -> Self {
        Self {
            command: command.to_owned(),
            options,
            page: 1,
            context,
        }
    }

    /// A text option's value (an integer is given as its digits).
    pub fn text(&self, name: &str) -> Option<String> {
        self.options
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| match v {
                Value::Text(s) => s.clone(),
                Value::Integer(i) => i.to_string(),
            })
    }
}

/// What an interaction asks of the bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Command(Call),
    /// Suggestions for `focused` while the user types.
    Autocomplete {
        call: Call,
        focused: String,
    },
    /// A button under one of the bot's messages.
    Button {
        custom_id: String,
        context: Context,
    },
}

/// The bot's pure core: the dataset, its indexes, and the answer to every request.
#[derive(Debug)]
pub struct Core {
    pub index: Index,
    pub credit: Credit,
    /// Each statement's markdown, rendered once at start-up.
    rendered: Vec<Rendered>,
}

/// A statement's date in bold, who made it, its escaped text and its citations,
/// with their lengths.
#[derive(Debug)]
struct Rendered {
    date: String,
    speakers: String,
    text: String,
    cites: String,
    date_len: usize,
    speakers_len: usize,
    text_len: usize,
    cites_len: usize,
}

/// Whom to name above a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// Everyone who made it.
    All,
    /// Those who made it other than this actor (it is the actor the answer is about).
    Besides(usize),
}

impl Core {
    pub fn new(data: Dataset) -> Self {
        let credit = Credit {
            source: format!("Wikipedia: {}", data.source.title),
            url: data.source.url.clone(),
            licence: format!(
                "Text from Wikipedia, {} · quoted verbatim",
                data.source.licence
            ),
        };
        let references = data.source.references_url.clone();
        let index = Index::new(data);
        let rendered = index
            .data
            .statements
            .iter()
            .map(|s| {
                let date = markdown::bold(&markdown::when(&s.date));
                let speakers = escape(&index.speakers(s).join(", "));
                let text = escape(&s.text);
                let cites = markdown::cites(&s.citations, &references);
                Rendered {
                    date_len: limits::len(&date),
                    speakers_len: limits::len(&speakers),
                    text_len: limits::len(&text),
                    cites_len: limits::len(&cites),
                    date,
                    speakers,
                    text,
                    cites,
                }
            })
            .collect();
        Self {
            index,
            credit,
            rendered,
        }
    }

    /// The core on the dataset compiled into the binary.
    pub fn embedded() -> Result<Self, DatasetError> {
        Ok(Self::new(crate::dataset::embedded()?))
    }

    pub fn data(&self) -> &Dataset {
        &self.index.data
    }

    /// The answer to one request.
    pub fn respond(&self, request: &Request) -> Reply {
        match request {
            Request::Command(call) => Reply::Message(self.answer(call).page(call.page)),
            Request::Autocomplete { call, focused } => {
                let typed = call.text(focused).unwrap_or_default();
                let choices = spec(&call.command)
                    .and_then(|c| c.complete)
                    .map(|complete| complete(self, focused, &typed))
                    .unwrap_or_default();
                Reply::Choices(limits::choices(choices))
            }
            Request::Button { custom_id, context } => match self.call_for_button(custom_id, context) {
                Some(call) => Reply::Update(self.answer(&call).page(call.page)),
                None => Reply::Message(
                    self.notice(
                        "This button has expired",
                        "This button belongs to an answer the bot can no longer rebuild. Ask again with the command.",
                    )
                    .page(1),
                ),
            },
        }
    }

    /// The whole answer to a call, before it is cut into pages.
    pub fn answer(&self, call: &Call) -> Answer {
        let mut answer = match spec(&call.command) {
            Some(spec) => (spec.run)(self, call),
            None => self.notice(
                "Unknown command",
                &format!(
                    "The bot has no command /{}. Type /help to see its commands.",
                    escape_user(&call.command)
                ),
            ),
        };
        if call.context.private_by_default {
            answer.private = true;
        }
        answer
    }

    /// Rebuilds the call behind a page button: `page:<command>:<argument>:<n>`.
    fn call_for_button(&self, custom_id: &str, context: &Context) -> Option<Call> {
        let rest = custom_id.strip_prefix("page:")?;
        let (rest, page) = rest.rsplit_once(':')?;
        let page: usize = page.parse().ok()?;
        let (command, argument) = rest.split_once(':')?;
        let spec = spec(command)?;
        let option = spec.options.first()?;
        Some(Call {
            command: command.to_owned(),
            options: vec![(option.name.to_owned(), Value::Text(argument.to_owned()))],
            page,
            context: context.clone(),
        })
    }

    /// A private, polite answer to the asker's own mistake.
    pub fn notice(&self, title: &str, text: &str) -> Answer {
        Answer::notice(title, text, self.credit.clone())
    }

    pub fn new_answer(&self, title: &str) -> Answer {
        Answer::new(title, self.credit.clone())
    }

    /// Adds statement `si` as a block: its date and who spoke (when given), then the
    /// quote and its citations. `marked` replaces the quote's text (search marks) and
    /// gives its length.
    pub fn push_statement(
        &self,
        answer: &mut Answer,
        section: Option<&'static str>,
        si: usize,
        who: Who,
        marked: Option<(String, usize)>,
    ) {
        let r = &self.rendered[si];
        let (text, text_len) = match &marked {
            Some((t, len)) => (t.as_str(), *len),
            None => (r.text.as_str(), r.text_len),
        };
        let besides;
        let (names, names_len) = match who {
            Who::All => (r.speakers.as_str(), r.speakers_len),
            Who::Besides(actor) => {
                besides = escape(
                    &self
                        .index
                        .speakers_for(&self.index.data.statements[si], actor)
                        .join(", "),
                );
                (besides.as_str(), limits::len(&besides))
            }
        };
        let mut out =
            String::with_capacity(r.date.len() + names.len() + text.len() + r.cites.len() + 16);
        let mut len = r.date_len + 3 + text_len + 1 + r.cites_len;
        out.push_str(&r.date);
        if !names.is_empty() {
            len += 3 + names_len;
            out.push_str(" · ");
            out.push_str(names);
        }
        out.push_str("\n> ");
        out.push_str(text);
        out.push(' ');
        out.push_str(&r.cites);
        answer.block_sized(section, out, len);
    }

    /// A statement's escaped text and its length, as rendered at start-up.
    pub fn statement_text(&self, si: usize) -> (&str, usize) {
        let r = &self.rendered[si];
        (&r.text, r.text_len)
    }

    pub fn cites(&self, numbers: &[u16]) -> String {
        markdown::cites(numbers, &self.data().source.references_url)
    }

    /// "Did you mean: A, B, C?"
    pub fn did_you_mean(names: &[&str]) -> String {
        if names.is_empty() {
            String::new()
        } else {
            format!(" Did you mean: {}?", escape(&names.join(", ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_keeps_discords_naming_rules() {
        let valid_name = |s: &str| {
            !s.is_empty()
                && s.chars().count() <= 32
                && s.chars()
                    .all(|c| c.is_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        };
        for c in COMMANDS {
            assert!(valid_name(c.name), "{}", c.name);
            assert!(
                (1..=100).contains(&c.description.chars().count()),
                "{}",
                c.name
            );
            assert!(c.options.len() <= 25);
            for o in c.options {
                assert!(valid_name(o.name), "{}.{}", c.name, o.name);
                assert!(
                    (1..=100).contains(&o.description.chars().count()),
                    "{}.{}",
                    c.name,
                    o.name
                );
                assert_eq!(o.autocomplete, c.complete.is_some() && o.autocomplete);
            }
            assert!(c.example.starts_with(&format!("/{}", c.name)));
        }
    }
}
