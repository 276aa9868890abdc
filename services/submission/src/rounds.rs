//! The operator's side of a round: opening it (with its cohort and deadline), closing it,
//! reopening it for one unit, and closing open rounds whose deadline has passed.
//!
//! A round's cohort is checked against the unit registry before anything is stored: every
//! listed unit must be known, of the kind the round's framework assesses (districts for a
//! district round, departments for a department round) and active in the round's year. Each
//! id that is not is named as `unit_ids[i]` with the reason, all of them in one refusal.
//!
//! Every refusal is written in the request's language (field names stay as the request has
//! them).

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use dti_audit::AuditEntry;
use dti_auth::{Principal, Role};
use dti_db::{PgPool, PgTransaction};
use dti_domain::framework::content_hash;
use dti_domain::framework::Framework;
use dti_domain::round::{RoundAction, RoundState};
use dti_domain::{RoundRef, UnitId, UnitRegistry};
use dti_i18n::Message;
use dti_service_kit::frameworks::FrameworkCache;
use dti_service_kit::registry::RegistryCache;
use dti_service_kit::status::{FieldViolation, InvalidRequest};
use dti_workflow::rounds::{self, stored_year, RoundRecord};
use dti_workflow::WorkflowError;
use serde_json::json;

use crate::access::require_operator;
use crate::SubmissionError;

/// A round with its cohort.
#[derive(Debug, Clone)]
pub struct RoundView {
    /// State and deadline.
    pub record: RoundRecord,
    /// Units assessed in it.
    pub units: Vec<String>,
    /// Content hash of the framework it was opened with (none for a round opened before
    /// rounds pinned their framework).
    pub framework_hash: Option<String>,
}

/// A round reopened for one unit.
#[derive(Debug, Clone)]
pub struct Reopening {
    /// Until when the unit may submit.
    pub deadline: DateTime<Utc>,
    /// Why.
    pub reason: String,
}

/// Rounds as operators manage them.
#[derive(Debug, Clone)]
pub struct Rounds {
    pool: PgPool,
    frameworks: FrameworkCache,
    registry: RegistryCache,
    nats_prefix: String,
}

impl Rounds {
    /// Rounds stored in `pool`, of the frameworks of `frameworks`' catalogue.
    pub fn new(
        pool: PgPool,
        frameworks: FrameworkCache,
        registry: RegistryCache,
        nats_prefix: String,
    ) -> Self {
        Self {
            pool,
            frameworks,
            registry,
            nats_prefix,
        }
    }

    async fn begin(&self) -> Result<PgTransaction, SubmissionError> {
        self.pool
            .begin()
            .await
            .map_err(SubmissionError::database("beginning a transaction"))
    }

    /// Opens `round` until `deadline`. The first open creates the round with its cohort:
    /// `unit_ids` (each checked against the registry), or the registry's cohort when empty
    /// (listed for the round, or else every unit of the framework's kind active that year).
    /// Opening an open round with the same deadline returns it unchanged (a safe retry).
    #[tracing::instrument(skip_all, fields(round = %round))]
    pub async fn open(
        &self,
        actor: &Principal,
        round: &RoundRef,
        deadline: Option<DateTime<Utc>>,
        unit_ids: &[String],
    ) -> Result<RoundView, SubmissionError> {
        require_operator(actor)?;
        let framework = self.check_framework(round).await?;
        let framework_hash = content_hash(&framework);
        let deadline = deadline.ok_or_else(|| {
            SubmissionError::invalid_field("deadline", Message::new("round-deadline-needed"))
        })?;
        let registry = self
            .registry
            .fresh()
            .await
            .map_err(|error| SubmissionError::not_now(error.to_string()))?;
        let cohort = cohort(&registry, round, &framework, unit_ids)?;
        let mut tx = self.begin().await?;
        rounds::create_draft(&mut tx, round, &framework_hash, &cohort, actor).await?;
        let current = rounds::lock(&mut tx, round).await?;
        if current.state == RoundState::Open && current.deadline == Some(deadline) {
            drop(tx);
            return self.get(actor, round).await;
        }
        if deadline <= Utc::now() {
            return Err(SubmissionError::invalid_field(
                "deadline",
                deadline_passed(deadline),
            ));
        }
        rounds::transition(
            &mut tx,
            &self.nats_prefix,
            round,
            RoundAction::Open,
            Some(deadline),
            actor,
        )
        .await?;
        tx.commit()
            .await
            .map_err(SubmissionError::database("committing an opened round"))?;
        self.get(actor, round).await
    }

    /// Closes `round`: no more drafts or submissions except reopened units.
    #[tracing::instrument(skip_all, fields(round = %round))]
    pub async fn close(
        &self,
        actor: &Principal,
        round: &RoundRef,
    ) -> Result<RoundView, SubmissionError> {
        require_operator(actor)?;
        self.check_framework(round).await?;
        let mut tx = self.begin().await?;
        rounds::transition(
            &mut tx,
            &self.nats_prefix,
            round,
            RoundAction::Close,
            None,
            actor,
        )
        .await?;
        tx.commit()
            .await
            .map_err(SubmissionError::database("committing a closed round"))?;
        self.get(actor, round).await
    }

    /// Lets `unit` submit in `round` until `deadline`, for `reason`.
    #[tracing::instrument(skip_all, fields(round = %round, unit = %unit))]
    pub async fn reopen_for_unit(
        &self,
        actor: &Principal,
        round: &RoundRef,
        unit: &UnitId,
        deadline: Option<DateTime<Utc>>,
        reason: &str,
    ) -> Result<Reopening, SubmissionError> {
        require_operator(actor)?;
        self.check_framework(round).await?;
        let mut violations = Vec::new();
        let reason = reason.trim();
        if reason.is_empty() {
            violations.push(FieldViolation::new(
                "reason",
                Message::new("round-reopen-reason"),
            ));
        }
        match deadline {
            None => violations.push(FieldViolation::new(
                "deadline",
                Message::new("request-must-be-set"),
            )),
            Some(at) if at <= Utc::now() => {
                violations.push(FieldViolation::new("deadline", deadline_passed(at)))
            }
            Some(_) => {}
        }
        let Some(deadline) = deadline.filter(|_| violations.is_empty()) else {
            return Err(SubmissionError::from(InvalidRequest {
                summary: Message::new("round-reopen-refused").into(),
                violations,
            }));
        };
        let mut tx = self.begin().await?;
        let record = rounds::lock(&mut tx, round).await?;
        if !matches!(record.state, RoundState::Open | RoundState::Closed) {
            return Err(SubmissionError::not_now(
                Message::new("round-reopen-state")
                    .arg("round", round.to_string())
                    .arg("state", record.state.to_string())
                    .into(),
            ));
        }
        if !rounds::has_unit(&mut *tx, round, unit).await? {
            return Err(SubmissionError::invalid_field(
                "unit.unit_id",
                Message::new("submission-unit-not-in-round")
                    .arg("unit", unit.to_string())
                    .arg("round", round.to_string()),
            ));
        }
        let before: Option<(DateTime<Utc>, String)> = sqlx::query_as(
            "SELECT deadline, reason FROM round_unit_reopenings \
             WHERE year = $1 AND framework = $2 AND unit_id = $3",
        )
        .bind(stored_year(round))
        .bind(round.framework.as_str())
        .bind(unit.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(SubmissionError::database("reading a reopening"))?;
        sqlx::query(
            "INSERT INTO round_unit_reopenings (year, framework, unit_id, deadline, reason, reopened_by) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (year, framework, unit_id) DO UPDATE \
             SET deadline = EXCLUDED.deadline, reason = EXCLUDED.reason, \
             reopened_by = EXCLUDED.reopened_by, created_at = now()",
        )
        .bind(stored_year(round))
        .bind(round.framework.as_str())
        .bind(unit.as_str())
        .bind(deadline)
        .bind(reason)
        .bind(&actor.subject)
        .execute(&mut *tx)
        .await
        .map_err(SubmissionError::database("writing a reopening"))?;
        dti_audit::append(
            &mut tx,
            &AuditEntry::on_unit(round, unit, actor)
                .did(
                    "round.reopen_for_unit",
                    format!("round {round} for unit {unit}"),
                )
                .change(
                    before
                        .map(|(deadline, reason)| json!({"deadline": deadline, "reason": reason})),
                    Some(json!({"deadline": deadline, "reason": reason})),
                ),
        )
        .await?;
        tx.commit()
            .await
            .map_err(SubmissionError::database("committing a reopening"))?;
        Ok(Reopening {
            deadline,
            reason: reason.to_owned(),
        })
    }

    /// The round and its cohort; every authenticated role may read it.
    pub async fn get(
        &self,
        actor: &Principal,
        round: &RoundRef,
    ) -> Result<RoundView, SubmissionError> {
        self.check_framework(round).await?;
        let record = rounds::find(&self.pool, round).await?.ok_or_else(|| {
            SubmissionError::not_found(dti_workflow::rounds::not_found(round).into())
        })?;
        let units = sqlx::query_scalar(
            "SELECT unit_id FROM round_units WHERE year = $1 AND framework = $2 ORDER BY unit_id",
        )
        .bind(stored_year(round))
        .bind(round.framework.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(SubmissionError::database("reading a round's cohort"))?;
        crate::access::require_round_reader(actor, &units)?;
        let framework_hash: Option<String> = sqlx::query_scalar(
            "SELECT framework_hash FROM rounds WHERE year = $1 AND framework = $2",
        )
        .bind(stored_year(round))
        .bind(round.framework.as_str())
        .fetch_one(&self.pool)
        .await
        .map_err(SubmissionError::database("reading a round's framework"))?;
        Ok(RoundView {
            record,
            units,
            framework_hash,
        })
    }

    /// Closes every open round whose deadline has passed; returns how many it closed.
    pub async fn close_past_deadline(&self) -> Result<usize, SubmissionError> {
        let due: Vec<(i16, String)> = sqlx::query_as(
            "SELECT year, framework FROM rounds WHERE state = 'open' AND deadline < now()",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(SubmissionError::database(
            "finding rounds past their deadline",
        ))?;
        let clock = deadline_clock();
        let mut closed = 0;
        for (year, framework) in due {
            let (Ok(year), Ok(framework)) = (u16::try_from(year), framework.parse()) else {
                continue;
            };
            let round = RoundRef { year, framework };
            let mut tx = self
                .pool
                .begin()
                .await
                .map_err(SubmissionError::database("beginning a transaction"))?;
            let record = rounds::lock(&mut tx, &round).await?;
            if record.state != RoundState::Open || record.deadline.is_none_or(|d| d >= Utc::now()) {
                continue;
            }
            match rounds::transition(
                &mut tx,
                &self.nats_prefix,
                &round,
                RoundAction::Close,
                None,
                &clock,
            )
            .await
            {
                Ok(_) => {
                    tx.commit()
                        .await
                        .map_err(SubmissionError::database("committing a closed round"))?;
                    tracing::info!(%round, "closed a round whose deadline passed");
                    closed += 1;
                }
                Err(WorkflowError::IllegalRound(_)) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(closed)
    }

    /// The round's framework, when it is one whose rounds units submit in. One an operator has
    /// just stored through another replica is loaded first.
    async fn check_framework(&self, round: &RoundRef) -> Result<Arc<Framework>, SubmissionError> {
        self.frameworks
            .scored("round.framework", &round.framework)
            .await
    }
}

/// The cohort to create the round with: the given ids, or the registry's
/// ([`UnitRegistry::cohort_or_active`]: its listed cohort, or every unit of the kind active
/// in the round's year). Each given id
/// must parse, be listed once and be a unit the registry lets `framework`'s round assess
/// in its year ([`UnitRegistry::member`]); every one that is not is named.
fn cohort(
    registry: &UnitRegistry,
    round: &RoundRef,
    framework: &Framework,
    unit_ids: &[String],
) -> Result<Vec<UnitId>, SubmissionError> {
    if unit_ids.is_empty() {
        let cohort = registry.cohort_or_active(round, framework.unit_kind);
        if cohort.units.is_empty() {
            return Err(SubmissionError::invalid_field(
                "unit_ids",
                Message::new("round-no-cohort").arg("round", round.to_string()),
            ));
        }
        return Ok(cohort.into_owned().units);
    }
    let mut violations = Vec::new();
    let mut seen = BTreeSet::new();
    let mut cohort = Vec::with_capacity(unit_ids.len());
    for (i, raw) in unit_ids.iter().enumerate() {
        match UnitId::parse(raw.clone()) {
            Ok(id) if !seen.insert(id.clone()) => violations.push(FieldViolation::new(
                format!("unit_ids[{i}]"),
                Message::new("round-unit-twice").arg("unit", id.to_string()),
            )),
            Ok(id) => match registry.member(&id, framework.unit_kind, round.year) {
                Ok(_) => cohort.push(id),
                Err(refusal) => violations.push(FieldViolation::new(
                    format!("unit_ids[{i}]"),
                    refusal.message(),
                )),
            },
            Err(error) => violations.push(FieldViolation::new(
                format!("unit_ids[{i}]"),
                error.message(),
            )),
        }
    }
    if violations.is_empty() {
        Ok(cohort)
    } else {
        Err(SubmissionError::from(InvalidRequest {
            summary: Message::new("round-invalid-cohort")
                .arg("round", round.to_string())
                .into(),
            violations,
        }))
    }
}

/// A deadline that is not in the future.
fn deadline_passed(deadline: DateTime<Utc>) -> Message {
    Message::new("round-deadline-passed").arg("deadline", deadline.to_string())
}

/// The principal the deadline closer acts as.
fn deadline_clock() -> Principal {
    Principal::city("system:deadline", Role::Operator)
}
