//! What a change to a server's settings does, written once for every database: the
//! new settings, the audit records, the "last changed" marks, where the daily post's
//! schedule goes (skipping local days already posted), pausing and resuming. Pure:
//! a backend reads the current state in a transaction, asks these functions, and
//! stores exactly what they return.

use std::collections::BTreeSet;

use jiff::Timestamp;
use jiff::civil::Date;

use super::{
    AuditEntry, Change, GuildSettings, LastChange, OnThisDay, Paused, Run, Setting, Visibility,
    describe_onthisday, describe_pause,
};

/// The longest pause reason kept (in characters); the rest is cut.
pub const MAX_REASON: usize = 300;

/// The local dates a server's daily post was sent for, as far as the rules need them:
/// those from [`PostedDates::since`] on. Older ones can never be a next run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostedDates(BTreeSet<Date>);

impl PostedDates {
    /// The earliest local date that any run at or after `at` can be for, in any
    /// zone: the UTC date of `at` less one day (no zone is more than a day behind
    /// UTC). A backend reads the posted dates from this one on.
    pub fn since(at: Timestamp) -> Date {
        let utc = at.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
        utc.yesterday().unwrap_or(utc)
    }

    pub fn contains(&self, date: Date) -> bool {
        self.0.contains(&date)
    }
}

impl FromIterator<Date> for PostedDates {
    fn from_iter<I: IntoIterator<Item = Date>>(iter: I) -> Self {
        PostedDates(iter.into_iter().collect())
    }
}

/// What happens to a server's schedule row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleChange {
    /// Left as it is (its run, its pause, any lease on it).
    Keep,
    /// Removed: no daily post any more. The record of past posts stays.
    Remove,
    /// (Re)started at this run: not paused, not leased (a lease held on the old
    /// schedule is taken back: its holder's next write is refused).
    Start(Run),
}

/// What a change does: everything a backend stores, in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The settings after the change, as `guild_settings` would read them back.
    pub settings: GuildSettings,
    /// The records to append to the audit trail, in this order.
    pub audit: Vec<AuditEntry>,
    pub schedule: ScheduleChange,
}

impl Applied {
    /// Whether anything is written at all (a change to the value already set is not).
    pub fn writes(&self) -> bool {
        !self.audit.is_empty() || self.schedule != ScheduleChange::Keep
    }
}

/// The next run of a daily post from `now` on (after the local date `after`, if
/// given) for a date not posted yet.
pub fn next_unposted_run(
    onthisday: &OnThisDay,
    after: Option<Date>,
    now: Timestamp,
    posted: &PostedDates,
) -> Result<Run, jiff::Error> {
    let mut run = match after {
        None => onthisday.next_run(now)?,
        Some(date) => onthisday.next_run_after(date, now)?,
    };
    // Each turn moves a day on; only days already posted (a handful) are skipped.
    while posted.contains(run.date) {
        run = onthisday.next_run_after(run.date, now)?;
    }
    Ok(run)
}

/// A moderator's change (`user_id`, at `at`) to the settings `old` of a server.
///
/// Each setting whose value changes gets an audit record and its "last changed"
/// mark; a change to the value already set records nothing. Setting the daily post
/// (even to the same value) clears a pause and schedules the next post from `at` on,
/// skipping days already posted; clearing it or a reset removes the schedule but
/// keeps the record of past posts.
pub fn apply(
    guild_id: u64,
    old: &GuildSettings,
    change: &Change,
    user_id: u64,
    at: Timestamp,
    posted: &PostedDates,
) -> Result<Applied, jiff::Error> {
    let (onthisday, visibility) = match change {
        Change::SetOnThisDay(o) => (Some(o.clone()), old.visibility),
        Change::ClearOnThisDay => (None, old.visibility),
        Change::SetVisibility(v) => (old.onthisday.clone(), *v),
        Change::Reset => (None, Visibility::default()),
    };
    let onthisday_changes = onthisday != old.onthisday;
    let visibility_changes = visibility != old.visibility;
    // A pause ends when the daily post is set again (even to the same value),
    // cleared or reset.
    let unpauses = old.paused.is_some()
        && matches!(
            change,
            Change::SetOnThisDay(_) | Change::ClearOnThisDay | Change::Reset
        );
    if !onthisday_changes && !visibility_changes && !unpauses {
        return Ok(Applied {
            settings: old.clone(),
            audit: Vec::new(),
            schedule: ScheduleChange::Keep,
        });
    }
    let by = Some(LastChange { user_id, at });
    let schedule = match &onthisday {
        None => ScheduleChange::Remove,
        Some(o) if onthisday_changes || unpauses => {
            ScheduleChange::Start(next_unposted_run(o, None, at, posted)?)
        }
        Some(_) => ScheduleChange::Keep,
    };
    let next_post = match schedule {
        ScheduleChange::Start(run) => Some(run),
        ScheduleChange::Remove => None,
        ScheduleChange::Keep => old.next_post,
    };
    let record = |setting, old_value: String, new_value: String| AuditEntry {
        guild_id,
        setting,
        old_value,
        new_value,
        user_id: Some(user_id),
        at,
    };
    let mut audit = Vec::new();
    if onthisday_changes {
        audit.push(record(
            Setting::OnThisDay,
            describe_onthisday(old.onthisday.as_ref()),
            describe_onthisday(onthisday.as_ref()),
        ));
    }
    // Clearing or resetting a paused post records the post going off; a pause record
    // is only for a post that stays and runs again.
    if unpauses && onthisday.is_some() {
        audit.push(record(
            Setting::Pause,
            describe_pause(old.paused.as_ref()),
            describe_pause(None),
        ));
    }
    if visibility_changes {
        audit.push(record(
            Setting::Visibility,
            old.visibility.as_str().to_owned(),
            visibility.as_str().to_owned(),
        ));
    }
    let settings = GuildSettings {
        onthisday_changed: if onthisday_changes {
            by
        } else {
            old.onthisday_changed
        },
        visibility_changed: if visibility_changes {
            by
        } else {
            old.visibility_changed
        },
        paused: if unpauses || onthisday.is_none() {
            None
        } else {
            old.paused.clone()
        },
        onthisday,
        visibility,
        next_post,
    };
    Ok(Applied {
        settings,
        audit,
        schedule,
    })
}

/// Where a schedule whose next run is for `scheduled` goes once the post for `done`
/// is sent or given up at `now`: the next unposted run after `done`, or `None` when
/// the schedule is past `done` already (nothing to move).
pub fn advance(
    onthisday: &OnThisDay,
    scheduled: Date,
    done: Date,
    now: Timestamp,
    posted: &PostedDates,
) -> Result<Option<Run>, jiff::Error> {
    if scheduled > done {
        return Ok(None);
    }
    next_unposted_run(onthisday, Some(done), now, posted).map(Some)
}

/// The bot stops a server's daily post (Discord refused it) with `reason`: the pause
/// to store and its audit record (made by the bot: no user). `None` when the server
/// has no daily post, or it is paused already (the first reason is kept).
pub fn pause(
    guild_id: u64,
    old: &GuildSettings,
    reason: &str,
    at: Timestamp,
) -> Option<(Paused, AuditEntry)> {
    if old.onthisday.is_none() || old.paused.is_some() {
        return None;
    }
    let paused = Paused {
        reason: clean_reason(reason),
        at,
    };
    let audit = AuditEntry {
        guild_id,
        setting: Setting::Pause,
        old_value: describe_pause(None),
        new_value: describe_pause(Some(&paused)),
        user_id: None,
        at,
    };
    Some((paused, audit))
}

/// The bot starts a paused daily post again from `at` on: its next run (skipping
/// days posted) and the audit record. `None` when it is not paused.
pub fn resume(
    guild_id: u64,
    old: &GuildSettings,
    at: Timestamp,
    posted: &PostedDates,
) -> Result<Option<(Run, AuditEntry)>, jiff::Error> {
    let (Some(onthisday), Some(paused)) = (&old.onthisday, &old.paused) else {
        return Ok(None);
    };
    let run = next_unposted_run(onthisday, None, at, posted)?;
    let audit = AuditEntry {
        guild_id,
        setting: Setting::Pause,
        old_value: describe_pause(Some(paused)),
        new_value: describe_pause(None),
        user_id: None,
        at,
    };
    Ok(Some((run, audit)))
}

/// A pause reason kept to one line of at most [`MAX_REASON`] characters (and an
/// ellipsis); never empty.
pub fn clean_reason(reason: &str) -> String {
    let one_line: String = reason
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut out: String = one_line.chars().take(MAX_REASON).collect();
    if one_line.chars().count() > MAX_REASON {
        out.push('…');
    }
    if out.is_empty() {
        out.push_str("no reason given");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::tests::{otd, ts};
    use jiff::civil::date;

    const G: u64 = 7;
    const U: u64 = 42;

    fn none() -> PostedDates {
        PostedDates::default()
    }

    fn set(old: &GuildSettings, change: Change, at: &str) -> Applied {
        apply(G, old, &change, U, ts(at), &none()).unwrap()
    }

    #[test]
    fn setting_the_daily_post_schedules_it_marks_and_audits_it() {
        let o = otd("07:30", "Europe/Paris");
        let a = set(
            &GuildSettings::default(),
            Change::SetOnThisDay(o.clone()),
            "2024-03-01T06:00:00Z",
        );
        let run = o.run_on(date(2024, 3, 1)).unwrap();
        assert_eq!(a.schedule, ScheduleChange::Start(run));
        assert_eq!(a.settings.next_post, Some(run));
        assert_eq!(a.settings.onthisday, Some(o));
        assert_eq!(
            a.settings.onthisday_changed,
            Some(LastChange {
                user_id: U,
                at: ts("2024-03-01T06:00:00Z")
            })
        );
        assert_eq!(a.audit.len(), 1);
        assert_eq!(a.audit[0].setting, Setting::OnThisDay);
        assert_eq!(a.audit[0].old_value, "off");
        assert_eq!(a.audit[0].user_id, Some(U));
        assert!(a.writes());
    }

    #[test]
    fn the_value_already_set_writes_nothing() {
        let a = set(
            &GuildSettings::default(),
            Change::SetVisibility(Visibility::Public),
            "2024-03-01T06:00:00Z",
        );
        assert!(!a.writes());
        assert_eq!(a.settings, GuildSettings::default());
        let cleared = set(
            &GuildSettings::default(),
            Change::ClearOnThisDay,
            "2024-03-01T06:00:00Z",
        );
        assert!(!cleared.writes());
    }

    #[test]
    fn a_day_already_posted_is_skipped_by_the_next_run() {
        let o = otd("07:30", "Europe/Paris");
        let posted: PostedDates = [date(2024, 3, 1), date(2024, 3, 2)].into_iter().collect();
        let a = apply(
            G,
            &GuildSettings::default(),
            &Change::SetOnThisDay(o.clone()),
            U,
            ts("2024-03-01T06:00:00Z"),
            &posted,
        )
        .unwrap();
        assert_eq!(a.settings.next_post.unwrap().date, date(2024, 3, 3));
        assert!(PostedDates::since(ts("2024-03-01T06:00:00Z")) <= date(2024, 3, 1));
    }

    #[test]
    fn setting_a_paused_post_again_unpauses_it_and_records_both() {
        let o = otd("07:30", "UTC");
        let old = GuildSettings {
            onthisday: Some(o.clone()),
            paused: Some(Paused {
                reason: "403".into(),
                at: ts("2024-03-01T00:00:00Z"),
            }),
            ..GuildSettings::default()
        };
        // The same value: no onthisday record, only the pause ending.
        let a = set(&old, Change::SetOnThisDay(o), "2024-03-02T00:00:00Z");
        assert!(a.settings.paused.is_none());
        assert!(matches!(a.schedule, ScheduleChange::Start(_)));
        let settings: Vec<_> = a.audit.iter().map(|e| e.setting).collect();
        assert_eq!(settings, [Setting::Pause]);
        assert_eq!(a.audit[0].old_value, "paused: 403");
        // Clearing a paused post records the post going off, not the pause.
        let c = set(&old, Change::ClearOnThisDay, "2024-03-02T00:00:00Z");
        assert_eq!(c.schedule, ScheduleChange::Remove);
        let settings: Vec<_> = c.audit.iter().map(|e| e.setting).collect();
        assert_eq!(settings, [Setting::OnThisDay]);
        // Visibility leaves the pause alone.
        let v = set(
            &old,
            Change::SetVisibility(Visibility::Private),
            "2024-03-02T00:00:00Z",
        );
        assert_eq!(v.schedule, ScheduleChange::Keep);
        assert!(v.settings.paused.is_some());
    }

    #[test]
    fn reset_removes_the_schedule_and_records_each_setting_it_changes() {
        let old = GuildSettings {
            onthisday: Some(otd("07:30", "UTC")),
            visibility: Visibility::Private,
            ..GuildSettings::default()
        };
        let a = set(&old, Change::Reset, "2024-03-02T00:00:00Z");
        assert_eq!(a.schedule, ScheduleChange::Remove);
        assert_eq!(a.settings.onthisday, None);
        assert_eq!(a.settings.visibility, Visibility::Public);
        let settings: Vec<_> = a.audit.iter().map(|e| e.setting).collect();
        assert_eq!(settings, [Setting::OnThisDay, Setting::Visibility]);
    }

    #[test]
    fn advancing_moves_past_the_day_done_unless_already_past_it() {
        let o = otd("07:30", "UTC");
        let now = ts("2024-03-01T07:30:05Z");
        let next = advance(&o, date(2024, 3, 1), date(2024, 3, 1), now, &none()).unwrap();
        assert_eq!(next.unwrap().date, date(2024, 3, 2));
        assert_eq!(
            advance(&o, date(2024, 3, 5), date(2024, 3, 1), now, &none()).unwrap(),
            None
        );
        let posted: PostedDates = [date(2024, 3, 2)].into_iter().collect();
        let next = advance(&o, date(2024, 3, 1), date(2024, 3, 1), now, &posted).unwrap();
        assert_eq!(next.unwrap().date, date(2024, 3, 3));
    }

    #[test]
    fn pausing_and_resuming_are_recorded_as_the_bots() {
        let on = GuildSettings {
            onthisday: Some(otd("07:30", "UTC")),
            ..GuildSettings::default()
        };
        let at = ts("2024-03-01T07:30:00Z");
        let (paused, record) = pause(G, &on, "403 Missing Access\n", at).unwrap();
        assert_eq!(paused.reason, "403 Missing Access");
        assert_eq!(record.user_id, None);
        assert_eq!(record.new_value, "paused: 403 Missing Access");
        assert!(pause(G, &GuildSettings::default(), "403", at).is_none());
        let was_paused = GuildSettings {
            paused: Some(paused),
            ..on.clone()
        };
        assert!(
            pause(G, &was_paused, "404", at).is_none(),
            "first reason kept"
        );
        let (run, record) = resume(G, &was_paused, at, &none()).unwrap().unwrap();
        assert_eq!(run.date, date(2024, 3, 1));
        assert_eq!(record.new_value, "running");
        assert!(resume(G, &on, at, &none()).unwrap().is_none());
    }

    #[test]
    fn pause_reasons_are_one_line_and_bounded() {
        assert_eq!(clean_reason("  403 Missing Access\n"), "403 Missing Access");
        assert_eq!(clean_reason("a\nb"), "a b");
        assert_eq!(clean_reason(""), "no reason given");
        assert_eq!(
            clean_reason(&"x".repeat(1000)).chars().count(),
            MAX_REASON + 1
        );
    }
}
