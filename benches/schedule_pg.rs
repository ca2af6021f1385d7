//! The cost of one scheduler tick on PostgreSQL: 100 000 configured servers of which
//! 5 or 50 are due, or none, through the real `PgStore` (leases taken `FOR UPDATE SKIP
//! LOCKED`, fenced records), posting through a no-op in-memory poster (no HTTP): what
//! the database and the scheduler cost, not Discord.
//!
//! Run: `cargo bench --bench schedule_pg` with PostgreSQL on 127.0.0.1:5432 (user
//! `postgres`, trust; `KR_TEST_POSTGRES_URL` names another server). It makes a
//! database of its own, seeds it with plain SQL (`generate_series`, one statement per
//! table: 100 000 `apply` calls would measure nothing of the scheduler), and drops it
//! after. Before each timed tick the due servers are made due again, outside the
//! measurement. Without a server it says so and measures nothing.

#[path = "common/tick.rs"]
mod tick_bench;

use std::sync::Arc;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use karabakh_core::commands::Core;
use karabakh_store::{PgConfig, PgStore, Store};
use sqlx::Connection as _;
use tick_bench::{DAY, now};

const SERVERS: i64 = 100_000;

/// `SERVERS` servers; 1..=`due` due at NOW, the rest later that day, minute by minute.
async fn seed(pool: &sqlx::PgPool) {
    let base = now().as_millisecond();
    sqlx::query(
        "INSERT INTO guild_settings (guild_id, onthisday_channel_id, onthisday_time, onthisday_zone)
         SELECT g, g + 1000000,
                lpad(((480 + 1 + g % 900) / 60)::text, 2, '0') || ':' ||
                lpad(((480 + 1 + g % 900) % 60)::text, 2, '0'),
                'UTC'
         FROM generate_series(1, $1::bigint) AS g",
    )
    .bind(SERVERS)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO schedules (guild_id, next_local_date, next_run_at, due_at, fence)
         SELECT g, $2, $3 + (1 + g % 900) * 60000, $3 + (1 + g % 900) * 60000,
                nextval('lease_fences')
         FROM generate_series(1, $1::bigint) AS g",
    )
    .bind(SERVERS)
    .bind(DAY)
    .bind(base)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE").execute(pool).await.unwrap();
}

/// Makes servers 1..=`due` due at NOW (08:00), their posts of the day unsent.
async fn reset(pool: &sqlx::PgPool, due: i64) {
    let base = now().as_millisecond();
    sqlx::query("DELETE FROM posts WHERE guild_id <= $1")
        .bind(due)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE guild_settings SET onthisday_time = '08:00' WHERE guild_id <= $1")
        .bind(due)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE schedules SET next_local_date = $2, next_run_at = $3, due_at = $3,
                lease_owner = NULL, lease_until = NULL
         WHERE guild_id <= $1",
    )
    .bind(due)
    .bind(DAY)
    .bind(base)
    .execute(pool)
    .await
    .unwrap();
}

fn tick(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = std::env::var("KR_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let Ok(mut admin) = runtime.block_on(sqlx::PgConnection::connect(&server)) else {
        eprintln!(
            "schedule_pg: PostgreSQL at {} is out of reach: nothing measured",
            karabakh_store::redact(&server)
        );
        return;
    };
    let name = format!("kr_bench_{}", std::process::id());
    runtime.block_on(async {
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
    });
    let mut url = url::Url::parse(&server).unwrap();
    url.set_path(&name);
    let store = runtime
        .block_on(PgStore::connect(&PgConfig::new(url.to_string())))
        .expect("the store opens");
    let side = runtime
        .block_on(sqlx::PgPool::connect(url.as_str()))
        .unwrap();
    runtime.block_on(seed(&side));
    let store: Arc<dyn Store> = Arc::new(store);
    let core = Arc::new(Core::embedded().expect("the dataset loads"));
    let scheduler = tick_bench::unpaced(store, core);

    let mut group = c.benchmark_group("schedule_tick_postgres");
    group.sample_size(20);
    for due in [5i64, 50] {
        // Check once that the tick posts exactly the servers due.
        runtime.block_on(reset(&side, due));
        let report = runtime.block_on(scheduler.tick(now()));
        assert_eq!(report.posted().len() as i64, due, "{report:?}");
        group.bench_function(format!("{SERVERS}_servers_{due}_due"), |b| {
            b.iter_batched(
                || runtime.block_on(reset(&side, due)),
                |()| runtime.block_on(scheduler.tick(now())),
                BatchSize::PerIteration,
            )
        });
    }
    group.bench_function(format!("{SERVERS}_servers_none_due"), |b| {
        b.iter(|| runtime.block_on(scheduler.tick(now())))
    });
    group.finish();
    drop(scheduler);
    runtime.block_on(async {
        side.close().await;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await
            .unwrap();
    });
}

criterion_group!(benches, tick);
criterion_main!(benches);
