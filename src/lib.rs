//! pastebin: a paste service with a GraphQL API, on Postgres (primary + replica), Redis and S3.
//!
//! Layers, arrows pointing one way:
//! - transports: [`http`] (routes, raw text, the REST API, health) and [`graphql`] (the schema);
//!   they turn requests into a [`caller::Caller`] and calls of services;
//! - the service layer, [`services`]: [`pastes`], [`accounts`], [`view_stats`] and their
//!   budgets own the rules; the stores (Postgres, Redis, the object store) are private to it, and
//!   the [`jobs`] run inside it;
//! - leaves every layer may use: [`config`], [`caller`], [`auth`] (tokens and passwords),
//!   [`ids`], [`error`], [`telemetry`].

pub mod auth;
pub mod caller;
pub mod config;
pub mod graphql;
pub mod http;
pub mod ids;
pub mod services;
pub mod telemetry;

pub use services::{
    App, access_tokens, accounts, error, jobs, migrate, moderation, pastes, view_stats,
};
