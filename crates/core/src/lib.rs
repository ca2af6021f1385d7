//! The bot's pure core: everything it knows and decides, with no I/O.
//!
//! Data flows one way: the built [`dataset`] → [`query`] → [`reply`] (Discord's limits
//! kept here and nowhere else). [`commands`] holds the one command table and
//! [`commands::Core`], which answers every request with a reply and the change it asks
//! for. [`settings`] and [`schedule`] are the rules of what servers configure and of
//! the daily posts. The edges (Discord, the HTTP endpoint, the console, the database)
//! live in other crates and depend on this one, never the other way: this crate's
//! manifest has no async runtime, no Discord library, no SQL and no HTTP.

pub mod commands;
pub mod dataset;
pub mod lease;
pub mod query;
pub mod reply;
pub mod schedule;
pub mod settings;
pub mod site;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod text;
