//! `/topic name:<text>`: a background summary.

use super::{Call, CommandSpec, Core, Kind, OptionSpec, PRIVATE, Permission};
use crate::query::Lookup;
use crate::reply::markdown::{self, escape, escape_user};
use crate::reply::{Answer, Choice, Field};

pub const SPEC: CommandSpec = CommandSpec {
    name: "topic",
    description: "A background summary, from another Wikipedia article: Madrid Principles, Lachin offensive …",
    options: &[
        OptionSpec {
            name: "name",
            description: "A background topic, e.g. Madrid Principles",
            kind: Kind::Text { max_length: 100 },
            required: true,
            autocomplete: true,
        },
        PRIVATE,
    ],
    example: "/topic Madrid Principles",
    permission: Permission::Everyone,
    guild_only: false,
    needs_audit: false,
    run: |core, call| run(core, call).into(),
    complete: Some(complete),
    button: None,
    writing_buttons: &[],
    subcommands: &[],
};

fn run(core: &Core, call: &Call) -> Answer {
    let typed = call.text("name").unwrap_or_default();
    let ix = &core.index;
    let titles = |list: &[usize]| -> Vec<&str> {
        list.iter()
            .map(|&i| ix.data.topics[i].title.as_str())
            .collect()
    };
    let topic = match ix.find_topic(&typed) {
        Lookup::Found(i) => &ix.data.topics[i],
        Lookup::Ambiguous(options) => {
            return core.notice(
                "Which one?",
                &format!(
                    "'{}' could be {}. Type the title you mean.",
                    escape_user(&typed),
                    escape(&titles(&options).join(", "))
                ),
            );
        }
        Lookup::NotFound { suggestions } => {
            let all: Vec<&str> = ix.data.topics.iter().map(|t| t.title.as_str()).collect();
            let mut text = format!("No background topic matches '{}'.", escape_user(&typed));
            if !suggestions.is_empty() {
                text.push_str(&Core::did_you_mean(&titles(&suggestions)));
            }
            if ix.in_text(&typed) {
                text.push_str(&format!(
                    " The words are in the text: try /search {}",
                    escape_user(&typed)
                ));
            } else if suggestions.is_empty() {
                text.push_str(&format!(" The topics are: {}.", escape(&all.join(", "))));
            }
            return core.notice("No match", &text);
        }
    };
    let mut answer = core.new_answer(&topic.title);
    answer.credit = core.topic_credit(topic);
    answer.intro = Some(format!(
        "The lead of the Wikipedia article [{}]({}):",
        escape(&topic.title),
        topic.url
    ));
    answer.block(None, format!("> {}", escape(&topic.text)));
    if !topic.events.is_empty() {
        let dates: Vec<String> = topic
            .events
            .iter()
            .map(|e| markdown::date_of(&e.date))
            .collect();
        answer.fields.push(Field {
            name: "Dates it names".to_owned(),
            value: dates.join(" · "),
            inline: false,
        });
    }
    answer
}

fn complete(core: &Core, _call: &Call, _option: &str, typed: &str) -> Vec<Choice> {
    let ix = &core.index;
    ix.complete_topic(typed, 25)
        .into_iter()
        .map(|i| {
            let t = &ix.data.topics[i];
            Choice {
                name: t.title.clone(),
                value: t.title.clone(),
            }
        })
        .collect()
}
