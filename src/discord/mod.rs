//! The Discord edge: the core's replies rendered to serenity's builders, and the
//! command table rendered to command definitions. Transports live beside it.

pub mod interaction;
pub mod render;
