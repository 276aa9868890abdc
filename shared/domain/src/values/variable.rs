//! Decoding one variable: a JSON value of the scoring contract read as a typed
//! [`VariableValue`] of the variable's declared type, or a message saying what is wrong.

use super::issues::describe;
use super::model::{Activity, VariableValue};
use crate::exact::Exact;
use crate::framework::VariableType;
use dti_i18n::Message;
use serde_json::Value;

/// Decodes one JSON value as a variable of the given type.
pub fn decode_variable(ty: &VariableType, raw: &Value) -> Result<VariableValue, Message> {
    match ty {
        VariableType::Count => decode_count(raw).map(VariableValue::Count),
        VariableType::Money => decode_count(raw).map(VariableValue::Money),
        VariableType::Bool => match raw {
            Value::Bool(b) => Ok(VariableValue::Flag(*b)),
            other => Err(Message::new("issue-must-be-bool").arg("got", describe(other))),
        },
        VariableType::Choice { choices } => match raw {
            Value::String(s) if choices.contains(s) => Ok(VariableValue::Choice(s.clone())),
            Value::String(s) => Err(Message::new("issue-not-a-choice")
                .arg("value", format!("{s:?}"))
                .arg("choices", choices.join(", "))),
            other => Err(Message::new("issue-must-be-choice")
                .arg("choices", choices.join(", "))
                .arg("got", describe(other))),
        },
        VariableType::Activities => decode_activities(raw).map(VariableValue::Activities),
        VariableType::Decimal => match raw {
            Value::String(s) => match s.parse::<Exact>() {
                Ok(d) if d >= Exact::zero() && !s.contains('/') => {
                    Ok(VariableValue::Decimal(Box::new(d)))
                }
                _ => Err(Message::new("issue-bad-decimal").arg("got", format!("{s:?}"))),
            },
            other => Err(Message::new("issue-must-be-decimal").arg("got", describe(other))),
        },
        VariableType::Text => match raw {
            Value::String(s) => Ok(VariableValue::Text(s.clone())),
            other => Err(Message::new("issue-must-be-text").arg("got", describe(other))),
        },
    }
}

/// A whole number ≥ 0 that fits in 64 bits (a count or an amount of money).
pub(super) fn decode_count(raw: &Value) -> Result<u64, Message> {
    match raw {
        Value::Number(n) => {
            if let Some(v) = n.as_u64() {
                Ok(v)
            } else if n.as_i64().is_some_and(|v| v < 0) || n.as_f64().is_some_and(|v| v < 0.0) {
                Err(Message::new("issue-negative").arg("got", n.to_string()))
            } else if n.as_f64().is_some_and(|v| v.fract() != 0.0) {
                Err(Message::new("issue-not-whole").arg("got", n.to_string()))
            } else {
                Err(Message::new("issue-too-big")
                    .arg("max", u64::MAX.to_string())
                    .arg("got", n.to_string()))
            }
        }
        other => Err(Message::new("issue-must-be-count").arg("got", describe(other))),
    }
}

/// A list of `{"reports", "resolved"}` objects.
fn decode_activities(raw: &Value) -> Result<Vec<Activity>, Message> {
    let Value::Array(items) = raw else {
        return Err(Message::new("issue-must-be-activities").arg("got", describe(raw)));
    };
    let mut list = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = |message: Message| {
            Message::new("issue-activity")
                .arg("number", i + 1)
                .arg("problem", message)
        };
        let Value::Object(fields) = item else {
            return Err(at(
                Message::new("issue-must-be-activity").arg("got", describe(item))
            ));
        };
        if let Some(extra) = fields.keys().find(|k| *k != "reports" && *k != "resolved") {
            return Err(at(
                Message::new("issue-activity-unknown-field").arg("field", format!("{extra:?}"))
            ));
        }
        let field = |name: &str| match fields.get(name) {
            Some(v) => decode_count(v).map_err(|m| {
                at(Message::new("issue-activity-field")
                    .arg("field", name)
                    .arg("problem", m))
            }),
            None => Err(at(
                Message::new("issue-activity-missing").arg("field", format!("{name:?}"))
            )),
        };
        list.push(Activity {
            reports: field("reports")?,
            resolved: field("resolved")?,
        });
    }
    Ok(list)
}
