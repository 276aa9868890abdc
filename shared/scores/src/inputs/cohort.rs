//! The inputs read: each unit with its submission, the entries of its latest submitted version
//! and the decisions on it; the values and cohorts on each basis built from them, and the
//! identity a unit's score row records.

use std::collections::BTreeMap;
use std::sync::Arc;

use dti_domain::framework::Framework;
use dti_domain::round::SubmissionState;
use dti_domain::values::{Cohort, UnitValues};
use dti_domain::{IndicatorCode, SubmissionId, UnitId};
use serde_json::Value;

use super::model::{Reported, StoredDecision};
use crate::Basis;

/// What identifies the input of a unit's score row: scores computed from equal identities are
/// equal.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InputIdentity {
    /// The unit's submission, none before it submitted.
    pub submission_id: Option<SubmissionId>,
    /// Submitted version, 0 before the first.
    pub version: i32,
    /// Digest of the verifier decisions applied ('' on the self-assessed basis).
    pub decisions_digest: String,
}

/// A unit's submission as scored: which version, and how far its decisions have come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionInput {
    /// Submission id.
    pub id: SubmissionId,
    /// Its state.
    pub state: SubmissionState,
    /// Latest submitted version (the one scored; 0 when never submitted).
    pub version: i32,
    /// Revision of the submission's latest batch of decisions on that version (0: none, and
    /// always 0 from [`load_units`](super::load_units)).
    pub decisions_revision: i64,
    /// [`decisions_digest!`](crate::decisions_digest) of the decisions on that version ('' without decisions, and when
    /// they were not read).
    pub decisions_digest: String,
}

/// One unit with everything both bases are built from.
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
    /// That version's general information by field key (unscored; empty when never submitted
    /// or not read).
    pub general_info: BTreeMap<String, Value>,
}

impl UnitInput {
    /// The unit's self-assessed values, with its general information.
    pub fn self_values(&self) -> UnitValues {
        let mut values = UnitValues::new(self.unit.clone());
        values.general_info.clone_from(&self.general_info);
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
            stored.decision.apply(code, &mut values);
        }
        values
    }

    /// The unit's values on `basis`.
    pub fn values(&self, basis: Basis) -> UnitValues {
        match basis {
            Basis::SelfAssessed => self.self_values(),
            Basis::Verified => self.verified_values(),
        }
    }

    /// The unit's values on each of `bases`, in their order, built once and shared: while no
    /// verifier has decided anything on the version, the verified values are the self-assessed
    /// ones, the same allocation.
    pub fn shared_values(&self, bases: &[Basis]) -> Vec<Arc<UnitValues>> {
        let mut own: Option<Arc<UnitValues>> = None;
        let mut own_values = || Arc::clone(own.get_or_insert_with(|| Arc::new(self.self_values())));
        bases
            .iter()
            .map(|&basis| match basis {
                Basis::Verified if !self.decisions.is_empty() => Arc::new(self.verified_values()),
                Basis::SelfAssessed | Basis::Verified => own_values(),
            })
            .collect()
    }

    /// What the unit's values on `basis` are computed from: nothing before its first submitted
    /// version; the decisions' digest only on the verified basis.
    pub fn identity(&self, basis: Basis) -> InputIdentity {
        let Some(submission) = self.submission.as_ref().filter(|s| s.version > 0) else {
            return InputIdentity::default();
        };
        InputIdentity {
            submission_id: Some(submission.id),
            version: submission.version,
            decisions_digest: match basis {
                Basis::SelfAssessed => String::new(),
                Basis::Verified => submission.decisions_digest.clone(),
            },
        }
    }
}

/// Inputs of units of one round.
#[derive(Debug, Clone)]
pub struct RoundInputs {
    /// The framework the round is scored with.
    pub framework: Arc<Framework>,
    /// The units read.
    pub units: Vec<UnitInput>,
}

impl RoundInputs {
    /// The cohort on `basis`.
    pub fn cohort(&self, basis: Basis) -> Cohort {
        Cohort {
            framework: Arc::clone(&self.framework),
            units: self.units.iter().map(|unit| unit.values(basis)).collect(),
        }
    }

    /// The self-assessed cohort.
    pub fn self_cohort(&self) -> Cohort {
        self.cohort(Basis::SelfAssessed)
    }

    /// The verified cohort.
    pub fn verified_cohort(&self) -> Cohort {
        self.cohort(Basis::Verified)
    }

    /// The unit's inputs, if it was read.
    pub fn unit(&self, unit: &UnitId) -> Option<&UnitInput> {
        self.units.iter().find(|input| &input.unit == unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::decode::decode_values;
    use crate::inputs::model::{Decision, VerifiedValue};
    use dti_domain::values::IndicatorValues;
    use dti_domain::FrameworkCatalog;
    use serde_json::{json, Value};

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
            general_info: BTreeMap::new(),
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

        let [own_shared, verified_shared] =
            <[_; 2]>::try_from(input.shared_values(&[Basis::SelfAssessed, Basis::Verified]))
                .expect("one per basis");
        assert_eq!(*own_shared, own);
        assert_eq!(*verified_shared, verified, "decisions applied");

        input.decisions.clear();
        let both = input.shared_values(&[Basis::Verified, Basis::SelfAssessed]);
        assert_eq!(
            *both[0], own,
            "no decision: the verified values are the self-assessed"
        );
        assert!(Arc::ptr_eq(&both[0], &both[1]), "built once, shared");
    }
}
