//! Any text in any option, any page and any button id: a reply within every Discord
//! limit, no panic, and no ping.

mod support;

use karabakh_core::commands::{COMMANDS, Call, Kind, Request, Value};
use karabakh_core::reply::{Button, Message, Reply, limits};
use karabakh_reactions::discord::render;
use proptest::prelude::*;
use support::{context, core};

fn len(s: &str) -> usize {
    s.encode_utf16().count()
}

fn check_message(m: &Message) {
    let e = &m.embed;
    assert!(len(&e.title) <= 256, "title {}", len(&e.title));
    assert!(len(&e.description) <= 4096);
    assert!(len(&e.footer) <= 2048 && !e.footer.is_empty());
    assert!(e.fields.len() <= 25);
    for f in &e.fields {
        assert!((1..=256).contains(&len(&f.name)) && (1..=1024).contains(&len(&f.value)));
    }
    let author = e.author.as_ref().map_or(0, |a| len(&a.0));
    let total = len(&e.title)
        + len(&e.description)
        + len(&e.footer)
        + author
        + e.fields
            .iter()
            .map(|f| len(&f.name) + len(&f.value))
            .sum::<usize>();
    assert!(total <= 6000, "embed total {total}");
    assert!(e.author.is_some(), "every answer credits the source");
    assert!(m.buttons.len() <= 25);
    for b in &m.buttons {
        match b {
            Button::Action { label, id, .. } => {
                let custom_id = id.to_string();
                assert!((1..=80).contains(&len(label)));
                assert!((1..=100).contains(&len(&custom_id)), "{custom_id}");
            }
            Button::Link { label, url } => {
                assert!((1..=80).contains(&len(label)) && len(url) <= 512)
            }
        }
    }
    assert!((1..=m.pages).contains(&m.page));
}

fn check(reply: &Reply) {
    match reply {
        Reply::Message(m) | Reply::Update(m) => {
            check_message(m);
            let text = format!("{} {}", m.embed.title, m.embed.description);
            assert!(
                !text.contains("@everyone") && !text.contains("@here"),
                "a raw mention: {text}"
            );
        }
        Reply::Choices(c) => {
            assert!(c.len() <= limits::CHOICES);
            for choice in c {
                assert!(
                    (1..=100).contains(&len(&choice.name))
                        && (1..=100).contains(&len(&choice.value))
                );
            }
        }
    }
    let body: serde_json::Value = serde_json::from_str(&render::body(reply)).unwrap();
    if !matches!(reply, Reply::Choices(_)) {
        assert_eq!(
            body["data"]["allowed_mentions"]["parse"],
            serde_json::json!([]),
            "mentions must be silenced"
        );
    }
}

/// Text a user could type: anything, with markdown, mentions and long runs likely.
fn user_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9 ]{0,40}",
        prop::collection::vec(
            prop_oneof![
                Just("@everyone".to_owned()),
                Just("@here".to_owned()),
                Just("<@123456789>".to_owned()),
                Just("**".to_owned()),
                Just("`".to_owned()),
                Just("[x](http://a)".to_owned()),
                Just("\n".to_owned()),
                Just("😀".to_owned()),
                Just("Turkey".to_owned()),
                Just("2020-10-10".to_owned()),
                Just(" to:".to_owned()),
                "[ -~]{0,20}",
            ],
            0..40
        )
        .prop_map(|v| v.concat()),
        "x{300,3000}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn any_option_text_gives_a_reply_within_limits(
        command in 0..COMMANDS.len(),
        values in prop::collection::vec(user_text(), 0..3),
        page in 0usize..50,
        integer in any::<i64>(),
    ) {
        let spec = &COMMANDS[command];
        let mut options: Vec<(String, Value)> = Vec::new();
        for (o, v) in spec.options.iter().zip(values) {
            let value = match o.kind {
                Kind::Integer { .. } if v.len() % 2 == 0 => Value::Integer(integer),
                _ => Value::Text(v),
            };
            options.push((o.name.to_owned(), value));
        }
        let mut call = Call::new(spec.name, options, context());
        call.page = page;
        check(&core().respond(&Request::Command(call.clone())).reply);
        if let Some(o) = spec.options.iter().find(|o| o.autocomplete) {
            check(&core().respond(&Request::Autocomplete { call, focused: o.name.to_owned() }).reply);
        }
    }

    #[test]
    fn any_button_id_gives_a_reply_within_limits(id in prop_oneof![
        any::<String>(),
        "page:(reaction|timeline|search|source|onthisday|topic|nope):[ -~]{0,60}:[0-9]{1,4}",
    ]) {
        check(&core().respond(&support::button(&id)).reply);
    }

    #[test]
    fn any_typed_line_parses_or_is_refused_politely(line in user_text()) {
        if let Ok(request) = karabakh_reactions::console::request(&line, context(), false) {
            check(&core().respond(&request).reply);
        }
    }
}

#[test]
fn every_page_of_every_actor_is_within_limits() {
    for a in &core().data().actors {
        let call = Call::new(
            "reaction",
            vec![("actor".into(), Value::Text(a.id.clone()))],
            context(),
        );
        let answer = core().answer(&call).answer;
        for n in 1..=answer.page_count() {
            check(&Reply::Message(answer.page(n)));
        }
    }
}

/// A moderator in a server, so that every command (`/config` too) reaches its options.
fn moderator() -> karabakh_core::commands::Context {
    let mut c = context();
    c.guild_id = Some(1100000000000000100);
    c.user_id = Some(1100000000000000500);
    c.permissions = Some(karabakh_core::commands::MANAGE_GUILD);
    c
}

fn message(reply: Reply) -> Message {
    match reply {
        Reply::Message(m) | Reply::Update(m) => m,
        Reply::Choices(c) => panic!("choices, not a message: {c:?}"),
    }
}

/// Every option of every command and subcommand, given a value just past the limit the
/// bot registers for it (one character too many; one below the minimum, one above the
/// maximum), is refused with a polite private answer that names the limit and keeps
/// its advice (the command's example), without repeating the value; at the limit it
/// is answered as usual.
#[test]
fn every_option_past_its_registered_limit_is_refused_politely_and_privately() {
    let mut checked = 0;
    for spec in COMMANDS {
        let places: Vec<(Option<&str>, &[karabakh_core::commands::OptionSpec])> =
            if spec.subcommands.is_empty() {
                vec![(None, spec.options)]
            } else {
                spec.subcommands
                    .iter()
                    .map(|s| (Some(s.name), s.options))
                    .collect()
            };
        for (subcommand, options) in places {
            for o in options {
                let (over, at): (Vec<Value>, Vec<Value>) = match o.kind {
                    Kind::Text { max_length } => {
                        let n = usize::from(max_length);
                        (
                            vec![Value::Text("é".repeat(n + 1))],
                            vec![Value::Text("é".repeat(n))],
                        )
                    }
                    Kind::Integer { min, max } => (
                        vec![Value::Integer(min - 1), Value::Integer(max + 1)],
                        vec![Value::Integer(min), Value::Integer(max)],
                    ),
                    _ => continue,
                };
                let ask = |value: &Value| {
                    let mut call = Call::new(
                        spec.name,
                        vec![(o.name.to_owned(), value.clone())],
                        moderator(),
                    );
                    call.subcommand = subcommand.map(str::to_owned);
                    message(core().respond(&Request::Command(call)).reply)
                };
                for value in &over {
                    let m = ask(value);
                    let what = format!("/{} {subcommand:?} {}:{value:?}", spec.name, o.name);
                    check(&Reply::Message(m.clone()));
                    assert!(m.private, "{what}: private");
                    assert!(
                        m.embed.title == "Too long" || m.embed.title == "Out of range",
                        "{what}: {}",
                        m.embed.title
                    );
                    assert!(m.embed.description.contains(o.name), "{what}");
                    assert!(
                        m.embed
                            .description
                            .ends_with(&format!("For example: {}", spec.example)),
                        "{what}: the advice is kept: {}",
                        m.embed.description
                    );
                    if let Value::Text(t) = value {
                        assert!(!m.embed.description.contains(t.as_str()), "{what}");
                    }
                    checked += 1;
                }
                for value in &at {
                    let m = ask(value);
                    assert!(
                        m.embed.title != "Too long" && m.embed.title != "Out of range",
                        "/{} {}:{value:?} is within the limit",
                        spec.name,
                        o.name
                    );
                }
            }
        }
    }
    assert!(
        checked >= 10,
        "the table has text and number options: {checked}"
    );
}

/// The case: a 5,000-character `/search` query. It is not echoed back; the
/// answer says how long it was, what the limit is, and how to ask.
#[test]
fn a_five_thousand_character_search_is_refused_with_its_advice() {
    let query = "ceasefire ".repeat(500);
    let call = Call::new(
        "search",
        vec![("query".into(), Value::Text(query.clone()))],
        context(),
    );
    let m = message(core().respond(&Request::Command(call.clone())).reply);
    assert!(m.private);
    assert_eq!(m.embed.title, "Too long");
    assert!(
        m.embed.description.starts_with(
            "The query you gave is 5,000 characters long; /search takes at most 80. \
             Shorten it and ask again. For example: /search"
        ),
        "{}",
        m.embed.description
    );
    assert!(!m.embed.description.contains("ceasefire ceasefire"));
    // Typing it into autocomplete gets no suggestions, not a search.
    let typing = Request::Autocomplete {
        call,
        focused: "query".into(),
    };
    if let Some(o) = karabakh_core::commands::spec("search")
        .unwrap()
        .options
        .iter()
        .find(|o| o.autocomplete)
    {
        assert_eq!(o.name, "query");
        assert_eq!(core().respond(&typing).reply, Reply::Choices(Vec::new()));
    }
}

/// A choice that is not one is refused; a long one is not repeated.
#[test]
fn a_long_wrong_choice_is_not_repeated() {
    let mut call = Call::new(
        "config",
        vec![("visibility".into(), Value::Text("x".repeat(5000)))],
        moderator(),
    );
    call.subcommand = Some("replies".into());
    let m = message(core().respond(&Request::Command(call)).reply);
    assert_eq!(m.embed.title, "Not a choice");
    assert!(m.private);
    assert!(
        !m.embed.description.contains("xxxxx"),
        "{}",
        m.embed.description
    );
    assert!(m.embed.description.contains("public or private"));
}
