//! Verifiers' decisions on the indicators of a submitted version: the model, the validation of
//! a request (every problem at once, naming unit, indicator and field), carrying decisions
//! forward to a resubmitted version, and recording a batch.
//!
//! A batch is recorded in the caller's transaction (the submission's row locked): decisions
//! that change nothing are dropped, the rest are written to `verified_values` (the current
//! decision, read by the scoring service) and to `verification_decision_history` under the
//! submission's next revision, appended to the unit's audit chain with before and after, and
//! announced by `verification.values_changed.v1` through the outbox.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use dti_audit::{AuditEntry, Chain};
use dti_auth::Principal;
use dti_bus::outbox;
use dti_db::PgTransaction;
use dti_domain::framework::Framework;
use dti_domain::values::{decode_indicator_values, IndicatorValues, InputIssue};
use dti_domain::{IndicatorCode, UnitId};
use dti_service_kit::status::FieldViolation;
use dti_workflow::submissions::SubmissionHead;
use serde_json::{json, Map, Value};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::events;
use crate::inputs::{decode_values, Reported};
use crate::stage::DecisionStage;
use crate::VerificationError;

/// Longest reason or question accepted, in bytes.
pub const MAX_TEXT_BYTES: usize = 2000;

/// What a verifier may decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionKind {
    /// The self-assessed value stands.
    Accepted,
    /// A verified value replaces it.
    Overridden,
    /// The evidence does not support it: no value.
    EvidenceInsufficient,
}

impl DecisionKind {
    /// Name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Accepted => "accepted",
            DecisionKind::Overridden => "overridden",
            DecisionKind::EvidenceInsufficient => "evidence_insufficient",
        }
    }
}

/// The verified value of an override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifiedValue {
    /// Verified variables.
    Values(IndicatorValues),
    /// The indicator does not apply to the unit.
    NotApplicable,
}

/// A decision on one indicator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The self-assessed value stands.
    Accepted,
    /// A verified value replaces it.
    Overridden(VerifiedValue),
    /// No value: the indicator scores 0.
    EvidenceInsufficient,
}

impl Decision {
    /// Its kind.
    pub fn kind(&self) -> DecisionKind {
        match self {
            Decision::Accepted => DecisionKind::Accepted,
            Decision::Overridden(_) => DecisionKind::Overridden,
            Decision::EvidenceInsufficient => DecisionKind::EvidenceInsufficient,
        }
    }

    /// The stored `variables` and `not_applicable` columns.
    fn columns(&self) -> (Option<Value>, bool) {
        match self {
            Decision::Overridden(VerifiedValue::Values(values)) => (
                Some(serde_json::to_value(values).unwrap_or(Value::Null)),
                false,
            ),
            Decision::Overridden(VerifiedValue::NotApplicable) => (None, true),
            Decision::Accepted | Decision::EvidenceInsufficient => (None, false),
        }
    }
}

/// A decision as stored, with who made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDecision {
    /// The decision.
    pub decision: Decision,
    /// The verifier's reason.
    pub reason: Option<String>,
    /// Who decided.
    pub decided_by: String,
    /// When.
    pub decided_at: DateTime<Utc>,
}

/// A decision to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDecision {
    /// The indicator.
    pub code: IndicatorCode,
    /// The decision.
    pub decision: Decision,
    /// The reason (trimmed; none when not given).
    pub reason: Option<String>,
}

/// The decision and reason as JSON, for the audit log and for telling whether a decision
/// changes anything.
pub fn decision_json(decision: &Decision, reason: Option<&str>) -> Value {
    let (variables, not_applicable) = decision.columns();
    json!({
        "decision": decision.kind().as_str(),
        "variables": variables,
        "not_applicable": not_applicable,
        "reason": reason,
    })
}

/// Decodes a stored decision row.
pub fn decode_stored(
    framework: &Framework,
    unit: &UnitId,
    code: &str,
    decision: &str,
    variables: Option<Value>,
    not_applicable: bool,
) -> Result<(IndicatorCode, Decision), String> {
    let indicator = framework
        .indicator_by_str(code)
        .ok_or_else(|| format!("unit {unit}: decided indicator {code} is not in the framework"))?;
    let decision = match (decision, variables, not_applicable) {
        ("accepted", _, _) => Decision::Accepted,
        ("evidence_insufficient", _, _) => Decision::EvidenceInsufficient,
        ("overridden", _, true) => Decision::Overridden(VerifiedValue::NotApplicable),
        ("overridden", Some(Value::Object(map)), false) => Decision::Overridden(
            VerifiedValue::Values(decode_values(unit, code, indicator, map)?),
        ),
        (other, _, _) => {
            return Err(format!(
                "unit {unit}: indicator {code} has an unreadable decision {other:?}"
            ))
        }
    };
    Ok((indicator.code.clone(), decision))
}

/// A decision as requested, converted at the edge but not yet validated.
#[derive(Debug, Clone, Default)]
pub struct RequestedDecision {
    /// Indicator code as sent.
    pub indicator_code: String,
    /// The kind, if one was chosen.
    pub kind: Option<DecisionKind>,
    /// Verified variables as the contract's JSON, or why one could not be read.
    pub variables: Vec<(String, Result<Value, String>)>,
    /// The override makes the indicator not applicable.
    pub not_applicable: bool,
    /// The reason as sent.
    pub reason: String,
}

/// Validates a request's decisions on `unit`'s submission: all problems at once; nothing is
/// recorded when there is one. Returns the decisions and the warnings about verified values.
pub fn validate(
    framework: &Framework,
    unit: &UnitId,
    requested: &[RequestedDecision],
    stage: DecisionStage,
    max_per_request: usize,
) -> Result<(Vec<NewDecision>, Vec<InputIssue>), VerificationError> {
    if requested.is_empty() {
        return Err(VerificationError::invalid_field(
            "decisions",
            "must hold at least one decision",
        ));
    }
    if requested.len() > max_per_request {
        return Err(VerificationError::invalid_field(
            "decisions",
            format!(
                "holds {} decisions; at most {max_per_request} per request",
                requested.len()
            ),
        ));
    }
    let mut violations = Vec::new();
    let mut warnings = Vec::new();
    let mut decided: BTreeMap<IndicatorCode, NewDecision> = BTreeMap::new();
    for (position, request) in requested.iter().enumerate() {
        let place = format!("unit {unit} / indicator {}", request.indicator_code);
        let Some(indicator) = framework
            .indicator_by_str(&request.indicator_code)
            .filter(|indicator| indicator.rule.is_some() && indicator.parent.is_none())
        else {
            violations.push(FieldViolation::new(
                place,
                format!(
                    "decisions[{position}]: not a scored indicator of framework {}",
                    framework.id
                ),
            ));
            continue;
        };
        if decided.contains_key(&indicator.code) {
            violations.push(FieldViolation::new(
                place,
                format!("decisions[{position}]: the indicator is decided twice in the request"),
            ));
            continue;
        }
        let reason = request.reason.trim();
        let Some(kind) = request.kind else {
            violations.push(FieldViolation::new(
                format!("{place} / kind"),
                "must be accepted, overridden or evidence_insufficient",
            ));
            continue;
        };
        let needs_reason = kind != DecisionKind::Accepted || stage == DecisionStage::Correction;
        if reason.is_empty() && needs_reason {
            violations.push(FieldViolation::new(
                format!("{place} / reason"),
                match stage {
                    DecisionStage::Correction => {
                        "is mandatory: every correction of a published result says why"
                    }
                    DecisionStage::Verification => {
                        "is mandatory for a verified value or insufficient evidence"
                    }
                },
            ));
        }
        if reason.len() > MAX_TEXT_BYTES {
            violations.push(FieldViolation::new(
                format!("{place} / reason"),
                format!("is longer than {MAX_TEXT_BYTES} bytes"),
            ));
        }
        let decision = match kind {
            DecisionKind::Accepted | DecisionKind::EvidenceInsufficient => {
                if !request.variables.is_empty() || request.not_applicable {
                    violations.push(FieldViolation::new(
                        format!("{place} / variables"),
                        "only an override carries a verified value",
                    ));
                    continue;
                }
                if kind == DecisionKind::Accepted {
                    Decision::Accepted
                } else {
                    Decision::EvidenceInsufficient
                }
            }
            DecisionKind::Overridden => {
                match override_value(&place, unit, indicator, request, &mut violations) {
                    Some((value, issues)) => {
                        warnings.extend(issues);
                        Decision::Overridden(value)
                    }
                    None => continue,
                }
            }
        };
        decided.insert(
            indicator.code.clone(),
            NewDecision {
                code: indicator.code.clone(),
                decision,
                reason: (!reason.is_empty()).then(|| reason.to_owned()),
            },
        );
    }
    if violations.is_empty() {
        Ok((decided.into_values().collect(), warnings))
    } else {
        Err(VerificationError::Invalid {
            summary: format!("decisions on unit {unit} rejected; nothing was stored"),
            violations,
        })
    }
}

/// The verified value of an override, or `None` after recording why it is invalid.
fn override_value(
    place: &str,
    unit: &UnitId,
    indicator: &dti_domain::framework::Indicator,
    request: &RequestedDecision,
    violations: &mut Vec<FieldViolation>,
) -> Option<(VerifiedValue, Vec<InputIssue>)> {
    match (request.not_applicable, request.variables.is_empty()) {
        (true, true) => return Some((VerifiedValue::NotApplicable, Vec::new())),
        (true, false) => {
            violations.push(FieldViolation::new(
                format!("{place} / variables"),
                "an override is either not applicable or has values, not both",
            ));
            return None;
        }
        (false, true) => {
            violations.push(FieldViolation::new(
                format!("{place} / variables"),
                "an override needs the verified value of every variable, or not_applicable",
            ));
            return None;
        }
        (false, false) => {}
    }
    let mut pairs = Vec::with_capacity(request.variables.len());
    let mut readable = true;
    for (name, value) in &request.variables {
        match value {
            Ok(json) => pairs.push((name.clone(), json.clone())),
            Err(problem) => {
                readable = false;
                violations.push(FieldViolation::new(
                    format!("{place} / variable {name}"),
                    problem.clone(),
                ));
            }
        }
    }
    if !readable {
        return None;
    }
    let decoded = decode_indicator_values(unit.as_str(), indicator, pairs);
    let (errors, warnings): (Vec<InputIssue>, Vec<InputIssue>) =
        decoded.issues.into_iter().partition(InputIssue::is_error);
    violations.extend(errors.iter().map(FieldViolation::from));
    decoded
        .value
        .filter(|_| errors.is_empty())
        .map(|values| (VerifiedValue::Values(values), warnings))
}

/// Decisions of the previous version to carry to the current one: for every indicator whose
/// entry did not change (both reported identically, or both not reported) and that has no
/// decision on the current version yet.
pub fn carried_forward(
    previous: &BTreeMap<IndicatorCode, Reported>,
    current: &BTreeMap<IndicatorCode, Reported>,
    previous_decisions: &BTreeMap<IndicatorCode, StoredDecision>,
    current_decisions: &BTreeMap<IndicatorCode, StoredDecision>,
) -> Vec<NewDecision> {
    previous_decisions
        .iter()
        .filter(|(code, _)| !current_decisions.contains_key(*code))
        .filter(|(code, _)| previous.get(*code) == current.get(*code))
        .map(|(code, stored)| NewDecision {
            code: code.clone(),
            decision: stored.decision.clone(),
            reason: stored.reason.clone(),
        })
        .collect()
}

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

/// The current decisions on `version` of the submission.
pub async fn current(
    conn: &mut PgConnection,
    framework: &Framework,
    unit: &UnitId,
    submission: Uuid,
    version: i32,
) -> Result<BTreeMap<IndicatorCode, StoredDecision>, VerificationError> {
    type Row = (
        String,
        String,
        Option<Value>,
        bool,
        Option<String>,
        String,
        DateTime<Utc>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT indicator_code, decision, variables, not_applicable, reason, decided_by, \
         decided_at FROM verified_values WHERE submission_id = $1 AND version = $2",
    )
    .bind(submission)
    .bind(version)
    .fetch_all(&mut *conn)
    .await
    .map_err(VerificationError::database("reading decisions"))?;
    rows.into_iter()
        .map(
            |(code, decision, variables, not_applicable, reason, decided_by, decided_at)| {
                let (code, decision) =
                    decode_stored(framework, unit, &code, &decision, variables, not_applicable)
                        .map_err(VerificationError::Corrupted)?;
                Ok((
                    code,
                    StoredDecision {
                        decision,
                        reason,
                        decided_by,
                        decided_at,
                    },
                ))
            },
        )
        .collect()
}

/// The submission's latest decision revision (0 before any batch).
pub async fn latest_revision(
    conn: &mut PgConnection,
    submission: Uuid,
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
    let existing = current(tx, framework, &head.unit, head.id, batch.version).await?;
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
        &AuditEntry {
            round: &head.round,
            chain: Chain::Unit(head.unit.to_string()),
            actor: batch.actor,
            action: batch.kind.audit_action(),
            subject: format!("submission {} version {}", head.id, batch.version),
            before: Some(Value::Object(before)),
            after: Some(Value::Object(after)),
        },
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
    let (variables, not_applicable) = new.decision.columns();
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

#[cfg(test)]
mod tests {
    use super::*;
    use dti_domain::FrameworkCatalog;
    use std::sync::Arc;

    fn district() -> Arc<Framework> {
        let catalog = FrameworkCatalog::builtin().expect("frameworks");
        Arc::clone(catalog.get_str("hcm-2023-district").expect("district"))
    }

    fn request(code: &str, kind: Option<DecisionKind>, reason: &str) -> RequestedDecision {
        RequestedDecision {
            indicator_code: code.to_owned(),
            kind,
            reason: reason.to_owned(),
            ..RequestedDecision::default()
        }
    }

    fn unit() -> UnitId {
        UnitId::parse("quan-1").expect("id")
    }

    fn fields(error: VerificationError) -> Vec<String> {
        match error {
            VerificationError::Invalid { violations, .. } => {
                violations.into_iter().map(|v| v.field).collect()
            }
            other => panic!("expected invalid input, got {other:?}"),
        }
    }

    #[test]
    fn an_acceptance_needs_no_reason_during_verification_but_an_override_does() {
        let framework = district();
        let accepted = request("1.1", Some(DecisionKind::Accepted), "");
        let (decisions, _) = validate(
            &framework,
            &unit(),
            std::slice::from_ref(&accepted),
            DecisionStage::Verification,
            10,
        )
        .expect("valid");
        assert_eq!(decisions[0].decision, Decision::Accepted);
        assert_eq!(decisions[0].reason, None);

        let refused = validate(
            &framework,
            &unit(),
            &[accepted],
            DecisionStage::Correction,
            10,
        )
        .unwrap_err();
        assert_eq!(fields(refused), ["unit quan-1 / indicator 1.1 / reason"]);

        let mut overridden = request("1.2", Some(DecisionKind::Overridden), "");
        overridden.variables = vec![("a".into(), Ok(json!(5))), ("b".into(), Ok(json!(34)))];
        let insufficient = request("2.1", Some(DecisionKind::EvidenceInsufficient), " ");
        let refused = validate(
            &framework,
            &unit(),
            &[overridden, insufficient],
            DecisionStage::Verification,
            10,
        )
        .unwrap_err();
        assert_eq!(
            fields(refused),
            [
                "unit quan-1 / indicator 1.2 / reason",
                "unit quan-1 / indicator 2.1 / reason"
            ]
        );
    }

    #[test]
    fn every_problem_is_named_at_once() {
        let framework = district();
        let mut bad_value = request("1.2", Some(DecisionKind::Overridden), "recounted");
        bad_value.variables = vec![("a".into(), Ok(json!(5))), ("b".into(), Ok(json!("many")))];
        let mut unreadable = request("1.3", Some(DecisionKind::Overridden), "recounted");
        unreadable.variables = vec![("a".into(), Err("has no value".into()))];
        let mut both = request("2.1", Some(DecisionKind::Overridden), "no such service");
        both.not_applicable = true;
        both.variables = vec![("yes".into(), Ok(json!(true)))];
        let mut values_on_accept = request("2.2", Some(DecisionKind::Accepted), "");
        values_on_accept.variables = vec![("yes".into(), Ok(json!(true)))];
        let requested = [
            bad_value,
            unreadable,
            both,
            values_on_accept,
            request("99.1", Some(DecisionKind::Accepted), ""),
            request("1.1", None, ""),
            request("1.4", Some(DecisionKind::Accepted), ""),
            request("1.4", Some(DecisionKind::Accepted), ""),
        ];
        let refused = validate(
            &framework,
            &unit(),
            &requested,
            DecisionStage::Verification,
            10,
        )
        .unwrap_err();
        assert_eq!(
            fields(refused),
            [
                "unit quan-1 / indicator 1.2 / variable b",
                "unit quan-1 / indicator 1.3 / variable a",
                "unit quan-1 / indicator 2.1 / variables",
                "unit quan-1 / indicator 2.2 / variables",
                "unit quan-1 / indicator 99.1",
                "unit quan-1 / indicator 1.1 / kind",
                "unit quan-1 / indicator 1.4",
            ]
        );
    }

    #[test]
    fn empty_and_oversized_requests_are_refused() {
        let framework = district();
        assert_eq!(
            fields(
                validate(&framework, &unit(), &[], DecisionStage::Verification, 10).unwrap_err()
            ),
            ["decisions"]
        );
        let many = vec![request("1.1", Some(DecisionKind::Accepted), ""); 3];
        assert_eq!(
            fields(
                validate(&framework, &unit(), &many, DecisionStage::Verification, 2).unwrap_err()
            ),
            ["decisions"]
        );
    }

    #[test]
    fn decisions_carry_forward_only_where_nothing_changed() {
        let framework = district();
        let unit = unit();
        let code = |c: &str| IndicatorCode::parse(c).expect("code");
        let values = |json: Value| {
            let Value::Object(map) = json else {
                panic!("object")
            };
            decode_values(
                &unit,
                "1.2",
                framework.indicator_by_str("1.2").expect("1.2"),
                map,
            )
            .expect("valid")
        };
        let stored = |decision: Decision| StoredDecision {
            decision,
            reason: Some("r".into()),
            decided_by: "v".into(),
            decided_at: Utc::now(),
        };
        let previous = BTreeMap::from([
            (
                code("1.2"),
                Reported::Values(values(json!({"a": 7, "b": 34}))),
            ),
            (code("7.3"), Reported::NotApplicable("none".into())),
        ]);
        let current = BTreeMap::from([
            (
                code("1.2"),
                Reported::Values(values(json!({"a": 9, "b": 34}))),
            ),
            (code("7.3"), Reported::NotApplicable("none".into())),
        ]);
        let previous_decisions = BTreeMap::from([
            (code("1.2"), stored(Decision::EvidenceInsufficient)),
            (code("7.3"), stored(Decision::Accepted)),
            (code("2.1"), stored(Decision::EvidenceInsufficient)),
            (code("1.1"), stored(Decision::Accepted)),
        ]);
        let current_decisions = BTreeMap::from([(code("1.1"), stored(Decision::Accepted))]);
        let carried = carried_forward(&previous, &current, &previous_decisions, &current_decisions);
        let codes: Vec<&str> = carried.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, ["2.1", "7.3"], "1.2 changed; 1.1 is decided already");
    }
}
