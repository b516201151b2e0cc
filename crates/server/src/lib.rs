//! leadline's server: the HTTP API, the workers, and the `leadline` command line.
#![forbid(unsafe_code)]

pub mod auth;
pub mod cli;
pub mod error;
pub mod extract;
pub mod pagination;
pub mod routes;
pub mod serve;
pub mod state;
pub mod telemetry;
