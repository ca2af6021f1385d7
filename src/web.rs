//! The public site on `serve`'s listener, and its static build. The pages are
//! [`karabakh_site::Site`]'s; this module moves them: GET and HEAD of any path the
//! site has (its pages, charts and assets), with caching headers, and
//! `karabakh-reactions site build DIR`, which writes the same pages as files.
//!
//! A page already rendered is answered from memory on the async worker (a lock and a
//! hash lookup); the first rendering of a page, a chart's drawing and every search
//! run on the blocking pool, so no worker waits for milliseconds of CPU work.

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use karabakh_site::{Page, Site};

/// What every HTML page allows: nothing but its own stylesheet, images and form.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; img-src 'self'; style-src 'self'; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The site's routes: every GET or HEAD that no other route of the listener takes.
pub fn router(site: Arc<Site>) -> Router {
    Router::new().fallback(handle).with_state(site)
}

async fn handle(
    State(site): State<Arc<Site>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path().to_owned();
    let target = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.clone(),
    };
    if method != Method::GET && method != Method::HEAD {
        // A path the site has answers only GET; any other is not found.
        if site.has(&path) || site.redirect(&path).is_some() {
            let mut r = (StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n").into_response();
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return r;
        }
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    }
    let searching = path == karabakh_core::site::SEARCH && uri.query().is_some();
    let page = match (!searching).then(|| site.cached(&path)).flatten() {
        Some(page) => Some(page),
        None => {
            let s = Arc::clone(&site);
            let t = target.clone();
            match tokio::task::spawn_blocking(move || s.page(&t)).await {
                Ok(page) => page,
                Err(error) => {
                    tracing::error!(%error, path, "rendering a page failed");
                    return (StatusCode::INTERNAL_SERVER_ERROR, "the page failed\n")
                        .into_response();
                }
            }
        }
    };
    let response = match page {
        Some(page) => respond(&page, &headers),
        None => match site.redirect(&path) {
            Some(to) => {
                let location = match uri.query() {
                    Some(q) => format!("{to}?{q}"),
                    None => to,
                };
                let mut r = StatusCode::PERMANENT_REDIRECT.into_response();
                if let Ok(v) = HeaderValue::from_str(&location) {
                    r.headers_mut().insert(header::LOCATION, v);
                }
                r
            }
            None => respond(&site.not_found(&path), &headers),
        },
    };
    tracing::debug!(path, status = response.status().as_u16(), "site");
    response
}

/// A page as an HTTP response: its type, caching headers and ETag (304 when the
/// client has it), and for HTML the security headers.
fn respond(page: &Page, request: &HeaderMap) -> Response {
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == page.etag || t.trim() == "*")
        });
    let status = StatusCode::from_u16(page.status).unwrap_or(StatusCode::OK);
    let mut response = if fresh && status == StatusCode::OK {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = Response::new(Body::from(page.body.clone()));
        *r.status_mut() = status;
        r
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(page.content_type),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(page.caching.header()),
    );
    if let Ok(etag) = HeaderValue::from_str(&page.etag) {
        h.insert(header::ETAG, etag);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if page.content_type.starts_with("text/html") {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        );
    }
    response
}

/// What a static build wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Built {
    pub pages: usize,
    pub charts: usize,
    pub assets: usize,
    pub bytes: u64,
    /// The largest HTML page: its path and size in bytes.
    pub largest: (String, usize),
}

/// Writes every path of the site under `dir`: a page at `/a/b/` as `a/b/index.html`,
/// a file at `/a/b.png` as `a/b.png`, and `404.html` for static hosts.
pub fn build(site: &Site, dir: &Path) -> Result<Built, String> {
    let mut built = Built::default();
    let write = |relative: &str, body: &[u8]| -> Result<(), String> {
        let file = dir.join(relative);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&file, body).map_err(|e| format!("cannot write {}: {e}", file.display()))
    };
    for path in site.paths() {
        let page = site
            .render(&path)
            .ok_or_else(|| format!("the site lists {path} but has no page there"))?;
        let relative = path.trim_start_matches('/');
        if path.ends_with('/') {
            write(&format!("{relative}index.html"), &page.body)?;
            built.pages += 1;
            if page.body.len() > built.largest.1 {
                built.largest = (path.clone(), page.body.len());
            }
        } else {
            write(relative, &page.body)?;
            if path.starts_with("/charts/") {
                built.charts += 1;
            } else {
                built.assets += 1;
            }
        }
        built.bytes += page.body.len() as u64;
    }
    let missing = site.not_found("/404.html");
    write("404.html", &missing.body)?;
    built.bytes += missing.body.len() as u64;
    Ok(built)
}
