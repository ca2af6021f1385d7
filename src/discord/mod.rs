//! The Discord edge: the core's replies rendered to serenity's builders, and the
//! command table rendered to command definitions. Transports live beside it: the
//! gateway bot ([`gateway`]), command registration ([`register`]), and the REST
//! client they share ([`rest`]). The daily posts go out through [`messages`].

pub mod endpoint;
pub mod gateway;
pub mod interaction;
pub mod messages;
pub mod register;
pub mod render;
pub mod rest;
