//! Reading a filled form back: the hidden metadata sheet first (framework, version, year,
//! unit, language), then the layout the template of that metadata has, so every label cell is
//! compared with the text the template wrote and every input cell is read where the template
//! put it. Values are converted exactly ([`crate::cell`]) and then validated by the same domain
//! rules as every submission (`dti_domain::values::decode_cohort`). Every problem names the
//! sheet, the cell, the indicator and the variable, and all of them are reported at once.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Range, Reader, Xlsx};
use dti_domain::framework::{Framework, VariableType};
use dti_domain::values::{decode_cohort, InputIssue};
use dti_domain::{FrameworkCatalog, UnitId, UnitRegistry};
use dti_i18n::{Arg, Catalog, Lang};
use serde_json::{json, Map, Value};

use crate::cell::{self, CellProblem, MAX_EXACT_WHOLE};
use crate::layout::{cell_name, yes_no, FormLayout, FormSpec, InputCell, InputKind, Slot};
use crate::meta::{framework_hash, FormMeta, FORM_FORMAT_VERSION, META_SHEET};

/// What the importer needs: the frameworks and units it knows, what the caller expects, and
/// the language of its messages.
#[derive(Debug, Clone, Copy)]
pub struct ImportOptions<'a> {
    /// Known frameworks.
    pub catalog: &'a FrameworkCatalog,
    /// Known units.
    pub registry: &'a UnitRegistry,
    /// The framework the form must be for, when the caller knows it.
    pub framework: Option<&'a str>,
    /// The year the form must be for, when the caller knows it.
    pub year: Option<u16>,
    /// The language of the problems.
    pub lang: Lang,
}

/// A problem with a form, where it is and what it is, in the caller's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormProblem {
    /// The sheet.
    pub sheet: Option<String>,
    /// The cell (`E12`).
    pub cell: Option<String>,
    /// The indicator code (or general-information key).
    pub indicator: Option<String>,
    /// The variable.
    pub variable: Option<String>,
    /// The whole line for people: place and problem.
    pub text: String,
}

impl std::fmt::Display for FormProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// A valid form, read.
#[derive(Debug, Clone)]
pub struct ImportedForm {
    /// What it was made for.
    pub meta: FormMeta,
    /// The contract's cohort document with the one unit (what `dtictl submit` reads).
    pub cohort: Value,
    /// Evidence references by indicator code.
    pub evidence: BTreeMap<String, String>,
    /// Warnings of the domain's checks (a ratio above 100 %…), placed like problems.
    pub warnings: Vec<FormProblem>,
}

/// Reads and validates a filled form.
pub fn import_form(
    bytes: &[u8],
    options: &ImportOptions<'_>,
) -> Result<ImportedForm, Vec<FormProblem>> {
    let catalog = options.lang.catalog();
    let at = Place { catalog };
    let mut workbook: Xlsx<_> =
        open_workbook_from_rs(Cursor::new(bytes)).map_err(|error: calamine::XlsxError| {
            vec![at.workbook(catalog.format(
                "import-unreadable",
                &[("reason", Arg::from(error.to_string()))],
            ))]
        })?;
    let sheet_names: Vec<String> = workbook.sheet_names().clone();
    if !sheet_names.iter().any(|name| name == META_SHEET) {
        return Err(vec![at.workbook(
            catalog.format("import-not-a-form", &[("sheet", Arg::from(META_SHEET))]),
        )]);
    }
    let meta_range =
        workbook
            .worksheet_range(META_SHEET)
            .map_err(|error: calamine::XlsxError| {
                vec![at.workbook(catalog.format(
                    "import-unreadable",
                    &[("reason", Arg::from(error.to_string()))],
                ))]
            })?;
    let (meta, framework) = read_meta(&meta_range, options, &at)?;
    let unit = match meta.unit.as_deref().map(|id| (id, UnitId::parse(id))) {
        None => None,
        Some((_, Ok(id))) => {
            let name = options
                .registry
                .unit(&id)
                .map_or_else(|| id.to_string(), |unit| unit.name.clone());
            Some((id, name))
        }
        Some((id, Err(error))) => {
            return Err(vec![at.workbook(catalog.format(
                "import-unit-invalid",
                &[
                    ("found", Arg::from(id)),
                    ("reason", Arg::from(error.to_string())),
                ],
            ))]);
        }
    };
    let spec = FormSpec {
        framework,
        year: meta.year,
        unit,
        lang: meta.lang,
    };
    let layout = FormLayout::of(&spec);
    let mut problems = Vec::new();
    for name in &sheet_names {
        if name != META_SHEET && layout.sheet(name).is_none() {
            problems.push(at.sheet(
                name,
                catalog.format("import-extra-sheet", &[("sheet", Arg::from(name))]),
            ));
        }
    }
    let mut reading = Reading::new(framework, catalog);
    for sheet in &layout.sheets {
        if !sheet_names.contains(&sheet.name) {
            problems.push(at.workbook(
                catalog.format("import-missing-sheet", &[("sheet", Arg::from(&sheet.name))]),
            ));
            continue;
        }
        let range = match workbook.worksheet_range(&sheet.name) {
            Ok(range) => range,
            Err(error) => {
                problems.push(at.sheet(
                    &sheet.name,
                    catalog.format(
                        "import-unreadable",
                        &[("reason", Arg::from(error.to_string()))],
                    ),
                ));
                continue;
            }
        };
        let empty = Data::Empty;
        let value_at =
            |row: u32, col: u16| range.get_value((row, u32::from(col))).unwrap_or(&empty);
        for label in &sheet.labels {
            let found = cell::shown(value_at(label.row, label.col));
            if found.trim_end() != label.text.trim_end() {
                problems.push(at.cell(
                    &sheet.name,
                    label.row,
                    label.col,
                    None,
                    catalog.format(
                        "import-label-edited",
                        &[
                            ("expected", Arg::from(&label.text)),
                            ("found", Arg::from(found)),
                        ],
                    ),
                ));
            }
        }
        for input in &sheet.inputs {
            if let Err(problem) = reading.read(input, value_at(input.row, input.col)) {
                reading
                    .failed
                    .insert(input.slot.indicator().unwrap_or_default().to_owned());
                problems.push(at.cell(
                    &sheet.name,
                    input.row,
                    input.col,
                    Some(&input.slot),
                    problem,
                ));
            }
        }
    }
    let unit = reading.unit.clone();
    match check_unit(&meta, framework, options.registry, unit.as_deref(), catalog) {
        Ok(()) => {}
        Err(problem) => problems.push(at.slot(&layout, &Slot::UnitId, problem)),
    }
    problems.extend(reading.completeness(&layout, &at));
    let document = reading.document(unit.as_deref().unwrap_or("unit"));
    let decoded = decode_cohort(&document.to_string(), options.catalog);
    let mut warnings = Vec::new();
    for issue in &decoded.issues {
        let placed = at.issue(&layout, issue);
        if issue.is_error() {
            problems.push(placed);
        } else {
            warnings.push(placed);
        }
    }
    match decoded.value {
        Some(cohort) if problems.is_empty() => Ok(ImportedForm {
            meta,
            cohort: serde_json::to_value(&cohort).unwrap_or(Value::Null),
            evidence: reading.evidence,
            warnings,
        }),
        _ => Err(problems),
    }
}

/// The metadata, and the framework it names, checked against the catalog and the caller's
/// expectations.
fn read_meta<'c>(
    range: &Range<Data>,
    options: &ImportOptions<'c>,
    at: &Place<'_>,
) -> Result<(FormMeta, &'c Framework), Vec<FormProblem>> {
    let catalog = at.catalog;
    let rows: Vec<(String, String)> = range
        .rows()
        .map(|row| {
            let text = |i: usize| row.get(i).map(cell::shown).unwrap_or_default();
            (text(0), text(1))
        })
        .collect();
    let version = rows
        .iter()
        .find(|(key, _)| key == "format_version")
        .map(|(_, v)| v.trim().to_owned());
    if let Some(version) = version.filter(|v| *v != FORM_FORMAT_VERSION.to_string()) {
        return Err(vec![at.workbook(catalog.format(
            "import-format-version",
            &[
                ("found", Arg::from(version)),
                ("expected", Arg::from(FORM_FORMAT_VERSION)),
            ],
        ))]);
    }
    let meta = FormMeta::from_rows(&rows).map_err(|field| {
        vec![at.workbook(catalog.format("import-meta-missing", &[("field", Arg::from(field))]))]
    })?;
    let mut problems = Vec::new();
    let framework = options.catalog.get_str(&meta.framework);
    match framework {
        None => problems.push(at.workbook(catalog.format(
            "import-unknown-framework",
            &[("framework", Arg::from(&meta.framework))],
        ))),
        Some(framework) if framework_hash(framework) != meta.framework_hash => {
            problems.push(at.workbook(catalog.format(
                "import-framework-changed",
                &[("framework", Arg::from(&meta.framework))],
            )))
        }
        Some(_) => {}
    }
    if let Some(expected) = options.framework.filter(|f| *f != meta.framework) {
        problems.push(at.workbook(catalog.format(
            "import-other-framework",
            &[
                ("found", Arg::from(&meta.framework)),
                ("expected", Arg::from(expected)),
            ],
        )));
    }
    if let Some(expected) = options.year.filter(|y| *y != meta.year) {
        problems.push(at.workbook(catalog.format(
            "import-other-year",
            &[
                ("found", Arg::from(meta.year)),
                ("expected", Arg::from(expected)),
            ],
        )));
    }
    match framework {
        Some(framework) if problems.is_empty() => Ok((meta, framework.as_ref())),
        _ => Err(problems),
    }
}

/// The unit id is there, well formed, the one the form was made for, and a unit the round
/// assesses.
fn check_unit(
    meta: &FormMeta,
    framework: &Framework,
    registry: &UnitRegistry,
    unit: Option<&str>,
    catalog: &Catalog,
) -> Result<(), String> {
    let Some(unit) = unit else {
        return Err(catalog.text("import-unit-missing"));
    };
    if let Some(expected) = meta.unit.as_deref().filter(|expected| *expected != unit) {
        return Err(catalog.format(
            "import-unit-other",
            &[
                ("expected", Arg::from(expected)),
                ("found", Arg::from(unit)),
            ],
        ));
    }
    let invalid = |reason: String| {
        catalog.format(
            "import-unit-invalid",
            &[("found", Arg::from(unit)), ("reason", Arg::from(reason))],
        )
    };
    let id = UnitId::parse(unit).map_err(|e| invalid(e.to_string()))?;
    registry
        .member(&id, framework.unit_kind, meta.year)
        .map(|_| ())
        .map_err(|e| invalid(e.to_string()))
}

/// Places problems: a cell of a sheet, a sheet, or the workbook.
struct Place<'c> {
    catalog: &'c Catalog,
}

impl Place<'_> {
    fn workbook(&self, problem: String) -> FormProblem {
        FormProblem {
            sheet: None,
            cell: None,
            indicator: None,
            variable: None,
            text: self
                .catalog
                .format("import-in-workbook", &[("problem", Arg::from(problem))]),
        }
    }

    fn sheet(&self, sheet: &str, problem: String) -> FormProblem {
        FormProblem {
            sheet: Some(sheet.to_owned()),
            text: self.catalog.format(
                "import-in-sheet",
                &[("sheet", Arg::from(sheet)), ("problem", Arg::from(problem))],
            ),
            ..self.workbook(String::new())
        }
    }

    fn cell(
        &self,
        sheet: &str,
        row: u32,
        col: u16,
        slot: Option<&Slot>,
        problem: String,
    ) -> FormProblem {
        let cell = cell_name(row, col);
        FormProblem {
            sheet: Some(sheet.to_owned()),
            indicator: slot.and_then(Slot::indicator).map(str::to_owned),
            variable: slot.and_then(Slot::variable).map(str::to_owned),
            text: self.catalog.format(
                "import-at-cell",
                &[
                    ("sheet", Arg::from(sheet)),
                    ("cell", Arg::from(&cell)),
                    ("problem", Arg::from(problem)),
                ],
            ),
            cell: Some(cell),
        }
    }

    /// A problem at the input cell of `slot`.
    fn slot(&self, layout: &FormLayout, slot: &Slot, problem: String) -> FormProblem {
        match layout.find(|s| s == slot) {
            Some((sheet, input)) => {
                self.cell(&sheet.name, input.row, input.col, Some(slot), problem)
            }
            None => self.workbook(problem),
        }
    }

    /// A domain issue at the cell of its indicator and variable (the first variable of a sum
    /// such as `a+b`; the indicator's row when it names no variable).
    fn issue(&self, layout: &FormLayout, issue: &InputIssue) -> FormProblem {
        let indicator = issue
            .indicator
            .as_deref()
            .map(|i| i.trim_start_matches("general information ").to_owned());
        let variable = issue
            .variable
            .as_deref()
            .and_then(|v| v.split('+').next())
            .map(str::to_owned);
        let found = layout
            .find(|slot| {
                slot.indicator() == indicator.as_deref()
                    && match (&variable, slot) {
                        (Some(v), Slot::Variable { variable, .. })
                        | (Some(v), Slot::ActivityCount { variable, .. }) => v == variable,
                        (None, Slot::NotApplicable { .. }) => true,
                        (None, Slot::GeneralInfo { .. }) => true,
                        _ => false,
                    }
            })
            .or_else(|| {
                layout.find(|slot| {
                    slot.indicator() == indicator.as_deref()
                        && matches!(slot, Slot::NotApplicable { .. } | Slot::GeneralInfo { .. })
                })
            });
        let subject = [issue.indicator.as_deref(), issue.variable.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let problem = self.catalog.format(
            "import-domain",
            &[
                ("subject", Arg::from(subject)),
                ("message", Arg::from(issue.message.clone())),
            ],
        );
        match found {
            Some((sheet, input)) => {
                let mut placed = self.cell(&sheet.name, input.row, input.col, None, problem);
                placed.indicator = indicator;
                placed.variable = issue.variable.clone();
                placed
            }
            None => self.workbook(problem),
        }
    }
}

/// What the input cells held, gathered slot by slot.
struct Reading<'f> {
    framework: &'f Framework,
    catalog: &'f Catalog,
    words: Vec<(String, String)>,
    unit: Option<String>,
    general_info: BTreeMap<String, Value>,
    values: BTreeMap<String, Map<String, Value>>,
    activities: BTreeMap<(String, String), BTreeMap<usize, Map<String, Value>>>,
    activity_counts: BTreeMap<(String, String), u64>,
    not_applicable: BTreeSet<String>,
    evidence: BTreeMap<String, String>,
    /// Indicators (or general-information keys) with a cell that could not be read: left out
    /// of the domain's check, so a bad cell is reported once.
    failed: BTreeSet<String>,
}

impl<'f> Reading<'f> {
    fn new(framework: &'f Framework, catalog: &'f Catalog) -> Self {
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
    fn read(&mut self, input: &InputCell, data: &Data) -> Result<(), String> {
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
    fn completeness(&mut self, layout: &FormLayout, at: &Place<'_>) -> Vec<FormProblem> {
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
    fn document(&self, unit: &str) -> Value {
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
