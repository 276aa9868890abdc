//! Conversions between the protobuf messages of `dti.common.v1` and the domain: a variable's
//! protobuf value to the scoring contract's JSON (which `dti_domain::values` validates, the same
//! way for every service and `dtictl`), validated domain values back to protobuf, a
//! general-information value to and from its JSON, and timestamps.

use crate::dti::common::v1 as pb;
use crate::dti::common::v1::general_info_value::Value as PbGeneralInfo;
use crate::dti::common::v1::variable_value::Value as PbValue;
use dti_domain::values::{Activity, IndicatorValues, VariableValue, CONTACT_FIELDS};
use dti_i18n::Message;
use serde_json::{json, Map, Value};

/// A protobuf variable value as the contract's JSON, or why it cannot be one.
pub fn variable_to_json(value: &pb::VariableValue) -> Result<Value, String> {
    let value = value.value.as_ref().ok_or_else(|| {
        "has no value: set one of count, flag, choice, activities, money, decimal, text".to_owned()
    })?;
    Ok(match value {
        PbValue::Count(n) | PbValue::Money(n) => json!(n),
        PbValue::Flag(flag) => json!(flag),
        PbValue::Choice(text) | PbValue::Decimal(text) | PbValue::Text(text) => json!(text),
        PbValue::Activities(list) => Value::Array(
            list.activities
                .iter()
                .map(|a| json!({"reports": a.reports, "resolved": a.resolved}))
                .collect(),
        ),
    })
}

/// A protobuf general-information value as the contract's JSON (a number, a text, or a contact
/// object with the fields given), or why it cannot be one (in the request's language). Whether
/// it suits its field is `dti_domain::values`' to say.
pub fn general_info_to_json(value: &pb::GeneralInfoValue) -> Result<Value, String> {
    let value = value
        .value
        .as_ref()
        .ok_or_else(|| String::from(Message::new("proto-general-info-no-value")))?;
    Ok(match value {
        PbGeneralInfo::Number(n) => json!(n),
        PbGeneralInfo::Text(text) => json!(text),
        PbGeneralInfo::Contact(contact) => {
            let given = [
                &contact.name,
                &contact.unit,
                &contact.position,
                &contact.phone,
                &contact.email,
            ];
            let fields: Map<String, Value> = CONTACT_FIELDS
                .iter()
                .zip(given)
                .filter(|(_, text)| !text.is_empty())
                .map(|(name, text)| ((*name).to_owned(), json!(text)))
                .collect();
            Value::Object(fields)
        }
    })
}

/// A validated general-information value (its contract JSON) as protobuf; `None` for JSON no
/// general-information field holds.
pub fn general_info_to_proto(value: &Value) -> Option<pb::GeneralInfoValue> {
    let value = match value {
        Value::Number(n) => PbGeneralInfo::Number(n.as_u64()?),
        Value::String(text) => PbGeneralInfo::Text(text.clone()),
        Value::Object(fields) => {
            let text = |name: &str| {
                fields
                    .get(name)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            PbGeneralInfo::Contact(pb::Contact {
                name: text("name"),
                unit: text("unit"),
                position: text("position"),
                phone: text("phone"),
                email: text("email"),
            })
        }
        _ => return None,
    };
    Some(pb::GeneralInfoValue { value: Some(value) })
}

/// Validated general information (field key → contract JSON) as protobuf's map.
pub fn general_info_map_to_proto(
    fields: &std::collections::BTreeMap<String, Value>,
) -> std::collections::HashMap<String, pb::GeneralInfoValue> {
    fields
        .iter()
        .filter_map(|(key, value)| Some((key.clone(), general_info_to_proto(value)?)))
        .collect()
}

/// A validated domain value as protobuf.
pub fn variable_to_proto(value: &VariableValue) -> pb::VariableValue {
    let value = match value {
        VariableValue::Count(n) => PbValue::Count(*n),
        VariableValue::Money(n) => PbValue::Money(*n),
        VariableValue::Flag(flag) => PbValue::Flag(*flag),
        VariableValue::Choice(choice) => PbValue::Choice(choice.clone()),
        VariableValue::Text(text) => PbValue::Text(text.clone()),
        VariableValue::Decimal(exact) => PbValue::Decimal(exact.to_decimal_string(12)),
        VariableValue::Activities(list) => PbValue::Activities(pb::ActivityList {
            activities: list
                .iter()
                .map(|Activity { reports, resolved }| pb::Activity {
                    reports: *reports,
                    resolved: *resolved,
                })
                .collect(),
        }),
    };
    pb::VariableValue { value: Some(value) }
}

/// An indicator's validated values as protobuf.
pub fn indicator_to_proto(code: &str, values: &IndicatorValues) -> pb::IndicatorValue {
    pb::IndicatorValue {
        indicator_code: code.to_owned(),
        variables: values
            .iter()
            .map(|(name, value)| (name.to_string(), variable_to_proto(value)))
            .collect(),
    }
}

/// A UTC instant as a protobuf timestamp.
pub fn timestamp(at: chrono::DateTime<chrono::Utc>) -> crate::Timestamp {
    crate::Timestamp {
        seconds: at.timestamp(),
        // Sub-second nanoseconds are below 2·10⁹ (a leap second included), inside `i32`.
        nanos: i32::try_from(at.timestamp_subsec_nanos())
            .expect("sub-second nanoseconds fit in i32"),
    }
}

/// A protobuf timestamp as a UTC instant, if it is one.
pub fn instant(at: &crate::Timestamp) -> Option<chrono::DateTime<chrono::Utc>> {
    let nanos = u32::try_from(at.nanos).ok()?;
    chrono::DateTime::from_timestamp(at.seconds, nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_value_becomes_contract_json() {
        let count = pb::VariableValue {
            value: Some(PbValue::Count(7)),
        };
        assert_eq!(variable_to_json(&count), Ok(json!(7)));
        let activities = pb::VariableValue {
            value: Some(PbValue::Activities(pb::ActivityList {
                activities: vec![pb::Activity {
                    reports: 10,
                    resolved: 9,
                }],
            })),
        };
        assert_eq!(
            variable_to_json(&activities),
            Ok(json!([{"reports": 10, "resolved": 9}]))
        );
        assert!(variable_to_json(&pb::VariableValue { value: None }).is_err());
    }

    #[test]
    fn timestamps_round_trip() {
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 123_456_000).expect("instant");
        assert_eq!(instant(&timestamp(at)), Some(at));
    }
}
