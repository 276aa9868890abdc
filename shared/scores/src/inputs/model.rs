//! The typed inputs of scoring: a submitted version's entries ([`Reported`]), a verifier's
//! decision on one indicator ([`Decision`]) and the one rule that applies a decision to a unit's
//! values ([`Decision::apply`]), as the header of table `verified_values` defines it:
//!
//! - accepted → the self-assessed value stands;
//! - overridden → the verified variables, or not applicable, replace it;
//! - evidence insufficient → no value (the indicator scores 0 as missing);
//! - no decision yet → the self-assessed value stands.
//!
//! This module depends on nothing else in the crate.

use chrono::{DateTime, Utc};
use dti_domain::values::{IndicatorValues, UnitValues};
use dti_domain::IndicatorCode;
use serde_json::Value;

/// One indicator of a submitted version: its values, or why it does not apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reported {
    /// The unit's values.
    Values(IndicatorValues),
    /// Not applicable, with the unit's reason.
    NotApplicable(String),
}

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

/// What a decision does to the indicator's self-assessed entry.
enum Effect<'a> {
    /// The entry stands.
    Keeps,
    /// The entry is removed: no value.
    Removes,
    /// The verified value replaces the entry.
    Replaces(&'a VerifiedValue),
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

    /// The stored `variables` and `not_applicable` columns of `verified_values`.
    pub fn stored_columns(&self) -> (Option<Value>, bool) {
        match self {
            Decision::Overridden(VerifiedValue::Values(values)) => (
                Some(serde_json::to_value(values).unwrap_or(Value::Null)),
                false,
            ),
            Decision::Overridden(VerifiedValue::NotApplicable) => (None, true),
            Decision::Accepted | Decision::EvidenceInsufficient => (None, false),
        }
    }

    /// The one reading of a decision (see the module documentation).
    fn effect(&self) -> Effect<'_> {
        match self {
            Decision::Accepted => Effect::Keeps,
            Decision::EvidenceInsufficient => Effect::Removes,
            Decision::Overridden(value) => Effect::Replaces(value),
        }
    }

    /// Applies the decision on indicator `code` to a unit's values.
    pub fn apply(&self, code: &IndicatorCode, values: &mut UnitValues) {
        match self.effect() {
            Effect::Keeps => {}
            Effect::Removes => {
                values.values.remove(code);
                values.not_applicable.remove(code);
            }
            Effect::Replaces(VerifiedValue::Values(verified)) => {
                values.not_applicable.remove(code);
                values.values.insert(code.clone(), verified.clone());
            }
            Effect::Replaces(VerifiedValue::NotApplicable) => {
                values.values.remove(code);
                values.not_applicable.insert(code.clone());
            }
        }
    }

    /// The verified entry of an indicator: the self-assessed one unless `decision` replaced or
    /// removed it (a verified not applicable carries no reason of the unit's).
    pub fn verified_entry(
        decision: Option<&Decision>,
        reported: Option<&Reported>,
    ) -> Option<Reported> {
        match decision.map(Decision::effect) {
            None | Some(Effect::Keeps) => reported.cloned(),
            Some(Effect::Removes) => None,
            Some(Effect::Replaces(VerifiedValue::Values(values))) => {
                Some(Reported::Values(values.clone()))
            }
            Some(Effect::Replaces(VerifiedValue::NotApplicable)) => {
                Some(Reported::NotApplicable(String::new()))
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use dti_domain::{UnitId, VariableName, VariableValue};

    fn count(name: &str, n: u64) -> IndicatorValues {
        IndicatorValues::from_pairs([(
            VariableName::parse(name).expect("name"),
            VariableValue::Count(n),
        )])
    }

    fn code(c: &str) -> IndicatorCode {
        IndicatorCode::parse(c).expect("code")
    }

    #[test]
    fn the_verified_entry_follows_the_decision() {
        let reported = Reported::NotApplicable("no such service".into());
        assert_eq!(
            Decision::verified_entry(None, Some(&reported)),
            Some(reported.clone())
        );
        assert_eq!(
            Decision::verified_entry(Some(&Decision::Accepted), Some(&reported)),
            Some(reported.clone())
        );
        assert_eq!(
            Decision::verified_entry(Some(&Decision::EvidenceInsufficient), Some(&reported)),
            None
        );
        assert_eq!(
            Decision::verified_entry(
                Some(&Decision::Overridden(VerifiedValue::NotApplicable)),
                None
            ),
            Some(Reported::NotApplicable(String::new()))
        );
    }

    #[test]
    fn applying_a_decision_agrees_with_the_verified_entry() {
        let decisions = [
            Decision::Accepted,
            Decision::EvidenceInsufficient,
            Decision::Overridden(VerifiedValue::NotApplicable),
            Decision::Overridden(VerifiedValue::Values(count("a", 5))),
        ];
        let entries = [
            None,
            Some(Reported::Values(count("a", 7))),
            Some(Reported::NotApplicable("none here".into())),
        ];
        for decision in &decisions {
            for entry in &entries {
                let mut values = UnitValues::new(UnitId::parse("quan-1").expect("id"));
                match entry {
                    Some(Reported::Values(v)) => {
                        values.values.insert(code("1.2"), v.clone());
                    }
                    Some(Reported::NotApplicable(_)) => {
                        values.not_applicable.insert(code("1.2"));
                    }
                    None => {}
                }
                decision.apply(&code("1.2"), &mut values);
                let applied = match (
                    values.values.get(&code("1.2")),
                    values.not_applicable.contains(&code("1.2")),
                ) {
                    (Some(v), false) => Some(Reported::Values(v.clone())),
                    (None, true) => Some(Reported::NotApplicable(String::new())),
                    (None, false) => None,
                    (Some(_), true) => panic!("both a value and not applicable"),
                };
                let expected = match Decision::verified_entry(Some(decision), entry.as_ref()) {
                    Some(Reported::NotApplicable(_)) => {
                        Some(Reported::NotApplicable(String::new()))
                    }
                    other => other,
                };
                assert_eq!(applied, expected, "{decision:?} on {entry:?}");
            }
        }
    }
}
