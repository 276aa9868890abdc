//! Decoding one variable: a JSON value of the scoring contract read as a typed
//! [`VariableValue`] of the variable's declared type, or a message saying what is wrong.
//!
//! Every value has a documented upper bound, checked before any arithmetic or allocation that
//! grows with the input (`docs/submission.md`, "Bounds of a value"):
//! - a count or an amount of money is at most [`MAX_WHOLE`] (10^15: more than any unit's count or
//!   budget in đồng, exact in a spreadsheet, and the sum of any number of owners' parts of an
//!   Appendix III item stays far inside 64 bits);
//! - a decimal has at most [`MAX_DECIMAL_WHOLE_DIGITS`] digits before the point and
//!   [`MAX_DECIMAL_FRACTION_DIGITS`] after it;
//! - an activities list has at most [`MAX_ACTIVITIES`] entries.

use super::issues::{describe, quote_prefix};
use super::model::{Activity, VariableValue};
use crate::exact::Exact;
use crate::framework::VariableType;
use dti_i18n::Message;
use serde_json::Value;

/// The largest count or amount of money a value may have (10^15).
pub const MAX_WHOLE: u64 = 1_000_000_000_000_000;
/// Digits a decimal may have before its point.
pub const MAX_DECIMAL_WHOLE_DIGITS: usize = 15;
/// Digits a decimal may have after its point (values are stored with 12).
pub const MAX_DECIMAL_FRACTION_DIGITS: usize = 12;
/// Entries an activities list may have.
pub const MAX_ACTIVITIES: usize = 1_000;

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
                .arg("value", quote_prefix(s))
                .arg("choices", choices.join(", "))),
            other => Err(Message::new("issue-must-be-choice")
                .arg("choices", choices.join(", "))
                .arg("got", describe(other))),
        },
        VariableType::Activities => decode_activities(raw).map(VariableValue::Activities),
        VariableType::Decimal => match raw {
            Value::String(s) => decode_decimal(s),
            other => Err(Message::new("issue-must-be-decimal").arg("got", describe(other))),
        },
        VariableType::Text => match raw {
            Value::String(s) => Ok(VariableValue::Text(s.clone())),
            other => Err(Message::new("issue-must-be-text").arg("got", describe(other))),
        },
    }
}

/// A non-negative decimal string of bounded length, read exactly.
fn decode_decimal(text: &str) -> Result<VariableValue, Message> {
    let (whole, fraction) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    if whole.len() > MAX_DECIMAL_WHOLE_DIGITS || fraction.len() > MAX_DECIMAL_FRACTION_DIGITS {
        return Err(Message::new("issue-decimal-digits")
            .arg("whole_max", MAX_DECIMAL_WHOLE_DIGITS)
            .arg("fraction_max", MAX_DECIMAL_FRACTION_DIGITS)
            .arg("whole", whole.len())
            .arg("fraction", fraction.len()));
    }
    match text.parse::<Exact>() {
        Ok(d) if d >= Exact::zero() && !text.contains('/') => {
            Ok(VariableValue::Decimal(Box::new(d)))
        }
        _ => Err(Message::new("issue-bad-decimal").arg("got", quote_prefix(text))),
    }
}

/// A whole number from 0 to [`MAX_WHOLE`] (a count or an amount of money).
pub(super) fn decode_count(raw: &Value) -> Result<u64, Message> {
    match raw {
        Value::Number(n) => {
            if let Some(v) = n.as_u64() {
                if v > MAX_WHOLE {
                    Err(Message::new("issue-above-max")
                        .arg("max", MAX_WHOLE.to_string())
                        .arg("got", v.to_string()))
                } else {
                    Ok(v)
                }
            } else if n.as_i64().is_some_and(|v| v < 0) || n.as_f64().is_some_and(|v| v < 0.0) {
                Err(Message::new("issue-negative").arg("got", n.to_string()))
            } else if n.as_f64().is_some_and(|v| v.fract() != 0.0) {
                Err(Message::new("issue-not-whole").arg("got", n.to_string()))
            } else {
                Err(Message::new("issue-too-big")
                    .arg("max", MAX_WHOLE.to_string())
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
    if items.len() > MAX_ACTIVITIES {
        return Err(Message::new("issue-too-many-activities")
            .arg("max", MAX_ACTIVITIES)
            .arg("got", items.len()));
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_and_money_are_bounded() {
        for ty in [VariableType::Count, VariableType::Money] {
            assert_eq!(
                decode_variable(&ty, &json!(MAX_WHOLE)),
                Ok(match ty {
                    VariableType::Count => VariableValue::Count(MAX_WHOLE),
                    _ => VariableValue::Money(MAX_WHOLE),
                })
            );
            let beyond = decode_variable(&ty, &json!(MAX_WHOLE + 1))
                .unwrap_err()
                .to_string();
            assert_eq!(
                beyond,
                "must be at most 1000000000000000, got 1000000000000001"
            );
            let huge = decode_variable(&ty, &json!(u64::MAX))
                .unwrap_err()
                .to_string();
            assert!(huge.starts_with("must be at most"), "{huge}");
            let too_wide: Value = serde_json::from_str("1e30").unwrap();
            let refused = decode_variable(&ty, &too_wide).unwrap_err().to_string();
            assert!(refused.contains("at most 1000000000000000"), "{refused}");
        }
    }

    #[test]
    fn decimals_are_bounded_in_digits_before_any_arithmetic() {
        let ty = VariableType::Decimal;
        assert!(decode_variable(&ty, &json!("123456789012345.123456789012")).is_ok());
        let long_whole = decode_variable(&ty, &json!("1234567890123456"))
            .unwrap_err()
            .to_string();
        assert!(
            long_whole.contains("at most 15 digits before"),
            "{long_whole}"
        );
        let long_fraction = decode_variable(&ty, &json!("0.1234567890123"))
            .unwrap_err()
            .to_string();
        assert!(long_fraction.contains("12 after it"), "{long_fraction}");
        let enormous = "9".repeat(300_000);
        let refused = decode_variable(&ty, &Value::String(enormous))
            .unwrap_err()
            .to_string();
        assert!(refused.len() < 200, "the message does not echo the input");
        let bad = decode_variable(&ty, &json!("12,5"))
            .unwrap_err()
            .to_string();
        assert!(bad.contains("like \"15.38\", got \"12,5\""), "{bad}");
    }

    #[test]
    fn activities_are_bounded_in_entries() {
        let one = json!({"reports": 1, "resolved": 1});
        let at_limit = Value::Array(vec![one.clone(); MAX_ACTIVITIES]);
        assert!(decode_variable(&VariableType::Activities, &at_limit).is_ok());
        let beyond = Value::Array(vec![one; MAX_ACTIVITIES + 1]);
        assert_eq!(
            decode_variable(&VariableType::Activities, &beyond)
                .unwrap_err()
                .to_string(),
            "must list at most 1000 activities, got 1001"
        );
    }

    #[test]
    fn messages_quote_at_most_a_prefix_of_long_text() {
        let choices = VariableType::Choice {
            choices: vec!["head".into(), "none".into()],
        };
        let long = "x".repeat(5_000);
        let refused = decode_variable(&choices, &Value::String(long))
            .unwrap_err()
            .to_string();
        assert!(refused.len() < 120, "{refused}");
        assert!(
            refused.ends_with("xxxx\"… is not one of head, none"),
            "{refused}"
        );
        let text = decode_variable(&VariableType::Count, &json!("y".repeat(5_000)))
            .unwrap_err()
            .to_string();
        assert!(text.len() < 120, "{text}");
    }
}
