//! Publishing events with a `Nats-Msg-Id` and trace context, awaiting JetStream's ack.

use async_nats::header::NATS_MESSAGE_ID;
use async_nats::jetstream::{self, publish::PublishAck};
use async_nats::HeaderMap;
use bytes::Bytes;
use tracing::Span;

use crate::BusError;

/// Publishes `payload` on `subject` with `Nats-Msg-Id: msg_id`, the extra `headers`, and the
/// trace context of the current span, then waits until JetStream stored it (or recognised it
/// as a duplicate of `msg_id`).
pub async fn publish_event(
    js: &jetstream::Context,
    subject: &str,
    msg_id: &str,
    payload: Bytes,
    mut headers: HeaderMap,
) -> Result<PublishAck, BusError> {
    let fail = |message: String| BusError::Publish {
        subject: subject.to_owned(),
        msg_id: msg_id.to_owned(),
        message,
    };
    headers.insert(NATS_MESSAGE_ID, msg_id);
    dti_telemetry::nats::inject_span_context(&Span::current(), &mut headers);
    let ack = js
        .publish_with_headers(subject.to_owned(), headers, payload)
        .await
        .map_err(|error| fail(error.to_string()))?
        .await
        .map_err(|error| fail(error.to_string()))?;
    if ack.duplicate {
        tracing::debug!(subject, msg_id, "JetStream dropped a duplicate message id");
    } else {
        dti_telemetry::metrics::record_event_published(subject);
    }
    Ok(ack)
}
