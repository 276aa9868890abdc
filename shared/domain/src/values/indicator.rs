//! Validating one indicator: its JSON variables decoded against the indicator's declaration,
//! every variable present and of its type, choices among the allowed ones, no zero
//! denominator; warnings for ratios above 100 % and activities resolving more than reported.

use super::issues::{finish, Decoded, InputIssue};
use super::model::{IndicatorValues, VariableValue};
use super::variable::decode_variable;
use crate::framework::{Indicator, Rule, VariableType};
use crate::ids::VariableName;
use dti_i18n::Message;
use serde_json::Value;

/// Decodes and validates the JSON variables of one indicator.
pub fn decode_indicator_values(
    unit: &str,
    indicator: &Indicator,
    variables: impl IntoIterator<Item = (String, Value)>,
) -> Decoded<IndicatorValues> {
    let code = indicator.code.as_str();
    let mut issues = Vec::new();
    let mut values = IndicatorValues::default();
    for (name, raw) in variables {
        let Some(variable) = indicator.variable(&name) else {
            let known: Vec<&str> = indicator
                .variables
                .iter()
                .map(|v| v.name.as_str())
                .collect();
            issues.push(InputIssue::error(
                Some(unit),
                Some(code),
                Some(&name),
                Message::new("issue-unknown-variable-of").arg("known", known.join(", ")),
            ));
            continue;
        };
        match decode_variable(&variable.ty, &raw) {
            Ok(value) => values.insert(variable.name.clone(), value),
            Err(message) => issues.push(InputIssue::error(
                Some(unit),
                Some(code),
                Some(&name),
                message,
            )),
        }
    }
    if issues.is_empty() {
        issues.extend(check_indicator_values(unit, indicator, &values));
    }
    finish(values, issues)
}

/// Checks typed values of one indicator: every variable declared, of its type, present, with
/// choices among the allowed ones and no zero denominator. Warnings flag ratios above 100 %.
pub fn check_indicator_values(
    unit: &str,
    indicator: &Indicator,
    values: &IndicatorValues,
) -> Vec<InputIssue> {
    let code = indicator.code.as_str();
    let mut issues = Vec::new();
    for (name, value) in values.iter() {
        match indicator.variable(name.as_str()) {
            None => issues.push(InputIssue::error(
                Some(unit),
                Some(code),
                Some(name.as_str()),
                Message::new("issue-unknown-variable"),
            )),
            Some(v) if !value.fits(&v.ty) => issues.push(InputIssue::error(
                Some(unit),
                Some(code),
                Some(name.as_str()),
                Message::new("issue-wrong-type")
                    .arg("expected", v.ty.name())
                    .arg("got", value.type_name()),
            )),
            Some(v) => {
                if let (VariableType::Choice { choices }, VariableValue::Choice(choice)) =
                    (&v.ty, value)
                {
                    if !choices.contains(choice) {
                        issues.push(InputIssue::error(
                            Some(unit),
                            Some(code),
                            Some(name.as_str()),
                            Message::new("issue-not-a-choice")
                                .arg("value", format!("{choice:?}"))
                                .arg("choices", choices.join(", ")),
                        ));
                    }
                }
            }
        }
    }
    for variable in &indicator.variables {
        if values.get(&variable.name).is_none() {
            issues.push(InputIssue::error(
                Some(unit),
                Some(code),
                Some(variable.name.as_str()),
                Message::new("issue-missing-variable")
                    .arg("type", variable.ty.name())
                    .arg("meaning", variable.meaning.as_str()),
            ));
        }
    }
    if !issues.is_empty() {
        return issues;
    }
    if let Some(rule) = &indicator.rule {
        issues.extend(check_fractions(unit, code, rule, values));
        issues.extend(check_activities(unit, code, rule, values));
    }
    issues
}

/// Errors for zero denominators; warnings for numerators above their denominators.
fn check_fractions(
    unit: &str,
    code: &str,
    rule: &Rule,
    values: &IndicatorValues,
) -> Vec<InputIssue> {
    let mut issues = Vec::new();
    let is_growth = matches!(rule, Rule::Growth(_));
    for (numerator, denominator) in rule.fractions() {
        let names = |vars: &[VariableName]| {
            vars.iter()
                .map(VariableName::as_str)
                .collect::<Vec<_>>()
                .join("+")
        };
        let (Some(num), Some(den)) = (values.sum_counts(numerator), values.sum_counts(denominator))
        else {
            continue;
        };
        let variable = names(denominator);
        if den == 0 {
            issues.push(InputIssue::error(
                Some(unit),
                Some(code),
                Some(&variable),
                Message::new("issue-zero-denominator"),
            ));
        } else if num > den && !is_growth {
            issues.push(InputIssue::warning(
                Some(unit),
                Some(code),
                Some(&names(numerator)),
                Message::new("issue-ratio-capped")
                    .arg("numerator", names(numerator))
                    .arg("num", num.to_string())
                    .arg("denominator", variable.as_str())
                    .arg("den", den.to_string()),
            ));
        }
    }
    issues
}

/// Warnings for activities that resolved more reports than they received.
fn check_activities(
    unit: &str,
    code: &str,
    rule: &Rule,
    values: &IndicatorValues,
) -> Vec<InputIssue> {
    let Rule::Activities(params) = rule else {
        return Vec::new();
    };
    let Some(list) = values
        .get(&params.variable)
        .and_then(VariableValue::as_activities)
    else {
        return Vec::new();
    };
    list.iter()
        .enumerate()
        .filter(|(_, a)| a.resolved > a.reports)
        .map(|(i, a)| {
            InputIssue::warning(
                Some(unit),
                Some(code),
                Some(params.variable.as_str()),
                Message::new("issue-activity-resolved-more")
                    .arg("number", i + 1)
                    .arg("resolved", a.resolved)
                    .arg("reports", a.reports),
            )
        })
        .collect()
}
