//! Combining the owners' parts of an item into the one national value, by the item's rule in
//! the framework data. Pure functions over the stored JSON values:
//! - `single`: the one owner's value is the value;
//! - `sum`: each value field is the sum of the owners' fields (count or money; the data gives
//!   `sum` to 6.22 and 7.11, state-budget spending each owner reports for its own remit);
//! - `any`: each yes/no field is true when any owner reports true (2.6 and 2.8, documents or
//!   policies any of the three owners may have issued).
//!
//! An item is combined only when every owner has supplied its part (see `completeness`).
//! A part's count or amount is at most `dti_domain::values::MAX_WHOLE` (10^15), checked when
//! it is written, so a sum of up to 18,000 owners' parts fits in 64 bits: one owner's
//! value can never keep another's valid part from combining.

use dti_domain::framework::Combine;
use serde_json::{Map, Value};

/// Why parts could not be combined; the values were validated on write, so this means stored
/// data no longer fits the framework.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CombineError {
    /// No part was given.
    #[error("no part to combine")]
    NoParts,
    /// A `single` item has several parts.
    #[error("a single-owner item has {0} parts")]
    SeveralParts(usize),
    /// A part is not an object of value fields.
    #[error("part of {owner} is not an object of value fields")]
    NotAnObject {
        /// Owner of the part.
        owner: String,
    },
    /// A field is missing or of the wrong type for the rule.
    #[error("field {field} of {owner}'s part does not fit combine = {rule}")]
    UnfitField {
        /// Owner of the part.
        owner: String,
        /// The field.
        field: String,
        /// The rule.
        rule: &'static str,
    },
    /// A sum does not fit in 64 bits.
    #[error("the sum of field {0} overflows")]
    Overflow(String),
}

/// Combines `parts` (owner id, value) by `rule`.
pub fn combine(rule: Combine, parts: &[(&str, &Value)]) -> Result<Value, CombineError> {
    match rule {
        Combine::Single => match parts {
            [] => Err(CombineError::NoParts),
            [(_, value)] => Ok((*value).clone()),
            several => Err(CombineError::SeveralParts(several.len())),
        },
        Combine::Sum => fold_fields(parts, "sum", Value::from(0_u64), |total, value| {
            match (total.as_u64(), value.as_u64()) {
                (Some(total), Some(value)) => total.checked_add(value).map(Value::from).ok_or(()),
                _ => Err(()),
            }
        }),
        Combine::Any => fold_fields(parts, "any", Value::Bool(false), |any, value| {
            match (any.as_bool(), value.as_bool()) {
                (Some(any), Some(value)) => Ok(Value::Bool(any || value)),
                _ => Err(()),
            }
        }),
    }
}

/// Folds each field over the parts, starting from `start`; the field names are those of the
/// first part and every part must have exactly them.
fn fold_fields(
    parts: &[(&str, &Value)],
    rule: &'static str,
    start: Value,
    step: impl Fn(&Value, &Value) -> Result<Value, ()>,
) -> Result<Value, CombineError> {
    let objects = parts
        .iter()
        .map(|(owner, value)| {
            value
                .as_object()
                .map(|object| (*owner, object))
                .ok_or_else(|| CombineError::NotAnObject {
                    owner: (*owner).to_owned(),
                })
        })
        .collect::<Result<Vec<(&str, &Map<String, Value>)>, _>>()?;
    let (_, first) = objects.first().ok_or(CombineError::NoParts)?;
    let mut combined = Map::new();
    for field in first.keys() {
        let mut total = start.clone();
        for (owner, object) in &objects {
            let unfit = || CombineError::UnfitField {
                owner: (*owner).to_owned(),
                field: field.clone(),
                rule,
            };
            let value = object.get(field).ok_or_else(unfit)?;
            total = step(&total, value).map_err(|()| match rule {
                "sum" if value.is_u64() => CombineError::Overflow(field.clone()),
                _ => unfit(),
            })?;
        }
        combined.insert(field.clone(), total);
    }
    for (owner, object) in &objects {
        if let Some(extra) = object.keys().find(|key| !first.contains_key(*key)) {
            return Err(CombineError::UnfitField {
                owner: (*owner).to_owned(),
                field: extra.clone(),
                rule,
            });
        }
    }
    Ok(Value::Object(combined))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn single_is_the_one_part() {
        let value = json!({"yes": true});
        assert_eq!(combine(Combine::Single, &[("so-tttt", &value)]), Ok(value));
        assert_eq!(combine(Combine::Single, &[]), Err(CombineError::NoParts));
    }

    #[test]
    fn sum_adds_each_field_exactly() {
        let (a, b, c) = (
            json!({"amount": 1_200_000_000_u64}),
            json!({"amount": 800_000_000_u64}),
            json!({"amount": 0}),
        );
        let total = combine(
            Combine::Sum,
            &[
                ("so-tai-chinh", &a),
                ("so-ke-hoach-dau-tu", &b),
                ("so-tttt", &c),
            ],
        );
        assert_eq!(total, Ok(json!({"amount": 2_000_000_000_u64})));
    }

    #[test]
    fn sum_refuses_overflow_and_non_numbers() {
        let (a, b) = (json!({"amount": u64::MAX}), json!({"amount": 1}));
        assert_eq!(
            combine(Combine::Sum, &[("x", &a), ("y", &b)]),
            Err(CombineError::Overflow("amount".into()))
        );
        let text = json!({"amount": "12"});
        assert!(matches!(
            combine(Combine::Sum, &[("x", &a), ("y", &text)]),
            Err(CombineError::UnfitField { .. })
        ));
    }

    #[test]
    fn parts_within_the_value_bound_never_overflow_a_sum() {
        // Each owner's amount is at most `MAX_WHOLE` (checked when it is written), so one
        // department's largest part can never make another's valid part fail to combine.
        let largest = json!({"amount": dti_domain::values::MAX_WHOLE});
        let owners: Vec<String> = (0..1_000).map(|i| format!("so-{i}")).collect();
        let parts: Vec<(&str, &Value)> = owners.iter().map(|o| (o.as_str(), &largest)).collect();
        let total = combine(Combine::Sum, &parts).expect("no overflow");
        assert_eq!(
            total,
            json!({"amount": 1_000 * dti_domain::values::MAX_WHOLE})
        );
    }

    #[test]
    fn any_is_true_when_one_owner_says_so() {
        let (no, yes) = (json!({"yes": false}), json!({"yes": true}));
        assert_eq!(
            combine(Combine::Any, &[("a", &no), ("b", &yes), ("c", &no)]),
            Ok(json!({"yes": true}))
        );
        assert_eq!(
            combine(Combine::Any, &[("a", &no), ("b", &no)]),
            Ok(json!({"yes": false}))
        );
    }

    #[test]
    fn parts_with_different_fields_are_refused() {
        let (a, b) = (json!({"yes": true}), json!({"yes": true, "extra": true}));
        assert!(combine(Combine::Any, &[("a", &a), ("b", &b)]).is_err());
        assert!(combine(Combine::Any, &[("b", &b), ("a", &a)]).is_err());
    }
}
