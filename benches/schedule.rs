//! The cost of one scheduler tick: 1 000 or 100 000 configured servers, of which a
//! handful (5, or 50) are due, on a real SQLite file, posting through a no-op
//! in-memory poster. The cost should follow the posts due, not the servers
//! configured (the queue is the index on `schedules.next_run_at`). Also the tick
//! that finds nothing due, which the loop runs at least every `poll_seconds`, and
//! (`1000_servers_5_due_rest`) a tick that posts through the bot's one REST client
//! (serenity's `Http` from `rest::client`, as `startup::spawn_scheduler` builds it) to
//! the tests' fake Discord on 127.0.0.1: what serenity, HTTP and the JSON add.
//!
//! Run: `cargo bench --bench schedule` (databases in the temporary folder, on disk);
//! `KR_BENCH_DIR=/dev/shm cargo bench --bench schedule` puts them in memory, which
//! leaves out the fsync of each transaction (two per post: claim, then record).
//!
//! The databases are seeded with plain SQL in one transaction (with
//! `synchronous=OFF` for the seeding connection only), straight into the store's
//! tables after `SqliteStore::open` created them: 100 000 `apply` calls, each its own
//! fsync'ed transaction with an audit record, would take minutes and measure nothing
//! of the scheduler. Before each timed tick the due servers are made due again (their
//! posts deleted and their next run set back), outside the measurement.

#[path = "../tests/support/mod.rs"]
mod support;
#[path = "common/tick.rs"]
mod tick_bench;

use std::path::Path;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use karabakh_core::commands::Core;
use karabakh_reactions::discord::rest::{self, ChannelPoster};
use karabakh_reactions::operator;
use karabakh_reactions::scheduler::Scheduler;
use karabakh_store::{SqliteStore, Store};
use rusqlite::{Connection, params};
use tick_bench::{DAY, now};

/// `servers` configured servers; guilds 1..=`due` are due at [`tick_bench::NOW`] (08:00 UTC on
/// a day the dataset has entries for), the rest later that day or the next.
fn seed(path: &Path, servers: u64, due: u64) {
    drop(SqliteStore::open(path).expect("the store opens"));
    let mut conn = Connection::open(path).unwrap();
    conn.pragma_update(None, "synchronous", "OFF").unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut settings = tx
            .prepare(
                "INSERT INTO guild_settings (guild_id, onthisday_channel_id, onthisday_time,
                                             onthisday_zone)
                 VALUES (?1, ?2, ?3, ?4)",
            )
            .unwrap();
        let mut schedules = tx
            .prepare(
                "INSERT INTO schedules (guild_id, next_local_date, next_run_at, due_at)
                 VALUES (?1, ?2, ?3, ?3)",
            )
            .unwrap();
        let base = now().as_millisecond();
        for guild in 1..=servers {
            let (time, at) = if guild <= due {
                ("08:00".to_owned(), base)
            } else {
                // Spread over the following hours, minute by minute: never due at NOW.
                let minutes = 1 + (guild % (16 * 60)) as i64;
                (
                    format!("{:02}:{:02}", 8 + minutes / 60, minutes % 60),
                    base + minutes * 60_000,
                )
            };
            settings
                .execute(params![
                    guild as i64,
                    (guild + 1_000_000) as i64,
                    time,
                    "UTC"
                ])
                .unwrap();
            schedules.execute(params![guild as i64, DAY, at]).unwrap();
        }
    }
    tx.commit().unwrap();
}

/// Makes guilds 1..=`due` due at NOW again.
fn reset(conn: &Connection, due: u64) {
    conn.execute("DELETE FROM posts WHERE guild_id <= ?1", [due as i64])
        .unwrap();
    conn.execute(
        "UPDATE schedules SET next_local_date = ?2, next_run_at = ?3, due_at = ?3,
                              lease_owner = NULL, lease_until = NULL
         WHERE guild_id <= ?1",
        params![due as i64, DAY, now().as_millisecond()],
    )
    .unwrap();
}

fn tick(c: &mut Criterion) {
    let core = Arc::new(Core::embedded().expect("the dataset loads"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("schedule_tick");
    group.sample_size(20);
    for (servers, due) in [(1_000u64, 5u64), (100_000, 5), (100_000, 50)] {
        // KR_BENCH_DIR=/dev/shm takes the disk's fsyncs out of the figures.
        let dir = match std::env::var_os("KR_BENCH_DIR") {
            Some(base) => tempfile::tempdir_in(base).unwrap(),
            None => tempfile::tempdir().unwrap(),
        };
        let path = dir.path().join("bench.sqlite3");
        seed(&path, servers, due);
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
        let scheduler = tick_bench::unpaced(store, Arc::clone(&core));
        let side = Connection::open(&path).unwrap();
        side.busy_timeout(std::time::Duration::from_secs(5))
            .unwrap();
        // Check once that the tick posts exactly the servers due.
        reset(&side, due);
        let report = runtime.block_on(scheduler.tick(now()));
        assert_eq!(report.posted().len() as u64, due, "{report:?}");

        group.bench_function(format!("{servers}_servers_{due}_due"), |b| {
            b.iter_batched(
                || reset(&side, due),
                |()| runtime.block_on(scheduler.tick(now())),
                BatchSize::PerIteration,
            )
        });
        // Nothing due: what the loop pays when it wakes for nothing.
        if due == 5 {
            group.bench_function(format!("{servers}_servers_none_due"), |b| {
                b.iter(|| runtime.block_on(scheduler.tick(now())))
            });
        }
    }

    // Through the one client, to a fake Discord on this machine: 1 000 servers, 5 due.
    let fake = runtime.block_on(support::fake_discord::FakeDiscord::start());
    let base = fake.base();
    let env = |k: &str| match k {
        "DISCORD_TOKEN" => Some("MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GaBcDe.not-a-real-token".to_owned()),
        "DISCORD_API_BASE" => Some(base.clone()),
        _ => None,
    };
    let config = operator::resolve(None, &env).unwrap();
    let http = rest::client(&config.discord.api_base, config.secrets.token().unwrap()).unwrap();
    let poster = ChannelPoster::new(Arc::new(http), &config.discord.api_base);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench-rest.sqlite3");
    let (servers, due) = (1_000u64, 5u64);
    seed(&path, servers, due);
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
    let scheduler = Scheduler::new(store, Arc::clone(&core), poster);
    let side = Connection::open(&path).unwrap();
    side.busy_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    reset(&side, due);
    fake.set_now(now());
    let report = runtime.block_on(scheduler.tick(now()));
    assert_eq!(report.posted().len() as u64, due, "{report:?}");
    assert_eq!(fake.creates().len() as u64, due);
    // Later creates reuse the nonces, so the fake answers them with the first messages
    // (as Discord does within minutes): the channels do not fill up.
    group.bench_function(format!("{servers}_servers_{due}_due_rest"), |b| {
        b.iter_batched(
            || reset(&side, due),
            |()| runtime.block_on(scheduler.tick(now())),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, tick);
criterion_main!(benches);
