//! Shared by the store's tests: a fresh database of each backend, opened again as a
//! restart would, or a second time as another process would.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use karabakh_store::{SqliteStore, Store};
use tempfile::TempDir;

pub use karabakh_core::testing::{otd, ts};

/// A database made for one test, removed after it.
pub struct TestDb {
    pub store: Arc<dyn Store>,
    place: Place,
}

enum Place {
    Sqlite { _dir: TempDir, path: PathBuf },
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

    /// Another handle on the same database, as a second process has.
    pub async fn another(&self) -> Arc<dyn Store> {
        match &self.place {
            Place::Sqlite { path, .. } => open_sqlite(path.clone()).await,
        }
    }

    /// Closes the store and opens the database again, as a restart does.
    pub async fn reopen(&mut self) {
        let opened = self.another().await;
        drop(std::mem::replace(&mut self.store, opened));
    }
}

async fn open_sqlite(path: PathBuf) -> Arc<dyn Store> {
    let store = tokio::task::spawn_blocking(move || SqliteStore::open(path))
        .await
        .unwrap()
        .unwrap();
    Arc::new(store)
}
