//! Answers the HTTP endpoint has already written, kept by their answer key
//! ([`Request::answer_key`](karabakh_core::commands::Request::answer_key)): the core
//! is pure, so a request with the same key gets the same reply, and the same bytes
//! (the JSON, or the multipart body with the chart's picture) can go out again
//! without asking the core, rendering the reply, or copying the picture. The key
//! holds today's date where the server keeps its time, so an answer dated "today" is
//! never given after its day.
//!
//! The kept bodies are bounded in bytes ([`DEFAULT_BUDGET`]): past the budget, the
//! least recently given go first, down to three quarters of it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::HeaderValue;
use karabakh_core::commands::{AnswerKey, RequestKind, Resolution};

/// How many bytes of bodies [`Written::default`] keeps: a few hundred answers, those
/// with a chart some 10 KB each.
pub const DEFAULT_BUDGET: usize = 4 * 1024 * 1024;

/// One answer as it goes out, and what it was (for the metrics and the log line).
#[derive(Debug, Clone)]
pub struct Answer {
    pub body: Bytes,
    pub content_type: HeaderValue,
    /// The command by its name in the table (`None`: a name the table does not have).
    pub command: Option<&'static str>,
    pub kind: RequestKind,
    pub resolution: Resolution,
}

/// The kept answers, with hit and miss counters.
pub struct Written {
    budget: usize,
    inner: Mutex<Inner>,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Default)]
struct Inner {
    /// Each answer and when it was last given (a tick of `clock`).
    answers: HashMap<AnswerKey, (Arc<Answer>, u64)>,
    bytes: usize,
    clock: u64,
}

impl Default for Written {
    fn default() -> Self {
        Self::new(DEFAULT_BUDGET)
    }
}

impl Written {
    pub fn new(budget: usize) -> Self {
        Self {
            budget,
            inner: Mutex::new(Inner::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves a consistent map: keep using it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The answer kept for `key`, if any.
    pub fn get(&self, key: &AnswerKey) -> Option<Arc<Answer>> {
        let mut inner = self.lock();
        inner.clock += 1;
        let tick = inner.clock;
        let found = inner.answers.get_mut(key).map(|(answer, used)| {
            *used = tick;
            Arc::clone(answer)
        });
        drop(inner);
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Keeps `answer` for `key` (an answer bigger than the whole budget is not kept).
    pub fn insert(&self, key: AnswerKey, answer: Arc<Answer>) {
        let size = answer.body.len();
        if size > self.budget {
            return;
        }
        let mut inner = self.lock();
        inner.clock += 1;
        let tick = inner.clock;
        if let Some((old, _)) = inner.answers.insert(key, (answer, tick)) {
            inner.bytes -= old.body.len();
        }
        inner.bytes += size;
        if inner.bytes > self.budget {
            // The least recently given first, down to three quarters of the budget:
            // one sort for many inserts.
            let mut by_use: Vec<(u64, usize)> = inner
                .answers
                .values()
                .map(|(a, used)| (*used, a.body.len()))
                .collect();
            by_use.sort_unstable();
            let mut freed = 0;
            let mut oldest_kept = 0;
            for (used, len) in by_use {
                if inner.bytes - freed <= self.budget / 4 * 3 {
                    oldest_kept = used;
                    break;
                }
                freed += len;
                oldest_kept = used + 1;
            }
            inner.answers.retain(|_, (_, used)| *used >= oldest_kept);
            inner.bytes = inner.answers.values().map(|(a, _)| a.body.len()).sum();
        }
    }

    /// (hits, misses) since start.
    pub fn stats(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// How many answers are kept, and their bytes.
    pub fn size(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.answers.len(), inner.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use karabakh_core::commands::{Call, Context, Request, Value};

    fn key(n: usize) -> AnswerKey {
        let context = Context::new("2026-11-25T12:00:00Z".parse().unwrap());
        let call = Call::new(
            "search",
            vec![("query".into(), Value::Text(n.to_string()))],
            context,
        );
        Request::Command(call).answer_key().unwrap()
    }

    fn answer(len: usize) -> Arc<Answer> {
        Arc::new(Answer {
            body: Bytes::from(vec![b'x'; len]),
            content_type: HeaderValue::from_static("application/json"),
            command: Some("search"),
            kind: RequestKind::Command,
            resolution: Resolution::Answered,
        })
    }

    #[test]
    fn kept_bodies_stay_within_the_budget_and_the_recently_given_stay() {
        let written = Written::new(10_000);
        written.insert(key(0), answer(1_000));
        for n in 1..100 {
            assert!(
                written.get(&key(0)).is_some(),
                "given again and again: kept"
            );
            written.insert(key(n), answer(1_000));
            assert!(written.size().1 <= 10_000, "{:?}", written.size());
        }
        assert!(written.get(&key(99)).is_some());
        assert!(written.get(&key(1)).is_none(), "long unused: gone");
        written.insert(key(200), answer(20_000));
        assert!(written.get(&key(200)).is_none(), "bigger than the budget");
        let (hits, misses) = written.stats();
        assert_eq!((hits, misses), (100, 2));
    }
}
