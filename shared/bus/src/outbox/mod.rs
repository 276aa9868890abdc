//! The transactional outbox: events are written in the same PostgreSQL transaction as the
//! change they announce, and [`OutboxRelay`] publishes them afterwards.

mod relay;

use std::collections::BTreeMap;

use dti_db::PgTransaction;
use sqlx::types::Json;
use tracing::Span;

use crate::BusError;

pub use relay::{OutboxRelay, RelaySettings};

/// An event to publish once the enclosing transaction commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// Full subject, e.g. `dti.submission.submitted.v1`.
    pub subject: String,
    /// Stable id of the fact (`Nats-Msg-Id`), e.g. `submission/<id>/v3`; the same fact must
    /// always get the same id.
    pub msg_id: String,
    /// Encoded body (protobuf).
    pub payload: Vec<u8>,
    /// Extra headers published with the message, such as W3C `traceparent`/`tracestate`.
    pub headers: BTreeMap<String, String>,
}

impl OutboxMessage {
    /// A message carrying the trace context of the current span, so the consumer's span joins
    /// the trace of the code that enqueued it.
    pub fn new(subject: impl Into<String>, msg_id: impl Into<String>, payload: Vec<u8>) -> Self {
        let headers = dti_telemetry::nats::span_context_entries(&Span::current());
        Self {
            subject: subject.into(),
            msg_id: msg_id.into(),
            payload,
            headers: headers.into_iter().collect(),
        }
    }

    fn validate(&self) -> Result<(), BusError> {
        if self.subject.is_empty() || self.subject.contains([' ', '*', '>']) {
            return Err(BusError::InvalidMessage(format!(
                "subject {:?} must be a non-empty literal subject",
                self.subject
            )));
        }
        if self.msg_id.trim().is_empty() {
            return Err(BusError::InvalidMessage(
                "msg_id must not be empty".to_owned(),
            ));
        }
        Ok(())
    }
}

/// Writes `message` into the outbox inside `tx`. Returns `false` (and writes nothing) when a
/// message with the same `msg_id` is already in the outbox, so enqueueing a fact is idempotent.
pub async fn enqueue(tx: &mut PgTransaction, message: &OutboxMessage) -> Result<bool, BusError> {
    message.validate()?;
    let inserted = sqlx::query(
        "INSERT INTO outbox_messages (subject, msg_id, payload, headers) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (msg_id) DO NOTHING",
    )
    .bind(&message.subject)
    .bind(&message.msg_id)
    .bind(&message.payload)
    .bind(Json(&message.headers))
    .execute(&mut **tx)
    .await
    .map_err(BusError::database("writing an outbox message"))?;
    Ok(inserted.rows_affected() == 1)
}

/// Deletes published outbox rows older than `older_than`; returns how many were removed.
pub async fn purge_published(
    pool: &dti_db::PgPool,
    older_than: std::time::Duration,
) -> Result<u64, BusError> {
    let seconds = older_than.as_secs_f64();
    let deleted = sqlx::query(
        "DELETE FROM outbox_messages WHERE published_at < now() - make_interval(secs => $1)",
    )
    .bind(seconds)
    .execute(pool)
    .await
    .map_err(BusError::database("purging published outbox messages"))?;
    Ok(deleted.rows_affected())
}
