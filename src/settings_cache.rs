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
//!
//! A miss is one read of the store, however many requests want the server at once:
//! a request that finds a read of its server in flight, started since the last
//! notice, waits for that read's value instead of asking the store too (without it,
//! every request in flight when an entry expired or was dropped asked the database,
//! and under load they queued for its connections).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use karabakh_core::settings::GuildSettings;
use karabakh_store::{Changed, Store, StoreResult};
use tokio::sync::broadcast::{Receiver, error::TryRecvError};
use tokio::sync::watch;

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
    /// The store reads in flight, by server.
    loading: HashMap<u64, Flight>,
    /// Names the reads in flight.
    flights: u64,
}

/// A read of the store in flight: the requests that want the same server meanwhile
/// wait for its value.
struct Flight {
    id: u64,
    /// The epoch it started at: a request joins it only if no notice came since.
    epoch: u64,
    /// Its value once read; left `None` if the read failed or was given up.
    value: watch::Receiver<Option<GuildSettings>>,
}

/// What a request that missed does: read the store for everyone, or wait for the
/// read in flight.
enum Miss {
    Read {
        id: u64,
        value: watch::Sender<Option<GuildSettings>>,
    },
    Wait(watch::Receiver<Option<GuildSettings>>),
}

/// Takes a read's flight off the list when the read ends, however it ends (done,
/// failed, or dropped with the request).
struct Landing<'a> {
    cache: &'a SettingsCache,
    guild_id: u64,
    id: u64,
}

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        let mut inner = self.cache.inner();
        if inner
            .loading
            .get(&self.guild_id)
            .is_some_and(|f| f.id == self.id)
        {
            inner.loading.remove(&self.guild_id);
        }
    }
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
                loading: HashMap::new(),
                flights: 0,
            }),
        }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A server's settings: from memory when fresh, else from the read of the store
    /// in flight for it, else from the store.
    pub async fn get(&self, guild_id: u64) -> StoreResult<GuildSettings> {
        let (epoch, miss) = {
            let mut inner = self.inner();
            inner.take_notices();
            if let Some((settings, at)) = inner.entries.get(&guild_id)
                && at.elapsed() < self.ttl
            {
                return Ok(settings.clone());
            }
            let epoch = inner.epoch;
            let miss = match inner.loading.get(&guild_id) {
                Some(flight) if flight.epoch == epoch => Miss::Wait(flight.value.clone()),
                _ => {
                    inner.flights += 1;
                    let id = inner.flights;
                    let (value, waiting) = watch::channel(None);
                    let flight = Flight {
                        id,
                        epoch,
                        value: waiting,
                    };
                    inner.loading.insert(guild_id, flight);
                    Miss::Read { id, value }
                }
            };
            (epoch, miss)
        };
        match miss {
            Miss::Wait(mut value) => {
                if let Ok(settings) = value.wait_for(Option::is_some).await
                    && let Some(settings) = settings.as_ref()
                {
                    return Ok(settings.clone());
                }
                // The read failed or was given up: this request reads for itself.
                self.read(guild_id, epoch).await
            }
            Miss::Read { id, value } => {
                let _landing = Landing {
                    cache: self,
                    guild_id,
                    id,
                };
                let settings = self.read(guild_id, epoch).await?;
                let _ = value.send(Some(settings.clone()));
                Ok(settings)
            }
        }
    }

    /// Reads the store, and keeps the value if no notice came since `epoch`.
    async fn read(&self, guild_id: u64, epoch: u64) -> StoreResult<GuildSettings> {
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
