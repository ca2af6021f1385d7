//! The offline console: slash commands typed at a prompt (or piped in), answered by
//! the same core and shown as the same pages Discord would show, as text.

use std::io::{self, BufRead, Write};

use jiff::Timestamp;
use karabakh_core::commands::{Call, Context, Core, ParseError, Request, Value, parse_line};
use karabakh_core::reply::markdown::to_terminal;
use karabakh_core::reply::{Button, ButtonId, Choice, Message, Reply};

/// How wide the console wraps text.
pub const WIDTH: usize = 88;

/// A typed line as a request: a command, or (with `autocomplete`) suggestions for
/// the last option typed.
pub fn request(line: &str, context: Context, autocomplete: bool) -> Result<Request, ParseError> {
    let parsed = parse_line(line)?;
    let mut call = Call::new(parsed.command.name, parsed.options, context);
    call.subcommand = parsed.subcommand.map(str::to_owned);
    if autocomplete {
        let focused = call
            .options
            .last()
            .map(|(name, _)| name.clone())
            .or_else(|| {
                parsed
                    .command
                    .options_of(parsed.subcommand)
                    .first()
                    .map(|o| o.name.to_owned())
            })
            .unwrap_or_default();
        let mut call = call;
        if call.text(&focused).is_none() {
            call.options
                .push((focused.clone(), Value::Text(String::new())));
        }
        return Ok(Request::Autocomplete { call, focused });
    }
    Ok(Request::Command(call))
}

/// A reply as terminal text.
pub fn render(reply: &Reply, ansi: bool) -> String {
    match reply {
        Reply::Message(m) | Reply::Update(m) => render_message(m, ansi),
        Reply::Choices(choices) => render_choices(choices),
    }
}

fn render_choices(choices: &[Choice]) -> String {
    if choices.is_empty() {
        return "(no suggestions)\n".to_owned();
    }
    choices.iter().map(|c| format!("{}\n", c.name)).collect()
}

fn style(text: &str, code: &str, ansi: bool) -> String {
    if ansi {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

fn wrap_into(out: &mut String, text: &str, first: &str, rest: &str) {
    // Break at spaces only: the Unicode rules would also break after `/`, splitting
    // a command such as `/onthisday` from its slash.
    let options = textwrap::Options::new(WIDTH)
        .initial_indent(first)
        .subsequent_indent(rest)
        .word_separator(textwrap::WordSeparator::AsciiSpace);
    for line in textwrap::wrap(text, options) {
        out.push_str(&line);
        out.push('\n');
    }
}

/// One page as text: title, wrapped body, quotes set off with a bar, fields,
/// credit, footer with the page number, and how to turn the page.
pub fn render_message(m: &Message, ansi: bool) -> String {
    let e = &m.embed;
    let mut out = String::new();
    let title = to_terminal(&e.title, false);
    out.push_str(&style(&format!("━━ {title} ━━"), "1", ansi));
    out.push('\n');
    if m.private {
        out.push_str(&style(
            "(a private answer: only you would see it)",
            "2",
            ansi,
        ));
        out.push('\n');
    }
    for line in e.description.lines() {
        if let Some(quote) = line.strip_prefix("> ") {
            wrap_into(&mut out, &to_terminal(quote, ansi), "  │ ", "  │ ");
        } else if line.is_empty() {
            out.push('\n');
        } else {
            wrap_into(&mut out, &to_terminal(line, ansi), "", "");
        }
    }
    if !e.fields.is_empty() {
        out.push('\n');
        for f in &e.fields {
            let name = to_terminal(&f.name, false);
            wrap_into(
                &mut out,
                &format!(
                    "{}: {}",
                    style(&name, "1", ansi),
                    to_terminal(&f.value, ansi)
                ),
                "",
                "    ",
            );
        }
    }
    out.push('\n');
    if let Some((name, url)) = &e.author {
        out.push_str(&style(
            &format!("Source: {} <{url}>", to_terminal(name, false)),
            "2",
            ansi,
        ));
        out.push('\n');
    }
    out.push_str(&style(&to_terminal(&e.footer, false), "2", ansi));
    out.push('\n');
    let turns: Vec<&str> = m
        .buttons
        .iter()
        .filter_map(|b| match b {
            Button::Action {
                label,
                disabled: false,
                ..
            } if label.contains("Next") => Some("next"),
            Button::Action {
                label,
                disabled: false,
                ..
            } if label.contains("Previous") => Some("prev"),
            _ => None,
        })
        .collect();
    // The command's own buttons (a "which one?" answer's choices), by their labels.
    let own: Vec<&str> = m
        .buttons
        .iter()
        .filter_map(|b| match b {
            Button::Action {
                label,
                id: ButtonId::Page { page: 1, .. },
                disabled: false,
                ..
            } if !label.contains("Next") && !label.contains("Previous") => Some(label.as_str()),
            _ => None,
        })
        .collect();
    if !own.is_empty() {
        out.push_str(&style(&format!("[{}]", own.join("] ["),), "2", ansi));
        out.push('\n');
    }
    if !turns.is_empty() {
        out.push_str(&style(
            &format!("(type {} to turn the page)", turns.join(" or ")),
            "2",
            ansi,
        ));
        out.push('\n');
    }
    out
}

/// The id of the page button labelled with `word`, if it can be clicked.
fn turn(message: &Message, word: &str) -> Option<ButtonId> {
    message.buttons.iter().find_map(|b| match b {
        Button::Action {
            label,
            id,
            disabled: false,
            ..
        } if label.to_lowercase().contains(word) => Some(id.clone()),
        _ => None,
    })
}

/// How the console shows and asks.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Show a prompt before each line (for a terminal).
    pub prompt: bool,
    /// Style text with ANSI codes.
    pub ansi: bool,
    /// The Discord locale to answer as (`en-US` reads 04/12/2020 month first).
    pub locale: Option<String>,
}

/// Answers lines from `input` until it ends (or `quit`). `now` tells the time (for
/// `/onthisday`).
pub fn run(
    core: &Core,
    input: impl BufRead,
    mut output: impl Write,
    options: Options,
    now: impl Fn() -> Timestamp,
) -> io::Result<()> {
    let Options {
        prompt,
        ansi,
        locale,
    } = options;
    let mut last: Option<Message> = None;
    let mut answered = false;
    if prompt {
        write!(output, "> ")?;
        output.flush()?;
    }
    for line in input.lines() {
        let line = line?;
        let line = line.trim();
        let mut context = Context::new(now());
        context.locale = locale.clone();
        let reply = match line {
            "" => None,
            "quit" | "exit" => break,
            "next" | "n" | "prev" | "previous" | "p" => {
                let word = if line.starts_with('n') {
                    "next"
                } else {
                    "previous"
                };
                match last.as_ref().and_then(|m| turn(m, word)) {
                    Some(id) => Some(
                        core.respond(&Request::Button {
                            id: Some(id),
                            context,
                        })
                        .reply,
                    ),
                    None => {
                        writeln!(output, "There is no {word} page.")?;
                        None
                    }
                }
            }
            _ => match request(line, context, false) {
                // Settings cannot change here: outside a server, no command asks to.
                Ok(req) => Some(core.respond(&req).reply),
                Err(e) => {
                    writeln!(output, "{e}")?;
                    None
                }
            },
        };
        if let Some(reply) = reply {
            if answered && !prompt {
                writeln!(output)?;
            }
            answered = true;
            write!(output, "{}", render(&reply, ansi))?;
            if let Reply::Message(m) | Reply::Update(m) = reply {
                last = Some(m);
            }
        }
        if prompt {
            write!(output, "\n> ")?;
            output.flush()?;
        }
    }
    if prompt {
        writeln!(output)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Timestamp {
        "2026-11-25T12:00:00Z".parse().unwrap()
    }

    fn session(input: &str) -> String {
        let core = Core::embedded().unwrap();
        let mut out = Vec::new();
        run(&core, input.as_bytes(), &mut out, Options::default(), today).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_console_session_answers_and_turns_pages() {
        let out = session(
            "/reaction Hungary\n/reaction Turky\n/nope\n/search ceasefire\nnext\nprev\nprev\n",
        );
        assert!(out.contains("━━ Hungary ━━"));
        assert!(
            out.contains("  │ Hungary stated that it backed Azerbaijan's territorial integrity")
        );
        assert!(out.contains("[55] [56]"));
        assert!(out.contains("No actor matches 'Turky'. Did you mean: Turkey"));
        assert!(out.contains("(a private answer: only you would see it)"));
        assert!(out.contains("there is no command /nope"));
        assert!(out.contains("page 2/"), "next turned the page");
        assert!(out.contains("There is no previous page."));
    }

    #[test]
    fn help_keeps_every_command_whole_when_it_wraps() {
        let out = session("/help\n");
        for c in karabakh_core::commands::COMMANDS {
            assert!(
                out.contains(&format!("/{}", c.name)),
                "/{} is split across lines",
                c.name
            );
        }
        assert!(out.lines().all(|l| !l.ends_with('/')), "{out}");
    }

    #[test]
    fn on_this_day_uses_todays_date() {
        let out = session("/onthisday\n");
        assert!(out.contains("On this day: 25 November"));
        assert!(out.contains("French Senate"));
    }
}
