//! What every transport does with an interaction, apart from moving bytes: turn it
//! into the core's request, load the server's settings into it, ask the core, make
//! the requested change durable, and hand back the reply. The gateway and the HTTP
//! endpoint both call [`Service::handle`], so they always answer alike.

use std::sync::Arc;

use jiff::Timestamp;
use serenity::all::Interaction;

use crate::discord::interaction;
use karabakh_core::commands::{Core, Effect, Request};
use karabakh_core::reply::Reply;
use karabakh_store::{SettingsStore, StoreError};

/// How many audit records `/config show` lists.
pub const AUDIT_SHOWN: usize = 10;

/// The core and, when the bot has a database, the settings store.
#[derive(Clone)]
pub struct Service {
    pub core: Arc<Core>,
    pub store: Option<Arc<dyn SettingsStore>>,
}

/// A handled interaction: the reply, and what it was, for logs and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    pub reply: Reply,
    /// The command (or the command behind a button); "unknown" if none.
    pub command: String,
    /// "command", "autocomplete" or "button".
    pub kind: &'static str,
    /// "ok", "notice" (a polite private answer), or "error" (a change not saved).
    pub outcome: &'static str,
}

impl Service {
    pub fn new(core: Arc<Core>, store: Option<Arc<dyn SettingsStore>>) -> Self {
        Self { core, store }
    }

    /// Handles one interaction, blocking on the store when there is one (call it from
    /// `spawn_blocking` in async code). `None` for interactions the core does not
    /// answer (PING is the transport's).
    pub fn handle(&self, interaction: &Interaction, now: Timestamp) -> Option<Handled> {
        let request = interaction::request(interaction, now)?;
        Some(self.handle_request(request))
    }

    /// Handles a request already built.
    pub fn handle_request(&self, mut request: Request) -> Handled {
        let kind = match &request {
            Request::Command(_) => "command",
            Request::Autocomplete { .. } => "autocomplete",
            Request::Button { .. } => "button",
        };
        let command = request.spec().map_or("unknown", |s| s.name).to_owned();
        if let Err(e) = self.load(&mut request) {
            tracing::error!(error = %e, command, "could not read the server's settings");
            return Handled {
                reply: self.core.failure(),
                command,
                kind,
                outcome: "error",
            };
        }
        let outcome = self.core.respond(&request);
        let now = request.context().now;
        if let Some(Effect::Apply {
            guild_id,
            user_id,
            change,
        }) = &outcome.effect
        {
            let saved = match &self.store {
                Some(store) => store.apply(*guild_id, change, *user_id, now).map(|_| ()),
                None => Err(StoreError::Schedule {
                    guild_id: *guild_id,
                    reason: "the bot runs without a database".to_owned(),
                }),
            };
            if let Err(e) = saved {
                tracing::error!(error = %e, guild_id, command, "could not save a settings change");
                return Handled {
                    reply: self.core.failure(),
                    command,
                    kind,
                    outcome: "error",
                };
            }
            tracing::info!(guild_id, user_id, command, change = ?change, "settings changed");
        }
        let polite = match &outcome.reply {
            Reply::Message(m) | Reply::Update(m) => {
                m.private && outcome.effect.is_none() && is_notice(m)
            }
            Reply::Choices(_) => false,
        };
        Handled {
            reply: outcome.reply,
            command,
            kind,
            outcome: if polite { "notice" } else { "ok" },
        }
    }

    /// Puts the server's settings (and, for commands that show it, its audit trail)
    /// into the request's context.
    fn load(&self, request: &mut Request) -> Result<(), StoreError> {
        let (Some(store), Some(guild)) = (&self.store, request.context().guild_id) else {
            return Ok(());
        };
        let needs_audit = request.spec().is_some_and(|s| s.needs_audit);
        let settings = store.guild_settings(guild)?;
        let audit = if needs_audit {
            store.audit_trail(guild, AUDIT_SHOWN)?
        } else {
            Vec::new()
        };
        let context = match request {
            Request::Command(call) | Request::Autocomplete { call, .. } => &mut call.context,
            Request::Button { context, .. } => context,
        };
        context.settings = settings;
        context.audit = audit;
        Ok(())
    }
}

/// Whether a message is a polite notice (grey), not a dataset answer.
fn is_notice(m: &karabakh_core::reply::Message) -> bool {
    m.embed.color == karabakh_core::reply::NOTICE_COLOR
}
