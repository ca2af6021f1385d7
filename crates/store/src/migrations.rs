//! The database's schema versions. Each migration is a SQL file under `migrations/`,
//! compiled in, applied in order at open inside its own transaction together with
//! the new `PRAGMA user_version`: a crash leaves the database at the old version or
//! the new one, never between.

use rusqlite::{Connection, TransactionBehavior};

use super::StoreError;

/// One step of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The `user_version` the database has once this step is applied.
    pub version: i64,
    /// The file's name, for messages.
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration, in order; the versions are 1, 2, 3, …
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_settings.sql",
        sql: include_str!("../migrations/0001_settings.sql"),
    },
    Migration {
        version: 2,
        name: "0002_schedule.sql",
        sql: include_str!("../migrations/0002_schedule.sql"),
    },
    Migration {
        version: 3,
        name: "0003_empty_days.sql",
        sql: include_str!("../migrations/0003_empty_days.sql"),
    },
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].version;

pub(super) fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// Brings the database to [`SCHEMA_VERSION`], or refuses one that is newer.
pub(super) fn migrate(conn: &mut Connection, path: &str) -> Result<(), StoreError> {
    let open_error = |source| StoreError::Open {
        path: path.to_owned(),
        source,
    };
    let found = user_version(conn).map_err(open_error)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_owned(),
            found,
            known: SCHEMA_VERSION,
        });
    }
    for m in MIGRATIONS {
        let failed = |at, source| StoreError::Migration {
            path: path.to_owned(),
            name: m.name,
            at,
            source,
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
    fn versions_count_up_from_one_and_files_are_named_after_them() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.name);
            assert!(
                m.name.starts_with(&format!("{:04}_", m.version)),
                "{}",
                m.name
            );
        }
        assert_eq!(SCHEMA_VERSION, MIGRATIONS.len() as i64);
    }

    #[test]
    fn a_fresh_database_reaches_the_latest_version_and_a_second_run_changes_nothing() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, ":memory:").unwrap();
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        migrate(&mut conn, ":memory:").unwrap();
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
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
