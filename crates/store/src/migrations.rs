//! The databases' schema versions. Each migration is a SQL file under
//! `migrations/<backend>/`, compiled in, applied in order at open inside its own
//! transaction together with the new version number: a crash leaves the database at
//! the old version or the new one, never between.

/// One step of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The `user_version` the database has once this step is applied.
    pub version: i64,
    /// The file's name, for messages.
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every SQLite migration, in order; the versions are 1, 2, 3, …
pub const SQLITE_MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_settings.sql",
        sql: include_str!("../migrations/sqlite/0001_settings.sql"),
    },
    Migration {
        version: 2,
        name: "0002_schedule.sql",
        sql: include_str!("../migrations/sqlite/0002_schedule.sql"),
    },
    Migration {
        version: 3,
        name: "0003_empty_days.sql",
        sql: include_str!("../migrations/sqlite/0003_empty_days.sql"),
    },
    Migration {
        version: 4,
        name: "0004_leases.sql",
        sql: include_str!("../migrations/sqlite/0004_leases.sql"),
    },
    Migration {
        version: 5,
        name: "0005_failures.sql",
        sql: include_str!("../migrations/sqlite/0005_failures.sql"),
    },
];

/// Every PostgreSQL migration, in order; the versions are 1, 2, 3, …
pub const POSTGRES_MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_schema.sql",
        sql: include_str!("../migrations/postgres/0001_schema.sql"),
    },
    Migration {
        version: 2,
        name: "0002_failures.sql",
        sql: include_str!("../migrations/postgres/0002_failures.sql"),
    },
];

/// The PostgreSQL schema version this build writes (`kr_schema_migrations`).
pub const POSTGRES_SCHEMA_VERSION: i64 = POSTGRES_MIGRATIONS[POSTGRES_MIGRATIONS.len() - 1].version;

/// The SQLite schema version this build writes (`PRAGMA user_version`).
pub const SQLITE_SCHEMA_VERSION: i64 = SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.len() - 1].version;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_count_up_from_one_and_files_are_named_after_them() {
        for (i, m) in SQLITE_MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.name);
            assert!(
                m.name.starts_with(&format!("{:04}_", m.version)),
                "{}",
                m.name
            );
        }
        assert_eq!(SQLITE_SCHEMA_VERSION, SQLITE_MIGRATIONS.len() as i64);
        for (i, m) in POSTGRES_MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.name);
            assert!(m.name.starts_with(&format!("{:04}_", m.version)));
        }
        assert_eq!(POSTGRES_SCHEMA_VERSION, POSTGRES_MIGRATIONS.len() as i64);
    }
}
