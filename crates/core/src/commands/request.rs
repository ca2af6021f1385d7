//! What reaches the core and what it gives back: a [`Request`] (a command, a
//! keystroke for autocomplete, or a button click) with its [`Context`], and a
//! [`Response`]: the reply, and the change to a server's settings (an [`Effect`]) that
//! the transport makes durable before sending it.

use jiff::Timestamp;
use jiff::civil::Date;

use super::table::{ADMINISTRATOR, CommandSpec, MANAGE_GUILD, Permission, spec};
use crate::reply::{Answer, ButtonId, Reply, Tone};
use crate::settings::{AuditEntry, Change, GuildSettings, Visibility};

/// A command's options, as typed: `(name, value)` pairs.
pub type Options = Vec<(String, Value)>;

/// An option's value as it arrived.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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
    /// The asker's Discord locale (`en-US`, `en-GB`, `de` …), if known: how a numeric
    /// date whose day and month could be swapped is read (month first in `en-US`).
    pub locale: Option<String>,
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
            locale: None,
        }
    }

    /// How this asker writes numeric dates.
    pub fn date_order(&self) -> crate::query::dates::Order {
        crate::query::dates::Order::for_locale(self.locale.as_deref())
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
    /// A button under one of the bot's messages: `None` when its id is not one the bot
    /// makes (a button of an older version, or a forged id).
    Button {
        id: Option<ButtonId>,
        context: Context,
    },
}

/// The three kinds of request, for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestKind {
    Command,
    Autocomplete,
    Button,
}

impl RequestKind {
    pub const ALL: [RequestKind; 3] = [Self::Command, Self::Autocomplete, Self::Button];

    pub fn label(self) -> &'static str {
        match self {
            Self::Command => "command",
            Self::Autocomplete => "autocomplete",
            Self::Button => "button",
        }
    }
}

impl Request {
    pub fn kind(&self) -> RequestKind {
        match self {
            Self::Command(_) => RequestKind::Command,
            Self::Autocomplete { .. } => RequestKind::Autocomplete,
            Self::Button { .. } => RequestKind::Button,
        }
    }

    pub fn context(&self) -> &Context {
        match self {
            Self::Command(call) | Self::Autocomplete { call, .. } => &call.context,
            Self::Button { context, .. } => context,
        }
    }

    /// Where the transport puts the server's settings before asking the core.
    pub fn context_mut(&mut self) -> &mut Context {
        match self {
            Self::Command(call) | Self::Autocomplete { call, .. } => &mut call.context,
            Self::Button { context, .. } => context,
        }
    }

    /// The command's table entry (for a button, the command that made it).
    pub fn spec(&self) -> Option<&'static CommandSpec> {
        match self {
            Self::Command(call) | Self::Autocomplete { call, .. } => spec(&call.command),
            Self::Button { id, .. } => id.as_ref().and_then(|id| spec(id.command())),
        }
    }

    /// Everything the core's answer to this request depends on, as one value: two
    /// requests with equal keys get the same reply from the same core, so a transport
    /// may keep an answer it has already written and give it again. That is the
    /// command (or button) and its options, the asker's locale (how a numeric date
    /// reads), whether it comes from a server and from someone who can manage it, the
    /// server's visibility setting, and today's date where the server keeps its time
    /// (an answer dated "today" changes at its midnight). Not the asker, the server's
    /// id, the time of day or the rest of the settings: no answer here reads them.
    ///
    /// `None` for the moderators' commands (and their buttons): their answers show
    /// the settings, the audit trail and the time, and may change them.
    pub fn answer_key(&self) -> Option<AnswerKey> {
        if self
            .spec()
            .is_some_and(|s| s.permission == Permission::ManageServer || s.needs_audit)
            || self.may_write()
        {
            return None;
        }
        let context = self.context();
        let (command, subcommand, options, page, focused, button) = match self {
            Self::Command(call) => (
                Some(call.command.clone()),
                call.subcommand.clone(),
                call.options.clone(),
                call.page,
                None,
                None,
            ),
            Self::Autocomplete { call, focused } => (
                Some(call.command.clone()),
                call.subcommand.clone(),
                call.options.clone(),
                call.page,
                Some(focused.clone()),
                None,
            ),
            Self::Button { id, .. } => (None, None, Options::new(), 0, None, Some(id.clone())),
        };
        Some(AnswerKey {
            kind: self.kind(),
            command,
            subcommand,
            options,
            page,
            focused,
            button,
            locale: context.locale.clone(),
            in_server: context.guild_id.is_some(),
            can_manage: context.can_manage(),
            private: context.settings.visibility == Visibility::Private,
            today: context.today(),
        })
    }

    /// Whether answering may change the server's settings: the subcommands and
    /// buttons the table marks as writing. The rest only read.
    pub fn may_write(&self) -> bool {
        let Some(spec) = self.spec() else {
            return false;
        };
        match self {
            Self::Command(call) => spec
                .subcommands
                .iter()
                .any(|s| s.writes && call.subcommand.as_deref() == Some(s.name)),
            Self::Autocomplete { .. } => false,
            Self::Button { id, .. } => match id {
                Some(ButtonId::Action { action, .. }) => {
                    spec.writing_buttons.contains(&action.as_str())
                }
                _ => false,
            },
        }
    }
}

/// What an answer depends on: see [`Request::answer_key`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AnswerKey {
    kind: RequestKind,
    command: Option<String>,
    subcommand: Option<String>,
    options: Options,
    page: usize,
    focused: Option<String>,
    button: Option<Option<ButtonId>>,
    locale: Option<String>,
    in_server: bool,
    can_manage: bool,
    private: bool,
    today: Date,
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
pub struct Response {
    pub reply: Reply,
    pub effect: Option<Effect>,
}

impl Response {
    /// How the request went, for logs and metrics: a polite notice (the asker's own
    /// mistake, or nothing found) or an answer.
    pub fn resolution(&self) -> Resolution {
        match &self.reply {
            Reply::Message(m) | Reply::Update(m)
                if m.tone == Tone::Notice && self.effect.is_none() =>
            {
                Resolution::Notice
            }
            _ => Resolution::Answered,
        }
    }
}

/// How a request went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resolution {
    /// Answered (a change saved, if it asked for one).
    Answered,
    /// A polite notice: a mistake the asker can fix, or nothing found.
    Notice,
    /// Not answered as asked: the change could not be saved, or the settings read.
    Failed,
}

impl Resolution {
    pub const ALL: [Resolution; 3] = [Self::Answered, Self::Notice, Self::Failed];

    /// The label in logs and metrics.
    pub fn label(self) -> &'static str {
        match self {
            Self::Answered => "ok",
            Self::Notice => "notice",
            Self::Failed => "error",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::ButtonId;

    fn ts() -> Timestamp {
        "2026-11-25T12:00:00Z".parse().unwrap()
    }

    fn config(sub: &str) -> Request {
        let mut call = Call::new("config", Vec::new(), Context::new(ts()));
        call.subcommand = Some(sub.to_owned());
        Request::Command(call)
    }

    fn click(custom_id: &str) -> Request {
        Request::Button {
            id: ButtonId::parse(custom_id),
            context: Context::new(ts()),
        }
    }

    #[test]
    fn the_table_says_which_requests_may_write() {
        for sub in ["onthisday", "onthisday-off", "replies"] {
            assert!(config(sub).may_write(), "{sub}");
        }
        for sub in ["show", "reset"] {
            assert!(!config(sub).may_write(), "{sub}");
        }
        assert!(click("config:reset:confirm").may_write());
        assert!(!click("config:reset:cancel").may_write());
        assert!(!click("page:reaction:turkey:2").may_write());
        assert!(!click("forged").may_write());
        let reaction = Call::new("reaction", Vec::new(), Context::new(ts()));
        assert!(!Request::Command(reaction).may_write());
    }

    #[test]
    fn a_button_names_the_command_that_made_it() {
        assert_eq!(
            click("page:timeline:2020-10:2").spec().unwrap().name,
            "timeline"
        );
        assert_eq!(click("config:reset:cancel").spec().unwrap().name, "config");
        assert!(click("page:nope:x:1").spec().is_none());
        assert_eq!(click("page:nope:x:1").kind(), RequestKind::Button);
    }

    /// Requests alike in their answer keys but not in what the key leaves out (the
    /// asker, the server's id, the time of day, the other settings, the audit trail)
    /// get the same reply, for every command of the table and their buttons and
    /// suggestions; the keys tell apart what the answers do depend on.
    #[test]
    fn requests_with_equal_answer_keys_get_equal_replies() {
        use crate::commands::{COMMANDS, Core, CoreConfig, parse_line};
        use crate::settings::tests::otd;
        use crate::settings::{LastChange, Paused, Setting};

        let core = Core::with_config(
            crate::dataset::embedded().unwrap(),
            CoreConfig {
                public_url: Some("https://example.org/kr".to_owned()),
                chart_text: None,
            },
        );
        let at = |s: &str| -> Timestamp { s.parse().unwrap() };
        let context = |now: &str, guild: Option<u64>, user: u64, permissions: Option<u64>| {
            let mut c = Context::new(at(now));
            c.guild_id = guild;
            c.user_id = Some(user);
            c.permissions = permissions;
            c
        };
        let mut contexts = vec![
            context("2026-11-25T00:00:01Z", Some(1), 10, Some(0)),
            context("2026-11-25T23:59:59Z", Some(2), 11, Some(1 << 10)),
            context("2026-11-26T12:00:00Z", Some(1), 10, Some(0)),
            context("2026-11-25T12:00:00Z", None, 12, None),
            context("2026-11-25T18:00:00Z", None, 13, None),
            context("2026-11-25T12:00:00Z", Some(3), 14, Some(MANAGE_GUILD)),
            context("2026-11-25T13:00:00Z", Some(4), 15, Some(ADMINISTRATOR)),
        ];
        let mut en_us = contexts[0].clone();
        en_us.locale = Some("en-US".to_owned());
        let mut en_gb = contexts[1].clone();
        en_gb.locale = Some("en-GB".to_owned());
        // A server with a daily post (in Tokyo, where 23:59 UTC is already the 26th),
        // paused, with changes and an audit trail; one that keeps its replies private.
        let mut busy = contexts[1].clone();
        busy.settings.onthisday = Some(otd("07:30", "Asia/Tokyo"));
        busy.settings.paused = Some(Paused {
            reason: "the channel is gone".to_owned(),
            at: at("2026-11-01T00:00:00Z"),
        });
        busy.settings.onthisday_changed = Some(LastChange {
            user_id: 9,
            at: at("2026-10-01T00:00:00Z"),
        });
        busy.audit = vec![AuditEntry {
            guild_id: 2,
            setting: Setting::OnThisDay,
            old_value: "off".to_owned(),
            new_value: "07:30 Asia/Tokyo".to_owned(),
            user_id: Some(9),
            at: at("2026-10-01T00:00:00Z"),
        }];
        let mut utc_daily = contexts[0].clone();
        utc_daily.settings.onthisday = Some(otd("09:00", "UTC"));
        let mut private = contexts[2].clone();
        private.settings.visibility = Visibility::Private;
        contexts.extend([en_us, en_gb, busy, utc_daily, private]);

        let mut lines: Vec<&str> = COMMANDS.iter().map(|s| s.example).collect();
        lines.extend([
            "/reaction Turkey",
            "/timeline 10/11/2020",
            "/timeline today",
            "/onthisday",
            "/config show",
        ]);
        let mut requests: Vec<Box<dyn Fn(Context) -> Request>> = Vec::new();
        for line in lines {
            let Ok(parsed) = parse_line(line) else {
                continue;
            };
            let make = move |c: Context| {
                let mut call = Call::new(parsed.command.name, parsed.options.clone(), c);
                call.subcommand = parsed.subcommand.map(str::to_owned);
                Request::Command(call)
            };
            requests.push(Box::new(make));
        }
        for id in [
            "page:reaction:turkey:2",
            "page:timeline:2020-10:2",
            "config:reset:confirm",
        ] {
            requests.push(Box::new(move |context| Request::Button {
                id: ButtonId::parse(id),
                context,
            }));
        }
        requests.push(Box::new(|c| Request::Autocomplete {
            call: Call::new(
                "reaction",
                vec![("actor".into(), Value::Text("Tur".into()))],
                c,
            ),
            focused: "actor".into(),
        }));

        let (mut same, mut apart) = (0, 0);
        for make in &requests {
            for (i, a) in contexts.iter().enumerate() {
                for b in &contexts[i + 1..] {
                    let (ra, rb) = (make(a.clone()), make(b.clone()));
                    let (Some(ka), Some(kb)) = (ra.answer_key(), rb.answer_key()) else {
                        assert!(ra.answer_key().is_none() && rb.answer_key().is_none());
                        assert!(ra.spec().unwrap().name == "config", "{ra:?}");
                        continue;
                    };
                    let (reply_a, reply_b) = (core.respond(&ra).reply, core.respond(&rb).reply);
                    if ka == kb {
                        same += 1;
                        assert_eq!(reply_a, reply_b, "{ka:?}");
                    } else {
                        apart += 1;
                    }
                }
            }
        }
        assert!(
            same > 50 && apart > 100,
            "{same} pairs alike, {apart} apart"
        );
    }
}
