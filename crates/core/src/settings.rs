//! The values the store keeps, each checked when it is made: a value that exists is
//! valid. Pure code: no I/O, no clock (the caller hands in "now").

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::{TimeZone, TimeZoneDatabase};

pub mod rules;

/// A value a moderator typed that cannot be used. Its message is a sentence naming
/// the forms that are accepted, fit to show the moderator as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error(
        "`{given}` is not a time of day: write it as HH:MM on the 24-hour clock, \
         from 00:00 to 23:59 (for example 07:30 or 18:05)"
    )]
    PostTime { given: String },
    #[error(
        "`{given}` is not a time zone this bot knows: write an IANA time zone name \
         such as Europe/Paris, America/New_York, Asia/Baku or UTC"
    )]
    TimeZone { given: String },
    #[error("`{given}` is not a visibility: write `public` or `private`")]
    Visibility { given: String },
}

/// What a moderator typed, cut to a length and a form safe to echo on one line.
fn echo(given: &str) -> String {
    const MAX: usize = 40;
    let mut out: String = given
        .chars()
        .map(|c| if c.is_control() || c == '`' { '?' } else { c })
        .take(MAX)
        .collect();
    if given.chars().count() > MAX {
        out.push('…');
    }
    out
}

/// Whether answers in a server are posted for everyone or only for the asker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Visibility {
    #[default]
    Public,
    Private,
}

impl Visibility {
    /// The word stored in the database and shown to moderators.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Private => "private",
        }
    }

    /// Reads `public` or `private` (any case, surrounding spaces ignored).
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "public" => Ok(Visibility::Public),
            "private" => Ok(Visibility::Private),
            _ => Err(ValueError::Visibility { given: echo(s) }),
        }
    }
}

impl fmt::Display for Visibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Visibility {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        Visibility::parse(s)
    }
}

/// A time of day to the minute, 00:00 to 23:59, written `HH:MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PostTime {
    hour: u8,
    minute: u8,
}

impl PostTime {
    /// A time from its hour (0–23) and minute (0–59).
    pub fn new(hour: u8, minute: u8) -> Result<Self, ValueError> {
        if hour < 24 && minute < 60 {
            Ok(PostTime { hour, minute })
        } else {
            Err(ValueError::PostTime {
                given: format!("{hour}:{minute}"),
            })
        }
    }

    /// Reads exactly `HH:MM` (two digits each, 24-hour clock); surrounding spaces
    /// are ignored. `7:05`, `07:5`, `24:00` and `25:00` are refused.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let refuse = || ValueError::PostTime { given: echo(s) };
        let b = s.trim().as_bytes();
        if b.len() != 5 || b[2] != b':' {
            return Err(refuse());
        }
        let two = |hi: u8, lo: u8| {
            (hi.is_ascii_digit() && lo.is_ascii_digit()).then(|| (hi - b'0') * 10 + (lo - b'0'))
        };
        match (two(b[0], b[1]), two(b[3], b[4])) {
            (Some(hour), Some(minute)) => PostTime::new(hour, minute).map_err(|_| refuse()),
            _ => Err(refuse()),
        }
    }

    pub fn hour(self) -> u8 {
        self.hour
    }

    pub fn minute(self) -> u8 {
        self.minute
    }

    /// The same time as a jiff civil time (seconds zero).
    pub fn to_civil(self) -> Time {
        // Both fields are checked at construction, so they fit an i8 and a clock.
        Time::constant(self.hour as i8, self.minute as i8, 0, 0)
    }
}

impl fmt::Display for PostTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

impl FromStr for PostTime {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        PostTime::parse(s)
    }
}

/// The time zone database every zone name is checked against and resolved in: the
/// copy compiled into the binary (jiff's bundled tzdb), so that validation and the
/// list of names are the same on every machine, with or without a system tzdata.
/// The price: a new tzdb release needs a rebuild.
fn bundled() -> &'static TimeZoneDatabase {
    static DB: OnceLock<TimeZoneDatabase> = OnceLock::new();
    DB.get_or_init(TimeZoneDatabase::bundled)
}

/// Every IANA time zone name the bundled database knows, sorted (for autocomplete).
pub fn time_zone_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names: Vec<String> = bundled()
            .available()
            .map(|n| n.as_str().to_owned())
            .collect();
        names.sort();
        names.dedup();
        names
    })
}

/// An IANA time zone name the bundled database knows, in its canonical spelling
/// (`europe/paris` is read as `Europe/Paris`), with the zone it names.
#[derive(Debug, Clone)]
pub struct TimeZoneName {
    name: String,
    zone: TimeZone,
}

impl TimeZoneName {
    /// Reads an IANA name (any case, surrounding spaces ignored).
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let refuse = || ValueError::TimeZone { given: echo(s) };
        let trimmed = s.trim();
        if trimmed.is_empty() || trimmed.len() > 64 {
            return Err(refuse());
        }
        let zone = bundled().get(trimmed).map_err(|_| refuse())?;
        let name = zone.iana_name().unwrap_or(trimmed).to_owned();
        Ok(TimeZoneName { name, zone })
    }

    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// The zone itself, for turning local times into instants.
    pub fn time_zone(&self) -> &TimeZone {
        &self.zone
    }
}

impl PartialEq for TimeZoneName {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for TimeZoneName {}

impl fmt::Display for TimeZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl FromStr for TimeZoneName {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        TimeZoneName::parse(s)
    }
}

/// The daily "on this day" post of a server: where, at what local time, and whether
/// days the dataset has nothing for are posted too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnThisDay {
    pub channel_id: u64,
    pub time: PostTime,
    pub zone: TimeZoneName,
    /// Post on days with nothing to say (a short "nothing on this day" message);
    /// by default such days are skipped.
    pub post_empty_days: bool,
}

impl OnThisDay {
    /// The instant of the post for a local date. A time that a daylight-saving jump
    /// skips (02:30 on the night clocks go forward) is read as the same length of
    /// time after the jump (03:30); a time that comes twice is its first coming.
    pub fn run_on(&self, date: Date) -> Result<Run, jiff::Error> {
        let at = self
            .zone
            .time_zone()
            .to_timestamp(date.to_datetime(self.time.to_civil()))?;
        Ok(Run { date, at })
    }

    /// The first run at or after `now`.
    pub fn next_run(&self, now: Timestamp) -> Result<Run, jiff::Error> {
        let today = now.to_zoned_datetime(self.zone.time_zone().clone()).date();
        let run = self.run_on(today)?;
        if run.at >= now {
            Ok(run)
        } else {
            self.run_on(today.tomorrow()?)
        }
    }

    /// The first run at or after `now` that is for a local date after `date`: where
    /// a schedule goes once the post for `date` is done (or given up). Days missed
    /// while the bot was down are skipped, not posted late in a burst.
    pub fn next_run_after(&self, date: Date, now: Timestamp) -> Result<Run, jiff::Error> {
        let run = self.next_run(now)?;
        if run.date > date {
            Ok(run)
        } else {
            // `run` is at or after now and for `date` or before, so the run of the
            // day after `date` is later still.
            self.run_on(date.tomorrow()?)
        }
    }

    /// How the value reads in the audit trail: "channel 1 at 07:30 Europe/Paris",
    /// with ", empty days posted" when they are.
    pub fn describe(&self) -> String {
        let empty = if self.post_empty_days {
            ", empty days posted"
        } else {
            ""
        };
        format!(
            "channel {} at {} {}{empty}",
            self.channel_id, self.time, self.zone
        )
    }
}

/// One run of a schedule: the post for a server's local date, due at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    /// The date, in the server's zone, the post is for.
    pub date: Date,
    /// When it is due.
    pub at: Timestamp,
}

/// Why and since when a server's schedule is stopped (e.g. the bot lost access to the
/// channel). Setting the schedule again, or resuming it, clears it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paused {
    pub reason: String,
    pub at: Timestamp,
}

/// Who changed a setting last, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastChange {
    pub user_id: u64,
    pub at: Timestamp,
}

/// Everything a server has configured. A server that never configured anything has
/// the [`Default`]: no daily posts, public answers, no change recorded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GuildSettings {
    pub onthisday: Option<OnThisDay>,
    pub visibility: Visibility,
    /// Set when the daily post is configured but stopped.
    pub paused: Option<Paused>,
    /// The next daily post, when one is configured and not paused.
    pub next_post: Option<Run>,
    pub onthisday_changed: Option<LastChange>,
    pub visibility_changed: Option<LastChange>,
}

/// The settings a change or an audit record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setting {
    /// The daily post (channel, time, zone) or its absence.
    OnThisDay,
    Visibility,
    /// Whether the daily post is stopped, and why.
    Pause,
}

impl Setting {
    pub fn as_str(self) -> &'static str {
        match self {
            Setting::OnThisDay => "onthisday",
            Setting::Visibility => "visibility",
            Setting::Pause => "pause",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Setting::OnThisDay, Setting::Visibility, Setting::Pause]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One recorded change: which server, which setting, from what to what, by whom, when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub guild_id: u64,
    pub setting: Setting,
    pub old_value: String,
    pub new_value: String,
    /// The moderator who made the change; `None` when the bot made it itself (a
    /// schedule paused because the channel is gone).
    pub user_id: Option<u64>,
    pub at: Timestamp,
}

/// The text of "no daily post" in the audit trail.
pub const OFF: &str = "off";
/// The text of "the daily post is not paused" in the audit trail.
pub const RUNNING: &str = "running";

/// How an optional daily post reads in the audit trail.
pub fn describe_onthisday(o: Option<&OnThisDay>) -> String {
    o.map_or_else(|| OFF.to_owned(), OnThisDay::describe)
}

/// How a pause reads in the audit trail.
pub fn describe_pause(p: Option<&Paused>) -> String {
    p.map_or_else(|| RUNNING.to_owned(), |p| format!("paused: {}", p.reason))
}

/// A change a moderator asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Post daily; also clears a pause.
    SetOnThisDay(OnThisDay),
    /// Stop posting daily.
    ClearOnThisDay,
    SetVisibility(Visibility),
    /// Every setting back to its default.
    Reset,
}

/// The nonce of the daily post of a server for a local date: the same on every try,
/// so that Discord (with `enforce_nonce`) refuses a second message made by a retry.
/// At most 25 characters, as Discord asks; FNV-1a, so it never changes between builds.
pub fn post_nonce(guild_id: u64, date: Date) -> String {
    use std::hash::Hasher;
    let mut hash = fnv::FnvHasher::default();
    hash.write(format!("onthisday:{guild_id}:{date}").as_bytes());
    format!("otd{:016x}", hash.finish())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn post_times_are_read_only_in_the_hh_mm_form() {
        for (s, h, m) in [
            ("00:00", 0, 0),
            ("07:30", 7, 30),
            ("23:59", 23, 59),
            (" 12:05 ", 12, 5),
        ] {
            let t = PostTime::parse(s).unwrap();
            assert_eq!((t.hour(), t.minute()), (h, m), "{s}");
        }
        assert_eq!(PostTime::parse("07:30").unwrap().to_string(), "07:30");
        for bad in [
            "25:00",
            "24:00",
            "7:5",
            "7:05",
            "07:5",
            "12:60",
            "1230",
            "",
            "ab:cd",
            "07:30:00",
            "-1:00",
            "07h30",
            "０７:３０",
        ] {
            let err = PostTime::parse(bad).unwrap_err().to_string();
            assert!(
                err.contains("HH:MM") && err.contains("00:00 to 23:59"),
                "{bad}: {err}"
            );
        }
        assert!(PostTime::new(24, 0).is_err());
        assert!(PostTime::new(23, 60).is_err());
        assert_eq!(PostTime::new(9, 5).unwrap().to_string(), "09:05");
    }

    #[test]
    fn zone_names_are_checked_and_made_canonical() {
        let paris = TimeZoneName::parse("europe/PARIS").unwrap();
        assert_eq!(paris.as_str(), "Europe/Paris");
        assert_eq!(paris, TimeZoneName::parse("Europe/Paris").unwrap());
        assert_eq!(
            TimeZoneName::parse(" America/New_York ").unwrap().as_str(),
            "America/New_York"
        );
        assert!(TimeZoneName::parse("UTC").is_ok());
        for bad in [
            "Europe/Pariss",
            "",
            "Mars/Olympus",
            "+04:00",
            "../../etc/passwd",
        ] {
            let err = TimeZoneName::parse(bad).unwrap_err().to_string();
            assert!(
                err.contains("IANA") && err.contains("Europe/Paris"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn echoed_input_is_short_and_on_one_line() {
        let err = TimeZoneName::parse(&format!("x\n{}", "y".repeat(500))).unwrap_err();
        let ValueError::TimeZone { given } = &err else {
            panic!("{err:?}")
        };
        assert!(!given.contains('\n'));
        assert!(given.chars().count() <= 41, "{given}");
    }

    #[test]
    fn every_listed_zone_parses_and_the_list_is_complete() {
        let names = time_zone_names();
        assert!(names.len() > 300, "only {} zones", names.len());
        assert!(names.windows(2).all(|w| w[0] < w[1]));
        for expected in [
            "Europe/Paris",
            "America/New_York",
            "Asia/Baku",
            "Asia/Yerevan",
        ] {
            assert!(names.iter().any(|n| n == expected), "{expected} missing");
        }
        for name in names {
            assert_eq!(TimeZoneName::parse(name).unwrap().as_str(), name);
        }
    }

    #[test]
    fn visibility_reads_its_two_words() {
        assert_eq!(Visibility::parse("Private").unwrap(), Visibility::Private);
        assert_eq!(Visibility::parse("public").unwrap(), Visibility::Public);
        assert_eq!(Visibility::default(), Visibility::Public);
        let err = Visibility::parse("secret").unwrap_err().to_string();
        assert!(err.contains("`public` or `private`"), "{err}");
    }

    /// A daily post in channel 1 (for the core's unit tests).
    pub(crate) fn otd(time: &str, zone: &str) -> OnThisDay {
        crate::testing::otd(1, time, zone)
    }

    pub(crate) use crate::testing::ts;

    #[test]
    fn the_next_run_is_today_until_its_time_then_tomorrow() {
        let o = otd("07:30", "Europe/Paris"); // UTC+1 in winter
        let run = o.next_run(ts("2024-03-01T06:00:00Z")).unwrap();
        assert_eq!(run.date, date(2024, 3, 1));
        assert_eq!(run.at, ts("2024-03-01T06:30:00Z"));
        // At the very minute it is still today's run.
        assert_eq!(o.next_run(ts("2024-03-01T06:30:00Z")).unwrap(), run);
        let later = o.next_run(ts("2024-03-01T06:30:01Z")).unwrap();
        assert_eq!(later.date, date(2024, 3, 2));
        assert_eq!(later.at, ts("2024-03-02T06:30:00Z"));
        // The local date, not the UTC date, decides: 23:30 UTC is tomorrow in Baku.
        let baku = otd("09:00", "Asia/Baku"); // UTC+4
        let run = baku.next_run(ts("2024-03-01T23:30:00Z")).unwrap();
        assert_eq!(run.date, date(2024, 3, 2));
        assert_eq!(run.at, ts("2024-03-02T05:00:00Z"));
    }

    #[test]
    fn daylight_saving_jumps_move_the_run_not_skip_it() {
        let o = otd("02:30", "Europe/Paris");
        // 2024-03-31: clocks go from 02:00 to 03:00; 02:30 does not exist.
        let run = o.run_on(date(2024, 3, 31)).unwrap();
        assert_eq!(run.at, ts("2024-03-31T01:30:00Z"));
        // 2024-10-27: 02:30 comes twice; the first (still summer time, UTC+2) counts.
        let run = o.run_on(date(2024, 10, 27)).unwrap();
        assert_eq!(run.at, ts("2024-10-27T00:30:00Z"));
        let ny = otd("08:00", "America/New_York");
        assert_eq!(
            ny.run_on(date(2024, 7, 4)).unwrap().at,
            ts("2024-07-04T12:00:00Z")
        );
    }

    #[test]
    fn after_a_post_the_schedule_moves_to_a_later_day_skipping_missed_ones() {
        let o = otd("07:30", "Europe/Paris");
        // Posted on time for 1 March: next is 2 March.
        let next = o
            .next_run_after(date(2024, 3, 1), ts("2024-03-01T06:30:05Z"))
            .unwrap();
        assert_eq!(next.date, date(2024, 3, 2));
        // Posted for 1 March (before its time, e.g. the time was moved): still 2 March.
        let next = o
            .next_run_after(date(2024, 3, 1), ts("2024-03-01T05:00:00Z"))
            .unwrap();
        assert_eq!(next.date, date(2024, 3, 2));
        // The post for 1 March went out three days late: 2 and 3 March are skipped.
        let next = o
            .next_run_after(date(2024, 3, 1), ts("2024-03-04T09:00:00Z"))
            .unwrap();
        assert_eq!(next.date, date(2024, 3, 5));
        assert_eq!(next.at, ts("2024-03-05T06:30:00Z"));
    }

    #[test]
    fn the_audit_trail_says_when_empty_days_are_posted() {
        let mut o = otd("07:30", "Europe/Paris");
        assert_eq!(o.describe(), "channel 1 at 07:30 Europe/Paris");
        o.post_empty_days = true;
        assert_eq!(
            o.describe(),
            "channel 1 at 07:30 Europe/Paris, empty days posted"
        );
    }

    #[test]
    fn nonces_are_deterministic_short_and_distinct() {
        let a = post_nonce(1_234_567_890_123_456_789, date(2024, 3, 1));
        assert_eq!(a, post_nonce(1_234_567_890_123_456_789, date(2024, 3, 1)));
        assert!(a.len() <= 25, "{a}");
        assert_ne!(a, post_nonce(1_234_567_890_123_456_789, date(2024, 3, 2)));
        assert_ne!(a, post_nonce(1_234_567_890_123_456_788, date(2024, 3, 1)));
        // Pinned: a retry after an upgrade must reuse the nonce of the first try.
        assert_eq!(post_nonce(1, date(2020, 9, 27)), "otdd3145c8ff3d468d7");
    }
}
