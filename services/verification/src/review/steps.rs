//! The verifiers' changes to a submission: setting aside a draft the unit left after its last
//! submitted version (so that version is verified), opening it (starting its verification and
//! carrying decisions forward), deciding on indicators, asking the unit for clarification,
//! completing it. Every change runs in one transaction that share-locks the round, locks the
//! submission, checks the rules of [`crate::stage`], changes states only through
//! `dti_workflow`, appends to the unit's audit chain and writes its event to the outbox.

use chrono::{DateTime, Utc};
use dti_audit::AuditEntry;
use dti_auth::Principal;
use dti_bus::outbox;
use dti_db::PgTransaction;
use dti_domain::framework::Framework;
use dti_domain::round::{SubmissionAction, SubmissionState};
use dti_domain::values::InputIssue;
use dti_domain::SubmissionId;
use dti_workflow::submissions::{self as workflow, SubmissionHead};
use serde_json::{json, Map, Value};

use crate::access::require_verifier;
use crate::context::{lock_submission, Context};
use crate::decisions::{self, BatchContext, BatchKind, Recorded};
use crate::inputs;
use crate::model::{decided_indicators, Decision, NewDecision, RequestedDecision};
use crate::review::reading::{review, summary};
use crate::review::validation::{
    check_question_count, check_version, check_version_given, validate_questions,
};
use crate::review::view::{SubmissionReview, SubmissionSummary};
use crate::stage::{self, DecisionStage, OpenAction};
use crate::{events, VerificationError};

/// Sets aside the draft of the locked submission `head`, which the unit opened after its last
/// submitted version and never resubmitted ([`stage::sets_draft_aside`]): draft → submitted,
/// no new version, audited on the unit's chain. The draft's values are kept as they are, for
/// the record; the last submitted version is the one verified. Returns the new state.
pub async fn set_draft_aside(
    tx: &mut PgTransaction,
    head: &SubmissionHead,
    actor: &Principal,
) -> Result<SubmissionState, VerificationError> {
    let state = workflow::transition(tx, head, SubmissionAction::SetDraftAside, actor).await?;
    tracing::info!(
        submission = %head.id,
        unit = %head.unit,
        version = head.latest_version,
        "set aside a draft left after the last submitted version"
    );
    Ok(state)
}

/// Opens the submission's latest submitted version: starts its verification when it was
/// submitted (carrying forward the previous version's decisions on unchanged indicators) and
/// returns the review. A draft the unit left after that version is set aside first, when its
/// round's verification started before drafts were set aside at its start.
#[tracing::instrument(skip_all, fields(submission = %id))]
pub async fn open(
    context: &Context,
    actor: &Principal,
    id: SubmissionId,
) -> Result<SubmissionReview, VerificationError> {
    require_verifier(actor)?;
    let mut tx = context.begin().await?;
    let (round_state, mut head) = lock_submission(&mut tx, id).await?;
    let framework = context.framework(&head.round).await?;
    if stage::sets_draft_aside(round_state, head.state, head.latest_version) {
        head.state = set_draft_aside(&mut tx, &head, actor).await?;
    }
    let action = stage::open_action(round_state, head.state, head.latest_version)
        .map_err(VerificationError::not_now)?;
    if action == OpenAction::Start {
        workflow::transition(&mut tx, &head, SubmissionAction::StartVerification, actor).await?;
        let message = events::started(&context.nats_prefix, &head, &actor.subject, Utc::now());
        outbox::enqueue(&mut tx, &message).await?;
        carry_forward(context, &mut tx, &framework, &head, actor).await?;
        tx.commit().await.map_err(VerificationError::database(
            "committing an opened submission",
        ))?;
    } else {
        drop(tx);
    }
    review(context, id).await
}

/// Copies the previous version's decisions to the unchanged indicators of the latest.
async fn carry_forward(
    context: &Context,
    tx: &mut PgTransaction,
    framework: &Framework,
    head: &SubmissionHead,
    actor: &Principal,
) -> Result<(), VerificationError> {
    let (current, previous) = (head.latest_version, head.latest_version - 1);
    if previous < 1 {
        return Ok(());
    }
    let unit = &head.unit;
    let before = decisions::current(tx, framework, &head.round, unit, head.id, previous).await?;
    if before.is_empty() {
        return Ok(());
    }
    let now = decisions::current(tx, framework, &head.round, unit, head.id, current).await?;
    let old = inputs::load_version(tx, framework, &head.round, unit, head.id, previous).await?;
    let new = inputs::load_version(tx, framework, &head.round, unit, head.id, current).await?;
    let carried = decisions::carried_forward(&old, &new, &before, &now);
    if carried.is_empty() {
        return Ok(());
    }
    let batch = BatchContext {
        head,
        version: current,
        kind: BatchKind::CarriedForward,
        actor,
        nats_prefix: &context.nats_prefix,
    };
    decisions::record(tx, framework, batch, &carried).await?;
    Ok(())
}

/// Records decisions on the latest version (all or nothing). Returns what changed and the
/// warnings about verified values.
#[tracing::instrument(skip_all, fields(submission = %id, decisions = requested.len()))]
pub async fn decide(
    context: &Context,
    actor: &Principal,
    id: SubmissionId,
    version: u32,
    requested: &[RequestedDecision],
) -> Result<(Recorded, Vec<InputIssue>), VerificationError> {
    require_verifier(actor)?;
    check_version_given(version)?;
    let mut tx = context.begin().await?;
    let (round_state, head) = lock_submission(&mut tx, id).await?;
    let version = check_version(&head, version)?;
    let decision_stage =
        stage::may_decide(round_state, head.state).map_err(VerificationError::not_now)?;
    let framework = context.framework(&head.round).await?;
    let (decided, warnings) = decisions::validate(
        &framework,
        &head.unit,
        requested,
        decision_stage,
        context.settings.max_decisions_per_request,
    )?;
    let batch = BatchContext {
        head: &head,
        version,
        kind: match decision_stage {
            DecisionStage::Verification => BatchKind::Decision,
            DecisionStage::Correction => BatchKind::Correction,
        },
        actor,
        nats_prefix: &context.nats_prefix,
    };
    let recorded = decisions::record(&mut tx, &framework, batch, &decided).await?;
    tx.commit()
        .await
        .map_err(VerificationError::database("committing decisions"))?;
    Ok((recorded, warnings))
}

/// Sends the submission back to its unit with questions on chosen indicators.
#[tracing::instrument(skip_all, fields(submission = %id, questions = questions.len()))]
pub async fn request_clarification(
    context: &Context,
    actor: &Principal,
    id: SubmissionId,
    version: u32,
    questions: &[(String, String)],
) -> Result<SubmissionSummary, VerificationError> {
    // The request's own shape first: a malformed request is refused as such in any state.
    require_verifier(actor)?;
    check_question_count(questions, context.settings.max_decisions_per_request)?;
    let (mut tx, head, version) = begin_step(
        context,
        actor,
        id,
        version,
        SubmissionAction::RequestClarification,
    )
    .await?;
    let framework = context.framework(&head.round).await?;
    let questions = validate_questions(
        &framework,
        &head.unit,
        questions,
        context.settings.max_decisions_per_request,
    )?;
    workflow::transition(
        &mut tx,
        &head,
        SubmissionAction::RequestClarification,
        actor,
    )
    .await?;
    let codes: Vec<&str> = questions.iter().map(|(code, _)| code.as_str()).collect();
    let texts: Vec<&str> = questions.iter().map(|(_, q)| q.as_str()).collect();
    let requested_at: DateTime<Utc> = sqlx::query_scalar(
        "INSERT INTO submission_clarifications (submission_id, version, indicator_code, question) \
         SELECT $1, $2, code, question FROM unnest($3::text[], $4::text[]) AS t(code, question) \
         RETURNING requested_at",
    )
    .bind(id)
    .bind(version)
    .bind(&codes)
    .bind(&texts)
    .fetch_one(&mut *tx)
    .await
    .map_err(VerificationError::database(
        "writing clarification questions",
    ))?;
    let asked: Map<String, Value> = questions
        .iter()
        .map(|(code, question)| (code.clone(), json!(question)))
        .collect();
    dti_audit::append(
        &mut tx,
        &AuditEntry::on_unit(&head.round, &head.unit, actor)
            .did(
                "verification.clarification_requested",
                format!("submission {id} version {version}"),
            )
            .change(None, Some(json!({"version": version, "questions": asked}))),
    )
    .await?;
    let message = events::clarification_requested(
        &context.nats_prefix,
        &head,
        &questions,
        &actor.subject,
        requested_at,
    );
    outbox::enqueue(&mut tx, &message).await?;
    tx.commit().await.map_err(VerificationError::database(
        "committing a clarification request",
    ))?;
    metrics::counter!("dti_verification_clarifications_total").increment(1);
    summary(context, id).await
}

/// Completes the verification of the latest version. Undecided indicators refuse it unless
/// `accept_undecided`, which records them as accepted in the same transaction.
#[tracing::instrument(skip_all, fields(submission = %id))]
pub async fn complete(
    context: &Context,
    actor: &Principal,
    id: SubmissionId,
    version: u32,
    accept_undecided: bool,
) -> Result<SubmissionSummary, VerificationError> {
    let (mut tx, head, version) = begin_step(
        context,
        actor,
        id,
        version,
        SubmissionAction::CompleteVerification,
    )
    .await?;
    let framework = context.framework(&head.round).await?;
    let decided =
        decisions::current(&mut tx, &framework, &head.round, &head.unit, id, version).await?;
    let undecided: Vec<NewDecision> = decided_indicators(&framework)
        .filter(|indicator| !decided.contains_key(&indicator.code))
        .map(|indicator| NewDecision {
            code: indicator.code.clone(),
            decision: Decision::Accepted,
            reason: None,
        })
        .collect();
    if !undecided.is_empty() && !accept_undecided {
        let codes: Vec<&str> = undecided.iter().map(|d| d.code.as_str()).collect();
        return Err(VerificationError::not_now(
            dti_i18n::Message::new("verification-undecided")
                .arg("count", codes.len())
                .arg("unit", head.unit.to_string())
                .arg("codes", codes.join(", "))
                .into(),
        ));
    }
    if !undecided.is_empty() {
        let batch = BatchContext {
            head: &head,
            version,
            kind: BatchKind::AcceptedOnCompletion,
            actor,
            nats_prefix: &context.nats_prefix,
        };
        decisions::record(&mut tx, &framework, batch, &undecided).await?;
    }
    workflow::transition(
        &mut tx,
        &head,
        SubmissionAction::CompleteVerification,
        actor,
    )
    .await?;
    let message = events::completed(&context.nats_prefix, &head, &actor.subject, Utc::now());
    outbox::enqueue(&mut tx, &message).await?;
    tx.commit().await.map_err(VerificationError::database(
        "committing a completed verification",
    ))?;
    metrics::counter!("dti_verification_submissions_completed_total").increment(1);
    summary(context, id).await
}

/// Begins a verifier's step `action` on submission `id`: the transaction with the round
/// share-locked and the submission locked, once `version` is its latest, the round's stage
/// allows verifying and the submission's state allows `action`. Returns the transaction, the
/// submission and the version.
async fn begin_step(
    context: &Context,
    actor: &Principal,
    id: SubmissionId,
    version: u32,
    action: SubmissionAction,
) -> Result<(PgTransaction, SubmissionHead, i32), VerificationError> {
    require_verifier(actor)?;
    check_version_given(version)?;
    let mut tx = context.begin().await?;
    let (round_state, head) = lock_submission(&mut tx, id).await?;
    let version = check_version(&head, version)?;
    stage::may_verify_submission(round_state).map_err(VerificationError::not_now)?;
    head.state
        .apply(action)
        .map_err(dti_workflow::WorkflowError::from)?;
    Ok((tx, head, version))
}
