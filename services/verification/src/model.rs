//! The verification model the other modules share: the entries and decisions read by the one
//! loader of `dti_scores::inputs` (re-exported here), the decisions a request carries before
//! and after validation, and the limits and indicator set a verifier works with. It depends on
//! nothing else in this crate, so every module may use it without an import cycle.

use dti_domain::framework::{Framework, Indicator};
use dti_domain::IndicatorCode;
use serde_json::{json, Value};

pub use dti_scores::inputs::{Decision, DecisionKind, Reported, StoredDecision, VerifiedValue};

/// Longest reason or question accepted, in bytes.
pub const MAX_TEXT_BYTES: usize = 2000;

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
    let (variables, not_applicable) = decision.stored_columns();
    json!({
        "decision": decision.kind().as_str(),
        "variables": variables,
        "not_applicable": not_applicable,
        "reason": reason,
    })
}

/// The verified entry of an indicator: the self-assessed one unless a decision replaced it
/// ([`Decision::verified_entry`]).
pub fn verified_entry(
    reported: Option<&Reported>,
    decision: Option<&Decision>,
) -> Option<Reported> {
    Decision::verified_entry(decision, reported)
}

/// The indicators a verifier decides on: every scored indicator that counts toward a group.
pub fn decided_indicators(framework: &Framework) -> impl Iterator<Item = &Indicator> {
    framework
        .top_level_indicators()
        .filter(|indicator| indicator.rule.is_some())
}
