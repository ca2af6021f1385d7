//! Shared by the store's tests: a fresh database of each backend, opened again as a
//! restart would, or a second time as another process would.
//!
//! PostgreSQL: each test gets a schema of its own on the server at
//! `KR_TEST_POSTGRES_URL` (default [`DEFAULT_POSTGRES_URL`]), dropped after it, so
//! tests run in parallel. A server out of reach skips the test with a line saying
//! so, unless `KR_REQUIRE_POSTGRES=1` (CI), where it fails.
#![allow(dead_code)]

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use karabakh_store::{PgConfig, PgStore, SqliteStore, Store, redact};
use tempfile::TempDir;

pub use karabakh_core::testing::{otd, ts};

/// Where the PostgreSQL tests go when `KR_TEST_POSTGRES_URL` is not set.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A database made for one test, removed after it.
pub struct TestDb {
    pub store: Arc<dyn Store>,
    place: Place,
}

enum Place {
    Sqlite { _dir: TempDir, path: PathBuf },
    Postgres { url: String, schema: String },
}

pub fn postgres_url() -> String {
    std::env::var("KR_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

fn postgres_required() -> bool {
    std::env::var("KR_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// Whether the server was out of reach when a test of this binary first tried it
/// (then the others skip at once, without waiting for a timeout each).
static UNREACHABLE: Mutex<Option<String>> = Mutex::new(None);

/// A connection to the test server, or why there is none (after saying so, or
/// failing the test when PostgreSQL is required).
pub async fn postgres_server(test: &str) -> Option<sqlx::PgPool> {
    let url = postgres_url();
    let known = UNREACHABLE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let error = match known {
        Some(error) => error,
        None => {
            let tried = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(3))
                .connect(&url)
                .await;
            match tried {
                Ok(pool) => return Some(pool),
                Err(e) => e.to_string(),
            }
        }
    };
    *UNREACHABLE.lock().unwrap_or_else(PoisonError::into_inner) = Some(error.clone());
    if postgres_required() {
        panic!(
            "{test}: KR_REQUIRE_POSTGRES=1 but PostgreSQL at {} is out of reach: {error}",
            redact(&url)
        );
    }
    // Once per test binary, past the harness's capture of a passing test's output.
    static SAID: AtomicBool = AtomicBool::new(false);
    if !SAID.swap(true, Ordering::Relaxed) {
        let _ = writeln!(
            std::io::stderr(),
            "\nSKIPPED: the PostgreSQL tests of this binary: PostgreSQL at {} is out of reach \
             ({error}). Start one (README, \"Tests\"), point KR_TEST_POSTGRES_URL at one, or \
             set KR_REQUIRE_POSTGRES=1 to make this a failure (CI does).\n",
            redact(&url)
        );
    }
    None
}

/// A schema name no other test (of this run or another) uses.
pub fn fresh_schema(test: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let short: String = test
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(16)
        .collect::<String>()
        .to_ascii_lowercase();
    format!("t_{short}_{}_{n}_{nanos}", std::process::id())
}

pub fn pg_config(schema: &str) -> PgConfig {
    PgConfig {
        url: postgres_url(),
        pool_size: 4,
        schema: Some(schema.to_owned()),
    }
}

impl TestDb {
    /// A new SQLite file in a temporary folder.
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bot.sqlite3");
        let store = open_sqlite(path.clone()).await;
        TestDb {
            store,
            place: Place::Sqlite { _dir: dir, path },
        }
    }

    /// A new schema on the test server; `None` (said) when there is no server.
    pub async fn postgres(test: &str) -> Option<TestDb> {
        postgres_server(test).await?;
        let schema = fresh_schema(test);
        let store = PgStore::connect(&pg_config(&schema)).await.unwrap();
        Some(TestDb {
            store: Arc::new(store),
            place: Place::Postgres {
                url: postgres_url(),
                schema,
            },
        })
    }

    /// Another handle on the same database, as a second process has.
    pub async fn another(&self) -> Arc<dyn Store> {
        match &self.place {
            Place::Sqlite { path, .. } => open_sqlite(path.clone()).await,
            Place::Postgres { schema, .. } => {
                Arc::new(PgStore::connect(&pg_config(schema)).await.unwrap())
            }
        }
    }

    /// The PostgreSQL schema this test's database lives in.
    pub fn schema(&self) -> Option<&str> {
        match &self.place {
            Place::Postgres { schema, .. } => Some(schema),
            Place::Sqlite { .. } => None,
        }
    }

    /// Closes the store and opens the database again, as a restart does.
    pub async fn reopen(&mut self) {
        let opened = self.another().await;
        drop(std::mem::replace(&mut self.store, opened));
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Place::Postgres { url, schema } = &self.place {
            drop_schema(url.clone(), schema.clone());
        }
    }
}

/// Drops a test's schema, from a thread of its own (a drop may run inside the
/// test's runtime, which cannot be blocked on).
pub fn drop_schema(url: String, schema: String) {
    let name = schema.clone();
    let dropped = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let pool = sqlx::PgPool::connect(&url).await?;
            sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .execute(&pool)
                .await?;
            Ok::<_, sqlx::Error>(())
        })
    })
    .join();
    if let Ok(Err(e)) = dropped {
        eprintln!("could not drop the test schema {name}: {e}");
    }
}

async fn open_sqlite(path: PathBuf) -> Arc<dyn Store> {
    let store = tokio::task::spawn_blocking(move || SqliteStore::open(path))
        .await
        .unwrap()
        .unwrap();
    Arc::new(store)
}
