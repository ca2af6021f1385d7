//! What the site and the charts of replies cost on the embedded dataset:
//!
//! - a reply's chart: cold (drawn: the drawing library's input built from the core's
//!   spec, the cache key, the picture, the PNG) and cached (the key and a lookup),
//!   for the three kinds of chart the bot attaches;
//! - a page: rendered (its template filled from the core's data) and cached (a
//!   lookup), for the pages people land on;
//! - the site's construction (the dates that have pages, every chart it shows).
//!
//! `cargo bench -p karabakh-site --bench pages` (release).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use karabakh_core::commands::{Call, Context, Core, CoreConfig, Request, parse_line};
use karabakh_core::reply::{ChartSpec, Reply};
use karabakh_site::charts::{self, ChartCache};
use karabakh_site::{Options, Site};

fn core() -> Arc<Core> {
    Arc::new(Core::with_config(
        karabakh_core::dataset::embedded().expect("the dataset loads"),
        CoreConfig {
            public_url: Some("https://karabakh.example.org".to_owned()),
            chart_text: Some(charts::alt_text),
        },
    ))
}

/// The chart the bot attaches to its reply to `line`.
fn chart_of(core: &Core, line: &str) -> ChartSpec {
    let parsed = parse_line(line).unwrap();
    let call = Call::new(
        parsed.command.name,
        parsed.options,
        Context::new("2026-01-01T00:00:00Z".parse().unwrap()),
    );
    match core.respond(&Request::Command(call)).reply {
        Reply::Message(m) => m.chart.expect("a chart").spec,
        other => panic!("{line}: {other:?}"),
    }
}

fn bench(c: &mut Criterion) {
    let core = core();
    karabakh_chart::register_font().unwrap();

    let mut g = c.benchmark_group("reply chart");
    g.measurement_time(Duration::from_secs(5));
    for (name, line) in [
        ("timeline month (cold)", "/timeline 2020-10"),
        (
            "timeline range, marked (cold)",
            "/timeline date:2020-10-16 to:2020-10-18",
        ),
        ("timeline year, weekly (cold)", "/timeline 2020"),
        ("actor strip (cold)", "/reaction Turkey"),
        ("coverage (cold)", "/about"),
    ] {
        let spec = chart_of(&core, line);
        g.bench_function(name, |b| {
            b.iter(|| {
                // A fresh cache each time: the picture is drawn.
                let cache = ChartCache::new(1);
                black_box(cache.render(black_box(&spec)).unwrap())
            })
        });
    }
    let spec = chart_of(&core, "/timeline 2020-10");
    let cache = ChartCache::default();
    cache.render(&spec).unwrap();
    g.bench_function("timeline month (cached: key and lookup)", |b| {
        b.iter(|| black_box(cache.cached(charts::key(black_box(&spec))).unwrap()))
    });
    g.finish();

    let mut g = c.benchmark_group("site");
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("Site::new", |b| {
        b.iter(|| {
            black_box(Site::new(
                Arc::clone(&core),
                Arc::new(ChartCache::default()),
                Options::default(),
            ))
        })
    });
    let site = Site::new(
        Arc::clone(&core),
        Arc::new(ChartCache::default()),
        Options {
            public_url: Some("https://karabakh.example.org".to_owned()),
            live: true,
        },
    );
    for (name, path) in [
        ("home", "/"),
        ("statement permalink", "/statements/s2.1/"),
        ("actor (Turkey)", "/actors/turkey/"),
        ("month (October 2020)", "/dates/2020-10/"),
        (
            "command with embed previews (timeline)",
            "/commands/timeline/",
        ),
        ("every statement (the largest page)", "/statements/"),
        ("search (ceasefire)", "/search/?q=ceasefire"),
    ] {
        g.bench_function(format!("render {name}"), |b| {
            b.iter(|| black_box(site.render(black_box(path)).unwrap()))
        });
    }
    site.page("/statements/s2.1/").unwrap();
    g.bench_function("cached statement permalink", |b| {
        b.iter(|| black_box(site.page(black_box("/statements/s2.1/")).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
