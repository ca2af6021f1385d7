//! Snapshots of what the bot decides for representative commands: the reply model
//! (embed, buttons, whether it is private, its tone), free of any transport. What
//! Discord receives around it (the interaction response's envelope) is tested once,
//! at the end. Review changes with `INSTA_UPDATE=always cargo test` and
//! `git diff tests/snapshots`.

mod support;

use karabakh_core::reply::Reply;
use karabakh_reactions::discord::render;
use serde_json::json;
use support::{autocomplete, button, command, command_in, core};

macro_rules! snap {
    ($name:ident, $request:expr) => {
        #[test]
        fn $name() {
            insta::assert_json_snapshot!(stringify!($name), core().respond(&$request).reply);
        }
    };
}

snap!(reaction_turkey, command("/reaction Turkey"));
snap!(reaction_hungary, command("/reaction Hungary"));
snap!(
    reaction_estonia_from_a_list,
    command("/reaction actor:Estonia")
);
snap!(
    reaction_person_by_unaccented_name,
    command("/reaction Erdogan")
);
snap!(reaction_only_mentioned, command("/reaction Australia"));
snap!(reaction_unknown_actor, command("/reaction Turky"));
snap!(
    reaction_page_two_by_button,
    button("page:reaction:turkey:2")
);
snap!(autocomplete_actor, autocomplete("/reaction actor:Tur"));
snap!(timeline_empty_day, command("/timeline 2020-10-10"));
snap!(timeline_day, command("/timeline 2 October 2020"));
snap!(timeline_month, command("/timeline date:2020-11"));
snap!(
    timeline_range,
    command("/timeline date:2020-10-16 to:2020-10-18")
);
snap!(timeline_background_year, command("/timeline 2012"));
snap!(timeline_invalid, command("/timeline soon"));
snap!(
    timeline_swappable_day_in_en_us,
    command_in("/timeline 04/12/2020", "en-US")
);
snap!(
    timeline_range_in_one_field,
    command("/timeline 9–12 October 2020")
);
snap!(reaction_which_one, command("/reaction Azerbaijani"));
snap!(
    reaction_by_role,
    command("/reaction Armenian prime minister")
);
snap!(search_phrase, command("/search \"foreign minister\""));
snap!(
    search_reference_list_quote,
    command("/search killer drones")
);
snap!(onthisday_empty_day, command("/onthisday 25 December"));
snap!(
    topic_not_found_offers_search,
    command("/topic Sumgait pogrom")
);
snap!(search_words, command("/search cluster munitions"));
snap!(search_nothing, command("/search zxqv"));
snap!(topic_by_title, command("/topic Madrid Principles"));
snap!(topic_by_alias, command("/topic Four-Day War"));
snap!(source_citation, command("/source 55"));
snap!(source_52, command("/source 52"));
snap!(source_out_of_range, command("/source 999"));
snap!(onthisday_date, command("/onthisday 25 November"));
snap!(onthisday_nothing, command("/onthisday 29 February"));
snap!(about, command("/about"));
snap!(help, command("/help"));

/// The envelope, once: the model's reply as Discord's interaction response (type 4
/// for a new message, 7 for a page turned in place, 8 for autocomplete), with every
/// mention silenced, flag 64 when private, the tone as the embed's colour, and the
/// buttons as components carrying their ids.
#[test]
fn the_envelope_is_discords_interaction_response() {
    let body = |reply: &Reply| -> serde_json::Value {
        serde_json::from_str(&render::body(reply)).expect("the body is JSON")
    };
    let reply = core().respond(&command("/reaction Turkey")).reply;
    let Reply::Message(m) = &reply else {
        panic!("a new message")
    };
    let b = body(&reply);
    assert_eq!(b["type"], 4);
    assert_eq!(b["data"]["flags"], 0);
    assert_eq!(
        b["data"]["allowed_mentions"],
        json!({"parse": [], "roles": [], "users": []})
    );
    let embed = &b["data"]["embeds"][0];
    assert_eq!(embed["title"], m.embed.title);
    assert_eq!(embed["description"], m.embed.description);
    assert_eq!(embed["footer"]["text"], m.embed.footer);
    assert_eq!(embed["color"], m.tone.color());
    let (author, url) = m.embed.author.clone().unwrap();
    assert_eq!(embed["author"], json!({"name": author, "url": url}));
    let buttons = &b["data"]["components"][0]["components"];
    assert_eq!(buttons[1]["custom_id"], "page:reaction:turkey:2");
    assert_eq!(buttons[1]["label"], "Next ▶");
    assert_eq!(buttons[0]["disabled"], true);

    let private = body(&core().respond(&command("/reaction Turky")).reply);
    assert_eq!(private["data"]["flags"], 64);
    assert_eq!(private["data"]["embeds"][0]["color"], 0x99_99_99);

    let turned = body(&core().respond(&button("page:reaction:turkey:2")).reply);
    assert_eq!(turned["type"], 7);
    assert!(turned["data"].get("flags").is_none_or(|f| f == 0));

    let reply = core().respond(&autocomplete("/reaction actor:Tur")).reply;
    let Reply::Choices(list) = &reply else {
        panic!("suggestions")
    };
    let choices = body(&reply);
    assert_eq!(choices["type"], 8);
    assert_eq!(choices["data"]["choices"][0]["name"], list[0].name);
    assert_eq!(choices["data"]["choices"][0]["value"], list[0].value);
}

/// A broad search writes only the page asked for; turned page by page, through its
/// buttons as Discord sends them, it shows every result once and never a blank block.
#[test]
fn a_broad_search_turned_page_by_page_shows_every_result_once() {
    use karabakh_core::reply::{Button, Message};
    let first = match core().respond(&command("/search USA protests")).reply {
        Reply::Message(m) => m,
        other => panic!("not a message: {other:?}"),
    };
    let results: usize = first
        .embed
        .description
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        first.pages >= 3,
        "a search that spans pages: {}",
        first.pages
    );
    let next = |m: &Message| {
        m.buttons.iter().find_map(|b| match b {
            Button::Action {
                label,
                id,
                disabled: false,
                ..
            } if label.starts_with("Next") => Some(id.to_string()),
            _ => None,
        })
    };
    let mut pages = vec![first];
    while let Some(id) = next(pages.last().unwrap()) {
        match core().respond(&button(&id)).reply {
            Reply::Update(m) => pages.push(m),
            other => panic!("not an update: {other:?}"),
        }
    }
    assert_eq!(pages.len(), pages[0].pages);
    let mut quotes = Vec::new();
    for (n, page) in pages.iter().enumerate() {
        assert_eq!(page.page, n + 1);
        let body = page.embed.description.split_once("\n\n").unwrap().1;
        for block in body.split("\n\n") {
            let quote = block.split_once("\n> ").map_or("", |(_, q)| q);
            assert!(quote.trim().len() > 20, "page {}: {block:?}", n + 1);
            quotes.push(block.to_owned());
        }
    }
    let mut unique = quotes.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), quotes.len(), "a result shown twice");
    assert_eq!(quotes.len(), results, "every result shown");
}
