//! `/config`: a server's settings, for its moderators (Manage Server). Every reply is
//! private; every change is an [`Effect`] the transport makes durable (and the store
//! records in the audit trail) before the reply is sent.

use std::sync::OnceLock;

use jiff::Timestamp;

use super::{
    Answered, Call, CommandSpec, Context, Core, Effect, Kind, OptionSpec, Permission,
    SubcommandSpec,
};
use crate::reply::markdown::escape;
use crate::reply::{Answer, Button, ButtonId, Choice, limits};
use crate::settings::{
    AuditEntry, Change, GuildSettings, LastChange, OnThisDay, PostTime, Setting, TimeZoneName,
    ValueError, Visibility, time_zone_names,
};
use crate::text::capitalise;

pub const SPEC: CommandSpec = CommandSpec {
    name: "config",
    description: "Moderators: this server's daily post and reply visibility, every change recorded",
    options: &[],
    subcommands: &[
        SubcommandSpec {
            name: "show",
            description: "Every setting, who changed it last and when, and the recent changes",
            options: &[],
            writes: false,
        },
        SubcommandSpec {
            name: "onthisday",
            description: "Post \"on this day\" every day in a channel, at a local time",
            options: &[
                OptionSpec {
                    name: "channel",
                    description: "The channel to post in",
                    kind: Kind::Channel,
                    required: true,
                    autocomplete: false,
                },
                OptionSpec {
                    name: "time",
                    description: "The local time, HH:MM on the 24-hour clock, e.g. 07:30",
                    kind: Kind::Text { max_length: 10 },
                    required: true,
                    autocomplete: false,
                },
                OptionSpec {
                    name: "timezone",
                    description: "An IANA time zone, e.g. Asia/Baku, Europe/Paris, America/New_York",
                    kind: Kind::Text { max_length: 64 },
                    required: true,
                    autocomplete: true,
                },
                OptionSpec {
                    name: "empty-days",
                    description: "Also post on days with nothing to say (default: false, skip them)",
                    kind: Kind::Boolean,
                    required: false,
                    autocomplete: false,
                },
            ],
            writes: true,
        },
        SubcommandSpec {
            name: "onthisday-off",
            description: "Stop the daily post",
            options: &[],
            writes: true,
        },
        SubcommandSpec {
            name: "replies",
            description: "Whether answers here are seen by everyone or only by the asker",
            options: &[OptionSpec {
                name: "visibility",
                description: "public: everyone sees answers; private: only the asker",
                kind: Kind::Choice(&["public", "private"]),
                required: true,
                autocomplete: false,
            }],
            writes: true,
        },
        SubcommandSpec {
            name: "reset",
            description: "Every setting back to its default (asks first)",
            options: &[],
            writes: false,
        },
    ],
    example: "/config onthisday channel:#history time:07:30 timezone:Asia/Baku",
    permission: Permission::ManageServer,
    guild_only: true,
    needs_audit: true,
    run,
    complete: Some(complete),
    button: Some(button),
    writing_buttons: &[RESET_CONFIRM],
};

/// The actions of the reset confirmation's buttons (`config:<action>`).
const RESET_CONFIRM: &str = "reset:confirm";
const RESET_CANCEL: &str = "reset:cancel";

/// Zones offered before anything is typed: the region's, then the most asked.
const COMMON_ZONES: &[&str] = &[
    "UTC",
    "Asia/Baku",
    "Asia/Yerevan",
    "Asia/Tbilisi",
    "Europe/Istanbul",
    "Europe/Moscow",
    "Asia/Tehran",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
];

fn run(core: &Core, call: &Call) -> Answered {
    let mut answered = match call.subcommand.as_deref() {
        Some("show") => show(core, &call.context).into(),
        Some("onthisday") => set_onthisday(core, call),
        Some("onthisday-off") => onthisday_off(core, &call.context),
        Some("replies") => replies(core, call),
        Some("reset") => ask_reset(core, &call.context.settings).into(),
        _ => core
            .notice(
                "Which setting?",
                "Use /config show, /config onthisday, /config onthisday-off, /config replies or \
                 /config reset.",
            )
            .into(),
    };
    answered.answer.private = true;
    answered
}

/// The answer to a change by the asker in the asker's server, with the change to
/// make durable; a notice if the interaction names no server or no user (Discord
/// always sends both for a command in a server).
fn changed(core: &Core, context: &Context, change: Change, answer: Answer) -> Answered {
    match (context.guild_id, context.user_id) {
        (Some(guild_id), Some(user_id)) => Answered {
            answer,
            effect: Some(Effect::Apply {
                guild_id,
                user_id,
                change,
            }),
        },
        _ => core
            .notice(
                "Not saved",
                "This change needs a server and a member to record it by. Nothing was changed.",
            )
            .into(),
    }
}

/// `<t:UNIX:style>`: a time every reader sees in their own zone.
fn stamp(at: Timestamp, style: char) -> String {
    format!("<t:{}:{style}>", at.as_second())
}

fn changed_by(c: Option<LastChange>) -> String {
    match c {
        Some(c) => format!("Last changed by <@{}> {}.", c.user_id, stamp(c.at, 'f')),
        None => "Never changed: the default.".to_owned(),
    }
}

/// How a daily post reads to moderators: `<#1> at 07:30 Europe/Paris, empty days skipped`.
fn onthisday_text(o: Option<&OnThisDay>) -> String {
    match o {
        None => "off".to_owned(),
        Some(o) => format!(
            "<#{}> at {} {}, {}",
            o.channel_id,
            o.time,
            escape(o.zone.as_str()),
            if o.post_empty_days {
                "empty days posted too"
            } else {
                "empty days skipped"
            }
        ),
    }
}

fn visibility_text(v: Visibility) -> &'static str {
    match v {
        Visibility::Public => {
            "public: answers are visible to everyone (a member can still add private:true)"
        }
        Visibility::Private => "private: answers are shown only to the asker",
    }
}

/// An audit value as stored ("channel 5 at 07:30 Europe/Paris"), escaped, with the
/// channel as a link.
fn audit_value(v: &str) -> String {
    let escaped = escape(v);
    if let Some(rest) = escaped.strip_prefix("channel ") {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 {
            return format!("<#{}>{}", &rest[..digits], &rest[digits..]);
        }
    }
    escaped
}

fn setting_name(s: Setting) -> &'static str {
    match s {
        Setting::OnThisDay => "daily post",
        Setting::Visibility => "replies",
        Setting::Pause => "daily post pause",
    }
}

fn audit_line(e: &AuditEntry) -> String {
    let who = e
        .user_id
        .map_or_else(|| "the bot".to_owned(), |u| format!("<@{u}>"));
    format!(
        "{} · **{}**: {} → {} · by {who}",
        stamp(e.at, 'f'),
        setting_name(e.setting),
        audit_value(&e.old_value),
        audit_value(&e.new_value),
    )
}

const CHANGES: &str = "Recent changes (newest first)";

fn show(core: &Core, context: &Context) -> Answer {
    let s = &context.settings;
    let mut answer = core.new_answer("Settings of this server");
    answer.intro = Some(
        "Moderators with Manage Server can change these with /config; every change is recorded."
            .to_owned(),
    );
    let mut daily = match &s.onthisday {
        None => "Off. Turn it on with `/config onthisday`.".to_owned(),
        Some(o) => {
            let mut t = format!("On: {}.", onthisday_text(Some(o)));
            match (&s.paused, &s.next_post) {
                (Some(p), _) => t.push_str(&format!(
                    "\n**Paused** {}: {}\nTo resume, set `/config onthisday` again.",
                    stamp(p.at, 'f'),
                    escape(&p.reason)
                )),
                (None, Some(next)) if next.at >= context.now => {
                    t.push_str(&format!("\nNext post: {}.", stamp(next.at, 'F')));
                }
                (None, Some(next)) => {
                    t.push_str(&format!(
                        "\nNext post: due since {}; it goes out once the bot catches up.",
                        stamp(next.at, 'R')
                    ));
                }
                (None, None) => {}
            }
            t
        }
    };
    daily.push('\n');
    daily.push_str(&changed_by(s.onthisday_changed));
    let replies = format!(
        "{}.\n{}",
        capitalise(visibility_text(s.visibility)),
        changed_by(s.visibility_changed)
    );
    answer.block(Some("Daily post"), daily);
    answer.block(Some("Replies"), replies);
    if context.audit.is_empty() {
        answer.block(Some(CHANGES), "No change recorded yet.".to_owned());
    }
    // One page: the newest changes that fit, and how many more there are.
    let mut used: usize = answer.blocks.iter().map(|b| b.len + 40).sum();
    for (i, e) in context.audit.iter().enumerate() {
        let line = audit_line(e);
        let len = limits::len(&line);
        if used + len + 2 > SHOW_BUDGET {
            answer.block(
                Some(CHANGES),
                format!("… and {} earlier.", context.audit.len() - i),
            );
            break;
        }
        used += len + 2;
        answer.block(Some(CHANGES), line);
    }
    answer
}

/// What `/config show` puts on its one page, well within a description's 4096.
const SHOW_BUDGET: usize = 3_600;

/// Reads the options of `/config onthisday`; every mistake at once.
fn read_onthisday(call: &Call) -> Result<OnThisDay, Vec<String>> {
    let mut errors = Vec::new();
    let channel = call
        .text("channel")
        .and_then(|c| c.trim().parse::<u64>().ok());
    if channel.is_none() {
        errors.push("Pick the channel to post in from the list Discord offers.".to_owned());
    }
    let sentence = |e: ValueError| format!("{e}.");
    let time = PostTime::parse(&call.text("time").unwrap_or_default())
        .map_err(|e| errors.push(sentence(e)))
        .ok();
    let zone = TimeZoneName::parse(&call.text("timezone").unwrap_or_default())
        .map_err(|e| errors.push(sentence(e)))
        .ok();
    match (channel, time, zone) {
        (Some(channel_id), Some(time), Some(zone)) => Ok(OnThisDay {
            channel_id,
            time,
            zone,
            post_empty_days: call.flag("empty-days").unwrap_or(false),
        }),
        _ => Err(errors),
    }
}

fn set_onthisday(core: &Core, call: &Call) -> Answered {
    let new = match read_onthisday(call) {
        Ok(o) => o,
        Err(errors) => {
            return core
                .notice(
                    "Daily post not changed",
                    &format!("{}\nNothing was saved.", errors.join("\n")),
                )
                .into();
        }
    };
    let s = &call.context.settings;
    if s.onthisday.as_ref() == Some(&new) && s.paused.is_none() {
        return core
            .notice(
                "Nothing changed",
                &format!("The daily post is already {}.", onthisday_text(Some(&new))),
            )
            .into();
    }
    let mut answer = core.new_answer("Daily post set");
    let mut text = format!(
        "**Daily post**: {} → {}",
        onthisday_text(s.onthisday.as_ref()),
        onthisday_text(Some(&new))
    );
    if let Some(p) = &s.paused {
        text.push_str(&format!(
            "\nIt was paused ({}); it runs again.",
            escape(&p.reason)
        ));
    }
    text.push_str(
        "\nPosts go out every day at that time; `/config show` tells when the next one is due. \
         Make sure the bot may send messages in that channel.",
    );
    answer.intro = Some(text);
    changed(core, &call.context, Change::SetOnThisDay(new), answer)
}

fn onthisday_off(core: &Core, context: &Context) -> Answered {
    let Some(old) = &context.settings.onthisday else {
        return core
            .notice("Nothing changed", "The daily post is already off.")
            .into();
    };
    let mut answer = core.new_answer("Daily post off");
    answer.intro = Some(format!(
        "**Daily post**: {} → off\nTurn it on again with `/config onthisday`.",
        onthisday_text(Some(old))
    ));
    changed(core, context, Change::ClearOnThisDay, answer)
}

fn replies(core: &Core, call: &Call) -> Answered {
    let new = match Visibility::parse(&call.text("visibility").unwrap_or_default()) {
        Ok(v) => v,
        Err(e) => {
            return core
                .notice("Replies not changed", &format!("{e}. Nothing was saved."))
                .into();
        }
    };
    let old = call.context.settings.visibility;
    if old == new {
        return core
            .notice(
                "Nothing changed",
                &format!("Replies are already {}.", visibility_text(new)),
            )
            .into();
    }
    let mut answer = core.new_answer("Replies changed");
    answer.intro = Some(format!(
        "**Replies**: {old} → {new}\nFrom now on they are {}.",
        visibility_text(new)
    ));
    changed(core, &call.context, Change::SetVisibility(new), answer)
}

fn ask_reset(core: &Core, s: &GuildSettings) -> Answer {
    let mut answer = core.new_answer("Reset every setting?");
    let daily = match &s.onthisday {
        Some(o) => format!("turns the daily post off ({})", onthisday_text(Some(o))),
        None => "leaves the daily post off".to_owned(),
    };
    let replies = match s.visibility {
        Visibility::Private => "makes replies public again",
        Visibility::Public => "leaves replies public",
    };
    answer.intro = Some(format!(
        "This {daily} and {replies}. The record of changes is kept."
    ));
    answer.actions = vec![
        Button::Action {
            label: "Reset".to_owned(),
            id: ButtonId::action(SPEC.name, RESET_CONFIRM),
            disabled: false,
            danger: true,
        },
        Button::Action {
            label: "Cancel".to_owned(),
            id: ButtonId::action(SPEC.name, RESET_CANCEL),
            disabled: false,
            danger: false,
        },
    ];
    answer
}

/// A click on the reset confirmation.
fn button(core: &Core, action: &str, context: &Context) -> Answered {
    let mut answered: Answered = match action {
        RESET_CONFIRM => reset(core, context),
        RESET_CANCEL => {
            let mut a = core.new_answer("Nothing changed");
            a.intro = Some("Reset cancelled: every setting stays as it was.".to_owned());
            a.into()
        }
        _ => core
            .notice(
                "This button has expired",
                "Ask again with the command: /config reset.",
            )
            .into(),
    };
    answered.answer.private = true;
    answered
}

fn reset(core: &Core, context: &Context) -> Answered {
    let s = &context.settings;
    let default = GuildSettings::default();
    let mut lines = Vec::new();
    if s.onthisday.is_some() {
        lines.push(format!(
            "**Daily post**: {} → {}",
            onthisday_text(s.onthisday.as_ref()),
            onthisday_text(None)
        ));
    }
    if s.visibility != default.visibility {
        lines.push(format!(
            "**Replies**: {} → {}",
            s.visibility, default.visibility
        ));
    }
    let mut answer = core.new_answer("Settings reset");
    if lines.is_empty() {
        answer.title = "Nothing changed".to_owned();
        answer.intro = Some("Every setting already has its default.".to_owned());
        return answer.into();
    }
    lines.push("Every setting is back to its default.".to_owned());
    answer.intro = Some(lines.join("\n"));
    changed(core, context, Change::Reset, answer)
}

/// Zone names for what is typed: those starting with it first, then those with a
/// part (after a `/`) starting with it, then those containing it; a space matches
/// `_` ("new york" finds America/New_York). Each shows its offset now.
fn complete(_core: &Core, call: &Call, option: &str, typed: &str) -> Vec<Choice> {
    if option != "timezone" {
        return Vec::new();
    }
    let typed = normalise_zone(typed);
    let picked: Vec<&str> = if typed.is_empty() {
        COMMON_ZONES
            .iter()
            .copied()
            .filter(|z| time_zone_names().iter().any(|n| n == z))
            .collect()
    } else {
        let mut ranked: Vec<(u8, &str)> = normalised_zones()
            .iter()
            .filter_map(|(l, n)| {
                let rank = if l.starts_with(&typed) {
                    0
                } else if l.split('/').skip(1).any(|part| part.starts_with(&typed)) {
                    1
                } else if l.contains(&typed) {
                    2
                } else {
                    return None;
                };
                Some((rank, *n))
            })
            .collect();
        ranked.sort();
        ranked.into_iter().map(|(_, n)| n).collect()
    };
    picked
        .into_iter()
        .take(limits::CHOICES)
        .map(|n| Choice {
            name: match TimeZoneName::parse(n) {
                Ok(z) => format!("{n} ({})", offset(&z, call.context.now)),
                Err(_) => n.to_owned(),
            },
            value: n.to_owned(),
        })
        .collect()
}

/// How zone names are compared with what is typed: lower case, `_` as a space.
fn normalise_zone(s: &str) -> String {
    s.trim().to_lowercase().replace('_', " ")
}

/// Every zone name with its normalised form, made once (not on every keystroke).
fn normalised_zones() -> &'static [(String, &'static str)] {
    static ZONES: OnceLock<Vec<(String, &'static str)>> = OnceLock::new();
    ZONES.get_or_init(|| {
        time_zone_names()
            .iter()
            .map(|n| (normalise_zone(n), n.as_str()))
            .collect()
    })
}

/// `UTC+04:00`, `UTC-05:00`, `UTC+05:30`: the zone's offset at `now`.
fn offset(zone: &TimeZoneName, now: Timestamp) -> String {
    let secs = zone.time_zone().to_offset(now).seconds();
    let sign = if secs < 0 { '-' } else { '+' };
    let m = secs.unsigned_abs() / 60;
    format!("UTC{sign}{:02}:{:02}", m / 60, m % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_values_link_their_channel_and_escape_the_rest() {
        assert_eq!(
            audit_value("channel 5 at 07:30 America/New_York"),
            "<#5> at 07:30 America/New\\_York"
        );
        assert_eq!(audit_value("off"), "off");
        assert_eq!(audit_value("paused: **x**"), "paused: \\*\\*x\\*\\*");
        assert_eq!(audit_value("channel x"), "channel x");
    }

    #[test]
    fn show_keeps_to_one_page_however_long_the_trail() {
        let core = Core::embedded().unwrap();
        let mut context = Context::new("2026-11-25T12:00:00Z".parse().unwrap());
        context.guild_id = Some(1);
        for i in 0..10 {
            context.audit.push(AuditEntry {
                guild_id: 1,
                setting: Setting::Pause,
                old_value: "running".to_owned(),
                new_value: format!("paused: {i} {}", "x".repeat(600)),
                user_id: None,
                at: context.now,
            });
        }
        let answer = show(&core, &context);
        assert_eq!(answer.page_count(), 1);
        let text = answer.page(1).embed.description;
        assert!(text.contains("paused: 0 "), "the newest is shown");
        assert!(!text.contains("paused: 9 "));
        assert!(text.contains("earlier."), "{text}");
    }

    #[test]
    fn show_says_when_the_next_post_is_overdue() {
        let core = Core::embedded().unwrap();
        let mut context = Context::new("2026-11-25T12:00:00Z".parse().unwrap());
        context.guild_id = Some(1);
        let o = OnThisDay {
            channel_id: 5,
            time: PostTime::parse("07:30").unwrap(),
            zone: TimeZoneName::parse("UTC").unwrap(),
            post_empty_days: false,
        };
        context.settings.onthisday = Some(o.clone());
        context.settings.next_post = Some(o.next_run(context.now).unwrap());
        let text = show(&core, &context).page(1).embed.description;
        assert!(text.contains("Next post: <t:1795678200:F>."), "{text}");
        context.settings.next_post = Some(o.run_on(jiff::civil::date(2026, 11, 25)).unwrap());
        let text = show(&core, &context).page(1).embed.description;
        assert!(
            text.contains("Next post: due since <t:1795591800:R>"),
            "{text}"
        );
    }
}
