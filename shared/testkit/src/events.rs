//! What a service under test announced: its outbox drained, and the messages its relay put on
//! the test's JetStream stream (`<PREFIX>`, subjects `<prefix>.<event>`).

use std::time::Duration;

use futures::StreamExt;
use sqlx::PgPool;

use crate::wait::{eventually, Poll};

/// Waits (at most 15 s) until the outbox of `pool`'s database has no pending row.
pub async fn wait_outbox_drained(pool: &PgPool) -> anyhow::Result<()> {
    let poll = Poll::new(Duration::from_secs(15), Duration::from_millis(100));
    eventually("the outbox to drain", poll, || async {
        let pending: i64 =
            sqlx::query_scalar("SELECT count(*) FROM outbox_messages WHERE published_at IS NULL")
                .fetch_one(pool)
                .await?;
        Ok((pending == 0).then_some(()))
    })
    .await
}

/// The JetStream context of the tests' NATS server.
async fn jetstream() -> anyhow::Result<async_nats::jetstream::Context> {
    let client = async_nats::connect(crate::nats_url()).await?;
    Ok(async_nats::jetstream::new(client))
}

/// The stream of `prefix`: its upper-cased name.
pub fn stream_name(prefix: &str) -> String {
    prefix.to_ascii_uppercase()
}

/// The `Nats-Msg-Id`s of every message on `<prefix>.<event>` in the stream of `prefix`, sorted.
pub async fn published_ids(prefix: &str, event: &str) -> anyhow::Result<Vec<String>> {
    let stream = jetstream().await?.get_stream(stream_name(prefix)).await?;
    let consumer = stream
        .create_consumer(async_nats::jetstream::consumer::pull::Config {
            filter_subject: format!("{prefix}.{event}"),
            ..Default::default()
        })
        .await?;
    let mut batch = consumer
        .fetch()
        .max_messages(10_000)
        .expires(Duration::from_secs(1))
        .messages()
        .await?;
    let mut ids = Vec::new();
    while let Some(message) = batch.next().await {
        let message = message.map_err(|e| anyhow::anyhow!("{e}"))?;
        let id = message
            .headers
            .as_ref()
            .and_then(|h| h.get(async_nats::header::NATS_MESSAGE_ID))
            .map(|v| v.as_str().to_owned())
            .unwrap_or_default();
        ids.push(id);
    }
    ids.sort();
    Ok(ids)
}

/// The `Nats-Msg-Id` and payload of the last message on `<prefix>.<event>` (waits at most
/// 15 s for one).
pub async fn last_event(prefix: &str, event: &str) -> anyhow::Result<(String, Vec<u8>)> {
    let js = jetstream().await?;
    let (stream_name, subject) = (stream_name(prefix), format!("{prefix}.{event}"));
    let poll = Poll::new(Duration::from_secs(15), Duration::from_millis(50));
    eventually(&format!("a {event} event"), poll, || async {
        let stream = js.get_stream(&stream_name).await?;
        let Ok(message) = stream.get_last_raw_message_by_subject(&subject).await else {
            return Ok(None);
        };
        let msg_id = message
            .headers
            .get(async_nats::header::NATS_MESSAGE_ID)
            .map(|value| value.as_str().to_owned())
            .unwrap_or_default();
        Ok(Some((msg_id, message.payload.to_vec())))
    })
    .await
}
