//! `/config` on the real path: interaction payloads as Discord sends them, parsed by
//! serenity, handled by the `Service` over a real SQLite file, and the reply
//! rendered to the JSON body Discord receives.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use karabakh_core::commands::Resolution;
use karabakh_core::settings::{GuildSettings, Setting, Visibility};
use karabakh_reactions::discord::{interaction, render};
use karabakh_reactions::service::{Handled, Service};
use karabakh_store::{SqliteStore, Store};
use serde_json::{Value, json};
use serenity::all::Interaction;
use support::payload::{
    ADMINISTRATOR, GUILD, MANAGE_SERVER, NO_MANAGE, boolean, channel, click, command, config,
    fixture, in_guild, onthisday, parse, text,
};
use support::{block_on, core, now, ts};
use tempfile::TempDir;

const OTHER_GUILD: u64 = 1_100_000_000_000_000_101;
const MOD: u64 = 1_100_000_000_000_000_501;
const MEMBER: u64 = 1_100_000_000_000_000_500;

/// A bot with its own database file.
struct Bot {
    _dir: TempDir,
    path: PathBuf,
    store: Arc<SqliteStore>,
    service: Service,
}

impl Bot {
    /// `/config <sub> …` in [`GUILD`] from `user`, a member with Manage Server, at `at`.
    fn moderator(&self, user: u64, sub: &str, options: Value, at: Timestamp) -> (Handled, Value) {
        send(self, &config(GUILD, user, MANAGE_SERVER, sub, options), at)
    }
}

fn bot() -> Bot {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.sqlite3");
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let service = Service::new(core(), Some(store.clone() as Arc<dyn Store>));
    Bot {
        _dir: dir,
        path,
        store,
        service,
    }
}

/// Suggestions for `/config onthisday … timezone:<typed>`.
fn zones(b: &Bot, typed: &str) -> Vec<(String, String)> {
    let mut json = in_guild(fixture("autocomplete.json"), GUILD, MOD, MANAGE_SERVER);
    json["data"]["name"] = "config".into();
    json["data"]["options"] = json!([{"name": "onthisday", "type": 1, "options": [
        channel("channel", 5),
        {"name": "timezone", "type": 3, "value": typed, "focused": true}
    ]}]);
    let (_, body) = send(b, &parse(json), now());
    assert_eq!(body["type"], 8, "{body}");
    body["data"]["choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Handles an interaction as a transport does, and renders the body Discord gets.
fn send(b: &Bot, interaction: &Interaction, at: Timestamp) -> (Handled, Value) {
    send_to(&b.service, interaction, at)
}

fn send_to(service: &Service, interaction: &Interaction, at: Timestamp) -> (Handled, Value) {
    let request = interaction::request(interaction, at).expect("answered");
    let handled = block_on(service.handle(request));
    let body = serde_json::from_str(&render::body(&handled.reply)).unwrap();
    (handled, body)
}

fn private(body: &Value) -> bool {
    body["data"]["flags"].as_u64().unwrap_or(0) & 64 != 0
}

fn title(body: &Value) -> &str {
    body["data"]["embeds"][0]["title"].as_str().unwrap_or("")
}

fn description(body: &Value) -> &str {
    body["data"]["embeds"][0]["description"]
        .as_str()
        .unwrap_or("")
}

/// Everything shown: the description and every field.
fn shown(body: &Value) -> String {
    let mut s = description(body).to_owned();
    for f in body["data"]["embeds"][0]["fields"]
        .as_array()
        .into_iter()
        .flatten()
    {
        s.push('\n');
        s.push_str(f["name"].as_str().unwrap());
        s.push('\n');
        s.push_str(f["value"].as_str().unwrap());
    }
    s
}

fn custom_ids(body: &Value) -> Vec<String> {
    body["data"]["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().unwrap().iter())
        .map(|b| b["custom_id"].as_str().unwrap().to_owned())
        .collect()
}

fn stamp(at: Timestamp, style: char) -> String {
    format!("<t:{}:{style}>", at.as_second())
}

#[test]
fn a_member_without_manage_server_is_refused_and_nothing_changes() {
    let b = bot();
    // Discord's default permission can be overridden by a server's owner, so the
    // payload arrives; the bot refuses it anyway.
    for (sub, options) in [
        ("onthisday", onthisday(5, "07:30", "Asia/Baku")),
        ("onthisday-off", json!([])),
        ("replies", json!([text("visibility", "private")])),
        ("reset", json!([])),
        ("show", json!([])),
    ] {
        let (handled, body) = send(&b, &config(GUILD, MEMBER, NO_MANAGE, sub, options), now());
        assert_eq!(body["type"], 4);
        assert!(private(&body), "{sub}: {body}");
        assert_eq!(title(&body), "Not allowed", "{sub}");
        assert!(description(&body).contains("Manage Server"), "{sub}");
        assert_eq!(handled.resolution, Resolution::Notice);
        assert!(custom_ids(&body).is_empty(), "{sub}: no reset buttons");
    }
    assert_eq!(
        block_on(b.store.guild_settings(GUILD)).unwrap(),
        GuildSettings::default()
    );
    assert!(block_on(b.store.audit_trail(GUILD, 10)).unwrap().is_empty());

    // A moderator sets something; the member's click on a reset button is refused.
    b.moderator(
        MOD,
        "replies",
        json!([text("visibility", "private")]),
        now(),
    );
    let (_, body) = send(
        &b,
        &click(GUILD, MEMBER, NO_MANAGE, "config:reset:confirm"),
        now(),
    );
    assert_eq!(body["type"], 4, "a new private message, not an update");
    assert!(private(&body));
    assert_eq!(title(&body), "Not allowed");
    assert_eq!(
        block_on(b.store.guild_settings(GUILD)).unwrap().visibility,
        Visibility::Private
    );
    assert_eq!(block_on(b.store.audit_trail(GUILD, 10)).unwrap().len(), 1);
}

#[test]
fn administrator_alone_or_manage_server_alone_is_allowed() {
    let b = bot();
    let (_, body) = send(
        &b,
        &config(
            GUILD,
            MOD,
            ADMINISTRATOR,
            "replies",
            json!([text("visibility", "private")]),
        ),
        now(),
    );
    assert!(private(&body));
    assert_eq!(title(&body), "Replies changed", "{body}");
    assert!(description(&body).contains("public → private"));
    assert_eq!(
        block_on(b.store.guild_settings(GUILD)).unwrap().visibility,
        Visibility::Private
    );
    let (_, body) = b.moderator(
        MOD + 1,
        "replies",
        json!([text("visibility", "public")]),
        now(),
    );
    assert_eq!(title(&body), "Replies changed", "{body}");
    let s = block_on(b.store.guild_settings(GUILD)).unwrap();
    assert_eq!(s.visibility, Visibility::Public);
    assert_eq!(s.visibility_changed.unwrap().user_id, MOD + 1);
}

#[test]
fn settings_round_trip_through_show_and_survive_a_restart() {
    let b = bot();
    let mut options = onthisday(555, "07:30", "europe/paris");
    options
        .as_array_mut()
        .unwrap()
        .push(boolean("empty-days", true));
    let (handled, body) = b.moderator(MOD, "onthisday", options, now());
    assert_eq!(handled.resolution, Resolution::Answered);
    assert!(private(&body));
    assert_eq!(title(&body), "Daily post set");
    assert!(
        description(&body).contains("off → <#555> at 07:30 Europe/Paris, empty days posted too"),
        "{}",
        description(&body)
    );
    let t2 = ts("2026-11-25T12:05:00Z");
    b.moderator(
        MOD + 1,
        "replies",
        json!([text("visibility", "private")]),
        t2,
    );

    let s = block_on(b.store.guild_settings(GUILD)).unwrap();
    let o = s.onthisday.clone().unwrap();
    assert_eq!(
        (o.channel_id, o.time.to_string(), o.zone.as_str()),
        (555, "07:30".into(), "Europe/Paris")
    );
    assert!(o.post_empty_days);

    let t3 = ts("2026-11-25T13:00:00Z");
    let (_, body) = b.moderator(MOD, "show", json!([]), t3);
    assert!(private(&body));
    let text = shown(&body);
    // 07:30 in Paris (UTC+1) is 06:30 UTC, past at noon: the next post is tomorrow's.
    let next = ts("2026-11-26T06:30:00Z");
    for expected in [
        "<#555> at 07:30 Europe/Paris, empty days posted too".to_owned(),
        format!("Next post: {}", stamp(next, 'F')),
        format!("Last changed by <@{MOD}> {}", stamp(now(), 'f')),
        "Private: answers are shown only to the asker".to_owned(),
        format!("Last changed by <@{}> {}", MOD + 1, stamp(t2, 'f')),
    ] {
        assert!(text.contains(&expected), "{expected} missing from:\n{text}");
    }

    // A new process on the same file shows the same.
    let store = Arc::new(SqliteStore::open(&b.path).unwrap());
    let service = Service::new(core(), Some(store as Arc<dyn Store>));
    let (_, again) = send_to(
        &service,
        &config(GUILD, MOD, MANAGE_SERVER, "show", json!([])),
        t3,
    );
    assert_eq!(again, body);

    // Off, and show says so.
    let (_, body) = b.moderator(MOD, "onthisday-off", json!([]), t3);
    assert_eq!(title(&body), "Daily post off");
    assert!(
        description(&body).contains("<#555> at 07:30 Europe/Paris, empty days posted too → off")
    );
    assert_eq!(
        block_on(b.store.guild_settings(GUILD)).unwrap().onthisday,
        None
    );
    let (_, body) = b.moderator(MOD, "show", json!([]), t3);
    assert!(shown(&body).contains("Off. Turn it on with `/config onthisday`."));
    // Off again: nothing to do, nothing recorded.
    let before = block_on(b.store.audit_trail(GUILD, 50)).unwrap().len();
    let (_, body) = b.moderator(MOD, "onthisday-off", json!([]), t3);
    assert_eq!(title(&body), "Nothing changed");
    assert_eq!(
        block_on(b.store.audit_trail(GUILD, 50)).unwrap().len(),
        before
    );
}

#[test]
fn a_bad_zone_or_time_gets_a_private_answer_naming_the_forms_and_saves_nothing() {
    let b = bot();
    let cases = [
        (
            onthisday(5, "07:30", "Mars/Olympus"),
            vec!["`Mars/Olympus`", "IANA", "Europe/Paris"],
        ),
        (
            onthisday(5, "25:00", "Asia/Baku"),
            vec!["`25:00`", "HH:MM", "00:00 to 23:59"],
        ),
        (onthisday(5, "7h", "Nowhere"), vec!["HH:MM", "IANA"]),
    ];
    for (options, expected) in cases {
        let (handled, body) = b.moderator(MOD, "onthisday", options, now());
        assert!(private(&body), "{body}");
        assert_eq!(handled.resolution, Resolution::Notice);
        assert_eq!(title(&body), "Daily post not changed");
        let d = description(&body);
        for e in expected {
            assert!(d.contains(e), "{e} missing from {d}");
        }
        assert!(d.contains("Nothing was saved."));
    }
    // A visibility that is not a choice (a hand-made payload) is refused too.
    let (_, body) = b.moderator(MOD, "replies", json!([text("visibility", "secret")]), now());
    assert!(private(&body));
    assert!(description(&body).contains("public or private"), "{body}");
    assert_eq!(
        block_on(b.store.guild_settings(GUILD)).unwrap(),
        GuildSettings::default()
    );
    assert!(block_on(b.store.audit_trail(GUILD, 10)).unwrap().is_empty());
}

#[test]
fn time_zones_autocomplete_by_city_with_spaces_for_underscores() {
    let b = bot();
    let baku = zones(&b, "baku");
    assert_eq!(baku[0].1, "Asia/Baku", "{baku:?}");
    assert_eq!(baku[0].0, "Asia/Baku (UTC+04:00)");
    let ny = zones(&b, "new york");
    assert_eq!(ny[0].1, "America/New_York", "{ny:?}");
    assert_eq!(zones(&b, "NEW_YORK")[0].1, "America/New_York");
    // Names starting with what is typed come first.
    let eu = zones(&b, "europe/");
    assert_eq!(eu.len(), 25);
    assert!(eu.iter().all(|(_, v)| v.starts_with("Europe/")), "{eu:?}");
    let par = zones(&b, "paris");
    assert_eq!(par[0].1, "Europe/Paris", "{par:?}");
    // Nothing typed: common zones, the region's first.
    let empty = zones(&b, "");
    assert!(empty.len() <= 25 && empty.iter().any(|(_, v)| v == "Asia/Yerevan"));
    assert!(zones(&b, "zzzz").is_empty());
    for (name, value) in baku.iter().chain(&ny).chain(&eu).chain(&empty) {
        assert!(name.chars().count() <= 100 && value.len() <= 100);
    }
}

#[test]
fn private_replies_apply_to_their_server_only_and_members_can_ask_privately() {
    let b = bot();
    b.moderator(
        MOD,
        "replies",
        json!([text("visibility", "private")]),
        now(),
    );
    let hungary = |guild, private_option: Option<bool>| {
        let mut options = vec![text("actor", "Hungary")];
        if let Some(p) = private_option {
            options.push(boolean("private", p));
        }
        let (_, body) = send(
            &b,
            &command(guild, MEMBER, NO_MANAGE, "reaction", Value::Array(options)),
            now(),
        );
        assert_eq!(title(&body), "Hungary", "{body}");
        private(&body)
    };
    assert!(
        hungary(GUILD, None),
        "private in the server that asked for it"
    );
    assert!(
        hungary(GUILD, Some(false)),
        "a member cannot make it public"
    );
    assert!(!hungary(OTHER_GUILD, None), "public elsewhere");
    assert!(
        hungary(OTHER_GUILD, Some(true)),
        "private when the member asks"
    );
    assert!(!hungary(OTHER_GUILD, None), "and only that answer");
}

#[test]
fn concurrent_changes_from_two_servers_do_not_mix() {
    let b = bot();
    // One service shares the bot's store; the other opens the same file again.
    let second = Arc::new(SqliteStore::open(&b.path).unwrap());
    let services = [
        b.service.clone(),
        Service::new(core(), Some(second as Arc<dyn Store>)),
    ];
    const ROUNDS: u64 = 40;
    let handles: Vec<_> = services
        .into_iter()
        .enumerate()
        .map(|(k, service)| {
            std::thread::spawn(move || {
                let guild = GUILD + k as u64 * 7;
                let user = MOD + k as u64;
                let zone = ["Asia/Baku", "Asia/Yerevan"][k];
                for i in 0..ROUNDS {
                    let at = Timestamp::from_second(1_800_000_000 + i as i64).unwrap();
                    let channel_id = 1_000 * (k as u64 + 1) + i;
                    let time = format!("{:02}:{:02}", i % 24, (i * 7) % 60);
                    let (_, body) = send_to(
                        &service,
                        &config(
                            guild,
                            user,
                            MANAGE_SERVER,
                            "onthisday",
                            onthisday(channel_id, &time, zone),
                        ),
                        at,
                    );
                    assert_eq!(title(&body), "Daily post set", "{body}");
                    let v = if i % 2 == 0 { "private" } else { "public" };
                    send_to(
                        &service,
                        &config(
                            guild,
                            user,
                            MANAGE_SERVER,
                            "replies",
                            json!([text("visibility", v)]),
                        ),
                        at,
                    );
                    let (_, body) = send_to(
                        &service,
                        &config(guild, user, MANAGE_SERVER, "show", json!([])),
                        at,
                    );
                    let text = shown(&body);
                    assert!(
                        text.contains(&format!("<#{channel_id}> at {time} {zone}")),
                        "server {k} round {i}: {text}"
                    );
                    assert!(text.contains(&format!(
                        "{}:",
                        if v == "private" { "Private" } else { "Public" }
                    )));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("a server's changes went wrong");
    }
    for k in 0..2u64 {
        let guild = GUILD + k * 7;
        let s = block_on(b.store.guild_settings(guild)).unwrap();
        assert_eq!(
            s.onthisday.unwrap().channel_id,
            1_000 * (k + 1) + ROUNDS - 1
        );
        let trail = block_on(b.store.audit_trail(guild, 1_000)).unwrap();
        assert!(
            trail
                .iter()
                .all(|e| e.guild_id == guild && e.user_id == Some(MOD + k))
        );
        let daily = trail
            .iter()
            .filter(|e| e.setting == Setting::OnThisDay)
            .count();
        assert_eq!(daily as u64, ROUNDS);
    }
}

#[test]
fn reset_asks_cancel_keeps_confirm_resets_and_is_audited() {
    let b = bot();
    b.moderator(MOD, "onthisday", onthisday(9, "08:00", "Asia/Baku"), now());
    b.moderator(
        MOD,
        "replies",
        json!([text("visibility", "private")]),
        now(),
    );
    let before = block_on(b.store.guild_settings(GUILD)).unwrap();

    let (handled, body) = b.moderator(MOD, "reset", json!([]), now());
    assert!(handled.reply != b.service.core.failure());
    assert!(private(&body));
    assert_eq!(title(&body), "Reset every setting?");
    assert_eq!(
        custom_ids(&body),
        ["config:reset:confirm", "config:reset:cancel"]
    );
    assert_eq!(
        body["data"]["components"][0]["components"][0]["style"], 4,
        "danger"
    );
    assert_eq!(
        block_on(b.store.guild_settings(GUILD)).unwrap(),
        before,
        "asking changes nothing"
    );

    let (_, body) = send(
        &b,
        &click(GUILD, MOD, MANAGE_SERVER, "config:reset:cancel"),
        now(),
    );
    assert_eq!(body["type"], 7, "the question is updated in place");
    assert_eq!(title(&body), "Nothing changed");
    assert!(custom_ids(&body).is_empty(), "the buttons are gone");
    assert_eq!(block_on(b.store.guild_settings(GUILD)).unwrap(), before);

    let t = ts("2026-11-25T12:30:00Z");
    let (handled, body) = send(
        &b,
        &click(GUILD, MOD + 1, ADMINISTRATOR, "config:reset:confirm"),
        t,
    );
    assert_eq!(handled.resolution, Resolution::Answered);
    assert_eq!(body["type"], 7);
    assert_eq!(title(&body), "Settings reset");
    let d = description(&body);
    assert!(
        d.contains("<#9> at 08:00 Asia/Baku, empty days skipped → off"),
        "{d}"
    );
    assert!(d.contains("private → public"), "{d}");
    assert!(custom_ids(&body).is_empty());
    let s = block_on(b.store.guild_settings(GUILD)).unwrap();
    assert_eq!((s.onthisday, s.visibility), (None, Visibility::Public));
    let trail = block_on(b.store.audit_trail(GUILD, 2)).unwrap();
    assert!(
        trail
            .iter()
            .all(|e| e.user_id == Some(MOD + 1) && e.at == t)
    );
    let mut settings: Vec<Setting> = trail.iter().map(|e| e.setting).collect();
    settings.sort_by_key(|s| s.as_str());
    assert_eq!(settings, [Setting::OnThisDay, Setting::Visibility]);

    // A second confirm (an old message clicked again) has nothing left to do.
    let (_, body) = send(
        &b,
        &click(GUILD, MOD, MANAGE_SERVER, "config:reset:confirm"),
        t,
    );
    assert_eq!(title(&body), "Nothing changed");
    assert_eq!(block_on(b.store.audit_trail(GUILD, 50)).unwrap().len(), 4);
}

#[test]
fn show_lists_the_audit_trail_newest_first_and_a_paused_schedule() {
    let b = bot();
    let t1 = ts("2026-11-20T10:00:00Z");
    let t2 = ts("2026-11-21T10:00:00Z");
    let t3 = ts("2026-11-22T10:00:00Z");
    b.moderator(
        MOD,
        "onthisday",
        onthisday(77, "09:15", "America/New_York"),
        t1,
    );
    b.moderator(
        MOD + 1,
        "replies",
        json!([text("visibility", "private")]),
        t2,
    );
    // The scheduler's first try is refused by Discord: the post is paused.
    let due = block_on(b.store.guild_settings(GUILD))
        .unwrap()
        .next_post
        .unwrap();
    let lease = block_on(
        b.store
            .lease_due(due.at, "test", Duration::from_secs(60), 1),
    )
    .unwrap();
    block_on(b.store.pause(
        &lease[0],
        "403 Missing Access: the bot may not post in <#77>",
        t3,
    ))
    .unwrap();

    let (_, body) = b.moderator(MOD, "show", json!([]), now());
    let text = shown(&body);
    let lines: Vec<&str> = description(&body)
        .lines()
        .filter(|l| l.starts_with("<t:"))
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].starts_with(&stamp(t3, 'f')) && lines[0].contains("by the bot"),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains("running → paused: 403 Missing Access"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with(&stamp(t2, 'f')) && lines[1].contains(&format!("by <@{}>", MOD + 1))
    );
    assert!(
        lines[1].contains("**replies**: public → private"),
        "{}",
        lines[1]
    );
    assert!(lines[2].starts_with(&stamp(t1, 'f')) && lines[2].contains(&format!("by <@{MOD}>")));
    assert!(
        lines[2].contains("off → <#77> at 09:15 America/New\\_York"),
        "{}",
        lines[2]
    );
    assert!(
        text.contains(&format!(
            "**Paused** {}: 403 Missing Access",
            stamp(t3, 'f')
        )),
        "{text}"
    );
    assert!(text.contains("To resume, set `/config onthisday` again."));
    assert!(
        !text.contains("Next post"),
        "a paused schedule has no next post"
    );

    // Setting it again resumes it and says so.
    let (_, body) = b.moderator(
        MOD,
        "onthisday",
        onthisday(77, "09:15", "America/New_York"),
        now(),
    );
    assert!(
        description(&body).contains("It was paused (403 Missing Access"),
        "{body}"
    );
    let s = block_on(b.store.guild_settings(GUILD)).unwrap();
    assert!(s.paused.is_none() && s.next_post.is_some());
}

#[test]
fn config_in_a_dm_is_refused_politely() {
    let b = bot();
    let mut json = fixture("command-dm.json");
    json["data"]["name"] = "config".into();
    json["data"]["options"] = json!([{"name": "show", "type": 1, "options": []}]);
    let (handled, body) = send(&b, &parse(json), now());
    assert!(private(&body));
    assert_eq!(title(&body), "Only in a server");
    assert!(description(&body).contains("/config works only in a server"));
    assert_eq!(handled.resolution, Resolution::Notice);
}

#[test]
fn the_console_answers_only_in_a_server() {
    let out = Command::new(env!("CARGO_BIN_EXE_karabakh-reactions"))
        .args(["ask", "/config show"])
        .env_remove("DISCORD_TOKEN")
        .env_remove("DISCORD_TOKEN_FILE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Only in a server"), "{stdout}");
}

#[test]
fn show_and_reset_as_the_bot_decides() {
    let b = bot();
    b.moderator(
        MOD,
        "onthisday",
        onthisday(77, "07:30", "Asia/Baku"),
        ts("2026-11-25T10:00:00Z"),
    );
    b.moderator(
        MOD + 1,
        "replies",
        json!([text("visibility", "private")]),
        ts("2026-11-25T11:00:00Z"),
    );
    let (handled, _) = b.moderator(MOD, "show", json!([]), now());
    insta::assert_json_snapshot!("config_show", handled.reply);
    let (handled, _) = b.moderator(MOD, "reset", json!([]), now());
    insta::assert_json_snapshot!("config_reset_asks", handled.reply);
}
