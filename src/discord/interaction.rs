//! Discord's interactions turned into the core's requests. The gateway gets them
//! parsed by serenity ([`request`]); the HTTP endpoint parses the body itself, reading
//! only the fields the bot uses ([`from_json`]: a fifth of the work of serenity's whole
//! `Interaction`). Both give the same request for the same interaction (tested on
//! every fixture and command), so both ask the core the same thing.

use std::borrow::Cow;

use jiff::Timestamp;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serenity::all::{
    CommandDataOption, CommandDataOptionValue, CommandInteraction, Interaction, Permissions,
};

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

/// What a signed body is, read from its JSON by [`from_json`].
#[derive(Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // one per request, moved once: a box would cost more
pub enum Parsed {
    /// `type` 1: answered by the transport.
    Ping,
    /// A request for the core.
    Request(Request),
    /// A `type` the bot does not answer (modal submits, unknown ones).
    Unanswered,
}

/// Why a body is not an interaction the bot can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreadable {
    /// Not JSON, or JSON without a numeric `type`.
    NotJson,
    /// An interaction without a field Discord always sends, or with one of the wrong
    /// shape (an option's value that is not its type's, an id that is not a number).
    Malformed,
}

/// Reads an interaction straight from its JSON body, borrowing its strings: only the
/// fields the bot uses (and the ones Discord always sends: `id`, `application_id`,
/// `token`) are looked at, the rest are skipped unbuilt. Gives the request serenity's
/// parse and [`request`] give for the same body.
pub fn from_json(body: &[u8], now: Timestamp) -> Result<Parsed, Unreadable> {
    let wire: Wire<'_> = match serde_json::from_slice(body) {
        Ok(wire) => wire,
        // Valid JSON whose fields are not an interaction's: tell it apart from
        // something that is not JSON at all (or has no numeric type).
        Err(e) if e.is_data() => {
            return match serde_json::from_slice::<Kind>(body).map(|k| k.kind) {
                Ok(1) => Ok(Parsed::Ping),
                Ok(2..=4) => Err(Unreadable::Malformed),
                Ok(_) => Ok(Parsed::Unanswered),
                Err(_) => Err(Unreadable::NotJson),
            };
        }
        Err(_) => return Err(Unreadable::NotJson),
    };
    let kind = wire.kind;
    if kind == 1 {
        return Ok(Parsed::Ping);
    }
    if !matches!(kind, 2..=4) {
        return Ok(Parsed::Unanswered);
    }
    let (Some(_), Some(_), Some(_), Some(data)) =
        (wire.id, wire.application_id, wire.token, wire.data)
    else {
        return Err(Unreadable::Malformed);
    };
    let mut context = Context::new(now);
    context.locale = wire
        .locale
        .filter(|l| !l.0.is_empty())
        .map(|l| l.0.into_owned());
    context.guild_id = wire.guild_id.map(|g| g.0);
    let (user, permissions) = match wire.member {
        Some(member) => (member.user, member.permissions),
        None => (wire.user, None),
    };
    context.user_id = Some(user.ok_or(Unreadable::Malformed)?.id.0);
    context.permissions = permissions.map(|p| Permissions::from_bits_truncate(p.0).bits());
    if kind == 3 {
        let id = data.custom_id.ok_or(Unreadable::Malformed)?;
        return Ok(Parsed::Request(Request::Button {
            id: ButtonId::parse(&id.0),
            context,
        }));
    }
    let name = data.name.ok_or(Unreadable::Malformed)?;
    let mut options = Options::new();
    let mut subcommand = None;
    let mut focused = None;
    flatten_wire(data.options, &mut options, &mut subcommand, &mut focused)?;
    let mut call = Call::new(&name.0, options, context);
    call.subcommand = subcommand;
    if kind == 2 {
        return Ok(Parsed::Request(Request::Command(call)));
    }
    match focused.or_else(|| call.options.last().map(|(n, _)| n.clone())) {
        Some(focused) => Ok(Parsed::Request(Request::Autocomplete { call, focused })),
        None => Ok(Parsed::Unanswered),
    }
}

/// [`flatten`] for options read by [`from_json`], with serenity's rules for each
/// option type.
fn flatten_wire(
    given: Vec<WireOption<'_>>,
    options: &mut Options,
    subcommand: &mut Option<String>,
    focused: &mut Option<String>,
) -> Result<(), Unreadable> {
    use WireValue as W;
    for o in given {
        let value = match (o.focused == Some(true), o.kind, o.value) {
            (true, _, Some(W::Text(s))) => {
                *focused = Some(o.name.0.clone().into_owned());
                Value::Text(s.into_owned())
            }
            (true, ..) => return Err(Unreadable::Malformed),
            (false, 1 | 2, _) => {
                *subcommand = Some(o.name.0.into_owned());
                flatten_wire(
                    o.options.ok_or(Unreadable::Malformed)?,
                    options,
                    subcommand,
                    focused,
                )?;
                continue;
            }
            (false, 3, Some(W::Text(s))) => Value::Text(s.into_owned()),
            (false, 4, Some(W::Integer(i))) => Value::Integer(i),
            (false, 4, Some(W::Unsigned(u))) => {
                Value::Integer(i64::try_from(u).map_err(|_| Unreadable::Malformed)?)
            }
            (false, 5, Some(W::Boolean(b))) => Value::Boolean(b),
            (false, 10, Some(W::Integer(i))) => Value::Text((i as f64).to_string()),
            (false, 10, Some(W::Unsigned(u))) => Value::Text((u as f64).to_string()),
            (false, 10, Some(W::Float(f))) => Value::Text(f.to_string()),
            // A user, a channel or a role: its id.
            (false, 6..=8, Some(value)) => {
                Value::Text(snowflake(value).ok_or(Unreadable::Malformed)?.to_string())
            }
            // Mentionables and attachments are not options of the bot's commands,
            // nor are types Discord may add; serenity checks their ids, skipped here.
            (false, 9 | 11, Some(value)) => {
                snowflake(value).ok_or(Unreadable::Malformed)?;
                continue;
            }
            (false, 3..=11, _) => return Err(Unreadable::Malformed),
            (false, _, _) => continue,
        };
        options.push((o.name.0.into_owned(), value));
    }
    Ok(())
}

/// An id sent as a string of digits or a number, as serenity reads ids.
fn snowflake(value: WireValue<'_>) -> Option<u64> {
    match value {
        WireValue::Text(s) => s.parse().ok(),
        WireValue::Unsigned(u) => Some(u),
        WireValue::Integer(i) => u64::try_from(i).ok(),
        _ => None,
    }
}

/// The `type` alone.
#[derive(Deserialize)]
struct Kind {
    #[serde(rename = "type")]
    kind: u64,
}

/// The fields of an interaction the bot reads.
#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(rename = "type")]
    kind: u64,
    id: Option<Id>,
    application_id: Option<Id>,
    #[serde(borrow)]
    token: Option<Text<'a>>,
    guild_id: Option<Id>,
    #[serde(borrow)]
    locale: Option<Text<'a>>,
    member: Option<WireMember>,
    user: Option<WireUser>,
    #[serde(borrow)]
    data: Option<WireData<'a>>,
}

#[derive(Deserialize)]
struct WireMember {
    user: Option<WireUser>,
    permissions: Option<Id>,
}

#[derive(Deserialize)]
struct WireUser {
    id: Id,
}

#[derive(Deserialize)]
struct WireData<'a> {
    #[serde(borrow)]
    name: Option<Text<'a>>,
    #[serde(default, borrow)]
    options: Vec<WireOption<'a>>,
    #[serde(borrow)]
    custom_id: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct WireOption<'a> {
    #[serde(borrow)]
    name: Text<'a>,
    #[serde(rename = "type")]
    kind: u8,
    #[serde(borrow)]
    value: Option<WireValue<'a>>,
    #[serde(borrow)]
    options: Option<Vec<WireOption<'a>>>,
    focused: Option<bool>,
}

/// A JSON string, borrowed from the body unless it has escapes (serde's own
/// `Option<Cow<str>>` always copies).
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match WireValue::deserialize(deserializer)? {
            WireValue::Text(s) => Ok(Text(s)),
            _ => Err(de::Error::custom("expected a string")),
        }
    }
}

/// An option's value: JSON of any scalar type, kept as it came.
enum WireValue<'a> {
    Text(Cow<'a, str>),
    Integer(i64),
    Unsigned(u64),
    Float(f64),
    Boolean(bool),
}

impl<'de: 'a, 'a> Deserialize<'de> for WireValue<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = WireValue<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string, a number or a boolean")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(WireValue::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(WireValue::Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(WireValue::Text(Cow::Owned(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(WireValue::Integer(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(WireValue::Unsigned(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(WireValue::Float(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(WireValue::Boolean(v))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A Discord id (or a permission bitfield): a string of digits or a number.
struct Id(u64);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Id;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an id: a string of digits or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id, E> {
                v.parse().map(Id).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
                Ok(Id(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id, E> {
                u64::try_from(v).map(Id).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(V)
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
