//! What a button under one of the bot's messages does, as its `custom_id` carries it.
//! Made by the reply model and the commands, parsed once where an interaction comes
//! in, and written back to text only by the edge that sends it.

use std::fmt;

/// A button of the bot's own. Discord hands back the `custom_id` on a click; nothing
/// else is kept, so the id says everything needed to answer it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ButtonId {
    /// Page `page` of the answer a pager rebuilds: `page:<command>:<argument>:<page>`.
    Page { pager: Pager, page: usize },
    /// One of a command's own buttons: `<command>:<action>`, e.g. `config:reset:confirm`.
    Action { command: String, action: String },
}

/// How to rebuild a paged answer from a button: the command and the value of its
/// first option (an actor's id, a date span, a folded query).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pager {
    pub command: String,
    pub argument: String,
}

impl Pager {
    pub fn new(command: &str, argument: impl Into<String>) -> Self {
        Self {
            command: command.to_owned(),
            argument: argument.into(),
        }
    }
}

const PAGE: &str = "page";

impl ButtonId {
    /// A command's own button.
    pub fn action(command: &str, action: &str) -> Self {
        Self::Action {
            command: command.to_owned(),
            action: action.to_owned(),
        }
    }

    /// Reads a `custom_id`; `None` for one the bot never made.
    pub fn parse(custom_id: &str) -> Option<Self> {
        if let Some(rest) = custom_id.strip_prefix("page:") {
            let (rest, page) = rest.rsplit_once(':')?;
            let page = page.parse().ok()?;
            let (command, argument) = rest.split_once(':')?;
            return (!command.is_empty()).then(|| Self::Page {
                pager: Pager::new(command, argument),
                page,
            });
        }
        let (command, action) = custom_id.split_once(':')?;
        (!command.is_empty() && command != PAGE).then(|| Self::action(command, action))
    }

    /// The command the button belongs to.
    pub fn command(&self) -> &str {
        match self {
            Self::Page { pager, .. } => &pager.command,
            Self::Action { command, .. } => command,
        }
    }
}

/// Serialised as the `custom_id` it becomes (for snapshots of the reply model).
impl serde::Serialize for ButtonId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl fmt::Display for ButtonId {
    /// The `custom_id` Discord carries.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Page { pager, page } => {
                write!(f, "{PAGE}:{}:{}:{page}", pager.command, pager.argument)
            }
            Self::Action { command, action } => write!(f, "{command}:{action}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_back_as_they_were_written() {
        for id in [
            ButtonId::Page {
                pager: Pager::new("reaction", "turkey"),
                page: 2,
            },
            ButtonId::Page {
                pager: Pager::new("timeline", "2020-10-01..2020-10-12"),
                page: 10,
            },
            // A folded search query may hold spaces and colons.
            ButtonId::Page {
                pager: Pager::new("search", "a: b"),
                page: 1,
            },
            ButtonId::action("config", "reset:confirm"),
        ] {
            assert_eq!(ButtonId::parse(&id.to_string()), Some(id));
        }
        assert_eq!(
            ButtonId::parse("page:reaction:turkey:2").unwrap().command(),
            "reaction"
        );
        assert_eq!(
            ButtonId::action("config", "reset:cancel").to_string(),
            "config:reset:cancel"
        );
    }

    #[test]
    fn ids_the_bot_never_made_are_refused() {
        for bad in [
            "",
            "nope",
            "page:reaction:turkey",
            "page:reaction:turkey:x",
            "page::x:1",
            ":x",
            "page:",
        ] {
            assert_eq!(ButtonId::parse(bad), None, "{bad}");
        }
    }
}
