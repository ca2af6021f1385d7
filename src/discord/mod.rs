//! The Discord edge: the core's replies rendered to serenity's builders, and the
//! command table rendered to command definitions. Transports live beside it: the
//! gateway bot ([`gateway`]), command registration ([`register`]), and the one REST
//! client they share ([`rest`]), which the daily posts go out through too. The HTTP
//! endpoint ([`endpoint`]) keeps the answers it has written ([`written`]).

pub mod endpoint;
pub mod gateway;
pub mod interaction;
pub mod register;
pub mod render;
pub mod rest;
pub mod written;
