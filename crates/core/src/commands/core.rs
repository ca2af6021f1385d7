//! [`Core`]: the dataset, its indexes, and the answer to every request. Checks who may
//! use a command and where, then hands the call to the command's function in the
//! table.

use super::statement::Rendered;
use super::table::{CommandSpec, Kind, PRIVATE, Permission, spec};
use super::{Answered, Call, Context, Request, Response, Value};
use crate::dataset::{Dataset, DatasetError};
use crate::query::Index;
use crate::reply::markdown::escape_user;
use crate::reply::{Answer, ButtonId, ChartText, Credit, Reply, limits};
use crate::settings::Visibility;

/// The longest wrong choice a refusal repeats.
const CHOICE_SHOWN: usize = 32;

/// `A citation number` as `a citation number`, to go inside a sentence.
fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or_else(String::new, |first| first.to_lowercase().chain(c).collect())
}

/// The bot's pure core: the dataset, its indexes, and the answer to every request.
#[derive(Debug)]
pub struct Core {
    pub index: Index,
    pub credit: Credit,
    /// Each statement's markdown, rendered once at start-up.
    pub(super) rendered: Vec<Rendered>,
    pub(super) config: CoreConfig,
}

/// What the operator and the edges give the core at construction: configuration and
/// a pure function, no I/O.
#[derive(Debug, Clone, Default)]
pub struct CoreConfig {
    /// The public site's base URL (`https://host[/path]`, no trailing slash): each
    /// answer then carries a link button to the page of what it shows. None: no
    /// link buttons.
    pub public_url: Option<String>,
    /// Writes a chart's text alternative (the edge's drawing code knows what it
    /// draws). None: answers carry no chart.
    pub chart_text: Option<ChartText>,
}

impl Core {
    /// The core without a site or charts: answers as text only.
    pub fn new(data: Dataset) -> Self {
        Self::with_config(data, CoreConfig::default())
    }

    /// The core with the public site's address and the charts' text alternatives.
    pub fn with_config(data: Dataset, config: CoreConfig) -> Self {
        let credit = Credit {
            source: format!("Wikipedia: {}", data.source.title),
            url: data.source.url.clone(),
            licence: format!(
                "Text from Wikipedia, {} · quoted verbatim",
                data.source.licence
            ),
        };
        let index = Index::new(data);
        let rendered = Rendered::all(&index);
        let config = CoreConfig {
            public_url: config
                .public_url
                .map(|u| u.trim().trim_end_matches('/').to_owned())
                .filter(|u| !u.is_empty()),
            ..config
        };
        Self {
            index,
            credit,
            rendered,
            config,
        }
    }

    /// The public site's base URL, if the operator set one.
    pub fn public_url(&self) -> Option<&str> {
        self.config.public_url.as_deref()
    }

    /// The full address of a site path ([`crate::site`]), if there is a public site.
    pub fn site_url(&self, path: &str) -> Option<String> {
        self.public_url().map(|base| format!("{base}{path}"))
    }

    /// The core on the dataset compiled into the binary.
    pub fn embedded() -> Result<Self, DatasetError> {
        Ok(Self::new(crate::dataset::embedded()?))
    }

    pub fn data(&self) -> &Dataset {
        &self.index.data
    }

    /// What to do for one request.
    pub fn respond(&self, request: &Request) -> Response {
        match request {
            Request::Command(call) => {
                let a = self.answer(call);
                Response {
                    reply: Reply::Message(a.answer.page(call.page)),
                    effect: a.effect,
                }
            }
            Request::Autocomplete { call, focused } => {
                let typed = call.text(focused).unwrap_or_default();
                if Self::too_long_to_complete(call, focused, &typed) {
                    return Response {
                        reply: Reply::Choices(Vec::new()),
                        effect: None,
                    };
                }
                let choices = spec(&call.command)
                    .and_then(|c| c.complete)
                    .map(|complete| complete(self, call, focused, &typed))
                    .unwrap_or_default();
                Response {
                    reply: Reply::Choices(limits::choices(choices)),
                    effect: None,
                }
            }
            Request::Button { id, context } => self.click(id.as_ref(), context),
        }
    }

    /// A click on one of the bot's buttons: a page turned (the answer rebuilt and
    /// updated in place), or one of a command's own buttons.
    fn click(&self, id: Option<&ButtonId>, context: &Context) -> Response {
        let expired = || {
            Response {
            reply: Reply::Message(
                self.notice(
                    "This button has expired",
                    "This button belongs to an answer the bot can no longer rebuild. Ask again with the \
                     command.",
                )
                .page(1),
            ),
            effect: None,
        }
        };
        match id {
            Some(ButtonId::Page { pager, page }) => {
                let Some(option) = spec(&pager.command).and_then(|s| s.options.first()) else {
                    return expired();
                };
                let call = Call {
                    command: pager.command.clone(),
                    subcommand: None,
                    options: vec![(option.name.to_owned(), Value::Text(pager.argument.clone()))],
                    page: *page,
                    context: context.clone(),
                };
                Response {
                    reply: Reply::Update(self.answer(&call).answer.page(call.page)),
                    effect: None,
                }
            }
            Some(ButtonId::Action { command, action }) => {
                let Some((spec, on_button)) = spec(command).and_then(|s| Some((s, s.button?)))
                else {
                    return expired();
                };
                if let Some(refused) = self.refusal(spec, context) {
                    return Response {
                        reply: Reply::Message(refused.page(1)),
                        effect: None,
                    };
                }
                let a = on_button(self, action, context);
                Response {
                    reply: Reply::Update(a.answer.page(1)),
                    effect: a.effect,
                }
            }
            None => expired(),
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

    /// A polite refusal of the first option whose value is outside what the bot
    /// registers for it (Discord's client keeps to these limits, but a payload can
    /// carry anything): text longer than its `max_length`, a number outside its range,
    /// a word that is not one of its choices. The value is not repeated when it is too
    /// long; the advice (what the option takes, and an example) always fits.
    fn out_of_bounds(&self, spec: &CommandSpec, call: &Call) -> Option<Answer> {
        spec.options_of(call.subcommand.as_deref())
            .iter()
            .find_map(|o| {
                let (_, value) = call.options.iter().find(|(n, _)| n == o.name)?;
                let refusal = |title: &str, problem: String| {
                    self.notice(
                        title,
                        &format!("{problem} For example: {}", spec.example),
                    )
                };
                match (o.kind, value) {
                    (Kind::Text { max_length }, Value::Text(text)) => {
                        let length = text.chars().count();
                        (length > usize::from(max_length)).then(|| {
                            refusal(
                                "Too long",
                                format!(
                                    "The {} you gave is {} characters long; /{} takes at most {max_length}. \
                                     Shorten it and ask again.",
                                    o.name,
                                    crate::text::thousands(length),
                                    spec.name,
                                ),
                            )
                        })
                    }
                    (Kind::Integer { min, max }, Value::Integer(n)) => {
                        (!(min..=max).contains(n)).then(|| {
                            refusal(
                                "Out of range",
                                format!(
                                    "{n} is out of range: /{} takes a {} from {min} to {max} ({}).",
                                    spec.name,
                                    o.name,
                                    lower_first(o.description)
                                ),
                            )
                        })
                    }
                    (Kind::Choice(words), _) => {
                        let given = call.text(o.name)?;
                        let known = words.iter().any(|w| w.eq_ignore_ascii_case(given.trim()));
                        (!known).then(|| {
                            let shown = if given.chars().count() <= CHOICE_SHOWN {
                                format!("'{}' is not a value of {}", escape_user(&given), o.name)
                            } else {
                                format!("That is not a value of {}", o.name)
                            };
                            self.notice(
                                "Not a choice",
                                &format!("{shown}: choose {}.", words.join(" or ")),
                            )
                        })
                    }
                    _ => None,
                }
            })
    }

    /// Whether the text typed into an option for autocomplete is longer than the
    /// option takes: such text gets no suggestions (and costs no search).
    fn too_long_to_complete(call: &Call, focused: &str, typed: &str) -> bool {
        spec(&call.command)
            .and_then(|s| {
                s.options_of(call.subcommand.as_deref())
                    .iter()
                    .find(|o| o.name == focused)
            })
            .is_some_and(|o| match o.kind {
                Kind::Text { max_length } => typed.chars().count() > usize::from(max_length),
                _ => false,
            })
    }

    /// The answer to a call and the change it asks for.
    pub fn answer(&self, call: &Call) -> Answered {
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
        if let Some(refused) = self.out_of_bounds(spec, call) {
            return refused.into();
        }
        let mut answered = (spec.run)(self, call);
        if call.flag(PRIVATE.name) == Some(true)
            || call.context.settings.visibility == Visibility::Private
        {
            answered.answer.private = true;
        }
        self.attach(spec, call, &mut answered.answer);
        answered
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

    /// What the transport replies when the server's settings cannot be read or
    /// written in time (the database is busy, full or unreachable), for a request that
    /// needs them.
    pub fn settings_unavailable(&self) -> Reply {
        Reply::Message(
            self.notice(
                "Settings out of reach",
                "The bot cannot reach this server's settings right now, so nothing was shown or changed. \
                 Please try again in a minute; if it keeps happening, tell the bot's operator.",
            )
            .page(1),
        )
    }

    /// What the transport replies when a change was handed to the settings database
    /// but not confirmed: not in time (it is made whole or not at all, once the
    /// database answers), or the connection was lost as the database committed it.
    pub fn settings_unconfirmed(&self) -> Reply {
        Reply::Message(
            self.notice(
                "Not confirmed",
                "The bot's settings database did not confirm this change, so it is either made in full \
                 (perhaps in a moment) or not at all. Check with /config show in a minute before trying \
                 again.",
            )
            .page(1),
        )
    }

    /// A private, polite answer to the asker's own mistake.
    pub fn notice(&self, title: &str, text: &str) -> Answer {
        Answer::notice(title, text, self.credit.clone())
    }

    pub fn new_answer(&self, title: &str) -> Answer {
        Answer::new(title, self.credit.clone())
    }

    /// The credit of a background summary: its own article, not the reactions one.
    pub fn topic_credit(&self, topic: &crate::dataset::Topic) -> Credit {
        Credit {
            source: format!("Wikipedia: {}", topic.title),
            url: topic.url.clone(),
            licence: self.credit.licence.clone(),
        }
    }
}
