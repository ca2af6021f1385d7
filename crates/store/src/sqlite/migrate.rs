//! Brings a SQLite database to [`SQLITE_SCHEMA_VERSION`]: each step in its own
//! `BEGIN IMMEDIATE` transaction together with the new `PRAGMA user_version`.

use rusqlite::{Connection, TransactionBehavior};

use crate::StoreError;
use crate::migrations::{SQLITE_MIGRATIONS, SQLITE_SCHEMA_VERSION};

pub(crate) fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// Brings the database to [`SQLITE_SCHEMA_VERSION`], or refuses one that is newer.
pub(crate) fn migrate(conn: &mut Connection, path: &str) -> Result<(), StoreError> {
    let open_error = |source: rusqlite::Error| StoreError::Open {
        path: path.to_owned(),
        source: source.into(),
    };
    let found = user_version(conn).map_err(open_error)?;
    if found > SQLITE_SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_owned(),
            found,
            known: SQLITE_SCHEMA_VERSION,
        });
    }
    for m in SQLITE_MIGRATIONS {
        let failed = |at, source: rusqlite::Error| StoreError::Migration {
            path: path.to_owned(),
            name: m.name,
            at,
            source: source.into(),
        };
        // IMMEDIATE takes the write lock first, so that two processes opening the
        // same new database apply each step once: the second sees the new version.
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| failed(found, e))?;
        let at = user_version(&tx).map_err(|e| failed(found, e))?;
        if at >= m.version {
            continue;
        }
        tx.execute_batch(m.sql).map_err(|e| failed(at, e))?;
        tx.pragma_update(None, "user_version", m.version)
            .map_err(|e| failed(at, e))?;
        tx.commit().map_err(|e| failed(at, e))?;
        tracing::info!(path, migration = m.name, "applied database migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_database_reaches_the_latest_version_and_a_second_run_changes_nothing() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, ":memory:").unwrap();
        assert_eq!(user_version(&conn).unwrap(), SQLITE_SCHEMA_VERSION);
        migrate(&mut conn, ":memory:").unwrap();
        assert_eq!(user_version(&conn).unwrap(), SQLITE_SCHEMA_VERSION);
    }

    #[test]
    fn a_failing_migration_leaves_the_previous_version_whole() {
        let mut conn = Connection::open_in_memory().unwrap();
        // A table 0002 wants to create already exists: 0002 fails, 0001 stays.
        conn.execute_batch("CREATE TABLE posts (x INTEGER)")
            .unwrap();
        let err = migrate(&mut conn, "test.sqlite3").unwrap_err().to_string();
        assert!(
            err.contains("0002_schedule.sql") && err.contains("version 1"),
            "{err}"
        );
        assert_eq!(user_version(&conn).unwrap(), 1);
        let schedules: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'schedules'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(schedules, 0, "half of 0002 was kept");
    }
}
