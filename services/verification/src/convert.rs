//! Conversions at the gRPC edge: protobuf requests to the service's inputs, and its results
//! to protobuf.

use dti_domain::values::IndicatorValues;
use dti_domain::IndicatorCode;
use dti_engine::{IndicatorScore, Points};
use dti_proto::dti::common::v1 as common;
use dti_proto::dti::verification::v1 as pb;
use serde_json::Value;

use crate::evidence::EvidenceDocument;
use crate::model::{
    verified_entry, Decision, DecisionKind, Reported, RequestedDecision, StoredDecision,
};
use crate::objections::ObjectionStatus;

pub use dti_proto::convert::{timestamp, variable_to_json, variable_to_proto};

fn values_to_proto(code: &IndicatorCode, values: &IndicatorValues) -> common::IndicatorValue {
    common::IndicatorValue {
        indicator_code: code.to_string(),
        variables: values
            .iter()
            .map(|(name, value)| (name.to_string(), variable_to_proto(value)))
            .collect(),
    }
}

/// An entry as protobuf (`None` for no value).
pub fn reported_to_proto(
    code: &IndicatorCode,
    entry: Option<&Reported>,
) -> Option<pb::ReportedValue> {
    entry.map(|entry| match entry {
        Reported::Values(values) => pb::ReportedValue {
            values: Some(values_to_proto(code, values)),
            not_applicable: false,
            not_applicable_reason: String::new(),
        },
        Reported::NotApplicable(reason) => pb::ReportedValue {
            values: None,
            not_applicable: true,
            not_applicable_reason: reason.clone(),
        },
    })
}

/// A score as protobuf.
pub fn score_to_proto(score: Option<&IndicatorScore>) -> Option<pb::Score> {
    score.map(|score| pb::Score {
        points: score.score.to_string(),
        cents: score.score.cents(),
        outcome: serde_json::to_value(score.outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        summary: score
            .explanation
            .as_ref()
            .map(|e| e.summary.clone())
            .unwrap_or_default(),
        explanation_json: score
            .explanation
            .as_ref()
            .and_then(|e| serde_json::to_string(e).ok())
            .unwrap_or_default(),
    })
}

/// A decision kind from its protobuf number (`None` when unspecified or unknown).
pub fn decision_kind(raw: i32) -> Option<DecisionKind> {
    match pb::DecisionKind::try_from(raw).ok()? {
        pb::DecisionKind::Accepted => Some(DecisionKind::Accepted),
        pb::DecisionKind::Overridden => Some(DecisionKind::Overridden),
        pb::DecisionKind::EvidenceInsufficient => Some(DecisionKind::EvidenceInsufficient),
        pb::DecisionKind::Unspecified => None,
    }
}

/// A decision kind as protobuf.
pub fn decision_kind_to_proto(kind: DecisionKind) -> pb::DecisionKind {
    match kind {
        DecisionKind::Accepted => pb::DecisionKind::Accepted,
        DecisionKind::Overridden => pb::DecisionKind::Overridden,
        DecisionKind::EvidenceInsufficient => pb::DecisionKind::EvidenceInsufficient,
    }
}

/// A stored decision as protobuf.
pub fn decision_to_proto(code: &IndicatorCode, stored: &StoredDecision) -> pb::Decision {
    let verified = match &stored.decision {
        Decision::Overridden(_) => verified_entry(None, Some(&stored.decision)),
        _ => None,
    };
    pb::Decision {
        kind: decision_kind_to_proto(stored.decision.kind()) as i32,
        verified_value: reported_to_proto(code, verified.as_ref()),
        reason: stored.reason.clone().unwrap_or_default(),
        decided_by: stored.decided_by.clone(),
        decided_at: Some(timestamp(stored.decided_at)),
    }
}

/// A requested decision, its variables converted to the contract's JSON.
pub fn requested_decision(decision: &pb::IndicatorDecision) -> RequestedDecision {
    let mut variables: Vec<(String, Result<Value, String>)> = decision
        .variables
        .iter()
        .map(|(name, value)| (name.clone(), variable_to_json(value)))
        .collect();
    variables.sort_by(|a, b| a.0.cmp(&b.0));
    RequestedDecision {
        indicator_code: decision.indicator_code.trim().to_owned(),
        kind: decision_kind(decision.kind),
        variables,
        not_applicable: decision.not_applicable,
        reason: decision.reason.clone(),
    }
}

/// Evidence documents as protobuf.
pub fn evidence_to_proto(documents: &[EvidenceDocument]) -> Vec<pb::EvidenceDocument> {
    documents
        .iter()
        .map(|d| pb::EvidenceDocument {
            evidence_id: d.id.to_string(),
            file_name: d.file_name.clone(),
            content_type: d.content_type.clone(),
            size_bytes: u64::try_from(d.size_bytes).unwrap_or(0),
            sha256: d.sha256.clone(),
            uploaded_at: Some(timestamp(d.uploaded_at)),
        })
        .collect()
}

/// An objection status from the protobuf outcome (`None` when unspecified).
pub fn objection_outcome(raw: i32) -> Option<ObjectionStatus> {
    match pb::ObjectionOutcome::try_from(raw).ok()? {
        pb::ObjectionOutcome::Upheld => Some(ObjectionStatus::Upheld),
        pb::ObjectionOutcome::Rejected => Some(ObjectionStatus::Rejected),
        pb::ObjectionOutcome::Unspecified => None,
    }
}

/// An objection status as the protobuf outcome.
pub fn objection_outcome_to_proto(status: ObjectionStatus) -> pb::ObjectionOutcome {
    match status {
        ObjectionStatus::Open => pb::ObjectionOutcome::Unspecified,
        ObjectionStatus::Upheld => pb::ObjectionOutcome::Upheld,
        ObjectionStatus::Rejected => pb::ObjectionOutcome::Rejected,
    }
}

/// Points as text with two decimals.
pub fn points(points: Points) -> String {
    points.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use dti_proto::dti::common::v1::variable_value::Value as PbValue;
    use serde_json::json;

    #[test]
    fn request_values_become_contract_json_and_unset_ones_are_named() {
        let decision = pb::IndicatorDecision {
            indicator_code: " 1.2 ".into(),
            kind: pb::DecisionKind::Overridden as i32,
            variables: [
                (
                    "a".to_owned(),
                    common::VariableValue {
                        value: Some(PbValue::Count(5)),
                    },
                ),
                ("b".to_owned(), common::VariableValue { value: None }),
            ]
            .into_iter()
            .collect(),
            not_applicable: false,
            reason: "recounted".into(),
        };
        let requested = requested_decision(&decision);
        assert_eq!(requested.indicator_code, "1.2");
        assert_eq!(requested.kind, Some(DecisionKind::Overridden));
        assert_eq!(requested.variables[0], ("a".to_owned(), Ok(json!(5))));
        assert!(requested.variables[1].1.is_err());
        assert_eq!(decision_kind(0), None);
        assert_eq!(decision_kind(42), None);
        assert_eq!(
            objection_outcome(pb::ObjectionOutcome::Rejected as i32),
            Some(ObjectionStatus::Rejected)
        );
    }
}
