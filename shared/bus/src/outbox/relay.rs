//! The outbox relay: publishes pending outbox rows in order and marks them published only
//! after JetStream acknowledged them.
//!
//! The relay polls: a look at an empty outbox is one index probe on the partial index of
//! pending rows, so a short idle interval (10 ms by default) costs little and bounds the
//! publication delay. It deliberately does not use LISTEN/NOTIFY: a transaction that
//! notifies takes a database-wide lock held through its commit, which would serialise every
//! submitting transaction of the city behind one another's disk flush.

use std::collections::BTreeMap;
use std::time::Duration;

use async_nats::jetstream;
use async_nats::HeaderMap;
use bytes::Bytes;
use dti_db::{PgPool, PgTransaction};
use sqlx::types::Json;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::publish::publish_event;
use crate::BusError;

/// How often the outbox lag gauges are refreshed.
const LAG_REPORT_INTERVAL: Duration = Duration::from_secs(1);

/// How the relay batches and how often it looks.
#[derive(Debug, Clone)]
pub struct RelaySettings {
    /// Rows claimed and published per transaction.
    pub batch_size: i64,
    /// Wait between two looks at a drained outbox: the longest delay before a committed event
    /// is published.
    pub poll_interval: Duration,
    /// Pause after a failed batch (NATS or PostgreSQL unavailable).
    pub retry_interval: Duration,
}

impl Default for RelaySettings {
    fn default() -> Self {
        Self {
            batch_size: 100,
            poll_interval: Duration::from_millis(10),
            retry_interval: Duration::from_secs(1),
        }
    }
}

/// When the relay looks at the outbox again.
#[derive(Debug, Clone, Copy)]
enum NextRound {
    /// A full batch went out: more may be pending.
    Now,
    /// The outbox is drained: look again after the poll interval.
    AfterPoll,
    /// The batch failed: look again after the retry interval.
    AfterRetry,
}

/// One claimed, unpublished outbox row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct PendingRow {
    pub(crate) id: i64,
    pub(crate) subject: String,
    pub(crate) msg_id: String,
    pub(crate) payload: Vec<u8>,
    pub(crate) headers: Json<BTreeMap<String, String>>,
}

/// Publishes the outbox of one database to JetStream.
///
/// Several relays may run against the same database: rows are claimed with
/// `FOR UPDATE SKIP LOCKED`, so each row is published by one relay at a time.
#[derive(Debug, Clone)]
pub struct OutboxRelay {
    pool: PgPool,
    js: jetstream::Context,
    settings: RelaySettings,
}

impl OutboxRelay {
    /// A relay reading the outbox of `pool` and publishing through `js`.
    pub fn new(pool: PgPool, js: jetstream::Context, settings: RelaySettings) -> Self {
        Self { pool, js, settings }
    }

    /// Publishes pending rows until `shutdown` is cancelled, looking again at once after a
    /// full batch, after the poll interval when drained, after the retry interval on failure.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), BusError> {
        tracing::info!("outbox relay started");
        let mut lag_reported = tokio::time::Instant::now() - LAG_REPORT_INTERVAL;
        while !shutdown.is_cancelled() {
            let pause = match self.publish_round().await {
                NextRound::Now => continue,
                NextRound::AfterPoll => self.settings.poll_interval,
                NextRound::AfterRetry => self.settings.retry_interval,
            };
            if lag_reported.elapsed() >= LAG_REPORT_INTERVAL {
                lag_reported = tokio::time::Instant::now();
                if let Err(error) = self.report_lag().await {
                    tracing::debug!(%error, "could not measure the outbox lag");
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => {}
                () = tokio::time::sleep(pause) => {}
            }
        }
        tracing::info!("outbox relay stopped");
        Ok(())
    }

    /// Publishes one batch and says when to look again.
    async fn publish_round(&self) -> NextRound {
        match self.publish_pending().await {
            Ok(published) if fills_batch(published, self.settings.batch_size) => NextRound::Now,
            Ok(_) => NextRound::AfterPoll,
            Err(error) => {
                tracing::warn!(%error, "outbox batch failed; retrying after the retry interval");
                NextRound::AfterRetry
            }
        }
    }

    /// Claims up to one batch of pending rows, publishes them in order (each awaiting its
    /// JetStream ack), marks the published ones and commits. Stops the batch at the first
    /// failure, which is recorded on its row and returned after the commit.
    pub async fn publish_pending(&self) -> Result<usize, BusError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(BusError::database("beginning an outbox batch"))?;
        let rows = claim_batch(&mut tx, self.settings.batch_size).await?;
        let (published, failure) = self.publish_rows(&rows).await;
        mark_published(&mut tx, &published).await?;
        if let Some((id, error)) = &failure {
            record_failure(&mut tx, *id, error).await?;
        }
        tx.commit()
            .await
            .map_err(BusError::database("committing an outbox batch"))?;
        match failure {
            Some((_, error)) => Err(error),
            None => Ok(published.len()),
        }
    }

    /// Publishes `rows` in order; returns the ids published and the first failure, if any.
    pub(crate) async fn publish_rows(
        &self,
        rows: &[PendingRow],
    ) -> (Vec<i64>, Option<(i64, BusError)>) {
        let mut published = Vec::with_capacity(rows.len());
        for row in rows {
            match self.publish_row(row).await {
                Ok(()) => published.push(row.id),
                Err(error) => return (published, Some((row.id, error))),
            }
        }
        (published, None)
    }

    /// Publishes one row in a span that continues the trace of the code that enqueued it.
    async fn publish_row(&self, row: &PendingRow) -> Result<(), BusError> {
        let mut stored = HeaderMap::new();
        for (name, value) in row.headers.iter() {
            stored.insert(name.as_str(), value.as_str());
        }
        let span = tracing::info_span!(
            "outbox.publish",
            otel.kind = "producer",
            subject = %row.subject,
            msg_id = %row.msg_id,
            outbox_id = row.id,
        );
        dti_telemetry::nats::set_parent_from_headers(&span, &stored);
        let payload = Bytes::from(row.payload.clone());
        publish_event(&self.js, &row.subject, &row.msg_id, payload, stored)
            .instrument(span)
            .await
            .map(|_ack| ())
    }

    /// Sets the outbox lag gauges from the rows still pending.
    async fn report_lag(&self) -> Result<(), BusError> {
        let (pending, oldest_age): (i64, f64) = sqlx::query_as(
            "SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 \
             FROM outbox_messages WHERE published_at IS NULL",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(BusError::database("measuring the outbox lag"))?;
        dti_telemetry::metrics::record_outbox_lag(
            u64::try_from(pending).map_err(|_| BusError::NotACount {
                what: "the number of pending outbox messages",
                value: pending,
            })?,
            Duration::from_secs_f64(oldest_age.max(0.0)),
        );
        Ok(())
    }
}

/// Locks up to `limit` pending rows, oldest first, skipping rows another relay holds.
pub(crate) async fn claim_batch(
    tx: &mut PgTransaction,
    limit: i64,
) -> Result<Vec<PendingRow>, BusError> {
    sqlx::query_as(
        "SELECT id, subject, msg_id, payload, headers FROM outbox_messages \
         WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(limit)
    .fetch_all(&mut **tx)
    .await
    .map_err(BusError::database("claiming pending outbox messages"))
}

/// Marks rows `ids` as published now.
async fn mark_published(tx: &mut PgTransaction, ids: &[i64]) -> Result<(), BusError> {
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query("UPDATE outbox_messages SET published_at = now() WHERE id = ANY($1)")
        .bind(ids)
        .execute(&mut **tx)
        .await
        .map_err(BusError::database("marking outbox messages published"))?;
    Ok(())
}

/// Counts a failed publish attempt on row `id` and keeps its error for operators.
async fn record_failure(tx: &mut PgTransaction, id: i64, error: &BusError) -> Result<(), BusError> {
    sqlx::query(
        "UPDATE outbox_messages SET publish_attempts = publish_attempts + 1, last_error = $2 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(error.to_string())
    .execute(&mut **tx)
    .await
    .map_err(BusError::database("recording an outbox publish failure"))?;
    Ok(())
}

/// Whether `published` messages filled a batch of `batch_size`: compared exactly, a count
/// beyond `i64` fills any batch.
fn fills_batch(published: usize, batch_size: i64) -> bool {
    i64::try_from(published).map_or(true, |published| published >= batch_size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::{enqueue, OutboxMessage};

    /// Deterministic crash between publish and mark: the batch is claimed and published, then
    /// its transaction ends without marking, as when the process dies there.
    #[tokio::test]
    async fn crash_after_publish_before_mark_republishes_without_duplicates() -> anyhow::Result<()>
    {
        let db = dti_testkit::TestDatabase::create().await?;
        let js = crate::connect(&dti_testkit::nats_url()).await?;
        let prefix = dti_testkit::random_nats_prefix();
        let mut stream =
            crate::stream::ensure_stream(&js, &prefix, Duration::from_secs(60)).await?;
        let mut tx = db.pool().begin().await?;
        for n in 0..3 {
            let message =
                OutboxMessage::new(format!("{prefix}.test.v1"), format!("fact-{n}"), vec![]);
            enqueue(&mut tx, &message).await?;
        }
        tx.commit().await?;
        let relay = OutboxRelay::new(db.pool().clone(), js.clone(), RelaySettings::default());

        let mut crashed = db.pool().begin().await?;
        let rows = claim_batch(&mut crashed, 10).await?;
        let (published, failure) = relay.publish_rows(&rows).await;
        assert_eq!((published.len(), failure.is_none()), (3, true));
        // PostgreSQL aborts the open transaction of a dead process; abort it the same way.
        crashed.rollback().await?;

        assert_eq!(
            relay.publish_pending().await?,
            3,
            "all rows were still pending"
        );
        assert_eq!(
            stream.info().await?.state.messages,
            3,
            "re-published ids were deduplicated"
        );
        assert_eq!(relay.publish_pending().await?, 0);
        js.delete_stream(crate::stream::stream_name(&prefix))
            .await?;
        db.close().await?;
        Ok(())
    }
}
