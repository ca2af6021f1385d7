//! The functions the fuzz targets call, one per input the bot reads from outside: the
//! coverage-guided targets in `fuzz/` (cargo-fuzz, libFuzzer) feed them generated
//! bytes, and `tests/fuzz_corpus.rs` feeds them every file of the kept corpus on
//! stable Rust, as a regression test. Each takes any bytes, and must neither panic
//! nor break the invariant it checks (a panic is the finding).

use std::sync::{Arc, OnceLock};

use jiff::Timestamp;
use karabakh_core::commands::{Context, Core, Request};
use karabakh_core::query::dates::{self, Order};

use crate::discord::endpoint::{self, Interacted};
use crate::discord::render;
use crate::service::Service;
use crate::{console, operator, startup};

/// A fuzz target's function: any bytes in, a panic out when something is wrong.
pub type Target = fn(&[u8]);

/// The targets, by name: the directory of each one's corpus under `fuzz/corpus/`.
pub const TARGETS: &[(&str, Target)] = &[
    ("interaction_json", interaction_json),
    ("verified_request", verified_request),
    ("command_line", command_line),
    ("date", date),
    ("dataset_file", dataset_file),
    ("config_file", config_file),
];

fn now() -> Timestamp {
    Timestamp::from_second(1_764_072_000).expect("a valid timestamp")
}

/// The service on the embedded dataset as the bot runs it, without a database (the
/// store's faults are tested apart), built once.
fn service() -> &'static Service {
    static SERVICE: OnceLock<Service> = OnceLock::new();
    SERVICE.get_or_init(|| {
        let data = karabakh_core::dataset::embedded().expect("the embedded dataset loads");
        Service::new(
            Arc::new(startup::core(data, Some("https://bot.example"))),
            None,
        )
    })
}

/// A verified request's body read as the endpoint reads it: a PING, a request of
/// the core, or a refusal.
pub fn interaction_json(data: &[u8]) {
    let _ = endpoint::read(data, now());
}

/// The whole path from a verified request's body to the response body: read, answered
/// by the service, rendered; the body is JSON whenever the request was answered.
pub fn verified_request(data: &[u8]) {
    let Ok(Interacted::Request(request)) = endpoint::read(data, now()) else {
        return;
    };
    // Without a store the service awaits nothing: a one-thread runtime runs it.
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    let runtime = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
    });
    let handled = runtime.block_on(service().handle(*request));
    let body = render::http_body(&handled.reply, None);
    assert_eq!(body.content_type, "application/json");
    serde_json::from_slice::<serde_json::Value>(&body.bytes).expect("the response body is JSON");
}

/// A line typed at the console or given to `ask`, as a command or (first byte odd)
/// for autocomplete, in a locale picked by the second byte; answered and rendered as
/// text.
pub fn command_line(data: &[u8]) {
    let [flags, locale, rest @ ..] = data else {
        return;
    };
    let Ok(line) = std::str::from_utf8(rest) else {
        return;
    };
    let mut context = Context::new(now());
    context.locale = match locale % 3 {
        0 => None,
        1 => Some("en-US".to_owned()),
        _ => Some("en-GB".to_owned()),
    };
    let Ok(request) = console::request(line, context, flags & 1 == 1) else {
        return;
    };
    let core: &Core = &service().core;
    let reply = core.respond(&request).reply;
    let _ = console::render(&reply, flags & 2 == 2);
    if let Request::Command(_) = request {
        let _ = render::body(&reply);
    }
}

/// Text typed where a date goes, read in both orders as one field, as a range of
/// two (split at the first line break), and as a day of the year.
pub fn date(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (from, to) = match text.split_once('\n') {
        Some((from, to)) => (from, Some(to)),
        None => (text, None),
    };
    for order in [Order::DayFirst, Order::MonthFirst] {
        let _ = dates::parse_span(text, order);
        let _ = dates::parse_range(from, to, order);
        let _ = dates::parse_day_of_year(text, order);
    }
}

/// A dataset file given with `--data`: parsed and checked; when it is accepted, the
/// core is built on it and answers a few commands.
pub fn dataset_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(dataset) = karabakh_core::dataset::parse(text, "fuzz.json") else {
        return;
    };
    let first_actor = dataset.actors.first().map(|a| a.id.clone());
    let core = startup::core(dataset, None);
    let mut lines = vec![
        "/about".to_owned(),
        "/timeline 2020".to_owned(),
        "/search war".to_owned(),
        "/onthisday 10 October".to_owned(),
    ];
    if let Some(actor) = first_actor {
        lines.push(format!("/reaction {actor}"));
    }
    for line in lines {
        if let Ok(request) = console::request(&line, Context::new(now()), false) {
            let reply = core.respond(&request).reply;
            let _ = render::body(&reply);
        }
    }
}

/// The operator's configuration file: read over the defaults, with no environment.
pub fn config_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = operator::resolve(Some(("fuzz.toml", text)), &|_| None);
}
