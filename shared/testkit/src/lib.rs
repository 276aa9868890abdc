//! `dti-testkit` gives every test its own isolated slice of the real backing services.
//!
//! - [`TestDatabase`]: a freshly created, randomly named and fully migrated PostgreSQL
//!   database, dropped when the guard is closed or dropped.
//! - [`random_nats_prefix`] and [`random_redis_prefix`]: names no other test uses, so tests can
//!   share one NATS server and one Redis server without seeing each other's data.
//! - [`TestBackends`]: all three together, a service configuration on them (ports 0, the test
//!   HS256 key) and bearer tokens for each role; [`with_auth`] puts a token (and English,
//!   `accept-language: en`) on a request, [`in_language`] another language or none.
//! - [`tokens`]: principals of each role, and the tokens a service must refuse.
//! - [`wait`]: polling until something asynchronous is true ([`eventually`], [`wait_until`]).
//! - [`events`]: the outbox drained, and the messages on a test's JetStream stream.
//! - [`values`]: `dti.common.v1` values (rounds, units, variables, indicators) to send.
//! - [`refusals`]: the fields a refused call names.
//! - [`tls`]: a test CA (rcgen) and private NATS and Redis servers that speak only TLS.
//! - [`submission_api`]: opening rounds, drafting, setting values and submitting through a
//!   running submission service's gRPC API.
//!
//! Service-specific wiring (which services a test starts, their settings) stays in each
//! crate's `tests/support`; this crate depends on no service crate, so a service's tests and
//! the kit share one copy of every type.
//!
//! The server to create databases on is `DTI_TEST_DATABASE_URL`, by default
//! `postgres://postgres@127.0.0.1:5432/test`; NATS is `DTI_TEST_NATS_URL`
//! (default `nats://127.0.0.1:4222`) and Redis `DTI_TEST_REDIS_URL`
//! (default `redis://127.0.0.1:6379`).

#![warn(missing_docs)]

mod database;
pub mod events;
pub mod metrics;
pub mod refusals;
mod service;
pub mod submission_api;
pub mod tls;
pub mod tokens;
pub mod values;
pub mod wait;

pub use database::{TestDatabase, TestkitError};
pub use service::{in_language, loopback_config, with_auth, TestBackends};
pub use submission_api::SubmissionApi;
pub use tls::free_port;
pub use tokens::TEST_HS256_SECRET;
pub use wait::{eventually, wait_until, Poll};

/// URL of the NATS server tests use.
pub fn nats_url() -> String {
    std::env::var("DTI_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

/// URL of the Redis server tests use.
pub fn redis_url() -> String {
    std::env::var("DTI_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A NATS subject/stream prefix unique to the calling test, e.g. `t_3f2a9c1b7d4e`.
pub fn random_nats_prefix() -> String {
    format!("t_{}", random_suffix())
}

/// A Redis key prefix unique to the calling test, e.g. `test:3f2a9c1b7d4e:`.
pub fn random_redis_prefix() -> String {
    format!("test:{}:", random_suffix())
}

/// Twelve random lowercase hex digits.
fn random_suffix() -> String {
    let mut hex = uuid::Uuid::new_v4().simple().to_string();
    hex.truncate(12);
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_distinct_and_valid_names() {
        let (a, b) = (random_nats_prefix(), random_nats_prefix());
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        assert!(random_redis_prefix().starts_with("test:"));
    }
}
