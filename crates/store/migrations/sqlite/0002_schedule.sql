-- 0002: the daily posts' schedule, and the record that makes each post go out
-- once per server per local day.

-- One row per server whose daily post is configured (kept with guild_settings by
-- the store). The scheduler's queue is the index on next_run_at: finding the posts
-- due costs in the number due, not in the number of servers.
CREATE TABLE schedules (
    guild_id        INTEGER PRIMARY KEY
                            REFERENCES guild_settings (guild_id) ON DELETE CASCADE,
    -- The next post: its local date (YYYY-MM-DD in the server's zone) and when it
    -- is due. NULL only between this migration and the store's first open, which
    -- computes them (SQL cannot read time zones).
    next_local_date TEXT,
    next_run_at     INTEGER,
    -- Set when posting stopped (e.g. the channel is gone or closed to the bot).
    paused_reason   TEXT,
    paused_at       INTEGER,
    CHECK ((next_local_date IS NULL) = (next_run_at IS NULL)),
    CHECK ((paused_reason IS NULL) = (paused_at IS NULL))
) STRICT;

CREATE INDEX schedules_due ON schedules (next_run_at) WHERE paused_at IS NULL;

-- Servers configured before this migration get their schedule row.
INSERT INTO schedules (guild_id)
    SELECT guild_id FROM guild_settings WHERE onthisday_channel_id IS NOT NULL;

-- One row per server and local date a post was tried for. Written (claimed) before
-- the message is sent, marked sent after: a row claimed and not sent is a post that
-- may or may not have reached Discord, and its retry reuses the same nonce.
-- Kept when the schedule is cleared or reset, so re-enabling it on a day already
-- posted does not post twice.
CREATE TABLE posts (
    guild_id         INTEGER NOT NULL,
    local_date       TEXT    NOT NULL,
    nonce            TEXT    NOT NULL,
    channel_id       INTEGER NOT NULL,
    attempts         INTEGER NOT NULL CHECK (attempts >= 1),
    first_claimed_at INTEGER NOT NULL,
    last_claimed_at  INTEGER NOT NULL,
    sent_at          INTEGER,
    message_id       INTEGER,
    PRIMARY KEY (guild_id, local_date)
) STRICT, WITHOUT ROWID;
