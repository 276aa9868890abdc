//! Dead letters: a message a consumer could not apply in `max_deliver` deliveries is kept in
//! PostgreSQL (`dead_letters`, with its payload, headers and last error), terminated in
//! JetStream so it stops being redelivered, and counted (`dti_bus_dead_letters_total`, alert
//! `DtiDeadLetters`). An operator lists them and asks for one to be replayed
//! (`dtictl bus dead-letters`, `dtictl bus replay`); the consumer that failed applies it again
//! itself — inbox claim, handler and the dead letter marked replayed in one transaction — so a
//! replay reaches that consumer only, never the other consumers of the same subject, and is
//! applied once.
//!
//! The message is also published on the dead-letter subject of its prefix and consumer
//! ([`subject`]: `<prefix>.dead_letter.<consumer>`, in the prefix's stream) with its payload and
//! headers and `Dti-Dead-Letter-Consumer`, `-Subject`, `-Deliveries` and `-Error`, so a watcher
//! subscribed to `<prefix>.dead_letter.>` sees it; no consumer of events reads that subject. The
//! row stays the truth: a failed publish is logged and changes nothing else.

use async_nats::HeaderMap;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use dti_db::PgPool;
use serde_json::Value;

use crate::consumer::InboundEvent;
use crate::BusError;

/// Longest `Dti-Dead-Letter-Error` header, in bytes (a longer error is cut at a character).
const ERROR_HEADER_BYTES: usize = 1024;

/// The dead-letter subject of `consumer` under `prefix`: `<prefix>.dead_letter.<consumer>`.
pub fn subject(prefix: &str, consumer: &str) -> String {
    crate::stream::subject(prefix, &format!("dead_letter.{consumer}"))
}

/// Publishes `event`, given up on by `consumer` with `error`, on the dead-letter `subject`
/// (`Nats-Msg-Id` `dead-letter:<consumer>:<msg id>:<delivery>`, so a retry is dropped as a
/// duplicate).
pub(crate) async fn publish(
    js: &async_nats::jetstream::Context,
    subject: &str,
    consumer: &str,
    event: &InboundEvent,
    error: &str,
) -> Result<(), BusError> {
    let mut headers = HeaderMap::new();
    for (name, values) in event.headers.iter() {
        if *name == async_nats::header::NATS_MESSAGE_ID {
            continue;
        }
        for value in values {
            headers.append(name.clone(), value.clone());
        }
    }
    let mut cut = error.len().min(ERROR_HEADER_BYTES);
    while !error.is_char_boundary(cut) {
        cut -= 1;
    }
    // Header values are one line.
    let error = error[..cut].replace(['\r', '\n'], " ");
    headers.insert("Dti-Dead-Letter-Consumer", consumer);
    headers.insert("Dti-Dead-Letter-Subject", event.subject.as_str());
    headers.insert("Dti-Dead-Letter-Msg-Id", event.msg_id.as_str());
    headers.insert(
        "Dti-Dead-Letter-Deliveries",
        event.delivery.to_string().as_str(),
    );
    headers.insert("Dti-Dead-Letter-Error", error.as_str());
    let msg_id = format!("dead-letter:{consumer}:{}:{}", event.msg_id, event.delivery);
    crate::publish::publish_event(js, subject, &msg_id, event.payload.clone(), headers).await?;
    Ok(())
}

/// Counter of messages that became dead letters (by consumer).
pub const DEAD_LETTERS: &str = "dti_bus_dead_letters_total";
/// Counter of dead letters replayed (by consumer and outcome: `applied`, `failed`).
pub const REPLAYS: &str = "dti_bus_dead_letter_replays_total";

/// A message a consumer gave up on.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeadLetter {
    /// The durable consumer that failed.
    pub consumer: String,
    /// The message's `Nats-Msg-Id`.
    pub msg_id: String,
    /// Subject it was published on.
    pub subject: String,
    /// Deliveries before it was given up.
    pub deliveries: i64,
    /// The last failure.
    pub error: String,
    /// When it was given up.
    pub failed_at: DateTime<Utc>,
    /// When an operator asked for a replay (not yet applied), if so.
    pub replay_requested_at: Option<DateTime<Utc>>,
    /// When a replay was applied, if one was.
    pub replayed_at: Option<DateTime<Utc>>,
    /// Why the last replay failed, if it did.
    pub replay_error: Option<String>,
}

/// Keeps `event` as a dead letter of `consumer` with its last `error` (a later failure of the
/// same message replaces the earlier one).
pub(crate) async fn record(
    pool: &PgPool,
    consumer: &str,
    event: &InboundEvent,
    error: &str,
) -> Result<(), BusError> {
    sqlx::query(
        "INSERT INTO dead_letters (consumer, msg_id, subject, payload, headers, deliveries, error) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (consumer, msg_id) DO UPDATE SET deliveries = EXCLUDED.deliveries, \
         error = EXCLUDED.error, failed_at = now(), replay_requested_at = NULL, \
         replayed_at = NULL, replay_error = NULL",
    )
    .bind(consumer)
    .bind(&event.msg_id)
    .bind(&event.subject)
    .bind(event.payload.as_ref())
    .bind(serde_json::to_value(&event.headers).map_err(|error| {
        BusError::InvalidMessage(format!("headers of {}: {error}", event.msg_id))
    })?)
    .bind(i64::try_from(event.delivery).map_err(|_| BusError::NotACount {
        what: "deliveries of a dead letter",
        value: i64::MAX,
    })?)
    .bind(error)
    .execute(pool)
    .await
    .map_err(BusError::database("recording a dead letter"))?;
    metrics::counter!(DEAD_LETTERS, "consumer" => consumer.to_owned()).increment(1);
    Ok(())
}

/// The dead letters, newest first; of one consumer when `consumer` is given, and only those
/// not replayed yet unless `with_replayed`.
pub async fn list(
    pool: &PgPool,
    consumer: Option<&str>,
    with_replayed: bool,
) -> Result<Vec<DeadLetter>, BusError> {
    sqlx::query_as::<_, DeadLetter>(
        "SELECT consumer, msg_id, subject, deliveries, error, failed_at, replay_requested_at, \
         replayed_at, replay_error FROM dead_letters \
         WHERE ($1::text IS NULL OR consumer = $1) AND ($2 OR replayed_at IS NULL) \
         ORDER BY failed_at DESC, consumer, msg_id",
    )
    .bind(consumer)
    .bind(with_replayed)
    .fetch_all(pool)
    .await
    .map_err(BusError::database("listing dead letters"))
}

/// What asking for a replay found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayRequest {
    /// The consumer will apply it again (within its replay poll).
    Requested,
    /// It was replayed already; nothing to do.
    AlreadyReplayed,
    /// No such dead letter.
    NotFound,
}

/// Asks `consumer` to apply its dead letter `msg_id` again.
pub async fn request_replay(
    pool: &PgPool,
    consumer: &str,
    msg_id: &str,
) -> Result<ReplayRequest, BusError> {
    let state: Option<(Option<DateTime<Utc>>,)> = sqlx::query_as(
        "UPDATE dead_letters SET replay_requested_at = CASE WHEN replayed_at IS NULL \
         THEN now() ELSE replay_requested_at END, \
         replay_error = CASE WHEN replayed_at IS NULL THEN NULL ELSE replay_error END \
         WHERE consumer = $1 AND msg_id = $2 RETURNING replayed_at",
    )
    .bind(consumer)
    .bind(msg_id)
    .fetch_optional(pool)
    .await
    .map_err(BusError::database("requesting a replay"))?;
    Ok(match state {
        None => ReplayRequest::NotFound,
        Some((Some(_),)) => ReplayRequest::AlreadyReplayed,
        Some((None,)) => ReplayRequest::Requested,
    })
}

/// Marks a dead letter replayed, in the replay's transaction.
pub(crate) async fn mark_replayed(
    tx: &mut dti_db::PgTransaction,
    consumer: &str,
    msg_id: &str,
) -> Result<(), BusError> {
    sqlx::query(
        "UPDATE dead_letters SET replayed_at = now(), replay_error = NULL \
         WHERE consumer = $1 AND msg_id = $2",
    )
    .bind(consumer)
    .bind(msg_id)
    .execute(&mut **tx)
    .await
    .map_err(BusError::database("marking a dead letter replayed"))?;
    Ok(())
}

/// Records why a replay failed; the request is withdrawn so an operator decides what next.
pub(crate) async fn replay_failed(
    pool: &PgPool,
    consumer: &str,
    msg_id: &str,
    error: &str,
) -> Result<(), BusError> {
    sqlx::query(
        "UPDATE dead_letters SET replay_requested_at = NULL, replay_error = $3 \
         WHERE consumer = $1 AND msg_id = $2",
    )
    .bind(consumer)
    .bind(msg_id)
    .bind(error)
    .execute(pool)
    .await
    .map_err(BusError::database("recording a failed replay"))?;
    Ok(())
}

/// A dead letter waiting for its replay, as the consumer reads it back.
#[derive(Debug)]
pub(crate) struct PendingReplay {
    pub(crate) event: InboundEvent,
}

/// The dead letters of `consumer` an operator asked to replay (at most `limit`).
pub(crate) async fn pending_replays(
    pool: &PgPool,
    consumer: &str,
    limit: i64,
) -> Result<Vec<PendingReplay>, BusError> {
    let rows: Vec<(String, String, Vec<u8>, Value, i64)> = sqlx::query_as(
        "SELECT msg_id, subject, payload, headers, deliveries FROM dead_letters \
         WHERE consumer = $1 AND replay_requested_at IS NOT NULL AND replayed_at IS NULL \
         ORDER BY replay_requested_at LIMIT $2",
    )
    .bind(consumer)
    .bind(limit)
    .fetch_all(pool)
    .await
    .map_err(BusError::database("reading replays to apply"))?;
    rows.into_iter()
        .map(|(msg_id, subject, payload, headers, deliveries)| {
            let delivered = u64::try_from(deliveries).map_err(|_| BusError::NotACount {
                what: "deliveries of a dead letter",
                value: deliveries,
            })?;
            Ok(PendingReplay {
                event: InboundEvent {
                    subject,
                    msg_id,
                    payload: Bytes::from(payload),
                    headers: serde_json::from_value(headers).unwrap_or_else(|error| {
                        tracing::warn!(%error, "a dead letter's headers are unreadable; replaying without them");
                        HeaderMap::new()
                    }),
                    delivery: delivered.saturating_add(1),
                },
            })
        })
        .collect()
}
