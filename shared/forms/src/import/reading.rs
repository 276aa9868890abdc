//! What the input cells of a form held, gathered slot by slot and converted exactly
//! ([`crate::cell`]); the check that each indicator is untouched, not applicable or filled
//! whole; and the contract's cohort document of what was read.

use std::collections::{BTreeMap, BTreeSet};

use calamine::Data;
use dti_domain::framework::{Framework, VariableType};
use dti_i18n::{Arg, Catalog, Lang};
use serde_json::{json, Map, Value};

use super::{FormProblem, Place};
use crate::cell::{self, CellProblem, MAX_EXACT_WHOLE};
use crate::layout::{yes_no, FormLayout, InputCell, InputKind, Slot};

/// What the input cells held, gathered slot by slot.
pub(super) struct Reading<'f> {
    framework: &'f Framework,
    catalog: &'f Catalog,
    words: Vec<(String, String)>,
    pub(super) unit: Option<String>,
    general_info: BTreeMap<String, Value>,
    values: BTreeMap<String, Map<String, Value>>,
    activities: BTreeMap<(String, String), BTreeMap<usize, Map<String, Value>>>,
    activity_counts: BTreeMap<(String, String), u64>,
    not_applicable: BTreeSet<String>,
    pub(super) evidence: BTreeMap<String, String>,
    /// Indicators (or general-information keys) with a cell that could not be read: left out
    /// of the domain's check, so a bad cell is reported once.
    pub(super) failed: BTreeSet<String>,
}

impl<'f> Reading<'f> {
    pub(super) fn new(framework: &'f Framework, catalog: &'f Catalog) -> Self {
        Reading {
            framework,
            catalog,
            words: Lang::ALL.into_iter().map(yes_no).collect(),
            unit: None,
            general_info: BTreeMap::new(),
            values: BTreeMap::new(),
            activities: BTreeMap::new(),
            activity_counts: BTreeMap::new(),
            not_applicable: BTreeSet::new(),
            evidence: BTreeMap::new(),
            failed: BTreeSet::new(),
        }
    }

    /// Reads one input cell into its slot; a message when the cell does not hold what it must.
    pub(super) fn read(&mut self, input: &InputCell, data: &Data) -> Result<(), String> {
        if cell::is_blank(data) {
            return Ok(());
        }
        let value = self
            .convert(&input.kind, data)
            .map_err(|problem| self.describe(&input.slot, problem))?;
        match &input.slot {
            Slot::UnitId => self.unit = value.as_str().map(str::to_owned),
            Slot::GeneralInfo {
                key, part: None, ..
            } => {
                self.general_info.insert(key.clone(), value);
            }
            Slot::GeneralInfo {
                key,
                part: Some(part),
                ..
            } => {
                let contact = self
                    .general_info
                    .entry(key.clone())
                    .or_insert_with(|| json!({}));
                if let Some(contact) = contact.as_object_mut() {
                    contact.insert((*part).to_owned(), value);
                }
            }
            Slot::Variable {
                indicator,
                variable,
            } => {
                self.values
                    .entry(indicator.clone())
                    .or_default()
                    .insert(variable.clone(), value);
            }
            Slot::ActivityCount {
                indicator,
                variable,
            } => {
                if let Some(count) = value.as_u64() {
                    self.activity_counts
                        .insert((indicator.clone(), variable.clone()), count);
                    self.activities
                        .entry((indicator.clone(), variable.clone()))
                        .or_default();
                }
            }
            Slot::Activity {
                indicator,
                variable,
                number,
                field,
            } => {
                self.activities
                    .entry((indicator.clone(), variable.clone()))
                    .or_default()
                    .entry(*number)
                    .or_default()
                    .insert((*field).to_owned(), value);
            }
            Slot::NotApplicable { indicator } => {
                if value == Value::Bool(true) {
                    self.not_applicable.insert(indicator.clone());
                }
            }
            Slot::Evidence { indicator } => {
                if let Some(reference) = value.as_str() {
                    self.evidence
                        .insert(indicator.clone(), reference.to_owned());
                }
            }
        }
        Ok(())
    }

    fn convert(&self, kind: &InputKind, data: &Data) -> Result<Value, CellProblem> {
        Ok(match kind {
            InputKind::Whole | InputKind::Money => Value::from(cell::whole(data)?),
            InputKind::Decimal => Value::from(cell::decimal(data)?),
            InputKind::YesNo => Value::from(cell::yes_no(data, &self.words)?),
            InputKind::Choice(choices) => Value::from(cell::choice(data, choices)?),
            InputKind::Text => Value::from(cell::text(data)?),
        })
    }

    fn describe(&self, slot: &Slot, problem: CellProblem) -> String {
        let subject = Arg::from(slot.subject(self.catalog));
        let (yes, no) = &self.words[0];
        match problem {
            CellProblem::NotWhole(found) => self.catalog.format(
                "import-not-whole",
                &[("subject", subject), ("found", Arg::from(found))],
            ),
            CellProblem::TooLarge(found) => self.catalog.format(
                "import-too-large",
                &[
                    ("subject", subject),
                    ("found", Arg::from(found)),
                    ("max", Arg::from(MAX_EXACT_WHOLE.to_string())),
                ],
            ),
            CellProblem::NotDecimal(found) => self.catalog.format(
                "import-not-decimal",
                &[("subject", subject), ("found", Arg::from(found))],
            ),
            CellProblem::NotYesNo(found) => self.catalog.format(
                "import-not-bool",
                &[
                    ("subject", subject),
                    ("found", Arg::from(found)),
                    ("yes", Arg::from(yes)),
                    ("no", Arg::from(no)),
                ],
            ),
            CellProblem::NotChoice(found) => {
                let choices = match slot {
                    Slot::Variable {
                        indicator,
                        variable,
                    } => self
                        .framework
                        .indicator_by_str(indicator)
                        .and_then(|i| i.variable(variable))
                        .map(|v| match &v.ty {
                            VariableType::Choice { choices } => choices.join(", "),
                            _ => String::new(),
                        })
                        .unwrap_or_default(),
                    _ => String::new(),
                };
                self.catalog.format(
                    "import-not-choice",
                    &[
                        ("subject", subject),
                        ("found", Arg::from(found)),
                        ("choices", Arg::from(choices)),
                    ],
                )
            }
            CellProblem::NotText(found) => self.catalog.format(
                "import-not-text",
                &[("subject", subject), ("found", Arg::from(found))],
            ),
        }
    }

    /// An indicator is either untouched, marked not applicable (and empty), or filled whole:
    /// a problem at each empty cell of a partly filled indicator, and at the mark of one
    /// marked not applicable that has values. Activities count as filled from their first
    /// figure, and an activity needs both its figures.
    pub(super) fn completeness(&mut self, layout: &FormLayout, at: &Place<'_>) -> Vec<FormProblem> {
        let mut problems = Vec::new();
        for indicator in &self.framework.indicators {
            let code = indicator.code.as_str();
            if self.failed.contains(code) {
                continue;
            }
            let has_activities = self.activities.keys().any(|(i, _)| i == code);
            let filled = self.values.contains_key(code) || has_activities;
            if !filled {
                continue;
            }
            if self.not_applicable.contains(code) {
                let problem = self.catalog.format(
                    "import-not-applicable-with-values",
                    &[("indicator", Arg::from(code))],
                );
                problems.push(at.slot(
                    layout,
                    &Slot::NotApplicable {
                        indicator: code.to_owned(),
                    },
                    problem,
                ));
                self.failed.insert(code.to_owned());
                continue;
            }
            for variable in &indicator.variables {
                let name = variable.name.as_str();
                let slot = Slot::Variable {
                    indicator: code.to_owned(),
                    variable: name.to_owned(),
                };
                let present = match variable.ty {
                    VariableType::Activities => self
                        .activities
                        .contains_key(&(code.to_owned(), name.to_owned())),
                    _ => self.values.get(code).is_some_and(|v| v.contains_key(name)),
                };
                if !present {
                    let at_slot = match variable.ty {
                        VariableType::Activities => Slot::Activity {
                            indicator: code.to_owned(),
                            variable: name.to_owned(),
                            number: 1,
                            field: "reports",
                        },
                        _ => slot,
                    };
                    let problem = self.catalog.format(
                        "import-incomplete",
                        &[
                            ("subject", Arg::from(at_slot.subject(self.catalog))),
                            ("indicator", Arg::from(code)),
                        ],
                    );
                    problems.push(at.slot(layout, &at_slot, problem));
                    self.failed.insert(code.to_owned());
                }
            }
            for ((_, variable), activities) in
                self.activities.iter().filter(|((i, _), _)| i == code)
            {
                let declared = self
                    .activity_counts
                    .get(&(code.to_owned(), variable.clone()));
                let listed = u64::try_from(activities.len()).unwrap_or(u64::MAX);
                let last = activities.keys().next_back().copied().unwrap_or(0);
                if let Some(declared) = declared
                    .filter(|d| **d != listed || u64::try_from(last).unwrap_or(u64::MAX) != listed)
                {
                    let slot = Slot::ActivityCount {
                        indicator: code.to_owned(),
                        variable: variable.clone(),
                    };
                    let problem = self.catalog.format(
                        "import-activity-count",
                        &[
                            ("subject", Arg::from(slot.subject(self.catalog))),
                            ("declared", Arg::from(declared.to_string())),
                            ("listed", Arg::from(listed.to_string())),
                        ],
                    );
                    problems.push(at.slot(layout, &slot, problem));
                    self.failed.insert(code.to_owned());
                }
                for (number, figures) in activities {
                    for field in ["reports", "resolved"] {
                        if !figures.contains_key(field) {
                            let slot = Slot::Activity {
                                indicator: code.to_owned(),
                                variable: variable.clone(),
                                number: *number,
                                field,
                            };
                            let problem = self.catalog.format(
                                "import-activity-half",
                                &[("subject", Arg::from(slot.subject(self.catalog)))],
                            );
                            problems.push(at.slot(layout, &slot, problem));
                            self.failed.insert(code.to_owned());
                        }
                    }
                }
            }
        }
        problems
    }

    /// The contract's cohort document of what was read, without the indicators whose cells
    /// had problems.
    pub(super) fn document(&self, unit: &str) -> Value {
        let mut values = Map::new();
        for (code, variables) in &self.values {
            if !self.failed.contains(code) {
                values.insert(code.clone(), Value::Object(variables.clone()));
            }
        }
        for ((code, variable), activities) in &self.activities {
            if self.failed.contains(code) {
                continue;
            }
            let list: Vec<Value> = activities
                .values()
                .map(|figures| Value::Object(figures.clone()))
                .collect();
            let entry = values.entry(code.clone()).or_insert_with(|| json!({}));
            if let Some(variables) = entry.as_object_mut() {
                variables.insert(variable.clone(), Value::Array(list));
            }
        }
        let general_info: Map<String, Value> = self
            .general_info
            .iter()
            .filter(|(key, _)| !self.failed.contains(*key))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut document = json!({
            "unit": unit,
            "values": values,
            "not_applicable": self.not_applicable.iter().filter(|c| !self.failed.contains(*c)).collect::<Vec<_>>(),
        });
        if !general_info.is_empty() {
            document["general_info"] = Value::Object(general_info);
        }
        json!({ "framework": self.framework.id.as_str(), "units": [document] })
    }
}
