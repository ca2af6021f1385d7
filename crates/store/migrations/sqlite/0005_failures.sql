-- 0005: how many tries of a post failed (a 5xx, no answer), kept with the post so
-- that the backoff goes on where it was, whichever process tries next and after a
-- restart. attempts counts every lease, tries put off by a 429 too; this counts only
-- failures.

ALTER TABLE posts ADD COLUMN failures INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0);
