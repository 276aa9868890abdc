//! Reading inputs from PostgreSQL: the one loader both services use, one statement per concern
//! (which submissions, their values, the decisions on them, their decision revisions), each
//! keyed by the (submission, version) pairs read first, so a round of any size takes at most
//! four statements.
//!
//! - [`load_round`]: every unit of the round's cohort (`round_units`), with submission states,
//!   decisions with their reasons and decision revisions (the verification service);
//! - [`load_units`]: listed units in the order given, with the decisions only when the verified
//!   basis is asked for (the scoring service); a unit counts as submitted from its first
//!   submitted version.
//!
//! Run them inside a transaction to read one consistent state.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use dti_domain::framework::Framework;
use dti_domain::{IndicatorCode, RoundRef, SubmissionId, UnitId};
use rayon::prelude::*;
use serde_json::Value;
use sqlx::PgConnection;

use super::cohort::{RoundInputs, SubmissionInput, UnitInput};
use super::decode::{decode_decision, decode_entries, decode_reported};
use super::error::InputsError;
use super::model::{Reported, StoredDecision};
use crate::tables::stored_year;

/// The SQL digest of the verifier decisions on submission `$s`, version `$v` (`''` without
/// decisions), both SQL expressions. The same expression is used where decisions are read and
/// where the scoring service's reconciler looks for scores older than their decisions.
#[macro_export]
macro_rules! decisions_digest {
    ($s:literal, $v:literal) => {
        concat!(
            "(SELECT coalesce(md5(string_agg(dd.indicator_code || '|' || dd.decision || '|' || ",
            "coalesce(dd.variables::text, '') || '|' || dd.not_applicable::text, E'\\n' ",
            "ORDER BY dd.indicator_code)), '') FROM verified_values dd ",
            "WHERE dd.submission_id = ",
            $s,
            " AND dd.version = ",
            $v,
            ")"
        )
    };
}

/// Which units to read.
#[derive(Debug, Clone, Copy)]
enum Units<'a> {
    /// Every unit of the round's cohort, in unit-id order, with any submission.
    Cohort,
    /// These units, in this order, with a submitted version.
    Listed(&'a [UnitId]),
}

/// Which parts beyond the submitted values to read.
#[derive(Debug, Clone, Copy)]
struct Parts {
    decisions: bool,
    revisions: bool,
    general_info: bool,
}

/// Reads the inputs of every unit of `round`'s cohort (scored with `framework`), in unit-id
/// order: submission states, values, decisions with their reasons, decision revisions.
#[tracing::instrument(skip_all, fields(round = %round))]
pub async fn load_round(
    conn: &mut PgConnection,
    framework: &Arc<Framework>,
    round: &RoundRef,
) -> Result<RoundInputs, InputsError> {
    let parts = Parts {
        decisions: true,
        revisions: true,
        general_info: true,
    };
    load(conn, framework, round, Units::Cohort, parts).await
}

/// Reads the inputs of `units` of `round` in the order given (each unit once per mention); the
/// decisions only `with_decisions`. A unit without a submitted version has no submission.
#[tracing::instrument(skip_all, fields(round = %round, units = units.len()))]
pub async fn load_units(
    conn: &mut PgConnection,
    framework: &Arc<Framework>,
    round: &RoundRef,
    units: &[UnitId],
    with_decisions: bool,
) -> Result<RoundInputs, InputsError> {
    let parts = Parts {
        decisions: with_decisions,
        revisions: false,
        general_info: false,
    };
    load(conn, framework, round, Units::Listed(units), parts).await
}

/// The entries of one submitted version of `unit`, by indicator.
pub async fn load_version(
    conn: &mut PgConnection,
    framework: &Framework,
    round: &RoundRef,
    unit: &UnitId,
    submission: SubmissionId,
    version: i32,
) -> Result<BTreeMap<IndicatorCode, Reported>, InputsError> {
    let rows: Vec<(String, Option<Value>, Option<String>)> = sqlx::query_as(
        "SELECT indicator_code, variables, not_applicable_reason FROM submission_version_values \
         WHERE submission_id = $1 AND version = $2",
    )
    .bind(submission)
    .bind(version)
    .fetch_all(&mut *conn)
    .await
    .map_err(InputsError::database("reading a submitted version"))?;
    rows.into_iter()
        .map(|(code, variables, reason)| {
            decode_reported(framework, unit, &code, variables, reason)
                .map_err(|problem| InputsError::stored(round, unit, version, problem))
        })
        .collect()
}

/// The current decisions on `version` of `unit`'s submission, by indicator, with who made them.
pub async fn load_decisions(
    conn: &mut PgConnection,
    framework: &Framework,
    round: &RoundRef,
    unit: &UnitId,
    submission: SubmissionId,
    version: i32,
) -> Result<BTreeMap<IndicatorCode, StoredDecision>, InputsError> {
    let rows: Vec<DecisionColumns> = sqlx::query_as(
        "SELECT indicator_code, decision, variables, not_applicable, reason, decided_by, \
         decided_at FROM verified_values WHERE submission_id = $1 AND version = $2",
    )
    .bind(submission)
    .bind(version)
    .fetch_all(&mut *conn)
    .await
    .map_err(InputsError::database("reading decisions"))?;
    rows.into_iter()
        .map(|columns| {
            decode_stored_decision(framework, unit, &columns)
                .map_err(|problem| InputsError::stored(round, unit, version, problem))
        })
        .collect()
}

/// A stored decision's columns.
#[derive(Debug, sqlx::FromRow)]
struct DecisionColumns {
    indicator_code: String,
    decision: String,
    variables: Option<Value>,
    not_applicable: bool,
    reason: Option<String>,
    decided_by: String,
    decided_at: chrono::DateTime<chrono::Utc>,
}

/// Decodes a stored decision with who made it.
fn decode_stored_decision(
    framework: &Framework,
    unit: &UnitId,
    columns: &DecisionColumns,
) -> Result<(IndicatorCode, StoredDecision), String> {
    let (code, decision) = decode_decision(
        framework,
        unit,
        &columns.indicator_code,
        &columns.decision,
        columns.variables.clone(),
        columns.not_applicable,
    )?;
    let stored = StoredDecision {
        decision,
        reason: columns.reason.clone(),
        decided_by: columns.decided_by.clone(),
        decided_at: columns.decided_at,
    };
    Ok((code, stored))
}

/// A submission row: unit, id, state, latest version.
type HeadRow = (String, Option<SubmissionId>, Option<String>, Option<i32>);
/// A version's entries decoded, or why they do not decode.
type DecodedEntries = Result<BTreeMap<IndicatorCode, Reported>, InputsError>;
/// The entries of one version: submission, then in step its indicators, their variables (JSON
/// text) and their not-applicable reasons.
type ValueRow = (
    SubmissionId,
    Vec<String>,
    Vec<Option<String>>,
    Vec<Option<String>>,
);
/// A decision row: submission, digest of its decisions, the decision's columns.
#[derive(Debug, sqlx::FromRow)]
struct DecisionRow {
    submission_id: SubmissionId,
    digest: String,
    #[sqlx(flatten)]
    columns: DecisionColumns,
}

/// The cohort with each unit's submission, if any.
const COHORT_HEADS: &str =
    "SELECT ru.unit_id, s.id, s.state, s.latest_version FROM round_units ru \
     LEFT JOIN submissions s ON s.year = ru.year AND s.framework = ru.framework \
     AND s.unit_id = ru.unit_id \
     WHERE ru.year = $1 AND ru.framework = $2 ORDER BY ru.unit_id";

/// The submitted submissions of listed units.
const LISTED_HEADS: &str = "SELECT s.unit_id, s.id, s.state, s.latest_version FROM submissions s \
     WHERE s.year = $1 AND s.framework = $2 AND s.unit_id = ANY($3) AND s.latest_version > 0";

/// The values of each (submission, version): one row a version, its entries as three arrays in
/// step (aggregates of one query level read their rows in the same order). A 10,000-unit cohort
/// has about 490,000 entries; decoding them as rows took 1.8 s, as arrays a fraction of that.
const VALUES: &str = "SELECT t.id, v.codes, v.variables, v.reasons \
     FROM unnest($1::uuid[], $2::int[]) AS t(id, version) \
     CROSS JOIN LATERAL (SELECT array_agg(e.indicator_code) AS codes, \
       array_agg(e.variables::text) AS variables, \
       array_agg(e.not_applicable_reason) AS reasons \
       FROM submission_version_values e \
       WHERE e.submission_id = t.id AND e.version = t.version) AS v \
     WHERE v.codes IS NOT NULL";

/// The decisions on each (submission, version) with their digest, read in one statement so the
/// digest is the digest of exactly these decisions.
const DECISIONS: &str = concat!(
    "SELECT d.submission_id, t.digest, d.indicator_code, d.decision, d.variables, \
       d.not_applicable, d.reason, d.decided_by, d.decided_at \
     FROM (SELECT t.id, t.version, ",
    decisions_digest!("t.id", "t.version"),
    " AS digest FROM unnest($1::uuid[], $2::int[]) AS t(id, version)) AS t \
     JOIN verified_values d ON d.submission_id = t.id AND d.version = t.version"
);

/// The general information of each (submission, version).
const GENERAL_INFO: &str = "SELECT v.submission_id, v.general_info FROM submission_versions v \
     JOIN unnest($1::uuid[], $2::int[]) AS t(id, version) \
     ON v.submission_id = t.id AND v.version = t.version";

/// The latest decision revision of each (submission, version) with one.
const REVISIONS: &str = "SELECT b.submission_id, max(b.revision) FROM verification_batches b \
     JOIN unnest($1::uuid[], $2::int[]) AS t(id, version) \
     ON b.submission_id = t.id AND b.version = t.version GROUP BY b.submission_id";

/// Reads `units` of `round` and the `parts` asked for.
async fn load(
    conn: &mut PgConnection,
    framework: &Arc<Framework>,
    round: &RoundRef,
    units: Units<'_>,
    parts: Parts,
) -> Result<RoundInputs, InputsError> {
    let mut loaded = read_heads(conn, round, units).await?;
    let keys = loaded.keys();
    let values: Vec<ValueRow> =
        fetch_keyed(conn, VALUES, &keys, "reading submitted values").await?;
    loaded.add_values(framework, round, values)?;
    if parts.decisions {
        let decisions: Vec<DecisionRow> =
            fetch_keyed(conn, DECISIONS, &keys, "reading verified values").await?;
        loaded.add_decisions(framework, round, decisions)?;
    }
    if parts.general_info {
        let general_info: Vec<(SubmissionId, Value)> =
            fetch_keyed(conn, GENERAL_INFO, &keys, "reading general information").await?;
        loaded.add_general_info(general_info);
    }
    if parts.revisions {
        let revisions: Vec<(SubmissionId, i64)> =
            fetch_keyed(conn, REVISIONS, &keys, "reading decision revisions").await?;
        loaded.add_revisions(revisions);
    }
    Ok(RoundInputs {
        framework: Arc::clone(framework),
        units: loaded.units,
    })
}

/// The rows of `statement` for the (submission, version) pairs `keys` (bound as `$1`, `$2`).
async fn fetch_keyed<R>(
    conn: &mut PgConnection,
    statement: &'static str,
    (ids, versions): &(Vec<SubmissionId>, Vec<i32>),
    action: &'static str,
) -> Result<Vec<R>, InputsError>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    sqlx::query_as(statement)
        .bind(ids)
        .bind(versions)
        .fetch_all(&mut *conn)
        .await
        .map_err(InputsError::database(action))
}

/// Reads which units there are and their submissions.
async fn read_heads(
    conn: &mut PgConnection,
    round: &RoundRef,
    units: Units<'_>,
) -> Result<Loaded, InputsError> {
    let year = stored_year(round);
    let framework_id = round.framework.as_str();
    let rows: Vec<HeadRow> = match units {
        Units::Cohort => sqlx::query_as(COHORT_HEADS)
            .bind(year)
            .bind(framework_id)
            .fetch_all(&mut *conn)
            .await
            .map_err(InputsError::database("reading a round's cohort"))?,
        Units::Listed(listed) => {
            let names: Vec<&str> = listed.iter().map(UnitId::as_str).collect();
            sqlx::query_as(LISTED_HEADS)
                .bind(year)
                .bind(framework_id)
                .bind(&names)
                .fetch_all(&mut *conn)
                .await
                .map_err(InputsError::database("reading submissions"))?
        }
    };
    let mut heads = Vec::with_capacity(rows.len());
    for (unit, id, state, version) in rows {
        let unit = UnitId::parse(&unit)
            .map_err(|error| InputsError::stored(round, &unit, 0, format!("unit id: {error}")))?;
        let submission = match (id, state, version) {
            (Some(id), Some(state), Some(version)) => Some(SubmissionInput {
                id,
                state: state.parse().map_err(|_| {
                    InputsError::stored(
                        round,
                        &unit,
                        version,
                        format!("unknown submission state {state:?}"),
                    )
                })?,
                version,
                decisions_revision: 0,
                decisions_digest: String::new(),
            }),
            _ => None,
        };
        heads.push((unit, submission));
    }
    let units = match units {
        Units::Cohort => heads,
        Units::Listed(listed) => {
            let by_unit: HashMap<UnitId, Option<SubmissionInput>> = heads.into_iter().collect();
            listed
                .iter()
                .map(|unit| (unit.clone(), by_unit.get(unit).cloned().flatten()))
                .collect()
        }
    };
    Ok(Loaded::new(units))
}

/// The units read so far, and where each submission's unit is.
struct Loaded {
    units: Vec<UnitInput>,
    /// Positions of the units of each submission (a listed unit may be listed twice).
    positions: HashMap<SubmissionId, Vec<usize>>,
}

impl Loaded {
    fn new(heads: Vec<(UnitId, Option<SubmissionInput>)>) -> Self {
        let mut positions: HashMap<SubmissionId, Vec<usize>> = HashMap::new();
        let units = heads
            .into_iter()
            .enumerate()
            .map(|(position, (unit, submission))| {
                if let Some(submission) = &submission {
                    positions.entry(submission.id).or_default().push(position);
                }
                UnitInput {
                    unit,
                    submission,
                    reported: BTreeMap::new(),
                    decisions: BTreeMap::new(),
                    general_info: BTreeMap::new(),
                }
            })
            .collect();
        Self { units, positions }
    }

    /// The (submission, version) pairs read, as the two arrays the statements take.
    fn keys(&self) -> (Vec<SubmissionId>, Vec<i32>) {
        let mut seen = HashSet::new();
        self.units
            .iter()
            .filter_map(|unit| unit.submission.as_ref())
            .filter(|submission| seen.insert(submission.id))
            .map(|submission| (submission.id, submission.version))
            .unzip()
    }

    /// Decodes each version's entries, versions in parallel (a whole cohort's entries are many),
    /// and gives them to every unit of that version.
    fn add_values(
        &mut self,
        framework: &Framework,
        round: &RoundRef,
        rows: Vec<ValueRow>,
    ) -> Result<(), InputsError> {
        let units = &self.units;
        let positions = &self.positions;
        let decoded: Vec<(&[usize], DecodedEntries)> = rows
            .into_par_iter()
            .filter_map(|(id, codes, variables, reasons)| {
                let at = positions.get(&id)?;
                let input = &units[*at.first()?];
                let entries = decode_entries(framework, &input.unit, codes, variables, reasons)
                    .map_err(|problem| stored(input, round, problem));
                Some((at.as_slice(), entries))
            })
            .collect();
        for (at, entries) in decoded {
            let entries = entries?;
            if let Some((&last, others)) = at.split_last() {
                for &position in others {
                    self.units[position].reported.clone_from(&entries);
                }
                self.units[last].reported = entries;
            }
        }
        Ok(())
    }

    fn add_decisions(
        &mut self,
        framework: &Framework,
        round: &RoundRef,
        rows: Vec<DecisionRow>,
    ) -> Result<(), InputsError> {
        for row in rows {
            for &position in self.positions.get(&row.submission_id).into_iter().flatten() {
                let input = &mut self.units[position];
                let (code, stored_decision) =
                    decode_stored_decision(framework, &input.unit, &row.columns)
                        .map_err(|problem| stored(input, round, problem))?;
                if let Some(submission) = input.submission.as_mut() {
                    submission.decisions_digest.clone_from(&row.digest);
                }
                input.decisions.insert(code, stored_decision);
            }
        }
        Ok(())
    }

    fn add_general_info(&mut self, rows: Vec<(SubmissionId, Value)>) {
        for (id, general_info) in rows {
            let Value::Object(fields) = general_info else {
                continue;
            };
            for &position in self.positions.get(&id).into_iter().flatten() {
                self.units[position].general_info =
                    fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            }
        }
    }

    fn add_revisions(&mut self, rows: Vec<(SubmissionId, i64)>) {
        for (id, revision) in rows {
            for &position in self.positions.get(&id).into_iter().flatten() {
                if let Some(submission) = self.units[position].submission.as_mut() {
                    submission.decisions_revision = revision;
                }
            }
        }
    }
}

/// A stored row of `input`'s submitted version that does not decode.
fn stored(input: &UnitInput, round: &RoundRef, problem: String) -> InputsError {
    let version = input.submission.as_ref().map_or(0, |s| s.version);
    InputsError::stored(round, &input.unit, version, problem)
}
