-- 0004: several processes may post: each due post is leased to one of them.
--
-- due_at is when the store next hands the post out: the run's time (next_run_at),
-- while leased the lease's expiry, after a failure the retry time. A post is due when
-- due_at has come and it is not paused (karabakh_core::lease). next_run_at stays the
-- run's own time, the one `/config show` states.
--
-- fence: a number taken from lease_fences for every lease (and every change of the
-- schedule by a moderator); a write under a lease is accepted only while the schedule
-- still has that lease's fence. Fences are never reused, even when a schedule is
-- removed and set again.

ALTER TABLE schedules ADD COLUMN due_at INTEGER;
ALTER TABLE schedules ADD COLUMN lease_owner TEXT;
ALTER TABLE schedules ADD COLUMN lease_until INTEGER;
ALTER TABLE schedules ADD COLUMN fence INTEGER NOT NULL DEFAULT 0;

-- A post put off by an older build moved next_run_at itself: it is due then.
UPDATE schedules SET due_at = next_run_at;

DROP INDEX schedules_due;
CREATE INDEX schedules_due ON schedules (due_at) WHERE paused_at IS NULL;

CREATE TABLE lease_fences (
    one  INTEGER PRIMARY KEY CHECK (one = 1),
    last INTEGER NOT NULL
) STRICT;
INSERT INTO lease_fences (one, last) VALUES (1, 0);
