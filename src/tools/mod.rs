//! Developer tools — the provider simulator behind `hotline call` and the load generator `hotline storm` — not part of the serving product.

pub mod commit_ceiling;
pub mod simulator;
pub mod storm;
