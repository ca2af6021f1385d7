//! Shared by the store's tests: a fresh database of each backend, opened again as a
//! restart would, or a second time as another process would.
//!
//! PostgreSQL: each test gets a schema of its own on the server at
//! `KR_TEST_POSTGRES_URL` (default `karabakh_store::testing::DEFAULT_POSTGRES_URL`), dropped after it, so
//! tests run in parallel. A server out of reach skips the test with a line saying
//! so, unless `KR_REQUIRE_POSTGRES=1` (CI), where it fails.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

#[allow(unused_imports)]
pub use karabakh_store::testing::{
    drop_schema, fresh_schema, pg_config, postgres_server, postgres_url,
};
use karabakh_store::{PgStore, SqliteStore, Store};
use tempfile::TempDir;

pub use karabakh_core::testing::{otd, ts};

/// A database made for one test, removed after it.
pub struct TestDb {
    pub store: Arc<dyn Store>,
    place: Place,
}

enum Place {
    Sqlite { _dir: TempDir, path: PathBuf },
    Postgres { url: String, schema: String },
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

async fn open_sqlite(path: PathBuf) -> Arc<dyn Store> {
    let store = tokio::task::spawn_blocking(move || SqliteStore::open(path))
        .await
        .unwrap()
        .unwrap();
    Arc::new(store)
}
