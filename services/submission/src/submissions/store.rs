//! The SQL behind a change: creating and locking the `submissions` row, the draft's values
//! (`submission_draft_values`) and general information (`submissions.general_info`), writing
//! submitted versions (`submission_versions`, `submission_version_values`), and the lookups a
//! change needs (an existing submission, an earlier submit). Each function is one statement, or a
//! short fixed sequence, in the caller's transaction (finding a submission's id also runs on the
//! pool). Reading whole submissions for answers is in `views`.
//!
//! The values are written once: a whole assessment submitted at once goes straight into its
//! version, and the draft is then that version (`submissions.draft_is_latest_version`, read
//! through [`DRAFT_ROWS`]) until the unit edits it again, when the version's rows are first
//! copied into the draft ([`materialize_draft`]).

use chrono::{DateTime, Utc};
use dti_db::{PgPool, PgTransaction};
use dti_domain::round::SubmissionState;
use dti_domain::values::IndicatorValues;
use dti_domain::SubmissionId;
use dti_domain::{RoundRef, UnitId};
use dti_workflow::rounds::stored_year;
use dti_workflow::submissions::SubmissionHead;
use serde_json::{Map, Value};

use super::model::{general_info_json, not_applicable_json, values_json, GeneralInfo};
use super::validation::ValidValues;
use crate::SubmissionError;

/// A stored indicator row: code, variables, not-applicable reason.
pub(super) type StoredRow = (String, Option<Value>, Option<String>);

/// The draft's rows of submission `$1` (`indicator_code, variables, not_applicable_reason`):
/// its own rows, or its latest version's while the draft is that version. A macro, so the
/// statements that read from it are literals.
macro_rules! draft_rows {
    () => {
        "SELECT d.indicator_code, d.variables, d.not_applicable_reason \
         FROM submission_draft_values d JOIN submissions s ON s.id = d.submission_id \
         WHERE d.submission_id = $1 AND NOT s.draft_is_latest_version \
         UNION ALL \
         SELECT v.indicator_code, v.variables, v.not_applicable_reason \
         FROM submission_version_values v JOIN submissions s \
           ON s.id = v.submission_id AND v.version = s.latest_version \
         WHERE v.submission_id = $1 AND s.draft_is_latest_version"
    };
}

/// [`draft_rows!`] as a statement.
pub(super) const DRAFT_ROWS: &str = draft_rows!();

/// Makes the draft of `id` rows of its own again when it is its latest version (copies the
/// version's rows into it), so it can be edited. Does nothing when it has its own rows.
pub(super) async fn materialize_draft(
    tx: &mut PgTransaction,
    id: SubmissionId,
) -> Result<(), SubmissionError> {
    sqlx::query(
        "WITH was AS (UPDATE submissions SET draft_is_latest_version = false \
         WHERE id = $1 AND draft_is_latest_version RETURNING latest_version) \
         INSERT INTO submission_draft_values (submission_id, indicator_code, variables, \
         not_applicable_reason) SELECT v.submission_id, v.indicator_code, v.variables, \
         v.not_applicable_reason FROM submission_version_values v JOIN was \
         ON v.version = was.latest_version WHERE v.submission_id = $1",
    )
    .bind(id)
    .execute(&mut **tx)
    .await
    .map_err(SubmissionError::database(
        "copying the latest version into the draft",
    ))?;
    Ok(())
}

/// Values as the JSON text stored in `variables`.
fn variables_text(values: &IndicatorValues) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "{}".to_owned())
}

/// The id of `unit`'s submission in `round`, if it has one.
pub(super) async fn find_id(
    pool: &PgPool,
    round: &RoundRef,
    unit: &UnitId,
) -> Result<Option<SubmissionId>, SubmissionError> {
    sqlx::query_scalar(
        "SELECT id FROM submissions WHERE year = $1 AND framework = $2 AND unit_id = $3",
    )
    .bind(stored_year(round))
    .bind(round.framework.as_str())
    .bind(unit.as_str())
    .fetch_optional(pool)
    .await
    .map_err(SubmissionError::database("finding a submission"))
}

/// Inserts a draft `id` for `unit` in `round` unless it has one; true when it was inserted.
pub(super) async fn insert_draft(
    tx: &mut PgTransaction,
    id: SubmissionId,
    round: &RoundRef,
    unit: &UnitId,
) -> Result<bool, SubmissionError> {
    let inserted = sqlx::query(
        "INSERT INTO submissions (id, year, framework, unit_id, state) \
         VALUES ($1, $2, $3, $4, 'draft') ON CONFLICT (year, framework, unit_id) DO NOTHING",
    )
    .bind(id)
    .bind(stored_year(round))
    .bind(round.framework.as_str())
    .bind(unit.as_str())
    .execute(&mut **tx)
    .await
    .map_err(SubmissionError::database("creating a draft"))?
    .rows_affected();
    Ok(inserted == 1)
}

/// The submission of `unit` in `round`, created as a draft when missing, locked for the rest
/// of `tx` (one round trip either way), with its creation time.
pub(super) async fn get_or_create_locked(
    tx: &mut PgTransaction,
    round: &RoundRef,
    unit: &UnitId,
) -> Result<(SubmissionHead, DateTime<Utc>), SubmissionError> {
    let (id, state, latest_version, created_at): (SubmissionId, String, i32, DateTime<Utc>) = sqlx::query_as(
        "INSERT INTO submissions (id, year, framework, unit_id, state) VALUES ($1, $2, $3, $4, 'draft') \
         ON CONFLICT (year, framework, unit_id) DO UPDATE SET state = submissions.state \
         RETURNING id, state, latest_version, created_at",
    )
    .bind(SubmissionId::generate())
    .bind(stored_year(round))
    .bind(round.framework.as_str())
    .bind(unit.as_str())
    .fetch_one(&mut **tx)
    .await
    .map_err(SubmissionError::database("creating or locking a submission"))?;
    let state = state.parse().map_err(|_| {
        SubmissionError::not_found(format!("submission {id} has an unreadable state"))
    })?;
    Ok((
        SubmissionHead {
            id,
            round: round.clone(),
            unit: unit.clone(),
            state,
            latest_version,
        },
        created_at,
    ))
}

/// Marks the submission changed now.
pub(super) async fn touch(tx: &mut PgTransaction, id: SubmissionId) -> Result<(), SubmissionError> {
    sqlx::query("UPDATE submissions SET updated_at = now() WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await
        .map_err(SubmissionError::database("marking a draft changed"))?;
    Ok(())
}

/// The stored entries of `codes` in the draft, as audit JSON.
pub(super) async fn stored_entries(
    tx: &mut PgTransaction,
    id: SubmissionId,
    codes: &[&str],
) -> Result<Map<String, Value>, SubmissionError> {
    let rows: Vec<StoredRow> = sqlx::query_as(concat!(
        "SELECT indicator_code, variables, not_applicable_reason FROM (",
        draft_rows!(),
        ") draft WHERE indicator_code = ANY($2)"
    ))
    .bind(id)
    .bind(codes)
    .fetch_all(&mut **tx)
    .await
    .map_err(SubmissionError::database("reading draft values"))?;
    Ok(rows
        .into_iter()
        .map(|(code, variables, reason)| {
            let value = match reason {
                Some(reason) => not_applicable_json(&reason),
                None => variables.unwrap_or(Value::Null),
            };
            (code, value)
        })
        .collect())
}

/// Values as audit JSON, by indicator code.
pub(super) fn values_audit(values: &ValidValues) -> Map<String, Value> {
    values
        .iter()
        .map(|(code, v)| (code.clone(), values_json(v)))
        .collect()
}

/// Sets the draft's values of the indicators in `values`, replacing any not-applicable mark.
pub(super) async fn write_values(
    tx: &mut PgTransaction,
    id: SubmissionId,
    values: &ValidValues,
) -> Result<(), SubmissionError> {
    materialize_draft(tx, id).await?;
    let codes: Vec<&str> = values.keys().map(String::as_str).collect();
    let variables: Vec<String> = values.values().map(variables_text).collect();
    sqlx::query(
        "INSERT INTO submission_draft_values (submission_id, indicator_code, variables, \
         not_applicable_reason, updated_at) \
         SELECT $1, code, vars::jsonb, NULL, now() FROM unnest($2::text[], $3::text[]) AS t(code, vars) \
         ON CONFLICT (submission_id, indicator_code) DO UPDATE \
         SET variables = EXCLUDED.variables, not_applicable_reason = NULL, updated_at = now()",
    )
    .bind(id)
    .bind(&codes)
    .bind(&variables)
    .execute(&mut **tx)
    .await
    .map_err(SubmissionError::database("writing draft values"))?;
    Ok(())
}

/// Marks the draft's indicator `code` not applicable for `reason`, replacing its values.
pub(super) async fn write_not_applicable(
    tx: &mut PgTransaction,
    id: SubmissionId,
    code: &str,
    reason: &str,
) -> Result<(), SubmissionError> {
    materialize_draft(tx, id).await?;
    sqlx::query(
        "INSERT INTO submission_draft_values (submission_id, indicator_code, variables, \
         not_applicable_reason, updated_at) VALUES ($1, $2, NULL, $3, now()) \
         ON CONFLICT (submission_id, indicator_code) DO UPDATE \
         SET variables = NULL, not_applicable_reason = EXCLUDED.not_applicable_reason, updated_at = now()",
    )
    .bind(id)
    .bind(code)
    .bind(reason)
    .execute(&mut **tx)
    .await
    .map_err(SubmissionError::database("marking an indicator not applicable"))?;
    Ok(())
}

/// Removes the draft's indicator `code`.
pub(super) async fn delete_entry(
    tx: &mut PgTransaction,
    id: SubmissionId,
    code: &str,
) -> Result<(), SubmissionError> {
    materialize_draft(tx, id).await?;
    sqlx::query(
        "DELETE FROM submission_draft_values WHERE submission_id = $1 AND indicator_code = $2",
    )
    .bind(id)
    .bind(code)
    .execute(&mut **tx)
    .await
    .map_err(SubmissionError::database("clearing an indicator"))?;
    Ok(())
}

/// A new version's identity: which submission, its number, the submit that creates it and
/// the submission's state once it is written.
pub(super) struct NewVersion<'a> {
    /// The submission.
    pub id: SubmissionId,
    /// The version's number.
    pub version: i32,
    /// The client request id of the submit.
    pub request_id: &'a str,
    /// Who submitted it.
    pub submitted_by: &'a str,
    /// The submission's state once submitted.
    pub state: SubmissionState,
}

/// Writes `new` in one statement: the version with the assessment's general information and values,
/// and the submission's general information, state and latest version; the draft becomes that
/// version (its own rows are dropped). Returns when it was submitted.
pub(super) async fn write_assessment_version(
    tx: &mut PgTransaction,
    new: &NewVersion<'_>,
    general_info: &GeneralInfo,
    (values, marks): (&ValidValues, &[(String, String)]),
) -> Result<DateTime<Utc>, SubmissionError> {
    let capacity = values.len() + marks.len();
    let mut codes = Vec::with_capacity(capacity);
    let mut variables: Vec<Option<String>> = Vec::with_capacity(capacity);
    let mut reasons: Vec<Option<String>> = Vec::with_capacity(capacity);
    for (code, v) in values {
        codes.push(code.clone());
        variables.push(Some(variables_text(v)));
        reasons.push(None);
    }
    for (code, reason) in marks {
        codes.push(code.clone());
        variables.push(None);
        reasons.push(Some(reason.clone()));
    }
    sqlx::query_scalar(
        "WITH cleared AS (DELETE FROM submission_draft_values WHERE submission_id = $1), \
         version AS (INSERT INTO submission_versions (submission_id, version, \
           client_request_id, submitted_by, general_info) VALUES ($1, $2, $3, $4, $5) \
           RETURNING submitted_at), \
         entries AS (INSERT INTO submission_version_values (submission_id, version, \
           indicator_code, variables, not_applicable_reason) SELECT $1, $2, code, vars::jsonb, \
           reason FROM unnest($6::text[], $7::text[], $8::text[]) AS t(code, vars, reason)), \
         head AS (UPDATE submissions SET general_info = $5, state = $9, latest_version = $2, \
           draft_is_latest_version = true, updated_at = now() WHERE id = $1) \
         SELECT submitted_at FROM version",
    )
    .bind(new.id)
    .bind(new.version)
    .bind(new.request_id)
    .bind(new.submitted_by)
    .bind(general_info_json(general_info))
    .bind(&codes)
    .bind(&variables)
    .bind(&reasons)
    .bind(new.state.as_str())
    .fetch_one(&mut **tx)
    .await
    .map_err(SubmissionError::database("writing a submitted assessment"))
}

/// The draft's general information.
pub(super) async fn general_info(
    tx: &mut PgTransaction,
    id: SubmissionId,
) -> Result<GeneralInfo, SubmissionError> {
    let stored: Value = sqlx::query_scalar("SELECT general_info FROM submissions WHERE id = $1")
        .bind(id)
        .fetch_one(&mut **tx)
        .await
        .map_err(SubmissionError::database("reading general information"))?;
    Ok(general_info_of(stored))
}

/// Stored general information as a map (an object, as the column's check keeps it).
pub(super) fn general_info_of(stored: Value) -> GeneralInfo {
    match stored {
        Value::Object(fields) => fields.into_iter().collect(),
        _ => GeneralInfo::new(),
    }
}

/// Replaces the draft's general information.
pub(super) async fn write_general_info(
    tx: &mut PgTransaction,
    id: SubmissionId,
    general_info: &GeneralInfo,
) -> Result<(), SubmissionError> {
    sqlx::query("UPDATE submissions SET general_info = $2 WHERE id = $1")
        .bind(id)
        .bind(general_info_json(general_info))
        .execute(&mut **tx)
        .await
        .map_err(SubmissionError::database("writing general information"))?;
    Ok(())
}

/// The version an earlier submit with `request_id` created, if any.
pub(super) async fn earlier_version(
    tx: &mut PgTransaction,
    id: SubmissionId,
    request_id: &str,
) -> Result<Option<i32>, SubmissionError> {
    sqlx::query_scalar(
        "SELECT version FROM submission_versions WHERE submission_id = $1 AND client_request_id = $2",
    )
    .bind(id)
    .bind(request_id)
    .fetch_optional(&mut **tx)
    .await
    .map_err(SubmissionError::database("looking up an earlier submit"))
}

/// Writes `new` from the draft (its values and general information) in one statement, with
/// the submission's state and latest version, and returns when it was submitted. (Every part
/// of the statement reads the draft as it was before it.)
pub(super) async fn write_version(
    tx: &mut PgTransaction,
    new: &NewVersion<'_>,
) -> Result<DateTime<Utc>, SubmissionError> {
    sqlx::query_scalar(concat!(
        "WITH version AS (INSERT INTO submission_versions (submission_id, version, \
           client_request_id, submitted_by, general_info) \
           SELECT $1, $2, $3, $4, general_info FROM submissions WHERE id = $1 \
           RETURNING submitted_at), \
         entries AS (INSERT INTO submission_version_values (submission_id, version, \
           indicator_code, variables, not_applicable_reason) SELECT $1, $2, indicator_code, \
           variables, not_applicable_reason FROM (",
        draft_rows!(),
        ") draft), \
         head AS (UPDATE submissions SET state = $5, latest_version = $2, updated_at = now() \
           WHERE id = $1) \
         SELECT submitted_at FROM version"
    ))
    .bind(new.id)
    .bind(new.version)
    .bind(new.request_id)
    .bind(new.submitted_by)
    .bind(new.state.as_str())
    .fetch_one(&mut **tx)
    .await
    .map_err(SubmissionError::database("writing a submitted version"))
}
