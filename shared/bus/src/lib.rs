//! `dti-bus` owns how DTI services exchange events over NATS JetStream, reliably.
//!
//! - [`stream`]: one JetStream stream per prefix (subjects `<prefix>.>`, file storage, a
//!   duplicate window for `Nats-Msg-Id` deduplication) and subject naming.
//! - [`publish`]: publishing with `Nats-Msg-Id` and W3C trace-context headers, awaiting the
//!   JetStream acknowledgement.
//! - [`outbox`]: the transactional outbox — [`outbox::enqueue`] writes an event in the caller's
//!   PostgreSQL transaction; [`outbox::OutboxRelay`] publishes pending rows in order and marks
//!   them published only after JetStream acknowledged them.
//! - [`consumer`]: [`consumer::IdempotentConsumer`], a durable pull consumer that runs a handler
//!   inside a transaction together with an inbox row per message id, commits, and only then
//!   acknowledges; failures are nak'ed with a growing delay for JetStream to redeliver.
//! - [`consumer_state`]: each durable consumer's redeliveries, pending and ack-pending
//!   messages as metrics.
//! - [`dead_letters`]: messages a consumer gave up on, kept in PostgreSQL, and their replay
//!   by the consumer that failed, on an operator's request.
//!
//! Housekeeping runs inside each consumer's task: its inbox rows older than its retention
//! (`ConsumerSettings::inbox_retention`, past the duplicate window) are pruned, and replays an
//! operator asked for are applied.
//!
//! Delivery is at-least-once end to end and effects are exactly-once: a relay that dies between
//! publishing and marking re-publishes with the same message id (JetStream drops it inside the
//! duplicate window), and a message seen again by a consumer finds its id in the inbox and
//! changes nothing.

#![warn(missing_docs)]

pub mod consumer;
pub mod consumer_state;
pub mod dead_letters;
mod error;
pub mod outbox;
pub mod publish;
pub mod stream;

pub use error::BusError;

/// Connects to NATS at `url` and returns a JetStream context.
pub async fn connect(url: &str) -> Result<async_nats::jetstream::Context, BusError> {
    connect_with_ca(url, None).await
}

/// Connects to NATS at `url` and returns a JetStream context. With `tls_ca_file` (a PEM file),
/// the connection must use TLS and the server's certificate must be signed by that CA (the
/// system's roots are not trusted then); without it, the URL decides (`tls://` needs TLS).
pub async fn connect_with_ca(
    url: &str,
    tls_ca_file: Option<&std::path::Path>,
) -> Result<async_nats::jetstream::Context, BusError> {
    let mut options = async_nats::ConnectOptions::new();
    if let Some(ca_file) = tls_ca_file {
        options = options
            .add_root_certificates(ca_file.to_owned())
            .require_tls(true);
    }
    let client = options
        .connect(url)
        .await
        .map_err(|source| BusError::Connect {
            url: url.to_owned(),
            source,
        })?;
    Ok(async_nats::jetstream::new(client))
}
