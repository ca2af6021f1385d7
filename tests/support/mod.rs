//! A fake of Discord's REST API for the scheduler's tests, on 127.0.0.1: the three
//! calls the daily posts make (create a message, a channel's recent messages, the
//! bot's user), every request recorded (method, path, headers, JSON body), failures
//! scripted per channel (429, 500, 403, 404, 401), and Discord's `nonce` +
//! `enforce_nonce` honoured: a second create with a nonce it remembers answers the
//! first message and makes no new one. Its clock is set by the test, so message
//! timestamps follow the injected clock.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

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
    let mut inner = inner.lock().unwrap();
    inner.requests.push(Recorded {
        method: method.to_string(),
        path: path.clone(),
        headers: headers.clone(),
        body: body.clone(),
    });
    if !headers
        .get("authorization")
        .is_some_and(|a| a.starts_with("Bot "))
    {
        return error(StatusCode::UNAUTHORIZED, 0, "401: Unauthorized");
    }
    let (route, query) = path.split_once('?').unwrap_or((&path, ""));
    let parts: Vec<&str> = route.trim_start_matches("/api/v10/").split('/').collect();
    match (&method, parts.as_slice()) {
        (&Method::GET, ["users", "@me"]) => ok(json!({
            "id": BOT_ID.to_string(), "username": "karabakh-reactions", "bot": true,
            "discriminator": "0000", "avatar": null
        })),
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
                    } => (
                        StatusCode::TOO_MANY_REQUESTS,
                        [
                            ("content-type", "application/json".to_owned()),
                            ("retry-after", retry_after.ceil().to_string()),
                        ],
                        json!({"message": "You are being rate limited.",
                               "retry_after": retry_after, "global": global})
                        .to_string(),
                    )
                        .into_response(),
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
            let Some(body) = body else {
                return error(
                    StatusCode::BAD_REQUEST,
                    50109,
                    "The request body contains invalid JSON.",
                );
            };
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
                "author": {"id": BOT_ID.to_string(), "username": "karabakh-reactions", "bot": true},
                "content": body.get("content").cloned().unwrap_or(json!("")),
                "embeds": body.get("embeds").cloned().unwrap_or(json!([])),
                "components": body.get("components").cloned().unwrap_or(json!([])),
                "timestamp": inner.now.to_string(),
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
