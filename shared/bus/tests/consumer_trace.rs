//! The consumer's span continues the publisher's trace. Alone in its own test binary: the
//! thread-local subscriber it installs would otherwise race other tests of the same process
//! over tracing's per-callsite interest cache, and a span could be left unrecorded.

mod support;

use std::time::Duration;

use support::{publish, start_consumer, BusTestEnv, RecordingHandler};
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "current_thread")]
async fn consumer_span_continues_the_publisher_trace() -> anyhow::Result<()> {
    let _subscriber =
        tracing::subscriber::set_default(dti_telemetry::local_trace_subscriber("bus-test"));
    let env = BusTestEnv::start(Duration::from_secs(120)).await?;
    let shutdown = CancellationToken::new();
    let task = start_consumer(&env, RecordingHandler::default(), &shutdown).await?;

    let publisher = tracing::info_span!("publisher");
    let trace_id = dti_telemetry::trace_id_of(&publisher).expect("publisher has a trace id");
    {
        use tracing::Instrument;
        publish(&env, "fact-1")
            .instrument(publisher.clone())
            .await?;
    }
    env.wait_for_effects(1).await?;
    let seen: Option<String> = sqlx::query_scalar("SELECT trace_id FROM test_effects")
        .fetch_one(env.db.pool())
        .await?;
    assert_eq!(seen, Some(trace_id.to_string()));

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), task).await???;
    env.finish().await
}
