//! Round progress as gauges: after units of a round submit, the service's `/metrics` shows the
//! round's cohort, submitted and not-submitted units, its state and its deadline, as read from
//! PostgreSQL.

mod support;

use dti_testkit::metrics::{sample, scrape};
use std::time::Duration;

use support::{some_values, Stack};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_progress_is_exported_as_gauges() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    stack
        .open_round(&["quan-1", "quan-3", "binh-tan"], Duration::from_secs(3600))
        .await?;
    let id = stack.draft("quan-1").await?.submission_id;
    stack.set("quan-1", &id, some_values(7)).await?;
    stack.submit("quan-1", &id, "metrics-1").await?;
    let id = stack.draft("quan-3").await?.submission_id;
    stack.set("quan-3", &id, some_values(8)).await?;

    dti_submission::round_metrics::export_round_progress(stack.backends.db.pool()).await?;
    let service = stack.service.as_ref().expect("running");
    let metrics = scrape(service.metrics_addr.expect("metrics enabled")).await?;
    let round = ["year=\"2023\"", "framework=\"hcm-2023-district\""];
    let units = |stage: &str| {
        let stage = format!("stage=\"{stage}\"");
        let labels = [round[0], round[1], stage.as_str()];
        sample(&metrics, "dti_round_units", &labels)
    };
    assert_eq!(units("cohort"), Some(3.0), "{metrics}");
    assert_eq!(units("submitted"), Some(1.0), "a draft is not submitted");
    assert_eq!(units("not_submitted"), Some(2.0));
    assert_eq!(units("verified"), Some(0.0));
    assert_eq!(units("published"), Some(0.0));
    let state = |state: &str| {
        let state = format!("state=\"{state}\"");
        sample(
            &metrics,
            "dti_round_state",
            &[round[0], round[1], state.as_str()],
        )
    };
    assert_eq!(state("open"), Some(1.0));
    assert_eq!(state("closed"), Some(0.0));
    let deadline = sample(&metrics, "dti_round_deadline_timestamp_seconds", &round)
        .expect("the deadline is exported");
    let in_an_hour = (chrono::Utc::now() + Duration::from_secs(3600)).timestamp() as f64;
    assert!(
        (deadline - in_an_hour).abs() < 120.0,
        "{deadline} vs {in_an_hour}"
    );
    stack.close().await
}
