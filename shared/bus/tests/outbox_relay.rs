//! The outbox and its relay against real PostgreSQL and NATS JetStream.

mod support;

use std::time::Duration;

use dti_bus::consumer::{ConsumerSettings, IdempotentConsumer};
use dti_bus::outbox::{enqueue, OutboxMessage, OutboxRelay, RelaySettings};
use support::{BusTestEnv, RecordingHandler};
use tokio_util::sync::CancellationToken;

async fn enqueue_rows(env: &BusTestEnv, count: usize) -> anyhow::Result<()> {
    let mut tx = env.db.pool().begin().await?;
    for n in 0..count {
        let message = OutboxMessage::new(
            env.subject("test.happened.v1"),
            format!("fact-{n}"),
            vec![n as u8],
        );
        assert!(enqueue(&mut tx, &message).await?);
    }
    tx.commit().await?;
    Ok(())
}

async fn pending_rows(env: &BusTestEnv) -> anyhow::Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM outbox_messages WHERE published_at IS NULL")
            .fetch_one(env.db.pool())
            .await?,
    )
}

fn relay(env: &BusTestEnv, batch_size: i64) -> OutboxRelay {
    let settings = RelaySettings {
        batch_size,
        ..RelaySettings::default()
    };
    OutboxRelay::new(env.db.pool().clone(), env.js.clone(), settings)
}

#[tokio::test]
async fn relay_publishes_committed_rows_in_order_and_skips_rolled_back_ones() -> anyhow::Result<()>
{
    let env = BusTestEnv::start(Duration::from_secs(120)).await?;
    let shutdown = CancellationToken::new();
    let relay_task = tokio::spawn(relay(&env, 10).run(shutdown.clone()));
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut rolled_back = env.db.pool().begin().await?;
    let lost = OutboxMessage::new(env.subject("test.happened.v1"), "never-committed", vec![]);
    enqueue(&mut rolled_back, &lost).await?;
    rolled_back.rollback().await?;
    enqueue_rows(&env, 25).await?;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while pending_rows(&env).await? > 0 {
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "relay did not drain the outbox"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(env.stream_messages().await?, 25);

    let stream = env.js.get_stream(&env.stream).await?;
    for sequence in 1..=25u64 {
        let stored = stream.get_raw_message(sequence).await?;
        let msg_id = stored
            .headers
            .get("Nats-Msg-Id")
            .map(|v| v.as_str().to_owned());
        assert_eq!(
            msg_id.as_deref(),
            Some(format!("fact-{}", sequence - 1).as_str())
        );
    }

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), relay_task).await???;
    env.finish().await
}

#[tokio::test]
async fn relay_killed_between_publish_and_mark_still_yields_one_message_per_row(
) -> anyhow::Result<()> {
    const ROWS: usize = 400;
    let env = BusTestEnv::start(Duration::from_secs(120)).await?;
    enqueue_rows(&env, ROWS).await?;

    // Kill the relay as soon as its batch started reaching JetStream, before it could mark it.
    let doomed = tokio::spawn(relay(&env, ROWS as i64).run(CancellationToken::new()));
    while env.stream_messages().await? == 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    doomed.abort();
    let _ = doomed.await;
    let published_before_kill = env.stream_messages().await?;
    assert!(published_before_kill >= 1);
    assert_eq!(
        pending_rows(&env).await?,
        ROWS as i64,
        "the killed relay marked nothing"
    );

    // A new relay re-publishes the whole batch with the same ids; a consumer applies it.
    let shutdown = CancellationToken::new();
    let relay_task = tokio::spawn(relay(&env, 50).run(shutdown.clone()));
    let handler = RecordingHandler::default();
    let settings = ConsumerSettings::new("effects", env.subject(">"));
    let consumer = IdempotentConsumer::create(
        &env.js,
        &env.stream,
        settings,
        env.db.pool().clone(),
        handler.clone(),
    )
    .await?;
    let consumer_task = tokio::spawn(consumer.run(shutdown.clone()));

    env.wait_for_effects(ROWS as i64).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(env.effects().await?, ROWS as i64);
    assert_eq!(
        env.stream_messages().await?,
        ROWS as u64,
        "JetStream dropped the re-published ids"
    );
    assert_eq!(pending_rows(&env).await?, 0);
    let distinct: i64 = sqlx::query_scalar("SELECT count(DISTINCT msg_id) FROM test_effects")
        .fetch_one(env.db.pool())
        .await?;
    assert_eq!(distinct, ROWS as i64);

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), relay_task).await???;
    tokio::time::timeout(Duration::from_secs(5), consumer_task).await???;
    env.finish().await
}

#[tokio::test]
async fn enqueueing_the_same_fact_twice_writes_one_row() -> anyhow::Result<()> {
    let env = BusTestEnv::start(Duration::from_secs(120)).await?;
    let message = OutboxMessage::new(env.subject("test.happened.v1"), "fact-1", vec![1]);
    let mut tx = env.db.pool().begin().await?;
    assert!(enqueue(&mut tx, &message).await?);
    assert!(!enqueue(&mut tx, &message).await?);
    tx.commit().await?;
    assert_eq!(pending_rows(&env).await?, 1);

    let bad = OutboxMessage::new(env.subject("test.*"), "fact-2", vec![]);
    let mut tx = env.db.pool().begin().await?;
    assert!(enqueue(&mut tx, &bad).await.is_err());
    tx.rollback().await?;
    env.finish().await
}
