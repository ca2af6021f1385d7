//! The command table: every command's definition (name, options, who may use it) and
//! the functions that answer it. Registration, `/help`, the console's parser and
//! dispatch all read it, so a command is declared once.

use super::{Answered, Call, Context, Core};
use super::{about, config, reaction, search, source, timeline, topic};
use crate::reply::Choice;

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
    /// Its answer may change the server's settings (an [`Effect`](super::Effect)).
    pub writes: bool,
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
/// Answers a click on one of the command's own buttons: `(core, its action, context)`.
pub type OnButton = fn(&Core, &str, &Context) -> Answered;

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
    /// The actions of its own buttons whose answer may change the server's settings.
    pub writing_buttons: &'static [&'static str],
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
            assert!(c.writing_buttons.is_empty() || c.button.is_some());
            assert!(c.options.is_empty() || c.subcommands.is_empty());
            assert!(c.example.starts_with(&format!("/{}", c.name)));
        }
    }
}
