//! The commands: one table ([`COMMANDS`]) that drives dispatch, registration, `/help`
//! and the console, and [`Core::respond`], which turns a [`Request`] into a
//! [`Response`] with no I/O: the reply, and the change to a server's settings (an
//! [`Effect`]) that the transport applies before sending it.
//!
//! - `table`: the table's types and [`COMMANDS`];
//! - `request`: what reaches the core and what it gives back;
//! - `core`: [`Core`], who may use what, and dispatch;
//! - `statement`: statements rendered once, as every answer shows them;
//! - one module per command (`reaction`, `timeline`, …) and `parse`, the command
//!   line typed at the console.

mod about;
mod attach;
pub mod config;
mod core;
mod parse;
mod reaction;
mod request;
mod search;
mod source;
mod statement;
mod table;
mod timeline;
mod topic;

pub use self::core::{Core, CoreConfig};
pub use parse::{ParseError, Parsed, parse_line};
pub use request::{
    AnswerKey, Answered, Call, Context, Effect, Options, Request, RequestKind, Resolution,
    Response, Value,
};
pub use statement::Who;
pub use table::{
    ADMINISTRATOR, COMMANDS, CommandSpec, Complete, Kind, MANAGE_GUILD, OnButton, OptionSpec,
    PRIVATE, Permission, Run, SubcommandSpec, spec,
};
