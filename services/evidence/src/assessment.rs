//! Where a unit's self-assessment stands, as far as its evidence is concerned: the round
//! exists and uses a known framework, the unit is assessed in it, the indicator belongs to the
//! framework, and whether the unit may still change its evidence.
//!
//! A unit may upload or remove evidence while its submission is editable — there is none yet,
//! it is a `draft`, or a verifier asked for clarification (`clarification_requested`) — and the
//! round is `open`, `closed` or `under_verification` (not before it opens, not once verified).

use std::sync::Arc;

use dti_domain::round::{RoundState, SubmissionState};
use dti_domain::{Framework, IndicatorCode, RoundRef, UnitId};
use dti_i18n::Message;
use dti_service_kit::frameworks::FrameworkCache;
use dti_workflow::rounds::{self, stored_year};
use sqlx::PgConnection;

use crate::EvidenceError;

/// Round states in which evidence may change.
const EDITABLE_ROUND_STATES: [RoundState; 3] = [
    RoundState::Open,
    RoundState::Closed,
    RoundState::UnderVerification,
];

/// Submission states in which evidence may change.
const EDITABLE_SUBMISSION_STATES: [SubmissionState; 2] = [
    SubmissionState::Draft,
    SubmissionState::ClarificationRequested,
];

/// The framework of `round` (one an operator has just stored is loaded first), once the round
/// is known to exist with `unit` in its cohort.
/// `field_prefix` (e.g. `header.`) is put before the request fields named in errors.
pub async fn require_round_unit<'e, E>(
    executor: E,
    frameworks: &FrameworkCache,
    round: &RoundRef,
    unit: &UnitId,
    field_prefix: &str,
) -> Result<Arc<Framework>, EvidenceError>
where
    E: sqlx::PgExecutor<'e>,
{
    let framework = frameworks
        .scored::<EvidenceError>(&format!("{field_prefix}round.framework"), &round.framework)
        .await?;
    let Some(seen) = rounds::find_for_unit(executor, round, unit).await? else {
        return Err(EvidenceError::invalid_field(
            &format!("{field_prefix}round"),
            rounds::not_found(round),
        ));
    };
    if !seen.in_cohort {
        return Err(EvidenceError::invalid_field(
            &format!("{field_prefix}unit.unit_id"),
            Message::new("submission-unit-not-in-round")
                .arg("unit", unit.to_string())
                .arg("round", round.to_string()),
        ));
    }
    Ok(framework)
}

/// `code` as an indicator of `framework`, or an error naming the unit, the indicator and the
/// request field.
pub fn require_indicator(
    framework: &Framework,
    unit: &UnitId,
    code: &str,
    field: &str,
) -> Result<IndicatorCode, EvidenceError> {
    let parsed = IndicatorCode::parse(code).map_err(|error| {
        EvidenceError::invalid_field(
            field,
            Message::new("evidence-unit-problem")
                .arg("unit", unit.to_string())
                .arg("problem", error.message()),
        )
    })?;
    if framework.indicator(&parsed).is_none() {
        return Err(EvidenceError::invalid_field(
            field,
            Message::new("evidence-indicator-not-in-framework")
                .arg("unit", unit.to_string())
                .arg("indicator", parsed.to_string())
                .arg("framework", framework.id.to_string()),
        ));
    }
    Ok(parsed)
}

/// Refuses unless `unit` may change its evidence in `round` now. Inside a transaction the
/// round and submission rows stay share-locked until it ends, so neither changes state before
/// the evidence change commits.
pub async fn require_editable(
    connection: &mut PgConnection,
    round: &RoundRef,
    unit: &UnitId,
) -> Result<(), EvidenceError> {
    let round_state: Option<String> =
        sqlx::query_scalar("SELECT state FROM rounds WHERE year = $1 AND framework = $2 FOR SHARE")
            .bind(stored_year(round))
            .bind(round.framework.as_str())
            .fetch_optional(&mut *connection)
            .await
            .map_err(EvidenceError::database("reading a round's state"))?;
    let round_state = parse_state::<RoundState>(round_state, &format!("round {round}"))?
        .ok_or_else(|| EvidenceError::not_found(rounds::not_found(round).into()))?;
    if !EDITABLE_ROUND_STATES.contains(&round_state) {
        return Err(EvidenceError::not_now(
            Message::new("evidence-round-frozen")
                .arg("round", round.to_string())
                .arg("state", round_state.as_str())
                .into(),
        ));
    }
    let submission_state: Option<String> = sqlx::query_scalar(
        "SELECT state FROM submissions WHERE year = $1 AND framework = $2 AND unit_id = $3 \
         FOR SHARE",
    )
    .bind(stored_year(round))
    .bind(round.framework.as_str())
    .bind(unit.as_str())
    .fetch_optional(&mut *connection)
    .await
    .map_err(EvidenceError::database("reading a submission's state"))?;
    let submission = format!("the submission of unit {unit} in round {round}");
    match parse_state::<SubmissionState>(submission_state, &submission)? {
        Some(state) if !EDITABLE_SUBMISSION_STATES.contains(&state) => Err(EvidenceError::not_now(
            Message::new("evidence-submission-frozen")
                .arg("unit", unit.to_string())
                .arg("round", round.to_string())
                .arg("state", state.as_str())
                .into(),
        )),
        _ => Ok(()),
    }
}

/// Parses a stored state, if there is one.
fn parse_state<S: std::str::FromStr>(
    stored: Option<String>,
    what: &str,
) -> Result<Option<S>, EvidenceError> {
    stored
        .map(|state| {
            state.parse::<S>().map_err(|_| {
                EvidenceError::Corrupted(format!("{what} has the unknown state {state:?}"))
            })
        })
        .transpose()
}
