//! Hotline: the backend of a grid company's free 24/7 hotline.
//!
//! # Layout
//! - [`config`]: settings from the environment and an optional `hotline.toml`.
//! - [`app`]: the HTTP application; [`app::run`] is what `serve` and the tests both start.
//! - [`error`]: the one error type at the HTTP edge and its JSON shape.
//! - [`store`]: the only place with SQL (but the commit-ceiling probe of [`tools`]); one
//!   [`store::Store`] over SQLite or PostgreSQL.
//! - [`auth`]: accounts, roles, password hashing and bearer tokens.
//! - [`live`]: server-sent events of every committed change, resumable with Last-Event-ID.
//! - [`metrics`]: the supervisor's figures, as JSON and for Prometheus.
//! - [`calls`]: each webhook as one idempotent step of a call; the call lifecycle.
//! - [`queue`]: the operator queue: serving order, atomic hand-out, wrap-up, wait estimates.
//! - [`escalation`]: escalation of emergencies: policies, the step worker, e-mail through an outbox,
//!   acknowledgement links and the dispatcher's actions.
//! - [`crews`]: field crews and their status.
//! - [`lifecycle`]: the data lifecycle: retention of what callers leave behind, erasure of a number.
//! - [`tickets`]: tickets, their numbers, lifecycle (a state machine) and audit trail.
//! - [`ivr`]: menus as data, their validation and the interpreter that runs them.
//! - [`telephony`]: provider dialects (Twilio, jambonz) around one set of neutral call actions.
//! - [`outbound`]: calls the hotline places (voice escalation) through the provider's REST API.
//! - [`outages`]: planned outages, incidents with restoration times, storm mode.
//! - [`connection`]: technological-connection applications and their status by number.
//! - [`console`]: the web console for operators, dispatchers and supervisors, served at `/`.
//! - [`reception`]: the internet reception: public outages, FAQ, appeals from the web.
//! - [`demo`]: sample data for a first look, only into an unused database.
//! - [`settlements`]: the region's settlements and postcodes (reference data).
//! - [`tools`] (feature `tools`, on by default): developer tools, not part of the serving product:
//!   the provider simulator (`hotline call`, the tests), the load generator (`hotline storm`).
//! - [`phone`], [`clock`]: small value types every domain uses.
//! - [`client_addr`]: which client address a request comes from, for the limits keyed on it.
//! - [`telemetry`]: logging, with caller numbers masked.
//! - [`cli`]: the command line of the `hotline` binary.

pub mod app;
pub mod auth;
pub mod calls;
pub mod cli;
pub mod client_addr;
pub mod clock;
pub mod config;
pub mod connection;
pub mod console;
pub mod crews;
pub mod csv_import;
pub mod demo;
pub mod error;
pub mod escalation;
pub mod ivr;
pub mod lifecycle;
pub mod live;
pub mod metrics;
pub mod openapi;
pub mod outages;
pub mod outbound;
pub mod phone;
pub mod queue;
pub mod reception;
pub mod settlements;
pub mod store;
pub mod telemetry;
pub mod telephony;
mod text_enum;
pub mod tickets;
#[cfg(feature = "tools")]
pub mod tools;
