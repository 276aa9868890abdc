//! Reading submissions for verifiers and units, each in one consistent state: a round's
//! submissions, one submission's review (values, evidence, self-assessed scores, decisions and
//! what changed since the previous version), and the side-by-side view.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use dti_auth::Principal;
use dti_db::PgTransaction;
use dti_domain::framework::Framework;
use dti_domain::round::SubmissionState;
use dti_domain::values::unit_warnings;
use dti_domain::SubmissionId;
use dti_domain::{IndicatorCode, RoundRef, UnitId};
use dti_engine::{IndicatorScore, Points, UnitScore};
use dti_i18n::Message;
use dti_scores::Basis;
use dti_workflow::rounds::{self, stored_year};

use crate::access::{require_reviewer, require_unit_reader};
use crate::context::Context;
use crate::evidence::{self, EvidenceDocument};
use crate::inputs::{self, load_round, UnitInput};
use crate::model::{decided_indicators, verified_entry};
use crate::review::view::{
    IndicatorReview, ReviewedChange, SideBySide, SideBySideRow, SubmissionList, SubmissionReview,
    SubmissionSummary,
};
use crate::{scoring, versions, VerificationError};

/// The round's submissions (in `state`, when given) and the units that submitted nothing.
#[tracing::instrument(skip_all, fields(round = %round))]
pub async fn list(
    context: &Context,
    actor: &Principal,
    round: &RoundRef,
    state: Option<SubmissionState>,
) -> Result<SubmissionList, VerificationError> {
    require_reviewer(actor)?;
    let framework = context.framework(round).await?;
    let mut tx = context.read().await?;
    rounds::find(&mut *tx, round).await?.ok_or_else(|| {
        VerificationError::not_found(dti_workflow::rounds::not_found(round).into())
    })?;
    type Row = (SubmissionId, String, String, i32, i64);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT s.id, s.unit_id, s.state, s.latest_version, \
         (SELECT count(*) FROM verified_values v \
          WHERE v.submission_id = s.id AND v.version = s.latest_version) \
         FROM submissions s WHERE s.year = $1 AND s.framework = $2 \
         AND ($3::text IS NULL OR s.state = $3) ORDER BY s.unit_id",
    )
    .bind(stored_year(round))
    .bind(round.framework.as_str())
    .bind(state.map(SubmissionState::as_str))
    .fetch_all(&mut *tx)
    .await
    .map_err(VerificationError::database("listing submissions"))?;
    let silent: Vec<String> = sqlx::query_scalar(
        "SELECT ru.unit_id FROM round_units ru WHERE ru.year = $1 AND ru.framework = $2 \
         AND NOT EXISTS (SELECT 1 FROM submissions s WHERE s.year = ru.year \
         AND s.framework = ru.framework AND s.unit_id = ru.unit_id AND s.latest_version > 0) \
         ORDER BY ru.unit_id",
    )
    .bind(stored_year(round))
    .bind(round.framework.as_str())
    .fetch_all(&mut *tx)
    .await
    .map_err(VerificationError::database(
        "listing units without a submission",
    ))?;
    let indicators = decided_indicators(&framework).count();
    let submissions = rows
        .into_iter()
        .map(|(id, unit, state, latest_version, decided)| {
            let corrupt = |what: &str| {
                VerificationError::Corrupted(format!("submission {id} has an unreadable {what}"))
            };
            Ok(SubmissionSummary {
                id,
                unit: UnitId::parse(unit).map_err(|_| corrupt("unit"))?,
                state: state.parse().map_err(|_| corrupt("state"))?,
                latest_version,
                decided,
                indicators,
            })
        })
        .collect::<Result<_, VerificationError>>()?;
    Ok(SubmissionList {
        submissions,
        units_without_submission: silent,
    })
}

/// The unit's self-assessed and verified results side by side.
#[tracing::instrument(skip_all, fields(round = %round, unit = %unit))]
pub async fn side_by_side(
    context: &Context,
    actor: &Principal,
    round: &RoundRef,
    unit: &UnitId,
) -> Result<SideBySide, VerificationError> {
    require_unit_reader(actor, unit)?;
    let framework = context.framework(round).await?;
    let mut tx = context.read().await?;
    rounds::find(&mut *tx, round).await?.ok_or_else(|| {
        VerificationError::not_found(dti_workflow::rounds::not_found(round).into())
    })?;
    let inputs = load_round(&mut tx, &framework, round).await?;
    let input = inputs.unit(unit).cloned().ok_or_else(|| {
        VerificationError::not_found(
            Message::new("submission-unit-not-in-round")
                .arg("unit", unit.to_string())
                .arg("round", round.to_string())
                .into(),
        )
    })?;
    let evidence = match &input.submission {
        Some(submission) if submission.version >= 1 => {
            let at = submitted_at(&mut tx, submission.id, submission.version).await?;
            evidence::as_of(&mut tx, round, unit, at).await?
        }
        _ => BTreeMap::new(),
    };
    drop(tx);
    let self_warnings = unit_warnings(&framework, &input.values(Basis::SelfAssessed));
    let verified_warnings = unit_warnings(&framework, &input.values(Basis::Verified));
    let own = scoring::one_unit(inputs.self_cohort(), unit.clone()).await?;
    let verified = scoring::one_unit(inputs.verified_cohort(), unit.clone()).await?;
    let rows = side_by_side_rows(
        &framework,
        &input,
        own.as_ref(),
        verified.as_ref(),
        evidence,
    );
    Ok(SideBySide {
        round: round.clone(),
        unit: unit.clone(),
        submission: input.submission.clone(),
        rows,
        self_total: own.map_or(Points::ZERO, |s| s.total),
        verified_total: verified.map_or(Points::ZERO, |s| s.total),
        self_warnings,
        verified_warnings,
    })
}

/// The submission as listed.
pub async fn summary(
    context: &Context,
    id: SubmissionId,
) -> Result<SubmissionSummary, VerificationError> {
    Ok(review(context, id).await?.summary)
}

/// The submission's review, read in one consistent state.
pub async fn review(
    context: &Context,
    id: SubmissionId,
) -> Result<SubmissionReview, VerificationError> {
    let mut tx = context.read().await?;
    let row: Option<(i16, String, String)> =
        sqlx::query_as("SELECT year, framework, unit_id FROM submissions WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(VerificationError::database("reading a submission"))?;
    let (year, framework, unit) = row.ok_or_else(|| {
        VerificationError::not_found(
            Message::new("workflow-submission-not-found")
                .arg("submission", id.to_string())
                .into(),
        )
    })?;
    let corrupt = |what: String| VerificationError::Corrupted(format!("submission {id}: {what}"));
    let round = RoundRef {
        year: u16::try_from(year).map_err(|e| corrupt(e.to_string()))?,
        framework: framework
            .parse()
            .map_err(|e: dti_domain::IdError| corrupt(e.to_string()))?,
    };
    let unit = UnitId::parse(unit).map_err(|e| corrupt(e.to_string()))?;
    let framework = context.framework(&round).await?;
    let inputs = load_round(&mut tx, &framework, &round).await?;
    let input = inputs
        .unit(&unit)
        .cloned()
        .ok_or_else(|| corrupt(format!("unit {unit} is not in the cohort")))?;
    let submission = input
        .submission
        .clone()
        .ok_or_else(|| corrupt("no submission row in the cohort".to_owned()))?;
    let version = submission.version;
    let submitted = submitted_at(&mut tx, id, version).await?;
    let mut evidence = evidence::as_of(&mut tx, &round, &unit, submitted).await?;
    let previous_version = (version - 1).max(0);
    let changes = if previous_version >= 1 {
        let previous =
            inputs::load_version(&mut tx, &framework, &round, &unit, id, previous_version).await?;
        let questions = questions_of(&mut tx, id, previous_version).await?;
        versions::diff(&previous, &input.reported)
            .into_iter()
            .map(|change| ReviewedChange {
                question: questions.get(change.code.as_str()).cloned(),
                change,
            })
            .collect()
    } else {
        Vec::new()
    };
    drop(tx);
    let own = scoring::one_unit(inputs.self_cohort(), unit.clone()).await?;
    let scores: BTreeMap<&IndicatorCode, &IndicatorScore> = own
        .iter()
        .flat_map(|s| s.indicators.iter().map(|i| (&i.code, i)))
        .collect();
    let indicators = decided_indicators(&framework)
        .map(|indicator| IndicatorReview {
            indicator: indicator.clone(),
            reported: input.reported.get(&indicator.code).cloned(),
            self_score: scores.get(&indicator.code).map(|s| (*s).clone()),
            evidence: evidence.remove(indicator.code.as_str()).unwrap_or_default(),
            decision: input.decisions.get(&indicator.code).cloned(),
        })
        .collect();
    Ok(SubmissionReview {
        summary: SubmissionSummary {
            id,
            unit,
            state: submission.state,
            latest_version: version,
            decided: i64::try_from(input.decisions.len()).unwrap_or(i64::MAX),
            indicators: decided_indicators(&framework).count(),
        },
        round,
        submitted_at: submitted,
        indicators,
        previous_version,
        changes,
        decisions_revision: submission.decisions_revision,
        self_total: own.map_or(Points::ZERO, |s| s.total),
    })
}

/// The rows of a side-by-side view, every scored indicator in framework order.
fn side_by_side_rows(
    framework: &Framework,
    input: &UnitInput,
    own: Option<&UnitScore>,
    verified: Option<&UnitScore>,
    mut evidence: BTreeMap<String, Vec<EvidenceDocument>>,
) -> Vec<SideBySideRow> {
    let score_of = |scores: Option<&UnitScore>, code: &IndicatorCode| {
        scores.and_then(|s| s.indicators.iter().find(|i| &i.code == code).cloned())
    };
    decided_indicators(framework)
        .map(|indicator| {
            let reported = input.reported.get(&indicator.code);
            let decision = input.decisions.get(&indicator.code);
            SideBySideRow {
                indicator: indicator.clone(),
                reported: reported.cloned(),
                self_score: score_of(own, &indicator.code),
                verified: verified_entry(reported, decision.map(|d| &d.decision)),
                verified_score: score_of(verified, &indicator.code),
                decision: decision.cloned(),
                evidence: evidence.remove(indicator.code.as_str()).unwrap_or_default(),
            }
        })
        .collect()
}

/// When `version` of the submission was submitted.
async fn submitted_at(
    tx: &mut PgTransaction,
    id: SubmissionId,
    version: i32,
) -> Result<DateTime<Utc>, VerificationError> {
    sqlx::query_scalar(
        "SELECT submitted_at FROM submission_versions WHERE submission_id = $1 AND version = $2",
    )
    .bind(id)
    .bind(version)
    .fetch_optional(&mut **tx)
    .await
    .map_err(VerificationError::database("reading a version"))?
    .ok_or_else(|| {
        VerificationError::not_found(
            Message::new("verification-no-version")
                .arg("submission", id.to_string())
                .arg("version", i64::from(version))
                .into(),
        )
    })
}

/// The clarification questions asked about `version`, by indicator code.
async fn questions_of(
    tx: &mut PgTransaction,
    id: SubmissionId,
    version: i32,
) -> Result<BTreeMap<String, String>, VerificationError> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT indicator_code, question FROM submission_clarifications \
         WHERE submission_id = $1 AND version = $2",
    )
    .bind(id)
    .bind(version)
    .fetch_all(&mut **tx)
    .await
    .map_err(VerificationError::database(
        "reading clarification questions",
    ))?;
    Ok(rows.into_iter().collect())
}
