//! Discord's REST API: the one client the whole bot uses (the gateway, command
//! registration, and the daily posts through [`ChannelPoster`]), a check of the
//! token's shape before anything is sent, one call that proves the API can be reached
//! and accepts the token, and the two ways a failed call is reported: one sentence
//! ([`describe`]) or the scheduler's [`PostError`] ([`post_error`]).
//!
//! The client is serenity's [`Http`] on one reqwest client: one pair of timeouts
//! ([`CONNECT_TIMEOUT`], [`REQUEST_TIMEOUT`]), and serenity's User-Agent, which it sets
//! on every request. With Discord's own address serenity's rate limiter runs; with
//! any other base (a shared rate-limit proxy, a local Discord in tests) every request
//! goes there with the limiter off: serenity ignores a proxy while its limiter is on,
//! and limiting the rate is then the proxy's job.
//!
//! # What a 429 looks like through serenity 0.12.5
//!
//! - Limiter on (Discord itself): serenity waits a 429 out inside the call, for the
//!   `Retry-After` header, and sends the request again, whether the limit is a route's
//!   or (`X-RateLimit-Global`) the bot's. The caller sees a slower success, never the
//!   429; only a 429 without `Retry-After` comes back as an error.
//! - Limiter off (a proxy, the tests' fake Discord): the 429 comes back as
//!   `HttpError::UnsuccessfulRequest`. Its `ErrorResponse` keeps the status, the URL
//!   and Discord's JSON `code` and `message`, nothing else: the headers go with the
//!   response serenity consumes, and the body's `retry_after` and `global` are not
//!   among the fields it reads (`DiscordJsonError` has `code`, `message`, `errors`).
//!
//! So a 429 that reaches the scheduler says neither how long to wait nor which limit
//! it hit. [`post_error`] makes it a wait of [`DEFAULT_RETRY_AFTER`], and takes it for
//! the bot-wide limit: the rest of the tick waits too, rather than send more requests
//! that may each be refused (Discord bans an IP for a while after 10,000 refused
//! requests in 10 minutes). Reading `retry_after` would take a second HTTP client
//! beside serenity's, which is what this module replaced.
//!
//! No function here puts the token in a message or a log.

use std::num::NonZeroU64;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serenity::all::{ChannelId, CreateAllowedMentions, CurrentUser, HttpError, MessageId, UserId};
use serenity::http::{ErrorResponse, Http, HttpBuilder, LightMethod, Request, Route};
use tokio::sync::OnceCell;

use crate::discord::render;
use crate::operator::{DEFAULT_API_BASE, Secret};
use crate::scheduler::{PostError, Poster};
use karabakh_core::reply::Message;
use karabakh_core::schedule::{ChannelMessage, DEFAULT_RETRY_AFTER};

/// How long to wait for a TCP (and TLS) connection to the API.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long any one REST request may take, answer included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Checks that `token` looks like a bot token, as the Developer Portal shows it: three
/// parts separated by dots, in base64's letters, the first being the bot's user id in
/// base64. Says what is wrong without showing the token.
pub fn check_token_shape(token: &str) -> Result<(), String> {
    let refuse = |why: &str| {
        Err(format!(
            "DISCORD_TOKEN is not a bot token: {why} (copy the token again from the \
             Developer Portal, under Bot)"
        ))
    };
    if token.starts_with("Bot ") || token.starts_with("Bearer ") {
        return refuse("give the token alone, without the \"Bot \" prefix");
    }
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return refuse(&format!(
            "a bot token has three parts separated by dots, this one has {}",
            parts.len()
        ));
    }
    if parts.iter().any(|p| p.is_empty()) {
        return refuse("one of its three parts is empty");
    }
    let base64 = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '/' | '=');
    if !token.chars().all(|c| c == '.' || base64(c)) {
        return refuse("it holds characters a bot token never has");
    }
    match decode_base64(parts[0]) {
        Some(id) if (15..=21).contains(&id.len()) && id.iter().all(|b| b.is_ascii_digit()) => {
            Ok(())
        }
        _ => refuse("its first part is not a bot's id in base64"),
    }
}

/// Padding optional, and the unused bits of the last letter not checked.
const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);

/// Decodes base64 in the URL-safe or the standard alphabet, padding optional.
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    URL_SAFE.decode(s).or_else(|_| STANDARD.decode(s)).ok()
}

/// Whether requests go to another base than Discord itself: a shared rate-limit
/// proxy, or a local Discord in tests (which limit the rate, so serenity does not).
/// Discord is `https://discord.com`, however written (`https://Discord.com:443/`);
/// anything else, or what is not a URL, is not.
pub fn through_proxy(api_base: &str) -> bool {
    let own = url::Url::parse(DEFAULT_API_BASE).expect("Discord's address is a URL");
    match url::Url::parse(api_base) {
        Ok(base) => {
            base.origin() != own.origin()
                || base.path() != "/"
                || base.query().is_some()
                || !base.username().is_empty()
                || base.password().is_some()
        }
        Err(_) => true,
    }
}

/// The REST client for `api_base`: serenity's [`Http`] with the timeouts above. With
/// Discord's own address it keeps serenity's rate limiter; with any other base it
/// sends every request there with the limiter off (serenity ignores a proxy while its
/// limiter is on). Every message sent through serenity's builders silences mentions
/// unless it says otherwise.
pub fn client(api_base: &str, token: &Secret) -> Result<Http, String> {
    let reqwest = reqwest::Client::builder()
        .use_rustls_tls()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
    let builder = HttpBuilder::new(token.expose())
        .client(reqwest)
        .default_allowed_mentions(CreateAllowedMentions::new());
    let builder = if through_proxy(api_base) {
        builder.proxy(api_base).ratelimiter_disabled(true)
    } else {
        builder
    };
    Ok(builder.build())
}

/// `GET /users/@me`: the bot's own user, which proves both that the API answers and
/// that it accepts the token.
pub async fn check_login(http: &Http, api_base: &str) -> Result<CurrentUser, String> {
    http.get_current_user()
        .await
        .map_err(|e| describe(&e, api_base, "GET /api/v10/users/@me"))
}

/// One sentence for a failed REST call (`what`, e.g. `GET /api/v10/users/@me`) to
/// `api_base`: unreachable, token rejected, or what the API answered.
pub fn describe(e: &serenity::Error, api_base: &str, what: &str) -> String {
    match e {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) => {
            let status = r.status_code;
            if status.as_u16() == 401 {
                format!(
                    "Discord rejected the token ({status}): check DISCORD_TOKEN, or reset the \
                     token in the Developer Portal"
                )
            } else {
                let message = match discord_message(r) {
                    "" => String::new(),
                    m => format!(": {m}"),
                };
                format!("the Discord API at {api_base} answered {status} to {what}{message}")
            }
        }
        serenity::Error::Http(HttpError::Request(re)) => {
            let why = if re.is_timeout() && re.is_connect() {
                format!("no connection within {} s", CONNECT_TIMEOUT.as_secs())
            } else if re.is_timeout() {
                format!("no answer within {} s", REQUEST_TIMEOUT.as_secs())
            } else {
                root_cause(re)
            };
            format!("cannot reach the Discord API at {api_base}: {why}")
        }
        serenity::Error::Json(j) => format!(
            "the Discord API at {api_base} answered {what} with something that is not \
             Discord's JSON ({j})"
        ),
        other => format!("{what} to the Discord API at {api_base} failed: {other}"),
    }
}

/// Discord's `message` in an error answer, or "" when the answer was not Discord's
/// JSON (serenity puts a note of its own there then).
fn discord_message(r: &ErrorResponse) -> &str {
    let m = r.error.message.as_str();
    if m.starts_with("[Serenity]") { "" } else { m }
}

/// A failed REST call (`what`, to `api_base`) as the scheduler acts on it: 429 →
/// [`PostError::RateLimited`] (a wait of [`DEFAULT_RETRY_AFTER`], bot-wide: serenity
/// does not say how long or which limit, see the module's documentation), 401 →
/// [`PostError::Unauthorized`], 403 and 404 → [`PostError::Refused`] with Discord's
/// JSON code and message, 5xx, timeouts and connection failures →
/// [`PostError::Transient`], anything else → [`PostError::Other`].
pub fn post_error(e: &serenity::Error, api_base: &str, what: &str) -> PostError {
    match e {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) => match r.status_code.as_u16() {
            429 => PostError::RateLimited {
                retry_after: DEFAULT_RETRY_AFTER,
                global: true,
            },
            401 => PostError::Unauthorized,
            status @ (403 | 404) => PostError::Refused {
                status,
                code: u64::try_from(r.error.code).unwrap_or(0),
                message: discord_message(r).chars().take(200).collect(),
            },
            500..=599 => PostError::Transient(describe(e, api_base, what)),
            _ => PostError::Other(describe(e, api_base, what)),
        },
        serenity::Error::Http(HttpError::Request(re)) if !re.is_builder() => {
            PostError::Transient(describe(e, api_base, what))
        }
        serenity::Error::Io(_) => PostError::Transient(describe(e, api_base, what)),
        _ => PostError::Other(describe(e, api_base, what)),
    }
}

/// The innermost error of a chain: "Connection refused (os error 111)" rather than
/// reqwest's "error sending request for url (…)".
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// The daily posts' [`Poster`] on the one client: a channel message built by
/// [`render::channel_post`], a channel's recent messages (each read for the little the
/// scheduler needs), and the bot's own id (asked once, then kept).
pub struct ChannelPoster {
    http: Arc<Http>,
    api_base: String,
    me: OnceCell<u64>,
}

impl std::fmt::Debug for ChannelPoster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelPoster")
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

impl ChannelPoster {
    /// Posts through `http`, the client [`client`] made for `api_base` (named in errors).
    pub fn new(http: Arc<Http>, api_base: &str) -> Self {
        Self {
            http,
            api_base: api_base.to_owned(),
            me: OnceCell::new(),
        }
    }

    fn failed(&self, e: &serenity::Error, what: &str) -> PostError {
        post_error(e, &self.api_base, what)
    }
}

/// serenity's ids are never 0 (`ChannelId::new(0)` panics); no channel has that id.
fn channel(id: u64) -> Result<ChannelId, PostError> {
    NonZeroU64::new(id)
        .map(ChannelId::from)
        .ok_or_else(|| PostError::Other("the daily post's channel id is 0".to_owned()))
}

/// What the scheduler reads of a message in `GET /channels/{id}/messages`, read
/// message by message: a channel holds anyone's messages, and one that serenity
/// 0.12.5's `Message` cannot parse (an action row with a component type newer than
/// it, say) would fail the whole list, and with it the look for an earlier post.
#[derive(serde::Deserialize)]
struct Listed {
    id: MessageId,
    author: Author,
    timestamp: jiff::Timestamp,
    #[serde(default)]
    embeds: Vec<Titled>,
    #[serde(rename = "type", default)]
    kind: u8,
    /// A string or a number, when shown.
    #[serde(default)]
    nonce: Option<serde_json::Value>,
    #[serde(default)]
    interaction_metadata: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    interaction: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    webhook_id: Option<serde::de::IgnoredAny>,
}

#[derive(serde::Deserialize)]
struct Author {
    id: UserId,
}

#[derive(serde::Deserialize)]
struct Titled {
    title: Option<String>,
}

/// The parts of a channel's message the scheduler reads, if it has them.
fn channel_message(v: serde_json::Value) -> Option<ChannelMessage> {
    let m: Listed = serde_json::from_value(v).ok()?;
    let nonce = match m.nonce {
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    Some(ChannelMessage {
        id: m.id.get(),
        author_id: m.author.id.get(),
        timestamp: m.timestamp,
        embed_title: m.embeds.into_iter().next().and_then(|e| e.title),
        kind: m.kind,
        from_interaction: m.interaction_metadata.is_some()
            || m.interaction.is_some()
            || m.webhook_id.is_some(),
        nonce,
    })
}

impl Poster for ChannelPoster {
    async fn create_message(
        &self,
        channel_id: u64,
        message: &Message,
        nonce: &str,
    ) -> Result<u64, PostError> {
        channel(channel_id)?
            .send_message(self.http.as_ref(), render::channel_post(message, nonce))
            .await
            .map(|m| m.id.get())
            .map_err(|e| self.failed(&e, &format!("POST /api/v10/channels/{channel_id}/messages")))
    }

    async fn recent_messages(
        &self,
        channel_id: u64,
        limit: u8,
    ) -> Result<Vec<ChannelMessage>, PostError> {
        let limit = limit.clamp(1, 100);
        // `Http::get_messages` (what `ChannelId::messages` calls) parses every message
        // with serenity's `Message`; `fire` sends the same request and leaves the
        // parsing to `channel_message`.
        let route = Route::ChannelMessages {
            channel_id: channel(channel_id)?,
        };
        let request =
            Request::new(route, LightMethod::Get).params(Some(vec![("limit", limit.to_string())]));
        self.http
            .fire::<Vec<serde_json::Value>>(request)
            .await
            .map(|all| all.into_iter().filter_map(channel_message).collect())
            .map_err(|e| {
                self.failed(
                    &e,
                    &format!("GET /api/v10/channels/{channel_id}/messages?limit={limit}"),
                )
            })
    }

    async fn bot_user_id(&self) -> Result<u64, PostError> {
        self.me
            .get_or_try_init(|| async {
                self.http
                    .get_current_user()
                    .await
                    .map(|me| me.id.get())
                    .map_err(|e| self.failed(&e, "GET /api/v10/users/@me"))
            })
            .await
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// A token of the right shape for the id `1234567890123456789` (not a real one).
    const SHAPED: &str = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789_-";

    #[test]
    fn well_shaped_tokens_pass() {
        assert_eq!(check_token_shape(SHAPED), Ok(()));
        // Padding and the standard alphabet are accepted too.
        assert_eq!(
            check_token_shape("MTIzNDU2Nzg5MDEyMzQ1Njc4OQ==.GaBcDe.ab+/cd"),
            Ok(())
        );
    }

    #[test]
    fn malformed_tokens_are_refused_without_showing_them() {
        let secretish = "hunter2hunter2";
        for bad in [
            secretish.to_owned(),
            format!("{secretish}.{secretish}"),
            format!("{secretish}.{secretish}.{secretish}"),
            format!("Bot {SHAPED}"),
            format!("{SHAPED}.x"),
            "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ..abc".to_owned(),
            "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.Ga*cDe.abc".to_owned(),
            "aGVsbG8gd29ybGQ.GaBcDe.abc".to_owned(), // "hello world"
        ] {
            let e = check_token_shape(&bad).expect_err(&bad);
            assert!(e.starts_with("DISCORD_TOKEN is not a bot token: "), "{e}");
            assert!(!e.contains(secretish) && !e.contains("MTIz"), "{e}");
        }
    }

    #[test]
    fn base64_decodes_both_alphabets() {
        assert_eq!(decode_base64("aGVsbG8").unwrap(), b"hello");
        assert_eq!(decode_base64("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(
            decode_base64("-_-_").unwrap(),
            decode_base64("+/+/").unwrap()
        );
        assert_eq!(decode_base64("a*b"), None);
    }

    #[test]
    fn only_discord_itself_keeps_the_rate_limiter() {
        for discord in [
            DEFAULT_API_BASE,
            "https://discord.com/",
            "https://Discord.com:443/",
            "HTTPS://DISCORD.COM",
        ] {
            assert!(!through_proxy(discord), "{discord}");
        }
        for proxy in [
            "http://127.0.0.1:3000",
            "https://ratelimit-proxy.internal",
            "http://discord.com",
            "https://discord.com:8443",
            "https://discord.com.example.net",
            "https://discord.com/proxy",
            "not a url",
        ] {
            assert!(through_proxy(proxy), "{proxy}");
        }
    }

    /// A local Discord that answers `POST /api/v10/channels/{status}/messages` with
    /// that status, as Discord words it; the API base to reach it.
    async fn answering() -> String {
        use axum::extract::Path;
        use axum::http::StatusCode;
        use axum::response::IntoResponse;
        async fn answer(Path(status): Path<u16>) -> axum::response::Response {
            let body = match status {
                429 => json!({"message": "You are being rate limited.", "retry_after": 12.5,
                              "global": true, "code": 0}),
                401 => json!({"message": "401: Unauthorized", "code": 0}),
                403 => json!({"message": "Missing Permissions", "code": 50013}),
                404 => json!({"message": "Unknown Channel", "code": 10003}),
                400 => json!({"message": "Invalid Form Body", "code": 50035}),
                _ => Value::Null,
            };
            let mut response = (
                StatusCode::from_u16(status).unwrap(),
                [("content-type", "application/json")],
                if body.is_null() {
                    String::new()
                } else {
                    body.to_string()
                },
            )
                .into_response();
            if status == 429 {
                let headers = response.headers_mut();
                headers.insert("retry-after", "13".parse().unwrap());
                headers.insert("x-ratelimit-global", "true".parse().unwrap());
                headers.insert("x-ratelimit-scope", "global".parse().unwrap());
            }
            response
        }
        let app = axum::Router::new().route(
            "/api/v10/channels/{status}/messages",
            axum::routing::post(answer),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        base
    }

    fn poster(base: &str) -> ChannelPoster {
        let env = |k: &str| (k == "DISCORD_TOKEN").then(|| SHAPED.to_owned());
        let config = crate::operator::resolve(None, &env).unwrap();
        let http = client(base, config.secrets.token().unwrap()).unwrap();
        ChannelPoster::new(Arc::new(http), base)
    }

    #[tokio::test]
    async fn answers_are_classified() {
        let base = answering().await;
        let p = poster(&base);
        let core = karabakh_core::commands::Core::embedded().unwrap();
        let now = "2020-09-27T09:00:00Z".parse().unwrap();
        let page = karabakh_core::schedule::answer_for(&core, now_date(now), 1, now).page(1);
        let post = |status: u64| p.create_message(status, &page, "otd0");
        // Discord said 12.5 s (13 in Retry-After) and global: serenity hands neither on.
        assert_eq!(
            post(429).await,
            Err(PostError::RateLimited {
                retry_after: DEFAULT_RETRY_AFTER,
                global: true
            })
        );
        assert_eq!(post(401).await, Err(PostError::Unauthorized));
        assert_eq!(
            post(403).await,
            Err(PostError::Refused {
                status: 403,
                code: 50013,
                message: "Missing Permissions".into()
            })
        );
        assert_eq!(
            post(404).await,
            Err(PostError::Refused {
                status: 404,
                code: 10003,
                message: "Unknown Channel".into()
            })
        );
        let Err(PostError::Transient(why)) = post(502).await else {
            panic!("a 502 is transient");
        };
        assert_eq!(
            why,
            format!(
                "the Discord API at {base} answered 502 Bad Gateway to POST \
                 /api/v10/channels/502/messages"
            )
        );
        let Err(PostError::Other(why)) = post(400).await else {
            panic!("a 400 is not retried");
        };
        assert!(
            why.ends_with(
                "answered 400 Bad Request to POST /api/v10/channels/400/messages: Invalid Form Body"
            ),
            "{why}"
        );
        assert!(matches!(post(0).await, Err(PostError::Other(_))));
        // Nothing listens on port 1: the innermost cause, not reqwest's wrapper.
        let Err(PostError::Transient(why)) = poster("http://127.0.0.1:1").bot_user_id().await
        else {
            panic!("no connection is transient");
        };
        assert!(
            why.starts_with("cannot reach the Discord API at http://127.0.0.1:1: "),
            "{why}"
        );
        assert!(!why.contains("error sending request"), "{why}");
    }

    fn now_date(now: jiff::Timestamp) -> jiff::civil::Date {
        now.to_zoned_datetime(jiff::tz::TimeZone::UTC).date()
    }

    /// What serenity 0.12.5 keeps of a 429 when its rate limiter is off: the status and
    /// Discord's code and message. Should a later serenity keep `retry_after` (here
    /// 12.5 s, 13 in `Retry-After`) or the global flag, this fails: read them then.
    #[tokio::test]
    async fn serenity_keeps_no_retry_after_of_a_429() {
        let base = answering().await;
        let p = poster(&base);
        let e = p
            .http
            .send_message(ChannelId::new(429), Vec::new(), &json!({"content": "x"}))
            .await
            .unwrap_err();
        let serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) = &e else {
            panic!("{e:?}");
        };
        assert_eq!(r.status_code.as_u16(), 429);
        assert_eq!(
            (r.error.code, r.error.message.as_str()),
            (0, "You are being rate limited.")
        );
        let kept = format!("{:?}", r.error);
        for lost in ["12.5", "13", "retry", "global"] {
            assert!(!kept.contains(lost), "{lost} in {kept}");
        }
        let everything = format!("{e:?}");
        for lost in ["12.5", "retry", "global"] {
            assert!(!everything.contains(lost), "{lost} in {everything}");
        }
    }

    #[test]
    fn channel_messages_are_read_with_their_ids_as_strings() {
        let message = json!({
            "id": "1300000000000000000",
            "channel_id": "55",
            "author": {"id": "42", "username": "karabakh-reactions", "discriminator": "0000",
                       "avatar": null, "bot": true},
            "content": "",
            "timestamp": "2024-09-27T08:00:01.123000+00:00",
            "edited_timestamp": null,
            "tts": false,
            "mention_everyone": false,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [{"title": "On this day: 27 September"}],
            "pinned": false,
            "type": 0
        });
        let m = channel_message(message.clone()).unwrap();
        assert_eq!(m.id, 1_300_000_000_000_000_000);
        assert_eq!(m.author_id, 42);
        assert_eq!(m.timestamp, "2024-09-27T08:00:01.123Z".parse().unwrap());
        assert_eq!(m.embed_title.as_deref(), Some("On this day: 27 September"));
        assert_eq!((m.kind, m.from_interaction, m.nonce), (0, false, None));
        // A reply to a slash command, as Discord lists it; a nonce as a number.
        let mut reply = message.clone();
        reply["type"] = json!(20);
        reply["interaction_metadata"] = json!({"id": "9", "type": 2, "user": {"id": "7"}});
        reply["nonce"] = json!(1234);
        let r = channel_message(reply).unwrap();
        assert_eq!(
            (r.kind, r.from_interaction, r.nonce.as_deref()),
            (20, true, Some("1234"))
        );
        let mut hooked = message.clone();
        hooked["webhook_id"] = json!("8");
        hooked["nonce"] = json!("otd0123");
        let h = channel_message(hooked).unwrap();
        assert!(h.from_interaction);
        assert_eq!(h.nonce.as_deref(), Some("otd0123"));
        // A component serenity 0.12.5 does not know fails its `Message`, not this.
        let mut newer = message;
        newer["components"] = json!([{"type": 1, "components": [{"type": 99}]}]);
        assert!(serde_json::from_value::<serenity::all::Message>(newer.clone()).is_err());
        assert_eq!(channel_message(newer).unwrap().author_id, 42);
        assert!(channel_message(json!({"id": "1"})).is_none());
    }

    #[test]
    fn the_token_is_not_in_the_debug_output() {
        let p = poster("http://127.0.0.1:1");
        assert!(!format!("{p:?}").contains(SHAPED));
        assert!(!format!("{:?}", p.http).contains(SHAPED));
    }
}
