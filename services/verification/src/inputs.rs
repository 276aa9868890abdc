//! A round's cohort inputs, read from PostgreSQL, on both bases the platform scores:
//!
//! - **self-assessed**: each unit of `round_units` with the values of its latest submitted
//!   version (`submission_version_values` at `submissions.latest_version`);
//! - **verified**: that version with the verifiers' decisions of `verified_values` applied, as
//!   the table's header defines it: accepted → the self-assessed value; overridden → the
//!   verified variables, or not applicable; evidence insufficient → no value (scores 0 as
//!   missing); no decision yet → the self-assessed value.
//!
//! A unit that never submitted has no values on either basis (every indicator missing). Stored
//! values are decoded with `dti_domain::values::decode_indicator_values`, the validation every
//! writer used; a row that no longer decodes is an error, never skipped, so a score is never
//! computed from part of a unit's values.
//!
//! The scoring service needs the same loader; this module is written so that it can move to a
//! shared crate unchanged.

use std::collections::BTreeMap;
use std::sync::Arc;

use dti_domain::framework::Framework;
use dti_domain::round::SubmissionState;
use dti_domain::values::{decode_indicator_values, Cohort, IndicatorValues, UnitValues};
use dti_domain::{IndicatorCode, RoundRef, UnitId};
use dti_workflow::rounds::stored_year;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::decisions::{Decision, StoredDecision, VerifiedValue};

/// Why a round's inputs could not be read or scored.
#[derive(Debug, thiserror::Error)]
pub enum InputsError {
    /// A database statement failed.
    #[error("{action}: {source}")]
    Database {
        /// What was being read.
        action: &'static str,
        /// The database error.
        source: sqlx::Error,
    },
    /// A stored row is not readable with the round's framework.
    #[error("stored inputs of round {round}: {problem}")]
    Stored {
        /// The round.
        round: String,
        /// What is wrong, naming the unit and indicator.
        problem: String,
    },
    /// The engine refused the inputs (they were validated when written, so this is a defect).
    #[error(transparent)]
    Engine(#[from] dti_engine::EngineError),
}

fn database(action: &'static str) -> impl FnOnce(sqlx::Error) -> InputsError {
    move |source| InputsError::Database { action, source }
}

/// One indicator of a submitted version: its values, or why it does not apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reported {
    /// The unit's values.
    Values(IndicatorValues),
    /// Not applicable, with the unit's reason.
    NotApplicable(String),
}

/// A unit's submission as scored: which version, and how far its decisions have come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionInput {
    /// Submission id.
    pub id: Uuid,
    /// Its state.
    pub state: SubmissionState,
    /// Latest submitted version (the one scored; 0 when never submitted).
    pub version: i32,
    /// Revision of the submission's latest batch of decisions on that version (0: none).
    pub decisions_revision: i64,
}

/// One unit of the cohort with everything both bases are built from.
#[derive(Debug, Clone)]
pub struct UnitInput {
    /// The unit.
    pub unit: UnitId,
    /// Its submission, if it has one.
    pub submission: Option<SubmissionInput>,
    /// The latest submitted version's entries (empty when never submitted).
    pub reported: BTreeMap<IndicatorCode, Reported>,
    /// The verifiers' current decisions on that version.
    pub decisions: BTreeMap<IndicatorCode, StoredDecision>,
}

impl UnitInput {
    /// The unit's self-assessed values.
    pub fn self_values(&self) -> UnitValues {
        let mut values = UnitValues::new(self.unit.clone());
        for (code, entry) in &self.reported {
            match entry {
                Reported::Values(v) => {
                    values.values.insert(code.clone(), v.clone());
                }
                Reported::NotApplicable(_) => {
                    values.not_applicable.insert(code.clone());
                }
            }
        }
        values
    }

    /// The unit's verified values: the self-assessed ones with every decision applied.
    pub fn verified_values(&self) -> UnitValues {
        let mut values = self.self_values();
        for (code, stored) in &self.decisions {
            match &stored.decision {
                Decision::Accepted => {}
                Decision::Overridden(VerifiedValue::Values(v)) => {
                    values.not_applicable.remove(code);
                    values.values.insert(code.clone(), v.clone());
                }
                Decision::Overridden(VerifiedValue::NotApplicable) => {
                    values.values.remove(code);
                    values.not_applicable.insert(code.clone());
                }
                Decision::EvidenceInsufficient => {
                    values.values.remove(code);
                    values.not_applicable.remove(code);
                }
            }
        }
        values
    }
}

/// A round's cohort inputs, units in unit-id order.
#[derive(Debug, Clone)]
pub struct RoundInputs {
    /// The framework the round is scored with.
    pub framework: Arc<Framework>,
    /// Every unit of the cohort.
    pub units: Vec<UnitInput>,
}

impl RoundInputs {
    /// The self-assessed cohort.
    pub fn self_cohort(&self) -> Cohort {
        Cohort {
            framework: Arc::clone(&self.framework),
            units: self.units.iter().map(UnitInput::self_values).collect(),
        }
    }

    /// The verified cohort.
    pub fn verified_cohort(&self) -> Cohort {
        Cohort {
            framework: Arc::clone(&self.framework),
            units: self.units.iter().map(UnitInput::verified_values).collect(),
        }
    }

    /// The unit's inputs, if it belongs to the cohort.
    pub fn unit(&self, unit: &UnitId) -> Option<&UnitInput> {
        self.units.iter().find(|input| &input.unit == unit)
    }
}

type CohortRow = (String, Option<Uuid>, Option<String>, Option<i32>);
type ValueRow = (Uuid, String, Option<Value>, Option<String>);
type DecisionRow = (
    Uuid,
    String,
    String,
    Option<Value>,
    bool,
    Option<String>,
    String,
    chrono::DateTime<chrono::Utc>,
);

/// Reads the cohort inputs of `round` (scored with `framework`) on `conn`. Run it inside a
/// transaction to read one consistent state.
#[tracing::instrument(skip_all, fields(round = %round))]
pub async fn load_round(
    conn: &mut PgConnection,
    framework: &Arc<Framework>,
    round: &RoundRef,
) -> Result<RoundInputs, InputsError> {
    let year = stored_year(round);
    let framework_id = round.framework.as_str();
    let cohort: Vec<CohortRow> = sqlx::query_as(
        "SELECT ru.unit_id, s.id, s.state, s.latest_version FROM round_units ru \
         LEFT JOIN submissions s ON s.year = ru.year AND s.framework = ru.framework \
         AND s.unit_id = ru.unit_id \
         WHERE ru.year = $1 AND ru.framework = $2 ORDER BY ru.unit_id",
    )
    .bind(year)
    .bind(framework_id)
    .fetch_all(&mut *conn)
    .await
    .map_err(database("reading a round's cohort"))?;
    let values: Vec<ValueRow> = sqlx::query_as(
        "SELECT v.submission_id, v.indicator_code, v.variables, v.not_applicable_reason \
         FROM submission_version_values v JOIN submissions s \
         ON s.id = v.submission_id AND v.version = s.latest_version \
         WHERE s.year = $1 AND s.framework = $2",
    )
    .bind(year)
    .bind(framework_id)
    .fetch_all(&mut *conn)
    .await
    .map_err(database("reading submitted values"))?;
    let decisions: Vec<DecisionRow> = sqlx::query_as(
        "SELECT d.submission_id, d.indicator_code, d.decision, d.variables, d.not_applicable, \
         d.reason, d.decided_by, d.decided_at FROM verified_values d JOIN submissions s \
         ON s.id = d.submission_id AND d.version = s.latest_version \
         WHERE s.year = $1 AND s.framework = $2",
    )
    .bind(year)
    .bind(framework_id)
    .fetch_all(&mut *conn)
    .await
    .map_err(database("reading verified values"))?;
    let revisions: Vec<(Uuid, i64)> = sqlx::query_as(
        "SELECT b.submission_id, max(b.revision) FROM verification_batches b JOIN submissions s \
         ON s.id = b.submission_id AND b.version = s.latest_version \
         WHERE s.year = $1 AND s.framework = $2 GROUP BY b.submission_id",
    )
    .bind(year)
    .bind(framework_id)
    .fetch_all(&mut *conn)
    .await
    .map_err(database("reading decision revisions"))?;
    assemble(framework, round, cohort, values, decisions, revisions)
}

/// Puts the rows read by [`load_round`] together, decoding every stored value.
fn assemble(
    framework: &Arc<Framework>,
    round: &RoundRef,
    cohort: Vec<CohortRow>,
    values: Vec<ValueRow>,
    decisions: Vec<DecisionRow>,
    revisions: Vec<(Uuid, i64)>,
) -> Result<RoundInputs, InputsError> {
    let stored = |problem: String| InputsError::Stored {
        round: round.to_string(),
        problem,
    };
    let revisions: BTreeMap<Uuid, i64> = revisions.into_iter().collect();
    let mut units = Vec::with_capacity(cohort.len());
    let mut position: BTreeMap<Uuid, usize> = BTreeMap::new();
    for (unit, id, state, version) in cohort {
        let unit =
            UnitId::parse(unit).map_err(|error| stored(format!("a cohort unit: {error}")))?;
        let submission = match (id, state, version) {
            (Some(id), Some(state), Some(version)) => {
                let state = state.parse().map_err(|_| {
                    stored(format!("unit {unit}: unknown submission state {state:?}"))
                })?;
                position.insert(id, units.len());
                Some(SubmissionInput {
                    id,
                    state,
                    version,
                    decisions_revision: revisions.get(&id).copied().unwrap_or(0),
                })
            }
            _ => None,
        };
        units.push(UnitInput {
            unit,
            submission,
            reported: BTreeMap::new(),
            decisions: BTreeMap::new(),
        });
    }
    for (id, code, variables, reason) in values {
        let Some(input) = position.get(&id).and_then(|&i| units.get_mut(i)) else {
            continue;
        };
        let (code, entry) =
            decode_reported(framework, &input.unit, &code, variables, reason).map_err(&stored)?;
        input.reported.insert(code, entry);
    }
    for (id, code, decision, variables, not_applicable, reason, decided_by, decided_at) in decisions
    {
        let Some(input) = position.get(&id).and_then(|&i| units.get_mut(i)) else {
            continue;
        };
        let (code, decision) = crate::decisions::decode_stored(
            framework,
            &input.unit,
            &code,
            &decision,
            variables,
            not_applicable,
        )
        .map_err(&stored)?;
        input.decisions.insert(
            code,
            StoredDecision {
                decision,
                reason,
                decided_by,
                decided_at,
            },
        );
    }
    Ok(RoundInputs {
        framework: Arc::clone(framework),
        units,
    })
}

/// Decodes one stored entry of a version (variables or a not-applicable reason).
pub fn decode_reported(
    framework: &Framework,
    unit: &UnitId,
    code: &str,
    variables: Option<Value>,
    not_applicable_reason: Option<String>,
) -> Result<(IndicatorCode, Reported), String> {
    let indicator = framework
        .indicator_by_str(code)
        .ok_or_else(|| format!("unit {unit}: indicator {code} is not in the framework"))?;
    let entry = match (variables, not_applicable_reason) {
        (_, Some(reason)) => Reported::NotApplicable(reason),
        (Some(Value::Object(map)), None) => {
            Reported::Values(decode_values(unit, code, indicator, map)?)
        }
        _ => {
            return Err(format!(
                "unit {unit}: indicator {code} has neither values nor a reason"
            ))
        }
    };
    Ok((indicator.code.clone(), entry))
}

/// Decodes stored variables with the domain's validation.
pub fn decode_values(
    unit: &UnitId,
    code: &str,
    indicator: &dti_domain::framework::Indicator,
    map: serde_json::Map<String, Value>,
) -> Result<IndicatorValues, String> {
    let decoded = decode_indicator_values(unit.as_str(), indicator, map);
    decoded.value.ok_or_else(|| {
        let problems: Vec<String> = decoded
            .issues
            .iter()
            .filter(|issue| issue.is_error())
            .map(ToString::to_string)
            .collect();
        format!(
            "unit {unit}: indicator {code} no longer validates: {}",
            problems.join("; ")
        )
    })
}

/// The entries of one submitted version, by indicator.
pub async fn load_version(
    conn: &mut PgConnection,
    framework: &Framework,
    unit: &UnitId,
    submission: Uuid,
    version: i32,
) -> Result<BTreeMap<IndicatorCode, Reported>, InputsError> {
    let rows: Vec<(String, Option<Value>, Option<String>)> = sqlx::query_as(
        "SELECT indicator_code, variables, not_applicable_reason FROM submission_version_values \
         WHERE submission_id = $1 AND version = $2",
    )
    .bind(submission)
    .bind(version)
    .fetch_all(&mut *conn)
    .await
    .map_err(database("reading a submitted version"))?;
    rows.into_iter()
        .map(|(code, variables, reason)| {
            decode_reported(framework, unit, &code, variables, reason).map_err(|problem| {
                InputsError::Stored {
                    round: format!("of submission {submission}"),
                    problem,
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use dti_domain::FrameworkCatalog;
    use serde_json::json;

    fn district() -> Arc<Framework> {
        let catalog = FrameworkCatalog::builtin().expect("frameworks");
        Arc::clone(catalog.get_str("hcm-2023-district").expect("district"))
    }

    fn values(framework: &Framework, unit: &UnitId, code: &str, json: Value) -> IndicatorValues {
        let Value::Object(map) = json else {
            panic!("an object")
        };
        let indicator = framework.indicator_by_str(code).expect("indicator");
        decode_values(unit, code, indicator, map).expect("valid values")
    }

    fn decided(decision: Decision) -> StoredDecision {
        StoredDecision {
            decision,
            reason: Some("checked against the evidence".into()),
            decided_by: "v".into(),
            decided_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn verified_values_apply_each_kind_of_decision() {
        let framework = district();
        let unit = UnitId::parse("quan-1").expect("id");
        let code = |c: &str| IndicatorCode::parse(c).expect("code");
        let mut input = UnitInput {
            unit: unit.clone(),
            submission: None,
            reported: BTreeMap::new(),
            decisions: BTreeMap::new(),
        };
        let reported_12 = values(&framework, &unit, "1.2", json!({"a": 7, "b": 34}));
        input
            .reported
            .insert(code("1.2"), Reported::Values(reported_12.clone()));
        input.reported.insert(
            code("2.1"),
            Reported::Values(values(&framework, &unit, "2.1", json!({"yes": true}))),
        );
        input
            .reported
            .insert(code("7.3"), Reported::NotApplicable("none here".into()));
        input.reported.insert(
            code("1.1"),
            Reported::Values(values(
                &framework,
                &unit,
                "1.1",
                json!({"head_role": "deputy"}),
            )),
        );
        let verified_12 = values(&framework, &unit, "1.2", json!({"a": 5, "b": 34}));
        input.decisions.insert(
            code("1.2"),
            decided(Decision::Overridden(VerifiedValue::Values(
                verified_12.clone(),
            ))),
        );
        input
            .decisions
            .insert(code("2.1"), decided(Decision::EvidenceInsufficient));
        input.decisions.insert(
            code("1.1"),
            decided(Decision::Overridden(VerifiedValue::NotApplicable)),
        );
        input
            .decisions
            .insert(code("7.3"), decided(Decision::Accepted));

        let own = input.self_values();
        assert_eq!(own.values.get(&code("1.2")), Some(&reported_12));
        assert!(own.not_applicable.contains(&code("7.3")));

        let verified = input.verified_values();
        assert_eq!(verified.values.get(&code("1.2")), Some(&verified_12));
        assert!(!verified.values.contains_key(&code("2.1")));
        assert!(!verified.not_applicable.contains(&code("2.1")));
        assert!(!verified.values.contains_key(&code("1.1")));
        assert!(verified.not_applicable.contains(&code("1.1")));
        assert!(
            verified.not_applicable.contains(&code("7.3")),
            "accepted stays"
        );
    }

    #[test]
    fn a_stored_row_that_no_longer_validates_is_an_error() {
        let framework = district();
        let unit = UnitId::parse("quan-1").expect("id");
        let broken = decode_reported(&framework, &unit, "1.2", Some(json!({"a": 7})), None);
        assert!(broken.unwrap_err().contains("indicator 1.2"));
        let unknown = decode_reported(&framework, &unit, "99.9", Some(json!({})), None);
        assert!(unknown.is_err());
        let reason = decode_reported(&framework, &unit, "7.3", None, Some("n/a".into()));
        assert_eq!(
            reason.expect("decodes").1,
            Reported::NotApplicable("n/a".into())
        );
    }
}
