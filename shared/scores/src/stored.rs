//! The JSON forms the score tables store: min-max ranges (`score_cohorts.ranges`), per-group
//! hundredths (`score_units.fixed_groups`) and a unit's input to its min-max indicators
//! (`score_units.cohort_inputs`). Exact numbers are stored as text (`"7/10"`, `"60"`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;
use std::str::FromStr;

use dti_domain::exact::Exact;
use dti_domain::ids::{IndicatorCode, UnitId};
use dti_domain::values::{decode_indicator_values, UnitValues};
use dti_engine::number::Num;
use dti_engine::rules::MinMaxRange;
use dti_engine::CohortStats;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::{FrameworkLayout, ScoresError};

/// An exact number as stored: a whole number or `p/q` in lowest terms.
pub fn num_to_text(number: &Num) -> String {
    number.to_exact().to_string()
}

/// A stored exact number; none when the text is not one.
pub fn num_from_text(text: &str) -> Option<Num> {
    Exact::from_str(text).ok().map(|exact| Num::from(&exact))
}

/// One min-max range as stored.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredRange {
    min: String,
    max: String,
    count: usize,
}

/// The ranges of `stats` as stored: `{"5.1": {"min": "0", "max": "60", "count": 20}}`.
pub fn ranges_to_json(stats: &CohortStats) -> Value {
    let ranges: Map<String, Value> = stats
        .ranges()
        .map(|(code, range)| {
            let stored = StoredRange {
                min: num_to_text(&range.min),
                max: num_to_text(&range.max),
                count: range.count,
            };
            (code.to_string(), json!(stored))
        })
        .collect();
    Value::Object(ranges)
}

/// Cohort statistics from stored ranges.
pub fn ranges_from_json(place: impl Display, value: &Value) -> Result<CohortStats, ScoresError> {
    let fail = |problem: String| ScoresError::corrupt(&place, problem);
    let stored: BTreeMap<String, StoredRange> =
        serde_json::from_value(value.clone()).map_err(|error| fail(format!("ranges: {error}")))?;
    let mut ranges = Vec::with_capacity(stored.len());
    for (code, range) in stored {
        let number = |text: &str| {
            num_from_text(text)
                .ok_or_else(|| fail(format!("range of {code}: {text:?} is not exact")))
        };
        let parsed = MinMaxRange {
            min: number(&range.min)?,
            max: number(&range.max)?,
            count: range.count,
        };
        let code = IndicatorCode::parse(code.clone())
            .map_err(|error| fail(format!("range of {code}: {error}")))?;
        ranges.push((code, parsed));
    }
    Ok(CohortStats::from_ranges(ranges))
}

/// Hundredths per group as stored: `{"1": 2706, "2": 4000}`, every group of the framework.
pub fn groups_to_json(layout: &FrameworkLayout, cents: &[i64]) -> Value {
    let groups: Map<String, Value> = layout
        .group_codes()
        .zip(cents)
        .map(|(code, cents)| (code.to_string(), json!(cents)))
        .collect();
    Value::Object(groups)
}

/// Stored hundredths per group, in framework order.
pub fn groups_from_json(
    layout: &FrameworkLayout,
    place: impl Display,
    value: &Value,
) -> Result<Vec<i64>, ScoresError> {
    let object = value
        .as_object()
        .ok_or_else(|| ScoresError::corrupt(&place, "group scores are not an object"))?;
    layout
        .group_codes()
        .map(|code| {
            object
                .get(code.as_str())
                .and_then(Value::as_i64)
                .ok_or_else(|| ScoresError::corrupt(&place, format!("group {code} has no score")))
        })
        .collect()
}

/// A unit's input to the min-max indicators of its framework as stored:
/// `{"5.1": {"values": {"a": 20}}}` or `{"4.1": {"not_applicable": true}}`; indicators without
/// values are left out.
pub fn cohort_inputs_to_json(layout: &FrameworkLayout, unit: &UnitValues) -> Value {
    let mut inputs = Map::new();
    for (indicator, _) in layout.cohort_indicators() {
        let code = &indicator.code;
        if unit.not_applicable.contains(code) {
            inputs.insert(code.to_string(), json!({"not_applicable": true}));
        } else if let Some(values) = unit.values.get(code) {
            inputs.insert(code.to_string(), json!({"values": values}));
        }
    }
    Value::Object(inputs)
}

/// The stored min-max input of `unit`, decoded and validated like any submitted value.
pub fn cohort_inputs_from_json(
    layout: &FrameworkLayout,
    unit: &UnitId,
    place: impl Display,
    value: &Value,
) -> Result<UnitValues, ScoresError> {
    let fail = |problem: String| ScoresError::corrupt(&place, problem);
    let object = value
        .as_object()
        .ok_or_else(|| fail("min-max inputs are not an object".into()))?;
    let mut decoded = UnitValues::new(unit.clone());
    let mut not_applicable = BTreeSet::new();
    for (code, input) in object {
        let indicator = layout
            .framework()
            .indicator_by_str(code)
            .filter(|indicator| layout.is_cohort_dependent(&indicator.code))
            .ok_or_else(|| fail(format!("{code} is not a min-max indicator")))?;
        if input.get("not_applicable").and_then(Value::as_bool) == Some(true) {
            not_applicable.insert(indicator.code.clone());
            continue;
        }
        let variables = input
            .get("values")
            .and_then(Value::as_object)
            .ok_or_else(|| fail(format!("{code} has neither values nor not_applicable")))?;
        let values = decode_indicator_values(
            unit.as_str(),
            indicator,
            variables.iter().map(|(k, v)| (k.clone(), v.clone())),
        );
        let problems: Vec<String> = values
            .issues
            .iter()
            .filter(|issue| issue.is_error())
            .map(ToString::to_string)
            .collect();
        match values.value {
            Some(values) if problems.is_empty() => {
                decoded.values.insert(indicator.code.clone(), values);
            }
            _ => return Err(fail(problems.join("; "))),
        }
    }
    decoded.not_applicable = not_applicable;
    Ok(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dti_domain::FrameworkCatalog;

    fn layout() -> FrameworkLayout {
        let catalog = FrameworkCatalog::builtin().unwrap();
        FrameworkLayout::new(catalog.get_str("hcm-2023-department").unwrap().clone())
    }

    #[test]
    fn ranges_survive_storage_exactly() {
        let code = IndicatorCode::parse("4.1").unwrap();
        let stats = CohortStats::from_ranges([(
            code.clone(),
            MinMaxRange {
                min: Num::ratio(7, 10),
                max: Num::ratio(u128::from(u64::MAX), 3),
                count: 3,
            },
        )]);
        let stored = ranges_to_json(&stats);
        assert_eq!(stored["4.1"]["min"], "7/10");
        assert_eq!(ranges_from_json("test", &stored).unwrap(), stats);
        assert!(ranges_from_json(
            "test",
            &json!({"4.1": {"min": "x", "max": "1", "count": 1}})
        )
        .is_err());
    }

    #[test]
    fn cohort_inputs_keep_only_min_max_indicators() {
        let layout = layout();
        let unit = UnitId::parse("so-tttt").unwrap();
        let stored = json!({"4.1": {"values": {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6}},
                            "5.1": {"not_applicable": true}});
        let values = cohort_inputs_from_json(&layout, &unit, "test", &stored).unwrap();
        assert_eq!(values.values.len(), 1);
        assert!(values
            .not_applicable
            .contains(&IndicatorCode::parse("5.1").unwrap()));
        assert_eq!(cohort_inputs_to_json(&layout, &values), stored);
        let not_min_max = json!({"1.2": {"values": {"a": 1, "b": 2}}});
        assert!(cohort_inputs_from_json(&layout, &unit, "test", &not_min_max).is_err());
        let negative = json!({"5.1": {"values": {"a": -1}}});
        assert!(cohort_inputs_from_json(&layout, &unit, "test", &negative).is_err());
    }

    #[test]
    fn groups_are_read_in_framework_order() {
        let layout = layout();
        let cents: Vec<i64> = (1..=6).map(|g| g * 100).collect();
        let stored = groups_to_json(&layout, &cents);
        assert_eq!(groups_from_json(&layout, "test", &stored).unwrap(), cents);
        assert!(groups_from_json(&layout, "test", &json!({"1": 5})).is_err());
    }
}
