//! Validating a request's decisions on a submission: every problem at once, naming unit,
//! indicator and field; nothing is recorded when there is one.

use std::collections::BTreeMap;

use dti_domain::framework::{Framework, Indicator};
use dti_domain::values::{decode_indicator_values, InputIssue};
use dti_domain::{IndicatorCode, UnitId};
use dti_i18n::Message;
use dti_service_kit::status::{FieldViolation, InvalidRequest};

use crate::model::{
    Decision, DecisionKind, NewDecision, RequestedDecision, VerifiedValue, MAX_TEXT_BYTES,
};
use crate::stage::DecisionStage;
use crate::VerificationError;

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
            Message::new("verification-no-decisions"),
        ));
    }
    if requested.len() > max_per_request {
        return Err(VerificationError::invalid_field(
            "decisions",
            Message::new("verification-too-many-decisions")
                .arg("count", requested.len())
                .arg("max", max_per_request),
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
                Message::new("submission-not-scored")
                    .arg("at", format!("decisions[{position}]"))
                    .arg("framework", framework.id.to_string()),
            ));
            continue;
        };
        if decided.contains_key(&indicator.code) {
            violations.push(FieldViolation::new(
                place,
                Message::new("verification-decided-twice")
                    .arg("at", format!("decisions[{position}]")),
            ));
            continue;
        }
        let reason = request.reason.trim();
        let Some(kind) = request.kind else {
            violations.push(FieldViolation::new(
                format!("{place} / kind"),
                Message::new("verification-kind-needed"),
            ));
            continue;
        };
        let needs_reason = kind != DecisionKind::Accepted || stage == DecisionStage::Correction;
        if reason.is_empty() && needs_reason {
            violations.push(FieldViolation::new(
                format!("{place} / reason"),
                Message::new(match stage {
                    DecisionStage::Correction => "verification-correction-reason",
                    DecisionStage::Verification => "verification-decision-reason",
                }),
            ));
        }
        if reason.len() > MAX_TEXT_BYTES {
            violations.push(FieldViolation::new(
                format!("{place} / reason"),
                Message::new("dtictl-reason-too-long").arg("max", MAX_TEXT_BYTES),
            ));
        }
        let decision = match kind {
            DecisionKind::Accepted | DecisionKind::EvidenceInsufficient => {
                if !request.variables.is_empty() || request.not_applicable {
                    violations.push(FieldViolation::new(
                        format!("{place} / variables"),
                        Message::new("verification-value-only-override"),
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
        Err(VerificationError::from(InvalidRequest {
            summary: Message::new("verification-decisions-rejected")
                .arg("unit", unit.to_string())
                .into(),
            violations,
        }))
    }
}

/// The verified value of an override, or `None` after recording why it is invalid.
fn override_value(
    place: &str,
    unit: &UnitId,
    indicator: &Indicator,
    request: &RequestedDecision,
    violations: &mut Vec<FieldViolation>,
) -> Option<(VerifiedValue, Vec<InputIssue>)> {
    match (request.not_applicable, request.variables.is_empty()) {
        (true, true) => return Some((VerifiedValue::NotApplicable, Vec::new())),
        (true, false) => {
            violations.push(FieldViolation::new(
                format!("{place} / variables"),
                Message::new("verification-override-both"),
            ));
            return None;
        }
        (false, true) => {
            violations.push(FieldViolation::new(
                format!("{place} / variables"),
                Message::new("verification-override-empty"),
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

#[cfg(test)]
mod tests {
    use super::*;
    use dti_domain::FrameworkCatalog;
    use dti_service_kit::service_error::Refusal;
    use serde_json::json;
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
            VerificationError::Refused(Refusal::Invalid(InvalidRequest { violations, .. })) => {
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
}
