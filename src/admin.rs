//! The operator's view of a process, on an admin address of its own (`admin.listen`,
//! `KR_ADMIN_LISTEN`; off unless set): `GET /healthz` and `GET /metrics` for every
//! role (`serve`, the gateway's shard processes, the scheduler).
//!
//! - `/healthz` runs the role's checks (the dataset is loaded, the store answers, the
//!   shards are connected, …), each within [`CHECK_TIMEOUT`], and answers 200 with
//!   `{"status":"ok","role":…,"checks":{name:{"ok":true,…}}}` when all pass, else 503
//!   with `"status":"unavailable"` and each failing check's `error`.
//! - `/metrics` shows every metric set the process runs ([`MetricSet`]) in
//!   Prometheus' text format.
//!
//! The admin address is for the operator's network only (a loopback address, or one
//! a firewall keeps in): the public listener of `serve` keeps `/healthz` for load
//! balancers, but shows no metrics. It is served by the public listener's server
//! ([`crate::server`]) within [`limits`]: a client that sends its head slowly, holds
//! connections or makes a check panic cannot hold it either.
//!
//! Any role starts it with [`start`]: build an [`Admin`] with the role's name, its
//! checks and its metric sets, and keep the [`AdminServer`] until the role stops.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;

use crate::metrics::{self, MetricSet};
use crate::server::{self, Limits};

/// How long one health check may take before it counts as failed.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// What a health check found: details to show when it passed, or why it failed.
pub type CheckResult = Result<serde_json::Value, String>;

type CheckFuture = Pin<Box<dyn Future<Output = CheckResult> + Send>>;
type Check = Arc<dyn Fn() -> CheckFuture + Send + Sync>;

/// One role's view: its name, its health checks, its metric sets.
pub struct Admin {
    role: &'static str,
    checks: Vec<(&'static str, Check)>,
    /// Sets can be added while it runs (a part of the role that starts later).
    metrics: std::sync::RwLock<Vec<Arc<dyn MetricSet>>>,
}

impl Admin {
    /// A view for `role` ("serve", "gateway", "schedule") with no check and no metrics yet.
    pub fn new(role: &'static str) -> Self {
        Self {
            role,
            checks: Vec::new(),
            metrics: std::sync::RwLock::new(Vec::new()),
        }
    }

    /// Adds a metric set to `/metrics`.
    pub fn metrics(self, set: Arc<dyn MetricSet>) -> Self {
        self.add_metrics(set);
        self
    }

    /// Adds a metric set to `/metrics` of a running view.
    pub fn add_metrics(&self, set: Arc<dyn MetricSet>) {
        self.metrics
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(set);
    }

    /// Adds a health check named `name` to `/healthz`.
    pub fn check<F, Fut>(mut self, name: &'static str, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = CheckResult> + Send + 'static,
    {
        self.checks
            .push((name, Arc::new(move || Box::pin(check()) as CheckFuture)));
        self
    }

    /// Runs every check (together, each within [`CHECK_TIMEOUT`]): whether all passed,
    /// and the body `/healthz` answers with.
    pub async fn health(&self) -> (bool, serde_json::Value) {
        let runs = self.checks.iter().map(|(name, check)| {
            let run = check();
            async move {
                let result = match tokio::time::timeout(CHECK_TIMEOUT, run).await {
                    Ok(result) => result,
                    Err(_) => Err(format!(
                        "no answer within {} s",
                        CHECK_TIMEOUT.as_secs_f64()
                    )),
                };
                (*name, result)
            }
        });
        let results = join_all(runs).await;
        let healthy = results.iter().all(|(_, r)| r.is_ok());
        let mut checks = serde_json::Map::new();
        for (name, result) in results {
            let shown = match result {
                Ok(serde_json::Value::Object(mut details)) => {
                    details.insert("ok".to_owned(), true.into());
                    serde_json::Value::Object(details)
                }
                Ok(serde_json::Value::Null) => serde_json::json!({ "ok": true }),
                Ok(other) => serde_json::json!({ "ok": true, "value": other }),
                Err(error) => serde_json::json!({ "ok": false, "error": error }),
            };
            checks.insert(name.to_owned(), shown);
        }
        let body = serde_json::json!({
            "status": if healthy { "ok" } else { "unavailable" },
            "role": self.role,
            "checks": checks,
        });
        (healthy, body)
    }

    /// Every metric set, in Prometheus' text format.
    pub fn render_metrics(&self) -> String {
        let mut text = String::with_capacity(8192);
        let sets = self
            .metrics
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for set in sets.iter() {
            set.render_into(&mut text);
        }
        text
    }
}

/// Runs futures concurrently on this task and collects their outputs in order.
async fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut set: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut done: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, out) in set.iter_mut().zip(done.iter_mut()) {
            if out.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *out = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    set.clear();
    done.into_iter()
        .map(|o| o.expect("every future ended"))
        .collect()
}

/// The admin server: `GET /healthz`, `GET /metrics`.
pub fn router(admin: Arc<Admin>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .with_state(admin)
}

async fn healthz(State(admin): State<Arc<Admin>>) -> Response {
    let (healthy, body) = admin.health().await;
    let mut response = Response::new(Body::from(body.to_string()));
    if !healthy {
        *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    }
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

async fn metrics_text(State(admin): State<Arc<Admin>>) -> Response {
    let mut response = Response::new(Body::from(admin.render_metrics()));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(metrics::CONTENT_TYPE),
    );
    response
}

/// The admin server, running: [`AdminServer::stop`] ends it.
pub struct AdminServer {
    /// The address it listens on (the port the system chose, for `:0`).
    pub addr: SocketAddr,
    admin: Arc<Admin>,
    stop: tokio::sync::oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl AdminServer {
    /// Adds a metric set to `/metrics` (a part of the role that started later).
    pub fn add_metrics(&self, set: Arc<dyn MetricSet>) {
        self.admin.add_metrics(set);
    }

    /// Stops listening and waits for the requests in flight (at most a second).
    pub async fn stop(self) {
        let _ = self.stop.send(());
        if tokio::time::timeout(Duration::from_secs(1), self.handle)
            .await
            .is_err()
        {
            tracing::warn!("the admin server did not stop in time; leaving anyway");
        }
    }
}

/// The bounds the admin server holds its clients to: those of the public listener
/// ([`Limits::default`]: the time to send a head, the deadline, the body, a panic
/// answered 500), with fewer connections and requests at once, since only the
/// operator's tools should come (and each `/healthz` asks the database).
pub fn limits() -> Limits {
    Limits {
        connections: 256,
        refusals: 64,
        in_flight: 32,
        ..Limits::default()
    }
}

/// Starts the admin server on `addr` for `admin`'s role, or nothing (logged) when the
/// operator set no admin address. Prints one plain line on standard error,
/// `karabakh-reactions: admin on http://ADDR`, whatever the log level (scripts and
/// tests using port 0 read it). An address that cannot be bound stops the role.
pub async fn start(addr: Option<SocketAddr>, admin: Admin) -> Result<Option<AdminServer>, String> {
    start_with(addr, admin, limits()).await
}

/// [`start`] within other bounds (the tests' shorter ones). The server is the public
/// listener's ([`server::serve`]), so the admin address is as hard to hold as it.
pub async fn start_with(
    addr: Option<SocketAddr>,
    admin: Admin,
    limits: Limits,
) -> Result<Option<AdminServer>, String> {
    let Some(addr) = addr else {
        tracing::info!(
            role = admin.role,
            "no admin address (admin.listen / KR_ADMIN_LISTEN): /healthz and /metrics for the operator are off"
        );
        return Ok(None);
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on the admin address {addr}: {e}"))?;
    let bound = listener
        .local_addr()
        .map_err(|e| format!("cannot listen on the admin address {addr}: {e}"))?;
    eprintln!("karabakh-reactions: admin on http://{bound}");
    tracing::info!(addr = %bound, role = admin.role, "serving /healthz and /metrics for the operator");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let admin = Arc::new(admin);
    let app = router(Arc::clone(&admin));
    let handle = tokio::spawn(server::serve(listener, app, limits, async move {
        let _ = stopped.await;
    }));
    Ok(Some(AdminServer {
        addr: bound,
        admin,
        stop,
        handle,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn healthy_when_every_check_passes_and_says_which_failed() {
        let ok = Admin::new("serve")
            .check("dataset", || async {
                Ok(serde_json::json!({ "statements": 3 }))
            })
            .check("store", || async { Ok(serde_json::Value::Null) });
        let (healthy, body) = ok.health().await;
        assert!(healthy);
        assert_eq!(body["status"], "ok");
        assert_eq!(body["role"], "serve");
        assert_eq!(
            body["checks"]["dataset"],
            serde_json::json!({"ok": true, "statements": 3})
        );
        assert_eq!(body["checks"]["store"], serde_json::json!({"ok": true}));

        let failing = ok.check("shards", || async {
            Err("0 of 2 shards connected".to_owned())
        });
        let (healthy, body) = failing.health().await;
        assert!(!healthy);
        assert_eq!(body["status"], "unavailable");
        assert_eq!(body["checks"]["shards"]["ok"], false);
        assert_eq!(body["checks"]["shards"]["error"], "0 of 2 shards connected");
        assert_eq!(body["checks"]["store"]["ok"], true);
    }

    #[tokio::test]
    async fn a_check_that_hangs_fails_after_the_timeout() {
        let admin = Admin::new("gateway").check("store", std::future::pending);
        let (healthy, body) = admin.health().await;
        assert!(!healthy);
        assert!(
            body["checks"]["store"]["error"]
                .as_str()
                .unwrap()
                .contains("no answer within 2 s"),
            "{body}"
        );
    }
}
