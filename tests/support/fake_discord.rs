//! A fake of Discord's REST API for the scheduler's tests, on 127.0.0.1: the three
//! calls the daily posts make (create a message, a channel's recent messages, the
//! bot's user), every request recorded (method, path, headers, JSON body), failures
//! scripted per channel (429, 500, 403, 404, 401), and Discord's `nonce` +
//! `enforce_nonce` honoured: a second create with a nonce it remembers answers the
//! first message and makes no new one. Its clock is set by the test, so message
//! timestamps follow the injected clock.
//!
//! Like Discord, it can hold the bot to a global rate ([`FakeDiscord::limit_rate`]:
//! a request beyond it in any one-second window gets a global 429, counted), and
//! take its time to answer a create ([`FakeDiscord::set_latency`]), so that posts sent
//! concurrently are seen in flight together ([`FakeDiscord::max_in_flight`]).
//!
//! It checks what Discord would: `Authorization: Bot …` on every call (401 without),
//! and a create's body ([`check_create`]: a JSON message with an embed in Discord's
//! limits, buttons in action rows, and, as the bot's posts must have, mentions
//! silenced, a nonce and `enforce_nonce`), answering 400 "Invalid Form Body" (code
//! 50035) when it is wrong. Messages come back in Discord's shape, with every field
//! serenity's `Message` requires.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::{Value, json};

/// The bot's user id the fake answers to `GET /users/@me`.
pub const BOT_ID: u64 = 4_242_424_242;

/// A request as the fake received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query, e.g. `/api/v10/channels/5/messages?limit=50`.
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Option<Value>,
    /// When it arrived, by the real clock.
    pub received: Timestamp,
}

impl Recorded {
    /// The path without the query, e.g. `/api/v10/channels/5/messages`.
    pub fn route(&self) -> &str {
        self.path.split('?').next().unwrap_or("")
    }

    /// A parameter of the query (`limit` of `?limit=50`, or of serenity's `?&limit=50`).
    pub fn param(&self, name: &str) -> Option<&str> {
        let (_, query) = self.path.split_once('?')?;
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
    }
}

/// Whether `body` is a message Discord takes from the bot for its daily post, and if
/// not, why (as Discord's "Invalid Form Body" would say, in fewer words).
pub fn check_create(body: &Value) -> Result<(), String> {
    // The length in characters of a string field, if it is one.
    fn text(v: &Value, k: &str) -> Option<usize> {
        v.get(k).and_then(Value::as_str).map(|s| s.chars().count())
    }
    let object = body.as_object().ok_or("the body is not a JSON object")?;
    if text(body, "content").is_some_and(|n| n > 2000) {
        return Err("content: longer than 2000".into());
    }
    let embeds = body["embeds"].as_array().ok_or("embeds: missing")?;
    if embeds.is_empty() || embeds.len() > 10 {
        return Err(format!("embeds: {} (1 to 10 wanted)", embeds.len()));
    }
    for e in embeds {
        if text(e, "title").is_none_or(|n| n > 256) {
            return Err("embeds.0.title: missing or longer than 256".into());
        }
        if text(e, "description").is_some_and(|n| n > 4096) {
            return Err("embeds.0.description: longer than 4096".into());
        }
        let fields = e.get("fields").and_then(Value::as_array);
        if fields.is_some_and(|f| f.len() > 25) {
            return Err("embeds.0.fields: more than 25".into());
        }
        for f in fields.into_iter().flatten() {
            let name = text(f, "name").unwrap_or(0);
            let value = text(f, "value").unwrap_or(0);
            if !(1..=256).contains(&name) || !(1..=1024).contains(&value) {
                return Err("embeds.0.fields: a name or value empty or too long".into());
            }
        }
    }
    let rows = match body.get("components") {
        None => Vec::new(),
        Some(rows) => rows.as_array().ok_or("components: not a list")?.clone(),
    };
    if rows.len() > 5 {
        return Err("components: more than 5 rows".into());
    }
    for row in &rows {
        let buttons = row["components"]
            .as_array()
            .ok_or("components.0: not a row")?;
        if row["type"] != json!(1) || buttons.is_empty() || buttons.len() > 5 {
            return Err("components.0: not an action row of 1 to 5 buttons".into());
        }
        for b in buttons {
            let link = b["style"] == json!(5);
            let ok = b["type"] == json!(2)
                && text(b, "label").is_some_and(|n| n <= 80)
                && if link {
                    text(b, "url").is_some() && b.get("custom_id").is_none()
                } else {
                    text(b, "custom_id").is_some_and(|n| (1..=100).contains(&n))
                };
            if !ok {
                return Err(format!("components.0.components: not a valid button: {b}"));
            }
        }
    }
    // Discord's own checks end here; what follows is what the bot's posts must have.
    let mentions = &body["allowed_mentions"];
    let empty = |k: &str| mentions.get(k).is_none_or(|v| v == &json!([]));
    if mentions["parse"] != json!([]) || !empty("users") || !empty("roles") {
        return Err(format!(
            "allowed_mentions: {mentions} does not silence mentions"
        ));
    }
    if text(body, "nonce").is_none_or(|n| n > 25) {
        return Err("nonce: missing, not a string, or longer than 25".into());
    }
    if body["enforce_nonce"] != json!(true) {
        return Err("enforce_nonce: not true".into());
    }
    if object.contains_key("flags") && body["flags"] != json!(0) {
        return Err(format!("flags: {} in a channel message", body["flags"]));
    }
    Ok(())
}

/// An answer the fake gives to the next create in a channel instead of creating.
#[derive(Debug, Clone)]
pub enum Scripted {
    RateLimited { retry_after: f64, global: bool },
    ServerError,
    Forbidden,
    NotFound,
    Unauthorized,
}

/// A message the fake keeps.
#[derive(Debug, Clone)]
pub struct Stored {
    pub id: u64,
    pub channel_id: u64,
    pub nonce: Option<String>,
    pub json: Value,
}

struct Inner {
    requests: Vec<Recorded>,
    messages: Vec<Stored>,
    nonces: HashMap<String, usize>,
    scripted: HashMap<u64, VecDeque<Scripted>>,
    next_id: u64,
    now: Timestamp,
    /// The most requests in any one second, if limited.
    rate: Option<usize>,
    /// When the requests inside the rate were answered, the last second's.
    window: VecDeque<Instant>,
    rate_limited: usize,
    latency: Duration,
    in_flight: usize,
    max_in_flight: usize,
}

#[derive(Clone)]
pub struct FakeDiscord {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

impl FakeDiscord {
    /// Starts the fake on 127.0.0.1, a free port, on the current runtime.
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            requests: Vec::new(),
            messages: Vec::new(),
            nonces: HashMap::new(),
            scripted: HashMap::new(),
            next_id: 1_000_000_000_000_000_000,
            now: Timestamp::UNIX_EPOCH,
            rate: None,
            window: VecDeque::new(),
            rate_limited: 0,
            latency: Duration::ZERO,
            in_flight: 0,
            max_in_flight: 0,
        }));
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&inner));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeDiscord { addr, inner }
    }

    /// The API base to configure: `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap()
    }

    /// The instant new messages are stamped with.
    pub fn set_now(&self, now: Timestamp) {
        self.lock().now = now;
    }

    /// The next creates in `channel` get these answers, in order.
    pub fn script(&self, channel: u64, answers: impl IntoIterator<Item = Scripted>) {
        self.lock()
            .scripted
            .entry(channel)
            .or_default()
            .extend(answers);
    }

    /// Someone else's message in `channel`, stamped with the fake's clock: a message
    /// in Discord's shape from user `author_id`, with `fields` set over it.
    pub fn post_as(&self, channel: u64, author_id: u64, fields: Value) {
        let mut inner = self.lock();
        let id = inner.next_id;
        inner.next_id += 1;
        let mut json = json!({
            "id": id.to_string(),
            "channel_id": channel.to_string(),
            "author": {"id": author_id.to_string(), "username": "someone",
                       "discriminator": "0", "global_name": null, "avatar": null},
            "content": "",
            "embeds": [],
            "components": [],
            "timestamp": inner.now.to_string(),
            "edited_timestamp": null,
            "tts": false,
            "mention_everyone": false,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "pinned": false,
            "type": 0,
            "flags": 0,
        });
        for (k, v) in fields.as_object().into_iter().flatten() {
            json[k] = v.clone();
        }
        inner.messages.push(Stored {
            id,
            channel_id: channel,
            nonce: None,
            json,
        });
    }

    /// At most `per_second` requests in any one second, as Discord's global limit:
    /// one more gets a global 429 (and is counted in [`Self::rate_limited`]).
    pub fn limit_rate(&self, per_second: usize) {
        self.lock().rate = Some(per_second);
    }

    /// How many requests were refused for the rate.
    pub fn rate_limited(&self) -> usize {
        self.lock().rate_limited
    }

    /// Each create is answered this long after it arrives.
    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }

    /// The most creates that were in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.lock().max_in_flight
    }

    /// Discord remembers nonces for a few minutes only: this is that window passing.
    pub fn forget_nonces(&self) {
        self.lock().nonces.clear();
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    /// The creates received (`POST .../messages`), answered or not.
    pub fn creates(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/messages"))
            .collect()
    }

    /// The messages in a channel, oldest first.
    pub fn messages(&self, channel: u64) -> Vec<Stored> {
        self.lock()
            .messages
            .iter()
            .filter(|m| m.channel_id == channel)
            .cloned()
            .collect()
    }
}

fn error(status: StatusCode, code: u64, message: &str) -> Response {
    (
        status,
        [("content-type", "application/json")],
        json!({"message": message, "code": code}).to_string(),
    )
        .into_response()
}

/// A 429 as Discord answers it.
fn rate_limited(retry_after: f64, global: bool) -> Response {
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        [
            ("content-type", "application/json".to_owned()),
            ("retry-after", retry_after.ceil().to_string()),
            (
                "x-ratelimit-scope",
                if global { "global" } else { "user" }.to_owned(),
            ),
        ],
        json!({"message": "You are being rate limited.",
               "retry_after": retry_after, "global": global, "code": 0})
        .to_string(),
    )
        .into_response();
    if global {
        response
            .headers_mut()
            .insert("x-ratelimit-global", "true".parse().unwrap());
    }
    response
}

fn ok(value: Value) -> Response {
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        value.to_string(),
    )
        .into_response()
}

async fn handle(State(inner): State<Arc<Mutex<Inner>>>, request: Request) -> Response {
    let method = request.method().clone();
    let path = request.uri().path_and_query().map_or_else(
        || request.uri().path().to_owned(),
        |p| p.as_str().to_owned(),
    );
    let headers = headers(request.headers());
    let bytes = axum::body::to_bytes(request.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let body: Option<Value> = serde_json::from_slice(&bytes).ok();
    let received = Timestamp::now();
    let creating = method == Method::POST;
    let record = |inner: &mut Inner| {
        inner.requests.push(Recorded {
            method: method.to_string(),
            path: path.clone(),
            headers: headers.clone(),
            body: body.clone(),
            received,
        });
    };
    let latency = {
        let mut inner = inner.lock().unwrap();
        // The rate counts requests as they arrive, as Discord's does.
        if let Some(rate) = inner.rate {
            let now = Instant::now();
            while inner
                .window
                .front()
                .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
            {
                inner.window.pop_front();
            }
            if inner.window.len() >= rate {
                inner.rate_limited += 1;
                record(&mut inner);
                let wait = Duration::from_secs(1) - now.duration_since(inner.window[0]);
                return rate_limited(wait.as_secs_f64(), true);
            }
            inner.window.push_back(now);
        }
        if creating {
            inner.in_flight += 1;
            inner.max_in_flight = inner.max_in_flight.max(inner.in_flight);
        }
        inner.latency
    };
    if creating && !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut inner = inner.lock().unwrap();
    if creating {
        inner.in_flight -= 1;
    }
    record(&mut inner);
    if !headers
        .get("authorization")
        .and_then(|a| a.strip_prefix("Bot "))
        .is_some_and(|token| !token.is_empty() && !token.contains(' '))
    {
        return error(StatusCode::UNAUTHORIZED, 0, "401: Unauthorized");
    }
    let (route, query) = path.split_once('?').unwrap_or((&path, ""));
    let parts: Vec<&str> = route.trim_start_matches("/api/v10/").split('/').collect();
    match (&method, parts.as_slice()) {
        (&Method::GET, ["users", "@me"]) => ok(bot_user()),
        (&Method::GET, ["channels", channel, "messages"]) => {
            let Ok(channel) = channel.parse::<u64>() else {
                return error(StatusCode::NOT_FOUND, 10003, "Unknown Channel");
            };
            let limit = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("limit="))
                .and_then(|l| l.parse().ok())
                .unwrap_or(50usize);
            let list: Vec<Value> = inner
                .messages
                .iter()
                .rev()
                .filter(|m| m.channel_id == channel)
                .take(limit)
                .map(|m| m.json.clone())
                .collect();
            ok(Value::Array(list))
        }
        (&Method::POST, ["channels", channel, "messages"]) => {
            let Ok(channel) = channel.parse::<u64>() else {
                return error(StatusCode::NOT_FOUND, 10003, "Unknown Channel");
            };
            if let Some(next) = inner
                .scripted
                .get_mut(&channel)
                .and_then(VecDeque::pop_front)
            {
                return match next {
                    Scripted::RateLimited {
                        retry_after,
                        global,
                    } => rate_limited(retry_after, global),
                    Scripted::ServerError => {
                        (StatusCode::INTERNAL_SERVER_ERROR, Body::empty()).into_response()
                    }
                    Scripted::Forbidden => {
                        error(StatusCode::FORBIDDEN, 50013, "Missing Permissions")
                    }
                    Scripted::NotFound => error(StatusCode::NOT_FOUND, 10003, "Unknown Channel"),
                    Scripted::Unauthorized => {
                        error(StatusCode::UNAUTHORIZED, 0, "401: Unauthorized")
                    }
                };
            }
            let json_type = headers
                .get("content-type")
                .is_some_and(|t| t.starts_with("application/json"));
            let Some(body) = body.filter(|_| json_type) else {
                return error(
                    StatusCode::BAD_REQUEST,
                    50109,
                    "The request body contains invalid JSON.",
                );
            };
            if let Err(why) = check_create(&body) {
                return error(
                    StatusCode::BAD_REQUEST,
                    50035,
                    &format!("Invalid Form Body ({why})"),
                );
            }
            let nonce = body.get("nonce").and_then(Value::as_str).map(str::to_owned);
            let enforce = body.get("enforce_nonce").and_then(Value::as_bool) == Some(true);
            if let (Some(n), true) = (&nonce, enforce) {
                if let Some(&i) = inner.nonces.get(n) {
                    return ok(inner.messages[i].json.clone());
                }
            }
            let id = inner.next_id;
            inner.next_id += 1;
            let json = json!({
                "id": id.to_string(),
                "channel_id": channel.to_string(),
                "author": bot_user(),
                "content": body.get("content").cloned().unwrap_or(json!("")),
                "embeds": body.get("embeds").cloned().unwrap_or(json!([])),
                "components": body.get("components").cloned().unwrap_or(json!([])),
                "timestamp": inner.now.to_string(),
                "edited_timestamp": null,
                "tts": false,
                "mention_everyone": false,
                "mentions": [],
                "mention_roles": [],
                "attachments": [],
                "pinned": false,
                "type": 0,
                "flags": 0,
                "nonce": nonce,
            });
            if let (Some(n), true) = (&nonce, enforce) {
                let index = inner.messages.len();
                inner.nonces.insert(n.clone(), index);
            }
            inner.messages.push(Stored {
                id,
                channel_id: channel,
                nonce,
                json: json.clone(),
            });
            ok(json)
        }
        _ => error(StatusCode::NOT_FOUND, 0, "404: Not Found"),
    }
}

/// The bot's user as Discord shows it.
fn bot_user() -> Value {
    json!({
        "id": BOT_ID.to_string(), "username": "karabakh-reactions", "bot": true,
        "discriminator": "0000", "global_name": null, "avatar": null
    })
}

fn headers(map: &HeaderMap) -> HashMap<String, String> {
    map.iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                v.to_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}
