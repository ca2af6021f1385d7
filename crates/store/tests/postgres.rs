//! What only PostgreSQL does: several processes migrating one database at once,
//! changes announced to the other processes (LISTEN/NOTIFY), a schema newer than the
//! build, and a URL's password kept out of every message. Each test skips (saying
//! so) without a server, unless `KR_REQUIRE_POSTGRES=1`. What every backend does is
//! in `conformance.rs`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{
    TestDb, drop_schema, fresh_schema, otd, pg_config, postgres_server, postgres_url, ts,
};
use karabakh_core::settings::Change;
use karabakh_store::{Changed, POSTGRES_SCHEMA_VERSION, PgConfig, PgStore, Store, StoreError};

/// Eight processes start together on a new schema: every one connects, and each
/// migration is applied once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_starting_together_migrate_once() {
    let Some(server) = postgres_server("processes_starting_together_migrate_once").await else {
        return;
    };
    let schema = fresh_schema("migrate_once");
    let starting: Vec<_> = (0..8)
        .map(|_| {
            let config = pg_config(&schema);
            tokio::spawn(async move { PgStore::connect(&config).await })
        })
        .collect();
    let mut stores = Vec::new();
    for s in starting {
        stores.push(s.await.unwrap().expect("every process connects"));
    }
    for store in &stores {
        assert_eq!(
            store.schema_version().await.unwrap(),
            POSTGRES_SCHEMA_VERSION
        );
    }
    let applied: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM {schema}.kr_schema_migrations"
    ))
    .fetch_one(&server)
    .await
    .unwrap();
    assert_eq!(applied, POSTGRES_SCHEMA_VERSION);
    drop(stores);
    drop_schema(postgres_url(), schema);
}

/// A change made through one process reaches another's `changes()` (the settings
/// cache's invalidation, the scheduler's wake) through NOTIFY.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_in_one_process_is_announced_in_the_others() {
    let Some(db) = TestDb::postgres("a_change_is_announced").await else {
        return;
    };
    let other = db.another().await;
    let mut heard = other.changes();
    db.store
        .apply(
            77,
            Change::SetOnThisDay(otd(1, "10:00", "UTC")),
            5,
            ts("2024-06-01T00:00:00Z"),
        )
        .await
        .unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match heard.recv().await.unwrap() {
                Changed::Guild(77) => return,
                // The listener's first connection says "anything may have changed".
                Changed::All | Changed::Guild(_) => {}
            }
        }
    })
    .await;
    assert!(got.is_ok(), "the other process never heard of the change");
    assert_eq!(
        other.guild_settings(77).await.unwrap().onthisday,
        Some(otd(1, "10:00", "UTC"))
    );
}

/// A store announces its own change once, at commit: the `NOTIFY` that tells the
/// other processes does not come back to it as a second notice (which dropped from
/// its settings cache the value the change had just put in).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_hears_its_own_change_once() {
    let Some(db) = TestDb::postgres("own_change_once").await else {
        return;
    };
    let other = db.another().await;
    let mut mine = db.store.changes();
    let mut theirs = other.changes();
    db.store
        .apply(
            78,
            Change::SetOnThisDay(otd(1, "10:00", "UTC")),
            5,
            ts("2024-06-01T00:00:00Z"),
        )
        .await
        .unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), async {
        while theirs.recv().await.unwrap() != Changed::Guild(78) {}
    })
    .await;
    assert!(got.is_ok(), "the other process never heard of the change");
    // The notice reached every listener together: this store's too, by now.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut heard = Vec::new();
    while let Ok(change) = mine.try_recv() {
        // The listener's first connection says "anything may have changed".
        if change != Changed::All {
            heard.push(change);
        }
    }
    assert_eq!(heard, vec![Changed::Guild(78)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_newer_than_the_build_is_refused() {
    let Some(db) = TestDb::postgres("a_schema_newer").await else {
        return;
    };
    let Some(server) = postgres_server("a_schema_newer").await else {
        return;
    };
    let schema = db.schema().unwrap().to_owned();
    sqlx::query(&format!(
        "INSERT INTO {schema}.kr_schema_migrations (version, name) VALUES (99, 'future.sql')"
    ))
    .execute(&server)
    .await
    .unwrap();
    let err = PgStore::connect(&pg_config(&schema)).await.unwrap_err();
    assert!(
        matches!(err, StoreError::TooNew { found: 99, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("schema version 99"), "{err}");
}

/// Neither the log line nor an error names the password, whatever goes wrong.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_stays_out_of_every_message() {
    // Nothing listens on port 1: the connection fails.
    let unreachable = PgConfig::new("postgres://bot:hunter2secret@127.0.0.1:1/bot");
    let err = PgStore::connect(&unreachable)
        .await
        .unwrap_err()
        .to_string();
    assert!(!err.contains("hunter2secret"), "{err}");
    assert!(err.contains("127.0.0.1:1"), "{err}");
    if postgres_server("the_password_stays_out_of_every_message")
        .await
        .is_none()
    {
        return;
    }
    // The server answers, and refuses a database that does not exist.
    let mut url = url::Url::parse(&postgres_url()).unwrap();
    url.set_password(Some("hunter2secret")).unwrap();
    url.set_path("/kr_no_such_database");
    let store = PgStore::connect(&PgConfig::new(url.as_str())).await;
    let err = store.map(|_| ()).unwrap_err().to_string();
    assert!(!err.contains("hunter2secret"), "{err}");
    assert!(err.contains("kr_no_such_database"), "{err}");
}

/// The store behind `Arc<dyn Store>` from `open`, as the bot starts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_picks_postgres_from_the_database_setting() {
    if postgres_server("open_picks_postgres").await.is_none() {
        return;
    }
    let schema = fresh_schema("open_picks");
    let store: Arc<dyn Store> =
        karabakh_store::open(&karabakh_store::Database::Postgres(pg_config(&schema)))
            .await
            .unwrap();
    assert!(store.describe().starts_with("PostgreSQL at postgres://"));
    assert!(!store.describe().contains("options"));
    assert_eq!(store.next_due_at().await.unwrap(), None);
    drop(store);
    drop_schema(postgres_url(), schema);
}
