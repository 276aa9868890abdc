//! The idempotent consumer against real PostgreSQL and NATS JetStream.

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use support::{publish, start_consumer, BusTestEnv, RecordingHandler};
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn publishing_the_same_id_inside_the_window_stores_one_message() -> anyhow::Result<()> {
    let env = BusTestEnv::start(Duration::from_secs(120)).await?;
    assert!(!publish(&env, "fact-1").await?);
    assert!(
        publish(&env, "fact-1").await?,
        "second publish is acked as a duplicate"
    );
    assert_eq!(env.stream_messages().await?, 1);
    env.finish().await
}

#[tokio::test]
async fn a_message_delivered_again_changes_nothing_twice() -> anyhow::Result<()> {
    // A 1 s duplicate window lets the same id be stored twice, as after a late re-publish.
    let env = BusTestEnv::start(Duration::from_secs(1)).await?;
    let shutdown = CancellationToken::new();
    let handler = RecordingHandler::default();
    let task = start_consumer(&env, handler.clone(), &shutdown).await?;

    publish(&env, "fact-1").await?;
    env.wait_for_effects(1).await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !publish(&env, "fact-1").await?,
        "outside the window JetStream stores it again"
    );
    assert_eq!(env.stream_messages().await?, 2);
    publish(&env, "fact-2").await?;
    env.wait_for_effects(2).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let effects: Vec<String> =
        sqlx::query_scalar("SELECT msg_id FROM test_effects ORDER BY msg_id")
            .fetch_all(env.db.pool())
            .await?;
    assert_eq!(effects, ["fact-1", "fact-2"]);
    assert_eq!(
        handler.calls.load(Ordering::SeqCst),
        2,
        "the handler never saw the duplicate"
    );
    let inbox: i64 =
        sqlx::query_scalar("SELECT count(*) FROM inbox_messages WHERE consumer = 'effects'")
            .fetch_one(env.db.pool())
            .await?;
    assert_eq!(inbox, 2);

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), task).await???;
    env.finish().await
}

#[tokio::test]
async fn committed_but_unacked_message_is_skipped_on_redelivery() -> anyhow::Result<()> {
    let env = BusTestEnv::start(Duration::from_secs(120)).await?;
    // As if an earlier run committed `fact-1` and died before acking it.
    sqlx::query(
        "INSERT INTO inbox_messages (consumer, msg_id, subject) VALUES ('effects', 'fact-1', 's')",
    )
    .execute(env.db.pool())
    .await?;
    publish(&env, "fact-1").await?;
    publish(&env, "fact-2").await?;

    let shutdown = CancellationToken::new();
    let handler = RecordingHandler::default();
    let task = start_consumer(&env, handler.clone(), &shutdown).await?;
    env.wait_for_effects(1).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(handler.calls.load(Ordering::SeqCst), 1);

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), task).await???;
    // Nothing left to redeliver: a fresh run of the durable consumer sees no message.
    let shutdown = CancellationToken::new();
    let task = start_consumer(&env, handler.clone(), &shutdown).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        handler.calls.load(Ordering::SeqCst),
        1,
        "both messages were acked"
    );
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), task).await???;
    env.finish().await
}

#[tokio::test]
async fn failing_handler_rolls_back_and_is_redelivered_with_backoff() -> anyhow::Result<()> {
    let env = BusTestEnv::start(Duration::from_secs(120)).await?;
    let shutdown = CancellationToken::new();
    let handler = RecordingHandler {
        failures: 2,
        ..RecordingHandler::default()
    };
    let task = start_consumer(&env, handler.clone(), &shutdown).await?;

    let started = tokio::time::Instant::now();
    publish(&env, "fact-1").await?;
    env.wait_for_effects(1).await?;
    let elapsed = started.elapsed();
    tokio::time::sleep(Duration::from_millis(300)).await;

    assert_eq!(
        env.effects().await?,
        1,
        "effects of the failed attempts were rolled back"
    );
    assert_eq!(*handler.deliveries.lock().expect("lock"), [1, 2, 3]);
    assert!(
        elapsed >= Duration::from_millis(300),
        "nak delays 100 + 200 ms, took {elapsed:?}"
    );

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), task).await???;
    env.finish().await
}
