//! Hotline: the backend of a grid company's free 24/7 hotline.
//!
//! # Layout
//! - [`config`]: settings from the environment and an optional `hotline.toml`.
//! - [`app`]: the HTTP application; [`app::run`] is what `serve` and the tests both start.
//! - [`error`]: the one error type at the HTTP edge and its JSON shape.
//! - [`store`]: the only place with SQL; one [`store::Store`] over SQLite or PostgreSQL.
//! - [`auth`]: accounts, roles, password hashing and bearer tokens.
//! - [`tickets`]: tickets, their numbers, lifecycle (a state machine) and audit trail.
//! - [`settlements`]: the region's settlements and postcodes (reference data).
//! - [`phone`], [`clock`]: small value types every domain uses.
//! - [`telemetry`]: logging, with caller numbers masked.
//! - [`cli`]: the command line of the `hotline` binary.

pub mod app;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod error;
pub mod phone;
pub mod settlements;
pub mod store;
pub mod telemetry;
mod text_enum;
pub mod tickets;
