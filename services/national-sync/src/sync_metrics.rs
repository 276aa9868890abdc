//! The national sync as the city's operators watch it:
//! - [`PUSH_BACKLOG`] and [`OLDEST_PENDING_PUSH`]: pushes of the service's framework still
//!   pending (queued, being retried or put back) and the age in seconds of the oldest (0 when
//!   none), gauges read from PostgreSQL (the only truth) every [`EXPORT_INTERVAL`] by
//!   [`export_backlog`], so any replica answers a scrape with the same numbers;
//! - [`RUNS_FINISHED`] `{outcome}` and [`RUN_SECONDS`]: each sync run when its last push is
//!   answered ([`FinishedRun::record`], after its transaction committed) — `accepted` (every
//!   answered push accepted), `rejected` (at least one rejected) or `empty` (nothing to push) —
//!   and its duration from start to finish. Runs started are counted as
//!   `dti_national_sync_runs_total` by [`crate::sync_runs::start`].

use std::time::Duration;

use chrono::{DateTime, Utc};
use dti_db::PgPool;

use crate::NationalSyncError;

/// Time between two reads of the backlog: about a Prometheus scrape interval.
pub const EXPORT_INTERVAL: Duration = Duration::from_secs(15);

/// Gauge of pending pushes.
pub const PUSH_BACKLOG: &str = "dti_national_push_backlog";
/// Gauge of the age in seconds of the oldest pending push.
pub const OLDEST_PENDING_PUSH: &str = "dti_national_push_oldest_pending_seconds";
/// Counter of finished sync runs by `outcome`.
pub const RUNS_FINISHED: &str = "dti_national_sync_runs_finished_total";
/// Summary of the seconds from a run's start to its finish.
pub const RUN_SECONDS: &str = "dti_national_sync_run_seconds";

/// The outcomes of [`RUNS_FINISHED`].
pub const RUN_OUTCOMES: [&str; 3] = ["accepted", "rejected", "empty"];

/// Exports [`RUNS_FINISHED`] of every outcome at 0, so the series exist before a run finishes.
pub fn export_runs_finished_at_zero() {
    for outcome in RUN_OUTCOMES {
        metrics::counter!(RUNS_FINISHED, "outcome" => outcome).increment(0);
    }
}

/// Reads the pending pushes of `framework` and sets [`PUSH_BACKLOG`] and
/// [`OLDEST_PENDING_PUSH`].
pub async fn export_backlog(pool: &PgPool, framework: &str) -> Result<(), NationalSyncError> {
    let (pending, oldest): (i64, Option<f64>) = sqlx::query_as(
        "SELECT count(*), EXTRACT(EPOCH FROM now() - min(created_at))::float8 \
           FROM national_push_jobs WHERE state = 'pending' AND framework = $1",
    )
    .bind(framework)
    .fetch_one(pool)
    .await
    .map_err(NationalSyncError::database("reading the push backlog"))?;
    metrics::gauge!(PUSH_BACKLOG).set(pending as f64);
    metrics::gauge!(OLDEST_PENDING_PUSH).set(oldest.unwrap_or(0.0).max(0.0));
    Ok(())
}

/// A run that has just finished, to be counted once its transaction committed.
#[derive(Debug, Clone, Copy, PartialEq)]
#[must_use = "a finished run is counted by `record` after its transaction commits"]
pub struct FinishedRun {
    /// Pushes accepted.
    pub accepted: i64,
    /// Pushes rejected.
    pub rejected: i64,
    /// From the run's start to its finish.
    pub duration: Duration,
}

impl FinishedRun {
    /// The run started at `started` and finished at `finished` with these answers.
    pub fn new(
        accepted: i64,
        rejected: i64,
        started: DateTime<Utc>,
        finished: DateTime<Utc>,
    ) -> Self {
        Self {
            accepted,
            rejected,
            duration: (finished - started).to_std().unwrap_or_default(),
        }
    }

    /// The run's outcome label.
    pub fn outcome(&self) -> &'static str {
        match (self.accepted, self.rejected) {
            (_, rejected) if rejected > 0 => "rejected",
            (0, _) => "empty",
            _ => "accepted",
        }
    }

    /// Counts the run and its duration.
    pub fn record(self) {
        metrics::counter!(RUNS_FINISHED, "outcome" => self.outcome()).increment(1);
        metrics::histogram!(RUN_SECONDS).record(self.duration.as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_is_accepted_rejected_or_empty() {
        let start = Utc::now();
        let end = start + chrono::Duration::milliseconds(2500);
        let run = |accepted, rejected| FinishedRun::new(accepted, rejected, start, end);
        assert_eq!(run(40, 0).outcome(), "accepted");
        assert_eq!(run(39, 1).outcome(), "rejected");
        assert_eq!(run(0, 2).outcome(), "rejected");
        assert_eq!(run(0, 0).outcome(), "empty");
        assert_eq!(run(1, 0).duration, Duration::from_millis(2500));
        assert_eq!(
            FinishedRun::new(1, 0, end, start).duration,
            Duration::ZERO,
            "a clock step back is no negative duration"
        );
    }
}
