//! The reconciler: at start and on a timer, brings every scored cohort's sorted sets up to the
//! score tables, so rankings catch up from PostgreSQL alone when an event never came, and sets
//! lost with a flushed or restarted Redis are rebuilt.

use std::sync::Arc;
use std::time::Duration;

use dti_db::PgPool;

use crate::cohort_sync::{RankingSync, SyncOutcome};
use crate::RankingError;

/// Synchronises every cohort periodically.
#[derive(Debug, Clone)]
pub struct Reconciler {
    pool: PgPool,
    sync: Arc<RankingSync>,
    interval: Duration,
}

impl Reconciler {
    /// A reconciler passing every `interval`.
    pub fn new(pool: PgPool, sync: Arc<RankingSync>, interval: Duration) -> Self {
        Self {
            pool,
            sync,
            interval,
        }
    }

    /// How often the reconciler passes (the service runs [`Reconciler::pass`] on the kit's
    /// timer, now and then every interval; a failed pass is tried again at the next).
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// One pass over every scored cohort; returns how many were rebuilt or updated.
    #[tracing::instrument(skip(self))]
    pub async fn pass(&self) -> Result<usize, RankingError> {
        let cohorts = dti_scores::tables::scored_cohorts(&self.pool).await?;
        let mut changed = 0;
        for (round, basis, _) in cohorts {
            match self.sync.sync(&round, basis).await? {
                SyncOutcome::Applied(..) | SyncOutcome::Rebuilt(..) => changed += 1,
                SyncOutcome::NotScored | SyncOutcome::UpToDate(_) => {}
            }
        }
        Ok(changed)
    }
}
