//! karabakh-reactions: a Discord bot that quotes the international reactions to the
//! 2020 Nagorno-Karabakh war from a cited dataset.
//!
//! Data flows one way: source text → [`dataset`] → `query` → `reply` → Discord JSON.

pub mod cli;
pub mod config;
pub mod dataset;
pub mod store;
pub mod text;
