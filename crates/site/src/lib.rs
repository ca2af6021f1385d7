//! The bot's public web site and the charts of its replies.

pub mod charts;
