//! The HTTP interactions endpoint (`serve`): requests signed with a key pair of the
//! tests' own, on Discord's payload shapes (tests/fixtures/interactions). Most drive
//! the app without a socket (`oneshot`); one goes over a loopback socket, and two run
//! the real binary.

mod support;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use ed25519_dalek::{Signer, SigningKey};
use http_body_util::BodyExt;
use jiff::Timestamp;
use karabakh_core::commands::COMMANDS;
use karabakh_reactions::admin::{self, Admin};
use karabakh_reactions::discord::endpoint::{self, Endpoint, MAX_BODY};
use karabakh_reactions::discord::{interaction, render};
use karabakh_reactions::metrics::MetricSet;
use karabakh_reactions::service::Service;
use karabakh_reactions::startup;
use karabakh_store::{SqliteStore, Store};
use serde_json::{Value as Json, json};
use support::payload::{self, fixture};
use support::{binary_in, now};
use tower::ServiceExt;

/// The tests' application key (fixed, so runs are alike).
fn key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

fn public_hex() -> String {
    hex::encode(key().verifying_key().to_bytes())
}

/// An endpoint on the embedded dataset, a fresh settings database and a fixed clock.
struct Fixture {
    endpoint: Arc<Endpoint>,
    service: Service,
    _dir: tempfile::TempDir,
}

fn endpoint_fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(dir.path().join("settings.sqlite3")).unwrap());
    let service = Service::new(Arc::new(support::core_with_site(None)), Some(store));
    let endpoint = Endpoint::with_clock(
        service.clone(),
        endpoint::verifier(&public_hex()).unwrap(),
        Arc::new(now),
    );
    Fixture {
        endpoint: Arc::new(endpoint),
        service,
        _dir: dir,
    }
}

/// `X-Signature-Ed25519` for `body` sent at `timestamp`, signed with `key`.
fn sign_with(key: &SigningKey, timestamp: &str, body: &[u8]) -> String {
    let mut message = timestamp.as_bytes().to_vec();
    message.extend_from_slice(body);
    hex::encode(key.sign(&message).to_bytes())
}

/// A POST to the interactions path, signed now.
fn signed(body: &[u8]) -> Request<Body> {
    signed_at(body, now().as_second())
}

fn signed_at(body: &[u8], seconds: i64) -> Request<Body> {
    let ts = seconds.to_string();
    post(body, Some(&sign_with(&key(), &ts, body)), Some(&ts))
}

fn post(body: &[u8], signature: Option<&str>, timestamp: Option<&str>) -> Request<Body> {
    let mut r = Request::post(endpoint::PATH).header(header::CONTENT_TYPE, "application/json");
    if let Some(s) = signature {
        r = r.header("X-Signature-Ed25519", s);
    }
    if let Some(t) = timestamp {
        r = r.header("X-Signature-Timestamp", t);
    }
    r.body(Body::from(body.to_vec())).unwrap()
}

async fn send(f: &Fixture, request: Request<Body>) -> Response<Body> {
    endpoint::app(Arc::clone(&f.endpoint))
        .oneshot(request)
        .await
        .unwrap()
}

async fn text(response: Response<Body>) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Sends a signed interaction; expects 200 with JSON, or a multipart body with a
/// chart (see [`Multipart`]), and returns the JSON (the `payload_json` part).
async fn answer(f: &Fixture, interaction: &Json) -> Json {
    let body = serde_json::to_vec(interaction).unwrap();
    let response = send(f, signed(&body)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    if content_type == "application/json" {
        return serde_json::from_slice(&bytes).unwrap();
    }
    let multipart = Multipart::parse(&content_type, &bytes);
    multipart.check_discords_shape()
}

/// One part of a `multipart/form-data` body: its headers (names lower-cased) and
/// its bytes.
#[derive(Debug)]
struct Part {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Part {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// A parameter of `Content-Disposition` (`name`, `filename`), unquoted.
    fn disposition(&self, param: &str) -> Option<String> {
        let d = self.header("content-disposition")?;
        let mut fields = d.split(';').map(str::trim);
        assert_eq!(fields.next(), Some("form-data"), "{d}");
        fields.find_map(|f| {
            let (k, v) = f.split_once('=')?;
            (k == param).then(|| v.trim_matches('"').to_owned())
        })
    }
}

/// A `multipart/form-data` body read as RFC 7578 (and RFC 2046) say: the boundary
/// from the content type, parts between `--boundary` lines, headers up to an empty
/// line, the closing `--boundary--`. Written here, apart from the bot's writer.
#[derive(Debug)]
struct Multipart {
    parts: Vec<Part>,
}

impl Multipart {
    fn parse(content_type: &str, body: &[u8]) -> Multipart {
        let (kind, params) = content_type.split_once(';').expect("a boundary parameter");
        assert_eq!(kind.trim(), "multipart/form-data");
        let boundary = params
            .split(';')
            .find_map(|p| p.trim().strip_prefix("boundary="))
            .expect("boundary=")
            .trim_matches('"');
        assert!(
            (1..=70).contains(&boundary.len()),
            "RFC 2046: 1 to 70 characters"
        );
        let delimiter = format!("--{boundary}").into_bytes();
        let find = |hay: &[u8], from: usize| {
            hay[from..]
                .windows(delimiter.len())
                .position(|w| w == delimiter.as_slice())
                .map(|i| i + from)
        };
        let mut at = find(body, 0).expect("a first boundary");
        assert_eq!(at, 0, "nothing before the first boundary");
        let mut parts = Vec::new();
        loop {
            at += delimiter.len();
            if body[at..].starts_with(b"--") {
                assert_eq!(&body[at + 2..], b"\r\n", "the body ends after the close");
                break;
            }
            assert!(body[at..].starts_with(b"\r\n"), "CRLF after a boundary");
            at += 2;
            let next = find(body, at).expect("a closing boundary");
            let part = &body[at..next];
            let part = part.strip_suffix(b"\r\n").expect("CRLF before a boundary");
            let split = part
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .expect("headers end with an empty line");
            let headers = std::str::from_utf8(&part[..split])
                .unwrap()
                .split("\r\n")
                .map(|l| {
                    let (n, v) = l.split_once(':').expect("a header");
                    (n.trim().to_ascii_lowercase(), v.trim().to_owned())
                })
                .collect();
            parts.push(Part {
                headers,
                body: part[split + 4..].to_vec(),
            });
            at = next;
        }
        Multipart { parts }
    }

    fn part(&self, name: &str) -> Option<&Part> {
        self.parts
            .iter()
            .find(|p| p.disposition("name").as_deref() == Some(name))
    }

    /// Checks the body is what Discord documents for an interaction response with a
    /// file (a `payload_json` part with the response, `data.attachments` naming
    /// `files[0]`, the embed's image pointing at it) and returns the response.
    fn check_discords_shape(&self) -> Json {
        assert_eq!(self.parts.len(), 2, "payload_json and one file");
        let payload = self.part("payload_json").expect("a payload_json part");
        assert_eq!(payload.header("content-type"), Some("application/json"));
        assert_eq!(payload.disposition("filename"), None);
        let json: Json = serde_json::from_slice(&payload.body).expect("JSON");
        let file = self.part("files[0]").expect("a files[0] part");
        assert_eq!(file.header("content-type"), Some("image/png"));
        let filename = file.disposition("filename").expect("a file name");
        assert!(file.body.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
        let attachments = json["data"]["attachments"].as_array().expect("attachments");
        assert_eq!(attachments.len(), 1);
        assert_eq!(attachments[0]["id"], 0);
        assert_eq!(attachments[0]["filename"], filename.as_str());
        let description = attachments[0]["description"].as_str().unwrap();
        assert!((1..=1024).contains(&description.chars().count()));
        let embed = &json["data"]["embeds"][0];
        assert_eq!(embed["image"]["url"], format!("attachment://{filename}"));
        // The text alternative is in the embed too.
        let fields = embed["fields"].as_array().unwrap();
        assert!(
            fields
                .iter()
                .any(|f| f["name"] == "Chart" && f["value"] == description),
            "{embed}"
        );
        json
    }
}

/// The admin view `serve` starts: the service's checks and the endpoint's metrics.
fn admin_view(f: &Fixture) -> Arc<Admin> {
    let metrics: Arc<dyn MetricSet> = Arc::clone(f.endpoint.metrics()) as Arc<dyn MetricSet>;
    Arc::new(startup::admin("serve", &f.service).metrics(metrics))
}

/// `GET /metrics` on the admin address.
async fn metrics(f: &Fixture) -> String {
    let response = admin::router(admin_view(f))
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    text(response).await
}

/// The value of one series in the metrics text (0 if absent).
fn series(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .map_or(0, |v| v.parse().unwrap())
}

#[tokio::test]
async fn every_command_of_the_table_is_answered_as_the_service_answers_it() {
    let f = endpoint_fixture();
    for spec in COMMANDS {
        let payload = payload::from_line(spec.example);
        let body = answer(&f, &payload).await;
        assert_eq!(body["type"], 4, "{}: {body}", spec.example);
        let title = body["data"]["embeds"][0]["title"].as_str().unwrap_or("");
        assert!(!title.is_empty(), "{}: {body}", spec.example);
        assert_eq!(
            body["data"]["allowed_mentions"]["parse"],
            json!([]),
            "{}",
            spec.example
        );
        // The same answer the gateway gives for the same interaction (on a database of
        // its own: `/config onthisday` changes the settings it is answered from).
        let interaction = serde_json::from_value(payload).unwrap();
        let request = interaction::request(&interaction, now()).unwrap();
        let expected = endpoint_fixture().service.handle(request).await;
        let expected: Json = serde_json::from_str(&render::body(&expected.reply)).unwrap();
        assert_eq!(body, expected, "{}", spec.example);
    }
    // `/config onthisday` went through the endpoint's write path: the change is saved.
    let store = f.service.store.as_ref().unwrap();
    let saved = store
        .guild_settings(1_100_000_000_000_000_100)
        .await
        .unwrap();
    assert_eq!(
        saved.onthisday.map(|o| o.channel_id),
        Some(1_100_000_000_000_000_200)
    );
    let m = metrics(&f).await;
    for spec in COMMANDS {
        let name = format!(
            "kr_interactions_total{{command=\"{}\",kind=\"command\",outcome=\"ok\"}}",
            spec.name
        );
        assert_eq!(series(&m, &name), 1, "{name}\n{m}");
    }
    assert_eq!(
        series(&m, "kr_request_duration_seconds_count"),
        COMMANDS.len() as u64
    );
}

#[tokio::test]
async fn a_command_in_a_dm_is_answered_without_a_server() {
    let f = endpoint_fixture();
    let body = answer(&f, &fixture("command-dm.json")).await;
    assert_eq!(body["type"], 4);
    assert!(
        body["data"]["embeds"][0]["title"]
            .as_str()
            .unwrap()
            .contains("2020"),
        "{body}"
    );
}

/// A payload carrying more than the bot registers (Discord's client would not send
/// it; anyone with the URL can): a 5,000-character `/search` query is answered with a
/// private "Too long" that keeps its advice, and is not echoed.
#[tokio::test]
async fn an_option_longer_than_registered_gets_a_private_polite_answer() {
    let f = endpoint_fixture();
    let query = "drone ".repeat(834)[..5000].to_owned();
    let mut interaction = fixture("command-guild.json");
    interaction["data"]["name"] = json!("search");
    interaction["data"]["options"] = json!([{"name": "query", "type": 3, "value": query}]);
    let body = answer(&f, &interaction).await;
    assert_eq!(body["type"], 4);
    assert_eq!(body["data"]["flags"], 64, "private: {body}");
    let embed = &body["data"]["embeds"][0];
    assert_eq!(embed["title"], "Too long");
    let description = embed["description"].as_str().unwrap();
    assert!(description.contains("5,000 characters") && description.contains("at most 80"));
    assert!(
        description.contains("For example: /search"),
        "{description}"
    );
    assert!(!description.contains("drone drone"));
}

#[tokio::test]
async fn autocomplete_suggests_turkey_for_tur() {
    let f = endpoint_fixture();
    let body = answer(&f, &fixture("autocomplete.json")).await;
    assert_eq!(body["type"], 8, "{body}");
    let choices = body["data"]["choices"].as_array().unwrap();
    assert_eq!(choices[0]["value"], "Turkey", "{body}");
    let m = metrics(&f).await;
    assert_eq!(
        series(
            &m,
            "kr_interactions_total{command=\"reaction\",kind=\"autocomplete\",outcome=\"ok\"}"
        ),
        1,
        "{m}"
    );
}

#[tokio::test]
async fn a_page_button_updates_the_message() {
    let f = endpoint_fixture();
    let body = answer(&f, &fixture("button.json")).await;
    assert_eq!(body["type"], 7, "{body}");
    assert!(
        body["data"]["embeds"][0]["footer"]["text"]
            .as_str()
            .unwrap()
            .contains('2'),
        "{body}"
    );
    let m = metrics(&f).await;
    assert_eq!(
        series(
            &m,
            "kr_interactions_total{command=\"reaction\",kind=\"button\",outcome=\"ok\"}"
        ),
        1,
        "{m}"
    );
}

/// Sends a signed interaction; returns the status, the content type and the body.
async fn raw(f: &Fixture, interaction: &Json) -> (StatusCode, String, Vec<u8>) {
    let body = serde_json::to_vec(interaction).unwrap();
    let response = send(f, signed(&body)).await;
    let status = response.status();
    let content_type = response.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, content_type, bytes.to_vec())
}

/// A page button of the fixture's server, clicked on page `page` of `argument`'s
/// answer to `command`.
fn page_button(command: &str, argument: &str, page: usize) -> Json {
    let mut p = fixture("button.json");
    p["data"]["custom_id"] = json!(format!("page:{command}:{argument}:{page}"));
    p
}

#[tokio::test]
async fn a_reply_with_a_chart_is_multipart_form_data_as_discord_documents() {
    let f = endpoint_fixture();
    for (line, filename) in [
        ("/timeline 2020-10", "timeline.png"),
        ("/timeline date:2020-10-16 to:2020-10-18", "timeline.png"),
        ("/timeline 2020", "timeline.png"),
        ("/reaction Turkey", "strip.png"),
        ("/about", "coverage.png"),
    ] {
        let (status, content_type, bytes) = raw(&f, &payload::from_line(line)).await;
        assert_eq!(status, StatusCode::OK, "{line}");
        assert!(
            content_type.starts_with("multipart/form-data; boundary="),
            "{line}: {content_type}"
        );
        // Discord fails files somewhere above 82 KB in an HTTP response.
        assert!(bytes.len() < 80 * 1024, "{line}: {} bytes", bytes.len());
        let multipart = Multipart::parse(&content_type, &bytes);
        let json = multipart.check_discords_shape();
        assert_eq!(json["type"], 4, "{line}");
        assert_eq!(
            json["data"]["attachments"][0]["filename"], filename,
            "{line}"
        );
        // The JSON is the service's answer, as `ask --json` prints it; the file is the
        // chart the drawing code makes of what the reply says to draw.
        let interaction = serde_json::from_value(payload::from_line(line)).unwrap();
        let expected = f
            .service
            .handle(interaction::request(&interaction, now()).unwrap())
            .await;
        assert_eq!(
            json,
            serde_json::from_str::<Json>(&render::body(&expected.reply)).unwrap(),
            "{line}"
        );
        let karabakh_core::reply::Reply::Message(m) = &expected.reply else {
            panic!("{line}: a message")
        };
        let drawn = karabakh_site::charts::request(&m.chart.as_ref().unwrap().spec)
            .render()
            .unwrap();
        assert_eq!(
            multipart.part("files[0]").unwrap().body,
            drawn.png,
            "{line}"
        );
        assert_eq!(
            json["data"]["attachments"][0]["description"], drawn.alt_text,
            "{line}"
        );
    }
}

#[tokio::test]
async fn a_reply_without_a_chart_stays_json() {
    let f = endpoint_fixture();
    for line in [
        "/timeline 2 October 2020",
        "/reaction Hungary",
        "/search ceasefire",
        "/help",
    ] {
        let (status, content_type, bytes) = raw(&f, &payload::from_line(line)).await;
        assert_eq!(status, StatusCode::OK, "{line}");
        assert_eq!(content_type, "application/json", "{line}");
        let json: Json = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(json["data"]["attachments"], json!([]), "{line}");
        assert!(json["data"]["embeds"][0].get("image").is_none(), "{line}");
    }
}

#[tokio::test]
async fn a_chart_is_drawn_once_then_served_from_the_cache() {
    let f = endpoint_fixture();
    let payload = payload::from_line("/timeline 2020-11");
    let (_, _, first) = raw(&f, &payload).await;
    let (hits, misses) = f.service.charts.stats();
    let (_, _, second) = raw(&f, &payload).await;
    assert_eq!(first, second, "the same bytes");
    assert_eq!(f.service.charts.stats(), (hits + 1, misses));
    assert_eq!(f.service.charts.len(), 1);
}

#[tokio::test]
async fn turning_pages_takes_the_chart_off_and_puts_it_back() {
    let f = endpoint_fixture();
    // Page 2 has no chart: an update with no attachment removes the picture.
    let (status, content_type, bytes) = raw(&f, &page_button("reaction", "turkey", 2)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/json");
    let json: Json = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(json["type"], 7);
    assert_eq!(json["data"]["attachments"], json!([]));
    assert!(json["data"]["embeds"][0].get("image").is_none());
    // Back to page 1: the update attaches the chart again.
    let (status, content_type, bytes) = raw(&f, &page_button("reaction", "turkey", 1)).await;
    assert_eq!(status, StatusCode::OK);
    let json = Multipart::parse(&content_type, &bytes).check_discords_shape();
    assert_eq!(json["type"], 7);
    assert_eq!(json["data"]["attachments"][0]["filename"], "strip.png");
}

#[tokio::test]
async fn ping_gets_pong_as_json() {
    let f = endpoint_fixture();
    let body = serde_json::to_vec(&fixture("ping.json")).unwrap();
    let response = send(&f, signed(&body)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    assert_eq!(text(response).await, r#"{"type":1}"#);
    let m = metrics(&f).await;
    assert_eq!(series(&m, "kr_pings_total"), 1);
    assert_eq!(f.endpoint.metrics().handled_total(), 0);
}

/// What Discord does when the URL is saved: a PING with a bad signature must get 401,
/// and a good one 200.
#[tokio::test]
async fn discords_endpoint_validation_gets_401_for_a_bad_signature() {
    let f = endpoint_fixture();
    let ping = serde_json::to_vec(&fixture("ping.json")).unwrap();
    let ts = now().as_second().to_string();
    // Signed by another key.
    let other = SigningKey::from_bytes(&[8u8; 32]);
    let response = send(
        &f,
        post(&ping, Some(&sign_with(&other, &ts, &ping)), Some(&ts)),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // A valid-looking but wrong signature, as Discord's check sends.
    let response = send(&f, post(&ping, Some(&"0".repeat(128)), Some(&ts))).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // A command with a bad signature does no work either.
    let cmd = serde_json::to_vec(&fixture("command-guild.json")).unwrap();
    let response = send(
        &f,
        post(&cmd, Some(&sign_with(&other, &ts, &cmd)), Some(&ts)),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(f.endpoint.metrics().handled_total(), 0);
    let m = metrics(&f).await;
    assert_eq!(
        series(&m, "kr_signature_rejections_total{reason=\"bad\"}"),
        3
    );
    assert_eq!(series(&m, "kr_pings_total"), 0);
    // Then the real PING passes.
    let response = send(&f, signed(&ping)).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn stale_and_future_timestamps_are_refused() {
    let f = endpoint_fixture();
    let cmd = serde_json::to_vec(&fixture("command-guild.json")).unwrap();
    let t = now().as_second();
    for (offset, ok) in [
        (-301, false),
        (301, false),
        (-3600, false),
        (86_400, false),
        (-300, true),
        (300, true),
        (0, true),
    ] {
        let response = send(&f, signed_at(&cmd, t + offset)).await;
        let expected = if ok {
            StatusCode::OK
        } else {
            StatusCode::UNAUTHORIZED
        };
        assert_eq!(response.status(), expected, "offset {offset} s");
    }
    let m = metrics(&f).await;
    assert_eq!(
        series(&m, "kr_signature_rejections_total{reason=\"stale\"}"),
        4
    );
    assert_eq!(f.endpoint.metrics().handled_total(), 3);
}

#[tokio::test]
async fn missing_and_malformed_headers_are_refused() {
    let f = endpoint_fixture();
    let cmd = serde_json::to_vec(&fixture("command-guild.json")).unwrap();
    let ts = now().as_second().to_string();
    let good = sign_with(&key(), &ts, &cmd);
    let cases: Vec<(Option<String>, Option<String>, &str)> = vec![
        (None, None, "missing"),
        (Some(good.clone()), None, "missing"),
        (None, Some(ts.clone()), "missing"),
        (Some(good[..126].to_owned()), Some(ts.clone()), "malformed"),
        (
            Some(format!("{}zz", &good[..126])),
            Some(ts.clone()),
            "malformed",
        ),
        (Some(String::new()), Some(ts.clone()), "malformed"),
        (
            Some(good.clone()),
            Some("yesterday".to_owned()),
            "malformed",
        ),
        (Some(good.clone()), Some(format!("{ts}.5")), "malformed"),
        (Some(good.clone()), Some(format!("-{ts}")), "malformed"),
        (Some(good.clone()), Some(String::new()), "malformed"),
    ];
    for (signature, timestamp, _) in &cases {
        let response = send(&f, post(&cmd, signature.as_deref(), timestamp.as_deref())).await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{signature:?} {timestamp:?}"
        );
    }
    let m = metrics(&f).await;
    for reason in ["missing", "malformed"] {
        let n = cases.iter().filter(|c| c.2 == reason).count() as u64;
        let name = format!("kr_signature_rejections_total{{reason=\"{reason}\"}}");
        assert_eq!(series(&m, &name), n, "{m}");
    }
    assert_eq!(f.endpoint.metrics().handled_total(), 0);
}

#[tokio::test]
async fn a_body_changed_after_signing_is_refused() {
    let f = endpoint_fixture();
    let cmd = serde_json::to_vec(&fixture("command-guild.json")).unwrap();
    let ts = now().as_second().to_string();
    let signature = sign_with(&key(), &ts, &cmd);
    let tampered = String::from_utf8(cmd.clone())
        .unwrap()
        .replace("Turkey", "Russia");
    let response = send(&f, post(tampered.as_bytes(), Some(&signature), Some(&ts))).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // So is the right body under another timestamp (the timestamp is signed too).
    let later = (now().as_second() + 1).to_string();
    let response = send(&f, post(&cmd, Some(&signature), Some(&later))).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(f.endpoint.metrics().handled_total(), 0);
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413() {
    let f = endpoint_fixture();
    let mut big = fixture("command-guild.json");
    big["padding"] = json!("x".repeat(MAX_BODY));
    let body = serde_json::to_vec(&big).unwrap();
    let response = send(&f, signed(&body)).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // (That request had no Content-Length: the body was read up to the limit.) One
    // that declares a length over the limit is refused too.
    let ts = now().as_second().to_string();
    let declared = Request::post(endpoint::PATH)
        .header(header::CONTENT_LENGTH, (MAX_BODY + 1).to_string())
        .header("X-Signature-Ed25519", sign_with(&key(), &ts, &body))
        .header("X-Signature-Timestamp", &ts)
        .body(Body::from(body.clone()))
        .unwrap();
    let response = send(&f, declared).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let m = metrics(&f).await;
    assert_eq!(series(&m, "kr_bodies_too_large_total"), 2);
    assert_eq!(f.endpoint.metrics().handled_total(), 0);
    // Just under the limit is read (and answered).
    let mut fits = fixture("command-guild.json");
    let room = MAX_BODY - serde_json::to_vec(&fits).unwrap().len() - 20;
    fits["padding"] = json!("x".repeat(room));
    let body = serde_json::to_vec(&fits).unwrap();
    assert!(body.len() <= MAX_BODY);
    let response = send(&f, signed(&body)).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn malformed_json_and_unknown_types_get_400() {
    let f = endpoint_fixture();
    let mut unknown = fixture("command-guild.json");
    unknown["type"] = json!(99);
    let mut no_type = fixture("command-guild.json");
    no_type.as_object_mut().unwrap().remove("type");
    let mut missing_field = fixture("command-guild.json");
    missing_field.as_object_mut().unwrap().remove("token");
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"{\"type\":2,".to_vec(), "malformed_json"),
        (b"not json".to_vec(), "malformed_json"),
        (Vec::new(), "malformed_json"),
        (serde_json::to_vec(&no_type).unwrap(), "malformed_json"),
        (serde_json::to_vec(&unknown).unwrap(), "unknown_type"),
        (serde_json::to_vec(&missing_field).unwrap(), "unparsable"),
    ];
    for (body, reason) in &cases {
        let response = send(&f, signed(body)).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{reason}");
    }
    let m = metrics(&f).await;
    for reason in ["malformed_json", "unknown_type", "unparsable"] {
        let n = cases.iter().filter(|c| c.1 == reason).count() as u64;
        let name = format!("kr_bad_requests_total{{reason=\"{reason}\"}}");
        assert_eq!(series(&m, &name), n, "{m}");
    }
    assert_eq!(f.endpoint.metrics().handled_total(), 0);
}

#[tokio::test]
async fn a_reply_echoing_everyone_mentions_nobody() {
    let f = endpoint_fixture();
    let mut p = fixture("command-guild.json");
    p["data"]["options"][0]["value"] = json!("@everyone");
    let body = answer(&f, &p).await;
    assert!(body.to_string().contains("everyone"), "{body}");
    assert_eq!(
        body["data"]["allowed_mentions"],
        json!({"parse": [], "users": [], "roles": []})
    );
}

#[tokio::test]
async fn healthz_reports_the_dataset() {
    let f = endpoint_fixture();
    let response = send(&f, Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Json = serde_json::from_str(&text(response).await).unwrap();
    let core = support::core();
    let data = core.data();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["dataset"], data.version.to_string());
    assert_eq!(body["statements"], data.statements.len());
}

#[tokio::test]
async fn the_public_listener_shows_no_metrics_and_the_admin_view_checks_the_dataset_and_store() {
    let f = endpoint_fixture();
    let public = send(&f, Request::get("/metrics").body(Body::empty()).unwrap()).await;
    assert_eq!(public.status(), StatusCode::NOT_FOUND);
    let response = admin::router(admin_view(&f))
        .oneshot(Request::get("/healthz").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Json = serde_json::from_str(&text(response).await).unwrap();
    let core = support::core();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["role"], "serve");
    assert_eq!(body["checks"]["dataset"]["ok"], true);
    assert_eq!(
        body["checks"]["dataset"]["statements"],
        core.data().statements.len()
    );
    assert_eq!(body["checks"]["store"], json!({"ok": true}));
}

#[tokio::test]
async fn metrics_are_prometheus_text_and_move_as_requests_come() {
    let f = endpoint_fixture();
    let before = metrics(&f).await;
    assert!(before.contains("# TYPE kr_interactions_total counter"));
    assert!(before.contains("# TYPE kr_request_duration_seconds histogram"));
    assert_eq!(series(&before, "kr_request_duration_seconds_count"), 0);
    let name = "kr_interactions_total{command=\"reaction\",kind=\"command\",outcome=\"ok\"}";
    assert_eq!(series(&before, name), 0);
    let cmd = serde_json::to_vec(&fixture("command-guild.json")).unwrap();
    for _ in 0..3 {
        assert_eq!(send(&f, signed(&cmd)).await.status(), StatusCode::OK);
    }
    assert_eq!(
        send(&f, post(&cmd, None, None)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let after = metrics(&f).await;
    assert_eq!(series(&after, name), 3, "{after}");
    assert_eq!(series(&after, "kr_request_duration_seconds_count"), 4);
    assert_eq!(
        series(&after, "kr_request_duration_seconds_bucket{le=\"+Inf\"}"),
        4
    );
    assert_eq!(
        series(&after, "kr_signature_rejections_total{reason=\"missing\"}"),
        1
    );
    // GETs are not timed as interactions.
    assert_eq!(
        series(&metrics(&f).await, "kr_request_duration_seconds_count"),
        4
    );
    // Every sample line is `name[{labels}] number`.
    for line in after.lines().filter(|l| !l.starts_with('#')) {
        let (_, v) = line.rsplit_once(' ').unwrap();
        assert!(v.parse::<f64>().is_ok(), "{line}");
    }
}

#[tokio::test]
async fn other_paths_and_methods_are_not_served() {
    let f = endpoint_fixture();
    let get = Request::get(endpoint::PATH).body(Body::empty()).unwrap();
    assert_eq!(send(&f, get).await.status(), StatusCode::METHOD_NOT_ALLOWED);
    let other = Request::post("/other").body(Body::empty()).unwrap();
    assert_eq!(send(&f, other).await.status(), StatusCode::NOT_FOUND);
}

/// The one test over a real socket: a keep-alive client sends a PING, two commands
/// and a bad signature to the server on 127.0.0.1.
#[tokio::test]
async fn over_a_loopback_socket() {
    let f = endpoint_fixture();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(endpoint::serve(
        listener,
        Arc::clone(&f.endpoint),
        async move {
            let _ = stopped.await;
        },
    ));
    let client = reqwest::Client::new();
    let url = format!("http://{addr}{}", endpoint::PATH);
    let send = |body: Vec<u8>, ts: String, signature: String| {
        client
            .post(&url)
            .header("X-Signature-Ed25519", signature)
            .header("X-Signature-Timestamp", ts)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };
    let ts = now().as_second().to_string();
    let ping = serde_json::to_vec(&fixture("ping.json")).unwrap();
    let r = send(ping.clone(), ts.clone(), sign_with(&key(), &ts, &ping))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(r.text().await.unwrap(), r#"{"type":1}"#);
    for name in ["command-guild.json", "command-dm.json"] {
        let cmd = serde_json::to_vec(&fixture(name)).unwrap();
        let r = send(cmd.clone(), ts.clone(), sign_with(&key(), &ts, &cmd))
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let content_type = r.headers()["content-type"].to_str().unwrap().to_owned();
        let bytes = r.bytes().await.unwrap();
        // `/reaction Turkey` draws Turkey's statements: multipart over the socket too.
        let body: Json = if name == "command-guild.json" {
            Multipart::parse(&content_type, &bytes).check_discords_shape()
        } else {
            assert_eq!(content_type, "application/json");
            serde_json::from_slice(&bytes).unwrap()
        };
        assert_eq!(body["type"], 4);
    }
    let r = send(ping.clone(), ts.clone(), "ab".repeat(64))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let health = client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    assert_eq!(f.endpoint.metrics().handled_total(), 2);
}

/// `serve` for real: listens on a port the system picks (printed on stderr), answers
/// PING and healthz, shows its metrics on the admin address only (also a port the
/// system picks), and exits 0 on SIGTERM.
#[cfg(unix)]
#[tokio::test]
async fn the_binary_serves_and_stops_cleanly_on_sigterm() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let dir = tempfile::tempdir().unwrap();
    let mut child = binary_in(&dir)
        .env("DISCORD_PUBLIC_KEY", public_hex())
        .env("KR_LOG", "debug")
        .env("KR_ADMIN_LISTEN", "127.0.0.1:0")
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
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
    let mut seen = Vec::new();
    let mut admin_addr = None;
    let addr = loop {
        let line = lines_rx
            .recv()
            .unwrap_or_else(|_| panic!("serve ended before listening: {seen:#?}"));
        if let Some(rest) = line.split("admin on http://").nth(1) {
            admin_addr = Some(rest.to_owned());
        }
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.trim_end_matches(endpoint::PATH).to_owned();
        }
        seen.push(line);
    };
    let admin_addr = admin_addr.expect("the admin address is printed before the public one");
    assert_ne!(admin_addr, addr);
    let client = reqwest::Client::new();
    let health = client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let health: Json = serde_json::from_str(&health.text().await.unwrap()).unwrap();
    assert_eq!(health["status"], "ok");
    // The binary's clock is the real one.
    let ts = Timestamp::now().as_second().to_string();
    let ping = serde_json::to_vec(&fixture("ping.json")).unwrap();
    let signature = sign_with(&key(), &ts, &ping);
    let r = client
        .post(format!("http://{addr}{}", endpoint::PATH))
        .header("X-Signature-Ed25519", &signature)
        .header("X-Signature-Timestamp", &ts)
        .body(ping.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), r#"{"type":1}"#);

    // The operator's view: on the admin address, not the public one.
    let public = client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), 404);
    let text = client
        .get(format!("http://{admin_addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(series(&text, "kr_pings_total"), 1, "{text}");
    let health = client
        .get(format!("http://{admin_addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let health: Json = serde_json::from_str(&health.text().await.unwrap()).unwrap();
    assert_eq!(health["role"], "serve");
    assert_eq!(health["checks"]["store"]["ok"], true, "{health}");

    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: sends a signal to the child this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = child.wait().unwrap();
    reader.join().unwrap();
    let rest: Vec<String> = lines_rx.try_iter().collect();
    let log = [seen, rest].concat().join("\n");
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains("SIGTERM"), "{log}");
    // The log names requests, never the signature's value or the public key.
    assert!(log.contains("/healthz"), "{log}");
    assert!(!log.contains(&signature), "{log}");
    assert!(!log.contains(&public_hex()), "{log}");
    assert!(!log.contains("panicked"), "{log}");
}

/// A key that is not one: one sentence and exit 1, never a panic, and the value is
/// not repeated.
#[test]
fn the_binary_refuses_a_malformed_public_key() {
    let dir = tempfile::tempdir().unwrap();
    let off_curve = (2u8..64)
        .map(|y| {
            let mut b = [0u8; 32];
            b[0] = y;
            b
        })
        .find(|b| serenity::interactions_endpoint::Verifier::try_new(*b).is_err())
        .map(hex::encode)
        .unwrap();
    for (key, expected) in [
        ("not-a-key".to_owned(), "64 hexadecimal digits"),
        ("ab".repeat(33), "64 hexadecimal digits"),
        (off_curve, "not a valid Ed25519 public key"),
    ] {
        let o = binary_in(&dir)
            .env("DISCORD_PUBLIC_KEY", &key)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{err}");
        assert!(lines[0].starts_with("karabakh-reactions: "), "{err}");
        assert!(lines[0].contains("DISCORD_PUBLIC_KEY"), "{err}");
        assert!(lines[0].contains(expected), "{err}");
        assert!(!err.contains(&key), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // And none at all says where to put it.
    let o = binary_in(&dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("DISCORD_PUBLIC_KEY_FILE"), "{err}");
}
