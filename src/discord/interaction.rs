//! Discord's interactions (as serenity parses them) turned into the core's requests.
//! The gateway and the HTTP endpoint both go through here, so both ask the core the
//! same thing for the same interaction.

use jiff::Timestamp;
use serenity::all::{CommandDataOption, CommandDataOptionValue, CommandInteraction, Interaction};

use karabakh_core::commands::{Call, Context, Options, Request, Value};
use karabakh_core::reply::ButtonId;

/// The request an interaction makes, or `None` for one the core does not answer
/// (PING is answered by the transport; modals and others are not used).
pub fn request(interaction: &Interaction, now: Timestamp) -> Option<Request> {
    match interaction {
        Interaction::Command(cmd) => {
            let (call, _) = call(cmd, now);
            Some(Request::Command(call))
        }
        Interaction::Autocomplete(cmd) => {
            let (call, focused) = call(cmd, now);
            let focused = focused.or_else(|| call.options.last().map(|(n, _)| n.clone()))?;
            Some(Request::Autocomplete { call, focused })
        }
        Interaction::Component(c) => {
            let mut context = Context::new(now);
            context.locale = Some(c.locale.clone()).filter(|l| !l.is_empty());
            context.guild_id = c.guild_id.map(|g| g.get());
            context.user_id = Some(c.user.id.get());
            context.permissions = c
                .member
                .as_ref()
                .and_then(|m| m.permissions)
                .map(|p| p.bits());
            Some(Request::Button {
                id: ButtonId::parse(&c.data.custom_id),
                context,
            })
        }
        _ => None,
    }
}

/// The call a command or autocomplete interaction makes, and the option being typed.
fn call(cmd: &CommandInteraction, now: Timestamp) -> (Call, Option<String>) {
    let mut context = Context::new(now);
    // The asker's language, which Discord sends with every interaction: how a numeric
    // date is read.
    context.locale = Some(cmd.locale.clone()).filter(|l| !l.is_empty());
    context.guild_id = cmd.guild_id.map(|g| g.get());
    context.user_id = Some(cmd.user.id.get());
    context.permissions = cmd
        .member
        .as_ref()
        .and_then(|m| m.permissions)
        .map(|p| p.bits());
    let mut options = Options::new();
    let mut subcommand = None;
    let mut focused = None;
    flatten(
        &cmd.data.options,
        &mut options,
        &mut subcommand,
        &mut focused,
    );
    let mut call = Call::new(&cmd.data.name, options, context);
    call.subcommand = subcommand;
    (call, focused)
}

fn flatten(
    given: &[CommandDataOption],
    options: &mut Options,
    subcommand: &mut Option<String>,
    focused: &mut Option<String>,
) {
    for o in given {
        let value = match &o.value {
            CommandDataOptionValue::SubCommand(inner)
            | CommandDataOptionValue::SubCommandGroup(inner) => {
                *subcommand = Some(o.name.clone());
                flatten(inner, options, subcommand, focused);
                continue;
            }
            CommandDataOptionValue::Autocomplete { value, .. } => {
                *focused = Some(o.name.clone());
                Value::Text(value.clone())
            }
            CommandDataOptionValue::String(s) => Value::Text(s.clone()),
            CommandDataOptionValue::Integer(i) => Value::Integer(*i),
            CommandDataOptionValue::Boolean(b) => Value::Boolean(*b),
            CommandDataOptionValue::Number(n) => Value::Text(n.to_string()),
            CommandDataOptionValue::Channel(id) => Value::Text(id.get().to_string()),
            CommandDataOptionValue::Role(id) => Value::Text(id.get().to_string()),
            CommandDataOptionValue::User(id) => Value::Text(id.get().to_string()),
            _ => continue,
        };
        options.push((o.name.clone(), value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Interaction {
        let path = format!(
            "{}/tests/fixtures/interactions/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn now() -> Timestamp {
        "2026-11-25T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_command_in_a_server_carries_its_options_and_permissions() {
        let Some(Request::Command(call)) = request(&fixture("command-guild.json"), now()) else {
            panic!()
        };
        assert_eq!(call.command, "reaction");
        assert_eq!(
            call.options,
            vec![("actor".to_owned(), Value::Text("Turkey".into()))]
        );
        assert_eq!(call.context.guild_id, Some(1100000000000000100));
        assert_eq!(call.context.user_id, Some(1100000000000000500));
        assert_eq!(
            call.context.locale.as_deref(),
            Some("en-GB"),
            "the asker's locale"
        );
        assert!(
            !call.context.can_manage(),
            "the fixture's member lacks Manage Server"
        );

        // The same member with Manage Server (1 << 5), then with Administrator (1 << 3).
        for bits in ["32", "8"] {
            let path = format!(
                "{}/tests/fixtures/interactions/command-guild.json",
                env!("CARGO_MANIFEST_DIR")
            );
            let mut json: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            json["member"]["permissions"] = bits.into();
            let Some(Request::Command(call)) =
                request(&serde_json::from_value(json).unwrap(), now())
            else {
                panic!()
            };
            assert!(call.context.can_manage(), "permissions {bits}");
        }
    }

    #[test]
    fn a_command_in_a_dm_has_no_server() {
        let Some(Request::Command(call)) = request(&fixture("command-dm.json"), now()) else {
            panic!()
        };
        assert_eq!(call.command, "timeline");
        assert_eq!(call.context.guild_id, None);
        assert_eq!(call.context.locale.as_deref(), Some("en-US"));
        assert!(!call.context.can_manage());
    }

    #[test]
    fn autocomplete_and_buttons() {
        let Some(Request::Autocomplete { call, focused }) =
            request(&fixture("autocomplete.json"), now())
        else {
            panic!()
        };
        assert_eq!(
            (call.command.as_str(), focused.as_str()),
            ("reaction", "actor")
        );
        assert_eq!(call.text("actor").as_deref(), Some("Tur"));
        let Some(Request::Button { id, .. }) = request(&fixture("button.json"), now()) else {
            panic!()
        };
        assert_eq!(
            id.map(|id| id.to_string()).as_deref(),
            Some("page:reaction:turkey:2")
        );
        assert_eq!(request(&fixture("ping.json"), now()), None);
    }
}
