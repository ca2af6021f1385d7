//! Shared by the integration tests: one core on the embedded dataset, and requests
//! built the way the transports build them.
#![allow(dead_code)]

use std::sync::OnceLock;

use karabakh_core::commands::{Context, Core, Request};
use karabakh_core::reply::ButtonId;
use karabakh_reactions::console;

pub fn core() -> &'static Core {
    static CORE: OnceLock<Core> = OnceLock::new();
    CORE.get_or_init(|| Core::embedded().expect("the embedded dataset loads"))
}

/// A fixed "today", so answers that depend on it are reproducible.
pub fn context() -> Context {
    Context::new("2026-11-25T12:00:00Z".parse().expect("a timestamp"))
}

/// A command typed as in Discord.
pub fn command(line: &str) -> Request {
    console::request(line, context(), false).unwrap_or_else(|e| panic!("{line}: {e}"))
}

/// A command typed by someone whose Discord speaks `locale`.
pub fn command_in(line: &str, locale: &str) -> Request {
    let mut ctx = context();
    ctx.locale = Some(locale.to_owned());
    console::request(line, ctx, false).unwrap_or_else(|e| panic!("{line}: {e}"))
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
