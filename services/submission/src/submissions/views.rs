//! Reading submissions for answers: a submission with its draft, general information and open
//! clarification questions, and its submitted versions, each indicator decoded with the domain and
//! put in framework order. Readers are checked with [`crate::access`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use dti_auth::Principal;
use dti_db::PgPool;
use dti_domain::framework::Framework;
use dti_domain::round::SubmissionState;
use dti_domain::values::decode_indicator_values;
use dti_domain::SubmissionId;
use dti_domain::{RoundRef, UnitId};
use dti_workflow::submissions::SubmissionHead;
use serde_json::Value;

use super::model::{Clarification, Entry, SubmissionView, VersionView};
use super::store::{self, StoredRow};
use super::Submissions;
use crate::access::require_reader;
use crate::SubmissionError;

/// A `submissions` row: year, framework, unit, state, latest version, created and updated,
/// general information.
type SubmissionRow = (
    i16,
    String,
    String,
    String,
    i32,
    DateTime<Utc>,
    DateTime<Utc>,
    Value,
);

impl Submissions {
    /// The submission, for its unit, verifiers, approvers and operators.
    pub async fn get(
        &self,
        actor: &Principal,
        id: SubmissionId,
    ) -> Result<SubmissionView, SubmissionError> {
        let view = self.view(id).await?;
        require_reader(actor, &view.head.unit)?;
        Ok(view)
    }

    /// The submission of `unit` for `round`.
    pub async fn find(
        &self,
        actor: &Principal,
        round: &RoundRef,
        unit: &UnitId,
    ) -> Result<SubmissionView, SubmissionError> {
        require_reader(actor, unit)?;
        let id = store::find_id(&self.pool, round, unit)
            .await?
            .ok_or_else(|| {
                SubmissionError::not_found(
                    dti_i18n::Message::new("submission-none-in-round")
                        .arg("unit", unit.to_string())
                        .arg("round", round.to_string())
                        .into(),
                )
            })?;
        self.view(id).await
    }

    /// Every submitted version, oldest first.
    pub async fn versions(
        &self,
        actor: &Principal,
        id: SubmissionId,
    ) -> Result<Vec<VersionView>, SubmissionError> {
        let view = self.get(actor, id).await?;
        let framework = self.framework(&view.head.round).await?;
        let versions: Vec<(i32, DateTime<Utc>, String, Value)> = sqlx::query_as(
            "SELECT version, submitted_at, submitted_by, general_info FROM submission_versions \
             WHERE submission_id = $1 ORDER BY version",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(SubmissionError::database("reading versions"))?;
        let mut by_version = version_rows(&self.pool, id).await?;
        Ok(versions
            .into_iter()
            .map(
                |(version, submitted_at, submitted_by, general_info)| VersionView {
                    version,
                    entries: decode_entries(
                        &framework,
                        &view.head.unit,
                        by_version.remove(&version).unwrap_or_default(),
                    ),
                    general_info: store::general_info_of(general_info),
                    submitted_at,
                    submitted_by,
                },
            )
            .collect())
    }

    /// The submission with its draft and open clarifications.
    pub(super) async fn view(&self, id: SubmissionId) -> Result<SubmissionView, SubmissionError> {
        let row: Option<SubmissionRow> = sqlx::query_as(
            "SELECT year, framework, unit_id, state, latest_version, created_at, updated_at, \
             general_info FROM submissions WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(SubmissionError::database("reading a submission"))?;
        let (year, framework, unit, state, latest_version, created_at, updated_at, general_info) =
            row.ok_or_else(|| {
                SubmissionError::not_found(
                    dti_i18n::Message::new("workflow-submission-not-found")
                        .arg("submission", id.to_string())
                        .into(),
                )
            })?;
        let corrupt = |what: &str| {
            SubmissionError::not_found(format!("submission {id} has an unreadable {what}"))
        };
        let round = RoundRef {
            year: u16::try_from(year).map_err(|_| corrupt("year"))?,
            framework: framework.parse().map_err(|_| corrupt("framework"))?,
        };
        let unit = UnitId::parse(unit).map_err(|_| corrupt("unit"))?;
        let state: SubmissionState = state.parse().map_err(|_| corrupt("state"))?;
        let framework = self.framework(&round).await?;
        let rows: Vec<StoredRow> = sqlx::query_as(store::DRAFT_ROWS)
            .bind(id)
            .fetch_all(&self.pool)
            .await
            .map_err(SubmissionError::database("reading draft values"))?;
        let clarifications = if state == SubmissionState::ClarificationRequested {
            open_clarifications(&self.pool, id, latest_version).await?
        } else {
            Vec::new()
        };
        Ok(SubmissionView {
            entries: decode_entries(&framework, &unit, rows),
            general_info: store::general_info_of(general_info),
            head: SubmissionHead {
                id,
                round,
                unit,
                state,
                latest_version,
            },
            clarifications,
            created_at,
            updated_at,
        })
    }
}

/// The stored values of every version of submission `id`, by version.
async fn version_rows(
    pool: &PgPool,
    id: SubmissionId,
) -> Result<BTreeMap<i32, Vec<StoredRow>>, SubmissionError> {
    let rows: Vec<(i32, String, Option<Value>, Option<String>)> = sqlx::query_as(
        "SELECT version, indicator_code, variables, not_applicable_reason \
         FROM submission_version_values WHERE submission_id = $1",
    )
    .bind(id)
    .fetch_all(pool)
    .await
    .map_err(SubmissionError::database("reading version values"))?;
    let mut by_version: BTreeMap<i32, Vec<StoredRow>> = BTreeMap::new();
    for (version, code, variables, reason) in rows {
        by_version
            .entry(version)
            .or_default()
            .push((code, variables, reason));
    }
    Ok(by_version)
}

/// The clarification questions asked about `version` of submission `id`.
async fn open_clarifications(
    pool: &PgPool,
    id: SubmissionId,
    version: i32,
) -> Result<Vec<Clarification>, SubmissionError> {
    let rows = sqlx::query_as::<_, (i32, String, String)>(
        "SELECT version, indicator_code, question FROM submission_clarifications \
         WHERE submission_id = $1 AND version = $2 ORDER BY indicator_code",
    )
    .bind(id)
    .bind(version)
    .fetch_all(pool)
    .await
    .map_err(SubmissionError::database("reading clarification questions"))?;
    Ok(rows
        .into_iter()
        .map(|(version, indicator_code, question)| Clarification {
            version,
            indicator_code,
            question,
        })
        .collect())
}

/// Stored rows as entries in framework order; a row the framework no longer reads is logged
/// and left out.
fn decode_entries(
    framework: &Framework,
    unit: &UnitId,
    rows: Vec<StoredRow>,
) -> Vec<(String, Entry)> {
    let mut entries: Vec<(Vec<u64>, String, Entry)> = Vec::with_capacity(rows.len());
    for (code, variables, reason) in rows {
        let Some(indicator) = framework.indicator_by_str(&code) else {
            tracing::warn!(%code, "stored indicator is not in the framework");
            continue;
        };
        let entry = match (variables, reason) {
            (_, Some(reason)) => Entry::NotApplicable(reason),
            (Some(Value::Object(map)), None) => {
                match decode_indicator_values(unit.as_str(), indicator, map).value {
                    Some(values) => Entry::Values(values),
                    None => {
                        tracing::warn!(%code, "stored values no longer validate");
                        continue;
                    }
                }
            }
            _ => continue,
        };
        entries.push((indicator.code.sort_key(), code, entry));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries
        .into_iter()
        .map(|(_, code, entry)| (code, entry))
        .collect()
}
