//! Integration tests against the real local stack: Postgres primary + replica, the analytics
//! database, Redis and the S3 server (`make test` starts them).

mod harness;

mod accounts;
mod blind;
mod budgets;
mod cache;
mod cli;
mod cluster;
mod encrypted;
mod errors;
mod failover;
mod fanout;
mod files;
mod forks;
mod group_commit;
mod hostile;
mod jobs;
mod layers;
mod logs;
mod memory;
mod metadata;
mod moderation;
mod object_store;
mod pastes;
mod process;
mod production;
mod readiness;
mod rest;
mod revisions;
mod robustness;
mod schema;
mod security;
mod sign_in;
mod tls;
mod tokens;
