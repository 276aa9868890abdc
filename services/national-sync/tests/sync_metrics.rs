//! The national sync's metrics on the service's `/metrics`: pushes that stay pending (no
//! worker runs) show as the backlog and the age of the oldest; once workers push them to the
//! reference receiver, the run's outcome and duration are counted and the backlog is empty.

mod support;

use dti_testkit::metrics::{sample, scrape};
use std::time::Duration;

use dti_national_sync::sync_metrics::{
    self, OLDEST_PENDING_PUSH, PUSH_BACKLOG, RUNS_FINISHED, RUN_SECONDS,
};
use dti_testkit::TestBackends;
use support::{
    clients, eventually, finished_run, national_set, plan_and_push, push_settings, start_service,
    submit_all, RunningReceiver, WAIT, YEAR,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backlog_and_finished_runs_are_exported() -> anyhow::Result<()> {
    let receiver = RunningReceiver::start(&[]).await?;
    let backends = TestBackends::create().await?;
    let framework = national_set().framework_id().to_string();
    let mut held = push_settings(&receiver.url);
    held.push.workers = 0;
    let running = start_service(&backends, held).await?;
    let addr = running.metrics_addr.expect("metrics enabled");
    // The service exports the backlog on its own timer from the start, and every run
    // outcome before the first run finished.
    let metrics = eventually(WAIT, "the backlog exported at start", || async {
        let metrics = scrape(addr).await?;
        Ok(sample(&metrics, PUSH_BACKLOG, &[]).map(|_| metrics))
    })
    .await?;
    assert_eq!(sample(&metrics, PUSH_BACKLOG, &[]), Some(0.0), "{metrics}");
    assert_eq!(sample(&metrics, OLDEST_PENDING_PUSH, &[]), Some(0.0));
    for outcome in sync_metrics::RUN_OUTCOMES {
        let label = format!("outcome=\"{outcome}\"");
        assert_eq!(sample(&metrics, RUNS_FINISHED, &[&label]), Some(0.0));
    }

    // No worker runs: the run's pushes stay pending.
    let mut c = clients(&running);
    submit_all(&backends, &mut c, YEAR, 1).await?;
    let (_, run) = plan_and_push(&backends, &mut c, YEAR).await?;
    let queued = f64::from(run.items);
    assert!(queued > 0.0);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    sync_metrics::export_backlog(backends.db.pool(), &framework).await?;
    let metrics = scrape(addr).await?;
    assert_eq!(sample(&metrics, PUSH_BACKLOG, &[]), Some(queued));
    let oldest = sample(&metrics, OLDEST_PENDING_PUSH, &[]).expect("the oldest push's age");
    assert!(
        (1.0..60.0).contains(&oldest),
        "oldest pending push {oldest} s"
    );
    running.stop().await?;

    // Workers push everything; the run finishes accepted, with its duration.
    let running = start_service(&backends, push_settings(&receiver.url)).await?;
    let mut c = clients(&running);
    finished_run(&backends, &mut c, &run.run_id, WAIT).await?;
    sync_metrics::export_backlog(backends.db.pool(), &framework).await?;
    let metrics = scrape(running.metrics_addr.expect("metrics enabled")).await?;
    assert_eq!(
        sample(&metrics, RUNS_FINISHED, &["outcome=\"accepted\""]),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        sample(&metrics, RUNS_FINISHED, &["outcome=\"rejected\""]),
        Some(0.0)
    );
    assert_eq!(
        sample(&metrics, &format!("{RUN_SECONDS}_count"), &[]),
        Some(1.0)
    );
    let took = sample(&metrics, &format!("{RUN_SECONDS}_sum"), &[]).expect("the run's seconds");
    assert!(
        took >= oldest,
        "the run took {took} s, its pushes waited {oldest} s"
    );
    assert_eq!(sample(&metrics, PUSH_BACKLOG, &[]), Some(0.0));
    assert_eq!(sample(&metrics, OLDEST_PENDING_PUSH, &[]), Some(0.0));
    running.stop().await?;
    backends.close().await?;
    Ok(())
}
