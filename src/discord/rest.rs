//! Discord's REST API as the gateway and `register` use it: the client (straight to
//! Discord with serenity's rate limiter, or through a proxy without it), a check of
//! the token's shape before anything is sent, and one call that proves the API can be
//! reached and accepts the token, so that a bad setup stops with one sentence instead
//! of a loop of retries.
//!
//! No function here puts the token in a message or a log.

use std::time::Duration;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serenity::all::{CreateAllowedMentions, CurrentUser, HttpError};
use serenity::http::{Http, HttpBuilder};

use crate::operator::{DEFAULT_API_BASE, Secret};

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

/// The REST client for `api_base`. With Discord's own address it keeps serenity's rate
/// limiter; with any other base it sends every request there with the limiter off
/// (serenity ignores a proxy while its limiter is on). Every message it sends
/// silences mentions unless the message says otherwise.
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
                // serenity puts its own note there when the answer was not Discord's JSON.
                let message =
                    if r.error.message.is_empty() || r.error.message.starts_with("[Serenity]") {
                        String::new()
                    } else {
                        format!(": {}", r.error.message)
                    };
                format!("the Discord API at {api_base} answered {status} to {what}{message}")
            }
        }
        serenity::Error::Http(HttpError::Request(re)) => {
            let why = if re.is_timeout() {
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

/// The innermost error of a chain: "Connection refused (os error 111)" rather than
/// reqwest's "error sending request for url (…)".
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
