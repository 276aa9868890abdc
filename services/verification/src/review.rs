//! The verifiers' work on submissions: listing a round's submissions, opening one (values,
//! evidence, self-assessed scores, decisions, and what changed since the previous version),
//! deciding on indicators, asking the unit for clarification, completing a submission; and the
//! side-by-side view of self-assessed and verified results a unit and a verifier both read.
//!
//! Every change runs in one transaction that share-locks the round, locks the submission,
//! checks the rules of [`crate::stage`], changes states only through `dti_workflow`, appends
//! to the unit's audit chain and writes its event to the outbox.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use dti_audit::{AuditEntry, Chain};
use dti_auth::Principal;
use dti_bus::outbox;
use dti_db::PgTransaction;
use dti_domain::framework::{Framework, Indicator};
use dti_domain::round::{SubmissionAction, SubmissionState};
use dti_domain::values::InputIssue;
use dti_domain::{IndicatorCode, RoundRef, UnitId};
use dti_engine::{IndicatorScore, Points, UnitScore};
use dti_service_kit::status::FieldViolation;
use dti_workflow::rounds::{self, stored_year};
use dti_workflow::submissions::{self as workflow, SubmissionHead};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::access::{require_reviewer, require_unit_reader, require_verifier};
use crate::context::{lock_submission, Context};
use crate::decisions::{
    self, BatchContext, BatchKind, Decision, NewDecision, Recorded, RequestedDecision,
    StoredDecision, VerifiedValue, MAX_TEXT_BYTES,
};
use crate::evidence::{self, EvidenceDocument};
use crate::inputs::{self, load_round, Reported, UnitInput};
use crate::stage::{self, DecisionStage, OpenAction};
use crate::versions::{self, Change};
use crate::{events, scoring, VerificationError};

/// A submission as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionSummary {
    /// Submission id.
    pub id: Uuid,
    /// Its unit.
    pub unit: UnitId,
    /// Its state.
    pub state: SubmissionState,
    /// Latest submitted version.
    pub latest_version: i32,
    /// Indicators of the latest version with a decision.
    pub decided: i64,
    /// Scored indicators of the framework.
    pub indicators: usize,
}

/// A round's submissions.
#[derive(Debug, Clone)]
pub struct SubmissionList {
    /// Submissions, by unit id.
    pub submissions: Vec<SubmissionSummary>,
    /// Units of the cohort with no submitted version.
    pub units_without_submission: Vec<String>,
}

/// One indicator under review.
#[derive(Debug, Clone)]
pub struct IndicatorReview {
    /// Code, name and maximum.
    pub indicator: Indicator,
    /// The self-assessed entry (none: not reported).
    pub reported: Option<Reported>,
    /// Its score against the self-assessed cohort.
    pub self_score: Option<IndicatorScore>,
    /// Evidence documents.
    pub evidence: Vec<EvidenceDocument>,
    /// The decision so far.
    pub decision: Option<StoredDecision>,
}

/// A changed indicator with the question asked about it.
#[derive(Debug, Clone)]
pub struct ReviewedChange {
    /// The change.
    pub change: Change,
    /// The clarification question on the previous version, if any.
    pub question: Option<String>,
}

/// A submission as a verifier reviews it.
#[derive(Debug, Clone)]
pub struct SubmissionReview {
    /// Id, unit, state, version, counts.
    pub summary: SubmissionSummary,
    /// Its round.
    pub round: RoundRef,
    /// When the latest version was submitted.
    pub submitted_at: DateTime<Utc>,
    /// Every scored indicator in framework order.
    pub indicators: Vec<IndicatorReview>,
    /// The version compared against (0: none).
    pub previous_version: i32,
    /// What changed since it.
    pub changes: Vec<ReviewedChange>,
    /// The decision revision.
    pub decisions_revision: i64,
    /// Self-assessed total.
    pub self_total: Points,
}

/// One indicator side by side.
#[derive(Debug, Clone)]
pub struct SideBySideRow {
    /// The indicator.
    pub indicator: Indicator,
    /// Self-assessed entry.
    pub reported: Option<Reported>,
    /// Its score.
    pub self_score: Option<IndicatorScore>,
    /// Verified entry (none: no value).
    pub verified: Option<Reported>,
    /// Its score.
    pub verified_score: Option<IndicatorScore>,
    /// The decision (none: not decided, the self-assessed value stands).
    pub decision: Option<StoredDecision>,
    /// Evidence documents.
    pub evidence: Vec<EvidenceDocument>,
}

impl SideBySideRow {
    /// Verified minus self-assessed score.
    pub fn difference(&self) -> Points {
        let cents = |score: &Option<IndicatorScore>| score.as_ref().map_or(0, |s| s.score.0);
        Points(cents(&self.verified_score) - cents(&self.self_score))
    }
}

/// A unit's results side by side.
#[derive(Debug, Clone)]
pub struct SideBySide {
    /// The round.
    pub round: RoundRef,
    /// The unit.
    pub unit: UnitId,
    /// Its submission, if any.
    pub submission: Option<inputs::SubmissionInput>,
    /// Every scored indicator in framework order.
    pub rows: Vec<SideBySideRow>,
    /// Self-assessed total.
    pub self_total: Points,
    /// Verified total.
    pub verified_total: Points,
}

/// The verified entry of an indicator: the self-assessed one unless a decision replaced it.
pub fn verified_entry(
    reported: Option<&Reported>,
    decision: Option<&Decision>,
) -> Option<Reported> {
    match decision {
        None | Some(Decision::Accepted) => reported.cloned(),
        Some(Decision::Overridden(VerifiedValue::Values(values))) => {
            Some(Reported::Values(values.clone()))
        }
        Some(Decision::Overridden(VerifiedValue::NotApplicable)) => {
            Some(Reported::NotApplicable(String::new()))
        }
        Some(Decision::EvidenceInsufficient) => None,
    }
}

/// The indicators a verifier decides on: every scored indicator that counts toward a group.
pub fn decided_indicators(framework: &Framework) -> impl Iterator<Item = &Indicator> {
    framework
        .top_level_indicators()
        .filter(|indicator| indicator.rule.is_some())
}

/// Checks a request's version: set, and the submission's latest.
fn check_version(head: &SubmissionHead, version: u32) -> Result<i32, VerificationError> {
    if version == 0 {
        return Err(VerificationError::invalid_field(
            "version",
            "must be the submitted version reviewed (from 1)",
        ));
    }
    let version = i32::try_from(version).unwrap_or(i32::MAX);
    if version != head.latest_version {
        return Err(VerificationError::NotNow(format!(
            "version {version} is not the latest: unit {} has submitted version {}; review it",
            head.unit, head.latest_version
        )));
    }
    Ok(version)
}

/// Validates clarification questions: every problem at once.
pub fn validate_questions(
    framework: &Framework,
    unit: &UnitId,
    questions: &[(String, String)],
    max_per_request: usize,
) -> Result<Vec<(String, String)>, VerificationError> {
    if questions.is_empty() || questions.len() > max_per_request {
        return Err(VerificationError::invalid_field(
            "questions",
            format!("must hold 1 to {max_per_request} questions"),
        ));
    }
    let mut violations = Vec::new();
    let mut asked: BTreeMap<String, String> = BTreeMap::new();
    for (position, (code, question)) in questions.iter().enumerate() {
        let place = format!("unit {unit} / indicator {code}");
        let Some(indicator) = decided_indicators(framework).find(|i| i.code.as_str() == code)
        else {
            violations.push(FieldViolation::new(
                place,
                format!(
                    "questions[{position}]: not a scored indicator of framework {}",
                    framework.id
                ),
            ));
            continue;
        };
        let question = question.trim();
        if question.is_empty() || question.len() > MAX_TEXT_BYTES {
            violations.push(FieldViolation::new(
                format!("{place} / question"),
                format!("must ask something (1 to {MAX_TEXT_BYTES} bytes)"),
            ));
            continue;
        }
        if asked
            .insert(indicator.code.to_string(), question.to_owned())
            .is_some()
        {
            violations.push(FieldViolation::new(
                place,
                format!("questions[{position}]: one question per indicator"),
            ));
        }
    }
    if violations.is_empty() {
        Ok(asked.into_iter().collect())
    } else {
        Err(VerificationError::Invalid {
            summary: format!("clarification request to unit {unit} rejected; nothing was stored"),
            violations,
        })
    }
}

/// The verifiers' side of submissions.
#[derive(Debug, Clone)]
pub struct Reviews {
    context: Context,
}

impl Reviews {
    /// Reviews over `context`.
    pub fn new(context: Context) -> Self {
        Self { context }
    }

    /// The round's submissions (in `state`, when given) and the units that submitted nothing.
    #[tracing::instrument(skip_all, fields(round = %round))]
    pub async fn list(
        &self,
        actor: &Principal,
        round: &RoundRef,
        state: Option<SubmissionState>,
    ) -> Result<SubmissionList, VerificationError> {
        require_reviewer(actor)?;
        let framework = self.context.framework(round)?;
        let mut tx = self.context.read().await?;
        rounds::find(&mut *tx, round)
            .await?
            .ok_or_else(|| VerificationError::NotFound(format!("round {round} does not exist")))?;
        type Row = (Uuid, String, String, i32, i64);
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
                    VerificationError::Corrupted(format!(
                        "submission {id} has an unreadable {what}"
                    ))
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

    /// Opens the submission's latest version: starts its verification when it was submitted
    /// (carrying forward the previous version's decisions on unchanged indicators) and returns
    /// the review.
    #[tracing::instrument(skip_all, fields(submission = %id))]
    pub async fn open(
        &self,
        actor: &Principal,
        id: Uuid,
    ) -> Result<SubmissionReview, VerificationError> {
        require_verifier(actor)?;
        let mut tx = self.context.begin().await?;
        let (round_state, head) = lock_submission(&mut tx, id).await?;
        let framework = self.context.framework(&head.round)?;
        let action = stage::open_action(round_state, head.state, head.latest_version)
            .map_err(VerificationError::NotNow)?;
        if action == OpenAction::Start {
            workflow::transition(&mut tx, &head, SubmissionAction::StartVerification, actor)
                .await?;
            let message =
                events::started(&self.context.nats_prefix, &head, &actor.subject, Utc::now());
            outbox::enqueue(&mut tx, &message).await?;
            self.carry_forward(&mut tx, &framework, &head, actor)
                .await?;
            tx.commit().await.map_err(VerificationError::database(
                "committing an opened submission",
            ))?;
        } else {
            drop(tx);
        }
        self.review(id).await
    }

    /// Copies the previous version's decisions to the unchanged indicators of the latest.
    async fn carry_forward(
        &self,
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
        let before = decisions::current(tx, framework, unit, head.id, previous).await?;
        if before.is_empty() {
            return Ok(());
        }
        let now = decisions::current(tx, framework, unit, head.id, current).await?;
        let old = inputs::load_version(tx, framework, unit, head.id, previous).await?;
        let new = inputs::load_version(tx, framework, unit, head.id, current).await?;
        let carried = decisions::carried_forward(&old, &new, &before, &now);
        if carried.is_empty() {
            return Ok(());
        }
        let batch = BatchContext {
            head,
            version: current,
            kind: BatchKind::CarriedForward,
            actor,
            nats_prefix: &self.context.nats_prefix,
        };
        decisions::record(tx, framework, batch, &carried).await?;
        Ok(())
    }

    /// Records decisions on the latest version (all or nothing). Returns what changed and the
    /// warnings about verified values.
    #[tracing::instrument(skip_all, fields(submission = %id, decisions = requested.len()))]
    pub async fn decide(
        &self,
        actor: &Principal,
        id: Uuid,
        version: u32,
        requested: &[RequestedDecision],
    ) -> Result<(Recorded, Vec<InputIssue>), VerificationError> {
        require_verifier(actor)?;
        let mut tx = self.context.begin().await?;
        let (round_state, head) = lock_submission(&mut tx, id).await?;
        let version = check_version(&head, version)?;
        let decision_stage =
            stage::may_decide(round_state, head.state).map_err(VerificationError::NotNow)?;
        let framework = self.context.framework(&head.round)?;
        let (decided, warnings) = decisions::validate(
            &framework,
            &head.unit,
            requested,
            decision_stage,
            self.context.settings.max_decisions_per_request,
        )?;
        let batch = BatchContext {
            head: &head,
            version,
            kind: match decision_stage {
                DecisionStage::Verification => BatchKind::Decision,
                DecisionStage::Correction => BatchKind::Correction,
            },
            actor,
            nats_prefix: &self.context.nats_prefix,
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
        &self,
        actor: &Principal,
        id: Uuid,
        version: u32,
        questions: &[(String, String)],
    ) -> Result<SubmissionSummary, VerificationError> {
        require_verifier(actor)?;
        let mut tx = self.context.begin().await?;
        let (round_state, head) = lock_submission(&mut tx, id).await?;
        let version = check_version(&head, version)?;
        stage::may_verify_submission(round_state).map_err(VerificationError::NotNow)?;
        head.state
            .apply(SubmissionAction::RequestClarification)
            .map_err(dti_workflow::WorkflowError::from)?;
        let framework = self.context.framework(&head.round)?;
        let questions = validate_questions(
            &framework,
            &head.unit,
            questions,
            self.context.settings.max_decisions_per_request,
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
        .map_err(VerificationError::database("writing clarification questions"))?;
        let asked: Map<String, Value> = questions
            .iter()
            .map(|(code, question)| (code.clone(), json!(question)))
            .collect();
        dti_audit::append(
            &mut tx,
            &AuditEntry {
                round: &head.round,
                chain: Chain::Unit(head.unit.to_string()),
                actor,
                action: "verification.clarification_requested",
                subject: format!("submission {id} version {version}"),
                before: None,
                after: Some(json!({"version": version, "questions": asked})),
            },
        )
        .await?;
        let message = events::clarification_requested(
            &self.context.nats_prefix,
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
        self.summary(id).await
    }

    /// Completes the verification of the latest version. Undecided indicators refuse it unless
    /// `accept_undecided`, which records them as accepted in the same transaction.
    #[tracing::instrument(skip_all, fields(submission = %id))]
    pub async fn complete(
        &self,
        actor: &Principal,
        id: Uuid,
        version: u32,
        accept_undecided: bool,
    ) -> Result<SubmissionSummary, VerificationError> {
        require_verifier(actor)?;
        let mut tx = self.context.begin().await?;
        let (round_state, head) = lock_submission(&mut tx, id).await?;
        let version = check_version(&head, version)?;
        stage::may_verify_submission(round_state).map_err(VerificationError::NotNow)?;
        head.state
            .apply(SubmissionAction::CompleteVerification)
            .map_err(dti_workflow::WorkflowError::from)?;
        let framework = self.context.framework(&head.round)?;
        let decided = decisions::current(&mut tx, &framework, &head.unit, id, version).await?;
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
            return Err(VerificationError::NotNow(format!(
                "{} indicator(s) of unit {} are not decided yet ({}); decide them, or complete \
                 with accept_undecided",
                codes.len(),
                head.unit,
                codes.join(", ")
            )));
        }
        if !undecided.is_empty() {
            let batch = BatchContext {
                head: &head,
                version,
                kind: BatchKind::AcceptedOnCompletion,
                actor,
                nats_prefix: &self.context.nats_prefix,
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
        let message =
            events::completed(&self.context.nats_prefix, &head, &actor.subject, Utc::now());
        outbox::enqueue(&mut tx, &message).await?;
        tx.commit().await.map_err(VerificationError::database(
            "committing a completed verification",
        ))?;
        metrics::counter!("dti_verification_submissions_completed_total").increment(1);
        self.summary(id).await
    }

    /// The unit's self-assessed and verified results side by side.
    #[tracing::instrument(skip_all, fields(round = %round, unit = %unit))]
    pub async fn side_by_side(
        &self,
        actor: &Principal,
        round: &RoundRef,
        unit: &UnitId,
    ) -> Result<SideBySide, VerificationError> {
        require_unit_reader(actor, unit)?;
        let framework = self.context.framework(round)?;
        let mut tx = self.context.read().await?;
        rounds::find(&mut *tx, round)
            .await?
            .ok_or_else(|| VerificationError::NotFound(format!("round {round} does not exist")))?;
        let inputs = load_round(&mut tx, &framework, round).await?;
        let input = inputs.unit(unit).cloned().ok_or_else(|| {
            VerificationError::NotFound(format!("unit {unit} is not assessed in round {round}"))
        })?;
        let evidence = match &input.submission {
            Some(submission) if submission.version >= 1 => {
                let at = submitted_at(&mut tx, submission.id, submission.version).await?;
                evidence::as_of(&mut tx, round, unit, at).await?
            }
            _ => BTreeMap::new(),
        };
        drop(tx);
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
        })
    }

    /// The submission as listed.
    async fn summary(&self, id: Uuid) -> Result<SubmissionSummary, VerificationError> {
        Ok(self.review(id).await?.summary)
    }

    /// The submission's review, read in one consistent state.
    async fn review(&self, id: Uuid) -> Result<SubmissionReview, VerificationError> {
        let mut tx = self.context.read().await?;
        let row: Option<(i16, String, String)> =
            sqlx::query_as("SELECT year, framework, unit_id FROM submissions WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(VerificationError::database("reading a submission"))?;
        let (year, framework, unit) = row.ok_or_else(|| {
            VerificationError::NotFound(format!("submission {id} does not exist"))
        })?;
        let corrupt =
            |what: String| VerificationError::Corrupted(format!("submission {id}: {what}"));
        let round = RoundRef {
            year: u16::try_from(year).map_err(|e| corrupt(e.to_string()))?,
            framework: framework
                .parse()
                .map_err(|e: dti_domain::IdError| corrupt(e.to_string()))?,
        };
        let unit = UnitId::parse(unit).map_err(|e| corrupt(e.to_string()))?;
        let framework = self.context.framework(&round)?;
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
                inputs::load_version(&mut tx, &framework, &unit, id, previous_version).await?;
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
    id: Uuid,
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
    .ok_or_else(|| VerificationError::NotFound(format!("submission {id} has no version {version}")))
}

/// The clarification questions asked about `version`, by indicator code.
async fn questions_of(
    tx: &mut PgTransaction,
    id: Uuid,
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

#[cfg(test)]
mod tests {
    use super::*;
    use dti_domain::FrameworkCatalog;

    #[test]
    fn the_verified_entry_follows_the_decision() {
        let reported = Reported::NotApplicable("no such service".into());
        assert_eq!(
            verified_entry(Some(&reported), None),
            Some(reported.clone())
        );
        assert_eq!(
            verified_entry(Some(&reported), Some(&Decision::Accepted)),
            Some(reported.clone())
        );
        assert_eq!(
            verified_entry(Some(&reported), Some(&Decision::EvidenceInsufficient)),
            None
        );
        assert_eq!(
            verified_entry(
                None,
                Some(&Decision::Overridden(VerifiedValue::NotApplicable))
            ),
            Some(Reported::NotApplicable(String::new()))
        );
    }

    #[test]
    fn clarification_questions_name_their_indicator_and_field() {
        let catalog = FrameworkCatalog::builtin().expect("frameworks");
        let framework = catalog.get_str("hcm-2023-district").expect("district");
        let unit = UnitId::parse("quan-1").expect("id");
        let ok = validate_questions(
            framework,
            &unit,
            &[("1.2".into(), " Which meetings? ".into())],
            10,
        )
        .expect("valid");
        assert_eq!(ok, [("1.2".to_owned(), "Which meetings?".to_owned())]);
        let refused = validate_questions(
            framework,
            &unit,
            &[
                ("1.2".into(), "a".into()),
                ("1.2".into(), "b".into()),
                ("42.1".into(), "c".into()),
                ("2.1".into(), "  ".into()),
            ],
            10,
        )
        .unwrap_err();
        let VerificationError::Invalid { violations, .. } = refused else {
            panic!("invalid input expected")
        };
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "unit quan-1 / indicator 1.2",
                "unit quan-1 / indicator 42.1",
                "unit quan-1 / indicator 2.1 / question"
            ]
        );
        assert!(validate_questions(framework, &unit, &[], 10).is_err());
    }
}
