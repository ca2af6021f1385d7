//! Interaction payloads as Discord sends them, built from the fixtures serenity 0.12.5
//! parses (`tests/fixtures/interactions/`): a command typed as in Discord, a command
//! in any server from any member, a `/config` subcommand, a button click.

use karabakh_core::commands::{Kind, MANAGE_GUILD, Permission, Request, Value, spec};
use karabakh_reactions::console;
use serde_json::{Value as Json, json};
use serenity::all::Interaction;

use super::context;

/// The fixture's server, and a text channel in it (for `Kind::Channel` options).
pub const GUILD: u64 = 1_100_000_000_000_000_100;
pub const CHANNEL_ID: &str = "1100000000000000200";

/// Member permissions: none that matter, Manage Server, Administrator.
pub const NO_MANAGE: &str = "2248473465835073";
pub const MANAGE_SERVER: &str = "32";
pub const ADMINISTRATOR: &str = "8";

/// A fixture file, as JSON.
pub fn fixture(name: &str) -> Json {
    let path = format!(
        "{}/tests/fixtures/interactions/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub fn parse(json: Json) -> Interaction {
    serde_json::from_value(json).expect("serenity parses the payload")
}

/// The fixture's server interaction moved to `guild`, from `user` with `permissions`.
pub fn in_guild(mut json: Json, guild: u64, user: u64, permissions: &str) -> Json {
    let g = guild.to_string();
    json["guild_id"] = g.clone().into();
    json["guild"]["id"] = g.clone().into();
    json["channel"]["guild_id"] = g.clone().into();
    json["authorizing_integration_owners"]["0"] = g.clone().into();
    if json["data"].get("guild_id").is_some() {
        json["data"]["guild_id"] = g.into();
    }
    json["member"]["user"]["id"] = user.to_string().into();
    json["member"]["permissions"] = permissions.into();
    json
}

/// A slash command typed as in Discord (`/reaction Turkey`, `/config onthisday
/// channel:#history time:07:30 …`), sent in the fixture's server: each option with
/// its Discord type; a moderator's permissions for a moderators' command.
pub fn from_line(line: &str) -> Json {
    let Ok(Request::Command(call)) = console::request(line, context(), false) else {
        panic!("{line} is a command")
    };
    let spec = spec(&call.command).unwrap();
    let option_specs = spec.options_of(call.subcommand.as_deref());
    let options: Vec<Json> = call
        .options
        .iter()
        .map(|(name, value)| {
            let kind = option_specs.iter().find(|o| o.name == name).unwrap().kind;
            match (kind, value) {
                (Kind::Text { .. } | Kind::Choice(_), Value::Text(s)) => text(name, s),
                (Kind::Integer { .. }, Value::Integer(i)) => {
                    json!({"name": name, "type": 4, "value": i})
                }
                (Kind::Boolean, Value::Boolean(b)) => boolean(name, *b),
                // `#history` as typed in the example: Discord sends the channel's id.
                (Kind::Channel, Value::Text(s)) => channel(
                    name,
                    s.parse()
                        .unwrap_or_else(|_| CHANNEL_ID.parse().expect("an id")),
                ),
                other => panic!("{line}: {other:?}"),
            }
        })
        .collect();
    let options = match &call.subcommand {
        Some(sub) => json!([{"name": sub, "type": 1, "options": options}]),
        None => json!(options),
    };
    let mut p = fixture("command-guild.json");
    p["data"]["name"] = json!(call.command);
    p["data"]["options"] = options;
    if spec.permission == Permission::ManageServer {
        p["member"]["permissions"] = json!(MANAGE_GUILD.to_string());
    }
    p
}

/// `/name` with `options` (already in Discord's shape) in `guild`, from `user`.
pub fn command(guild: u64, user: u64, permissions: &str, name: &str, options: Json) -> Interaction {
    let mut json = in_guild(fixture("command-guild.json"), guild, user, permissions);
    json["data"]["name"] = name.into();
    json["data"]["options"] = options;
    parse(json)
}

/// `/config <sub> …` in `guild`, from `user`.
pub fn config(guild: u64, user: u64, permissions: &str, sub: &str, options: Json) -> Interaction {
    command(
        guild,
        user,
        permissions,
        "config",
        json!([{"name": sub, "type": 1, "options": options}]),
    )
}

/// The options of `/config onthisday`.
pub fn onthisday(channel_id: u64, time: &str, zone: &str) -> Json {
    json!([
        channel("channel", channel_id),
        text("time", time),
        text("timezone", zone)
    ])
}

/// A click on a button under a bot message in `guild`.
pub fn click(guild: u64, user: u64, permissions: &str, custom_id: &str) -> Interaction {
    let mut json = in_guild(fixture("button.json"), guild, user, permissions);
    json["data"]["custom_id"] = custom_id.into();
    parse(json)
}

pub fn text(name: &str, value: &str) -> Json {
    json!({"name": name, "type": 3, "value": value})
}

pub fn channel(name: &str, id: u64) -> Json {
    json!({"name": name, "type": 7, "value": id.to_string()})
}

pub fn boolean(name: &str, value: bool) -> Json {
    json!({"name": name, "type": 5, "value": value})
}
