//! Shared by the integration tests: one core on the embedded dataset, a fixed "now",
//! requests typed as at the console, interaction payloads as Discord sends them
//! ([`payload`]), and a fake of Discord's REST API ([`fake_discord`]).
#![allow(dead_code)]

pub mod fake_discord;
pub mod fault_proxy;
pub mod payload;
pub mod postgres;
#[cfg(unix)]
pub mod processes;

use std::sync::{Arc, OnceLock};

use jiff::Timestamp;
use karabakh_core::commands::{Context, Core, Request};
use karabakh_core::reply::ButtonId;
use karabakh_reactions::console;

/// The core on the embedded dataset as the bot runs it (charts in its answers), without
/// a public site, built once per test binary.
pub fn core() -> Arc<Core> {
    static CORE: OnceLock<Arc<Core>> = OnceLock::new();
    Arc::clone(CORE.get_or_init(|| Arc::new(core_with_site(None))))
}

/// The core as the bot runs it, with link buttons to a public site at `public_url`.
pub fn core_with_site(public_url: Option<&str>) -> Core {
    let data = karabakh_core::dataset::embedded().expect("the embedded dataset loads");
    karabakh_reactions::startup::core(data, public_url)
}

#[allow(unused_imports)]
pub use karabakh_core::testing::{otd, ts};

/// Runs an async call (the store's, the service's) to its end from a synchronous
/// test, on one runtime shared by the test binary.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime")
        })
        .block_on(future)
}

/// The tests' fixed "now", so answers that depend on it are reproducible.
pub fn now() -> Timestamp {
    ts("2026-11-25T12:00:00Z")
}

pub fn context() -> Context {
    Context::new(now())
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

/// Suggestions for the option being typed at the end of `line`.
pub fn autocomplete(line: &str) -> Request {
    console::request(line, context(), true).unwrap_or_else(|e| panic!("{line}: {e}"))
}

/// A click on a button with this `custom_id`.
pub fn button(custom_id: &str) -> Request {
    Request::Button {
        id: ButtonId::parse(custom_id),
        context: context(),
    }
}

/// The bot's binary with a clean environment (only `PATH`), run in `dir` with its
/// settings database there: nothing of the developer's own setup leaks in.
pub fn binary_in(dir: &tempfile::TempDir) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_karabakh-reactions"));
    c.env_clear()
        .current_dir(dir.path())
        .env("KR_DATABASE", dir.path().join("settings.sqlite3"));
    if let Some(path) = std::env::var_os("PATH") {
        c.env("PATH", path);
    }
    c
}
