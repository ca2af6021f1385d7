//! karabakh-reactions: a Discord bot that quotes the international reactions to the
//! 2020 Nagorno-Karabakh war from a cited dataset.
//!
//! This package is the bot's edges: the pure core ([`karabakh_core`]) decides every
//! answer, and the modules here move it in and out. Data flows one way: source text →
//! dataset → query → reply (all in the core) → Discord JSON ([`discord`]) or text
//! ([`console`]). [`service`] is the one path every transport takes through the core
//! and the settings store ([`karabakh_store`]); [`scheduler`] sends the daily posts.

pub mod admin;
pub mod cli;
pub mod console;
pub mod discord;
pub mod fuzzing;
pub mod metrics;
pub mod operator;
pub mod scheduler;
pub mod server;
pub mod service;
pub mod settings_cache;
pub mod startup;
pub mod web;
