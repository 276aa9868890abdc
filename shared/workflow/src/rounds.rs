//! Rounds in the database: reading, creating with a cohort, and state transitions.

use chrono::{DateTime, Utc};
use dti_audit::{AuditEntry, Chain};
use dti_auth::{Principal, Role};
use dti_bus::outbox::{self, OutboxMessage};
use dti_db::PgTransaction;
use dti_domain::round::{Actor, RoundAction, RoundState};
use dti_domain::{RoundRef, UnitId};
use dti_proto::dti::common::v1 as common;
use dti_proto::dti::events::v1::RoundStateChanged;
use prost::Message;
use serde_json::json;

use crate::WorkflowError;
use dti_proto::convert::timestamp;

/// Event name of a round state change, under the NATS prefix.
pub const ROUND_STATE_CHANGED: &str = "round.state_changed.v1";

/// A round as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundRecord {
    /// The round.
    pub round: RoundRef,
    /// Its state.
    pub state: RoundState,
    /// Submissions are accepted until then while open.
    pub deadline: Option<DateTime<Utc>>,
}

impl RoundRecord {
    /// Whether units may submit now: the round is open and its deadline has not passed.
    pub fn accepts_submissions_at(&self, now: DateTime<Utc>) -> bool {
        self.state.accepts_submissions() && self.deadline.is_none_or(|deadline| now <= deadline)
    }
}

/// The year as bound to a statement: widened without loss, so a year beyond the `SMALLINT`
/// column's range is rejected by the database (or matches no row) instead of being clamped.
pub fn stored_year(round: &RoundRef) -> i32 {
    i32::from(round.year)
}

type RoundRow = (String, Option<DateTime<Utc>>);

fn record(round: &RoundRef, (state, deadline): RoundRow) -> Result<RoundRecord, WorkflowError> {
    Ok(RoundRecord {
        round: round.clone(),
        state: state
            .parse()
            .map_err(|_| WorkflowError::UnknownStoredState(state.clone()))?,
        deadline,
    })
}

/// What a caller is told about a round that does not exist, in its language.
pub fn not_found(round: &RoundRef) -> dti_i18n::Message {
    dti_i18n::Message::new("workflow-round-not-found").arg("round", round.to_string())
}

/// The round, if it exists.
pub async fn find<'e, E>(
    executor: E,
    round: &RoundRef,
) -> Result<Option<RoundRecord>, WorkflowError>
where
    E: sqlx::PgExecutor<'e>,
{
    let row: Option<RoundRow> =
        sqlx::query_as("SELECT state, deadline FROM rounds WHERE year = $1 AND framework = $2")
            .bind(stored_year(round))
            .bind(round.framework.as_str())
            .fetch_optional(executor)
            .await
            .map_err(WorkflowError::database("reading a round"))?;
    row.map(|row| record(round, row)).transpose()
}

/// A round as one of its units sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundForUnit {
    /// The round as stored.
    pub record: RoundRecord,
    /// Whether the unit is in the round's cohort.
    pub in_cohort: bool,
    /// Until when the round is reopened for the unit, if it is.
    pub reopened_until: Option<DateTime<Utc>>,
}

/// A round's state and deadline, whether a unit is in its cohort, the unit's reopening.
type RoundForUnitRow = (String, Option<DateTime<Utc>>, bool, Option<DateTime<Utc>>);

/// The round as `unit` sees it, if the round exists: one statement reads its record, whether
/// the unit is in its cohort and the unit's reopening.
pub async fn find_for_unit<'e, E>(
    executor: E,
    round: &RoundRef,
    unit: &UnitId,
) -> Result<Option<RoundForUnit>, WorkflowError>
where
    E: sqlx::PgExecutor<'e>,
{
    let row: Option<RoundForUnitRow> = sqlx::query_as(
        "SELECT r.state, r.deadline, \
             EXISTS (SELECT 1 FROM round_units u \
               WHERE u.year = r.year AND u.framework = r.framework AND u.unit_id = $3), \
             (SELECT o.deadline FROM round_unit_reopenings o \
               WHERE o.year = r.year AND o.framework = r.framework AND o.unit_id = $3) \
             FROM rounds r WHERE r.year = $1 AND r.framework = $2",
    )
    .bind(stored_year(round))
    .bind(round.framework.as_str())
    .bind(unit.as_str())
    .fetch_optional(executor)
    .await
    .map_err(WorkflowError::database("reading a round for a unit"))?;
    row.map(|(state, deadline, in_cohort, reopened_until)| {
        Ok(RoundForUnit {
            record: record(round, (state, deadline))?,
            in_cohort,
            reopened_until,
        })
    })
    .transpose()
}

/// Locks the round's row for the rest of `tx`.
pub async fn lock(tx: &mut PgTransaction, round: &RoundRef) -> Result<RoundRecord, WorkflowError> {
    let row: Option<RoundRow> = sqlx::query_as(
        "SELECT state, deadline FROM rounds WHERE year = $1 AND framework = $2 FOR UPDATE",
    )
    .bind(stored_year(round))
    .bind(round.framework.as_str())
    .fetch_optional(&mut **tx)
    .await
    .map_err(WorkflowError::database("locking a round"))?;
    match row {
        Some(row) => record(round, row),
        None => Err(WorkflowError::RoundNotFound(round.to_string())),
    }
}

/// Creates `round` in `draft` with `cohort` as its units, pinning the content hash of the
/// framework it is opened with, unless it exists (then nothing changes). Returns whether it
/// was created.
pub async fn create_draft(
    tx: &mut PgTransaction,
    round: &RoundRef,
    framework_hash: &str,
    cohort: &[UnitId],
    actor: &Principal,
) -> Result<bool, WorkflowError> {
    let created = sqlx::query(
        "INSERT INTO rounds (year, framework, state, framework_hash) \
         VALUES ($1, $2, 'draft', $3) ON CONFLICT DO NOTHING",
    )
    .bind(stored_year(round))
    .bind(round.framework.as_str())
    .bind(framework_hash)
    .execute(&mut **tx)
    .await
    .map_err(WorkflowError::database("creating a round"))?
    .rows_affected()
        == 1;
    if !created {
        return Ok(false);
    }
    let units: Vec<&str> = cohort.iter().map(UnitId::as_str).collect();
    sqlx::query(
        "INSERT INTO round_units (year, framework, unit_id) \
         SELECT $1, $2, unnest($3::text[])",
    )
    .bind(stored_year(round))
    .bind(round.framework.as_str())
    .bind(&units)
    .execute(&mut **tx)
    .await
    .map_err(WorkflowError::database("writing a round's cohort"))?;
    dti_audit::append(
        tx,
        &AuditEntry {
            round,
            chain: Chain::Round,
            actor,
            action: "round.create",
            subject: format!("round {round}"),
            before: None,
            after: Some(
                json!({"state": "draft", "cohort": units, "framework_hash": framework_hash}),
            ),
        },
    )
    .await?;
    Ok(true)
}

/// Whether `unit` belongs to the cohort of `round`.
pub async fn has_unit<'e, E>(
    executor: E,
    round: &RoundRef,
    unit: &UnitId,
) -> Result<bool, WorkflowError>
where
    E: sqlx::PgExecutor<'e>,
{
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM round_units WHERE year = $1 AND framework = $2 AND unit_id = $3)",
    )
    .bind(stored_year(round))
    .bind(round.framework.as_str())
    .bind(unit.as_str())
    .fetch_one(executor)
    .await
    .map_err(WorkflowError::database("reading a round's cohort"))
}

/// The role that takes actions of `actor`.
fn role_of(actor: Actor) -> Role {
    match actor {
        Actor::Operator => Role::Operator,
        Actor::Verifier => Role::Verifier,
        Actor::Approver => Role::Approver,
    }
}

/// Refuses `action` unless `principal` has the role that takes it.
pub fn require_actor(principal: &Principal, action: RoundAction) -> Result<(), WorkflowError> {
    let role = role_of(action.actor());
    if principal.role == role {
        return Ok(());
    }
    // Written in the request's language: the caller reads it as is.
    let refusal = dti_i18n::Message::new("workflow-not-permitted")
        .arg("role", role.to_string())
        .arg("action", action.to_string())
        .arg("caller", principal.role.to_string());
    Err(WorkflowError::NotPermitted(refusal.into()))
}

/// Applies `action` to `round` inside `tx`: checks the caller's role and the state machine,
/// writes the new state (and `deadline` when given), appends the change to the round's audit
/// chain and enqueues `round.state_changed.v1` under `nats_prefix`.
pub async fn transition(
    tx: &mut PgTransaction,
    nats_prefix: &str,
    round: &RoundRef,
    action: RoundAction,
    deadline: Option<DateTime<Utc>>,
    actor: &Principal,
) -> Result<RoundRecord, WorkflowError> {
    require_actor(actor, action)?;
    let current = lock(tx, round).await?;
    let next = current.state.apply(action)?;
    let deadline = deadline.or(current.deadline);
    let changed_at = Utc::now();
    sqlx::query(
        "UPDATE rounds SET state = $3, deadline = $4, updated_at = $5 \
         WHERE year = $1 AND framework = $2",
    )
    .bind(stored_year(round))
    .bind(round.framework.as_str())
    .bind(next.as_str())
    .bind(deadline)
    .bind(changed_at)
    .execute(&mut **tx)
    .await
    .map_err(WorkflowError::database("changing a round's state"))?;
    let audit = dti_audit::append(
        tx,
        &AuditEntry {
            round,
            chain: Chain::Round,
            actor,
            action: &format!("round.{}", action_key(action)),
            subject: format!("round {round}"),
            before: Some(json!({"state": current.state.as_str(), "deadline": current.deadline})),
            after: Some(json!({"state": next.as_str(), "deadline": deadline})),
        },
    )
    .await?;
    let event = RoundStateChanged {
        round: Some(proto_round(round)),
        from_state: current.state.as_str().to_owned(),
        to_state: next.as_str().to_owned(),
        changed_by: actor.subject.clone(),
        changed_at: Some(timestamp(changed_at)),
    };
    let message = OutboxMessage::new(
        dti_bus::stream::subject(nats_prefix, ROUND_STATE_CHANGED),
        format!(
            "round/{}/{}/{}/{}",
            round.year,
            round.framework,
            next.as_str(),
            audit.seq
        ),
        event.encode_to_vec(),
    );
    outbox::enqueue(tx, &message).await?;
    Ok(RoundRecord {
        round: round.clone(),
        state: next,
        deadline,
    })
}

/// A stable snake_case key of an action for audit entries.
fn action_key(action: RoundAction) -> &'static str {
    match action {
        RoundAction::Open => "open",
        RoundAction::Close => "close",
        RoundAction::Reopen => "reopen",
        RoundAction::StartVerification => "start_verification",
        RoundAction::CompleteVerification => "complete_verification",
        RoundAction::ReturnForVerification => "return_for_verification",
        RoundAction::Approve => "approve",
        RoundAction::Publish => "publish",
        RoundAction::Finalize => "finalize",
    }
}

/// The protobuf reference of a round.
pub fn proto_round(round: &RoundRef) -> common::RoundRef {
    common::RoundRef {
        year: u32::from(round.year),
        framework: round.framework.to_string(),
    }
}

/// Parses a protobuf round reference, naming the field on failure (`round`, `round.year`,
/// `round.framework`): [`dti_proto::request::parse_round`], as a `(field, problem)` pair for
/// callers not yet on [`dti_proto::request::FieldError`].
pub fn parse_round(round: Option<&common::RoundRef>) -> Result<RoundRef, (String, String)> {
    dti_proto::request::parse_round(round).map_err(|error| (error.field, error.problem))
}
