//! Recording a batch of decisions in the caller's transaction (the submission's row locked):
//! decisions that change nothing are dropped, the rest are written to `verified_values` (the
//! current decision, read by the scoring service) and to `verification_decision_history` under
//! the submission's next revision, appended to the unit's audit chain with before and after, and
//! announced by `verification.values_changed.v1` through the outbox. Also reads the
//! submission's latest revision.

use chrono::{DateTime, Utc};
use dti_audit::AuditEntry;
use dti_auth::Principal;
use dti_bus::outbox;
use dti_db::PgTransaction;
use dti_domain::framework::Framework;
use dti_domain::SubmissionId;
use dti_scores::inputs::load_decisions;
use dti_workflow::submissions::SubmissionHead;
use serde_json::{json, Map, Value};
use sqlx::PgConnection;

use crate::events;
use crate::model::{decision_json, NewDecision};
use crate::VerificationError;

/// What a batch is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchKind {
    /// A verifier's decisions.
    Decision,
    /// Decisions carried to a resubmitted version.
    CarriedForward,
    /// Undecided indicators accepted when the submission was completed.
    AcceptedOnCompletion,
    /// Decisions changed while the result is provisional.
    Correction,
}

impl BatchKind {
    fn as_str(self) -> &'static str {
        match self {
            BatchKind::Decision => "decision",
            BatchKind::CarriedForward => "carried_forward",
            BatchKind::AcceptedOnCompletion => "accepted_on_completion",
            BatchKind::Correction => "correction",
        }
    }

    fn audit_action(self) -> &'static str {
        match self {
            BatchKind::Decision => "verification.decide",
            BatchKind::CarriedForward => "verification.carry_forward",
            BatchKind::AcceptedOnCompletion => "verification.accept_undecided",
            BatchKind::Correction => "verification.correct",
        }
    }
}

/// What recording a batch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The submission's decision revision afterwards.
    pub revision: i64,
    /// Indicators whose decision changed (empty when nothing changed).
    pub changed: Vec<String>,
}

/// The submission's latest decision revision (0 before any batch).
pub async fn latest_revision(
    conn: &mut PgConnection,
    submission: SubmissionId,
) -> Result<i64, VerificationError> {
    sqlx::query_scalar(
        "SELECT COALESCE(max(revision), 0)::bigint FROM verification_batches \
         WHERE submission_id = $1",
    )
    .bind(submission)
    .fetch_one(&mut *conn)
    .await
    .map_err(VerificationError::database("reading the decision revision"))
}

/// Where a batch is recorded and by whom.
#[derive(Debug, Clone, Copy)]
pub struct BatchContext<'a> {
    /// The locked submission.
    pub head: &'a SubmissionHead,
    /// The version decided on.
    pub version: i32,
    /// What the batch is.
    pub kind: BatchKind,
    /// Who records it.
    pub actor: &'a Principal,
    /// NATS prefix of the event.
    pub nats_prefix: &'a str,
}

/// Records `decisions` as one batch inside `tx` (see the module documentation). Decisions
/// equal to the current ones are dropped; when none is left nothing is written.
#[tracing::instrument(skip_all, fields(submission = %batch.head.id, version = batch.version))]
pub async fn record(
    tx: &mut PgTransaction,
    framework: &Framework,
    batch: BatchContext<'_>,
    decisions: &[NewDecision],
) -> Result<Recorded, VerificationError> {
    let head = batch.head;
    let existing = load_decisions(
        tx,
        framework,
        &head.round,
        &head.unit,
        head.id,
        batch.version,
    )
    .await?;
    let mut before = Map::new();
    let mut after = Map::new();
    let mut changes = Vec::new();
    for new in decisions {
        let old = existing
            .get(&new.code)
            .map(|stored| decision_json(&stored.decision, stored.reason.as_deref()));
        let next = decision_json(&new.decision, new.reason.as_deref());
        if old.as_ref() == Some(&next) {
            continue;
        }
        before.insert(new.code.to_string(), old.unwrap_or(Value::Null));
        after.insert(new.code.to_string(), next);
        changes.push(new);
    }
    let revision = latest_revision(tx, head.id).await?;
    if changes.is_empty() {
        return Ok(Recorded {
            revision,
            changed: Vec::new(),
        });
    }
    let revision = revision + 1;
    let decided_at: DateTime<Utc> = sqlx::query_scalar(
        "INSERT INTO verification_batches (submission_id, revision, version, kind, decided_by) \
         VALUES ($1, $2, $3, $4, $5) RETURNING decided_at",
    )
    .bind(head.id)
    .bind(revision)
    .bind(batch.version)
    .bind(batch.kind.as_str())
    .bind(&batch.actor.subject)
    .fetch_one(&mut **tx)
    .await
    .map_err(VerificationError::database("writing a decision batch"))?;
    for new in &changes {
        write_decision(tx, batch, revision, decided_at, new).await?;
    }
    let changed: Vec<String> = changes.iter().map(|new| new.code.to_string()).collect();
    after.insert("revision".to_owned(), json!(revision));
    dti_audit::append(
        tx,
        &AuditEntry::on_unit(&head.round, &head.unit, batch.actor)
            .did(
                batch.kind.audit_action(),
                format!("submission {} version {}", head.id, batch.version),
            )
            .change(Some(Value::Object(before)), Some(Value::Object(after))),
    )
    .await?;
    let message = events::values_changed(
        batch.nats_prefix,
        head,
        batch.version,
        revision,
        &changed,
        decided_at,
    );
    outbox::enqueue(tx, &message).await?;
    for new in &changes {
        metrics::counter!(
            "dti_verification_decisions_total",
            "decision" => new.decision.kind().as_str(),
            "batch" => batch.kind.as_str()
        )
        .increment(1);
    }
    Ok(Recorded { revision, changed })
}

/// Writes one decision to `verified_values` and its history.
async fn write_decision(
    tx: &mut PgTransaction,
    batch: BatchContext<'_>,
    revision: i64,
    decided_at: DateTime<Utc>,
    new: &NewDecision,
) -> Result<(), VerificationError> {
    let (variables, not_applicable) = new.decision.stored_columns();
    let kind = new.decision.kind().as_str();
    sqlx::query(
        "INSERT INTO verified_values (submission_id, version, indicator_code, decision, \
         variables, not_applicable, reason, decided_by, decided_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (submission_id, version, indicator_code) DO UPDATE SET \
         decision = EXCLUDED.decision, variables = EXCLUDED.variables, \
         not_applicable = EXCLUDED.not_applicable, reason = EXCLUDED.reason, \
         decided_by = EXCLUDED.decided_by, decided_at = EXCLUDED.decided_at",
    )
    .bind(batch.head.id)
    .bind(batch.version)
    .bind(new.code.as_str())
    .bind(kind)
    .bind(&variables)
    .bind(not_applicable)
    .bind(&new.reason)
    .bind(&batch.actor.subject)
    .bind(decided_at)
    .execute(&mut **tx)
    .await
    .map_err(VerificationError::database("writing a verified value"))?;
    sqlx::query(
        "INSERT INTO verification_decision_history (submission_id, revision, indicator_code, \
         decision, variables, not_applicable, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(batch.head.id)
    .bind(revision)
    .bind(new.code.as_str())
    .bind(kind)
    .bind(&variables)
    .bind(not_applicable)
    .bind(&new.reason)
    .execute(&mut **tx)
    .await
    .map_err(VerificationError::database("writing decision history"))?;
    Ok(())
}
