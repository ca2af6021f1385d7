//! The few REST calls the daily posts need, on a small reqwest client: create a
//! message in a channel (with a nonce and `enforce_nonce`), read a channel's recent
//! messages, and read the bot's own user. Every failure is classified into a
//! [`PostError`] the scheduler acts on. Works against Discord or any other API base
//! (a rate-limit proxy, a local Discord in tests), so posts go out whether the bot
//! runs on the gateway or as an HTTP endpoint.
//!
//! Rate limits: the scheduler sends a handful of posts at a time, one after another,
//! and waits as a 429 says; it does not track Discord's buckets ahead of time.
//!
//! The token goes in one header and nowhere else: not in a log, not in an error.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::discord::render;
use crate::operator::Secret;
use karabakh_core::reply::Message;
use karabakh_core::schedule::{ChannelMessage, DEFAULT_RETRY_AFTER};

use crate::scheduler::{PostError, Poster};

/// How long any one request may take, answer included.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Posts through Discord's REST API at a base URL.
pub struct RestPoster {
    client: reqwest::Client,
    /// `{api_base}/api/v10`.
    base: String,
    auth: HeaderValue,
    me: OnceCell<u64>,
}

impl std::fmt::Debug for RestPoster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestPoster")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl RestPoster {
    /// A client for `api_base` (scheme and host, e.g. `https://discord.com`).
    pub fn new(api_base: &str, token: &Secret) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(TIMEOUT)
            .timeout(TIMEOUT)
            .user_agent(concat!(
                "DiscordBot (karabakh-reactions, ",
                env!("CARGO_PKG_VERSION"),
                ")"
            ))
            .build()
            .map_err(|e| format!("cannot set up the HTTP client for the daily posts: {e}"))?;
        let mut auth = HeaderValue::from_str(&format!("Bot {}", token.expose()))
            .map_err(|_| "DISCORD_TOKEN holds characters an HTTP header cannot carry".to_owned())?;
        auth.set_sensitive(true);
        Ok(Self {
            client,
            base: format!("{}/api/v10", api_base.trim_end_matches('/')),
            auth,
            me: OnceCell::new(),
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, PostError> {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base))
            .header(AUTHORIZATION, self.auth.clone());
        if let Some(body) = body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(body).map_err(|e| PostError::Other(e.to_string()))?);
        }
        let what = format!("{method} /api/v10{path}");
        let response = request
            .send()
            .await
            .map_err(|e| PostError::Transient(format!("{what}: {}", network(&e))))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok());
        let scope_global = response
            .headers()
            .get("x-ratelimit-global")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
        let bytes = response
            .bytes()
            .await
            .map_err(|e| PostError::Transient(format!("{what}: {}", network(&e))))?;
        let json: Option<Value> = serde_json::from_slice(&bytes).ok();
        if status.is_success() {
            return json.ok_or_else(|| {
                PostError::Other(format!("{what}: the answer ({status}) is not JSON"))
            });
        }
        Err(classify(
            status,
            json.as_ref(),
            retry_after,
            scope_global,
            &what,
        ))
    }
}

/// A failed answer as a [`PostError`].
fn classify(
    status: StatusCode,
    json: Option<&Value>,
    retry_after_header: Option<f64>,
    global_header: bool,
    what: &str,
) -> PostError {
    let field = |k: &str| json.and_then(|j| j.get(k));
    let code = field("code").and_then(Value::as_u64).unwrap_or(0);
    let message = field("message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .chars()
        .take(200)
        .collect::<String>();
    match status.as_u16() {
        429 => {
            let seconds = field("retry_after")
                .and_then(Value::as_f64)
                .or(retry_after_header)
                .filter(|s| s.is_finite() && *s >= 0.0);
            PostError::RateLimited {
                retry_after: seconds
                    .map(|s| Duration::from_secs_f64(s.min(86_400.0)))
                    .unwrap_or(DEFAULT_RETRY_AFTER),
                global: global_header || field("global").and_then(Value::as_bool) == Some(true),
            }
        }
        401 => PostError::Unauthorized,
        403 | 404 => PostError::Refused {
            status: status.as_u16(),
            code,
            message,
        },
        500..=599 => PostError::Transient(format!("{what}: Discord answered {status}")),
        _ => PostError::Other(format!(
            "{what}: Discord answered {status}: {message} (code {code})"
        )),
    }
}

/// The innermost cause of a network error, or "timed out".
fn network(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return format!("no answer within {} s", TIMEOUT.as_secs());
    }
    let mut cause: &(dyn std::error::Error + 'static) = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

fn snowflake(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// One message of `GET /channels/{id}/messages`, if it has what the scheduler reads.
fn channel_message(v: &Value) -> Option<ChannelMessage> {
    Some(ChannelMessage {
        id: snowflake(v.get("id"))?,
        author_id: snowflake(v.get("author").and_then(|a| a.get("id")))?,
        timestamp: v.get("timestamp")?.as_str()?.parse().ok()?,
        embed_title: v
            .get("embeds")
            .and_then(Value::as_array)
            .and_then(|e| e.first())
            .and_then(|e| e.get("title"))
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

impl Poster for RestPoster {
    async fn create_message(
        &self,
        channel_id: u64,
        message: &Message,
        nonce: &str,
    ) -> Result<u64, PostError> {
        let body = render::channel_message(message, nonce);
        let answer = self
            .call(
                reqwest::Method::POST,
                &format!("/channels/{channel_id}/messages"),
                Some(&body),
            )
            .await?;
        snowflake(answer.get("id")).ok_or_else(|| {
            PostError::Other("the created message came back without an id".to_owned())
        })
    }

    async fn recent_messages(
        &self,
        channel_id: u64,
        limit: u8,
    ) -> Result<Vec<ChannelMessage>, PostError> {
        let answer = self
            .call(
                reqwest::Method::GET,
                &format!(
                    "/channels/{channel_id}/messages?limit={}",
                    limit.clamp(1, 100)
                ),
                None,
            )
            .await?;
        Ok(answer
            .as_array()
            .map(|all| all.iter().filter_map(channel_message).collect())
            .unwrap_or_default())
    }

    async fn bot_user_id(&self) -> Result<u64, PostError> {
        self.me
            .get_or_try_init(|| async {
                let me = self.call(reqwest::Method::GET, "/users/@me", None).await?;
                snowflake(me.get("id")).ok_or_else(|| {
                    PostError::Other("GET /users/@me answered without an id".to_owned())
                })
            })
            .await
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_are_classified() {
        let c = |status: u16, body: Value, header: Option<f64>| {
            classify(
                StatusCode::from_u16(status).unwrap(),
                Some(&body),
                header,
                false,
                "POST /x",
            )
        };
        assert_eq!(
            c(429, json!({"retry_after": 1.5, "global": false}), Some(9.0)),
            PostError::RateLimited {
                retry_after: Duration::from_millis(1500),
                global: false
            }
        );
        assert_eq!(
            c(429, json!({}), Some(3.0)),
            PostError::RateLimited {
                retry_after: Duration::from_secs(3),
                global: false
            }
        );
        assert!(matches!(
            c(429, json!({"retry_after": 2, "global": true}), None),
            PostError::RateLimited { global: true, .. }
        ));
        assert_eq!(c(401, json!({}), None), PostError::Unauthorized);
        assert_eq!(
            c(
                403,
                json!({"message": "Missing Permissions", "code": 50013}),
                None
            ),
            PostError::Refused {
                status: 403,
                code: 50013,
                message: "Missing Permissions".into()
            }
        );
        assert!(matches!(
            c(404, json!({}), None),
            PostError::Refused { status: 404, .. }
        ));
        assert!(matches!(c(502, json!({}), None), PostError::Transient(_)));
        assert!(matches!(c(400, json!({}), None), PostError::Other(_)));
    }

    #[test]
    fn channel_messages_are_read_with_their_ids_as_strings() {
        let m = channel_message(&json!({
            "id": "1300000000000000000",
            "author": {"id": "42"},
            "timestamp": "2024-09-27T08:00:01.123000+00:00",
            "embeds": [{"title": "On this day: 27 September"}]
        }))
        .unwrap();
        assert_eq!(m.id, 1_300_000_000_000_000_000);
        assert_eq!(m.author_id, 42);
        assert_eq!(m.timestamp, "2024-09-27T08:00:01.123Z".parse().unwrap());
        assert_eq!(m.embed_title.as_deref(), Some("On this day: 27 September"));
        assert!(channel_message(&json!({"id": "1"})).is_none());
    }

    #[test]
    fn the_token_is_not_in_the_debug_output() {
        let env = |k: &str| (k == "DISCORD_TOKEN").then(|| "abc.def.ghi".to_owned());
        let config = crate::operator::resolve(None, &env).unwrap();
        let p = RestPoster::new("http://127.0.0.1:1", config.secrets.token().unwrap()).unwrap();
        assert!(!format!("{p:?}").contains("abc.def.ghi"));
    }
}
