//! Two replicas of the scoring service — separate `dti-scoring` processes on one database, one
//! NATS prefix and so the same durable consumers — share a burst of submissions: each applies
//! part of the events (read from its own `/metrics`), no event is applied twice, and the scores
//! equal `dtictl score` on every unit's latest input, exactly as with one replica.

mod support;

use anyhow::Context;
use dti_proto::dti::scoring::v1::Basis;
use support::*;
use tokio::process::Child;

const CONSUMER: &str = "scoring-on-submission";

/// Starts a `dti-scoring` process on the test's database and prefix, `/metrics` on `port`.
fn start_replica(env: &ScoringEnv, metrics_port: u16) -> anyhow::Result<Child> {
    env.backends
        .service_process(
            env!("CARGO_BIN_EXE_dti-scoring"),
            "DTI_SCORING_",
            "127.0.0.1:0",
            metrics_port,
        )
        .env("DTI_SCORING_SERVICE__RECONCILE_INTERVAL_SECS", "3600")
        // Small batches, so that a burst is spread over both replicas' pull requests.
        .env("DTI_SCORING_SERVICE__CONSUMER_BATCH", "4")
        .spawn()
        .context("starting dti-scoring")
}

/// `GET /metrics` of a local port; `None` while nothing answers.
fn scrape(port: u16) -> Option<String> {
    dti_testkit::metrics::scrape_port(port).ok()
}

/// Events of the submission consumer a replica applied (`processed`) or found applied already.
fn consumed(metrics: &str, outcome: &str) -> u64 {
    let consumer = format!("consumer=\"{CONSUMER}\"");
    let outcome = format!("outcome=\"{outcome}\"");
    dti_testkit::metrics::sample_sum(
        metrics,
        "dti_bus_events_consumed_total",
        &[&consumer, &outcome],
    ) as u64
}

#[tokio::test]
async fn two_replicas_split_a_burst_and_apply_each_event_once() -> anyhow::Result<()> {
    let (mut env, round, mut units) = burst_round(12, 53, "R-").await?;
    let ids: Vec<String> = units.iter().map(|u| u.unit.clone()).collect();

    let ports = [dti_testkit::free_port()?, dti_testkit::free_port()?];
    let mut replicas = Vec::new();
    for port in ports {
        replicas.push(start_replica(&env, port)?);
    }
    wait_until("both replicas serve their metrics", || async {
        Ok(ports.iter().all(|port| scrape(*port).is_some()))
    })
    .await?;

    // A burst: five versions of each of twelve units, each announced in its transaction.
    let mut events = 0_u64;
    for pass in 0..5_u64 {
        for (i, unit) in units.iter_mut().enumerate() {
            let a = 20 + pass * 11 + u64::try_from(i)? * 5;
            set_min_max_count(unit, a);
            submit(env.pool(), env.prefix(), &round, unit, true).await?;
            events += 1;
        }
    }
    let latest: Vec<(String, i32)> = ids.iter().map(|id| (id.clone(), 5)).collect();
    wait_scored(env.pool(), &round, "self", &latest).await?;
    wait_scored(env.pool(), &round, "verified", &latest).await?;
    wait_until("every event is applied", || async {
        let processed: u64 = ports
            .iter()
            .filter_map(|port| scrape(*port))
            .map(|metrics| consumed(&metrics, "processed"))
            .sum();
        Ok(processed >= events)
    })
    .await?;

    let per_replica: Vec<u64> = ports
        .iter()
        .map(|port| scrape(*port).map_or(0, |metrics| consumed(&metrics, "processed")))
        .collect();
    assert_eq!(
        per_replica.iter().sum::<u64>(),
        events,
        "each event applied exactly once: {per_replica:?}"
    );
    assert!(
        per_replica.iter().all(|applied| *applied > 0),
        "both replicas took part: {per_replica:?}"
    );
    let inbox: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox_messages WHERE consumer = $1")
        .bind(CONSUMER)
        .fetch_one(env.pool())
        .await?;
    assert_eq!(u64::try_from(inbox)?, events);

    for mut replica in replicas {
        replica.kill().await?;
    }
    // The scores both replicas wrote equal the engine's on the latest inputs.
    env.restart().await?;
    assert_scores_match(&env, &round, Basis::SelfAssessed, &units).await?;
    assert_scores_match(&env, &round, Basis::Verified, &units).await?;
    env.close().await
}
