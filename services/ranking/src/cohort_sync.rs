//! Keeping each cohort's sorted sets equal to the score tables, which stay the source of
//! truth. One cohort is synchronised at a time (a lock per cohort):
//! - the sets' marker equals the mirror's version and the tables moved on: the rows changed
//!   since are read (with the head, in one snapshot), applied to the mirror, and only the
//!   members whose score changed are written, with the new marker;
//! - anything else (no mirror yet, a flushed or restarted Redis without the marker, a marker
//!   from another state): the whole cohort is read from PostgreSQL and the sets rebuilt.
//!
//! While Redis is unavailable the mirror alone follows the tables ([`RankingSync::read_mirror`])
//! and readers are answered from it; [`RankingSync::watch_redis`] notices Redis back and the
//! next synchronisation rebuilds the sets (their marker no longer matches the mirror).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use dti_db::PgPool;
use dti_domain::{FrameworkCatalog, FrameworkId, RoundRef};
use dti_scores::layout::{NoLayout, ScoredLayouts};
use dti_scores::tables::{read_head, read_units_since, CohortHead, UnitRankingRow};
use dti_scores::{Basis, FrameworkLayout};
use dti_service_kit::RedisStore;

use crate::mirror::CohortMirror;
use crate::sorted_sets::{self, CohortKeys};
use crate::RankingError;

/// What a synchronisation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncOutcome {
    /// No unit of the cohort is scored yet.
    NotScored,
    /// The sets already reflected the tables' version.
    UpToDate(u64),
    /// Changed members were written (how many).
    Applied(u64, usize),
    /// The sets were rebuilt from PostgreSQL (how many units).
    Rebuilt(u64, usize),
}

type CohortSlot = Arc<tokio::sync::Mutex<Option<CohortMirror>>>;

/// Synchronises the sorted sets of every cohort with the score tables.
#[derive(Debug)]
pub struct RankingSync {
    pool: PgPool,
    redis: RedisStore,
    layouts: ScoredLayouts,
    cohorts: Mutex<HashMap<(RoundRef, Basis), CohortSlot>>,
    redis_available: AtomicBool,
    /// Failed checks since Redis was last seen (0 while it is available).
    redis_attempts: AtomicU64,
}

/// Gauge: 1 while the ranking service reaches Redis, 0 while it answers from PostgreSQL.
pub const REDIS_UP: &str = "dti_ranking_redis_up";

impl RankingSync {
    /// Synchronisation of the scored frameworks of `catalog` between `pool` and `redis`.
    pub fn new(pool: PgPool, redis: RedisStore, catalog: Arc<FrameworkCatalog>) -> Self {
        Self {
            pool,
            redis,
            layouts: ScoredLayouts::new(catalog),
            cohorts: Mutex::new(HashMap::new()),
            redis_available: AtomicBool::new(true),
            redis_attempts: AtomicU64::new(0),
        }
    }

    /// Whether Redis answered the last command or check; readers skip it while not.
    pub fn redis_available(&self) -> bool {
        self.redis_available.load(Ordering::Acquire)
    }

    /// Records that a Redis command failed: readers answer from the mirror until
    /// [`RankingSync::watch_redis`] sees Redis again.
    pub fn redis_failed(&self, error: &RankingError) {
        if self.redis_available.swap(false, Ordering::AcqRel) {
            metrics::gauge!(REDIS_UP).set(0.0);
            tracing::warn!(
                %error,
                "Redis is unavailable: rankings are answered from PostgreSQL until it returns"
            );
        }
    }

    /// One check of Redis (a `PING`), for the service's watch every fraction of a second.
    /// Each failed attempt is logged; when Redis answers again after failing, `rebuild` runs
    /// (the reconciler's pass, which rebuilds every cohort's sets) and only when it succeeded
    /// are readers sent back to Redis.
    pub async fn watch_redis<F, Fut>(&self, rebuild: F) -> Result<(), RankingError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<usize, RankingError>>,
    {
        let ping: Result<String, _> = redis::cmd("PING")
            .query_async(&mut self.redis.connection())
            .await;
        if let Err(source) = ping {
            let error = RankingError::Redis {
                action: "checking Redis",
                source,
            };
            self.redis_failed(&error);
            let attempt = self.redis_attempts.fetch_add(1, Ordering::AcqRel) + 1;
            tracing::warn!(%error, attempt, "Redis still unavailable; trying again");
            return Ok(());
        }
        if self.redis_available() {
            metrics::gauge!(REDIS_UP).set(1.0);
            return Ok(());
        }
        let attempts = self.redis_attempts.load(Ordering::Acquire);
        tracing::info!(
            attempts,
            "Redis answers again; rebuilding the rankings from PostgreSQL"
        );
        let rebuilt = rebuild().await?;
        self.redis_attempts.store(0, Ordering::Release);
        self.redis_available.store(true, Ordering::Release);
        metrics::gauge!(REDIS_UP).set(1.0);
        tracing::info!(cohorts = rebuilt, "rankings are served from Redis again");
        Ok(())
    }

    /// The layout of a scored framework.
    pub fn layout(&self, framework: &FrameworkId) -> Result<Arc<FrameworkLayout>, NoLayout> {
        self.layouts.get(framework)
    }

    /// The layout of `round`'s framework for syncing its cohort: `None` when the framework is
    /// not scored (nothing to rank); an error when it is not in the catalogue yet (one an
    /// operator has just added, still loading here), so the work is tried again.
    fn layout_to_sync(
        &self,
        round: &RoundRef,
    ) -> Result<Option<Arc<FrameworkLayout>>, RankingError> {
        match self.layouts.get(&round.framework) {
            Ok(layout) => Ok(Some(layout)),
            Err(NoLayout::NotScored) => Ok(None),
            Err(NoLayout::Unknown) => Err(RankingError::FrameworkNotLoaded(
                round.framework.to_string(),
            )),
        }
    }

    /// The keys of a cohort's rankings.
    pub fn keys(&self, round: &RoundRef, basis: Basis) -> CohortKeys {
        CohortKeys::new(&self.redis, round, basis)
    }

    /// A Redis connection.
    pub fn redis(&self) -> redis::aio::ConnectionManager {
        self.redis.connection()
    }

    fn slot(&self, round: &RoundRef, basis: Basis) -> CohortSlot {
        let mut cohorts = self
            .cohorts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(cohorts.entry((round.clone(), basis)).or_default())
    }

    /// Brings the cohort's sets up to the score tables.
    #[tracing::instrument(skip(self), fields(round = %round, basis = %basis))]
    pub async fn sync(&self, round: &RoundRef, basis: Basis) -> Result<SyncOutcome, RankingError> {
        let started = Instant::now();
        let outcome = self.sync_cohort(round, basis).await?;
        let kind = match outcome {
            SyncOutcome::NotScored => "not_scored",
            SyncOutcome::UpToDate(_) => "up_to_date",
            SyncOutcome::Applied(..) => "applied",
            SyncOutcome::Rebuilt(..) => "rebuilt",
        };
        metrics::histogram!("dti_ranking_sync_seconds", "outcome" => kind)
            .record(started.elapsed().as_secs_f64());
        Ok(outcome)
    }

    async fn sync_cohort(
        &self,
        round: &RoundRef,
        basis: Basis,
    ) -> Result<SyncOutcome, RankingError> {
        let Some(layout) = self.layout_to_sync(round)? else {
            return Ok(SyncOutcome::NotScored);
        };
        let slot = self.slot(round, basis);
        let mut mirror = slot.lock().await;
        let keys = self.keys(round, basis);
        let mut conn = self.redis.connection();
        let marker = sorted_sets::marker(&mut conn, &keys).await?;
        let current = match mirror.take() {
            Some(current) if marker == Some(current.version()) => current,
            _ => {
                return self
                    .rebuild_into(&mut mirror, &layout, round, basis, &keys)
                    .await
            }
        };
        let Some((head, rows)) = self.read(&layout, round, basis, current.version()).await? else {
            return Ok(SyncOutcome::NotScored);
        };
        if head.version == current.version() {
            let version = current.version();
            *mirror = Some(current);
            return Ok(SyncOutcome::UpToDate(version));
        }
        if head.version < current.version() {
            return self
                .rebuild_into(&mut mirror, &layout, round, basis, &keys)
                .await;
        }
        let version = head.version;
        let mut owned = current;
        let (owned, changes) = tokio::task::spawn_blocking(move || {
            let changes = owned.apply(head, rows);
            (owned, changes)
        })
        .await?;
        let changes = changes?;
        sorted_sets::apply(&mut conn, &keys, &layout, &changes, version).await?;
        *mirror = Some(owned);
        metrics::counter!("dti_ranking_members_written_total").increment(changes.len() as u64);
        Ok(SyncOutcome::Applied(version, changes.len()))
    }

    /// Rebuilds the cohort's sets from PostgreSQL whatever their state (a cold rebuild).
    pub async fn rebuild(
        &self,
        round: &RoundRef,
        basis: Basis,
    ) -> Result<SyncOutcome, RankingError> {
        let Some(layout) = self.layout_to_sync(round)? else {
            return Ok(SyncOutcome::NotScored);
        };
        let slot = self.slot(round, basis);
        let mut mirror = slot.lock().await;
        let keys = self.keys(round, basis);
        self.rebuild_into(&mut mirror, &layout, round, basis, &keys)
            .await
    }

    /// Reads the whole cohort, rebuilds its sets and keeps the new mirror in `slot`.
    async fn rebuild_into(
        &self,
        slot: &mut Option<CohortMirror>,
        layout: &Arc<FrameworkLayout>,
        round: &RoundRef,
        basis: Basis,
        keys: &CohortKeys,
    ) -> Result<SyncOutcome, RankingError> {
        *slot = None;
        let started = Instant::now();
        let Some((head, rows)) = self.read(layout, round, basis, 0).await? else {
            return Ok(SyncOutcome::NotScored);
        };
        let owned_layout = Arc::clone(layout);
        let mirror =
            tokio::task::spawn_blocking(move || CohortMirror::load(owned_layout, head, rows))
                .await??;
        sorted_sets::rebuild(&mut self.redis.connection(), keys, &mirror).await?;
        metrics::histogram!("dti_ranking_rebuild_seconds").record(started.elapsed().as_secs_f64());
        tracing::info!(
            units = mirror.len(),
            version = mirror.version(),
            "ranking rebuilt from PostgreSQL"
        );
        let outcome = SyncOutcome::Rebuilt(mirror.version(), mirror.len());
        *slot = Some(mirror);
        Ok(outcome)
    }

    /// The head and the rows changed after `since`, read in one snapshot; none when nothing of
    /// the cohort is scored.
    async fn read(
        &self,
        layout: &FrameworkLayout,
        round: &RoundRef,
        basis: Basis,
        since: u64,
    ) -> Result<Option<(CohortHead, Vec<UnitRankingRow>)>, RankingError> {
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await
            .map_err(RankingError::database("reading scores in one snapshot"))?;
        let Some(head) = read_head(&mut *tx, round, basis).await? else {
            return Ok(None);
        };
        let rows = match head.version > since {
            true => read_units_since(&mut *tx, layout, round, basis, since).await?,
            false => Vec::new(),
        };
        tx.commit()
            .await
            .map_err(RankingError::database("reading scores"))?;
        Ok(Some((head, rows)))
    }

    /// Brings the cohort's mirror up to the score tables from PostgreSQL alone (Redis is not
    /// touched) and reads it with `read`; none when nothing of the cohort is scored. The sets in
    /// Redis fall behind the mirror meanwhile, so the next [`RankingSync::sync`] rebuilds them.
    pub async fn read_mirror<T>(
        &self,
        round: &RoundRef,
        basis: Basis,
        read: impl FnOnce(&CohortMirror) -> T,
    ) -> Result<Option<T>, RankingError> {
        let Ok(layout) = self.layout(&round.framework) else {
            return Ok(None);
        };
        let slot = self.slot(round, basis);
        let mut mirror = slot.lock().await;
        let since = mirror.as_ref().map_or(0, CohortMirror::version);
        let Some((head, rows)) = self.read(&layout, round, basis, since).await? else {
            *mirror = None;
            return Ok(None);
        };
        let refreshed = match mirror.take() {
            Some(current) if head.version == current.version() => current,
            Some(mut current) if head.version > current.version() => {
                tokio::task::spawn_blocking(move || current.apply(head, rows).map(|_| current))
                    .await??
            }
            None => {
                tokio::task::spawn_blocking(move || CohortMirror::load(layout, head, rows))
                    .await??
            }
            Some(_) => {
                let Some((head, rows)) = self.read(&layout, round, basis, 0).await? else {
                    return Ok(None);
                };
                tokio::task::spawn_blocking(move || CohortMirror::load(layout, head, rows))
                    .await??
            }
        };
        let answer = read(&refreshed);
        *mirror = Some(refreshed);
        Ok(Some(answer))
    }

    /// The version the cohort's sets reflect, rebuilding them first when they are missing
    /// (flushed or never built); none when nothing of the cohort is scored.
    pub async fn ensure_built(
        &self,
        round: &RoundRef,
        basis: Basis,
    ) -> Result<Option<u64>, RankingError> {
        let keys = self.keys(round, basis);
        if let Some(version) = sorted_sets::marker(&mut self.redis.connection(), &keys).await? {
            return Ok(Some(version));
        }
        match self.sync(round, basis).await? {
            SyncOutcome::NotScored => Ok(None),
            SyncOutcome::UpToDate(version)
            | SyncOutcome::Applied(version, _)
            | SyncOutcome::Rebuilt(version, _) => Ok(Some(version)),
        }
    }
}
