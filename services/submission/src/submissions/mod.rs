//! Units' submissions: drafts, their values, and immutable submitted versions.
//!
//! Every change runs in one transaction that locks the submission's row, checks who is asking
//! and whether the unit may change it now ([`crate::window`]), validates the values with the
//! domain (the same checks and messages as `dtictl`), writes, appends the change to the unit's
//! audit chain and — for a submit — writes the new version and the `submission.submitted.v1`
//! event into the outbox. Bad input changes nothing: it is refused before anything is written,
//! and the transaction rolls back.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use dti_audit::{AuditEntry, Chain};
use dti_auth::Principal;
use dti_bus::outbox::{self, OutboxMessage};
use dti_db::{PgPool, PgTransaction};
use dti_domain::framework::{Framework, Indicator};
use dti_domain::round::{SubmissionAction, SubmissionState};
use dti_domain::values::{decode_indicator_values, IndicatorValues, InputIssue};
use dti_domain::{FrameworkCatalog, RoundRef, UnitId};
use dti_proto::dti::common::v1 as pb;
use dti_proto::dti::events::v1::SubmissionSubmitted;
use dti_service_kit::status::FieldViolation;
use dti_workflow::rounds::{self, proto_round, stored_year};
use dti_workflow::submissions::{self as workflow, SubmissionHead};
use prost::Message;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::access::{require_reader, require_writer};
use crate::window::may_change;
use crate::SubmissionError;
use dti_proto::convert::{timestamp, variable_to_json};

/// Event name of a submitted version, under the NATS prefix.
pub const SUBMITTED_EVENT: &str = "submission.submitted.v1";

/// Longest not-applicable reason or client request id accepted, in bytes.
const MAX_TEXT_BYTES: usize = 2000;

/// One indicator of a draft or version: its values, or why it does not apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// The unit's values.
    Values(IndicatorValues),
    /// Not applicable, with the unit's reason.
    NotApplicable(String),
}

/// A question of a clarification request the unit must answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clarification {
    /// The version asked about.
    pub version: i32,
    /// The indicator.
    pub indicator_code: String,
    /// The question.
    pub question: String,
}

/// A submission as its unit and verifiers see it.
#[derive(Debug, Clone)]
pub struct SubmissionView {
    /// Id, round, unit, state and latest version.
    pub head: SubmissionHead,
    /// The draft, by indicator code in framework order.
    pub entries: Vec<(String, Entry)>,
    /// Open clarification questions (when the state asks for them).
    pub clarifications: Vec<Clarification>,
    /// When the draft was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// One submitted version.
#[derive(Debug, Clone)]
pub struct VersionView {
    /// Version number.
    pub version: i32,
    /// Its values, by indicator code in framework order.
    pub entries: Vec<(String, Entry)>,
    /// When it was submitted.
    pub submitted_at: DateTime<Utc>,
    /// Who submitted it.
    pub submitted_by: String,
}

/// The outcome of a submit.
#[derive(Debug, Clone)]
pub struct Submitted {
    /// The submission afterwards.
    pub view: SubmissionView,
    /// The version created (or, on a retry, the one the first attempt created).
    pub version: i32,
    /// Whether this call created it (false for a retry).
    pub created: bool,
}

/// The submissions of every round, over the platform database.
#[derive(Debug, Clone)]
pub struct Submissions {
    pool: PgPool,
    catalog: Arc<FrameworkCatalog>,
    nats_prefix: String,
    max_values_per_request: usize,
}

impl Submissions {
    /// Submissions stored in `pool`, validated with `catalog`, announced under `nats_prefix`.
    pub fn new(
        pool: PgPool,
        catalog: Arc<FrameworkCatalog>,
        nats_prefix: String,
        max_values_per_request: usize,
    ) -> Self {
        Self {
            pool,
            catalog,
            nats_prefix,
            max_values_per_request,
        }
    }

    /// The framework of `round`, or an invalid-request error naming the field.
    fn framework(&self, round: &RoundRef) -> Result<&Arc<Framework>, SubmissionError> {
        self.catalog.get(&round.framework).ok_or_else(|| {
            SubmissionError::invalid_field(
                "round.framework",
                format!(
                    "unknown framework {}; known: {}",
                    round.framework,
                    self.catalog.ids().join(", ")
                ),
            )
        })
    }

    /// Creates the unit's draft for `round`, or returns the existing one.
    #[tracing::instrument(skip_all, fields(round = %round, unit = %unit))]
    pub async fn create_draft(
        &self,
        actor: &Principal,
        round: &RoundRef,
        unit: &UnitId,
    ) -> Result<SubmissionView, SubmissionError> {
        require_writer(actor, unit)?;
        self.framework(round)?;
        if let Some(id) = self.find_id(round, unit).await? {
            return self.view(id).await;
        }
        let mut tx = self.begin().await?;
        let record = rounds::find(&mut *tx, round)
            .await?
            .ok_or_else(|| SubmissionError::NotFound(format!("round {round} does not exist")))?;
        if !rounds::has_unit(&mut *tx, round, unit).await? {
            return Err(SubmissionError::PermissionDenied(format!(
                "unit {unit} is not assessed in round {round}"
            )));
        }
        let reopened = reopened_until(&mut tx, round, unit).await?;
        may_change(&record, reopened, None, Utc::now()).map_err(SubmissionError::NotNow)?;
        let id = Uuid::now_v7();
        let inserted = sqlx::query(
            "INSERT INTO submissions (id, year, framework, unit_id, state) \
             VALUES ($1, $2, $3, $4, 'draft') ON CONFLICT (year, framework, unit_id) DO NOTHING",
        )
        .bind(id)
        .bind(stored_year(round))
        .bind(round.framework.as_str())
        .bind(unit.as_str())
        .execute(&mut *tx)
        .await
        .map_err(SubmissionError::database("creating a draft"))?
        .rows_affected();
        if inserted == 1 {
            dti_audit::append(
                &mut tx,
                &AuditEntry {
                    round,
                    chain: Chain::Unit(unit.to_string()),
                    actor,
                    action: "submission.create",
                    subject: format!("submission {id}"),
                    before: None,
                    after: Some(json!({"state": "draft"})),
                },
            )
            .await?;
        }
        tx.commit()
            .await
            .map_err(SubmissionError::database("committing a new draft"))?;
        let id = self
            .find_id(round, unit)
            .await?
            .ok_or_else(|| SubmissionError::NotFound(format!("the draft of {unit} vanished")))?;
        self.view(id).await
    }

    /// Replaces the values of the given indicators. Every value is validated first; one
    /// invalid value refuses the whole request and nothing is stored. Returns the warnings.
    #[tracing::instrument(skip_all, fields(submission = %id, indicators = values.len()))]
    pub async fn set_values(
        &self,
        actor: &Principal,
        id: Uuid,
        values: &[pb::IndicatorValue],
    ) -> Result<(SubmissionView, Vec<InputIssue>), SubmissionError> {
        if values.is_empty() {
            return Err(SubmissionError::invalid_field(
                "values",
                "must hold at least one indicator",
            ));
        }
        if values.len() > self.max_values_per_request {
            return Err(SubmissionError::invalid_field(
                "values",
                format!(
                    "holds {} indicators; at most {} per request",
                    values.len(),
                    self.max_values_per_request
                ),
            ));
        }
        let mut tx = self.begin().await?;
        let head = self.lock_for_change(&mut tx, actor, id).await?;
        let framework = Arc::clone(self.framework(&head.round)?);
        let (decoded, warnings) = validate(&framework, &head.unit, values)?;
        let codes: Vec<&str> = decoded.keys().map(String::as_str).collect();
        let before = stored_entries(&mut tx, id, &codes).await?;
        let after: Map<String, Value> = decoded
            .iter()
            .map(|(code, v)| (code.clone(), serde_json::to_value(v).unwrap_or(Value::Null)))
            .collect();
        if before == after {
            // A retry, or values already stored: nothing changes, not even the state.
            drop(tx);
            return Ok((self.view(id).await?, warnings));
        }
        workflow::transition(&mut tx, &head, SubmissionAction::Edit, actor).await?;
        let variables: Vec<String> = decoded
            .values()
            .map(|v| serde_json::to_string(v).unwrap_or_else(|_| "{}".to_owned()))
            .collect();
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
        .execute(&mut *tx)
        .await
        .map_err(SubmissionError::database("writing draft values"))?;
        self.touch_and_audit(
            &mut tx,
            &head,
            actor,
            "submission.values_set",
            before,
            after,
        )
        .await?;
        tx.commit()
            .await
            .map_err(SubmissionError::database("committing draft values"))?;
        Ok((self.view(id).await?, warnings))
    }

    /// Marks an indicator not applicable to the unit, with a reason, replacing its values.
    #[tracing::instrument(skip_all, fields(submission = %id, indicator = code))]
    pub async fn set_not_applicable(
        &self,
        actor: &Principal,
        id: Uuid,
        code: &str,
        reason: &str,
    ) -> Result<SubmissionView, SubmissionError> {
        let reason = reason.trim();
        if reason.is_empty() || reason.len() > MAX_TEXT_BYTES {
            return Err(SubmissionError::invalid_field(
                "reason",
                format!("must say why the indicator does not apply (1 to {MAX_TEXT_BYTES} bytes)"),
            ));
        }
        let mut tx = self.begin().await?;
        let head = self.lock_for_change(&mut tx, actor, id).await?;
        let code = self.indicator(&head, code)?.code.to_string();
        let before = stored_entries(&mut tx, id, &[code.as_str()]).await?;
        if before.get(&code) == Some(&json!({"not_applicable": reason})) {
            drop(tx);
            return self.view(id).await;
        }
        workflow::transition(&mut tx, &head, SubmissionAction::Edit, actor).await?;
        sqlx::query(
            "INSERT INTO submission_draft_values (submission_id, indicator_code, variables, \
             not_applicable_reason, updated_at) VALUES ($1, $2, NULL, $3, now()) \
             ON CONFLICT (submission_id, indicator_code) DO UPDATE \
             SET variables = NULL, not_applicable_reason = EXCLUDED.not_applicable_reason, updated_at = now()",
        )
        .bind(id)
        .bind(&code)
        .bind(reason)
        .execute(&mut *tx)
        .await
        .map_err(SubmissionError::database("marking an indicator not applicable"))?;
        let mut after = Map::new();
        after.insert(code, json!({"not_applicable": reason}));
        self.touch_and_audit(
            &mut tx,
            &head,
            actor,
            "submission.not_applicable_set",
            before,
            after,
        )
        .await?;
        tx.commit().await.map_err(SubmissionError::database(
            "committing a not-applicable mark",
        ))?;
        self.view(id).await
    }

    /// Removes an indicator's values or not-applicable mark from the draft.
    #[tracing::instrument(skip_all, fields(submission = %id, indicator = code))]
    pub async fn clear_indicator(
        &self,
        actor: &Principal,
        id: Uuid,
        code: &str,
    ) -> Result<SubmissionView, SubmissionError> {
        let mut tx = self.begin().await?;
        let head = self.lock_for_change(&mut tx, actor, id).await?;
        let code = self.indicator(&head, code)?.code.to_string();
        let before = stored_entries(&mut tx, id, &[code.as_str()]).await?;
        if before.is_empty() {
            return self.view(id).await;
        }
        workflow::transition(&mut tx, &head, SubmissionAction::Edit, actor).await?;
        sqlx::query(
            "DELETE FROM submission_draft_values WHERE submission_id = $1 AND indicator_code = $2",
        )
        .bind(id)
        .bind(&code)
        .execute(&mut *tx)
        .await
        .map_err(SubmissionError::database("clearing an indicator"))?;
        let mut after = Map::new();
        after.insert(code, Value::Null);
        self.touch_and_audit(
            &mut tx,
            &head,
            actor,
            "submission.indicator_cleared",
            before,
            after,
        )
        .await?;
        tx.commit()
            .await
            .map_err(SubmissionError::database("committing a cleared indicator"))?;
        self.view(id).await
    }

    /// Submits the draft as a new immutable version and announces it. A retry with the same
    /// `client_request_id` returns the version the first attempt created and changes nothing.
    #[tracing::instrument(skip_all, fields(submission = %id))]
    pub async fn submit(
        &self,
        actor: &Principal,
        id: Uuid,
        client_request_id: &str,
    ) -> Result<Submitted, SubmissionError> {
        let request_id = checked_request_id(client_request_id)?;
        let mut tx = self.begin().await?;
        let head = workflow::lock(&mut tx, id).await?;
        require_writer(actor, &head.unit)?;
        if let Some(version) = earlier_version(&mut tx, id, request_id).await? {
            drop(tx);
            metrics::counter!("dti_submission_submits_total", "outcome" => "retry").increment(1);
            return Ok(Submitted {
                view: self.view(id).await?,
                version,
                created: false,
            });
        }
        self.check_window(&mut tx, &head).await?;
        workflow::transition(&mut tx, &head, SubmissionAction::Submit, actor).await?;
        let version = head.latest_version + 1;
        let submitted_at = write_version(&mut tx, id, version, request_id, &actor.subject).await?;
        self.announce(&mut tx, &head, version, submitted_at).await?;
        tx.commit()
            .await
            .map_err(SubmissionError::database("committing a submitted version"))?;
        metrics::counter!("dti_submission_submits_total", "outcome" => "created").increment(1);
        Ok(Submitted {
            view: self.view(id).await?,
            version,
            created: true,
        })
    }

    /// Creates the unit's draft if needed, replaces it with exactly `values` and
    /// `not_applicable`, and submits it — one transaction. A retry with the same
    /// `client_request_id` returns the version the first attempt created.
    #[tracing::instrument(skip_all, fields(round = %round, unit = %unit, indicators = values.len()))]
    pub async fn submit_assessment(
        &self,
        actor: &Principal,
        round: &RoundRef,
        unit: &UnitId,
        values: &[pb::IndicatorValue],
        not_applicable: &[(String, String)],
        client_request_id: &str,
    ) -> Result<Submitted, SubmissionError> {
        require_writer(actor, unit)?;
        let request_id = checked_request_id(client_request_id)?;
        let framework = Arc::clone(self.framework(round)?);
        if values.len() + not_applicable.len() > self.max_values_per_request {
            return Err(SubmissionError::invalid_field(
                "values",
                format!(
                    "at most {} indicators per request",
                    self.max_values_per_request
                ),
            ));
        }
        let (decoded, _warnings) = if values.is_empty() {
            (BTreeMap::new(), Vec::new())
        } else {
            validate(&framework, unit, values)?
        };
        let marks = validate_not_applicable(&framework, unit, not_applicable, &decoded)?;
        let mut tx = self.begin().await?;
        let record = rounds::find(&mut *tx, round)
            .await?
            .ok_or_else(|| SubmissionError::NotFound(format!("round {round} does not exist")))?;
        if !rounds::has_unit(&mut *tx, round, unit).await? {
            return Err(SubmissionError::PermissionDenied(format!(
                "unit {unit} is not assessed in round {round}"
            )));
        }
        let (head, created_at) = get_or_create_locked(&mut tx, round, unit).await?;
        if let Some(version) = earlier_version(&mut tx, head.id, request_id).await? {
            drop(tx);
            metrics::counter!("dti_submission_submits_total", "outcome" => "retry").increment(1);
            return Ok(Submitted {
                view: self.view(head.id).await?,
                version,
                created: false,
            });
        }
        let reopened = reopened_until(&mut tx, round, unit).await?;
        may_change(&record, reopened, Some(head.state), Utc::now())
            .map_err(SubmissionError::NotNow)?;
        let before = if head.state == SubmissionState::Submitted {
            workflow::transition(&mut tx, &head, SubmissionAction::Edit, actor).await?;
            SubmissionHead {
                state: SubmissionState::Draft,
                ..head.clone()
            }
        } else {
            head.clone()
        };
        replace_draft(&mut tx, head.id, &decoded, &marks).await?;
        let mut entries: Vec<(String, Entry)> = decoded
            .iter()
            .map(|(code, v)| (code.clone(), Entry::Values(v.clone())))
            .chain(
                marks
                    .iter()
                    .map(|(code, reason)| (code.clone(), Entry::NotApplicable(reason.clone()))),
            )
            .collect();
        entries.sort_by_key(|(code, _)| {
            framework
                .indicator_by_str(code)
                .map(|i| i.code.sort_key())
                .unwrap_or_default()
        });
        let after: Map<String, Value> = entries
            .iter()
            .map(|(code, entry)| (code.clone(), entry_json(entry)))
            .collect();
        self.touch_and_audit(
            &mut tx,
            &head,
            actor,
            "submission.assessment_replaced",
            Map::new(),
            after,
        )
        .await?;
        let state = workflow::transition(&mut tx, &before, SubmissionAction::Submit, actor).await?;
        let version = head.latest_version + 1;
        let submitted_at =
            write_version(&mut tx, head.id, version, request_id, &actor.subject).await?;
        self.announce(&mut tx, &head, version, submitted_at).await?;
        tx.commit().await.map_err(SubmissionError::database(
            "committing a submitted assessment",
        ))?;
        metrics::counter!("dti_submission_submits_total", "outcome" => "created").increment(1);
        Ok(Submitted {
            view: SubmissionView {
                head: SubmissionHead {
                    state,
                    latest_version: version,
                    ..head
                },
                entries,
                clarifications: Vec::new(),
                created_at,
                updated_at: submitted_at,
            },
            version,
            created: true,
        })
    }

    /// Writes `submission.submitted.v1` for `version` into the outbox.
    async fn announce(
        &self,
        tx: &mut PgTransaction,
        head: &SubmissionHead,
        version: i32,
        submitted_at: DateTime<Utc>,
    ) -> Result<(), SubmissionError> {
        let event = SubmissionSubmitted {
            submission_id: head.id.to_string(),
            round: Some(proto_round(&head.round)),
            unit: Some(pb::UnitRef {
                unit_id: head.unit.to_string(),
            }),
            version: u32::try_from(version).unwrap_or(u32::MAX),
            submitted_at: Some(timestamp(submitted_at)),
        };
        let message = OutboxMessage::new(
            dti_bus::stream::subject(&self.nats_prefix, SUBMITTED_EVENT),
            format!("submission/{}/v{version}", head.id),
            event.encode_to_vec(),
        );
        outbox::enqueue(tx, &message).await?;
        Ok(())
    }

    /// The submission, for its unit, verifiers, approvers and operators.
    pub async fn get(
        &self,
        actor: &Principal,
        id: Uuid,
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
        let id = self.find_id(round, unit).await?.ok_or_else(|| {
            SubmissionError::NotFound(format!("unit {unit} has no submission in round {round}"))
        })?;
        self.view(id).await
    }

    /// Every submitted version, oldest first.
    pub async fn versions(
        &self,
        actor: &Principal,
        id: Uuid,
    ) -> Result<Vec<VersionView>, SubmissionError> {
        let view = self.get(actor, id).await?;
        let framework = Arc::clone(self.framework(&view.head.round)?);
        let versions: Vec<(i32, DateTime<Utc>, String)> = sqlx::query_as(
            "SELECT version, submitted_at, submitted_by FROM submission_versions \
             WHERE submission_id = $1 ORDER BY version",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(SubmissionError::database("reading versions"))?;
        let rows: Vec<(i32, String, Option<Value>, Option<String>)> = sqlx::query_as(
            "SELECT version, indicator_code, variables, not_applicable_reason \
             FROM submission_version_values WHERE submission_id = $1",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(SubmissionError::database("reading version values"))?;
        let mut by_version: BTreeMap<i32, Vec<StoredRow>> = BTreeMap::new();
        for (version, code, variables, reason) in rows {
            by_version
                .entry(version)
                .or_default()
                .push((code, variables, reason));
        }
        Ok(versions
            .into_iter()
            .map(|(version, submitted_at, submitted_by)| VersionView {
                version,
                entries: decode_entries(
                    &framework,
                    &view.head.unit,
                    by_version.remove(&version).unwrap_or_default(),
                ),
                submitted_at,
                submitted_by,
            })
            .collect())
    }

    async fn begin(&self) -> Result<PgTransaction, SubmissionError> {
        self.pool
            .begin()
            .await
            .map_err(SubmissionError::database("beginning a transaction"))
    }

    async fn find_id(
        &self,
        round: &RoundRef,
        unit: &UnitId,
    ) -> Result<Option<Uuid>, SubmissionError> {
        sqlx::query_scalar(
            "SELECT id FROM submissions WHERE year = $1 AND framework = $2 AND unit_id = $3",
        )
        .bind(stored_year(round))
        .bind(round.framework.as_str())
        .bind(unit.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(SubmissionError::database("finding a submission"))
    }

    /// Locks the submission, checks the caller owns it and that the unit may change it now.
    async fn lock_for_change(
        &self,
        tx: &mut PgTransaction,
        actor: &Principal,
        id: Uuid,
    ) -> Result<SubmissionHead, SubmissionError> {
        let head = workflow::lock(tx, id).await?;
        require_writer(actor, &head.unit)?;
        self.check_window(tx, &head).await?;
        Ok(head)
    }

    /// Refuses when the round's dates and states do not let the unit change its submission.
    async fn check_window(
        &self,
        tx: &mut PgTransaction,
        head: &SubmissionHead,
    ) -> Result<(), SubmissionError> {
        let record = rounds::find(&mut **tx, &head.round).await?.ok_or_else(|| {
            SubmissionError::NotFound(format!("round {} does not exist", head.round))
        })?;
        let reopened = reopened_until(tx, &head.round, &head.unit).await?;
        may_change(&record, reopened, Some(head.state), Utc::now())
            .map(|_| ())
            .map_err(SubmissionError::NotNow)
    }

    /// The indicator `code` of the submission's framework, or an invalid-request error.
    fn indicator(&self, head: &SubmissionHead, code: &str) -> Result<&Indicator, SubmissionError> {
        let framework = self.framework(&head.round)?;
        framework
            .indicator_by_str(code)
            .filter(|indicator| indicator.rule.is_some())
            .ok_or_else(|| SubmissionError::Invalid {
                summary: "unknown indicator".to_owned(),
                violations: vec![FieldViolation::new(
                    format!("unit {} / indicator {code}", head.unit),
                    format!("is not a scored indicator of framework {}", framework.id),
                )],
            })
    }

    /// Marks the draft changed and appends the change to the unit's audit chain.
    async fn touch_and_audit(
        &self,
        tx: &mut PgTransaction,
        head: &SubmissionHead,
        actor: &Principal,
        action: &str,
        before: Map<String, Value>,
        after: Map<String, Value>,
    ) -> Result<(), SubmissionError> {
        sqlx::query("UPDATE submissions SET updated_at = now() WHERE id = $1")
            .bind(head.id)
            .execute(&mut **tx)
            .await
            .map_err(SubmissionError::database("marking a draft changed"))?;
        dti_audit::append(
            tx,
            &AuditEntry {
                round: &head.round,
                chain: Chain::Unit(head.unit.to_string()),
                actor,
                action,
                subject: format!("submission {}", head.id),
                before: Some(Value::Object(before)),
                after: Some(Value::Object(after)),
            },
        )
        .await?;
        Ok(())
    }

    /// The submission with its draft and open clarifications.
    async fn view(&self, id: Uuid) -> Result<SubmissionView, SubmissionError> {
        type Row = (
            i16,
            String,
            String,
            String,
            i32,
            DateTime<Utc>,
            DateTime<Utc>,
        );
        let row: Option<Row> = sqlx::query_as(
            "SELECT year, framework, unit_id, state, latest_version, created_at, updated_at \
             FROM submissions WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(SubmissionError::database("reading a submission"))?;
        let (year, framework, unit, state, latest_version, created_at, updated_at) = row
            .ok_or_else(|| SubmissionError::NotFound(format!("submission {id} does not exist")))?;
        let corrupt = |what: &str| {
            SubmissionError::NotFound(format!("submission {id} has an unreadable {what}"))
        };
        let round = RoundRef {
            year: u16::try_from(year).map_err(|_| corrupt("year"))?,
            framework: framework.parse().map_err(|_| corrupt("framework"))?,
        };
        let unit = UnitId::parse(unit).map_err(|_| corrupt("unit"))?;
        let state: SubmissionState = state.parse().map_err(|_| corrupt("state"))?;
        let framework = Arc::clone(self.framework(&round)?);
        let rows: Vec<StoredRow> = sqlx::query_as(
            "SELECT indicator_code, variables, not_applicable_reason \
             FROM submission_draft_values WHERE submission_id = $1",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(SubmissionError::database("reading draft values"))?;
        let clarifications = if state == SubmissionState::ClarificationRequested {
            sqlx::query_as::<_, (i32, String, String)>(
                "SELECT version, indicator_code, question FROM submission_clarifications \
                 WHERE submission_id = $1 AND version = $2 ORDER BY indicator_code",
            )
            .bind(id)
            .bind(latest_version)
            .fetch_all(&self.pool)
            .await
            .map_err(SubmissionError::database("reading clarification questions"))?
            .into_iter()
            .map(|(version, indicator_code, question)| Clarification {
                version,
                indicator_code,
                question,
            })
            .collect()
        } else {
            Vec::new()
        };
        Ok(SubmissionView {
            entries: decode_entries(&framework, &unit, rows),
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

/// Validates every indicator of a request: all problems at once, nothing stored on any error.
fn validate(
    framework: &Framework,
    unit: &UnitId,
    values: &[pb::IndicatorValue],
) -> Result<(BTreeMap<String, IndicatorValues>, Vec<InputIssue>), SubmissionError> {
    let mut violations = Vec::new();
    let mut warnings = Vec::new();
    let mut decoded = BTreeMap::new();
    for (position, value) in values.iter().enumerate() {
        let place = format!("unit {unit} / indicator {}", value.indicator_code);
        let Some(indicator) = framework
            .indicator_by_str(&value.indicator_code)
            .filter(|indicator| indicator.rule.is_some())
        else {
            violations.push(FieldViolation::new(
                place,
                format!(
                    "values[{position}]: not a scored indicator of framework {}",
                    framework.id
                ),
            ));
            continue;
        };
        if decoded.contains_key(indicator.code.as_str()) {
            violations.push(FieldViolation::new(
                place,
                format!("values[{position}]: the indicator appears twice in the request"),
            ));
            continue;
        }
        let mut pairs = Vec::with_capacity(value.variables.len());
        for (name, variable) in &value.variables {
            match variable_to_json(variable) {
                Ok(json) => pairs.push((name.clone(), json)),
                Err(problem) => violations.push(FieldViolation::new(
                    format!("{place} / variable {name}"),
                    problem,
                )),
            }
        }
        let result = decode_indicator_values(unit.as_str(), indicator, pairs);
        for issue in result.issues {
            if issue.is_error() {
                violations.push(FieldViolation::from(&issue));
            } else {
                warnings.push(issue);
            }
        }
        if let Some(values) = result.value {
            decoded.insert(indicator.code.to_string(), values);
        }
    }
    if violations.is_empty() {
        Ok((decoded, warnings))
    } else {
        Err(SubmissionError::Invalid {
            summary: format!("values of unit {unit} rejected; nothing was stored"),
            violations,
        })
    }
}

/// A stored indicator row: code, variables, not-applicable reason.
type StoredRow = (String, Option<Value>, Option<String>);

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

/// The stored entries of `codes` in the draft, as audit JSON.
async fn stored_entries(
    tx: &mut PgTransaction,
    id: Uuid,
    codes: &[&str],
) -> Result<Map<String, Value>, SubmissionError> {
    let rows: Vec<StoredRow> = sqlx::query_as(
        "SELECT indicator_code, variables, not_applicable_reason FROM submission_draft_values \
         WHERE submission_id = $1 AND indicator_code = ANY($2)",
    )
    .bind(id)
    .bind(codes)
    .fetch_all(&mut **tx)
    .await
    .map_err(SubmissionError::database("reading draft values"))?;
    Ok(rows
        .into_iter()
        .map(|(code, variables, reason)| {
            let value = match reason {
                Some(reason) => json!({"not_applicable": reason}),
                None => variables.unwrap_or(Value::Null),
            };
            (code, value)
        })
        .collect())
}

/// The deadline of the round's reopening for `unit`, if any.
async fn reopened_until(
    tx: &mut PgTransaction,
    round: &RoundRef,
    unit: &UnitId,
) -> Result<Option<DateTime<Utc>>, SubmissionError> {
    sqlx::query_scalar(
        "SELECT deadline FROM round_unit_reopenings WHERE year = $1 AND framework = $2 AND unit_id = $3",
    )
    .bind(stored_year(round))
    .bind(round.framework.as_str())
    .bind(unit.as_str())
    .fetch_optional(&mut **tx)
    .await
    .map_err(SubmissionError::database("reading a reopening"))
}

/// The version an earlier submit with `request_id` created, if any.
async fn earlier_version(
    tx: &mut PgTransaction,
    id: Uuid,
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

/// Writes version `version` from the draft and returns when it was submitted.
async fn write_version(
    tx: &mut PgTransaction,
    id: Uuid,
    version: i32,
    request_id: &str,
    submitted_by: &str,
) -> Result<DateTime<Utc>, SubmissionError> {
    let submitted_at: DateTime<Utc> = sqlx::query_scalar(
        "INSERT INTO submission_versions (submission_id, version, client_request_id, submitted_by) \
         VALUES ($1, $2, $3, $4) RETURNING submitted_at",
    )
    .bind(id)
    .bind(version)
    .bind(request_id)
    .bind(submitted_by)
    .fetch_one(&mut **tx)
    .await
    .map_err(SubmissionError::database("writing a version"))?;
    sqlx::query(
        "INSERT INTO submission_version_values (submission_id, version, indicator_code, variables, \
         not_applicable_reason) SELECT submission_id, $2, indicator_code, variables, \
         not_applicable_reason FROM submission_draft_values WHERE submission_id = $1",
    )
    .bind(id)
    .bind(version)
    .execute(&mut **tx)
    .await
    .map_err(SubmissionError::database("copying the draft into the version"))?;
    sqlx::query("UPDATE submissions SET latest_version = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(version)
        .execute(&mut **tx)
        .await
        .map_err(SubmissionError::database("advancing the latest version"))?;
    Ok(submitted_at)
}

/// A client request id, trimmed, or an invalid-request error.
fn checked_request_id(raw: &str) -> Result<&str, SubmissionError> {
    let request_id = raw.trim();
    if request_id.is_empty() || request_id.len() > 200 {
        return Err(SubmissionError::invalid_field(
            "client_request_id",
            "must be set (1 to 200 bytes), e.g. a UUID chosen by the client and reused on retries",
        ));
    }
    Ok(request_id)
}

/// Checks not-applicable marks: a scored indicator, once, not also given values, with a reason.
fn validate_not_applicable(
    framework: &Framework,
    unit: &UnitId,
    marks: &[(String, String)],
    values: &BTreeMap<String, IndicatorValues>,
) -> Result<Vec<(String, String)>, SubmissionError> {
    let mut violations = Vec::new();
    let mut checked: Vec<(String, String)> = Vec::with_capacity(marks.len());
    for (position, (code, reason)) in marks.iter().enumerate() {
        let place = format!("unit {unit} / indicator {code}");
        let Some(indicator) = framework
            .indicator_by_str(code)
            .filter(|indicator| indicator.rule.is_some())
        else {
            violations.push(FieldViolation::new(
                place,
                format!(
                    "not_applicable[{position}]: not a scored indicator of framework {}",
                    framework.id
                ),
            ));
            continue;
        };
        let code = indicator.code.to_string();
        let reason = reason.trim();
        if values.contains_key(&code) || checked.iter().any(|(c, _)| *c == code) {
            violations.push(FieldViolation::new(
                place,
                format!("not_applicable[{position}]: the indicator is listed twice"),
            ));
        } else if reason.is_empty() || reason.len() > MAX_TEXT_BYTES {
            violations.push(FieldViolation::new(
                place,
                format!(
                    "not_applicable[{position}].reason: must say why (1 to {MAX_TEXT_BYTES} bytes)"
                ),
            ));
        } else {
            checked.push((code, reason.to_owned()));
        }
    }
    if violations.is_empty() {
        Ok(checked)
    } else {
        Err(SubmissionError::Invalid {
            summary: format!("assessment of unit {unit} rejected; nothing was stored"),
            violations,
        })
    }
}

/// The submission of `unit` in `round`, created as a draft when missing, locked for the rest
/// of `tx` (one round trip either way), with its creation time.
async fn get_or_create_locked(
    tx: &mut PgTransaction,
    round: &RoundRef,
    unit: &UnitId,
) -> Result<(SubmissionHead, DateTime<Utc>), SubmissionError> {
    let (id, state, latest_version, created_at): (Uuid, String, i32, DateTime<Utc>) = sqlx::query_as(
        "INSERT INTO submissions (id, year, framework, unit_id, state) VALUES ($1, $2, $3, $4, 'draft') \
         ON CONFLICT (year, framework, unit_id) DO UPDATE SET state = submissions.state \
         RETURNING id, state, latest_version, created_at",
    )
    .bind(Uuid::now_v7())
    .bind(stored_year(round))
    .bind(round.framework.as_str())
    .bind(unit.as_str())
    .fetch_one(&mut **tx)
    .await
    .map_err(SubmissionError::database("creating or locking a submission"))?;
    let state = state.parse().map_err(|_| {
        SubmissionError::NotFound(format!("submission {id} has an unreadable state"))
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

/// Replaces the whole draft with `values` and not-applicable `marks`.
async fn replace_draft(
    tx: &mut PgTransaction,
    id: Uuid,
    values: &BTreeMap<String, IndicatorValues>,
    marks: &[(String, String)],
) -> Result<(), SubmissionError> {
    let mut codes = Vec::with_capacity(values.len() + marks.len());
    let mut variables: Vec<Option<String>> = Vec::with_capacity(codes.capacity());
    let mut reasons: Vec<Option<String>> = Vec::with_capacity(codes.capacity());
    for (code, v) in values {
        codes.push(code.clone());
        variables.push(Some(
            serde_json::to_string(v).unwrap_or_else(|_| "{}".to_owned()),
        ));
        reasons.push(None);
    }
    for (code, reason) in marks {
        codes.push(code.clone());
        variables.push(None);
        reasons.push(Some(reason.clone()));
    }
    sqlx::query("DELETE FROM submission_draft_values WHERE submission_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await
        .map_err(SubmissionError::database("clearing the draft"))?;
    sqlx::query(
        "INSERT INTO submission_draft_values (submission_id, indicator_code, variables, not_applicable_reason) \
         SELECT $1, code, vars::jsonb, reason FROM unnest($2::text[], $3::text[], $4::text[]) AS t(code, vars, reason)",
    )
    .bind(id)
    .bind(&codes)
    .bind(&variables)
    .bind(&reasons)
    .execute(&mut **tx)
    .await
    .map_err(SubmissionError::database("replacing the draft"))?;
    Ok(())
}

/// An entry as audit JSON.
fn entry_json(entry: &Entry) -> Value {
    match entry {
        Entry::Values(values) => serde_json::to_value(values).unwrap_or(Value::Null),
        Entry::NotApplicable(reason) => json!({"not_applicable": reason}),
    }
}
