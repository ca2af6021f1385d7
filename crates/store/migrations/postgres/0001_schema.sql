-- 0001: the whole schema as of SQLite's version 4, for PostgreSQL.
--
-- The same tables and meanings as the SQLite migrations (read them for the why):
-- ids (Discord snowflakes, u64) kept bit for bit in BIGINT, times as Unix
-- milliseconds, local dates as YYYY-MM-DD text (ordered as dates).

CREATE TABLE guild_settings (
    guild_id              BIGINT  PRIMARY KEY,
    visibility            TEXT    NOT NULL DEFAULT 'public'
                                  CHECK (visibility IN ('public', 'private')),
    visibility_changed_by BIGINT,
    visibility_changed_at BIGINT,
    onthisday_channel_id  BIGINT,
    onthisday_time        TEXT    CHECK (onthisday_time ~ '^[0-2][0-9]:[0-5][0-9]$'),
    onthisday_zone        TEXT,
    onthisday_changed_by  BIGINT,
    onthisday_changed_at  BIGINT,
    onthisday_empty_days  BOOLEAN NOT NULL DEFAULT false,
    CHECK ((onthisday_channel_id IS NULL) = (onthisday_time IS NULL)
       AND (onthisday_time IS NULL) = (onthisday_zone IS NULL)),
    CHECK ((visibility_changed_by IS NULL) = (visibility_changed_at IS NULL)),
    CHECK ((onthisday_changed_by IS NULL) = (onthisday_changed_at IS NULL))
);

-- Append-only; newest first is highest id first (each server's writes are
-- serialized by an advisory lock on its id, so its ids follow its commits).
CREATE TABLE audit_log (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    guild_id  BIGINT NOT NULL,
    setting   TEXT   NOT NULL,
    old_value TEXT   NOT NULL,
    new_value TEXT   NOT NULL,
    user_id   BIGINT,
    at        BIGINT NOT NULL
);
CREATE INDEX audit_log_by_guild ON audit_log (guild_id, id);

-- One row per server whose daily post is configured. due_at: when the post is next
-- handed out (the run, a lease's expiry, or a retry time); fence: from
-- lease_fences, new for every lease and every change of the schedule.
CREATE TABLE schedules (
    guild_id        BIGINT PRIMARY KEY
                           REFERENCES guild_settings (guild_id) ON DELETE CASCADE,
    next_local_date TEXT   NOT NULL,
    next_run_at     BIGINT NOT NULL,
    due_at          BIGINT NOT NULL,
    paused_reason   TEXT,
    paused_at       BIGINT,
    lease_owner     TEXT,
    lease_until     BIGINT,
    fence           BIGINT NOT NULL,
    CHECK ((paused_reason IS NULL) = (paused_at IS NULL))
);
CREATE INDEX schedules_due ON schedules (due_at) WHERE paused_at IS NULL;

CREATE SEQUENCE lease_fences;

-- One row per server and local date a post was leased for; sent_at once sent. Kept
-- when the schedule is cleared or reset.
CREATE TABLE posts (
    guild_id         BIGINT  NOT NULL,
    local_date       TEXT    NOT NULL,
    nonce            TEXT    NOT NULL,
    channel_id       BIGINT  NOT NULL,
    attempts         INTEGER NOT NULL CHECK (attempts >= 1),
    first_claimed_at BIGINT  NOT NULL,
    last_claimed_at  BIGINT  NOT NULL,
    sent_at          BIGINT,
    message_id       BIGINT,
    PRIMARY KEY (guild_id, local_date)
);
