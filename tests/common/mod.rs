//! Shared by the integration tests: one core on the embedded dataset, and requests
//! built the way the transports build them.
#![allow(dead_code)]

use std::sync::OnceLock;

use karabakh_core::commands::{Context, Core, Request};
use karabakh_core::reply::ButtonId;
use karabakh_reactions::console;

/// The core as the bot runs it (charts in its answers), without a public site.
pub fn core() -> &'static Core {
    static CORE: OnceLock<Core> = OnceLock::new();
    CORE.get_or_init(|| {
        let data = karabakh_core::dataset::embedded().expect("the embedded dataset loads");
        karabakh_reactions::startup::core(data, None)
    })
}

/// The core as the bot runs it, with link buttons to a public site at `public_url`.
pub fn core_with_site(public_url: Option<&str>) -> Core {
    let data = karabakh_core::dataset::embedded().expect("the embedded dataset loads");
    karabakh_reactions::startup::core(data, public_url)
}

/// A fixed "today", so answers that depend on it are reproducible.
pub fn context() -> Context {
    Context::new("2026-11-25T12:00:00Z".parse().expect("a timestamp"))
}

/// A command typed as in Discord.
pub fn command(line: &str) -> Request {
    console::request(line, context(), false).unwrap_or_else(|e| panic!("{line}: {e}"))
}

pub fn autocomplete(line: &str) -> Request {
    console::request(line, context(), true).unwrap_or_else(|e| panic!("{line}: {e}"))
}

pub fn button(custom_id: &str) -> Request {
    Request::Button {
        id: ButtonId::parse(custom_id),
        context: context(),
    }
}
