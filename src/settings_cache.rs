//! A short-lived, per-process copy of servers' settings, so that a command's read of
//! its server's settings (visibility, time zone) is a memory read rather than a
//! database round trip.
//!
//! The bound: a change is seen by this process
//! - at once when it was made here (the service puts the saved settings in),
//! - as soon as its notice arrives otherwise: [`karabakh_store::Store::changes`]
//!   (PostgreSQL: `NOTIFY` at commit, milliseconds),
//! - and in any case within [`TTL`]: an entry older than that is read again (the
//!   backstop for a notice lost while the listener reconnected, which also empties
//!   the cache, or for processes sharing one SQLite file, which have no notices).
//!
//! Notices are taken in on each read (no task of its own): a read that started
//! before a notice and ends after it does not put its value in.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use karabakh_core::settings::GuildSettings;
use karabakh_store::{Changed, Store, StoreResult};
use tokio::sync::broadcast::{Receiver, error::TryRecvError};

/// The longest an entry is used without asking the database again.
pub const TTL: Duration = Duration::from_secs(5);

/// The most servers kept; past it the cache starts again empty (a cap on memory,
/// not an eviction policy: a bot answering this many servers within [`TTL`] reads
/// them again at most once per TTL each).
pub const MAX_ENTRIES: usize = 100_000;

/// See the module's documentation.
pub struct SettingsCache {
    store: Arc<dyn Store>,
    ttl: Duration,
    inner: Mutex<Inner>,
}

struct Inner {
    changes: Receiver<Changed>,
    entries: HashMap<u64, (GuildSettings, Instant)>,
    /// Counts the notices taken in: a read puts its value in only if none came
    /// while it read.
    epoch: u64,
}

impl Inner {
    fn take_notices(&mut self) {
        loop {
            match self.changes.try_recv() {
                Ok(Changed::Guild(guild)) => {
                    self.entries.remove(&guild);
                    self.epoch += 1;
                }
                Ok(Changed::All) | Err(TryRecvError::Lagged(_)) => {
                    self.entries.clear();
                    self.epoch += 1;
                }
                Err(TryRecvError::Empty | TryRecvError::Closed) => return,
            }
        }
    }

    fn put(&mut self, guild_id: u64, settings: GuildSettings) {
        if self.entries.len() >= MAX_ENTRIES && !self.entries.contains_key(&guild_id) {
            self.entries.clear();
        }
        self.entries.insert(guild_id, (settings, Instant::now()));
    }
}

impl SettingsCache {
    /// A cache in front of `store`, entries kept at most `ttl` ([`TTL`] in the bot).
    pub fn new(store: Arc<dyn Store>, ttl: Duration) -> Self {
        let changes = store.changes();
        SettingsCache {
            store,
            ttl,
            inner: Mutex::new(Inner {
                changes,
                entries: HashMap::new(),
                epoch: 0,
            }),
        }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A server's settings: from memory when fresh, else from the store.
    pub async fn get(&self, guild_id: u64) -> StoreResult<GuildSettings> {
        let epoch = {
            let mut inner = self.inner();
            inner.take_notices();
            if let Some((settings, at)) = inner.entries.get(&guild_id)
                && at.elapsed() < self.ttl
            {
                return Ok(settings.clone());
            }
            inner.epoch
        };
        let settings = self.store.guild_settings(guild_id).await?;
        let mut inner = self.inner();
        inner.take_notices();
        if inner.epoch == epoch {
            inner.put(guild_id, settings.clone());
        }
        Ok(settings)
    }

    /// The settings a change made in this process saved: used at once.
    pub fn put(&self, guild_id: u64, settings: GuildSettings) {
        let mut inner = self.inner();
        inner.take_notices();
        inner.put(guild_id, settings);
    }

    /// How many servers are held now (for tests and metrics).
    pub fn len(&self) -> usize {
        self.inner().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
