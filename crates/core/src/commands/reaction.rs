//! `/reaction actor:<text>`: an actor's statements in date order, then the
//! statements that mention it.

use super::{Call, CommandSpec, Core, Kind, OptionSpec, PRIVATE, Permission, Who};
use crate::query::Lookup;
use crate::reply::markdown::{escape, escape_user};
use crate::reply::{Answer, Button, ButtonId, Choice, Pager};
use crate::text::{capitalise, plural};

pub const SPEC: CommandSpec = CommandSpec {
    name: "reaction",
    description: "What a state, organisation or person said, quoted with its citations",
    options: &[
        OptionSpec {
            name: "actor",
            description: "A state, organisation or person, e.g. Turkey, NATO, Erdoğan",
            kind: Kind::Text { max_length: 100 },
            required: true,
            autocomplete: true,
        },
        PRIVATE,
    ],
    example: "/reaction Turkey",
    permission: Permission::Everyone,
    guild_only: false,
    needs_audit: false,
    run: |core, call| run(core, call).into(),
    complete: Some(complete),
    button: None,
    writing_buttons: &[],
    subcommands: &[],
};

const STATEMENTS: &str = "Statements";
const MENTIONED: &str = "Also mentioned in";

fn run(core: &Core, call: &Call) -> Answer {
    let typed = call.text("actor").unwrap_or_default();
    let ix = &core.index;
    let actor = match ix.find_actor(&typed) {
        Lookup::Found(i) => i,
        Lookup::Ambiguous(options) => {
            let shown = &options[..options.len().min(OPTIONS)];
            let more = match options.len() - shown.len() {
                0 => String::new(),
                n => format!(" and {n} more (type more of the name)"),
            };
            let mut answer = core.notice(
                "Which one?",
                &format!(
                    "'{}' could mean {}{more}. Type the name you mean, or pick it below.",
                    escape_user(&typed),
                    escape(&names(core, shown).join(", ")),
                ),
            );
            answer.actions = open_buttons(core, &options);
            return answer;
        }
        Lookup::NotFound { suggestions } => {
            if typed.trim().is_empty() {
                return core.notice(
                    "No match",
                    "Name a state, organisation or person, e.g. /reaction Turkey. Start typing to see suggestions.",
                );
            }
            let mut text = format!("No actor matches '{}'.", escape_user(&typed));
            text.push_str(&Core::did_you_mean(&names(core, &suggestions)));
            if ix.in_text(&typed) {
                text.push_str(&format!(
                    " The words are in the text: try /search {}",
                    escape_user(&typed)
                ));
            } else if suggestions.is_empty() {
                text.push_str(" Start typing a name to see suggestions.");
            }
            let mut answer = core.notice("No match", &text);
            answer.actions = open_buttons(core, &suggestions);
            return answer;
        }
    };
    let a = ix.actor(actor);
    let own = ix.statements_of(actor);
    let mentioned = ix.mentions_of(actor);
    let mut answer = core.new_answer(&a.name);
    answer.pager = Some(Pager::new("reaction", a.id.clone()));
    let mut intro = capitalise(&match (own.len(), mentioned.len()) {
        (0, 0) => "the dataset quotes no statement by or about it.".to_owned(),
        (0, m) => format!("no statement of its own in the dataset; mentioned in {m}."),
        (n, 0) => format!("{n} {}, in date order.", statements(n)),
        (n, m) => format!(
            "{n} {}, in date order; mentioned in {m} more.",
            statements(n)
        ),
    });
    if let Some(role) = ix.describe(actor) {
        intro.push_str(&format!(
            "\nIn the source: \u{201c}{}\u{201d}",
            escape(role)
        ));
    }
    answer.intro = Some(intro);
    answer.empty = own.is_empty() && mentioned.is_empty();
    for &si in own {
        core.push_statement(&mut answer, Some(STATEMENTS), si, Who::Besides(actor), None);
    }
    for &si in mentioned {
        core.push_statement(&mut answer, Some(MENTIONED), si, Who::All, None);
    }
    answer
}

fn names<'a>(core: &'a Core, actors: &[usize]) -> Vec<&'a str> {
    actors
        .iter()
        .map(|&i| core.index.actor(i).name.as_str())
        .collect()
}

/// The most actors a "which one?" offers as buttons.
const OPTIONS: usize = 10;

/// A button per actor that opens its answer in place of the question.
fn open_buttons(core: &Core, actors: &[usize]) -> Vec<Button> {
    actors
        .iter()
        .take(OPTIONS)
        .map(|&i| {
            let a = core.index.actor(i);
            Button::Action {
                label: a.name.clone(),
                id: ButtonId::Page {
                    pager: Pager::new("reaction", a.id.clone()),
                    page: 1,
                },
                disabled: false,
                danger: false,
            }
        })
        .collect()
}

fn statements(n: usize) -> &'static str {
    plural(n, "statement", "statements")
}

fn complete(core: &Core, _call: &Call, _option: &str, typed: &str) -> Vec<Choice> {
    let ix = &core.index;
    ix.complete_actor(typed, 25)
        .into_iter()
        .map(|i| {
            let a = ix.actor(i);
            Choice {
                name: match ix.describe(i) {
                    Some(role) => format!("{} · {role}", a.name),
                    None => a.name.clone(),
                },
                value: a.name.clone(),
            }
        })
        .collect()
}
