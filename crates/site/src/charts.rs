//! The core's charts ([`ChartSpec`], what to draw) drawn with `karabakh-chart`, and a
//! small cache of the pictures, shared by every edge: the Discord replies (gateway and
//! HTTP endpoint alike), the console's text alternative, and the site's pages.
//!
//! Drawing a chart is a few milliseconds of CPU work: async callers look in the cache
//! with [`ChartCache::cached`] (a lock and a hash lookup) and draw a missing chart on
//! a blocking thread with [`ChartCache::render`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use karabakh_chart::{Chart, ChartError, ChartRequest, CoverageInput, StripInput, TimelineInput};
use karabakh_core::reply::ChartSpec;

/// The drawing library's input for a chart.
pub fn request(spec: &ChartSpec) -> ChartRequest {
    match spec {
        ChartSpec::Timeline {
            start,
            end,
            dates,
            marked,
        } => ChartRequest::Timeline(TimelineInput {
            start: *start,
            end: *end,
            dates: dates.clone(),
            marked: marked.clone(),
            title: None,
        }),
        ChartSpec::Strip { actor, dates } => ChartRequest::Strip(StripInput {
            actor: actor.clone(),
            dates: dates.clone(),
        }),
        ChartSpec::Coverage { dates } => ChartRequest::Coverage(CoverageInput {
            dates: dates.clone(),
            period: None,
            title: None,
        }),
    }
}

/// A chart's text alternative, as the drawing library writes it (the core's
/// [`karabakh_core::reply::ChartText`]). The core's specs are always drawable; should
/// one not be, the text says so rather than failing the answer.
pub fn alt_text(spec: &ChartSpec) -> String {
    request(spec)
        .alt_text()
        .unwrap_or_else(|e| format!("The chart could not be drawn: {e}."))
}

/// The cache key of a chart: equal keys, the same picture.
pub fn key(spec: &ChartSpec) -> u64 {
    request(spec).cache_key()
}

/// How many pictures [`ChartCache::default`] keeps: about 10 KB each.
pub const DEFAULT_CAPACITY: usize = 512;

/// Drawn charts by cache key, at most `capacity` of them (the least recently used
/// goes first), with hit and miss counters.
pub struct ChartCache {
    capacity: usize,
    inner: Mutex<Inner>,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Default)]
struct Inner {
    charts: HashMap<u64, (Arc<Chart>, u64)>,
    clock: u64,
}

impl Default for ChartCache {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

impl std::fmt::Debug for ChartCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChartCache")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}

impl ChartCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            inner: Mutex::new(Inner::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves a consistent map: keep using it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The picture for `key`, if it was drawn (counts a hit or a miss).
    pub fn cached(&self, key: u64) -> Option<Arc<Chart>> {
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        match inner.charts.get_mut(&key) {
            Some((chart, used)) => {
                *used = now;
                self.hits.fetch_add(1, Ordering::Relaxed);
                Some(Arc::clone(chart))
            }
            None => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Draws a chart (CPU work of milliseconds: off async workers) and keeps it.
    pub fn render(&self, spec: &ChartSpec) -> Result<Arc<Chart>, ChartError> {
        let request = request(spec);
        let key = request.cache_key();
        let chart = Arc::new(request.render()?);
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        if inner.charts.len() >= self.capacity && !inner.charts.contains_key(&key) {
            if let Some(oldest) = inner
                .charts
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| *k)
            {
                inner.charts.remove(&oldest);
            }
        }
        let kept = inner
            .charts
            .entry(key)
            .or_insert_with(|| (Arc::clone(&chart), now));
        kept.1 = now;
        Ok(Arc::clone(&kept.0))
    }

    /// The picture from the cache, or drawn now: for callers already off async
    /// workers (the console, the site's static build).
    pub fn get(&self, spec: &ChartSpec) -> Result<Arc<Chart>, ChartError> {
        match self.cached(key(spec)) {
            Some(chart) => Ok(chart),
            None => self.render(spec),
        }
    }

    pub fn len(&self) -> usize {
        self.lock().charts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// (hits, misses) since start.
    pub fn stats(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn strip(actor: &str) -> ChartSpec {
        ChartSpec::Strip {
            actor: actor.to_owned(),
            dates: vec![date(2020, 10, 2), date(2020, 10, 10)],
        }
    }

    #[test]
    fn a_chart_is_drawn_once_and_then_served_from_the_cache() {
        let cache = ChartCache::new(2);
        let spec = strip("Turkey");
        assert!(cache.cached(key(&spec)).is_none());
        let drawn = cache.render(&spec).unwrap();
        assert!(drawn.png.starts_with(b"\x89PNG"));
        let again = cache.cached(key(&spec)).unwrap();
        assert!(Arc::ptr_eq(&drawn, &again));
        assert_eq!(cache.stats(), (1, 1));
        assert_eq!(drawn.alt_text, alt_text(&spec));
    }

    #[test]
    fn the_least_recently_used_chart_leaves_first() {
        let cache = ChartCache::new(2);
        let (a, b, c) = (strip("A"), strip("B"), strip("C"));
        cache.render(&a).unwrap();
        cache.render(&b).unwrap();
        cache.cached(key(&a)).unwrap();
        cache.render(&c).unwrap();
        assert_eq!(cache.len(), 2);
        assert!(cache.cached(key(&a)).is_some());
        assert!(
            cache.cached(key(&b)).is_none(),
            "b was the least recently used"
        );
        assert!(cache.cached(key(&c)).is_some());
    }
}
