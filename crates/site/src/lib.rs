//! The bot's public web site and the charts of its replies, as pure functions: no
//! I/O, no clock, no async runtime. [`Site::page`] answers a path (and query) with a
//! [`Page`]: `serve` calls it for every GET, `karabakh-reactions site build DIR`
//! writes every path of [`Site::paths`] to files, so the live site and a static copy
//! are the same pages.
//!
//! Pages are HTML from askama templates (`templates/`, checked when this crate is
//! compiled), built from the core's dataset and indexes, so they show what the bot
//! answers: an actor's page lists what `/reaction` lists, a day's what `/timeline`
//! lists, a citation's what `/source` lists, the search page what `/search` finds.
//! Addresses come from [`karabakh_core::site`], which the bot's link buttons use too.
//! Links between pages are relative, so a static copy works under any path.
//!
//! No page needs JavaScript (none is sent). Each page is a few kilobytes of HTML, one
//! small stylesheet and at most one chart (a PNG of 4 to 14 KB).

pub mod charts;
mod dates;
pub mod html;
mod pages;
mod views;

use std::collections::HashMap;
use std::hash::Hasher;
use std::sync::{Arc, Mutex};

use karabakh_core::commands::Core;
use karabakh_core::reply::ChartSpec;

use crate::charts::ChartCache;
use crate::dates::DateIndex;

/// What the operator tells the site.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The site's public address (`https://host[/path]`, no trailing slash): pages
    /// name their canonical address there.
    pub public_url: Option<String>,
    /// Served by `serve`: the search page answers queries. A static build (false)
    /// says that searching needs the live site, and where to browse instead.
    pub live: bool,
}

/// How long a response may be kept by browsers and proxies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caching {
    /// A page: an hour, then revalidated with its ETag.
    Page,
    /// A file whose address names its content (a chart by its key, the stylesheet by
    /// its hash): a year, immutable.
    Immutable,
    /// Not kept (a 404).
    None,
}

impl Caching {
    /// The `Cache-Control` value.
    pub fn header(self) -> &'static str {
        match self {
            Caching::Page => "public, max-age=3600",
            Caching::Immutable => "public, max-age=31536000, immutable",
            Caching::None => "no-store",
        }
    }
}

/// One response of the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// 200, or 404 for [`Site::not_found`].
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    pub caching: Caching,
    /// A strong validator: a hash of the body, quoted.
    pub etag: String,
}

impl Page {
    fn new(content_type: &'static str, body: Vec<u8>, caching: Caching) -> Self {
        let mut h = twox_hash::XxHash64::with_seed(0x6b61_7261);
        h.write(&body);
        Page {
            status: 200,
            content_type,
            etag: format!("\"{:016x}\"", h.finish()),
            body,
            caching,
        }
    }

    fn html(body: String) -> Self {
        Self::new("text/html; charset=utf-8", body.into_bytes(), Caching::Page)
    }
}

/// The site's stylesheet and icon, built into the binary.
pub const CSS: &str = include_str!("../assets/site.css");
pub const ICON: &str = include_str!("../assets/icon.svg");

/// The site over one core: its pages, cached once rendered (all but search results
/// and 404s), and the charts they show.
pub struct Site {
    core: Arc<Core>,
    charts: Arc<ChartCache>,
    options: Options,
    dates: DateIndex,
    /// Every chart a page shows, by cache key: `/charts/<key>.png`.
    chart_specs: HashMap<u64, ChartSpec>,
    css_path: String,
    rendered: Mutex<HashMap<String, Arc<Page>>>,
}

impl std::fmt::Debug for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Site")
            .field("options", &self.options)
            .field("charts", &self.chart_specs.len())
            .finish()
    }
}

/// The path of the stylesheet: its content's hash in the name.
fn css_path() -> String {
    let mut h = twox_hash::XxHash64::with_seed(0);
    h.write(CSS.as_bytes());
    format!("/assets/site-{:08x}.css", h.finish() as u32)
}

pub const ICON_PATH: &str = "/assets/icon.svg";

impl Site {
    /// The site over `core`, drawing its charts through `charts` (the bot's cache,
    /// so a chart drawn for a reply serves the page too).
    pub fn new(core: Arc<Core>, charts: Arc<ChartCache>, options: Options) -> Self {
        let dates = DateIndex::new(&core);
        let mut site = Site {
            core,
            charts,
            options: Options {
                public_url: options
                    .public_url
                    .map(|u| u.trim().trim_end_matches('/').to_owned())
                    .filter(|u| !u.is_empty()),
                ..options
            },
            dates,
            chart_specs: HashMap::new(),
            css_path: css_path(),
            rendered: Mutex::new(HashMap::new()),
        };
        site.chart_specs = pages::every_chart(&site)
            .into_iter()
            .map(|spec| (charts::key(&spec), spec))
            .collect();
        site
    }

    pub fn core(&self) -> &Core {
        &self.core
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The page at `target` (a path with an optional `?query`), or None when there is
    /// none. Everything but search results is rendered once and then cached.
    pub fn page(&self, target: &str) -> Option<Arc<Page>> {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        if path == karabakh_core::site::SEARCH && self.options.live {
            return pages::render(self, path, query).map(Arc::new);
        }
        if let Some(page) = self.cached(path) {
            return Some(page);
        }
        let page = Arc::new(pages::render(self, path, "")?);
        self.lock().insert(path.to_owned(), Arc::clone(&page));
        Some(page)
    }

    /// The page at `target` rendered now, without the cache (the static build, which
    /// renders each page once, and the benchmarks).
    pub fn render(&self, target: &str) -> Option<Page> {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let query = if path == karabakh_core::site::SEARCH && self.options.live {
            query
        } else {
            ""
        };
        pages::render(self, path, query)
    }

    /// The page at `path` if it was rendered already: cheap enough for an async
    /// worker (a lock and a hash lookup), unlike a first rendering.
    pub fn cached(&self, path: &str) -> Option<Arc<Page>> {
        self.lock().get(path).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Page>>> {
        self.rendered.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `path` names a page, chart or asset of the site (without rendering it).
    pub fn has(&self, path: &str) -> bool {
        pages::exists(self, path)
    }

    /// The 404 page for `path`: a short explanation and the ways in.
    pub fn not_found(&self, path: &str) -> Page {
        let mut page = Page::html(pages::not_found(self, path));
        page.status = 404;
        page.caching = Caching::None;
        page
    }

    /// Where a path without its final `/` should go (`/actors/turkey` →
    /// `/actors/turkey/`), if there is a page there.
    pub fn redirect(&self, path: &str) -> Option<String> {
        if path.ends_with('/') {
            return None;
        }
        let with_slash = format!("{path}/");
        pages::exists(self, &with_slash).then_some(with_slash)
    }

    /// Every path a static copy holds: each page (the search page as the static
    /// build shows it), each chart and each asset.
    pub fn paths(&self) -> Vec<String> {
        let mut paths = pages::every_page(self);
        let mut charts: Vec<String> = self.chart_specs.keys().map(|k| chart_path(*k)).collect();
        charts.sort();
        paths.extend(charts);
        paths.push(self.css_path.clone());
        paths.push(ICON_PATH.to_owned());
        paths
    }

    /// The chart with cache key `key` as PNG, drawn if it was not yet.
    fn chart_png(&self, key: u64) -> Option<Vec<u8>> {
        let spec = self.chart_specs.get(&key)?;
        self.charts.get(spec).ok().map(|c| c.png.clone())
    }
}

/// A chart's address: `/charts/<cache key>.png`.
pub fn chart_path(key: u64) -> String {
    format!("/charts/{key:016x}.png")
}

/// `to` (a site path) as a link from the page at `from`: relative, so that a static
/// copy works wherever it is put. `/actors/turkey/` to `/statements/s2.1/` is
/// `../../statements/s2.1/`.
pub fn relative(from: &str, to: &str) -> String {
    let depth = from
        .split('?')
        .next()
        .unwrap_or("")
        .trim_start_matches('/')
        .matches('/')
        .count();
    let up = if depth == 0 {
        "./".to_owned()
    } else {
        "../".repeat(depth)
    };
    let target = to.trim_start_matches('/');
    if target.is_empty() {
        up
    } else if depth == 0 {
        target.to_owned()
    } else {
        format!("{up}{target}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_relative_to_the_page() {
        assert_eq!(relative("/", "/actors/"), "actors/");
        assert_eq!(relative("/", "/"), "./");
        assert_eq!(relative("/actors/", "/"), "../");
        assert_eq!(
            relative("/actors/turkey/", "/statements/s2.1/"),
            "../../statements/s2.1/"
        );
        assert_eq!(relative("/search/", "/search/?q=a+b"), "../search/?q=a+b");
        assert_eq!(
            relative("/dates/2020-10/", "/charts/ab.png"),
            "../../charts/ab.png"
        );
    }
}
