//! The settings database failing under the bot, tried through real signed requests:
//! locked by another process for longer than a request may wait, and a full disk (the
//! bot's own file size limit, `RLIMIT_FSIZE`, lowered under the running binary). In
//! each: a moderator's change gets a clear private sentence and is written whole or
//! not at all, other commands are answered with the defaults (and a log line), and
//! the bot recovers by itself once the database is back.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use ed25519_dalek::{Signer, SigningKey};
use http_body_util::BodyExt;
use karabakh_core::settings::Visibility;
use karabakh_reactions::discord::endpoint::{self, Endpoint};
use karabakh_reactions::service::Service;
use karabakh_store::{SqliteStore, Store};
use serde_json::{Value as Json, json};
use support::now;
use support::payload::{fixture, in_guild};
use tower::ServiceExt;

const GUILD: u64 = 1100000000000000100;
const MODERATOR: u64 = 1100000000000000500;

fn key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

fn public_hex() -> String {
    hex::encode(key().verifying_key().to_bytes())
}

fn signed(body: &[u8], seconds: i64) -> (String, String) {
    let ts = seconds.to_string();
    let mut message = ts.as_bytes().to_vec();
    message.extend_from_slice(body);
    (hex::encode(key().sign(&message).to_bytes()), ts)
}

/// `/config replies visibility:<v>` from a moderator of the fixture's server.
fn set_visibility(v: &str) -> Json {
    let mut p = in_guild(fixture("command-guild.json"), GUILD, MODERATOR, "32");
    p["data"]["name"] = json!("config");
    p["data"]["options"] = json!([{"name": "replies", "type": 1, "options": [
        {"name": "visibility", "type": 3, "value": v}
    ]}]);
    p
}

fn config_show() -> Json {
    let mut p = in_guild(fixture("command-guild.json"), GUILD, MODERATOR, "32");
    p["data"]["name"] = json!("config");
    p["data"]["options"] = json!([{"name": "show", "type": 1, "options": []}]);
    p
}

/// The answer's JSON (`payload_json` of a multipart answer), whatever its content type.
fn payload(content_type: &str, bytes: &[u8]) -> Json {
    if content_type == "application/json" {
        return serde_json::from_slice(bytes).unwrap();
    }
    let text = String::from_utf8_lossy(bytes);
    let start = text
        .find("name=\"payload_json\"")
        .expect("a payload_json part");
    let json_start = start + text[start..].find("\r\n\r\n").unwrap() + 4;
    let json_end = json_start + text[json_start..].find("\r\n--").unwrap();
    serde_json::from_str(&text[json_start..json_end]).unwrap()
}

fn title(body: &Json) -> &str {
    body["data"]["embeds"][0]["title"].as_str().unwrap_or("")
}

/// What `/config show` says of replies: `Public` or `Private`.
fn replies_shown(body: &Json) -> String {
    let description = body["data"]["embeds"][0]["description"]
        .as_str()
        .unwrap_or("");
    let after = description
        .split("**Replies**\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no replies section: {body}"));
    after.split(':').next().unwrap().to_owned()
}

fn private(body: &Json) -> bool {
    body["data"]["flags"] == 64
}

/// Sends signed interactions to the app in process.
struct InProcess {
    endpoint: Arc<Endpoint>,
}

impl InProcess {
    async fn ask(&self, interaction: &Json) -> Json {
        let body = serde_json::to_vec(interaction).unwrap();
        let (signature, ts) = signed(&body, now().as_second());
        let request = Request::post(endpoint::PATH)
            .header("X-Signature-Ed25519", signature)
            .header("X-Signature-Timestamp", ts)
            .body(Body::from(body))
            .unwrap();
        let response = endpoint::app(Arc::clone(&self.endpoint))
            .oneshot(request)
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        payload(&content_type, &bytes)
    }
}

/// Another process holds the database's write lock for longer than the store waits
/// for one (5 s). The moderator's change gets a private sentence in time instead of a
/// failed interaction; reads go on beside it (`/reaction`, `/config show` showing the
/// settings saved, not the change waiting); the change is made whole or not at all.
/// Once the lock is gone, the next change is made at once, without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_locked_past_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.sqlite3");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
    let service = Service::new(support::core(), Some(Arc::clone(&store)));
    let verifier = endpoint::verifier(&public_hex()).unwrap();
    let bot = InProcess {
        endpoint: Arc::new(Endpoint::with_clock(service, verifier, Arc::new(now))),
    };
    assert_eq!(
        title(&bot.ask(&config_show()).await),
        "Settings of this server"
    );

    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let locker = std::thread::spawn(move || {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("BEGIN IMMEDIATE; CREATE TABLE held_by_another_process (x);")
            .unwrap();
        locked_tx.send(()).unwrap();
        std::thread::sleep(Duration::from_secs(7));
        c.execute_batch("ROLLBACK;").unwrap();
    });
    locked_rx.recv().unwrap();
    let locked_at = Instant::now();

    // The change waits for the lock; the moderator is told in time that it is not
    // confirmed.
    let started = Instant::now();
    let answer = bot.ask(&set_visibility("private")).await;
    assert!(private(&answer), "{answer}");
    assert_eq!(title(&answer), "Not confirmed", "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "in Discord's time"
    );
    // Reads go on (the store reads beside its writer): /reaction is answered in time.
    let started = Instant::now();
    let answer = bot.ask(&fixture("command-guild.json")).await;
    let took = started.elapsed();
    assert!(
        answer["data"]["embeds"][0]["description"]
            .as_str()
            .unwrap()
            .contains("Turkey"),
        "/reaction Turkey is answered: {answer}"
    );
    assert!(!private(&answer), "the default visibility is public");
    assert!(took < Duration::from_secs(3), "in Discord's time: {took:?}");
    // The settings shown are those saved: the change waiting for the lock is not.
    let answer = bot.ask(&config_show()).await;
    assert!(private(&answer));
    assert_eq!(title(&answer), "Settings of this server", "{answer}");
    assert_eq!(replies_shown(&answer), "Public");

    locker.join().unwrap();
    let _ = locked_at;
    // The change was handed to the store, which waits up to 5 s (nominal: SQLite's
    // busy handler counts its sleeps, not the clock) for the lock held for 7: it is
    // made or not, but whole: the settings and the audit trail agree.
    let settings = store.guild_settings(GUILD).await.unwrap();
    let audit = store.audit_trail(GUILD, 10).await.unwrap();
    match settings.visibility {
        Visibility::Public => assert!(audit.is_empty(), "{audit:?}"),
        Visibility::Private => assert_eq!(audit.len(), 1, "{audit:?}"),
    }
    // The bot recovers by itself: the next change goes through at once.
    let next = match settings.visibility {
        Visibility::Public => ("private", Visibility::Private),
        Visibility::Private => ("public", Visibility::Public),
    };
    let started = Instant::now();
    let answer = bot.ask(&set_visibility(next.0)).await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_ne!(title(&answer), "Not confirmed", "{answer}");
    assert_ne!(title(&answer), "Not saved", "{answer}");
    assert_eq!(
        store.guild_settings(GUILD).await.unwrap().visibility,
        next.1
    );
    assert_eq!(
        title(&bot.ask(&config_show()).await),
        "Settings of this server"
    );
}

/// The disk fills under the running binary: its file size limit (`RLIMIT_FSIZE`) is
/// lowered to nothing with `prlimit`, so the database's next write fails as on a full
/// disk. The change gets a private "Not saved" and nothing is half-written; reads go
/// on; raising the limit again (the disk freed) lets the same change through.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_under_the_running_binary() {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::CommandExt;
    use std::process::Stdio;

    let dir = tempfile::tempdir().unwrap();
    let mut command = support::binary_in(&dir);
    command
        .env("DISCORD_PUBLIC_KEY", public_hex())
        .env("KR_LOG", "info")
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null());
    // SAFETY: only async-signal-safe calls between fork and exec. A write past the
    // limit then fails with EFBIG, as on a full disk, instead of killing the bot.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    let mut child = command.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut log = Vec::new();
    let addr = loop {
        let line = lines_rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("serve ended before listening: {log:#?}"));
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.trim_end_matches(endpoint::PATH).to_owned();
        }
        log.push(line);
    };
    let client = reqwest::Client::new();
    let ask = |interaction: Json| {
        let client = client.clone();
        let url = format!("http://{addr}{}", endpoint::PATH);
        async move {
            let body = serde_json::to_vec(&interaction).unwrap();
            let (signature, ts) = signed(&body, jiff::Timestamp::now().as_second());
            let r = client
                .post(url)
                .header("X-Signature-Ed25519", signature)
                .header("X-Signature-Timestamp", ts)
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let content_type = r.headers()["content-type"].to_str().unwrap().to_owned();
            payload(&content_type, &r.bytes().await.unwrap())
        }
    };
    let pid = i32::try_from(child.id()).unwrap();
    let set_file_size_limit = |soft: u64| {
        let limit = libc::rlimit64 {
            rlim_cur: soft,
            rlim_max: libc::RLIM64_INFINITY,
        };
        // SAFETY: sets a resource limit of the child this test started.
        let rc = unsafe { libc::prlimit64(pid, libc::RLIMIT_FSIZE, &limit, std::ptr::null_mut()) };
        assert_eq!(rc, 0, "prlimit: {}", std::io::Error::last_os_error());
    };

    // A first change goes through, and is shown.
    assert_ne!(title(&ask(set_visibility("private")).await), "Not saved");
    assert_eq!(replies_shown(&ask(config_show()).await), "Private");

    // The disk is full: no file may grow.
    set_file_size_limit(0);
    let mut refused = None;
    // The write-ahead log may have room left from earlier writes: write until a change
    // cannot be saved (it fails at once on a log that must grow).
    for turn in 0..40 {
        let v = if turn % 2 == 0 { "public" } else { "private" };
        let answer = ask(set_visibility(v)).await;
        if title(&answer) == "Not saved" {
            assert!(private(&answer), "{answer}");
            refused = Some(v);
            break;
        }
    }
    let refused = refused.expect("a change on a full disk is refused");
    // Nothing half-written: the settings shown are the last saved, not the refused.
    let shown = ask(config_show()).await;
    assert_eq!(title(&shown), "Settings of this server", "{shown}");
    let (refused_shown, other_shown) = if refused == "public" {
        ("Public", "Private")
    } else {
        ("Private", "Public")
    };
    assert_eq!(replies_shown(&shown), other_shown, "the last change saved");
    // Other commands are answered.
    let answer = ask(fixture("command-guild.json")).await;
    assert!(answer.to_string().contains("Turkey"), "{answer}");

    // Space again: the same change goes through, without a restart.
    set_file_size_limit(libc::RLIM64_INFINITY);
    let answer = ask(set_visibility(refused)).await;
    assert_ne!(title(&answer), "Not saved", "{answer}");
    assert_eq!(replies_shown(&ask(config_show()).await), refused_shown);

    // SAFETY: sends a signal to the child this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = child.wait().unwrap();
    reader.join().unwrap();
    log.extend(lines_rx.try_iter());
    let log = log.join("\n");
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains("could not save a settings change"), "{log}");
    assert!(!log.contains("panicked"), "{log}");
}
