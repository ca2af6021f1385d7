//! `/about` and `/help`.

use super::{COMMANDS, Call, CommandSpec, Core, PRIVATE, Permission};
use crate::reply::markdown::{self, escape};
use crate::reply::{Answer, Field};

pub const ABOUT: CommandSpec = CommandSpec {
    name: "about",
    description: "What the bot knows: counts, dates covered, dataset version, licence",
    options: &[PRIVATE],
    example: "/about",
    permission: Permission::Everyone,
    guild_only: false,
    needs_audit: false,
    run: |core, call| about(core, call).into(),
    complete: None,
    button: None,
    writing_buttons: &[],
    subcommands: &[],
};

pub const HELP: CommandSpec = CommandSpec {
    name: "help",
    description: "Every command, one line each",
    options: &[PRIVATE],
    example: "/help",
    permission: Permission::Everyone,
    guild_only: false,
    needs_audit: false,
    run: |core, call| help(core, call).into(),
    complete: None,
    button: None,
    writing_buttons: &[],
    subcommands: &[],
};

fn about(core: &Core, _call: &Call) -> Answer {
    let d = core.data();
    let c = core.index.coverage();
    let mut answer = core.new_answer("About this bot");
    answer.intro = Some(format!(
        "Quotes the international reactions to the 2020 Nagorno-Karabakh war from the Wikipedia article \
         [{}]({}), word for word, each with the citation numbers that follow it in the article. It adds no \
         label, judgement or summary of its own. Background summaries quote the leads of other Wikipedia \
         articles, each credited with its own title and link.",
        escape(&d.source.title),
        d.source.url
    ));
    let dated = d.statements.iter().filter(|s| s.date.is_known()).count();
    let range = |a: Option<jiff::civil::Date>,
                 b: Option<jiff::civil::Date>,
                 f: fn(jiff::civil::Date) -> String| match (a, b) {
        (Some(a), Some(b)) => format!("{} – {}", f(a), f(b)),
        _ => "none".to_owned(),
    };
    let field = |name: &str, value: String| Field {
        name: name.to_owned(),
        value,
        inline: true,
    };
    answer.fields = vec![
        field(
            "Statements",
            format!("{} ({dated} dated)", d.statements.len()),
        ),
        field("Actors", d.actors.len().to_string()),
        field("Background topics", d.topics.len().to_string()),
        field("Citations", format!("[1]–[{}]", d.source.citations)),
        field(
            "Reactions dated",
            range(c.statements_from, c.statements_to, markdown::day),
        ),
        field(
            "Background",
            range(c.background_from, c.background_to, |d| d.year().to_string()),
        ),
        field("Dataset version", format!("`{}`", d.version)),
        Field {
            name: "Licence".to_owned(),
            value: format!(
                "Text by Wikipedia contributors under [{}]({}); the dataset derived from it is under the same licence.",
                escape(&d.source.licence),
                d.source.licence_url
            ),
            inline: false,
        },
    ];
    answer
}

fn help(core: &Core, _call: &Call) -> Answer {
    let mut answer = core.new_answer("Commands");
    for c in COMMANDS {
        let end = if c.description.ends_with(['.', '…']) {
            ""
        } else {
            "."
        };
        answer.block(
            None,
            format!(
                "`{}` — {}{end} Example: `{}`",
                c.usage(),
                escape(c.description),
                c.example
            ),
        );
        for (usage, description) in c.subcommand_usages() {
            answer.block(None, format!("  `{usage}` — {}.", escape(description)));
        }
    }
    answer
}
