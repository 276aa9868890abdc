//! Production housekeeping of the bus against real PostgreSQL and NATS JetStream: a message
//! that fails its last delivery becomes a dead letter (kept, terminated, replayable once by the
//! consumer that failed), inbox rows past their retention are pruned, and the stream's
//! retention settings are applied to an existing stream.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::pull;
use dti_bus::consumer::{ConsumerSettings, EventHandler, InboundEvent};
use dti_bus::dead_letters::{self, ReplayRequest};
use dti_bus::stream::{ensure_stream, ensure_stream_with, StreamSettings};
use dti_db::PgTransaction;
use support::{fast_settings, publish, start_consumer_with, BusTestEnv};
use tokio_util::sync::CancellationToken;

/// Records each event in `test_effects`, or fails while `broken` is set.
#[derive(Clone, Default)]
struct Switchable {
    broken: Arc<AtomicBool>,
}

#[derive(Debug, thiserror::Error)]
enum SwitchError {
    #[error("the handler is broken for now")]
    Broken,
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

impl EventHandler for Switchable {
    type Error = SwitchError;

    async fn handle(
        &self,
        tx: &mut PgTransaction,
        event: &InboundEvent,
    ) -> Result<(), SwitchError> {
        if self.broken.load(Ordering::SeqCst) {
            return Err(SwitchError::Broken);
        }
        sqlx::query("INSERT INTO test_effects (msg_id) VALUES ($1)")
            .bind(&event.msg_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

fn settings(env: &BusTestEnv) -> ConsumerSettings {
    ConsumerSettings {
        max_deliver: 2,
        housekeeping_interval: Duration::from_millis(200),
        dead_letter_subject: Some(dead_letters::subject(&env.prefix, "effects")),
        ..fast_settings(env)
    }
}

async fn eventually<F, Fut>(what: &str, mut check: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<bool>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !check().await? {
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "not within 15 s: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

#[tokio::test]
async fn a_message_given_up_is_kept_and_replayed_once_by_its_consumer() -> anyhow::Result<()> {
    let env = BusTestEnv::start(Duration::from_secs(120)).await?;
    let handler = Switchable::default();
    handler.broken.store(true, Ordering::SeqCst);
    let shutdown = CancellationToken::new();
    let task = start_consumer_with(&env, settings(&env), handler.clone(), &shutdown).await?;
    publish(&env, "doomed-1").await?;
    let pool = env.db.pool();
    eventually("the message becomes a dead letter", || async {
        Ok(!dead_letters::list(pool, Some("effects"), false)
            .await?
            .is_empty())
    })
    .await?;
    let dead = dead_letters::list(pool, None, false).await?;
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (
            dead[0].consumer.as_str(),
            dead[0].msg_id.as_str(),
            dead[0].deliveries
        ),
        ("effects", "doomed-1", 2)
    );
    assert!(
        dead[0].error.contains("broken for now"),
        "{}",
        dead[0].error
    );
    assert_eq!(dead[0].subject, env.subject("test.happened.v1"));

    // It is also on the consumer's dead-letter subject, with its payload and why it failed.
    let message = env
        .js
        .get_stream(&env.stream)
        .await?
        .get_last_raw_message_by_subject(&dead_letters::subject(&env.prefix, "effects"))
        .await
        .map_err(|error| anyhow::anyhow!(error))?;
    let headers = message.headers.clone();
    let header = |name: &str| {
        headers
            .get(name)
            .map(|value| value.as_str().to_owned())
            .unwrap_or_default()
    };
    assert_eq!(header("Dti-Dead-Letter-Consumer"), "effects");
    assert_eq!(header("Dti-Dead-Letter-Msg-Id"), "doomed-1");
    assert_eq!(
        header("Dti-Dead-Letter-Subject"),
        env.subject("test.happened.v1")
    );
    assert_eq!(header("Dti-Dead-Letter-Deliveries"), "2");
    assert!(header("Dti-Dead-Letter-Error").contains("broken for now"));
    assert_eq!(header("Nats-Msg-Id"), "dead-letter:effects:doomed-1:2");
    assert_eq!(message.payload.as_ref(), b"x", "the payload `publish` sent");

    // JetStream stops redelivering it: nothing pending, nothing awaiting an ack.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let mut consumer = env
        .js
        .get_stream(&env.stream)
        .await?
        .get_consumer::<pull::Config>("effects")
        .await
        .map_err(|error| anyhow::anyhow!(error))?;
    let info = consumer.info().await?;
    assert_eq!((info.num_pending, info.num_ack_pending), (0, 0));
    assert_eq!(env.effects().await?, 0);

    // Fixed, and replayed on an operator's request: applied once, marked replayed.
    handler.broken.store(false, Ordering::SeqCst);
    assert_eq!(
        dead_letters::request_replay(pool, "effects", "doomed-1").await?,
        ReplayRequest::Requested
    );
    env.wait_for_effects(1).await?;
    eventually("the dead letter is marked replayed", || async {
        Ok(dead_letters::list(pool, None, false).await?.is_empty())
    })
    .await?;
    let replayed = dead_letters::list(pool, None, true).await?;
    assert!(replayed[0].replayed_at.is_some());
    assert_eq!(
        dead_letters::request_replay(pool, "effects", "doomed-1").await?,
        ReplayRequest::AlreadyReplayed
    );
    assert_eq!(
        dead_letters::request_replay(pool, "effects", "no-such-id").await?,
        ReplayRequest::NotFound
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(env.effects().await?, 1, "applied once");

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), task).await???;
    env.finish().await
}

#[tokio::test]
async fn a_failed_replay_is_recorded_and_withdrawn() -> anyhow::Result<()> {
    let env = BusTestEnv::start(Duration::from_secs(120)).await?;
    let handler = Switchable::default();
    handler.broken.store(true, Ordering::SeqCst);
    let shutdown = CancellationToken::new();
    let task = start_consumer_with(&env, settings(&env), handler.clone(), &shutdown).await?;
    publish(&env, "doomed-2").await?;
    let pool = env.db.pool();
    eventually("the message becomes a dead letter", || async {
        Ok(!dead_letters::list(pool, None, false).await?.is_empty())
    })
    .await?;
    dead_letters::request_replay(pool, "effects", "doomed-2").await?;
    eventually("the replay fails and is withdrawn", || async {
        let dead = dead_letters::list(pool, None, false).await?;
        Ok(dead[0].replay_error.is_some() && dead[0].replay_requested_at.is_none())
    })
    .await?;
    assert_eq!(env.effects().await?, 0);
    let inbox: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox_messages")
        .fetch_one(pool)
        .await?;
    assert_eq!(inbox, 0, "a failed replay claims nothing");
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), task).await???;
    env.finish().await
}

#[tokio::test]
async fn inbox_rows_past_their_retention_are_pruned() -> anyhow::Result<()> {
    let env = BusTestEnv::start(Duration::from_secs(120)).await?;
    let shutdown = CancellationToken::new();
    let retained = ConsumerSettings {
        inbox_retention: Duration::from_secs(600),
        ..settings(&env)
    };
    let task = start_consumer_with(&env, retained, Switchable::default(), &shutdown).await?;
    for id in ["old-1", "old-2", "recent"] {
        publish(&env, id).await?;
    }
    env.wait_for_effects(3).await?;
    let pool = env.db.pool();
    sqlx::query(
        "UPDATE inbox_messages SET processed_at = now() - interval '1 hour' \
         WHERE msg_id IN ('old-1', 'old-2')",
    )
    .execute(pool)
    .await?;
    eventually("the old rows are pruned", || async {
        let left: Vec<String> = sqlx::query_scalar("SELECT msg_id FROM inbox_messages")
            .fetch_all(pool)
            .await?;
        Ok(left == ["recent"])
    })
    .await?;
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), task).await???;
    env.finish().await
}

#[tokio::test]
async fn retention_settings_are_applied_to_an_existing_stream() -> anyhow::Result<()> {
    let env = BusTestEnv::start(Duration::from_secs(120)).await?;
    let limited = StreamSettings {
        duplicate_window: Duration::from_secs(120),
        max_age: Duration::from_secs(3600),
        max_bytes: Some(64 << 20),
        replicas: 1,
    };
    let mut stream = ensure_stream_with(&env.js, &env.prefix, &limited).await?;
    let config = stream.info().await?.config.clone();
    assert_eq!(
        (config.max_age, config.max_bytes),
        (Duration::from_secs(3600), 64 << 20)
    );
    let mut stream = ensure_stream(&env.js, &env.prefix, Duration::from_secs(120)).await?;
    let config = stream.info().await?.config.clone();
    assert_eq!((config.max_age, config.max_bytes), (Duration::ZERO, -1));
    env.finish().await
}
