//! In-process cost of the core: command text to the JSON body Discord receives, and
//! start-up (dataset load, validation and indexes). Run: `cargo bench --bench core`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use karabakh_core::commands::{Context, Core};
use karabakh_reactions::console;
use karabakh_reactions::discord::render;

fn context() -> Context {
    Context::new("2026-11-25T12:00:00Z".parse().expect("a timestamp"))
}

/// Text as typed → parsed request → reply → JSON body.
fn answer(core: &Core, line: &str, autocomplete: bool) -> String {
    let request = console::request(line, context(), autocomplete).expect("parses");
    render::body(&core.respond(&request).reply)
}

fn commands(c: &mut Criterion) {
    let core = Core::embedded().expect("loads");
    let mut group = c.benchmark_group("command");
    for (name, line) in [
        ("reaction_turkey", "/reaction Turkey"),
        ("reaction_hungary", "/reaction Hungary"),
        ("reaction_unknown", "/reaction Turky"),
        ("timeline_day", "/timeline 2020-10-10"),
        ("timeline_month", "/timeline 2020-10"),
        ("reaction_role", "/reaction Armenian prime minister"),
        ("reaction_which_one", "/reaction Azerbaijani"),
        ("timeline_numeric_day", "/timeline 27.09.2020"),
        ("timeline_range_in_one_field", "/timeline 9–12 October 2020"),
        ("search_ceasefire", "/search ceasefire"),
        ("search_phrase", "/search \"foreign minister\""),
        ("search_plural_alias", "/search USA protests"),
        ("source_55", "/source 55"),
        ("onthisday", "/onthisday 25 November"),
    ] {
        group.bench_function(name, |b| b.iter(|| answer(&core, black_box(line), false)));
    }
    group.finish();

    let mut group = c.benchmark_group("autocomplete");
    for (name, line) in [
        ("actor_tur", "/reaction actor:Tur"),
        ("actor_empty", "/reaction actor:"),
        ("actor_misspelt", "/reaction actor:Stoltenbrg"),
        ("topic_ma", "/topic name:Ma"),
    ] {
        group.bench_function(name, |b| b.iter(|| answer(&core, black_box(line), true)));
    }
    group.finish();
}

fn startup(c: &mut Criterion) {
    c.bench_function("startup/load_and_index", |b| {
        b.iter(|| black_box(Core::embedded().expect("loads")))
    });
}

criterion_group!(benches, commands, startup);
criterion_main!(benches);
