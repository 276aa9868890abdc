//! Re-scoring units from their current inputs, inside the caller's transaction, with the
//! cohort's row locked so changes of one cohort are applied one at a time.
//!
//! One unit ([`Scorer::rescore_unit`], used by the event consumers): read its input; if it is
//! the input its row was scored from, nothing changes (stale and redelivered events end here).
//! Otherwise its x of each min-max indicator is updated and, when an x changed, that
//! indicator's range is found again from the x rows; the unit is scored by the engine against
//! the ranges, its row written at the cohort's next version, the ranges stored with it, and
//! `scores.updated.v1` written to the outbox. A range that moved changes every unit's score of
//! that indicator: readers compute it from the new range, no other row is rewritten.
//!
//! Many units at once ([`Scorer::rescore_cohorts`], used by the reconciler and by the
//! consumers' coalesced batch, over one or more cohorts): the same, with a round's cohorts
//! locked and their units' inputs read once for both bases, each cohort's stale units' x rows
//! replaced together, every range found again, and the units scored in parallel.
//!
//! Every scoring transaction takes its locks in one order: the cohort rows (by round, then basis
//! as `Basis::ALL`), then the round's `scores` audit chain, then, after a large write, the
//! statistics refresh of the score tables. So no transaction ever waits for a cohort while it
//! holds an audit chain or the statistics lock, and two scoring transactions cannot deadlock
//! (as a consumer's batch and the reconciler once did, the batch auditing each cohort before
//! locking the next).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use dti_audit::{AuditEntry, Chain};
use dti_auth::{Principal, Role};
use dti_db::PgTransaction;
use dti_domain::values::UnitValues;
use dti_domain::{FrameworkCatalog, FrameworkId, RoundRef, UnitId};
use dti_engine::CohortStats;
use dti_scores::layout::{NoLayout, ScoredLayouts};
use dti_scores::{Basis, FrameworkLayout};
use rayon::prelude::*;
use serde_json::json;

use crate::events::{enqueue_scores_updated, ScoresChange};
use crate::inputs::{read_inputs, UnitInput};
use crate::ranges::{moved_ranges, replace_units_x, stored_x, update_unit_x};
use crate::score_rows::{score_row, UnitScoreRow};
use crate::store::{self, LockedCohort, MemberRows};
use crate::ScoringError;

/// Counter of re-scorings skipped because the unit's input did not change, per basis.
pub const UNCHANGED_INPUTS: &str = "dti_scoring_unchanged_inputs_total";

/// Gauge of the latest version written of each cohort's scores (`year`, `framework`, `basis`),
/// set with the write (like the counters beside it, before the caller's transaction commits;
/// a write rolled back is corrected by the next one).
pub const COHORT_VERSION: &str = "dti_scoring_cohort_version";

/// Sets [`COHORT_VERSION`] of `round` on `basis`.
fn record_cohort_version(round: &RoundRef, basis: Basis, version: u64) {
    metrics::gauge!(
        COHORT_VERSION,
        "year" => round.year.to_string(),
        "framework" => round.framework.to_string(),
        "basis" => basis.as_str()
    )
    .set(version as f64);
}

/// The principal score changes are recorded under in the audit log.
fn scoring_principal() -> Principal {
    Principal::city("system:scoring", Role::Operator)
}

/// Scores units of any scored framework and announces each change.
#[derive(Debug)]
pub struct Scorer {
    layouts: ScoredLayouts,
    nats_prefix: String,
}

impl Scorer {
    /// A scorer for the scored frameworks of `catalog`, announcing under `nats_prefix`.
    pub fn new(catalog: Arc<FrameworkCatalog>, nats_prefix: impl Into<String>) -> Self {
        Self {
            layouts: ScoredLayouts::new(catalog),
            nats_prefix: nats_prefix.into(),
        }
    }

    /// The layout of a scored framework.
    pub fn layout(&self, framework: &FrameworkId) -> Result<Arc<FrameworkLayout>, NoLayout> {
        self.layouts.get(framework)
    }

    /// The layout of `round`'s framework for applying an event: `None` when the framework is
    /// collected, not scored (nothing to do); an error when it is not in the catalogue yet (one
    /// an operator has just added, still loading here), so the event is delivered again.
    fn layout_to_apply(
        &self,
        round: &RoundRef,
    ) -> Result<Option<Arc<FrameworkLayout>>, ScoringError> {
        match self.layouts.get(&round.framework) {
            Ok(layout) => Ok(Some(layout)),
            Err(NoLayout::NotScored) => {
                tracing::warn!("round {round} does not use a framework scored here; not scored");
                Ok(None)
            }
            Err(NoLayout::Unknown) => Err(ScoringError::FrameworkNotLoaded(
                round.framework.to_string(),
            )),
        }
    }

    /// Re-scores `unit` on each of `bases` from its current input, in one transaction.
    /// Returns the cohort versions written (none when nothing changed). A round of a framework
    /// that is not scored here, or a unit outside the round's cohort, is logged and left alone.
    #[tracing::instrument(skip(self, tx, bases), fields(round = %round, unit = %unit))]
    pub async fn rescore_unit(
        &self,
        tx: &mut PgTransaction,
        round: &RoundRef,
        unit: &UnitId,
        bases: &[Basis],
    ) -> Result<Vec<u64>, ScoringError> {
        let Some(layout) = self.layout_to_apply(round)? else {
            return Ok(Vec::new());
        };
        let started = Instant::now();
        let mut announced = Vec::new();
        let Some(locked) = store::lock_cohorts_for_unit(tx, &layout, round, bases, unit).await?
        else {
            tracing::warn!("unit {unit} is not assessed in round {round}; not scored");
            return Ok(Vec::new());
        };
        for (&basis, (cohort, _)) in bases.iter().zip(&locked) {
            if cohort.created {
                self.announce_created(tx, round, basis, cohort, &mut announced)
                    .await?;
            }
        }
        let inputs = read_inputs(
            tx,
            layout.framework(),
            round,
            std::slice::from_ref(unit),
            bases,
        )
        .await?;
        let mut versions = Vec::new();
        for ((&basis, (cohort, stored)), input) in
            bases.iter().zip(&locked).zip(inputs.into_iter().flatten())
        {
            if stored.as_ref().map(|row| &row.identity) == Some(&input.identity) {
                metrics::counter!(UNCHANGED_INPUTS, "basis" => basis.as_str()).increment(1);
                continue;
            }
            let place = format!("round {round} ({basis}), unit {unit}");
            let old_x = match stored {
                Some(row) => stored_x(&layout, unit, &place, &row.cohort_inputs)?,
                None => BTreeMap::new(),
            };
            let (stats, moved) =
                update_unit_x(tx, &layout, round, basis, &cohort.stats, &old_x, &input).await?;
            let row = score_row(&layout, &stats, input.identity.clone(), &input.values)?;
            let change = ChangeToWrite {
                rows: vec![row],
                stats,
                moved,
            };
            let version = self
                .write_change(tx, round, basis, cohort, &change, &mut announced)
                .await?;
            versions.push(version);
        }
        self.audit(tx, round, &announced).await?;
        let members_inserted = locked
            .iter()
            .map(|(cohort, _)| cohort.members_inserted)
            .sum();
        store::refresh_statistics(tx, members_inserted).await?;
        metrics::histogram!("dti_scoring_unit_rescore_seconds")
            .record(started.elapsed().as_secs_f64());
        Ok(versions)
    }

    /// Re-scores the units of every cohort of `cohorts` whose stored input is not their current
    /// one, each cohort in one change, in the order of the map — round, then basis as
    /// `Basis::ALL`, the order every scoring transaction locks cohort rows in — and audits each
    /// round's changes after the last cohort. The cohorts of a round are locked first and the
    /// inputs of their units then read once for every basis (the submitted values of a unit are
    /// the same on both); the units are scored in parallel.
    #[tracing::instrument(skip_all, fields(cohorts = cohorts.len()))]
    pub async fn rescore_cohorts(
        &self,
        tx: &mut PgTransaction,
        cohorts: &BTreeMap<(RoundRef, Basis), Vec<UnitId>>,
    ) -> Result<(), ScoringError> {
        let mut by_round: BTreeMap<&RoundRef, Vec<(Basis, &[UnitId])>> = BTreeMap::new();
        for ((round, basis), units) in cohorts {
            by_round
                .entry(round)
                .or_default()
                .push((*basis, units.as_slice()));
        }
        let mut pass = Pass::default();
        for (round, cohorts) in by_round {
            self.rescore_round(tx, round, &cohorts, &mut pass).await?;
        }
        self.finish(tx, pass).await
    }

    /// Audits the changes of a pass, round by round, then refreshes the score tables'
    /// statistics when it wrote many rows: the last locks of its transaction.
    async fn finish(&self, tx: &mut PgTransaction, pass: Pass) -> Result<(), ScoringError> {
        for (round, changes) in &pass.announced {
            self.audit(tx, round, changes).await?;
        }
        store::refresh_statistics(tx, pass.rows_written).await
    }

    /// One round's part of a pass: each of its cohorts (a basis and its stale units, in the
    /// order of `Basis::ALL`) locked, the units' inputs read once, and each cohort's stale units
    /// scored in one change and announced (the audit entries are left to [`Scorer::finish`]).
    async fn rescore_round(
        &self,
        tx: &mut PgTransaction,
        round: &RoundRef,
        cohorts: &[(Basis, &[UnitId])],
        pass: &mut Pass,
    ) -> Result<(), ScoringError> {
        let Some(layout) = self.layout_to_apply(round)? else {
            return Ok(());
        };
        let announced = pass.announced.entry(round.clone()).or_default();
        let mut locked = Vec::with_capacity(cohorts.len());
        for &(basis, _) in cohorts {
            locked.push(
                self.lock_cohort(tx, &layout, round, basis, announced)
                    .await?,
            );
        }
        let mut every_unit: Vec<UnitId> = cohorts
            .iter()
            .flat_map(|(_, units)| units.iter().cloned())
            .collect();
        every_unit.sort();
        every_unit.dedup();
        let bases: Vec<Basis> = cohorts.iter().map(|&(basis, _)| basis).collect();
        let inputs = read_inputs(tx, layout.framework(), round, &every_unit, &bases).await?;
        let mut previous = None;
        for (index, ((&(basis, units), cohort), inputs)) in
            cohorts.iter().zip(locked).zip(inputs).enumerate()
        {
            let asked: HashSet<&str> = units.iter().map(UnitId::as_str).collect();
            let inputs: Vec<UnitInput> = inputs
                .into_iter()
                .filter(|input| asked.contains(input.values.unit.as_str()))
                .collect();
            let cohort = CohortToScore {
                layout: &layout,
                round,
                basis,
                units,
                locked: cohort,
            };
            let keep = index + 1 < cohorts.len();
            previous = self
                .rescore_cohort(
                    tx,
                    cohort,
                    inputs,
                    previous,
                    keep,
                    announced,
                    &mut pass.rows_written,
                )
                .await?;
        }
        Ok(())
    }

    /// One cohort's stale units (those of `inputs` whose stored input differs) scored in one
    /// change and announced; its member rows written when the cohort was created now. A unit
    /// whose values equal those it had in the `previous` cohort of the round, when both cohorts
    /// have the same ranges, takes its row from there: before verifiers decide anything, the
    /// verified basis is the self-assessed one, and the engine would compute the same scores
    /// again. With `keep`, what was scored here is returned for the next cohort.
    #[allow(clippy::too_many_arguments)]
    async fn rescore_cohort(
        &self,
        tx: &mut PgTransaction,
        cohort: CohortToScore<'_>,
        inputs: Vec<UnitInput>,
        previous: Option<ScoredCohort>,
        keep: bool,
        announced: &mut Vec<Announced>,
        rows_written: &mut u64,
    ) -> Result<Option<ScoredCohort>, ScoringError> {
        let CohortToScore {
            layout,
            round,
            basis,
            units,
            locked,
        } = cohort;
        let stored = store::read_identities(tx, round, basis, units).await?;
        let stale: Vec<UnitInput> = inputs
            .into_iter()
            .filter(|input| stored.get(input.values.unit.as_str()) != Some(&input.identity))
            .collect();
        if locked.created {
            let scored_now: Vec<&str> = stale
                .iter()
                .map(|input| input.values.unit.as_str())
                .collect();
            *rows_written +=
                store::insert_member_rows(tx, layout, round, basis, &scored_now).await?;
        }
        if stale.is_empty() {
            return Ok(None);
        }
        let stats = replace_units_x(tx, layout, round, basis, &stale).await?;
        let moved = moved_ranges(&locked.stats, &stats);
        let scoring_layout = Arc::clone(layout);
        let (rows, stale, stats) = tokio::task::spawn_blocking(move || {
            let same_ranges = previous.filter(|previous| previous.stats == stats);
            let rows = stale
                .par_iter()
                .map(
                    |input| match same_ranges.as_ref().and_then(|p| p.row_for(input)) {
                        Some(row) => Ok(row),
                        None => score_row(
                            &scoring_layout,
                            &stats,
                            input.identity.clone(),
                            &input.values,
                        ),
                    },
                )
                .collect::<Result<Vec<UnitScoreRow>, ScoringError>>()?;
            Ok::<_, ScoringError>((rows, stale, stats))
        })
        .await??;
        *rows_written += rows.len() as u64;
        let change = ChangeToWrite { rows, stats, moved };
        self.write_change(tx, round, basis, &locked, &change, announced)
            .await?;
        let ChangeToWrite { rows, stats, .. } = change;
        Ok(keep.then(|| ScoredCohort::new(stats, stale, rows)))
    }

    /// Locks the cohort; a cohort created now (its member rows left to the caller) is
    /// announced at version 1.
    async fn lock_cohort(
        &self,
        tx: &mut PgTransaction,
        layout: &FrameworkLayout,
        round: &RoundRef,
        basis: Basis,
        announced: &mut Vec<Announced>,
    ) -> Result<LockedCohort, ScoringError> {
        let cohort = store::lock_cohort(tx, layout, round, basis, MemberRows::Later).await?;
        if cohort.created {
            self.announce_created(tx, round, basis, &cohort, announced)
                .await?;
        }
        Ok(cohort)
    }

    /// Announces a cohort created with a row per member at version 1.
    async fn announce_created(
        &self,
        tx: &mut PgTransaction,
        round: &RoundRef,
        basis: Basis,
        cohort: &LockedCohort,
        announced: &mut Vec<Announced>,
    ) -> Result<(), ScoringError> {
        let change = ScoresChange {
            round,
            basis,
            version: cohort.version,
            units: &[],
            all_units: true,
            ranges_changed: &[],
        };
        enqueue_scores_updated(tx, &self.nats_prefix, &change).await?;
        announced.push(Announced::of(&change));
        record_cohort_version(round, basis, cohort.version);
        Ok(())
    }

    /// Writes scored rows and the ranges at the cohort's next version, and announces it.
    async fn write_change(
        &self,
        tx: &mut PgTransaction,
        round: &RoundRef,
        basis: Basis,
        cohort: &LockedCohort,
        change: &ChangeToWrite,
        announced: &mut Vec<Announced>,
    ) -> Result<u64, ScoringError> {
        let version = cohort.version + 1;
        store::write_units(tx, round, basis, &change.rows, version).await?;
        let ranges_version = if change.moved.is_empty() {
            cohort.ranges_version
        } else {
            version
        };
        store::write_head(tx, round, basis, version, &change.stats, ranges_version).await?;
        let units: Vec<UnitId> = change.rows.iter().map(|row| row.unit.clone()).collect();
        let scores_change = ScoresChange {
            round,
            basis,
            version,
            units: &units,
            all_units: false,
            ranges_changed: &change.moved,
        };
        enqueue_scores_updated(tx, &self.nats_prefix, &scores_change).await?;
        announced.push(Announced::of(&scores_change));
        metrics::counter!("dti_scoring_units_scored_total", "basis" => basis.as_str())
            .increment(units.len() as u64);
        if !change.moved.is_empty() {
            metrics::counter!("dti_scoring_ranges_moved_total", "basis" => basis.as_str())
                .increment(change.moved.len() as u64);
        }
        record_cohort_version(round, basis, version);
        Ok(version)
    }

    /// Records the changes of one transaction in the round's `scores` audit chain.
    async fn audit(
        &self,
        tx: &mut PgTransaction,
        round: &RoundRef,
        changes: &[Announced],
    ) -> Result<(), ScoringError> {
        if changes.is_empty() {
            return Ok(());
        }
        let actor = scoring_principal();
        let subject = changes
            .iter()
            .map(|change| format!("{} scores v{}", change.basis, change.version))
            .collect::<Vec<_>>()
            .join(", ");
        dti_audit::append(
            tx,
            &AuditEntry {
                round,
                chain: Chain::Named("scores".to_owned()),
                actor: &actor,
                action: "scores.update",
                subject,
                before: None,
                after: Some(json!({ "changes": changes })),
            },
        )
        .await?;
        Ok(())
    }
}

/// A cohort of a pass, locked, with the units asked to be scored.
struct CohortToScore<'a> {
    layout: &'a Arc<FrameworkLayout>,
    round: &'a RoundRef,
    basis: Basis,
    units: &'a [UnitId],
    locked: LockedCohort,
}

/// The units one cohort of a round just scored, with the values and ranges they were scored
/// from, for the next cohort of the round to take rows from.
struct ScoredCohort {
    stats: CohortStats,
    units: HashMap<UnitId, (Arc<UnitValues>, UnitScoreRow)>,
}

impl ScoredCohort {
    fn new(stats: CohortStats, inputs: Vec<UnitInput>, rows: Vec<UnitScoreRow>) -> Self {
        let units = inputs
            .into_iter()
            .zip(rows)
            .map(|(input, row)| (input.values.unit.clone(), (input.values, row)))
            .collect();
        Self { stats, units }
    }

    /// The row scored for `input`'s unit from the same values, as the row of `input`.
    fn row_for(&self, input: &UnitInput) -> Option<UnitScoreRow> {
        let (values, row) = self.units.get(&input.values.unit)?;
        let same = Arc::ptr_eq(values, &input.values) || **values == *input.values;
        same.then(|| UnitScoreRow {
            identity: input.identity.clone(),
            ..row.clone()
        })
    }
}

/// What a pass over one or more cohorts did, audited and followed up when it ends.
#[derive(Debug, Default)]
struct Pass {
    /// The changes announced, by round (each round's audit chain gets one entry).
    announced: BTreeMap<RoundRef, Vec<Announced>>,
    /// Score rows written (member rows of created cohorts included).
    rows_written: u64,
}

/// A change announced in a transaction, as its audit entry records it.
#[derive(Debug, Clone, serde::Serialize)]
struct Announced {
    basis: &'static str,
    version: u64,
    units: Vec<String>,
    all_units: bool,
    ranges_changed: Vec<String>,
}

impl Announced {
    fn of(change: &ScoresChange<'_>) -> Self {
        Self {
            basis: change.basis.as_str(),
            version: change.version,
            units: change.units.iter().map(ToString::to_string).collect(),
            all_units: change.all_units,
            ranges_changed: change.ranges_changed.to_vec(),
        }
    }
}

/// Scored rows and ranges to write as one change.
struct ChangeToWrite {
    rows: Vec<UnitScoreRow>,
    stats: CohortStats,
    moved: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::InputIdentity;
    use dti_domain::ids::IndicatorCode;

    #[test]
    fn a_unit_takes_the_previous_cohorts_row_only_for_the_same_values() {
        let unit = UnitId::parse("quan-1").unwrap();
        let input = |digest: &str, not_applicable: bool| {
            let mut values = UnitValues::new(unit.clone());
            if not_applicable {
                values
                    .not_applicable
                    .insert(IndicatorCode::parse("7.3").unwrap());
            }
            let identity = InputIdentity {
                submission_id: None,
                version: 1,
                decisions_digest: digest.into(),
            };
            UnitInput {
                identity,
                values: Arc::new(values),
            }
        };
        let row = UnitScoreRow {
            unit: unit.clone(),
            identity: input("", false).identity,
            fixed_groups: json!({"1": 1000}),
            fixed_indicators: "[]".into(),
            cohort_inputs: json!({"5.1": "1/2"}),
        };
        let scored = ScoredCohort::new(
            CohortStats::default(),
            vec![input("", false)],
            vec![row.clone()],
        );
        let taken = scored
            .row_for(&input("d1", false))
            .expect("the same values take the row");
        assert_eq!(taken.identity, input("d1", false).identity);
        assert_eq!(taken.fixed_groups, row.fixed_groups);
        assert_eq!(taken.fixed_indicators, row.fixed_indicators);
        assert_eq!(taken.cohort_inputs, row.cohort_inputs);
        assert!(scored.row_for(&input("d1", true)).is_none());
        let mut other = input("", false);
        Arc::make_mut(&mut other.values).unit = UnitId::parse("quan-3").unwrap();
        assert!(scored.row_for(&other).is_none());
    }
}
