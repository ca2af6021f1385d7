//! The reply model rendered to serenity's builders: what Discord receives. The model
//! already keeps Discord's limits; this is a mechanical translation that silences
//! mentions (`allowed_mentions` with nothing to parse) in every message, whether it
//! answers an interaction ([`message`]) or is the bot's own post in a channel
//! ([`channel_post`]): both carry the same [`embed`] and [`components`].

use serenity::all::{
    AutocompleteChoice, ButtonStyle, ChannelType, CommandOptionType, CreateActionRow,
    CreateAllowedMentions, CreateAutocompleteResponse, CreateButton, CreateCommand,
    CreateCommandOption, CreateEmbed, CreateEmbedAuthor, CreateEmbedFooter,
    CreateInteractionResponse, CreateInteractionResponseMessage, CreateMessage,
    InstallationContext, InteractionContext, Nonce, Permissions,
};

use karabakh_core::commands::{COMMANDS, CommandSpec, Kind, OptionSpec, Permission};
use karabakh_core::reply::{Button, Message, Reply, limits};

/// The interaction response for a reply.
pub fn response(reply: &Reply) -> CreateInteractionResponse {
    match reply {
        Reply::Message(m) => CreateInteractionResponse::Message(message(m).ephemeral(m.private)),
        Reply::Update(m) => CreateInteractionResponse::UpdateMessage(message(m)),
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

/// The JSON body Discord receives for a reply: `{"type":4,"data":{…}}`.
pub fn body(reply: &Reply) -> String {
    serde_json::to_string(&response(reply)).expect("interaction responses serialize")
}

/// A message's embed and buttons, with mentions silenced: an interaction's answer.
pub fn message(m: &Message) -> CreateInteractionResponseMessage {
    CreateInteractionResponseMessage::new()
        .embed(embed(m))
        .components(components(&m.buttons))
        .allowed_mentions(CreateAllowedMentions::new())
}

/// A page posted by the bot itself in a channel (the daily post), for `POST
/// /channels/{id}/messages`: the same embed and buttons as [`message`], mentions
/// silenced, and `nonce` with `enforce_nonce`, so that Discord answers a second create
/// with the same nonce (within a few minutes) with the first message instead of a new
/// one.
pub fn channel_post(m: &Message, nonce: &str) -> CreateMessage {
    CreateMessage::new()
        .embed(embed(m))
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
