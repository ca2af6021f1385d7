//! The HTTP server `serve` runs: hyper's HTTP/1.1 connections under bounds that keep
//! hostile or overloading clients from holding it, around whatever [`axum::Router`]
//! shares the listener (the interactions endpoint and the public site).
//!
//! What each client is held to ([`Limits`], defaults in brackets):
//! - **headers**: a connection has [`Limits::header_read`] (10 s) to send a request's
//!   whole head, counted from when the server starts waiting for it, so a client that
//!   sends its headers byte by byte (slowloris), or a keep-alive connection left idle,
//!   is closed then (hyper's `header_read_timeout`); heads are at most 16 KiB (431);
//! - **a deadline per request**: from its head to its response, body reading
//!   included, [`Limits::deadline`] (2.5 s, inside the 3 s Discord waits for an
//!   interaction's answer; tower-http's `TimeoutLayer`): a body that trickles, or an
//!   answer that cannot be found in time, gets 503 with `Retry-After`;
//! - **connections**: at most [`Limits::connections`] (8,192) are served at once; one
//!   more is answered `503` with `Retry-After: 1` without its request being handled
//!   (up to [`Limits::refusals`] such answers at once, each given 1 s, then closed
//!   unanswered): a flood of connections costs a bounded amount of memory;
//! - **requests in flight**: at most [`Limits::in_flight`] (256) are handled at once
//!   (tower's concurrency limit); beyond it a request is shed at once with 503 and
//!   `Retry-After: 1` (tower's `LoadShed`) rather than queued behind the others. A
//!   request's body (at most [`Limits::body`], 64 KiB, plus one byte) is read before
//!   it takes its place, so slow bodies cannot hold the places;
//! - **a panic** while handling a request answers that request 500 (tower-http's
//!   `CatchPanicLayer`) and logs it; the server, and every other request, carry on.
//!
//! Under an attack within these bounds, Discord's signed requests keep being answered
//! in time: a slow client holds one connection slot, not a worker.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::error_handling::HandleErrorLayer;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::BytesMut;
use http_body_util::BodyExt;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::util::BoxCloneService;
use tower::{BoxError, ServiceBuilder};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

/// The bounds the server holds every client to (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Time to send a request's head, and how long a keep-alive connection may idle.
    pub header_read: Duration,
    /// Time from a request's head to its response, reading its body included.
    pub deadline: Duration,
    /// Connections served at once.
    pub connections: usize,
    /// Connections over [`Limits::connections`] answered 503 at once; more are closed.
    pub refusals: usize,
    /// Requests handled at once; more are answered 503 at once.
    pub in_flight: usize,
    /// The largest body read before a request is handled: a larger one is read to one
    /// byte past this, and its handler refuses it (413).
    pub body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read: Duration::from_secs(10),
            deadline: Duration::from_millis(2500),
            connections: 8192,
            refusals: 512,
            in_flight: 256,
            body: crate::discord::endpoint::MAX_BODY,
        }
    }
}

/// The largest request head accepted (request line and headers): Discord's are under
/// 2 KiB.
pub const MAX_HEAD: usize = 16 * 1024;

/// What `Retry-After` says on a 503: one second.
pub const RETRY_AFTER_SECONDS: &str = "1";

/// How long a connection over the bound has to send its request before it is closed
/// without its 503.
const REFUSAL_TIME: Duration = Duration::from_secs(1);

/// The router inside the per-request bounds: the deadline, the limit on requests in
/// flight with load shedding, and the panic catcher. Every request of the listener goes
/// through it; tests drive it without a socket.
pub fn stack<B>(
    router: Router,
    limits: &Limits,
) -> BoxCloneService<Request<B>, Response, Infallible>
where
    B: http_body::Body<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let body_limit = limits.body;
    let service = ServiceBuilder::new()
        .map_response(|r: Response<_>| r.map(Body::new))
        .layer(CatchPanicLayer::custom(panicked))
        .map_response(with_retry_after)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            limits.deadline,
        ))
        .map_request(|r: Request<B>| r.map(Body::new))
        .layer(axum::middleware::from_fn(move |request, next| {
            read_body(request, next, body_limit)
        }))
        .layer(HandleErrorLayer::new(|error: BoxError| async move {
            shed(error)
        }))
        .load_shed()
        .concurrency_limit(limits.in_flight)
        .service(router);
    BoxCloneService::new(service)
}

/// Reads the request's body (up to one byte more than `limit`: enough for the
/// handler to see it is too large) before the request takes a place among those in
/// flight, so a client that trickles its body holds a connection, never a place.
async fn read_body(request: Request<Body>, next: Next, limit: usize) -> Response {
    let (parts, mut body) = request.into_parts();
    let mut read = BytesMut::new();
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => {
                if let Ok(data) = frame.into_data() {
                    read.extend_from_slice(&data);
                    if read.len() > limit {
                        break;
                    }
                }
            }
            // The client went away, or sent a broken body: nobody reads the answer.
            Err(_) => {
                return (StatusCode::BAD_REQUEST, "the body could not be read\n").into_response();
            }
        }
    }
    next.run(Request::from_parts(parts, Body::from(read.freeze())))
        .await
}

/// A request refused because too many are in flight (the only error the stack's
/// inner layers produce).
fn shed(error: BoxError) -> Response {
    if !error.is::<tower::load_shed::error::Overloaded>() {
        tracing::error!(%error, "a request failed in the server's middleware");
    }
    overloaded()
}

/// 503 with `Retry-After`: the answer to a request the server has no room for.
pub fn overloaded() -> Response {
    let mut r = (
        StatusCode::SERVICE_UNAVAILABLE,
        "the server is busy; try again in a second\n",
    )
        .into_response();
    r.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from_static(RETRY_AFTER_SECONDS),
    );
    r
}

/// A 503 (a request past its deadline) says when to try again.
fn with_retry_after(mut r: Response) -> Response {
    if r.status() == StatusCode::SERVICE_UNAVAILABLE
        && !r.headers().contains_key(header::RETRY_AFTER)
    {
        r.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_static(RETRY_AFTER_SECONDS),
        );
    }
    r
}

/// A request whose handling panicked: 500, and the panic's message in the log (the
/// message is the program's, never a request's content).
fn panicked(payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    tracing::error!(
        panic = message,
        "handling a request panicked; it was answered 500"
    );
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "the server failed on this request\n",
    )
        .into_response()
}

/// Serves `router` on `listener` within `limits` until `shutdown` completes; then
/// stops accepting, lets the requests in flight finish (each is bounded by the
/// deadline) and closes idle connections.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = stack::<hyper::body::Incoming>(router, &limits);
    let connections = Arc::new(Semaphore::new(limits.connections));
    let refusals = Arc::new(Semaphore::new(limits.refusals));
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .max_header_size(MAX_HEAD);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    accept_failed(&e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
            if let Ok(permit) = Arc::clone(&refusals).try_acquire_owned() {
                tokio::spawn(async move {
                    refuse(stream).await;
                    drop(permit);
                });
            }
            continue;
        };
        let connection = http.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(service.clone()),
        );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // An error here is the client's: it went away, sent a broken request, or
            // was too slow with its headers. Nothing to do but close.
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection closed");
            }
            drop(permit);
        });
    }
    drop(listener);
    let grace = limits.deadline + limits.header_read;
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown grace; closing them");
    }
    Ok(())
}

/// A connection over the bound: answered 503 with `Retry-After` once its request's
/// head has arrived (so the client reads the answer, not a reset), then closed.
async fn refuse(stream: TcpStream) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(REFUSAL_TIME)
        .max_header_size(MAX_HEAD)
        .keep_alive(false);
    let service = hyper::service::service_fn(|_request| async {
        let mut r = overloaded();
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        Ok::<_, Infallible>(r)
    });
    let connection = http.serve_connection(TokioIo::new(stream), service);
    let _ = tokio::time::timeout(REFUSAL_TIME * 2, connection).await;
}

/// `accept` failed. Errors of one connection (reset before it was accepted) are
/// skipped; running out of file descriptors or memory waits a moment for connections
/// to close instead of spinning.
async fn accept_failed(error: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::warn!(%error, "cannot accept a connection; retrying in 50 ms");
    tokio::time::sleep(Duration::from_millis(50)).await;
}
