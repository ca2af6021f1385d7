//! The reply model rendered to serenity's builders: what Discord receives. The model
//! already keeps Discord's limits; this is a mechanical translation that silences
//! mentions (`allowed_mentions` with nothing to parse) in every message, whether it
//! answers an interaction ([`message`]) or is the bot's own post in a channel
//! ([`channel_post`]): both carry the same [`embed`] and [`components`].
//!
//! A message with a chart attaches its picture: `data.attachments` names the file
//! (id 0, its name and its text alternative as the description) and the embed's
//! image points at `attachment://<file>`. Through the gateway serenity sends that as
//! a multipart callback; over the HTTP endpoint, [`http_body`] makes the multipart
//! response itself: a `payload_json` part and a `files[0]` part.

use serenity::all::{
    AutocompleteChoice, ButtonStyle, ChannelType, CommandOptionType, CreateActionRow,
    CreateAllowedMentions, CreateAttachment, CreateAutocompleteResponse, CreateButton,
    CreateCommand, CreateCommandOption, CreateEmbed, CreateEmbedAuthor, CreateEmbedFooter,
    CreateInteractionResponse, CreateInteractionResponseMessage, CreateMessage,
    InstallationContext, InteractionContext, Nonce, Permissions,
};

use karabakh_core::commands::{COMMANDS, CommandSpec, Kind, OptionSpec, Permission};
use karabakh_core::reply::{Button, Message, Reply, limits};

/// The interaction response for a reply, with `png` as the picture of its chart (if
/// the message has one). Without `png`, the response still names the attachment (for
/// its JSON, [`body`]); only a response with the picture may be sent.
pub fn response(reply: &Reply, png: Option<&[u8]>) -> CreateInteractionResponse {
    match reply {
        Reply::Message(m) => {
            CreateInteractionResponse::Message(message(m, png).ephemeral(m.private))
        }
        Reply::Update(m) => CreateInteractionResponse::UpdateMessage(message(m, png)),
        Reply::Choices(choices) => CreateInteractionResponse::Autocomplete(
            CreateAutocompleteResponse::new().set_choices(
                choices
                    .iter()
                    .map(|c| AutocompleteChoice::new(c.name.clone(), c.value.clone()))
                    .collect(),
            ),
        ),
    }
}

/// The JSON Discord receives for a reply: `{"type":4,"data":{…}}`. It is the whole
/// body of an answer without a chart, and the `payload_json` part of one with a
/// chart (its `data.attachments` names the file).
pub fn body(reply: &Reply) -> String {
    serde_json::to_string(&response(reply, None)).expect("interaction responses serialize")
}

/// An HTTP response body and its content type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpBody {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// What the HTTP interactions endpoint answers: the JSON of [`body`], or, when the
/// message attaches `png`, `multipart/form-data` with the JSON as `payload_json` and
/// the picture as `files[0]`, as Discord documents for responses with files.
pub fn http_body(reply: &Reply, png: Option<&[u8]>) -> HttpBody {
    let json = body(reply);
    let file = match (reply, png) {
        (Reply::Message(m) | Reply::Update(m), Some(png)) => {
            m.chart.as_ref().map(|c| (c.spec.filename(), png))
        }
        _ => None,
    };
    match file {
        None => HttpBody {
            content_type: "application/json".to_owned(),
            bytes: json.into_bytes(),
        },
        Some((filename, png)) => multipart(&json, filename, png),
    }
}

/// `multipart/form-data` (RFC 7578): `payload_json`, then `files[0]` named
/// `filename`. The boundary is chosen so that it occurs in neither part.
fn multipart(json: &str, filename: &str, png: &[u8]) -> HttpBody {
    let mut n: u32 = 0;
    let boundary = loop {
        let candidate = format!("karabakh-reactions-{n:08x}-{:016x}", png.len() ^ json.len());
        // One substring search per part (memchr's, not a comparison at every offset:
        // a picture is some 10 KB).
        let finder = memchr::memmem::Finder::new(candidate.as_bytes());
        if finder.find(json.as_bytes()).is_none() && finder.find(png).is_none() {
            break candidate;
        }
        n += 1;
    };
    let mut bytes = Vec::with_capacity(json.len() + png.len() + 400);
    bytes.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"payload_json\"\r\n\
             Content-Type: application/json\r\n\r\n"
        )
        .as_bytes(),
    );
    bytes.extend_from_slice(json.as_bytes());
    bytes.extend_from_slice(
        format!(
            "\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"files[0]\"; \
             filename=\"{filename}\"\r\nContent-Type: image/png\r\n\r\n"
        )
        .as_bytes(),
    );
    bytes.extend_from_slice(png);
    bytes.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    HttpBody {
        content_type: format!("multipart/form-data; boundary={boundary}"),
        bytes,
    }
}

/// A message's embed and buttons, with mentions silenced: an interaction's answer.
/// A message with a chart attaches it (`png`, its picture; empty when only the JSON
/// is wanted), described by the chart's text alternative.
pub fn message(m: &Message, png: Option<&[u8]>) -> CreateInteractionResponseMessage {
    let mut message = CreateInteractionResponseMessage::new()
        .embed(embed(m))
        .components(components(&m.buttons))
        .allowed_mentions(CreateAllowedMentions::new());
    if let Some(chart) = &m.chart {
        message = message.add_file(
            CreateAttachment::bytes(png.unwrap_or_default().to_vec(), chart.spec.filename())
                .description(chart.text.clone()),
        );
    }
    message
}

/// A page posted by the bot itself in a channel (the daily post), for `POST
/// /channels/{id}/messages`: the same embed and buttons as [`message`], mentions
/// silenced, and `nonce` with `enforce_nonce`, so that Discord answers a second create
/// with the same nonce (within a few minutes) with the first message instead of a new
/// one.
pub fn channel_post(m: &Message, nonce: &str) -> CreateMessage {
    // A post attaches no file: a chart, should a post have one, stays off it.
    let mut m = m.clone();
    m.drop_chart();
    CreateMessage::new()
        .embed(embed(&m))
        .components(components(&m.buttons))
        .allowed_mentions(CreateAllowedMentions::new())
        .nonce(Nonce::String(nonce.to_owned()))
        .enforce_nonce(true)
}

/// The embed of a message, coloured by its tone.
pub fn embed(m: &Message) -> CreateEmbed {
    let e = &m.embed;
    let mut embed = CreateEmbed::new()
        .title(e.title.clone())
        .description(e.description.clone())
        .footer(CreateEmbedFooter::new(e.footer.clone()))
        .colour(m.tone.color());
    if let Some(url) = &e.url {
        embed = embed.url(url.clone());
    }
    if let Some((name, url)) = &e.author {
        embed = embed.author(CreateEmbedAuthor::new(name.clone()).url(url.clone()));
    }
    if let Some(image) = &e.image {
        embed = embed.image(image.clone());
    }
    for f in &e.fields {
        embed = embed.field(f.name.clone(), f.value.clone(), f.inline);
    }
    embed
}

/// A message's buttons, in rows of at most [`limits::BUTTONS_PER_ROW`].
pub fn components(buttons: &[Button]) -> Vec<CreateActionRow> {
    buttons
        .chunks(limits::BUTTONS_PER_ROW)
        .map(|row| CreateActionRow::Buttons(row.iter().map(button).collect()))
        .collect()
}

fn button(b: &Button) -> CreateButton {
    match b {
        Button::Action {
            label,
            id,
            disabled,
            danger,
        } => CreateButton::new(id.to_string())
            .label(label.clone())
            .style(if *danger {
                ButtonStyle::Danger
            } else {
                ButtonStyle::Secondary
            })
            .disabled(*disabled),
        Button::Link { label, url } => CreateButton::new_link(url.clone()).label(label.clone()),
    }
}

/// The definition Discord registers for one command.
pub fn command(spec: &CommandSpec) -> CreateCommand {
    fn option(o: &OptionSpec) -> CreateCommandOption {
        let option = match o.kind {
            Kind::Text { max_length } => {
                CreateCommandOption::new(CommandOptionType::String, o.name, o.description)
                    .max_length(max_length)
                    .set_autocomplete(o.autocomplete)
            }
            Kind::Integer { min, max } => {
                CreateCommandOption::new(CommandOptionType::Integer, o.name, o.description)
                    .min_int_value(min.max(0) as u64)
                    .max_int_value(max.max(0) as u64)
            }
            Kind::Boolean => {
                CreateCommandOption::new(CommandOptionType::Boolean, o.name, o.description)
            }
            Kind::Channel => {
                CreateCommandOption::new(CommandOptionType::Channel, o.name, o.description)
                    .channel_types(vec![ChannelType::Text, ChannelType::News])
            }
            Kind::Choice(words) => words.iter().fold(
                CreateCommandOption::new(CommandOptionType::String, o.name, o.description),
                |option, w| option.add_string_choice(*w, *w),
            ),
        };
        option.required(o.required)
    }
    let mut c = CreateCommand::new(spec.name)
        .description(spec.description)
        .integration_types(vec![InstallationContext::Guild])
        .contexts(if spec.guild_only {
            vec![InteractionContext::Guild]
        } else {
            vec![
                InteractionContext::Guild,
                InteractionContext::BotDm,
                InteractionContext::PrivateChannel,
            ]
        });
    if spec.permission == Permission::ManageServer {
        c = c.default_member_permissions(Permissions::MANAGE_GUILD);
    }
    for o in spec.options {
        c = c.add_option(option(o));
    }
    for sub in spec.subcommands {
        let mut s =
            CreateCommandOption::new(CommandOptionType::SubCommand, sub.name, sub.description);
        for o in sub.options {
            s = s.add_sub_option(option(o));
        }
        c = c.add_option(s);
    }
    c
}

/// Every command's definition, in table order.
pub fn commands() -> Vec<CreateCommand> {
    COMMANDS.iter().map(command).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The boundary occurs in neither part: a picture or a JSON holding the first
    /// candidates gets the next one.
    #[test]
    fn the_boundary_is_in_neither_part() {
        let boundary = |json: &str, png: &[u8]| {
            let body = multipart(json, "strip.png", png);
            let b = body
                .content_type
                .strip_prefix("multipart/form-data; boundary=");
            b.unwrap().to_owned()
        };
        let candidate =
            |n: u32, len_xor: usize| format!("karabakh-reactions-{n:08x}-{len_xor:016x}");
        let json = r#"{"type":4}"#;
        let png = b"\x89PNG plain";
        assert_eq!(boundary(json, png), candidate(0, png.len() ^ json.len()));
        // A 50-byte picture holding the first candidate for its length.
        let png = format!("x{}yyyyy", candidate(0, 50 ^ json.len())).into_bytes();
        assert_eq!(png.len(), 50);
        assert_eq!(boundary(json, &png), candidate(1, 50 ^ json.len()));
        // A 103-byte JSON holding the first two.
        let len_xor = png.len() ^ 103;
        let json = format!(
            r#"{{"a":"{}","b":"{}"}}"#,
            candidate(0, len_xor),
            candidate(1, len_xor)
        );
        assert_eq!(json.len(), 103);
        assert_eq!(boundary(&json, &png), candidate(2, len_xor));
    }
}
