//! The integration suite: one binary, one module per area. Tests marked by
//! `on_both_backends!` run on SQLite and, when HOTLINE_TEST_POSTGRES_URL is set, on PostgreSQL.

mod helpers;

mod auth;
mod budget;
mod callers;
mod console;
mod contract;
mod escalations;
mod flows;
mod ivr;
mod jambonz;
mod lifecycle;
mod live;
mod openapi;
mod outbound;
mod process;
mod public;
mod queue;
mod reception;
mod reception_browser;
mod safety;
mod settlements;
mod storm;
mod tickets;
mod webhooks;
