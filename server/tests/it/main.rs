//! Integration tests: the real server on port 0, a fresh database per test, both backends
//! (and, in `cluster`, several instances on one Postgres database).

mod api;
mod auth;
mod channels;
mod cli;
mod cluster;
mod durability;
mod embed;
mod helpers;
mod operations;
mod retention;
mod security;
mod settings;
mod smpp;
mod streams;
mod webhooks;
