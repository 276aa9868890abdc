//! A unit's submitted indicator values, decoded and validated against a framework.
//!
//! The same checks back `dtictl`, the submission service and every other caller, so a unit
//! sees the same message wherever it sends a value. Each [`InputIssue`] names the unit, the
//! indicator and the variable. Errors stop scoring and storing; warnings (for example a
//! general-information count that differs from the indicator variable restating it) are shown
//! to the unit and the verifier but change nothing.

use crate::exact::Exact;
use crate::framework::{
    Framework, FrameworkCatalog, GeneralInfoType, Indicator, Rule, VariableType,
};
use crate::ids::{IndicatorCode, UnitId, VariableName};
use rayon::prelude::*;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
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

    fn fits(&self, ty: &VariableType) -> bool {
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

/// Whether an issue blocks scoring and storing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Invalid input: nothing is scored or stored.
    Error,
    /// Shown to the unit and the verifier; changes nothing.
    Warning,
}

/// A problem with submitted values, naming where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputIssue {
    /// Error or warning.
    pub severity: Severity,
    /// The unit (its id, or its position when it has no usable id).
    pub unit: Option<String>,
    /// The indicator code (or general-information key).
    pub indicator: Option<String>,
    /// The variable.
    pub variable: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl InputIssue {
    fn error(
        unit: Option<&str>,
        indicator: Option<&str>,
        variable: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            severity: Severity::Error,
            unit: unit.map(str::to_string),
            indicator: indicator.map(str::to_string),
            variable: variable.map(str::to_string),
            message: message.into(),
        }
    }

    fn warning(
        unit: Option<&str>,
        indicator: Option<&str>,
        variable: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(unit, indicator, variable, message)
        }
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for InputIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        let mut place = Vec::new();
        if let Some(unit) = &self.unit {
            place.push(format!("unit {unit}"));
        }
        if let Some(indicator) = &self.indicator {
            place.push(format!("indicator {indicator}"));
        }
        if let Some(variable) = &self.variable {
            place.push(format!("variable {variable}"));
        }
        if place.is_empty() {
            write!(f, "input: {}", self.message)
        } else {
            write!(f, "{}: {}", place.join(", "), self.message)
        }
    }
}

/// The outcome of decoding: the cohort when there are no errors, and every issue found.
#[derive(Debug, Clone)]
pub struct Decoded<T> {
    /// The decoded value, present only when no issue is an error.
    pub value: Option<T>,
    /// Errors and warnings, in input order.
    pub issues: Vec<InputIssue>,
}

/// An object key borrowed from the input when it has no escapes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Deserialize)]
struct Key<'a>(#[serde(borrow)] Cow<'a, str>);

/// A JSON object whose values are left unparsed until they are needed.
type RawObject<'a> = BTreeMap<Key<'a>, &'a RawValue>;

fn raw_to_value(raw: &RawValue) -> Value {
    serde_json::from_str(raw.get()).unwrap_or(Value::Null)
}

fn raw_object(raw: &RawValue) -> Option<RawObject<'_>> {
    serde_json::from_str(raw.get()).ok()
}

/// Decodes a cohort document (`{"framework": ..., "units": [...]}`) and validates every value.
///
/// The document is read without building a tree of the whole input: each unit and each
/// indicator is parsed on its own, so a cohort of thousands of units stays small in memory.
pub fn decode_cohort(text: &str, catalog: &FrameworkCatalog) -> Decoded<Cohort> {
    let fail = |message: String| Decoded {
        value: None,
        issues: vec![InputIssue::error(None, None, None, message)],
    };
    let top: RawObject = match serde_json::from_str(text) {
        Ok(top) => top,
        Err(e) => {
            return match serde_json::from_str::<serde::de::IgnoredAny>(text) {
                Err(e) => fail(format!("input is not valid JSON: {e}")),
                Ok(_) if e.is_data() => {
                    fail("input must be a JSON object with \"framework\" and \"units\"".into())
                }
                Ok(_) => fail(format!("input is not valid JSON: {e}")),
            }
        }
    };
    let mut issues = Vec::new();
    for key in top.keys() {
        if key.0 != "framework" && key.0 != "units" {
            issues.push(InputIssue::error(
                None,
                None,
                None,
                format!(
                    "unknown field {:?} (expected \"framework\" and \"units\")",
                    key.0
                ),
            ));
        }
    }
    let field = |name: &'static str| top.get(&Key(Cow::Borrowed(name))).copied();
    let framework = match field("framework").map(raw_to_value) {
        Some(Value::String(id)) => match catalog.get_str(&id) {
            Some(f) if f.scored => Some(f.clone()),
            Some(_) => {
                issues.push(InputIssue::error(None, None, None, format!("framework {id:?} is collected for the national system and has no scoring rules")));
                None
            }
            None => {
                issues.push(InputIssue::error(
                    None,
                    None,
                    None,
                    format!(
                        "framework {id:?} is not known (known: {})",
                        catalog.ids().join(", ")
                    ),
                ));
                None
            }
        },
        Some(other) => {
            issues.push(InputIssue::error(
                None,
                None,
                None,
                format!("\"framework\" must be a string, got {}", describe(&other)),
            ));
            None
        }
        None => {
            issues.push(InputIssue::error(None, None, None, "missing \"framework\""));
            None
        }
    };
    let raw_units: Vec<&RawValue> = match field("units") {
        Some(raw) => match serde_json::from_str(raw.get()) {
            Ok(units) => units,
            Err(_) => {
                issues.push(InputIssue::error(
                    None,
                    None,
                    None,
                    format!(
                        "\"units\" must be a list, got {}",
                        describe(&raw_to_value(raw))
                    ),
                ));
                Vec::new()
            }
        },
        None => {
            issues.push(InputIssue::error(None, None, None, "missing \"units\""));
            Vec::new()
        }
    };
    let Some(framework) = framework else {
        return Decoded {
            value: None,
            issues,
        };
    };
    let mut units = Vec::with_capacity(raw_units.len());
    let mut seen = BTreeSet::new();
    let decoded_units: Vec<DecodedUnit> = raw_units
        .into_par_iter()
        .enumerate()
        .map(|(position, raw)| decode_unit(&framework, position, raw))
        .collect();
    for decoded in decoded_units {
        if let Some(id) = &decoded.id {
            if !seen.insert(id.clone()) {
                issues.push(InputIssue::error(
                    Some(id),
                    None,
                    None,
                    "unit appears more than once in the cohort",
                ));
            }
        }
        issues.extend(decoded.issues);
        units.extend(decoded.value);
    }
    finish(Cohort { framework, units }, issues)
}

fn finish<T>(value: T, issues: Vec<InputIssue>) -> Decoded<T> {
    let ok = !issues.iter().any(InputIssue::is_error);
    Decoded {
        value: ok.then_some(value),
        issues,
    }
}

/// A decoded unit and the id it claimed, even when its values are invalid.
struct DecodedUnit {
    id: Option<String>,
    value: Option<UnitValues>,
    issues: Vec<InputIssue>,
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
                format!(
                    "a unit must be an object, got {}",
                    describe(&raw_to_value(raw))
                ),
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
                    e.to_string(),
                ));
                None
            }
        },
        Some(other) => {
            issues.push(InputIssue::error(
                Some(&fallback_label),
                None,
                None,
                format!("\"unit\" must be a string, got {}", describe(other)),
            ));
            None
        }
        None => {
            issues.push(InputIssue::error(
                Some(&fallback_label),
                None,
                None,
                "missing \"unit\"",
            ));
            None
        }
    };
    let label = unit_id.as_ref().map_or(fallback_label, ToString::to_string);
    for key in object.keys() {
        if !["unit", "values", "not_applicable", "general_info"].contains(&key.0.as_ref()) {
            issues.push(InputIssue::error(Some(&label), None, None, format!("unknown field {:?} (expected \"unit\", \"values\", \"not_applicable\", \"general_info\")", key.0)));
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
            format!(
                "\"values\" must be an object keyed by indicator code, got {}",
                describe(&raw_to_value(raw))
            ),
        ));
        return values;
    };
    for (code, variables) in object {
        let Some(indicator) = framework.indicator_by_str(&code.0) else {
            issues.push(InputIssue::error(
                Some(unit),
                Some(&code.0),
                None,
                format!("indicator code is not in framework {}", framework.id),
            ));
            continue;
        };
        let Some(variables) = raw_object(variables) else {
            issues.push(InputIssue::error(
                Some(unit),
                Some(&code.0),
                None,
                format!(
                    "values must be an object of variables, got {}",
                    describe(&raw_to_value(variables))
                ),
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
                format!(
                    "variable is not defined for this indicator (its variables: {})",
                    known.join(", ")
                ),
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
                "variable is not defined for this indicator",
            )),
            Some(v) if !value.fits(&v.ty) => issues.push(InputIssue::error(
                Some(unit),
                Some(code),
                Some(name.as_str()),
                format!("must be a {}, got a {}", v.ty.name(), value.type_name()),
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
                            format!("{choice:?} is not one of {}", choices.join(", ")),
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
                format!("missing (a {}: {})", variable.ty.name(), variable.meaning),
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
                "denominator is zero; the ratio cannot be computed",
            ));
        } else if num > den && !is_growth {
            issues.push(InputIssue::warning(
                Some(unit),
                Some(code),
                Some(&names(numerator)),
                format!(
                    "{} = {num} exceeds {variable} = {den}; the ratio is capped at 100%",
                    names(numerator)
                ),
            ));
        }
    }
    issues
}

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
                format!(
                    "activity #{}: resolved {} exceeds reports {}",
                    i + 1,
                    a.resolved,
                    a.reports
                ),
            )
        })
        .collect()
}

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

fn decode_count(raw: &Value) -> Result<u64, String> {
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

fn decode_not_applicable(
    framework: &Framework,
    unit: &str,
    raw: Option<Value>,
    issues: &mut Vec<InputIssue>,
) -> BTreeSet<IndicatorCode> {
    let mut codes = BTreeSet::new();
    let items = match raw {
        None | Some(Value::Null) => return codes,
        Some(Value::Array(items)) => items,
        Some(other) => {
            issues.push(InputIssue::error(
                Some(unit),
                None,
                None,
                format!(
                    "\"not_applicable\" must be a list of indicator codes, got {}",
                    describe(&other)
                ),
            ));
            return codes;
        }
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
                    format!(
                        "not_applicable names an indicator code that is not in framework {}",
                        framework.id
                    ),
                )),
            },
            other => issues.push(InputIssue::error(
                Some(unit),
                None,
                None,
                format!(
                    "\"not_applicable\" entries must be indicator codes, got {}",
                    describe(&other)
                ),
            )),
        }
    }
    codes
}

fn decode_general_info(
    framework: &Framework,
    unit: &str,
    raw: Option<Value>,
    issues: &mut Vec<InputIssue>,
) -> BTreeMap<String, Value> {
    let mut fields = BTreeMap::new();
    let object = match raw {
        None | Some(Value::Null) => return fields,
        Some(Value::Object(object)) => object,
        Some(other) => {
            issues.push(InputIssue::error(
                Some(unit),
                None,
                None,
                format!(
                    "\"general_info\" must be an object keyed by field, got {}",
                    describe(&other)
                ),
            ));
            return fields;
        }
    };
    for (key, value) in object {
        let place = format!("general information {key}");
        let Some(field) = framework.general_info_field(&key) else {
            issues.push(InputIssue::error(
                Some(unit),
                Some(&place),
                None,
                "field is not defined by the framework",
            ));
            continue;
        };
        let problem = match (field.ty, &value) {
            (GeneralInfoType::Count | GeneralInfoType::Money, v) => decode_count(v).err(),
            (GeneralInfoType::Text, Value::String(_)) => None,
            (GeneralInfoType::Contact, Value::Object(contact)) => contact
                .iter()
                .find(|(k, v)| !["name", "unit", "position", "phone", "email"].contains(&k.as_str()) || !v.is_string())
                .map(|(k, _)| format!("contact field {k:?} is not one of name, unit, position, phone, email, or is not text")),
            (GeneralInfoType::Text, other) => Some(format!("must be text, got {}", describe(other))),
            (GeneralInfoType::Contact, other) => Some(format!("must be an object with name, unit, position, phone, email, got {}", describe(other))),
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
                    format!(
                        "{restated} differs from general information {} ({}) = {reported}",
                        field.code, field.key
                    ),
                ));
            }
        }
    }
    issues
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("{s:?}"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}
