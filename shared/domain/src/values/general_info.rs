//! General information (unscored fields such as headcounts and contacts): decoded against the
//! framework's declaration and cross-checked with the indicator variables that restate it.

use super::indicator::check_indicator_values;
use super::issues::{describe, optional_field, InputIssue, GENERAL_INFO_PLACE};
use super::model::{UnitValues, VariableValue};
use super::variable::decode_count;
use crate::framework::{Framework, GeneralInfoType};
use dti_i18n::Message;
use serde_json::Value;
use std::collections::BTreeMap;

/// The fields of a contact (`contact` general information), as the contract's JSON names them.
pub const CONTACT_FIELDS: [&str; 5] = ["name", "unit", "position", "phone", "email"];

/// A unit's `general_info` object; each problem is added to `issues`.
pub(super) fn decode_general_info(
    framework: &Framework,
    unit: &str,
    raw: Option<Value>,
    issues: &mut Vec<InputIssue>,
) -> BTreeMap<String, Value> {
    let mut fields = BTreeMap::new();
    let object = optional_field(
        unit,
        ("general_info", "issue-expected-general-info"),
        raw,
        |value| match value {
            Value::Object(object) => Ok(object),
            other => Err(other),
        },
        issues,
    );
    let Some(object) = object else {
        return fields;
    };
    for (key, value) in object {
        let place = format!("{GENERAL_INFO_PLACE}{key}");
        let Some(field) = framework.general_info_field(&key) else {
            issues.push(InputIssue::error(
                Some(unit),
                Some(&place),
                None,
                Message::new("issue-general-info-unknown"),
            ));
            continue;
        };
        let problem = match (field.ty, &value) {
            (GeneralInfoType::Count | GeneralInfoType::Money, v) => decode_count(v).err(),
            (GeneralInfoType::Text, Value::String(_)) => None,
            (GeneralInfoType::Contact, Value::Object(contact)) => contact
                .iter()
                .find(|(k, v)| !CONTACT_FIELDS.contains(&k.as_str()) || !v.is_string())
                .map(|(k, _)| Message::new("issue-contact-field").arg("field", format!("{k:?}"))),
            (GeneralInfoType::Text, other) => {
                Some(Message::new("issue-must-be-text").arg("got", describe(other)))
            }
            (GeneralInfoType::Contact, other) => {
                Some(Message::new("issue-must-be-contact").arg("got", describe(other)))
            }
        };
        match problem {
            Some(message) => {
                issues.push(InputIssue::error(Some(unit), Some(&place), None, message))
            }
            None => {
                fields.insert(key, value);
            }
        }
    }
    fields
}

/// Validates general-information `fields` of `unit` against `framework`: the fields that are
/// valid, and a problem naming each one that is not (`unit U / general information KEY`).
pub fn decode_general_info_fields(
    framework: &Framework,
    unit: &str,
    fields: serde_json::Map<String, Value>,
) -> (BTreeMap<String, Value>, Vec<InputIssue>) {
    let mut issues = Vec::new();
    let decoded = decode_general_info(framework, unit, Some(Value::Object(fields)), &mut issues);
    (decoded, issues)
}

/// Every warning about a unit's values, as the unit sees it on submit and the verifier side by
/// side: each indicator's (a numerator above its denominator, activities resolving more than
/// reported) in framework order, then the general-information cross-checks
/// ([`cross_check_general_info`]).
pub fn unit_warnings(framework: &Framework, unit: &UnitValues) -> Vec<InputIssue> {
    let mut warnings: Vec<InputIssue> = framework
        .indicators
        .iter()
        .filter_map(|indicator| Some((indicator, unit.values.get(&indicator.code)?)))
        .flat_map(|(indicator, values)| {
            check_indicator_values(unit.unit.as_str(), indicator, values)
        })
        .filter(|issue| !issue.is_error())
        .collect();
    warnings.extend(cross_check_general_info(framework, unit));
    warnings
}

/// Warnings where a general-information count differs from an indicator variable that
/// restates it (e.g. civil servants vs. department 4.1 `e`).
pub fn cross_check_general_info(framework: &Framework, unit: &UnitValues) -> Vec<InputIssue> {
    let mut issues = Vec::new();
    for field in &framework.general_info {
        let Some(reported) = unit.general_info.get(&field.key).and_then(Value::as_u64) else {
            continue;
        };
        for (code, variable) in &field.restated_by {
            let restated = unit
                .values
                .get(code)
                .and_then(|v| v.get(variable))
                .and_then(VariableValue::as_count);
            if let Some(restated) = restated.filter(|r| *r != reported) {
                issues.push(InputIssue::warning(
                    Some(unit.unit.as_str()),
                    Some(code.as_str()),
                    Some(variable.as_str()),
                    Message::new("issue-general-info-differs")
                        .arg("restated", restated)
                        .arg("code", field.code.to_string())
                        .arg("key", field.key.as_str())
                        .arg("reported", reported),
                ));
            }
        }
    }
    issues
}
