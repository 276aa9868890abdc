//! The values themselves: typed variable values, one indicator's variables, everything one
//! unit reported, and a validated cohort.

use crate::exact::Exact;
use crate::framework::{Framework, VariableType};
use crate::ids::{IndicatorCode, UnitId, VariableName};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// One activity of an `activities` variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Activity {
    /// Reports (phản ánh) received through the online channel.
    pub reports: u64,
    /// Reports found accurate and resolved.
    pub resolved: u64,
}

/// A typed variable value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VariableValue {
    /// A non-negative whole number.
    Count(u64),
    /// True or false.
    Flag(bool),
    /// One of the variable's choices.
    Choice(String),
    /// Activities with their reports and resolutions.
    Activities(Vec<Activity>),
    /// A whole number of đồng.
    Money(u64),
    /// A non-negative exact decimal.
    Decimal(Box<Exact>),
    /// Free text.
    Text(String),
}

impl VariableValue {
    /// The count, when the value is one.
    pub fn as_count(&self) -> Option<u64> {
        match self {
            VariableValue::Count(n) | VariableValue::Money(n) => Some(*n),
            _ => None,
        }
    }

    /// The flag, when the value is one.
    pub fn as_flag(&self) -> Option<bool> {
        match self {
            VariableValue::Flag(b) => Some(*b),
            _ => None,
        }
    }

    /// The choice, when the value is one.
    pub fn as_choice(&self) -> Option<&str> {
        match self {
            VariableValue::Choice(c) => Some(c),
            _ => None,
        }
    }

    /// The activities, when the value is a list of them.
    pub fn as_activities(&self) -> Option<&[Activity]> {
        match self {
            VariableValue::Activities(a) => Some(a),
            _ => None,
        }
    }

    /// Name of the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            VariableValue::Count(_) => "count",
            VariableValue::Flag(_) => "bool",
            VariableValue::Choice(_) => "choice",
            VariableValue::Activities(_) => "activities",
            VariableValue::Money(_) => "money",
            VariableValue::Decimal(_) => "decimal",
            VariableValue::Text(_) => "text",
        }
    }

    /// True when the value is of type `ty`.
    pub(super) fn fits(&self, ty: &VariableType) -> bool {
        matches!(
            (self, ty),
            (VariableValue::Count(_), VariableType::Count)
                | (VariableValue::Flag(_), VariableType::Bool)
                | (VariableValue::Choice(_), VariableType::Choice { .. })
                | (VariableValue::Activities(_), VariableType::Activities)
                | (VariableValue::Money(_), VariableType::Money)
                | (VariableValue::Decimal(_), VariableType::Decimal)
                | (VariableValue::Text(_), VariableType::Text)
        )
    }
}

impl Serialize for VariableValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            VariableValue::Count(n) | VariableValue::Money(n) => serializer.serialize_u64(*n),
            VariableValue::Flag(b) => serializer.serialize_bool(*b),
            VariableValue::Choice(s) | VariableValue::Text(s) => serializer.serialize_str(s),
            VariableValue::Decimal(d) => serializer.serialize_str(&d.to_decimal_string(12)),
            VariableValue::Activities(list) => {
                let mut seq = serializer.serialize_seq(Some(list.len()))?;
                for activity in list {
                    seq.serialize_element(activity)?;
                }
                seq.end()
            }
        }
    }
}

/// The variables a unit reported for one indicator, sorted by name (an indicator has a handful,
/// so a sorted list is smaller and faster than a map).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndicatorValues(Vec<(VariableName, VariableValue)>);

impl IndicatorValues {
    /// Values from (name, value) pairs; a later duplicate name replaces an earlier one.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (VariableName, VariableValue)>) -> Self {
        let mut values = Self::default();
        for (name, value) in pairs {
            values.insert(name, value);
        }
        values
    }

    /// Sets a variable.
    pub fn insert(&mut self, name: VariableName, value: VariableValue) {
        match self.0.binary_search_by(|(n, _)| n.cmp(&name)) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => self.0.insert(i, (name, value)),
        }
    }

    /// The value of a variable.
    pub fn get(&self, name: &VariableName) -> Option<&VariableValue> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The variables and their values, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&VariableName, &VariableValue)> {
        self.0.iter().map(|(n, v)| (n, v))
    }

    /// How many variables are set.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when no variable is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The sum of count variables; `None` if one is missing or not a count.
    pub fn sum_counts(&self, names: &[VariableName]) -> Option<u128> {
        names
            .iter()
            .map(|n| {
                self.get(n)
                    .and_then(VariableValue::as_count)
                    .map(u128::from)
            })
            .sum()
    }
}

impl Serialize for IndicatorValues {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// Everything one unit reported for a round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitValues {
    /// The unit.
    pub unit: UnitId,
    /// Values per indicator.
    pub values: BTreeMap<IndicatorCode, IndicatorValues>,
    /// Indicators that do not apply to the unit (they score their maximum).
    pub not_applicable: BTreeSet<IndicatorCode>,
    /// General-information fields by key (unscored).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub general_info: BTreeMap<String, Value>,
}

impl UnitValues {
    /// An empty set of values for a unit.
    pub fn new(unit: UnitId) -> Self {
        Self {
            unit,
            values: BTreeMap::new(),
            not_applicable: BTreeSet::new(),
            general_info: BTreeMap::new(),
        }
    }
}

/// A validated cohort: one framework and the values of each unit, in input order.
#[derive(Debug, Clone)]
pub struct Cohort {
    /// The framework the cohort is scored with.
    pub framework: Arc<Framework>,
    /// Units in input order; ids are unique.
    pub units: Vec<UnitValues>,
}

impl Serialize for Cohort {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("framework", &self.framework.id)?;
        map.serialize_entry("units", &self.units)?;
        map.end()
    }
}
