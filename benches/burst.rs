//! 1 000 posts due in the same minute: how long until the last is sent, against the
//! tests' fake Discord on 127.0.0.1 enforcing Discord's global limit (50 requests a
//! second; one more in any second gets a global 429) and answering each create after
//! 50 ms (Discord's own answers take about that). One real SQLite store, the bot's one
//! REST client (serenity's `Http`, as `startup::start_scheduler` builds it), one
//! `Scheduler::tick` at the due instant. Run for the default rate
//! (`schedule.requests_per_second` = 40) and for Discord's whole 50.
//!
//! Run: `cargo bench --bench burst` (prints one line per rate; no criterion: a run takes
//! the 20–25 s the rate allows, and that is the figure).
//!
//! The floor is the rate: n posts at r requests a second take (n - 1) / r seconds from
//! the first to the last (each post is one request: a first attempt reads no history).

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use karabakh_core::settings::Change;
use karabakh_reactions::discord::rest::{self, ChannelPoster};
use karabakh_reactions::operator;
use karabakh_reactions::scheduler::Scheduler;
use karabakh_store::{SqliteStore, Store};

const POSTS: u64 = 1_000;
const DUE: &str = "2020-10-09T08:00:00Z";

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        for rate in [40u32, 50] {
            burst(rate).await;
        }
    });
}

async fn burst(rate: u32) {
    let fake = support::fake_discord::FakeDiscord::start().await;
    fake.limit_rate(50);
    fake.set_latency(Duration::from_millis(50));
    let due = support::ts(DUE);
    fake.set_now(due);
    let base = fake.base();
    let env = |k: &str| match k {
        "DISCORD_TOKEN" => Some("MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GaBcDe.not-a-real-token".to_owned()),
        "DISCORD_API_BASE" => Some(base.clone()),
        _ => None,
    };
    let config = operator::resolve(None, &env).unwrap();
    let http = rest::client(&config.discord.api_base, config.secrets.token().unwrap()).unwrap();
    let poster = ChannelPoster::new(Arc::new(http), &config.discord.api_base);

    let dir = match std::env::var_os("KR_BENCH_DIR") {
        Some(base) => tempfile::tempdir_in(base).unwrap(),
        None => tempfile::tempdir().unwrap(),
    };
    let store = Arc::new(SqliteStore::open(dir.path().join("burst.sqlite3")).unwrap());
    let set_at = support::ts("2020-10-09T00:00:00Z");
    for guild in 1..=POSTS {
        let mut o = support::otd(1_000_000 + guild, "08:00", "UTC");
        o.post_empty_days = true;
        store
            .apply(guild, Change::SetOnThisDay(o), 7, set_at)
            .await
            .unwrap();
    }
    let scheduler = Scheduler::new(store, support::core(), poster).with_requests_per_second(rate);

    let started = Instant::now();
    let wall_start = jiff::Timestamp::now();
    let report = scheduler.tick(due).await;
    let ticked = started.elapsed();
    let creates = fake.creates();
    let first = creates.iter().map(|c| c.received).min().unwrap();
    let last = creates.iter().map(|c| c.received).max().unwrap();
    let posted = report.posted().len();
    println!(
        "{POSTS} posts due together, {rate} requests/s: {posted} posted, {} creates, {} refused \
         (429), last sent {:.2} s after the tick began (first to last {:.2} s; floor {:.2} s), \
         tick {:.2} s, at most {} in flight",
        creates.len(),
        fake.rate_limited(),
        last.duration_since(wall_start).as_secs_f64(),
        last.duration_since(first).as_secs_f64(),
        (POSTS - 1) as f64 / f64::from(rate),
        ticked.as_secs_f64(),
        fake.max_in_flight(),
    );
}
