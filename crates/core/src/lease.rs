//! The rules of handing each due daily post to exactly one of several processes, with
//! no I/O. A backend keeps, per server, one time at which the post is next handed out
//! ("due at"): the run's time, then while leased the lease's expiry, after a failure
//! the retry time. So one rule covers the three cases: a post is handed out when its
//! due time has come and it is not paused ([`is_due`]); a lease that ran out makes the
//! post due again, and another process takes it over.
//!
//! Every lease gets a new fence ([`next_fence`]); a write made under a lease is
//! accepted only while the post still has that lease's fence ([`fence_holds`]): a
//! process whose lease was taken over, or whose schedule a moderator changed
//! meanwhile, cannot move the schedule.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

/// When a lease taken at `now` for `lease_for` runs out (saturating at the end of
/// time): from then on the post is due again.
pub fn lease_until(now: Timestamp, lease_for: Duration) -> Timestamp {
    later(now, lease_for)
}

/// `now + wait`, saturating.
pub fn later(now: Timestamp, wait: Duration) -> Timestamp {
    let wait = SignedDuration::try_from(wait).unwrap_or(SignedDuration::MAX);
    now.checked_add(wait).unwrap_or(Timestamp::MAX)
}

/// Whether a post is handed out at `now`: its due time has come and it is not
/// paused. The backends' queries select exactly these (`due_at <= now AND paused_at
/// IS NULL`), soonest first.
pub fn is_due(due_at: Timestamp, paused: bool, now: Timestamp) -> bool {
    !paused && due_at <= now
}

/// The fence of the lease after one fenced with `fence`.
pub fn next_fence(fence: i64) -> i64 {
    fence.wrapping_add(1)
}

/// Whether a write under a lease fenced `lease` is accepted when the post's fence is
/// `current` (`None`: the schedule is gone).
pub fn fence_holds(current: Option<i64>, lease: i64) -> bool {
    current == Some(lease)
}

/// The attempt number of the next lease on a post tried `attempts` times already.
pub fn next_attempt(attempts: u32) -> u32 {
    attempts.saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::tests::ts;

    #[test]
    fn a_lease_runs_out_and_the_post_is_due_again() {
        let now = ts("2024-03-01T07:30:00Z");
        let until = lease_until(now, Duration::from_secs(60));
        assert_eq!(until, ts("2024-03-01T07:31:00Z"));
        assert!(!is_due(until, false, ts("2024-03-01T07:30:59Z")));
        assert!(is_due(until, false, until));
        assert!(!is_due(until, true, ts("2030-01-01T00:00:00Z")));
        assert_eq!(lease_until(now, Duration::MAX), Timestamp::MAX);
    }

    #[test]
    fn only_the_latest_lease_may_write() {
        let first = next_fence(0);
        let second = next_fence(first);
        assert!(fence_holds(Some(second), second));
        assert!(!fence_holds(Some(second), first));
        assert!(!fence_holds(None, second));
        assert_eq!(next_fence(i64::MAX), i64::MIN);
        assert_eq!(next_attempt(0), 1);
        assert_eq!(next_attempt(u32::MAX), u32::MAX);
    }
}
