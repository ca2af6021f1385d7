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
/// [`retry_wait`] reads it.
pub const BACKOFF: [Duration; 5] = [
    Duration::from_secs(30),
    Duration::from_secs(60),
    Duration::from_secs(120),
    Duration::from_secs(240),
    Duration::from_secs(480),
];

/// How long to wait before trying a post again after its `failures`-th failure (a
/// 5xx, no answer; counted per post in the database, so a restart does not start
/// again), or `None`: retries are exhausted and the day is given up. Tries put off by
/// a 429 or a rejected token are not failures.
pub fn retry_wait(failures: u32) -> Option<Duration> {
    let index = usize::try_from(failures).ok()?.checked_sub(1)?;
    BACKOFF.get(index).copied()
}

/// How long posts wait when Discord rejects the token (401): the operator must fix
/// it; meanwhile the bot asks again this often, and never pauses a server for it.
pub const UNAUTHORIZED_WAIT: Duration = Duration::from_secs(300);

/// A 429 without a readable `retry_after` waits this long.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// How long the loop waits before looking again at a post that is still due right
/// after a tick (the store failed to move it on): it must not spin. A post due
/// later is waited for exactly, however soon: this is no minimum for those.
pub const MIN_SLEEP: Duration = Duration::from_millis(500);

/// How much earlier than its claim a message may be stamped and still count as the
/// post found after a crash (clocks of the bot and Discord differ a little).
pub const CLOCK_SLACK: SignedDuration = SignedDuration::from_secs(120);

/// What a lease must still have left, beyond the longest a request may take, for its
/// holder to start a request to Discord: room for the clocks of the processes to
/// differ a little.
pub const LEASE_MARGIN: Duration = Duration::from_secs(5);

/// How many posts one scheduler leases at a time when it sends `per_second` requests a
/// second: what it sends in about five seconds (at least one, at most `most`), so that
/// a post leased does not wait long for its turn while its lease runs.
pub fn lease_batch(per_second: u32, most: usize) -> usize {
    (per_second as usize)
        .saturating_mul(5)
        .clamp(1, most.max(1))
}

/// Whether the holder of a lease running `until` may start, at `at`, a request that
/// takes at most `longest` (answered or timed out): only if it ends before the lease
/// does, with [`LEASE_MARGIN`] to spare. So a process never sends a post after its
/// lease ran out and another process may have taken the post over.
pub fn lease_covers(until: Timestamp, at: Timestamp, longest: Duration) -> bool {
    let needed = SignedDuration::try_from(longest.saturating_add(LEASE_MARGIN))
        .unwrap_or(SignedDuration::MAX);
    at.checked_add(needed).is_ok_and(|end| end <= until)
}

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

/// Discord's message type of an ordinary message (`DEFAULT`), which the daily post
/// is; a reply to a slash command is type 20 (`CHAT_INPUT_COMMAND`), one to a button
/// 19 (`REPLY`), and so on.
pub const DEFAULT_MESSAGE_TYPE: u8 = 0;

/// A message as `GET /channels/{id}/messages` shows it, the parts the scheduler reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelMessage {
    pub id: u64,
    pub author_id: u64,
    pub timestamp: Timestamp,
    pub embed_title: Option<String>,
    /// Discord's message type ([`DEFAULT_MESSAGE_TYPE`] for the daily post).
    pub kind: u8,
    /// Made in answer to an interaction (it carries `interaction_metadata`,
    /// `interaction` or a `webhook_id`): a reply or follow-up, never the daily post.
    pub from_interaction: bool,
    /// The message's `nonce`, when Discord shows it (it does in the answer to a create
    /// and in gateway events; a channel's history may leave it out).
    pub nonce: Option<String>,
}

/// What identifies the daily post of a server for a date among a channel's messages:
/// its author (the bot), its nonce ([`crate::settings::post_nonce`]) and its title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostMarker<'a> {
    pub bot_id: u64,
    pub nonce: &'a str,
    pub title: &'a str,
}

impl PostMarker<'_> {
    /// Whether `m` is this daily post: the bot's own ordinary message (not a reply to
    /// an interaction, not another bot's or a member's message) that carries this
    /// post's nonce, or, when Discord does not show the nonce, this post's exact title.
    pub fn matches(&self, m: &ChannelMessage) -> bool {
        let the_bots_own_post =
            m.author_id == self.bot_id && m.kind == DEFAULT_MESSAGE_TYPE && !m.from_interaction;
        the_bots_own_post
            && match &m.nonce {
                Some(nonce) => nonce == self.nonce,
                None => m.embed_title.as_deref() == Some(self.title),
            }
    }
}

/// Among a channel's recent messages, the daily post `marker` describes, made since
/// `claimed_at` (less [`CLOCK_SLACK`]): the same day's post a year ago has the same
/// title but is far older.
pub fn find_earlier_post(
    recent: &[ChannelMessage],
    marker: &PostMarker<'_>,
    claimed_at: Timestamp,
) -> Option<u64> {
    let since = claimed_at
        .checked_sub(CLOCK_SLACK)
        .unwrap_or(Timestamp::MIN);
    recent
        .iter()
        .filter(|m| m.timestamp >= since)
        .find(|m| marker.matches(m))
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

/// How long the loop sleeps after a tick at `now`: until `next`, the soonest post
/// due, exactly (a post is sent at its due instant, not at the next poll), but no
/// longer than `poll`, which bounds how late a change made by another process is
/// noticed. A post still due (`next` at or before `now`: the tick could not move it
/// on) is looked at again after [`MIN_SLEEP`], so the loop cannot spin.
pub fn sleep_for(next: Option<Timestamp>, now: Timestamp, poll: Duration) -> Duration {
    match next {
        None => poll,
        Some(next) if next <= now => MIN_SLEEP.min(poll),
        Some(next) => Duration::try_from(next.duration_since(now))
            .unwrap_or(poll)
            .min(poll),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::tests::{otd, ts};
    use jiff::civil::date;

    #[test]
    fn each_failure_waits_longer_and_the_sixth_gives_up() {
        let waits: Vec<u64> = (1..=5)
            .map(|n| retry_wait(n).expect("a wait").as_secs())
            .collect();
        assert_eq!(waits, [30, 60, 120, 240, 480]);
        assert_eq!(retry_wait(6), None);
        assert_eq!(retry_wait(u32::MAX), None);
        // No failure yet: nothing to wait for.
        assert_eq!(retry_wait(0), None);
    }

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

    fn message(id: u64, author: u64, at: &str, title: Option<&str>) -> ChannelMessage {
        ChannelMessage {
            id,
            author_id: author,
            timestamp: ts(at),
            embed_title: title.map(str::to_owned),
            kind: DEFAULT_MESSAGE_TYPE,
            from_interaction: false,
            nonce: None,
        }
    }

    #[test]
    fn the_earlier_post_is_the_bots_with_the_title_since_the_claim() {
        let m = message;
        let title = "On this day: 27 September";
        let marker = PostMarker {
            bot_id: 5,
            nonce: "otd00000000000000aa",
            title,
        };
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
        assert_eq!(find_earlier_post(&recent, &marker, claimed), None);
        let mut with = recent.clone();
        with.push(m(4, 5, "2024-09-27T07:59:30Z", Some(title))); // within the slack
        assert_eq!(find_earlier_post(&with, &marker, claimed), Some(4));
    }

    #[test]
    fn replies_to_commands_and_other_posts_are_not_taken_for_the_daily_post() {
        let title = "On this day: 27 September";
        let marker = PostMarker {
            bot_id: 5,
            nonce: "otd00000000000000aa",
            title,
        };
        let claimed = ts("2024-09-27T08:00:00Z");
        let at = "2024-09-27T08:00:01Z";
        // The bot's answer to `/onthisday 09-27`: same author, same title.
        let mut reply = message(1, 5, at, Some(title));
        reply.kind = 20;
        reply.from_interaction = true;
        // A follow-up: an ordinary type, but made through the interaction's webhook.
        let mut follow_up = message(2, 5, at, Some(title));
        follow_up.from_interaction = true;
        // The bot's post of the same title with another post's nonce (another server's
        // schedule for the same channel).
        let mut other_nonce = message(3, 5, at, Some(title));
        other_nonce.nonce = Some("otd00000000000000bb".to_owned());
        // Another bot's message with the same title.
        let other_bot = message(4, 6, at, Some(title));
        let recent = vec![reply, follow_up, other_nonce, other_bot];
        assert_eq!(find_earlier_post(&recent, &marker, claimed), None);

        // The post itself is known by its nonce when Discord shows it, whatever its title.
        let mut by_nonce = message(7, 5, at, Some("a title the bot no longer uses"));
        by_nonce.nonce = Some(marker.nonce.to_owned());
        let mut with = recent.clone();
        with.push(by_nonce);
        assert_eq!(find_earlier_post(&with, &marker, claimed), Some(7));
        // Without a nonce shown, by its exact title.
        let mut with = recent;
        with.push(message(8, 5, at, Some(title)));
        assert_eq!(find_earlier_post(&with, &marker, claimed), Some(8));
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
    fn the_loop_sleeps_until_the_next_post_exactly_within_the_poll() {
        let now = ts("2024-01-01T00:00:00Z");
        let poll = Duration::from_secs(60);
        assert_eq!(sleep_for(None, now, poll), poll);
        assert_eq!(
            sleep_for(Some(ts("2024-01-01T00:00:10Z")), now, poll),
            Duration::from_secs(10)
        );
        // However soon: a post 40 ms away is waited for 40 ms, not MIN_SLEEP.
        assert_eq!(
            sleep_for(Some(ts("2024-01-01T00:00:00.04Z")), now, poll),
            Duration::from_millis(40)
        );
        assert_eq!(sleep_for(Some(ts("2024-01-02T00:00:00Z")), now, poll), poll);
        // With the longest poll allowed, the post due in a minute is still waited for
        // exactly.
        let hour = Duration::from_secs(3600);
        assert_eq!(
            sleep_for(Some(ts("2024-01-01T00:01:00Z")), now, hour),
            Duration::from_secs(60)
        );
        // A post still due after the tick: looked at again shortly, no spinning.
        assert_eq!(
            sleep_for(Some(ts("2023-12-31T00:00:00Z")), now, poll),
            MIN_SLEEP
        );
        assert_eq!(sleep_for(Some(now), now, poll), MIN_SLEEP);
    }

    #[test]
    fn a_request_starts_only_if_it_ends_within_the_lease() {
        let until = ts("2024-01-01T00:01:00Z");
        let longest = Duration::from_secs(30);
        // 30 s for the request, 5 s of margin: the last start is 25 s after the lease.
        assert!(lease_covers(until, ts("2024-01-01T00:00:00Z"), longest));
        assert!(lease_covers(until, ts("2024-01-01T00:00:25Z"), longest));
        assert!(!lease_covers(
            until,
            ts("2024-01-01T00:00:25.001Z"),
            longest
        ));
        assert!(!lease_covers(until, ts("2024-01-01T00:02:00Z"), longest));
        assert!(!lease_covers(
            until,
            ts("2024-01-01T00:00:00Z"),
            Duration::MAX
        ));
    }

    #[test]
    fn a_scheduler_leases_what_it_sends_in_five_seconds() {
        assert_eq!(lease_batch(40, 100), 100);
        assert_eq!(lease_batch(10, 100), 50);
        assert_eq!(lease_batch(1, 100), 5);
        assert_eq!(lease_batch(0, 100), 1);
        assert_eq!(lease_batch(u32::MAX, 100), 100);
    }

    #[test]
    fn the_call_asks_for_the_month_and_day() {
        let call = call_for(date(2024, 3, 5), 1, ts("2024-03-05T00:00:00Z"));
        assert_eq!(call.command, "onthisday");
        assert_eq!(call.text("date").as_deref(), Some("03-05"));
        assert_eq!(call.context.guild_id, Some(1));
    }
}
