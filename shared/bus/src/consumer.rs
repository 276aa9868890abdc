//! Idempotent durable pull consumers: effects are applied exactly once per message id.
//!
//! For each message: open a transaction, claim `(consumer, msg_id)` in `inbox_messages` (if it
//! is already there the message was processed before: commit nothing, ack), run the handler
//! with the same transaction, COMMIT, and only then ack. A failing handler or commit rolls
//! everything back and naks with a delay that grows with the delivery count, so JetStream
//! redelivers it (up to `max_deliver` times). A message is never acked before its commit.
//! Redeliveries and the consumer's pending messages are metrics of [`crate::consumer_state`].

use std::future::Future;
use std::time::Duration;

use async_nats::header::NATS_MESSAGE_ID;
use async_nats::jetstream::{self, consumer::pull, AckKind};
use async_nats::HeaderMap;
use backon::{BackoffBuilder, ExponentialBuilder};
use bytes::Bytes;
use dti_db::{PgPool, PgTransaction};
use dti_telemetry::metrics::{record_event_consumed, ConsumeOutcome};
use futures::StreamExt;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::consumer_state::{self, ConsumerState};
use crate::BusError;

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
        Ok(Self {
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

    /// Processes messages one at a time until `shutdown` is cancelled; a message being
    /// processed when it is cancelled is finished (committed and acked, or nak'ed) first.
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
        loop {
            let next = tokio::select! {
                () = shutdown.cancelled() => break,
                next = messages.next() => next,
            };
            match next {
                Some(Ok(message)) => self.process(message).await,
                Some(Err(error)) => tracing::warn!(consumer = %name, %error, "receiving a message"),
                None => return Err(BusError::ConsumerStreamEnded { consumer: name }),
            }
        }
        tracing::info!(consumer = %name, "consumer stopped");
        Ok(())
    }

    /// Applies one message and settles it with JetStream, in a span that is a child of the
    /// publisher's trace context.
    async fn process(&self, message: jetstream::Message) {
        let event = self.inbound_event(&message);
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
            self.settle(&message, &event, outcome).await;
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
        let claimed = sqlx::query(
            "INSERT INTO inbox_messages (consumer, msg_id, subject) VALUES ($1, $2, $3) \
             ON CONFLICT (consumer, msg_id) DO NOTHING",
        )
        .bind(&self.settings.durable_name)
        .bind(&event.msg_id)
        .bind(&event.subject)
        .execute(&mut *tx)
        .await
        .map_err(ApplyError::Database)?;
        if claimed.rows_affected() == 0 {
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
                    tracing::error!(%error, "event failed on its last delivery; giving up");
                } else {
                    tracing::warn!(%error, ?delay, "event failed; redelivering later");
                }
                (
                    message.ack_with(AckKind::Nak(Some(delay))).await,
                    ConsumeOutcome::Failed,
                )
            }
        };
        if let Err(error) = settled {
            tracing::warn!(%error, "settling the message with JetStream failed");
        }
        record_event_consumed(consumer, outcome);
    }
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
