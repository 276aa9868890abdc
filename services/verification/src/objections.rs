//! Units' objections to a provisional result: filed by the unit's own submitter, with a
//! reason, only while the round is provisional and its period has not ended; answered (upheld
//! or rejected) by a verifier or approver while the round is still provisional. A round
//! becomes final only when every objection is answered. Each step is appended to the unit's
//! audit chain; a filed objection is announced by `verification.objection_filed.v1`.

use chrono::{DateTime, Utc};
use dti_audit::AuditEntry;
use dti_auth::{Principal, Role, Scope};
use dti_bus::outbox;
use dti_domain::ObjectionId;
use dti_domain::{RoundRef, UnitId};
use dti_i18n::Message;
use dti_service_kit::status::{FieldViolation, InvalidRequest};
use dti_workflow::rounds::{self, stored_year};
use serde_json::json;

use crate::access::{require_answerer, require_objector, require_reviewer};
use crate::context::{provisional_until, share_round, Context};
use crate::events::{self, ObjectionFacts};
use crate::model::{decided_indicators, MAX_TEXT_BYTES};
use crate::{stage, VerificationError};

/// How an objection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectionStatus {
    /// Not answered yet.
    Open,
    /// Upheld.
    Upheld,
    /// Rejected.
    Rejected,
}

impl ObjectionStatus {
    /// Name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectionStatus::Open => "open",
            ObjectionStatus::Upheld => "upheld",
            ObjectionStatus::Rejected => "rejected",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::Open, Self::Upheld, Self::Rejected]
            .into_iter()
            .find(|status| status.as_str() == text)
    }
}

/// The answer to an objection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The answer.
    pub text: String,
    /// Who answered.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// An objection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Objection {
    /// Id.
    pub id: ObjectionId,
    /// The round.
    pub round: RoundRef,
    /// The objecting unit.
    pub unit: UnitId,
    /// The revision objected to.
    pub revision: i32,
    /// The indicator, if one.
    pub indicator_code: Option<String>,
    /// The unit's reason.
    pub reason: String,
    /// Who filed it.
    pub filed_by: String,
    /// When.
    pub filed_at: DateTime<Utc>,
    /// Open, upheld or rejected.
    pub status: ObjectionStatus,
    /// The answer, once given.
    pub answer: Option<Answer>,
}

type ObjectionRow = (
    ObjectionId,
    i16,
    String,
    String,
    i32,
    Option<String>,
    String,
    String,
    DateTime<Utc>,
    String,
    Option<String>,
    Option<String>,
    Option<DateTime<Utc>>,
);

const COLUMNS: &str = "id, year, framework, unit_id, revision, indicator_code, reason, \
                       filed_by, filed_at, status, answer, answered_by, answered_at";

fn objection(row: ObjectionRow) -> Result<Objection, VerificationError> {
    let (id, year, framework, unit, revision, indicator_code, reason, filed_by, filed_at) = (
        row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8,
    );
    let corrupt = |what: &str| VerificationError::Corrupted(format!("objection {id}: {what}"));
    let answer = match (row.10, row.11, row.12) {
        (Some(text), Some(by), Some(at)) => Some(Answer { text, by, at }),
        _ => None,
    };
    Ok(Objection {
        id,
        round: RoundRef {
            year: u16::try_from(year).map_err(|_| corrupt("year"))?,
            framework: framework.parse().map_err(|_| corrupt("framework"))?,
        },
        unit: UnitId::parse(unit).map_err(|_| corrupt("unit"))?,
        revision,
        indicator_code,
        reason,
        filed_by,
        filed_at,
        status: ObjectionStatus::parse(&row.9).ok_or_else(|| corrupt("status"))?,
        answer,
    })
}

/// Objections of every round.
#[derive(Debug, Clone)]
pub struct Objections {
    context: Context,
}

impl Objections {
    /// Objections over `context`.
    pub fn new(context: Context) -> Self {
        Self { context }
    }

    /// Files `unit`'s objection to the latest published revision of `round`.
    #[tracing::instrument(skip_all, fields(round = %round, unit = %unit))]
    pub async fn file(
        &self,
        actor: &Principal,
        round: &RoundRef,
        unit: &UnitId,
        indicator_code: &str,
        reason: &str,
    ) -> Result<Objection, VerificationError> {
        require_objector(actor, unit)?;
        let framework = self.context.framework(round).await?;
        let reason = reason.trim();
        if reason.is_empty() || reason.len() > MAX_TEXT_BYTES {
            return Err(VerificationError::invalid_field(
                "reason",
                Message::new("verification-objection-reason").arg("max", MAX_TEXT_BYTES),
            ));
        }
        let indicator_code = indicator_code.trim();
        let indicator = if indicator_code.is_empty() {
            None
        } else {
            let found = decided_indicators(&framework)
                .find(|indicator| indicator.code.as_str() == indicator_code);
            Some(
                found
                    .ok_or_else(|| {
                        VerificationError::invalid_field(
                            "indicator_code",
                            Message::new("submission-not-scored")
                                .arg("at", format!("unit {unit} / indicator {indicator_code}"))
                                .arg("framework", framework.id.to_string()),
                        )
                    })?
                    .code
                    .to_string(),
            )
        };
        let mut tx = self.context.begin().await?;
        let state = share_round(&mut tx, round).await?;
        let until = provisional_until(&mut tx, round).await?;
        stage::may_object(state, until, Utc::now()).map_err(VerificationError::not_now)?;
        if !rounds::has_unit(&mut *tx, round, unit).await? {
            return Err(VerificationError::not_found(
                Message::new("submission-unit-not-in-round")
                    .arg("unit", unit.to_string())
                    .arg("round", round.to_string())
                    .into(),
            ));
        }
        let revision: i32 = sqlx::query_scalar(
            "SELECT max(revision) FROM publications WHERE year = $1 AND framework = $2",
        )
        .bind(stored_year(round))
        .bind(round.framework.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(VerificationError::database("reading the latest revision"))?;
        let id = ObjectionId::generate();
        let filed_at: DateTime<Utc> = sqlx::query_scalar(
            "INSERT INTO verification_objections (id, year, framework, unit_id, revision, \
             indicator_code, reason, filed_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             RETURNING filed_at",
        )
        .bind(id)
        .bind(stored_year(round))
        .bind(round.framework.as_str())
        .bind(unit.as_str())
        .bind(revision)
        .bind(&indicator)
        .bind(reason)
        .bind(&actor.subject)
        .fetch_one(&mut *tx)
        .await
        .map_err(VerificationError::database("writing an objection"))?;
        dti_audit::append(
            &mut tx,
            &AuditEntry::on_unit(round, unit, actor)
                .did("publication.objection_filed", format!("objection {id}"))
                .change(
                    None,
                    Some(json!({
                        "revision": revision,
                        "indicator_code": indicator,
                        "reason": reason,
                        "status": "open",
                    })),
                ),
        )
        .await?;
        let facts = ObjectionFacts {
            id,
            round,
            unit,
            revision,
            indicator_code: indicator.as_deref(),
            filed_by: &actor.subject,
            filed_at,
        };
        outbox::enqueue(
            &mut tx,
            &events::objection_filed(&self.context.nats_prefix, facts),
        )
        .await?;
        tx.commit()
            .await
            .map_err(VerificationError::database("committing an objection"))?;
        metrics::counter!("dti_verification_objections_total").increment(1);
        self.get(id).await
    }

    /// The round's objections, oldest first: every unit's for reviewers, the caller's own
    /// unit's for a unit submitter.
    pub async fn list(
        &self,
        actor: &Principal,
        round: &RoundRef,
        unit: Option<&UnitId>,
    ) -> Result<Vec<Objection>, VerificationError> {
        self.context.framework(round).await?;
        let unit = match (&actor.scope, unit) {
            (Scope::Unit { unit_id }, None) if actor.role == Role::UnitSubmitter => {
                Some(UnitId::parse(unit_id.clone()).map_err(|_| {
                    VerificationError::permission_denied(
                        Message::new("verification-token-unit")
                            .arg("unit", unit_id)
                            .into(),
                    )
                })?)
            }
            (_, Some(unit)) if crate::access::is_submitter_of(actor, unit) => Some(unit.clone()),
            (_, unit) => {
                require_reviewer(actor).map_err(|_| {
                    VerificationError::permission_denied(
                        Message::new("verification-objections-own-unit").into(),
                    )
                })?;
                unit.cloned()
            }
        };
        let rows: Vec<ObjectionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM verification_objections WHERE year = $1 AND framework = $2 \
             AND ($3::text IS NULL OR unit_id = $3) ORDER BY filed_at, id"
        )))
        .bind(stored_year(round))
        .bind(round.framework.as_str())
        .bind(unit.as_ref().map(UnitId::as_str))
        .fetch_all(&self.context.pool)
        .await
        .map_err(VerificationError::database("listing objections"))?;
        rows.into_iter().map(objection).collect()
    }

    /// Answers an open objection while the round is provisional.
    #[tracing::instrument(skip_all, fields(objection = %id))]
    pub async fn answer(
        &self,
        actor: &Principal,
        id: ObjectionId,
        status: Option<ObjectionStatus>,
        answer: &str,
    ) -> Result<Objection, VerificationError> {
        require_answerer(actor)?;
        let mut violations = Vec::new();
        let status = status.filter(|s| *s != ObjectionStatus::Open);
        if status.is_none() {
            violations.push(FieldViolation::new(
                "outcome",
                Message::new("verification-outcome-needed"),
            ));
        }
        let answer = answer.trim();
        if answer.is_empty() || answer.len() > MAX_TEXT_BYTES {
            violations.push(FieldViolation::new(
                "answer",
                Message::new("verification-answer-needed").arg("max", MAX_TEXT_BYTES),
            ));
        }
        let Some(status) = status.filter(|_| violations.is_empty()) else {
            return Err(VerificationError::from(InvalidRequest {
                summary: Message::new("verification-answer-refused")
                    .arg("objection", id.to_string())
                    .into(),
                violations,
            }));
        };
        let mut tx = self.context.begin().await?;
        let round: Option<(i16, String)> =
            sqlx::query_as("SELECT year, framework FROM verification_objections WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(VerificationError::database("finding an objection"))?;
        let (year, framework) = round.ok_or_else(|| not_found(id))?;
        let round = RoundRef {
            year: u16::try_from(year)
                .map_err(|_| VerificationError::Corrupted(format!("objection {id}: year")))?,
            framework: framework
                .parse()
                .map_err(|_| VerificationError::Corrupted(format!("objection {id}: framework")))?,
        };
        let state = share_round(&mut tx, &round).await?;
        stage::may_change_publication(state).map_err(VerificationError::not_now)?;
        let row: ObjectionRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM verification_objections WHERE id = $1 FOR UPDATE"
        )))
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .map_err(VerificationError::database("locking an objection"))?;
        let current = objection(row)?;
        if current.status != ObjectionStatus::Open {
            return Err(VerificationError::not_now(
                Message::new("verification-objection-answered")
                    .arg("objection", id.to_string())
                    .arg("status", current.status.as_str())
                    .into(),
            ));
        }
        sqlx::query(
            "UPDATE verification_objections SET status = $2, answer = $3, answered_by = $4, \
             answered_at = now() WHERE id = $1",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(answer)
        .bind(&actor.subject)
        .execute(&mut *tx)
        .await
        .map_err(VerificationError::database("answering an objection"))?;
        dti_audit::append(
            &mut tx,
            &AuditEntry::on_unit(&round, &current.unit, actor)
                .did("publication.objection_answered", format!("objection {id}"))
                .change(
                    Some(json!({"status": "open"})),
                    Some(json!({"status": status.as_str(), "answer": answer})),
                ),
        )
        .await?;
        tx.commit()
            .await
            .map_err(VerificationError::database("committing an answer"))?;
        self.get(id).await
    }

    async fn get(&self, id: ObjectionId) -> Result<Objection, VerificationError> {
        let row: ObjectionRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM verification_objections WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.context.pool)
        .await
        .map_err(VerificationError::database("reading an objection"))?
        .ok_or_else(|| not_found(id))?;
        objection(row)
    }
}

/// The objection `id` does not exist: in the request's language.
fn not_found(id: ObjectionId) -> VerificationError {
    VerificationError::not_found(
        Message::new("verification-objection-not-found")
            .arg("objection", id.to_string())
            .into(),
    )
}
