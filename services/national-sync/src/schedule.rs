//! The scheduled sync (off by default): on a configured interval, when the current year has a
//! complete value version the national system has not been sent yet (values changed since the
//! last accepted push), it starts a sync of that year without a dry run, as the operator's
//! StartSync would.

use std::sync::Arc;
use std::time::Duration;

use chrono::{Datelike, FixedOffset, Utc};
use dti_auth::{Principal, Role};
use dti_db::PgPool;

use crate::events::EventSubjects;
use crate::national_set::NationalSet;
use crate::plan;
use crate::snapshot;
use crate::sync_runs::{self, RunRecord, SyncContext, Trigger};
use crate::NationalSyncError;

/// Ho Chi Minh City's offset from UTC, in seconds (UTC+7, no daylight saving).
const CITY_UTC_OFFSET_SECS: i32 = 7 * 3600;

/// The current year in the city.
pub fn current_year() -> u32 {
    let now = Utc::now();
    let year = FixedOffset::east_opt(CITY_UTC_OFFSET_SECS)
        .map_or(now.year(), |offset| now.with_timezone(&offset).year());
    u32::try_from(year).unwrap_or(0)
}

/// The principal scheduled syncs are recorded as.
pub fn scheduler_actor() -> Principal {
    Principal::city("system:national-sync-scheduler", Role::NationalSync)
}

/// The scheduled sync: what it needs to start a sync, and how often it looks.
#[derive(Debug, Clone)]
pub struct Scheduler {
    /// Database.
    pub pool: PgPool,
    /// Routed set.
    pub set: Arc<NationalSet>,
    /// Event subjects.
    pub subjects: EventSubjects,
    /// The city's code in the national system.
    pub province: String,
    /// How often to look.
    pub interval: Duration,
}

impl Scheduler {
    /// One look at the current year, the step the service runs every interval (the first
    /// one interval after start); a failed look is logged and tried again at the next.
    pub async fn look(&self) -> Result<(), NationalSyncError> {
        match self.sync_if_changed(current_year()).await? {
            Some(run) => {
                tracing::info!(run = %run.id, items = run.items, "scheduled sync started")
            }
            None => tracing::debug!("scheduled sync: nothing new to push"),
        }
        Ok(())
    }

    /// Starts a sync of `year` when something new is ready to push.
    pub async fn sync_if_changed(&self, year: u32) -> Result<Option<RunRecord>, NationalSyncError> {
        let Ok(year) = self.set.year(year) else {
            return Ok(None);
        };
        let snapshot = snapshot::load(&self.pool, &self.set, year).await?;
        if plan::plan(&self.set, &snapshot, year, &self.province)
            .to_push()
            .next()
            .is_none()
        {
            return Ok(None);
        }
        let context = SyncContext {
            set: &self.set,
            subjects: &self.subjects,
            province: &self.province,
        };
        let run = sync_runs::start(
            &self.pool,
            context,
            &scheduler_actor(),
            year,
            Trigger::Schedule,
            None,
        )
        .await?;
        Ok((run.items > 0).then_some(run))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_year_is_the_citys() {
        let year = current_year();
        let utc = u32::try_from(Utc::now().year()).unwrap();
        assert!(year == utc || year == utc + 1);
    }
}
