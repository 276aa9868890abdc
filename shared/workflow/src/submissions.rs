//! A unit's submission state in the database, changed only through
//! [`SubmissionState::apply`](dti_domain::round::SubmissionState::apply).

use dti_audit::AuditEntry;
use dti_auth::Principal;
use dti_db::PgTransaction;
use dti_domain::round::{SubmissionAction, SubmissionState};
use dti_domain::{FrameworkId, RoundRef, SubmissionId, UnitId};
use serde_json::json;

use crate::WorkflowError;

/// A submission's identity and state, as locked by [`lock`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionHead {
    /// Submission id.
    pub id: SubmissionId,
    /// Its round.
    pub round: RoundRef,
    /// Its unit.
    pub unit: UnitId,
    /// Its state.
    pub state: SubmissionState,
    /// Latest submitted version (0 before the first submit).
    pub latest_version: i32,
}

type HeadRow = (i16, String, String, String, i32);

/// Locks the submission's row for the rest of `tx`.
pub async fn lock(
    tx: &mut PgTransaction,
    id: SubmissionId,
) -> Result<SubmissionHead, WorkflowError> {
    let row: Option<HeadRow> = sqlx::query_as(
        "SELECT year, framework, unit_id, state, latest_version FROM submissions \
         WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
    .map_err(WorkflowError::database("locking a submission"))?;
    let (year, framework, unit, state, latest_version) =
        row.ok_or_else(|| WorkflowError::SubmissionNotFound(id.to_string()))?;
    let corrupt = |what: &str| WorkflowError::UnknownStoredState(format!("{what} of {id}"));
    Ok(SubmissionHead {
        id,
        round: RoundRef {
            year: u16::try_from(year).map_err(|_| corrupt("year"))?,
            framework: FrameworkId::parse(framework).map_err(|_| corrupt("framework"))?,
        },
        unit: UnitId::parse(unit).map_err(|_| corrupt("unit"))?,
        state: state
            .parse()
            .map_err(|_| WorkflowError::UnknownStoredState(state.clone()))?,
        latest_version,
    })
}

/// The audit action of a submission action: `submission.` and a stable snake_case key.
fn audit_action(action: SubmissionAction) -> &'static str {
    match action {
        SubmissionAction::Edit => "submission.edit",
        SubmissionAction::Submit => "submission.submit",
        SubmissionAction::StartVerification => "submission.start_verification",
        SubmissionAction::RequestClarification => "submission.request_clarification",
        SubmissionAction::CompleteVerification => "submission.complete_verification",
        SubmissionAction::SetDraftAside => "submission.set_draft_aside",
    }
}

/// What applying `action` to `head` leads to, without writing it: the new state and, when it
/// changes, the audit entry recording the change. [`transition`] writes both; a caller that
/// writes the state together with other columns appends the entry itself.
pub fn transition_entry<'a>(
    head: &'a SubmissionHead,
    action: SubmissionAction,
    actor: &'a Principal,
) -> Result<(SubmissionState, Option<AuditEntry<'a>>), WorkflowError> {
    let next = head.state.apply(action)?;
    if next == head.state {
        return Ok((next, None));
    }
    let entry = AuditEntry::on_unit(&head.round, &head.unit, actor)
        .did(audit_action(action), format!("submission {}", head.id))
        .change(
            Some(json!({"state": head.state.as_str()})),
            Some(json!({"state": next.as_str()})),
        );
    Ok((next, Some(entry)))
}

/// Applies `action` to the locked submission `head` inside `tx`: asks the state machine, writes
/// the new state and, when it changed, appends the change to the unit's audit chain. Returns
/// the new state. The caller checks who may act and locks the row first ([`lock`]).
pub async fn transition(
    tx: &mut PgTransaction,
    head: &SubmissionHead,
    action: SubmissionAction,
    actor: &Principal,
) -> Result<SubmissionState, WorkflowError> {
    let (next, entry) = transition_entry(head, action, actor)?;
    let Some(entry) = entry else {
        return Ok(next);
    };
    sqlx::query("UPDATE submissions SET state = $2, updated_at = now() WHERE id = $1")
        .bind(head.id)
        .bind(next.as_str())
        .execute(&mut **tx)
        .await
        .map_err(WorkflowError::database("changing a submission's state"))?;
    dti_audit::append(tx, &entry).await?;
    Ok(next)
}
