//! The HTTP interactions endpoint: Discord POSTs each interaction to the bot's URL,
//! signed with the application's Ed25519 key, and the answer goes back in the
//! response body. [`app`] builds the whole server as an [`axum::Router`] (tests drive
//! it without a socket); [`serve`] runs it on a listener until a shutdown signal.
//!
//! Every POST is checked in this order, and a request refused at one step does no
//! work past it:
//! 1. the body is at most [`MAX_BODY`] bytes, else 413;
//! 2. `X-Signature-Ed25519` (128 hex digits) and `X-Signature-Timestamp` (Unix
//!    seconds) are present and well formed, the timestamp is within [`MAX_SKEW`] of
//!    now (either way: replay protection, which serenity's verifier leaves to us),
//!    and the signature over `timestamp ‖ body` is the application key's, else 401;
//! 3. the body is JSON with a `type` the bot answers (1 PING, 2 command, 3 component,
//!    4 autocomplete) and the fields Discord sends, else 400;
//! 4. PING gets `{"type":1}`; the rest become the core's request through
//!    [`interaction::from_json`] (the request serenity's parse gives the gateway) and
//!    are answered as [`Service::handle`] answers them, the gateway's path too (inline,
//!    or on the blocking pool for a request that writes). The reply is rendered by
//!    [`render::http_body`]: JSON, or `multipart/form-data` with the chart's picture
//!    (drawn on the blocking pool, or from the cache). An answer that only reads is
//!    kept by its answer key ([`written`]) and given again to the next request with
//!    the same key: the same bytes, without asking the core or rendering again.
//!
//! `GET /healthz` answers once the dataset is loaded (it is, before the listener
//! opens). The counters ([`Metrics`]) are shown on the admin address only
//! ([`crate::admin`]), never on this public listener. Logs name the method,
//! path, status, latency and command, never a header's value or the body.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use serenity::interactions_endpoint::Verifier;

use crate::discord::interaction::{self, Parsed, Unreadable};
use crate::discord::{render, written};
use crate::service::{Handled, Service};
use karabakh_core::commands::{Request, RequestKind};
use karabakh_core::reply::Reply;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::metrics::{self, Interactions, Labels, MetricSet};

/// The path Discord POSTs to: the interactions endpoint URL is
/// `https://<host>/interactions`.
pub const PATH: &str = "/interactions";

/// The largest body accepted. Discord's interactions are a few kilobytes (the biggest,
/// a command with resolved users, channels and attachments, stays far below 64 KiB);
/// the bot's own commands carry at most a few short options. A cap keeps an
/// unauthenticated client from making the server buffer (and hash) megabytes before
/// the signature can be checked.
pub const MAX_BODY: usize = 64 * 1024;

/// How far `X-Signature-Timestamp` may be from now, either way: Discord's signed
/// requests are fresh, so an older one is a replay (and one from the future, a clock
/// gone wrong or a replay prepared in advance).
pub const MAX_SKEW: Duration = Duration::from_secs(300);

pub const SIGNATURE_HEADER: &str = "x-signature-ed25519";
pub const TIMESTAMP_HEADER: &str = "x-signature-timestamp";

/// Where the server's "now" comes from: the system clock in production, a fixed one
/// in tests.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// Decodes the application's public key (64 hex digits) and checks it is a point
/// Ed25519 accepts. The error is one sentence and never repeats the key.
pub fn verifier(public_key_hex: &str) -> Result<Verifier, String> {
    let key = public_key_hex.trim();
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(key, &mut bytes).map_err(|_| {
        format!(
            "DISCORD_PUBLIC_KEY is not an Ed25519 public key: expected 64 hexadecimal digits, \
             found {} characters; copy the Public Key from the application's General \
             Information page in the Developer Portal",
            key.chars().count()
        )
    })?;
    Verifier::try_new(bytes).map_err(|_| {
        "DISCORD_PUBLIC_KEY is 64 hexadecimal digits but not a valid Ed25519 public key; copy \
         the Public Key from the application's General Information page in the Developer Portal"
            .to_owned()
    })
}

/// What the endpoint answers with: the service, the key requests must be signed with,
/// the counters, and the clock.
pub struct Endpoint {
    service: Service,
    verifier: Verifier,
    metrics: Arc<Metrics>,
    clock: Clock,
    /// The answers already written, by answer key.
    written: written::Written,
}

impl Endpoint {
    /// An endpoint on the system clock.
    pub fn new(service: Service, verifier: Verifier) -> Self {
        Self::with_clock(service, verifier, Arc::new(Timestamp::now))
    }

    pub fn with_clock(service: Service, verifier: Verifier, clock: Clock) -> Self {
        Self {
            service,
            verifier,
            metrics: Arc::new(Metrics::default()),
            clock,
            written: written::Written::default(),
        }
    }

    /// The endpoint's metrics, for the admin address.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The answers kept to be given again.
    pub fn written(&self) -> &written::Written {
        &self.written
    }

    /// Checks a request's signature headers against its body; `Err` says why not.
    /// Cheap checks first: the crypto runs only on a well-formed, fresh request.
    pub fn verify(&self, headers: &HeaderMap, body: &[u8], now: Timestamp) -> Result<(), Reject> {
        let (Some(signature), Some(timestamp)) =
            (headers.get(SIGNATURE_HEADER), headers.get(TIMESTAMP_HEADER))
        else {
            return Err(Reject::Missing);
        };
        let signature = signature.to_str().map_err(|_| Reject::Malformed)?;
        let timestamp = timestamp.to_str().map_err(|_| Reject::Malformed)?;
        if signature.len() != 128 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Reject::Malformed);
        }
        if timestamp.is_empty()
            || timestamp.len() > 18
            || !timestamp.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(Reject::Malformed);
        }
        let seconds: i64 = timestamp.parse().map_err(|_| Reject::Malformed)?;
        if now.as_second().abs_diff(seconds) > MAX_SKEW.as_secs() {
            return Err(Reject::Stale);
        }
        self.verifier
            .verify(signature, timestamp, body)
            .map_err(|()| Reject::Bad)
    }
}

/// Why a request's signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reject {
    /// A signature header is absent.
    Missing,
    /// The signature is not 128 hex digits, or the timestamp not Unix seconds.
    Malformed,
    /// The signature does not match the body, the timestamp, or the key.
    Bad,
    /// The timestamp is more than [`MAX_SKEW`] from now.
    Stale,
}

impl Reject {
    pub const ALL: [Reject; 4] = [
        Reject::Missing,
        Reject::Malformed,
        Reject::Bad,
        Reject::Stale,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Reject::Missing => "missing",
            Reject::Malformed => "malformed",
            Reject::Bad => "bad",
            Reject::Stale => "stale",
        }
    }
}

/// Why a verified request could not be answered (400).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadRequest {
    /// Not JSON, or JSON without a numeric `type`.
    MalformedJson,
    /// A `type` the bot does not answer.
    UnknownType,
    /// A known type in a shape serenity cannot parse.
    Unparsable,
}

impl BadRequest {
    pub const ALL: [BadRequest; 3] = [
        BadRequest::MalformedJson,
        BadRequest::UnknownType,
        BadRequest::Unparsable,
    ];

    pub fn label(self) -> &'static str {
        match self {
            BadRequest::MalformedJson => "malformed_json",
            BadRequest::UnknownType => "unknown_type",
            BadRequest::Unparsable => "unparsable",
        }
    }
}

/// The endpoint's metrics (`prometheus-client`, in a registry of their own): the
/// interactions answered, PINGs, refusals by reason, and the time to answer a POST.
/// Every counter is a handle looked up once, so counting is a relaxed increment; the
/// latency histogram takes a short lock (a parking_lot mutex) per request.
pub struct Metrics {
    registry: Registry,
    interactions: Interactions,
    pings: Counter,
    rejected: [Counter; Reject::ALL.len()],
    too_large: Counter,
    bad: [Counter; BadRequest::ALL.len()],
    latency: Histogram,
}

/// The latency histogram's upper bounds, in seconds: 100 µs to 1 s.
const LATENCY_BOUNDS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let interactions = Interactions::register(&mut registry);
        let pings = Counter::default();
        registry.register("kr_pings", "PINGs answered", pings.clone());
        let rejected = Family::<Labels<1>, Counter>::default();
        registry.register(
            "kr_signature_rejections",
            "Requests refused with 401, by reason",
            rejected.clone(),
        );
        let rejected =
            Reject::ALL.map(|r| rejected.get_or_create(&[("reason", r.label())]).clone());
        let too_large = Counter::default();
        registry.register(
            "kr_bodies_too_large",
            "Requests refused with 413",
            too_large.clone(),
        );
        let bad = Family::<Labels<1>, Counter>::default();
        registry.register(
            "kr_bad_requests",
            "Signed requests refused with 400, by reason",
            bad.clone(),
        );
        let bad = BadRequest::ALL.map(|b| bad.get_or_create(&[("reason", b.label())]).clone());
        let latency = metrics::seconds_histogram(&LATENCY_BOUNDS);
        registry.register(
            "kr_request_duration_seconds",
            "Time to answer a POST to the interactions path, from its headers to its response",
            latency.clone(),
        );
        Self {
            registry,
            interactions,
            pings,
            rejected,
            too_large,
            bad,
            latency,
        }
    }
}

impl MetricSet for Metrics {
    fn registry(&self) -> &Registry {
        &self.registry
    }
}

impl Metrics {
    fn rejected(&self, r: Reject) {
        self.rejected[r as usize].inc();
    }

    fn bad(&self, b: BadRequest) {
        self.bad[b as usize].inc();
    }

    /// How many interactions the service answered (PING excluded).
    pub fn handled_total(&self) -> u64 {
        self.interactions.total()
    }
}

/// The server: `POST /interactions` and `GET /healthz`. The metrics are not on this
/// (public) listener: they are on the admin address ([`crate::admin`]).
pub fn app(endpoint: Arc<Endpoint>) -> Router {
    Router::new()
        .route(PATH, post(interactions))
        .route("/healthz", get(healthz))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn_with_state(Arc::clone(&endpoint), log))
        .with_state(endpoint)
}

/// Serves `app` on `listener` until `shutdown` completes, then lets the requests in
/// flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    endpoint: Arc<Endpoint>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router(listener, app(endpoint), shutdown).await
}

/// Serves `router` (the endpoint's [`app`], with whatever else shares its listener,
/// such as the public site) until `shutdown` completes, within the server's default
/// [`Limits`](crate::server::Limits): timeouts, bounds and load shedding.
pub async fn serve_router(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    crate::server::serve(listener, router, crate::server::Limits::default(), shutdown).await
}

/// What a response answered, for the request log: a PING, or a request of the core.
#[derive(Clone, Copy)]
enum Answered {
    Ping,
    Request {
        command: &'static str,
        kind: RequestKind,
    },
}

/// One log line per request (method, path, status, latency, command): `info` for
/// commands and button clicks answered, `warn` for server errors, `debug` for the
/// rest (PINGs, autocomplete, probes, refusals: a flood of bad signatures must not
/// flood the log). Also times the interactions path for the histogram.
async fn log(
    State(endpoint): State<Arc<Endpoint>>,
    request: axum::extract::Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    if method == Method::POST && path == PATH {
        metrics::observe(&endpoint.metrics.latency, elapsed);
    }
    let status = response.status().as_u16();
    let latency_us = elapsed.as_micros() as u64;
    let answered = response.extensions().get::<Answered>().copied();
    let (command, kind) = match answered {
        None => ("", ""),
        Some(Answered::Ping) => ("", "ping"),
        Some(Answered::Request { command, kind }) => (command, kind.label()),
    };
    let answered_to_a_member = matches!(
        answered,
        Some(Answered::Request {
            kind: RequestKind::Command | RequestKind::Button,
            ..
        })
    );
    if status >= 500 {
        tracing::warn!(%method, path, status, latency_us, command, kind, "request");
    } else if status == 200 && answered_to_a_member {
        tracing::info!(%method, path, status, latency_us, command, kind, "request");
    } else {
        tracing::debug!(%method, path, status, latency_us, command, kind, "request");
    }
    response
}

async fn interactions(
    State(endpoint): State<Arc<Endpoint>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let m = &endpoint.metrics;
    // `DefaultBodyLimit` (set in `app`) stops reading at the limit: at most 64 KiB
    // is buffered whatever the client declares or sends.
    let body = match body {
        Ok(body) => body,
        Err(BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_))) => {
            m.too_large.inc();
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is over {MAX_BODY} bytes\n"),
            )
                .into_response();
        }
        // The client went away or sent a broken body: nobody to answer.
        Err(rejection) => return rejection.into_response(),
    };
    let now = (endpoint.clock)();
    if let Err(reason) = endpoint.verify(&headers, &body, now) {
        m.rejected(reason);
        return (StatusCode::UNAUTHORIZED, "invalid request signature\n").into_response();
    }
    let request = match read(&body, now) {
        Ok(Interacted::Ping) => {
            m.pings.inc();
            let mut pong = json(Bytes::from_static(PONG));
            pong.extensions_mut().insert(Answered::Ping);
            return pong;
        }
        Ok(Interacted::Request(request)) => *request,
        Err((reason, message)) => {
            m.bad(reason);
            return (StatusCode::BAD_REQUEST, format!("{message}\n")).into_response();
        }
    };
    let answer = answer(&endpoint, request).await;
    m.interactions
        .count(answer.command, answer.kind, answer.resolution);
    let mut response = Response::new(Body::from(answer.body.clone()));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, answer.content_type.clone());
    response.extensions_mut().insert(Answered::Request {
        command: answer.command.unwrap_or("unknown"),
        kind: answer.kind,
    });
    response
}

/// The answer to a request, written. The service's store calls are async, so the
/// worker keeps answering others. A request that may change settings is handled
/// whole; the rest read the server's settings, then an answer already written for
/// the same answer key is given again, or the core answers and the answer is
/// written (and kept).
async fn answer(endpoint: &Arc<Endpoint>, mut request: Request) -> Arc<written::Answer> {
    let service = &endpoint.service;
    if request.may_write() {
        return write(service, service.answer(request).await).await.0;
    }
    if let Err(failed) = service.load_settings_in_time(&mut request).await {
        return write(service, *failed).await.0;
    }
    let key = request.answer_key();
    if let Some(kept) = key.as_ref().and_then(|k| endpoint.written.get(k)) {
        return kept;
    }
    let (answer, whole) = write(service, service.handle_loaded(request).await).await;
    if let (Some(key), true) = (key, whole) {
        endpoint.written.insert(key, Arc::clone(&answer));
    }
    answer
}

/// Renders a handled request as the HTTP body Discord receives, with its chart's
/// picture (from the cache, or drawn on the blocking pool). `false` with it when the
/// picture could not be drawn and the answer went without it: not an answer to keep.
async fn write(service: &Service, mut handled: Handled) -> (Arc<written::Answer>, bool) {
    let charted =
        matches!(&handled.reply, Reply::Message(m) | Reply::Update(m) if m.chart.is_some());
    let picture = service.picture(&mut handled.reply).await;
    let body = render::http_body(&handled.reply, picture.as_deref().map(|c| c.png.as_slice()));
    let answer = written::Answer {
        body: Bytes::from(body.bytes),
        content_type: HeaderValue::from_str(&body.content_type).expect("a valid content type"),
        command: handled.command,
        kind: handled.kind,
        resolution: handled.resolution,
    };
    (Arc::new(answer), !charted || picture.is_some())
}

/// The answer to a PING.
pub const PONG: &[u8] = br#"{"type":1}"#;

/// What a verified body asks for.
#[derive(Debug)]
pub enum Interacted {
    Ping,
    Request(Box<Request>),
}

/// Reads a verified request's body: a PING, or the core's request; `Err` says why it
/// cannot be answered (400), for the metrics and in a sentence.
pub fn read(body: &[u8], now: Timestamp) -> Result<Interacted, (BadRequest, &'static str)> {
    // One pass over the body, reading only what the bot uses (see
    // `interaction::from_json`).
    match interaction::from_json(body, now) {
        Ok(Parsed::Ping) => Ok(Interacted::Ping),
        Ok(Parsed::Request(request)) => Ok(Interacted::Request(Box::new(request))),
        Ok(Parsed::Unanswered) => Err((
            BadRequest::UnknownType,
            "an interaction this bot does not answer",
        )),
        Err(Unreadable::NotJson) => Err((
            BadRequest::MalformedJson,
            "the body is not JSON with a numeric type",
        )),
        Err(Unreadable::Malformed) => Err((
            BadRequest::Unparsable,
            "the interaction's fields are not as Discord sends them",
        )),
    }
}

fn json(body: Bytes) -> Response {
    let mut response = Response::new(Body::from(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

async fn healthz(State(endpoint): State<Arc<Endpoint>>) -> Response {
    let data = endpoint.service.core.data();
    let body = serde_json::json!({
        "status": "ok",
        "dataset": data.version.to_string(),
        "statements": data.statements.len(),
    });
    json(Bytes::from(body.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_keys_are_one_sentence_without_the_key() {
        let short = verifier("abcd").err().unwrap();
        assert!(short.contains("64 hexadecimal digits") && short.contains("found 4"));
        assert!(!short.contains("abcd"));
        let not_hex = "zz".repeat(32);
        assert!(!verifier(&not_hex).err().unwrap().contains(&not_hex));
        // 64 hex digits that are not a point on the curve: about half of all
        // y-coordinates have no x; find one among the small ones.
        let off_curve = (2u8..64)
            .map(|y| {
                let mut bytes = [0u8; 32];
                bytes[0] = y;
                bytes
            })
            .find(|b| Verifier::try_new(*b).is_err())
            .expect("a y-coordinate off the curve");
        let e = verifier(&hex::encode(off_curve)).err().unwrap();
        assert!(e.contains("not a valid Ed25519 public key"), "{e}");
        assert!(!e.contains(&hex::encode(off_curve)));
        let public = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
        assert!(verifier(&format!(" {}\n", hex::encode(public.to_bytes()))).is_ok());
    }
}
