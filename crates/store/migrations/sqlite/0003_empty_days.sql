-- 0003: whether a server's daily post goes out on days the dataset has nothing for.
-- Off by default: days with nothing to say are skipped unless the server asked
-- otherwise (`/config onthisday … empty-days:true`). Kept with the other daily-post
-- columns: it means nothing while they are empty, and reads as off then.

ALTER TABLE guild_settings ADD COLUMN onthisday_empty_days INTEGER NOT NULL DEFAULT 0
    CHECK (onthisday_empty_days IN (0, 1));
