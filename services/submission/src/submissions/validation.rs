//! Checking a request before anything is written: each indicator's values and the general
//! information validated with the domain (the same checks and messages as `dtictl`), not-applicable
//! marks and their reasons, client request ids and request sizes. Every problem of a request is
//! reported at once, naming unit, indicator and variable; one problem refuses the whole request.
//! Problems are written in the request's language (`dti-i18n` messages).

use dti_service_kit::service_error::Refusal;
use std::collections::BTreeMap;

use dti_domain::framework::{Framework, Indicator};
use dti_domain::values::{
    decode_general_info_fields, decode_indicator_values, unit_warnings, IndicatorValues,
    InputIssue, UnitValues, GENERAL_INFO_PLACE,
};
use dti_domain::UnitId;
use dti_i18n::Message;
use dti_service_kit::status::{FieldViolation, InvalidRequest};

use serde_json::Map;

use super::model::{Entry, GeneralInfo, GeneralInfoInput, IndicatorInput};
use crate::SubmissionError;

/// Longest not-applicable reason accepted, in bytes.
const MAX_TEXT_BYTES: usize = 2000;

/// Longest client request id accepted, in bytes.
const MAX_REQUEST_ID_BYTES: usize = 200;

/// Validated values by indicator code.
pub(super) type ValidValues = BTreeMap<String, IndicatorValues>;

/// The scored indicator `code` of `framework`, if it is one.
pub(super) fn scored_indicator<'f>(framework: &'f Framework, code: &str) -> Option<&'f Indicator> {
    framework
        .indicator_by_str(code)
        .filter(|indicator| indicator.rule.is_some())
}

/// Refuses a request that sets no values (indicators and general-information fields together),
/// or more than `max`.
pub(super) fn check_values_count(count: usize, max: usize) -> Result<(), SubmissionError> {
    if count == 0 {
        return Err(SubmissionError::invalid_field(
            "values",
            Message::new("submission-no-values"),
        ));
    }
    if count > max {
        return Err(SubmissionError::invalid_field(
            "values",
            Message::new("submission-too-many-values")
                .arg("count", count)
                .arg("max", max),
        ));
    }
    Ok(())
}

/// Refuses an assessment of more than `max` indicators (values and marks together).
pub(super) fn check_assessment_size(count: usize, max: usize) -> Result<(), SubmissionError> {
    if count > max {
        return Err(SubmissionError::invalid_field(
            "values",
            Message::new("submission-assessment-too-large").arg("max", max),
        ));
    }
    Ok(())
}

/// Validates every indicator of a request: all problems at once, nothing stored on any error.
/// Returns the values by indicator code, and the warnings.
pub(super) fn validate_values(
    framework: &Framework,
    unit: &UnitId,
    values: &[IndicatorInput],
) -> Result<(ValidValues, Vec<InputIssue>), SubmissionError> {
    let mut violations = Vec::new();
    let mut warnings = Vec::new();
    let mut decoded = BTreeMap::new();
    for (position, value) in values.iter().enumerate() {
        let place = format!("unit {unit} / indicator {}", value.code);
        let Some(indicator) = scored_indicator(framework, &value.code) else {
            violations.push(FieldViolation::new(
                place,
                Message::new("submission-not-scored")
                    .arg("at", format!("values[{position}]"))
                    .arg("framework", framework.id.to_string()),
            ));
            continue;
        };
        if decoded.contains_key(indicator.code.as_str()) {
            violations.push(FieldViolation::new(
                place,
                Message::new("submission-indicator-twice").arg("at", format!("values[{position}]")),
            ));
            continue;
        }
        let mut pairs = Vec::with_capacity(value.variables.len());
        for (name, variable) in &value.variables {
            match variable {
                Ok(json) => pairs.push((name.clone(), json.clone())),
                Err(problem) => violations.push(FieldViolation::new(
                    format!("{place} / variable {name}"),
                    problem.clone(),
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
    unless_violated(
        (decoded, warnings),
        violations,
        "submission-values-rejected",
        unit,
    )
}

/// Validates a request's general-information fields against the framework: all problems at
/// once, each naming the unit and the field (`unit U / general information KEY`).
pub(super) fn validate_general_info(
    framework: &Framework,
    unit: &UnitId,
    fields: &[GeneralInfoInput],
) -> Result<GeneralInfo, SubmissionError> {
    let mut violations = Vec::new();
    let mut readable = Map::new();
    for (key, value) in fields {
        match value {
            Ok(json) => {
                readable.insert(key.clone(), json.clone());
            }
            Err(problem) => violations.push(FieldViolation::new(
                format!("unit {unit} / {GENERAL_INFO_PLACE}{key}"),
                problem.clone(),
            )),
        }
    }
    let (decoded, issues) = decode_general_info_fields(framework, unit.as_str(), readable);
    violations.extend(
        issues
            .iter()
            .filter(|issue| issue.is_error())
            .map(FieldViolation::from),
    );
    unless_violated(decoded, violations, "submission-values-rejected", unit)
}

/// Both outcomes, or one refusal with the problems of both: a request's values and its general
/// information are reported together.
pub(super) fn together<A, B>(
    first: Result<A, SubmissionError>,
    second: Result<B, SubmissionError>,
) -> Result<(A, B), SubmissionError> {
    match (first, second) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (
            Err(SubmissionError::Refused(Refusal::Invalid(mut a))),
            Err(SubmissionError::Refused(Refusal::Invalid(b))),
        ) => {
            a.violations.extend(b.violations);
            Err(SubmissionError::from(a))
        }
        (Err(error), _) | (_, Err(error)) => Err(error),
    }
}

/// The warnings about a submission's values ([`unit_warnings`]: each indicator's, e.g. a
/// numerator above its denominator, and the general-information cross-checks): what a unit is
/// shown on submit.
pub(super) fn entry_warnings(
    framework: &Framework,
    unit: &UnitId,
    entries: &[(String, Entry)],
    general_info: &GeneralInfo,
) -> Vec<InputIssue> {
    let mut values = UnitValues::new(unit.clone());
    values.general_info = general_info.clone();
    for (code, entry) in entries {
        if let (Entry::Values(entry), Some(indicator)) = (entry, scored_indicator(framework, code))
        {
            values.values.insert(indicator.code.clone(), entry.clone());
        }
    }
    unit_warnings(framework, &values)
}

/// Checks not-applicable marks (code, reason): a scored indicator, once, not also given
/// values, with a reason. Returns the marks with canonical codes and trimmed reasons.
pub(super) fn validate_not_applicable(
    framework: &Framework,
    unit: &UnitId,
    marks: &[(String, String)],
    values: &ValidValues,
) -> Result<Vec<(String, String)>, SubmissionError> {
    let mut violations = Vec::new();
    let mut checked: Vec<(String, String)> = Vec::with_capacity(marks.len());
    for (position, (code, reason)) in marks.iter().enumerate() {
        let place = format!("unit {unit} / indicator {code}");
        let Some(indicator) = scored_indicator(framework, code) else {
            violations.push(FieldViolation::new(
                place,
                Message::new("submission-not-scored")
                    .arg("at", format!("not_applicable[{position}]"))
                    .arg("framework", framework.id.to_string()),
            ));
            continue;
        };
        let code = indicator.code.to_string();
        let reason = reason.trim();
        if values.contains_key(&code) || checked.iter().any(|(c, _)| *c == code) {
            violations.push(FieldViolation::new(
                place,
                Message::new("submission-listed-twice")
                    .arg("at", format!("not_applicable[{position}]")),
            ));
        } else if !is_reason(reason) {
            violations.push(FieldViolation::new(
                place,
                Message::new("submission-mark-needs-reason")
                    .arg("at", format!("not_applicable[{position}].reason"))
                    .arg("max", MAX_TEXT_BYTES),
            ));
        } else {
            checked.push((code, reason.to_owned()));
        }
    }
    unless_violated(checked, violations, "submission-assessment-rejected", unit)
}

/// `checked` when there is no violation; otherwise a refusal of the unit's request, summarized
/// by the catalogue message `summary` (it names the unit), with every violation.
fn unless_violated<T>(
    checked: T,
    violations: Vec<FieldViolation>,
    summary: &'static str,
    unit: &UnitId,
) -> Result<T, SubmissionError> {
    if violations.is_empty() {
        return Ok(checked);
    }
    Err(SubmissionError::from(InvalidRequest {
        summary: Message::new(summary).arg("unit", unit.to_string()).into(),
        violations,
    }))
}

/// A not-applicable reason, trimmed, or an invalid-request error.
pub(super) fn checked_reason(raw: &str) -> Result<&str, SubmissionError> {
    let reason = raw.trim();
    if !is_reason(reason) {
        return Err(SubmissionError::invalid_field(
            "reason",
            Message::new("submission-reason-needed").arg("max", MAX_TEXT_BYTES),
        ));
    }
    Ok(reason)
}

/// True for a trimmed reason of acceptable length.
fn is_reason(reason: &str) -> bool {
    !reason.is_empty() && reason.len() <= MAX_TEXT_BYTES
}

/// A client request id, trimmed, or an invalid-request error.
pub(super) fn checked_request_id(raw: &str) -> Result<&str, SubmissionError> {
    let request_id = raw.trim();
    if request_id.is_empty() || request_id.len() > MAX_REQUEST_ID_BYTES {
        return Err(SubmissionError::invalid_field(
            "client_request_id",
            Message::new("submission-request-id").arg("max", MAX_REQUEST_ID_BYTES),
        ));
    }
    Ok(request_id)
}

/// The scored indicator `code` of the submission's framework, or an invalid-request error
/// naming the unit and the indicator.
pub(super) fn requested_indicator<'f>(
    framework: &'f Framework,
    unit: &UnitId,
    code: &str,
) -> Result<&'f Indicator, SubmissionError> {
    scored_indicator(framework, code).ok_or_else(|| {
        SubmissionError::from(InvalidRequest {
            summary: Message::new("submission-unknown-indicator").into(),
            violations: vec![FieldViolation::new(
                format!("unit {unit} / indicator {code}"),
                Message::new("submission-indicator-not-scored")
                    .arg("framework", framework.id.to_string()),
            )],
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dti_domain::FrameworkCatalog;
    use serde_json::json;

    fn input(
        code: &str,
        variables: Vec<(&str, Result<serde_json::Value, String>)>,
    ) -> IndicatorInput {
        IndicatorInput {
            code: code.to_owned(),
            variables: variables
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect(),
        }
    }

    fn violations(values: &[IndicatorInput]) -> Vec<(String, String)> {
        let catalog = FrameworkCatalog::builtin().expect("built-in frameworks");
        let framework = catalog.get_str("hcm-2023-district").expect("framework");
        let unit = UnitId::parse("quan-1").expect("unit id");
        match validate_values(framework, &unit, values) {
            Ok(_) => Vec::new(),
            Err(SubmissionError::Refused(Refusal::Invalid(InvalidRequest {
                violations, ..
            }))) => violations
                .into_iter()
                .map(|v| (v.field, v.description))
                .collect(),
            Err(other) => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn an_unreadable_variable_is_named_by_unit_indicator_and_variable() {
        let found = violations(&[input(
            "1.2",
            vec![("a", Err("has no value".to_owned())), ("b", Ok(json!(3)))],
        )]);
        assert!(found.contains(&(
            "unit quan-1 / indicator 1.2 / variable a".to_owned(),
            "has no value".to_owned()
        )));
    }

    #[test]
    fn an_unknown_or_repeated_indicator_is_refused_before_its_variables_are_read() {
        let unreadable = || vec![("a", Err("has no value".to_owned()))];
        let found = violations(&[input("99.9", unreadable())]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "unit quan-1 / indicator 99.9");
        assert!(found[0].1.starts_with("values[0]: not a scored indicator"));
        let valid = || vec![("a", Ok(json!(1))), ("b", Ok(json!(3)))];
        let found = violations(&[input("1.2", valid()), input("1.2", unreadable())]);
        assert_eq!(
            found,
            vec![(
                "unit quan-1 / indicator 1.2".to_owned(),
                "values[1]: the indicator appears twice in the request".to_owned()
            )]
        );
        assert!(violations(&[input("1.2", valid())]).is_empty());
    }

    #[test]
    fn request_sizes_and_texts_are_checked() {
        assert!(check_values_count(0, 5).is_err());
        assert!(check_values_count(6, 5).is_err());
        assert!(check_values_count(5, 5).is_ok());
        assert!(check_assessment_size(6, 5).is_err());
        assert!(check_assessment_size(0, 5).is_ok());
        assert_eq!(checked_reason("  why  ").ok(), Some("why"));
        assert!(checked_reason("   ").is_err());
        assert!(checked_reason(&"x".repeat(MAX_TEXT_BYTES + 1)).is_err());
        assert_eq!(checked_request_id(" r-1 ").ok(), Some("r-1"));
        assert!(checked_request_id("").is_err());
        assert!(checked_request_id(&"x".repeat(MAX_REQUEST_ID_BYTES + 1)).is_err());
    }
}
