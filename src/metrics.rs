//! The bot's metrics, kept by `prometheus-client` and shown in Prometheus' text format
//! (version 0.0.4) on the admin address ([`crate::admin`]). Each role keeps its own
//! set in a registry of its own: the HTTP endpoint's ([`crate::discord::endpoint::Metrics`]),
//! the gateway's ([`crate::discord::gateway::GatewayMetrics`]) and the scheduler's
//! ([`SchedulerMetrics`]); a process shows every set it runs, one after the other.
//! Tests read a set's own text ([`MetricSet::render`]), so counts never leak between
//! the endpoints of one test binary.
//!
//! Names are the same wherever the meaning is: `kr_interactions_total` counts the
//! interactions answered, by command, kind and outcome, whichever transport brought
//! them ([`Interactions`]).

use std::sync::OnceLock;
use std::time::Duration;

use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::service::Handled;
use karabakh_core::commands::{COMMANDS, RequestKind, Resolution};

/// The `Content-Type` of [`MetricSet::render`]'s text.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// A role's metrics: its registry, shown in the text format.
pub trait MetricSet: Send + Sync {
    fn registry(&self) -> &Registry;

    /// The set in Prometheus' text format.
    fn render(&self) -> String {
        let mut text = String::with_capacity(4096);
        self.render_into(&mut text);
        text
    }

    fn render_into(&self, text: &mut String) {
        // Writing into a String cannot fail.
        let _ = prometheus_text::encode(text, self.registry());
    }
}

/// A label set of `N` fixed names and values.
pub type Labels<const N: usize> = [(&'static str, &'static str); N];

/// `kr_interactions_total{command,kind,outcome}`: interactions answered (PING
/// excluded). Each command's ("command", "ok") series is listed from the start; the
/// rest appear once they happen. A series' counter is looked up once, then kept, so
/// counting is one relaxed increment.
pub struct Interactions {
    family: Family<Labels<3>, Counter>,
    /// `[command][kind][resolution]`: the commands of the table, then "unknown".
    cells: [[[OnceLock<Counter>; RESOLUTIONS]; KINDS]; COMMAND_SLOTS],
}

const KINDS: usize = RequestKind::ALL.len();
const RESOLUTIONS: usize = Resolution::ALL.len();
/// Room for every command of the table and "unknown" (checked by a test).
const COMMAND_SLOTS: usize = 16;

impl Interactions {
    /// Registers the family in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let family = Family::<Labels<3>, Counter>::default();
        registry.register(
            "kr_interactions",
            "Interactions answered, by command, kind and outcome",
            family.clone(),
        );
        let this = Self {
            family,
            cells: Default::default(),
        };
        for slot in 0..COMMANDS.len() {
            this.cell(slot, 0, 0);
        }
        this
    }

    fn cell(&self, slot: usize, kind: usize, resolution: usize) -> &Counter {
        self.cells[slot][kind][resolution].get_or_init(|| {
            let command = COMMANDS.get(slot).map_or("unknown", |s| s.name);
            self.family
                .get_or_create(&[
                    ("command", command),
                    ("kind", RequestKind::ALL[kind].label()),
                    ("outcome", Resolution::ALL[resolution].label()),
                ])
                .clone()
        })
    }

    /// Counts one answered request.
    pub fn handled(&self, h: &Handled) {
        self.cell(
            command_slot(h.command),
            h.kind as usize,
            h.resolution as usize,
        )
        .inc();
    }

    /// How many interactions were answered, all series together.
    pub fn total(&self) -> u64 {
        self.cells
            .iter()
            .flatten()
            .flatten()
            .filter_map(|c| c.get().map(Counter::get))
            .sum()
    }
}

/// A command's slot: its place in the table, or the last one for "unknown".
fn command_slot(command: Option<&str>) -> usize {
    command
        .and_then(|name| COMMANDS.iter().position(|s| s.name == name))
        .unwrap_or(COMMANDS.len())
}

/// A histogram of durations in seconds with these upper bounds.
pub fn seconds_histogram(bounds: &[f64]) -> Histogram {
    Histogram::new(bounds.iter().copied())
}

/// Observes `elapsed` in seconds.
pub fn observe(histogram: &Histogram, elapsed: Duration) {
    histogram.observe(elapsed.as_secs_f64());
}

/// The daily posts' scheduler's metrics: what became of each due post, and the leases
/// this process holds. The scheduler calls these hooks; the admin address shows them
/// in every process that runs the scheduler.
pub struct SchedulerMetrics {
    registry: Registry,
    posts: Family<Labels<1>, Counter>,
    leases: Family<Labels<1>, Counter>,
    leases_held: Gauge,
    delay: Histogram,
    ticks: Counter,
}

/// What became of a due post, as `kr_daily_posts_total{outcome}` counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostCount {
    /// The message went out.
    Sent,
    /// Given up without sending: a missed or empty day, or one already posted.
    Skipped,
    /// The attempt failed and will be retried later.
    Retried,
    /// The attempt failed for good (gave up, or the store could not record it).
    Failed,
    /// The channel refused the bot (403/404): the schedule is paused.
    Paused,
}

impl PostCount {
    pub const ALL: [PostCount; 5] = [
        PostCount::Sent,
        PostCount::Skipped,
        PostCount::Retried,
        PostCount::Failed,
        PostCount::Paused,
    ];

    pub fn label(self) -> &'static str {
        match self {
            PostCount::Sent => "sent",
            PostCount::Skipped => "skipped",
            PostCount::Retried => "retried",
            PostCount::Failed => "failed",
            PostCount::Paused => "paused",
        }
    }
}

/// What happened to a lease on a due post, as `kr_schedule_leases_total{event}` counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseEvent {
    /// This process leased a due post.
    Taken,
    /// A record was refused because another process holds the lease now (fenced).
    Lost,
}

impl LeaseEvent {
    pub const ALL: [LeaseEvent; 2] = [LeaseEvent::Taken, LeaseEvent::Lost];

    pub fn label(self) -> &'static str {
        match self {
            LeaseEvent::Taken => "taken",
            LeaseEvent::Lost => "lost",
        }
    }
}

/// Upper bounds of `kr_daily_post_delay_seconds`: how long after its due minute a post
/// went out (the target is within 5 s).
const POST_DELAY_BOUNDS: [f64; 10] = [0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0];

impl Default for SchedulerMetrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let posts = Family::<Labels<1>, Counter>::default();
        registry.register(
            "kr_daily_posts",
            "Due daily posts handled by this process, by outcome",
            posts.clone(),
        );
        for outcome in PostCount::ALL {
            let _ = posts.get_or_create(&[("outcome", outcome.label())]);
        }
        let leases = Family::<Labels<1>, Counter>::default();
        registry.register(
            "kr_schedule_leases",
            "Leases on due posts taken, taken over after expiry, or lost to another process",
            leases.clone(),
        );
        for event in LeaseEvent::ALL {
            let _ = leases.get_or_create(&[("event", event.label())]);
        }
        let leases_held = Gauge::default();
        registry.register(
            "kr_schedule_leases_held",
            "Leases on due posts this process holds now",
            leases_held.clone(),
        );
        let delay = seconds_histogram(&POST_DELAY_BOUNDS);
        registry.register(
            "kr_daily_post_delay_seconds",
            "Time from a post's due minute until it was sent",
            delay.clone(),
        );
        let ticks = Counter::default();
        registry.register(
            "kr_schedule_ticks",
            "Times the scheduler looked for due posts",
            ticks.clone(),
        );
        Self {
            registry,
            posts,
            leases,
            leases_held,
            delay,
            ticks,
        }
    }
}

impl SchedulerMetrics {
    /// Counts a due post's outcome.
    pub fn post(&self, outcome: PostCount) {
        self.posts
            .get_or_create(&[("outcome", outcome.label())])
            .inc();
    }

    /// A post went out `late` after its due minute (also counts it as sent).
    pub fn sent(&self, late: Duration) {
        self.post(PostCount::Sent);
        observe(&self.delay, late);
    }

    /// Counts `n` lease events of one kind.
    pub fn leases(&self, event: LeaseEvent, n: u64) {
        self.leases
            .get_or_create(&[("event", event.label())])
            .inc_by(n);
    }

    /// How many leases this process holds now.
    pub fn set_leases_held(&self, n: u64) {
        self.leases_held.set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// One look for due posts.
    pub fn tick(&self) {
        self.ticks.inc();
    }

    /// The count of one outcome so far.
    pub fn posts(&self, outcome: PostCount) -> u64 {
        self.posts
            .get(&[("outcome", outcome.label())])
            .map_or(0, |c| c.get())
    }
}

impl MetricSet for SchedulerMetrics {
    fn registry(&self) -> &Registry {
        &self.registry
    }
}

/// The value of one sample in metrics text (`name{labels} value`), if it is there.
pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_a_slot_and_unknown_one_more() {
        assert!(COMMANDS.len() < COMMAND_SLOTS);
    }

    #[test]
    fn interactions_list_each_commands_ok_series_and_count_exactly() {
        let mut registry = Registry::default();
        let i = Interactions::register(&mut registry);
        struct Set(Registry);
        impl MetricSet for Set {
            fn registry(&self) -> &Registry {
                &self.0
            }
        }
        let reaction = r#"kr_interactions_total{command="reaction",kind="command",outcome="ok"}"#;
        let unknown = r#"kr_interactions_total{command="unknown",kind="command",outcome="ok"}"#;
        let set = Set(registry);
        let before = set.render();
        assert!(
            before.contains("# TYPE kr_interactions_total counter"),
            "{before}"
        );
        assert_eq!(sample(&before, reaction), Some(0.0));
        assert_eq!(sample(&before, unknown), None);
        let handled = |command| Handled {
            reply: karabakh_core::reply::Reply::Choices(Vec::new()),
            command,
            kind: RequestKind::Command,
            resolution: Resolution::Answered,
        };
        i.handled(&handled(Some("reaction")));
        i.handled(&handled(Some("reaction")));
        i.handled(&handled(None));
        let after = set.render();
        assert_eq!(sample(&after, reaction), Some(2.0));
        assert_eq!(sample(&after, unknown), Some(1.0));
        assert_eq!(i.total(), 3);
    }

    #[test]
    fn scheduler_hooks_count_by_outcome_and_lease_event() {
        let m = SchedulerMetrics::default();
        let before = m.render();
        for outcome in PostCount::ALL {
            let series = format!("kr_daily_posts_total{{outcome=\"{}\"}}", outcome.label());
            assert_eq!(sample(&before, &series), Some(0.0), "{before}");
        }
        m.sent(Duration::from_millis(1500));
        m.post(PostCount::Skipped);
        m.leases(LeaseEvent::Taken, 3);
        m.set_leases_held(2);
        m.tick();
        let after = m.render();
        assert_eq!(
            sample(&after, r#"kr_daily_posts_total{outcome="sent"}"#),
            Some(1.0)
        );
        assert_eq!(
            sample(&after, r#"kr_daily_posts_total{outcome="skipped"}"#),
            Some(1.0)
        );
        assert_eq!(
            sample(&after, r#"kr_schedule_leases_total{event="taken"}"#),
            Some(3.0)
        );
        assert_eq!(sample(&after, "kr_schedule_leases_held"), Some(2.0));
        assert_eq!(
            sample(&after, r#"kr_daily_post_delay_seconds_bucket{le="1"}"#),
            Some(0.0)
        );
        assert_eq!(
            sample(&after, r#"kr_daily_post_delay_seconds_bucket{le="2"}"#),
            Some(1.0)
        );
        assert_eq!(sample(&after, "kr_schedule_ticks_total"), Some(1.0));
        assert_eq!(m.posts(PostCount::Sent), 1);
    }
}
