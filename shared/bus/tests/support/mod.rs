//! Shared set-up of the bus tests: a fresh database, a random stream prefix, and a handler
//! whose effects can be counted.

#![allow(dead_code, reason = "each test file uses part of the support module")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream;
use dti_bus::consumer::{EventHandler, InboundEvent};
use dti_db::PgTransaction;
use dti_testkit::TestDatabase;

/// One test's isolated slice of PostgreSQL and JetStream.
pub struct BusTestEnv {
    pub db: TestDatabase,
    pub js: jetstream::Context,
    pub prefix: String,
    pub stream: String,
}

impl BusTestEnv {
    /// Fresh database (with an effects table), random prefix and its stream.
    pub async fn start(duplicate_window: Duration) -> anyhow::Result<Self> {
        let db = TestDatabase::create().await?;
        sqlx::query("CREATE TABLE test_effects (msg_id TEXT NOT NULL, trace_id TEXT)")
            .execute(db.pool())
            .await?;
        let js = dti_bus::connect(&dti_testkit::nats_url()).await?;
        let prefix = dti_testkit::random_nats_prefix();
        dti_bus::stream::ensure_stream(&js, &prefix, duplicate_window).await?;
        let stream = dti_bus::stream::stream_name(&prefix);
        Ok(Self {
            db,
            js,
            prefix,
            stream,
        })
    }

    pub fn subject(&self, event: &str) -> String {
        dti_bus::stream::subject(&self.prefix, event)
    }

    /// Messages currently stored in the stream.
    pub async fn stream_messages(&self) -> anyhow::Result<u64> {
        let mut stream = self.js.get_stream(&self.stream).await?;
        Ok(stream.info().await?.state.messages)
    }

    /// Rows in `test_effects`, i.e. handler effects that committed.
    pub async fn effects(&self) -> anyhow::Result<i64> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM test_effects")
            .fetch_one(self.db.pool())
            .await?)
    }

    /// Waits until `effects()` reaches `expected` (or fails after 15 s).
    pub async fn wait_for_effects(&self, expected: i64) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while self.effects().await? < expected {
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "only {} of {expected} effects after 15 s",
                self.effects().await?
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// Deletes the stream and drops the database.
    pub async fn finish(self) -> anyhow::Result<()> {
        self.js.delete_stream(&self.stream).await?;
        self.db.close().await?;
        Ok(())
    }
}

/// Handler that records each event in `test_effects`, failing its first `failures` calls.
#[derive(Clone, Default)]
pub struct RecordingHandler {
    pub calls: Arc<AtomicUsize>,
    pub failures: usize,
    pub deliveries: Arc<Mutex<Vec<u64>>>,
}

#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    #[error("failing on purpose (call {0})")]
    OnPurpose(usize),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

impl EventHandler for RecordingHandler {
    type Error = RecordingError;

    async fn handle(
        &self,
        tx: &mut PgTransaction,
        event: &InboundEvent,
    ) -> Result<(), RecordingError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        self.deliveries
            .lock()
            .expect("deliveries lock")
            .push(event.delivery);
        let trace_id = dti_telemetry::current_trace_id().map(|id| id.to_string());
        sqlx::query("INSERT INTO test_effects (msg_id, trace_id) VALUES ($1, $2)")
            .bind(&event.msg_id)
            .bind(trace_id)
            .execute(&mut **tx)
            .await?;
        if call <= self.failures {
            return Err(RecordingError::OnPurpose(call));
        }
        Ok(())
    }
}

/// Consumer settings with short redelivery delays.
pub fn fast_settings(env: &BusTestEnv) -> dti_bus::consumer::ConsumerSettings {
    dti_bus::consumer::ConsumerSettings {
        min_nak_delay: Duration::from_millis(100),
        max_nak_delay: Duration::from_millis(400),
        ack_wait: Duration::from_secs(5),
        ..dti_bus::consumer::ConsumerSettings::new("effects", env.subject("test.>"))
    }
}

/// Starts the idempotent consumer of `test.>` with short redelivery delays.
pub async fn start_consumer(
    env: &BusTestEnv,
    handler: RecordingHandler,
    shutdown: &tokio_util::sync::CancellationToken,
) -> anyhow::Result<tokio::task::JoinHandle<Result<(), dti_bus::BusError>>> {
    start_consumer_with(env, fast_settings(env), handler, shutdown).await
}

/// Starts the idempotent consumer with `settings` and any handler.
pub async fn start_consumer_with<H: EventHandler>(
    env: &BusTestEnv,
    settings: dti_bus::consumer::ConsumerSettings,
    handler: H,
    shutdown: &tokio_util::sync::CancellationToken,
) -> anyhow::Result<tokio::task::JoinHandle<Result<(), dti_bus::BusError>>> {
    let consumer = dti_bus::consumer::IdempotentConsumer::create(
        &env.js,
        &env.stream,
        settings,
        env.db.pool().clone(),
        handler,
    )
    .await?;
    Ok(tokio::spawn(consumer.run(shutdown.clone())))
}

/// Publishes one test event with message id `msg_id`; true when JetStream saw a duplicate.
pub async fn publish(env: &BusTestEnv, msg_id: &str) -> anyhow::Result<bool> {
    let subject = env.subject("test.happened.v1");
    let ack = dti_bus::publish::publish_event(
        &env.js,
        &subject,
        msg_id,
        bytes::Bytes::from_static(b"x"),
        async_nats::HeaderMap::new(),
    )
    .await?;
    Ok(ack.duplicate)
}
