//! Reading a command typed as text, the way Discord shows it:
//! `/reaction Turkey`, `/reaction actor:United States`,
//! `/timeline date:2020-10-10 to:2020-10-12`. An option's value runs to the next
//! ` name:` of another option; text before the first named option is the value of
//! the command's first option.

use std::fmt;

use super::{CommandSpec, Kind, Options, Value, spec};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    Empty,
    UnknownCommand(String),
    UnknownSubcommand { command: String, subcommand: String },
    UnknownOption { command: String, option: String },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(
                f,
                "no command given: type a command such as /reaction Turkey, or /help"
            ),
            Self::UnknownCommand(name) => write!(
                f,
                "there is no command /{name}: type /help to list the commands"
            ),
            Self::UnknownSubcommand {
                command,
                subcommand,
            } => {
                let known: Vec<&str> = spec(command)
                    .map(|s| s.subcommands.iter().map(|c| c.name).collect())
                    .unwrap_or_default();
                if subcommand.is_empty() {
                    write!(f, "/{command} needs a subcommand: {}", known.join(", "))
                } else {
                    write!(
                        f,
                        "/{command} has no subcommand '{subcommand}' (its subcommands: {})",
                        known.join(", ")
                    )
                }
            }
            Self::UnknownOption { command, option } => {
                let known: Vec<&str> = spec(command)
                    .map(|s| {
                        let mut names: Vec<&str> = Vec::new();
                        for o in s
                            .options
                            .iter()
                            .chain(s.subcommands.iter().flat_map(|c| c.options))
                        {
                            if !names.contains(&o.name) {
                                names.push(o.name);
                            }
                        }
                        names
                    })
                    .unwrap_or_default();
                if known.is_empty() {
                    write!(
                        f,
                        "/{command} has no option '{option}' (it takes no options)"
                    )
                } else {
                    write!(
                        f,
                        "/{command} has no option '{option}' (its options: {})",
                        known.join(", ")
                    )
                }
            }
        }
    }
}

impl std::error::Error for ParseError {}

/// Whether `word` could be an option name: lower-case letters, digits, `-` and `_`.
fn looks_like_option(word: &str) -> bool {
    !word.is_empty()
        && word.len() <= 32
        && word.starts_with(|c: char| c.is_ascii_lowercase())
        && word
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Where ` name:` markers stand in `args`: `(marker start, value start, name)`.
fn markers(args: &str) -> Vec<(usize, usize, &str)> {
    let mut out = Vec::new();
    let mut word_start = 0;
    for (i, c) in args.char_indices() {
        if c == ' ' {
            word_start = i + 1;
        } else if c == ':' {
            let word = &args[word_start..i];
            let after = &args[i + 1..];
            let is_url = after.starts_with("//");
            if looks_like_option(word) && !is_url {
                out.push((word_start, i + 1, word));
            }
        }
    }
    out
}

/// The command and its options from a typed line.
pub fn parse_line(line: &str) -> Result<Parsed, ParseError> {
    let line = line.trim();
    let line = line.strip_prefix('/').unwrap_or(line);
    let (name, args) = match line.split_once(char::is_whitespace) {
        Some((name, args)) => (name, args.trim()),
        None => (line, ""),
    };
    if name.is_empty() {
        return Err(ParseError::Empty);
    }
    let command =
        spec(&name.to_lowercase()).ok_or_else(|| ParseError::UnknownCommand(name.to_owned()))?;
    // A command made of subcommands takes the subcommand's name first.
    let (subcommand, args) = if command.subcommands.is_empty() {
        (None, args)
    } else {
        let (word, rest) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
        let sub = command
            .subcommands
            .iter()
            .find(|s| s.name == word.to_lowercase())
            .ok_or_else(|| ParseError::UnknownSubcommand {
                command: command.name.to_owned(),
                subcommand: word.to_owned(),
            })?;
        (Some(sub.name), rest.trim())
    };
    let option_specs = command.options_of(subcommand);
    let known = |n: &str| option_specs.iter().find(|o| o.name == n);

    // Split at the markers of known options; a marker of an unknown option that sits
    // where an option could start is a mistake worth saying.
    let mut cuts: Vec<(usize, usize, &str)> = Vec::new();
    for (start, value_start, word) in markers(args) {
        if known(word).is_some() {
            cuts.push((start, value_start, word));
        } else if start == 0
            || args[..start].ends_with(' ')
                && value_start < args.len()
                && !args[value_start..].starts_with(' ')
        {
            return Err(ParseError::UnknownOption {
                command: command.name.to_owned(),
                option: word.to_owned(),
            });
        }
    }
    let mut options: Vec<(String, Value)> = Vec::new();
    let positional = args[..cuts.first().map_or(args.len(), |c| c.0)].trim();
    if !positional.is_empty() {
        match option_specs.iter().find(|o| o.name != super::PRIVATE.name) {
            Some(first) => options.push((first.name.to_owned(), typed(first.kind, positional))),
            None => {
                return Err(ParseError::UnknownOption {
                    command: command.name.to_owned(),
                    option: positional
                        .split_whitespace()
                        .next()
                        .unwrap_or(positional)
                        .to_owned(),
                });
            }
        }
    }
    for (k, &(_, value_start, name)) in cuts.iter().enumerate() {
        let end = cuts.get(k + 1).map_or(args.len(), |c| c.0);
        let value = args[value_start..end].trim();
        let spec = known(name).expect("cut at a known option");
        options.retain(|(n, _)| n != name);
        options.push((name.to_owned(), typed(spec.kind, value)));
    }
    Ok(Parsed {
        command,
        subcommand,
        options,
    })
}

/// A typed line, read: the command, its subcommand and its options.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub command: &'static CommandSpec,
    pub subcommand: Option<&'static str>,
    pub options: Options,
}

/// The value as Discord would send it: integers as numbers when they read as one.
fn typed(kind: Kind, text: &str) -> Value {
    match kind {
        Kind::Integer { .. } => text
            .parse()
            .map_or_else(|_| Value::Text(text.to_owned()), Value::Integer),
        Kind::Boolean => match text.to_lowercase().as_str() {
            "true" | "yes" => Value::Boolean(true),
            "false" | "no" => Value::Boolean(false),
            _ => Value::Text(text.to_owned()),
        },
        // A channel is given by id, or as Discord writes it: <#123>.
        Kind::Channel => {
            let id = text
                .trim()
                .trim_start_matches("<#")
                .trim_start_matches('#')
                .trim_end_matches('>');
            Value::Text(id.to_owned())
        }
        Kind::Text { .. } | Kind::Choice(_) => Value::Text(text.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> (String, Vec<(String, Value)>) {
        let p = parse_line(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        (p.command.name.to_owned(), p.options)
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn positional_and_named_options() {
        assert_eq!(
            parse("/reaction Turkey"),
            ("reaction".into(), vec![("actor".into(), text("Turkey"))])
        );
        assert_eq!(
            parse("/reaction actor:United States"),
            (
                "reaction".into(),
                vec![("actor".into(), text("United States"))]
            )
        );
        assert_eq!(
            parse("/timeline date:2020-10-10 to:2020-10-12"),
            (
                "timeline".into(),
                vec![
                    ("date".into(), text("2020-10-10")),
                    ("to".into(), text("2020-10-12"))
                ]
            )
        );
        assert_eq!(
            parse("/timeline 10 October 2020 to:12 October 2020"),
            (
                "timeline".into(),
                vec![
                    ("date".into(), text("10 October 2020")),
                    ("to".into(), text("12 October 2020"))
                ]
            )
        );
        assert_eq!(
            parse("/source number:55"),
            ("source".into(), vec![("number".into(), Value::Integer(55))])
        );
        assert_eq!(
            parse("/source abc"),
            ("source".into(), vec![("number".into(), text("abc"))])
        );
        assert_eq!(parse("help"), ("help".into(), vec![]));
        assert_eq!(
            parse("/search query:see https://example.org"),
            (
                "search".into(),
                vec![("query".into(), text("see https://example.org"))]
            )
        );
    }

    #[test]
    fn unknown_commands_and_options_are_named() {
        let err = |line: &str| parse_line(line).map(|_| ()).unwrap_err();
        assert_eq!(err("/nope"), ParseError::UnknownCommand("nope".into()));
        assert_eq!(err("   "), ParseError::Empty);
        assert_eq!(
            err("/reaction country:Turkey"),
            ParseError::UnknownOption {
                command: "reaction".into(),
                option: "country".into()
            }
        );
        assert_eq!(
            err("/about extra"),
            ParseError::UnknownOption {
                command: "about".into(),
                option: "extra".into()
            }
        );
        let msg = parse_line("/timeline date:2020 til:2021")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("no option 'til'") && msg.contains("date, to, private"),
            "{msg}"
        );
        assert_eq!(
            parse("/reaction Turkey private:true").1[1],
            ("private".into(), Value::Boolean(true))
        );
    }
}
