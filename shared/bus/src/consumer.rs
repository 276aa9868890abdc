//! Idempotent durable pull consumers: effects are applied exactly once per message id.
//!
//! For each message: open a transaction, claim `(consumer, msg_id)` in `inbox_messages` (if it
//! is already there the message was processed before: commit nothing, ack), run the handler
//! with the same transaction, COMMIT, and only then ack. A failing handler or commit rolls
//! everything back and naks with a delay that grows with the delivery count, so JetStream
//! redelivers it (up to `max_deliver` times). A message is never acked before its commit.
//! Redeliveries and the consumer's pending messages are metrics of [`crate::consumer_state`].
//!
//! **Batches** (`ConsumerSettings::max_batch` above 1): the messages already delivered when one
//! is taken (up to the limit, never waiting for more) are applied in one transaction — every
//! message id claimed in the inbox by one statement, the new ones handed together to
//! [`EventHandler::handle_batch`] (which may coalesce them: many events naming the same unit
//! re-score it once) — committed once, and only then acked, every one. If the batch fails, its
//! messages are applied again one by one, so one bad message is nak'ed alone.

use std::future::Future;
use std::time::Duration;

use async_nats::header::NATS_MESSAGE_ID;
use async_nats::jetstream::{self, consumer::pull, AckKind};
use async_nats::HeaderMap;
use backon::{BackoffBuilder, ExponentialBuilder};
use bytes::Bytes;
use dti_db::{PgPool, PgTransaction};
use dti_telemetry::metrics::{record_event_consumed, ConsumeOutcome};
use futures::{FutureExt, StreamExt};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::consumer_state::{self, ConsumerState};
use crate::{dead_letters, BusError};

/// Counter of messages applied as part of a batch (by consumer).
pub const BATCHED_EVENTS: &str = "dti_bus_batched_events_total";
/// Counter of processed message ids pruned from the inbox (by consumer).
pub const INBOX_PRUNED: &str = "dti_bus_inbox_pruned_total";

/// An event as handed to an [`EventHandler`].
#[derive(Debug, Clone)]
pub struct InboundEvent {
    /// Subject it was published on.
    pub subject: String,
    /// Its `Nats-Msg-Id` (or `<stream>:<sequence>` when it was published without one).
    pub msg_id: String,
    /// Encoded body.
    pub payload: Bytes,
    /// All headers, including trace context.
    pub headers: HeaderMap,
    /// How many times JetStream delivered it, this time included (1 on first delivery).
    pub delivery: u64,
}

/// Applies one event inside the consumer's transaction.
///
/// All database effects must go through `tx`: they commit together with the inbox row, or not
/// at all. Return an error to roll back and have the message redelivered later.
pub trait EventHandler: Send + Sync + 'static {
    /// The handler's failure.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Applies `event` using `tx`.
    fn handle(
        &self,
        tx: &mut PgTransaction,
        event: &InboundEvent,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Applies `events` (none of them applied before, in delivery order) using `tx`; by
    /// default one after the other. A handler may coalesce them instead, as long as the
    /// effect equals applying each.
    fn handle_batch(
        &self,
        tx: &mut PgTransaction,
        events: &[InboundEvent],
    ) -> impl Future<Output = Result<(), Self::Error>> + Send {
        async move {
            for event in events {
                self.handle(tx, event).await?;
            }
            Ok(())
        }
    }
}

/// Durable consumer settings.
#[derive(Debug, Clone)]
pub struct ConsumerSettings {
    /// Durable consumer name, also the inbox key, e.g. `scoring-on-submission`.
    pub durable_name: String,
    /// Subject filter, e.g. `dti.submission.submitted.v1` or `dti.submission.>`.
    pub filter_subject: String,
    /// Deliveries before JetStream gives up on a message.
    pub max_deliver: i64,
    /// How long JetStream waits for an ack before redelivering.
    pub ack_wait: Duration,
    /// Nak delay after the first failed delivery; doubles per delivery up to `max_nak_delay`.
    pub min_nak_delay: Duration,
    /// Longest nak delay.
    pub max_nak_delay: Duration,
    /// Most messages applied in one transaction (1: one at a time).
    pub max_batch: usize,
    /// How long a processed message id is remembered in the inbox before it is pruned; must
    /// exceed the stream's duplicate window.
    pub inbox_retention: Duration,
    /// How often the inbox is pruned and requested replays are applied.
    pub housekeeping_interval: Duration,
    /// Where a message given up on is also published (its payload and headers, with
    /// `Dti-Dead-Letter-*` headers saying who failed and why), for whoever watches dead letters
    /// on NATS; `None` publishes nothing. The row in `dead_letters` is kept either way and is
    /// what a replay reads. The kit sets [`dead_letters::subject`].
    pub dead_letter_subject: Option<String>,
}

impl ConsumerSettings {
    /// Settings for `durable_name` on `filter_subject` with default limits.
    pub fn new(durable_name: impl Into<String>, filter_subject: impl Into<String>) -> Self {
        Self {
            durable_name: durable_name.into(),
            filter_subject: filter_subject.into(),
            max_deliver: 10,
            ack_wait: Duration::from_secs(30),
            min_nak_delay: Duration::from_secs(1),
            max_nak_delay: Duration::from_secs(60),
            max_batch: 1,
            inbox_retention: Duration::from_secs(7 * 24 * 3600),
            housekeeping_interval: Duration::from_secs(10),
            dead_letter_subject: None,
        }
    }

    /// Delay before redelivery after failed delivery number `delivery` (1-based).
    pub fn nak_delay(&self, delivery: u64) -> Duration {
        let steps = usize::try_from(delivery.saturating_sub(1)).unwrap_or(usize::MAX);
        ExponentialBuilder::default()
            .with_min_delay(self.min_nak_delay)
            .with_max_delay(self.max_nak_delay)
            .with_factor(2.0)
            .without_max_times()
            .build()
            .nth(steps)
            .unwrap_or(self.max_nak_delay)
    }
}

/// A durable pull consumer that applies each message exactly once through an [`EventHandler`].
#[derive(Debug)]
pub struct IdempotentConsumer<H> {
    js: jetstream::Context,
    consumer: jetstream::consumer::Consumer<pull::Config>,
    stream_name: String,
    settings: ConsumerSettings,
    pool: PgPool,
    handler: H,
}

impl<H: EventHandler> IdempotentConsumer<H> {
    /// Creates (or reuses) the durable consumer on `stream_name` and binds `handler` to it.
    pub async fn create(
        js: &jetstream::Context,
        stream_name: &str,
        settings: ConsumerSettings,
        pool: PgPool,
        handler: H,
    ) -> Result<Self, BusError> {
        let fail = |message: String| BusError::Consumer {
            consumer: settings.durable_name.clone(),
            message,
        };
        let stream = js
            .get_stream(stream_name)
            .await
            .map_err(|error| fail(format!("looking up stream {stream_name}: {error}")))?;
        let config = pull::Config {
            durable_name: Some(settings.durable_name.clone()),
            filter_subject: settings.filter_subject.clone(),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            max_deliver: settings.max_deliver,
            ack_wait: settings.ack_wait,
            ..Default::default()
        };
        let consumer = stream
            .get_or_create_consumer(&settings.durable_name, config)
            .await
            .map_err(|error| fail(error.to_string()))?;
        consumer_state::export_redelivered_at_zero(&settings.durable_name);
        metrics::counter!(dead_letters::DEAD_LETTERS, "consumer" => settings.durable_name.clone())
            .increment(0);
        Ok(Self {
            js: js.clone(),
            consumer,
            stream_name: stream_name.to_owned(),
            settings,
            pool,
            handler,
        })
    }

    /// A handle for exporting this consumer's pending and ack-pending messages.
    pub fn state(&self) -> ConsumerState {
        ConsumerState::new(self.settings.durable_name.clone(), self.consumer.clone())
    }

    /// Processes messages (one at a time, or in batches of those already delivered) and does
    /// the housekeeping until `shutdown` is cancelled; a message being processed when it is
    /// cancelled is finished (committed and acked, or nak'ed) first.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), BusError> {
        let name = self.settings.durable_name.clone();
        let mut messages = self
            .consumer
            .messages()
            .await
            .map_err(|error| BusError::Consumer {
                consumer: name.clone(),
                message: error.to_string(),
            })?;
        tracing::info!(consumer = %name, "consumer started");
        let max_batch = self.settings.max_batch.max(1);
        let mut housekeeping = tokio::time::interval(self.settings.housekeeping_interval);
        housekeeping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let next = tokio::select! {
                () = shutdown.cancelled() => break,
                _ = housekeeping.tick() => {
                    self.housekeeping().await;
                    continue;
                }
                next = messages.next() => next,
            };
            match next {
                Some(Ok(message)) => {
                    let mut batch = vec![message];
                    // Take what is already delivered, never waiting for more.
                    while batch.len() < max_batch {
                        match messages.next().now_or_never() {
                            Some(Some(Ok(message))) => batch.push(message),
                            Some(Some(Err(error))) => {
                                tracing::warn!(consumer = %name, %error, "receiving a message");
                                break;
                            }
                            Some(None) | None => break,
                        }
                    }
                    if batch.len() == 1 {
                        self.process(&batch[0]).await;
                    } else {
                        self.process_batch(&batch).await;
                    }
                }
                Some(Err(error)) => tracing::warn!(consumer = %name, %error, "receiving a message"),
                None => return Err(BusError::ConsumerStreamEnded { consumer: name }),
            }
        }
        tracing::info!(consumer = %name, "consumer stopped");
        Ok(())
    }

    /// Prunes the inbox past its retention and applies the replays an operator asked for;
    /// failures are logged and retried at the next tick.
    async fn housekeeping(&self) {
        match self.prune_inbox().await {
            Ok(0) => {}
            Ok(pruned) => tracing::debug!(pruned, "pruned processed message ids"),
            Err(error) => tracing::warn!(%error, "pruning the inbox failed"),
        }
        if let Err(error) = self.apply_replays().await {
            tracing::warn!(%error, "applying requested replays failed");
        }
    }

    /// Deletes this consumer's inbox rows older than its retention, a bounded batch per
    /// statement so no statement holds many row locks for long. Returns how many went.
    pub async fn prune_inbox(&self) -> Result<u64, BusError> {
        const BATCH: i64 = 5_000;
        let mut pruned = 0;
        loop {
            let deleted = sqlx::query(
                "DELETE FROM inbox_messages WHERE (consumer, msg_id) IN ( \
                   SELECT consumer, msg_id FROM inbox_messages \
                   WHERE consumer = $1 AND processed_at < now() - make_interval(secs => $2) \
                   LIMIT $3)",
            )
            .bind(&self.settings.durable_name)
            .bind(self.settings.inbox_retention.as_secs_f64())
            .bind(BATCH)
            .execute(&self.pool)
            .await
            .map_err(BusError::database("pruning the inbox"))?
            .rows_affected();
            pruned += deleted;
            metrics::counter!(INBOX_PRUNED, "consumer" => self.settings.durable_name.clone())
                .increment(deleted);
            if deleted < BATCH.unsigned_abs() {
                return Ok(pruned);
            }
        }
    }

    /// Applies the dead letters of this consumer an operator asked to replay, each in its own
    /// transaction with its inbox claim and its mark as replayed. Returns how many were applied.
    pub async fn apply_replays(&self) -> Result<usize, BusError> {
        let consumer = &self.settings.durable_name;
        let pending = dead_letters::pending_replays(&self.pool, consumer, 100).await?;
        let mut applied = 0;
        for replay in pending {
            let event = replay.event;
            let outcome = async {
                let mut tx = self.pool.begin().await.map_err(ApplyError::Database)?;
                let claimed = claim(&mut tx, consumer, &event).await?;
                if claimed {
                    self.handler
                        .handle(&mut tx, &event)
                        .await
                        .map_err(|error| ApplyError::Handler(Box::new(error)))?;
                }
                dead_letters::mark_replayed(&mut tx, consumer, &event.msg_id)
                    .await
                    .map_err(|error| ApplyError::Handler(Box::new(error)))?;
                tx.commit().await.map_err(ApplyError::Database)
            }
            .await;
            match outcome {
                Ok(()) => {
                    applied += 1;
                    metrics::counter!(dead_letters::REPLAYS, "consumer" => consumer.clone(), "outcome" => "applied")
                        .increment(1);
                    tracing::info!(msg_id = %event.msg_id, "replayed a dead letter");
                }
                Err(error) => {
                    metrics::counter!(dead_letters::REPLAYS, "consumer" => consumer.clone(), "outcome" => "failed")
                        .increment(1);
                    tracing::warn!(msg_id = %event.msg_id, %error, "a replay failed");
                    dead_letters::replay_failed(
                        &self.pool,
                        consumer,
                        &event.msg_id,
                        &error.to_string(),
                    )
                    .await?;
                }
            }
        }
        Ok(applied)
    }

    /// Applies several messages in one transaction and acks them all after its commit; if
    /// that fails, applies them again one by one (each settled on its own).
    async fn process_batch(&self, messages: &[jetstream::Message]) {
        let events: Vec<InboundEvent> = messages.iter().map(|m| self.inbound_event(m)).collect();
        let span = tracing::info_span!(
            "bus.consume_batch",
            otel.kind = "consumer",
            consumer = %self.settings.durable_name,
            messages = events.len(),
        );
        if let Some(first) = events.first() {
            dti_telemetry::nats::set_parent_from_headers(&span, &first.headers);
        }
        let applied = self.apply_batch(&events).instrument(span).await;
        match applied {
            Ok(outcomes) => {
                for event in &events {
                    consumer_state::record_delivery(&self.settings.durable_name, event.delivery);
                }
                for (message, outcome) in messages.iter().zip(outcomes) {
                    if let Err(error) = message.ack().await {
                        tracing::warn!(%error, "settling the message with JetStream failed");
                    }
                    record_event_consumed(&self.settings.durable_name, outcome);
                }
                metrics::counter!(BATCHED_EVENTS, "consumer" => self.settings.durable_name.clone())
                    .increment(messages.len() as u64);
            }
            Err(error) => {
                tracing::warn!(%error, messages = messages.len(), "a batch failed; applying its messages one by one");
                for message in messages {
                    self.process(message).await;
                }
            }
        }
    }

    /// Claims every message id of `events` in the inbox in one statement, hands the new ones
    /// to the handler together, and commits. Returns each event's outcome.
    async fn apply_batch(
        &self,
        events: &[InboundEvent],
    ) -> Result<Vec<ConsumeOutcome>, ApplyError> {
        let mut tx = self.pool.begin().await.map_err(ApplyError::Database)?;
        let ids: Vec<&str> = events.iter().map(|e| e.msg_id.as_str()).collect();
        let subjects: Vec<&str> = events.iter().map(|e| e.subject.as_str()).collect();
        let claimed: Vec<String> = sqlx::query_scalar(
            "INSERT INTO inbox_messages (consumer, msg_id, subject) \
             SELECT $1, id, subject FROM unnest($2::text[], $3::text[]) AS m(id, subject) \
             ON CONFLICT (consumer, msg_id) DO NOTHING RETURNING msg_id",
        )
        .bind(&self.settings.durable_name)
        .bind(&ids)
        .bind(&subjects)
        .fetch_all(&mut *tx)
        .await
        .map_err(ApplyError::Database)?;
        let claimed: std::collections::HashSet<String> = claimed.into_iter().collect();
        // A message id delivered twice in one batch is applied once: the first claims it.
        let mut first_seen = std::collections::HashSet::new();
        let mut fresh = Vec::new();
        let mut outcomes = Vec::with_capacity(events.len());
        for event in events {
            if claimed.contains(&event.msg_id) && first_seen.insert(event.msg_id.as_str()) {
                fresh.push(event.clone());
                outcomes.push(ConsumeOutcome::Processed);
            } else {
                outcomes.push(ConsumeOutcome::Duplicate);
            }
        }
        if !fresh.is_empty() {
            self.handler
                .handle_batch(&mut tx, &fresh)
                .await
                .map_err(|error| ApplyError::Handler(Box::new(error)))?;
        }
        tx.commit().await.map_err(ApplyError::Database)?;
        Ok(outcomes)
    }

    /// Applies one message and settles it with JetStream, in a span that is a child of the
    /// publisher's trace context.
    async fn process(&self, message: &jetstream::Message) {
        let event = self.inbound_event(message);
        consumer_state::record_delivery(&self.settings.durable_name, event.delivery);
        let span = tracing::info_span!(
            "bus.consume",
            otel.kind = "consumer",
            consumer = %self.settings.durable_name,
            subject = %event.subject,
            msg_id = %event.msg_id,
            delivery = event.delivery,
        );
        dti_telemetry::nats::set_parent_from_headers(&span, &event.headers);
        async {
            let outcome = self.apply(&event).await;
            self.settle(message, &event, outcome).await;
        }
        .instrument(span)
        .await;
    }

    /// Reads the parts of `message` the handler needs.
    fn inbound_event(&self, message: &jetstream::Message) -> InboundEvent {
        let headers = message.headers.clone().unwrap_or_default();
        let info = message.info().ok();
        let msg_id = match headers.get(NATS_MESSAGE_ID) {
            Some(id) => id.as_str().to_owned(),
            None => {
                let sequence = info.as_ref().map_or(0, |info| info.stream_sequence);
                format!("{}:{sequence}", self.stream_name)
            }
        };
        let delivery = info.map_or(1, |info| u64::try_from(info.delivered).unwrap_or(1));
        InboundEvent {
            subject: message.subject.to_string(),
            msg_id,
            payload: message.payload.clone(),
            headers,
            delivery,
        }
    }

    /// Claims the message id in the inbox, runs the handler and commits, all in one transaction.
    async fn apply(&self, event: &InboundEvent) -> Result<ConsumeOutcome, ApplyError> {
        let mut tx = self.pool.begin().await.map_err(ApplyError::Database)?;
        if !claim(&mut tx, &self.settings.durable_name, event).await? {
            return Ok(ConsumeOutcome::Duplicate);
        }
        self.handler
            .handle(&mut tx, event)
            .await
            .map_err(|error| ApplyError::Handler(Box::new(error)))?;
        tx.commit().await.map_err(ApplyError::Database)?;
        Ok(ConsumeOutcome::Processed)
    }

    /// Acks after a commit (or a duplicate), naks with a delay after a failure.
    async fn settle(
        &self,
        message: &jetstream::Message,
        event: &InboundEvent,
        outcome: Result<ConsumeOutcome, ApplyError>,
    ) {
        let consumer = &self.settings.durable_name;
        let (settled, outcome) = match outcome {
            Ok(outcome) => (message.ack().await, outcome),
            Err(error) => {
                let delay = self.settings.nak_delay(event.delivery);
                let last = i128::from(event.delivery) >= i128::from(self.settings.max_deliver);
                if last {
                    tracing::error!(%error, "event failed on its last delivery; keeping it as a dead letter");
                    match dead_letters::record(&self.pool, consumer, event, &error.to_string())
                        .await
                    {
                        Ok(()) => {
                            if let Some(subject) = &self.settings.dead_letter_subject {
                                let error = error.to_string();
                                let published = dead_letters::publish(
                                    &self.js, subject, consumer, event, &error,
                                )
                                .await;
                                if let Err(publish_error) = published {
                                    // The row is kept; only the notice on NATS is missing.
                                    tracing::warn!(%publish_error, "publishing the dead letter on NATS failed");
                                }
                            }
                            (
                                message.ack_with(AckKind::Term).await,
                                ConsumeOutcome::Failed,
                            )
                        }
                        Err(record_error) => {
                            tracing::error!(%record_error, "the dead letter could not be kept");
                            (
                                message.ack_with(AckKind::Nak(Some(delay))).await,
                                ConsumeOutcome::Failed,
                            )
                        }
                    }
                } else {
                    tracing::warn!(%error, ?delay, "event failed; redelivering later");
                    (
                        message.ack_with(AckKind::Nak(Some(delay))).await,
                        ConsumeOutcome::Failed,
                    )
                }
            }
        };
        if let Err(error) = settled {
            tracing::warn!(%error, "settling the message with JetStream failed");
        }
        record_event_consumed(consumer, outcome);
    }
}

/// Claims `event`'s message id for `consumer` in the inbox; false when it was applied before.
async fn claim(
    tx: &mut PgTransaction,
    consumer: &str,
    event: &InboundEvent,
) -> Result<bool, ApplyError> {
    let claimed = sqlx::query(
        "INSERT INTO inbox_messages (consumer, msg_id, subject) VALUES ($1, $2, $3) \
         ON CONFLICT (consumer, msg_id) DO NOTHING",
    )
    .bind(consumer)
    .bind(&event.msg_id)
    .bind(&event.subject)
    .execute(&mut **tx)
    .await
    .map_err(ApplyError::Database)?;
    Ok(claimed.rows_affected() == 1)
}

/// Why applying one message failed.
#[derive(Debug, thiserror::Error)]
enum ApplyError {
    #[error("database: {0}")]
    Database(#[source] sqlx::Error),
    #[error("handler: {0}")]
    Handler(#[source] Box<dyn std::error::Error + Send + Sync>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nak_delay_doubles_up_to_the_cap() {
        let settings = ConsumerSettings {
            min_nak_delay: Duration::from_millis(100),
            max_nak_delay: Duration::from_millis(500),
            ..ConsumerSettings::new("c", "s")
        };
        let delays: Vec<_> = (1..=5).map(|n| settings.nak_delay(n).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 500, 500]);
    }
}
