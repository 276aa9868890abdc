//! The reconciler: at start and on a timer, finds every unit whose scores are older than its
//! inputs — a submission whose latest version, or whose verifier decisions, differ from what
//! its score rows were computed from, or a cohort member without a row — and scores it, so the
//! scores catch up from PostgreSQL alone when an event never came.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use dti_db::PgPool;
use dti_domain::{FrameworkId, RoundRef, UnitId};
use dti_scores::Basis;

use crate::inputs::decisions_digest;
use crate::rescore::Scorer;
use crate::ScoringError;

/// Units whose score rows are older than their inputs, or missing, with the basis to re-score.
const STALE_UNITS: &str = concat!(
    "SELECT s.year, s.framework, b.basis, s.unit_id \
     FROM submissions s CROSS JOIN (VALUES ('self'), ('verified')) AS b(basis) \
     LEFT JOIN score_units u ON u.year = s.year AND u.framework = s.framework \
       AND u.basis = b.basis AND u.unit_id = s.unit_id \
     WHERE s.latest_version > 0 AND (u.unit_id IS NULL \
       OR u.submission_id IS DISTINCT FROM s.id OR u.input_version <> s.latest_version \
       OR (b.basis = 'verified' AND u.decisions_digest <> ",
    decisions_digest!("s.id", "s.latest_version"),
    ")) \
     UNION \
     SELECT r.year, r.framework, c.basis, r.unit_id FROM round_units r \
     JOIN score_cohorts c ON c.year = r.year AND c.framework = r.framework \
     LEFT JOIN score_units u ON u.year = r.year AND u.framework = r.framework \
       AND u.basis = c.basis AND u.unit_id = r.unit_id \
     WHERE u.unit_id IS NULL"
);

/// Finds and scores units whose scores are behind their inputs.
#[derive(Debug, Clone)]
pub struct Reconciler {
    pool: PgPool,
    scorer: Arc<Scorer>,
    interval: Duration,
    bulk_threshold: usize,
}

impl Reconciler {
    /// A reconciler passing every `interval`; cohorts with at least `bulk_threshold` stale
    /// units are re-scored in one change.
    pub fn new(
        pool: PgPool,
        scorer: Arc<Scorer>,
        interval: Duration,
        bulk_threshold: usize,
    ) -> Self {
        Self {
            pool,
            scorer,
            interval,
            bulk_threshold,
        }
    }

    /// How often the reconciler passes (the service runs [`Reconciler::reconcile`] on the
    /// kit's timer, now and then every interval).
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// One pass, logging how many units it scored; a failed pass is tried again at the next.
    pub async fn reconcile(&self) -> Result<(), ScoringError> {
        let units = self.pass().await?;
        if units > 0 {
            tracing::info!(units, "reconciler scored units whose event never came");
        }
        Ok(())
    }

    /// One pass: scores every stale unit; returns how many units were looked at. The cohorts
    /// of a round with many stale units are scored together, in one transaction reading the
    /// inputs once for both bases; the others unit by unit.
    #[tracing::instrument(skip(self))]
    pub async fn pass(&self) -> Result<usize, ScoringError> {
        let stale = self.stale_units().await?;
        let looked_at = stale.values().map(Vec::len).sum();
        let (bulk, single): (BTreeMap<_, _>, BTreeMap<_, _>) = stale
            .into_iter()
            .partition(|(_, units)| units.len() >= self.bulk_threshold);
        let mut bulk_by_round: BTreeMap<RoundRef, BTreeMap<(RoundRef, Basis), Vec<UnitId>>> =
            BTreeMap::new();
        for ((round, basis), units) in bulk {
            bulk_by_round
                .entry(round.clone())
                .or_default()
                .insert((round, basis), units);
        }
        for cohorts in bulk_by_round.into_values() {
            let scorer = Arc::clone(&self.scorer);
            dti_db::with_transaction(&self.pool, |tx| {
                Box::pin(async move { scorer.rescore_cohorts(tx, &cohorts).await })
            })
            .await?;
        }
        for ((round, basis), units) in single {
            for unit in units {
                let scorer = Arc::clone(&self.scorer);
                let round = round.clone();
                dti_db::with_transaction(&self.pool, |tx| {
                    Box::pin(async move { scorer.rescore_unit(tx, &round, &unit, &[basis]).await })
                })
                .await?;
            }
        }
        Ok(looked_at)
    }

    /// Stale units grouped by cohort (round and basis), of frameworks scored here.
    async fn stale_units(&self) -> Result<BTreeMap<(RoundRef, Basis), Vec<UnitId>>, ScoringError> {
        let rows: Vec<(i16, String, String, String)> = sqlx::query_as(STALE_UNITS)
            .fetch_all(&self.pool)
            .await
            .map_err(ScoringError::database(
                "finding scores older than their inputs",
            ))?;
        let mut stale: BTreeMap<(RoundRef, Basis), Vec<UnitId>> = BTreeMap::new();
        for (year, framework, basis, unit) in rows {
            let parsed = (
                u16::try_from(year).ok(),
                FrameworkId::parse(framework.clone()).ok(),
                Basis::from_stored(&basis),
                UnitId::parse(unit.clone()).ok(),
            );
            let (Some(year), Some(framework), Some(basis), Some(unit)) = parsed else {
                tracing::warn!(year, %framework, %basis, %unit, "skipping an unreadable stale unit");
                continue;
            };
            if self.scorer.layout(&framework).is_err() {
                continue;
            }
            stale
                .entry((RoundRef { year, framework }, basis))
                .or_default()
                .push(unit);
        }
        for units in stale.values_mut() {
            units.sort();
        }
        Ok(stale)
    }
}
