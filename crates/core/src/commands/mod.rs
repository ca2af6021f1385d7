//! The commands: one table ([`COMMANDS`]) that drives dispatch, registration, `/help`
//! and the console. [`Core::respond`] turns a request into an [`Outcome`] with no
//! I/O: the reply, and the change to a server's settings (an [`Effect`]) that the
//! transport applies before sending it.

mod about;
pub mod config;
mod parse;
mod reaction;
mod search;
mod source;
mod timeline;
mod topic;

use jiff::Timestamp;
use jiff::civil::Date;

pub use parse::{ParseError, parse_line};

use crate::dataset::{Dataset, DatasetError};
use crate::query::Index;
use crate::reply::markdown::{self, escape, escape_user};
use crate::reply::{Answer, Choice, Credit, Reply, limits};
use crate::settings::{AuditEntry, Change, GuildSettings, Visibility};

/// The type of an option's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text {
        max_length: u16,
    },
    Integer {
        min: i64,
        max: i64,
    },
    Boolean,
    /// A text channel of the server.
    Channel,
    /// One of a fixed list of words, offered by Discord as choices (and checked by
    /// the core, since a payload can carry anything).
    Choice(&'static [&'static str]),
}

#[derive(Debug, Clone, Copy)]
pub struct OptionSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub autocomplete: bool,
}

/// `private:true` on a command: only the asker sees the answer.
pub const PRIVATE: OptionSpec = OptionSpec {
    name: "private",
    description: "Show the answer to you only",
    kind: Kind::Boolean,
    required: false,
    autocomplete: false,
};

/// A subcommand: `/config show`, `/config onthisday …`.
#[derive(Debug, Clone, Copy)]
pub struct SubcommandSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub options: &'static [OptionSpec],
}

/// Who may use a command. Registration turns it into Discord's
/// `default_member_permissions`; [`Core`] checks it again from the permissions the
/// interaction carries, since server owners can override Discord's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Everyone,
    /// Manage Server (or Administrator).
    ManageServer,
}

/// Discord's permission bits the bot checks.
pub const ADMINISTRATOR: u64 = 1 << 3;
pub const MANAGE_GUILD: u64 = 1 << 5;

/// Answers a command.
pub type Run = fn(&Core, &Call) -> Answered;
/// Suggests values for the option being typed: `(core, call, option name, text so far)`.
pub type Complete = fn(&Core, &Call, &str, &str) -> Vec<Choice>;
/// Answers a click on one of the command's own buttons (`<command>:<rest>`): `rest`.
pub type OnButton = fn(&Core, &str, &Context) -> Answered;
/// A command's options, as typed: `(name, value)` pairs.
pub type Options = Vec<(String, Value)>;

/// One slash command: its definition and the functions that answer it.
#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub options: &'static [OptionSpec],
    /// When not empty, the command is only its subcommands (and `options` is empty).
    pub subcommands: &'static [SubcommandSpec],
    /// A typical use, for `/help` and the README.
    pub example: &'static str,
    pub permission: Permission,
    /// Only in a server, never in a DM.
    pub guild_only: bool,
    /// Its answer shows the server's audit trail, which the transport loads for it.
    pub needs_audit: bool,
    pub run: Run,
    pub complete: Option<Complete>,
    pub button: Option<OnButton>,
}

impl CommandSpec {
    /// `/timeline date:<text> [to:<text>]`
    pub fn usage(&self) -> String {
        if self.subcommands.is_empty() {
            format!("/{}{}", self.name, options_usage(self.options))
        } else {
            let subs: Vec<&str> = self.subcommands.iter().map(|c| c.name).collect();
            format!("/{} {}", self.name, subs.join("|"))
        }
    }

    /// `/config replies visibility:<public|private>`: each subcommand with its options.
    pub fn subcommand_usages(&self) -> Vec<(String, &'static str)> {
        self.subcommands
            .iter()
            .map(|sub| {
                (
                    format!("/{} {}{}", self.name, sub.name, options_usage(sub.options)),
                    sub.description,
                )
            })
            .collect()
    }

    /// The options of a subcommand, or of the command itself.
    pub fn options_of(&self, subcommand: Option<&str>) -> &'static [OptionSpec] {
        match subcommand {
            Some(name) => self
                .subcommands
                .iter()
                .find(|s| s.name == name)
                .map_or(&[], |s| s.options),
            None => self.options,
        }
    }
}

/// ` date:<text> [to:<text>]`: options as typed, optional ones in brackets (the
/// `private` option every command has is left out).
fn options_usage(options: &[OptionSpec]) -> String {
    let mut s = String::new();
    for o in options.iter().filter(|o| o.name != PRIVATE.name) {
        let kind = match o.kind {
            Kind::Text { .. } => "text".to_owned(),
            Kind::Integer { .. } => "number".to_owned(),
            Kind::Boolean => "true|false".to_owned(),
            Kind::Channel => "#channel".to_owned(),
            Kind::Choice(words) => words.join("|"),
        };
        if o.required {
            s.push_str(&format!(" {}:<{kind}>", o.name));
        } else {
            s.push_str(&format!(" [{}:<{kind}>]", o.name));
        }
    }
    s
}

/// Every command the bot answers, in the order `/help` lists them.
pub static COMMANDS: &[CommandSpec] = &[
    reaction::SPEC,
    timeline::SPEC,
    search::SPEC,
    topic::SPEC,
    source::SPEC,
    timeline::ON_THIS_DAY,
    config::SPEC,
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
    Boolean(bool),
}

/// Where and when a request was made: what the core may know about the asker and
/// the server. The transport fills it from the interaction and the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub now: Timestamp,
    pub guild_id: Option<u64>,
    pub user_id: Option<u64>,
    /// The asker's permissions in the server (`member.permissions`), if known.
    pub permissions: Option<u64>,
    /// The server's settings (the defaults outside a server).
    pub settings: GuildSettings,
    /// The server's recent changes, newest first: loaded for commands that show them.
    pub audit: Vec<AuditEntry>,
}

impl Context {
    pub fn new(now: Timestamp) -> Self {
        Self {
            now,
            guild_id: None,
            user_id: None,
            permissions: None,
            settings: GuildSettings::default(),
            audit: Vec::new(),
        }
    }

    /// Today's date: in the server's time zone when it has chosen one, else in UTC.
    pub fn today(&self) -> Date {
        match &self.settings.onthisday {
            Some(o) => self
                .now
                .to_zoned_datetime(o.zone.time_zone().clone())
                .date(),
            None => self.now.to_zoned_datetime(jiff::tz::TimeZone::UTC).date(),
        }
    }

    /// Whether the asker may manage the server (Manage Server or Administrator).
    pub fn can_manage(&self) -> bool {
        self.permissions
            .is_some_and(|p| p & (MANAGE_GUILD | ADMINISTRATOR) != 0)
    }
}

/// One invocation of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub command: String,
    pub subcommand: Option<String>,
    pub options: Options,
    /// The page asked for (1 for a new command).
    pub page: usize,
    pub context: Context,
}

impl Call {
    pub fn new(command: &str, options: Options, context: Context) -> Self {
        Self {
            command: command.to_owned(),
            subcommand: None,
            options,
            page: 1,
            context,
        }
    }

    /// An option's value as text (numbers and booleans written out).
    pub fn text(&self, name: &str) -> Option<String> {
        self.options
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| match v {
                Value::Text(s) => s.clone(),
                Value::Integer(i) => i.to_string(),
                Value::Boolean(b) => b.to_string(),
            })
    }

    /// A yes/no option: a boolean, or text that reads as one.
    pub fn flag(&self, name: &str) -> Option<bool> {
        self.options
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| match v {
                Value::Boolean(b) => Some(*b),
                Value::Text(s) => match s.trim().to_lowercase().as_str() {
                    "true" | "yes" | "on" => Some(true),
                    "false" | "no" | "off" => Some(false),
                    _ => None,
                },
                Value::Integer(i) => Some(*i != 0),
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

impl Request {
    pub fn context(&self) -> &Context {
        match self {
            Self::Command(call) | Self::Autocomplete { call, .. } => &call.context,
            Self::Button { context, .. } => context,
        }
    }

    /// The command's table entry (for a button, the command that made it).
    pub fn spec(&self) -> Option<&'static CommandSpec> {
        match self {
            Self::Command(call) | Self::Autocomplete { call, .. } => spec(&call.command),
            Self::Button { custom_id, .. } => {
                let rest = custom_id.strip_prefix("page:").unwrap_or(custom_id);
                spec(rest.split(':').next().unwrap_or(""))
            }
        }
    }
}

/// A change the transport makes durable before it sends the reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Apply {
        guild_id: u64,
        user_id: u64,
        change: Change,
    },
}

/// A command's answer and the change it asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    pub answer: Answer,
    pub effect: Option<Effect>,
}

impl From<Answer> for Answered {
    fn from(answer: Answer) -> Self {
        Self {
            answer,
            effect: None,
        }
    }
}

/// What the bot does for one request: reply, after making `effect` durable. If the
/// effect cannot be made durable, the transport replies [`Core::failure`] instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub reply: Reply,
    pub effect: Option<Effect>,
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

    /// What to do for one request.
    pub fn respond(&self, request: &Request) -> Outcome {
        match request {
            Request::Command(call) => {
                let a = self.answered(call);
                Outcome {
                    reply: Reply::Message(a.answer.page(call.page)),
                    effect: a.effect,
                }
            }
            Request::Autocomplete { call, focused } => {
                let typed = call.text(focused).unwrap_or_default();
                let choices = spec(&call.command)
                    .and_then(|c| c.complete)
                    .map(|complete| complete(self, call, focused, &typed))
                    .unwrap_or_default();
                Outcome {
                    reply: Reply::Choices(limits::choices(choices)),
                    effect: None,
                }
            }
            Request::Button { custom_id, context } => {
                if let Some(call) = self.call_for_page(custom_id, context) {
                    return Outcome {
                        reply: Reply::Update(self.answer(&call).page(call.page)),
                        effect: None,
                    };
                }
                let own = custom_id.split_once(':').and_then(|(command, rest)| {
                    let spec = spec(command)?;
                    Some((spec, spec.button?, rest))
                });
                match own {
                    Some((spec, on_button, rest)) => match self.refusal(spec, context) {
                        Some(refused) => Outcome {
                            reply: Reply::Message(refused.page(1)),
                            effect: None,
                        },
                        None => {
                            let a = on_button(self, rest, context);
                            Outcome {
                                reply: Reply::Update(a.answer.page(1)),
                                effect: a.effect,
                            }
                        }
                    },
                    None => Outcome {
                        reply: Reply::Message(
                            self.notice(
                                "This button has expired",
                                "This button belongs to an answer the bot can no longer rebuild. Ask again with the \
                                 command.",
                            )
                            .page(1),
                        ),
                        effect: None,
                    },
                }
            }
        }
    }

    /// Why a command is refused in this place, if it is: outside a server for a
    /// server-only command, or without Manage Server for a moderators' command.
    fn refusal(&self, spec: &CommandSpec, context: &Context) -> Option<Answer> {
        if spec.guild_only && context.guild_id.is_none() {
            return Some(self.notice(
                "Only in a server",
                &format!(
                    "/{} works only in a server, where moderators can use it.",
                    spec.name
                ),
            ));
        }
        if spec.permission == Permission::ManageServer && !context.can_manage() {
            return Some(self.notice(
                "Not allowed",
                &format!(
                    "/{} needs the Manage Server permission in this server. Ask a moderator.",
                    spec.name
                ),
            ));
        }
        None
    }

    /// A polite refusal of an option whose value is not one of its choices.
    fn wrong_choice(&self, spec: &CommandSpec, call: &Call) -> Option<Answer> {
        spec.options_of(call.subcommand.as_deref())
            .iter()
            .find_map(|o| {
                let Kind::Choice(words) = o.kind else {
                    return None;
                };
                let given = call.text(o.name)?;
                let known = words.iter().any(|w| w.eq_ignore_ascii_case(given.trim()));
                (!known).then(|| {
                    self.notice(
                        "Not a choice",
                        &format!(
                            "'{}' is not a value of {}: choose {}.",
                            escape_user(&given),
                            o.name,
                            words.join(" or ")
                        ),
                    )
                })
            })
    }

    /// The answer to a call and the change it asks for.
    pub fn answered(&self, call: &Call) -> Answered {
        let Some(spec) = spec(&call.command) else {
            return self
                .notice(
                    "Unknown command",
                    &format!(
                        "The bot has no command /{}. Type /help to see its commands.",
                        escape_user(&call.command)
                    ),
                )
                .into();
        };
        if let Some(refused) = self.refusal(spec, &call.context) {
            return refused.into();
        }
        if let Some(wrong) = self.wrong_choice(spec, call) {
            return wrong.into();
        }
        let mut answered = (spec.run)(self, call);
        if call.flag(PRIVATE.name) == Some(true)
            || call.context.settings.visibility == Visibility::Private
        {
            answered.answer.private = true;
        }
        answered
    }

    /// The whole answer to a call, before it is cut into pages.
    pub fn answer(&self, call: &Call) -> Answer {
        self.answered(call).answer
    }

    /// What the transport replies when an effect could not be made durable.
    pub fn failure(&self) -> Reply {
        Reply::Message(
            self.notice(
                "Not saved",
                "Something went wrong while saving this change, and nothing was changed. Please try again in a \
                 moment.",
            )
            .page(1),
        )
    }

    /// Rebuilds the call behind a page button: `page:<command>:<argument>:<n>`.
    fn call_for_page(&self, custom_id: &str, context: &Context) -> Option<Call> {
        let rest = custom_id.strip_prefix("page:")?;
        let (rest, page) = rest.rsplit_once(':')?;
        let page: usize = page.parse().ok()?;
        let (command, argument) = rest.split_once(':')?;
        let spec = spec(command)?;
        let option = spec.options.first()?;
        Some(Call {
            command: command.to_owned(),
            subcommand: None,
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
            for o in c
                .options
                .iter()
                .chain(c.subcommands.iter().flat_map(|s| s.options))
            {
                assert!(valid_name(o.name), "{}.{}", c.name, o.name);
                assert!(
                    (1..=100).contains(&o.description.chars().count()),
                    "{}.{}",
                    c.name,
                    o.name
                );
                assert_eq!(o.autocomplete, c.complete.is_some() && o.autocomplete);
            }
            for sub in c.subcommands {
                assert!(
                    valid_name(sub.name) && (1..=100).contains(&sub.description.chars().count())
                );
            }
            assert!(c.options.is_empty() || c.subcommands.is_empty());
            assert!(c.example.starts_with(&format!("/{}", c.name)));
        }
    }
}
