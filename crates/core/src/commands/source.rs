//! `/source number:<1–243>`: every statement citing a reference, and where the
//! reference list lives.

use super::{Call, CommandSpec, Core, Kind, OptionSpec, PRIVATE, Permission, Who};
use crate::reply::markdown::escape_user;
use crate::reply::{Answer, Pager};
use crate::text::plural;

pub const SPEC: CommandSpec = CommandSpec {
    name: "source",
    description: "Every statement that cites a reference number, and where the reference list is",
    options: &[
        OptionSpec {
            name: "number",
            description: "A citation number, as shown in [brackets]",
            kind: Kind::Integer { min: 1, max: 243 },
            required: true,
            autocomplete: false,
        },
        PRIVATE,
    ],
    example: "/source 55",
    permission: Permission::Everyone,
    guild_only: false,
    needs_audit: false,
    run: |core, call| run(core, call).into(),
    complete: None,
    button: None,
    writing_buttons: &[],
    subcommands: &[],
};

fn run(core: &Core, call: &Call) -> Answer {
    let last = core.data().source.citations;
    let typed = call.text("number").unwrap_or_default();
    let number = match typed.trim().trim_matches(['[', ']']).parse::<u16>() {
        Ok(n) if (1..=last).contains(&n) => n,
        _ => {
            let shown = if typed.trim().is_empty() {
                String::new()
            } else {
                format!("'{}' is not one. ", escape_user(&typed))
            };
            return core.notice(
                "Not a citation number",
                &format!("{shown}Citation numbers run from 1 to {last}, as shown in brackets after each quote."),
            );
        }
    };
    let ix = &core.index;
    let refs = &core.data().source.references_url;
    let mut answer = core.new_answer(&format!("Citation [{number}]"));
    answer.pager = Some(Pager::new("source", number.to_string()));
    let citing = ix.citing(number);
    answer.intro = Some(format!(
        "{} {} [{number}]. The reference itself is listed in the article's [References]({refs}).",
        citing.len(),
        plural(citing.len(), "statement cites", "statements cite"),
    ));
    for &si in citing {
        core.push_statement(&mut answer, Some("Statements"), si, Who::All, None);
    }
    answer
}
