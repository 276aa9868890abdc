//! Decoding one variable: a JSON value of the scoring contract read as a typed
//! [`VariableValue`] of the variable's declared type, or a message saying what is wrong.

use super::issues::describe;
use super::model::{Activity, VariableValue};
use crate::exact::Exact;
use crate::framework::VariableType;
use serde_json::Value;

/// Decodes one JSON value as a variable of the given type.
pub fn decode_variable(ty: &VariableType, raw: &Value) -> Result<VariableValue, String> {
    match ty {
        VariableType::Count => decode_count(raw).map(VariableValue::Count),
        VariableType::Money => decode_count(raw).map(VariableValue::Money),
        VariableType::Bool => match raw {
            Value::Bool(b) => Ok(VariableValue::Flag(*b)),
            other => Err(format!("must be true or false, got {}", describe(other))),
        },
        VariableType::Choice { choices } => match raw {
            Value::String(s) if choices.contains(s) => Ok(VariableValue::Choice(s.clone())),
            Value::String(s) => Err(format!("{s:?} is not one of {}", choices.join(", "))),
            other => Err(format!(
                "must be one of {}, got {}",
                choices.join(", "),
                describe(other)
            )),
        },
        VariableType::Activities => decode_activities(raw).map(VariableValue::Activities),
        VariableType::Decimal => match raw {
            Value::String(s) => match s.parse::<Exact>() {
                Ok(d) if d >= Exact::zero() && !s.contains('/') => {
                    Ok(VariableValue::Decimal(Box::new(d)))
                }
                _ => Err(format!(
                    "must be a non-negative decimal written as a string like \"15.38\", got {s:?}"
                )),
            },
            other => Err(format!(
                "must be a decimal written as a string like \"15.38\", got {}",
                describe(other)
            )),
        },
        VariableType::Text => match raw {
            Value::String(s) => Ok(VariableValue::Text(s.clone())),
            other => Err(format!("must be text, got {}", describe(other))),
        },
    }
}

/// A whole number ≥ 0 that fits in 64 bits (a count or an amount of money).
pub(super) fn decode_count(raw: &Value) -> Result<u64, String> {
    match raw {
        Value::Number(n) => {
            if let Some(v) = n.as_u64() {
                Ok(v)
            } else if n.as_i64().is_some_and(|v| v < 0) || n.as_f64().is_some_and(|v| v < 0.0) {
                Err(format!("must not be negative, got {n}"))
            } else if n.as_f64().is_some_and(|v| v.fract() != 0.0) {
                Err(format!("must be a whole number, got {n}"))
            } else {
                Err(format!("must be a whole number written without a decimal point and at most {}, got {n}", u64::MAX))
            }
        }
        other => Err(format!(
            "must be a whole number ≥ 0, got {}",
            describe(other)
        )),
    }
}

/// A list of `{"reports", "resolved"}` objects.
fn decode_activities(raw: &Value) -> Result<Vec<Activity>, String> {
    let Value::Array(items) = raw else {
        return Err(format!(
            "must be a list of {{\"reports\", \"resolved\"}} objects, got {}",
            describe(raw)
        ));
    };
    let mut list = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = |message: String| format!("activity #{}: {message}", i + 1);
        let Value::Object(fields) = item else {
            return Err(at(format!(
                "must be an object with \"reports\" and \"resolved\", got {}",
                describe(item)
            )));
        };
        if let Some(extra) = fields.keys().find(|k| *k != "reports" && *k != "resolved") {
            return Err(at(format!(
                "unknown field {extra:?} (expected \"reports\" and \"resolved\")"
            )));
        }
        let field = |name: &str| match fields.get(name) {
            Some(v) => decode_count(v).map_err(|m| at(format!("{name} {m}"))),
            None => Err(at(format!("missing {name:?}"))),
        };
        list.push(Activity {
            reports: field("reports")?,
            resolved: field("resolved")?,
        });
    }
    Ok(list)
}
