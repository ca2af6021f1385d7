//! Discord failing under the bot's answers: the interaction callback
//! (`POST /interactions/{id}/{token}/callback`) answering 5xx, 429, nothing in time,
//! or refusing for good, from a local Discord on loopback that follows a script.
//! Failures that may pass are tried again within Discord's 3 s window; the rest are
//! not, and the caller logs them.

mod support;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use karabakh_reactions::discord::gateway::{ANSWER_WINDOW, send_answer};
use karabakh_reactions::discord::rest;
use serde_json::json;
use serenity::all::InteractionId;

/// What the local Discord does with the next callback.
#[derive(Debug, Clone, Copy)]
enum Next {
    Status(u16),
    /// 400 with code 40060: the interaction was already answered.
    AlreadyAcknowledged,
    /// Never answers (the bot gives up on the attempt).
    Hang,
    Accept,
}

#[derive(Default)]
struct Fake {
    script: Mutex<VecDeque<Next>>,
    calls: Mutex<Vec<(String, Instant)>>,
}

async fn callback(
    State(fake): State<Arc<Fake>>,
    Path((id, token)): Path<(String, String)>,
) -> Response {
    fake.calls
        .lock()
        .unwrap()
        .push((format!("{id}/{token}"), Instant::now()));
    let next = fake
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(Next::Accept);
    let error = |status: u16, code: u32, message: &str| {
        (
            StatusCode::from_u16(status).unwrap(),
            [("content-type", "application/json")],
            json!({"message": message, "code": code}).to_string(),
        )
            .into_response()
    };
    match next {
        Next::Accept => StatusCode::NO_CONTENT.into_response(),
        Next::Hang => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            StatusCode::NO_CONTENT.into_response()
        }
        Next::AlreadyAcknowledged => {
            error(400, 40060, "Interaction has already been acknowledged.")
        }
        Next::Status(429) => {
            let mut r = error(429, 0, "You are being rate limited.");
            r.headers_mut().insert("retry-after", "0".parse().unwrap());
            r
        }
        Next::Status(status) if status >= 500 => {
            (StatusCode::from_u16(status).unwrap(), "").into_response()
        }
        Next::Status(status) => error(status, 10062, "Unknown interaction"),
    }
}

async fn discord(script: &[Next]) -> (Arc<Fake>, serenity::http::Http) {
    let fake = Arc::new(Fake::default());
    fake.script.lock().unwrap().extend(script.iter().copied());
    let app = axum::Router::new()
        .route(
            "/api/v10/interactions/{id}/{token}/callback",
            axum::routing::post(callback),
        )
        .with_state(Arc::clone(&fake));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let env = |k: &str| {
        (k == "DISCORD_TOKEN")
            .then(|| "MTEwMDAwMDAwMDAwMDAwMDAwMA.Gabcde.fake-token-for-the-tests".to_owned())
    };
    let config = karabakh_reactions::operator::resolve(None, &env).unwrap();
    let http = rest::client(&base, config.secrets.token().unwrap()).unwrap();
    (fake, http)
}

async fn answer(script: &[Next]) -> (Result<(), String>, Vec<(String, Instant)>, Duration) {
    let (fake, http) = discord(script).await;
    let reply = support::core().respond(&support::command("/about")).reply;
    let received = Instant::now();
    let sent = send_answer(
        &http,
        InteractionId::new(1100000000000000900),
        "interaction-token",
        &reply,
        None,
        received,
    )
    .await;
    let took = received.elapsed();
    let calls = fake.calls.lock().unwrap().clone();
    (sent, calls, took)
}

#[tokio::test]
async fn a_callback_that_succeeds_is_sent_once() {
    let (sent, calls, _) = answer(&[Next::Accept]).await;
    assert_eq!(sent, Ok(()));
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].0, "1100000000000000900/interaction-token");
}

#[tokio::test]
async fn server_errors_and_429_are_tried_again_within_the_window() {
    let (sent, calls, took) = answer(&[
        Next::Status(502),
        Next::Status(429),
        Next::Status(500),
        Next::Accept,
    ])
    .await;
    assert_eq!(sent, Ok(()), "{calls:?}");
    assert_eq!(calls.len(), 4);
    assert!(took < ANSWER_WINDOW, "{took:?}");
}

#[tokio::test]
async fn a_hung_callback_is_given_up_and_tried_again_in_time() {
    let (sent, calls, took) = answer(&[Next::Hang, Next::Accept]).await;
    assert_eq!(sent, Ok(()));
    assert_eq!(calls.len(), 2);
    assert!(took < ANSWER_WINDOW, "{took:?}");
}

/// An attempt that timed out on the bot's side may have reached Discord: the next one
/// is then refused as already acknowledged, which means the answer was delivered.
#[tokio::test]
async fn already_acknowledged_after_a_retry_counts_as_sent() {
    let (sent, calls, _) = answer(&[Next::Status(503), Next::AlreadyAcknowledged]).await;
    assert_eq!(sent, Ok(()));
    assert_eq!(calls.len(), 2);
}

/// Discord failing for the whole window: the attempts stop inside it, and the error
/// says how many there were.
#[tokio::test]
async fn a_callback_failing_throughout_stops_inside_the_window() {
    let (sent, calls, took) = answer(&[Next::Status(503); 40]).await;
    let error = sent.unwrap_err();
    assert!(error.contains("attempt"), "{error}");
    assert!(calls.len() >= 3, "{calls:?}");
    assert!(
        took <= ANSWER_WINDOW + Duration::from_millis(500),
        "{took:?}"
    );
    let (sent, calls, took) = answer(&[Next::Hang; 5]).await;
    assert!(sent.is_err());
    assert!((2..=3).contains(&calls.len()), "{calls:?}");
    assert!(
        took <= ANSWER_WINDOW + Duration::from_millis(500),
        "{took:?}"
    );
}

/// A refusal that will not pass (an unknown or expired interaction) is not retried.
#[tokio::test]
async fn a_refusal_is_not_retried() {
    let (sent, calls, _) = answer(&[Next::Status(404), Next::Accept]).await;
    assert!(sent.unwrap_err().contains("attempt 1"));
    assert_eq!(calls.len(), 1);
}
