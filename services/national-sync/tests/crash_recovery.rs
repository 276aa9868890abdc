//! The sync service killed with SIGKILL mid-push and restarted: the built binary runs as a
//! subprocess configured by `DTI_NATIONAL_SYNC_*` variables, pushes to the reference receiver
//! binary, is killed while pushes are in flight, and is started again. Every item must end
//! accepted exactly once at the receiver and in the push log.

mod support;

use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use dti_testkit::TestBackends;
use support::{
    assert_every_item_accepted_once, clients, eventually, finished_run, national_set,
    plan_and_push, push_settings, start_service, submit_all, wait_for_pushes, RunningReceiver,
    YEAR,
};
use tokio::process::{Child, Command};

/// Starts the `dti-national-sync` binary on the test's database and NATS prefix.
fn start_binary(backends: &TestBackends, receiver_url: &str) -> anyhow::Result<Child> {
    let vars = [
        ("DATABASE_URL", backends.db.url().to_owned()),
        ("NATS_URL", dti_testkit::nats_url()),
        ("NATS_PREFIX", backends.nats_prefix.clone()),
        ("GRPC_LISTEN_ADDR", "127.0.0.1:0".to_owned()),
        ("METRICS_ENABLED", "false".to_owned()),
        (
            "AUTH_HS256_SECRET",
            "crash-test-hs256-secret-0123456789abcdef".to_owned(),
        ),
        ("TELEMETRY_LOG_FILTER", "warn".to_owned()),
        ("SERVICE__NATIONAL__ENDPOINT", receiver_url.to_owned()),
        ("SERVICE__NATIONAL__ALLOW_PLAIN_HTTP", "true".to_owned()),
        ("SERVICE__NATIONAL__REQUEST_TIMEOUT_MS", "3000".to_owned()),
        ("SERVICE__PUSH__WORKERS", "2".to_owned()),
        ("SERVICE__PUSH__POLL_INTERVAL_MS", "200".to_owned()),
        ("SERVICE__PUSH__RETRY_MIN_DELAY_MS", "20".to_owned()),
        ("SERVICE__PUSH__RETRY_MAX_DELAY_MS", "100".to_owned()),
        ("SERVICE__PUSH__REQUEUE_DELAY_MS", "200".to_owned()),
        ("SERVICE__PUSH__MAX_REQUEUE_DELAY_MS", "1000".to_owned()),
        // A push in flight when the process is killed is sent again after its lease.
        ("SERVICE__PUSH__LEASE_MS", "4000".to_owned()),
    ];
    let mut command = Command::new(env!("CARGO_BIN_EXE_dti-national-sync"));
    for (name, value) in vars {
        command.env(format!("DTI_NATIONAL_SYNC_{name}"), value);
    }
    command
        .env_remove("DTI_NATIONAL_SYNC_CONFIG_FILE")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("starting dti-national-sync")
}

/// Keys the receiver accepted whose push the service has not recorded as answered.
async fn accepted_but_unrecorded(
    pool: &sqlx::PgPool,
    receiver: &RunningReceiver,
) -> anyhow::Result<usize> {
    let state = receiver.state().await?;
    let keys: Vec<String> = state
        .accepted
        .iter()
        .map(|a| a.idempotency_key.clone())
        .collect();
    let pending: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM national_push_jobs WHERE state = 'pending' AND idempotency_key = ANY($1)",
    )
    .bind(&keys)
    .fetch_one(pool)
    .await?;
    Ok(usize::try_from(pending)?)
}

#[tokio::test]
async fn the_sync_service_killed_mid_push_and_restarted_pushes_every_item_once(
) -> anyhow::Result<()> {
    // Every push is recorded by the receiver at once and answered 150 ms later: a kill at any
    // moment is very likely to catch a push the receiver accepted but the service did not
    // record yet.
    let receiver =
        RunningReceiver::start(&["--delay-first", "100000", "--delay-ms", "150"]).await?;
    let backends = TestBackends::create().await?;
    let pool = backends.db.pool().clone();
    // The in-process instance takes the owners' values and the operator's confirmation; it does
    // not push (workers = 0): the binary does.
    let mut settings = push_settings(&receiver.url);
    settings.push.workers = 0;
    let running = start_service(&backends, settings).await?;
    let mut c = clients(&running);
    submit_all(&backends, &mut c, YEAR, 1).await?;
    let (_, run) = plan_and_push(&backends, &mut c, YEAR).await?;
    let total = national_set().items().len();
    assert_eq!(run.items as usize, total);

    let mut first = start_binary(&backends, &receiver.url)?;
    eventually(Duration::from_secs(60), "twenty acceptances", || async {
        Ok((receiver.state().await?.accepted.len() >= 20).then_some(()))
    })
    .await?;
    first.start_kill()?;
    first.wait().await?;
    let accepted_at_kill = receiver.state().await?.accepted.len();
    assert!(
        accepted_at_kill < total,
        "killed before the end ({accepted_at_kill} of {total})"
    );
    let in_flight = accepted_but_unrecorded(&pool, &receiver).await?;
    assert!(
        in_flight >= 1,
        "the kill caught a push the receiver had accepted"
    );
    let pending: i64 =
        sqlx::query_scalar("SELECT count(*) FROM national_push_jobs WHERE state = 'pending'")
            .fetch_one(&pool)
            .await?;
    assert!(usize::try_from(pending)? > 0);

    let mut second = start_binary(&backends, &receiver.url)?;
    wait_for_pushes(&pool, Duration::from_secs(120)).await?;
    assert_every_item_accepted_once(&pool, &receiver).await?;
    let state = receiver.state().await?;
    assert!(
        state.replays >= 1,
        "the push in flight was resent with its key and answered from the record"
    );
    assert_eq!(state.rejected.len(), 0);

    let finished = finished_run(&backends, &mut c, &run.run_id, Duration::from_secs(30)).await?;
    assert_eq!((finished.accepted as usize, finished.rejected), (total, 0));

    // Graceful stop of the second instance.
    if let Some(pid) = second.id().and_then(|pid| i32::try_from(pid).ok()) {
        // SAFETY: sending SIGTERM to the child process this test started.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
    let stopped = tokio::time::timeout(Duration::from_secs(30), second.wait()).await;
    assert!(
        matches!(stopped, Ok(Ok(status)) if status.success()),
        "graceful stop: {stopped:?}"
    );

    running.stop().await?;
    backends.close().await?;
    receiver.stop().await?;
    Ok(())
}
