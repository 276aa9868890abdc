//! Batches of the idempotent consumer against real PostgreSQL and NATS JetStream: messages
//! already delivered are applied together in one transaction, each exactly once, and one bad
//! message in a batch is isolated (applied alone and redelivered) while the rest commit.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use dti_bus::consumer::{ConsumerSettings, EventHandler, InboundEvent};
use dti_db::PgTransaction;
use support::{fast_settings, publish, start_consumer_with, BusTestEnv};
use tokio_util::sync::CancellationToken;

/// Records each event's id in `test_effects`, and the size of every batch it is handed;
/// refuses (on any delivery) the event whose id is `poison`.
#[derive(Clone, Default)]
struct BatchRecorder {
    batches: Arc<Mutex<Vec<usize>>>,
    poison: Option<&'static str>,
}

#[derive(Debug, thiserror::Error)]
enum RecorderError {
    #[error("refusing {0}")]
    Poison(String),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

impl EventHandler for BatchRecorder {
    type Error = RecorderError;

    async fn handle(
        &self,
        tx: &mut PgTransaction,
        event: &InboundEvent,
    ) -> Result<(), RecorderError> {
        if self.poison == Some(event.msg_id.as_str()) {
            return Err(RecorderError::Poison(event.msg_id.clone()));
        }
        sqlx::query("INSERT INTO test_effects (msg_id) VALUES ($1)")
            .bind(&event.msg_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    async fn handle_batch(
        &self,
        tx: &mut PgTransaction,
        events: &[InboundEvent],
    ) -> Result<(), RecorderError> {
        self.batches.lock().expect("batches").push(events.len());
        for event in events {
            self.handle(tx, event).await?;
        }
        Ok(())
    }
}

fn batched(env: &BusTestEnv, max_batch: usize) -> ConsumerSettings {
    ConsumerSettings {
        max_batch,
        max_deliver: 3,
        ..fast_settings(env)
    }
}

async fn effect_ids(env: &BusTestEnv) -> anyhow::Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT msg_id FROM test_effects ORDER BY msg_id")
            .fetch_all(env.db.pool())
            .await?,
    )
}

#[tokio::test]
async fn a_backlog_is_applied_in_batches_each_message_once() -> anyhow::Result<()> {
    let env = BusTestEnv::start(Duration::from_secs(120)).await?;
    let ids: Vec<String> = (0..60).map(|i| format!("fact-{i:02}")).collect();
    for id in &ids {
        publish(&env, id).await?;
    }
    let recorder = BatchRecorder::default();
    let shutdown = CancellationToken::new();
    let task = start_consumer_with(&env, batched(&env, 25), recorder.clone(), &shutdown).await?;
    env.wait_for_effects(60).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(effect_ids(&env).await?, ids, "every message applied once");
    let batches = recorder.batches.lock().expect("batches").clone();
    assert!(
        batches.iter().all(|size| *size <= 25),
        "no batch above the limit: {batches:?}"
    );
    assert!(
        batches.iter().any(|size| *size > 1),
        "a backlog is taken in batches: {batches:?}"
    );
    let inbox: i64 =
        sqlx::query_scalar("SELECT count(*) FROM inbox_messages WHERE consumer = 'effects'")
            .fetch_one(env.db.pool())
            .await?;
    assert_eq!(inbox, 60);
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), task).await???;
    // Nothing left for the durable consumer: every message was acknowledged.
    let mut consumer = env
        .js
        .get_stream(&env.stream)
        .await?
        .get_consumer::<async_nats::jetstream::consumer::pull::Config>("effects")
        .await
        .map_err(|error| anyhow::anyhow!(error))?;
    let info = consumer.info().await?;
    assert_eq!((info.num_pending, info.num_ack_pending), (0, 0));
    env.finish().await
}

#[tokio::test]
async fn one_bad_message_in_a_batch_does_not_hold_back_the_others() -> anyhow::Result<()> {
    let env = BusTestEnv::start(Duration::from_secs(120)).await?;
    for i in 0..10 {
        publish(&env, &format!("fact-{i}")).await?;
    }
    let recorder = BatchRecorder {
        poison: Some("fact-4"),
        ..BatchRecorder::default()
    };
    let shutdown = CancellationToken::new();
    let task = start_consumer_with(&env, batched(&env, 50), recorder.clone(), &shutdown).await?;
    env.wait_for_effects(9).await?;
    // The bad message is redelivered up to max_deliver and never applied.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let applied = effect_ids(&env).await?;
    let expected: Vec<String> = (0..10)
        .filter(|i| *i != 4)
        .map(|i| format!("fact-{i}"))
        .collect();
    assert_eq!(applied, expected);
    let poisoned: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM inbox_messages WHERE consumer = 'effects' AND msg_id = 'fact-4'",
    )
    .fetch_one(env.db.pool())
    .await?;
    assert_eq!(poisoned, 0, "the refused message left no inbox row");
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), task).await???;
    env.finish().await
}
