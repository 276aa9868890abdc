//! Reading the score tables: a cohort's head (version and min-max ranges) and its unit rows as
//! the ranking needs them (group sums of the indicators that do not depend on the cohort, and
//! the inputs to the min-max ones).

use chrono::{DateTime, Utc};
use dti_domain::values::UnitValues;
use dti_domain::{RoundRef, UnitId};
use dti_engine::{CohortStats, Points};
use serde_json::Value;
use sqlx::types::Json;

use crate::stored::{cohort_inputs_from_json, groups_from_json, ranges_from_json};
use crate::{Basis, FrameworkLayout, ScoresError};

/// The year as bound to a statement: widened without loss, so a year beyond the `SMALLINT`
/// column's range is rejected by the database (or matches no row) instead of being clamped.
pub fn stored_year(round: &RoundRef) -> i32 {
    i32::from(round.year)
}

/// A version as stored (`BIGINT`), or an error when it is beyond that range.
pub fn stored_version(version: u64) -> Result<i64, ScoresError> {
    i64::try_from(version).map_err(|_| ScoresError::VersionOutOfRange(version))
}

/// A stored version, or an error naming `place` when it is negative.
pub fn version_from_stored(
    place: &dyn std::fmt::Display,
    version: i64,
) -> Result<u64, ScoresError> {
    u64::try_from(version)
        .map_err(|_| ScoresError::corrupt(place, format!("negative version {version}")))
}

/// The state of one cohort's scores (round and basis).
#[derive(Debug, Clone, PartialEq)]
pub struct CohortHead {
    /// Grows by one with every change.
    pub version: u64,
    /// The min-max ranges.
    pub stats: CohortStats,
    /// Version at which the ranges last changed (0: never).
    pub ranges_version: u64,
    /// When the cohort last changed.
    pub updated_at: DateTime<Utc>,
}

/// The cohort's head, if any unit of it was scored.
pub async fn read_head<'e, E: sqlx::PgExecutor<'e>>(
    executor: E,
    round: &RoundRef,
    basis: Basis,
) -> Result<Option<CohortHead>, ScoresError> {
    let row: Option<(i64, Json<Value>, i64, DateTime<Utc>)> = sqlx::query_as(
        "SELECT version, ranges, ranges_version, updated_at FROM score_cohorts \
         WHERE year = $1 AND framework = $2 AND basis = $3",
    )
    .bind(stored_year(round))
    .bind(round.framework.as_str())
    .bind(basis.as_str())
    .fetch_optional(executor)
    .await
    .map_err(ScoresError::database("reading a cohort's scores"))?;
    row.map(|(version, ranges, ranges_version, updated_at)| {
        let place = format!("round {round} ({basis})");
        Ok(CohortHead {
            version: version_from_stored(&place, version)?,
            stats: ranges_from_json(&place, &ranges.0)?,
            ranges_version: version_from_stored(&place, ranges_version)?,
            updated_at,
        })
    })
    .transpose()
}

/// Every scored cohort: its round, basis and version.
pub async fn scored_cohorts<'e, E: sqlx::PgExecutor<'e>>(
    executor: E,
) -> Result<Vec<(RoundRef, Basis, u64)>, ScoresError> {
    let rows: Vec<(i16, String, String, i64)> = sqlx::query_as(
        "SELECT year, framework, basis, version FROM score_cohorts ORDER BY year, framework, basis",
    )
    .fetch_all(executor)
    .await
    .map_err(ScoresError::database("listing scored cohorts"))?;
    rows.into_iter()
        .map(|(year, framework, basis, version)| {
            let place = format!("{year}/{framework}");
            let round = RoundRef {
                year: u16::try_from(year).map_err(|_| ScoresError::corrupt(&place, "bad year"))?,
                framework: dti_domain::FrameworkId::parse(framework)
                    .map_err(|error| ScoresError::corrupt(&place, error.to_string()))?,
            };
            let basis = Basis::from_stored(&basis)
                .ok_or_else(|| ScoresError::corrupt(&place, format!("unknown basis {basis:?}")))?;
            Ok((round, basis, version_from_stored(&place, version)?))
        })
        .collect()
}

/// What ranking needs of a unit row.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitRankingRow {
    /// The unit.
    pub unit: UnitId,
    /// Cohort version at which the row last changed.
    pub version: u64,
    /// Group sums of the indicators that do not depend on the cohort, framework order.
    pub fixed_groups: Vec<Points>,
    /// The unit's input to the min-max indicators.
    pub cohort_inputs: UnitValues,
}

type RawRankingRow = (String, i64, Json<Value>, Json<Value>);

/// The unit rows of a cohort that changed after version `since` (0: every row), by unit id.
pub async fn read_units_since<'e, E: sqlx::PgExecutor<'e>>(
    executor: E,
    layout: &FrameworkLayout,
    round: &RoundRef,
    basis: Basis,
    since: u64,
) -> Result<Vec<UnitRankingRow>, ScoresError> {
    let rows: Vec<RawRankingRow> = sqlx::query_as(
        "SELECT unit_id, version, fixed_groups, cohort_inputs FROM score_units \
         WHERE year = $1 AND framework = $2 AND basis = $3 AND version > $4 ORDER BY unit_id",
    )
    .bind(stored_year(round))
    .bind(round.framework.as_str())
    .bind(basis.as_str())
    .bind(stored_version(since)?)
    .fetch_all(executor)
    .await
    .map_err(ScoresError::database("reading a cohort's unit scores"))?;
    rows.into_iter()
        .map(|(unit, version, fixed, inputs)| {
            let place = format!("round {round} ({basis}), unit {unit}");
            let unit = UnitId::parse(unit)
                .map_err(|error| ScoresError::corrupt(&place, error.to_string()))?;
            let fixed_groups = groups_from_json(layout, &place, &fixed.0)?
                .into_iter()
                .map(Points)
                .collect();
            let cohort_inputs = cohort_inputs_from_json(layout, &unit, &place, &inputs.0)?;
            Ok(UnitRankingRow {
                unit,
                version: version_from_stored(&place, version)?,
                fixed_groups,
                cohort_inputs,
            })
        })
        .collect()
}
