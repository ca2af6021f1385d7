//! Chart render time per reply: each chart from input to PNG bytes (font
//! already registered, as after the first reply), plus the text alternative
//! and the cache key alone.
//!
//! `cargo bench --bench render` (release). Discord allows 3 s for the
//! first response; the aim is under 20 ms per chart.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::civil::date;
use karabakh_chart::{StripInput, TimelineInput};

#[path = "../tests/common/mod.rs"]
mod common;

fn thirty_years() -> TimelineInput {
    let mut rng = common::Lcg(1994);
    let dates = (0..3000)
        .map(|_| {
            date(1994, 1, 1)
                .checked_add(jiff::Span::new().days(rng.below(30 * 365) as i64))
                .unwrap()
        })
        .collect();
    TimelineInput {
        start: date(1994, 1, 1),
        end: date(2023, 12, 31),
        dates,
        marked: vec![date(2020, 9, 27)],
        title: None,
    }
}

fn bench(c: &mut Criterion) {
    karabakh_chart::register_font().unwrap();
    let war = common::war_timeline();
    let october = common::october_timeline();
    let y2021 = common::year_2021_timeline();
    let long = thirty_years();
    let strip = common::strip_input();
    let strip40 = StripInput {
        actor: "OSCE Minsk Group".into(),
        dates: common::days(date(2020, 9, 27), 40).collect(),
    };
    let coverage = common::coverage_input();

    let mut g = c.benchmark_group("render");
    g.bench_function("timeline_war_44_days", |b| {
        b.iter(|| black_box(&war).render().unwrap())
    });
    g.bench_function("timeline_october", |b| {
        b.iter(|| black_box(&october).render().unwrap())
    });
    g.bench_function("timeline_2021_weekly", |b| {
        b.iter(|| black_box(&y2021).render().unwrap())
    });
    g.bench_function("timeline_30_years_3000_statements", |b| {
        b.iter(|| black_box(&long).render().unwrap())
    });
    g.bench_function("strip_turkey_14", |b| {
        b.iter(|| black_box(&strip).render().unwrap())
    });
    g.bench_function("strip_40_days", |b| {
        b.iter(|| black_box(&strip40).render().unwrap())
    });
    g.bench_function("coverage", |b| {
        b.iter(|| black_box(&coverage).render().unwrap())
    });
    g.finish();

    let mut g = c.benchmark_group("no_drawing");
    g.bench_function("timeline_war_alt_text", |b| {
        b.iter(|| black_box(&war).alt_text().unwrap())
    });
    g.bench_function("timeline_war_cache_key", |b| {
        b.iter(|| black_box(&war).cache_key())
    });
    g.bench_function("coverage_cache_key", |b| {
        b.iter(|| black_box(&coverage).cache_key())
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
