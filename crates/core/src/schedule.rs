//! The rules of the daily "on this day" posts, with no I/O: what to do with a post
//! that is due ([`decide`]), which call the post answers ([`call_for`]), how long to
//! wait after each kind of failure, how the post sent before a crash is recognised
//! ([`find_earlier_post`]), and what moderators read when Discord refuses a post
//! ([`refusal_reason`]). The scheduler that sends the posts is an edge of the bot.

use std::time::Duration;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};

use crate::commands::{Call, Context, Core, Value};
use crate::reply::Answer;
use crate::settings::OnThisDay;

/// The waits between tries after a server error or a network failure (5xx, timeout,
/// connection refused). After the last, the day is given up with a warning.
pub const BACKOFF: [Duration; 5] = [
    Duration::from_secs(30),
    Duration::from_secs(60),
    Duration::from_secs(120),
    Duration::from_secs(240),
    Duration::from_secs(480),
];

/// How long posts wait when Discord rejects the token (401): the operator must fix
/// it; meanwhile the bot asks again this often, and never pauses a server for it.
pub const UNAUTHORIZED_WAIT: Duration = Duration::from_secs(300);

/// A 429 without a readable `retry_after` waits this long.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// The shortest sleep of the loop, so that a schedule stuck in the past (the store
/// failing to move it) cannot make it spin.
pub const MIN_SLEEP: Duration = Duration::from_millis(500);

/// How much earlier than its claim a message may be stamped and still count as the
/// post found after a crash (clocks of the bot and Discord differ a little).
pub const CLOCK_SLACK: SignedDuration = SignedDuration::from_secs(120);

/// How many recent messages of a channel are searched for an earlier try's post.
pub const RECENT_MESSAGES: u8 = 50;

/// Whether a server wants a post on days the dataset has nothing for (`/config
/// onthisday … empty-days:true`; off by default).
pub fn posts_empty_days(o: &OnThisDay) -> bool {
    o.post_empty_days
}

/// What to do with a due schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Post the day's answer now.
    Post,
    /// Its local day is over (the bot was down all of it, or retries ran past
    /// midnight): not back-filled.
    SkipMissed,
    /// The dataset has nothing for the day and the server did not ask for empty days.
    SkipEmpty,
}

/// The local date of `now` in the schedule's zone.
pub fn local_date(o: &OnThisDay, now: Timestamp) -> Date {
    now.to_zoned_datetime(o.zone.time_zone().clone()).date()
}

/// Pure: what to do with the run for local date `run_date` of a schedule `o`, at
/// `now`, when that day's answer is `empty` or not. Started late on the same local
/// day it posts then; a day missed entirely is not back-filled.
pub fn decide(o: &OnThisDay, run_date: Date, now: Timestamp, empty: bool) -> Decision {
    if local_date(o, now) > run_date {
        Decision::SkipMissed
    } else if empty && !posts_empty_days(o) {
        Decision::SkipEmpty
    } else {
        Decision::Post
    }
}

/// The `/onthisday` call for a local date, as the scheduler asks the core.
pub fn call_for(date: Date, guild_id: u64, now: Timestamp) -> Call {
    let mut context = Context::new(now);
    context.guild_id = Some(guild_id);
    Call::new(
        "onthisday",
        vec![(
            "date".to_owned(),
            Value::Text(format!("{:02}-{:02}", date.month(), date.day())),
        )],
        context,
    )
}

/// The day's answer from the core (pure).
pub fn answer_for(core: &Core, date: Date, guild_id: u64, now: Timestamp) -> Answer {
    core.answer(&call_for(date, guild_id, now)).answer
}

/// A message as `GET /channels/{id}/messages` shows it, the parts the scheduler reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelMessage {
    pub id: u64,
    pub author_id: u64,
    pub timestamp: Timestamp,
    pub embed_title: Option<String>,
}

/// Among a channel's recent messages, the bot's (`bot_id`) post titled `title`
/// made since `claimed_at` (less [`CLOCK_SLACK`]): the same day's post a year ago has
/// the same title but is far older.
pub fn find_earlier_post(
    recent: &[ChannelMessage],
    bot_id: u64,
    claimed_at: Timestamp,
    title: &str,
) -> Option<u64> {
    let since = claimed_at
        .checked_sub(CLOCK_SLACK)
        .unwrap_or(Timestamp::MIN);
    recent
        .iter()
        .filter(|m| m.author_id == bot_id && m.timestamp >= since)
        .find(|m| m.embed_title.as_deref() == Some(title))
        .map(|m| m.id)
}

/// What moderators read in `/config show` when Discord refused a post.
pub fn refusal_reason(channel_id: u64, status: u16, code: u64, message: &str) -> String {
    let what = if message.trim().is_empty() {
        match status {
            404 => "Unknown Channel",
            _ => "Forbidden",
        }
    } else {
        message.trim()
    };
    let advice = match (status, code) {
        (404, _) | (_, 10003) => {
            "The channel is gone or the bot cannot see it: choose a channel with /config onthisday."
        }
        (_, 50001) => {
            "Give the bot View Channel, Send Messages and Embed Links there, then set /config onthisday again."
        }
        _ => "Give the bot Send Messages and Embed Links there, then set /config onthisday again.",
    };
    format!("Discord refused the post to <#{channel_id}>: {what} ({status}, code {code}). {advice}")
}

/// How long the loop sleeps: until `next` (if any), at most `poll`, at least
/// [`MIN_SLEEP`].
pub fn sleep_for(next: Option<Timestamp>, now: Timestamp, poll: Duration) -> Duration {
    let until_next = next.map_or(poll, |next| {
        Duration::try_from(next.duration_since(now)).unwrap_or(Duration::ZERO)
    });
    until_next.min(poll).max(MIN_SLEEP)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::tests::{otd, ts};
    use jiff::civil::date;

    #[test]
    fn a_late_start_on_the_same_local_day_posts_a_missed_day_does_not() {
        let o = otd("09:00", "America/New_York"); // UTC-4 in summer
        let day = date(2024, 7, 4);
        assert_eq!(
            decide(&o, day, ts("2024-07-04T13:00:00Z"), false),
            Decision::Post
        );
        // 23:59 local, still 4 July: late but the same day.
        assert_eq!(
            decide(&o, day, ts("2024-07-05T03:59:00Z"), false),
            Decision::Post
        );
        // 00:00 local on 5 July: the 4th is over.
        assert_eq!(
            decide(&o, day, ts("2024-07-05T04:00:00Z"), false),
            Decision::SkipMissed
        );
        assert_eq!(
            decide(&o, day, ts("2024-07-04T13:00:00Z"), true),
            Decision::SkipEmpty
        );
        // A missed day is skipped as missed whether or not it was empty.
        assert_eq!(
            decide(&o, day, ts("2024-07-06T13:00:00Z"), true),
            Decision::SkipMissed
        );
    }

    #[test]
    fn empty_days_are_posted_only_when_the_server_asked() {
        let mut o = otd("09:00", "UTC");
        let day = date(2024, 7, 4);
        let at = ts("2024-07-04T09:00:00Z");
        assert!(!posts_empty_days(&o));
        assert_eq!(decide(&o, day, at, true), Decision::SkipEmpty);
        o.post_empty_days = true;
        assert_eq!(decide(&o, day, at, true), Decision::Post);
        // A missed day stays missed.
        assert_eq!(
            decide(&o, day, ts("2024-07-05T09:00:00Z"), true),
            Decision::SkipMissed
        );
    }

    #[test]
    fn the_earlier_post_is_the_bots_with_the_title_since_the_claim() {
        let m = |id, author, at: &str, title: Option<&str>| ChannelMessage {
            id,
            author_id: author,
            timestamp: ts(at),
            embed_title: title.map(str::to_owned),
        };
        let title = "On this day: 27 September";
        let claimed = ts("2024-09-27T08:00:00Z");
        let recent = vec![
            m(1, 99, "2024-09-27T08:00:01Z", Some(title)), // someone else's
            m(
                2,
                5,
                "2024-09-27T08:00:01Z",
                Some("On this day: 28 September"),
            ),
            m(3, 5, "2023-09-27T08:00:01Z", Some(title)), // a year ago
        ];
        assert_eq!(find_earlier_post(&recent, 5, claimed, title), None);
        let mut with = recent.clone();
        with.push(m(4, 5, "2024-09-27T07:59:30Z", Some(title))); // within the slack
        assert_eq!(find_earlier_post(&with, 5, claimed, title), Some(4));
    }

    #[test]
    fn refusals_read_as_advice_for_moderators() {
        let r = refusal_reason(123, 403, 50013, "Missing Permissions");
        assert_eq!(
            r,
            "Discord refused the post to <#123>: Missing Permissions (403, code 50013). Give the \
             bot Send Messages and Embed Links there, then set /config onthisday again."
        );
        let r = refusal_reason(9, 404, 10003, "Unknown Channel");
        assert!(
            r.contains("<#9>") && r.contains("(404, code 10003)") && r.contains("gone"),
            "{r}"
        );
        let r = refusal_reason(9, 403, 50001, "Missing Access");
        assert!(r.contains("View Channel"), "{r}");
    }

    #[test]
    fn the_loop_sleeps_until_the_next_post_within_bounds() {
        let now = ts("2024-01-01T00:00:00Z");
        let poll = Duration::from_secs(60);
        assert_eq!(sleep_for(None, now, poll), poll);
        assert_eq!(
            sleep_for(Some(ts("2024-01-01T00:00:10Z")), now, poll),
            Duration::from_secs(10)
        );
        assert_eq!(sleep_for(Some(ts("2024-01-02T00:00:00Z")), now, poll), poll);
        assert_eq!(
            sleep_for(Some(ts("2023-12-31T00:00:00Z")), now, poll),
            MIN_SLEEP
        );
    }

    #[test]
    fn the_call_asks_for_the_month_and_day() {
        let call = call_for(date(2024, 3, 5), 1, ts("2024-03-05T00:00:00Z"));
        assert_eq!(call.command, "onthisday");
        assert_eq!(call.text("date").as_deref(), Some("03-05"));
        assert_eq!(call.context.guild_id, Some(1));
    }
}
