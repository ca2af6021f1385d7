//! What counting one answered interaction costs: the endpoint's and the gateway's
//! `kr_interactions_total` series (a counter handle looked up once, then kept) and the
//! latency histogram, kept by prometheus-client; beside it, as the control in the same
//! run, what the hand-written metrics did before (relaxed atomic increments in fixed
//! arrays, the bucket found by a binary search). Also rendering the endpoint's whole
//! set as Prometheus text (one scrape). Run: `cargo bench --bench metrics`.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use karabakh_core::commands::{RequestKind, Resolution};
use karabakh_core::reply::Reply;
use karabakh_reactions::metrics::{self, Interactions, MetricSet};
use karabakh_reactions::service::Handled;
use prometheus_client::registry::Registry;

const BOUNDS_US: [u64; 12] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000,
];
const BOUNDS_S: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

/// The hand-written scheme this replaced: `[command][kind][outcome]` atomics and a
/// bucketed histogram of atomics.
#[derive(Default)]
struct HandWritten {
    interactions: [[[AtomicU64; 3]; 4]; 16],
    buckets: [AtomicU64; 13],
    sum_ns: AtomicU64,
}

impl HandWritten {
    fn count(&self, slot: usize, kind: usize, outcome: usize, elapsed: Duration) {
        self.interactions[slot][kind][outcome].fetch_add(1, Ordering::Relaxed);
        let us = elapsed.as_micros() as u64;
        let i = BOUNDS_US.partition_point(|&le| le < us);
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum_ns
            .fetch_add(elapsed.as_nanos() as u64, Ordering::Relaxed);
    }
}

struct Set(Registry);

impl MetricSet for Set {
    fn registry(&self) -> &Registry {
        &self.0
    }
}

fn count(c: &mut Criterion) {
    let mut registry = Registry::default();
    let interactions = Interactions::register(&mut registry);
    let latency = metrics::seconds_histogram(&BOUNDS_S);
    registry.register("kr_request_duration_seconds", "Time", latency.clone());
    let handled = Handled {
        reply: Reply::Choices(Vec::new()),
        command: Some("reaction"),
        kind: RequestKind::Command,
        resolution: Resolution::Answered,
    };
    let elapsed = Duration::from_micros(180);
    let old = HandWritten::default();
    let mut group = c.benchmark_group("count_one_interaction");
    group.bench_function("prometheus_client", |b| {
        b.iter(|| {
            interactions.handled(black_box(&handled));
            metrics::observe(&latency, black_box(elapsed));
        })
    });
    group.bench_function("hand_written_atomics", |b| {
        b.iter(|| old.count(black_box(1), 0, 0, black_box(elapsed)))
    });
    group.finish();
    let set = Set(registry);
    c.bench_function("render_interactions_and_latency", |b| {
        b.iter(|| black_box(set.render()))
    });
}

criterion_group!(benches, count);
criterion_main!(benches);
