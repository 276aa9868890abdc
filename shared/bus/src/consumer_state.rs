//! What operators see of each durable consumer, by `consumer` (its durable name):
//! - [`REDELIVERED`]: messages delivered more than once (JetStream's delivery count of the
//!   message is above 1: a nak'ed failure, an ack that never arrived, a consumer restarted
//!   mid-message), counted by the consumer that takes them; exported at 0 when the consumer is
//!   created, so `rate()` works before the first redelivery;
//! - [`PENDING`] and [`ACK_PENDING`]: messages of the stream not yet delivered to the consumer,
//!   and delivered but not yet acknowledged, from the consumer's info on the JetStream server
//!   (NATS 2.9 `CONSUMER.INFO`), read by [`ConsumerState::export`] on a timer. Every replica
//!   of a service reads the same durable consumer, so dashboards and alerts take the `max`.

use std::time::Duration;

use async_nats::jetstream::consumer::{pull, Consumer};

use crate::BusError;

/// Counter of messages a consumer took that JetStream had delivered before.
pub const REDELIVERED: &str = "dti_bus_events_redelivered_total";
/// Gauge of the stream's messages the consumer has not been delivered yet.
pub const PENDING: &str = "dti_bus_consumer_pending_messages";
/// Gauge of messages delivered to the consumer and not yet acknowledged.
pub const ACK_PENDING: &str = "dti_bus_consumer_ack_pending_messages";

/// Time between two reads of a consumer's info: about a Prometheus scrape interval.
pub const EXPORT_INTERVAL: Duration = Duration::from_secs(15);

/// Exports [`REDELIVERED`] of `consumer` at 0 unless it already has a value.
pub(crate) fn export_redelivered_at_zero(consumer: &str) {
    metrics::counter!(REDELIVERED, "consumer" => consumer.to_owned()).increment(0);
}

/// Counts one message of `consumer` in its `delivery`-th delivery (1-based), if it is a
/// redelivery.
pub(crate) fn record_delivery(consumer: &str, delivery: u64) {
    if delivery > 1 {
        metrics::counter!(REDELIVERED, "consumer" => consumer.to_owned()).increment(1);
    }
}

/// A handle on a durable consumer whose pending counts can be exported.
#[derive(Debug, Clone)]
pub struct ConsumerState {
    name: String,
    consumer: Consumer<pull::Config>,
}

impl ConsumerState {
    pub(crate) fn new(name: String, consumer: Consumer<pull::Config>) -> Self {
        Self { name, consumer }
    }

    /// The durable name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Reads the consumer's info from the server and sets [`PENDING`] and [`ACK_PENDING`].
    pub async fn export(&self) -> Result<(), BusError> {
        let info = self
            .consumer
            .get_info()
            .await
            .map_err(|error| BusError::Consumer {
                consumer: self.name.clone(),
                message: format!("reading the consumer's info: {error}"),
            })?;
        metrics::gauge!(PENDING, "consumer" => self.name.clone()).set(info.num_pending as f64);
        metrics::gauge!(ACK_PENDING, "consumer" => self.name.clone())
            .set(info.num_ack_pending as f64);
        Ok(())
    }
}
