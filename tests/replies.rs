//! Snapshots of what Discord receives for representative commands: the exact
//! interaction response bodies. Review changes with `INSTA_UPDATE=always cargo test`
//! and `git diff tests/snapshots`.

mod common;

use common::{autocomplete, button, command, core};
use karabakh_reactions::discord::render;

fn body(request: &karabakh_core::commands::Request) -> String {
    let json: serde_json::Value =
        serde_json::from_str(&render::body(&core().respond(request).reply)).unwrap();
    serde_json::to_string_pretty(&json).unwrap()
}

macro_rules! snap {
    ($name:ident, $request:expr) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(stringify!($name), body(&$request));
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
snap!(search_words, command("/search cluster munitions"));
snap!(search_nothing, command("/search zxqv"));
snap!(topic_by_title, command("/topic Madrid Principles"));
snap!(topic_by_alias, command("/topic Four-Day War"));
snap!(source_citation, command("/source 55"));
snap!(source_with_reference_excerpt, command("/source 52"));
snap!(source_out_of_range, command("/source 999"));
snap!(onthisday_date, command("/onthisday 25 November"));
snap!(onthisday_nothing, command("/onthisday 29 February"));
snap!(about, command("/about"));
snap!(help, command("/help"));
