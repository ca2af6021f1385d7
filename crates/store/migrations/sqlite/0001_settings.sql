-- 0001: each server's settings, and the audit trail of every change to them.
--
-- Ids (servers, channels, users) are Discord snowflakes, stored as INTEGER (a u64
-- kept bit for bit in SQLite's signed 64 bits). Times are Unix milliseconds, UTC.
-- A server that never configured anything has no row: it costs nothing and reads
-- as the defaults.

CREATE TABLE guild_settings (
    guild_id              INTEGER PRIMARY KEY,
    visibility            TEXT    NOT NULL DEFAULT 'public'
                                  CHECK (visibility IN ('public', 'private')),
    visibility_changed_by INTEGER,
    visibility_changed_at INTEGER,
    -- The daily "on this day" post: all three set, or none.
    onthisday_channel_id  INTEGER,
    onthisday_time        TEXT    CHECK (onthisday_time GLOB '[0-2][0-9]:[0-5][0-9]'),
    onthisday_zone        TEXT,
    onthisday_changed_by  INTEGER,
    onthisday_changed_at  INTEGER,
    CHECK ((onthisday_channel_id IS NULL) = (onthisday_time IS NULL)
       AND (onthisday_time IS NULL) = (onthisday_zone IS NULL)),
    CHECK ((visibility_changed_by IS NULL) = (visibility_changed_at IS NULL)),
    CHECK ((onthisday_changed_by IS NULL) = (onthisday_changed_at IS NULL))
) STRICT;

-- Append-only. Newest first is highest id first: ids are never reused
-- (AUTOINCREMENT), and do not depend on the clock.
CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id  INTEGER NOT NULL,
    setting   TEXT    NOT NULL,
    old_value TEXT    NOT NULL,
    new_value TEXT    NOT NULL,
    -- NULL when the bot made the change itself (a schedule paused on a 403/404).
    user_id   INTEGER,
    at        INTEGER NOT NULL
) STRICT;

CREATE INDEX audit_log_by_guild ON audit_log (guild_id, id);
