//! Decoding one unit of a cohort document (`{"unit": ..., "values": {...},
//! "not_applicable": [...], "general_info": {...}}`): its id, each indicator's values, its
//! not-applicable marks and its general information, every problem named by unit.

use super::general_info::{cross_check_general_info, decode_general_info};
use super::indicator::decode_indicator_values;
use super::issues::{describe, finish, optional_field, InputIssue};
use super::model::{IndicatorValues, UnitValues};
use crate::framework::Framework;
use crate::ids::{IndicatorCode, UnitId};
use dti_i18n::Message;
use serde_json::value::RawValue;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

/// An object key borrowed from the input when it has no escapes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Deserialize)]
pub(super) struct Key<'a>(#[serde(borrow)] pub(super) Cow<'a, str>);

/// A JSON object whose values are left unparsed until they are needed.
pub(super) type RawObject<'a> = BTreeMap<Key<'a>, &'a RawValue>;

/// An unparsed JSON value parsed (null when it is not valid JSON).
pub(super) fn raw_to_value(raw: &RawValue) -> Value {
    serde_json::from_str(raw.get()).unwrap_or(Value::Null)
}

/// An unparsed JSON value as an object of unparsed values, if it is an object.
pub(super) fn raw_object(raw: &RawValue) -> Option<RawObject<'_>> {
    serde_json::from_str(raw.get()).ok()
}

/// One unit of a cohort document, not decoded yet: each unit decodes on its own, so a caller
/// may decode them in any order or in parallel.
#[derive(Debug, Clone, Copy)]
pub struct UnitDocument<'a> {
    /// Where the unit stands in the document's list (from 0).
    position: usize,
    /// The unit's JSON, unparsed.
    raw: &'a RawValue,
}

impl<'a> UnitDocument<'a> {
    /// The unit at `position` of a document's list.
    pub(super) fn new(position: usize, raw: &'a RawValue) -> Self {
        Self { position, raw }
    }

    /// Decodes and validates the unit against `framework`.
    pub fn decode(&self, framework: &Framework) -> DecodedUnit {
        decode_unit(framework, self.position, self.raw)
    }
}

/// A decoded unit and the id it claimed, even when its values are invalid.
#[derive(Debug, Clone)]
pub struct DecodedUnit {
    /// The id the unit claimed, when it claimed one as a string.
    pub(super) id: Option<String>,
    /// The unit's values, present only when no issue is an error.
    pub(super) value: Option<UnitValues>,
    /// Errors and warnings, in input order.
    pub(super) issues: Vec<InputIssue>,
}

/// Decodes one unit object (`{"unit": ..., "values": {...}, "not_applicable": [...]}`).
fn decode_unit(framework: &Framework, position: usize, raw: &RawValue) -> DecodedUnit {
    let fallback_label = format!("#{} (no usable id)", position + 1);
    let Some(object) = raw_object(raw) else {
        return DecodedUnit {
            id: None,
            value: None,
            issues: vec![InputIssue::error(
                Some(&fallback_label),
                None,
                None,
                Message::new("issue-unit-not-object").arg("got", describe(&raw_to_value(raw))),
            )],
        };
    };
    let field = |name: &'static str| object.get(&Key(Cow::Borrowed(name))).copied();
    let mut issues = Vec::new();
    let claimed = field("unit").map(raw_to_value);
    let unit_id = match &claimed {
        Some(Value::String(id)) => match UnitId::parse(id.as_str()) {
            Ok(id) => Some(id),
            Err(e) => {
                issues.push(InputIssue::error(
                    Some(&fallback_label),
                    None,
                    None,
                    Message::new("issue-bad-unit-id").arg("error", e.to_string()),
                ));
                None
            }
        },
        Some(other) => {
            issues.push(InputIssue::error(
                Some(&fallback_label),
                None,
                None,
                Message::new("issue-unit-not-string").arg("got", describe(other)),
            ));
            None
        }
        None => {
            issues.push(InputIssue::error(
                Some(&fallback_label),
                None,
                None,
                Message::new("issue-missing-unit"),
            ));
            None
        }
    };
    let label = unit_id.as_ref().map_or(fallback_label, ToString::to_string);
    for key in object.keys() {
        if !["unit", "values", "not_applicable", "general_info"].contains(&key.0.as_ref()) {
            let problem =
                Message::new("issue-unit-unknown-field").arg("field", format!("{:?}", key.0));
            issues.push(InputIssue::error(Some(&label), None, None, problem));
        }
    }
    let values = decode_values(framework, &label, field("values"), &mut issues);
    let not_applicable = decode_not_applicable(
        framework,
        &label,
        field("not_applicable").map(raw_to_value),
        &mut issues,
    );
    let general_info = decode_general_info(
        framework,
        &label,
        field("general_info").map(raw_to_value),
        &mut issues,
    );
    let id = match claimed {
        Some(Value::String(id)) => Some(id),
        _ => None,
    };
    let Some(unit) = unit_id else {
        return DecodedUnit {
            id,
            value: None,
            issues,
        };
    };
    let unit = UnitValues {
        unit,
        values,
        not_applicable,
        general_info,
    };
    issues.extend(cross_check_general_info(framework, &unit));
    let decoded = finish(unit, issues);
    DecodedUnit {
        id,
        value: decoded.value,
        issues: decoded.issues,
    }
}

/// A unit's `values` object, by indicator code; each problem is added to `issues`.
fn decode_values(
    framework: &Framework,
    unit: &str,
    raw: Option<&RawValue>,
    issues: &mut Vec<InputIssue>,
) -> BTreeMap<IndicatorCode, IndicatorValues> {
    let mut values = BTreeMap::new();
    let Some(raw) = raw.filter(|r| r.get() != "null") else {
        return values;
    };
    let Some(object) = raw_object(raw) else {
        issues.push(InputIssue::error(
            Some(unit),
            None,
            None,
            Message::new("issue-values-not-object").arg("got", describe(&raw_to_value(raw))),
        ));
        return values;
    };
    for (code, variables) in object {
        let Some(indicator) = framework.indicator_by_str(&code.0) else {
            issues.push(InputIssue::error(
                Some(unit),
                Some(&code.0),
                None,
                Message::new("issue-unknown-indicator").arg("framework", framework.id.to_string()),
            ));
            continue;
        };
        let Some(variables) = raw_object(variables) else {
            issues.push(InputIssue::error(
                Some(unit),
                Some(&code.0),
                None,
                Message::new("issue-variables-not-object")
                    .arg("got", describe(&raw_to_value(variables))),
            ));
            continue;
        };
        let variables = variables
            .into_iter()
            .map(|(k, v)| (k.0.into_owned(), raw_to_value(v)));
        let decoded = decode_indicator_values(unit, indicator, variables);
        issues.extend(decoded.issues);
        if let Some(v) = decoded.value {
            values.insert(indicator.code.clone(), v);
        }
    }
    values
}

/// A unit's `not_applicable` list of indicator codes; each problem is added to `issues`.
fn decode_not_applicable(
    framework: &Framework,
    unit: &str,
    raw: Option<Value>,
    issues: &mut Vec<InputIssue>,
) -> BTreeSet<IndicatorCode> {
    let mut codes = BTreeSet::new();
    let items = optional_field(
        unit,
        ("not_applicable", "issue-expected-codes"),
        raw,
        |value| match value {
            Value::Array(items) => Ok(items),
            other => Err(other),
        },
        issues,
    );
    let Some(items) = items else {
        return codes;
    };
    for item in items {
        match item {
            Value::String(code) => match framework.indicator_by_str(&code) {
                Some(indicator) => {
                    codes.insert(indicator.code.clone());
                }
                None => issues.push(InputIssue::error(
                    Some(unit),
                    Some(&code),
                    None,
                    Message::new("issue-unknown-not-applicable")
                        .arg("framework", framework.id.to_string()),
                )),
            },
            other => issues.push(InputIssue::error(
                Some(unit),
                None,
                None,
                Message::new("issue-not-applicable-entry").arg("got", describe(&other)),
            )),
        }
    }
    codes
}
