//! Each durable consumer's metrics against real PostgreSQL and NATS JetStream, read from the
//! Prometheus exposition text the services serve: a message nak'ed once and redelivered counts
//! one redelivery; messages waiting for the consumer and messages it holds unacknowledged show
//! as pending and ack-pending, from the consumer's info on the server.

mod support;

use std::sync::Arc;
use std::time::Duration;

use dti_bus::consumer::{ConsumerSettings, EventHandler, IdempotentConsumer, InboundEvent};
use dti_bus::consumer_state::{ACK_PENDING, PENDING, REDELIVERED};
use dti_db::PgTransaction;
use dti_testkit::Poll;
use metrics_exporter_prometheus::PrometheusHandle;
use support::{publish, BusTestEnv, RecordingHandler};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

fn recorder() -> anyhow::Result<PrometheusHandle> {
    Ok(dti_telemetry::metrics::install_prometheus_recorder()?)
}

/// The value of `name{consumer="<consumer>"}` in the exposition text.
fn sample(handle: &PrometheusHandle, name: &str, consumer: &str) -> Option<f64> {
    let prefix = format!("{name}{{consumer=\"{consumer}\"}} ");
    handle
        .render()
        .lines()
        .find_map(|line| line.strip_prefix(&prefix).map(str::to_owned))
        .and_then(|value| value.parse().ok())
}

fn settings(env: &BusTestEnv, durable: &str) -> ConsumerSettings {
    ConsumerSettings {
        min_nak_delay: Duration::from_millis(100),
        max_nak_delay: Duration::from_millis(400),
        ack_wait: Duration::from_secs(5),
        ..ConsumerSettings::new(durable, env.subject("test.>"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_nacked_and_redelivered_counts_one_redelivery() -> anyhow::Result<()> {
    let handle = recorder()?;
    let env = BusTestEnv::start(Duration::from_secs(120)).await?;
    let handler = RecordingHandler {
        failures: 1,
        ..RecordingHandler::default()
    };
    let consumer = IdempotentConsumer::create(
        &env.js,
        &env.stream,
        settings(&env, "redelivered-once"),
        env.db.pool().clone(),
        handler.clone(),
    )
    .await?;
    assert_eq!(
        sample(&handle, REDELIVERED, "redelivered-once"),
        Some(0.0),
        "the series exists before any redelivery"
    );
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(consumer.run(shutdown.clone()));
    publish(&env, "fact-1").await?;
    env.wait_for_effects(1).await?;
    assert_eq!(*handler.deliveries.lock().expect("lock"), [1, 2]);
    assert_eq!(sample(&handle, REDELIVERED, "redelivered-once"), Some(1.0));
    publish(&env, "fact-2").await?;
    env.wait_for_effects(2).await?;
    assert_eq!(
        sample(&handle, REDELIVERED, "redelivered-once"),
        Some(1.0),
        "a first delivery is no redelivery"
    );
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), task).await???;
    env.finish().await
}

/// Records each event, but only once the test lets it through.
#[derive(Clone)]
struct GatedHandler {
    gate: Arc<Semaphore>,
}

#[derive(Debug, thiserror::Error)]
enum GatedError {
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    #[error("the gate closed")]
    Closed,
}

impl EventHandler for GatedHandler {
    type Error = GatedError;

    async fn handle(&self, tx: &mut PgTransaction, event: &InboundEvent) -> Result<(), GatedError> {
        self.gate
            .acquire()
            .await
            .map_err(|_| GatedError::Closed)?
            .forget();
        sqlx::query("INSERT INTO test_effects (msg_id) VALUES ($1)")
            .bind(&event.msg_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_and_ack_pending_follow_the_consumer() -> anyhow::Result<()> {
    let handle = recorder()?;
    let env = BusTestEnv::start(Duration::from_secs(120)).await?;
    let gate = Arc::new(Semaphore::new(0));
    let consumer = IdempotentConsumer::create(
        &env.js,
        &env.stream,
        settings(&env, "held-back"),
        env.db.pool().clone(),
        GatedHandler { gate: gate.clone() },
    )
    .await?;
    let state = consumer.state();
    assert_eq!(state.name(), "held-back");
    for id in ["fact-1", "fact-2", "fact-3"] {
        publish(&env, id).await?;
    }
    state.export().await?;
    assert_eq!(sample(&handle, PENDING, "held-back"), Some(3.0));
    assert_eq!(sample(&handle, ACK_PENDING, "held-back"), Some(0.0));

    let shutdown = CancellationToken::new();
    let task = tokio::spawn(consumer.run(shutdown.clone()));
    let poll = Poll::new(Duration::from_secs(15), Duration::from_millis(100));
    let (pending, ack_pending) = dti_testkit::eventually("a message held", poll, || async {
        state.export().await?;
        let pending = sample(&handle, PENDING, "held-back").unwrap_or(-1.0);
        let ack_pending = sample(&handle, ACK_PENDING, "held-back").unwrap_or(-1.0);
        Ok((ack_pending >= 1.0).then_some((pending, ack_pending)))
    })
    .await?;
    assert_eq!(
        pending + ack_pending,
        3.0,
        "{pending} pending, {ack_pending} ack pending"
    );

    gate.add_permits(3);
    env.wait_for_effects(3).await?;
    dti_testkit::eventually("every message acked", poll, || async {
        state.export().await?;
        let pending = sample(&handle, PENDING, "held-back");
        let ack_pending = sample(&handle, ACK_PENDING, "held-back");
        Ok((pending == Some(0.0) && ack_pending == Some(0.0)).then_some(()))
    })
    .await?;
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), task).await???;
    env.finish().await
}
