//! What the scheduler tick benchmarks share (`benches/schedule.rs` on SQLite,
//! `benches/schedule_pg.rs` on PostgreSQL): the instant of the tick, a poster that
//! posts nowhere, and a scheduler without pacing.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use jiff::Timestamp;
use karabakh_core::commands::Core;
use karabakh_core::reply::Message;
use karabakh_core::schedule::ChannelMessage;
use karabakh_reactions::scheduler::{PostError, Poster, Scheduler};
use karabakh_store::Store;

pub const NOW: &str = "2020-10-09T08:00:00Z";
pub const DAY: &str = "2020-10-09";

pub fn now() -> Timestamp {
    NOW.parse().unwrap()
}

/// Posts nowhere: every create succeeds at once (stands in for `rest::ChannelPoster`).
pub struct NoOp(AtomicU64);

impl Poster for NoOp {
    async fn create_message(&self, _: u64, _: &Message, _: &str) -> Result<u64, PostError> {
        Ok(self.0.fetch_add(1, Ordering::Relaxed))
    }
    async fn recent_messages(&self, _: u64, _: u8) -> Result<Vec<ChannelMessage>, PostError> {
        Ok(Vec::new())
    }
    async fn bot_user_id(&self) -> Result<u64, PostError> {
        Ok(1)
    }
}

/// A scheduler on `store` posting nowhere, without pacing: the tick's own cost, not
/// Discord's rate (at the default 40 requests a second, 5 posts would wait 100 ms for
/// their turns, 50 posts 1.2 s).
pub fn unpaced(store: Arc<dyn Store>, core: Arc<Core>) -> Scheduler<NoOp> {
    Scheduler::new(store, core, NoOp(AtomicU64::new(1))).with_requests_per_second(u32::MAX)
}
