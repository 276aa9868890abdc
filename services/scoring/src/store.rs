//! Writing the score tables (migration `20261125002000_scores.sql`), always inside the caller's
//! transaction and with the cohort's row locked: creating a cohort with a row per member (at
//! once, or besides the caller's own rows when it scores many units in one change), reading and
//! writing unit rows, each unit's min-max x and the cohort's ranges.
//!
//! A min-max range is found from the x rows with two index lookups (smallest and largest
//! `sort_key`); the number of units counted is kept in the stored range and adjusted as units
//! gain or lose an x.
//!
//! A change that writes many rows at once (a cohort created, a bulk pass) refreshes the
//! planner's statistics of the score tables in its own transaction, as its last step
//! ([`refresh_statistics`]):
//! until autovacuum analyzes them, PostgreSQL knows nothing of the new rows and may look a unit
//! up through `score_units_version_idx`, reading every row of the cohort (5.6 ms instead of
//! 0.3 ms per lookup at 10,000 units).

use std::collections::HashMap;

use dti_domain::ids::IndicatorCode;
use dti_domain::SubmissionId;
use dti_domain::{RoundRef, UnitId};
use dti_engine::number::Num;
use dti_engine::rules::MinMaxRange;
use dti_engine::CohortStats;
use dti_scores::stored::{num_from_text, num_to_text, ranges_from_json, ranges_to_json};
use dti_scores::tables::{stored_version, stored_year, version_from_stored};
use dti_scores::{Basis, FrameworkLayout};
use num_bigint::BigInt;
use num_traits::{Signed, Zero};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::PgConnection;

use crate::inputs::InputIdentity;
use crate::score_rows::{empty_unit_row, UnitScoreRow};
use crate::ScoringError;

/// Decimal places of `score_minmax_values.sort_key`.
const SORT_KEY_PLACES: u16 = 60;

/// Largest denominator of an x the sort key orders exactly (10^29; see the migration).
const MAX_ORDERED_DENOMINATOR_DIGITS: usize = 29;

/// Unit rows written per statement.
const ROWS_PER_STATEMENT: usize = 500;

/// Rows written by one change from which the score tables' statistics are refreshed with it.
pub const ANALYZE_AFTER_ROWS: u64 = 1_000;

/// A cohort's scores, locked for the rest of the transaction.
#[derive(Debug, Clone)]
pub struct LockedCohort {
    /// Current version.
    pub version: u64,
    /// Current ranges.
    pub stats: CohortStats,
    /// Version at which the ranges last changed.
    pub ranges_version: u64,
    /// The cohort was created by this transaction (at version 1, a row per member).
    pub created: bool,
    /// Member rows this transaction inserted when it created the cohort with
    /// [`MemberRows::Every`] (none otherwise).
    pub members_inserted: u64,
}

/// Which member rows a newly created cohort gets at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberRows {
    /// A row for every member of `round_units`, with nothing submitted.
    Every,
    /// None yet: the caller writes the rows of the units it scores and then calls
    /// [`insert_member_rows`] for the others, in the same transaction.
    Later,
}

/// Locks the cohort of `round` on `basis`, creating it first (version 1, with the member rows
/// `members` asks for) when no unit of it was scored before.
pub async fn lock_cohort(
    conn: &mut PgConnection,
    layout: &FrameworkLayout,
    round: &RoundRef,
    basis: Basis,
    members: MemberRows,
) -> Result<LockedCohort, ScoringError> {
    if let Some(cohort) = lock_existing(conn, round, basis).await? {
        return Ok(cohort);
    }
    let created = sqlx::query(
        "INSERT INTO score_cohorts (year, framework, basis, version) VALUES ($1, $2, $3, 1) \
         ON CONFLICT DO NOTHING",
    )
    .bind(stored_year(round))
    .bind(round.framework.as_str())
    .bind(basis.as_str())
    .execute(&mut *conn)
    .await
    .map_err(ScoringError::database("creating a cohort's scores"))?
    .rows_affected()
        == 1;
    let members_inserted = if created && members == MemberRows::Every {
        insert_member_rows(conn, layout, round, basis, &[]).await?
    } else {
        0
    };
    let cohort = lock_existing(conn, round, basis).await?.ok_or_else(|| {
        dti_scores::ScoresError::corrupt(
            format!("round {round} ({basis})"),
            "the cohort row vanished",
        )
    })?;
    Ok(LockedCohort {
        created,
        members_inserted,
        ..cohort
    })
}

/// Locks the cohort's row if it exists.
async fn lock_existing(
    conn: &mut PgConnection,
    round: &RoundRef,
    basis: Basis,
) -> Result<Option<LockedCohort>, ScoringError> {
    let row: Option<(i64, Json<Value>, i64)> = sqlx::query_as(
        "SELECT version, ranges, ranges_version FROM score_cohorts \
         WHERE year = $1 AND framework = $2 AND basis = $3 FOR UPDATE",
    )
    .bind(stored_year(round))
    .bind(round.framework.as_str())
    .bind(basis.as_str())
    .fetch_optional(&mut *conn)
    .await
    .map_err(ScoringError::database("locking a cohort's scores"))?;
    row.map(|(version, ranges, ranges_version)| {
        let place = format!("round {round} ({basis})");
        Ok(LockedCohort {
            version: version_from_stored(&place, version)?,
            stats: ranges_from_json(&place, &ranges.0)?,
            ranges_version: version_from_stored(&place, ranges_version)?,
            created: false,
            members_inserted: 0,
        })
    })
    .transpose()
}

/// A row at version 1 (nothing submitted yet) for every member of the cohort without one,
/// except the units `scored_now`, whose rows the caller writes.
pub async fn insert_member_rows(
    conn: &mut PgConnection,
    layout: &FrameworkLayout,
    round: &RoundRef,
    basis: Basis,
    scored_now: &[&str],
) -> Result<u64, ScoringError> {
    let empty = empty_unit_row(layout)?;
    let inserted = sqlx::query(
        "INSERT INTO score_units (year, framework, basis, unit_id, fixed_groups, \
           fixed_indicators, cohort_inputs, version) \
         SELECT $1, $2, $3, r.unit_id, $4, $5, '{}'::jsonb, 1 FROM round_units r \
         WHERE r.year = $1 AND r.framework = $2 AND r.unit_id <> ALL($6) \
         ON CONFLICT DO NOTHING",
    )
    .bind(stored_year(round))
    .bind(round.framework.as_str())
    .bind(basis.as_str())
    .bind(Json(&empty.fixed_groups))
    .bind(&empty.fixed_indicators)
    .bind(scored_now)
    .execute(&mut *conn)
    .await
    .map_err(ScoringError::database(
        "creating the score rows of a cohort",
    ))?;
    Ok(inserted.rows_affected())
}

/// Refreshes the planner's statistics of `score_units` and `score_minmax_values` when `rows`
/// (written by this transaction) reach [`ANALYZE_AFTER_ROWS`]. Run in the writing transaction,
/// `ANALYZE` counts its own new rows, and the statistics take effect with its commit. It does
/// not block reads or writes of the tables (concurrent analyses wait for each other).
pub async fn refresh_statistics(conn: &mut PgConnection, rows: u64) -> Result<(), ScoringError> {
    if rows < ANALYZE_AFTER_ROWS {
        return Ok(());
    }
    sqlx::query(
        "ANALYZE score_units (year, framework, basis, unit_id, version), score_minmax_values",
    )
    .execute(&mut *conn)
    .await
    .map_err(ScoringError::database(
        "refreshing the score tables' statistics",
    ))?;
    Ok(())
}

/// The input identity of each unit row that exists, by unit id.
pub async fn read_identities(
    conn: &mut PgConnection,
    round: &RoundRef,
    basis: Basis,
    units: &[UnitId],
) -> Result<HashMap<String, InputIdentity>, ScoringError> {
    let names: Vec<&str> = units.iter().map(UnitId::as_str).collect();
    let rows: Vec<(String, Option<SubmissionId>, i32, String)> = sqlx::query_as(
        "SELECT unit_id, submission_id, input_version, decisions_digest FROM score_units \
         WHERE year = $1 AND framework = $2 AND basis = $3 AND unit_id = ANY($4)",
    )
    .bind(stored_year(round))
    .bind(round.framework.as_str())
    .bind(basis.as_str())
    .bind(&names)
    .fetch_all(&mut *conn)
    .await
    .map_err(ScoringError::database("reading score rows"))?;
    Ok(rows
        .into_iter()
        .map(|(unit, submission_id, version, decisions_digest)| {
            let identity = InputIdentity {
                submission_id,
                version,
                decisions_digest,
            };
            (unit, identity)
        })
        .collect())
}

/// Writes unit rows (insert or replace) at `version`.
pub async fn write_units(
    conn: &mut PgConnection,
    round: &RoundRef,
    basis: Basis,
    rows: &[UnitScoreRow],
    version: u64,
) -> Result<(), ScoringError> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let units: Vec<&str> = chunk.iter().map(|row| row.unit.as_str()).collect();
        let submissions: Vec<Option<SubmissionId>> =
            chunk.iter().map(|row| row.identity.submission_id).collect();
        let versions: Vec<i32> = chunk.iter().map(|row| row.identity.version).collect();
        let digests: Vec<&str> = chunk
            .iter()
            .map(|row| row.identity.decisions_digest.as_str())
            .collect();
        let groups: Vec<Json<&Value>> = chunk.iter().map(|row| Json(&row.fixed_groups)).collect();
        let indicators: Vec<&str> = chunk
            .iter()
            .map(|row| row.fixed_indicators.as_str())
            .collect();
        let inputs: Vec<Json<&Value>> = chunk.iter().map(|row| Json(&row.cohort_inputs)).collect();
        sqlx::query(
            "INSERT INTO score_units AS s (year, framework, basis, unit_id, submission_id, \
               input_version, decisions_digest, fixed_groups, fixed_indicators, cohort_inputs, \
               version, scored_at) \
             SELECT $1, $2, $3, t.unit_id, t.submission_id, t.input_version, t.digest, t.groups, \
               t.indicators, t.inputs, $11, now() \
             FROM unnest($4::text[], $5::uuid[], $6::int[], $7::text[], $8::jsonb[], $9::text[], \
               $10::jsonb[]) AS t(unit_id, submission_id, input_version, digest, groups, \
               indicators, inputs) \
             ON CONFLICT (year, framework, basis, unit_id) DO UPDATE SET \
               submission_id = EXCLUDED.submission_id, input_version = EXCLUDED.input_version, \
               decisions_digest = EXCLUDED.decisions_digest, fixed_groups = EXCLUDED.fixed_groups, \
               fixed_indicators = EXCLUDED.fixed_indicators, \
               cohort_inputs = EXCLUDED.cohort_inputs, version = EXCLUDED.version, \
               scored_at = EXCLUDED.scored_at",
        )
        .bind(stored_year(round))
        .bind(round.framework.as_str())
        .bind(basis.as_str())
        .bind(&units)
        .bind(&submissions)
        .bind(&versions)
        .bind(&digests)
        .bind(&groups)
        .bind(&indicators)
        .bind(&inputs)
        .bind(stored_version(version)?)
        .execute(&mut *conn)
        .await
        .map_err(ScoringError::database("writing score rows"))?;
    }
    Ok(())
}

/// Writes the cohort's version and ranges.
pub async fn write_head(
    conn: &mut PgConnection,
    round: &RoundRef,
    basis: Basis,
    version: u64,
    stats: &CohortStats,
    ranges_version: u64,
) -> Result<(), ScoringError> {
    sqlx::query(
        "UPDATE score_cohorts SET version = $4, ranges = $5, ranges_version = $6, \
           updated_at = now() \
         WHERE year = $1 AND framework = $2 AND basis = $3",
    )
    .bind(stored_year(round))
    .bind(round.framework.as_str())
    .bind(basis.as_str())
    .bind(stored_version(version)?)
    .bind(Json(ranges_to_json(stats)))
    .bind(stored_version(ranges_version)?)
    .execute(&mut *conn)
    .await
    .map_err(ScoringError::database("writing a cohort's version"))?;
    Ok(())
}

/// What a unit's row was scored from: its input identity and its min-max inputs.
#[derive(Debug, Clone)]
pub struct StoredUnit {
    /// The input scored.
    pub identity: InputIdentity,
    /// Its min-max inputs as stored.
    pub cohort_inputs: Value,
}

/// A cohort row as locked: basis, version, ranges, version of the ranges.
type LockedCohortRow = (String, i64, Json<Value>, i64);

/// A unit's row on one basis: basis, submission, input version, decisions digest, min-max inputs.
type UnitRow = (String, Option<SubmissionId>, i32, String, Json<Value>);

/// Locks the cohorts of `round` on `bases` (creating those that do not exist yet) and reads
/// `unit`'s row on each, in the order of `bases`; the common case is two statements. None when
/// the unit is not assessed in the round (or the round does not exist).
pub async fn lock_cohorts_for_unit(
    conn: &mut PgConnection,
    layout: &FrameworkLayout,
    round: &RoundRef,
    bases: &[Basis],
    unit: &UnitId,
) -> Result<Option<Vec<(LockedCohort, Option<StoredUnit>)>>, ScoringError> {
    let mut locked = lock_with_unit_rows(conn, round, bases, unit).await?;
    let rowless = bases
        .iter()
        .any(|basis| locked.get(basis).is_none_or(|(_, stored)| stored.is_none()));
    if rowless && !dti_workflow::rounds::has_unit(&mut *conn, round, unit).await? {
        return Ok(None);
    }
    let missing: Vec<Basis> = bases
        .iter()
        .copied()
        .filter(|basis| !locked.contains_key(basis))
        .collect();
    if !missing.is_empty() {
        let mut created = Vec::new();
        for basis in missing {
            let cohort = lock_cohort(conn, layout, round, basis, MemberRows::Every).await?;
            if cohort.created {
                created.push((basis, cohort.members_inserted));
            }
        }
        locked = lock_with_unit_rows(conn, round, bases, unit).await?;
        for (basis, members_inserted) in created {
            if let Some((cohort, _)) = locked.get_mut(&basis) {
                cohort.created = true;
                cohort.members_inserted = members_inserted;
            }
        }
    }
    bases
        .iter()
        .map(|basis| {
            locked.remove(basis).ok_or_else(|| {
                dti_scores::ScoresError::corrupt(
                    format!("round {round} ({basis})"),
                    "the cohort row vanished",
                )
                .into()
            })
        })
        .collect::<Result<Vec<_>, ScoringError>>()
        .map(Some)
}

/// Locks the cohort rows, then reads `unit`'s rows in a statement of its own. Under READ
/// COMMITTED a statement that waited for a row lock sees the locked row as its holder committed
/// it, but every other row as its own snapshot found it; read in the same statement, the unit's
/// row written by the transaction that held the lock (the same unit scored by another replica)
/// would be missed, and the cohort's counts would drift. The second statement's snapshot is
/// taken after the lock is held.
async fn lock_with_unit_rows(
    conn: &mut PgConnection,
    round: &RoundRef,
    bases: &[Basis],
    unit: &UnitId,
) -> Result<HashMap<Basis, (LockedCohort, Option<StoredUnit>)>, ScoringError> {
    let names: Vec<&str> = bases.iter().map(|basis| basis.as_str()).collect();
    let cohorts: Vec<LockedCohortRow> = sqlx::query_as(
        "SELECT basis, version, ranges, ranges_version FROM score_cohorts \
         WHERE year = $1 AND framework = $2 AND basis = ANY($3) ORDER BY basis FOR UPDATE",
    )
    .bind(stored_year(round))
    .bind(round.framework.as_str())
    .bind(&names)
    .fetch_all(&mut *conn)
    .await
    .map_err(ScoringError::database("locking a cohort's scores"))?;
    if cohorts.is_empty() {
        return Ok(HashMap::new());
    }
    let units: Vec<UnitRow> = sqlx::query_as(
        "SELECT basis, submission_id, input_version, decisions_digest, cohort_inputs \
         FROM score_units WHERE year = $1 AND framework = $2 AND basis = ANY($3) AND unit_id = $4",
    )
    .bind(stored_year(round))
    .bind(round.framework.as_str())
    .bind(&names)
    .bind(unit.as_str())
    .fetch_all(&mut *conn)
    .await
    .map_err(ScoringError::database("reading a unit's scores"))?;
    let mut stored: HashMap<String, StoredUnit> = units
        .into_iter()
        .map(|(basis, submission_id, input_version, digest, inputs)| {
            let unit = StoredUnit {
                identity: InputIdentity {
                    submission_id,
                    version: input_version,
                    decisions_digest: digest,
                },
                cohort_inputs: inputs.0,
            };
            (basis, unit)
        })
        .collect();
    let mut locked = HashMap::new();
    for (basis_name, version, ranges, ranges_version) in cohorts {
        let Some(basis) = Basis::from_stored(&basis_name) else {
            continue;
        };
        let place = format!("round {round} ({basis})");
        let cohort = LockedCohort {
            version: version_from_stored(&place, version)?,
            stats: ranges_from_json(&place, &ranges.0)?,
            ranges_version: version_from_stored(&place, ranges_version)?,
            created: false,
            members_inserted: 0,
        };
        locked.insert(basis, (cohort, stored.remove(&basis_name)));
    }
    Ok(locked)
}

/// Sets (or, with none, removes) the x of one unit for one min-max indicator.
pub async fn set_unit_x(
    conn: &mut PgConnection,
    round: &RoundRef,
    basis: Basis,
    unit: &UnitId,
    code: &IndicatorCode,
    x: Option<&Num>,
) -> Result<(), ScoringError> {
    match x {
        None => {
            sqlx::query(
                "DELETE FROM score_minmax_values WHERE year = $1 AND framework = $2 \
                 AND basis = $3 AND indicator_code = $4 AND unit_id = $5",
            )
            .bind(stored_year(round))
            .bind(round.framework.as_str())
            .bind(basis.as_str())
            .bind(code.as_str())
            .bind(unit.as_str())
            .execute(&mut *conn)
            .await
            .map_err(ScoringError::database("removing a min-max value"))?;
        }
        Some(x) => {
            let key = sort_key(code, x)?;
            sqlx::query(
                "INSERT INTO score_minmax_values \
                   (year, framework, basis, indicator_code, unit_id, x, sort_key) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7::numeric) \
                 ON CONFLICT (year, framework, basis, indicator_code, unit_id) \
                 DO UPDATE SET x = EXCLUDED.x, sort_key = EXCLUDED.sort_key",
            )
            .bind(stored_year(round))
            .bind(round.framework.as_str())
            .bind(basis.as_str())
            .bind(code.as_str())
            .bind(unit.as_str())
            .bind(num_to_text(x))
            .bind(key)
            .execute(&mut *conn)
            .await
            .map_err(ScoringError::database("writing a min-max value"))?;
        }
    }
    Ok(())
}

/// Replaces every x of `units` by `values` (unit, indicator, x).
pub async fn replace_units_x(
    conn: &mut PgConnection,
    round: &RoundRef,
    basis: Basis,
    units: &[&str],
    values: &[(String, IndicatorCode, Num)],
) -> Result<(), ScoringError> {
    sqlx::query(
        "DELETE FROM score_minmax_values \
         WHERE year = $1 AND framework = $2 AND basis = $3 AND unit_id = ANY($4)",
    )
    .bind(stored_year(round))
    .bind(round.framework.as_str())
    .bind(basis.as_str())
    .bind(units)
    .execute(&mut *conn)
    .await
    .map_err(ScoringError::database("removing min-max values"))?;
    for chunk in values.chunks(ROWS_PER_STATEMENT * 4) {
        let mut unit_ids = Vec::with_capacity(chunk.len());
        let mut codes = Vec::with_capacity(chunk.len());
        let mut xs = Vec::with_capacity(chunk.len());
        let mut keys = Vec::with_capacity(chunk.len());
        for (unit, code, x) in chunk {
            unit_ids.push(unit.as_str());
            codes.push(code.as_str());
            xs.push(num_to_text(x));
            keys.push(sort_key(code, x)?);
        }
        sqlx::query(
            "INSERT INTO score_minmax_values \
               (year, framework, basis, indicator_code, unit_id, x, sort_key) \
             SELECT $1, $2, $3, t.code, t.unit_id, t.x, t.sort_key::numeric \
             FROM unnest($4::text[], $5::text[], $6::text[], $7::text[]) AS t(unit_id, code, x, sort_key)",
        )
        .bind(stored_year(round))
        .bind(round.framework.as_str())
        .bind(basis.as_str())
        .bind(&unit_ids)
        .bind(&codes)
        .bind(&xs)
        .bind(&keys)
        .execute(&mut *conn)
        .await
        .map_err(ScoringError::database("writing min-max values"))?;
    }
    Ok(())
}

/// The smallest x of an indicator, optionally leaving one unit out.
const X_MIN: &str = "SELECT x FROM score_minmax_values WHERE year = $1 AND framework = $2 \
     AND basis = $3 AND indicator_code = $4 AND unit_id IS DISTINCT FROM $5 \
     ORDER BY sort_key ASC LIMIT 1";

/// The largest x of an indicator, optionally leaving one unit out.
const X_MAX: &str = "SELECT x FROM score_minmax_values WHERE year = $1 AND framework = $2 \
     AND basis = $3 AND indicator_code = $4 AND unit_id IS DISTINCT FROM $5 \
     ORDER BY sort_key DESC LIMIT 1";

/// Smallest and largest x of a min-max indicator over the cohort (optionally leaving one unit
/// out), from the x rows' ordered index.
pub async fn x_bounds(
    conn: &mut PgConnection,
    round: &RoundRef,
    basis: Basis,
    code: &IndicatorCode,
    leaving_out: Option<&UnitId>,
) -> Result<Option<(Num, Num)>, ScoringError> {
    let mut found = Vec::with_capacity(2);
    for statement in [X_MIN, X_MAX] {
        let x: Option<String> = sqlx::query_scalar(statement)
            .bind(stored_year(round))
            .bind(round.framework.as_str())
            .bind(basis.as_str())
            .bind(code.as_str())
            .bind(leaving_out.map(UnitId::as_str))
            .fetch_optional(&mut *conn)
            .await
            .map_err(ScoringError::database("reading a min-max range"))?;
        match x {
            None => return Ok(None),
            Some(text) => found.push(num_from_text(&text).ok_or_else(|| {
                dti_scores::ScoresError::corrupt(
                    format!("round {round} ({basis}), indicator {code}"),
                    format!("x {text:?}"),
                )
            })?),
        }
    }
    let max = found.pop();
    let min = found.pop();
    Ok(min.zip(max))
}

/// How many units have an x for a min-max indicator (optionally leaving one unit out).
pub async fn x_count(
    conn: &mut PgConnection,
    round: &RoundRef,
    basis: Basis,
    code: &IndicatorCode,
    leaving_out: Option<&UnitId>,
) -> Result<usize, ScoringError> {
    let count: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM score_minmax_values WHERE year = $1 AND framework = $2 \
         AND basis = $3 AND indicator_code = $4 AND unit_id IS DISTINCT FROM $5",
    )
    .bind(stored_year(round))
    .bind(round.framework.as_str())
    .bind(basis.as_str())
    .bind(code.as_str())
    .bind(leaving_out.map(UnitId::as_str))
    .fetch_one(&mut *conn)
    .await
    .map_err(ScoringError::database("counting min-max values"))?;
    usize::try_from(count).map_err(|_| {
        dti_scores::ScoresError::corrupt(
            format!("round {round} ({basis}), indicator {code}"),
            format!("negative count {count} of min-max values"),
        )
        .into()
    })
}

/// The range of a min-max indicator with `count` units counted, from the x rows.
pub async fn range_with_count(
    conn: &mut PgConnection,
    round: &RoundRef,
    basis: Basis,
    code: &IndicatorCode,
    count: usize,
) -> Result<Option<MinMaxRange>, ScoringError> {
    let bounds = x_bounds(conn, round, basis, code, None).await?;
    match (bounds, count) {
        (None, 0) => Ok(None),
        (Some((min, max)), count) if count > 0 => Ok(Some(MinMaxRange { min, max, count })),
        _ => Err(dti_scores::ScoresError::corrupt(
            format!("round {round} ({basis}), indicator {code}"),
            format!("{count} units counted but the x rows disagree"),
        )
        .into()),
    }
}

/// `x` truncated to [`SORT_KEY_PLACES`] decimal places, as decimal text.
fn sort_key(code: &IndicatorCode, x: &Num) -> Result<String, ScoringError> {
    let exact = x.to_big();
    let (numerator, denominator) = (exact.numer(), exact.denom());
    let unorderable = || ScoringError::Unorderable {
        indicator: code.to_string(),
        x: num_to_text(x),
    };
    if numerator.is_negative() || denominator.to_string().len() > MAX_ORDERED_DENOMINATOR_DIGITS {
        return Err(unorderable());
    }
    let scale = BigInt::from(10u32).pow(u32::from(SORT_KEY_PLACES));
    let scaled = (numerator * scale) / denominator;
    let places = usize::from(SORT_KEY_PLACES);
    let digits = format!("{:0>width$}", scaled.to_string(), width = places + 1);
    let (whole, fraction) = digits.split_at(digits.len() - places);
    if scaled.is_zero() {
        return Ok("0".to_owned());
    }
    Ok(format!("{whole}.{fraction}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(x: Num) -> String {
        sort_key(&IndicatorCode::parse("4.1").unwrap(), &x).unwrap()
    }

    #[test]
    fn sort_keys_order_fractions_exactly() {
        assert_eq!(key(Num::int(60)), format!("60.{}", "0".repeat(60)));
        assert_eq!(key(Num::zero()), "0");
        assert!(key(Num::ratio(1, 3)).starts_with("0.3333"));
        let close_a = Num::ratio(u128::from(u64::MAX) - 1, u128::from(u64::MAX));
        let close_b = Num::ratio(u128::from(u64::MAX) - 2, u128::from(u64::MAX) - 1);
        assert!(close_b < close_a);
        assert!(key(close_b) < key(close_a));
        assert_eq!(key(Num::ratio(2, 6)), key(Num::ratio(1, 3)));
        let too_fine = Num::ratio(1, 10u128.pow(30));
        assert!(sort_key(&IndicatorCode::parse("4.1").unwrap(), &too_fine).is_err());
    }
}
