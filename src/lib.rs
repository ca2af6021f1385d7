//! karabakh-reactions: a Discord bot that quotes the international reactions to the
//! 2020 Nagorno-Karabakh war from a cited dataset.
//!
//! Data flows one way: source text → [`dataset`] → [`query`] → [`reply`] → Discord JSON
//! ([`discord`]). [`commands`] holds the one command table and the pure [`commands::Core`];
//! the edges ([`console`], [`discord`], [`store`]) do the I/O.

pub mod cli;
pub mod commands;
pub mod config;
pub mod console;
pub mod dataset;
pub mod discord;
pub mod query;
pub mod reply;
pub mod schedule;
pub mod service;
pub mod startup;
pub mod store;
pub mod text;
